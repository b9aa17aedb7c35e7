"""Rules of the Frobenius product A : B (written as a trace, sum or product where it is one) and
of norms.
"""

from __future__ import annotations

from fractions import Fraction

from ..ir import (
    Broadcast,
    Expr,
    Frob,
    Func,
    Identity,
    MatMul,
    Norm,
    Num,
    Power,
    Sum,
    Trace,
    Transpose,
    is_scalar,
    unbroadcast,
)
from .terms import is_ones, is_ones_row, is_zero, scalars_out


def frob_rules(e: Frob) -> Expr:
    """a : b = ab for scalars; A : I = tr(A); A : 𝟏𝟏ᵀ = sum(A); (sA) : B = s(A : B);
    a broadcast leaves as the sum over its axes, 𝟏r : A = r : 𝟏ᵀA; A : A = ‖A‖_F²;
    a : b = aᵀb for vectors; Aᵀ : B = A : Bᵀ = tr(AB) for matrices."""
    a, b = e.args
    if is_zero(a) or is_zero(b):
        return Num(0)
    for ones, other in ((a, b), (b, a)):
        if is_ones(ones) or is_ones_row(ones):
            return Sum(other)
    if is_scalar(a):
        return MatMul(a, b)
    if isinstance(b, Identity):
        return Trace(a)
    if isinstance(a, Identity):
        return Trace(b)
    scaled = scalars_out(a, lambda m: Frob(m, b)) or scalars_out(b, lambda m: Frob(a, m))
    if scaled is not None:
        return scaled
    for stretched, other in ((a, b), (b, a)):
        if isinstance(stretched, Broadcast):      # 𝟏r : A = r : 𝟏ᵀA, s𝟏𝟏ᵀ : A = s sum(A)
            return Frob(stretched.arg, unbroadcast(other, stretched.arg.shape))
    if a == b:
        return Power(Norm(a, "F"), Fraction(2))  # A : A = ‖A‖_F²
    if a.cols == 1:
        return MatMul(Transpose(a), b)          # a : b = aᵀb for vectors
    if a.rows == 1:
        return MatMul(a, Transpose(b))          # and abᵀ for rows
    for flipped, other in ((a, b), (b, a)):
        if isinstance(flipped, Transpose):      # Aᵀ : B = Σ Aⱼᵢ Bᵢⱼ = tr(AB)
            return Trace(MatMul(flipped.arg, other))
    return e


def norm_rules(e: Norm) -> Expr:
    """Every norm of a 1×1 s is its absolute value: ‖s‖ = |s| (= s where s ≥ 0, ‖xᵀx‖₂ = xᵀx)."""
    return Func("abs", e.arg) if is_scalar(e.arg) else e
