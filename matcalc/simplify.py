"""The simplifier: from the engine's raw adjoints to the form a careful author would write.

``simplify`` rewrites bottom-up with each node type's rules (RULES, a table of small named
functions; each returns its input unchanged when it does not apply). ``tidy`` then compares the
simplified expression with its expanded, like-terms-collected and re-factored form and keeps the
cheaper by ``cost`` (operation count); ``present`` writes repeated factors as powers and
positive terms first.
Everything here is deterministic: no set iteration or hashing decides an order.
"""

from __future__ import annotations

from collections import Counter
from fractions import Fraction
from functools import lru_cache
from itertools import product as cartesian
from math import gcd

from .errors import MatcalcError
from .ir import (SCALAR, Add, Broadcast, Commutation, Diag, DiagOf, Expr, Frechet, Frob, Func,
                 Hadamard, HadPow, Identity, Kron, LogDet, LogSoftmax, LogSumExp, MatFunc, MatMul,
                 Mean, Norm, Num, Ones, Power, Size, Softmax, Sum, Trace, Transpose, Unvec,
                 UserFunc, Var, Variance, Vec, Zero, count, is_scalar, is_symmetric, product,
                 unbroadcast, walk)

ONE = Num(1)


def is_zero(e: Expr) -> bool:
    return (isinstance(e, Zero) or (isinstance(e, Num) and e.value == 0)
            or (isinstance(e, Broadcast) and is_zero(e.arg)))


def is_ones(e: Expr) -> bool:
    """An all-ones array (the unit of ∘): 1, 𝟏, 𝟏ᵀ, 𝟏𝟏ᵀ, or a broadcast 1."""
    return e == ONE or isinstance(e, Ones) or (isinstance(e, Broadcast) and e.arg == ONE) or \
        (isinstance(e, Transpose) and isinstance(e.arg, Ones))


def zero_like(e: Expr) -> Expr:
    return Num(0) if is_scalar(e) else Zero(*e.shape)


def coeff_and_rest(e: Expr) -> tuple[Fraction, Expr | None]:
    """c·R → (c, R); a bare number → (c, None)."""
    if isinstance(e, Num):
        return e.value, None
    if isinstance(e, MatMul) and isinstance(e.args[0], Num):
        rest = e.args[1:]
        return e.args[0].value, rest[0] if len(rest) == 1 else MatMul(*rest)
    return Fraction(1), e


def scale(c: Fraction, rest: Expr | None, shape) -> Expr:
    if rest is None:
        return Num(c) if shape == SCALAR else Broadcast(Num(c), *shape)
    if c == 0:
        return zero_like(rest)
    if c == 1:
        return rest
    if isinstance(rest, MatMul):
        return MatMul(Num(c), *rest.args)
    return MatMul(Num(c), rest)


# --- node rules -------------------------------------------------------------------------------

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


@lru_cache(maxsize=1 << 14)
def _commutative_form(e: Expr) -> Expr:
    """e with the factors of every ∘ and : in a fixed order, so that A ∘ B and B ∘ A compare
    equal."""
    if not e.args:
        return e
    e = e.with_args(_commutative_form(a) for a in e.args)
    return e.with_args(sorted(e.args, key=repr)) if isinstance(e, (Hadamard, Frob)) else e


def mul_flatten(e: MatMul) -> Expr:
    """(AB)C = ABC; numbers multiply into one leading coefficient; a power of a product is
    written out ((AB)²C = ABABC) and powers of one matrix side by side merge (X²X = X³,
    AA⁻¹ = I), so that equal products compare equal."""
    coeff = Fraction(1)
    scalars, chain = [], []
    all_scalar = all(is_scalar(a) for a in e.args)
    for a in e.args:
        # a scalar product such as aᵀx stays one factor beside matrices
        flat = isinstance(a, MatMul) and (not is_scalar(a) or all_scalar
                                          or all(is_scalar(p) for p in a.args))
        parts = a.args if flat else (a,)
        if isinstance(a, MatMul) and not flat:
            c, rest = coeff_and_rest(a)         # 2(aᵀx) keeps aᵀx whole, the 2 joins the rest
            coeff *= c
            parts = (rest,)
        for p in parts:
            if isinstance(p, Num):
                coeff *= p.value
            elif is_scalar(p):
                scalars.append(p)
            elif isinstance(p, Power) and isinstance(p.arg, MatMul) and p.exp > 1:
                chain.extend([p.arg] * int(p.exp))
            elif isinstance(p, Transpose) and isinstance(p.arg, Power) and \
                    isinstance(p.arg.arg, MatMul) and p.arg.exp > 1:
                chain.extend([simplify(Transpose(p.arg.arg))] * int(p.arg.exp))
            else:
                chain.append(p)
    return _rebuild_mul(e, coeff, scalars, chain)


def _rebuild_mul(e: MatMul, coeff: Fraction, scalars: list, chain: list) -> Expr:
    if coeff == 0 or any(is_zero(a) for a in scalars + chain):
        return zero_like(e)
    chain = _merge_powers(chain)
    sizes, chain = _ones_chain(chain)
    runs, chain = _scalar_runs(chain)
    if is_scalar(e) and len(chain) > 1 and any(isinstance(s, Power) and s.arg == MatMul(*chain)
                                               for s in scalars):
        runs, chain = runs + [MatMul(*chain)], []       # a scalar chain meets its powers
    scalars = _merge_scalar_powers(scalars + sizes + runs)
    for s in list(scalars):
        if isinstance(s, Num):
            coeff *= s.value
            scalars.remove(s)
    if is_scalar(e) and len(chain) > 1:
        chain = _scalar_chain(chain)
    coeff, scalars, chain = _recognize_mean(coeff, scalars, chain)
    scalars, chain = _recognize_softmax(scalars, chain)
    if len(chain) > 1 or (chain and not is_scalar(e)):
        chain = [a for a in chain if not isinstance(a, Identity)] or chain[:1]
    if not chain and not is_scalar(e):
        chain = [Identity(e.rows)]
    args = ([Num(coeff)] if coeff != 1 else []) + scalars + chain
    if not args:
        return ONE
    if len(args) == 1:
        return args[0]
    new = MatMul(*args)
    return e if new == e else new


