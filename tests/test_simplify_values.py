"""The simplifier keeps the value and the shape: on random well-typed trees that mix scalars,
vectors and matrices (scalar factors anywhere in a chain, broadcasts, cancellations, 1×1
products), simplify, tidy and present evaluate to the tree's own value."""

from __future__ import annotations

import random

import numpy as np
import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from matcalc import derive
from matcalc.evaluate import Evaluator, assign_sizes, evaluate, random_inputs
from matcalc.ir import Func, Num, Zero, walk
from matcalc.printers import to_text
from matcalc.reader import parse
from matcalc.simplify import present, simplify, tidy

# declared in Unicode, so that a run such as Bc is a product whatever the expression holds
DECLARATIONS = "A, X ∈ ℝ^{n×n}; B ∈ ℝ^{n×m}; a, b, x ∈ ℝ^n; c ∈ ℝ^m; ρ, α ∈ ℝ; "
LEAVES = {"s": ["ρ", "α", "2", "aᵀb", "cᵀc", "tr(A)", "sum(B)"],
          "v": ["a", "b", "x", "Bc"],
          "m": ["A", "X", "abᵀ", "BBᵀ"]}
# (result kind, argument kinds, template)
GROW = [
    ("s", "ss", "{}{}"), ("s", "ss", "({} + {})"), ("s", "ss", "({} − {})"),
    ("s", "vv", "({})ᵀ({})"), ("s", "vmv", "({})ᵀ({})({})"), ("s", "m", "tr({})"),
    ("s", "v", "sum({})"), ("s", "m", "sum({})"), ("s", "v", "‖{}‖²"), ("s", "mm", "⟨{}, {}⟩"),
    ("s", "s", "σ({})"), ("s", "s", "({})²"),
    ("v", "sv", "({})({})"), ("v", "vs", "({})({})"), ("v", "mv", "({})({})"),
    ("v", "vv", "({} + {})"), ("v", "vv", "({} − {})"), ("v", "vs", "({} + {})"),
    ("v", "vv", "({} ∘ {})"), ("v", "vv", "({} ⊘ (1 + {}^∘2))"), ("v", "vvv", "({})({})ᵀ({})"),
    ("s", "vv", "(({}) ⊗ ({}))ᵀ(a ⊗ b)"), ("v", "v", "softmax({})"), ("v", "v", "exp({})"),
    ("m", "sm", "({})({})"), ("m", "ms", "({})({})"), ("m", "mm", "({})({})"),
    ("m", "mm", "({} + {})"), ("m", "mm", "({} − {})"), ("m", "ms", "({} + {})"),
    ("m", "mm", "({} ∘ {})"), ("m", "vv", "({})({})ᵀ"), ("m", "mv", "({} + ({})ᵀ)"),
    ("m", "m", "({})ᵀ"), ("m", "v", "Diag({})"), ("m", "mm", "({} ⊘ (1 + {}^∘2))"),
]


def expression(rng: random.Random, kind: str, depth: int) -> str:
    if depth == 0 or rng.random() < 0.2:
        return rng.choice(LEAVES[kind])
    _, args, template = rng.choice([g for g in GROW if g[0] == kind])
    return template.format(*[expression(rng, k, depth - 1) for k in args])


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 2**32 - 1), st.sampled_from("svm"))
# factoring the ∘ factor of the terms sharing it, when each is a ∘ product times a scalar
# factor (tr(A)(α − aᵀb)((BBᵀ + aᵀb) ∘ abᵀ)), found no ∘ product and left a None in a sum
@example(seed=123824, kind="m")
def test_simplified_forms_keep_the_value(seed, kind):
    assume(checked_forms(expression(random.Random(seed), kind, 4), seed))


def checked_forms(text: str, seed: int) -> bool:
    """Assert that simplify, tidy and present keep text's value at random inputs; False (not
    checked) when a value on the way is not finite (exp(exp(…)) may overflow)."""
    program = parse(DECLARATIONS + text)
    tree = program.result
    sizes = assign_sizes([tree])
    env = random_inputs(tree, program.variables, sizes, np.random.default_rng(seed))
    value = Evaluator(env, sizes)
    values = [value(node) for node in walk(tree)]
    if not all(np.all(np.isfinite(v)) for v in values):
        return False
    want = values[0]
    # rounding is on the scale of the largest value computed on the way (terms that cancel)
    scale = max(1.0, max(float(np.abs(v).max()) for v in values))
    for form in (simplify(tree), tidy(tree), present(tidy(tree))):
        assert form.shape == tree.shape, to_text(form)
        got = np.broadcast_to(evaluate(form, env, sizes), want.shape)
        assert np.abs(got - want).max() <= 1e-9 * scale, f"{text} → {to_text(form)}"
    return True


