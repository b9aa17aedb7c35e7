"""The form the generated code computes, chosen by what it costs to run.

The printed result is the reader's choice (``simplify.cost`` counts symbols). The code is chosen
from the same trees under its own cost model, stated here once:

* **cost** = floating-point operations + the entries of every array the code allocates, each
  distinct subexpression paid once (the code computes it once). Every symbolic size is taken as
  one large number N — large, and unrelated to the others, so that no two sizes cancel: a
  vector costs N, an n×m matrix N², a product of matrices N³. Costs compare as polynomials in
  N (``Cost``); numeric sizes are their numbers.
* a product (p×q)(q×r) costs 2pqr; X⁻¹B is a solve, ⅔q³ + 2q²r (⅓q³ + 2q²r with the
  Cholesky factor of an X declared spd); Diag(s)M and M Diag(s) one
  pass over M; M𝟏 and 𝟏ᵀM (row and column sums) one pass over M; 𝟏bᵀ and b𝟏ᵀ nothing (a
  broadcast); a scalar multiplies one operand of its product.

The rewrites chosen under it (``code_form``):

* a matrix chain is evaluated in its cheapest order (vector products first:
  Aᵀ(Ax − b), never (AᵀA)x; an inverse applied to vectors, (X⁻ᵀa)(bᵀX⁻ᵀ), never to their outer
  product), and the scalars of a product multiply its smallest operand;
* Diag(s) in a product is broadcasting (Diag(s)M = s𝟏ᵀ ∘ M); 𝟏𝟏ᵀ and a broadcast in a product
  are taken apart into ones vectors, so that M𝟏𝟏ᵀ is a row sum, broadcast;
* a sum of products is regrouped by its common left and right factors where that is cheaper:
  (A₁ᵀA₁ + A₂ᵀA₂)x − A₁ᵀb₁ − A₂ᵀb₂ = A₁ᵀ(A₁x − b₁) + A₂ᵀ(A₂x − b₂), no Gram matrix formed;
* the sign of a later term of a sum is a subtraction; a sum of transposes is the transpose of
  the sum, and BX⁻¹ for a symmetric X is (X⁻¹Bᵀ)ᵀ, so that each is computed once with the
  sum or solve it equals;
* user functions are written out entrywise, the stable forms of ``matcalc.stable`` are taken,
  entrywise work on broadcasts is done before broadcasting (f(a𝟏ᵀ) = f(a)𝟏ᵀ), and broadcasts
  are combined before they meet a full matrix (γᵀ ∘ M ∘ sᵀ = (γ ∘ s)ᵀ ∘ M).

codegen prints the form, and stacks the solves with one matrix into one (one factorisation);
an spd matrix is factorised once, S = LLᵀ, for all its solves, its inverse and determinant.
"""

from __future__ import annotations

import math
from collections import Counter
from fractions import Fraction
from functools import lru_cache

from .ir import (Add, Broadcast, Det, Diag, Expr, Frob, Func, Hadamard, HadPow, LogDet,
                 MatMul, Num, Ones, Power, Transpose, UserFunc, Var, distinct_nodes, is_scalar,
                 is_symmetric)
from .memo import memoized
from .simplify import MAX_TERMS, coeff_and_rest, common_run, expand, scale
from .stable import stable


