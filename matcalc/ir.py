"""The expression tree (IR): small immutable, hashable nodes whose shapes are checked at
construction; equal trees are one object (``_Shared``).

Every node has ``args`` (its child expressions), ``params`` (everything else: names,
exponents, shapes) and ``shape`` = (rows, cols). Dimensions are ints or symbol names
(strings). A 1×1 node is a scalar. ``eval(repr(node)) == node`` holds for every node.

Conventions (see docs/conventions.md): vectors are columns (n×1); broadcasting is always
explicit in the tree (``Broadcast``); ``Power`` is the matrix power of a square matrix
(``Power(X, -1)`` is X⁻¹) and, on a scalar, the ordinary real power.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Union
from weakref import WeakValueDictionary

from .errors import UnsupportedError
from .memo import memoized

Dim = Union[int, str]
Shape = tuple  # (rows, cols), each a Dim

SCALAR: Shape = (1, 1)


class ShapeError(ValueError):
    """Two shapes that an operation needs to agree do not."""


def fmt_shape(shape: Shape) -> str:
    rows, cols = shape
    if shape == SCALAR:
        return "scalar"
    if cols == 1:
        return f"vector of length {rows}"
    return f"{rows}×{cols}"


@memoized(1 << 12)
def _repr(e: "Expr") -> str:
    # memoized: sums are ordered by their terms' reprs, and a nest asked at each level wrote
    # its inner trees again each time
    parts = [repr(a) for a in e.args]
    params = [_repr_param(p) for p in e.params]
    parts = parts + params if e.params_after_args else params + parts
    return f"{type(e).__name__}({', '.join(parts)})"


def is_scalar(e: "Expr") -> bool:
    return e.shape == SCALAR


class _Shared(type):
    """Equal trees are one object: a node built equal to a living one (of its type, with its
    params, over the same children) is that one. Children are shared already, so by induction
    two living trees are equal exactly when they are the same object, and equality and hash
    are identity's (object's, computed by nothing in Python): the derivations' many rebuilt
    copies of a tree cost no deep comparison (trees built apart from the same definitions share
    their subtrees, W₂ = W₁ ∘ W₁, and compared child by child took time exponential in their
    depth)."""

    def __call__(cls, *values):
        if not cls.param_names:
            # a node without params that exists is found before it is built again (its
            # children, alive in it, are the only objects with their ids)
            node = _NODES.get((cls, (), tuple(map(id, values))))
            if node is not None:
                return node
        node = super().__call__(*values)
        return _NODES.setdefault((cls, node.params, tuple(map(id, node.args))), node)


# the living nodes by type, params and children (a child is alive while its parent is)
_NODES: WeakValueDictionary = WeakValueDictionary()


class Expr(metaclass=_Shared):
    """Base class. Subclasses set ``arity`` (number of children, or None for n-ary) and
    ``param_names``; their constructors take the params first, then the children."""

    __slots__ = ("args", "params", "shape", "__weakref__")
    arity: int | None = 1
    param_names: tuple = ()
    params_after_args = False  # for repr/constructor order of e.g. Power(X, -1)

    def __init__(self, *values):
        n_params = len(self.param_names)
        if self.params_after_args:
            args, params = values[: len(values) - n_params], values[len(values) - n_params:]
        else:
            params, args = values[:n_params], values[n_params:]
        params = tuple(_normalize_param(p) for p in params)
        if self.arity is not None and len(args) != self.arity:
            raise TypeError(f"{type(self).__name__} takes {self.arity} argument(s)")
        if self.arity is None and len(args) < 2:
            raise TypeError(f"{type(self).__name__} needs at least two arguments")
        for a in args:
            if not isinstance(a, Expr):
                raise TypeError(f"{type(self).__name__}: {a!r} is not an expression")
        object.__setattr__(self, "args", tuple(args))
        object.__setattr__(self, "params", params)
        object.__setattr__(self, "shape", self._shape())

    def __setattr__(self, key, value):
        raise AttributeError("expression nodes are immutable")

    def __repr__(self):
        return _repr(self)

    def with_args(self, args) -> "Expr":
        """The same node over new children."""
        args = tuple(args)
        if args == self.args:
            return self
        if self.params_after_args:
            return type(self)(*args, *self.params)
        return type(self)(*self.params, *args)

    def _shape(self) -> Shape:
        return self.args[0].shape

    @property
    def arg(self) -> "Expr":
        return self.args[0]

    @property
    def rows(self) -> Dim:
        return self.shape[0]

    @property
    def cols(self) -> Dim:
        return self.shape[1]


def _normalize_param(p):
    if isinstance(p, float):
        return Fraction(p)
    if isinstance(p, list):
        return tuple(p)
    return p


def _repr_param(p) -> str:
    if isinstance(p, Fraction):
        return f"Fraction({str(p)!r})"
    return repr(p)


def _require_square(e: Expr, what: str) -> None:
    if e.rows != e.cols:
        raise ShapeError(f"{what} needs a square matrix, got {fmt_shape(e.shape)}")


# --- leaves -----------------------------------------------------------------------------

class Var(Expr):
    """A named variable: Var('X', ('n', 'm')). ``structure`` is "" or what a declaration
    promises: "symmetric" (X = Xᵀ), "spd" (symmetric positive definite), "diagonal",
    "orthogonal" (orthonormal columns, XᵀX = I, and XXᵀ = I when square), "onehot" (0/1
    entries, each row sums to 1) or "stochastic" (nonnegative entries, each row — or a vector's
    entries — summing to 1)."""

    arity = 0
    param_names = ("name", "shape", "structure")

    def __init__(self, name: str, shape: Shape, structure: str = ""):
        if structure not in STRUCTURES:
            raise ValueError(f"unknown structure {structure!r}")
        if structure in SQUARE_STRUCTURES and shape[0] != shape[1]:
            raise ShapeError(f"{name} is declared {structure} but is {fmt_shape(shape)}")
        if structure == "orthogonal" and all(isinstance(d, int) for d in shape) \
                and shape[0] < shape[1]:
            raise ShapeError(f"{name} is declared orthogonal (orthonormal columns) but has fewer "
                             f"rows than columns: {fmt_shape(shape)}")
        super().__init__(name, tuple(shape), structure)

    def __repr__(self):
        extra = f", {self.structure!r}" if self.structure else ""
        return f"Var({self.name!r}, {self.params[1]!r}{extra})"

    def _shape(self):
        return self.params[1]

    @property
    def name(self) -> str:
        return self.params[0]

    @property
    def structure(self) -> str:
        return self.params[2]

    @property
    def symmetric(self) -> bool:
        """X = Xᵀ: declared symmetric, SPD or diagonal."""
        return self.params[2] in SQUARE_STRUCTURES

    @property
    def onehot(self) -> bool:
        return self.params[2] == "onehot"

    @property
    def rows_sum_to_one(self) -> bool:
        """X𝟏 = 𝟏 (one-hot or stochastic rows); for a vector, 𝟏ᵀx = 1."""
        return self.params[2] in ("onehot", "stochastic")


STRUCTURES = ("", "symmetric", "spd", "diagonal", "orthogonal", "onehot", "stochastic")
# The structures of square matrices, all symmetric.
SQUARE_STRUCTURES = ("symmetric", "spd", "diagonal")


class Num(Expr):
    """A number (exact rational): Num(Fraction('0.2'))."""

    arity = 0
    param_names = ("value",)

    def __init__(self, value):
        super().__init__(Fraction(value))

    def _shape(self):
        return SCALAR

    @property
    def value(self) -> Fraction:
        return self.params[0]


def as_float(value: Fraction) -> float:
    """A number in double precision, or a clear error past its range (about 1.8e308): exact
    arithmetic on the input's numbers reaches it (1e200 · 1e200)."""
    try:
        return float(value)
    except OverflowError:
        raise UnsupportedError(
            f"the number {float_text(value)} is past the range of double precision "
            "(about 1.8e308), so it has no floating-point value",
            hint="scale the expression (the gradient of c·f is c times that of f)") from None


