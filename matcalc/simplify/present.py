"""The final touches of the printed form: repeated factors as powers, signs and orders a reader
expects.
"""

from __future__ import annotations

from fractions import Fraction

from ..ir import (
    Add,
    Broadcast,
    Expr,
    Func,
    Hadamard,
    MatMul,
    Num,
    Power,
    Softmax,
    Transpose,
    Var,
    is_scalar,
    walk,
)
from ..memo import memoized
from .engine import simplify
from .powers import repeated_blocks
from .terms import coeff_and_rest


def present(e: Expr, like=()) -> Expr:
    """The final touches for the reader: repeated factors as powers; in every sum the
    positive terms first (H(X) − H(X − 1), not −H(X − 1) + H(X)); in a product, a sum of
    transposes as the transposed sum ((x − μ)ᵀ) and a sum written as it appears in ``like``
    (the function and its definitions): −S⁻¹(x − μ) rather than S⁻¹(μ − x); a number
    distributed over a sum that mixes a regularization term (2Xᵀ(Xw − y) + 2λw); masks and
    names first in ∘ products."""
    sums: dict = {}                  # the function's sums by their terms, first seen first
    for f in like:
        for t in walk(simplify(f)):
            if isinstance(t, Add):
                sums.setdefault(_terms_key(t), t)
    return _touch(fold_powers(e), sums, {})


def _terms_key(e: Add) -> tuple:
    return tuple(sorted(map(repr, e.args)))


def _touch(e: Expr, sums: dict, memo: dict | None = None) -> Expr:
    memo = {} if memo is None else memo
    if e not in memo:
        memo[e] = _touch_node(e.with_args(_touch(a, sums, memo) for a in e.args) if e.args
                              else e, sums)
    return memo[e]


def _touch_node(e: Expr, sums: dict) -> Expr:
    if isinstance(e, Add):           # a sum the function has, in the function's order
        return sums.get(_terms_key(e)) or _positive_first(e)
    if isinstance(e, Hadamard):
        return e.with_args(sorted(e.args, key=_hadamard_rank))
    if not isinstance(e, MatMul):
        return e
    args, sign = list(e.args), 1
    for i, a in enumerate(args):
        if isinstance(a, Add) and all(_is_transposed(t) for t in a.args):
            args[i] = Transpose(_touch(simplify(Transpose(a)), sums))
        elif isinstance(a, Add):
            flipped = Add(*[simplify(MatMul(Num(-1), t)) for t in a.args])
            if _terms_key(flipped) in sums and _terms_key(a) not in sums:
                args[i], sign = sums[_terms_key(flipped)], -sign
    if sign < 0:
        args.insert(0, Num(-1))
    out = simplify(MatMul(*args)) if sign < 0 else MatMul(*args)
    c, rest = coeff_and_rest(out)
    if isinstance(rest, Add) and _mixes_scalar_terms(rest):
        return _touch(Add(*[simplify(MatMul(Num(c), t)) for t in rest.args]), sums)
    return out


def _positive_first(e: Add) -> Add:
    return e.with_args(sorted(e.args, key=lambda t: coeff_and_rest(t)[0] < 0))


def _is_transposed(t: Expr) -> bool:
    _, rest = coeff_and_rest(t)
    return isinstance(rest, Transpose) or (isinstance(rest, Broadcast) and
                                           _is_transposed(rest.arg))


def _mixes_scalar_terms(e: Add) -> bool:
    """Does the sum have a term scaled by a symbol (λw) beside a product with a sum in it?"""
    def scaled(t):
        _, rest = coeff_and_rest(t)
        return isinstance(rest, MatMul) and any(is_scalar(f) and not isinstance(f, Num)
                                                for f in rest.args)

    def nested(t):
        _, rest = coeff_and_rest(t)
        return isinstance(rest, MatMul) and any(isinstance(f, Add) for f in rest.args)
    return any(scaled(t) for t in e.args) and any(nested(t) and not scaled(t) for t in e.args)


def _hadamard_rank(f: Expr) -> int:
    """Names first (G ∘ …), then functions (masks such as H(X)), then the rest."""
    base = f.arg if isinstance(f, (Broadcast, Transpose)) else f
    if isinstance(base, Var):
        return 0
    return 1 if isinstance(base, (Func, Softmax)) else 2


def _foldable(block: list) -> bool:
    """Is a repeated block of a chain written as a power? Not a transpose of more than a name
    ((Aᵀ)² is, ((AB)ᵀ)² is written out)."""
    return len(block) > 1 or not isinstance(block[0], Transpose) or \
        isinstance(block[0].arg, Var)


@memoized(1 << 14)
def fold_powers(e: Expr) -> Expr:
    """Repeated factors of a product as powers: XXᵀXXᵀX = (XXᵀ)²X, X⁻¹X⁻¹ = X⁻²; a transposed
    power as the power of the transpose, (X²)ᵀ = (Xᵀ)², (X⁻²)ᵀ = (X⁻ᵀ)², the transpose in
    its simplified form (((AB)²)ᵀ = (BᵀAᵀ)², not ((AB)ᵀ)²; ((Xᵀ)²)ᵀ = X²)."""
    if isinstance(e, Transpose) and isinstance(e.arg, Power) and abs(e.arg.exp) > 1 and \
            e.arg.exp.denominator == 1:
        base, k = e.arg.arg, e.arg.exp
        unit = fold_powers(simplify(Transpose(base if k > 0 else Power(base, Fraction(-1)))))
        # a square folds only over a name: (X + A)⁻ᵀ(X + A)⁻ᵀ, not ((X + A)⁻ᵀ)², but (X⁻ᵀ)⁵⁰
        return MatMul(unit, unit) if abs(k) == 2 and not (isinstance(base, Var) and k > 0) \
            else Power(unit, abs(k))
    if e.args:
        e = e.with_args(fold_powers(a) for a in e.args)
    if not isinstance(e, MatMul):
        return e
    scalars = [a for a in e.args if is_scalar(a)] if not is_scalar(e) else []
    chain = [a for a in e.args if a not in scalars]
    out = []
    for block, reps in repeated_blocks(chain, _foldable):
        if reps == 1:
            out += block
            continue
        base = block[0] if len(block) == 1 else MatMul(*block)
        if isinstance(base, Power) and base.exp == -1:
            out.append(Power(base.arg, Fraction(-reps)))
        else:
            out.append(Power(base, Fraction(reps)))
    args = scalars + out
    return args[0] if len(args) == 1 else MatMul(*args)
