"""Random well-typed matcalc inputs, each with its own NumPy evaluation (no matcalc code).

A seeded generator builds a small typed tree over the whole input language (docs/language.md):
products, sums, scalar factors and divisions, ∘ ⊘ ^∘k ⊗, Frobenius products, transposes,
inverses, matrix powers, norms, |·|, tr, det, logdet, sums and means along axes, var, softmax,
log-softmax, log-sum-exp, max/min/clip, user-defined functions, Diag/diag, vec, the elementwise
functions, comparisons, λ_max/λ_min (of matrices symmetric by their form), ‖X‖₂, ‖X‖_*, expm and
logm, I, 𝟏, numbers, definitions and declarations (symmetric, spd, diagonal, orthogonal,
stochastic, one-hot, explicit shapes) and the broadcasts the input states; a Hessian may be asked
in two variables at once (a block Hessian). Every node prints itself in the three
dialects (Unicode, the ASCII of matrixcalculus.org, LaTeX) and evaluates itself with NumPy.

Inputs are drawn inside each function's domain: every subtree is generated for a domain —
"any", "pos" (entrywise positive: under log, √, ⊘, negative powers), "spd" (symmetric
positive definite: under det, logdet, inverses, logm) or "sym" (symmetric by its form: under
λ_max, λ_min) — and the variables it uses are drawn to match; a spectral function's gap (to the
next eigen- or singular value) is kept away from 0 like a kink.
Names collide on purpose with the generated code's own (t1, value, np, float, G, V …).

``case(seed)`` returns a ``Case``: the input in each dialect, the variable and the kind of
derivative to ask for, and ``evaluate(values)``. The checks are in tests/randcheck.py.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from matcalc.reader.vocabulary import FUNCTION_SPELLINGS

DIALECTS = ("unicode", "ascii", "latex")
KINDS = ("gradient", "jacobian", "hessian")
DIMS = ("n", "m", "k", "p")
MAX_VARIABLES = 6

# Binding strength of printed text (docs/language.md, "Precedence"): a child weaker than its
# place gets parentheses.
ATOM, POSTFIX, CALL, NEG, PROD, HAD, FROB, ADD = 9, 8, 7, 6, 5, 4, 3, 2


# --- shapes --------------------------------------------------------------------------------

def dim_mul(a, b):
    """The size a·b ('m·n'); numbers multiply."""
    if isinstance(a, int) and isinstance(b, int):
        return a * b
    if a == 1:
        return b
    if b == 1:
        return a
    return "·".join(sorted(str(a).split("·") + str(b).split("·")))


def dim_size(d, sizes: dict) -> int:
    if isinstance(d, int):
        return d
    out = 1
    for part in d.split("·"):
        out *= int(part) if part.isdigit() else sizes[part]
    return out


def is_plain(d) -> bool:
    """A size a declaration can state (not a product n·m)."""
    return d == 1 or "·" not in d


SCALAR = (1, 1)


# --- names ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Name:
    """A name in each dialect, and how matcalc spells it inside (its IR name) and in NumPy."""
    unicode: str
    ascii: str
    latex: str
    ir: str
    py: str

    def spell(self, dialect: str) -> str:
        return getattr(self, dialect)


def _n(u, a=None, tex=None, ir=None, py=None) -> Name:
    return Name(u, a or u, tex or u, ir or u, py or a or u)


SCALAR_NAMES = [_n("λ", "lam", r"\lambda"), _n("α", "alpha", r"\alpha"),
                _n("β", "beta", r"\beta"), _n("μ", "mu", r"\mu"), _n("ρ", "rho", r"\rho"),
                _n("τ", "tau", r"\tau"), _n("γ", "gamma", r"\gamma"),
                _n("value", tex=r"\mathrm{value}"), _n("float", tex=r"\mathrm{float}"),
                _n("ε", "eps", r"\varepsilon")]
VECTOR_NAMES = [_n("x"), _n("y"), _n("z"), _n("b"), _n("c"), _n("u"), _n("w"),
                _n("np", tex=r"\mathrm{np}"), _n("t1", tex="t_{1}", ir="t₁", py="t1"),
                Name("x̄", "x_bar", r"\bar{x}", "x̄", "x_bar"), _n("v₁", "v1", "v_{1}", py="v1")]
MATRIX_NAMES = [_n("X"), _n("A"), _n("B"), _n("W"), _n("C"), _n("G"), _n("V"), _n("Y"),
                _n("W₁", "W1", "W_{1}", py="W1"), _n("Σ", "Sigma", r"\Sigma"),
                _n("t2", tex="t_{2}", ir="t₂", py="t2"), Name("X̂", "X_hat", r"\hat{X}", "X̂", "X_hat"),
                _n("gradX", tex=r"\mathrm{gradX}"), _n("Λ", "Lambda", r"\Lambda"),
                _n("value", tex=r"\mathrm{value}"), _n("Z")]
RESULT_NAMES = [_n("ℓ", "ell", r"\ell"), _n("L"), _n("F"), _n("value", tex=r"\mathrm{value}"),
                _n("f"), _n("G"), _n("V"), _n("J")]
FUNCTION_NAMES = [_n("f"), _n("g"), _n("h"), _n("ψ", "psi", r"\psi"), _n("np",
                                                                         tex=r"\mathrm{np}")]


# --- printing ------------------------------------------------------------------------------

class Printer:
    """Prints trees in one dialect; spelling variants are drawn from ``rng``."""

    def __init__(self, dialect: str, rng: random.Random, names_in_use: set):
        self.d = dialect
        self.rng = rng
        self.in_use = names_in_use      # IR names of variables and definitions
        self.shown: dict = {}           # a node met twice (a + aᵀ) is spelled the same

    def show(self, node) -> tuple[str, int]:
        seen = self.shown.get(id(node))
        if seen is None or seen[0] is not node:
            seen = self.shown[id(node)] = (node, node.show(self))
        return seen[1]

    @property
    def u(self):
        return self.d == "unicode"

    @property
    def a(self):
        return self.d == "ascii"

    @property
    def tex(self):
        return self.d == "latex"

    def pick(self, *options):
        return self.rng.choice(options)

    def paren(self, text: str) -> str:
        if self.tex and self.rng.random() < 0.5:
            return rf"\left({text}\right)"
        return f"({text})"

    def wrap(self, node, need: int) -> str:
        """node's text, parenthesized when it binds looser than ``need`` or starts with a sign
        (a sign may only open an expression)."""
        text, prec = self.show(node)
        if prec < need or text[:1] in "−-":
            return self.paren(text)
        return text

    def whole(self, node) -> str:
        return self.show(node)[0]

    def call(self, name: str, inner: str) -> str:
        if self.tex and self.rng.random() < 0.6:
            return rf"{name}\left({inner}\right)"
        return f"{name}({inner})"

    def op(self, name: str) -> str:
        """A named function (tr, sum, softmax …) in this dialect."""
        if self.tex:
            return {"max": r"\max", "det": r"\det", "log": r"\log", "exp": r"\exp"}.get(
                name, rf"\operatorname{{{name}}}")
        return name

    def minus(self) -> str:
        return self.pick("−", "-") if self.u else "-"

    def juxtapose(self, left: str, right: str, matrices: bool) -> str:
        """left·right as a product, with a separator the dialect reads as one."""
        if self.a:
            if matrices and self.rng.random() < 0.1:
                return f"{left} @ {right}"
            return f"{left}*{right}"
        if self.tex:
            sep = self.pick(" ", r" \cdot ")
            return left + sep + right
        seps = ["·", " "] + (["*", " @ "] if matrices else ["*"])
        if _single_letter_end(left) and _juxtaposable_start(right):
            seps += ["", "", ""]
        if left[-1:] == ")" and right[:1] == "(":
            seps += ["", ""]
        if left[-1:].isdigit() and not right[:1].isdigit() and right[:1] != "." \
                and not _is_function_start(right):
            seps += [""]
        return left + self.rng.choice(seps) + right


def _single_letter_end(text: str) -> bool:
    """Does text end with a one-letter name, or a postfix operator or bracket after one?"""
    t = text.rstrip("ᵀ⁻¹²³")
    if t.endswith((")", "‖₂", "‖_F")):
        return False
    t = t.rstrip("₀₁₂₃₄₅₆₇₈₉")
    if not t:
        return False
    if t[-1] in "\u0302\u0303\u0304\u0307":
        t = t[:-1]
    return t[-1:].isalpha() and (len(t) == 1 or not t[-2].isalpha())


def _juxtaposable_start(text: str) -> bool:
    """Does text start with a one-letter name (or 𝟏, or a bracket)?"""
    if text[:1] in "(𝟏‖|√":
        return text[:1] != "|"
    if not text[:1].isalpha():
        return False
    word = ""
    for ch in text:
        if not ch.isalpha():
            break
        word += ch
    if len(word) == 1:
        return True
    return _is_function_start(text) and text[len(word):len(word) + 1] == "("


# The words the reader takes for functions (tr, Tr, trace, …): a name juxtaposed with one
# would be read as a longer name or another product.
FUNCTION_WORDS = frozenset(FUNCTION_SPELLINGS)


def _is_function_start(text: str) -> bool:
    word = ""
    for ch in text:
        if not ch.isalpha():
            break
        word += ch
    return word in FUNCTION_WORDS


# --- the tree ------------------------------------------------------------------------------

class Ev:
    """One evaluation: the values of the variables, a cache, and what the domain checks saw."""

    def __init__(self, values: dict, sizes: dict):
        self.values = values            # IR name → 2-D array (definitions may be overridden)
        self.sizes = sizes
        self.cache: dict = {}
        self.kinks: list = []           # arguments of relu/H/abs/max … (their signs must hold)
        self.positives: list = []       # arguments that must be positive
        self.largest = 0.0

    def __call__(self, node) -> np.ndarray:
        key = id(node)
        if key not in self.cache:
            out = node.val(self)
            # a value that is not finite (an overflowed expm is nan) makes the draw inadmissible;
            # max() would pass over a nan
            big = float(np.abs(out).max(initial=0.0))
            self.largest = max(self.largest, big) if np.isfinite(big) else np.inf
            self.cache[key] = out
        return self.cache[key]

    def kink(self, a: np.ndarray) -> np.ndarray:
        self.kinks.append(a)
        return a

    def positive(self, a: np.ndarray) -> np.ndarray:
        self.positives.append(a)
        return a


class Node:
    kids: tuple = ()
    shape: tuple = SCALAR

    def show(self, p: Printer) -> tuple[str, int]:
        raise NotImplementedError

    def val(self, ev: Ev) -> np.ndarray:
        raise NotImplementedError

    def rebuild(self, kids):
        """The same node over other children (for shrinking); None when not possible."""
        try:
            return type(self)(*kids, *self.extra())
        except (ValueError, AssertionError):
            return None

    def extra(self) -> tuple:
        return ()

    def walk(self):
        yield self
        for k in self.kids:
            yield from k.walk()

    @property
    def rows(self):
        return self.shape[0]

    @property
    def cols(self):
        return self.shape[1]


@dataclass(eq=False)
class Variable:
    name: Name
    shape: tuple
    domain: str = "any"          # the values drawn: any, pos, spd, onehot
    structure: str = ""          # what its declaration states (docs/language.md, Statements):
    #                              symmetric, spd, diagonal, orthogonal, stochastic, onehot

    @property
    def symmetric(self) -> bool:
        return self.structure in ("symmetric", "spd", "diagonal")


class Ref(Node):
    """A declared variable."""

    def __init__(self, var: Variable):
        self.var = var
        self.shape = var.shape

    def extra(self):
        return (self.var,)

    def rebuild(self, kids):
        return self

    def show(self, p):
        return self.var.name.spell(p.d), ATOM

    def val(self, ev):
        return ev.values[self.var.name.ir]


@dataclass(eq=False)
class Definition:
    name: Name
    node: Node
    # made where a matrix symmetric by its form is needed (under λ_max, λ_min): held as the
    # variable, it is a symmetric one (matcalc says so in a note)
    symmetric: bool = False


class DefRef(Node):
    """A defined name (W = …): its value is its definition's, unless held as a variable."""

    def __init__(self, definition: Definition):
        self.definition = definition
        self.shape = definition.node.shape

    def rebuild(self, kids):
        return self

    def show(self, p):
        return self.definition.name.spell(p.d), ATOM

    def val(self, ev):
        name = self.definition.name.ir
        if name in ev.values:
            return ev.values[name]
        return ev(self.definition.node)