class Cost:
    """A polynomial in the one large size N, kept as its terms (degree, coefficient), highest
    degree first, coefficients nonzero: a size or a product of sizes is one term, and sums of
    costs have a few, so that arithmetic does not grow with the degree (the sizes of a chain of
    Kronecker products reach N⁵⁰)."""

    __slots__ = ("terms",)

    def __init__(self, coefficients=()):
        # from the coefficients by degree, lowest first: ints, or Fractions where a cost has one
        self.terms = tuple([(k, x) for k, x in enumerate(coefficients) if x][::-1])

    @staticmethod
    def _of(by_degree: dict) -> Cost:
        out = Cost.__new__(Cost)
        out.terms = tuple(sorted([kx for kx in by_degree.items() if kx[1]], reverse=True))
        return out

    def __add__(self, other: Cost) -> Cost:
        if not other.terms:
            return self
        if not self.terms:
            return other
        by_degree = dict(self.terms)
        for k, x in other.terms:
            by_degree[k] = by_degree.get(k, 0) + x
        return Cost._of(by_degree)

    def __mul__(self, other) -> Cost:
        by_degree: dict = {}
        if not isinstance(other, Cost):
            for k, x in self.terms:
                by_degree[k] = x * other
            return Cost._of(by_degree)
        for i, x in self.terms:
            for j, y in other.terms:
                by_degree[i + j] = by_degree.get(i + j, 0) + x * y
        return Cost._of(by_degree)

    __rmul__ = __mul__

    def _key(self):
        # costs are never negative: the terms compare as the polynomials do, the highest
        # degree first, then its coefficient, then the next term
        return self.terms

    def __lt__(self, other: Cost) -> bool:
        return self._key() < other._key()

    def __eq__(self, other) -> bool:
        return isinstance(other, Cost) and self.terms == other.terms

    def __hash__(self):
        return hash(self.terms)

    def __repr__(self):
        return " + ".join(f"{x}·N^{k}" for k, x in self.terms) or "0"


NOTHING = Cost()


@lru_cache(maxsize=1 << 12)
def size(d) -> Cost:
    """A size as a cost: a number is itself, each symbol in it a factor N ('m·n' is N²)."""
    if isinstance(d, int):
        return Cost([d])
    number, degree = 1, 0
    for part in d.split("·"):
        if part.isdigit():
            number *= int(part)
        else:
            degree += 1
    return Cost([0] * degree + [number])


def entries(e: Expr) -> Cost:
    return entries_of(*e.shape)


def entries_of(rows, cols) -> Cost:
    return size(rows) * size(cols)


# --- what one node costs, its operands computed --------------------------------------------------

def inverse_arg(e: Expr):
    """X for X⁻¹, Xᵀ for X⁻ᵀ (a factor the code applies as a solve), else None."""
    if isinstance(e, Power) and e.exp == -1 and not is_scalar(e.arg):
        return e.arg
    if isinstance(e, Transpose) and isinstance(e.arg, Power) and e.arg.exp == -1 and \
            not is_scalar(e.arg):
        return Transpose(e.arg.arg)
    return None


def _is_ones_column(e: Expr) -> bool:
    return isinstance(e, Ones) and e.cols == 1 and e.rows != 1


def _is_ones_row(e: Expr) -> bool:
    return isinstance(e, Transpose) and _is_ones_column(e.arg)


def spd_matrix(e: Expr):
    """The variable, when e is a variable declared spd or its transpose (the same matrix)."""
    e = e.arg if isinstance(e, Transpose) else e
    return e if isinstance(e, Var) and e.structure == "spd" else None


def _factorisation(m: Expr) -> Fraction:
    """A factorisation of the n×n matrix m costs this times n³: Cholesky (⅓) for an spd m,
    else LU (⅔)."""
    return Fraction(1, 3) if spd_matrix(m) is not None else Fraction(2, 3)


def _kind(e: Expr):
    """What of a factor its products' cost depends on besides its shape: the factorisation of
    an inverse applied as a solve, a Diag, a ones column or row. A product of two factors has
    no kind (it is a MatMul, a broadcast or a Hadamard product, see _combine)."""
    if (m := inverse_arg(e)) is not None:
        return _factorisation(m)
    return "Diag" if isinstance(e, Diag) else "𝟏" if _is_ones_column(e) else \
        "𝟏ᵀ" if _is_ones_row(e) else ""


def _signature(e: Expr) -> tuple:
    """All a chain's ordering needs to know of a factor: its shape and its kind."""
    return e.rows, e.cols, _kind(e)


def _product_of(left: tuple, right: tuple) -> tuple:
    """The cost of the product of two factors given by their signatures, and the product's
    signature (a product has no kind)."""
    return _product_cost(left[0], left[1], right[1], left[2], right[2]), (left[0], right[1], "")