def _scalar_runs(chain: list) -> tuple[list, list]:
    """A run of a chain from a row to a column is 1×1, a scalar factor that leaves the chain:
    AxxᵀAx = (xᵀAx)Ax. Returns (the runs, the chain without them); a chain that is one run
    stays."""
    runs, rest, i = [], [], 0
    while i < len(chain):
        end = next((j for j in range(i + 1, len(chain)) if chain[j].cols == 1), None) \
            if chain[i].rows == 1 else None
        if end is None or (i == 0 and end == len(chain) - 1):
            rest.append(chain[i])
            i += 1
            continue
        runs.append(simplify(MatMul(*chain[i:end + 1])))
        i = end + 1
    return runs, rest


def _scalar_chain(chain: list) -> list:
    """A 1×1 product is its own transpose, bᵀa = aᵀb: of the two, the one with fewer
    transposes (xᵀAx, not xᵀAᵀx), then a sum 𝟏ᵀv rather than vᵀ𝟏, then the first in a fixed
    textual order."""
    flipped = [simplify(Transpose(f)) for f in reversed(chain)]
    return min(chain, flipped, key=lambda c: (sum(isinstance(f, Transpose) for f in c),
                                             not _is_ones_row(c[0]), [repr(f) for f in c]))


def _is_ones_col(e: Expr) -> bool:
    return isinstance(e, Ones) and e.cols == 1


def _is_ones_row(e: Expr) -> bool:
    return isinstance(e, Transpose) and _is_ones_col(e.arg)


def _ones_chain(chain: list) -> list:
    """Y𝟏 = 𝟏 for a one-hot or stochastic Y (its rows sum to 1), and softmax(A, 2)𝟏 = 𝟏, 𝟏ᵀsoftmax(A, 1) = 𝟏ᵀ;
    𝟏𝟏ᵀ is the all-ones matrix; 𝟏ᵀ(M ∘ 𝟏r) = (𝟏ᵀM) ∘ r and (M ∘ c𝟏ᵀ)𝟏 = (M𝟏) ∘ c: a broadcast
    factor leaves the sum; all-ones matrices multiply into one, 𝟏𝟏ᵀ𝟏 = n𝟏, 𝟏ᵀ𝟏 = n, and a
    broadcast summed along its copies is their number times the copy. Returns
    (the sizes taken out, the chain)."""
    sizes: list = []
    out: list = []
    for a in chain:
        prev = out[-1] if out else None
        if _is_ones_col(a) and (isinstance(prev, Var) and prev.rows_sum_to_one
                                or _softmax_along(prev, 2)):
            out[-1] = Ones(prev.rows, 1)
        elif _is_ones_row(prev) and _softmax_along(a, 1):
            out[-1] = Transpose(Ones(a.cols, 1))
        elif prev is not None and is_ones(prev) and is_ones(a):
            sizes.append(count(prev.cols))
            out[-1] = Ones(prev.rows, a.cols)
        elif _is_ones_row(prev) and isinstance(a, Diag):
            out[-1] = Transpose(a.arg)                      # 𝟏ᵀDiag(v) = vᵀ
        elif _is_ones_col(a) and isinstance(prev, Diag):
            out[-1] = prev.arg                              # Diag(v)𝟏 = v
        elif _is_ones_row(prev) and (r := _broadcast_along(a, 1)) is not None:
            sizes.append(count(prev.cols))                  # 𝟏ₙᵀ(𝟏ₙr) = n r
            out[-1] = r
        elif _is_ones_col(a) and (r := _broadcast_along(prev, 2)) is not None:
            sizes.append(count(a.rows))                     # (c𝟏ₘᵀ)𝟏ₘ = m c
            out[-1] = r
        elif _is_ones_row(prev) and (pulled := _column_sums_out(prev, a)) is not None:
            out[-1] = pulled
        elif _is_ones_col(a) and (pulled := _row_sums_out(prev, a)) is not None:
            out[-1] = pulled
        else:
            out.append(a)
    return sizes, out


def _softmax_along(e: Expr, axis: int) -> bool:
    """Is e a softmax normalized along the axis (each group of entries sums to 1)?"""
    return isinstance(e, Softmax) and e.axis == axis


def _column_sums_out(ones_row: Expr, h: Expr) -> Expr | None:
    return _sum_out_of(h, 1, lambda m: MatMul(ones_row, m))


def _row_sums_out(h: Expr, ones_col: Expr) -> Expr | None:
    return _sum_out_of(h, 2, lambda m: MatMul(m, ones_col))


def _sum_out_of(h: Hadamard, axis: int, reduce) -> Expr:
    """reduce(h) with the factors broadcast along the axis taken out: for axis 1 (column sums),
    row broadcasts 𝟏r; for axis 2 (row sums), column broadcasts c𝟏ᵀ. None if there are none."""
    if not isinstance(h, Hadamard):
        return None
    kept, out = [], []
    for f in h.args:
        r = _broadcast_along(f, axis)
        (out if r is not None else kept).append(r if r is not None else f)
    if not out or not kept:
        return None
    inner = kept[0] if len(kept) == 1 else Hadamard(*kept)
    return simplify(Hadamard(reduce(inner), *out))


def _broadcast_along(f: Expr, axis: int) -> Expr | None:
    """r if f is r broadcast along the axis (a row stretched down the rows for axis 1), its
    entrywise power included; else None."""
    base, k = (f.arg, f.exp) if isinstance(f, HadPow) else (f, None)
    if not isinstance(base, Broadcast) or is_scalar(base.arg):
        return None
    inner = base.arg
    if (axis == 1 and inner.rows == 1) or (axis == 2 and inner.cols == 1):
        return inner if k is None else HadPow(inner, k)
    return None


def _recognize_mean(coeff: Fraction, scalars: list, chain: list):
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
    if len(chain) >= 2 and (_is_ones_row(chain[0]) or isinstance(chain[0], Ones)):
        n = chain[0].cols
        for i, s in enumerate(scalars):
            if _size_of_reciprocal(s) == n:
                rest = chain[1:]
                mean = Mean(rest[0] if len(rest) == 1 else MatMul(*rest), 1)
                if isinstance(chain[0], Ones):        # (1/n)𝟏𝟏ᵀM = 𝟏 mean(M, 1)
                    mean = Broadcast(mean, chain[0].rows, mean.cols)
                return coeff, scalars[:i] + scalars[i + 1:], [mean]
    return coeff, scalars, chain


