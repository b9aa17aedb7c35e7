"""Rules of sums: flattening, collecting like terms (aX + bX = (a + b)X) and the complement of a
step function.
"""

from __future__ import annotations

from fractions import Fraction

from ..ir import Add, Broadcast, Expr, Frob, Func, Hadamard, Num
from ..memo import memoized
from .terms import coeff_and_rest, is_ones, is_zero, scale, zero_like


def add_flatten(e: Add) -> Expr:
    """(A + B) + C = A + B + C"""
    if not any(isinstance(a, Add) for a in e.args):
        return e
    return Add(*[t for a in e.args for t in (a.args if isinstance(a, Add) else (a,))])


def add_collect(e: Add) -> Expr:
    """aX + bX = (a + b)X, dropping zeros; terms keep the order of first appearance."""
    collected: dict = {}         # like terms by their commutative form → (term, coefficient)
    for term in e.args:
        if is_zero(term):
            continue
        c, rest = coeff_and_rest(term)
        if isinstance(term, Broadcast) and isinstance(term.arg, Num):
            c, rest = term.arg.value, None
        if rest is not None and is_ones(rest):      # 𝟏𝟏ᵀ and a broadcast 1 are one term
            rest = None
        key = None if rest is None else _commutative_form(rest)
        first, total = collected.get(key, (rest, Fraction(0)))
        collected[key] = (first, total + c)
    terms = [scale(c, rest, e.shape) for rest, c in collected.values() if c != 0]
    if not terms:
        return zero_like(e)
    if len(terms) == 1:
        return terms[0]
    new = Add(*terms)
    return e if new == e else new


def step_complement(e: Add) -> Expr:
    """𝟏 − H(t) = H(−t) almost everywhere (they differ only where t = 0)."""
    terms = list(e.args)
    unit = next((t for t in terms if is_ones(t)), None)
    step = next((t for t in terms if coeff_and_rest(t)[0] == -1 and
                 isinstance(coeff_and_rest(t)[1], Func) and
                 coeff_and_rest(t)[1].name == "heaviside"), None)
    if unit is None or step is None:
        return e
    t = coeff_and_rest(step)[1].arg
    flipped = Func("heaviside", Add(*map(_negated, t.args)) if isinstance(t, Add)
                   else _negated(t))
    rest = [t for t in terms if t is not unit and t is not step]
    return Add(*rest, flipped) if rest else flipped


def _negated(t: Expr) -> Expr:
    """−t, a broadcast negated inside (−((−2λ)𝟏𝟏ᵀ) = (2λ)𝟏𝟏ᵀ)."""
    if isinstance(t, Broadcast):
        return Broadcast(_negated(t.arg), *t.shape)
    c, rest = coeff_and_rest(t)
    return scale(-c, rest, t.shape)


@memoized(1 << 14)
def _commutative_form(e: Expr) -> Expr:
    """e with the factors of every ∘ and : in a fixed order, so that A ∘ B and B ∘ A compare
    equal. The order is by hash: the form is only compared, never printed, and a factor's text
    is as long as its tree (sorted by it, a chain of ∘ as deep as the input was quadratic)."""
    if not e.args:
        return e
    e = e.with_args(_commutative_form(a) for a in e.args)
    return e.with_args(sorted(e.args, key=hash)) if isinstance(e, (Hadamard, Frob)) else e