@lru_cache(maxsize=1 << 12)
def _product_cost(rows, inner, cols, left, right) -> Cost:
    # a chain's ordering prices its every split: the same few shapes, many times over
    p, q, r = size(rows), size(inner), size(cols)
    if isinstance(left, Fraction):
        return left * q * q * q + 2 * q * q * r + p * r
    if isinstance(right, Fraction):
        return right * q * q * q + 2 * q * q * p + p * r
    if left == "Diag":
        return 2 * q * r
    if right == "Diag":
        return 2 * p * q
    if left == "𝟏ᵀ":
        return q * r                                    # column sums
    if right == "𝟏":
        return p * q                                    # row sums
    if left == "𝟏" or right == "𝟏ᵀ":
        return NOTHING                                  # a broadcast
    return 2 * p * q * r + p * r


@memoized(1 << 14)
def own_cost(e: Expr) -> Cost:
    """What computing e costs once its operands are computed (e in its code form)."""
    if not e.args or isinstance(e, Broadcast) or \
            (isinstance(e, Transpose) and inverse_arg(e) is None):
        return NOTHING                       # inputs, constants, views
    n = entries(e)
    if isinstance(e, MatMul):
        scalars = [a for a in e.args if is_scalar(a)]
        chain = [a for a in e.args if not is_scalar(a)]
        scaling = (len(scalars) - (0 if chain else 1)) * n
        return scaling + _order(chain)[0] if len(chain) > 1 else scaling
    if isinstance(e, (Power, Det, LogDet)) and not is_scalar(e.arg):
        cube = size(e.arg.rows) * size(e.arg.rows) * size(e.arg.rows)
        return (_factorisation(e.arg) if isinstance(e, (Det, LogDet)) else 2) * cube + n
    if isinstance(e, (Add, Hadamard)):
        return len(e.args) * n
    if isinstance(e, Frob):
        return 2 * entries(e.arg)
    return entries(e.arg) + n                # one pass over the operand, one result


@memoized(1 << 14)
def cost(e: Expr) -> Cost:
    """What the code for e costs: e in its code form, each distinct node paid once. A sum's
    nodes are its own and the union of its terms' (each term's set found once: regrouping
    prices sums that differ in a few terms, and walked every term of each again)."""
    form = code_form(e)
    nodes = frozenset({form}).union(*map(_nodes, form.args)) if isinstance(form, Add) \
        else _nodes(form)
    by_degree: dict = {}
    for terms, count in Counter(map(_own_terms, nodes)).items():
        for k, x in terms:
            by_degree[k] = by_degree.get(k, 0) + count * x
    return Cost._of(by_degree)


@memoized(1 << 14)
def _nodes(e: Expr) -> frozenset:
    return frozenset(distinct_nodes(e))


@memoized(1 << 14)
def _own_terms(e: Expr) -> tuple:
    return own_cost(e).terms


# --- matrix chains -----------------------------------------------------------------------------

def _factors(e: MatMul) -> tuple[list, list]:
    """(scalar factors, matrix factors) of a product: nested products opened, broadcasts and
    all-ones matrices taken apart into ones vectors (a𝟏ᵀ, 𝟏bᵀ, s𝟏𝟏ᵀ)."""
    scalars, chain = [], []
    for a in e.args:
        if is_scalar(a):
            scalars.append(a)
        elif isinstance(a, MatMul):
            inner_scalars, inner_chain = _factors(a)
            scalars += inner_scalars
            chain += inner_chain
        elif isinstance(a, Ones):
            chain += _ones(a.rows, a.cols)
        elif isinstance(a, Broadcast) and a.arg.shape != a.shape:
            part = a.arg
            if is_scalar(part):
                scalars.append(part)
                chain += _ones(a.rows, a.cols)
            elif part.cols == 1:
                chain += [part] + _ones(1, a.cols)
            else:
                chain += _ones(a.rows, 1) + [part]
        else:
            chain.append(a.arg if isinstance(a, Broadcast) else a)
    return [s for s in scalars if s != Num(1)], chain


def _ones(rows, cols) -> list:
    """The all-ones rows×cols matrix as ones vectors: 𝟏, 𝟏ᵀ or 𝟏𝟏ᵀ."""
    return ([Ones(rows, 1)] if rows != 1 else []) + \
        ([Transpose(Ones(cols, 1))] if cols != 1 else [])