def float_text(value: Fraction) -> str:
    """A number of any size in scientific notation, to three digits (2e400 → 2.00e+400)."""
    return f"{Decimal(value.numerator) / Decimal(value.denominator):.2e}"


class Identity(Expr):
    """The n×n identity matrix I."""

    arity = 0
    param_names = ("n",)

    def _shape(self):
        return (self.params[0], self.params[0])


class Ones(Expr):
    """The all-ones matrix of a shape; Ones(n, 1) is the ones vector 𝟏."""

    arity = 0
    param_names = ("rows", "cols")

    def _shape(self):
        return (self.params[0], self.params[1])


class Zero(Expr):
    """The zero matrix of a shape."""

    arity = 0
    param_names = ("rows", "cols")

    def _shape(self):
        return (self.params[0], self.params[1])


# --- algebra ----------------------------------------------------------------------------

class Add(Expr):
    """A + B + …, all of one shape."""

    arity = None

    def _shape(self):
        first = self.args[0].shape
        for a in self.args[1:]:
            if a.shape != first:
                raise ShapeError(f"cannot add {fmt_shape(first)} and {fmt_shape(a.shape)}")
        return first


class MatMul(Expr):
    """A product A B …; 1×1 factors are scalar multipliers (they commute)."""

    arity = None

    def _shape(self):
        chain = [a for a in self.args if a.shape != SCALAR]
        if not chain:
            return SCALAR
        for left, right in zip(chain, chain[1:]):
            if left.cols != right.rows:
                raise ShapeError(
                    f"cannot multiply {fmt_shape(left.shape)} by {fmt_shape(right.shape)}: "
                    f"{left.cols} columns against {right.rows} rows")
        return (chain[0].rows, chain[-1].cols)


