"""Scalars among matrices (issue 10): a 1×1 factor anywhere in a product, scalar functions of
scalars, broadcasts and cancellations. Every Hessian and Jacobian here is checked against finite
differences and printed as written by hand; the simplifier keeps the value of every tree below."""

from __future__ import annotations

import numpy as np
import pytest

from matcalc import derive
from matcalc.evaluate import assign_sizes, evaluate, random_inputs
from matcalc.printers import to_text
from matcalc.reader import parse
from matcalc.simplify import is_zero, present, simplify, tidy

# (input, variable, kind, the result, its map form), the results derived by hand
DERIVATIVES = [
    # σ′ = σ − σ², σ′′ = (σ − σ²)(1 − 2σ)
    ("σ(λ)", "λ", "hessian", "σ(λ)(1 − σ(λ))(1 − 2σ(λ))", "σ(λ)(1 − σ(λ))(1 − 2σ(λ))V"),
    ("exp(λ)λ", "λ", "hessian", "exp(λ)(2 + λ)", "exp(λ)(2 + λ)V"),
    ("log(λ)", "λ", "hessian", "−1/λ²", "−V/λ²"),
    ("zᵀ(ρz)ρ", "ρ", "hessian", "2zᵀz", "2zᵀzV"),
    ("(αa)ᵀ(αb)", "α", "hessian", "2aᵀb", "2aᵀbV"),
    ("λ ∈ ℝ; mean(λ + x)²", "λ", "hessian", "2", "2V"),
    ("A, B ∈ ℝ^{n×n}; sum((ρA) ∘ (ρB))", "ρ", "hessian", "2⟨A, B⟩", "2⟨A, B⟩V"),   # A : B = B : A
    # ∇ = 2(xᵀAx)(A + Aᵀ)x; its differential has the 1×1 chain VᵀAx beside the matrix A
    ("A ∈ ℝ^{n×n}; (xᵀAx)²", "x", "hessian",
     "2(A + Aᵀ)xxᵀ(A + Aᵀ) + 2(xᵀAx)(A + Aᵀ)", "2(A + Aᵀ)((xᵀAx)V + (VᵀAx + xᵀAV)x)"),
    ("(aᵀx)(bᵀx)", "x", "hessian", "abᵀ + baᵀ", "(Vᵀb)a + (Vᵀa)b"),
    # operations on 1×1 arguments, and along axes of length 1
    ("diag(xᵀx)", "x", "gradient", "2x", None),
    ("vec(ρ)", "ρ", "gradient", "1", None),
    ("softmax(ρ)", "ρ", "hessian", "0", "0"),
    ("logsumexp(ρ)", "ρ", "hessian", "0", "0"),
    ("G ∈ ℝ^{1×m}; sum(softmax(G, 1))", "G", "gradient", "0", None),
    ("G ∈ ℝ^{1×m}; sum(logsoftmax(G, 1))", "G", "gradient", "0", None),
    ("sum(X ∘ (𝟏𝟏ᵀ − 1))", "X", "gradient", "0", None),     # 𝟏𝟏ᵀ and a broadcast 1 cancel
    # each group of a softmax sums to 1, and softmax(x + ρ) does not depend on ρ
    ("ρ ∈ ℝ; sum(softmax(ρ + x))", "ρ", "hessian", "0", "0"),
    ("ρ ∈ ℝ; logsumexp(x + ρ)", "ρ", "gradient", "1", None),
    ("Z ∈ ℝ^{n×k}; sum(softmax(Z))", "Z", "gradient", "0", None),
    # broadcasts inside products, sums and functions: ρ𝟏𝟏ᵀ is an outer product
    ("A ∈ ℝ^{n×m}; c ∈ ℝ^m; aᵀ(A + ρ)c", "ρ", "gradient", "sum(a) sum(c)", None),
    ("A ∈ ℝ^{n×n}; xᵀ(A + ρ)x", "ρ", "gradient", "sum(x)²", None),
    ("A, X ∈ ℝ^{n×n}; tr((X − X + α)A)", "α", "gradient", "sum(A)", None),
    ("X ∈ ℝ^{n×m}; sum(exp(X − X + α))", "α", "hessian", "mn exp(α)", "mn exp(α)V"),
    ("X ∈ ℝ^{n×m}; c ∈ ℝ^m; sum((X ⊘ X)c)", "c", "gradient", "n𝟏", None),
    # vec⁻¹ into a column keeps the vector
    ("sum(ρ ⊗ x)", "x", "gradient", "ρ𝟏", None),
    ("sum((x ⊗ x) ∘ (a ⊗ a))", "x", "hessian", "2aaᵀ", "2(Vᵀa)a"),
    ("aᵀ(ρb)", "ρ", "jacobian", "aᵀb", "Gaᵀb"),
    ("(xᵀx)a", "x", "jacobian", "2axᵀ", "2(Gᵀa)x"),
]