def _combine(left: Expr, right: Expr) -> Expr:
    """left·right as the code computes it: a product with Diag as broadcasting, an outer product
    with a ones vector as a broadcast; other products (sums, solves) as MatMul."""
    rows, cols = left.rows, right.cols
    if isinstance(left, Diag):
        s = left.arg
        return Hadamard(s if cols == 1 else Broadcast(s, rows, cols), right)
    if isinstance(right, Diag):
        s = Transpose(right.arg)
        return Hadamard(left, s if rows == 1 else Broadcast(s, rows, cols))
    if _is_ones_column(left) and not _is_ones_row(right):
        return Broadcast(right, rows, cols)
    if _is_ones_row(right) and not _is_ones_column(left):
        return Broadcast(left, rows, cols)
    if _is_ones_column(left):
        return Broadcast(Num(1), rows, cols)
    if (m := inverse_arg(right)) is not None and inverse_arg(left) is None and is_symmetric(m):
        # BX⁻¹ = (X⁻¹Bᵀ)ᵀ for a symmetric X: the solve X⁻¹Bᵀ, the same as where X⁻¹Bᵀ occurs
        return Transpose(MatMul(Power(m.arg if isinstance(m, Transpose) else m, -1),
                                transpose_of(left)))
    return MatMul(left, right)


def transpose_of(e: Expr) -> Expr:
    """eᵀ, a transpose undone rather than doubled."""
    return e.arg if isinstance(e, Transpose) else Transpose(e)


MAX_ORDERED = 32    # factors of a chain ordered over all its splits (cubic in the factors)


def _order(chain: list) -> tuple[Cost, object]:
    """The cheapest evaluation order of a chain: its cost and the tree, a factor's index or a
    pair of trees (see _order_of)."""
    return _order_of(tuple(_signature(f) for f in chain))


@lru_cache(maxsize=1 << 12)
def _order_of(factors: tuple) -> tuple[Cost, object]:
    """The cheapest evaluation order of a chain of factors given by their signatures (dynamic
    programming over its splits): its cost and the tree. Ties go to the left-to-right order. A
    chain of more than MAX_ORDERED factors is taken left to right or right to left, the
    cheaper (over all splits, the gradient of tr(A₀XA₁X…A₄₉X) took minutes). Chains of the same
    shapes and kinds share their order: the suffixes of a long chain that regrouping prices."""
    n = len(factors)
    if n > MAX_ORDERED:
        return min((_one_way(factors, 1), _one_way(factors, -1)), key=lambda ct: ct[0]._key())
    if _uniform(factors):
        # every product costs the same, so every order does: the ties' left-to-right order
        return _one_way(factors, 1)
    # best[(i, j)]: cost (as a number, see _number), tree and signature of the product of
    # factors i..j
    digit = _digit(factors)
    best: dict = {(i, i): (0, i, factors[i]) for i in range(n)}
    for length in range(2, n + 1):
        for i in range(n - length + 1):
            j = i + length - 1
            # the cheapest split; of equals, the rightmost
            c, k = min((best[(i, k)][0] + best[(k + 1, j)][0] +
                        _number(_product_of(best[(i, k)][2], best[(k + 1, j)][2])[0], digit),
                        -k)
                       for k in range(j - 1, i - 1, -1))
            k = -k
            (_, tl, sl), (_, tr, sr) = best[(i, k)], best[(k + 1, j)]
            best[(i, j)] = (c, (tl, tr), _product_of(sl, sr)[1])
    c, tree, _ = best[(0, n - 1)]
    return _cost_of_number(c, digit), tree


# A cost as one integer, for the chain's ordering to add and compare at the speed of numbers:
# its coefficients (multiples of ⅓, the cheapest factorisation's share of n³) times 3, a degree
# per ``digit`` bits, wide enough for the chain's numbers (_digit). Costs are never negative and
# their coefficients below 2^digit, so the numbers add and compare as the costs do.

