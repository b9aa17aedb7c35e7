"""Rules of functions: entrywise and matrix functions, their Fréchet derivatives, log|det| and
the reductions along an axis (softmax, logsumexp, var).
"""

from __future__ import annotations

from fractions import Fraction

from ..ir import (
    Add,
    Broadcast,
    Expr,
    Frechet,
    Frechet2,
    Func,
    Identity,
    LogDet,
    LogSumExp,
    MatFunc,
    MatMul,
    Norm,
    Num,
    Power,
    Softmax,
    Transpose,
    Zero,
    is_scalar,
    normal_form,
    product,
)
from ..memo import memoized
from .engine import simplify
from .terms import ONE, coeff_and_rest, is_orthogonal, is_zero, scalars_out


# the functions whose value at a number is a number: |c|, sign(c), relu(c), H(c) (0 at 0, as
# the code computes it), and the others where they are exact (exp 0 = 1, log 1 = 0, sin 0 = 0)
AT_A_NUMBER = {
    "abs": abs, "sign": lambda c: (c > 0) - (c < 0), "relu": lambda c: max(c, 0),
    "heaviside": lambda c: int(c > 0),
}
EXACT_VALUES = {("exp", 0): 1, ("log", 1): 0, ("sin", 0): 0, ("cos", 0): 1, ("tan", 0): 0,
                ("tanh", 0): 0, ("sqrt", 0): 0, ("sqrt", 1): 1, ("sigmoid", 0): Fraction(1, 2)}


def func_rules(e: Expr) -> Expr:
    """An entrywise function of a broadcast is the broadcast of its value: f(s𝟏𝟏ᵀ) = f(s)𝟏𝟏ᵀ;
    of a number, its value where that is a number (relu(1) = 1, |0| = 0); |s| = s where the
    scalar s ≥ 0; a number leaves |·| and sign(·)."""
    a = e.arg
    if isinstance(e, Func) and isinstance(a, Num):
        if e.name in AT_A_NUMBER:
            return Num(Fraction(AT_A_NUMBER[e.name](a.value)))
        if (e.name, a.value) in EXACT_VALUES:
            return Num(Fraction(EXACT_VALUES[e.name, a.value]))
        return e
    if isinstance(e, Func) and isinstance(a, Zero):         # f(0) = f(0)𝟏𝟏ᵀ entrywise
        return Broadcast(Func(e.name, Num(0)), *e.shape)
    if isinstance(a, Broadcast):
        return Broadcast(e.with_args([a.arg]), *e.shape)
    if isinstance(e, Func) and e.name in ("abs", "sign"):
        if e.name == "abs" and is_scalar(a) and _nonnegative(a):
            return a
        c, rest = coeff_and_rest(a)             # |cA| = |c| |A|, sign(cA) = sign(c) sign(A)
        if c not in (0, 1):
            scale = abs(c) if e.name == "abs" else (1 if c > 0 else -1)
            return MatMul(Num(scale), Func(e.name, rest))
    return e


def _nonnegative(s: Expr) -> bool:
    """Is the scalar s ≥ 0 for every value of its names: a Gram form aᵀa, a norm, an even
    power, or a positive multiple or product of these?"""
    if isinstance(s, Num):
        return s.value >= 0
    if isinstance(s, Norm):
        return True
    if isinstance(s, Power):
        return s.exp.denominator == 1 and s.exp.numerator % 2 == 0
    if isinstance(s, MatMul):
        if len(s.args) == 2 and s.args[0] == simplify(Transpose(s.args[1])):
            return True
        return all(is_scalar(f) and _nonnegative(f) for f in s.args)
    return False


def matfunc_rules(e: MatFunc) -> Expr:
    """f(Aᵀ) = f(A)ᵀ for a matrix function; of a 1×1 matrix it is the scalar function."""
    a = e.arg
    if is_scalar(a):
        return Func(e.name[:-1], a)
    scalars = [f for f in a.args if is_scalar(f)] if isinstance(a, MatMul) else []
    chain = [f for f in a.args if not is_scalar(f)] if scalars else [a]
    if len(chain) == 1 and isinstance(chain[0], Transpose):     # f(sAᵀ) = f(sA)ᵀ
        return Transpose(MatFunc(e.name, product(scalars + [chain[0].arg])))
    return e


def frechet2_rules(e: Frechet2) -> Expr:
    """L_f(A, E, F) is bilinear: 0 when E or F is, scalar factors out of each."""
    a, first, second = e.args
    if is_zero(first) or is_zero(second):
        return Zero(*e.shape)
    return scalars_out(first, lambda m: Frechet2(e.name, a, m, second)) or \
        scalars_out(second, lambda m: Frechet2(e.name, a, first, m)) or e


def frechet_rules(e: Frechet) -> Expr:
    """L_f(A, 0) = 0; L_f(A, cE) = c L_f(A, E); L_f(A, I) = f′(A), since I commutes with A
    (expm′ = expm, logm′(A) = A⁻¹); of 1×1 matrices f′(a)e."""
    a, direction = e.args
    if is_zero(direction):
        return Zero(*e.shape)
    scaled = scalars_out(direction, lambda m: Frechet(e.name, a, m))    # linear in E
    if scaled is not None and not is_scalar(a):
        return scaled
    derivative = MatFunc(e.name, a) if e.name == "expm" else Power(a, Fraction(-1))
    if is_scalar(a):
        return MatMul(direction, derivative)
    factors = direction.args if isinstance(direction, MatMul) else (direction,)
    chain = [f for f in factors if not is_scalar(f)]
    if len(chain) == 1 and isinstance(chain[0], Identity):
        return product([f for f in factors if is_scalar(f)] + [derivative])
    if function_of(direction, a):
        return MatMul(derivative, direction)      # E = g(A) commutes with A: L_f(A, E) = f′(A)E
    return e


@memoized(1 << 14)
def function_of(e: Expr, a: Expr) -> bool:
    """Is e a function of the matrix a by its form (a itself, I, a power, inverse or matrix
    function of one, their sums, products and multiples), so that it commutes with a? The same
    of aᵀ for eᵀ. (Memoized: an adjoint shares its parts, and asked part by part of a nest of
    powers it was asked of each part once per level.)"""
    if isinstance(e, Transpose) and isinstance(a, Transpose):
        return function_of(e.arg, a.arg)
    if e == a or isinstance(e, Identity) or is_scalar(e) or normal_form(e) == normal_form(a):
        return True
    if isinstance(e, (Power, MatFunc)):
        return function_of(e.arg, a)
    if isinstance(e, (Add, MatMul)):
        return all(function_of(f, a) for f in e.args)
    return False


def logdet_rules(e: LogDet) -> Expr:
    """log|det Q| = 0 for an orthogonal Q (|det Q| = 1)."""
    return Num(0) if is_orthogonal(e.arg) else e


def axis_rules(e: Expr) -> Expr:
    """Along an axis of length 1 each group has one entry: softmax(A) = 𝟏𝟏ᵀ, logsoftmax(A) = 0,
    logsumexp(A) = A, var(A) = 0."""
    if e.length != 1:
        return e
    if isinstance(e, Softmax):
        return Broadcast(ONE, *e.shape)
    if isinstance(e, LogSumExp):
        return e.arg
    return Zero(*e.shape)
