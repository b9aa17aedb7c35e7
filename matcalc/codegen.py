"""NumPy code generation: a self-contained snippet with one function per result.

Contract (README, "NumPy code"): parameters are the free variables in order of first
appearance, transliterated to ASCII (λ → lam, W₁ → W1, ℓ → ell); vectors are 1-D arrays,
matrices 2-D, scalars floats. Shapes are checked against each other (ValueError naming the
mismatch); repeated subexpressions are computed once; X⁻¹B is ``np.linalg.solve(X, B)``, and
with an X declared spd two triangular solves with its Cholesky factor, made once per function.

Inside a function every node is one value of one representation: a 1×1 node is a scalar of the
inputs' dtype (a NumPy scalar: NumPy's functions of a Python float are float64); any other node
is a 2-D array of exactly its shape, vectors n×1 columns. A broadcast is written out, except as
an operand of + or ∘ whose other operands already give the full shape (there NumPy's
broadcasting is the same thing). Parentheses come from one precedence table, Python's; every
template states the level of what it prints and of each operand. Names come from one ``Namer``
per function: the user's names first (moved aside with a trailing underscore where the code
needs the name itself), then sizes, temporaries and the value, each fresh.
The code computes the stable forms of ``matcalc.stable`` (softplus as logaddexp, shifted
logsumexp and softmax).
"""

from __future__ import annotations

import keyword
import re
from collections import Counter
from fractions import Fraction
from typing import NamedTuple

from .codeform import entrywise, inverse_arg, machine_form, spd_matrix, transpose_of
from .errors import MatcalcError
from .ir import (SCALAR, Broadcast, Det, DiagOf, Expr, HadPow, LogDet, MatMul, Num, Power, Size,
                 Transpose, Unvec, Var, Vec, as_float, distinct_nodes, is_scalar, occurrences,
                 product)
from .printers import ACCENTS, LETTER_ASCII, SUBSCRIPT_DIGITS, negate
from .simplify import coeff_and_rest, is_ones, simplify


def py_name(name: str) -> str:
    """The ASCII spelling of a variable name: 'λ' → 'lam', 'W₁' → 'W1', 'x′' → 'x_prime'."""
    out = ""
    for ch in name:
        if ch in SUBSCRIPT_DIGITS:
            out += str(SUBSCRIPT_DIGITS.index(ch))
        elif ch == "′":
            out += "_prime"
        elif ch in ACCENTS:
            out += "_" + ACCENTS[ch]
        elif ch in LETTER_ASCII:
            out += LETTER_ASCII[ch]
        else:
            out += ch
    if not out.isascii() or not out.isidentifier():
        raise MatcalcError(f"the name '{name}' has no Python spelling for the NumPy code",
                           hint="rename the variable with ASCII letters and digits")
    return out


# The names the generated code reads besides its own locals: a local of that name would hide it.
CODE_NAMES = ("np", "float", "ValueError")


class Namer:
    """The local names of one generated function, each given once."""

    def __init__(self):
        self.taken = set(CODE_NAMES) | set(HELPERS)

    def claim(self, wanted: str) -> str:
        """wanted, or wanted with underscores appended until it is free and not a keyword."""
        name = wanted
        while name in self.taken or keyword.iskeyword(name):
            name += "_"
        self.taken.add(name)
        return name

    def fresh(self, stem: str) -> str:
        """stem1, stem2, …: the first that is free."""
        i = 1
        while f"{stem}{i}" in self.taken:
            i += 1
        return self.claim(f"{stem}{i}")


def parameter_names(names, namer: Namer | None = None) -> dict:
    """The Python names of the generated functions' parameters: each variable's ASCII spelling,
    with underscores appended where it would hide a name the code reads (np → np_)."""
    namer = namer or Namer()
    return {n: namer.claim(py_name(n)) for n in names}


# Python's operator precedence, loosest first (Language Reference, "Operator precedence").
ADD, MUL, NEG, POW, ATOM = 1, 2, 3, 4, 5


class Code(NamedTuple):
    """The source of one value and the precedence level of its outermost operator."""
    text: str
    prec: int

    def at(self, level: int) -> str:
        """The text as an operand where the template needs at least ``level``."""
        return self.text if self.prec >= level else f"({self.text})"


# Elementwise functions: {x} is the argument, {neg} its negation (each a whole call argument),
# {dtype} the code's floating dtype.
ELEMENTWISE = {
    "exp": "np.exp({x})", "log": "np.log({x})", "sin": "np.sin({x})", "cos": "np.cos({x})",
    "tan": "np.tan({x})", "tanh": "np.tanh({x})", "sqrt": "np.sqrt({x})", "abs": "np.abs({x})",
    "sign": "np.sign({x})",
    "sigmoid": "np.exp(-np.logaddexp(0.0, {neg}))",   # σ(t) = exp(−softplus(−t)): no overflow
    "relu": "np.maximum({x}, 0.0)", "softplus": "np.logaddexp(0.0, {x})",
    # H as a comparison (np.heaviside is ten times slower), cast: a bool would add as `or`
    "heaviside": "({x} > 0.0).astype({dtype})",
}
SCALAR_FORMS = {"heaviside": "float({x} > 0.0)"}
# The spectral functions and factors, through eigh and svd (the same SVD of one matrix gives
# u_max and v_max of one sign).
SPECTRAL = {
    "lmax": "np.linalg.eigvalsh({})[-1]", "lmin": "np.linalg.eigvalsh({})[0]",
    "norm2": "np.linalg.norm({}, 2)", "nuclear": 'np.linalg.norm({}, "nuc")',
    "qmax": "np.linalg.eigh({})[1][:, -1:]", "qmin": "np.linalg.eigh({})[1][:, :1]",
    "umax": "np.linalg.svd({}, full_matrices=False)[0][:, :1]",
    "vmax": "np.linalg.svd({}, full_matrices=False)[2][:1].T", "polar": "_polar({})",
}


