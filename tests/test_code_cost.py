"""The code matcalc generates for the benchmark functions (bench/bench_code.py) is right — executed
against finite differences — and does no more arithmetic than the hand-written closed form the
benchmark times it against: both are run on arrays that count every operation (tests/arithmetic.py),
at small sizes, so no test depends on timing. Also the cost model's own laws
(matcalc/codeform.py): chains in their cheapest order, scalars on the smallest operand, Diag and
ones vectors as broadcasts and sums, solves with vectors, sums regrouped rather than Gram
matrices, one factorisation for several solves."""

from __future__ import annotations

import numpy as np
import pytest
from arithmetic import TracingNumpy, calls, cost, run
from bench_code import CASES
from test_codegen import check_generated

from matcalc import derive
from matcalc.codegen import py_name
from matcalc.codeform import Cost, size
from matcalc.ir import Var

KIND = {"grad": "gradient", "hess": "hessian", "hvp": "hessian"}


def _generated(text: str, wrt: str, kind: str, shapes=None):
    """The generated function of the kind ("grad", "hess", "hvp"), run on counting arrays."""
    namespace: dict = {}
    exec(derive(text, wrt, shapes, kind=KIND[kind]).numpy, namespace)  # noqa: S102
    namespace["np"] = TracingNumpy()
    return namespace[f"{kind}_{py_name(wrt)}"]