class Param(Node):
    """The parameter of a user function's body (a scalar; evaluated entrywise)."""

    def __init__(self, name: Name):
        self.name = name

    def rebuild(self, kids):
        return self

    def show(self, p):
        return self.name.spell(p.d), ATOM

    def val(self, ev):
        return ev.values["<param>"]


class Num(Node):
    def __init__(self, value):
        self.value = Fraction(value)
        assert self.value > 0, "negative numbers are written with Neg"

    def extra(self):
        return (self.value,)

    def rebuild(self, kids):
        return self

    def show(self, p):
        v = self.value
        if v.denominator == 1:
            return str(v.numerator), ATOM
        if p.u and v in (Fraction(1, 2), Fraction(1, 4), Fraction(3, 4)) \
                and p.rng.random() < 0.5:
            return {Fraction(1, 2): "½", Fraction(1, 4): "¼", Fraction(3, 4): "¾"}[v], ATOM
        if p.tex and p.rng.random() < 0.5:
            return rf"\frac{{{v.numerator}}}{{{v.denominator}}}", ATOM
        text = f"{float(v):g}"
        if "e" in text or Fraction(text) != v:
            return p.paren(f"{v.numerator}/{v.denominator}"), ATOM
        return text, ATOM

    def val(self, ev):
        return np.array([[float(self.value)]])


class Identity(Node):
    def __init__(self, n):
        self.n = n
        self.shape = (n, n)

    def extra(self):
        return (self.n,)

    def rebuild(self, kids):
        return self

    def show(self, p):
        return (p.pick("eye", "I") if p.a else "I"), ATOM

    def val(self, ev):
        return np.eye(dim_size(self.n, ev.sizes))


class Ones(Node):
    """The ones vector 𝟏 (its length follows from where it stands)."""

    def __init__(self, n):
        self.n = n
        self.shape = (n, 1)

    def extra(self):
        return (self.n,)

    def rebuild(self, kids):
        return self

    def show(self, p):
        if p.a:
            return p.pick("vector(1)", "ones"), ATOM
        if p.tex:
            return r"\mathbf{1}", ATOM
        return "𝟏", ATOM

    def val(self, ev):
        return np.ones((dim_size(self.n, ev.sizes), 1))


# --- algebra -------------------------------------------------------------------------------

def _broadcast_shape(a, b) -> tuple:
    """The shape of a ± b: equal shapes, or a scalar, row or column stretched to the other."""
    if a.shape == b.shape:
        return a.shape
    if b.shape == SCALAR:
        return a.shape
    if a.shape == SCALAR:
        return b.shape
    big, small = (a, b) if a.shape[0] != 1 and a.shape[1] != 1 else (b, a)
    rows, cols = big.shape
    if small.shape in ((1, cols), (rows, 1)):
        return big.shape
    raise ValueError("no broadcast")


def _as_stated(node, other, value):
    """A column added to a matrix is a column when its length is the row count, else NumPy's
    1-D rule reads it as a row (docs/language.md, Broadcasting)."""
    if node.cols == 1 and node.rows != 1 and other.cols not in (1,) and other.rows != node.rows:
        return value.T
    return value


def _combine(a, b, va, vb, fn):
    return fn(_as_stated(a, b, va), _as_stated(b, a, vb))


class Add(Node):
    """a + b or a − b, broadcasting a scalar, a row or a column as the input states it."""

    def __init__(self, a, b, minus=False):
        self.kids = (a, b)
        self.minus = minus
        if a.cols == 1 and b.cols == 1 and a.rows != b.rows and SCALAR not in (a.shape, b.shape):
            raise ValueError("column beside column")
        self.shape = _stated_shape(a, b)

    def extra(self):
        return (self.minus,)

    def show(self, p):
        a, b = self.kids
        op = f" {p.minus()} " if self.minus else " + "
        return p.wrap(a, ADD) + op + p.wrap(b, ADD + 1), ADD

    def val(self, ev):
        a, b = self.kids
        sign = -1.0 if self.minus else 1.0
        return _combine(a, b, ev(a), ev(b), lambda x, y: x + sign * y)


def _stated_shape(a, b):
    """Like _broadcast_shape, with a column of another length than the rows read as a row."""
    try:
        return _broadcast_shape(a, b)
    except ValueError:
        pass
    for col, mat in ((a, b), (b, a)):
        if col.cols == 1 and col.rows != 1 and mat.rows != 1 and mat.cols == col.rows \
                and mat.rows != col.rows:
            return mat.shape
    raise ValueError(f"cannot combine {a.shape} and {b.shape}")


class Neg(Node):
    def __init__(self, a):
        self.kids = (a,)
        self.shape = a.shape

    def show(self, p):
        return p.minus() + p.wrap(self.kids[0], PROD), NEG

    def val(self, ev):
        return -ev(self.kids[0])


class MatMul(Node):
    """a·b: a matrix product, or a scalar factor times anything."""

    def __init__(self, a, b):
        self.kids = (a, b)
        if a.shape == SCALAR:
            self.shape = b.shape
        elif b.shape == SCALAR:
            self.shape = a.shape
        else:
            if a.cols != b.rows:
                raise ValueError("inner sizes differ")
            self.shape = (a.rows, b.cols)

    def show(self, p):
        a, b = self.kids
        left = p.wrap(a, PROD)
        right = p.wrap(b, CALL)
        if isinstance(b, (MatMul, Div)) or (p.u and right[:1].isdigit()):
            right = p.paren(p.whole(b))
        # a scalar factor after a matrix reads as a product too, but a number must come first
        if isinstance(a, Num) and a.value == 1:
            left = p.paren(left)
        matrices = a.shape != SCALAR and b.shape != SCALAR
        return p.juxtapose(left, right, matrices), PROD

    def val(self, ev):
        a, b = self.kids
        if a.shape == SCALAR or b.shape == SCALAR:
            return ev(a) * ev(b)
        return ev(a) @ ev(b)


class Div(Node):
    """a / s for a positive scalar s."""

    def __init__(self, a, s):
        assert s.shape == SCALAR
        self.kids = (a, s)
        self.shape = a.shape

    def show(self, p):
        a, s = self.kids
        if p.tex and p.rng.random() < 0.7:
            return rf"\frac{{{p.whole(a)}}}{{{p.whole(s)}}}", ATOM
        return p.wrap(a, PROD) + "/" + p.wrap(s, POSTFIX), PROD

    def val(self, ev):
        a, s = self.kids
        return ev(a) / ev.positive(ev(s))


class Hadamard(Node):
    """a ∘ b (or a ⊘ b with ``divide``), broadcasting as a sum does."""

    def __init__(self, a, b, divide=False):
        self.kids = (a, b)
        self.divide = divide
        self.shape = _stated_shape(a, b)
        if a.cols == 1 and b.cols == 1 and a.rows != b.rows and SCALAR not in (a.shape, b.shape):
            raise ValueError("column beside column")

    def extra(self):
        return (self.divide,)

    def show(self, p):
        a, b = self.kids
        if self.divide:
            op = {"unicode": " ⊘ ", "ascii": " ./ ", "latex": r" \oslash "}[p.d]
        else:
            op = {"unicode": p.pick(" ∘ ", " ⊙ "), "ascii": " .* ",
                  "latex": p.pick(r" \circ ", r" \odot ")}[p.d]
        return p.wrap(a, HAD) + op + p.wrap(b, HAD + 1), HAD

    def val(self, ev):
        a, b = self.kids
        if self.divide:
            return _combine(a, b, ev(a), ev.positive(ev(b)), lambda x, y: x / y)
        return _combine(a, b, ev(a), ev(b), lambda x, y: x * y)


class HadPow(Node):
    def __init__(self, a, k):
        self.kids = (a,)
        self.k = Fraction(k)
        self.shape = a.shape

    def extra(self):
        return (self.k,)

    def show(self, p):
        a = p.wrap(self.kids[0], POSTFIX + 1)
        k = self.k
        plain = k.denominator == 1 and k > 0
        if p.u:
            exp = str(k) if plain else f"({str(k).replace('-', p.minus())})"
            return f"{a}^∘{exp}", POSTFIX
        if p.a:
            return f"{a}.^{k if plain else f'({k})'}", POSTFIX
        exp = str(k) if k.denominator == 1 else rf"\frac{{{k.numerator}}}{{{k.denominator}}}"
        return rf"{_tex_base(a)}^{{\circ {exp}}}", POSTFIX

    def val(self, ev):
        x = ev(self.kids[0])
        if self.k < 0 or self.k.denominator != 1:
            ev.positive(x)
        return x ** float(self.k)


def _tex_base(text: str) -> str:
    """A LaTeX base that takes a superscript: a braced group when it has one already."""
    return "{" + text + "}" if "^" in text and not text.endswith(r"\right)") else text


class Kron(Node):
    def __init__(self, a, b):
        self.kids = (a, b)
        self.shape = (dim_mul(a.rows, b.rows), dim_mul(a.cols, b.cols))

    def show(self, p):
        a, b = self.kids
        if p.a:
            return f"kron({p.whole(a)}, {p.whole(b)})", ATOM
        op = " ⊗ " if p.u else r" \otimes "
        return p.wrap(a, HAD + 1) + op + p.wrap(b, HAD + 1), HAD

    def val(self, ev):
        return np.kron(ev(self.kids[0]), ev(self.kids[1]))


class Frob(Node):
    """A : B = Σ A_ij B_ij."""

    def __init__(self, a, b):
        if a.shape != b.shape:
            raise ValueError("Frobenius product of different shapes")
        self.kids = (a, b)

    def show(self, p):
        a, b = self.kids
        if p.a:
            return f"frob({p.whole(a)}, {p.whole(b)})", ATOM
        if p.rng.random() < 0.5:
            if p.u:
                return f"⟨{p.whole(a)}, {p.whole(b)}⟩", ATOM
            return rf"\langle {p.whole(a)}, {p.whole(b)} \rangle", ATOM
        return p.wrap(a, FROB + 1) + " : " + p.wrap(b, FROB + 1), FROB

    def val(self, ev):
        return np.array([[np.sum(ev(self.kids[0]) * ev(self.kids[1]))]])


