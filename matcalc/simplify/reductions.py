"""Rules of the reductions sum, tr and mean, and the recognition of a mean in a product
((1/n)𝟏ᵀM = mean(M, 1)).
"""

from __future__ import annotations

from fractions import Fraction

from ..ir import (
    Broadcast,
    Expr,
    Hadamard,
    Identity,
    MatMul,
    Mean,
    Num,
    Ones,
    Power,
    Size,
    Softmax,
    Sum,
    Trace,
    Transpose,
    Var,
    Zero,
    count,
    is_scalar,
    product,
)
from .broadcast import broadcast_along, sum_out_of
from .terms import ONE, is_ones_col, is_ones_row, is_zero, scalars_out


def reduce_rules(e: Expr) -> Expr:
    """sum(a) = tr(a) = a for a scalar; sum(sA) = s sum(A); tr(sA) = s tr(A); tr(I) = n;
    sum(𝟏𝟏ᵀ) = mn; sum(softmax(A)) = the number of its groups;
    sum(𝟏ᵀA) = sum(A𝟏) = sum(A); sum(Aᵀ) = sum(A), tr(Aᵀ) = tr(A); an outer product
    sum(uvᵀ) = sum(u) sum(v), tr(uvᵀ) = vᵀu; a broadcast keeps its length: sum(s𝟏𝟏ᵀ) = mn·s,
    sum(𝟏r) = m sum(r), tr(s𝟏𝟏ᵀ) = n·s, tr(𝟏r) = tr(c𝟏ᵀ) = sum(r)."""
    a = e.arg
    if is_scalar(a):
        return a
    if isinstance(e, Sum) and isinstance(a, Softmax):     # each of its groups sums to 1
        return count(a.cols if a.axis == 1 else a.rows)
    if isinstance(e, Sum) and isinstance(a, Var) and a.rows_sum_to_one:
        return count(a.rows) if a.cols != 1 else ONE     # each row (a vector itself) sums to 1
    if isinstance(a, Broadcast):
        b = a.arg
        if isinstance(e, Trace):
            return MatMul(count(a.rows), b) if is_scalar(b) else Sum(b)
        stretch = [count(d) for d, own in zip(a.shape, b.shape) if own == 1 and d != 1]
        return MatMul(*stretch, Sum(b)) if stretch else Sum(b)
    scaled = scalars_out(a, type(e))
    if scaled is not None:
        return scaled
    if isinstance(a, Transpose):
        return type(e)(a.arg)
    for k in range(len(a.args) - 1 if isinstance(a, MatMul) else 0):
        u, v = product(a.args[:k + 1]), product(a.args[k + 1:])
        if u.cols == 1 and v.rows == 1:         # an outer product uvᵀ
            return MatMul(Sum(u), Sum(v)) if isinstance(e, Sum) else MatMul(v, u)
    if isinstance(e, Sum) and isinstance(a, MatMul) and len(a.args) >= 2:
        if is_ones_row(a.args[0]):
            rest = a.args[1:]
            return Sum(rest[0] if len(rest) == 1 else MatMul(*rest))
        if is_ones_col(a.args[-1]):
            rest = a.args[:-1]
            return Sum(rest[0] if len(rest) == 1 else MatMul(*rest))
    if is_zero(a):
        return Num(0)
    if isinstance(a, (Identity, Ones)):         # tr(I) = sum(I) = tr(𝟏𝟏ᵀ) = n, sum(𝟏𝟏ᵀ) = mn
        square = isinstance(e, Trace) or isinstance(a, Identity)
        return count(a.rows) if square else MatMul(count(a.rows), count(a.cols))
    return e