def _recognize_softmax(scalars: list, chain: list):
    """exp(z)/sum(exp(z)) = softmax(z) for a vector z."""
    if len(chain) == 1 and isinstance(chain[0], Func) and chain[0].name == "exp":
        z = chain[0].arg
        total = Power(Sum(chain[0]), Fraction(-1))
        if total in scalars and (z.cols == 1 or z.rows == 1):
            rest = list(scalars)
            rest.remove(total)
            return rest, [Softmax(z, 1 if z.cols == 1 else 2)]
    return scalars, chain


def _size_of_reciprocal(s: Expr):
    if isinstance(s, Power) and s.exp == -1 and isinstance(s.arg, Size):
        return s.arg.dim
    return None


def _column_sum(e: Expr):
    """(n, M) if e is 𝟏ₙᵀM or M𝟏ₙ, with the axis: ((n, axis), M); else None."""
    if isinstance(e, MatMul) and len(e.args) >= 2:
        if _is_ones_row(e.args[0]) and not any(is_scalar(a) for a in e.args):
            rest = e.args[1:]
            return (e.args[0].cols, 1), rest[0] if len(rest) == 1 else MatMul(*rest)
        if _is_ones_col(e.args[-1]) and not any(is_scalar(a) for a in e.args):
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


def _merge_scalar_powers(scalars: list) -> list:
    """s^a s^b = s^(a+b) for scalar factors; sorted into a fixed order."""
    exps: dict = {}
    for s in scalars:
        base, k = (s.arg, s.exp) if isinstance(s, Power) else (s, Fraction(1))
        exps[base] = exps.get(base, Fraction(0)) + k
    out = []
    for base, k in exps.items():
        if k == 0:
            continue
        out.append(base if k == 1 else _power(base, k))
    return sorted(out, key=_order_key)


def _power(base: Expr, k: Fraction) -> Expr:
    if isinstance(base, Num) and k.denominator == 1:
        if base.value == 0 and k < 0:
            # the input divides by something that is identically 0, as (λ − λ)⁻¹
            raise MatcalcError("the expression has no value: it divides by something that is "
                               "identically 0", hint="look for a denominator such as (λ − λ)")
        return Num(base.value ** int(k))
    return Power(base, k)


def _order_key(e: Expr) -> tuple:
    # sizes first (mn exp(α)), denominators last, then a stable textual order
    neg = isinstance(e, Power) and e.exp < 0
    return (neg, not isinstance(e, Size), repr(e))


def _base_and_power(a: Expr) -> tuple[tuple, int]:
    """((A, transposed), k) for a factor Aᵏ or (Aᵏ)ᵀ of a chain (A⁻ᵀ is (A⁻¹)ᵀ); ((a, False), 1)
    for any other factor."""
    if isinstance(a, Transpose):
        (base, _), k = _base_and_power(a.arg)
        return (base, True), k
    if isinstance(a, Power) and a.exp.denominator == 1:
        return (a.arg, False), int(a.exp)
    return (a, False), 1


def _merge_powers(chain: list) -> list:
    """AᵃAᵇ = Aᵃ⁺ᵇ for neighbouring powers of one matrix: A A⁻¹ = A⁻¹ A = I, X²X = X³; QᵀQ = I
    for Q with orthonormal columns, and QQᵀ = I when Q is square."""
    runs: list = []             # [base, power, the factor as written if it stands alone]
    for a in chain:
        base, k = _base_and_power(a)
        if runs and runs[-1][1] > 0 and _orthogonal_pair(_power_of(runs[-1][0], 1), a):
            runs[-1][1:] = [runs[-1][1] - 1, None]
            if runs[-1][1] == 0:
                runs.pop()
        elif runs and runs[-1][0] == base:
            runs[-1][1:] = [runs[-1][1] + k, None]
            if runs[-1][1] == 0:
                runs.pop()
        else:
            runs.append([base, k, a])
    if not runs:
        return [Identity(chain[0].rows)] if chain else []
    return [a or _power_of(base, k) for base, k, a in runs]


def _power_of(base: tuple, k: int) -> Expr:
    a, transposed = base
    power = a if k == 1 else simplify(Power(a, Fraction(k)))
    return simplify(Transpose(power)) if transposed else power


@lru_cache(maxsize=1 << 14)
def _peel(f: Expr) -> tuple[Expr, Expr | None]:
    """(A, Aᵏ⁻¹) for a factor Aᵏ, k > 1 (and (A⁻¹, Aᵏ⁺¹) for k < −1): one factor of a power
    taken off; (f, None) for any other factor."""
    base, k = _base_and_power(f)
    if abs(k) <= 1:
        return f, None
    sign = 1 if k > 0 else -1
    return _power_of(base, sign), _power_of(base, k - sign)


def _orthogonal(e: Expr) -> bool:
    return isinstance(e, Var) and e.structure == "orthogonal"


def _orthogonal_pair(left: Expr, right: Expr) -> bool:
    """Is left·right = I by a declared orthogonal Q: QᵀQ, or QQᵀ of a square Q?"""
    if isinstance(left, Transpose) and _orthogonal(left.arg) and left.arg == right:
        return True
    return _orthogonal(left) and right == Transpose(left) and left.rows == left.cols


