"""Random compositions of the neural-network operations (broadcasts, axis reductions, softmax,
elementwise functions): every gradient, Jacobian (vec and map forms) and Hessian (vec form and
Hessian–vector product) matcalc prints must pass the numerical check.

The expressions are built typed, so that each is well shaped: an n×m matrix, a 1×m row, an
n×1 column or a scalar, from X, A (n×m), B (m×m), b, c (rows via bᵀ, cᵀ) and u (a column)."""

from __future__ import annotations

import random

import pytest

from matcalc import derive
from matcalc.reader import parse

LEAVES = {"M": ["X", "A"], "r": ["bᵀ", "cᵀ", "mean(X, 1)"], "c": ["u", "X𝟏", "mean(A, 2)"],
          "s": ["λ", "2", "sum(X)"]}
MATRIX = [
    lambda g: f"({g('M')} + {g('M')})",
    lambda g: f"({g('M')} ∘ {g('M')})",
    lambda g: f"{random_choice(g, ['σ', 'tanh', 'relu', 'exp', 'softplus'])}({g('M')})",
    lambda g: f"({g('M')} {random_choice(g, ['+', '−', '∘'])} {g(random_choice(g, 'rcs'))})",
    lambda g: f"softmax({g('M')})",
    lambda g: f"logsoftmax({g('M')})",
    lambda g: f"({g('M')} ⊘ (1 + exp({g('M')})))",
    lambda g: f"({g('M')}B)",
]
ROW = [lambda g: f"mean({g('M')}, 1)", lambda g: f"var({g('M')}, 1)",
       lambda g: f"sum({g('M')}, 1)", lambda g: f"tanh({g('r')})"]
COLUMN = [lambda g: f"mean({g('M')}, 2)", lambda g: f"var({g('M')}, 2)",
          lambda g: f"logsumexp({g('M')}, 2)", lambda g: f"sum({g('M')}, 2)"]
SCALAR = [lambda g: f"sum({g('M')})"]
RULES = {"M": MATRIX, "r": ROW, "c": COLUMN, "s": SCALAR}
DECLARATIONS = "X, A ∈ ℝ^{n×m}; B ∈ ℝ^{m×m}; b, c ∈ ℝ^m; u ∈ ℝ^n; "


def random_choice(g, options):
    return g.rng.choice(list(options))


def expression(seed: int, depth: int = 4) -> str:
    rng = random.Random(seed)

    def g(kind, level=[depth]):          # noqa: B006 — the depth left, shared by the calls
        if level[0] <= 0 or rng.random() < 0.25:
            return rng.choice(LEAVES[kind])
        level[0] -= 1
        try:
            return rng.choice(RULES[kind])(g)
        finally:
            level[0] += 1
    g.rng = rng
    return rng.choice(MATRIX)(g)         # never a bare leaf


@pytest.mark.parametrize("seed", range(80))
def test_random_layer_gradient_checks(seed):
    text = f"{DECLARATIONS}sum(G ∘ {expression(seed)})"
    present = [v.name for v in parse(text).variables if v.name in "XAbcu"]
    wrt = present[seed % len(present)]
    result = derive(text, wrt)
    report = result.check()
    assert report.ok, f"{text} wrt {wrt}: {result.text}\n{report}"


@pytest.mark.parametrize("seed", range(20))
@pytest.mark.parametrize("kind", ["jacobian", "hessian"])
def test_random_layer_jacobian_and_hessian_check(seed, kind):
    body = expression(1000 + seed, depth=3)
    text = f"{DECLARATIONS}{body}" if kind == "jacobian" else f"{DECLARATIONS}sum(G ∘ {body})"
    present = [v.name for v in parse(text).variables if v.name in "XAbcu"]
    wrt = present[seed % len(present)]
    result = derive(text, wrt, kind=kind)
    report = result.check()
    assert report.ok, f"{text} wrt {wrt}: {result.text}\n{report}"
