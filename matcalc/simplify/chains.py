"""Rules of matrix products and their transposes: a product flattened into one coefficient,
its scalar factors and its matrix chain, with the laws that shorten a chain (powers, all-ones
factors, 1×1 runs, means, softmax); (AB)ᵀ = BᵀAᵀ.
"""

from __future__ import annotations

from fractions import Fraction

from ..ir import (
    SCALAR,
    Add,
    Broadcast,
    Diag,
    Expr,
    Func,
    Identity,
    Kron,
    MatFunc,
    MatMul,
    Num,
    Ones,
    Power,
    Softmax,
    Sum,
    Transpose,
    Var,
    Zero,
    count,
    is_scalar,
    is_symmetric,
)
from .broadcast import broadcast_along, column_sums_out, row_sums_out
from .engine import simplify
from .powers import fold_blocks, merge_powers, merge_scalar_powers
from .reductions import recognize_mean
from .terms import (ONE, coeff_and_rest, is_ones, is_ones_col, is_ones_row, is_zero,
                    scalar_factors, zero_like)


def mul_flatten(e: MatMul) -> Expr:
    """(AB)C = ABC; numbers multiply into one leading coefficient; powers of one matrix or one
    product side by side merge (X²X = X³, (AB)(AB)² = (AB)³, AA⁻¹ = I), and a block written
    twice or more in a row is its power (ABAB = (AB)²): equal products compare equal."""
    coeff = Fraction(1)
    scalars, chain = [], []
    all_scalar = all(is_scalar(a) for a in e.args)
    # (exact types: a long chain's every factor passes here at each rebuild)
    for a in e.args:
        # a scalar product such as aᵀx stays one factor beside matrices
        product = type(a) is MatMul
        flat = product and (not is_scalar(a) or all_scalar or all(is_scalar(p) for p in a.args))
        parts = a.args if flat else (a,)
        if product and not flat:
            # 2(aᵀx) keeps aᵀx whole, the 2 joins the rest, a scalar factor such as λ in (λaᵀx)
            # joins the other scalars (where it meets its powers: λ(λaᵀx) = λ²aᵀx)
            c, rest = coeff_and_rest(a)
            coeff *= c
            parts = scalar_factors(rest)
        for p in parts:
            kind = type(p)
            if kind is Num:
                coeff *= p.value
            elif p.shape == SCALAR:
                scalars.append(p)
            elif kind is Transpose and type(inner := p.args[0]) is Power and \
                    type(inner.args[0]) is MatMul and inner.exp > 1:
                # ((AB)ᵏ)ᵀ = (BᵀAᵀ)ᵏ, one factor: a power of a product stays whole in a chain
                # (merge_powers merges it with its neighbours, (AB)²(AB)³ = (AB)⁵; written
                # out, each term of the derivative of (XW)²⁰⁰ was 400 factors long)
                chain.append(simplify(Power(simplify(Transpose(inner.arg)), inner.exp)))
            else:
                chain.append(p)
    return _rebuild_mul(e, coeff, scalars, chain)


def _rebuild_mul(e: MatMul, coeff: Fraction, scalars: list, chain: list) -> Expr:
    if coeff == 0 or any(is_zero(a) for a in scalars + chain):
        return zero_like(e)
    chain = merge_powers(chain)
    sizes, chain = _ones_chain(chain)
    runs, chain = _scalar_runs(chain)
    chain = fold_blocks(chain)
    if is_scalar(e) and len(chain) > 1 and any(
            (s.arg if isinstance(s, Power) else s) == MatMul(*chain) for s in scalars):
        runs, chain = runs + [MatMul(*chain)], []       # a scalar chain meets its powers
    scalars = merge_scalar_powers(scalars + sizes + runs)
    for s in list(scalars):
        if isinstance(s, Num):
            coeff *= s.value
            scalars.remove(s)
    if is_scalar(e) and len(chain) > 1:
        chain = _scalar_chain(chain)
    coeff, scalars, chain = recognize_mean(coeff, scalars, chain)
    scalars, chain = _recognize_softmax(scalars, chain)
    if len(chain) > 1 or (chain and not is_scalar(e)):
        chain = [a for a in chain if type(a) is not Identity] or chain[:1]
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
    if not any(f.shape[0] == 1 for f in chain):
        return [], chain                                # no row starts a run
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
                                             not is_ones_row(c[0]), [repr(f) for f in c]))


