"""Declarations that change a result (issue 14): spd, diagonal, orthogonal, stochastic rows (and
probability vectors), in the three dialects; each used by the simplifier where it holds, its
random inputs drawn with the structure, and what cannot be derived over it refused."""

from __future__ import annotations

import numpy as np
import pytest

from matcalc import MatcalcError, UnsupportedError, derive
from matcalc.evaluate import assign_sizes, random_inputs
from matcalc.reader import parse

DIALECTS = [
    ("D ∈ ℝ^{n×n} diagonal; tr(AD)", "D: n x n diagonal; tr(A*D)",
     r"D \in \mathbb{R}^{n \times n} (diagonal); \operatorname{tr}(A D)", "D", "A ∘ I"),
    ("S ∈ 𝕊^n spd; logdet(S)", "S: n x n spd; logdet(S)",
     r"S \in \mathbb{S}^n (spd); \log\det S", "S", "S⁻¹"),
    ("Q ∈ ℝ^{n×k} orthogonal; ‖Qx − b‖₂²", "Q: n x k orthogonal; norm2(Q*x - b)^2",
     r"Q \in \mathbb{R}^{n \times k} (orthogonal); \|Q x - b\|_2^2", "x", "2(x − Qᵀb)"),
    ("Y ∈ ℝ^{n×k} stochastic; −sum(Y ∘ logsoftmax(Z))",
     "Y: n x k stochastic; -sum(Y .* logsoftmax(Z))",
     (r"Y \in \mathbb{R}^{n \times k} (stochastic); -\operatorname{sum}(Y \circ "
      r"\operatorname{logsoftmax}(Z))"), "Z", "softmax(Z) − Y"),
]


@pytest.mark.parametrize("unicode, ascii_, latex, wrt, gradient", DIALECTS,
                         ids=[row[0] for row in DIALECTS])
def test_every_dialect(unicode, ascii_, latex, wrt, gradient):
    assert len({parse(t).result for t in (unicode, ascii_, latex)}) == 1
    for text in (unicode, ascii_, latex):
        r = derive(text, wrt)
        assert r.text.splitlines()[0].startswith(f"∂f/∂{wrt} = {gradient}    ")
        assert r.check().ok, str(r.check())


def test_soft_labels_simplify_like_one_hot_ones():
    """Softmax cross-entropy: with labels whose rows sum to 1 the gradient is softmax(Z) − Y;
    undeclared, it keeps the row sums."""
    assert derive("Y ∈ ℝ^{n×k} stochastic; −sum(Y ∘ logsoftmax(XW))", "W").text.startswith(
        "∂f/∂W = Xᵀ(softmax(XW) − Y)")
    assert derive("Y ∈ ℝ^{n×k}; Z ∈ ℝ^{n×k}; −sum(Y ∘ logsoftmax(Z))", "Z").text.startswith(
        "∂f/∂Z = softmax(Z) ∘ (Y𝟏𝟏ᵀ) − Y")
    # a one-hot vector sums to 1 as well (it was drawn as all ones, and sum(y) stayed)
    assert derive("y ∈ ℝ^n onehot; −yᵀlogsoftmax(z)", "z").text.startswith(
        "∂f/∂z = softmax(z) − y")
    assert derive("y ∈ ℝ^n onehot; −yᵀlogsoftmax(z)", "z").check().ok


@pytest.mark.parametrize("text, vec", [
    ("u ∈ ℝ^k probability; x: n; sum(u)*x", "x𝟏ᵀ"),
    ("u ∈ ℝ^k probability; sum(u)*u", "u𝟏ᵀ + I"),
    ("u ∈ ℝ^k probability; V ∈ ℝ^{n×m}; V + sum(uᵀ)", None)])
def test_a_jacobian_is_the_unstructured_one_where_a_variable_promises_a_sum(text, vec):
    """The Jacobian of a probability vector's sum(u) is 𝟏ᵀ, as its gradient is 𝟏 (the
    unstructured derivative, docs/language.md): simplified before it was differentiated,
    sum(u)x read sum(u) = 1 and had the Jacobian 0 (random compositions, seeds 7100299 and
    7100683), while its map form was right."""
    r = derive(text, "u", kind="jacobian")
    if vec:
        assert r.text.startswith(f"∂F/∂u = {vec}    "), r.text
    report = r.check()
    assert report.ok, str(report)


