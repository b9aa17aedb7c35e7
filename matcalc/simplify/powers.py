"""Rules of matrix powers: Aᵏ simplified, neighbouring powers of one matrix in a chain merged
(X²X = X³, AA⁻¹ = I, QᵀQ = I) and scalar powers merged (s^a s^b = s^(a+b)).
"""

from __future__ import annotations

from bisect import bisect_right
from fractions import Fraction

from ..errors import MatcalcError, UnsupportedError
from ..ir import (Add, Broadcast, Expr, Func, Identity, MatMul, Num, Power, Size, Transpose,
                  Var, is_scalar, product)
from ..memo import memoized
from ..reader.limits import _NUMBER_HINT, MAX_DIGITS, power_fits
from .engine import simplify
from .terms import ONE, is_orthogonal


def power_rules(e: Power) -> Expr:
    """A¹ = A; A⁰ = I; (Aᵏ)ʲ = Aᵏʲ; Iᵏ = I; (cA)ᵏ = cᵏAᵏ for scalars; (Aᵀ)ᵏ = (Aᵏ)ᵀ."""
    a, k = e.arg, e.exp
    if k == 1:
        return a
    if k == 0:
        return ONE if is_scalar(a) else Identity(a.rows)
    if isinstance(a, Num):
        if k.denominator == 1:
            return _power(a, k)
        return e
    if isinstance(a, Identity):
        return a
    if is_orthogonal(a) and a.rows == a.cols and k < 0:
        return Power(Transpose(a), -k)              # Q⁻¹ = Qᵀ
    if isinstance(a, Power) and (k.denominator == 1 and a.exp.denominator == 1):
        return Power(a.arg, a.exp * k)
    if isinstance(a, Transpose):
        return Transpose(Power(a.arg, k))
    if isinstance(a, MatMul) and k.denominator == 1 and all(is_scalar(f) for f in a.args):
        return MatMul(*[Power(f, k) for f in a.args])
    if halved := halved_root(a, k):
        return product(b if j == 1 else Power(b, j) for b, j in halved)
    return e


def _power(base: Expr, k: Fraction) -> Expr:
    if isinstance(base, Num) and k.denominator == 1:
        if base.value == 0 and k < 0:
            # the input divides by something that is identically 0, as (λ − λ)⁻¹
            raise MatcalcError("the expression has no value: it divides by something that is "
                               "identically 0", hint="look for a denominator such as (λ − λ)")
        if not power_fits(base.value, int(k)):
            # a power folded from exponents the input multiplies, ((2X)^∘3)^∘3… = 2^(3ᵏ)X^∘3ᵏ
            raise UnsupportedError(
                f"the number {base.value}^{k} is out of range: past the {MAX_DIGITS} digits "
                "matcalc computes with", hint=_NUMBER_HINT)
        return Num(base.value ** int(k))
    return Power(base, k)


def merge_scalar_powers(scalars: list) -> list:
    """s^a s^b = s^(a+b) for scalar factors; sorted into a fixed order."""
    exps: dict = {}
    for s in scalars:
        base, k = (s.arg, s.exp) if isinstance(s, Power) else (s, Fraction(1))
        exps[base] = exps.get(base, Fraction(0)) + k
    halve_roots(exps)
    for base in [b for b in exps if isinstance(b, Func) and b.name == "abs"]:
        # s/|s| = |s|/s = sign(s) (s ≠ 0): a power of s and one of |s| of opposite signs
        s, k = base.arg, exps[base]
        if abs(k) == 1 and exps.get(s, 0) * k < 0 and exps[s].denominator == 1:
            exps[s] += k
            del exps[base]
            exps[Func("sign", s)] = Fraction(1)
    out = []
    for base, k in exps.items():
        if k == 0:
            continue
        out.append(base if k == 1 else _power(base, k))
    return sorted(out, key=_order_key)