class NumpyPrinter:
    """Python expressions, one ``_<Node>`` method per node type returning ``Code``; ``names``
    maps shared subtrees to their temporaries, ``variables`` user names to Python names,
    ``dtype`` names the inputs' floating dtype (the constants' dtype), ``factors`` each
    positive definite matrix to the name of its Cholesky factor."""

    def __init__(self, names: dict, variables: dict, dims: dict, dtype: str = "float",
                 factors: dict | None = None):
        self.names = names
        self.variables = variables
        self.dims = dims
        self.dtype = dtype
        self.factors = factors or {}

    def factor(self, e: Expr) -> str | None:
        """The name of the Cholesky factor L (S = LLᵀ) of e, an spd matrix or its transpose."""
        return self.factors.get(spd_matrix(e))

    def __call__(self, e: Expr) -> Code:
        if e in self.names:
            return Code(self.names[e], ATOM)
        return getattr(self, "_" + type(e).__name__)(e)

    def at(self, e: Expr, level: int) -> str:
        return self(e).at(level)

    def dim(self, d) -> Code:
        if isinstance(d, int):
            return Code(str(d), ATOM)
        parts = [p if p.isdigit() else self.dims[p] for p in d.split("·")]
        return Code(" * ".join(parts), ATOM if len(parts) == 1 else MUL)

    def shape(self, e: Expr) -> str:
        return f"({self.dim(e.rows).text}, {self.dim(e.cols).text})"

    def _Var(self, e):
        return Code(self.variables[e.name], ATOM)

    def _Num(self, e):
        return Code(repr(as_float(e.value)), ATOM if e.value >= 0 else NEG)

    def _Identity(self, e):
        return Code("1.0" if is_scalar(e) else
                    f"np.eye({self.dim(e.rows).text}, dtype={self.dtype})", ATOM)

    def _Ones(self, e):
        return Code("1.0" if is_scalar(e) else f"np.ones({self.shape(e)}, {self.dtype})", ATOM)

    def _Zero(self, e):
        return Code("0.0" if is_scalar(e) else f"np.zeros({self.shape(e)}, {self.dtype})", ATOM)

    def _Size(self, e):
        return self.dim(e.dim)

    def _Commutation(self, e):
        if is_scalar(e):
            return Code("1.0", ATOM)
        m, n = (self.dim(d).text for d in e.params)
        return Code(f"_commutation({m}, {n}, {self.dtype})", ATOM)

    # -- entrywise operations ------------------------------------------------------------------
    def entrywise_operands(self, args) -> list:
        """The operands of + or ∘, each broadcast one as its argument (NumPy broadcasts it)
        when the operands together still give the full shape; else the first is written out."""
        def own(a):
            return a.arg if isinstance(a, Broadcast) and a not in self.names else a
        full = args[0].shape
        shapes = [own(a).shape for a in args]
        if all(any(s[axis] == full[axis] for s in shapes) for axis in (0, 1)):
            return [own(a) for a in args]
        first = next(i for i, a in enumerate(args) if own(a) is not a)
        return [a if i <= first else own(a) for i, a in enumerate(args)]

    def _Add(self, e):
        args = self.entrywise_operands(e.args)
        text = self.at(args[0], ADD)
        for a in args[1:]:
            if a not in self.names and coeff_and_rest(a)[0] < 0:
                text += " - " + self.at(negate(a), MUL)
            else:
                text += " + " + self.at(a, ADD)
        return Code(text, ADD)

    def _Hadamard(self, e):
        # A ∘ B^∘(−1) is A / B: the divisors' bases take part in the broadcasting
        divisor = [isinstance(a, HadPow) and a.exp == -1 and a not in self.names
                   for a in e.args]
        args = self.entrywise_operands([a.arg if d else a for a, d in zip(e.args, divisor)])
        return quotient([self(a) for a, d in zip(args, divisor) if not d],
                        [self(a) for a, d in zip(args, divisor) if d])

    def _HadPow(self, e):
        return self.power(e.arg, e.exp)

    def power(self, base: Expr, k: Fraction) -> Code:
        """base^k entrywise (or of a scalar); a negative k divides."""
        if k < 0:
            return quotient([], [self.power(base, -k)])
        if k == Fraction(1, 2):
            return Code(f"np.sqrt({self(base).text})", ATOM)
        if k == 1:
            return self(base)
        return Code(f"{self.at(base, ATOM)} ** {as_float(k)!r}", POW)

    def _Frob(self, e):
        # A : B = sum(A ∘ B): summed unless the operands are 1×1 (a broadcast operand is
        # multiplied as its argument, but the sum is over the full shape)
        a, b = self.entrywise_operands(e.args)
        product = quotient([self(a), self(b)], [])
        return product if is_scalar(e.args[0]) else Code(f"np.sum({product.text})", ATOM)

    def _Func(self, e):
        template = SCALAR_FORMS.get(e.name, ELEMENTWISE[e.name]) if is_scalar(e) else \
            ELEMENTWISE[e.name]
        neg = self.negated(e.arg).text if "{neg}" in template else ""
        return Code(template.format(x=self(e.arg).text, neg=neg, dtype=self.dtype), ATOM)

    def negated(self, e: Expr) -> Code:
        """−e: a named value negated, else the negation of e printed."""
        return Code("-" + self.names[e], NEG) if e in self.names else self(negate(e))

    def _Broadcast(self, e):
        if e.shape == e.arg.shape:
            return self(e.arg)
        if isinstance(e.arg, Num):
            fill = {0: "np.zeros({0}, {2})", 1: "np.ones({0}, {2})"}.get(e.arg.value,
                                                                      "np.full({0}, {1}, {2})")
            return Code(fill.format(self.shape(e), self(e.arg).text, self.dtype), ATOM)
        if is_scalar(e.arg):
            return Code(f"np.full({self.shape(e)}, {self(e.arg).text}, {self.dtype})", ATOM)
        return Code(f"np.broadcast_to({self(e.arg).text}, {self.shape(e)})", ATOM)

    # -- products -------------------------------------------------------------------------------
    def _MatMul(self, e):
        if e not in self.names and coeff_and_rest(e)[0] < 0:
            rest = negate(e)
            positive = self(rest)
            # unary − binds tighter than * and @: before a product it negates the first operand,
            # which in a matrix product (-A @ x) scales the matrix: the result is negated instead
            if isinstance(rest, MatMul) and not any(is_scalar(a) for a in rest.args):
                return Code("-" + positive.at(NEG), NEG)
            return Code("-" + positive.at(MUL), MUL if positive.prec == MUL else NEG)
        numerators, denominators = [], []
        for a in e.args:
            if is_scalar(a) and _is_reciprocal(a) and a not in self.names:
                denominators.append(self.power(a.arg, -a.exp))
            elif is_scalar(a):
                numerators.append(self(a))
        chain = [a for a in e.args if not is_scalar(a)]
        if chain:
            product = self.chain(chain)
            # a 1×1 product of matrices is taken out of its array, as a scalar of its dtype (a
            # Python float would make NumPy's functions of it float64)
            numerators.append(Code(f"{product.at(ATOM)}[0, 0]", ATOM)
                              if e.shape == SCALAR else product)
        if len(numerators) == 1 and not denominators:
            return numerators[0]
        return quotient(numerators, denominators)

    def chain(self, chain: list) -> Code:
        """A matrix product, grouped to the left as @ is (codeform has nested it in its cheapest
        order): M𝟏 and 𝟏ᵀM are row and column sums, X⁻¹B is solve(X, B) and BX⁻¹ is
        solve(Xᵀ, Bᵀ)ᵀ, with the Cholesky factor of an spd X two triangular solves; with X⁻¹
        computed already (named), a product with it."""
        if len(chain) == 1:
            return self(chain[0])
        *rest, last = chain
        left = product(rest)
        solve = _solve(left, last)
        if solve is not None and _solved_inverse(left, last) not in self.names:
            matrix, column, transposed = solve
            factor = self.factor(matrix)
            text = f"_cho_solve({factor}, {self(column).text})" if factor else \
                f"np.linalg.solve({self(matrix).text}, {self(column).text})"
            return Code(text + ".T" if transposed else text, ATOM)
        if _ones_column(last):
            return Code(f"{self.at(left, ATOM)}.sum(axis=1, keepdims=True)", ATOM)
        if len(rest) == 1 and _ones_column(transpose_of(left)):
            return Code(f"{self.at(last, ATOM)}.sum(axis=0, keepdims=True)", ATOM)
        return Code(f"{self.chain(rest).at(MUL)} @ {self.at(last, NEG)}", MUL)

    def _Power(self, e):
        if is_scalar(e.arg):
            return self.power(e.arg, e.exp)
        if (factor := self.factor(e.arg)) is not None and e.exp < 0:
            inverse = Code(f"_cho_inv({factor})", ATOM)            # S⁻ᵏ = (S⁻¹)ᵏ
            return inverse if e.exp == -1 else \
                Code(f"np.linalg.matrix_power({inverse.text}, {int(-e.exp)})", ATOM)
        if e.exp == -1:
            return Code(f"np.linalg.inv({self(e.arg).text})", ATOM)
        return Code(f"np.linalg.matrix_power({self(e.arg).text}, {int(e.exp)})", ATOM)

    def _Kron(self, e):
        a, b = e.args
        if is_scalar(a) or is_scalar(b):
            return quotient([self(a), self(b)], [])
        return Code(f"np.kron({self(a).text}, {self(b).text})", ATOM)

    # -- structure ------------------------------------------------------------------------------
    def _Transpose(self, e):
        return self(e.arg) if is_scalar(e.arg) else Code(f"{self.at(e.arg, ATOM)}.T", ATOM)

    def _Diag(self, e):
        return self.call("np.diagflat({})", e)

    def _DiagOf(self, e):
        return self.call("np.diag({}).reshape(-1, 1)", e)

    def _Vec(self, e):
        if e.arg.cols == 1:
            return self(e.arg)
        return Code(f'{self.at(e.arg, ATOM)}.reshape(-1, 1, order="F")', ATOM)

    def _Unvec(self, e):
        if is_scalar(e):
            return self(e.arg)
        return Code(f'{self.at(e.arg, ATOM)}.reshape({self.shape(e)}, order="F")', ATOM)

    def call(self, template: str, e: Expr, on_scalar: str = "{}") -> Code:
        """template around e's argument; a scalar argument (a 1×1 matrix) takes on_scalar."""
        if is_scalar(e.arg):
            return self(e.arg) if on_scalar == "{}" else \
                Code(on_scalar.format(self(e.arg).text), ATOM)
        return Code(template.format(self(e.arg).text), ATOM)

    # -- reductions -----------------------------------------------------------------------------
    def _Trace(self, e):
        return self.call("np.trace({})", e)

    # det S = ∏ᵢ Lᵢᵢ², log det S = 2 Σᵢ log Lᵢᵢ for S = LLᵀ
    def _Det(self, e):
        if (factor := self.factor(e.arg)) is not None:
            return Code(f"np.prod(np.diagonal({factor})) ** 2.0", POW)
        return self.call("np.linalg.det({})", e)

    def _LogDet(self, e):
        if (factor := self.factor(e.arg)) is not None:
            return Code(f"2.0 * np.log(np.diagonal({factor})).sum()", MUL)
        return self.call("np.linalg.slogdet({})[1]", e, "np.log(np.abs({}))")

    def _Norm(self, e):
        if e.kind == "1":
            return self.call("np.abs({}).sum()", e, "np.abs({})")
        return self.call("np.linalg.norm({})", e, "np.abs({})")

    def _Sum(self, e):
        return self.call("np.sum({})", e)

    def _Spectral(self, e):
        return Code(SPECTRAL[e.kind].format(self(e.arg).text), ATOM)

    def _MatFunc(self, e):
        return Code(f"_{e.name}({self(e.arg).text})", ATOM)

    def _Frechet(self, e):
        a, direction = (self(x).text for x in e.args)
        return Code(f"_{e.name}_frechet({a}, {direction})", ATOM)

    def _KronFrechet(self, e):
        return Code(f"_{e.name}_kron({self(e.arg).text})", ATOM)

    def _Frechet2(self, e):
        return Code(f"_{e.name}_frechet2({', '.join(self(x).text for x in e.args)})", ATOM)

    def _KronFrechet2(self, e):
        return Code(f"_{e.name}_kron2({', '.join(self(x).text for x in e.args)})", ATOM)

    _SpectralFactor = _Spectral

    def _Mean(self, e):
        return self._along("{}.mean({})", e)

    def _Variance(self, e):
        if is_scalar(e.arg):
            return Code("0.0", ATOM)
        return self._along("{}.var({})", e)

    def _LogSumExp(self, e):
        return self._along("_logsumexp({}{})", e)

    def _Softmax(self, e):
        if is_scalar(e.arg):
            return Code("1.0", ATOM)
        return self._along("_softmax({}{})", e)

    def _LogSoftmax(self, e):
        if is_scalar(e.arg):
            return Code("0.0", ATOM)
        return self._along("_logsoftmax({}{})", e)

    def _along(self, template: str, e: Expr) -> Code:
        """An operation along an axis: a 1×1 result is a 0-d value (over every entry)."""
        if is_scalar(e.arg):
            return self(e.arg)
        method = template.startswith("{}.")
        arg = self.at(e.arg, ATOM) if method else self(e.arg).text
        if is_scalar(e):
            axis = ""
        else:
            axis = f"axis={e.axis - 1}, keepdims=True" if method else f", {e.axis - 1}"
        return Code(template.format(arg, axis), ATOM)