def transpose_push(e: Transpose) -> Expr:
    """(Aᵀ)ᵀ = A; (AB)ᵀ = BᵀAᵀ; (A + B)ᵀ = Aᵀ + Bᵀ; a scalar, I, Diag(v) and a declared
    symmetric matrix are their own transposes; (A⁻¹)ᵀ stays written A⁻ᵀ."""
    a = e.arg
    if isinstance(a, Transpose):
        return a.arg
    if isinstance(a, Kron):
        return Kron(Transpose(a.args[0]), Transpose(a.args[1]))   # (A ⊗ B)ᵀ = Aᵀ ⊗ Bᵀ
    if is_scalar(a) or isinstance(a, (Identity, Diag)) or (isinstance(a, Var) and a.symmetric):
        return a
    if isinstance(a, (Zero, Ones)) and a.rows != 1 and a.cols != 1:
        return type(a)(a.cols, a.rows)
    if isinstance(a, Zero):
        return Zero(a.cols, a.rows)
    if isinstance(a, MatMul):
        scalars = [f for f in a.args if is_scalar(f)]
        chain = [f for f in a.args if not is_scalar(f)]
        return MatMul(*scalars, *[simplify(Transpose(f)) for f in reversed(chain)])
    if isinstance(a, Add):
        return Add(*[simplify(Transpose(t)) for t in a.args])
    if isinstance(a, Broadcast):
        return Broadcast(simplify(Transpose(a.arg)), a.cols, a.rows)
    if isinstance(a, Power) and simplify(Transpose(a.arg)) == a.arg:
        return a
    if isinstance(a, MatFunc) and is_symmetric(a.arg):
        return a                      # f(S)ᵀ = f(Sᵀ) = f(S)
    return e


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
    if _orthogonal(a) and a.rows == a.cols and k < 0:
        return Power(Transpose(a), -k)              # Q⁻¹ = Qᵀ
    if isinstance(a, Power) and (k.denominator == 1 and a.exp.denominator == 1):
        return Power(a.arg, a.exp * k)
    if isinstance(a, Transpose):
        return Transpose(Power(a.arg, k))
    if isinstance(a, MatMul) and k.denominator == 1 and all(is_scalar(f) for f in a.args):
        return MatMul(*[Power(f, k) for f in a.args])
    return e


def norm_rules(e: Norm) -> Expr:
    """‖s‖ = |s| of a 1×1 s is s itself where s ≥ 0: ‖xᵀx‖₂ = xᵀx."""
    return e.arg if is_scalar(e.arg) and _nonnegative(e.arg) else e


def _nonnegative(s: Expr) -> bool:
    """Is the scalar s ≥ 0 for every value of its names: a Gram form aᵀa, a norm, an even
    power, or a positive multiple or product of these?"""
    if isinstance(s, Num):
        return s.value >= 0
    if isinstance(s, Norm):
        return True
    if isinstance(s, Power):
        return s.exp.denominator == 1 and s.exp.numerator % 2 == 0
    if isinstance(s, MatMul):
        if len(s.args) == 2 and s.args[0] == simplify(Transpose(s.args[1])):
            return True
        return all(is_scalar(f) and _nonnegative(f) for f in s.args)
    return False


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


def logdet_rules(e: LogDet) -> Expr:
    """log|det Q| = 0 for an orthogonal Q (|det Q| = 1)."""
    return Num(0) if _orthogonal(e.arg) else e


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
    return e


def frob_rules(e: Frob) -> Expr:
    """a : b = ab for scalars; A : I = tr(A); A : 𝟏𝟏ᵀ = sum(A); (sA) : B = s(A : B);
    a broadcast leaves as the sum over its axes, 𝟏r : A = r : 𝟏ᵀA; A : A = ‖A‖_F²;
    a : b = aᵀb for vectors; Aᵀ : B = A : Bᵀ = tr(AB) for matrices."""
    a, b = e.args
    if is_zero(a) or is_zero(b):
        return Num(0)
    for ones, other in ((a, b), (b, a)):
        if is_ones(ones) or _is_ones_row(ones):
            return Sum(other)
    if is_scalar(a):
        return MatMul(a, b)
    if isinstance(b, Identity):
        return Trace(a)
    if isinstance(a, Identity):
        return Trace(b)
    scaled = _scalars_out(a, lambda m: Frob(m, b)) or _scalars_out(b, lambda m: Frob(a, m))
    if scaled is not None:
        return scaled
    for stretched, other in ((a, b), (b, a)):
        if isinstance(stretched, Broadcast):      # 𝟏r : A = r : 𝟏ᵀA, s𝟏𝟏ᵀ : A = s sum(A)
            return Frob(stretched.arg, unbroadcast(other, stretched.arg.shape))
    if a == b:
        return Power(Norm(a, "F"), Fraction(2))  # A : A = ‖A‖_F²
    if a.cols == 1:
        return MatMul(Transpose(a), b)          # a : b = aᵀb for vectors
    if a.rows == 1:
        return MatMul(a, Transpose(b))          # and abᵀ for rows
    for flipped, other in ((a, b), (b, a)):
        if isinstance(flipped, Transpose):      # Aᵀ : B = Σ Aⱼᵢ Bᵢⱼ = tr(AB)
            return Trace(MatMul(flipped.arg, other))
    return e


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
    scaled = _scalars_out(a, type(e))
    if scaled is not None:
        return scaled
    if isinstance(a, Transpose):
        return type(e)(a.arg)
    for k in range(len(a.args) - 1 if isinstance(a, MatMul) else 0):
        u, v = product(a.args[:k + 1]), product(a.args[k + 1:])
        if u.cols == 1 and v.rows == 1:         # an outer product uvᵀ
            return MatMul(Sum(u), Sum(v)) if isinstance(e, Sum) else MatMul(v, u)
    if isinstance(e, Sum) and isinstance(a, MatMul) and len(a.args) >= 2:
        if _is_ones_row(a.args[0]):
            rest = a.args[1:]
            return Sum(rest[0] if len(rest) == 1 else MatMul(*rest))
        if _is_ones_col(a.args[-1]):
            rest = a.args[:-1]
            return Sum(rest[0] if len(rest) == 1 else MatMul(*rest))
    if is_zero(a):
        return Num(0)
    if isinstance(a, (Identity, Ones)):         # tr(I) = sum(I) = tr(𝟏𝟏ᵀ) = n, sum(𝟏𝟏ᵀ) = mn
        square = isinstance(e, Trace) or isinstance(a, Identity)
        return count(a.rows) if square else MatMul(count(a.rows), count(a.cols))
    return e


def _scalars_out(a: Expr, op) -> Expr | None:
    """op(sA) = s op(A) for a linear op and the scalar factors s of a matrix product; None if
    there are none."""
    if not isinstance(a, MatMul) or is_scalar(a):
        return None
    scalars = [f for f in a.args if is_scalar(f)]
    if not scalars:
        return None
    return MatMul(*scalars, op(product(f for f in a.args if not is_scalar(f))))