def mean_rules(e: Mean) -> Expr:
    """mean(sA) = s mean(A); the mean of a broadcast is the broadcast of its mean; factors broadcast
    along the axis leave the mean: mean(M ∘ 𝟏r, 1) = mean(M, 1) ∘ r."""
    a = e.arg
    if is_zero(a):
        return Zero(*e.shape)
    scaled = scalars_out(a, lambda m: Mean(m, e.axis))
    if scaled is not None:
        return scaled
    if a.shape == e.shape:
        return a
    if isinstance(a, Broadcast):
        b = a.arg
        along = b.rows if e.axis == 1 else b.cols
        return Broadcast(b if along == 1 else Mean(b, e.axis), *e.shape)
    along = broadcast_along(a, e.axis)
    if along is not None:
        return along
    return sum_out_of(a, e.axis, lambda m: Mean(m, e.axis)) or e


def recognize_mean(coeff: Fraction, scalars: list, chain: list):
    """(1/n)𝟏ᵀM = mean(M, 1) and (1/n)M𝟏 = mean(M, 2) — also when the sum stands broadcast,
    alone or as a factor of a Hadamard product: (1/n)(P ∘ 𝟏(𝟏ᵀM)) = P ∘ 𝟏mean(M, 1)."""
    for i, s in enumerate(scalars):
        n = _size_of_reciprocal(s)
        if n is None:
            continue
        for j, link in enumerate(chain):
            new = _as_mean(link, n)
            if new is not None:
                return coeff, scalars[:i] + scalars[i + 1:], chain[:j] + [new] + chain[j + 1:]
    if coeff.denominator != 1:
        for j, link in enumerate(chain):
            for n in _sum_lengths(link):
                if isinstance(n, int) and (coeff * n).denominator < coeff.denominator:
                    return coeff * n, scalars, chain[:j] + [_as_mean(link, n)] + chain[j + 1:]
    if len(chain) >= 2 and (is_ones_row(chain[0]) or isinstance(chain[0], Ones)):
        n = chain[0].cols
        for i, s in enumerate(scalars):
            if _size_of_reciprocal(s) == n:
                rest = chain[1:]
                mean = Mean(rest[0] if len(rest) == 1 else MatMul(*rest), 1)
                if isinstance(chain[0], Ones):        # (1/n)𝟏𝟏ᵀM = 𝟏 mean(M, 1)
                    mean = Broadcast(mean, chain[0].rows, mean.cols)
                return coeff, scalars[:i] + scalars[i + 1:], [mean]
    return coeff, scalars, chain


def _size_of_reciprocal(s: Expr):
    if isinstance(s, Power) and s.exp == -1 and isinstance(s.arg, Size):
        return s.arg.dim
    return None


def _column_sum(e: Expr):
    """(n, M) if e is 𝟏ₙᵀM or M𝟏ₙ, with the axis: ((n, axis), M); else None."""
    if isinstance(e, MatMul) and len(e.args) >= 2:
        if is_ones_row(e.args[0]) and not any(is_scalar(a) for a in e.args):
            rest = e.args[1:]
            return (e.args[0].cols, 1), rest[0] if len(rest) == 1 else MatMul(*rest)
        if is_ones_col(e.args[-1]) and not any(is_scalar(a) for a in e.args):
            rest = e.args[:-1]
            return (e.args[-1].rows, 2), rest[0] if len(rest) == 1 else MatMul(*rest)
    return None


def _as_mean(link: Expr, n) -> Expr | None:
    """link with one sum over n entries written as a mean (the factor 1/n absorbed)."""
    found = _column_sum(link)
    if found is not None and found[0][0] == n:
        return Mean(found[1], found[0][1])
    if isinstance(link, Broadcast):
        inner = _as_mean(link.arg, n)
        return Broadcast(inner, *link.shape) if inner is not None else None
    if isinstance(link, Hadamard):
        for i, f in enumerate(link.args):
            inner = _as_mean(f, n)
            if inner is not None:
                return Hadamard(*link.args[:i], inner, *link.args[i + 1:])
    return None


def _sum_lengths(link: Expr) -> list:
    found = _column_sum(link)
    if found is not None:
        return [found[0][0]]
    if isinstance(link, Broadcast):
        return _sum_lengths(link.arg)
    if isinstance(link, Hadamard):
        return [n for f in link.args for n in _sum_lengths(f)]
    return []