def quotient(numerators: list, denominators: list) -> Code:
    """n₁ * n₂ * … / d₁ / … of Codes; each operand after the first binds tighter than * and /."""
    parts = [numerators[0].at(MUL)] + [n.at(NEG) for n in numerators[1:]] if numerators \
        else ["1.0"]
    return Code(" * ".join(parts) + "".join(" / " + d.at(NEG) for d in denominators), MUL)


def _is_reciprocal(e: Expr) -> bool:
    return isinstance(e, Power) and e.exp < 0


def _ones_column(e: Expr) -> bool:
    """Is e the ones vector 𝟏 (n×1, n ≠ 1)?"""
    return is_ones(e) and e.cols == 1 and e.rows != 1




def _factorised(exprs) -> list[Var]:
    """The spd variables whose determinant, inverse (or negative power) or solves the
    expressions take: each is factorised once, S = LLᵀ (Cholesky: half the arithmetic of LU,
    and a log determinant from the same factor)."""
    found: dict = {}
    for node in distinct_nodes(*exprs):
        negative_power = isinstance(node, Power) and node.exp < 0
        matrix = node.arg if isinstance(node, (Det, LogDet)) or negative_power else \
            inverse_arg(node)
        if matrix is not None and not is_scalar(matrix) and (v := spd_matrix(matrix)) is not None:
            found.setdefault(v, None)
    return list(found)


