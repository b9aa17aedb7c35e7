"""Numerically stable forms, for the code a machine runs and for f′ of user functions.

Each rule rewrites a form that overflows in floating point into an equal one that does not
(log(1 + exp(1000)) is inf; softplus(1000), computed as ``np.logaddexp(0, 1000)``, is 1000).
The laws hold for a scalar t and entrywise for an array T alike. A rule returns its input
unchanged when it does not apply; ``stable`` applies the table bottom-up. The printed results
keep what the user wrote: only codegen and scalar_calculus use this.
"""

from __future__ import annotations

from fractions import Fraction

from .ir import (Add, Expr, Func, Hadamard, HadPow, LogSoftmax, LogSumExp, MatMul, Power,
                 Softmax, Sum, Unvec, Vec, is_scalar)
from .memo import memoized
from .simplify import coeff_and_rest, is_ones, scale


def _negated(e: Expr) -> Expr:
    c, rest = coeff_and_rest(e)
    return scale(-c, rest, e.shape)


def _is(e: Expr, name: str) -> bool:
    return isinstance(e, Func) and e.name == name


def _one_plus(e: Expr) -> Expr | None:
    """u for 1 + u or u + 1 (1 a scalar one or an all-ones array), else None."""
    if isinstance(e, Add) and len(e.args) == 2:
        a, b = e.args
        if is_ones(a):
            return b
        if is_ones(b):
            return a
    return None


def _entry_power(e: Expr) -> tuple[Expr, Fraction]:
    """(base, k) for base^k, entrywise (A^∘k, or s^k of a scalar); (e, 1) otherwise."""
    if isinstance(e, HadPow) or (isinstance(e, Power) and is_scalar(e.arg)):
        return e.arg, e.exp
    return e, Fraction(1)


def _entry_power_of(base: Expr, k: Fraction) -> Expr:
    if k == 1:
        return base
    return Power(base, k) if is_scalar(base) else HadPow(base, k)


def log_one_plus_exp(e: Expr) -> Expr:
    """log(1 + exp(t)) = softplus(t)."""
    if _is(e, "log"):
        u = _one_plus(e.arg)
        if u is not None and _is(u, "exp"):
            return Func("softplus", u.arg)
    return e


def one_minus_sigmoid(e: Expr) -> Expr:
    """1 − σ(t) = σ(−t) (no cancellation where σ(t) rounds to 1)."""
    u = _one_plus(e)
    if u is not None and _is(_negated(u), "sigmoid"):
        return Func("sigmoid", _negated(_negated(u).arg))
    return e


def log_sigmoid(e: Expr) -> Expr:
    """log σ(t) = −softplus(−t)."""
    if _is(e, "log") and _is(e.arg, "sigmoid"):
        return _negated(Func("softplus", _negated(e.arg.arg)))
    return e


def reciprocal_one_plus_exp(e: Expr) -> Expr:
    """(1 + exp(t))^(−k) = σ(−t)^k for k > 0."""
    base, k = _entry_power(e)
    if k < 0 and base is not e:
        u = _one_plus(base)
        if u is not None and _is(u, "exp"):
            return _entry_power_of(Func("sigmoid", _negated(u.arg)), -k)
    return e


def exp_times_sigmoid(e: Expr) -> Expr:
    """exp(t) σ(−t) = σ(t), among the factors of a ∘ product or the scalars of a product."""
    if isinstance(e, Hadamard):
        entries = list(range(len(e.args)))
    elif isinstance(e, MatMul):
        entries = [i for i, a in enumerate(e.args) if is_scalar(a)]
    else:
        return e
    for i in entries:
        base, k = _entry_power(e.args[i])
        if not (_is(base, "exp") and k >= 1):
            continue
        partner = Func("sigmoid", _negated(base.arg))
        for j in entries:
            other, m = _entry_power(e.args[j])
            if other == partner and m >= 1:
                args = [[a] for a in e.args]
                args[i] = [Func("sigmoid", base.arg)] + \
                    ([_entry_power_of(base, k - 1)] if k > 1 else [])
                args[j] = [_entry_power_of(other, m - 1)] if m > 1 else []
                flat = [a for group in args for a in group]
                return flat[0] if len(flat) == 1 else type(e)(*flat)
    return e


def log_sum_exp(e: Expr) -> Expr:
    """log(sum(exp(A))) = logsumexp(vec A), computed shifted by its largest entry."""
    if _is(e, "log") and isinstance(e.arg, Sum) and _is(e.arg.arg, "exp"):
        a = e.arg.arg.arg
        if is_scalar(a):
            return a
        if a.cols == 1:
            return LogSumExp(a, 1)
        return LogSumExp(a, 2) if a.rows == 1 else LogSumExp(Vec(a), 1)
    return e


def exp_over_sum_exp(e: Expr) -> Expr:
    """exp(A)/sum(exp(A)) = softmax(A) over every entry of A, computed shifted."""
    if isinstance(e, MatMul):
        for a in e.args:
            if _is(a, "exp") and not is_scalar(a) and Power(Sum(a), -1) in e.args:
                # softmax in exp(A)'s place (xᵀ exp(xH)/sum(…) is xᵀ softmax, not softmax xᵀ);
                # the quotient, a scalar, goes
                args = list(e.args)
                args[args.index(a)] = _softmax_of_all(a.arg)
                args.remove(Power(Sum(a), -1))
                return args[0] if len(args) == 1 else MatMul(*args)
    return e


def _softmax_of_all(a: Expr) -> Expr:
    if a.cols == 1:
        return Softmax(a, 1)
    if a.rows == 1:
        return Softmax(a, 2)
    return Unvec(Softmax(Vec(a), 1), a.rows, a.cols)


def log_softmax(e: Expr) -> Expr:
    """log(softmax(A)) = logsoftmax(A)."""
    if _is(e, "log") and isinstance(e.arg, Softmax):
        return LogSoftmax(e.arg.arg, e.arg.axis)
    return e


# σ and softplus recognized where they are written out: also the printed form of f′
LOGISTIC = (log_one_plus_exp, reciprocal_one_plus_exp, exp_times_sigmoid)
RULES = LOGISTIC + (one_minus_sigmoid, log_sigmoid, log_sum_exp, exp_over_sum_exp, log_softmax)


def stable(e: Expr) -> Expr:
    """e in the form the code computes: every rule applied, children first."""
    return _rewrite(e, RULES)


def logistic(e: Expr) -> Expr:
    """e with σ and softplus recognized (exp(t)/(1 + exp(t)) is σ(t))."""
    return _rewrite(e, LOGISTIC)


@memoized(1 << 14)
def _rewrite(e: Expr, rules: tuple) -> Expr:
    if e.args:
        e = e.with_args(_rewrite(a, rules) for a in e.args)
    for rule in rules:
        new = rule(e)
        if new != e:
            return _rewrite(new, rules)
    return e