class Transpose(Node):
    def __init__(self, a):
        self.kids = (a,)
        self.shape = (a.cols, a.rows)

    def show(self, p):
        a = p.wrap(self.kids[0], POSTFIX)
        if p.u:
            return a + p.pick("ᵀ", "ᵀ", "'", "⊤", "^T "), POSTFIX
        if p.a:
            return a + p.pick("'", ".'"), POSTFIX
        return _tex_base(a) + p.pick(r"^\top", "^{T}", r"^{\top}", "^T"), POSTFIX

    def val(self, ev):
        return ev(self.kids[0]).T


class Inverse(Node):
    """X⁻¹ (``transposed``: X⁻ᵀ) of a positive definite X."""

    def __init__(self, a, transposed=False):
        if a.rows != a.cols or a.shape == SCALAR:
            raise ValueError("inverse of a non-square matrix")
        self.kids = (a,)
        self.transposed = transposed
        self.shape = a.shape

    def extra(self):
        return (self.transposed,)

    def show(self, p):
        a = self.kids[0]
        if p.a:
            if self.transposed:
                return f"inv({p.whole(a)})'", POSTFIX
            return p.pick(f"inv({p.whole(a)})", f"{p.wrap(a, POSTFIX)}^-1"), POSTFIX
        base = p.wrap(a, POSTFIX)
        if p.u:
            return base + ("⁻ᵀ" if self.transposed else p.pick("⁻¹", "^-1", "^(-1)")), POSTFIX
        return _tex_base(base) + ("^{-T}" if self.transposed else "^{-1}"), POSTFIX

    def val(self, ev):
        x = ev(self.kids[0])
        out = np.linalg.inv(x)
        return out.T if self.transposed else out


class Power(Node):
    """X^k of a square matrix (k = 2, 3), or s^k of a scalar (k may be ½ or −1 for s > 0)."""

    def __init__(self, a, k):
        if a.rows != a.cols:
            raise ValueError("power of a non-square matrix")
        self.kids = (a,)
        self.k = Fraction(k)
        self.shape = a.shape

    def extra(self):
        return (self.k,)

    def show(self, p):
        a = p.wrap(self.kids[0], POSTFIX)
        k = self.k
        if p.u:
            if k in (2, 3) and p.rng.random() < 0.6:
                return a + {2: "²", 3: "³"}[int(k)], POSTFIX
            exp = str(k) if k.denominator == 1 and k > 0 else f"({k})"
            return f"{a}{p.pick('^', '**') if k > 0 else '^'}{exp}", POSTFIX
        if p.a:
            exp = str(k) if k.denominator == 1 and k > 0 else f"({k})"
            return f"{a}^{exp}", POSTFIX
        exp = str(k) if k.denominator == 1 else rf"\frac{{{k.numerator}}}{{{k.denominator}}}"
        return f"{_tex_base(a)}^{{{exp}}}", POSTFIX

    def val(self, ev):
        x = ev(self.kids[0])
        if self.shape == SCALAR:
            if self.k < 0 or self.k.denominator != 1:
                ev.positive(x)
            return x ** float(self.k)
        return np.linalg.matrix_power(x, int(self.k))


class Norm(Node):
    """‖A‖_F (kind 'F'; ‖x‖₂ of a vector) or the entrywise 1-norm (kind '1'), squared or not."""

    def __init__(self, a, kind="F", squared=False):
        if a.shape == SCALAR:
            raise ValueError("norm of a scalar")
        self.kids = (a,)
        self.kind = kind
        self.squared = squared

    def extra(self):
        return (self.kind, self.squared)

    def show(self, p):
        a = self.kids[0]
        vector = a.cols == 1
        if p.a:
            if self.kind == "1":
                text = p.pick(f"norm1({p.whole(a)})", f"norm({p.whole(a)},1)")
            else:
                text = p.pick(f"norm2({p.whole(a)})", f"norm({p.whole(a)})")
            return (text + "^2", POSTFIX) if self.squared else (text, ATOM)
        inner = p.whole(a)
        if "‖" in inner or "|" in inner:
            inner = p.paren(inner)
        if p.u:
            if self.kind == "1":
                sub = "₁"
            else:
                sub = p.pick("₂", "_2", "") if vector else p.pick("_F", "_F", "")
            text = f"‖{inner}‖{sub}"
            if self.squared:
                return text + p.pick("²", "^2"), POSTFIX
            return text, ATOM
        sub = "1" if self.kind == "1" else ("2" if vector else "F")
        opened, closed = p.pick((r"\|", r"\|"), (r"\left\| ", r" \right\|"),
                                (r"\lVert ", r"\rVert"))
        text = f"{opened}{inner}{closed}_{sub}" if sub in "12" else f"{opened}{inner}{closed}_F"
        if self.squared:
            return text + "^2", POSTFIX
        return text, ATOM

    def val(self, ev):
        a = ev(self.kids[0])
        if self.kind == "1":
            value = np.abs(ev.kink(a)).sum()
        else:
            value = np.sqrt((a * a).sum())
            ev.kink(np.array([value]))        # ‖A‖ has no derivative at A = 0
        return np.array([[value ** 2 if self.squared else value]])


class Abs(Node):
    def __init__(self, a):
        self.kids = (a,)
        self.shape = a.shape

    def show(self, p):
        inner = p.whole(self.kids[0])
        if p.a or "|" in inner or "‖" in inner:
            return p.call(p.op("abs") if not p.tex else r"\operatorname{abs}", inner), ATOM
        if p.u:
            return f"|{inner}|", ATOM
        return p.pick(rf"\left| {inner} \right|", rf"\lvert {inner} \rvert"), ATOM

    def val(self, ev):
        return np.abs(ev.kink(ev(self.kids[0])))


class Trace(Node):
    def __init__(self, a):
        if a.rows != a.cols:
            raise ValueError("trace of a non-square matrix")
        self.kids = (a,)

    def show(self, p):
        a = self.kids[0]
        if p.u and p.rng.random() < 0.2:
            return f"{p.pick('tr', 'Tr')} {p.wrap(a, ATOM)}", CALL
        if p.tex and p.rng.random() < 0.2:
            return rf"\mathrm{{Tr}}\,{p.wrap(a, ATOM)}", CALL
        name = p.pick("tr", "trace") if not p.tex else r"\operatorname{tr}"
        return p.call(name, p.whole(a)), ATOM

    def val(self, ev):
        return np.array([[np.trace(ev(self.kids[0]))]])


class Det(Node):
    """det(X) and log det(X) (``log``) of a positive definite X."""

    def __init__(self, a, log=False):
        if a.rows != a.cols or a.shape == SCALAR:
            raise ValueError("determinant of a non-square matrix")
        self.kids = (a,)
        self.log = log

    def extra(self):
        return (self.log,)

    def show(self, p):
        a = self.kids[0]
        inner = p.whole(a)
        if p.a:
            return p.call("logdet" if self.log else "det", inner), ATOM
        if p.u:
            if self.log:
                return p.pick(f"logdet({inner})", f"log det({inner})", f"log(det({inner}))",
                              f"log|det {p.wrap(a, ATOM)}|", f"logdet {p.wrap(a, ATOM)}"), ATOM
            return p.pick(f"det({inner})", f"det {p.wrap(a, ATOM)}"), ATOM
        if self.log:
            return p.pick(rf"\log\det {p.wrap(a, ATOM)}",
                          p.call(r"\log\det", inner)), ATOM
        return p.pick(rf"\det {p.wrap(a, ATOM)}", p.call(r"\det", inner)), ATOM

    def val(self, ev):
        x = ev(self.kids[0])
        sign, logdet = np.linalg.slogdet(x)
        if self.log:
            return np.array([[logdet]])
        return np.array([[sign * np.exp(logdet)]])


class Sum(Node):
    """sum(A) (axis None), or the column sums (axis 1, a row) or row sums (axis 2)."""

    def __init__(self, a, axis=None):
        self.kids = (a,)
        self.axis = axis
        if axis is None:
            self.shape = SCALAR
        else:
            if a.cols == 1 or a.rows == 1:
                raise ValueError("sum along an axis of a vector")
            self.shape = (1, a.cols) if axis == 1 else (a.rows, 1)

    def extra(self):
        return (self.axis,)

    def show(self, p):
        a = self.kids[0]
        ones = {"unicode": p.pick("𝟏", "1"), "ascii": "vector(1)",
                "latex": r"\mathbf{1}"}[p.d]
        t = {"unicode": "ᵀ", "ascii": "'", "latex": "^T"}[p.d]
        mul = "*" if p.a else ("" if p.u else " ")
        # a digit after a letter is its subscript (X1 = X₁): the number-spelled 1 stands apart
        after = " " if ones == "1" else mul
        inner = p.wrap(a, POSTFIX)
        if p.rng.random() < 0.3 and a.shape != SCALAR and not (p.u and ones == "1"
                                                                and inner[-1:].isdigit()):
            # 𝟏ᵀX𝟏 of a matrix, 𝟏ᵀx of a column, r𝟏 of a row
            if self.axis is None and a.cols != 1 and a.rows != 1:
                return f"{ones}{t}{mul}{inner}{after}{ones}", PROD
            if self.axis is None and a.rows == 1:
                return f"{inner}{after}{ones}", PROD
            if self.axis is None:
                return f"{ones}{t}{mul}{inner}", PROD
            if self.axis == 1:
                return f"{ones}{t}{mul}{inner}", PROD
            return f"{inner}{after}{ones}", PROD
        axis = "" if self.axis is None else f", {self.axis}"
        return p.call(p.op("sum"), p.whole(a) + axis), ATOM

    def val(self, ev):
        a = ev(self.kids[0])
        if self.axis is None:
            return np.array([[a.sum()]])
        return a.sum(axis=self.axis - 1, keepdims=True)


class AxisOp(Node):
    """mean, var, softmax, logsoftmax, logsumexp along an axis (MATLAB's: 1 down the rows)."""

    REDUCES = {"mean": True, "var": True, "logsumexp": True, "softmax": False,  # noqa: RUF012
               "logsoftmax": False}

    def __init__(self, a, op, axis):
        self.kids = (a,)
        self.op = op
        self.axis = axis
        vector = a.cols == 1 and a.rows != 1
        if a.shape == SCALAR:
            raise ValueError("axis operation of a scalar")
        if self.REDUCES[op]:
            if vector or (a.rows == 1):
                self.shape = SCALAR
                if axis is not None:
                    raise ValueError("axis of a vector")
            else:
                if axis is None:
                    raise ValueError("reduction of a matrix needs an axis")
                self.shape = (1, a.cols) if axis == 1 else (a.rows, 1)
        else:
            self.shape = a.shape

    def extra(self):
        return (self.op, self.axis)

    def show(self, p):
        a = self.kids[0]
        name = self.op
        if p.a and name == "logsoftmax" and p.rng.random() < 0.5:
            name = "log_softmax"
        axis = "" if self.axis is None else f", {self.axis}"
        return p.call(p.op(name), p.whole(a) + axis), ATOM

    def _axis(self):
        a = self.kids[0]
        if self.axis is not None:
            return self.axis - 1
        if a.cols == 1:
            return 0
        return 1           # softmax of a matrix or a row normalizes each row

    def val(self, ev):
        x = ev(self.kids[0])
        ax = self._axis()
        if self.op == "mean":
            out = x.mean(axis=ax, keepdims=True)
        elif self.op == "var":
            out = x.var(axis=ax, keepdims=True)
        else:
            top = x.max(axis=ax, keepdims=True)
            lse = top + np.log(np.exp(x - top).sum(axis=ax, keepdims=True))
            out = {"logsumexp": lse, "softmax": np.exp(x - lse), "logsoftmax": x - lse}[self.op]
        return out.reshape(self.shape) if self.shape == SCALAR else out


