"""The derivation's work grows near-linearly with its input, and deep inputs within the
documented limits (docs/language.md) derive without reaching Python's recursion limit.

Work is counted in Python function calls (with the memo tables emptied), a measure that does
not depend on the machine or its load."""

from __future__ import annotations

import sys
import threading
import time

import numpy as np
import pytest
from test_parse import _repeat

from matcalc import MatcalcError, UnsupportedError, derive
from matcalc.codeform import Cost, size
from matcalc.differentiate import gradient
from matcalc.errors import guarded
from matcalc.evaluate import evaluate
from matcalc.ir import Add, Func, Hadamard, MatMul, Sum, Var, walk
from matcalc.reader import parse
from matcalc.printers import _joins_a_word
from matcalc.simplify import coeff_and_rest, simplify


def _clear_memo_tables():
    for name, module in list(sys.modules.items()):
        if name.startswith("matcalc"):
            for value in vars(module).values():
                if hasattr(value, "cache_clear"):
                    value.cache_clear()


def _calls(fn, names: set | None = None) -> int:
    """The Python function calls fn makes, in this thread and in the threads it starts (matcalc
    derives on a thread with a deep stack: counted in this thread alone, a derivation was a few
    dozen calls whatever its size); with ``names``, only the calls of functions so named (a
    memoized one runs its body only for what its table does not hold)."""
    calls = 0

    def count(frame, event, arg):
        nonlocal calls
        calls += event == "call" and (names is None or frame.f_code.co_name in names)
    sys.setprofile(count)
    threading.setprofile(count)
    try:
        fn()
    finally:
        sys.setprofile(None)
        threading.setprofile(None)
    return calls


def _derive_work(text: str, wrt: str) -> int:
    _clear_memo_tables()
    return _calls(lambda: derive(text, wrt).text)