def broadcast_rules(e: Broadcast) -> Expr:
    """Broadcasting to the shape one already has does nothing; a broadcast 0 is 0, of 𝟏 is 𝟏;
    scalar factors leave it, (sa)𝟏ᵀ = s(a𝟏ᵀ); it distributes over ∘ and ^∘ so that equal
    factors meet: (a ∘ b)𝟏ᵀ = a𝟏ᵀ ∘ b𝟏ᵀ."""
    a = e.arg
    if a.shape == e.shape:
        return a
    if is_zero(a):
        return Zero(*e.shape)
    if isinstance(a, Ones) or _is_ones_row(a):
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


def func_rules(e: Expr) -> Expr:
    """An entrywise function of a broadcast is the broadcast of its value: f(s𝟏𝟏ᵀ) = f(s)𝟏𝟏ᵀ."""
    a = e.arg
    if isinstance(a, Broadcast):
        return Broadcast(e.with_args([a.arg]), *e.shape)
    return e


def mean_rules(e: Mean) -> Expr:
    """mean(sA) = s mean(A); the mean of a broadcast is the broadcast of its mean; factors broadcast
    along the axis leave the mean: mean(M ∘ 𝟏r, 1) = mean(M, 1) ∘ r."""
    a = e.arg
    if is_zero(a):
        return Zero(*e.shape)
    scaled = _scalars_out(a, lambda m: Mean(m, e.axis))
    if scaled is not None:
        return scaled
    if a.shape == e.shape:
        return a
    if isinstance(a, Broadcast):
        b = a.arg
        along = b.rows if e.axis == 1 else b.cols
        return Broadcast(b if along == 1 else Mean(b, e.axis), *e.shape)
    along = _broadcast_along(a, e.axis)
    if along is not None:
        return along
    return _sum_out_of(a, e.axis, lambda m: Mean(m, e.axis)) or e


def structural_rules(e: Expr) -> Expr:
    """diag(Diag(v)) = v; diag(Aᵀ) = diag(A); vec⁻¹(vec(A)) = A; vec(vec⁻¹(a)) = a; vec(a) = a
    and vec⁻¹(a) = a or aᵀ for vectors; f(0) stays;
    each is the identity map on a scalar."""
    a = e.arg
    if is_scalar(a) and is_scalar(e):
        return a
    if isinstance(e, DiagOf) and isinstance(a, Diag):
        return a.arg
    if isinstance(e, DiagOf) and isinstance(a, Transpose):
        return DiagOf(a.arg)          # diag(Aᵀ) = diag(A)
    if isinstance(e, Diag) and isinstance(a, DiagOf) and isinstance(a.arg, Var) \
            and a.arg.structure == "diagonal":
        return a.arg                  # Diag(diag(D)) = D for a diagonal D
    if isinstance(e, Unvec) and isinstance(a, Vec) and a.arg.shape == e.shape:
        return a.arg
    if isinstance(e, Vec) and isinstance(a, Unvec):
        return a.arg
    if isinstance(e, Vec) and a.cols == 1:
        return a                      # a vector is its own vec
    if isinstance(e, Unvec) and e.cols == 1:
        return a                      # vec⁻¹ into a column keeps the vector
    if isinstance(e, Unvec) and e.rows == 1:
        return Transpose(a)           # and into a row transposes it
    if is_zero(a) and isinstance(e, (Diag, DiagOf, Vec, Unvec)):
        return Zero(*e.shape)
    return e


def kron_rules(e: Kron) -> Expr:
    """I₁ ⊗ A = A ⊗ I₁ = A; Iₘ ⊗ Iₙ = Iₘₙ; (cA) ⊗ B = c(A ⊗ B); a ⊗ bᵀ = bᵀ ⊗ a = abᵀ for
    a column a and a row bᵀ."""
    a, b = e.args
    if isinstance(a, Identity) and isinstance(b, Identity):
        return Identity(e.rows)
    for col, row in ((a, b), (b, a)):
        if col.cols == 1 and row.rows == 1 and not is_scalar(col) and not is_scalar(row):
            return MatMul(col, row)
    for one, other in ((a, b), (b, a)):
        if (isinstance(one, Identity) or is_scalar(one)) and one.shape == SCALAR:
            return other if one in (ONE, Identity(1)) else MatMul(one, other)
    ca, ra = coeff_and_rest(a)
    cb, rb = coeff_and_rest(b)
    if ca * cb != 1 and ra is not None and rb is not None:
        return MatMul(Num(ca * cb), Kron(ra, rb))
    return e


def mixed_product(e: MatMul) -> Expr:
    """(A ⊗ B)(C ⊗ D) = AC ⊗ BD when the shapes allow."""
    args = list(e.args)
    for i in range(len(args) - 1):
        p, q = args[i], args[i + 1]
        if isinstance(p, Kron) and isinstance(q, Kron) and p.args[0].cols == q.args[0].rows \
                and p.args[1].cols == q.args[1].rows:
            merged = Kron(MatMul(p.args[0], q.args[0]), MatMul(p.args[1], q.args[1]))
            return MatMul(*args[:i], merged, *args[i + 2:]) if len(args) > 2 else merged
    return e


def matfunc_rules(e: MatFunc) -> Expr:
    """f(Aᵀ) = f(A)ᵀ for a matrix function; of a 1×1 matrix it is the scalar function."""
    a = e.arg
    if is_scalar(a):
        return Func(e.name[:-1], a)
    scalars = [f for f in a.args if is_scalar(f)] if isinstance(a, MatMul) else []
    chain = [f for f in a.args if not is_scalar(f)] if scalars else [a]
    if len(chain) == 1 and isinstance(chain[0], Transpose):     # f(sAᵀ) = f(sA)ᵀ
        return Transpose(MatFunc(e.name, product(scalars + [chain[0].arg])))
    return e


def frechet_rules(e: Frechet) -> Expr:
    """L_f(A, 0) = 0; L_f(A, cE) = c L_f(A, E); L_f(A, I) = f′(A), since I commutes with A
    (expm′ = expm, logm′(A) = A⁻¹); of 1×1 matrices f′(a)e."""
    a, direction = e.args
    if is_zero(direction):
        return Zero(*e.shape)
    scaled = _scalars_out(direction, lambda m: Frechet(e.name, a, m))    # linear in E
    if scaled is not None and not is_scalar(a):
        return scaled
    derivative = MatFunc(e.name, a) if e.name == "expm" else Power(a, Fraction(-1))
    if is_scalar(a):
        return MatMul(direction, derivative)
    factors = direction.args if isinstance(direction, MatMul) else (direction,)
    chain = [f for f in factors if not is_scalar(f)]
    if len(chain) == 1 and isinstance(chain[0], Identity):
        return product([f for f in factors if is_scalar(f)] + [derivative])
    if _function_of(direction, a):
        return MatMul(derivative, direction)      # E = g(A) commutes with A: L_f(A, E) = f′(A)E
    return e