class Hadamard(Expr):
    """A ∘ B ∘ …, entrywise product of equal shapes."""

    arity = None

    def _shape(self):
        first = self.args[0].shape
        for a in self.args[1:]:
            if a.shape != first:
                raise ShapeError(
                    f"∘ needs equal shapes, got {fmt_shape(first)} and {fmt_shape(a.shape)}")
        return first


class HadPow(Expr):
    """Entrywise power X^∘k; A ⊘ B is A ∘ B^∘(-1)."""

    param_names = ("exp",)
    params_after_args = True

    @property
    def exp(self) -> Fraction:
        return self.params[0]


class Power(Expr):
    """Matrix power X^k of a square matrix (integer k; k = -1 is the inverse), or the real
    power s^p of a scalar."""

    param_names = ("exp",)
    params_after_args = True

    def _shape(self):
        base = self.args[0]
        if base.shape != SCALAR:
            if self.params[0].denominator != 1:
                raise ShapeError("a matrix power needs an integer exponent")
            _require_square(base, "the inverse" if self.params[0] == -1 else "a matrix power")
        return base.shape

    @property
    def exp(self) -> Fraction:
        return self.params[0]


class Kron(Expr):
    """Kronecker product A ⊗ B."""

    arity = 2

    def _shape(self):
        a, b = self.args
        return (dim_mul(a.rows, b.rows), dim_mul(a.cols, b.cols))


@memoized(1 << 12)
def dim_mul(a: Dim, b: Dim) -> Dim:
    """The product of two sizes; a symbolic product is written with its factors sorted, 'm·n'
    (memoized: a chain of Kronecker products asks for each partial product at every reading)."""
    number, symbols = 1, []
    for d in (a, b):
        for part in (d.split("·") if isinstance(d, str) else [d]):
            if isinstance(part, int) or part.isdigit():
                number *= int(part)
            else:
                symbols.append(part)
    if not symbols:
        return number
    return "·".join(([str(number)] if number != 1 else []) + sorted(symbols))


def count(d: Dim) -> "Expr":
    """A size as a scalar expression: the number, or Size(n) (m·n as the product of two)."""
    if isinstance(d, int):
        return Num(d)
    return product(Num(int(p)) if p.isdigit() else Size(p) for p in d.split("·"))


def dim_value(d: Dim, sizes: dict) -> int:
    """A size as a number, given numbers for the symbols ('n·m' is their product)."""
    if isinstance(d, int):
        return d
    value = 1
    for part in d.split("·"):
        value *= int(part) if part.isdigit() else sizes[part]
    return value


class Transpose(Expr):
    """Aᵀ."""

    def _shape(self):
        return (self.args[0].cols, self.args[0].rows)


class Func(Expr):
    """An elementwise function f(A) — see FUNCTIONS for the names."""

    param_names = ("name",)

    def __init__(self, name: str, arg: Expr):
        if name not in FUNCTIONS:
            raise ValueError(f"unknown elementwise function {name!r}")
        super().__init__(name, arg)

    @property
    def name(self) -> str:
        return self.params[0]


# Elementwise functions of the language, by internal name.
FUNCTIONS = ("exp", "log", "sin", "cos", "tan", "tanh", "sqrt", "abs", "sign",
             "sigmoid", "relu", "softplus", "heaviside")


class UserFunc(Expr):
    """f(A) for a function the input defines, f(x) := body: the scalar body (over the scalar
    Var ``param``) applied to every entry of A."""

    param_names = ("name", "param", "body")

    @property
    def name(self) -> str:
        return self.params[0]

    @property
    def param(self) -> "Var":
        return Var(self.params[1], SCALAR)

    @property
    def body(self) -> "Expr":
        return self.params[2]

    def entrywise(self) -> "Expr":
        """The body with the parameter replaced by the argument, scalar operations turned
        into entrywise ones (products into ∘, powers into ^∘): what f(A) computes."""
        return _entrywise(self.body, self.param, self.arg)