ELEMENTWISE = {
    "exp": np.exp, "log": np.log, "sin": np.sin, "cos": np.cos, "tanh": np.tanh,
    "sqrt": np.sqrt, "sigmoid": lambda x: 1.0 / (1.0 + np.exp(-x)),
    "relu": lambda x: np.maximum(x, 0.0), "softplus": lambda x: np.log1p(np.exp(x)),
    "heaviside": lambda x: (x > 0).astype(float), "sign": np.sign,
}
KINKED = ("relu", "heaviside", "sign")


class Elem(Node):
    """An elementwise function of the language."""

    def __init__(self, name, a):
        self.kids = (a,)
        self.name = name
        self.shape = a.shape

    def extra(self):
        return (self.name,)

    def rebuild(self, kids):
        return Elem(self.name, *kids)

    def show(self, p):
        a = self.kids[0]
        inner = p.whole(a)
        name = self.name
        if name == "sqrt":
            if p.tex:
                return rf"\sqrt{{{inner}}}", ATOM
            if p.u and p.rng.random() < 0.5:
                return f"√({inner})", ATOM
            return f"sqrt({inner})", ATOM
        if name == "sigmoid":
            shadowed = "σ" in p.in_use
            if p.u:
                name = "sigmoid" if shadowed else p.pick("σ", "sigmoid")
            elif p.a:
                name = p.pick("sigmoid", "sigma") if not shadowed else "sigmoid"
            else:
                name = r"\operatorname{sigmoid}" if shadowed else p.pick(r"\sigma",
                                                                          r"\operatorname{sigmoid}")
            return p.call(name, inner), ATOM
        if name == "heaviside":
            shadowed = "H" in p.in_use
            if p.tex:
                name = r"\operatorname{heaviside}" if shadowed else p.pick(
                    r"\operatorname{H}", r"\operatorname{step}")
            else:
                name = p.pick("heaviside", "step") if shadowed or p.a else p.pick("H", "step")
            return p.call(name, inner), ATOM
        if name == "relu" and p.rng.random() < 0.3:
            return p.call(p.op("max"), f"0, {inner}"), ATOM
        if name == "log" and p.u and p.rng.random() < 0.2:
            name = "ln"
        if name == "sign" and not p.tex:
            name = p.pick("sign", "sgn")
        if p.tex:
            name = {"exp": r"\exp", "log": r"\log", "sin": r"\sin", "cos": r"\cos",
                    "tanh": r"\tanh"}.get(name, rf"\operatorname{{{name}}}")
        return p.call(name, inner), ATOM

    def val(self, ev):
        x = ev(self.kids[0])
        if self.name in ("log", "sqrt"):
            ev.positive(x)
        if self.name in KINKED:
            ev.kink(x)
        return ELEMENTWISE[self.name](x)


class MaxMin(Node):
    """max(a, b) or min(a, b) (broadcasting a number or a vector as a sum does)."""

    def __init__(self, a, b, op="max"):
        self.kids = (a, b)
        self.op = op
        self.shape = _stated_shape(a, b)

    def extra(self):
        return (self.op,)

    def show(self, p):
        a, b = self.kids
        return p.call(p.op(self.op), f"{p.whole(a)}, {p.whole(b)}"), ATOM

    def val(self, ev):
        a, b = self.kids
        fn = np.maximum if self.op == "max" else np.minimum
        va, vb = _as_stated(a, b, ev(a)), _as_stated(b, a, ev(b))
        ev.kink(va - vb)
        return fn(va, vb)


class Clip(Node):
    def __init__(self, a, lo, hi):
        assert lo < hi
        self.kids = (a,)
        self.lo, self.hi = Fraction(lo), Fraction(hi)
        self.shape = a.shape

    def extra(self):
        return (self.lo, self.hi)

    def show(self, p):
        return p.call(p.op("clip"), f"{p.whole(self.kids[0])}, {_num(self.lo, p)}, "
                                    f"{_num(self.hi, p)}"), ATOM

    def val(self, ev):
        x = ev(self.kids[0])
        ev.kink(x - float(self.lo))
        ev.kink(x - float(self.hi))
        return np.clip(x, float(self.lo), float(self.hi))


def _num(v: Fraction, p) -> str:
    text = Num(abs(v)).show(p)[0] if v != 0 else "0"
    return ("-" if v < 0 else "") + text


class Compare(Node):
    """(a > b) etc.: the 0/1 indicator, b a number, a scalar or of a's shape."""

    def __init__(self, a, b, op=">"):
        self.kids = (a, b)
        self.op = op
        self.shape = _stated_shape(a, b)

    def extra(self):
        return (self.op,)

    def show(self, p):
        a, b = self.kids
        op = self.op
        if p.u:
            op = {">": ">", "<": "<", ">=": p.pick("≥", ">="), "<=": p.pick("≤", "<=")}[op]
        elif p.tex:
            op = {">": ">", "<": "<", ">=": r"\geq", "<=": r"\leq"}[op]
        body = f"{p.whole(a)} {op} {p.whole(b)}"
        if p.tex:
            return rf"\mathbb{{1}}[{body}]", ATOM
        return f"({body})", ATOM

    def val(self, ev):
        a, b = self.kids
        va, vb = _as_stated(a, b, ev(a)), _as_stated(b, a, ev(b))
        diff = ev.kink(va - vb)
        return (diff > 0 if self.op in (">", ">=") else diff < 0).astype(float) \
            * np.ones(np.broadcast(va, vb).shape)


class DiagMatrix(Node):
    """Diag(v): the diagonal matrix of a column vector."""

    def __init__(self, a):
        if a.cols != 1 or a.shape == SCALAR:
            raise ValueError("Diag of a non-vector")
        self.kids = (a,)
        self.shape = (a.rows, a.rows)

    def show(self, p):
        inner = p.whole(self.kids[0])
        return p.call(p.op("Diag") if not p.a else "diag", inner), ATOM

    def val(self, ev):
        return np.diag(ev(self.kids[0])[:, 0])


class DiagOf(Node):
    def __init__(self, a):
        if a.rows != a.cols or a.shape == SCALAR:
            raise ValueError("diag of a non-square matrix")
        self.kids = (a,)
        self.shape = (a.rows, 1)

    def show(self, p):
        return p.call(p.op("diag"), p.whole(self.kids[0])), ATOM

    def val(self, ev):
        return np.diag(ev(self.kids[0])).reshape(-1, 1).copy()


class Vec(Node):
    def __init__(self, a):
        self.kids = (a,)
        self.shape = (dim_mul(a.rows, a.cols), 1)

    def show(self, p):
        return p.call(p.op("vec"), p.whole(self.kids[0])), ATOM

    def val(self, ev):
        return ev(self.kids[0]).reshape(-1, 1, order="F")


class Spectral(Node):
    """λ_max(S), λ_min(S) of a matrix symmetric by its form, the spectral norm ‖X‖₂ and the
    nuclear norm ‖X‖_* of a matrix. What makes each differentiable is a kink that must keep its
    sign and stay away from 0: the gap to the next eigenvalue or singular value, or for ‖X‖_*
    the smallest singular value (full rank)."""

    def __init__(self, a, kind):
        if a.rows == 1 or a.cols == 1 or kind in ("lmax", "lmin") and a.rows != a.cols:
            raise ValueError("a spectral function of a vector or of a non-square matrix")
        self.kids = (a,)
        self.kind = kind

    def extra(self):
        return (self.kind,)

    def show(self, p):
        a = self.kids[0]
        inner = p.whole(a)
        if self.kind in ("lmax", "lmin"):
            which = self.kind[1:]
            name = {"unicode": f"λ_{which}", "ascii": f"lambda_{which}",
                    "latex": rf"\lambda_{{\{which}}}"}[p.d]
            return p.call(name, inner), ATOM
        if p.a:
            if self.kind == "norm2":
                return f"norm({inner}, 2)", ATOM
            return f"norm_nuc({inner})", ATOM
        if "‖" in inner or "|" in inner:
            inner = p.paren(inner)
        if p.u:
            sub = p.pick("₂", "_2") if self.kind == "norm2" else p.pick("_*", "_∗")
            return f"‖{inner}‖{sub}", ATOM
        sub = "_2" if self.kind == "norm2" else p.pick("_*", "_{*}", r"_{\ast}")
        opened, closed = p.pick((r"\|", r"\|"), (r"\left\| ", r" \right\|"),
                                (r"\lVert ", r"\rVert"))
        return f"{opened}{inner}{closed}{sub}", ATOM

    def val(self, ev):
        x = ev(self.kids[0])
        if not np.all(np.isfinite(x)):
            return np.array([[np.nan]])
        if self.kind in ("lmax", "lmin"):
            w = np.linalg.eigvalsh((x + x.T) / 2)
            if self.kind == "lmax":
                ev.kink(np.array([w[-1] - w[-2]]))
                return np.array([[w[-1]]])
            ev.kink(np.array([w[1] - w[0]]))
            return np.array([[w[0]]])
        s = np.linalg.svd(x, compute_uv=False)
        if self.kind == "norm2":
            ev.kink(np.array([s[0] - s[1]]))
            return np.array([[s[0]]])
        ev.kink(np.array([s[-1]]))
        return np.array([[s.sum()]])


class MatFunc(Node):
    """expm(X) of a square matrix and logm(S) of a positive definite S: the matrix functions,
    not entrywise. Evaluated apart from matcalc: expm by its Taylor series after scaling and
    squaring, logm by the eigendecomposition (S + hV need not be symmetric)."""

    def __init__(self, name, a):
        if a.rows != a.cols or a.shape == SCALAR:
            raise ValueError("a matrix function of a non-square matrix")
        self.kids = (a,)
        self.name = name
        self.shape = a.shape

    def extra(self):
        return (self.name,)

    def rebuild(self, kids):
        return MatFunc(self.name, *kids)

    def show(self, p):
        name = rf"\operatorname{{{self.name}}}" if p.tex else self.name
        return p.call(name, p.whole(self.kids[0])), ATOM

    def val(self, ev):
        x = ev(self.kids[0])
        if not np.all(np.isfinite(x)):
            return np.full(x.shape, np.nan)
        if self.name == "expm":
            return _expm(x)
        w, v = np.linalg.eig(x)
        ev.positive(np.real(w))
        if np.linalg.cond(v) > 1e8:              # (nearly) defective: no eigenbasis to use
            return np.full(x.shape, np.nan)
        return np.real(v @ np.diag(np.log(w.astype(complex))) @ np.linalg.inv(v))