@pytest.mark.parametrize("text, printed", [
    ("(√(x ∘ x + 1))^∘2", "x^∘2 + 1"),
    ("a ⊘ (√(x ∘ x + 1))^∘2", "a ⊘ (x^∘2 + 1)"),
    ("a ⊘ (√(x ∘ x + 1))^∘3", "a ⊘ ((x^∘2 + 1) ∘ √(x^∘2 + 1))"),
    ("(√(x ∘ x + 1))^∘3", "(x^∘2 + 1) ∘ √(x^∘2 + 1)"),
    ("√(x ∘ x + 1) ∘ √(x ∘ x + 1) ∘ a", "a ∘ (x^∘2 + 1)"),
    ("(√(ρ² + 1))²", "ρ² + 1"),
    ("1/(√(ρ² + 1))³", "1/(√(ρ² + 1)(ρ² + 1))"),
])
def test_a_power_of_a_root_is_halved(text, printed):
    """(√x)ᵏ = x^j (√x)^r, k = 2j + r: the batch-norm derivation's (√(v + ε))^∘2 reads v + ε."""
    program = parse(DECLARATIONS + text)
    tree = program.result
    sizes = assign_sizes([tree])
    env = random_inputs(tree, program.variables, sizes, np.random.default_rng(0))
    form = simplify(tree)
    assert to_text(form) == printed
    assert np.allclose(evaluate(form, env, sizes), Evaluator(env, sizes)(tree))


@pytest.mark.parametrize("texts", [
    ("AXAX", "(AX)²", "AX(AX)"),
    ("(AX)²AX", "AXAXAX", "AX(AX)²", "(AX)³", "AX(AX)AX"),
    ("(AX)²AXA", "AXAXAXA", "(AX)³A"),
    ("XᵀAᵀ((AX)²)ᵀ", "XᵀAᵀXᵀAᵀXᵀAᵀ", "(XᵀAᵀ)³"),
])
def test_equal_products_are_one_tree(texts):
    """A block written k times in a row is its power, and a power takes in the copies of its
    block beside it: every spelling of one product simplifies to one tree (so that terms
    combine: the gradient of tr((XW)²XW) read Xᵀ((WᵀXᵀ)² + 2(WᵀXᵀ)²)), of the same value."""
    forms = [simplify(parse(DECLARATIONS + text).result) for text in texts]
    assert all(form is forms[0] for form in forms), [to_text(f) for f in forms]
    program = parse(DECLARATIONS + texts[0])
    tree = program.result
    sizes = assign_sizes([tree])
    env = random_inputs(tree, program.variables, sizes, np.random.default_rng(0))
    assert np.allclose(evaluate(forms[0], env, sizes), Evaluator(env, sizes)(tree))


def test_the_gradient_of_a_power_beside_its_block_is_one_term():
    result = derive("X, W ∈ ℝ^{n×n}; tr((XW)²XW)", "W")
    assert result.text.startswith("∂f/∂W = 3Xᵀ(WᵀXᵀ)²")
    assert result.check().ok


def test_a_hadamard_factor_of_some_terms_is_taken_out_past_their_scalar_factors():
    """ρ(A ∘ X) + α(A ∘ BBᵀ) share A among ∘ products that a scalar multiplies: the group
    of terms sharing A was found, but taking A out of it refused a sum of scalar multiples (a
    TypeError, found by the end-to-end fuzz)."""
    assert checked_forms("ρ(A ∘ X) + α(A ∘ BBᵀ) + X ∘ abᵀ + BBᵀ ∘ baᵀ", 1)


@pytest.mark.parametrize("text, value", [
    ("relu(1)", 1), ("relu(0)", 0), ("relu(-1/2)", 0), ("abs(-3)", 3), ("abs(0)", 0),
    ("sign(-2)", -1), ("sign(0)", 0), ("H(0)", 0), ("H(2)", 1), ("exp(0)", 1), ("log(1)", 0),
    ("sin(0)", 0), ("σ(0)", 0.5), ("sum(abs(0𝟏𝟏ᵀ) + X)", 4), ("sum(abs(0X))", 0)])
def test_a_function_of_a_number_is_its_value(text, value):
    """relu(1), relu(0), |0| were left as they were written; |−3| raised a TypeError (the
    number's coefficient taken out left no argument)."""
    program = parse("X ∈ ℝ^{2×2}; " + text)
    folded = simplify(program.result)
    assert not any(isinstance(n, Func) and isinstance(n.arg, (Num, Zero)) for n in walk(folded))
    assert np.isclose(evaluate(folded, {"X": np.ones((2, 2))}, {}), value)
    assert np.isclose(evaluate(program.result, {"X": np.ones((2, 2))}, {}), value)