def _digit(factors: tuple) -> int:
    """Bits per degree for a chain's costs: a product's coefficient is at most 4M³ for M the
    largest number in a size (2pqr + pr, or ⅔q³ + 2q²r + pr for a solve), 12M³ in thirds, and
    a chain adds fewer than 2⁵ of them (MAX_ORDERED): 2⁹M³ bounds every sum (a size of 10¹⁰
    overflowed a fixed 64 bits)."""
    largest = max((x for f in factors for d in f[:2] for _, x in size(d).terms), default=1)
    return max(64, 9 + 3 * int(largest).bit_length() + 1)


@lru_cache(maxsize=1 << 12)
def _number(c: Cost, digit: int) -> int:
    out = 0
    for k, x in c.terms:
        thirds = 3 * x
        assert thirds == int(thirds) and 0 < thirds < 1 << digit, c
        out += int(thirds) << (digit * k)
    return out


def _cost_of_number(v: int, digit: int) -> Cost:
    coefficients = []
    while v:
        x = Fraction(v & ((1 << digit) - 1), 3)
        coefficients.append(x.numerator if x.denominator == 1 else x)
        v >>= digit
    return Cost(coefficients)


def _uniform(factors: tuple) -> bool:
    """Every size of the chain costs the same (N, or one number) and no factor has a kind:
    each product (p×q)(q×r) then costs 2pqr + pr alike (the long chains of square matrices
    that regrouping prices, each ordered over all its splits before)."""
    return all(kind == "" for _, _, kind in factors) and \
        len({size(d) for f in factors for d in f[:2]}) == 1


def _one_way(factors: tuple, step: int) -> tuple[Cost, object]:
    """The chain evaluated left to right (step 1) or right to left (step −1): cost, tree."""
    order = range(len(factors)) if step == 1 else range(len(factors) - 1, -1, -1)
    first, *rest = order
    cost, tree, e = NOTHING, first, factors[first]
    for i in rest:
        left, right = (e, factors[i]) if step == 1 else (factors[i], e)
        product_cost, e = _product_of(left, right)
        cost = cost + product_cost
        tree = (tree, i) if step == 1 else (i, tree)
    return cost, tree


def _realize(tree, chain: list, target, scalars: list, path=()) -> Expr:
    """The tree as an expression, the scalars multiplying the node at path ``target``."""
    if isinstance(tree, int):
        node = chain[tree]
    else:
        node = _combine(_realize(tree[0], chain, target, scalars, path + (0,)),
                        _realize(tree[1], chain, target, scalars, path + (1,)))
    return _scaled(scalars, node) if path == target else node


def _scaled(scalars: list, node: Expr) -> Expr:
    if not scalars:
        return node
    if isinstance(node, MatMul) and any(is_scalar(a) for a in node.args) and not is_scalar(node):
        return MatMul(*scalars, *node.args)
    return MatMul(*scalars, node)


def _smallest(tree, chain: list) -> tuple:
    """The path of the node a scalar should multiply: the fewest entries, then the nearest the
    root (the root when it is as small), never inside a solve, a Diag or a ones vector."""
    options = []

    def visit(t, path) -> tuple:
        # the node's shape, its children's found first (once each: asked again at every
        # level, a long chain's shapes were quadratic in it)
        if isinstance(t, int):
            rows, cols = chain[t].shape
        else:
            rows, cols = visit(t[0], path + (0,))[0], visit(t[1], path + (1,))[1]
        if path == () or not isinstance(t, int) or not _special(chain[t]):
            options.append((entries_of(rows, cols)._key(), len(path), path))
        return rows, cols
    visit(tree, ())
    return min(options)[2]


def _special(e: Expr) -> bool:
    return inverse_arg(e) is not None or isinstance(e, Diag) or _is_ones_column(e) or \
        _is_ones_row(e)


def _chain_form(e: MatMul) -> Expr:
    scalars, chain = _factors(e)
    scalars = [code_form(s) for s in scalars]
    chain = [code_form(f) for f in chain]
    if not chain:
        return MatMul(*scalars) if len(scalars) > 1 else (scalars[0] if scalars else Num(1))
    _, tree = _order(chain)
    target = _smallest(tree, chain) if scalars else None
    return _realize(tree, chain, target, scalars)


