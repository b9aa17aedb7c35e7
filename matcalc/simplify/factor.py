"""Expansion into product terms and factoring out of sums: the two moves of the search for the
printed form.
"""

from __future__ import annotations

from fractions import Fraction
from itertools import product as cartesian
from math import gcd

from ..ir import (
    SCALAR,
    Add,
    Broadcast,
    Diag,
    DiagOf,
    Expr,
    Hadamard,
    HadPow,
    Identity,
    MatMul,
    Num,
    Power,
    Transpose,
    Unvec,
    Vec,
    is_scalar,
)
from ..memo import memoized
from .cost import cost
from .engine import simplify
from .powers import base_and_power, peel, power_of
from .terms import ONE, coeff_and_rest, scalar_factors, scale

MAX_TERMS = 64


# An expansion writes at most this many factors over all its terms: the backward pass through
# layers tanh(Wᵢhᵢ₋₁) opens, at each layer, into a term per layer above it, each the product of
# their matrices (cubic in the layers)
MAX_EXPANDED_FACTORS = 4 * MAX_TERMS


# Sums of more terms have only the factors common to all their terms taken out: factoring
# out the factors that some share is quadratic in the terms and nests as deep as there are
# terms (d(X¹⁰⁰) = Σᵢ XⁱdX X⁹⁹⁻ⁱ)
MAX_FACTORED = 16


def expand(e: Expr, hadamard: bool = False) -> list[Expr]:
    """e as a list of product terms: products distributed over sums, and with ``hadamard``
    also ∘ (not into functions); e itself when ∘ opens into more than MAX_TERMS terms."""
    terms = _expanded(e, hadamard)
    return [e] if terms is None else list(terms)