def _ones_chain(chain: list) -> list:
    """Y𝟏 = 𝟏 for a one-hot or stochastic Y (its rows sum to 1), and softmax(A, 2)𝟏 = 𝟏, 𝟏ᵀsoftmax(A, 1) = 𝟏ᵀ;
    𝟏𝟏ᵀ is the all-ones matrix; 𝟏ᵀ(M ∘ 𝟏r) = (𝟏ᵀM) ∘ r and (M ∘ c𝟏ᵀ)𝟏 = (M𝟏) ∘ c: a broadcast
    factor leaves the sum; all-ones matrices multiply into one, 𝟏𝟏ᵀ𝟏 = n𝟏, 𝟏ᵀ𝟏 = n, and a
    broadcast summed along its copies is their number times the copy. Returns
    (the sizes taken out, the chain)."""
    sizes: list = []
    if not any(is_ones(a) for a in chain):
        return sizes, list(chain)       # every rule below meets an all-ones factor
    out: list = []
    for a in chain:
        prev = out[-1] if out else None
        if is_ones_col(a) and (isinstance(prev, Var) and prev.rows_sum_to_one
                                or _softmax_along(prev, 2)):
            out[-1] = Ones(prev.rows, 1)
        elif is_ones_row(prev) and _softmax_along(a, 1):
            out[-1] = Transpose(Ones(a.cols, 1))
        elif prev is not None and is_ones(prev) and is_ones(a):
            sizes.append(count(prev.cols))
            out[-1] = Ones(prev.rows, a.cols)
        elif is_ones_row(prev) and isinstance(a, Diag):
            out[-1] = Transpose(a.arg)                      # 𝟏ᵀDiag(v) = vᵀ
        elif is_ones_col(a) and isinstance(prev, Diag):
            out[-1] = prev.arg                              # Diag(v)𝟏 = v
        elif is_ones_row(prev) and (r := broadcast_along(a, 1)) is not None:
            sizes.append(count(prev.cols))                  # 𝟏ₙᵀ(𝟏ₙr) = n r
            out[-1] = r
        elif is_ones_col(a) and (r := broadcast_along(prev, 2)) is not None:
            sizes.append(count(a.rows))                     # (c𝟏ₘᵀ)𝟏ₘ = m c
            out[-1] = r
        elif (is_ones_row(prev) and (pulled := column_sums_out(prev, a)) is not None
              or is_ones_col(a) and (pulled := row_sums_out(prev, a)) is not None):
            out[-1] = pulled
        else:
            out.append(a)
    return sizes, out


def _softmax_along(e: Expr, axis: int) -> bool:
    """Is e a softmax normalized along the axis (each group of entries sums to 1)?"""
    return isinstance(e, Softmax) and e.axis == axis


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


def transpose_push(e: Transpose) -> Expr:
    """(Aᵀ)ᵀ = A; (AB)ᵀ = BᵀAᵀ; (A + B)ᵀ = Aᵀ + Bᵀ; a scalar, I, Diag(v) and a declared
    symmetric matrix (or a sum symmetric by its form) are their own transposes; (A⁻¹)ᵀ stays
    written A⁻ᵀ."""
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
        if is_symmetric(a):
            return a                  # (M + Mᵀ)ᵀ = M + Mᵀ, not Mᵀ + M: one spelling of it
        return Add(*[simplify(Transpose(t)) for t in a.args])
    if isinstance(a, Broadcast):
        return Broadcast(simplify(Transpose(a.arg)), a.cols, a.rows)
    if isinstance(a, Power) and simplify(Transpose(a.arg)) == a.arg:
        return a
    if isinstance(a, MatFunc) and is_symmetric(a.arg):
        return a                      # f(S)ᵀ = f(Sᵀ) = f(S)
    return e
