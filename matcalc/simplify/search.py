"""The search for the textbook form: the cheapest by ``cost`` of the simplified, expanded,
collected, factored and definition-folded forms.
"""

from __future__ import annotations

from collections import Counter

from ..ir import Add, Expr, MatMul, Power, Transpose, is_symmetric
from ..memo import memoized
from .cost import cost, within_written
from .definitions import expander, fold_definitions, fold_hadamard_definitions
from .engine import simplify
from .factor import MAX_TERMS, expand, factor, gather_images
from .powers import base_and_power
from .present import present
from .terms import coeff_and_rest


@memoized(4096)
def tidy(e: Expr) -> Expr:
    """The cheapest of the simplified, the expanded-and-collected and the re-factored forms;
    applied inside ∘, functions and transposes too."""
    e = simplify(e)
    if e.args and not isinstance(e, (Add, MatMul)):
        e = simplify(e.with_args(_tidy_operand(e, a) for a in e.args))
    candidates = [e]
    gathered = gather_images(e, tidy)
    if gathered is not None:
        # the images of one linear map in a sum are the image of their sum, which factors where
        # the map hides the common factor: (S ∘ A)ᵀ − (S ∘ B)ᵀ = (S ∘ (A − B))ᵀ, Diag(a) −
        # Diag(b) + C = Diag(a − b) + C
        candidates.append(gathered)
    if isinstance(e, (Add, MatMul)):
        # each term or factor tidied on its own: (DᵀA + DA)bᵀ = (D + Dᵀ)Abᵀ, and then the
        # whole factored: AJ + BJ = (A + B)J with J tidied once however often it is shared
        tidied = simplify(e.with_args(tidy(a) for a in e.args))
        candidates += [tidied, factor(tidied)]
    candidates.append(factor(e))
    products = expand(e)
    if len(products) <= MAX_TERMS:
        collected = simplify(Add(*products)) if len(products) > 1 else products[0]
        candidates.append(collected)
        candidates.append(factor(collected))
    # ∘ distributed too, kept only where terms cancel: σ ∘ ((1 − y) ⊘ (1 − σ) − y ⊘ σ) ∘
    # (1 − σ) = σ − y, but σ ∘ (1 − σ) stays
    terms = expand(e, hadamard=True)
    if 1 < len(terms) <= MAX_TERMS:
        collected = simplify(Add(*terms))
        if len(collected.args if isinstance(collected, Add) else (collected,)) < len(terms):
            candidates.append(collected)
            candidates.append(factor(collected))
    # a sum over the orders of one product (Leibniz's rule on AXXX) reads flat:
    # (Xᵀ)³Aᵀ + (Xᵀ)²AᵀXᵀ + XᵀAᵀ(Xᵀ)² + Aᵀ(Xᵀ)³, not Horner's nesting of it
    if _orders_of_one_product(products):
        candidates = [c for c in candidates if _sum_depth(c) <= 1] or candidates
    if isinstance(e, MatMul) and (spread := _inverses_spread(e)) is not None:
        # the inverse of a product of square matrices, (XᵀAX)⁻¹ = X⁻¹A⁻¹X⁻ᵀ, kept where its
        # factors cancel: AX(XᵀAX)⁻¹ = X⁻ᵀ for a square X [Cookbook (52)]
        candidates.append(simplify(spread))
    # cheapest wins; ties go to the most factored (last) form
    return min(reversed(candidates), key=cost)


MAX_SPREAD = 8      # factors of a product whose inverse is tried spread over its factors


def _inverses_spread(e: MatMul) -> Expr | None:
    """e with each integer power of a product of square matrices among its factors written
    as the product of the factors' powers, (ABC)⁻ᵏ = (C⁻¹B⁻¹A⁻¹)ᵏ; None when there is none.
    Products of up to MAX_SPREAD factors: the form is tried at every product the inverse
    stands in, and spreads the inverse of det(AXAX…XB)'s 180 factors 300 times."""
    def spread(f: Expr) -> Expr:
        if isinstance(f, Transpose):
            return Transpose(spread(f.arg))
        if isinstance(f, Power) and f.exp < 0 and f.exp.denominator == 1 and \
                isinstance(f.arg, MatMul) and len(f.arg.args) <= MAX_SPREAD and \
                all(a.rows == a.cols for a in f.arg.args):
            inverse = MatMul(*[Power(a, -1) for a in reversed(f.arg.args)])
            return inverse if f.exp == -1 else Power(inverse, -f.exp)
        return f
    factors = [spread(f) for f in e.args]
    return None if factors == list(e.args) else MatMul(*factors)


@memoized(1 << 14)
def _sum_depth(e: Expr) -> int:
    """How many sums deep e nests: 1 for A + B and 2(A + B), 2 for X(A + B) + C."""
    inner = max((_sum_depth(a) for a in e.args), default=0)
    return inner + 1 if isinstance(e, Add) else inner


def _tidy_operand(e: Expr, a: Expr) -> Expr:
    """An operand tidied, kept symmetric by its form where e needs that (λ_max(S), q_min(S)):
    X̂ᵀZᵀ + 4X̂ᵀX̂ + ZX̂ factored as X̂ᵀ(Zᵀ + 4X̂) + ZX̂ no longer reads as symmetric."""
    tidied = tidy(a)
    if getattr(e, "requires_symmetric", False) and is_symmetric(a) and not is_symmetric(tidied):
        return a
    return tidied


def _orders_of_one_product(terms: list) -> bool:
    """Are there several terms, each the same factors with one coefficient in another order?"""
    def factors(t):            # a power counts as its factors: (Xᵀ)²Aᵀ has Xᵀ twice and Aᵀ
        c, rest = coeff_and_rest(t)
        units: Counter = Counter()
        for f in rest.args if isinstance(rest, MatMul) else (rest,):
            (base, transposed), k = base_and_power(f)
            units[base, transposed, k > 0] += abs(k)
        return c, units
    if len(terms) <= 2:
        return False
    first = factors(terms[0])
    return all(factors(t) == first for t in terms[1:])


def textbook_form(g: Expr, definitions: dict, function: Expr, result_name: str | None) -> Expr:
    """The cheapest of: the gradient over the user's names, with every name expanded, and the
    expanded form with the definitions (and the function's own name) folded back in."""
    named = tidy(g)
    like = [function, *definitions.values()]
    if not definitions and not result_name:
        return present(within_written(named), like)
    inline = expander(definitions)
    expanded = tidy(inline(g))
    values = {n: simplify(inline(e)) for n, e in definitions.items()}
    if result_name:
        values[result_name] = simplify(inline(function))
    folded = tidy(fold_definitions(expanded, values))
    raw_folded = fold_definitions(simplify(g), values)
    over_names = {n: simplify(e) for n, e in definitions.items()}
    if result_name:
        over_names[result_name] = simplify(function)
    named_folded = tidy(fold_hadamard_definitions(raw_folded, over_names))
    best = min([named, named_folded, folded, expanded], key=cost)
    return present(within_written(best), like)
