"""Rules of entrywise products and powers: factors and powers merged, σ recognised, a
diagonal matrix keeping its diagonal.
"""

from __future__ import annotations

from fractions import Fraction

from ..ir import (
    Add,
    Broadcast,
    Diag,
    Expr,
    Func,
    Hadamard,
    HadPow,
    Identity,
    MatMul,
    Num,
    Power,
    Transpose,
    Var,
    Zero,
    is_scalar,
    product,
)
from .powers import halve_roots, halved_root
from .terms import ONE, coeff_and_rest, is_ones, is_zero


def hadamard_rules(e: Hadamard) -> Expr:
    """a∘b = ab for scalars; (A∘B)∘C = A∘B∘C; 0∘A = 0; 1∘A = A; (cA)∘B = c(A∘B);
    A^∘a ∘ A^∘b = A^∘(a+b)."""
    if is_scalar(e):
        return MatMul(*e.args)
    factors = []
    for a in e.args:
        factors.extend(a.args if isinstance(a, Hadamard) else (a,))
    if any(is_zero(f) for f in factors):
        return Zero(*e.shape)
    coeff, scalars, rest = Fraction(1), [], []
    for f in factors:
        c, r = coeff_and_rest(f)
        coeff *= c
        if r is None or is_ones(r):
            continue
        if isinstance(r, Broadcast) and is_scalar(r.arg):
            scalars.append(r.arg)
            continue
        if isinstance(r, MatMul):
            inner_scalars = [x for x in r.args if is_scalar(x)]
            if inner_scalars:
                scalars.extend(inner_scalars)
                others = [x for x in r.args if not is_scalar(x)]
                r = others[0] if len(others) == 1 else MatMul(*others)
        rest.append(r)
    merged: dict = {}
    for r in rest:
        base, k = (r.arg, r.exp) if isinstance(r, HadPow) else (r, Fraction(1))
        merged[base] = merged.get(base, Fraction(0)) + k
    halve_roots(merged)
    _logistic(merged)
    rest = [b if k == 1 else HadPow(b, k) for b, k in merged.items() if k != 0]
    if not rest:
        core = Broadcast(ONE, *e.shape)
    elif len(rest) == 1:
        core = rest[0]
    else:
        core = Hadamard(*rest)
    out = MatMul(Num(coeff), *scalars, core) if coeff != 1 or scalars else core
    return e if out == e else out


def _logistic(factors: dict) -> None:
    """exp(Z) ⊘ (1 + exp(Z)) = σ(Z), in a map of Hadamard factors to their powers (a σ(Z)
    already among the factors gains a power: σ(Z) ∘ exp(Z) ⊘ (1 + exp(Z)) = σ(Z)^∘2)."""
    for base, k in list(factors.items()):
        if not (isinstance(base, Func) and base.name == "exp" and k == 1):
            continue
        for denominator in (Add(_ones(base), base), Add(base, _ones(base))):
            if factors.get(denominator) == -1:
                del factors[base], factors[denominator]
                sigma = Func("sigmoid", base.arg)
                factors[sigma] = factors.get(sigma, Fraction(0)) + 1
                break


def _ones(e: Expr) -> Expr:
    return ONE if is_scalar(e) else Broadcast(ONE, *e.shape)


def diagonal_rules(e: Hadamard) -> Expr:
    """A diagonal matrix keeps its diagonal: D ∘ I = D; the diagonal of Aᵀ is A's:
    Aᵀ ∘ I = A ∘ I."""
    if not any(isinstance(f, Identity) for f in e.args):
        return e
    others = [f for f in e.args if not isinstance(f, Identity)]
    if any(isinstance(f, Diag) or isinstance(f, Var) and f.structure == "diagonal"
           for f in others):
        return others[0] if len(others) == 1 else Hadamard(*others)
    if len(others) == 1 and isinstance(others[0], Transpose):
        return Hadamard(others[0].arg, Identity(e.rows))
    return e


def hadpow_rules(e: HadPow) -> Expr:
    """A^∘1 = A; (A^∘a)^∘b = A^∘ab; a scalar's entrywise power is its power; scalar factors
    leave an integer power, (sA)^∘k = s^k A^∘k."""
    a, k = e.arg, e.exp
    if k == 1:
        return a
    if is_scalar(a):
        return Power(a, k)
    if isinstance(a, MatMul) and k.denominator == 1 and any(is_scalar(f) for f in a.args):
        scalars = [Power(f, k) for f in a.args if is_scalar(f)]
        chain = [f for f in a.args if not is_scalar(f)]
        return MatMul(*scalars, HadPow(product(chain), k))
    if isinstance(a, HadPow):
        return HadPow(a.arg, a.exp * k)
    if isinstance(a, Broadcast) and is_scalar(a.arg):
        return Broadcast(Power(a.arg, k), *e.shape)
    if halved := halved_root(a, k):
        factors = [b if j == 1 else HadPow(b, j) for b, j in halved]
        return factors[0] if len(factors) == 1 else Hadamard(*factors)
    return e