# --- whole functions --------------------------------------------------------------------------

def _shared_subtrees(exprs, inverses: set) -> list[Expr]:
    """Non-trivial subtrees that occur more than once, children before parents."""
    counts: Counter = Counter()
    for e in exprs:
        counts.update(occurrences(e))
    order = distinct_nodes(*exprs)      # in the order of first occurrence
    # names, their multiples, transposes (views; what they transpose is shared as often) and
    # inverses that are only applied as solves are not worth a temporary
    shared = [n for n in order if counts[n] > 1 and n.args and not _of_a_name(n)
              and not isinstance(n, (Broadcast, Transpose))
              and (inverse_arg(n) is None or n in inverses)]
    return sorted(shared, key=lambda n: _depth(n))


def _explicit_inverses(exprs) -> set:
    """The inverses X⁻¹ the expressions compute as matrices, not only apply as solves: named
    where they occur more than once, their solves become products with them (2n²k, where a
    solve would factorise X again)."""
    found: set = set()
    seen: set = set()

    def visit(node):
        if node in seen:
            return
        seen.add(node)
        chain = [a for a in node.args if not is_scalar(a)] if isinstance(node, MatMul) else []
        applied = _solved_inverse(*chain) if len(chain) == 2 and _solve(*chain) else None
        if isinstance(node, Power) and node.exp == -1 and not is_scalar(node):
            found.add(node)
        for a in node.args:
            if applied is not None and a in (applied, Transpose(applied)):
                visit(applied.arg)                  # applied as a solve: only X is computed
            else:
                visit(a)
    for e in exprs:
        visit(e)
    return found


def _solved_inverse(left: Expr, right: Expr) -> Expr | None:
    """The inverse X⁻¹ (a Power node) that the product left·right applies as a solve."""
    operand = left if inverse_arg(left) is not None else right
    if inverse_arg(operand) is None:
        return None
    return operand.arg if isinstance(operand, Transpose) else operand


def _of_a_name(e: Expr) -> bool:
    """Is e a leaf's multiple (−x, 2X)?"""
    return isinstance(e, MatMul) and len(e.args) == 2 and isinstance(e.args[0], Num) and \
        not e.args[1].args


def _depth(e: Expr) -> int:
    return 1 + max((_depth(a) for a in e.args), default=0)


def _shape_checks(params: list[Var], variables: dict, namer: Namer) -> tuple[list[str], dict]:
    """Lines that take each input in the code's representation, read each symbolic size off
    the first array that has it, and check every other array against it (a product of sizes,
    such as the length m·n of a vec, once its factors are read)."""
    lines, dims, products = [], {}, []
    for v in params:
        name = variables[v.name]
        rows, cols = v.shape
        if v.shape == SCALAR:
            continue                                    # see _function
        # a floating dtype stays (float32 in, float32 out), any other becomes float64
        if cols == 1:
            lines.append(f"{name} = _floats({name}).reshape(-1, 1)")
            axes = [(rows, f"{name}.shape[0]", f"the length of {name}")]
        else:
            lines.append(f"{name} = _floats({name})")
            lines.append(f"if {name}.ndim != 2:")
            lines.append(f"    raise ValueError(\"{name} must be a 2-D array\")")
            axes = [(rows, f"{name}.shape[0]", f"the rows of {name}"),
                    (cols, f"{name}.shape[1]", f"the columns of {name}")]
        for d, expr, label in axes:
            if isinstance(d, int):
                lines.append(f"if {expr} != {d}:")
                lines.append(f"    raise ValueError(f\"{label}: {{{expr}}}, expected {d}\")")
            elif "·" in d:
                products.append((d, expr, label))
            elif d in dims:
                first, first_label = dims[d]
                lines.append(f"if {expr} != {first}:")
                lines.append(f"    raise ValueError(f\"{label}: {{{expr}}}, but {first_label}: "
                             f"{{{first}}} (both are the size {py_name(d)})\")")
            else:
                dims[d] = (namer.claim(f"dim_{py_name(d)}"), label)
                lines.append(f"{dims[d][0]} = {expr}")
    while products:
        waiting = []
        for d, expr, label in products:
            factors = d.split("·")
            unknown = [p for p in factors if not (p.isdigit() or p in dims)]
            size = " * ".join(p if p.isdigit() else dims[p][0] for p in factors if p not in unknown)
            if not unknown:
                lines.append(f"if {expr} != {size}:")
                lines.append(f"    raise ValueError(f\"{label}: {{{expr}}}, expected {{{size}}}\")")
            elif len(unknown) == 1:
                # a product with one factor not read off an input fixes it: k = rows / n for
                # G of k·n rows
                k = unknown[0]
                spelt = " * ".join(p if p.isdigit() else py_name(p) for p in factors)
                dims[k] = (namer.claim(f"dim_{py_name(k)}"), f"{label} over {size}")
                lines.append(f"if {size} == 0 or {expr} % ({size}) != 0:")
                lines.append(f"    raise ValueError(f\"{label}: {{{expr}}}, expected a multiple "
                             f"of {{{size}}} (the size {spelt})\")")
                lines.append(f"{dims[k][0]} = {expr} // ({size})")
            else:
                waiting.append((d, expr, label))
        if len(waiting) == len(products):
            raise MatcalcError(f"the size {waiting[0][0]} is not fixed by the other inputs")
        products = waiting
    return lines, {d: v[0] for d, v in dims.items()}