def _expm(a: np.ndarray) -> np.ndarray:
    """exp(A) = exp(A/2ˢ)^(2ˢ), the Taylor series where ‖A/2ˢ‖₁ ≤ ½ (20 terms: < 1e-20)."""
    norm = np.abs(a).sum(axis=0).max(initial=0.0)
    if not np.isfinite(norm):
        return np.full(a.shape, np.nan)          # of an argument that overflowed: no value
    s = max(0, int(np.ceil(np.log2(norm))) + 1) if norm > 0 else 0
    b = a * 2.0 ** -s                            # 2.0 ** s overflows a float beyond s = 1023
    out = term = np.eye(len(a))
    for k in range(1, 21):
        term = term @ b / k
        out = out + term
    for _ in range(s):
        out = out @ out
    return out


@dataclass(eq=False)
class Function:
    """A user-defined elementwise function f(x) := body."""
    name: Name
    param: Name
    body: Node

    def statement(self, p: Printer) -> str:
        op = "=" if p.a else p.pick(":=", "=") if p.u else ":="
        return f"{self.name.spell(p.d)}({self.param.spell(p.d)}) {op} {p.whole(self.body)}"


class Call(Node):
    """f(A) for a user function: its body applied to every entry."""

    def __init__(self, fn: Function, a):
        self.fn = fn
        self.kids = (a,)
        self.shape = a.shape

    def rebuild(self, kids):
        return Call(self.fn, *kids)

    def show(self, p):
        return p.call(self.fn.name.spell(p.d), p.whole(self.kids[0])), ATOM

    def val(self, ev):
        inner = Ev({"<param>": ev(self.kids[0])}, ev.sizes)
        out = inner(self.fn.body)
        ev.positives += inner.positives
        ev.kinks += inner.kinks
        return np.broadcast_to(out, self.shape_value(ev)).copy()

    def shape_value(self, ev):
        return tuple(dim_size(d, ev.sizes) for d in self.shape)


# --- the generator -------------------------------------------------------------------------