def halved_root(base: Expr, k: Fraction) -> list | None:
    """(√x)ᵏ = x^j (√x)^r with k = 2j + r, r = 0 or ±1 of k's sign, entrywise or of scalars,
    as [(factor, power)]: (√(v + ε))^∘2 = v + ε, (√s)⁻³ = s⁻¹(√s)⁻¹; None unless base is a
    root and k an integer other than 0 and ±1."""
    x = radicand(base)
    if x is None or k.denominator != 1 or abs(k) <= 1:
        return None
    j = Fraction(int(k / 2))
    return [(x, j)] + ([(base, k - 2 * j)] if k != 2 * j else [])


def radicand(e: Expr) -> Expr | None:
    """x for √x, or for √x broadcast (then x broadcast alike); None for anything else."""
    if isinstance(e, Broadcast):
        inner = radicand(e.arg)
        return None if inner is None else Broadcast(inner, *e.shape)
    return e.arg if isinstance(e, Func) and e.name == "sqrt" else None


def halve_roots(exps: dict) -> None:
    """The roots in a map of factors to their powers halved (see halved_root)."""
    for base, k in list(exps.items()):
        if halved := halved_root(base, k):
            exps[base] = Fraction(0)
            for b, j in halved:
                exps[b] = exps.get(b, Fraction(0)) + j


@memoized(1 << 14)
def _order_key(e: Expr) -> tuple:
    # sizes first (mn exp(α)), sums after the other factors, inner products after them and
    # names last (σ(t)(1 − σ(t))(Vᵀx)V), denominators last, then a stable textual order
    neg = isinstance(e, Power) and e.exp < 0
    base = e.arg if isinstance(e, Power) else e
    rank = 3 if isinstance(base, Var) else 2 if isinstance(base, MatMul) else \
        1 if isinstance(base, Add) else 0
    return (neg, not isinstance(e, Size), rank, repr(e))


def base_and_power(a: Expr) -> tuple[tuple, int]:
    """((A, transposed), k) for a factor Aᵏ or (Aᵏ)ᵀ of a chain (A⁻ᵀ is (A⁻¹)ᵀ); ((a, False), 1)
    for any other factor. (Exact types, no memo: asked of every factor of every chain.)"""
    transposed = type(a) is Transpose
    inner = a.args[0] if transposed else a
    if type(inner) is Power and inner.exp.denominator == 1:
        return (inner.args[0], transposed), int(inner.exp)
    return (inner, transposed), 1


def merge_powers(chain: list) -> list:
    """AᵃAᵇ = Aᵃ⁺ᵇ for neighbouring powers of one matrix: A A⁻¹ = A⁻¹ A = I, X²X = X³; QᵀQ = I
    for Q with orthonormal columns, and QQᵀ = I when Q is square."""
    bases = [base_and_power(a) for a in chain]
    orthogonal = any(is_orthogonal(base) for (base, _), _ in bases)
    if not orthogonal and not any(left[0] == right[0] for left, right in zip(bases, bases[1:])):
        return list(chain)      # no two neighbours merge, so no merge makes new neighbours
    runs: list = []             # [base, power, the factor as written if it stands alone]
    for a, (base, k) in zip(chain, bases):
        if runs and runs[-1][0] == base:
            runs[-1][1:] = [runs[-1][1] + k, None]
            if runs[-1][1] == 0:
                runs.pop()
        elif orthogonal and runs and runs[-1][1] > 0 and is_orthogonal(runs[-1][0][0]) and \
                _orthogonal_pair(power_of(runs[-1][0], 1), a):
            # (QᵀQ's bases differ: Q is transposed in one of them)
            runs[-1][1:] = [runs[-1][1] - 1, None]
            if runs[-1][1] == 0:
                runs.pop()
        else:
            runs.append([base, k, a])
    if not runs:
        return [Identity(chain[0].rows)] if chain else []
    return [a or power_of(base, k) for base, k, a in runs]