def _function(name: str, doc: str, results: list, params: list[Var], definitions: dict,
              value: Expr | None = None, rows: int = 0) -> str:
    """One function: checks, definitions used, shared temporaries, the values returned (the value
    of f first, if given, then each result). ``results`` are pairs (expression, the variable
    whose shape it takes, or None: a 2-D matrix as is); with ``rows`` they are returned as that
    many tuples of equal length (the blocks of a Hessian, row by row)."""
    namer = Namer()
    variables = parameter_names([v.name for v in params], namer)
    results = [(machine_form(e), returns) for e, returns in results]
    value = value and machine_form(simplify(value))
    exprs = [e for e, _ in results] + ([value] if value is not None else [])
    used_defs = _needed_definitions(
        exprs, {n: machine_form(simplify(entrywise(e))) for n, e in definitions.items()})
    variables.update({n: namer.claim(py_name(n)) for n in used_defs})
    check_lines, dims = _shape_checks(params, variables, namer)
    for node in distinct_nodes(*exprs, *used_defs.values()):
        # every size a node has, or is (the count n in x/n), is read off an input
        for d in (*node.shape, *([node.dim] if isinstance(node, Size) else [])):
            for part in (d.split("·") if isinstance(d, str) else ()):
                if not part.isdigit() and part not in dims:
                    raise MatcalcError(f"the size {part} is not fixed by any input of {name}",
                                       hint=f"give {part} a number in the declarations")
    body = list(check_lines)
    arrays = [variables[v.name] for v in params if v.shape != SCALAR]
    dtype = namer.claim("dtype") if arrays else "float"
    if arrays:                    # the constants' dtype, a line kept only if one reads it
        body.append(f"{dtype} = np.result_type({', '.join(arrays)})")
    # a scalar input is a scalar of the arrays' dtype (float32 stays float32 through NumPy's
    # functions of it, which make a Python float float64)
    body += [f"{variables[v.name]} = " + (f"{dtype}.type(float({variables[v.name]}))" if arrays
                                          else f"float({variables[v.name]})")
             for v in params if v.shape == SCALAR]
    names: dict = {}
    factors = {v: namer.claim(f"{variables[v.name]}_chol")
               for v in _factorised(exprs + list(used_defs.values()))
               if v.name in variables and v.name not in used_defs}
    body += [f"{name} = np.linalg.cholesky({variables[v.name]})" for v, name in factors.items()]
    printer = NumpyPrinter(names, variables, dims, dtype, factors)
    # definitions, shared temporaries and stacked solves, each after everything it reads
    everything = exprs + list(used_defs.values())
    inverses = _explicit_inverses(everything)
    shared = _shared_subtrees(everything, inverses)
    stacks = _stacked_solves(everything, factors, set(shared))
    stacked = {node for nodes, _, _ in stacks for node in nodes}
    pending = [((Var(n, e.shape),), (e,), n) for n, e in used_defs.items()] + \
        [((node,), (node,), None) for node in shared if node not in stacked] + \
        [(nodes, (matrix, *columns), columns) for nodes, matrix, columns in stacks]
    temporaries = set(dims.values()) | {dtype}
    while pending:
        provider = {n: i for i, (provides, _, _) in enumerate(pending) for n in provides}
        i = next((i for i, (_, reads, _) in enumerate(pending)
                  if all(provider.get(n, i) == i for n in distinct_nodes(*reads))), None)
        if i is None:
            # stacked solves that read each other's results (A⁻¹A⁻ᵀ beside A⁻ᵀA⁻¹) wait for
            # each other: one stack is given up, its solves made where they are used
            pending.pop(next(i for i, (_, _, what) in enumerate(pending)
                             if isinstance(what, tuple)))
            continue
        provides, reads, what = pending.pop(i)
        if isinstance(what, str):                       # a definition
            body.append(f"{variables[what]} = {printer(reads[0]).text}")
        elif what is None:                              # a shared temporary
            text = printer(reads[0]).text
            names[reads[0]] = namer.fresh("t")
            temporaries.add(names[reads[0]])
            body.append(f"{names[reads[0]]} = {text}")
        else:
            body.append(_stacked_solve(printer, namer, provides, reads[0], what))
            temporaries.add(body[-1].split(" = ")[0])
    returned = [_returned(e, printer(e), returns, dtype) for e, returns in results]
    if rows:
        width = len(returned) // rows
        returned = [f"({', '.join(returned[k:k + width])})"
                    for k in range(0, len(returned), width)]
    if value is not None:
        value_name = namer.claim("value")
        body.append(f"{value_name} = {_as_float(printer(value))}")
        returned.insert(0, value_name)
    body.append(f"return {', '.join(returned)}")
    # a size or temporary that nothing reads needs no line (a temporary can be swallowed by a
    # larger shared one)
    body = _without_unused(body, temporaries)
    signature = ", ".join(variables[v.name] for v in params)
    return "\n".join([f"def {name}({signature}):", f'    """{_docstring(doc)}"""']
                      + ["    " + line for line in body])


def _returned(e: Expr, out: Code, returns: Var | None, dtype: str) -> str:
    """A result as the function returns it: in the shape of the variable ``returns`` (a vector
    1-D, a scalar a float), or a 2-D matrix (None: a Jacobian or Hessian); a new array."""
    if returns is None:
        return f"np.full((1, 1), {out.text}, {dtype})" if is_scalar(e) else _fresh(e, out).text
    if returns.shape == SCALAR:
        return _as_float(out)
    if returns.cols == 1:
        return f"{_fresh(e, out).at(ATOM)}.ravel()"
    return _fresh(e, out).text


def _solve(left: Expr, right: Expr):
    """(A, B, transposed) when left·right is a solve: X⁻¹B = solve(X, B), BX⁻¹ = solve(Xᵀ, Bᵀ)ᵀ;
    else None."""
    inverse = inverse_arg(left)
    if inverse is not None:
        return inverse, right, False
    inverse = inverse_arg(right)
    if inverse is not None:
        return transpose_of(inverse), transpose_of(left), True
    return None