def _entrywise(e: "Expr", x: "Var", a: "Expr") -> "Expr":
    if e == x:
        return a
    if a.shape == SCALAR:
        return substitute(e, {x: a})
    if not any(n == x for n in walk(e)):
        return Broadcast(e, *a.shape)       # a constant part of the body
    parts = [_entrywise(p, x, a) for p in e.args]
    if isinstance(e, MatMul):
        return Hadamard(*parts)
    if isinstance(e, Power):
        return HadPow(parts[0], e.exp)
    return e.with_args(parts)              # Add, Func, UserFunc


class Trace(Expr):
    """tr(A) of a square matrix."""

    def _shape(self):
        _require_square(self.args[0], "tr")
        return SCALAR


class Det(Expr):
    """det(A) of a square matrix."""

    def _shape(self):
        _require_square(self.args[0], "det")
        return SCALAR


class LogDet(Expr):
    """log|det A| of a square matrix (log det A when det A > 0)."""

    def _shape(self):
        _require_square(self.args[0], "logdet")
        return SCALAR


class Norm(Expr):
    """Entrywise norm: kind 'F' is the Frobenius (vector 2-) norm, '1' the 1-norm."""

    param_names = ("kind",)
    params_after_args = True

    def _shape(self):
        return SCALAR

    @property
    def kind(self) -> str:
        return self.params[0]


class Spectral(Expr):
    """A spectral function of a matrix, a scalar: kind "lmax"/"lmin" the largest/smallest
    eigenvalue λ_max(A), λ_min(A) of a symmetric A; "norm2" the spectral norm ‖A‖₂ (its
    largest singular value); "nuclear" the nuclear norm ‖A‖_* (the sum of its singular
    values)."""

    param_names = ("kind",)
    params_after_args = True

    def __init__(self, arg: Expr, kind: str):
        if kind not in SPECTRAL:
            raise ValueError(f"unknown spectral function {kind!r}")
        super().__init__(arg, kind)

    def _shape(self):
        if self.kind in ("lmax", "lmin"):
            _require_square(self.arg, "an eigenvalue")
        return SCALAR

    @property
    def kind(self) -> str:
        return self.params[0]

    @property
    def requires_symmetric(self) -> bool:
        """Is the argument required to be symmetric (real eigenvalues)?"""
        return self.kind in ("lmax", "lmin")


SPECTRAL = ("lmax", "lmin", "norm2", "nuclear")


class SpectralFactor(Expr):
    """A factor of an eigen- or singular value decomposition that the derivatives of the
    spectral functions are made of: "qmax"/"qmin" the unit eigenvector of λ_max(A)/λ_min(A) of a
    symmetric A (n×1); "umax"/"vmax" the left/right singular vectors of the largest singular
    value (m×1, n×1, of matching signs); "polar" the orthogonal polar factor UVᵀ of the thin
    SVD A = UΣVᵀ (m×n)."""

    param_names = ("kind",)
    params_after_args = True

    def __init__(self, arg: Expr, kind: str):
        if kind not in SPECTRAL_FACTORS:
            raise ValueError(f"unknown spectral factor {kind!r}")
        super().__init__(arg, kind)

    def _shape(self):
        a = self.arg
        if self.kind in ("qmax", "qmin"):
            _require_square(a, "an eigenvector")
            return (a.rows, 1)
        return {"umax": (a.rows, 1), "vmax": (a.cols, 1), "polar": a.shape}[self.kind]

    @property
    def kind(self) -> str:
        return self.params[0]

    @property
    def requires_symmetric(self) -> bool:
        return self.kind in ("qmax", "qmin")


SPECTRAL_FACTORS = ("qmax", "qmin", "umax", "vmax", "polar")


class MatFunc(Expr):
    """A matrix function of a square matrix (not entrywise): "expm" the matrix exponential
    Σ Aᵏ/k!, "logm" the principal matrix logarithm (of a matrix with no eigenvalue on the
    closed negative real axis)."""

    param_names = ("name",)

    def __init__(self, name: str, arg: Expr):
        if name not in MATRIX_FUNCTIONS:
            raise ValueError(f"unknown matrix function {name!r}")
        super().__init__(name, arg)

    def _shape(self):
        _require_square(self.arg, self.params[0])
        return self.arg.shape

    @property
    def name(self) -> str:
        return self.params[0]


MATRIX_FUNCTIONS = ("expm", "logm")