# --- sums of products, regrouped -----------------------------------------------------------------

def _parts(term: Expr) -> tuple[list, list]:
    """(scalar factors, matrix chain) of a term; its number among the scalars."""
    if isinstance(term, MatMul):
        return [a for a in term.args if is_scalar(a)], [a for a in term.args if not is_scalar(a)]
    return ([term], []) if is_scalar(term) else ([], [term])


def _join(factors: list) -> Expr:
    return factors[0] if len(factors) == 1 else MatMul(*factors)


def _sum(terms: list) -> Expr:
    return terms[0] if len(terms) == 1 else Add(*terms)


def _group(terms: tuple) -> Expr:
    """A sum of product terms, common factors taken out greedily, each time the one that makes
    the code cheapest (a number common to every term; a left or right matrix factor common to
    several), then the same inside and outside the parentheses."""
    plain = _sum(list(terms))
    coefficients = {abs(coeff_and_rest(t)[0]) for t in terms}
    if len(coefficients) == 1 and (c := coefficients.pop()) not in (0, 1):
        inner = tuple(scale(coeff_and_rest(t)[0] / c, coeff_and_rest(t)[1], t.shape)
                      for t in terms)
        return MatMul(Num(c), _group(inner))
    parts = [_parts(t) for t in terms]
    best, best_cost = None, cost(plain)
    for side in (0, -1):
        for f in dict.fromkeys(ch[side] for _, ch in parts if len(ch) > 1):
            members = [i for i, (_, ch) in enumerate(parts) if len(ch) > 1 and ch[side] == f]
            if len(members) < 2:
                continue
            # with f the factors that follow it in every member (a level per factor priced
            # every candidate again: cubic in a long common run)
            chains = [parts[i][1] for i in members]
            run = common_run(chains, side)
            taken = chains[0][:run] if side == 0 else chains[0][-run:]
            inner = [_join(s + (ch[run:] if side == 0 else ch[:-run])) for s, ch in
                     (parts[i] for i in members)]
            others = [t for i, t in enumerate(terms) if i not in members]
            option = (side, taken, inner, others)
            c = cost(_sum([_around(side, taken, _sum(inner))] + others))
            if c < best_cost:
                best, best_cost = option, c
    if best is None:
        return plain
    side, taken, inner, others = best
    grouped = _around(side, taken, _group(tuple(inner)))
    return _sum([grouped] + ([_group(tuple(others))] if others else []))


def _around(side: int, taken: list, inside: Expr) -> Expr:
    """The factors taken out on the side, with what is left inside the parentheses."""
    return MatMul(*taken, inside) if side == 0 else MatMul(inside, *taken)


@memoized(1 << 14)
def regroup(e: Expr) -> Expr:
    """e with every sum of products (and product of sums) in its cheapest grouping: distributed
    into terms, then common factors taken out where the code gets cheaper; e itself when no
    grouping is cheaper."""
    if e.args:
        e = e.with_args(regroup(a) for a in e.args)
    if not (isinstance(e, Add) or (isinstance(e, MatMul) and
                                   any(isinstance(a, Add) for a in e.args))):
        return e
    terms = expand(e)
    if not 1 < len(terms) <= MAX_TERMS:
        return e
    grouped = _group(tuple(terms))
    return grouped if cost(grouped) < cost(e) else e


# --- the whole form ------------------------------------------------------------------------------

@memoized(1 << 14)
def code_form(e: Expr) -> Expr:
    """e with every product in its cheapest order (its Diag products and ones vectors as
    broadcasts and sums, its scalars on the smallest operand)."""
    if isinstance(e, MatMul):
        return _chain_form(e)
    if isinstance(e, Add):
        if all(isinstance(_scaled_part(a), Transpose) for a in e.args):
            # Aᵀ + Bᵀ = (A + B)ᵀ, the same arithmetic, and the sum found where A + B occurs
            return Transpose(code_form(Add(*[_transposed_term(a) for a in e.args])))
        return Add(code_form(e.args[0]), *[_later_term(a) for a in e.args[1:]])
    return e.with_args(code_form(a) for a in e.args) if e.args else e


