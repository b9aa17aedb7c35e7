"""Rules of broadcasts, and the factors broadcast along an axis that leave a sum or mean over it
(𝟏ᵀ(M ∘ 𝟏r) = (𝟏ᵀM) ∘ r).
"""

from __future__ import annotations

from ..ir import Broadcast, Expr, Hadamard, HadPow, MatMul, Ones, Zero, is_scalar
from .engine import simplify
from .terms import is_ones_row, is_zero


def broadcast_rules(e: Broadcast) -> Expr:
    """Broadcasting to the shape one already has does nothing; a broadcast 0 is 0, of 𝟏 is 𝟏;
    scalar factors leave it, (sa)𝟏ᵀ = s(a𝟏ᵀ); it distributes over ∘ and ^∘ so that equal
    factors meet: (a ∘ b)𝟏ᵀ = a𝟏ᵀ ∘ b𝟏ᵀ."""
    a = e.arg
    if a.shape == e.shape:
        return a
    if is_zero(a):
        return Zero(*e.shape)
    if isinstance(a, Ones) or is_ones_row(a):
        return Ones(*e.shape)
    if isinstance(a, Broadcast):
        return Broadcast(a.arg, *e.shape)
    if isinstance(a, MatMul) and not is_scalar(a) and any(is_scalar(f) for f in a.args):
        scalars = [f for f in a.args if is_scalar(f)]
        chain = [f for f in a.args if not is_scalar(f)]
        return MatMul(*scalars, Broadcast(chain[0] if len(chain) == 1 else MatMul(*chain),
                                          *e.shape))
    if isinstance(a, Hadamard):
        return Hadamard(*[Broadcast(f, *e.shape) for f in a.args])
    if isinstance(a, HadPow) and not is_scalar(a):
        return HadPow(Broadcast(a.arg, *e.shape), a.exp)
    return e


def broadcast_along(f: Expr, axis: int) -> Expr | None:
    """r if f is r broadcast along the axis (a row stretched down the rows for axis 1), its
    entrywise power included; else None."""
    base, k = (f.arg, f.exp) if isinstance(f, HadPow) else (f, None)
    if not isinstance(base, Broadcast) or is_scalar(base.arg):
        return None
    inner = base.arg
    if (axis == 1 and inner.rows == 1) or (axis == 2 and inner.cols == 1):
        return inner if k is None else HadPow(inner, k)
    return None


def sum_out_of(h: Hadamard, axis: int, reduce) -> Expr:
    """reduce(h) with the factors broadcast along the axis taken out: for axis 1 (column sums),
    row broadcasts 𝟏r; for axis 2 (row sums), column broadcasts c𝟏ᵀ. None if there are none."""
    if not isinstance(h, Hadamard):
        return None
    kept, out = [], []
    for f in h.args:
        r = broadcast_along(f, axis)
        (out if r is not None else kept).append(r if r is not None else f)
    if not out or not kept:
        return None
    inner = kept[0] if len(kept) == 1 else Hadamard(*kept)
    return simplify(Hadamard(reduce(inner), *out))


def column_sums_out(ones_row: Expr, h: Expr) -> Expr | None:
    return sum_out_of(h, 1, lambda m: MatMul(ones_row, m))


def row_sums_out(h: Expr, ones_col: Expr) -> Expr | None:
    return sum_out_of(h, 2, lambda m: MatMul(m, ones_col))