def _stacked_solves(exprs, factors: dict, named: set) -> list:
    """The solves with one matrix and several right-hand sides, as (the solve nodes, the
    matrix, the right-hand sides): one factorisation, X⁻¹[B₁ B₂] = [X⁻¹B₁ X⁻¹B₂] (a matrix
    with a Cholesky factor shares it instead; a named inverse is multiplied)."""
    by_matrix: dict = {}
    for node in distinct_nodes(*exprs):
        chain = [a for a in node.args if not is_scalar(a)] if isinstance(node, MatMul) else []
        if len(chain) == 2 and len(node.args) == 2 and (solve := _solve(*chain)) is not None:
            matrix, column, _ = solve
            if spd_matrix(matrix) in factors or _solved_inverse(*chain) in named:
                continue
            nodes, columns = by_matrix.setdefault(matrix, ({}, {}))
            nodes.setdefault(node, None)
            columns.setdefault(column, None)
    # a right-hand side that is itself solved with the matrix (X⁻¹X⁻¹b) waits for that solve
    return [(tuple(nodes), matrix, tuple(columns))
            for matrix, (nodes, columns) in by_matrix.items() if len(columns) > 1
            and not any(n in nodes for n in distinct_nodes(*columns))]


def _stacked_solve(printer: NumpyPrinter, namer: Namer, nodes, matrix: Expr, columns) -> str:
    """The line of one stacked solve; each solve node is named as its columns of the result."""
    name = namer.fresh("t")
    offsets, start = {}, "0"
    for column in columns:
        width = printer.dim(column.cols).text
        end = str(int(start) + int(width)) if start.isdigit() and width.isdigit() else \
            (width if start == "0" else f"{start} + {width}")
        offsets[column] = (start, end)
        start = end
    for node in nodes:
        _, column, transposed = _solve(*node.args)
        start, end = offsets[column]
        printer.names[node] = f"{name}[:, {start}:{end}]" + (".T" if transposed else "")
    stack = ", ".join(printer(c).text for c in columns)
    return f"{name} = np.linalg.solve({printer(matrix).text}, np.hstack(({stack})))"


def _as_float(code: Code) -> str:
    """A 0-d value as a Python float (a number literal is one already)."""
    try:
        float(code.text)
        return code.text
    except ValueError:
        return f"float({code.text})"


def _fresh(e: Expr, code: Code) -> Code:
    """The value as a new array the caller may keep: a view of an input, or a read-only
    broadcast or diagonal, is copied."""
    return Code(f"{code.at(ATOM)}.copy()", ATOM) if _may_be_a_view(e) else code


def _may_be_a_view(e: Expr) -> bool:
    if isinstance(e, Broadcast):
        return not is_scalar(e.arg)                     # a scalar's is a new np.full
    if isinstance(e, (Var, DiagOf)):
        return True
    return isinstance(e, (Transpose, Vec, Unvec)) and _may_be_a_view(e.arg)


