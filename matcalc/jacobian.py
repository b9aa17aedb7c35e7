"""Jacobians of matrix-valued expressions and Hessians of scalar ones, in three forms each.

All come from the differential dF = L(dX) (forward: each operation's LINEARIZE rule with the
children's differentials substituted):

1. **vec form** J = ∂vec F/∂vec X, by vec(A dX B) = (Bᵀ ⊗ A) vec dX, vec(A ∘ dX) =
   Diag(vec A) vec dX, vec(dXᵀ) = K vec dX (VEC_RULES below);
2. **index form** ∂F_ij/∂X_kl, the entries of the vec form read factor by factor
   ((B ⊗ A) ↦ A_ik B_jl, Diag(vec M) ↦ M_ij δ_ik δ_jl, K ↦ δ_il δ_jk) and contracted, plus
   where it is zero and how many entries can be nonzero;
3. **map form** — for a Jacobian the vector–Jacobian product G ↦ ∂(G : F)/∂X (the gradient
   engine run on G : F), for a Hessian the Hessian–vector product V ↦ d(∇f)[V].
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from .derivation import unpromised
from .differentiate import (commutation, is_linear, kron_shuffle, linearize_rule, pull_back,
                            reciprocal)
from .errors import UnsupportedError
from .ir import (
    Add,
    Broadcast,
    Commutation,
    D,
    Diag,
    DiagOf,
    Expr,
    Frechet,
    Frechet2,
    Frob,
    Hadamard,
    Identity,
    Kron,
    KronFrechet,
    KronFrechet2,
    MatMul,
    Mean,
    Num,
    Ones,
    Size,
    Sum,
    Trace,
    Transpose,
    Unvec,
    Var,
    Vec,
    Zero,
    dim_mul,
    is_scalar,
    product,
    substitute,
    walk,
)
from .memo import memoized
from .printers import (
    PREC_POSTFIX,
    AsciiPrinter,
    LatexPrinter,
    TextPrinter,
    explicit_broadcast,
)
from .simplify import coeff_and_rest, expand, simplify, within_written


def differential(e: Expr, wrt: Var, definitions: dict) -> Expr | None:
    """dE as an expression linear in D(wrt), or None when E does not depend on wrt."""
    memo: dict = {}

    def d(node: Expr) -> Expr | None:
        if node in memo:
            return memo[node]
        if node == wrt:
            out = D(wrt)
        elif isinstance(node, Var) and node.name in definitions:
            out = d(simplified(definitions[node.name]))
        elif not node.args or not any(d(a) is not None for a in node.args):
            out = None
        else:
            _, fn = linearize_rule(node)
            out = fn(node, d)
        memo[node] = out
        return out

    # E differentiated in its simplified form, as the derivation shows it: the product rule
    # on (aᵀX)(bᵀX)⋯(bᵀX)b, a chain of k 1×1 factors, nests k sums deep, while its simplified
    # form (Xᵀa)(Xᵀb)ᵏ⁻¹b has a differential of two terms
    lin = d(simplified(e))
    if lin is None:
        return None
    lin = simplify(lin)
    within_written(lin)
    # every differential cancelled ((φ − φ)A in dφ): E does not depend on wrt after all
    return lin if is_linear(lin) else None


def simplified(e: Expr) -> Expr:
    """e simplified without the promise of its structured variables (derivation.UNSTRUCTURED):
    sum(u) = 1 of a probability vector u holds where e is evaluated, not along du."""
    held, back = unpromised(e)
    return substitute(simplify(held), back) if back else simplify(e)


# --- vec form ------------------------------------------------------------------------------------

def vec_form(lin: Expr, wrt: Var) -> Expr:
    """J with vec(L(dX)) = J vec(dX)."""
    if is_scalar(wrt):
        # L(dλ) = L(1) dλ: J = vec(L(1))
        return simplify(_vec_of(simplify(substitute(lin, {D(wrt): Num(1)}))))
    if is_scalar(lin):
        # dF = G : dX with G = L*(1), L moved across the Frobenius product: J = vec(G)ᵀ
        adjoints = [g for _, g in pull_back(lin, Num(1), [])]
        return simplify(Transpose(_vec_of(simplify(product(adjoints) if len(adjoints) == 1
                                                   else Add(*adjoints)))))
    return simplify(_vec(lin, Identity(_size(wrt))))


def _size(e: Expr):
    return dim_mul(e.rows, e.cols)


def _vec_of(m: Expr) -> Expr:
    """vec(M) of a constant M; a broadcast is written as the product it stands for (𝟏r, c𝟏ᵀ,
    s𝟏𝟏ᵀ), since only + and ∘ broadcast by themselves, and scalar factors stand outside."""
    if isinstance(m, Broadcast):
        m = simplify(MatMul(m.arg, Ones(*m.shape))) if is_scalar(m.arg) else \
            explicit_broadcast(m)
    if isinstance(m, MatMul) and not is_scalar(m):
        scalars = [a for a in m.args if is_scalar(a)]
        if scalars:
            return MatMul(*scalars, _vec_of(product([a for a in m.args if not is_scalar(a)])))
    return Ones(_size(m), 1) if isinstance(m, Ones) else Vec(m)     # vec(𝟏𝟏ᵀ) = 𝟏


@memoized(1 << 14)
def _vec(e: Expr, ident: Expr) -> Expr:
    # memoized: the differential of nested definitions shares its subtrees
    if isinstance(e, D):
        return ident                                           # vec(dX) = I vec(dX)
    if isinstance(e, Add):
        return Add(*[_vec(t, ident) for t in e.args])
    if isinstance(e, MatMul):
        (i, lin), = [(i, a) for i, a in enumerate(e.args) if is_linear(a)]
        others = e.args[:i] + e.args[i + 1:]
        scalars = [a for a in others if is_scalar(a)]
        if is_scalar(lin):
            # vec(M dl) = vec(M) dl for a 1×1 dl wherever it stands (M = 1 if it is alone)
            rest = product(a for a in others if not is_scalar(a))
            return MatMul(*scalars, _vec_of(rest), _vec(lin, ident))
        before = [a for a in e.args[:i] if not is_scalar(a)]
        after = [a for a in e.args[i + 1:] if not is_scalar(a)]
        left = product(before) if before else Identity(lin.rows)
        right = Transpose(product(after)) if after else Identity(lin.cols)
        # vec(A dX B) = (Bᵀ ⊗ A) vec(dX)   [Magnus–Neudecker, ch. 2, Thm 2]
        return MatMul(*scalars, Kron(right, left), _vec(lin, ident))
    if isinstance(e, Hadamard):
        (i, lin), = [(i, a) for i, a in enumerate(e.args) if is_linear(a)]
        others = e.args[:i] + e.args[i + 1:]
        mask = product(others) if len(others) == 1 else Hadamard(*others)
        return MatMul(Diag(_vec_of(mask)), _vec(lin, ident))  # vec(A∘dX) = Diag(vec A) vec dX
    if isinstance(e, Transpose):
        k = commutation(e.arg.rows, e.arg.cols)
        return MatMul(k, _vec(e.arg, ident))                   # vec(dXᵀ) = K vec dX
    if isinstance(e, Trace):
        return MatMul(Transpose(Vec(Identity(e.arg.rows))), _vec(e.arg, ident))  # tr(A) = vec(I)ᵀvec(A)
    if isinstance(e, Sum):
        return MatMul(Transpose(Ones(_size(e.arg), 1)), _vec(e.arg, ident))     # sum(A) = 𝟏ᵀvec(A)
    if isinstance(e, Frob):
        a, b = e.args
        const, lin = (a, b) if is_linear(b) else (b, a)
        return MatMul(Transpose(_vec_of(const)), _vec(lin, ident))             # A : B = vec(A)ᵀvec(B)
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
    if isinstance(e, Diag):
        n = e.rows
        # vec(Diag(v)) = vec(I ∘ v𝟏ᵀ) = Diag(vec I)(𝟏 ⊗ I)v
        return MatMul(Diag(Vec(Identity(n))), Kron(Ones(n, 1), Identity(n)), _vec(e.arg, ident))
    if isinstance(e, DiagOf):
        n = e.rows
        # diag(A) = (I ∘ A)𝟏, vec(M𝟏) = (𝟏ᵀ ⊗ I)vec M
        return MatMul(Kron(Transpose(Ones(n, 1)), Identity(n)), Diag(Vec(Identity(n))),
                      _vec(e.arg, ident))
    if isinstance(e, Kron):
        a, b = e.args
        shuffle = kron_shuffle(a, b)                           # vec(A ⊗ B) = P(vec A ⊗ vec B)
        if is_linear(a):
            return MatMul(shuffle, Kron(Identity(_size(a)), _vec_of(b)), _vec(a, ident))
        return MatMul(shuffle, Kron(_vec_of(a), Identity(_size(b))), _vec(b, ident))
    if isinstance(e, Frechet):
        a, direction = e.args                                  # vec(L_f(A, dX)) = K_f(A) vec(dX)
        return MatMul(KronFrechet(e.name, a), _vec(direction, ident))
    if isinstance(e, Frechet2):
        a, first, second = e.args      # vec(L_f(A, E, dX)) = K_f(A, E) vec(dX), symmetric in E, dX
        lin, other = (second, first) if is_linear(second) else (first, second)
        return MatMul(KronFrechet2(e.name, a, other), _vec(lin, ident))
    raise UnsupportedError(f"no vec form for the linear map {type(e).__name__} yet")


# --- index form ----------------------------------------------------------------------------------
#
# J's rows are the entries F_ij of F (column-major), its columns the entries X_kl of X. Every term
# of J is c·s·M₁M₂…M_r; each factor is read as a table of entries between two "boundaries" (the
# indices on its row side and on its column side, one or two of them each), e.g. (B ⊗ A) between
# (p, q) and (r, s) as A_pr B_qs; then the Kronecker deltas are contracted, and a summed index
# shared by two entries is read as a matrix product again (A_ip B_pk = (AB)_ik).

@dataclass(frozen=True)
class Entry:
    """A factor of an index term: the entry (row, col) of ``matrix``, or the Kronecker delta
    δ_row,col when ``matrix`` is None. An index of an axis of length 1 is None."""
    matrix: Expr | None
    row: str | None
    col: str | None


@dataclass
class IndexTerm:
    """coeff · scalars · entries, summed over the indices ``sums``."""
    coeff: Fraction
    scalars: list
    entries: list
    sums: tuple = ()


@dataclass
class IndexForm:
    """∂F_ij/∂X_kl as a structure: ``out`` and ``inp`` are the indices of F's and X's axes (None
    for an axis of length 1), ``dims`` the length of every index used; ``terms`` is None when
    the vec form is given entry by entry as it stands."""
    fname: str
    wrt: Var
    out: tuple
    inp: tuple
    dims: dict
    terms: list | None

    @property
    def free(self) -> tuple:
        return tuple(i for i in (*self.out, *self.inp) if i is not None)

    @property
    def shape(self) -> tuple:
        """The lengths of the axes (i, j, k, l), the axes of length 1 left out."""
        return tuple(self.dims[i] for i in self.free)

    @property
    def zero_unless(self) -> list:
        """The deltas every term has: the entries off them are 0."""
        if not self.terms:
            return []
        common = set.intersection(*[{_pair(e, self) for e in t.entries if e.matrix is None}
                                    for t in self.terms])
        return [f"{a} = {b}" for a, b in sorted(common, key=lambda p: self._rank(p))]

    def _rank(self, pair) -> tuple:
        order = self.free
        return tuple(order.index(x) if x in order else len(order) for x in pair)

    def nonzeros(self) -> str:
        """How many entries the deltas leave, where the sizes are numbers."""
        equal = [p.split(" = ") for p in self.zero_unless]
        if not equal or not all(isinstance(self.dims[i], int) for i in self.free):
            return ""
        total = bound = 1
        classes = {i: i for i in self.free}
        for a, b in equal:       # indices tied by a delta take one value between them
            old, new = classes[b], classes[a]
            classes = {i: new if c == old else c for i, c in classes.items()}
        for i in self.free:
            total *= self.dims[i]
        for rep in dict.fromkeys(classes.values()):
            bound *= self.dims[rep]
        return (f"at most {bound:,} of {total:,} entries can be nonzero "
                f"({_percent(100 * bound / total)})")

    def describe(self) -> str:
        """What the index form is: a scalar, a vector, a matrix or a tensor, with its shape."""
        shape = self.shape
        if not shape:
            return "a scalar"
        if len(shape) == 1:
            return f"a vector of length {shape[0]}"
        kind = "a matrix" if len(shape) == 2 else f"a {len(shape)}-tensor"
        return f"{kind} of shape ({', '.join(map(str, shape))})"

    def facts(self) -> list:
        facts = [self.describe()]
        if self.zero_unless:
            facts.append("zero unless " + " and ".join(self.zero_unless))
        return facts + [n for n in [self.nonzeros()] if n]

    def render(self, kind: str = "text") -> str:
        """∂F_ij/∂X_kl = … in ``kind`` ("text", "ascii" or "latex")."""
        style = index_style(kind)
        lhs = style.lhs.format(_indexed(self.fname, self.out, style),
                               _indexed(self.wrt.name, self.inp, style))
        if self.terms is None:
            where = [p for p in (_vec_position(self.out, self.dims, style),
                                 _vec_position(self.inp, self.dims, style)) if p]
            at = ", ".join(where)
            if len(where) > 1 and kind != "latex":
                at = style.printer.paren(at)
            prose = r", \text{the entries of the vec form } J" if kind == "latex" else \
                ", the entries of the vec form J"
            return f"{lhs} = {style.entry.format('J', at)}{prose}"
        parts = [_term_text(t, self, style) for t in self.terms] or ["0"]
        body = parts[0] + "".join(f" {style.minus} {p[len(style.minus):]}"
                                  if p.startswith(style.minus) else f" + {p}" for p in parts[1:])
        return f"{lhs} = {body}"


@dataclass
class IndexStyle:
    """How an index form is spelled in one output language."""
    printer: object
    delta: str          # format with the two indices
    entry: str          # format with (text, indices)
    lhs: str            # format with (∂ F_ij, ∂ X_kl)
    minus: str
    total: str          # format with the indices summed over


def index_style(kind: str) -> IndexStyle:
    if kind == "latex":
        return IndexStyle(LatexPrinter(), r"\delta_{{{}}}", "{}_{{{}}}",
                          r"\frac{{\partial {}}}{{\partial {}}}", "-", r"\sum_{{{}}}")
    if kind == "ascii":
        return IndexStyle(AsciiPrinter(), "delta_{}", "{}_{}", "d{}/d{}", "-", "sum_{}")
    return IndexStyle(TextPrinter(), "δ_{}", "{}_{}", "∂{}/∂{}", "−", "Σ_{}")


def _indexed(name: str, indices: tuple, style: IndexStyle) -> str:
    text = style.printer.index_base(Var(name, (1, 1)))
    letters = "".join(i for i in indices if i is not None)
    return style.entry.format(text, letters) if letters else text


def _vec_position(indices: tuple, dims: dict, style: IndexStyle) -> str:
    """Where entry (a, b) sits in a column-major vec: a + rows(b − 1); one index is itself."""
    used = [i for i in indices if i is not None]
    if len(used) < 2:
        return "".join(used)
    a, b = used
    rows = _length(dims[a])
    text = style.printer.doprint(rows)
    return f"{a} + {style.printer.paren(text) if isinstance(rows, MatMul) else text}" \
        f"({b} {style.minus} 1)"


def _length(d) -> Expr:
    """A dimension as a scalar expression: 3, n, 2n, mn."""
    if isinstance(d, int):
        return Num(d)
    parts = [Num(int(p)) if p.isdigit() else Size(p) for p in d.split("·")]
    return product(parts)


def _percent(value: float) -> str:
    """Two significant digits, never in exponent notation: 100%, 1.6%, 0.0012%."""
    return f"{Decimal(f'{value:.2g}'):f}%"


def _pair(e: Entry, form: IndexForm) -> tuple:
    return tuple(sorted((e.row, e.col), key=lambda x: form._rank((x,))))


# Index names: F's pair first, then X's, then the summed ones; a pair is used only if neither
# of its letters names a dimension or a variable (∂F_ij/∂X_pq when a dimension is called k).
PAIRS = ("ij", "kl", "pq", "rs", "uv", "ab", "cd", "gh", "tw", "yz", "ef", "mn", "xo")


def index_form(J: Expr, f_shape, wrt: Var, fname: str) -> IndexForm:
    """∂F_ij/∂X_kl read off the vec form J; the entries of J as they stand where a factor has
    no reading in the indices of F and X (the vec form of A ⊗ X)."""
    taken = {wrt.name, fname} | {n.name for n in walk(J) if isinstance(n, Var)}
    for node in walk(J):
        for d in (*node.shape, *f_shape, *wrt.shape):
            taken.update(d.split("·") if isinstance(d, str) else ())
    pairs = [p for p in PAIRS if not set(p) & taken]
    if len(pairs) < 2:
        raise UnsupportedError("no free letters for the indices of the index form")
    out = tuple(c if d != 1 else None for c, d in zip(pairs[0], f_shape))
    inp = tuple(c if d != 1 else None for c, d in zip(pairs[1], wrt.shape))
    dims = {c: d for c, d in zip((*out, *inp), (*f_shape, *wrt.shape)) if c is not None}
    first = [(i, d) for i, d in zip(out, f_shape) if i is not None]
    last = [(i, d) for i, d in zip(inp, wrt.shape) if i is not None]
    try:
        read = [] if isinstance(J, Zero) else \
            [_read_term(t, first, last) for t in expand(simplify(J))]
    except _NoIndexForm:
        return IndexForm(fname, wrt, out, inp, dims, None)
    pool = "".join(pairs[2:])
    return IndexForm(fname, wrt, out, inp, dims, [_name_sums(t, lengths, pool, dims)
                                                  for t, lengths in read])


class _NoIndexForm(Exception):
    """A factor of the vec form has no reading in the indices of F and X."""


class _Scratch:
    """Names for the indices between the factors of a chain, with their lengths."""

    def __init__(self):
        self.lengths: dict = {}

    def __call__(self, length) -> str:
        name = f"#{len(self.lengths)}"
        self.lengths[name] = length
        return name


def _read_term(t: Expr, first: list, last: list) -> tuple:
    """The term c·M₁…M_r as an IndexTerm, and the lengths of the indices it sums over."""
    coeff, rest = coeff_and_rest(t)
    factors = [] if rest is None else (list(rest.args) if isinstance(rest, MatMul) else [rest])
    scratch = _Scratch()
    entries = _read_chain(factors, first, last, scratch)
    bound = set(scratch.lengths)
    entries = _contract(entries, bound)
    return _merge(IndexTerm(coeff, [], entries), bound, scratch.lengths), scratch.lengths


def _read_chain(factors: list, first: list, last: list, scratch: _Scratch) -> list:
    """The entries of a product between the indices ``first`` and ``last``; a scalar factor is
    an entry with no index."""
    chain = [f for f in factors if not is_scalar(f)]
    entries = [Entry(f, None, None) for f in factors if is_scalar(f)]
    left = first
    for pos, f in enumerate(chain):
        if pos == len(chain) - 1:
            right = last
        else:
            demand = _demand(f)[1] or _demand(chain[pos + 1])[0] or (f.cols,)
            if isinstance(f, Identity):
                demand = tuple(d for _, d in left)      # I passes its indices through
            right = [(scratch(d), d) for d in demand if d != 1]
        entries += _read_factor(f, left, right, scratch)
        left = right
    return entries


def _name_sums(t: IndexTerm, lengths: dict, pool: str, dims: dict) -> IndexTerm:
    """The indices left summed get letters (a letter keeps one length in every term)."""
    names: dict = {}
    for i in t.sums:
        free = [c for c in pool if c not in names.values() and dims.get(c, lengths[i]) == lengths[i]]
        if not free:
            raise UnsupportedError("no free letters for the indices of the index form")
        names[i] = free[0]
        dims[free[0]] = lengths[i]
    entries = [Entry(e.matrix, names.get(e.row, e.row), names.get(e.col, e.col))
               for e in t.entries]
    return IndexTerm(t.coeff, t.scalars, entries, tuple(names[i] for i in t.sums))


def _demand(f: Expr) -> tuple:
    """The lengths of the indices f's entries are read with, (rows, columns); None for any."""
    if isinstance(f, Transpose):
        rows, cols = _demand(f.arg)
        return cols, rows
    if isinstance(f, Kron):
        b, a = f.args                                       # (B ⊗ A)_(pq),(rs) = A_pr B_qs
        return (a.rows, b.rows), (a.cols, b.cols)
    if isinstance(f, Diag):
        v = f.arg
        both = (v.arg.rows, v.arg.cols) if isinstance(v, Vec) else (v.rows,)
        return both, both
    if isinstance(f, Commutation):
        m, n = f.params
        return (n, m), (m, n)
    if isinstance(f, Vec):
        return (f.arg.rows, f.arg.cols), (1,)
    if isinstance(f, (Identity, Ones)):
        return None, None
    return (f.rows,), (f.cols,)