class _FrechetForm(Expr):
    """A derivative of the matrix function f (``name``, one of MATRIX_FUNCTIONS) at the square
    matrix A, the first argument; the other arguments are directions of A's shape."""

    param_names = ("name",)
    symbol = "L"

    def __init__(self, name: str, a: Expr, *directions: Expr):
        if name not in MATRIX_FUNCTIONS:
            raise ValueError(f"unknown matrix function {name!r}")
        super().__init__(name, a, *directions)

    @property
    def name(self) -> str:
        return self.params[0]

    def _check_args(self) -> None:
        a, *directions = self.args
        what = f"{self.symbol}_{self.name[:-1]}"
        _require_square(a, what)
        if any(e.shape != a.shape for e in directions):
            raise ShapeError(f"{what}({', '.join(('A', *'EF'[:len(directions)]))}) needs "
                             f"directions of A's shape, got "
                             + ", ".join(fmt_shape(e.shape) for e in self.args))


class Frechet(_FrechetForm):
    """L_f(A, E): the Fréchet derivative of the matrix function f at A in the direction E,
    f(A + E) = f(A) + L_f(A, E) + o(‖E‖); linear in E. d f(A) = L_f(A, dA)."""

    arity = 2

    def _shape(self):
        self._check_args()
        return self.args[0].shape


class Frechet2(_FrechetForm):
    """L_f(A, E, F): the second Fréchet derivative of the matrix function f at A in the
    directions E and F, L_f(A + F, E) = L_f(A, E) + L_f(A, E, F) + o(‖F‖); bilinear and
    symmetric in E and F [Higham and Relton 2014]. d L_f(A, E) = L_f(A, E, dA) + L_f(A, dE)."""

    arity = 3

    def _shape(self):
        self._check_args()
        return self.args[0].shape


class KronFrechet(_FrechetForm):
    """K_f(A): the Kronecker form of the Fréchet derivative of the matrix function f at A, the
    n²×n² matrix with vec(L_f(A, E)) = K_f(A) vec(E) [Higham, Functions of Matrices, (3.17)].
    K_exp(A) = ∫₀¹ exp(sAᵀ) ⊗ exp((1 − s)A) ds, the upper right block of
    exp([[Aᵀ ⊗ I, I], [0, I ⊗ A]]) [Van Loan 1978]; K_log(A) = K_exp(log A)⁻¹."""

    symbol = "K"

    def _shape(self):
        self._check_args()
        size = dim_mul(self.arg.rows, self.arg.cols)
        return (size, size)


class KronFrechet2(_FrechetForm):
    """K_f(A, E): the Kronecker form of the second Fréchet derivative in its last direction,
    vec(L_f(A, E, F)) = K_f(A, E) vec(F)."""

    arity = 2
    symbol = "K"

    def _shape(self):
        self._check_args()
        a = self.args[0]
        size = dim_mul(a.rows, a.cols)
        return (size, size)


def is_symmetric(e: Expr, definitions: dict | None = None) -> bool:
    """Is e symmetric by its form: does eᵀ, with the transpose moved onto the leaves, read as e
    ((AB)ᵀ = BᵀAᵀ, (A + B)ᵀ = Aᵀ + Bᵀ, (A ∘ B)ᵀ = Aᵀ ∘ Bᵀ, (A ⊗ B)ᵀ = Aᵀ ⊗ Bᵀ, f(A)ᵀ = f(Aᵀ) for an
    entrywise or matrix function, (Aᵏ)ᵀ = (Aᵀ)ᵏ), a symmetric variable, I, Diag(v), 𝟏𝟏ᵀ and
    scalars being their own transposes, a defined name read as its definition? So XᵀX, XᵀSX,
    X⁻¹X⁻ᵀ, A + Aᵀ, tyᵀ + ytᵀ, (μV)ᵀ(μV), x̄X̂ for X̂ = x̄ᵀ are; False where the form does not
    show it."""
    if e.rows != e.cols:
        return False
    if e.shape == SCALAR:
        return True
    if not definitions:
        return _symmetric_by_form(e)
    memo: dict = {}
    return _transpose_normal(Transpose(e), definitions, memo) == \
        _transpose_normal(e, definitions, memo)


@memoized(1 << 12)
def _symmetric_by_form(e: Expr) -> bool:
    """is_symmetric without definitions, asked once per tree (the code's chain ordering asks it
    of the matrix a solve applies at each split it tries: cubic in a long chain inverted)."""
    return normal_form(Transpose(e)) == normal_form(e)


@memoized(1 << 14)
def normal_form(e: Expr) -> Expr:
    """e with its transposes on the leaves and the terms of its sums in one order: two
    spellings of one matrix, (A + B)ᵀ and Bᵀ + Aᵀ, have one normal form (its parts' found
    once for every tree they are in: asked of each of a deep nest's levels, each normalized
    the levels below it again)."""
    return _normal(e, {}, {})