def _docstring(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _without_unused(body: list[str], temporaries: set) -> list[str]:
    """The body without the lines of temporaries that no other line reads, and then of those
    that only such lines read. Lines are counted per name read (a search of every line for
    each line was quadratic in the lines)."""
    words = [set(re.findall(r"\w+", line)) for line in body]
    readers = Counter(w for ws in words for w in ws)     # lines that mention each word
    lines_of: dict = {}
    for i, line in enumerate(body):
        lines_of.setdefault(line.split(" = ")[0], []).append(i)
    kept = [True] * len(body)
    todo = list(range(len(body)))
    while todo:
        i = todo.pop()
        name = body[i].split(" = ")[0]
        if kept[i] and name in temporaries and readers[name] == (name in words[i]):
            kept[i] = False
            for w in words[i]:
                readers[w] -= 1
                todo += lines_of.get(w, [])
    return [line for line, keep in zip(body, kept) if keep]


def _needed_definitions(exprs, definitions: dict) -> dict:
    """The definitions the expressions mention (and the ones those mention), in order."""
    needed: set = set()
    todo = [n.name for n in distinct_nodes(*exprs) if isinstance(n, Var)]
    while todo:
        name = todo.pop()
        if name in definitions and name not in needed:
            needed.add(name)
            todo.extend(n.name for n in distinct_nodes(definitions[name]) if isinstance(n, Var))
    return {n: e for n, e in definitions.items() if n in needed}


def generate(result, with_value: bool = False) -> str:
    """The NumPy snippet for a Result: per derivative, grad_<x>; or jac_<x> and vjp_<x>;
    or hess_<x> and hvp_<x>; and for several gradients also grads, which returns them all."""
    functions = []
    for d in result.derivatives:
        definitions, params = _inputs(result, [d])
        x, f = py_name(d.wrt.name), d.fname
        where = f"∂{f}/∂{d.wrt.name}"
        if d.kind == "gradient":
            functions.append(_function(
                f"grad_{x}", f"{where} by matcalc" + (" (returns f too)" if with_value else ""),
                [(d.expr, d.wrt)], params, definitions, d.function if with_value else None))
        elif d.kind == "jacobian":
            functions.append(_function(
                f"jac_{x}", f"∂vec({f})/∂vec({d.wrt.name}) by matcalc (column-major vec)",
                [(d.expr, None)], params, definitions))
            functions.append(_function(
                f"vjp_{x}", f"{d.map_var.name} ↦ ∂({d.map_var.name} : {f})/∂{d.wrt.name} "
                "by matcalc (backpropagation, no Jacobian formed)",
                [(d.map_expr, d.wrt)], params + [d.map_var], definitions))
        elif not d.block:
            functions.append(_function(
                f"hess_{x}", f"∂vec(∇{f})/∂vec({d.wrt.name}) by matcalc (column-major vec)",
                [(d.expr, None)], params, definitions))
            functions.append(_function(
                f"hvp_{x}", f"{d.map_var.name} ↦ d(∇{f})[{d.map_var.name}] by matcalc "
                "(Hessian-vector product)", [(d.map_expr, d.wrt)], params + [d.map_var],
                definitions))
    rows = [d for d in result.derivatives if d.block]
    if rows:
        functions += _block_hessian_functions(result, rows)
    gradients = [d for d in result.derivatives if d.kind == "gradient"]
    if len(gradients) > 1 and not any(d.wrt.name in dict(result.program.definitions)
                                      for d in gradients):
        # one backward pass: every gradient from one set of shared temporaries
        definitions, params = _inputs(result, gradients)
        symbols = ", ".join(d.symbol for d in gradients)
        functions.append(_function(
            "grads", f"({symbols}) by matcalc, in one pass"
            + (" (returns f first)" if with_value else ""),
            [(d.expr, d.wrt) for d in gradients], params, definitions,
            gradients[0].function if with_value else None))
    code = "\n\n\n".join(functions)
    header = "import numpy as np\n\n\n"
    used = {name for name in HELPERS if name + "(" in code}
    while more := {name for name in HELPERS for other in used
                   if name + "(" in HELPERS[other]} - used:       # the helpers' helpers
        used |= more
    for name, source in HELPERS.items():
        if name in used:
            header += source + "\n\n"
    return header + code + "\n"


def _block_hessian_functions(result, rows: list) -> list[str]:
    """hess, the blocks ∂²f/∂vec(X)∂vec(Y)ᵀ as a tuple of rows (as jax.hessian gives them for a
    tuple of arguments), and hvp, d(∂f/∂X)[V₁, V₂, …] for every X, one direction per variable."""
    definitions, params = _inputs(result, rows)
    f, names = rows[0].fname, ", ".join(d.wrt.name for d in rows)
    directions = ", ".join(v.name for v in rows[0].directions)
    return [
        _function("hess", f"the Hessian of {f} in v = ({names}) by matcalc: [i][j] is the block "
                  f"∂vec(∂{f}/∂vᵢ)/∂vec(vⱼ) (column-major vec)",
                  [(block, None) for d in rows for _, block in d.blocks], params, definitions,
                  rows=len(rows)),
        _function("hvp", f"({directions}) ↦ the Hessian of {f} in v = ({names}) applied to them "
                  f"by matcalc: [i] is d(∂{f}/∂vᵢ)[{directions}], in the shape of vᵢ",
                  [(d.map_expr, d.wrt) for d in rows], params + list(rows[0].directions),
                  definitions)]


def _inputs(result, derivatives: list) -> tuple[dict, list]:
    """The definitions in force and the parameters of a function computing the derivatives:
    the free variables in order of first appearance, then the variables differentiated."""
    definitions = dict(derivatives[0].definitions)
    if result.program.result_name and result.program.result_name not in definitions:
        definitions[result.program.result_name] = derivatives[0].function
    params = [v for v in result.program.variables if v.name not in definitions]
    for d in derivatives:
        if d.wrt not in params:
            params.append(d.wrt)
    return definitions, params


# Helper functions, emitted only when the code calls them.
HELPERS = {
    "_floats": '''def _floats(a):
    """a as an array of floating point: a floating dtype stays, any other becomes float64."""
    a = np.asarray(a)
    return a if a.dtype.kind == "f" else a.astype(float)
''',
    "_commutation": '''def _commutation(m, n, dtype):
    """The commutation matrix K: K @ A.reshape(-1, order="F") == A.T.reshape(-1, order="F")."""
    k = np.zeros((m * n, m * n), dtype)
    rows = np.arange(m * n)
    k[rows, (rows % n) * m + rows // n] = 1.0
    return k
''',
    "_polar": '''def _polar(a):
    """The orthogonal polar factor UVᵀ of the thin SVD a = UΣVᵀ."""
    u, _, vt = np.linalg.svd(a, full_matrices=False)
    return u @ vt
''',
    "_expm": '''def _expm(a):
    """The matrix exponential: scaling and squaring with the [13/13] Padé approximant
    (Higham 2005, Algorithm 2.3)."""
    b = (64764752532480000.0, 32382376266240000.0, 7771770303897600.0, 1187353796428800.0,
         129060195264000.0, 10559470521600.0, 670442572800.0, 33522128640.0, 1323241920.0,
         40840800.0, 960960.0, 16380.0, 182.0, 1.0)
    norm = np.abs(a).sum(axis=0).max(initial=0.0)
    s = max(0, int(np.ceil(np.log2(norm / 5.371920351148152)))) if norm > 0 else 0
    a = a / 2.0 ** s
    i = np.eye(a.shape[0], dtype=a.dtype)
    a2 = a @ a
    a4 = a2 @ a2
    a6 = a4 @ a2
    u = a @ (a6 @ (b[13] * a6 + b[11] * a4 + b[9] * a2) + b[7] * a6 + b[5] * a4 + b[3] * a2
             + b[1] * i)
    v = a6 @ (b[12] * a6 + b[10] * a4 + b[8] * a2) + b[6] * a6 + b[4] * a4 + b[2] * a2 + b[0] * i
    r = np.linalg.solve(v - u, v + u)
    for _ in range(s):
        r = r @ r
    return r
''',
    "_expm_frechet": '''def _expm_frechet(a, e):
    """L_exp(a, e): the upper right block of expm([[a, c e], [0, a]]) over c, for c e of a's
    norm (a far larger e would set the squarings, whose rounding swamps the block)."""
    n = a.shape[0]
    size = np.abs(e).sum(axis=0).max(initial=0.0)
    if size == 0:
        return np.zeros_like(e)
    c = max(np.abs(a).sum(axis=0).max(initial=0.0), 1.0) / size
    return _expm(np.block([[a, c * e], [np.zeros_like(a), a]]))[:n, n:] / c
''',
    "_expm_kron": '''def _expm_kron(a):
    """K_exp(a), with vec(L_exp(a, e)) = K_exp(a) vec(e): the upper right block of
    expm([[a.T (x) I, I], [0, I (x) a]]) (Van Loan), the integral of expm((1 - s) a.T) (x)
    expm(s a) over s in [0, 1]."""
    n = a.shape[0]
    i, big = np.eye(n, dtype=a.dtype), np.eye(n * n, dtype=a.dtype)
    block = np.block([[np.kron(a.T, i), big], [np.zeros_like(big), np.kron(i, a)]])
    return _expm(block)[:n * n, n * n:]
''',
    "_logm_kron": '''def _logm_kron(a):
    """K_log(a) = K_exp(logm(a))^-1, since L_exp(logm(a), L_log(a, e)) = e."""
    return np.linalg.inv(_expm_kron(_logm(a)))
''',
    "_expm_frechet2": '''def _expm_frechet2(a, e, f):
    """L_exp(a, e, f), the second Frechet derivative: the upper right block of
    L_exp([[a, c e], [0, a]], [[f, 0], [0, f]]) over c, for c e of a's norm."""
    n = a.shape[0]
    size = np.abs(e).sum(axis=0).max(initial=0.0)
    if size == 0:
        return np.zeros_like(e)
    c = max(np.abs(a).sum(axis=0).max(initial=0.0), 1.0) / size
    z = np.zeros_like(a)
    return _expm_frechet(np.block([[a, c * e], [z, a]]), np.block([[f, z], [z, f]]))[:n, n:] / c
''',
    "_logm_frechet2": '''def _logm_frechet2(a, e, f):
    """L_log(a, e, f) = -L_log(a, L_exp(logm(a), L_log(a, e), L_log(a, f))), from
    L_exp(logm(a), L_log(a, e)) = e differentiated along f."""
    inner = _expm_frechet2(_logm(a), _logm_frechet(a, e), _logm_frechet(a, f))
    return -_logm_frechet(a, inner)
''',
    "_expm_kron2": '''def _expm_kron2(a, e):
    """K_exp(a, e), with vec(L_exp(a, e, f)) = K_exp(a, e) vec(f): column k is
    L_exp(a, e, f_k) for the k-th unit direction f_k (column-major)."""
    n = a.shape[0]
    basis = np.eye(n * n, dtype=a.dtype)
    return np.stack([_expm_frechet2(a, e, basis[:, k].reshape((n, n), order="F"))
                     .reshape(-1, order="F") for k in range(n * n)], axis=1)
''',
    "_logm_kron2": '''def _logm_kron2(a, e):
    """K_log(a, e), with vec(L_log(a, e, f)) = K_log(a, e) vec(f), column by column."""
    n = a.shape[0]
    basis = np.eye(n * n, dtype=a.dtype)
    return np.stack([_logm_frechet2(a, e, basis[:, k].reshape((n, n), order="F"))
                     .reshape(-1, order="F") for k in range(n * n)], axis=1)
''',
    "_eig": '''def _eig(a):
    """(w, v, v^-1) with a = v diag(w) v^-1; for a symmetric a (to rounding) by eigh, whose
    eigenvectors are orthonormal also where eigenvalues nearly meet (eig's are nearly dependent
    there, and v^-1 amplifies rounding)."""
    if np.allclose(a, a.T, rtol=1e-12, atol=0):
        w, v = np.linalg.eigh(a)
        return w.astype(complex), v, v.T
    w, v = np.linalg.eig(a)
    return w.astype(complex), v, np.linalg.inv(v)
''',
    "_logm": '''def _logm(a):
    """The principal matrix logarithm, by the eigendecomposition of a diagonalizable a; NaN
    where a has an eigenvalue on the closed negative real axis (no real logarithm: the real
    part of the complex one, log|w| for w < 0, is another function)."""
    w, v, vi = _eig(a)
    if _off_domain(w):
        return np.full(a.shape, np.nan)
    return ((v * np.log(w)) @ vi).real.astype(a.dtype)
''',
    "_off_domain": '''def _off_domain(w):
    """Is an eigenvalue real and not positive (where the real logarithm has no value)?"""
    return bool(np.any((w.imag == 0) & (w.real <= 0)))
''',
    "_logm_frechet": '''def _logm_frechet(a, e):
    """L_log(a, e) by the Daleckii-Krein formula: v (d * (v^-1 e v)) v^-1 for a = v diag(w) v^-1,
    d the divided differences of log at the eigenvalues (1/w where they meet)."""
    w, v, vi = _eig(a)
    if _off_domain(w):
        return np.full(a.shape, np.nan)
    gap = w[:, None] - w[None, :]
    close = np.abs(gap) <= 1e-8 * np.abs(w)[:, None]
    d = np.where(close, 1 / w[:, None],
                 (np.log(w)[:, None] - np.log(w)[None, :]) / np.where(close, 1, gap))
    return (v @ (d * (vi @ e @ v)) @ vi).real.astype(a.dtype)
''',
    "_cho_solve": '''def _cho_solve(l, b):
    """S⁻¹b from the Cholesky factor l of S = llᵀ: l⁻ᵀ(l⁻¹b), two triangular solves."""
    return _tri_solve(l.T, _tri_solve(l, b, True), False)
''',
    "_tri_solve": '''def _tri_solve(t, b, lower):
    """t⁻¹b for a lower (or upper) triangular t, by halves: NumPy has no triangular solve, so
    np.linalg.solve (which factorises anew) solves only the diagonal blocks of 64 rows or fewer,
    the rest is products."""
    n = t.shape[0]
    if n <= 64:
        return np.linalg.solve(t, b)
    h = n // 2
    first, second = (slice(0, h), slice(h, n)) if lower else (slice(h, n), slice(0, h))
    x = np.empty(b.shape, np.result_type(t, b))
    x[first] = _tri_solve(t[first, first], b[first], lower)
    x[second] = _tri_solve(t[second, second], b[second] - t[second, first] @ x[first], lower)
    return x
''',
    "_cho_inv": '''def _cho_inv(l):
    """S⁻¹ = l⁻ᵀl⁻¹ from the Cholesky factor l of S = llᵀ."""
    return _lower_gram(_tri_inv(l))
''',
    "_lower_gram": '''def _lower_gram(l):
    """lᵀl for a lower triangular l, by halves: for l = [[a, 0], [c, d]] it is
    [[aᵀa + cᵀc, cᵀd], [dᵀc, dᵀd]] (a third of the arithmetic of a full product)."""
    n = l.shape[0]
    if n <= 64:
        return l.T @ l
    h = n // 2
    a, c, d = l[:h, :h], l[h:, :h], l[h:, h:]
    out = np.empty_like(l)
    out[:h, :h] = _lower_gram(a) + c.T @ c
    out[:h, h:] = c.T @ d
    out[h:, :h] = out[:h, h:].T
    out[h:, h:] = _lower_gram(d)
    return out
''',
    "_tri_inv": '''def _tri_inv(l):
    """The inverse of a lower triangular l, by halves: [[a, 0], [c, d]]⁻¹ is
    [[a⁻¹, 0], [−d⁻¹ca⁻¹, d⁻¹]]."""
    n = l.shape[0]
    if n <= 64:
        return np.linalg.inv(l)
    h = n // 2
    a, d = _tri_inv(l[:h, :h]), _tri_inv(l[h:, h:])
    out = np.zeros_like(l)
    out[:h, :h], out[h:, h:] = a, d
    out[h:, :h] = -d @ (l[h:, :h] @ a)
    return out
''',
    "_logsumexp": '''def _logsumexp(a, axis=None):
    """log(sum(exp(a))) along an axis (kept), or over every entry (a scalar), without overflow."""
    top = a.max(axis=axis, keepdims=True)
    out = top + np.log(np.exp(a - top).sum(axis=axis, keepdims=True))
    return out if axis is not None else out[0, 0]
''',
    "_softmax": '''def _softmax(a, axis=None):
    """exp(a) / sum(exp(a)) along an axis, or over every entry, without overflow."""
    e = np.exp(a - a.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)
''',
    "_logsoftmax": '''def _logsoftmax(a, axis=None):
    """a − logsumexp(a) along an axis, or over every entry."""
    return a - _logsumexp(a, axis)
''',
}