def _assign(demand: tuple, boundary: list) -> tuple:
    """The boundary's indices laid on the demanded axes (None on an axis of length 1)."""
    if tuple(d for d in demand if d != 1) != tuple(d for _, d in boundary):
        raise _NoIndexForm()
    names = iter(i for i, _ in boundary)
    return tuple(None if d == 1 else next(names) for d in demand)


def _delta(a, b) -> list:
    return [] if a is None and b is None else [Entry(None, a, b)]


def _read_factor(f: Expr, rows: list, cols: list, scratch: _Scratch) -> list:
    """The entries of f between the indices ``rows`` and ``cols`` ([(index, length)])."""
    if isinstance(f, Transpose):
        return _read_factor(f.arg, cols, rows, scratch)     # (Mᵀ)_rc = M_cr
    if isinstance(f, Ones):
        return []
    if isinstance(f, Identity):
        if [d for _, d in rows] != [d for _, d in cols]:
            raise _NoIndexForm()
        return [Entry(None, r, c) for (r, _), (c, _) in zip(rows, cols)]
    row_demand, col_demand = _demand(f)
    try:
        r, c = _assign(row_demand, rows), _assign(col_demand, cols)
    except _NoIndexForm:
        if len(rows) <= 1 and len(cols) <= 1:
            return [_entry(f, rows, cols)]                  # a matrix read as it stands
        if _as_product(f) is None:
            raise
        return _read_chain(_as_product(f), rows, cols, scratch)
    if isinstance(f, Kron):
        b, a = f.args
        return (_read_factor(a, _on(r[0], a.rows), _on(c[0], a.cols), scratch)
                + _read_factor(b, _on(r[1], b.rows), _on(c[1], b.cols), scratch))
    if isinstance(f, Diag) and isinstance(f.arg, Vec):
        m = f.arg.arg                                       # Diag(vec M) = M_pq δ_pr δ_qs
        return (_read_factor(m, _on(r[0], m.rows), _on(r[1], m.cols), scratch)
                + _delta(r[0], c[0]) + _delta(r[1], c[1]))
    if isinstance(f, Diag):
        return _read_factor(f.arg, _on(r[0], f.rows), [], scratch) + _delta(r[0], c[0])
    if isinstance(f, Commutation):
        return _delta(r[0], c[1]) + _delta(r[1], c[0])     # K_(pq),(rs) = δ_ps δ_qr
    if isinstance(f, Vec):
        m = f.arg
        return _read_factor(m, _on(r[0], m.rows), _on(r[1], m.cols), scratch)
    return [_entry(f, rows, cols)]