def test_random_inputs_keep_the_structure():
    program = parse("S ∈ 𝕊^n spd; D ∈ ℝ^{n×n} diagonal; Q ∈ ℝ^{m×k} orthogonal; "
                    "Y ∈ ℝ^{m×n} stochastic; p ∈ ℝ^k probability; tr(SD) + sum(QᵀY) + sum(p)")
    sizes = assign_sizes([program.result])
    env = random_inputs(program.result, program.variables, sizes, np.random.default_rng(0))
    s, d, q, y, p = (env[name] for name in "SDQYp")
    assert np.allclose(s, s.T) and np.linalg.eigvalsh(s).min() > 0
    assert np.allclose(d, np.diag(np.diag(d)))
    assert q.shape[0] >= q.shape[1] and np.allclose(q.T @ q, np.eye(q.shape[1]))
    assert (y > 0).all() and np.allclose(y.sum(axis=1), 1) and np.isclose(p.sum(), 1)


def test_the_check_fails_a_wrong_diagonal_gradient():
    """The diagonal gradient is checked along diagonal directions, and a wrong diagonal fails."""
    r = derive("D ∈ ℝ^{n×n} diagonal; tr(AD)", "D")
    (d,) = r.derivatives
    d.expr = parse("Aᵀ + I", {"A": "n x n"}).result
    assert not r.check().ok


def test_structures_that_are_refused():
    with pytest.raises(UnsupportedError, match="Hessian with respect to Q"):
        derive("Q ∈ ℝ^{n×k} orthogonal; ‖QX − B‖_F²", "Q", kind="hessian")
    # ∇f = 2Y𝟏𝟏ᵀ read as 2𝟏𝟏ᵀ (Y𝟏 = 𝟏) printed H = 0, not the Hessian of ‖Y𝟏‖² over matrices
    with pytest.raises(UnsupportedError, match="Hessian with respect to Y"):
        derive("Y ∈ ℝ^{n×k} onehot; ‖Y𝟏‖²", "Y", kind="hessian")
    with pytest.raises(MatcalcError, match="fewer rows than columns"):
        parse("Q ∈ ℝ^{3×4} orthogonal; Qx")
    with pytest.raises(MatcalcError, match="must be square"):
        parse("D: n x m diagonal; tr(D)")


SYMMETRIC_NOTES = [
    ("xᵀAx", "x", "A is symmetric (declare A ∈ 𝕊^n)", "2Ax"),              # Cookbook (81)
    ("½xᵀAx − bᵀx + c", "x", "A is symmetric (declare A ∈ 𝕊^n)", "Ax − b"),
    ("−½ log det Σ − ½(x − μ)ᵀΣ⁻¹(x − μ)", "μ", "Σ is symmetric (declare Σ ∈ 𝕊^n)",
     "Σ⁻¹(x − μ)"),                                                         # a covariance
    ("tr(XᵀAXB)", "X", "A and B are symmetric (declare A ∈ 𝕊^n; B ∈ 𝕊^m)", "2AXB"),
]


@pytest.mark.parametrize("text, wrt, which, form", SYMMETRIC_NOTES,
                         ids=[row[0] for row in SYMMETRIC_NOTES])
def test_matrices_met_with_their_transposes_get_their_symmetric_form_in_a_note(text, wrt, which,
                                                                             form):
    """(A + Aᵀ)x is right for any A, but a covariance or a Hessian is symmetric: a note gives
    the gradient at symmetric values, a declaration away; it is the gradient's value there."""
    from matcalc.evaluate import evaluate
    result = derive(text, wrt)
    assert f"if {which}, ∂f/∂{wrt} = {form}" in result.notes
    variables = {v.name: v for v in result.program.variables}
    read = parse(form, {n: "x".join(map(str, v.shape)) for n, v in variables.items()
                        if n in form}).result
    (d,) = result.derivatives
    sizes = assign_sizes([d.expr])
    env = random_inputs(d.expr, list(variables.values()), sizes, np.random.default_rng(7))
    for name in which.partition(" is")[0].partition(" are")[0].replace(" and", ",").split(", "):
        env[name] = env[name] + env[name].T             # a symmetric value
    assert np.allclose(evaluate(read, env, sizes), evaluate(d.expr, env, sizes))


def test_no_symmetric_note_where_it_would_not_shorten_or_was_declared():
    for text, wrt in (("‖AX‖_F²", "X"), ("A ∈ ℝ^{n×n}; xᵀAx", "x"), ("A ∈ 𝕊^n; xᵀAx", "x"),
                      ("tr(AXAᵀ)", "X"), ("det(XXXXᵀAX)", "A")):      # X⁴AX: not a shorter sum
        assert not any("is symmetric" in n for n in derive(text, wrt).notes), text