class Generator:
    """Random typed trees; ``expr(shape, depth, domain)``. ``boost`` multiplies the weight of
    the spectral functions, the matrix functions and the structured declarations."""

    def __init__(self, rng: random.Random, depth: int, boost: int = 2, refused=()):
        self.rng = rng
        self.depth = depth
        self.boost = boost
        # the weights of the spectral and matrix functions; 0 for those ``refused``
        self.weights = {c: 0 if c in refused else boost for c in ("spectral", "matfunc")}
        self.variables: list[Variable] = []
        self.definitions: list[Definition] = []
        self.functions: list[Function] = []
        self.taken: set = set()
        self.size = 0                   # nodes made so far
        self.max_size = rng.randint(2 * depth, 6 * depth)

    # -- leaves ---------------------------------------------------------------------------
    def variable(self, shape, domain="any") -> Node:
        fits = [v for v in self.variables if v.shape == shape and _serves(v, domain)]
        fits += [d for d in self.definitions if d.node.shape == shape and domain == "any"]
        if fits and (self.rng.random() < 0.55 or len(self.variables) >= MAX_VARIABLES):
            pick = self.rng.choice(fits)
            return Ref(pick) if isinstance(pick, Variable) else DefRef(pick)
        return Ref(self.new_variable(shape, domain))

    def new_variable(self, shape, domain="any") -> Variable:
        pool = SCALAR_NAMES if shape == SCALAR else VECTOR_NAMES if shape[1] == 1 \
            else MATRIX_NAMES
        if len(self.variables) >= MAX_VARIABLES + 2:
            raise _Skip()
        name = self.fresh_name(pool)
        domain, structure = self.structure(shape, domain)
        v = Variable(name, shape, domain, structure)
        self.variables.append(v)
        return v

    def structure(self, shape, domain) -> tuple:
        """The domain a new variable is drawn in and the structure its declaration states."""
        rows, cols = shape
        square = rows == cols and shape != SCALAR
        matrix = rows != 1 and cols != 1
        r, b = self.rng.random(), 0.03 * self.boost
        if domain == "sym":                 # symmetric by its declaration
            domain = "spd" if r < 0.3 else "any"
            return domain, self.rng.choice(["symmetric", "symmetric", "diagonal"]
                                           + ["spd"] * (domain == "spd"))
        if domain == "spd":
            if r < 0.25:
                return domain, "symmetric"
            if r < 0.25 + 2 * b:
                return domain, self.rng.choice(["spd", "spd", "diagonal"])
            return domain, ""
        if domain == "pos":
            return ("pos", "stochastic") if shape != SCALAR and r < b else ("pos", "")
        if square and r < 0.25 + 2 * b:
            return domain, "symmetric" if r < 0.25 else "diagonal" if r < 0.25 + b \
                else "orthogonal"
        if matrix and not square and r < 0.1 + b:
            return ("onehot", "onehot") if r < 0.1 else (domain, "orthogonal")
        if shape != SCALAR and r > 1 - b:
            return "pos", "stochastic"
        return domain, ""

    def fresh_name(self, pool) -> Name:
        """A name of the pool not yet in use."""
        free = [n for n in pool if n.ir not in self.taken]
        if not free:
            raise _Skip()
        name = self.rng.choice(free)
        self.taken.add(name.ir)
        return name

    def number(self) -> Node:
        """A positive number (a negative one is written with Neg)."""
        v = self.rng.choice([2, 3, Fraction(1, 2), Fraction(1, 4), Fraction(3, 4),
                             Fraction(1, 5), Fraction(3, 2), 5, Fraction(1, 10)])
        return Num(v)

    # -- compound -------------------------------------------------------------------------
    def expr(self, shape, depth: int, domain: str = "any") -> Node:
        self.size += 1
        if depth <= 0 or self.size > self.max_size or \
                (depth < self.depth and self.rng.random() < 0.15):
            return self.leaf(shape, domain)
        makers = [m for m in self.makers(shape, domain) if m[0] > 0]
        self.rng.shuffle(makers)
        makers.sort(key=lambda m: -m[0] * self.rng.random())
        for _, make in makers:
            try:
                node = make(depth - 1)
            except (ValueError, AssertionError, _Skip):
                continue
            if node is not None and node.shape == shape:
                return node
        return self.leaf(shape, domain)

    def leaf(self, shape, domain) -> Node:
        rows, cols = shape
        if not (is_plain(rows) and is_plain(cols)):
            return self.product_leaf(shape, domain)
        if domain in ("spd", "sym"):
            return self.variable(shape, domain)
        if shape == SCALAR and self.rng.random() < 0.3:
            return self.number()
        if rows == 1 and cols != 1:           # a row is a transposed column
            return Transpose(self.variable((cols, 1), domain))
        return self.variable(shape, domain)

    def product_leaf(self, shape, domain):
        """A leaf of a shape with product sizes (n·m): a Kronecker product or a vec."""
        rows, cols = shape
        if cols == 1 and domain != "spd" and len(rows.split("·")) == 2:
            return Vec(self.variable(tuple(rows.split("·")), domain))
        r, c = self.factor(rows), self.factor(cols)
        if r is None or c is None:
            raise _Skip()
        # A ⊗ B is positive (positive definite) when A and B are
        return Kron(self.leaf((r[0], c[0]), domain), self.leaf((r[1], c[1]), domain))

    def dim(self, allow_one=True):
        options = list(DIMS) + ([1] if allow_one else [])
        return self.rng.choice(options)

    def makers(self, shape, domain) -> list:
        """(weight, maker) pairs for the productions that give this shape in this domain."""
        rows, cols = shape
        if not (is_plain(rows) and is_plain(cols)):
            return self.product_makers(shape, domain)
        return {"spd": self.spd_makers, "sym": self.sym_makers, "pos": self.pos_makers,
                "any": self.any_makers}[domain](shape)

    def spd_makers(self, shape) -> list:
        g, n, wm = self.expr, shape[0], self.weights["matfunc"]
        return [
            (3, lambda d: Add(MatMul(Transpose(a := g((self.dim(False), n), d)), a),
                              self.spd_shift(n))),
            (2, lambda d: Add(g(shape, d, "spd"), g(shape, d, "spd"))),
            (2, lambda d: MatMul(g(SCALAR, d, "pos"), g(shape, d, "spd"))),
            (1, lambda d: Inverse(g(shape, d, "spd"))),
            (1, lambda d: DiagMatrix(g((n, 1), d, "pos"))),
            (1, lambda d: Hadamard(g(shape, d, "spd"), g(shape, d, "spd"))),
            (1, lambda d: Add(g(shape, d, "spd"), Identity(n))),
            (1, lambda d: Add(MatMul(MatMul(Transpose(a := g((self.dim(False), n), d)),
                                            g((a.rows, a.rows), d, "spd")), a),
                              self.spd_shift(n))),
            (1, lambda d: self.define(g(shape, d, "spd"))),
            (wm, lambda d: MatFunc("expm", g(shape, d, "sym"))),
        ]

    def sym_makers(self, shape) -> list:
        """Matrices symmetric by their form, as matcalc reads them (docs/language.md, Spectral
        functions: λ_max and λ_min need one), of any values."""
        g, n, rng, wm = self.expr, shape[0], self.rng, self.weights["matfunc"]
        return [
            (3, lambda d: Add(a := g(shape, d), Transpose(a))),
            (2, lambda d: Add(MatMul(Transpose(a := g((self.dim(False), n), d)), a),
                              self.spd_shift(n))),
            (1, lambda d: MatMul(Transpose(a := g((self.dim(False), n), d)), a)),
            (1, lambda d: MatMul(MatMul(Transpose(a := g((k := self.dim(False), n), d)),
                                        g((k, k), d, "sym")), a)),
            (2, lambda d: Add(g(shape, d, "sym"), g(shape, d, "sym"), rng.random() < 0.4)),
            (1, lambda d: MatMul(g(SCALAR, d), g(shape, d, "sym"))),
            (1, lambda d: Add(g(shape, d, "sym"), MatMul(g(SCALAR, d), Identity(n)))),
            (1, lambda d: DiagMatrix(g((n, 1), d))),
            (1, lambda d: Hadamard(g(shape, d, "sym"), g(shape, d, "sym"))),
            (1, lambda d: Elem(rng.choice(["exp", "tanh", "sin"]), g(shape, d, "sym"))),
            (1, lambda d: Power(g(shape, d, "sym"), 2)),
            (1, lambda d: Neg(g(shape, d, "sym"))),
            (wm, lambda d: MatFunc("expm", g(shape, d, "sym"))),
            (1, lambda d: self.define(g(shape, d, "sym"), symmetric=True)),
        ]

    def pos_makers(self, shape) -> list:
        g, rng, ws = self.expr, self.rng, self.weights["spectral"]
        rows, cols = shape
        out = [
            (3, lambda d: Elem(rng.choice(["exp", "sigmoid", "softplus"]), g(shape, d))),
            (2, lambda d: Add(g(shape, d, "pos"), g(rng.choice([shape, SCALAR]), d, "pos"))),
            (1, lambda d: Add(self.number(), HadPow(g(shape, d), 2))),
            (2, lambda d: Hadamard(g(shape, d, "pos"), g(shape, d, "pos"), rng.random() < 0.4)),
            (1, lambda d: HadPow(g(shape, d, "pos"), rng.choice([2, -1, Fraction(1, 2)]))),
            (1, lambda d: MatMul(g(SCALAR, d, "pos"), g(shape, d, "pos"))),
            (1, lambda d: Div(g(shape, d, "pos"), g(SCALAR, d, "pos"))),
            (1, lambda d: Elem("sqrt", g(shape, d, "pos"))),
            (1, lambda d: self.define(g(shape, d, "pos"))),
            (1, lambda d: self.call(g(shape, d), positive=True)),
        ]
        if shape != SCALAR:
            out += [
                (1, lambda d: AxisOp(g(shape, d), "softmax", self.axis(shape))),
                (1, lambda d: MatMul(g((rows, k := self.dim(False)), d, "pos"),
                                     g((k, cols), d, "pos"))),
            ]
        else:
            out += [
                (2, lambda d: Norm(g(self.any_shape(), d), rng.choice("F1"), rng.random() < 0.5)),
                (1, lambda d: Det(g((n := self.dim(False), n), d, "spd"))),
                (1, lambda d: Trace(g((n := self.dim(False), n), d, "spd"))),
                (1, lambda d: Sum(g(self.any_shape(), d, "pos"))),
                (1, lambda d: AxisOp(g((self.dim(False), 1), d, "pos"), "mean", None)),
                (1, lambda d: Add(self.number(), Power(g(SCALAR, d), 2))),
                (1, lambda d: self.number()),
                (1, lambda d: Power(g(SCALAR, d, "pos"), rng.choice([2, -1, Fraction(1, 2)]))),
                (ws, lambda d: Spectral(g(self.matrix_shape(), d), rng.choice(["norm2",
                                                                             "nuclear"]))),
                # XᵀX + cI is positive definite: its extreme eigenvalues are positive
                (ws, lambda d: Spectral(Add(MatMul(Transpose(a := g(self.matrix_shape(), d)), a),
                                           self.spd_shift(a.cols)),
                                       rng.choice(["lmax", "lmin"]))),
            ]
        return out

    def any_makers(self, shape) -> list:
        g, rng = self.expr, self.rng
        ws, wm = self.weights["spectral"], self.weights["matfunc"]
        rows, cols = shape
        scalar = shape == SCALAR
        square = rows == cols and not scalar
        vector = cols == 1 and not scalar
        out = [
            (3, lambda d: Add(g(shape, d), g(self.broadcastable(shape), d), rng.random() < 0.4)),
            (3, lambda d: Hadamard(g(shape, d), g(self.broadcastable(shape), d))),
            (2, lambda d: Hadamard(g(shape, d), g(self.broadcastable(shape), d, "pos"), True)),
            (3, lambda d: MatMul(g(SCALAR, d), g(shape, d))),
            (1, lambda d: Neg(g(shape, d))),
            (1, lambda d: Div(g(shape, d), g(SCALAR, d, "pos"))),
            (2, lambda d: Elem(rng.choice(["exp", "sin", "cos", "tanh", "sigmoid", "softplus"]),
                               g(shape, d))),
            (1, lambda d: Elem(rng.choice(["log", "sqrt"]), g(shape, d, "pos"))),
            (1, lambda d: Elem(rng.choice(["relu", "heaviside", "sign"]), g(shape, d))),
            (1, lambda d: Abs(g(shape, d))),
            (1, lambda d: HadPow(g(shape, d), rng.choice([2, 3]))),
            (1, lambda d: HadPow(g(shape, d, "pos"), rng.choice([-1, Fraction(1, 2), -2]))),
            (1, lambda d: MaxMin(g(shape, d), g(self.broadcastable(shape), d),
                                 rng.choice(["max", "min"]))),
            (1, lambda d: MaxMin(g(shape, d), self.number(), rng.choice(["max", "min"]))),
            (1, lambda d: Clip(g(shape, d), 0, 1)),
            (1, lambda d: Compare(g(shape, d), g(rng.choice([shape, SCALAR]), d),
                                  rng.choice([">", "<", ">=", "<="]))),
            (2, lambda d: self.define(g(shape, d))),
            (1, lambda d: self.call(g(shape, d))),
            (1, lambda d: Transpose(g((cols, rows), d))),
        ]
        if not scalar:
            out += [(1, lambda d: Add(g(shape, d), Neg(g(SCALAR, d))))]
            k = self.dim()
            if (rows, k) != SCALAR or (k, cols) != SCALAR:
                out += [(4, lambda d: MatMul(g((rows, k), d), g((k, cols), d)))]
            if rng.random() < 0.3:
                r, c = self.factor(rows), self.factor(cols)
                out += [(1, lambda d: Kron(g((r[0], c[0]), d), g((r[1], c[1]), d)))]
        if square:
            out += [
                (2, lambda d: Inverse(g(shape, d, "spd"), rng.random() < 0.2)),
                (1, lambda d: Power(g(shape, d), rng.choice([2, 3]))),
                (1, lambda d: Add(g(shape, d), MatMul(g(SCALAR, d), Identity(rows))
                                  if rng.random() < 0.5 else Identity(rows), rng.random() < 0.3)),
                (1, lambda d: g(shape, d, "spd")),
                (1, lambda d: DiagMatrix(g((rows, 1), d))),
                (wm, lambda d: MatFunc("expm", g(shape, d))),
                (wm, lambda d: MatFunc("logm", g(shape, d, "spd"))),
            ]
        if scalar:
            out += [
                (3, lambda d: Sum(g(self.any_shape(), d))),
                (2, lambda d: Trace(g((n := self.dim(False), n), d))),
                (2, lambda d: Frob(a := g(self.any_shape(), d), g(a.shape, d))),
                (2, lambda d: Norm(g(self.any_shape(), d), rng.choice("FF1"), rng.random() < 0.5)),
                (2, lambda d: Det(g((n := self.dim(False), n), d, "spd"), log=True)),
                (1, lambda d: Det(g((n := self.dim(False), n), d, "spd"))),
                (2, lambda d: MatMul(MatMul(Transpose(g((k := self.dim(False), 1), d)),
                                            g((k, m := self.dim(False)), d)), g((m, 1), d))),
                (1, lambda d: AxisOp(g((self.dim(False), 1), d), rng.choice(
                    ["mean", "var", "logsumexp"]), None)),
                (1, lambda d: Power(g(SCALAR, d), rng.choice([2, 3]))),
                (1, lambda d: self.number()),
                (1, lambda d: Neg(Sum(Hadamard(self.onehot(), AxisOp(
                    g(self.onehot_shape, d), "logsoftmax", None))))),
                # Kronecker products and vec, reduced to a scalar
                (1, lambda d: rng.choice([Sum, Norm])(g(self.kron_shape(), d))),
                (1, lambda d: Frob(a := g(self.kron_shape(), d), g(a.shape, d))),
                (1, lambda d: Trace(g((q := self.kron_dim(), q), d))),
                (1, lambda d: Det(g((q := self.kron_dim(), q), d, "spd"), log=True)),
                (1, lambda d: MatMul(MatMul(Transpose(g(((q := self.kron_dim()), 1), d)),
                                            g((q, r := self.kron_dim()), d)), g((r, 1), d))),
                # spectral and matrix functions (Cookbook (68), docs/language.md)
                (ws, lambda d: Spectral(g((n := self.dim(False), n), d, "sym"),
                                       rng.choice(["lmax", "lmin"]))),
                (ws, lambda d: Spectral(g(self.matrix_shape(), d), rng.choice(["norm2",
                                                                             "nuclear"]))),
                (wm, lambda d: Trace(MatFunc("expm", g((n := self.dim(False), n), d)))),
                (wm, lambda d: Trace(MatFunc("logm", g((n := self.dim(False), n), d, "spd")))),
                (wm, lambda d: Sum(Hadamard(g((n := self.dim(False), n), d),
                                           MatFunc("expm", g((n, n), d))))),
            ]
        if vector:
            out += [
                (2, lambda d: AxisOp(g((rows, self.dim(False)), d), rng.choice(
                    ["mean", "var", "logsumexp"]), 2)),
                (1, lambda d: Sum(g((rows, self.dim(False)), d), 2)),
                (1, lambda d: AxisOp(g(shape, d), rng.choice(["softmax", "logsoftmax"]), None)),
                (1, lambda d: DiagOf(g((rows, rows), d))),
                (1, lambda d: Vec(g((1, rows) if rng.random() < 0.5 else shape, d))),
            ]
        if rows == 1 and not scalar:
            out += [
                (2, lambda d: AxisOp(g((self.dim(False), cols), d), rng.choice(
                    ["mean", "var", "logsumexp"]), 1)),
                (1, lambda d: Sum(g((self.dim(False), cols), d), 1)),
            ]
        if not scalar and rows != 1 and cols != 1:
            out += [
                (2, lambda d: AxisOp(g(shape, d), rng.choice(["softmax", "logsoftmax"]),
                                     self.axis(shape))),
                (1, lambda d: Add(g(shape, d), MatMul(Ones(rows), Transpose(g((cols, 1), d))))),
            ]
        return out

    def product_makers(self, shape, domain) -> list:
        """Shapes with product sizes (n·m) come from ⊗ and vec, and keep their shape through
        sums, ∘, scalar factors, transposes and elementwise functions."""
        g, rng = self.expr, self.rng
        rows, cols = shape
        r, c = self.factor(rows), self.factor(cols)
        out = []
        if r and c:
            out += [(4, lambda d: Kron(g((r[0], c[0]), d, domain), g((r[1], c[1]), d, domain)))]
        if domain == "spd":
            return out + [(1, lambda d: Add(g(shape, d, "spd"), g(shape, d, "spd")))]
        if domain == "pos":
            return out + [
                (2, lambda d: Elem(rng.choice(["exp", "sigmoid", "softplus"]), g(shape, d))),
                (1, lambda d: Hadamard(g(shape, d, "pos"), g(shape, d, "pos"))),
            ]
        out += [
            (2, lambda d: Add(g(shape, d), g(rng.choice([shape, SCALAR]), d), rng.random() < 0.4)),
            (2, lambda d: Hadamard(g(shape, d), g(shape, d))),
            (2, lambda d: MatMul(g(SCALAR, d), g(shape, d))),
            (1, lambda d: Elem(rng.choice(["exp", "sin", "tanh", "sigmoid"]), g(shape, d))),
            (1, lambda d: Transpose(g((cols, rows), d))),
        ]
        if cols == 1 and len(rows.split("·")) == 2:
            a, b = rows.split("·")
            out += [(3, lambda d: Vec(g((a, b) if rng.random() < 0.5 else (b, a), d)))]
            out += [(2, lambda d: MatMul(g((rows, q := self.kron_dim()), d), g((q, 1), d)))]
        return out

    def kron_dim(self):
        a, b = self.rng.sample(DIMS, 2)
        return dim_mul(a, b)

    def kron_shape(self):
        return self.rng.choice([(self.kron_dim(), self.kron_dim()), (self.kron_dim(), 1),
                                (self.kron_dim(), self.dim(False))])

    def factor(self, d):
        """d = a·b as (a, b), with 1 allowed; None when d has more than two factors."""
        if d == 1:
            return (1, 1)
        parts = d.split("·")
        if len(parts) == 1:
            return (d, 1) if self.rng.random() < 0.5 else (1, d)
        return tuple(parts) if len(parts) == 2 else None

    # -- helpers --------------------------------------------------------------------------
    def spd_shift(self, n):
        """A positive multiple of I that keeps AᵀA + cI away from singular."""
        if self.rng.random() < 0.5:
            return Identity(n)
        return MatMul(self.number(), Identity(n))

    def matrix_shape(self):
        return (self.dim(False), self.dim(False))

    def any_shape(self):
        shape = self.rng.choice([(self.dim(False), self.dim(False)), (self.dim(False), 1),
                                 (1, self.dim(False))])
        return shape

    def broadcastable(self, shape):
        """A shape that broadcasts against ``shape`` in a sum or ∘ (as the input states it)."""
        rows, cols = shape
        options = [shape, shape, shape, SCALAR]
        if rows != 1 and cols != 1 and is_plain(rows) and is_plain(cols):
            options += [(1, cols), (rows, 1)]
        return self.rng.choice(options)

    def axis(self, shape):
        """An axis for softmax: none (each row; a vector over itself), or 1 or 2."""
        if shape[0] == 1 or shape[1] == 1:
            return None
        return self.rng.choice([None, 1, 2])

    onehot_shape = ("n", "k")

    def onehot(self):
        fits = [v for v in self.variables if v.domain == "onehot"
                and v.shape == self.onehot_shape]
        if fits:
            return Ref(fits[0])
        v = Variable(self.fresh_name(MATRIX_NAMES), self.onehot_shape, "onehot", "onehot")
        self.variables.append(v)
        return Ref(v)

    def define(self, node, symmetric: bool = False) -> Node:
        if isinstance(node, (Ref, DefRef, Num)) or len(self.definitions) >= 3:
            return node
        pool = SCALAR_NAMES if node.shape == SCALAR else VECTOR_NAMES if node.cols == 1 \
            else MATRIX_NAMES + [_n("H"), _n("σ", "sigma", r"\sigma")]
        if not (is_plain(node.rows) and is_plain(node.cols)):
            return node
        d = Definition(self.fresh_name(pool), node, symmetric)
        self.definitions.append(d)
        return DefRef(d)

    def call(self, node, positive=False) -> Node:
        if not self.functions or self.rng.random() < 0.3 and len(self.functions) < 2:
            name = self.fresh_name(FUNCTION_NAMES)
            param = self.rng.choice([_n("x"), _n("t"), _n("s")])
            self.functions.append(Function(name, param, self.body(Param(param), positive)))
        fn = self.rng.choice(self.functions)
        return Call(fn, node)

    def body(self, x: Param, positive: bool) -> Node:
        """A scalar body over the parameter: smooth everywhere, positive if asked."""
        rng = self.rng
        sq = Power(x, 2)
        safe = [
            lambda: Div(Power(x, 3), Add(Num(1), sq)),
            lambda: Add(MatMul(Num(2), x), Elem("tanh", x)),
            lambda: Elem("log", Add(Num(1), Elem("exp", x))),
            lambda: Elem("log", Add(Num(1), sq)),
            lambda: Div(x, Elem("sqrt", Add(Num(1), sq))),
            lambda: MatMul(x, Elem("sigmoid", x)),
            lambda: Add(Elem("sin", x), MatMul(Num(Fraction(1, 2)), sq)),
            lambda: Div(Num(1), Add(Num(1), Elem("exp", Neg(x)))),
            lambda: Add(Power(x, 3), Neg(MatMul(Num(3), x))),
            lambda: Elem("exp", Neg(sq)),
        ]
        positive_bodies = [
            lambda: Add(Num(1), sq),
            lambda: Elem("exp", MatMul(Num(Fraction(1, 2)), x)),
            lambda: Elem("log", Add(Num(2), Elem("exp", x))),
            lambda: Elem("sqrt", Add(Num(1), sq)),
            lambda: Div(Num(1), Add(Num(1), Elem("exp", Neg(x)))),
        ]
        return rng.choice(positive_bodies if positive else safe + positive_bodies)()