def _transpose_normal(e: Expr, definitions: dict, memo: dict) -> Expr:
    """e with every transpose moved onto the leaves (a symmetric leaf's dropped), the defined
    names replaced by their definitions, products and sums flat, the terms of sums and Hadamard
    products sorted: equal forms compare equal (``memo``: the forms found, each once)."""
    if e not in memo:
        memo[e] = _normal(e, definitions, memo)
    return memo[e]


@memoized(1 << 14)
def _has_power(e: Expr) -> bool:
    return isinstance(e, Power) or any(_has_power(a) for a in e.args)


def _normal(e: Expr, definitions: dict, memo: dict) -> Expr:
    def normal(a: Expr) -> Expr:
        return _transpose_normal(a, definitions, memo) if definitions else normal_form(a)

    if isinstance(e, Var) and e.name in definitions:
        return normal(definitions[e.name])
    if isinstance(e, Power) and e.arg.shape != SCALAR and e.exp.denominator == 1 and \
            1 < e.exp <= 8 and not _has_power(e.arg):
        # A² as AA: (A²)ᵀ = AᵀAᵀ (not a power of powers: ((X²)²)² … would double at each)
        return normal(MatMul(*[e.arg] * int(e.exp)))
    if isinstance(e, Transpose):
        a = e.arg
        if a.shape == SCALAR or isinstance(a, (Identity, Diag)):
            return normal(a)
        if isinstance(a, Transpose):
            return normal(a.arg)
        if isinstance(a, Var) and a.name in definitions:
            return normal(Transpose(definitions[a.name]))
        if isinstance(a, Var) and a.symmetric:
            return a
        if isinstance(a, (Zero, Ones)):
            return type(a)(a.cols, a.rows)
        if isinstance(a, Broadcast):
            return normal(Broadcast(Transpose(a.args[0]), a.cols, a.rows))
        if isinstance(a, MatMul):
            return normal(MatMul(*(f if f.shape == SCALAR else Transpose(f)
                                   for f in reversed(a.args))))
        if isinstance(a, (Add, Hadamard, Kron, Power, HadPow, Func, UserFunc, MatFunc)):
            return normal(a.with_args([Transpose(f) for f in a.args]))
        return Transpose(normal(a))
    if not e.args:
        return e
    args = [normal(a) for a in e.args]
    if isinstance(e, (Add, MatMul, Hadamard)):         # flat (a 1×1 product is one factor)
        args = [f for a in args for f in (a.args if type(a) is type(e) and not (
            isinstance(a, MatMul) and a.shape == SCALAR) else (a,))]
    if isinstance(e, Hadamard):
        # (cA) ∘ B = c(A ∘ B): a scalar factor of an operand scales the product, wherever it
        # is written (2(P ∘ Q) prints as 2P ∘ Q)
        def scaled(a: Expr) -> bool:
            return isinstance(a, MatMul) and a.shape != SCALAR
        scalars = [f for a in args if scaled(a) for f in a.args if f.shape == SCALAR]
        if scalars:
            rest = [product([f for f in a.args if f.shape != SCALAR]) if scaled(a) else a
                    for a in args]
            return normal(MatMul(*scalars, Hadamard(*rest)))
    # in any order: by hash (identity's), as the form is only compared, never printed (a
    # term's text is as long as its tree, which sharing makes exponential in the DAG: sorted
    # by it, ((((X²A)²A)²A)…)'s adjoints ran out of memory)
    if isinstance(e, (Add, Hadamard)):
        args.sort(key=hash)
    if isinstance(e, MatMul):
        # a stretched row or column among other factors is 𝟏r or c𝟏ᵀ, as it is written in
        # them: (c𝟏ᵀ)ᵀc𝟏ᵀ is 𝟏cᵀc𝟏ᵀ whichever way it is read
        args = [f for a in args for f in (_stretched(a) if isinstance(a, Broadcast) else (a,))]
    if isinstance(e, MatMul):                          # scalars first, in any order
        args.sort(key=lambda f: (f.shape != SCALAR, hash(f) if f.shape == SCALAR else 0))
        scalars = [f for f in args if f.shape == SCALAR]
        chain = args[len(scalars):]
        # 𝟏r and c𝟏ᵀ are the row r and the column c stretched: the broadcasts they print as
        if len(chain) == 2 and isinstance(chain[0], Ones) and chain[0].cols == 1:
            return normal(Broadcast(MatMul(*scalars, chain[1]) if scalars else chain[1],
                                    *e.shape))
        if len(chain) == 2 and isinstance(chain[1], Ones) and chain[1].rows == 1:
            return normal(Broadcast(MatMul(*scalars, chain[0]) if scalars else chain[0],
                                    *e.shape))
    if isinstance(e, (HadPow, Func, UserFunc)) and isinstance(args[0], Broadcast):
        # an entrywise function of a stretched row is the stretched function of the row
        inner = args[0]
        return Broadcast(e.with_args([inner.args[0], *args[1:]]), *inner.params)
    return e.with_args(args)