def fold_blocks(chain: list) -> list:
    """A block of factors written k times in a row is its power, ABAB = (AB)², and a power of
    a block takes in the copies of it beside it, AB(AB)² = (AB)²AB = (AB)³: so that equal
    products compare equal ((XW)²XW and XWXWXW were two trees, and the gradient of
    tr((XW)²XW) read Xᵀ((WᵀXᵀ)² + 2(WᵀXᵀ)²))."""
    if len(chain) > 3 and len(set(zip(chain, chain[1:]))) < len(chain) - 1:
        # (a block of two or more factors written twice writes its first two twice)
        folded = []
        for block, reps in repeated_blocks(chain):
            if reps > 1 and len(block) > 1:
                folded.append(simplify(Power(MatMul(*block), Fraction(reps))))
            else:
                folded += block * reps
        chain = folded
    # the powers of blocks with a copy of their block (m) beside them, found before any is
    # rebuilt: most chains have none
    powers = [i for i, f in enumerate(chain) if type(f) is Power and type(f.args[0]) is MatMul]
    if not any(tuple(chain[max(i - len(m), 0):i]) == m or tuple(chain[i + 1:i + 1 + len(m)]) == m
               for i in powers for m in [chain[i].args[0].args]):
        return chain
    out: list = []
    i = 0
    while i < len(chain):
        f = chain[i]
        i += 1
        if type(f) is Power and type(f.args[0]) is MatMul and f.exp > 0:
            block, k = f.args[0].args, f.exp
            m = len(block)
            while len(out) >= m and tuple(out[-m:]) == block:
                del out[-m:]
                k += 1
            while tuple(chain[i:i + m]) == block:
                i += m
                k += 1
            if k != f.exp:
                f = simplify(Power(f.args[0], k))
        out.append(f)
    return out


MAX_TRIED = 32      # places where a block's first factor comes back, tried as its end


def repeated_blocks(chain: list, keep=lambda block: True) -> list[tuple[list, int]]:
    """The chain as runs of a repeated block, left to right: XAXAXB → [([X, A], 2), ([X], 1),
    ([B], 1)]. At each place the block (one that keep accepts) that repeats over the most
    factors is taken, the shortest of those. A block ends where its first factor comes back (the
    first MAX_TRIED such places are tried), and blocks are compared by their factors' hashes
    before their trees: a chain of n factors is read in O(n) comparisons, not O(n²) blocks
    built and compared."""
    hashes = [hash(a) for a in chain]
    places: dict = {}
    for j, h in enumerate(hashes):
        places.setdefault(h, []).append(j)

    def repeats(i: int, size: int) -> bool:
        j = i + size
        return hashes[j - size:j] == hashes[j:j + size] and chain[j - size:j] == chain[j:j + size]

    runs, i, n = [], 0, len(chain)
    while i < n:
        best = (1, 1)       # (size, repeats)
        later = places[hashes[i]]
        start = bisect_right(later, i)
        for j in later[start:start + MAX_TRIED]:
            size = j - i
            if 2 * size > n - i:
                break
            if not repeats(i, size) or not keep(chain[i:j]):
                continue
            reps = 2
            while i + (reps + 1) * size <= n and repeats(i + (reps - 1) * size, size):
                reps += 1
            if reps * size > best[0] * best[1]:
                best = (size, reps)
        size, reps = best
        runs.append((chain[i:i + size], reps))
        i += size * reps
    return runs


def power_of(base: tuple, k: int) -> Expr:
    a, transposed = base
    power = a if k == 1 else simplify(Power(a, Fraction(k)))
    return simplify(Transpose(power)) if transposed else power


@memoized(1 << 14)
def peel(f: Expr) -> tuple[Expr, Expr | None]:
    """(A, Aᵏ⁻¹) for a factor Aᵏ, k > 1 (and (A⁻¹, Aᵏ⁺¹) for k < −1): one factor of a power
    taken off; (f, None) for any other factor."""
    base, k = base_and_power(f)
    if abs(k) <= 1:
        return f, None
    sign = 1 if k > 0 else -1
    return power_of(base, sign), power_of(base, k - sign)


def _orthogonal_pair(left: Expr, right: Expr) -> bool:
    """Is left·right = I by a declared orthogonal Q: QᵀQ, or QQᵀ of a square Q?"""
    if isinstance(left, Transpose) and is_orthogonal(left.arg) and left.arg == right:
        return True
    return is_orthogonal(left) and right == Transpose(left) and left.rows == left.cols