@memoized(1 << 14)
def _later_term(a: Expr) -> Expr:
    """The code form of a term after the first of a sum: its sign stays with the sum (a
    subtraction costs nothing), the rest of its coefficient goes inside (a term is found once
    for all the sums that regrouping prices)."""
    c, rest = coeff_and_rest(a)
    if c < 0 and rest is not None:
        return MatMul(Num(-1), code_form(scale(-c, rest, a.shape)))
    return code_form(a)


def _scaled_part(term: Expr) -> Expr:
    """A term without its number: A for cA."""
    if isinstance(term, MatMul) and len(term.args) == 2 and isinstance(term.args[0], Num):
        return term.args[1]
    return term


def _transposed_term(term: Expr) -> Expr:
    """cA for the term cAᵀ."""
    part = _scaled_part(term)
    return part.arg if part is term else MatMul(term.args[0], part.arg)


def entrywise(e: Expr) -> Expr:
    """e with every user function call f(A) written out entrywise (so that its argument is
    computed once like any shared subexpression)."""
    if e.args:
        e = e.with_args(entrywise(a) for a in e.args)
    return e.entrywise() if isinstance(e, UserFunc) else e


def machine_form(e: Expr) -> Expr:
    """What the code computes for e: user functions written out entrywise, sums regrouped, the
    stable forms, products in their cheapest order, entrywise work before broadcasting."""
    return broadcast_last(code_form(stable(regroup(entrywise(e)))))


@memoized(1 << 14)
def broadcast_last(e: Expr) -> Expr:
    """An entrywise operation on broadcasts is the broadcast of the operation on their
    arguments, which has fewer entries: f(a𝟏ᵀ) = f(a)𝟏ᵀ, c(a𝟏ᵀ) = (ca)𝟏ᵀ, a𝟏ᵀ ∘ b𝟏ᵀ = (a ∘ b)𝟏ᵀ
    (the reader's form, from simplify, writes them the other way round)."""
    if not e.args:
        return e
    e = e.with_args(broadcast_last(a) for a in e.args)
    if isinstance(e, Broadcast) and isinstance(e.arg, Broadcast):
        return Broadcast(e.arg.arg, *e.shape)
    if isinstance(e, MatMul):
        inner = [a for a in e.args if not is_scalar(a)]
        if len(inner) == 1 and isinstance(inner[0], Broadcast):
            parts = [inner[0].arg if a is inner[0] else a for a in e.args]
            # the numbers multiplied into one: 2(1𝟏𝟏ᵀ) broadcasts the number 2
            c = math.prod(a.value for a in parts if isinstance(a, Num))
            rest = [a for a in parts if not isinstance(a, Num)]
            parts = ([Num(c)] if c != 1 or not rest else []) + rest
            return Broadcast(parts[0] if len(parts) == 1 else MatMul(*parts), *e.shape)
        return e
    if isinstance(e, (Func, HadPow, Add, Hadamard)) and \
            all(isinstance(a, Broadcast) for a in e.args) and \
            len({a.arg.shape for a in e.args}) == 1:
        args = [a.arg for a in e.args]
        if isinstance(e, HadPow) and is_scalar(args[0]):
            return Broadcast(Power(args[0], e.exp), *e.shape)
        if isinstance(e, Hadamard) and is_scalar(args[0]):
            return Broadcast(MatMul(*args), *e.shape)
        return Broadcast(e.with_args(args), *e.shape)
    if isinstance(e, (Add, Hadamard)):
        # the broadcasts among the operands combined first: γᵀ ∘ M ∘ sᵀ = (γ ∘ s)ᵀ ∘ M
        groups: dict = {}
        for a in e.args:
            if isinstance(a, Broadcast):
                groups.setdefault(a.arg.shape, []).append(a)
        for group in groups.values():
            if len(group) > 1:
                members = set(group)
                rest = [a for a in e.args if a not in members]
                combined = broadcast_last(e.with_args(group))
                return e.with_args([combined] + rest) if rest else combined
    return e