def _as_product(f: Expr) -> list | None:
    """The chain of a factor that is a product: mean(M, 1) = (1/m)𝟏ᵀM, mean(M, 2) = M𝟏(1/n),
    a broadcast 𝟏r, c𝟏ᵀ or s𝟏𝟏ᵀ."""
    if isinstance(f, Broadcast):
        f = MatMul(f.arg, Ones(*f.shape)) if is_scalar(f.arg) else explicit_broadcast(f)
    if isinstance(f, MatMul):
        return list(f.args)
    if isinstance(f, Mean) and f.axis == 1:
        return [reciprocal(f.length), Transpose(Ones(f.arg.rows, 1)), f.arg]
    if isinstance(f, Mean):
        return [f.arg, Ones(f.arg.cols, 1), reciprocal(f.length)]
    return None


def _on(index, length) -> list:
    return [] if index is None else [(index, length)]


def _entry(f: Expr, rows: list, cols: list) -> Entry:
    r = rows[0][0] if rows else None
    c = cols[0][0] if cols else None
    if isinstance(f, Broadcast):                            # (𝟏bᵀ)_ij = b_j
        f = explicit_broadcast(f)
    if isinstance(f, MatMul) and _is_ones(f.args[0]) and f.args[0].cols == 1:
        rest = product(f.args[1:])                         # (𝟏r)_ij = r_j
        return Entry(rest, None, c) if rest.rows == 1 else Entry(f, r, c)
    if isinstance(f, MatMul) and _is_ones(f.args[-1]) and f.args[-1].rows == 1:
        rest = product(f.args[:-1])                        # (c𝟏ᵀ)_ij = c_i
        return Entry(rest, r, None) if rest.cols == 1 else Entry(f, r, c)
    return Entry(f, r, c)