class _Skip(Exception):
    """A production that does not apply here."""


def structure(v) -> str:
    """A variable's structure; a definition held as the variable is symmetric if made so."""
    if isinstance(v, Variable):
        return v.structure
    return "symmetric" if v.symmetric else ""


def _serves(v: Variable, need: str) -> bool:
    """Can the variable stand where a value of the domain ``need`` is wanted?"""
    if need == "sym":
        return v.symmetric
    return v.domain == need or need == "any"


# --- cases ---------------------------------------------------------------------------------

@dataclass
class Case:
    seed: int
    kind: str                          # gradient, jacobian, hessian
    dialect: str                       # the dialect matcalc is asked in
    variables: list
    definitions: list
    functions: list
    result: Node
    result_name: Name | None
    wrt: object                        # a Variable, or a Definition held as a variable
    sizes: dict
    numeric: bool                      # sizes declared as numbers
    texts: dict = field(default_factory=dict)      # dialect → input text
    also: list = field(default_factory=list)       # more variables of a block Hessian

    @property
    def wrt_name(self) -> Name:
        return self.wrt.name

    @property
    def wrt_shape(self) -> tuple:
        return self.wrt.shape if isinstance(self.wrt, Variable) else self.wrt.node.shape

    @property
    def wrt_structure(self) -> str:
        return structure(self.wrt)

    @property
    def wrt_symmetric(self) -> bool:
        return self.wrt.symmetric

    def text(self, dialect: str | None = None) -> str:
        return self.texts[dialect or self.dialect]

    def size(self, shape) -> tuple:
        return tuple(dim_size(d, self.sizes) for d in shape)

    def evaluate(self, values: dict, node: Node | None = None) -> np.ndarray:
        """The value of the result (or of ``node``) at the given variable values."""
        ev = Ev(values, self.sizes)
        return ev(node or self.result)

    def probe(self, values: dict) -> Ev:
        ev = Ev(values, self.sizes)
        ev(self.result)
        for d in self.definitions:
            ev(d.node)
        return ev


def _declarations(case: Case, p: Printer, declared=None) -> list[str]:
    """One declaration per variable (sometimes several names of one shape together); only of
    those ``declared`` says, if given."""
    groups: dict = {}
    for v in case.variables:
        if declared is not None and not declared(v):
            continue
        groups.setdefault((v.shape, v.structure), []).append(v)
    out = []
    for (shape, structure), vs in groups.items():
        if len(vs) > 1 and p.rng.random() < 0.5:
            chunks = [vs]
        else:
            chunks = [[v] for v in vs]
        for chunk in chunks:
            names = ", ".join(v.name.spell(p.d) for v in chunk)
            out.append(declaration(names, shape, structure, p.d, case, p.rng))
    p.rng.shuffle(out)
    return out


def declaration(names: str, shape, structure: str, dialect: str, case, rng: random.Random,
                numeric: bool | None = None) -> str:
    """names ∈ ℝ^{rows×cols} with its structure (symmetric, spd, diagonal, orthogonal,
    stochastic, onehot) in a dialect; sizes as numbers if ``numeric`` (default: as the case
    declares them)."""
    numeric = case.numeric if numeric is None else numeric

    def size(d):
        if numeric or isinstance(d, int):
            return str(dim_size(d, case.sizes))
        # a product of sizes as the dialect writes one (k·n, k*n, k \cdot n)
        return d.replace("·", {"unicode": "·", "ascii": "*", "latex": r" \cdot "}[dialect])
    rows, cols = shape
    word = {"orthogonal": rng.choice(["orthogonal", "orthonormal"]),
            "stochastic": "probability" if cols == 1 else "stochastic"}.get(structure, structure)
    if dialect == "ascii":
        if shape == SCALAR:
            spec = "scalar"
        elif cols == 1:
            spec = size(rows)
        else:
            spec = f"{size(rows)} x {size(cols)}" if rng.random() < 0.7 or "·" in f"{rows}{cols}" \
                else f"{size(rows)}x{size(cols)}"
        return f"{names}: {spec}" + (f" {word}" if word else "")
    if dialect == "unicode":
        if shape == SCALAR:
            return f"{names} ∈ ℝ"
        if structure in ("symmetric", "spd") and rng.random() < 0.7 or structure == "symmetric":
            space = f"𝕊^{size(rows)}" if rng.random() < 0.5 else f"𝕊^{{{size(rows)}×{size(rows)}}}"
        elif cols == 1 or structure == "diagonal" and rng.random() < 0.3:
            r = size(rows)
            space = f"ℝ^{r}" if len(r) == 1 else f"ℝ^{{{r}}}"
        else:
            space = f"ℝ^{{{size(rows)}×{size(cols)}}}"
        extra = "" if structure == "symmetric" else f" {word}" if word else ""
        return f"{names} ∈ {space}{extra}"
    if shape == SCALAR:
        return rf"{names} \in \mathbb{{R}}"
    if structure in ("symmetric", "spd") and rng.random() < 0.7 or structure == "symmetric":
        space = rf"\mathbb{{S}}^{{{size(rows)}}}"
    elif cols == 1:
        space = rf"\mathbb{{R}}^{{{size(rows)}}}"
    else:
        space = rf"\mathbb{{R}}^{{{size(rows)} \times {size(cols)}}}"
    word = "one-hot" if structure == "onehot" else word
    extra = "" if structure == "symmetric" else f" ({word})" if word else ""
    return rf"{names} \in {space}{extra}"


def render(case: Case, dialect: str, rng: random.Random, declared=None) -> str:
    """The whole input in one dialect: declarations (of the variables ``declared`` says, if
    given), functions, definitions, the expression."""
    in_use = {v.name.ir for v in case.variables} | {d.name.ir for d in case.definitions}
    p = Printer(dialect, rng, in_use)
    statements = _declarations(case, p, declared)
    statements += [f.statement(p) for f in case.functions]
    for d in case.definitions:
        op = p.pick("=", ":=") if p.u else "="
        statements.append(f"{d.name.spell(dialect)} {op} {p.whole(d.node)}")
    body = p.whole(case.result)
    if case.result_name is not None:
        body = f"{case.result_name.spell(dialect)} = {body}"
    statements.append(body)
    sep = "; " if dialect != "latex" or rng.random() < 0.7 else r" \\ "
    return sep.join(statements)


def undeclared_text(case: Case) -> str | None:
    """The case's input in its dialect without the declarations the reader could do without
    (``conventional``): it takes those shapes from the uses, and from the letter convention
    what the uses leave open. None where every variable needs its declaration."""
    if not any(conventional(v) for v in case.variables):
        return None
    return render(case, case.dialect, random.Random(case.seed),
                  lambda v: not conventional(v))


def conventional(v: Variable) -> bool:
    """Is v of a shape its name may have undeclared (docs/language.md, "Types by convention"):
    a plain variable (no structure) named by one letter (with subscripts or a mark), a capital
    for a matrix, a small letter for a column vector or a scalar? (A longer name undeclared
    is a product of letters.)"""
    letter = v.name.ir.rstrip("₀₁₂₃₄₅₆₇₈₉").rstrip("\u0302\u0303\u0304\u0307")
    if v.structure or len(letter) != 1 or not letter.isalpha():
        return False
    rows, cols = v.shape
    return rows != 1 and cols != 1 if letter.isupper() else cols == 1


