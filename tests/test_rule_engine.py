"""The rule engine keeps the value: derivations the random-composition campaign found wrong,
each checked against finite differences, and the simplifier's rewrites of their trees."""

from __future__ import annotations

import time

import numpy as np
import pytest

from matcalc import MatcalcError, derive
from matcalc.evaluate import assign_sizes, evaluate, random_inputs
from matcalc.ir import D, MatMul, Transpose, Var, substitute
from matcalc.jacobian import vec_form
from matcalc.printers import to_text
from matcalc.reader import parse
from matcalc.simplify import present, simplify, tidy

# (input, variable, kind): every form of the result agrees with finite differences
DERIVATIONS = [
    # exp(x) ⊘ (1 + exp(x)) = σ(x) beside a σ(x) already in the ∘ product: σ(x)² (was σ(x))
    ("sum((x + 2) ⊘ (1 + exp(x)))", "x", "hessian"),
    ("sum(G ∘ ((((A + 2) + (X + X)) ⊘ (1 + exp(A)))B))", "A", "hessian"),
    # the map form's upstream gradient G and direction V are not the function's own name
    ("w ∈ ℝ^m; Λ ∈ ℝ^{m×m}; x ∈ ℝ^n; A ∈ ℝ^{n×m}; G = xᵀA ∘ wᵀΛ", "A", "jacobian"),
    ("V = sum(exp(X) ∘ X)", "X", "hessian"),
    # stacked solves that read each other's results (A⁻¹A⁻ᵀ beside A⁻ᵀA⁻¹) in the NumPy code
    ("A: n x n; ‖A⁻¹‖_F²", "A", "hessian"),
    ("vec((A∘X)⁻¹)ᵀvec(A)", "A", "hessian"),
    # f evaluated without cancellation: 1 − σ(t) = σ(−t) (log(1 − σ(t)) lost its digits)
    ("sum(log(1 − σ(A*(x + y))))", "x", "gradient"),
]


@pytest.mark.parametrize("text, wrt, kind", DERIVATIONS,
                         ids=[f"{t} wrt {w} {k}" for t, w, k in DERIVATIONS])
def test_derivation_agrees_with_finite_differences(text, wrt, kind):
    report = derive(text, wrt, kind=kind).check()
    assert report.ok, str(report)


TREES = [
    "σ(x) ∘ x ⊘ (1 + exp(x)) ∘ exp(x)",
]


@pytest.mark.parametrize("text", TREES)
def test_simplifier_keeps_the_value(text):
    program = parse(text, {"x": "n"})
    tree = program.result
    sizes = assign_sizes([tree])
    env = random_inputs(tree, program.variables, sizes, np.random.default_rng(5))
    want = evaluate(tree, env, sizes)
    for form in (simplify(tree), tidy(tree), present(tidy(tree))):
        assert form.shape == tree.shape
        assert np.allclose(evaluate(form, env, sizes), want), to_text(form)


@pytest.mark.parametrize("text, t, want", [
    ("log(1 − σ(t))", 40.0, -40.0),                     # −softplus(t); 1 − σ(40) rounds to 0
    ("log(σ(t))", -40.0, -40.0),
    ("σ(t)", -40.0, np.exp(-40.0) / (1 + np.exp(-40.0))),
    ("1 − σ(t)", 20.0, np.exp(-20.0) / (1 + np.exp(-20.0))),
])
def test_evaluation_keeps_its_digits_in_the_tails(text, t, want):
    program = parse(text, {"t": "scalar"})
    got = evaluate(program.result, {"t": np.array([[t]])}, {})[0, 0]
    assert got == pytest.approx(want, rel=1e-12, abs=0)


def test_a_function_with_no_value_is_a_clear_error():
    """(xaᵀ)⁻¹ is singular everywhere: the check says so instead of failing inside NumPy."""
    result = derive("W = (xaᵀ)⁻¹; tr(W)", "a", kind="hessian")
    with pytest.raises(MatcalcError, match="singular"):
        result.check()