@memoized(1 << 14)
def _expanded(e: Expr, hadamard: bool) -> tuple | None:
    """The terms of e, or None when a ∘ product in it opens into more than MAX_TERMS terms:
    then the whole expansion is abandoned (a part kept closed would be opened again, one level
    down, by every term around it: exponential in the nesting of σ(σ(…σ(x))))."""
    # memoized: a subtree shared by several sums (the adjoints of nested definitions) is
    # expanded, or found to open too far, once
    if isinstance(e, Add):
        terms: list = []
        for a in e.args:
            part = _expanded(a, hadamard)
            if part is None:
                return None
            terms.extend(part)
        return tuple(terms)
    if isinstance(e, MatMul):
        options = [_expanded(a, hadamard) for a in e.args]
        if None in options:
            return None
        count = 1
        for o in options:
            count *= len(o)
        # each term holds a factor from every option: the factors written over all the terms
        factors = sum(count // len(o) * sum(_width(t) for t in o) for o in options)
        if count > MAX_TERMS or factors > MAX_EXPANDED_FACTORS:
            return (e,)
        return tuple(simplify(MatMul(*combo)) for combo in cartesian(*options))
    if isinstance(e, Hadamard) and hadamard:
        return _expand_hadamard(e)
    return (e,)


def _width(term: Expr) -> int:
    """The factors of a product term (1 for any other)."""
    return len(term.args) if isinstance(term, MatMul) else 1


def _expand_hadamard(e: Hadamard) -> tuple | None:
    """A ∘ (B + C) = A ∘ B + A ∘ C, one sum at a time, each product simplified before the next
    sum is opened — so that factors cancel first: σ ∘ (a ⊘ (1 − σ)) ∘ (1 − σ) = σ ∘ a."""
    sums = []
    for i, a in enumerate(e.args):
        c, rest = coeff_and_rest(a)
        if isinstance(rest, Add):
            sums.append((not _divides(rest), i, c, rest))
    if not sums:
        return (e,)
    # where nothing divides, no factor cancels a sum: each opens into all its terms, and past
    # MAX_TERMS the expansion is abandoned at once, not after simplifying the product (of
    # every factor) once for each term it opens on the way (σ(σ(…σ(x))) derives a ∘ product of
    # a sum per level)
    count = 1
    for _, _, _, rest in sums:
        count *= len(rest.args)
    if count > MAX_TERMS and not any(_divides(a) for a in e.args):
        return None
    _, i, c, rest = min(sums, key=lambda s: (s[0], s[1]))     # a sum with a divisor first
    out: list = []
    for t in rest.args:
        product = simplify(Hadamard(*e.args[:i], scale(c, t, t.shape), *e.args[i + 1:]))
        terms = _expanded(product, True)
        if terms is None or len(out) + len(terms) > MAX_TERMS:
            return None
        out.extend(terms)
    return tuple(out)


@memoized(1 << 14)
def _divides(e: Expr) -> bool:
    """Is there an entrywise division (a negative ∘ power) anywhere in e? (Each shared
    subtree looked at once.)"""
    return isinstance(e, HadPow) and e.exp < 0 or any(_divides(a) for a in e.args)


def _split(term: Expr):
    """term → (coefficient, scalar factors, matrix chain); the chain of a 1×1 product such as
    xᵀAy stays a chain (its factors are matrices)."""
    c, rest = coeff_and_rest(term)
    if rest is None:
        return c, [], []
    parts = rest.args if isinstance(rest, MatMul) else (rest,)
    scalars = [q for p in parts if is_scalar(p) for q in scalar_factors(p)]
    return c, scalars, [p for p in parts if not is_scalar(p)]


def _join(c: Fraction, scalars: list, chain: list, shape) -> Expr:
    """c · scalars · chain; an empty chain of a matrix shape is the identity (a factor taken
    out of the whole term: AX − A = A(X − I))."""
    args = ([Num(c)] if c != 1 else []) + list(scalars) + list(chain)
    if not chain and shape != SCALAR:
        args.append(Identity(shape[0]))
    if not args:
        return ONE
    return simplify(args[0] if len(args) == 1 else MatMul(*args))


def factor(e: Expr) -> Expr:
    """Pull common numbers, scalar factors and left/right matrix factors out of a sum:
    2AᵀAx − 2Aᵀb = 2Aᵀ(Ax − b);  AX + AᵀX = (A + Aᵀ)X."""
    if not isinstance(e, Add):
        return e
    terms = [_split(t) for t in e.args]
    shape = e.shape
    # common number
    coeffs = [c for c, _, _ in terms]
    common = _common_coefficient(coeffs)
    if common not in (0, 1):           # terms of coefficient 0 have no common number to take out
        inner = Add(*[_join(c / common, s, ch, shape) for c, s, ch in terms])
        return simplify(MatMul(Num(common), factor(simplify(inner))))
    # the scalar factors common to every term, each to the smallest power each term has (a
    # divisor to the smallest power each divides by), taken out together — one at a time, the
    # sum left inside is flattened and hides the next: σ(1 − σ) − 2σ²(1 − σ) = σ(1 − σ)(1 − 2σ)
    powers = [_powers(sc) for _, sc, _ in terms]
    common = {}
    for base in powers[0]:
        ks = [p.get(base, 0) for p in powers]
        if all(k > 0 for k in ks) or all(k < 0 for k in ks):
            common[base] = min(ks) if ks[0] > 0 else max(ks)
    if common:
        inner = Add(*[_join(c, _power_list({b: k - common.get(b, 0) for b, k in p.items()}),
                            ch, shape) for (c, _, ch), p in zip(terms, powers)])
        return simplify(MatMul(*_power_list(common), factor(simplify(inner))))
    many = len(terms) > MAX_FACTORED
    if not many:
        gathered = gather_images(e, factor)
        if gathered is not None:
            return factor(gathered)
        # a Hadamard factor common to every term: A ∘ C + B ∘ C = (A + B) ∘ C
        hadamard = _factor_hadamard(e)
        if hadamard is not None:
            return hadamard
        # else from the terms that share one: 2 + G ∘ σ ∘ T^∘2 − G ∘ σ^∘2 ∘ T = 2 + G ∘ σ ∘ T ∘
        # (T − σ)
        group = _hadamard_group(e)
        if group is not None:
            shared = [t for t, g in zip(e.args, group) if g]
            others = [t for t, g in zip(e.args, group) if not g]
            parts = [_factor_hadamard(Add(*shared)),
                     factor(simplify(Add(*others))) if len(others) > 1 else others[0]]
            return simplify(Add(*(parts if group[0] else parts[::-1])))  # in the terms' order
    # the left or right matrix factor shared by most terms (by all, in a sum of many)
    # (one factor of a power counts: X²A + XB = X(XA + B); a factor that is a whole term
    # stays with it: S⁻¹ − S⁻¹BS⁻¹, not S⁻¹(I − BS⁻¹))
    best = None
    for side in (0, -1):
        counts: dict = {}
        for c, s, ch in terms:
            if ch and (not _alone(ch) or _leaves_scalar(ch, side, shape)):
                unit = peel(ch[side])[0]
                counts[unit] = counts.get(unit, 0) + 1
        for f, n in counts.items():
            if n >= 2 and (n == len(terms) or not many) and (best is None or n > best[0]):
                best = (n, side, f)
    if best is None:
        return e
    _, side, f = best

    def shares(chain):
        return chain and (not _alone(chain) or _leaves_scalar(chain, side, shape)) and \
            peel(chain[side])[0] == f
    # the terms that do not share f stay as they are (rebuilt, each long chain was simplified
    # again at each level)
    others = [t for t, split in zip(e.args, terms) if not shares(split[2])]
    # the largest power of f that every term sharing it has on its side, taken out at once:
    # X³A + X²B = X²(XA + B), not X(X(XA + B)) (a level per factor, quadratic in the powers
    # of d(X¹⁰⁰)); a lone power keeps one factor, X³ + X²B = X²(X + B)
    m = min(_takeable(ch, side) for c, s, ch in terms if shares(ch))
    group = [(c, s, _peeled(ch, side, m)) for c, s, ch in terms if shares(ch)]
    inner_shape = _inner_shape(group[0][2], side, shape)
    if inner_shape is None:
        return e
    # the factors that follow f in every chain of the group are taken out with it, as the
    # next levels would take them one at a time (each rebuilding every chain: quadratic in
    # the length of a long common run)
    chains = [ch for _, _, ch in group]
    run = common_run(chains, side)
    if run > 1:
        left = chains[0][run:] if side == 0 else chains[0][:-run]
        inner_shape = (left[0].rows, left[-1].cols)
    taken = chains[0][:run] if side == 0 else chains[0][-run:]
    inner_terms = [_join(c, s, ch[run:] if side == 0 else ch[:-run], inner_shape)
                   for c, s, ch in group]
    # inside the parentheses: positive terms first, then the simpler ones (A + Aᵀ, Ax − b);
    # many terms keep their order (Leibniz's, in a power's derivative)
    inner_terms.sort(key=lambda t: (coeff_and_rest(t)[0] < 0, 0 if many else cost(t)))
    inner = factor(simplify(Add(*inner_terms)))
    factored = MatMul(*taken, inner) if side == 0 else MatMul(inner, *taken)
    if not others:
        return simplify(factored)
    return simplify(Add(simplify(factored), factor(simplify(Add(*others)))
                        if len(others) > 1 else others[0]))


# the structural maps, linear in their one argument: L(A) + L(B) = L(A + B)
LINEAR_MAPS = (Transpose, Diag, DiagOf, Vec, Unvec)


def gather_images(e: Expr, inner_form) -> Expr | None:
    """The sum e with the terms that are images of one linear map, Σ cᵢL(Aᵢ), written as
    L(Σ cᵢAᵢ), the inner sum put in ``inner_form``; None when no map has two terms or the
    gathered sum is e again (a sum of transposes is pushed back apart unless it factors)."""
    if not isinstance(e, Add):
        return None
    groups: dict = {}
    for i, t in enumerate(e.args):
        c, rest = coeff_and_rest(t)
        key = (type(rest), rest.params) if isinstance(rest, LINEAR_MAPS) else i
        groups.setdefault(key, []).append((c, rest))
    if len(groups) == len(e.args):
        return None
    terms = []
    for pairs in groups.values():
        c, image = pairs[0]
        if len(pairs) == 1:
            terms.append(scale(c, image, image.shape))
        else:
            inner = Add(*[scale(k, m.arg, m.arg.shape) for k, m in pairs])
            terms.append(image.with_args([inner_form(simplify(inner))]))
    gathered = simplify(terms[0] if len(terms) == 1 else Add(*terms))
    return None if gathered == e else gathered


def _alone(chain: list) -> bool:
    """Is the chain one factor that is not a power (taking it out would leave I)?"""
    return len(chain) == 1 and peel(chain[0])[1] is None


def _leaves_scalar(chain: list, side: int, shape) -> bool:
    """Is the chain a lone row (column) that, taken out of a row (column) term on its side,
    leaves a scalar, not I: αxᵀ − βxᵀ = (α − β)xᵀ?"""
    if len(chain) != 1:
        return False
    f = chain[0]
    return f.cols == 1 and shape[1] == 1 if side == 0 else f.rows == 1 and shape[0] == 1


def _takeable(chain: list, side: int) -> int:
    """How many factors of the power on the chain's side can be taken out of it: all of them,
    but one where the power is the whole chain (taking it all would leave I)."""
    k = abs(base_and_power(chain[side])[1])
    return k - 1 if len(chain) == 1 and k > 1 else k


def _peeled(chain: list, side: int, m: int) -> list:
    """The chain with the factor Aᵏ on its side split as Aᵐ · Aᵏ⁻ᵐ (the second part left out
    when m = k)."""
    base, k = base_and_power(chain[side])
    if abs(k) == m:
        return chain
    sign = 1 if k > 0 else -1
    taken, rest = power_of(base, sign * m), power_of(base, k - sign * m)
    return [taken, rest, *chain[1:]] if side == 0 else [*chain[:-1], rest, taken]


def _hadamard_parts(term: Expr):
    """term → (coefficient, scalar factors, {Hadamard factor base: exponent}, whether its
    factors other than scalars are a ∘ product: 2λ(A ∘ C) is, C and X^∘2 are not)."""
    c, rest = coeff_and_rest(term)
    if rest is None or is_scalar(rest):
        return None
    scalars = []
    if isinstance(rest, MatMul):
        scalars = [a for a in rest.args if is_scalar(a)]
        chain = [a for a in rest.args if not is_scalar(a)]
        rest = chain[0] if len(chain) == 1 else MatMul(*chain)
    powers: dict = {}
    for f in (rest.args if isinstance(rest, Hadamard) else (rest,)):
        base, k = (f.arg, f.exp) if isinstance(f, HadPow) else (f, Fraction(1))
        powers[base] = powers.get(base, Fraction(0)) + k
    return c, scalars, powers, isinstance(rest, Hadamard)


def _factor_hadamard(e: Add) -> Expr | None:
    """Take the factors that every term of a sum has in its Hadamard product out of the sum,
    with the smallest power they share: A ∘ C + B ∘ C = (A + B) ∘ C, A ⊘ c² − B ⊘ c = (A ⊘ c
    − B) ⊘ c."""
    parts = [_hadamard_parts(t) for t in e.args]
    if any(p is None for p in parts) or not any(p[3] for p in parts):
        return None
    common: dict = {}
    for base in parts[0][2]:
        ks = [p[2].get(base, Fraction(0)) for p in parts]
        if all(x > 0 for x in ks):
            common[base] = min(ks)
        elif all(x < 0 for x in ks):
            common[base] = max(ks)
    if not common:
        return None
    terms = []
    for c, scalars, powers, _ in parts:
        left = [b if k == 1 else HadPow(b, k) for b, k in
                ((b, k - common.get(b, 0)) for b, k in powers.items()) if k != 0]
        core = left[0] if len(left) == 1 else (Hadamard(*left) if left else
                                                Broadcast(ONE, *e.shape))
        terms.append(simplify(MatMul(Num(c), *scalars, core)))
    # inside the parentheses: positive terms first, then the simpler ones
    terms.sort(key=lambda t: (coeff_and_rest(t)[0] < 0, cost(t)))
    inner = factor(simplify(Add(*terms)))
    # the factors, the sum, then the divisors: γᵀ ∘ (G − mean(G, 1)) ⊘ s
    factors = [b if k == 1 else HadPow(b, k) for b, k in common.items() if k > 0]
    divisors = [HadPow(b, k) for b, k in common.items() if k < 0]
    return simplify(Hadamard(*factors, inner, *divisors))


def _hadamard_group(e: Add) -> list | None:
    """Which terms of the sum have the Hadamard factor that most of its ∘ products share (at
    least two, not all), each to a power of one sign; None when no two share one."""
    parts = [_hadamard_parts(t) for t in e.args]
    if sum(p is not None and p[3] for p in parts) < 2:
        return None
    best = None
    for p in parts:
        for base, k in (p[2].items() if p is not None and p[3] else ()):
            # the terms with base (a ∘ product among them: _factor_hadamard takes it out)
            group = [q is not None and q[2].get(base, 0) * k > 0 for q in parts]
            if 2 <= sum(group) < len(group) and (best is None or sum(group) > sum(best)):
                best = group
    return best


def common_run(chains: list, side: int) -> int:
    """How many factors on the side the chains have in common (at least their first, which
    the group shares), each chain keeping one factor at least."""
    run = 1
    limit = min(len(ch) for ch in chains) - 1
    while run < limit and len({ch[run] if side == 0 else ch[-run - 1] for ch in chains}) == 1:
        run += 1
    return run


def _inner_shape(chain: list, side: int, shape):
    if len(chain) > 1:
        rest = chain[1:] if side == 0 else chain[:-1]
        return (rest[0].rows, rest[-1].cols)
    f = chain[0]
    if f.rows != f.cols:
        return SCALAR if _leaves_scalar(chain, side, shape) else None
    return (f.cols, shape[1]) if side == 0 else (shape[0], f.rows)


def _powers(scalars: list) -> dict:
    """Scalar factors as {base: exponent}: [s, t², s] → {s: 2, t: 2}."""
    out: dict = {}
    for f in scalars:
        base, k = (f.arg, f.exp) if isinstance(f, Power) else (f, Fraction(1))
        out[base] = out.get(base, Fraction(0)) + k
    return out


def _power_list(powers: dict) -> list:
    return [b if k == 1 else Power(b, k) for b, k in powers.items() if k != 0]


def _common_coefficient(coeffs: list) -> Fraction:
    if all(c < 0 for c in coeffs):
        return -_common_coefficient([-c for c in coeffs])
    nums = [c.numerator for c in coeffs]
    dens = [c.denominator for c in coeffs]
    g = 0
    for n in nums:
        g = gcd(g, abs(n))
    d = 0
    for x in dens:
        d = gcd(d, x)
    if len(set(dens)) == 1:
        return Fraction(g, dens[0])
    return Fraction(g, 1) if all(x == 1 for x in dens) else Fraction(1)