def _is_ones(e: Expr) -> bool:
    return isinstance(e, Ones) or (isinstance(e, Transpose) and isinstance(e.arg, Ones))


def _rename(e: Entry, old: str, new) -> Entry:
    return Entry(e.matrix, new if e.row == old else e.row, new if e.col == old else e.col)


def _contract(entries: list, bound: set) -> list:
    """Σ_p δ_pk M_p… = M_k…: each delta with a summed index is used up, the last first (so
    that the indices of X reach the factors on its side)."""
    entries = list(entries)
    while True:
        hits = [n for n, e in enumerate(entries) if e.matrix is None
                and (e.row == e.col or e.row in bound or e.col in bound)]
        if not hits:
            return entries
        e = entries.pop(hits[-1])
        if e.row != e.col:
            old, new = (e.col, e.row) if e.col in bound else (e.row, e.col)
            entries = [_rename(x, old, new) for x in entries]
            bound.discard(old)


def _merge(term: IndexTerm, bound: set, dims: dict) -> IndexTerm:
    """Summed indices read back as matrix products: Σ_p A_ip B_pk = (AB)_ik, Σ_p A_ip = (A𝟏)_i,
    Σ_p A_pp = tr(A), Σ_p 1 = the length; what is left stays summed."""
    entries, scalars, coeff = list(term.entries), list(term.scalars), term.coeff
    summed = []
    for p in sorted(bound, key=list(dims).index):
        hits = [n for n, e in enumerate(entries) if p in (e.row, e.col)]
        ones = Ones(dims[p], 1)
        if not hits:
            scalars.append(_length(dims[p]))
        elif len(hits) == 1 and entries[hits[0]].row == entries[hits[0]].col == p:
            scalars.append(Trace(entries.pop(hits[0]).matrix))
        elif len(hits) == 1:
            m, a = _oriented(entries[hits[0]], p)
            entries[hits[0]] = Entry(simplify(MatMul(m, ones)), a, None)
        elif len(hits) == 2 and all(sum(x == p for x in (entries[n].row, entries[n].col)) == 1
                                    for n in hits):
            m1, a = _oriented(entries[hits[0]], p)
            m2, b = _oriented(entries[hits[1]], p)
            entries[hits[0]] = Entry(simplify(MatMul(m1, Transpose(m2))), a, b)
            del entries[hits[1]]
        else:
            summed.append(p)
    for e in [e for e in entries if e.matrix is not None and e.row is None and e.col is None]:
        entries.remove(e)
        if isinstance(e.matrix, Num):
            coeff *= e.matrix.value
        else:
            scalars.append(e.matrix)
    # a row of a product read as a column: (𝟏ᵀSᵀXᵀ)_k = (XS𝟏)_k
    entries = [Entry(simplify(Transpose(e.matrix)), e.col, None)
               if isinstance(e.matrix, MatMul) and e.row is None else e for e in entries]
    return IndexTerm(coeff, scalars, entries, tuple(summed))