def case(seed: int, kind: str | None = None, dialect: str | None = None,
         focus: bool = False) -> Case:
    """The random case of a seed (the kind and dialect cycle with the seed unless given): the
    first tree for which one of a few draws of inputs is well inside every domain. With
    ``focus``, a tree that has a spectral function, a matrix function or a structured
    declaration (spd, diagonal, orthogonal, stochastic), each drawn more often."""
    for attempt in range(100):
        rng = random.Random(seed * 1000 + attempt)
        out = _try_case(seed, rng, kind or KINDS[seed % 3], dialect or DIALECTS[(seed // 3) % 3],
                        focus)
        if out is not None:
            draws = np.random.default_rng(seed)
            if any(admissible(out, draw(out, draws)) for _ in range(5)):
                return out
    raise RuntimeError(f"no case for seed {seed}")


FOCUS_BOOST = 4
FOCUS_STRUCTURES = ("spd", "diagonal", "orthogonal", "stochastic")


def _try_case(seed: int, rng: random.Random, kind: str, dialect: str,
              focus: bool = False) -> Case | None:
    depth = rng.randint(2, 7)
    # most Hessians leave out what they refuse (docs/language.md: no second derivatives of the
    # spectral functions); Hessians and Jacobians through expm and logm, which are derived now,
    # keep the draw of when they were not, so that every seed keeps its case
    refused = {"hessian": ("spectral", "matfunc"), "jacobian": ("matfunc",)}.get(kind, ())
    gen = Generator(rng, depth, FOCUS_BOOST if focus else 2, refused if rng.random() < 0.85
                    else ())
    if kind == "jacobian":
        shape = rng.choice([("n", "m"), ("n", 1), ("m", "n"), ("k", 1), (1, "m"), ("n", "n")])
    else:
        shape = SCALAR
    try:
        result = gen.expr(shape, depth)
    except _Skip:
        return None
    if isinstance(result, (Ref, DefRef, Num)):
        return None
    # the variables the result reaches (definitions may be unused: they are left out)
    used_defs = _reached_definitions(result)
    definitions = [d for d in gen.definitions if d in used_defs]
    nodes = [n for d in definitions for n in d.node.walk()] + list(result.walk())
    used = {id(n.var) for n in nodes if isinstance(n, Ref)}
    variables = [v for v in gen.variables if id(v) in used]
    new = any(isinstance(n, (Spectral, MatFunc)) for n in nodes) or any(
        v.structure in FOCUS_STRUCTURES for v in variables)
    # the Hessian along orthonormal or stochastic matrices is not derived (docs/language.md)
    refused = ("onehot", "orthogonal", "stochastic") if kind == "hessian" else ("onehot",)
    candidates = [v for v in variables if v.structure not in refused]
    if definitions and rng.random() < 0.1:
        candidates = candidates + [definitions[-1]]
    if not candidates:
        return None
    wrt = rng.choice(candidates)
    # a block Hessian: the Hessian over two variables at once (--wrt x --wrt y --hessian)
    others = [v for v in candidates if v is not wrt and isinstance(v, Variable)]
    also = [rng.choice(others)] if kind == "hessian" and others and isinstance(wrt, Variable) \
        and rng.random() < (0.5 if focus else 0.2) else []
    if focus and not (new or also):
        return None
    # defined names must not collide with the function's own variables' names (they do not)
    result_name = None
    if rng.random() < 0.25:
        taken = {v.name.ir for v in variables} | {d.name.ir for d in definitions} | \
            {f.name.ir for f in gen.functions} | {f.param.ir for f in gen.functions}
        free = [n for n in RESULT_NAMES if n.ir not in taken]
        if free:
            result_name = rng.choice(free)
    functions = [f for f in gen.functions
                 if any(isinstance(n, Call) and n.fn is f for n in nodes)]
    sizes = dict(zip(DIMS, rng.sample([2, 3, 4, 5], 4)))
    if any(v.structure == "orthogonal" and dim_size(v.shape[0], sizes) <
           dim_size(v.shape[1], sizes) for v in variables):
        return None                    # orthonormal columns: at least as many rows
    numeric = rng.random() < 0.2
    c = Case(seed, kind, dialect, variables, definitions, functions, result, result_name, wrt,
             sizes, numeric, also=also)
    if _too_big(c):
        return None
    for d in DIALECTS:
        c.texts[d] = render(c, d, random.Random(rng.random()))
    return c


def _reached_definitions(node: Node) -> list:
    out: list = []
    for n in node.walk():
        if isinstance(n, DefRef) and n.definition not in out:
            for inner in _reached_definitions(n.definition.node):
                if inner not in out:
                    out.append(inner)
            out.append(n.definition)
    return out


def _too_big(c: Case) -> bool:
    """Keep the finite differences cheap: at most 25 entries in X and 400 in F."""
    x = max(np.prod(c.size(v.shape)) for v in [c.wrt] + c.also) if c.also else \
        np.prod(c.size(c.wrt_shape))
    f = np.prod(c.size(c.result.shape))
    return x > 25 or f > 400


# --- inputs --------------------------------------------------------------------------------

def draw(case: Case, rng: np.random.Generator) -> dict:
    """Values for the variables inside each one's domain (IR name → 2-D array)."""
    values = {}
    for v in case.variables:
        rows, cols = case.size(v.shape)
        if v.structure == "orthogonal":            # orthonormal columns
            x = np.linalg.qr(rng.standard_normal((rows, cols)))[0]
        elif v.structure == "stochastic":          # positive rows (a vector) summing to 1
            x = rng.uniform(0.2, 1.0, (rows, cols))
            x /= x.sum() if cols == 1 else x.sum(axis=1, keepdims=True)
        elif v.structure == "diagonal":
            x = np.diag(rng.uniform(0.5, 2.0, rows) if v.domain == "spd"
                        else rng.uniform(-1.5, 1.5, rows))
        elif v.domain == "spd":
            a = rng.standard_normal((rows, cols))
            x = a @ a.T / rows + np.eye(rows)
        elif v.domain == "pos":
            x = rng.uniform(0.5, 2.0, (rows, cols))
        elif v.domain == "onehot":
            x = np.eye(cols)[rng.integers(0, cols, rows)]
        else:
            x = rng.uniform(-1.5, 1.5, (rows, cols))
            if v.symmetric:
                x = (x + x.T) / 2
        values[v.name.ir] = x
    if not isinstance(case.wrt, Variable):         # a definition held as a variable
        values[case.wrt.name.ir] = case.evaluate(values, case.wrt.node)
    return values


KINK_MARGIN = 0.05
POSITIVE_MARGIN = 0.02
LARGEST = 1e4


def admissible(case: Case, values: dict) -> bool:
    """Are the inputs well inside every domain: kinks, positivity, magnitudes, conditioning?"""
    with np.errstate(all="ignore"):
        try:
            ev = case.probe(values)
        except np.linalg.LinAlgError:        # a matrix the expression inverts is singular here
            return False
        if not np.isfinite(ev.largest) or ev.largest > LARGEST:
            return False
        if any(np.abs(k).min(initial=np.inf) < KINK_MARGIN for k in ev.kinks):
            return False
        if any(a.min(initial=np.inf) < POSITIVE_MARGIN for a in ev.positives):
            return False
        for n in nodes(case):
            if isinstance(n, (Inverse, Det)) or (isinstance(n, Power) and n.shape != SCALAR) \
                    or (isinstance(n, MatFunc) and n.name == "logm"):
                m = ev(n.kids[0])
                if not np.all(np.isfinite(m)) or np.linalg.cond(m) > 1e6:
                    return False
    return True


def kink_signature(case: Case, values: dict) -> list:
    """The signs of every kinked argument (relu, H, |·|, max …): they must not change within
    a finite-difference step."""
    with np.errstate(all="ignore"):
        ev = case.probe(values)
    return [np.sign(k) for k in ev.kinks]


# --- editing cases (for shrinking a failure to a small reproducer) --------------------------

def nodes(case: Case) -> list:
    """Every node of the result and of the definitions it reaches, parents first."""
    out, seen = [], set()
    for root in [case.result] + [d.node for d in case.definitions]:
        for n in root.walk():
            if id(n) not in seen:
                seen.add(id(n))
                out.append(n)
    return out


def edit(case: Case, target: Node, replacement: Node) -> Case | None:
    """The case with ``target`` (a node, by identity) replaced, or None when that gives no
    well-typed case that still has its variable."""
    new_defs: dict = {}

    def rewrite(n):
        if n is target:
            return replacement
        if isinstance(n, DefRef):
            d = n.definition
            if id(d) not in new_defs:
                node = rewrite(d.node)
                new_defs[id(d)] = d if node is d.node else Definition(d.name, node, d.symmetric)
            return n if new_defs[id(d)] is d else DefRef(new_defs[id(d)])
        if not n.kids:
            return n
        kids = [rewrite(k) for k in n.kids]
        if all(a is b for a, b in zip(kids, n.kids)):
            return n
        out = n.rebuild(kids)
        if out is None or out.shape != n.shape:
            raise _Skip()
        return out

    try:
        result = rewrite(case.result)
    except (_Skip, ValueError, AssertionError):
        return None
    wrt = case.wrt
    if isinstance(wrt, Definition):
        wrt = new_defs.get(id(wrt), wrt)
    return variant(case, result, wrt)


def variant(case: Case, result: Node, wrt) -> Case | None:
    """A case like ``case`` over another result (the same kind, dialect, sizes and names)."""
    if isinstance(result, (Ref, DefRef, Num)) or (case.kind == "jacobian") == \
            (result.shape == SCALAR):
        return None
    definitions = _reached_definitions(result)
    all_nodes = [n for d in definitions for n in d.node.walk()] + list(result.walk())
    used = {id(n.var): n.var for n in all_nodes if isinstance(n, Ref)}
    variables = [v for v in case.variables if id(v) in used] + \
        [v for k, v in used.items() if v not in case.variables]
    if (isinstance(wrt, Variable) and wrt not in variables) or \
            (isinstance(wrt, Definition) and wrt not in definitions):
        return None
    functions = [f for f in case.functions
                 if any(isinstance(n, Call) and n.fn is f for n in all_nodes)]
    c = Case(case.seed, case.kind, case.dialect, variables, definitions, functions, result,
             case.result_name, wrt, case.sizes, case.numeric,
             also=[v for v in case.also if v in variables])
    rng = random.Random(case.seed)
    for d in DIALECTS:
        c.texts[d] = render(c, d, random.Random(rng.random()))
    return c


def smaller(case: Case):
    """Cases one step smaller: a node replaced by a child of its shape, a definition inlined,
    a subtree replaced by a variable of its shape."""
    for n in nodes(case):
        for k in n.kids:
            if k.shape == n.shape:
                yield edit(case, n, k)
        if isinstance(n, DefRef):
            yield edit(case, n, n.definition.node)
        if n.kids:
            for v in case.variables:
                if v.shape == n.shape and v.domain != "onehot":
                    yield edit(case, n, Ref(v))


def size(case: Case) -> tuple:
    return (len(nodes(case)), len(case.text()))
