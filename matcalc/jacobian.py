"""Jacobians of matrix-valued expressions and Hessians of scalar ones, in three forms each.

All come from the differential dF = L(dX) (forward: each operation's LINEARIZE rule with the
children's differentials substituted):

1. **vec form** J = ∂vec F/∂vec X, by vec(A dX B) = (Bᵀ ⊗ A) vec dX, vec(A ∘ dX) =
   Diag(vec A) vec dX, vec(dXᵀ) = K vec dX (VEC_RULES below);
2. **index form** ∂F_ij/∂X_kl, read off each term A dX B ↦ A_ik B_lj with Kronecker deltas for
   the missing factors, plus where it is zero and how many entries can be nonzero;
3. **map form** — for a Jacobian the vector–Jacobian product G ↦ ∂(G : F)/∂X (the gradient
   engine run on G : F), for a Hessian the Hessian–vector product V ↦ d(∇f)[V].
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .differentiate import linearize_rule, reciprocal
from .errors import UnsupportedError
from .ir import (Add, Broadcast, Commutation, D, Diag, Expr, Frob, Hadamard, Identity, Kron,
                 MatMul, Mean, Num, Ones, Sum, Trace, Transpose, Unvec, Var, Vec, Zero, dim_mul, dim_value, is_scalar)
from .printers import PREC_POSTFIX, AsciiPrinter, LatexPrinter, TextPrinter, precedence
from .simplify import coeff_and_rest, expand, simplify


def differential(e: Expr, wrt: Var, definitions: dict) -> Expr | None:
    """dE as an expression linear in D(wrt), or None when E does not depend on wrt."""
    memo: dict = {}

    def d(node: Expr) -> Expr | None:
        if node in memo:
            return memo[node]
        if node == wrt:
            out = D(wrt)
        elif isinstance(node, Var) and node.name in definitions:
            out = d(definitions[node.name])
        elif not node.args:
            out = None
        elif not any(d(a) is not None for a in node.args):
            out = None
        else:
            _, fn = linearize_rule(node)
            out = fn(node, d)
        memo[node] = out
        return out

    lin = d(e)
    return None if lin is None else simplify(lin)


# --- vec form ------------------------------------------------------------------------------------

def _product(factors):
    return factors[0] if len(factors) == 1 else MatMul(*factors)


def vec_form(lin: Expr, wrt: Var) -> Expr:
    """J with vec(L(dX)) = J vec(dX)."""
    n_x = Identity(_size(wrt))
    return simplify(_vec(lin, n_x))


def _size(e: Expr):
    return dim_mul(e.rows, e.cols)


def _is_linear(e: Expr) -> bool:
    return isinstance(e, D) or any(_is_linear(a) for a in e.args)


def _vec(e: Expr, ident: Expr) -> Expr:
    if isinstance(e, D):
        return ident                                           # vec(dX) = I vec(dX)
    if isinstance(e, Add):
        return Add(*[_vec(t, ident) for t in e.args])
    if isinstance(e, MatMul):
        (i, lin), = [(i, a) for i, a in enumerate(e.args) if _is_linear(a)]
        others = e.args[:i] + e.args[i + 1:]
        scalars = [a for a in others if is_scalar(a)]
        if is_scalar(lin) and not is_scalar(e):
            rest = _product([a for a in others if not is_scalar(a)])
            return MatMul(*scalars, Vec(rest), _vec(lin, ident))   # vec(M dl) = vec(M) dl
        before = [a for a in e.args[:i] if not is_scalar(a)]
        after = [a for a in e.args[i + 1:] if not is_scalar(a)]
        left = _product(before) if before else Identity(lin.rows)
        right = Transpose(_product(after)) if after else Identity(lin.cols)
        # vec(A dX B) = (Bᵀ ⊗ A) vec(dX)   [Magnus–Neudecker, ch. 2, Thm 2]
        return MatMul(*scalars, Kron(right, left), _vec(lin, ident))
    if isinstance(e, Hadamard):
        (i, lin), = [(i, a) for i, a in enumerate(e.args) if _is_linear(a)]
        others = e.args[:i] + e.args[i + 1:]
        mask = _product(others) if len(others) == 1 else Hadamard(*others)
        return MatMul(_diag_vec(mask), _vec(lin, ident))      # vec(A∘dX) = Diag(vec A) vec dX
    if isinstance(e, Transpose):
        return MatMul(Commutation(e.arg.rows, e.arg.cols), _vec(e.arg, ident))  # vec(dXᵀ) = K vec dX
    if isinstance(e, Trace):
        return MatMul(Transpose(Vec(Identity(e.arg.rows))), _vec(e.arg, ident))  # tr(A) = vec(I)ᵀvec(A)
    if isinstance(e, Sum):
        return MatMul(Transpose(Ones(_size(e.arg), 1)), _vec(e.arg, ident))     # sum(A) = 𝟏ᵀvec(A)
    if isinstance(e, Frob):
        a, b = e.args
        const, lin = (a, b) if _is_linear(b) else (b, a)
        return MatMul(Transpose(Vec(const)), _vec(lin, ident))                  # A : B = vec(A)ᵀvec(B)
    if isinstance(e, (Vec, Unvec)):
        return _vec(e.arg, ident)                              # vec keeps the entries in order
    if isinstance(e, Broadcast):
        a = e.arg
        rows, cols = e.shape
        if is_scalar(a):
            stretch = Ones(_size(e), 1)
        elif a.rows == 1:
            stretch = Kron(Identity(cols), Ones(rows, 1))      # vec(𝟏r) = (I ⊗ 𝟏) vec(r)
        else:
            stretch = Kron(Ones(cols, 1), Identity(rows))      # vec(c𝟏ᵀ) = (𝟏 ⊗ I) c
        return MatMul(stretch, _vec(a, ident))
    if isinstance(e, Mean):
        a = e.arg
        if e.axis == 1:
            sums = Kron(Identity(a.cols), Transpose(Ones(a.rows, 1)))  # vec(𝟏ᵀA) = (I ⊗ 𝟏ᵀ)vec A
        else:
            sums = Kron(Transpose(Ones(a.cols, 1)), Identity(a.rows))  # vec(A𝟏) = (𝟏ᵀ ⊗ I)vec A
        return MatMul(reciprocal(e.length), sums, _vec(a, ident))
    raise UnsupportedError(f"no vec form for the linear map {type(e).__name__} yet")


def _diag_vec(mask: Expr) -> Expr:
    return Diag(mask if mask.cols == 1 else Vec(mask))


# --- index form ----------------------------------------------------------------------------------

@dataclass
class IndexStyle:
    """How an index form is spelled in one output language."""
    printer: object
    delta: str          # format with the two indices
    entry: str          # format with (text, indices)
    lhs: str            # format with (f, f indices, x, x indices)
    minus: str


def index_style(kind: str) -> IndexStyle:
    if kind == "latex":
        return IndexStyle(LatexPrinter(), r"\delta_{{{}}}", "{}_{{{}}}",
                          r"\frac{{\partial {}_{{{}}}}}{{\partial {}_{{{}}}}}", "-")
    if kind == "ascii":
        return IndexStyle(AsciiPrinter(), "delta_{}", "{}_{}", "d{}_{}/d{}_{}", "-")
    return IndexStyle(TextPrinter(), "δ_{}", "{}_{}", "∂{}_{}/∂{}_{}", "−")


@dataclass
class IndexForm:
    text: str                  # "∂Y_ij/∂X_kl = δ_ik W_jl"
    shape: tuple               # (p, q, m, n), trivial axes of vectors dropped
    zero_unless: list = field(default_factory=list)   # ["i = k"]
    nonzeros: str = ""         # "at most 33,554,432 of 2,147,483,648 entries can be nonzero"


def index_form(lin: Expr, f_shape, wrt: Var, fname: str, sizes: dict | None = None,
               kind: str = "text", vec: Expr | None = None) -> IndexForm:
    """∂F_ij/∂X_kl read off the terms of dF, else off the terms of the vec form ``vec``
    (Diag, Kronecker and outer products), else given as the entries of the vec form."""
    style = index_style(kind)
    out_idx = "".join(c for c, d in zip("ij", f_shape) if d != 1)
    in_idx = "".join(c for c, d in zip("kl", wrt.shape) if d != 1)
    names = (style.printer.doprint(Var(fname, (1, 1))), style.printer.doprint(wrt))
    lhs = style.lhs.format(names[0], out_idx, names[1], in_idx)
    shape = tuple(d for d in (*f_shape, *wrt.shape) if d != 1)
    if isinstance(lin, Zero):
        return IndexForm(f"{lhs} = 0", shape, [], "every entry is 0")
    try:
        parts, delta_sets = [], []
        for t in expand(simplify(lin)):
            text, deltas = _index_term(t, style, f_shape, wrt.shape)
            parts.append(text)
            delta_sets.append(set(deltas))
    except _NoIndexForm:
        try:
            parts, delta_sets = _index_from_vec(vec, style, f_shape, wrt.shape)
        except _NoIndexForm:
            if len(out_idx) < 2 and len(in_idx) < 2:
                return IndexForm(f"{lhs} = J_{out_idx}{in_idx}, the entries of the vec form J",
                                 shape)
            return IndexForm(f"{lhs} = J[({out_idx}), ({in_idx})], the entries of the vec "
                             f"form J (row {_vec_position(out_idx, f_shape[0])}, column "
                             f"{_vec_position(in_idx, wrt.shape[0])})", shape)
    body = " + ".join(parts).replace(f"+ {style.minus}", f"{style.minus} ") if parts else "0"
    common = set.intersection(*delta_sets) if delta_sets else set()
    zero_unless = sorted(f"{a} = {b}" for a, b in common)
    return IndexForm(f"{lhs} = {body}", shape, zero_unless,
                     _count_nonzeros(common, f_shape, wrt.shape, sizes or {}))


def _index_from_vec(J: Expr | None, style: IndexStyle, f_shape, x_shape):
    """Index terms read off the vec form, term by term. A term is a chain
    Diag(vec M)… · core · Diag(vec N)… with core B ⊗ A, I or nothing, whose entry is
    M_ij A_ik B_jl N_kl (so T₁(𝟏𝟏ᵀ ⊗ I)T₁ with T₁ = Diag(vec S) reads S_ij δ_ik S_kl); for
    vectors the diagonals are Diag(v) and the core a matrix M_ik, an outer product u_i w_k or I."""
    if J is None:
        raise _NoIndexForm()
    vectors = f_shape[1] == 1 and x_shape[1] == 1
    trivial = {x for x, d in zip("ijkl", (*f_shape, *x_shape)) if d == 1}
    parts, delta_sets = [], []
    for t in expand(simplify(J)):
        c, rest = coeff_and_rest(t)
        factors = list(rest.args) if isinstance(rest, MatMul) else [rest]
        scalars = [f for f in factors if is_scalar(f)]
        chain = [f for f in factors if not is_scalar(f)]
        texts, deltas = _read_chain(chain, style, vectors)
        deltas = [d for d in deltas if not set(d) & trivial]
        texts = [x for x in texts if x not in {_deltas([d], style) for d in _trivial(trivial)}]
        if abs(c) != 1 or scalars:                 # (2/m) in front, as one factor
            scale = style.printer.doprint(simplify(MatMul(Num(abs(c)), *scalars))
                                          if scalars else Num(abs(c)))
            texts.insert(0, style.printer.paren(scale) if "/" in scale else scale)
        parts.append((style.minus if c < 0 else "") + " ".join(texts))
        delta_sets.append({tuple(sorted(d)) for d in deltas})
    return parts, delta_sets


def _trivial(trivial: set) -> list:
    """The deltas between an index of length 1 and another: they are not written."""
    return [(a, b) for a in "ij" for b in "kl" if a in trivial or b in trivial]


def _read_chain(chain: list, style: IndexStyle, vectors: bool):
    out_idx, in_idx = ("i", "k") if vectors else ("ij", "kl")
    left, right, core = [], [], []
    for f in chain:
        diagonal = _diagonal_of(f, vectors)
        if diagonal is not None:
            (right if core else left).append(diagonal)
        elif not right:
            core.append(f)
        else:
            raise _NoIndexForm()
    if not core or (len(core) == 1 and isinstance(core[0], Identity)):
        # a diagonal Jacobian: every entry at (ij, ij)
        pairs = list(zip(out_idx, in_idx))
        texts = [_entry(m, *_pair(out_idx), style)[0] for m in left + right]
        return texts + [_deltas(pairs, style)], pairs
    texts = [_entry(m, *_pair(out_idx), style)[0] for m in left]
    deltas: list = []
    if vectors and len(core) == 1:
        text, dl = _entry(core[0], "i", "k", style)          # M_ik
        texts.append(text)
        deltas += dl
    elif vectors and len(core) == 2 and core[0].cols == 1 and core[1].rows == 1:
        u, w = core                                           # u_i w_k
        texts.append(_entry(u, "i", "1", style)[0])
        texts.append((_entry(w.arg, "k", "1", style) if isinstance(w, Transpose)
                      else _entry(w, "1", "k", style))[0])
    elif not vectors and len(core) == 1 and isinstance(core[0], Kron):
        b, a = core[0].args                                   # (B ⊗ A) → A_ik B_jl
        for factor, x, y in ((a, "i", "k"), (b, "j", "l")):
            if isinstance(factor, Ones) or (isinstance(factor, Transpose)
                                            and isinstance(factor.arg, Ones)):
                continue                                      # 𝟏𝟏ᵀ, 𝟏ᵀ: every entry is 1
            text, dl = _entry(None if isinstance(factor, Identity) else factor, x, y, style)
            texts.append(text)
            deltas += dl
    else:
        raise _NoIndexForm()
    texts += [_entry(m, *_pair(in_idx), style)[0] for m in right]
    return texts, deltas


def _diagonal_of(f: Expr, vectors: bool) -> Expr | None:
    """M for Diag(vec M) (v for Diag(v) between vectors), else None."""
    if isinstance(f, Diag) and isinstance(f.arg, Vec) and not vectors:
        return f.arg.arg
    if isinstance(f, Diag) and vectors:
        return f.arg
    return None


def _pair(indices: str) -> tuple:
    return (indices[0], indices[1]) if len(indices) == 2 else (indices, "1")


def _vec_position(indices: str, rows) -> str:
    """Where entry (a, b) sits in a column-major vec: a + rows(b − 1); one index is itself."""
    return f"{indices[0]} + {rows}({indices[1]} − 1)" if len(indices) == 2 else indices


def _deltas(pairs, style: IndexStyle) -> str:
    return " ".join(style.delta.format(a + b) for a, b in pairs)


def _count_nonzeros(common: set, f_shape, x_shape, sizes: dict) -> str:
    if not common:
        return ""
    try:
        values = {k: dim_value(v, sizes) for k, v in zip("ijkl", (*f_shape, *x_shape))}
    except (KeyError, ValueError):
        return ""
    total = 1
    for v in values.values():
        total *= v
    free = dict(values)
    for _, b in common:
        free.pop(b, None)
    bound = 1
    for v in free.values():
        bound *= v
    return f"at most {bound:,} of {total:,} entries can be nonzero ({100 * bound / total:.2g}%)"


def _entry(e: Expr | None, a: str, b: str, style: IndexStyle) -> tuple[str, list]:
    """The (a, b) entry of e as text; None is the identity, giving δ_ab."""
    if e is None:
        return style.delta.format("".join(sorted((a, b)))), [tuple(sorted((a, b)))]
    if isinstance(e, Transpose) and isinstance(e.arg, Var):
        return _entry(e.arg, b, a, style)
    idx = "".join(x for x, d in ((a, e.rows), (b, e.cols)) if d != 1)
    text = style.printer.doprint(e)
    if precedence(e) < PREC_POSTFIX or isinstance(e, Transpose):
        text = style.printer.paren(text)
    return (style.entry.format(text, idx) if idx else text), []


def _index_term(t: Expr, style: IndexStyle, f_shape, x_shape) -> tuple[str, list]:
    """One term c·s·H ∘ (A dX B) (or with dXᵀ) as c s H_ij A_ik B_lj, with δ for a missing A, B."""
    sign = ""
    if isinstance(t, MatMul) and isinstance(t.args[0], Num) and t.args[0].value < 0:
        sign, t = style.minus, simplify(MatMul(Num(-t.args[0].value), *t.args[1:]))
    scalars = []
    if isinstance(t, MatMul):
        scalars = [a for a in t.args if is_scalar(a) and not _is_linear(a)]
        rest = [a for a in t.args if a not in scalars]
        t = _product(rest) if rest else Num(1)
    mask = None
    if isinstance(t, Hadamard):
        consts = [a for a in t.args if not _is_linear(a)]
        (t,) = [a for a in t.args if _is_linear(a)]
        mask = consts[0] if len(consts) == 1 else Hadamard(*consts)
    chain = list(t.args) if isinstance(t, MatMul) else [t]
    pos = [i for i, a in enumerate(chain) if _is_linear(a)]
    if len(pos) != 1:
        raise _NoIndexForm()
    lin = chain[pos[0]]
    transposed = isinstance(lin, Transpose) and isinstance(lin.arg, D)
    if not (isinstance(lin, D) or transposed):
        raise _NoIndexForm()
    before = [a for a in chain[:pos[0]] if not is_scalar(a)]
    after = [a for a in chain[pos[0] + 1:] if not is_scalar(a)]
    k, l_ = ("l", "k") if transposed else ("k", "l")
    texts = [style.printer._print_factor(s) for s in scalars]
    if mask is not None:
        texts.append(_entry(mask, "i", "j", style)[0])
    deltas = []
    for factor, a, b in ((_product(before) if before else None, "i", k),
                         (_product(after) if after else None, l_, "j")):
        text, dl = _entry(factor, a, b, style)
        dl = [d for d in dl if _axis_len(d[0], f_shape, x_shape) != 1]
        if factor is not None or dl:
            texts.append(text)
        deltas.extend(dl)
    return sign + (" ".join(texts) or "1"), deltas


def _axis_len(index: str, f_shape, x_shape):
    return dict(zip("ijkl", (*f_shape, *x_shape)))[index]


class _NoIndexForm(Exception):
    """The term is not a product of entries; the vec form's entries are given instead."""