@pytest.mark.parametrize("text, wrt, kind, expected, expected_map", DERIVATIVES,
                         ids=[f"{t} wrt {w} {k}" for t, w, k, _, _ in DERIVATIVES])
def test_derivative(text, wrt, kind, expected, expected_map):
    result = derive(text, wrt, kind=kind)
    report = result.check()
    assert report.ok, str(report)
    (d,) = result.derivatives
    assert to_text(d.expr) == expected
    if expected_map is not None:
        assert to_text(d.map_expr) == expected_map


# Trees the simplifier rewrites through a 1×1 factor, a broadcast or a cancellation.
SHAPES = {"A": "n x n", "B": "n x m", "C": "n x m", "G": "1 x m", "V": "n", "x": "n", "a": "n",
          "b": "n", "ρ": "scalar", "α": "scalar"}
TREES = [
    "(VᵀAx + xᵀAV)Ax",          # a sum of 1×1 chains: no matrix factor is common to its terms
    "(VᵀAx)Ax + (xᵀAV)Ax",
    "(aᵀx)(bᵀx) + (xᵀa)(xᵀb)",
    "sum(a − a + α)",
    "sum(B ⊘ B)",
    "tr(ρ + A)",
    "mean(ρ + B, 1)",
    "mean(ρ + B, 2)",
    "sum(ρB)",
    "⟨1G, ρB⟩",
    "⟨αa, b⟩",
    "(ρa)^∘2 ⊘ (ρa)",
    "((ρa) ⊘ (ρa))ᵀb",
    "sum(σ(ρ) ∘ (1 − σ(ρ)))",
    "B ∘ C : B ∘ C",
]


@pytest.mark.parametrize("text", TREES)
def test_simplifier_keeps_the_value(text):
    program = parse(text, SHAPES)
    tree = program.result
    sizes = assign_sizes([tree])
    env = random_inputs(tree, program.variables, sizes, np.random.default_rng(3))
    want = evaluate(tree, env, sizes)
    for form in (simplify(tree), tidy(tree), present(tidy(tree))):
        assert form.shape == tree.shape
        assert np.allclose(evaluate(form, env, sizes), want), to_text(form)


@pytest.mark.parametrize("text", ["X ⊘ X", "A ∘ X − X ∘ A", "A ∘ X ∘ B − B ∘ X ∘ A"])
def test_terms_that_differ_in_the_order_of_their_factors_cancel(text):
    """∘ commutes: dX ⊘ X − (X ⊘ X²) ∘ dX = 0, so the differential, from which the index form is
    read, is 0 and not a difference of two equal terms."""
    (d,) = derive(text, "X", {"X": "n x m", "A": "n x m", "B": "n x m"}).derivatives
    assert is_zero(d.differential), to_text(d.differential)


def test_a_symmetric_variable_under_log_is_drawn_symmetric():
    """The check draws a declared symmetric S symmetric also where it must be positive, since the
    result uses S = Sᵀ (an unsymmetric draw failed the right gradient XᵀS/(1 + tr(XS)))."""
    result = derive("S ∈ 𝕊^n; log(1 + tr(XS))", "X")
    assert result.check().ok