# Inputs that grow with n, and the variable: each took work quadratic in n
GROWING = {
    # the adjoint of X gathers one term from each tr(AᵢX): summed once, not at every term
    "distinct terms": (lambda n: _repeat(lambda i: f"tr(A{i}*X)", n), "X"),
    # definitions are looked for only where their values occur, and expanded with one memo
    "definitions": (lambda n: _repeat(lambda i: f"W{i} = A{i}X", n, "; ") + "; sum("
                    + _repeat(lambda i: f"W{i}", n // 3) + ")", "X"),
    # a factor written k times in a row is differentiated as the power it is
    # (a product's differential has at most MAX_PRODUCT_TERMS = 200 terms)
    "products": (lambda n: "tr(" + "A" * (n // 4) + "X)", "A"),
    "capitals": (lambda n: "sum(" + "X" * (n // 4) + ")", "X"),
    # a scalar product beside its own factors is a power of it: (Di)Di = (Di)², not a nest of
    # scalar products as deep as the input, one per term
    "scalar blocks": (lambda n: "Di" * (n // 8), "D"),
    "scalar factors in blocks": (lambda n: "tr(X)" + "Ar(X)" * (n // 10), "A"),
    # a Jacobian differentiates the simplified function: the product rule on the chain of 1×1
    # factors (aᵀX)(bᵀX)⋯(bᵀX)b nested one sum per factor, its simplified form has two terms
    "1×1 factors of a Jacobian": (lambda n: "aᵀX" + "bᵀX" * (n // 8) + "b", "X"),
}


@pytest.mark.parametrize("family", GROWING)
def test_derive_work_grows_linearly(family):
    make, wrt = GROWING[family]
    derive("x", "x")
    small, large = (_derive_work(make(n), wrt) for n in (200, 800))
    assert large < 5 * small


def test_the_inverse_of_a_long_product_derives_in_linear_work(monkeypatch):
    """The inverse of a long product of square matrices, (AXAX…AB)⁻¹ = B⁻¹A⁻¹…X⁻¹A⁻¹, stands in
    a term per factor X of det's gradient: the gradient of det((AX)⁷A(AX)⁷A…B), 180 factors,
    took 2 s when the inverse was tried spread over its 180 factors at each product it stands
    in. The product is folded into the power of its block, ((AX)⁷A)¹²B, before any inverse is
    spread (and only products of up to MAX_SPREAD factors are): the work grows linearly with
    the blocks, even with no bound on the spread."""
    from matcalc.simplify import search
    monkeypatch.setattr(search, "MAX_SPREAD", 1000)
    derive("x", "x")
    small, large = (_derive_work("det(" + ("AX" * 7 + "A") * k + "B)", "X") for k in (3, 12))
    assert large < 5 * small


def test_code_work_grows_linearly():
    """The code of a gradient of many terms: the subtrees it shares are counted in one pass,
    the temporaries no line reads are found from the names each line reads, and the broadcasts
    of a sum are set apart in one pass (a list searched for each subtree, a search of every
    line for each line and of every operand for each broadcast were quadratic)."""
    def work(n):
        result = derive(_repeat(lambda i: f"sum(A{i}ᵀX + X ∘ B{i})", n), "X")
        _clear_memo_tables()
        return _calls(lambda: result.numpy)
    derive("x", "x").numpy
    assert work(8000) < 5 * work(2000)


def test_a_product_is_printed_in_time_independent_of_the_names_in_use():
    """Whether a product's letters spell a name in use is asked against the names of several
    letters, found once per set of names: filtered at each product, a gradient through
    thousands of definitions W₀, W₁, … took 9 s to print at 100,000 characters."""
    names = frozenset(f"W{i}" for i in range(100_000)) | {"np"}
    start = time.process_time()
    assert all(_joins_a_word("n", "p", names) for _ in range(1000))
    assert time.process_time() - start < 1


def _cyclic(k: int) -> str:
    return "tr(" + "".join(f"A{i}X" for i in range(k)) + ")"


def test_the_code_of_long_chains_is_ordered_in_linear_work():
    """The gradient of tr(A₀XA₁X…) has k terms of 2k factors: each chain is ordered left to
    right or right to left past 32 factors, not over all its splits (cubic in the factors: 50
    took minutes)."""
    def work(k):
        result = derive(_cyclic(k), "X")
        _clear_memo_tables()
        return _calls(lambda: result.numpy)
    derive("x", "x").numpy
    # the code itself has 16 times the factors, and their subchains are regrouped: 27 times
    # the work; ordered over all splits, 256 times
    assert work(40) < 40 * work(10)


def test_the_code_of_a_hessian_through_long_chains_costs_a_few_derivations():
    """Ordering a chain prices every split, each by the shapes of its two sides: priced once
    per shape (and an inverse's symmetry found once), not recomputed at each split, the code of
    this Hessian (random composition 1600130) takes about 10 times the work of its derivation,
    not 18 (15 s alone, and over the campaign's 120 s on a loaded machine)."""
    m = "(ΛB (ΣX) @ ((W ⊙ 1.5)(β·X))((X - β) @ sigmoid(v wᵀ)))"
    text = ("w ∈ ℝ^m; Λ ∈ ℝ^{k×p}; Σ ∈ ℝ^{m×p}; v ∈ ℝ^p; B ∈ ℝ^{p×m}; W ∈ ℝ^{p×p}; "
            f"X ∈ ℝ^{{p×p}}; β ∈ ℝ; 𝟏ᵀ({m}ᵀ*{m} + 0.25 I)^(-1)𝟏")
    _clear_memo_tables()
    derivation = _calls(lambda: derive(text, "v", kind="hessian"))
    result = derive(text, "v", kind="hessian")
    _clear_memo_tables()
    assert _calls(lambda: result.numpy) < 14 * derivation


def test_a_power_of_powers_counts_the_terms_of_the_nest():
    """Each term of d((Xᵃ)ᵇ) holds the a terms of d(Xᵃ): X10^-10^-10^-10 (X₁₀ to the −10 three
    times) has 1,000 terms and took minutes; it is refused as 1,000 terms."""
    assert derive("((X^5)^5)^8", "X").check().ok
    with pytest.raises(UnsupportedError, match="here 1,000: past the 200 terms"):
        derive("X10^-10^-10^-10", "X₁₀")



def test_a_power_of_powers_through_transposes_counts_the_terms_of_the_nest():
    """((Xᵃ)ᵀ)ᵏ = (Xᵃᵏ)ᵀ: the nest Y⁻ᵀ**10⁻ᵀ**10…**100 (fuzz seed 45, input 68964) was taken
    level by level, each level's adjoint holding the terms of the one above it, until memory
    ran out (24 GB); it is one power of 10⁷ terms, refused as such. Through a transpose the
    folded power keeps the value."""
    with pytest.raises(UnsupportedError, match="here 10,000,000: past the 200 terms"):
        derive("Y⁻ᵀ" + "**10⁻ᵀ" * 5 + "**100", "Y")
    for text, kind in (("((X²)ᵀ)³", "jacobian"), ("sum(((X⁻¹)ᵀ)²)", "gradient"),
                       ("tr(A((X²)ᵀ)³)", "gradient"), ("sum((((X²)ᵀ)³)ᵀ)", "gradient")):
        report = derive(text, "X", kind=kind).check()
        assert report.ok, str(report)


def _powers_and_products(depth: int) -> str:
    text = "X"
    for _ in range(depth):
        text = f"({text})²A"
    return f"sum({text})"


def test_a_nest_of_powers_and_products_is_refused_in_linear_work():
    """sum((((X²A)²A)²A…)): each level's adjoint writes the one above it twice, a tree of 2ᵏ
    symbols shared in a DAG of k levels. The normal form that compares two such trees sorted
    the terms of each sum by their text (as long as the tree: 20 levels ran out of memory), and
    each level's normal form, and whether its adjoint commutes with its power, were found anew
    for every level above (quadratic: 99 levels took 3 s); the error comes in linear work."""
    for depth in (20, 99):
        with pytest.raises(UnsupportedError, match="symbols: past the 50,000 matcalc writes"):
            derive(_powers_and_products(depth), "X")

    def work(depth):
        _clear_memo_tables()

        def refused():
            with pytest.raises(UnsupportedError):
                derive(_powers_and_products(depth), "X")
        return _calls(refused)
    assert work(64) < 2.6 * work(32)

def test_a_differential_past_the_factors_written_out_is_a_clear_error():
    assert derive(_cyclic(50), "X").text
    with pytest.raises(UnsupportedError, match="102 factors has 51 terms as long as the product"):
        derive(_cyclic(51), "X")


def _nested_sigmoid(depth: int) -> str:
    return "sum(" + "σ(" * depth + "x" + ")" * depth + ")"


def test_nested_sigmoids_expand_in_linear_work():
    """d σ(σ(…σ(x))) is a ∘ product of k factors σ ∘ (1 − σ): opening it into 2ᵏ terms stops
    at the first part that passes the bound on terms, instead of opening every other part
    (exponential in k: 16 levels took a minute)."""
    derive("x", "x")
    small, large = _derive_work(_nested_sigmoid(8), "x"), _derive_work(_nested_sigmoid(12), "x")
    assert large < 2 * small


def _doubling_tree(depth: int):
    """x ∘ x, (x ∘ x) ∘ (x ∘ x), …: a tree of 2^depth leaves in depth distinct nodes."""
    e = Var("x", ("n", 1))
    for _ in range(depth):
        e = Hadamard(e, e)
    return e


def test_equal_trees_built_apart_are_one_object():
    """Two equal trees built apart from shared subtrees (as definitions that use a name twice
    build them) are one object: comparing them is no work at all (compared child by child they
    took time exponential in their depth); a tree that differs at a leaf is another."""
    a, b = _doubling_tree(20), _doubling_tree(20)
    assert a is b
    equal = []
    assert _calls(lambda: equal.append(a == b)) < 5
    assert equal == [True]
    other = Hadamard(Var("x", ("n", 1)), Var("y", ("n", 1)))
    for _ in range(19):
        other = Hadamard(other, other)
    assert a != other
    assert Var("x", ("n", 1)) is Var("x", ("n", 1)) and Var("x", ("n", 1)) != Var("x", ("m", 1))


def _chained_definitions(depth: int):
    """x₁ = sin(x), x₂ = x₁ ∘ x₁, x₃ = sin(x₂), …: (the last name, the definitions)."""
    name, definitions = Var("x", ("n", 1)), {}
    for i in range(1, depth + 1):
        definitions[f"x{i}"] = Func("sin", name) if i % 2 else Hadamard(name, name)
        name = Var(f"x{i}", ("n", 1))
    return name, definitions


def test_deep_chains_of_definitions_are_walked_without_recursion():
    """What depends on the variable, and the values of the definitions, are found from a stack
    rather than by recursion (about 170 levels reached Python's recursion limit): the
    gradient of sum(x₃₀₀) is 2¹⁵⁰ times a ∘ product of cosines and names, and its value the
    chain computed step by step."""
    last, definitions = _chained_definitions(300)
    x = Var("x", ("n", 1))
    g = gradient(Sum(last), x, definitions).expr
    assert coeff_and_rest(g)[0] == 2 ** 150
    start = np.array([[0.3], [0.9], [1.4]])
    value = start
    for i in range(1, 301):
        value = np.sin(value) if i % 2 else value * value
    assert np.allclose(evaluate(last, {"x": start}, {"n": 3}, definitions), value)


@pytest.mark.parametrize("text, first", [
    # G : d(Xᵏ) = kG(Xᵀ)ᵏ⁻¹ : dX for G = I: one term, whatever k (it wrote k terms: a hang)
    ("tr(X⁻¹¹¹¹¹¹¹¹)", "∂f/∂X = −11111111(X⁻ᵀ)¹¹¹¹¹¹¹²    (n×n)"),
    ("tr(X^7)", "∂f/∂X = 7(Xᵀ)⁶    (n×n)"),
])
def test_a_power_under_a_trace_has_one_term(text, first):
    assert derive(text, "X").text.splitlines()[0] == first


@pytest.mark.parametrize("text", ["tr(X^7)", "3tr(X^-3) + tr(X^2)", "tr(expm(X)X^3)"])
def test_a_power_whose_adjoint_commutes_with_it_keeps_the_value(text):
    """The adjoint of X³ in tr(expm(X)X³) is expm(X)ᵀ, a function of Xᵀ: 3expm(X)ᵀ(Xᵀ)²."""
    report = derive(text, "X").check()
    assert report.ok, str(report)


def test_a_repeated_block_is_differentiated_as_its_power():
    """A block of factors written k times in a row is differentiated as the power it is, and
    printed as one: d(XAXA…XA) had k terms each as long as the input, and finding the blocks
    to print built and compared every block at every place (work 23 times larger for 4 times
    the blocks). Each term keeps its powers of the block whole, (XA)ⁱ dX A(XA)ᵏ⁻¹⁻ⁱ: the
    simplifier wrote them out as i copies of the block and merged them back, in work linear in
    each of the k terms (8 times larger for 4 times the blocks)."""
    derive("x", "x")
    small, large = (_derive_work("XA" * k, "X") for k in (50, 200))
    assert large < 5 * small


@pytest.mark.parametrize("text, wrt", [("aᵀX" + "bᵀX" * 6 + "b", "X"), ("aᵀXbᵀXbᵀXbᵀX", "X"),
                                       ("aᵀ" + "XbᵀX" * 4 + "c", "b"), ("XAXAXA", "X"), ("AXAXAXB", "A"), ("DiDiDi", "D"),
                                       ("tr(X)Ar(X)Ar(X)Ar(X)", "A"), ("λAλAλA", "λ")])
def test_blocks_differentiated_as_powers_keep_the_value(text, wrt):
    report = derive(text, wrt).check()
    assert report.ok, str(report)


@pytest.mark.parametrize("text", ["sum(X^201)", "sum(" + "X" * 201 + ")", "XA" * 201])
def test_a_product_past_the_terms_written_out_is_a_clear_error(text):
    with pytest.raises(UnsupportedError, match="here 201: past the 200 terms"):
        derive(text, "X")


def test_a_number_past_double_precision_is_a_clear_error_in_code():
    """1e200·1e200 = 1e400 is exact in the printed result but has no float for NumPy."""
    result = derive("tr((1e200X)ᵀ(1e200X))", "X")
    assert result.text.startswith("∂f/∂X = 2" + "0" * 400 + "X")
    with pytest.raises(UnsupportedError, match="2.00e[+]400 is past the range of double"):
        result.numpy


def _nested(depth: int) -> int:
    return 0 if depth == 0 else 1 + _nested(depth - 1)


def test_matcalc_runs_with_a_stack_for_trees_within_the_limits():
    """The rules recurse over trees, and the derivative of an input 200 levels deep nests
    several times deeper (the backward pass through 66 layers tanh(Wᵢhᵢ₋₁) reached Python's
    default limit of 1,000 frames): what matcalc runs has room for 20,000, and the caller's
    limit is as it was."""
    limit = sys.getrecursionlimit()
    assert guarded(_nested)(20_000) == 20_000
    assert sys.getrecursionlimit() == limit
    with pytest.raises(UnsupportedError, match="recursion limit"):
        guarded(_nested)(10 ** 6)


@pytest.mark.parametrize("text, wrt", [("clip(W^{}, 0, 1)", "W"), ("frob(½ − A, W^{})", "W"),
                                       ("softmax(Σ^{})", "Σ")])
def test_a_power_under_an_entrywise_function_derives_in_linear_work(text, wrt):
    """d(Wᵏ) has k terms Wⁱ dW Wᵏ⁻¹⁻ⁱ; a common power is taken out of a sum at once, Wᵀ²(…) not
    Wᵀ(Wᵀ(…)): one factor at a time, each term of the Jacobian's map form nested k levels
    deep (quadratic in k: clip(W¹⁰⁰, 0, 1) took 4 s)."""
    derive("x", "x")
    small, large = (_derive_work(text.format(k), wrt) for k in (25, 100))
    assert large < 6 * small


@pytest.mark.parametrize("text", ["tr(C(X^3 A + X^2 B))", "tr(C(X^3 + X^2 B))",
                                  "tr(C(A X^3 + B X^2))", "tr(C(X^-3 A + X^-2 B))",
                                  "clip(W^5, 0, 1)"])
def test_a_common_power_taken_out_at_once_keeps_the_value(text):
    report = derive(text, "C" if "C" in text else "W").check()
    assert report.ok, str(report)


def _kronecker_chain(k: int) -> str:
    return "A" + " ⊗ X" * k


def test_a_long_chain_of_kronecker_products_is_a_clear_error():
    """The adjoint of a factor of A₁ ⊗ … ⊗ Aₖ nests a block sum per factor, with sizes of k
    symbols: A ⊗ X ⊗ … ⊗ X with 50 factors took minutes to print; past 6 factors it is refused
    (before the vec form is built), and the sum of its entries still derives."""
    assert derive(_kronecker_chain(3), "X").check().ok
    assert derive(_kronecker_chain(5), "X").numpy
    for wrt in ("X", "A"):
        with pytest.raises(UnsupportedError, match="chain of 7 Kronecker products"):
            derive(_kronecker_chain(6), wrt)
        assert _calls(lambda: pytest.raises(UnsupportedError, derive, _kronecker_chain(50),
                                            wrt)) < 200_000
    assert derive("sum(" + _kronecker_chain(20) + ")", "X").text


def test_a_chain_of_kronecker_products_is_as_long_however_it_is_written():
    """A chain written through ∘ 2, a scalar factor or definitions is a chain: its adjoint nests
    a block sum per factor as much (x^∘2 ⊗ no∘2 ⊗ … with 54 factors took 6 s, fuzz seed 26;
    Y₂ = Y₁ ⊗ b; …). Its structure tells its length through ∘ and products (also where its
    sizes are numbers), its sizes k·k·…·m through definitions; within the limit it still
    derives."""
    def defined(k: int) -> str:        # Y₁ = x ⊗ b; …; Yₖ = Yₖ₋₁ ⊗ b; Yₖ ⊗ b
        sub = "₀₁₂₃₄₅₆₇₈₉"
        return "".join(f"Y{sub[i]} = {f'Y{sub[i - 1]}' if i > 1 else 'x'} ⊗ b; "
                       for i in range(1, k + 1)) + f"Y{sub[k]} ⊗ b"

    def numbered(k: int) -> str:       # sizes 3·2ᵏ: no symbol to count
        return "x ∈ ℝ^3; n ∈ ℝ^2; x^∘2" + " ⊗ n∘2" * k + " ⊗ 1"

    assert derive(_kronecker_of_vectors(5), "n").check().ok
    assert derive(defined(4), "b").check().ok
    assert derive(numbered(5), "n").check().ok
    for text, wrt in ((_kronecker_of_vectors(6), "n"), (defined(5), "b"), (numbered(6), "n")):
        with pytest.raises(UnsupportedError, match="chain of 7 Kronecker products"):
            derive(text, wrt).text
    assert _calls(lambda: pytest.raises(UnsupportedError, derive, _kronecker_of_vectors(54),
                                        "n")) < 300_000


def test_the_differential_of_a_long_chain_of_kronecker_products_is_a_clear_error():
    """Each term of d(A₁ ⊗ … ⊗ Aₖ) is as long as the chain, as for a product: past 5,000
    factors over the terms it is refused (‖X ⊗ A ⊗ … ⊗ A‖² with 190 factors wrote 100,000
    characters in 5 s; found by the end-to-end fuzz)."""
    chain = "‖X" + " ⊗ A" * 69 + "‖_F²"
    assert derive(chain, "A").text
    assert derive("‖X ⊗ A ⊗ A‖_F²", "A").check().ok
    with pytest.raises(UnsupportedError, match="chain of 72 Kronecker products has 71 terms"):
        derive(chain.replace("‖_F²", " ⊗ A ⊗ A‖_F²"), "A")


def test_the_cost_of_code_is_a_few_terms_whatever_the_degree():
    """A size of k symbols is N^k: a product of sizes is one term (kept as a dense list of
    coefficients, each product was quadratic in the degree, N¹⁵⁰ in a chain of ⊗)."""
    k50 = size("·".join("k" * 50))
    assert (k50 * k50 * size("n")).terms == ((101, 1),)
    assert (k50 + size(3)) * 2 == Cost([6] + [0] * 49 + [2])
    assert size("n") < size("2·n") < size("m·n") + size("n") < size("m·n") * size(2)


def test_a_power_of_powers_is_differentiated_as_the_one_power():
    """(Xᵃ)ᵏ = Xᵃᵏ for integers: d((X¹⁰)¹⁰) is the 100 terms Xⁱ dX X⁹⁹⁻ⁱ, not 10 terms each
    holding the 10 of d(X¹⁰), expanded and collected (six times the work)."""
    derive("x", "x")
    assert _derive_work("sum((X^10)^10)", "X") < 1.5 * _derive_work("sum(X^100)", "X")
    for text in ("(X^2)^-2", "sum(((X^2)^3)^-1)", "tr(A(X^-1)^-3)",
                 # powers whose product is 1: (X⁻¹)⁻¹ = X, dX itself (a product of one factor
                 # raised a TypeError: found by the end-to-end fuzz)
                 "X^-1^-1", "inv(X + A)⁻ᵀ", "sum((X^-1)^-1)"):
        report = derive(text, "X").check()
        assert report.ok, str(report)


def test_symmetry_by_form_is_found_once_per_tree():
    """The code's chain ordering asks whether the matrix a solve applies is symmetric at each
    split it tries: found anew each time, the gradient of tr((XᵀCXᵀC…X)⁻¹XᵀBX) with C
    symmetric took 16 s to write as code (the chain's normal form at each of its splits)."""
    from matcalc.ir import is_symmetric
    from matcalc.reader import parse
    chain = parse("C ∈ 𝕊^n; " + "XᵀCXᵀ" * 40 + "X").result
    _clear_memo_tables()
    first = _calls(lambda: is_symmetric(chain))
    # asked again, a table lookup of a few calls, where the first walks the chain
    assert _calls(lambda: [is_symmetric(chain) for _ in range(100)]) < first / 4


def _tanh_layers(depth: int) -> str:
    return "; ".join(["h1 = tanh(W1 x)"] + [f"h{i} = tanh(W{i} h{i - 1})"
                                            for i in range(2, depth + 1)]) + f"; sum(h{depth})"


def test_the_backward_pass_through_layers_derives_in_near_linear_work():
    """The gradient through layers tanh(Wᵢhᵢ₋₁) wrt W₁ nests a product and a ∘ (1 − hᵢ^∘2) per
    layer: expanded at each layer, it opened into a term per layer above, each the product of
    their matrices (cubic: 6.5 s at 66 layers); an expansion now stops past MAX_EXPANDED_FACTORS
    factors, and like terms are compared by a form sorted by hash, not by text as long as the
    tree (quadratic)."""
    derive("x", "x")
    small, large = (_derive_work(_tanh_layers(k), "W₁") for k in (16, 64))
    assert large < 9 * small


def test_a_product_of_many_sums_with_nothing_to_cancel_is_not_opened():
    """σ′ ∘ σ′ ∘ … (a chain σ(σ(…σ(x)))) is a ∘ product of a sum 1 − σ per level, and nothing
    divides: no term cancels, and past MAX_TERMS terms the expansion is given up at once, not
    after simplifying the whole product for each term opened on the way."""
    from matcalc.reader import parse
    from matcalc.simplify import expand, simplify
    levels = " ∘ ".join(f"σ({k}x) ∘ (1 − σ({k}x))" for k in range(2, 62))
    e = simplify(parse("x ∈ ℝ^n; " + levels).result)
    _clear_memo_tables()
    result = []
    assert _calls(lambda: result.append(expand(e, hadamard=True))) < 5_000
    assert result == [[e]]


def test_a_line_deeper_than_the_reader_reads_is_printed_without_reading_it_for_each_size(
        monkeypatch):
    """The gradient through 99 layers nests deeper than the reader's 200 levels: no line of it
    reads back, and each size of I and 𝟏 was left out in turn and the line read again (a
    hundred readings of the whole line: 1.8 s to print)."""
    import matcalc.printers as printers
    reads = []
    parse = printers.parse
    monkeypatch.setattr(printers, "parse", lambda *a, **k: reads.append(1) or parse(*a, **k))
    result = derive(_tanh_layers(99), "W₁")
    assert "∂f/∂W₁ = " in result.text
    assert len(reads) < 10


@pytest.mark.parametrize("text, error", [
    # a number's entrywise power is folded within the limits on numbers, as its power is
    ("sum(X ∘ 3" + "^∘3" * 30 + ")", "the number 3(\\^∘3)+ is out of range"),
    # a number raised to exponents the input multiplies: 2^(3³⁰), found before it is computed
    ("sum((2X)" + "^∘3" * 30 + ")", "is out of range: past the 300 digits"),
])
def test_a_tower_of_entrywise_powers_is_a_clear_error(text, error):
    """3^∘3^∘3^∘… and ((2X)^∘3)^∘3… folded numbers of 3³⁰ digits: the end-to-end fuzz found
    sum(G ∘ X^∘3^∘3…∘3^∘3…) hanging."""
    with pytest.raises(MatcalcError, match=error):
        derive(text, "X")
    assert _calls(lambda: pytest.raises(MatcalcError, derive, text, "X")) < 50_000


def test_a_run_of_factors_common_to_the_terms_is_taken_out_at_once(monkeypatch):
    """PCA + PDA for a product P of 100 factors is P(C + D)A in one step, not a level per
    factor of P that rebuilt every term (quadratic in the run: the gradient of fuzz seed 18's
    tr((AXB XB…XB + C)(AXB + C)ᵀ) took 2.8 s)."""
    factoring = sys.modules["matcalc.simplify.factor"]
    a, b, c, d, x = (Var(name, ("n", "n")) for name in "ABCDX")
    run = [x, b] * 50
    e = simplify(Add(MatMul(*run, c, a), MatMul(*run, d, a)))
    calls = []
    step = factoring.factor
    monkeypatch.setattr(factoring, "factor", lambda s: calls.append(s) or step(s))
    assert factoring.factor(e) == simplify(MatMul(*run, Add(c, d), a))
    assert len(calls) <= 4


def test_a_repeated_1x1_block_is_differentiated_as_a_scalar_power():
    """aᵀX bᵀX ⋯ bᵀX b with 150 blocks bᵀX: the 1×1 block is a scalar, whose power has the one
    term k sᵏ⁻¹ds, not the k terms of a matrix power (the Jacobian differentiates the
    simplified function, (Xᵀa)(Xᵀb)¹⁵⁰b)."""
    r = derive("aᵀX" + "bᵀX" * 150 + "b", "X")
    assert r.text.startswith("∂F/∂X = (Xᵀb)¹⁴⁹b((Xᵀb)aᵀ + 150(Xᵀa)bᵀ)    (n×n, vec form)")
    report = derive("aᵀX" + "bᵀX" * 25 + "b", "X").check()
    assert report.ok, str(report)


@pytest.mark.parametrize("text", ["det(AXAXAXAAXAXAXAB)", "tr(C(AX)³B(AX)³)",
                                  "aᵀX bᵀX bᵀX bᵀX Ab"])
def test_a_product_of_repeated_blocks_keeps_the_value(text):
    """Each term of a repeated block's power is written (a 1×1 run's terms are spread into
    the product's: a slip that spread a matrix block's too dropped its other copies, and the
    gradient of det((AXAXAXA)²B), checked at symmetric draws, passed)."""
    report = derive(text, "X").check()
    assert report.ok, str(report)


def test_the_memo_tables_hold_what_was_computed_of_one_input():
    """The derivatives of one input by each variable share the tables; another input empties
    them: kept, they grew over the inputs of a session to millions of nodes, which the cycle
    collector scanned a second at a time (20,000 fuzzed inputs in one process: 16 collections
    of up to 1.2 s, 265 MB; now at most 0.07 s, 80 MB)."""
    text = "tr(" + "AXB" * 30 + ")"
    derive(text, "X")
    filled = simplify.cache_info().currsize
    derive(text, "A")
    assert simplify.cache_info().currsize >= filled > 100
    derive("xᵀx", "x")
    assert simplify.cache_info().currsize < 20


def test_the_code_takes_a_run_of_common_factors_out_at_once(monkeypatch):
    """In the code too, PCA + PDA for a product P of 100 factors is P(C + D)A in one step: a
    level per factor priced every candidate grouping again (cubic in the run; the code of the
    gradient of fuzz seed 20's tr((AXB + C)(AX)…(AXB + C)ᵀ) took 0.9 s)."""
    from matcalc import codeform
    a, b, c, d, x = (Var(name, ("n", "n")) for name in "ABCDX")
    run = [x, b] * 50
    calls = []
    step = codeform._group
    monkeypatch.setattr(codeform, "_group", lambda terms: calls.append(terms) or step(terms))
    grouped = codeform._group((MatMul(*run, c, a), MatMul(*run, d, a)))
    assert grouped.args == (*run, MatMul(Add(c, d), a)) and len(calls) <= 4


def test_a_derivative_past_the_symbols_written_out_is_a_clear_error():
    """The adjoint of logsoftmax(Z), G − softmax(Z) ∘ (G𝟏𝟏ᵀ), writes the adjoint from above it
    twice: 20 nested layers (fuzz seed 21) wrote 28 million symbols, and hung printing them;
    past 50,000 the error says so, at once, for the gradient and the Jacobian alike."""
    def layers(k):
        return "Y ∈ ℝ^{n×k} onehot; −sum(Y ∘ " + "logsoftmax " * k + "(XW))"
    assert derive(layers(11), "X").text.startswith("∂f/∂X = (softmax(")
    for kind in ("gradient", "jacobian"):
        with pytest.raises(UnsupportedError) as err:
            derive(layers(20), "X", kind=kind)
        assert "symbols: past the 50,000 matcalc writes" in err.value.message


def test_a_long_line_is_broken_in_linear_work():
    """A line of LaTeX is cut looking at each line's own break points, not at every point
    left after each cut (quadratic in the length: a Jacobian of 168 terms, 60,000 characters
    of LaTeX, spent a fifth of its printing there)."""
    from matcalc import report

    def steps(n):
        text = " + ".join(f"A_{{{i}}} X B_{{{i}}}" for i in range(n))
        count = 0

        def trace(frame, event, arg):
            nonlocal count
            count += event == "line"
            return trace
        sys.settrace(trace)
        try:
            lines = report._break(text, 300.0, 300.0)
        finally:
            sys.settrace(None)
        assert "".join(lines).replace(" ", "") == text.replace(" ", "")
        return count
    assert steps(2000) < 5 * steps(500)


def test_the_normal_form_of_a_power_of_powers_is_not_written_out():
    """Two spellings of one matrix are compared by their normal form, where A² is AA; a power
    of powers ((X²)²)² … was written out there, doubling at each level: the derivative of
    X² ² ² … (fuzz seed 24, 140 levels) ran out of memory after a minute."""
    from matcalc.ir import Power, normal_form, occurrences
    from fractions import Fraction
    e = Var("X", ("n", "n"))
    for _ in range(12):
        e = Power(e, Fraction(2))
    assert sum(occurrences(normal_form(e)).values()) < 100
    with pytest.raises(UnsupportedError):           # 2¹⁴⁰ terms: refused, at once
        derive("X" + " ²" * 140, "X")


def _kronecker_of_vectors(k: int) -> str:
    return "x^∘2" + " ⊗ no∘2" * k + " ⊗ norm2(A)"


def _past_the_chain_limit(monkeypatch) -> None:
    """Lets a Jacobian's adjoint nest past MAX_KRONECKER_CHAIN: the lines of a long chain have
    more sizes than any within the limit, which is what the printer's tests below need."""
    from matcalc import differentiate
    monkeypatch.setattr(differentiate, "MAX_KRONECKER_CHAIN", 20)


def test_the_sizes_a_line_writes_are_found_in_few_readings(monkeypatch):
    """Which sizes of I and 𝟏 a line must write is asked of the reader with groups of sizes
    left out, doubled after each that could be: a Jacobian of 35 Kronecker factors (fuzz seed
    26) read back a line of 52 sizes 52 times to find the one it writes."""
    from math import log2

    from matcalc import printers
    _past_the_chain_limit(monkeypatch)
    lines, find = [], printers.written_sizes.__wrapped__
    monkeypatch.setattr(printers, "written_sizes", lambda e: lines.append(e) or find(e))
    derive(_kronecker_of_vectors(16), "x").text
    monkeypatch.undo()
    readings = []
    read_back = printers._reads_back
    monkeypatch.setattr(printers, "_reads_back",
                        lambda *args, **kw: readings.append(1) or read_back(*args, **kw))
    many = [e for e in dict.fromkeys(lines) if len(printers._constant_keys(e)) >= 16]
    assert many
    for e in many:
        readings.clear()
        written = find(e)
        keys = printers._constant_keys(e)
        assert len(readings) <= 2 * len(written) + 2 * log2(len(keys)) + 2
        # what is written reads back, and is needed: nothing more can be left out singly
        assert read_back(e, written, keys, beside=True)
        assert not any(read_back(e, written - {k}, keys, beside=True) for k in written)


def test_names_are_looked_for_among_a_few_candidates(monkeypatch):
    """Each round of naming asks the reader about the few subexpressions that save the most
    reading, not about each of a long Jacobian's nested chains (fuzz seed 26: 94 of them, a
    reading each, for a chain of 35 Kronecker factors)."""
    from matcalc import report
    _past_the_chain_limit(monkeypatch)
    asked = []
    reads_alone = report.reads_alone
    monkeypatch.setattr(report, "reads_alone", lambda e: asked.append(e) or reads_alone(e))
    result = derive(_kronecker_of_vectors(16), "n")
    assert result.text.count("T₁") > 1          # a name is still found and used
    rounds = report.MAX_AUTO_NAMES * len(result.derivatives)
    assert len(asked) <= report.MAX_NAME_TRIALS * rounds


def test_a_long_line_writes_its_sizes_unasked(monkeypatch):
    """Past MAX_READ_BACK characters a line writes every size of its I and 𝟏 without asking
    the reader which it can leave out (one reading of a long chain's 30,000-character Jacobian,
    fuzz seed 27, took a second); a shorter line still asks, and leaves them out."""
    from matcalc import printers
    from matcalc.ir import Identity, Kron
    read = []
    reads_back = printers._reads_back
    monkeypatch.setattr(printers, "_reads_back",
                        lambda *a, **k: read.append(1) or reads_back(*a, **k))
    x, b = Var("X", ("n", "n")), Var("B", ("n", "n"))

    def line(k):
        return Add(*[Kron(MatMul(*[x, b] * i), Identity("n")) for i in range(1, k)])
    assert printers.written_sizes.__wrapped__(line(70)) == {("I", "n")} and not read
    assert printers.text_length(line(70)) > printers.MAX_READ_BACK
    assert printers.written_sizes.__wrapped__(line(3)) == frozenset() and read
    assert "I_n" in printers.TextPrinter(sizes=printers.written_sizes(line(70))).doprint(line(70))


def test_the_text_of_a_tree_is_written_once_per_node():
    """Sums are ordered by their terms' texts (repr) at every level of a nest: each subtree's
    text was written again for each sum above it, work quadratic in the depth (a fifth of the
    derivation of a Jacobian of 35 Kronecker factors, fuzz seed 26)."""
    x, a = Var("x", ("n", 1)), Var("A", ("n", "n"))

    def nest(depth):
        e = x
        for _ in range(depth):
            e = Add(x, MatMul(a, e))
        return e
    nests = {depth: nest(depth) for depth in (100, 400)}
    small, large = (_calls(guarded(lambda e=e: [repr(n) for n in walk(e)]), {"__repr__", "_repr"})
                    for e in nests.values())
    assert large < 5 * small


def test_the_sizes_of_a_chain_of_kronecker_products_are_multiplied_once():
    """A chain of Kronecker products has a size for each of its partial products; reading
    lines back (written_sizes) asks for them again at each reading: each product of two sizes
    is computed once (it sorted the factors of k·k·…·m each time, a sixth of the printing)."""
    text = "x ∈ ℝ^n; " + " ⊗ ".join(["x"] * 30)
    parse(text)
    assert _calls(lambda: parse(text), {"dim_mul"}) == 0


def test_a_definition_is_looked_for_in_a_power_written_out_only_when_it_is_short():
    """A definition's run is looked for in a product with its powers of blocks written out,
    Y = XXᵀX in (XXᵀ)²X, but only where that writes at most MAX_WRITTEN_OUT factors: the
    gradient of tr((AXB)¹⁰⁰⁰⁰⁰⁰⁰) beside a definition Y = AB wrote out 30 million factors (17 s)."""
    from matcalc.ir import Power, Transpose
    from matcalc.simplify.definitions import MAX_WRITTEN_OUT, _written_out
    x, a, b = (Var(n, ("n", "n")) for n in "XAB")
    square = Power(MatMul(x, Transpose(x)), 2)
    assert _written_out([square, x]) == [x, Transpose(x), x, Transpose(x), x]
    huge = Power(MatMul(a, x, b), 10_000_000)
    assert _written_out([a, huge]) == [a, huge]
    assert len(_written_out([Power(MatMul(a, x), MAX_WRITTEN_OUT // 2 + 1)])) == 1
    result = derive("Y = AB; tr((AXB)^10000000) + tr(Y)", "X")
    assert result.text.startswith("∂f/∂X = 10000000Aᵀ(BᵀXᵀAᵀ)⁹⁹⁹⁹⁹⁹⁹Bᵀ")
    result = derive("W = XXᵀ; Y = (XXᵀ)²X; ℓ = ‖Y‖_F", "X")
    assert result.text.startswith("∂ℓ/∂X = 5W²Y/ℓ")
    assert result.check().ok
