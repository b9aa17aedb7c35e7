"""The rule engine keeps the value: derivations the random-composition campaign found wrong,
each checked against finite differences, and the simplifier's rewrites of their trees."""

from __future__ import annotations

import numpy as np
import pytest

from matcalc import derive
from matcalc.evaluate import assign_sizes, evaluate, random_inputs
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