def _small(case) -> dict:
    """The case's inputs at small sizes (a 40th of the benchmark's, at least 3)."""
    sizes = {k: max(3, v // 40) for k, v in case.sizes.items()}
    inputs = case.inputs(np.random.default_rng(1), **sizes)
    return {py_name(k): v for k, v in inputs.items()}


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_benchmark_code_is_right(case):
    check_generated(case.text, case.wrt, case.shapes or None, kind=KIND[case.kind])


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_no_more_arithmetic_than_by_hand(case):
    inputs = _small(case)
    ours = run(_generated(case.text, case.wrt, case.kind, case.shapes or None), **inputs)
    theirs = run(case.hand, **inputs)
    assert cost(ours) <= 1.1 * cost(theirs), (cost(ours), cost(theirs), ours)


# --- the laws of the cost model, each on the code of one function --------------------------------

def _log(text, wrt, kind="grad", shapes=None, **inputs):
    return run(_generated(text, wrt, kind, shapes), **inputs)


def test_costs_compare_as_polynomials_in_one_large_size():
    assert size("n") * size("m") == size("m·n") == Cost([0, 0, 1])
    assert size(3) * size("n") < size("n") * size("n") < size("n") * size("m") * size("k")
    assert not size("n") < size("m")


def test_vector_products_first():
    """Aᵀ(Ax − b): two matrix-vector products, never AᵀA."""
    rng = np.random.default_rng(0)
    A, x, b = rng.standard_normal((40, 30)), rng.standard_normal(30), rng.standard_normal(40)
    products = calls(_log("‖Ax − b‖₂²", "x", A=A, x=x, b=b), "matmul")
    assert sorted(products) == [((30, 40), (40, 1)), ((40, 30), (30, 1))]


def test_scalars_multiply_the_smallest_operand():
    """2(Aᵀr) scales the vector; (2Aᵀ)r would scale the matrix (1200 operations)."""
    rng = np.random.default_rng(0)
    A, x, b = rng.standard_normal((40, 30)), rng.standard_normal(30), rng.standard_normal(40)
    log = _log("‖Ax − b‖₂²", "x", A=A, x=x, b=b)
    assert all(max(map(np.prod, shapes)) < 40 * 30 for op, shapes, _ in log if op != "matmul")
    log = _log("sum(log(1 + exp(Xw)) − y ∘ Xw)", "w", X=A, w=x, y=b)
    assert all(out[0] * out[1] < 40 * 30 for op, _, out in log if op != "matmul" and out)


def test_diag_in_a_product_is_broadcasting():
    rng = np.random.default_rng(0)
    X, w, y = rng.standard_normal((40, 30)), rng.standard_normal(30), rng.standard_normal(40)
    log = _log("sum(log(1 + exp(Xw)) − y ∘ Xw)", "w", "hess", X=X, w=w, y=y)
    assert not calls(log, "diagflat")
    assert sorted(calls(log, "matmul")) == [((30, 40), (40, 30)), ((40, 30), (30, 1))]


def test_ones_products_are_sums_and_broadcasts():
    """Attention's row sums M𝟏𝟏ᵀ and a bias 𝟏bᵀ take no product with a ones matrix."""
    rng = np.random.default_rng(0)
    n, p, k, m = 7, 9, 4, 5
    log = _log("d ∈ ℝ; sum(G ∘ softmax(QKᵀ/√d)V)", "Q", G=rng.standard_normal((n, m)),
               Q=rng.standard_normal((n, k)), K=rng.standard_normal((p, k)), d=4.0,
               V=rng.standard_normal((p, m)))
    assert sorted(calls(log, "matmul")) == [((n, k), (k, p)), ((n, m), (m, p)),
                                            ((n, p), (p, k))]
    log = _log("sum(G ∘ relu(XWᵀ + 𝟏bᵀ))", "b", G=rng.standard_normal((n, m)),
               X=rng.standard_normal((n, k)), W=rng.standard_normal((m, k)),
               b=rng.standard_normal(m))
    assert calls(log, "matmul") == [((n, k), (k, m))]


def test_inverses_apply_to_vectors():
    """aᵀX⁻¹b: −(X⁻ᵀa)(X⁻¹b)ᵀ, each solve with one vector, never with the outer product."""
    rng = np.random.default_rng(0)
    n = 6
    X = rng.standard_normal((n, n)) + n * np.eye(n)
    log = _log("aᵀX⁻¹b", "X", a=rng.standard_normal(n), X=X, b=rng.standard_normal(n))
    assert calls(log, "solve") == [((n, n), (n, 1))] * 2


def test_one_factorisation_per_matrix():
    """aᵀX⁻¹b + cᵀX⁻¹d: two solves with X (b, d) share one, and two with Xᵀ (a, c)."""
    rng = np.random.default_rng(0)
    n = 6
    X = rng.standard_normal((n, n)) + n * np.eye(n)
    v = {name: rng.standard_normal(n) for name in "abcd"}
    text = "aᵀX⁻¹b + cᵀX⁻¹d"
    log = _log(text, "X", X=X, **v)
    assert calls(log, "solve") == [((n, n), (n, 2))] * 2
    check_generated(text, "X")


def test_no_gram_matrix_where_the_residuals_are_cheaper():
    """Σ Aᵢᵀ(Aᵢx − bᵢ), not (Σ AᵢᵀAᵢ)x − Σ Aᵢᵀbᵢ: every product is with a vector."""
    rng = np.random.default_rng(0)
    inputs = {f"A{i}": rng.standard_normal((10 + i, 8)) for i in (1, 2, 3)}
    inputs.update({f"b{i}": rng.standard_normal(10 + i) for i in (1, 2, 3)})
    log = _log("‖A₁x − b₁‖₂² + ‖A₂x − b₂‖₂² + ‖A₃x − b₃‖₂²", "x",
               x=rng.standard_normal(8), **inputs)
    assert all(b[-1] == 1 for _, b in calls(log, "matmul"))
    # the Gram matrix where it is what is asked for: the Hessian 2AᵀA
    log = _log("‖Ax − b‖₂²", "x", "hess", A=inputs["A1"], x=rng.standard_normal(8),
               b=inputs["b1"])
    assert calls(log, "matmul") == [((8, 11), (11, 8))]


def test_heaviside_is_a_comparison_cast_to_floats():
    """H(x) as (x > 0) (np.heaviside is ten times slower), cast to the dtype: as bools,
    H(x) − H(y) would be an error and H(x) + H(y) an `or`."""
    for text in ("sum(relu(x) − relu(y − x))", "sum(relu(x) + relu(x − y))", "relu(α)"):
        result = check_generated(text, "x" if "x" in text else "α")
        assert "heaviside" not in result.numpy


def test_ordering_a_chain_prices_its_shapes_and_builds_nothing(monkeypatch):
    # the cheapest split is chosen from the factors' shapes and kinds alone: a 40-factor
    # chain's code took 15 s when every split of every subchain was built as an expression;
    # chains of the same shapes (the suffixes of a long chain that regrouping prices, one per
    # common factor taken out) share one ordering
    from matcalc import codeform
    built = []
    combine = codeform._combine
    monkeypatch.setattr(codeform, "_combine", lambda a, b: built.append(1) or combine(a, b))
    codeform._order_of.cache_clear()
    n = 30
    order = codeform._order([Var(f"A{i}", ("n", "n")) for i in range(n)])
    assert not built
    assert codeform._order([Var(f"B{i}", ("n", "n")) for i in range(n)]) == order
    assert codeform._order_of.cache_info().hits == 1



def test_a_chain_whose_products_all_cost_the_same_is_not_priced_split_by_split(monkeypatch):
    """Where every size of a chain costs the same (symbols, each N, or one number) and no factor
    is a solve, a Diag or a ones vector, every order costs the same: the chain is taken left to
    right, the order the search over all splits gives such ties, with n − 1 products priced,
    not the search's n³/6 (each term of a long derivative of square matrices is such a chain,
    and its code took 0.8 s of a fuzzed input's 1.4 s). A chain with a vector still searches."""
    from matcalc import codeform
    search = codeform._order_of.__wrapped__
    chains = [tuple((d[i], d[i + 1], "") for i in range(len(d) - 1))
              for d in (["m", "n", "k", "n", "m", "m", "k"], [5] * 9, ["n"] * 31)]
    for factors in chains:
        priced = []
        product_of = codeform._product_of
        monkeypatch.setattr(codeform, "_product_of",
                            lambda a, b: priced.append(1) or product_of(a, b))
        fast = search(factors)
        assert len(priced) == len(factors) - 1
        monkeypatch.setattr(codeform, "_uniform", lambda factors: False)
        assert search(factors) == fast
        monkeypatch.undo()
    # a column vector last: the chain is applied to it right to left
    assert search((("n", "n", ""), ("n", "n", ""), ("n", 1, "")))[1] == (0, (1, 2))

@pytest.mark.parametrize("text, wrt", [(case.text, case.wrt) for case in CASES] + [
    ("tr(" + "(AXB + C)(AXB + C)ᵀ" * 6 + ")", "X"), ("XW XW XW XW XW + b", "W")])
def test_the_cost_of_code_is_each_distinct_node_paid_once(text, wrt):
    """cost() finds a sum's nodes as the union of its terms' (each term's set kept): the same
    number as walking the code form and paying each distinct node its own cost once, for every
    subexpression of the derivatives and their regroupings."""
    from matcalc import codeform
    from matcalc.ir import distinct_nodes

    def walked(e):
        total = Cost()
        for node in distinct_nodes(codeform.code_form(e)):
            total = total + codeform.own_cost(node)
        return total
    result = derive(text, wrt)
    exprs = [e for d in result.derivatives for e in (d.expr, d.map_expr) if e is not None]
    for e in exprs:
        for sub in distinct_nodes(codeform.regroup(e), e):
            assert codeform.cost(sub) == walked(sub), sub


def test_a_chain_with_sizes_past_64_bits_is_ordered_exactly():
    """Chains are priced as integers, a coefficient per block of bits: sizes of 10¹⁰ (products
    of 10³⁰) overflowed a fixed 64-bit block into an internal error; the block is as wide as
    the chain's numbers need, and the order and cost are those of the polynomials."""
    from matcalc import codeform
    big = 10 ** 10
    # a bᵀ c: bᵀc first (a number), not the big×big outer product a bᵀ
    factors = ((big, 1, ""), (1, big, ""), (big, 1, ""))
    total, tree = codeform._order_of(factors)
    assert tree == (0, (1, 2))
    assert total == Cost([2 * big + 1]) + Cost([3 * big])
    text = "X ∈ ℝ^{10000000000×10000000000}; A ∈ ℝ^{10000000000×10000000000}; tr(XAXA)"
    assert "def grad_" in derive(text, "X").numpy


def test_an_inverse_computed_is_multiplied_not_solved_with():
    """log det X + aᵀX⁻¹b: X⁻ᵀ − X⁻ᵀabᵀX⁻ᵀ computes X⁻¹ once, and its solves with a and b are
    products with it (no second and third factorisation); with X declared spd, one Cholesky
    factorisation for all of it."""
    rng = np.random.default_rng(0)
    n = 6
    X = rng.standard_normal((n, n)) + n * np.eye(n)
    a, b = rng.standard_normal(n), rng.standard_normal(n)
    text = "logdet(X) + aᵀX⁻¹b"
    log = _log(text, "X", X=X, a=a, b=b)
    assert calls(log, "inv") == [((n, n),)] and not calls(log, "solve")
    check_generated(text, "X")
    log = _log("S ∈ 𝕊^n spd; logdet(S) + aᵀS⁻¹b", "S", S=X @ X.T, a=a, b=b)
    assert calls(log, "cholesky") == [((n, n),)]
    assert calls(log, "inv") == [((n, n),)] and not calls(log, "solve")   # L⁻¹, at n ≤ 64