def _function_of(e: Expr, a: Expr) -> bool:
    """Is e a function of the matrix a by its form (a itself, I, a power, inverse or matrix
    function of one, their sums, products and multiples), so that it commutes with a? The same
    of aᵀ for eᵀ."""
    if isinstance(e, Transpose) and isinstance(a, Transpose):
        return _function_of(e.arg, a.arg)
    if e == a or isinstance(e, Identity) or is_scalar(e):
        return True
    if isinstance(e, (Power, MatFunc)):
        return _function_of(e.arg, a)
    if isinstance(e, (Add, MatMul)):
        return all(_function_of(f, a) for f in e.args)
    return False


def identity_rules(e: Expr) -> Expr:
    """I₁ = 𝟏₁ₓ₁ = 1: the 1×1 identity and ones matrix are the number one."""
    return ONE if e.shape == SCALAR else e


def axis_rules(e: Expr) -> Expr:
    """Along an axis of length 1 each group has one entry: softmax(A) = 𝟏𝟏ᵀ, logsoftmax(A) = 0,
    logsumexp(A) = A, var(A) = 0."""
    if e.length != 1:
        return e
    if isinstance(e, Softmax):
        return Broadcast(ONE, *e.shape)
    if isinstance(e, LogSumExp):
        return e.arg
    return Zero(*e.shape)


def commutation_rules(e: Commutation) -> Expr:
    """K = I for a vector or a row: transposing it keeps the order of its entries."""
    return Identity(e.rows) if 1 in e.params else e


RULES = {
    Identity: (identity_rules,),
    Ones: (identity_rules,),
    Softmax: (axis_rules,),
    LogSoftmax: (axis_rules,),
    LogSumExp: (axis_rules,),
    Variance: (axis_rules,),
    Commutation: (commutation_rules,),
    Add: (add_flatten, add_collect, step_complement),
    MatMul: (mul_flatten, mixed_product),
    Kron: (kron_rules,),
    MatFunc: (matfunc_rules,),
    Frechet: (frechet_rules,),
    Transpose: (transpose_push,),
    Power: (power_rules,),
    Hadamard: (hadamard_rules, diagonal_rules),
    LogDet: (logdet_rules,),
    HadPow: (hadpow_rules,),
    Frob: (frob_rules,),
    Norm: (norm_rules,),
    Sum: (reduce_rules,),
    Trace: (reduce_rules,),
    Broadcast: (broadcast_rules,),
    Func: (func_rules,),
    UserFunc: (func_rules,),
    Mean: (mean_rules,),
    Diag: (structural_rules,),
    DiagOf: (structural_rules,),
    Vec: (structural_rules,),
    Unvec: (structural_rules,),
}


@lru_cache(maxsize=1 << 16)
def simplify(e: Expr) -> Expr:
    """Bottom-up: simplify the children, then apply the node's rules until none applies
    (memoized: trees are immutable and repeat a lot in derivations)."""
    if e.args:
        e = e.with_args(simplify(a) for a in e.args)
    for _ in range(50):
        rules = RULES.get(type(e), ())
        new = e
        for rule in rules:
            new = rule(new)
            if type(new) is not type(e):
                break
        if new == e:
            return e
        e = simplify(new) if type(new) is not type(e) or new.args != e.args else new
    return e


# --- expansion, collection and factoring ------------------------------------------------------

MAX_TERMS = 64
# Sums of more terms keep their matrix factors in every term: factoring one out at a time is
# quadratic in the terms and nests as deep as there are terms (d(X¹⁰⁰) = Σᵢ XⁱdX X⁹⁹⁻ⁱ)
MAX_FACTORED = 16


def expand(e: Expr, hadamard: bool = False) -> list[Expr]:
    """e as a list of product terms: products distributed over sums, and with ``hadamard``
    also ∘ (not into functions)."""
    return list(_expanded(e, hadamard))


@lru_cache(maxsize=1 << 14)
def _expanded(e: Expr, hadamard: bool) -> tuple:
    # memoized: a subtree shared by several sums (the adjoints of nested definitions) is
    # expanded once
    if isinstance(e, Add):
        return tuple(t for a in e.args for t in _expanded(a, hadamard))
    if isinstance(e, MatMul):
        options = [_expanded(a, hadamard) for a in e.args]
        count = 1
        for o in options:
            count *= len(o)
        if count > MAX_TERMS:
            return (e,)
        return tuple(simplify(MatMul(*combo)) for combo in cartesian(*options))
    if isinstance(e, Hadamard) and hadamard:
        return tuple(_expand_hadamard(e))
    return (e,)


def _expand_hadamard(e: Hadamard) -> list[Expr]:
    """A ∘ (B + C) = A ∘ B + A ∘ C, one sum at a time, each product simplified before the next
    sum is opened — so that factors cancel first: σ ∘ (a ⊘ (1 − σ)) ∘ (1 − σ) = σ ∘ a."""
    sums = []
    for i, a in enumerate(e.args):
        c, rest = coeff_and_rest(a)
        if isinstance(rest, Add):
            divides = any(isinstance(f, HadPow) and f.exp < 0 for t in rest.args
                          for f in walk(t))
            sums.append((not divides, i, c, rest))
    if not sums:
        return [e]
    _, i, c, rest = min(sums, key=lambda s: (s[0], s[1]))     # a sum with a divisor first
    out: list = []
    for t in rest.args:
        product = simplify(Hadamard(*e.args[:i], scale(c, t, t.shape), *e.args[i + 1:]))
        out.extend(expand(product, hadamard=True))
        if len(out) > MAX_TERMS:
            return [e]
    return out


def _split(term: Expr):
    """term → (coefficient, scalar factors, matrix chain); the chain of a 1×1 product such as
    xᵀAy stays a chain (its factors are matrices)."""
    c, rest = coeff_and_rest(term)
    if rest is None:
        return c, [], []
    parts = rest.args if isinstance(rest, MatMul) else (rest,)
    scalars = [q for p in parts if is_scalar(p) for q in _scalar_factors(p)]
    return c, scalars, [p for p in parts if not is_scalar(p)]