def _stretched(b: Expr) -> tuple:
    """The factors of a broadcast: 𝟏r for a row r, c𝟏ᵀ for a column c, s, 𝟏, 𝟏ᵀ for a scalar."""
    x, (rows, cols) = b.args[0], b.shape
    left = (Ones(rows, 1),) if x.rows == 1 and rows != 1 else ()
    right = (Ones(1, cols),) if x.cols == 1 and cols != 1 else ()
    return (*left, x, *right) if x.shape != SCALAR else (x, *left, *right)


class Sum(Expr):
    """sum(A): the sum of all entries, 𝟏ᵀA𝟏."""

    def _shape(self):
        return SCALAR


class Size(Expr):
    """The number of entries along a dimension, as a scalar: Size('n') is n (mean = sum/n)."""

    arity = 0
    param_names = ("dim",)

    def _shape(self):
        return SCALAR

    @property
    def dim(self) -> Dim:
        return self.params[0]


def reduced_shape(shape: Shape, axis: int) -> Shape:
    """MATLAB's axes: axis 1 reduces down the rows (an m×n input gives a 1×n row), axis 2
    along the columns (an m×1 column)."""
    if axis not in (1, 2):
        raise ShapeError(f"the axis must be 1 or 2, not {axis}")
    return (1, shape[1]) if axis == 1 else (shape[0], 1)


class _AxisOp(Expr):
    """An operation along axis 1 (down each column) or 2 (along each row)."""

    param_names = ("axis",)
    params_after_args = True

    @property
    def axis(self) -> int:
        return self.params[0]

    @property
    def implied(self) -> bool:
        """Is the axis the one the input language implies when it is left out (over a
        vector; softmax along the rows of a matrix)?"""
        rows, cols = self.arg.shape
        if cols == 1:
            return self.axis == 1
        if rows == 1 or isinstance(self, (Softmax, LogSoftmax)):
            return self.axis == 2
        return False

    @property
    def length(self) -> Dim:
        """How many entries each reduction sees."""
        return self.arg.rows if self.axis == 1 else self.arg.cols


class Mean(_AxisOp):
    """mean(A, axis): the mean of each column (axis 1, a row) or of each row (axis 2)."""

    def _shape(self):
        return reduced_shape(self.arg.shape, self.params[0])


class Variance(_AxisOp):
    """var(A, axis): the biased (1/N) variance of each column (axis 1) or row (axis 2)."""

    def _shape(self):
        return reduced_shape(self.arg.shape, self.params[0])


class LogSumExp(_AxisOp):
    """logsumexp(A, axis) = log(sum(exp(A), axis)), per column (axis 1) or per row (axis 2)."""

    def _shape(self):
        return reduced_shape(self.arg.shape, self.params[0])


class Softmax(_AxisOp):
    """softmax(A) = exp(A) ⊘ sum(exp(A), axis), normalized along each row (axis 2) or each
    column (axis 1, the softmax of a vector)."""

    def _shape(self):
        reduced_shape(self.arg.shape, self.params[0])
        return self.arg.shape


class LogSoftmax(_AxisOp):
    """logsoftmax(A) = A − logsumexp(A, axis), along each row (axis 2) or column (axis 1)."""

    def _shape(self):
        reduced_shape(self.arg.shape, self.params[0])
        return self.arg.shape


class Frob(Expr):
    """Frobenius product A : B = tr(AᵀB) of equal shapes."""

    arity = 2

    def _shape(self):
        a, b = self.args
        if a.shape != b.shape:
            raise ShapeError(
                f"A : B needs equal shapes, got {fmt_shape(a.shape)} and {fmt_shape(b.shape)}")
        return SCALAR


class Diag(Expr):
    """Diag(v): the diagonal matrix with the vector v on its diagonal."""

    def _shape(self):
        v = self.args[0]
        if v.cols != 1:
            raise ShapeError(f"Diag needs a column vector, got {fmt_shape(v.shape)}")
        return (v.rows, v.rows)


class DiagOf(Expr):
    """diag(A): the diagonal of a square matrix as a column vector."""

    def _shape(self):
        _require_square(self.args[0], "diag")
        return (self.args[0].rows, 1)


