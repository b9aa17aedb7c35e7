"""The vocabulary every rule family shares: zero and all-ones arrays, a term as its
coefficient times the rest, and the scalar factors of a product.
"""

from __future__ import annotations

from fractions import Fraction

from ..ir import (
    SCALAR,
    Broadcast,
    Expr,
    MatMul,
    Num,
    Ones,
    Transpose,
    Var,
    Zero,
    is_scalar,
    product,
)

ONE = Num(1)


def scalar_factors(s: Expr) -> list:
    """A scalar product as its scalar factors, its matrix chain one of them: (xᵀAx)/(xᵀx)² →
    [(xᵀx)⁻², xᵀAx]."""
    if not isinstance(s, MatMul) or all(not is_scalar(p) for p in s.args):
        return [s]
    chain = [p for p in s.args if not is_scalar(p)]
    return [p for p in s.args if is_scalar(p)] + ([product(chain)] if chain else [])


# (exact types: these node types have no subclasses, and the tests run on every factor of
# every chain simplified)
def is_zero(e: Expr) -> bool:
    kind = type(e)
    return kind is Zero or (kind is Num and e.value == 0) or \
        (kind is Broadcast and is_zero(e.args[0]))


def is_ones(e: Expr) -> bool:
    """An all-ones array (the unit of ∘): 1, 𝟏, 𝟏ᵀ, 𝟏𝟏ᵀ, or a broadcast 1."""
    kind = type(e)
    return e is ONE or kind is Ones or (kind is Broadcast and e.args[0] is ONE) or \
        (kind is Transpose and type(e.args[0]) is Ones)


def zero_like(e: Expr) -> Expr:
    return Num(0) if is_scalar(e) else Zero(*e.shape)


def coeff_and_rest(e: Expr) -> tuple[Fraction, Expr | None]:
    """c·R → (c, R); a bare number → (c, None)."""
    if isinstance(e, Num):
        return e.value, None
    if isinstance(e, MatMul) and isinstance(e.args[0], Num):
        rest = e.args[1:]
        return e.args[0].value, rest[0] if len(rest) == 1 else MatMul(*rest)
    return Fraction(1), e


def scale(c: Fraction, rest: Expr | None, shape) -> Expr:
    if rest is None:
        return Num(c) if shape == SCALAR else Broadcast(Num(c), *shape)
    if c == 0:
        return zero_like(rest)
    if c == 1:
        return rest
    if isinstance(rest, MatMul):
        return MatMul(Num(c), *rest.args)
    return MatMul(Num(c), rest)


def is_ones_col(e: Expr) -> bool:
    return isinstance(e, Ones) and e.cols == 1


def is_ones_row(e: Expr) -> bool:
    return isinstance(e, Transpose) and is_ones_col(e.arg)


def is_orthogonal(e: Expr) -> bool:
    return type(e) is Var and e.params[2] == "orthogonal"       # (structure)


def scalars_out(a: Expr, op) -> Expr | None:
    """op(sA) = s op(A) for a linear op and the scalar factors s of a matrix product; None if
    there are none."""
    if not isinstance(a, MatMul) or is_scalar(a):
        return None
    scalars = [f for f in a.args if is_scalar(f)]
    if not scalars:
        return None
    return MatMul(*scalars, op(product(f for f in a.args if not is_scalar(f))))
