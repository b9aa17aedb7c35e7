"""The user's named intermediates: expanded into an expression, and folded back where a
subexpression equals one.
"""

from __future__ import annotations

from fractions import Fraction

from ..ir import (Broadcast, Expr, Hadamard, HadPow, MatMul, Mean, Num, Power, Var, is_scalar,
                  product)
from .broadcast import broadcast_along
from .cost import cost
from .engine import simplify
from .factor import _power_list, _powers, _split
from .powers import radicand
from .terms import ONE, scalar_factors


def expand_definitions(e: Expr, definitions: dict) -> Expr:
    """e with every defined name replaced by its definition, recursively (each distinct
    subtree once: definitions that use each other twice, W₂ = W₁W₁, share their subtrees)."""
    return expander(definitions)(e)


def expander(definitions: dict):
    """expand_definitions over the definitions as a function that keeps its memo from call to
    call: expanding every definition of a chain is linear in its length, not quadratic."""
    memo: dict = {}

    def expanded(e: Expr) -> Expr:
        if e not in memo:
            if isinstance(e, Var) and e.name in definitions:
                memo[e] = expanded(definitions[e.name])
            else:
                memo[e] = e.with_args(expanded(a) for a in e.args) if e.args else e
        return memo[e]
    return expanded


def fold_definitions(e: Expr, named: dict) -> Expr:
    """Write subexpressions equal to a definition (name → expanded, simplified expression) as
    the name — whole subtrees and runs inside a product (XXᵀX → Y when Y = XXᵀX). Larger
    definitions are tried first; inside a product the rightmost run is folded first."""
    # a definition is looked for only where its value, or each factor of its run, is a
    # subtree of e: folding writes names, which no value has, so it makes no new place to
    # fold (looking for each of k definitions everywhere was quadratic)
    subtrees = _subtrees(e)
    by_size = sorted(named.items(), key=lambda item: -cost(item[1]))
    for name, value in by_size:
        if value in subtrees or isinstance(value, MatMul) and \
                all(a in subtrees for a in value.args):
            e = _fold_one(e, Var(name, value.shape), value)
    return e


def _subtrees(e: Expr) -> set:
    """The distinct subtrees of e."""
    seen, stack = {e}, [e]
    while stack:
        for a in stack.pop().args:
            if a not in seen:
                seen.add(a)
                stack.append(a)
    return seen


def fold_hadamard_definitions(e: Expr, named: dict) -> Expr:
    """Write Hadamard products that contain a defined one as the name, borrowing broadcast
    factors into a mean where needed (mean(M, 1) ∘ r = mean(M ∘ 𝟏r, 1)). With
    X̂ = (X − μ) ⊘ s: (X − μ) ∘ mean(G ∘ (X − μ), 1) ⊘ s³ = X̂ ∘ mean(G ∘ X̂, 1) ⊘ s."""
    for name, value in named.items():
        pattern = _monomial(value)
        if isinstance(value, Hadamard) and len(pattern) > 1:
            e = _fold_hadamard(e, Var(name, value.shape), pattern)
    return e


def _monomial(e: Expr) -> dict:
    """The factors of a Hadamard product with their powers: A ∘ B^∘-2 → {A: 1, B: -2}."""
    out: dict = {}
    for f in (e.args if isinstance(e, Hadamard) else (e,)):
        base, k = (f.arg, f.exp) if isinstance(f, HadPow) else (f, Fraction(1))
        out[base] = out.get(base, Fraction(0)) + k
    return out


def _rooted(powers: dict, pattern: dict) -> dict:
    """A monomial's powers of x written as powers of √x where the pattern has √x:
    (X − μ) ⊘ (v + ε) ⊘ √(v + ε) holds (X − μ) ⊘ √(v + ε) and a (√(v + ε))^∘2 more."""
    for b in pattern:
        if (x := radicand(b)) is not None and x in powers:
            powers[b] = powers.get(b, Fraction(0)) + 2 * powers.pop(x)
    return powers


def _from_monomial(powers: dict, shape) -> Expr:
    factors = [b if k == 1 else HadPow(b, k) for b, k in powers.items() if k != 0]
    if not factors:
        return Broadcast(ONE, *shape)
    return factors[0] if len(factors) == 1 else Hadamard(*factors)


def _covers(have: dict, pattern: dict) -> bool:
    return all(have.get(b, 0) * k > 0 and abs(have[b]) >= abs(k) for b, k in pattern.items())


