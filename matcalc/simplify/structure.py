"""Rules of the structural maps: diag, Diag, vec, vec⁻¹, Kronecker products, the commutation
matrix and 1×1 identities.
"""

from __future__ import annotations

from ..ir import (
    SCALAR,
    Commutation,
    Diag,
    DiagOf,
    Expr,
    Identity,
    Kron,
    MatMul,
    Num,
    Transpose,
    Unvec,
    Var,
    Vec,
    Zero,
    is_scalar,
)
from .terms import ONE, coeff_and_rest, is_zero


def structural_rules(e: Expr) -> Expr:
    """diag(Diag(v)) = v; diag(Aᵀ) = diag(A); vec⁻¹(vec(A)) = A; vec(vec⁻¹(a)) = a; vec(a) = a,
    vec(aᵀ) = a and vec⁻¹(a) = a or aᵀ for vectors; f(0) stays;
    each is the identity map on a scalar."""
    a = e.arg
    if is_scalar(a) and is_scalar(e):
        return a
    if isinstance(e, DiagOf) and isinstance(a, Diag):
        return a.arg
    if isinstance(e, DiagOf) and isinstance(a, Transpose):
        return DiagOf(a.arg)          # diag(Aᵀ) = diag(A)
    if isinstance(e, Diag) and isinstance(a, DiagOf) and isinstance(a.arg, Var) \
            and a.arg.structure == "diagonal":
        return a.arg                  # Diag(diag(D)) = D for a diagonal D
    if isinstance(e, Unvec) and isinstance(a, Vec) and a.arg.shape == e.shape:
        return a.arg
    if isinstance(e, Vec) and isinstance(a, Unvec):
        return a.arg
    if isinstance(e, Vec) and a.cols == 1:
        return a                      # a vector is its own vec
    if isinstance(e, Vec) and a.rows == 1:
        return Transpose(a)           # and a row's is its transpose
    if isinstance(e, Unvec) and e.cols == 1:
        return a                      # vec⁻¹ into a column keeps the vector
    if isinstance(e, Unvec) and e.rows == 1:
        return Transpose(a)           # and into a row transposes it
    if is_zero(a) and isinstance(e, (Diag, DiagOf, Vec, Unvec)):
        return Zero(*e.shape)
    return e


def kron_rules(e: Kron) -> Expr:
    """0 ⊗ B = A ⊗ 0 = 0; I₁ ⊗ A = A ⊗ I₁ = A; Iₘ ⊗ Iₙ = Iₘₙ; (cA) ⊗ B = c(A ⊗ B); a ⊗ bᵀ =
    bᵀ ⊗ a = abᵀ for a column a and a row bᵀ."""
    a, b = e.args
    if is_zero(a) or is_zero(b):
        return Zero(*e.shape)
    if isinstance(a, Identity) and isinstance(b, Identity):
        return Identity(e.rows)
    for col, row in ((a, b), (b, a)):
        if col.cols == 1 and row.rows == 1 and not is_scalar(col) and not is_scalar(row):
            return MatMul(col, row)
    for one, other in ((a, b), (b, a)):
        if (isinstance(one, Identity) or is_scalar(one)) and one.shape == SCALAR:
            return other if one in (ONE, Identity(1)) else MatMul(one, other)
    ca, ra = coeff_and_rest(a)
    cb, rb = coeff_and_rest(b)
    if ca * cb != 1 and ra is not None and rb is not None:
        return MatMul(Num(ca * cb), Kron(ra, rb))
    return e


def mixed_product(e: MatMul) -> Expr:
    """(A ⊗ B)(C ⊗ D) = AC ⊗ BD when the shapes allow."""
    args = list(e.args)
    for i in range(len(args) - 1):
        p, q = args[i], args[i + 1]
        if isinstance(p, Kron) and isinstance(q, Kron) and p.args[0].cols == q.args[0].rows \
                and p.args[1].cols == q.args[1].rows:
            merged = Kron(MatMul(p.args[0], q.args[0]), MatMul(p.args[1], q.args[1]))
            return MatMul(*args[:i], merged, *args[i + 2:]) if len(args) > 2 else merged
    return e


def identity_rules(e: Expr) -> Expr:
    """I₁ = 𝟏₁ₓ₁ = 1: the 1×1 identity and ones matrix are the number one."""
    return ONE if e.shape == SCALAR else e


def commutation_rules(e: Commutation) -> Expr:
    """K = I for a vector or a row: transposing it keeps the order of its entries."""
    return Identity(e.rows) if 1 in e.params else e