def _scalar_factors(s: Expr) -> list:
    """A scalar product as its scalar factors, its matrix chain one of them: (xᵀAx)/(xᵀx)² →
    [(xᵀx)⁻², xᵀAx]."""
    if not isinstance(s, MatMul) or all(not is_scalar(p) for p in s.args):
        return [s]
    chain = [p for p in s.args if not is_scalar(p)]
    return [p for p in s.args if is_scalar(p)] + ([product(chain)] if chain else [])


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
    # common scalar factor
    for s in terms[0][1]:
        if all(s in t[1] for t in terms[1:]):
            inner = Add(*[_join(c, _without(sc, s), ch, shape) for c, sc, ch in terms])
            return simplify(MatMul(s, factor(simplify(inner))))
    if len(terms) > MAX_FACTORED:
        return e
    # a Hadamard factor common to every term: A ∘ C + B ∘ C = (A + B) ∘ C
    hadamard = _factor_hadamard(e)
    if hadamard is not None:
        return hadamard
    # the left or right matrix factor shared by most terms
    # (one factor of a power counts: X²A + XB = X(XA + B); a factor that is a whole term
    # stays with it: S⁻¹ − S⁻¹BS⁻¹, not S⁻¹(I − BS⁻¹))
    best = None
    for side in (0, -1):
        counts: dict = {}
        for c, s, ch in terms:
            if ch and not _alone(ch):
                unit = _peel(ch[side])[0]
                counts[unit] = counts.get(unit, 0) + 1
        for f, n in counts.items():
            if n >= 2 and (best is None or n > best[0]):
                best = (n, side, f)
    if best is None:
        return e
    _, side, f = best

    def shares(chain):
        return chain and not _alone(chain) and _peel(chain[side])[0] == f
    group = [(c, s, _peeled(ch, side)) for c, s, ch in terms if shares(ch)]
    others = [t for t in terms if not shares(t[2])]
    inner_shape = _inner_shape(group[0][2], side, shape)
    if inner_shape is None:
        return e
    inner_terms = [_join(c, s, ch[1:] if side == 0 else ch[:-1], inner_shape)
                   for c, s, ch in group]
    # inside the parentheses: positive terms first, then the simpler ones (A + Aᵀ, Ax − b)
    inner_terms.sort(key=lambda t: (coeff_and_rest(t)[0] < 0, cost(t)))
    inner = factor(simplify(Add(*inner_terms)))
    factored = MatMul(f, inner) if side == 0 else MatMul(inner, f)
    rest = [_join(c, s, ch, shape) for c, s, ch in others]
    if not rest:
        return simplify(factored)
    return simplify(Add(simplify(factored), factor(simplify(Add(*rest)) if len(rest) > 1
                                                  else rest[0])))


def _alone(chain: list) -> bool:
    """Is the chain one factor that is not a power (taking it out would leave I)?"""
    return len(chain) == 1 and _peel(chain[0])[1] is None


def _peeled(chain: list, side: int) -> list:
    """The chain with the factor on its side split as A · Aᵏ⁻¹ (A for A alone)."""
    unit, rest = _peel(chain[side])
    if rest is None:
        return chain
    return [unit, rest, *chain[1:]] if side == 0 else [*chain[:-1], rest, unit]


def _hadamard_parts(term: Expr):
    """term → (coefficient, scalar factors, {Hadamard factor base: exponent})."""
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
    return c, scalars, powers


def _factor_hadamard(e: Add) -> Expr | None:
    """Take the factors that every term of a sum has in its Hadamard product out of the sum,
    with the smallest power they share: A ∘ C + B ∘ C = (A + B) ∘ C, A ⊘ c² − B ⊘ c = (A ⊘ c
    − B) ⊘ c."""
    parts = [_hadamard_parts(t) for t in e.args]
    if any(p is None for p in parts) or not any(isinstance(coeff_and_rest(t)[1], Hadamard)
                                                  or isinstance(t, Hadamard) for t in e.args):
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
    for c, scalars, powers in parts:
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


def _inner_shape(chain: list, side: int, shape):
    if len(chain) > 1:
        rest = chain[1:] if side == 0 else chain[:-1]
        return (rest[0].rows, rest[-1].cols)
    f = chain[0]
    if f.rows != f.cols:
        return None
    return (f.cols, shape[1]) if side == 0 else (shape[0], f.rows)


def _without(items: list, item) -> list:
    out = list(items)
    out.remove(item)
    return out


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


@lru_cache(maxsize=1 << 16)
def cost(e: Expr) -> float:
    """Operation count: what a reader has to parse. Leaves and transposes are cheap."""
    own = {Var: 1, Num: 0.5, Transpose: 0.25, Identity: 0.5, Ones: 0.5, Broadcast: 0}.get(
        type(e), 1)
    if isinstance(e, (Add, MatMul, Hadamard)):
        own = len(e.args) - 1
    return own + sum(cost(a) for a in e.args)


@lru_cache(maxsize=4096)
def tidy(e: Expr) -> Expr:
    """The cheapest of the simplified, the expanded-and-collected and the re-factored forms;
    applied inside ∘, functions and transposes too."""
    e = simplify(e)
    if e.args and not isinstance(e, (Add, MatMul)):
        e = simplify(e.with_args(tidy(a) for a in e.args))
    candidates = [e]
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
    # cheapest wins; ties go to the most factored (last) form
    return min(reversed(candidates), key=cost)


@lru_cache(maxsize=1 << 14)
def _sum_depth(e: Expr) -> int:
    """How many sums deep e nests: 1 for A + B and 2(A + B), 2 for X(A + B) + C."""
    inner = max((_sum_depth(a) for a in e.args), default=0)
    return inner + 1 if isinstance(e, Add) else inner


def _orders_of_one_product(terms: list) -> bool:
    """Are there several terms, each the same factors with one coefficient in another order?"""
    def factors(t):            # a power counts as its factors: (Xᵀ)²Aᵀ has Xᵀ twice and Aᵀ
        c, rest = coeff_and_rest(t)
        units: Counter = Counter()
        for f in rest.args if isinstance(rest, MatMul) else (rest,):
            (base, transposed), k = _base_and_power(f)
            units[base, transposed, k > 0] += abs(k)
        return c, units
    if len(terms) <= 2:
        return False
    first = factors(terms[0])
    return all(factors(t) == first for t in terms[1:])


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


