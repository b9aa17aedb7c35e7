"""The rule engine: differentials and Frobenius-product identities.

For a scalar f and a variable X, matcalc writes df = 1 : df and then repeatedly
1. **linearizes** a term G : dE — replaces dE by the differential of E's operation, an
   expression that is linear in the differentials of E's children (LINEARIZE, one rule per
   operation, e.g. d(AB) = dA B + A dB), and
2. **moves everything across the Frobenius product** — rewrites G : L(dC) as L*(G) : dC with the
   adjoint L* of that linear map (ADJOINT, one rule per linear operation, e.g. the product's
   two adjoints A : BC = BᵀA : C = ACᵀ : B),
until every term reads Gᵢ : dX; then ∂f/∂X = ΣGᵢ. Nodes are visited parents-first (reverse
topological order), so each node is expanded once with its whole adjoint — this is reverse-mode
differentiation, written the way a textbook derives a gradient.

Definitions (W = XXᵀ) are expanded when their name is met, so the derivative is total; a
defined name that is itself the variable is held as an independent leaf ("X held fixed").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

from .errors import UnsupportedError
from .ir import (Add, Broadcast, Commutation, D, Det, Diag, DiagOf, Expr, Frechet, Frechet2, Frob,
                 Func, Hadamard, HadPow, Identity, Kron, KronFrechet, KronFrechet2, LogDet,
                 LogSoftmax, LogSumExp,
                 MatFunc, MatMul, Mean, Norm, Num, Ones, Power, Softmax, Spectral,
                 SpectralFactor, Sum, Trace, Transpose, Unvec, UserFunc, Var, Variance, Vec, Zero,
                 count, dim_mul, is_scalar, parents_first, product, unbroadcast, walk)
from .memo import memoized
from .simplify import simplify
from .simplify.functions import function_of
from .simplify.powers import repeated_blocks

# --- derivatives of the elementwise functions, f ↦ f′ ------------------------------------------
# Each entry maps the argument A to f′(A); None means f′ = 0 almost everywhere.


def _ones(a: Expr) -> Expr:
    return Num(1) if is_scalar(a) else Broadcast(Num(1), *a.shape)


def _one_minus(b: Expr) -> Expr:
    return Add(_ones(b), MatMul(Num(-1), b))


def _half(e: Expr) -> Expr:
    return MatMul(Num(Fraction(1, 2)), e)


FUNC_DERIVATIVE = {
    "exp": lambda a: Func("exp", a),                                     # exp′ = exp
    "log": lambda a: HadPow(a, Fraction(-1)),                            # log′ = 1 ⊘ A
    "sin": lambda a: Func("cos", a),                                     # sin′ = cos
    "cos": lambda a: MatMul(Num(-1), Func("sin", a)),                    # cos′ = −sin
    "tan": lambda a: Add(_ones(a), HadPow(Func("tan", a), Fraction(2))),  # tan′ = 1 + tan²
    "tanh": lambda a: _one_minus(HadPow(Func("tanh", a), Fraction(2))),   # tanh′ = 1 − tanh²
    "sqrt": lambda a: _half(HadPow(Func("sqrt", a), Fraction(-1))),      # √′ = ½ ⊘ √A
    "abs": lambda a: Func("sign", a),                                    # |x|′ = sign(x) a.e.
    "sign": None,                                                        # sign′ = 0 a.e.
    "sigmoid": lambda a: Hadamard(Func("sigmoid", a), _one_minus(Func("sigmoid", a))),  # σ′ = σ∘(1−σ)
    "relu": lambda a: Func("heaviside", a),                              # relu′ = H a.e.
    "softplus": lambda a: Func("sigmoid", a),                            # softplus′ = σ
    "heaviside": None,                                                   # H′ = 0 a.e. (Dirac dropped)
}

# What is said when the derivative of a spectral function holds, and what its factors are.
SPECTRAL_NOTE = {
    "lmax": "q_max(·) is the unit eigenvector of the largest eigenvalue of a symmetric matrix; "
            "dλ_max = q_maxᵀ d(·) q_max holds where that eigenvalue is simple",
    "lmin": "q_min(·) is the unit eigenvector of the smallest eigenvalue of a symmetric matrix; "
            "dλ_min = q_minᵀ d(·) q_min holds where that eigenvalue is simple",
    "norm2": "u_max(·), v_max(·) are the left and right singular vectors of the largest singular "
             "value, of one sign (Mv_max = ‖M‖₂u_max); d‖·‖₂ = u_maxᵀ d(·) v_max holds where that "
             "singular value is simple and positive",
    "nuclear": "polar(·) = UVᵀ for the thin SVD UΣVᵀ (the orthogonal polar factor); "
               "d‖·‖_* = polar(·) : d(·) holds where the matrix has full rank",
}

# What is said when a derivative holds only almost everywhere.
FUNC_NOTE = {
    "abs": "|x|′ = sign(x) holds almost everywhere (not at 0)",
    "sign": "sign′ = 0 almost everywhere: the Dirac term at 0 is dropped",
    "relu": "relu′ = H, the Heaviside step (1 where x > 0, 0 where x < 0), holds almost everywhere (not at the kink 0)",
    "heaviside": "H′ = 0 almost everywhere: the Dirac term δ at the step is dropped",
}


# --- linearization rules: dE in terms of the children's differentials -----------------------

@dataclass(frozen=True)
class Rule:
    name: str
    law: str


def _terms(parts) -> Expr | None:
    parts = [p for p in parts if p is not None]
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else Add(*parts)


MAX_PRODUCT_TERMS = 200     # terms of a product's or a matrix power's differential
MAX_PRODUCT_FACTORS = 5000  # factors over all the terms of a product's differential


def _within_terms(terms: int, what: str) -> None:
    """A product's differential has a term for each factor that varies: refuse past
    MAX_PRODUCT_TERMS rather than write them all (tr(X¹⁰⁰⁰⁰⁰⁰⁰) would take minutes)."""
    if terms > MAX_PRODUCT_TERMS:
        raise UnsupportedError(
            f"the differential of {what} has a term for each factor that varies, here "
            f"{terms:,}: past the {MAX_PRODUCT_TERMS:,} terms matcalc writes out",
            hint="under a trace a power of any exponent works: d tr(Xᵏ) = k tr(Xᵏ⁻¹dX)")


def _lin_matmul(e, d):
    # d(AB) = dA B + A dB, one term per factor that varies; a block of factors written k times
    # in a row is the power Bᵏ, with its k terms Bⁱ dB Bᵏ⁻¹⁻ⁱ (each term of a product of k
    # factors written out in full is quadratic in k: tr(AA…AX), XAXA…XA)
    blocks = repeated_blocks(list(e.args))
    runs = [(block[0] if len(block) == 1 else MatMul(*block), k) for block, k in blocks]
    # dB of a block of factors B by the product rule over them
    diffs = [d(a) if len(block) == 1 else _lin_matmul(a, d)
             for (a, _), (block, _) in zip(runs, blocks)]
    varying = [(r, da) for r, da in enumerate(diffs) if da is not None]
    count = sum(runs[r][1] * (len(da.args) if isinstance(da, Add) else 1) for r, da in varying)
    _within_terms(count, "a product")
    if count * len(runs) > MAX_PRODUCT_FACTORS:
        # each term is as long as the product: tr(A₀XA₁X…A₉₉X) writes 100 terms of 200 factors
        raise UnsupportedError(
            f"the differential of a product of {len(runs):,} factors has {count:,} terms as long "
            f"as the product: past the {MAX_PRODUCT_FACTORS:,} factors matcalc writes out",
            hint="name repeated parts with definitions (Y = …), or differentiate a shorter "
                 "product")
    terms = []
    for r, da in varying:
        a, k = runs[r]
        before = [f for b, j in runs[:r] for f in _pow(b, j)]
        after = [f for b, j in runs[r + 1:] for f in _pow(b, j)]
        terms += [MatMul(*before, *_pow(a, i), da, *_pow(a, k - 1 - i), *after)
                  for i in range(k)]
    return _terms(terms)


def _kron_factors(e: Expr, through: tuple = ()) -> list:
    """The factors of a chain A₁ ⊗ … ⊗ Aₖ, however it nests; ``through``: node types the
    chain goes on inside (D: d(A ⊗ B) ⊗ C; ∘ and products: (2(A ⊗ B)) ⊗ C, ((A ⊗ B) ∘ 2) ⊗ C),
    their scalar operands left out."""
    factors, todo = [], [e]
    while todo:
        node = todo.pop()
        if isinstance(node, Kron):
            todo.extend(node.args)
        elif isinstance(node, through):
            todo.extend(a for a in node.args if not is_scalar(a) and
                        not (isinstance(a, Broadcast) and is_scalar(a.arg)))
        else:
            factors.append(node)
    return factors


def _lin_kron(e, d):
    # d(A ⊗ B) = dA ⊗ B + A ⊗ dB: over a chain A₁ ⊗ … ⊗ Aₖ a term per factor that varies, each
    # as long as the chain (‖X ⊗ A ⊗ … ⊗ A‖² with 180 factors wrote 100,000 characters)
    factors = _kron_factors(e)
    varying = sum(d(f) is not None for f in factors)
    if varying * len(factors) > MAX_PRODUCT_FACTORS:
        raise UnsupportedError(
            f"the differential of a chain of {len(factors):,} Kronecker products has "
            f"{varying:,} terms as long as the chain: past the {MAX_PRODUCT_FACTORS:,} factors "
            f"matcalc writes out", hint="differentiate a shorter chain")
    return _terms([Kron(d(e.args[0]), e.args[1]) if d(e.args[0]) else None,
                   Kron(e.args[0], d(e.args[1])) if d(e.args[1]) else None])


def _lin_hadamard(e, d):
    # d(A∘B) = dA∘B + A∘dB
    return _terms(Hadamard(*e.args[:i], d(a), *e.args[i + 1:]) if d(a) else None
                  for i, a in enumerate(e.args))


def _lin_hadpow(e, d):
    # d(A^∘k) = k A^∘(k−1) ∘ dA
    k = e.exp
    factor = e.arg if k == 2 else HadPow(e.arg, k - 1)
    return Hadamard(MatMul(Num(k), factor), d(e.arg))


def _lin_power(e, d):
    x, k = e.arg, e.exp
    if is_scalar(x):
        # d(s^p) = p s^(p−1) ds
        rest = [] if k == 1 else ([x] if k == 2 else [Power(x, k - 1)])
        return MatMul(Num(k), *rest, d(x))
    # a power of a power is one power, (Xᵃ)ᵏ = Xᵃᵏ for integers a and k, and so through a
    # transpose, ((Xᵃ)ᵀ)ᵏ = (Xᵃᵏ)ᵀ: its |ak| terms are Xⁱ dX Xʲ, not k terms each holding the a
    # terms of d(Xᵃ) (((X⁻¹⁰)⁻¹⁰)⁻¹⁰ has 1,000 terms; ((((Y⁻ᵀ)¹⁰)⁻ᵀ)¹⁰…)¹⁰⁰ nested the terms
    # of each level in the next, until memory ran out)
    transposed = False
    while k.denominator == 1:
        inner = x.arg if isinstance(x, Transpose) else x
        if not (isinstance(inner, Power) and inner.exp.denominator == 1):
            break
        x, k, transposed = inner.arg, inner.exp * k, transposed != (inner is not x)
    return Transpose(_lin_integer_power(x, k, d)) if transposed else _lin_integer_power(x, k, d)


def _lin_integer_power(x, k, d):
    if k == 1:                                  # (X⁻¹)⁻¹ = X
        return d(x)
    _within_terms(int(abs(k)), "a matrix power")
    if k > 0:
        # d(X^k) = Σᵢ X^i dX X^(k−1−i)
        return _terms(MatMul(*_pow(x, i), d(x), *_pow(x, k - 1 - i)) for i in range(int(k)))
    # d(X^−m) = −Σᵢ X^−i dX X^−(m+1−i), from d(X⁻¹) = −X⁻¹ dX X⁻¹
    m = int(-k)
    return _terms(MatMul(Num(-1), *_pow(x, -i), d(x), *_pow(x, -(m + 1 - i)))
                  for i in range(1, m + 1))


def _pow(x: Expr, k: int) -> list[Expr]:
    return [] if k == 0 else ([x] if k == 1 else [Power(x, Fraction(k))])


def _lin_func(e, d):
    # d f(A) = f′(A) ∘ dA   (f′(a) da for a scalar a)
    deriv = FUNC_DERIVATIVE[e.name]
    if deriv is None:
        return None
    fprime = deriv(e.arg)
    if is_scalar(e):
        return MatMul(fprime, d(e.arg))
    return Hadamard(fprime, d(e.arg))


def _lin_user_func(e, d):
    # d f(A) = f′(A) ∘ dA, f′ derived from the body of f by SymPy
    from .scalar_calculus import derivative
    fprime = UserFunc(e.name + "′", e.param.name, derivative(e.body, e.param), e.arg)
    return MatMul(fprime, d(e.arg)) if is_scalar(e) else Hadamard(fprime, d(e.arg))


def _lin_norm(e, d):
    x = e.arg
    if e.kind == "1":
        # d‖X‖₁ = sign(X) : dX   (a.e.)
        return Frob(Func("sign", x), d(x))
    # d‖X‖_F = (X/‖X‖_F) : dX
    return Frob(MatMul(Power(e, Fraction(-1)), x), d(x))


def _lin_norm_squared(e, d):
    # d‖X‖_F² = 2X : dX
    x = e.arg.arg
    return Frob(MatMul(Num(2), x), d(x))


def _lin_spectral(e, d):
    # dλ_max(A) = q qᵀ : dA for the unit eigenvector q of a simple λ_max (A symmetric)
    # [Cookbook (68); Magnus–Neudecker, ch. 8, Thm 7]; d‖A‖₂ = u vᵀ : dA for the singular
    # vectors of a simple largest singular value; d‖A‖_* = UVᵀ : dA where A has full rank
    a = e.arg
    if e.kind in ("lmax", "lmin"):
        q = SpectralFactor(a, "q" + e.kind[1:])
        gradient = MatMul(q, Transpose(q))
    elif e.kind == "norm2":
        gradient = MatMul(SpectralFactor(a, "umax"), Transpose(SpectralFactor(a, "vmax")))
    else:
        gradient = SpectralFactor(a, "polar")
    return Frob(gradient, d(a))


def _lin_spectral_factor(e, d):
    name = {"qmax": "q_max", "qmin": "q_min", "umax": "u_max", "vmax": "v_max"}.get(e.kind,
                                                                                    e.kind)
    raise UnsupportedError(
        f"the derivative of {name}(·), a factor of a spectral function's gradient (the second "
        "derivative of an eigenvalue or a singular value), is not supported yet",
        hint="ask for the gradient; the Hessian of λ_max, ‖X‖₂ or ‖X‖_* is not derived")


def _lin_frechet(e, d):
    # d L_f(A, E) = L_f(A, E, dA) + L_f(A, dE): the second Fréchet derivative along dA, and
    # L_f(A, ·) linear
    a, direction = e.args
    return _terms([Frechet2(e.name, a, direction, d(a)) if d(a) is not None else None,
                   Frechet(e.name, a, d(direction)) if d(direction) is not None else None])


def _lin_frechet2(e, d):
    # L_f(A, E, F) is bilinear in E and F: d L_f(A, E, F) = L_f(A, dE, F) + L_f(A, E, dF)
    # while A is fixed
    a, first, second = e.args
    if d(a) is not None:
        raise UnsupportedError(
            f"the third derivative of {e.name} (the derivative of L_{e.name[:-1]}(A, E, F) in "
            "A) is not supported yet",
            hint=f"derived through {e.name}: gradients, Jacobians, Hessians and their "
                 "Hessian-vector products")
    return _terms([Frechet2(e.name, a, d(first), second) if d(first) is not None else None,
                   Frechet2(e.name, a, first, d(second)) if d(second) is not None else None])


def _adj_frechet2(e, g):
    # G : L_f(A, E, dF) = L_f(Aᵀ, Eᵀ, G) : dF (the adjoint of the first derivative, G :
    # L_f(A, E) = L_f(Aᵀ, G) : E, differentiated along A), and L_f is symmetric in E and F
    a, first, second = e.args
    lin, other = (second, first) if is_linear(second) else (first, second)
    return [(lin, Frechet2(e.name, Transpose(a), Transpose(other), g))], ADJ_FRECHET2


def _lin_kron_frechet(e, d):
    raise UnsupportedError(
        f"the derivative of K_{e.name[:-1]}(…) (a higher derivative of {e.name}) is not "
        "supported yet", hint=f"K_{e.name[:-1]}(…) may stand in an expression where its "
                              "arguments are fixed")


def _lin_frob(e, d):
    # d(A : B) = dA : B + A : dB
    a, b = e.args
    return _terms([Frob(d(a), b) if d(a) else None, Frob(a, d(b)) if d(b) else None])


def _same_op(e, d):
    # a linear operation commutes with d: d(L(A)) = L(dA)
    return e.with_args(d(a) if d(a) else Zero(*a.shape) for a in e.args)


def axis_sum(a: Expr, axis: int) -> Expr:
    """sum(A, 1) = 𝟏ᵀA (column sums), sum(A, 2) = A𝟏 (row sums)."""
    if axis == 1:
        return MatMul(Transpose(Ones(a.rows, 1)), a)
    return MatMul(a, Ones(a.cols, 1))


def reciprocal(d) -> Expr:
    """1/n for a size n."""
    return Num(Fraction(1, d)) if isinstance(d, int) else Power(count(d), Fraction(-1))


def _lin_variance(e, d):
    # d var(A) = 2 mean((A − mean(A)) ∘ dA), since mean(A − mean(A)) = 0
    a = e.arg
    centered = Add(a, MatMul(Num(-1), Broadcast(Mean(a, e.axis), *a.shape)))
    return MatMul(Num(2), Mean(Hadamard(centered, d(a)), e.axis))


def _softmax_weighted(e, d):
    # sum(S ∘ dA, axis), S = softmax(A): the differential of logsumexp(A)
    return axis_sum(Hadamard(Softmax(e.arg, e.axis), d(e.arg)), e.axis)


def _lin_softmax(e, d):
    # dS = S ∘ dA − S ∘ sum(S ∘ dA, axis), broadcast back along the axis
    a = e.arg
    s = Softmax(a, e.axis)
    back = Broadcast(_softmax_weighted(e, d), *a.shape)
    return Add(Hadamard(s, d(a)), MatMul(Num(-1), Hadamard(s, back)))


def _lin_logsoftmax(e, d):
    # d logsoftmax(A) = dA − sum(S ∘ dA, axis), broadcast back along the axis
    a = e.arg
    return Add(d(a), MatMul(Num(-1), Broadcast(_softmax_weighted(e, d), *a.shape)))


LINEARIZE = {
    Add: (Rule("sum rule", "d(A + B) = dA + dB"),
          lambda e, d: _terms(d(a) for a in e.args)),
    MatMul: (Rule("product rule", "d(AB) = dA B + A dB"), _lin_matmul),
    Hadamard: (Rule("Hadamard product rule", "d(A∘B) = dA∘B + A∘dB"), _lin_hadamard),
    HadPow: (Rule("elementwise power", "d(A^∘k) = kA^∘(k−1) ∘ dA"), _lin_hadpow),
    Power: (Rule("power rule", "d(X^k) = Σᵢ Xⁱ dX X^(k−1−i); d(X⁻¹) = −X⁻¹ dX X⁻¹"),
            _lin_power),
    Kron: (Rule("Kronecker product rule", "d(A⊗B) = dA⊗B + A⊗dB  [Cookbook (39)]"), _lin_kron),
    Transpose: (Rule("transpose", "d(Aᵀ) = (dA)ᵀ"), _same_op),
    Func: (Rule("elementwise function", "d f(A) = f′(A) ∘ dA"), _lin_func),
    Trace: (Rule("trace", "d tr(A) = tr(dA)"), _same_op),
    Det: (Rule("determinant", "d det X = det X · tr(X⁻¹dX)  [Cookbook (46)]"),
          lambda e, d: MatMul(e, Trace(MatMul(Power(e.arg, Fraction(-1)), d(e.arg))))),
    LogDet: (Rule("log-determinant", "d log|det X| = tr(X⁻¹dX)  [Cookbook (57)]"),
             lambda e, d: Trace(MatMul(Power(e.arg, Fraction(-1)), d(e.arg)))),
    Norm: (Rule("norm", "d‖X‖_F = (X/‖X‖_F) : dX; d‖X‖₁ = sign(X) : dX"), _lin_norm),
    Sum: (Rule("sum of entries", "d sum(A) = sum(dA)"), _same_op),
    MatFunc: (Rule("matrix function", "d f(A) = L_f(A, dA), the Fréchet derivative"),
              lambda e, d: Frechet(e.name, e.arg, d(e.arg))),
    Frechet: (Rule("Fréchet derivative", "d L_f(A, E) = L_f(A, E, dA) + L_f(A, dE)"),
              _lin_frechet),
    Spectral: (Rule("spectral function", "dλ_max(A) = qqᵀ : dA; d‖A‖₂ = uvᵀ : dA; "
                    "d‖A‖_* = UVᵀ : dA  [Cookbook (68)]"), _lin_spectral),
    SpectralFactor: (Rule("spectral factor", "not derived"), _lin_spectral_factor),
    Frechet2: (Rule("second Fréchet derivative",
                    "d L_f(A, E, F) = L_f(A, dE, F) + L_f(A, E, dF) (A fixed)"), _lin_frechet2),
    KronFrechet: (Rule("Kronecker form of a Fréchet derivative", "not derived"),
                  _lin_kron_frechet),
    KronFrechet2: (Rule("Kronecker form of a Fréchet derivative", "not derived"),
                   _lin_kron_frechet),
    Frob: (Rule("Frobenius product rule", "d(A : B) = dA : B + A : dB"), _lin_frob),
    Diag: (Rule("Diag", "d Diag(v) = Diag(dv)"), _same_op),
    DiagOf: (Rule("diag", "d diag(A) = diag(dA)"), _same_op),
    Vec: (Rule("vec", "d vec(A) = vec(dA)"), _same_op),
    Unvec: (Rule("vec⁻¹", "d vec⁻¹(a) = vec⁻¹(da)"), _same_op),
    Broadcast: (Rule("broadcast", "d(a𝟏ᵀ) = (da)𝟏ᵀ"), _same_op),
    UserFunc: (Rule("elementwise function", "d f(A) = f′(A) ∘ dA"), _lin_user_func),
    Mean: (Rule("mean", "d mean(A) = mean(dA)"), _same_op),
    Variance: (Rule("variance", "d var(A) = 2 mean((A − mean(A)) ∘ dA)"), _lin_variance),
    LogSumExp: (Rule("log-sum-exp", "d logsumexp(A) = sum(softmax(A) ∘ dA)"),
                _softmax_weighted),
    Softmax: (Rule("softmax", "dS = S ∘ dA − S ∘ sum(S ∘ dA), S = softmax(A)"), _lin_softmax),
    LogSoftmax: (Rule("log-softmax", "d logsoftmax(A) = dA − sum(softmax(A) ∘ dA)"),
                 _lin_logsoftmax),
}
NORM_SQUARED = (Rule("squared norm", "d‖X‖_F² = d(X : X) = 2X : dX"), _lin_norm_squared)


def linearize_rule(e: Expr):
    if isinstance(e, Power) and e.exp == 2 and isinstance(e.arg, Norm) and e.arg.kind == "F":
        return NORM_SQUARED
    return LINEARIZE[type(e)]


# --- adjoints of the linear operations: G : L(dC) = L*(G) : dC -------------------------------

def _adj_matmul(e: MatMul, g: Expr):
    (i, lin), = [(i, a) for i, a in enumerate(e.args) if is_linear(a)]
    others = e.args[:i] + e.args[i + 1:]
    scalars = [a for a in others if is_scalar(a)]
    if is_scalar(lin):
        # G : (ds M) = (G : M) ds — a 1×1 factor is a scalar multiplier wherever it stands,
        # so it collects the Frobenius product with the rest of the chain (M = 1 if none)
        chain = product(a for a in others if not is_scalar(a))
        return [(lin, product(scalars + [Frob(g, chain)]))], ADJ_SCALAR
    chain_before = [a for a in e.args[:i] if not is_scalar(a)]
    chain_after = [a for a in e.args[i + 1:] if not is_scalar(a)]
    # G : B dC D = BᵀG Dᵀ : dC   (A : BC = BᵀA : C = ACᵀ : B)
    factors = ([Transpose(product(chain_before))] if chain_before else []) + [g] + \
              ([Transpose(product(chain_after))] if chain_after else [])
    return [(lin, product(scalars + factors))], ADJ_PRODUCT


def _adj_hadamard(e: Hadamard, g: Expr):
    # G : (B ∘ dC) = (G ∘ B) : dC
    (i, lin), = [(i, a) for i, a in enumerate(e.args) if is_linear(a)]
    others = e.args[:i] + e.args[i + 1:]
    return [(lin, Hadamard(g, *others))], ADJ_HADAMARD


def _adj_frob(e: Frob, g: Expr):
    # g (A : dB) = (gA) : dB
    a, b = e.args
    lin, other = (a, b) if is_linear(a) else (b, a)
    return [(lin, _scaled(g, other))], ADJ_FROB


def _sum_of(terms: list) -> Expr:
    return terms[0] if len(terms) == 1 else Add(*terms)


def _scaled(g: Expr, e: Expr) -> Expr:
    return e if g == Num(1) else MatMul(g, e)


def commutation(m, n) -> Expr:
    """K with vec(Aᵀ) = K vec(A) for an m×n A; for a vector vec(aᵀ) = vec(a), K = I."""
    return Identity(dim_mul(m, n)) if 1 in (m, n) else Commutation(m, n)


def kron_shuffle(a: Expr, b: Expr) -> Expr:
    """P with vec(A ⊗ B) = P(vec A ⊗ vec B): P = I_n ⊗ K_qm ⊗ I_p for A m×n and B p×q
    [Magnus–Neudecker, ch. 3, Thm 10]."""
    (m, n), (p, q) = a.shape, b.shape
    return Kron(Kron(Identity(n), commutation(q, m)), Identity(p))


def kron_split(g: Expr, left, right) -> list | None:
    """G as a sum of Kronecker products Σ Cᵢ ⊗ Dᵢ with Cᵢ of the shape ``left`` and Dᵢ of the
    shape ``right``, where G's form shows one: C ⊗ D itself, I_mn = I_m ⊗ I_n, 𝟏𝟏ᵀ = 𝟏𝟏ᵀ ⊗ 𝟏𝟏ᵀ,
    their scalar multiples, transposes and sums; None otherwise."""
    if isinstance(g, Kron) and g.args[0].shape == left:
        return [tuple(g.args)]
    if isinstance(g, Identity) and left[0] == left[1] and right[0] == right[1]:
        return [(Identity(left[0]), Identity(right[0]))]
    if isinstance(g, Ones):
        return [(Ones(*left), Ones(*right))]
    if isinstance(g, Transpose):
        pairs = kron_split(g.arg, left[::-1], right[::-1])
        return None if pairs is None else [(Transpose(c), Transpose(d)) for c, d in pairs]
    if isinstance(g, MatMul) and not is_scalar(g):
        chain = [f for f in g.args if not is_scalar(f)]
        pairs = kron_split(product(chain), left, right) if len(chain) == 1 else None
        scalars = [f for f in g.args if is_scalar(f)]
        return None if pairs is None else [(product(scalars + [c]), d) for c, d in pairs]
    if isinstance(g, Add):
        parts = [kron_split(t, left, right) for t in g.args]
        return None if None in parts else [pair for part in parts for pair in part]
    return None


def _adj_kron(e, g):
    a, b = e.args
    pairs = kron_split(g, a.shape, b.shape)
    if pairs is not None:
        # (C ⊗ D) : (dA ⊗ B) = (C : dA)(D : B), (C ⊗ D) : (A ⊗ dB) = (C : A)(D : dB)
        # [Magnus–Neudecker, ch. 2: tr((C ⊗ D)ᵀ(A ⊗ B)) = tr(CᵀA) tr(DᵀB)]
        if is_linear(a):
            return [(a, _sum_of([MatMul(Frob(d, b), c) for c, d in pairs]))], ADJ_KRON_SPLIT
        return [(b, _sum_of([MatMul(Frob(c, a), d) for c, d in pairs]))], ADJ_KRON_SPLIT
    # block by block: the (i, j) block of dA ⊗ B is dA_ij B, so G : (dA ⊗ B) = Σ dA_ij (G_ij : B),
    # the blocks of G ∘ (𝟏𝟏ᵀ ⊗ B) summed, (I ⊗ 𝟏ᵀ)(G ∘ (𝟏𝟏ᵀ ⊗ B))(I ⊗ 𝟏); and
    # G : (A ⊗ dB) = (Σ A_ij G_ij) : dB, (𝟏ᵀ ⊗ I)(G ∘ (A ⊗ 𝟏𝟏ᵀ))(𝟏 ⊗ I) : dB
    _within_kronecker_chain(e)
    (m, n), (p, q) = a.shape, b.shape
    if is_linear(a):
        blocks = Hadamard(g, Kron(Ones(m, n), b))
        return [(a, MatMul(Kron(Identity(m), Transpose(Ones(p, 1))), blocks,
                           Kron(Identity(n), Ones(q, 1))))], ADJ_KRON
    blocks = Hadamard(g, Kron(a, Ones(p, q)))
    return [(b, MatMul(Kron(Transpose(Ones(m, 1)), Identity(p)), blocks,
                       Kron(Ones(n, 1), Identity(q))))], ADJ_KRON


MAX_KRONECKER_CHAIN = 6    # factors of a chain of ⊗ whose adjoint is written block by block


def _within_kronecker_chain(e: Expr) -> None:
    """The adjoint of a factor of A₁ ⊗ A₂ ⊗ … ⊗ Aₖ, block by block, nests a block sum for each
    factor around it, with sizes of up to k symbols: k factors that vary write k terms nested
    up to k deep (the Jacobian of A ⊗ X ⊗ … ⊗ X with 50 factors took minutes to print).
    Refused past MAX_KRONECKER_CHAIN factors (the chain goes on inside a differential,
    d(A ⊗ B) ⊗ C)."""
    factors = _chain_length(e)
    if factors > MAX_KRONECKER_CHAIN:
        raise UnsupportedError(
            f"the adjoint of a factor of a chain of {factors:,} Kronecker products nests a "
            f"block sum for each factor: past the {MAX_KRONECKER_CHAIN} factors matcalc "
            f"writes out", hint="differentiate a shorter chain, or a sum of its entries")


def _chain_length(e: Kron) -> int:
    """How many factors long the chain of ⊗ around e is: its factors other than scalars,
    however it nests (through differentials, ∘ and products: x ⊗ 2n ∘ 2 ⊗ …), or the symbols
    its rows or columns multiply, where more (each factor multiplies its size by its own:
    k·k·…·m is a chain also through definitions, Y₂ = Y₁ ⊗ b)."""
    symbols = max(sum(not part.isdigit() for part in d.split("·")) if isinstance(d, str) else 0
                  for d in e.shape)
    factors = _kron_factors(e, through=(D, Hadamard, MatMul, Transpose))
    return max(sum(not is_scalar(f) for f in factors), symbols)


ADJ_PRODUCT = Rule("Frobenius rotation", "A : BC = BᵀA : C = ACᵀ : B")
ADJ_SCALAR = Rule("scalar factor", "G : (sM) = (G : M) s")
ADJ_HADAMARD = Rule("Hadamard rotation", "A : (B∘C) = (A∘B) : C")
ADJ_TRANSPOSE = Rule("transpose rotation", "A : Bᵀ = Aᵀ : B")
ADJ_TRACE = Rule("trace as Frobenius product", "g tr(A) = gI : A")
ADJ_SUM = Rule("sum as Frobenius product", "g sum(A) = g𝟏𝟏ᵀ : A")
ADJ_FROB = Rule("Frobenius symmetry", "g (A : B) = gA : B")
ADJ_DIAG = Rule("Diag adjoint", "G : Diag(v) = diag(G) : v")
ADJ_DIAGOF = Rule("diag adjoint", "g : diag(A) = Diag(g) : A")
ADJ_VEC = Rule("vec adjoint", "g : vec(A) = vec⁻¹(g) : A")
ADJ_BROADCAST = Rule("broadcast adjoint", "G : a𝟏ᵀ = G𝟏 : a;  G : 𝟏bᵀ = Gᵀ𝟏 : b;  G : s𝟏𝟏ᵀ = sum(G) s")
ADJ_MEAN = Rule("mean adjoint", "g : mean(A, 1) = (1/m)𝟏g : A;  g : mean(A, 2) = (1/n)g𝟏ᵀ : A")
ADJ_KRON = Rule("Kronecker adjoint", "G : (dA ⊗ B) = (I ⊗ 𝟏ᵀ)(G ∘ (𝟏𝟏ᵀ ⊗ B))(I ⊗ 𝟏) : dA;  "
                "G : (A ⊗ dB) = (𝟏ᵀ ⊗ I)(G ∘ (A ⊗ 𝟏𝟏ᵀ))(𝟏 ⊗ I) : dB (G's blocks)")
ADJ_KRON_SPLIT = Rule("Kronecker adjoint", "(C ⊗ D) : (dA ⊗ B) = (C : dA)(D : B)")
ADJ_FRECHET = Rule("Fréchet adjoint", "G : L_f(A, E) = L_f(Aᵀ, G) : E")
ADJ_FRECHET2 = Rule("Fréchet adjoint", "G : L_f(A, E, F) = L_f(Aᵀ, Eᵀ, G) : F")
ADJ_SUMRULE = Rule("linearity", "G : (A + B) = G : A + G : B")

ADJOINT = {
    MatMul: _adj_matmul,
    Hadamard: _adj_hadamard,
    Transpose: lambda e, g: ([(e.arg, Transpose(g))], ADJ_TRANSPOSE),
    Trace: lambda e, g: ([(e.arg, _scaled(g, Identity(e.arg.rows)))], ADJ_TRACE),
    Sum: lambda e, g: ([(e.arg, _scaled(g, Ones(*e.arg.shape)))], ADJ_SUM),
    Frob: _adj_frob,
    Diag: lambda e, g: ([(e.arg, DiagOf(g))], ADJ_DIAG),
    DiagOf: lambda e, g: ([(e.arg, Diag(g))], ADJ_DIAGOF),
    Vec: lambda e, g: ([(e.arg, Unvec(g, *e.arg.shape))], ADJ_VEC),
    Unvec: lambda e, g: ([(e.arg, Vec(g))], ADJ_VEC),
    Broadcast: lambda e, g: ([(e.arg, unbroadcast(g, e.arg.shape))], ADJ_BROADCAST),
    Kron: _adj_kron,
    # G : L_f(A, dE) = L_f(Aᵀ, G) : dE for f with a real power series [Higham, Functions of
    # Matrices, (3.20)]: so tr(L_f(A, dA)) = f′(Aᵀ) : dA
    Frechet: lambda e, g: ([(e.args[1], Frechet(e.name, Transpose(e.args[0]), g))],
                           ADJ_FRECHET),
    Frechet2: _adj_frechet2,
    Mean: lambda e, g: ([(e.arg, MatMul(reciprocal(e.length), Broadcast(g, *e.arg.shape)))],
                        ADJ_MEAN),
}


@memoized(1 << 14)
def is_linear(e: Expr) -> bool:
    """Does e contain a differential? (Memoized: a differential shares its subtrees.)"""
    return isinstance(e, D) or any(is_linear(a) for a in e.args)


def pull_back(lin: Expr, g: Expr, rules: list) -> list[tuple[Expr, Expr]]:
    """G : L(dC₁, dC₂, …) rewritten as Σ L*ᵢ(G) : dCᵢ — returns [(Cᵢ, L*ᵢ(G))]."""
    if isinstance(lin, D):
        return [(lin.arg, g)]
    if isinstance(lin, Add):
        rules.append(ADJ_SUMRULE)
        return [pair for term in lin.args for pair in pull_back(term, g, rules)]
    pairs, rule = ADJOINT[type(lin)](lin, g)
    rules.append(rule)
    out = []
    for inner, adj in pairs:
        out.extend(pull_back(inner, adj, rules))
    return out


# --- the derivation -------------------------------------------------------------------------

@dataclass
class Gradient:
    wrt: Var
    expr: Expr                          # ∂f/∂X, simplified
    notes: list = field(default_factory=list)
    mask: Expr | None = None            # where ∂f/∂X is 0 through masks alone: the first


def gradient(f: Expr, wrt: Var, definitions: dict) -> Gradient:
    """∂f/∂wrt for a scalar f, through the definitions (name → expression)."""
    if not is_scalar(f):
        raise UnsupportedError(
            f"the expression is not a scalar (it is {f.shape[0]}×{f.shape[1]}), so it has no "
            "gradient", hint="ask for the Jacobian with --jacobian, or reduce it to a scalar, "
            "e.g. sum(G ∘ F) for an upstream gradient G")

    def children(e: Expr) -> tuple:
        if isinstance(e, Var) and e.name in definitions and e != wrt:
            return (definitions[e.name],)
        return e.args

    order = parents_first(f, children)
    depends: dict = {}          # node → does it depend on wrt (children before their parents)
    for e in reversed(order):
        depends[e] = e == wrt or any(depends[c] for c in children(e))
    dep = depends.__getitem__
    # node → the terms of its adjoint G, in order of appearance; a node's terms are summed
    # once, when all its parents have given theirs (summed at each parent, the adjoint of X in
    # tr(A₁X) + … + tr(AₖX) was simplified k times over up to k terms)
    pending: dict = {}
    if dep(f):
        pending[f] = [Num(1)]
    result = Gradient(wrt, Zero(*wrt.shape))
    for node in order:
        if node not in pending or node == wrt:
            continue
        g = simplify(_sum_of(pending.pop(node)))
        if _commutes_with_power(node, g):
            # G : d(Xᵏ) = Σᵢ (Xᵀ)ⁱG(Xᵀ)ᵏ⁻¹⁻ⁱ : dX = kG(Xᵀ)ᵏ⁻¹ : dX when G commutes with Xᵀ
            # (d tr(Xᵏ) = k tr(Xᵏ⁻¹dX)), one term whatever k is
            x, k = node.arg, node.exp
            if dep(x):
                pending.setdefault(x, []).append(MatMul(Num(k), g, *_pow(Transpose(x), k - 1)))
            continue
        if isinstance(node, Var):           # a defined name: dY = d(its definition)
            lin = D(definitions[node.name])
        else:
            lin = linearize_rule(node)[1](node, lambda c: D(c) if dep(c) else None)
            if isinstance(node, Func) and node.name in FUNC_NOTE:
                _note(result, FUNC_NOTE[node.name])
            if isinstance(node, Spectral):
                _note(result, SPECTRAL_NOTE[node.kind])
            # ‖X‖₁ = sum(|X|); ‖s‖ = |s| of a 1×1 s that may be negative
            if isinstance(node, Norm) and (node.kind == "1" or is_scalar(node.arg) and
                                           simplify(node) != node.arg):
                _note(result, FUNC_NOTE["abs"])
            if isinstance(node, UserFunc):
                kinked = sorted({n.name for n in walk(node.body)
                                 if isinstance(n, Func) and n.name in FUNC_NOTE})
                if kinked:
                    _note(result, f"{node.name}′ holds almost everywhere: the body of "
                                  f"{node.name} has {', '.join(kinked)}")
        if lin is None:                     # the differential vanishes (a.e.)
            continue
        # moved across the Frobenius product: the children take the node's place
        for child, adj in pull_back(lin, g, []):
            if dep(child):
                pending.setdefault(child, []).append(adj)
    result.expr = simplify(_sum_of(pending[wrt])) if wrt in pending else Zero(*wrt.shape)
    if isinstance(result.expr, Zero) and FUNC_NOTE["heaviside"] in result.notes:
        # the variable stood only in masks: the first, for the note (api.gradient_notes)
        result.mask = next(n for n in order if isinstance(n, Func) and n.name == "heaviside"
                           and dep(n))
    return result


def _commutes_with_power(node: Expr, g: Expr) -> bool:
    """Is node a matrix power Xᵏ (k an integer, |k| > 1) and its adjoint g a function of Xᵀ
    (I, a multiple of it, a power of Xᵀ, …), so that g commutes with Xᵀ?"""
    return isinstance(node, Power) and not is_scalar(node) and node.exp.denominator == 1 \
        and abs(node.exp) > 1 and function_of(g, Transpose(node.arg))


def _note(result: Gradient, text: str) -> None:
    if text not in result.notes:
        result.notes.append(text)