def _oriented(e: Entry, p: str) -> tuple:
    """(M, a) with e = M_ap: the entry with the summed index p moved to the columns."""
    if e.col == p:
        return e.matrix, e.row
    return Transpose(e.matrix), e.col


def _term_text(t: IndexTerm, form: IndexForm, style: IndexStyle) -> str:
    texts = []
    if t.sums:
        texts.append(style.total.format("".join(t.sums)))
    for e in t.entries:
        texts.append(_entry_text(e, form, style))
    c = t.coeff
    if abs(c) != 1 or t.scalars or not texts:
        scale = simplify(MatMul(Num(abs(c)), *t.scalars)) if t.scalars else Num(abs(c))
        text = style.printer.doprint(scale)
        if texts and (style.printer.precedence(scale) < PREC_POSTFIX and not isinstance(scale, Num)
                      or "/" in text):
            text = style.printer.paren(text)
        texts.insert(0, text)
    return (style.minus if c < 0 else "") + " ".join(texts)


def _entry_text(e: Entry, form: IndexForm, style: IndexStyle) -> str:
    if e.matrix is None:
        a, b = _pair(e, form)
        return style.delta.format(a + b)
    m, row, col = e.matrix, e.row, e.col
    if isinstance(m, Transpose):
        m, row, col = m.arg, col, row
    text = style.printer.index_base(m)
    if text in (style.delta.partition("_")[0], style.total.partition("_")[0]):
        text = style.printer.paren(text)    # a matrix named Σ or δ: (Σ)_rs, not a sum over r, s
    return style.entry.format(text, "".join(i for i in (row, col) if i is not None))