def _subscript(i: int) -> str:
    return str(i).translate(str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉"))


def _doubling(depth: int) -> str:
    """W₁ = XX; W₂ = W₁W₁; …: the last is X to the power 2^depth."""
    return "W₁ = XX" + "".join(f"; W{_subscript(i)} = W{_subscript(i - 1)}W{_subscript(i - 1)}"
                               for i in range(2, depth + 1))


# (input, variable, kind, the result's first line): derivations whose cost grew exponentially or
# as a power of k (seconds to minutes before); each now takes well under a second, and the bound
# leaves a wide margin for a slow machine
COSTLY = [
    # powers of one matrix side by side stay one power (X²X = X³), not a chain of k factors
    ("tr(X^1000)", "X", "gradient", "∂f/∂X = 1000(Xᵀ)⁹⁹⁹    (n×n)"),
    # a product prints how its next factor starts once, not again at every level of nesting
    ("sum(X^23)", "X", "gradient", None),
    ("X^22", "X", "jacobian", None),
    # each child's adjoints are summed at once, not one at a time (d(X²⁰⁰) has 200 terms)
    ("sum(X^200)", "X", "gradient", None),
    # definitions that use each other twice are expanded and folded once per distinct subtree
    # and a power counts as its factors by their number, not written out 2^20 times
    (_doubling(20) + "; tr(W₂₀)", "X", "gradient", "∂f/∂X = 1048576(Xᵀ)¹⁰⁴⁸⁵⁷⁵    (n×n)"),
]


@pytest.mark.parametrize("text, wrt, kind, first", COSTLY,
                         ids=[f"{t[-12:]} wrt {w} {k}" for t, w, k, _ in COSTLY])
def test_derivation_cost_stays_small(text, wrt, kind, first):
    start = time.perf_counter()
    result = derive(text, wrt, kind=kind)
    lines = result.text.splitlines()
    assert time.perf_counter() - start < 10
    if first is not None:
        assert lines[0] == first


@pytest.mark.parametrize("text, kind", [("X^7", "jacobian"), ("sum(X^6)", "gradient"),
                                        ("tr(X^5)", "hessian"), ("tr(AX^4B)", "gradient")])
def test_powers_kept_whole_keep_the_value(text, kind):
    report = derive(text, "X", {"A": "n x n", "B": "n x n"}, kind=kind).check()
    assert report.ok, str(report)


def test_vec_form_of_a_differential_that_is_a_1x1_factor_inside_a_chain():
    """vec(c aᵀ(dxᵀy)b) = (aᵀb) c yᵀ vec(dx): a 1×1 factor of the chain is a scalar multiplier
    wherever it stands, also inside a 1×1 product (it built Kron(bᵀ, aᵀ) and failed)."""
    a, b, c, x, y, v = (Var(s, ("n", 1)) for s in "abcxyv")
    inner = MatMul(Transpose(a), MatMul(Transpose(D(x)), y), b)
    lin = MatMul(c, inner)
    env = {s: np.random.default_rng(i).standard_normal((3, 1)) for i, s in enumerate("abcxyv")}
    applied = evaluate(vec_form(lin, x), env, {"n": 3}) @ env["v"]
    assert np.allclose(applied, evaluate(substitute(lin, {D(x): v}), env, {"n": 3}))


def test_jacobian_through_definitions_that_double_is_a_product():
    """dW₄ = dW₃ W₃ + W₃ dW₃ gives J₄ = (I ⊗ W₃ + W₃ᵀ ⊗ I)J₃: the shared J₃ is tidied once and
    factored out, so the vec form has d factors rather than 2^d terms."""
    result = derive(_doubling(4) + "; W₄", "X", kind="jacobian")
    assert result.text.splitlines()[0] == (
        "∂vec(F)/∂vec(X) = (I ⊗ W₃ + W₃ᵀ ⊗ I)(I ⊗ W₂ + W₂ᵀ ⊗ I)(I ⊗ W₁ + W₁ᵀ ⊗ I)"
        "(Xᵀ ⊗ I + I ⊗ X)    (n²×n², vec form)")
    report = result.check()
    assert report.ok, str(report)


@pytest.mark.parametrize("text, kind, part", [
    ("tr(X^-3)", "gradient", "∂f/∂X = −3(X⁻ᵀ)⁴    (n×n)"),       # d tr(X⁻³) = −3 tr(X⁻⁴dX)
    ("X^-50", "jacobian", "∂vec(F)/∂vec(X) = −((X⁻ᵀ)⁵⁰ ⊗ X⁻¹ + (X⁻ᵀ)⁴⁹ ⊗ X⁻² + "),
])
def test_a_transposed_power_prints_as_a_power(text, kind, part):
    """(X⁻ᵏ)ᵀ prints as (X⁻ᵀ)ᵏ, not X⁻ᵀ written out k times."""
    result = derive(text, "X", kind=kind)
    assert result.text.splitlines()[0].startswith(part)
    report = result.check()
    assert report.ok, str(report)