def _fold_hadamard(e: Expr, name: Var, pattern: dict, memo: dict | None = None) -> Expr:
    memo = {} if memo is None else memo
    if e not in memo:
        memo[e] = _fold_hadamard_node(
            e.with_args(_fold_hadamard(a, name, pattern, memo) for a in e.args) if e.args
            else e, name, pattern)
    return memo[e]


def _fold_hadamard_node(e: Expr, name: Var, pattern: dict) -> Expr:
    if not isinstance(e, Hadamard):
        return e
    powers = _rooted(_monomial(e), pattern)
    while _covers(powers, pattern):
        for b, k in pattern.items():
            powers[b] -= k
        powers[name] = powers.get(name, Fraction(0)) + 1
    # borrow broadcast factors into a mean that holds the rest of the pattern
    for f in list(powers):
        mean = f.arg if isinstance(f, Broadcast) else f
        if not isinstance(mean, Mean) or powers[f] != 1:
            continue
        inner = _rooted(_monomial(mean.arg), pattern)
        borrowed = {}
        for b, k in pattern.items():
            if _covers(inner, {b: k}):
                continue
            if _covers(powers, {b: k}) and broadcast_along(b, mean.axis) is not None:
                borrowed[b] = k
            else:
                break
        else:
            if borrowed and len(borrowed) < len(pattern):
                for b, k in borrowed.items():
                    powers[b] -= k
                    inner[b] = inner.get(b, Fraction(0)) + k
                while _covers(inner, pattern):
                    for b, k in pattern.items():
                        inner[b] -= k
                    inner[name] = inner.get(name, Fraction(0)) + 1
                new = Mean(_from_monomial(inner, mean.arg.shape), mean.axis)
                powers[Broadcast(new, *f.shape) if isinstance(f, Broadcast) else new] = \
                    powers.pop(f)
    return simplify(_from_monomial(powers, e.shape))


def _fold_one(e: Expr, name: Var, value: Expr, memo: dict | None = None) -> Expr:
    memo = {} if memo is None else memo
    if e not in memo:
        memo[e] = name if e == value else _fold_scalar(_fold_run(
            e.with_args(_fold_one(a, name, value, memo) for a in e.args) if e.args else e,
            name, value), name, value)
    return memo[e]


def _fold_scalar(e: Expr, name: Var, value: Expr) -> Expr:
    """A defined product of scalars found among a product's scalar factors, to their powers,
    written as its name: −2(xᵀAx)x/(xᵀx) = −2Rx where R = xᵀAx/(xᵀx)."""
    if not (isinstance(e, MatMul) and isinstance(value, MatMul) and is_scalar(value)):
        return e
    pattern = _powers(scalar_factors(value))
    if any(isinstance(b, Num) for b in pattern) or len(pattern) < 2:
        return e
    c, scalars, chain = _split(e)
    if is_scalar(e) and chain:                  # a 1×1 run is one of the scalar factors
        scalars, chain = scalars + [product(chain)], []
    have = _powers(scalars)
    if not _covers(have, pattern):
        return e
    for b, k in pattern.items():
        have[b] -= k
    return simplify(MatMul(Num(c), name, *_power_list(have), *chain))


MAX_WRITTEN_OUT = 64    # factors a power of a block is written out in, to look for a run in it


def _written_out(factors) -> list:
    """The factors with each power of a block written out where that writes at most
    MAX_WRITTEN_OUT factors: (XXᵀ)²X = XXᵀXXᵀX (a larger power stays one factor: writing out
    (AXB)¹⁰⁰⁰⁰⁰⁰⁰ took seconds)."""
    return [f for a in factors for f in
            (a.args[0].args * int(a.exp) if type(a) is Power and type(a.args[0]) is MatMul and
             1 < a.exp and a.exp * len(a.args[0].args) <= MAX_WRITTEN_OUT else (a,))]


def _fold_run(e: Expr, name: Var, value: Expr) -> Expr:
    """A run of a product equal to the defined product written as its name, both with their
    powers of blocks written out (_written_out): Y = XXᵀX in (XXᵀ)²X = XXᵀY."""
    if isinstance(e, MatMul) and isinstance(value, MatMul) and not is_scalar(value):
        if any(isinstance(a, Num) for a in value.args):
            return e
        pattern = _written_out(value.args)
        args = _written_out(e.args)
        written = len(args)
        size = len(pattern)
        i = len(args) - size
        while i >= 0:
            if args[i:i + size] == pattern:
                args[i:i + size] = [name]
                i -= size
            else:
                i -= 1
        if len(args) != written:
            return args[0] if len(args) == 1 else MatMul(*args)
    return e