class Vec(Expr):
    """vec(A): the columns of A stacked into one column (column-major)."""

    def _shape(self):
        a = self.args[0]
        return (dim_mul(a.rows, a.cols), 1)


class Unvec(Expr):
    """vec⁻¹(v) into a rows×cols matrix (column-major), the inverse of vec."""

    param_names = ("rows", "cols")
    params_after_args = True

    def _shape(self):
        return (self.params[0], self.params[1])


class Broadcast(Expr):
    """A scalar, row or column stretched to a full rows×cols matrix, as NumPy broadcasts."""

    param_names = ("rows", "cols")
    params_after_args = True

    def _shape(self):
        a = self.args[0]
        rows, cols = self.params
        ok_rows = a.rows in (1, rows)
        ok_cols = a.cols in (1, cols)
        if not (ok_rows and ok_cols):
            raise ShapeError(f"cannot broadcast {fmt_shape(a.shape)} to {rows}×{cols}")
        return (rows, cols)


# --- helpers used by every stage ----------------------------------------------------------

def walk(e: Expr):
    """All nodes of e, parents before children (pre-order)."""
    yield e
    for a in e.args:
        yield from walk(a)


def distinct_nodes(*roots: Expr, children=lambda node: node.args) -> list[Expr]:
    """The nodes of the roots, each distinct subtree once, in the order walk meets them first
    (a tree that shares its subtrees, as an adjoint through many layers does, is walked in time
    linear in its distinct nodes, not in its paths); ``children`` may add to a node's args."""
    seen, out, todo = set(), [], list(reversed(roots))
    while todo:
        node = todo.pop()
        if node in seen:
            continue
        seen.add(node)
        out.append(node)
        todo.extend(reversed(children(node)))
    return out


def parents_first(root: Expr, children=lambda node: node.args) -> list[Expr]:
    """The distinct nodes of root, each after all of its parents (reverse post-order)."""
    seen, post = set(), []
    stack = [(root, False)]
    while stack:
        node, done = stack.pop()
        if done:
            post.append(node)
            continue
        if node in seen:
            continue
        seen.add(node)
        stack.append((node, True))
        for c in reversed(children(node)):
            if c not in seen:
                stack.append((c, False))
    return post[::-1]


def occurrences(root: Expr) -> dict[Expr, int]:
    """How often each subtree occurs in root, as walk would count it, in time linear in the
    distinct nodes: a node occurs as often as its parents do, times its place among their args."""
    count = {root: 1}
    for node in parents_first(root):
        for a in node.args:
            count[a] = count.get(a, 0) + count[node]
    return count


def free_vars(e: Expr) -> list[Var]:
    """The variables of e, in order of first appearance."""
    seen: dict[Var, None] = {}
    for node in walk(e):
        if isinstance(node, Var):
            seen.setdefault(node, None)
    return list(seen)


def depends_on(e: Expr, names: frozenset) -> bool:
    return any(isinstance(n, Var) and n.name in names for n in walk(e))


def product(factors) -> Expr:
    """The product of the factors: one factor is itself, none is the number 1."""
    factors = list(factors)
    if not factors:
        return Num(1)
    return factors[0] if len(factors) == 1 else MatMul(*factors)


def unbroadcast(g: Expr, shape: Shape) -> Expr:
    """G summed over the axes along which a ``shape`` was stretched to G's: the adjoint of
    broadcasting, G : a𝟏ᵀ = G𝟏 : a, G : 𝟏bᵀ = 𝟏ᵀG : bᵀ, G : s𝟏𝟏ᵀ = sum(G) s."""
    if shape == SCALAR:
        return Sum(g)
    if shape[0] == 1 and g.rows != 1:
        g = MatMul(Transpose(Ones(g.rows, 1)), g)
    if shape[1] == 1 and g.cols != 1:
        g = MatMul(g, Ones(g.cols, 1))
    return g


def substitute(e: Expr, mapping: dict) -> Expr:
    """Replace whole subtrees by the mapping (keys are nodes); a subtree shared across the tree
    is visited once."""
    memo = dict(mapping)

    def visit(x: Expr) -> Expr:
        if x not in memo:
            memo[x] = x.with_args(visit(a) for a in x.args) if x.args else x
        return memo[x]
    return visit(e)


class Commutation(Expr):
    """The commutation matrix K with vec(Aᵀ) = K vec(A) for an m×n matrix A (mn×mn)."""

    arity = 0
    param_names = ("m", "n")

    def _shape(self):
        size = dim_mul(self.params[0], self.params[1])
        return (size, size)


class D(Expr):
    """The differential dA of A: the placeholder of a linear expression in the derivation."""