@lru_cache(maxsize=1 << 14)
def fold_powers(e: Expr) -> Expr:
    """Repeated factors of a product as powers: XXᵀXXᵀX = (XXᵀ)²X, X⁻¹X⁻¹ = X⁻²; a transposed
    power as the power of the transpose, (X²)ᵀ = (Xᵀ)², (X⁻²)ᵀ = (X⁻ᵀ)²."""
    if isinstance(e, Transpose) and isinstance(e.arg, Power) and abs(e.arg.exp) > 1 and \
            e.arg.exp.denominator == 1:
        base, k = e.arg.arg, e.arg.exp
        unit = fold_powers(Transpose(base if k > 0 else Power(base, Fraction(-1))))
        # a square folds only over a name: (X + A)⁻ᵀ(X + A)⁻ᵀ, not ((X + A)⁻ᵀ)², but (X⁻ᵀ)⁵⁰
        return MatMul(unit, unit) if abs(k) == 2 and not (isinstance(base, Var) and k > 0) \
            else Power(unit, abs(k))
    if e.args:
        e = e.with_args(fold_powers(a) for a in e.args)
    if not isinstance(e, MatMul):
        return e
    scalars = [a for a in e.args if is_scalar(a)] if not is_scalar(e) else []
    chain = [a for a in e.args if a not in scalars]
    out, i = [], 0
    while i < len(chain):
        best = (1, 1)   # (block length, repeats)
        for size in range(1, (len(chain) - i) // 2 + 1):
            block = chain[i:i + size]
            block_expr = block[0] if size == 1 else MatMul(*block)
            if block_expr.rows != block_expr.cols or (
                    isinstance(block_expr, Transpose) and not isinstance(block_expr.arg, Var)):
                continue
            reps = 1
            while chain[i + reps * size:i + (reps + 1) * size] == block:
                reps += 1
            if reps > 1 and reps * size > best[0] * best[1]:
                best = (size, reps)
        size, reps = best
        if reps > 1:
            block = chain[i:i + size]
            base = block[0] if size == 1 else MatMul(*block)
            if isinstance(base, Power) and base.exp == -1:
                out.append(Power(base.arg, Fraction(-reps)))
            else:
                out.append(Power(base, Fraction(reps)))
            i += size * reps
        else:
            out.append(chain[i])
            i += 1
    args = scalars + out
    return args[0] if len(args) == 1 else MatMul(*args)



# --- named intermediates ----------------------------------------------------------------------

def expand_definitions(e: Expr, definitions: dict) -> Expr:
    """e with every defined name replaced by its definition, recursively (each distinct
    subtree once: definitions that use each other twice, W₂ = W₁W₁, share their subtrees)."""
    memo: dict = {}

    def expanded(e: Expr) -> Expr:
        if e not in memo:
            if isinstance(e, Var) and e.name in definitions:
                memo[e] = expanded(definitions[e.name])
            else:
                memo[e] = e.with_args(expanded(a) for a in e.args) if e.args else e
        return memo[e]
    return expanded(e)


def fold_definitions(e: Expr, named: dict) -> Expr:
    """Write subexpressions equal to a definition (name → expanded, simplified expression) as
    the name — whole subtrees and runs inside a product (XXᵀX → Y when Y = XXᵀX). Larger
    definitions are tried first; inside a product the rightmost run is folded first."""
    by_size = sorted(named.items(), key=lambda item: -cost(item[1]))
    for name, value in by_size:
        e = _fold_one(e, Var(name, value.shape), value)
    return e


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
    powers = _monomial(e)
    while _covers(powers, pattern):
        for b, k in pattern.items():
            powers[b] -= k
        powers[name] = powers.get(name, Fraction(0)) + 1
    # borrow broadcast factors into a mean that holds the rest of the pattern
    for f in list(powers):
        mean = f.arg if isinstance(f, Broadcast) else f
        if not isinstance(mean, Mean) or powers[f] != 1:
            continue
        inner = _monomial(mean.arg)
        borrowed = {}
        for b, k in pattern.items():
            if _covers(inner, {b: k}):
                continue
            if _covers(powers, {b: k}) and _broadcast_along(b, mean.axis) is not None:
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
        memo[e] = name if e == value else _fold_run(
            e.with_args(_fold_one(a, name, value, memo) for a in e.args) if e.args else e,
            name, value)
    return memo[e]


def _fold_run(e: Expr, name: Var, value: Expr) -> Expr:
    """A run of a product equal to the defined product written as its name."""
    if isinstance(e, MatMul) and isinstance(value, MatMul) and not is_scalar(value):
        pattern = [a for a in value.args if not isinstance(a, Num)]
        if len(pattern) != len(value.args):
            return e
        args = list(e.args)
        size = len(pattern)
        i = len(args) - size
        while i >= 0:
            if args[i:i + size] == pattern:
                args[i:i + size] = [name]
                i -= size
            else:
                i -= 1
        if len(args) != len(e.args):
            return args[0] if len(args) == 1 else MatMul(*args)
    return e


def textbook_form(g: Expr, definitions: dict, function: Expr, result_name: str | None) -> Expr:
    """The cheapest of: the gradient over the user's names, with every name expanded, and the
    expanded form with the definitions (and the function's own name) folded back in."""
    named = tidy(g)
    like = [function, *definitions.values()]
    if not definitions and not result_name:
        return present(named, like)
    expanded = tidy(expand_definitions(g, definitions))
    values = {n: simplify(expand_definitions(e, definitions)) for n, e in definitions.items()}
    if result_name:
        values[result_name] = simplify(expand_definitions(function, definitions))
    folded = tidy(fold_definitions(expanded, values))
    raw_folded = fold_definitions(simplify(g), values)
    over_names = {n: simplify(e) for n, e in definitions.items()}
    if result_name:
        over_names[result_name] = simplify(function)
    named_folded = tidy(fold_hadamard_definitions(raw_folded, over_names))
    best = min([named, named_folded, folded, expanded], key=cost)
    return present(best, like)
