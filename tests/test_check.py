"""The numerical check (issue 10): it verifies the generated NumPy as well as the symbolic results
(and fails on a wrong one of either), probes directions instead of forming dense Jacobians, runs at
the seed's declared sizes within its memory budget, and refuses sizes it cannot afford."""

from __future__ import annotations

import re
import tracemalloc

import numpy as np
import pytest

from matcalc import MatcalcError, derive
from matcalc.api import Result
from matcalc.cli import main
from matcalc.evaluate import (BUDGET, Evaluator, TooLarge, evaluate, extrapolated, random_inputs,
                              require_budget)
from matcalc.ir import (Add, Commutation, Diag, Identity, Kron, MatMul, Num, Transpose, Var, Vec,
                        Zero)
from matcalc.printers import to_text
from matcalc.reader import parse

CASES = {
    "gradient": ("‖XWᵀ‖_F²", "W", "gradient", ["grad_W"]),
    "jacobian": ("σ(XWᵀ)", "X", "jacobian", ["jac_X", "vjp_X"]),
    "hessian": ("sum(log(1 + exp(Xw)) − y ∘ Xw)", "w", "hessian", ["hess_w", "hvp_w"]),
}


def _lines(report) -> dict:
    return {line.form: line for s in report.sections for line in s.lines}


def _failed(report) -> set:
    return {form for form, line in _lines(report).items()
            if line.error is not None and line.error > report.tolerance}


def _scaled_return(source: str, function: str, factor: str = "1.01 * ") -> str:
    """The source with `function`'s return value scaled (its first returned item)."""
    head = source.index(f"def {function}(")
    ret = source.index("    return ", head) + len("    return ")
    return source[:ret] + factor + source[ret:]


@pytest.mark.parametrize("case", CASES)
def test_check_passes_every_form(case):
    text, wrt, kind, functions = CASES[case]
    report = derive(text, wrt, kind=kind).check()
    assert report.ok, str(report)
    forms = _lines(report)
    assert all(line.error is not None for line in forms.values())   # every form was run
    assert {f"NumPy {name}" for name in functions} <= {f.split(" vec")[0] for f in forms}
    assert any(f.startswith("symbolic") for f in forms)
    assert "largest relative error" in str(report)


@pytest.mark.parametrize("text, wrt, kind", [
    ("W₁ ∈ ℝ^{m×n}; Σ ∈ ℝ^{m×p}; G ∈ ℝ^{p×m}; sin(300W₁ ⊘ softplus(ΣGW₁))", "G", "jacobian"),
    ("x ∈ ℝ^n; sum(sin(400x ∘ x))", "x", "hessian"),
])
def test_check_passes_a_function_that_bends_sharply(text, wrt, kind):
    """A right result of a sharply bending function (random case 187: sin(75·W₁ ⊘ …)) failed
    the check at 1e-5: one central difference at h = 1e-6 is off by h²f‴/6. Extrapolated, and
    with the step halved while the estimates converge, the differences are right to 1e-9."""
    report = derive(text, wrt, kind=kind).check()
    assert report.ok and report.largest < 1e-8, str(report)


def test_check_draws_a_point_where_f_is_finite_around_it():
    """logdet(expm(AᵀA + I)) = tr(AᵀA) + n: at the first point drawn (random case 101028) expm
    is at the edge of overflow, f is finite there and −∞ a step away, and the right gradient
    was failed as not finite. The point is drawn again until f is finite around it."""
    report = derive("Z: nxm; W: p x n; beta: scalar; "
                    "logdet(expm((beta*(W @ (Z + beta)))'*(beta*(W @ (Z + beta))) + eye))",
                    "beta").check()
    assert report.ok, str(report)


@pytest.mark.parametrize("case, function", [(c, f) for c in CASES for f in CASES[c][3]])
def test_check_catches_wrong_generated_code(case, function, monkeypatch):
    """A generated function 1% off fails the check, and only its line fails."""
    text, wrt, kind, _ = CASES[case]
    result = derive(text, wrt, kind=kind)
    wrong = _scaled_return(result.numpy, function)
    monkeypatch.setattr(Result, "numpy", property(lambda self: wrong))
    report = result.check()
    assert not report.ok
    assert {f.split(" vec")[0] for f in _failed(report)} == {f"NumPy {function}"}


def test_check_catches_a_wrong_value_of_with_value(monkeypatch):
    result = derive("‖XWᵀ‖_F²", "W")
    wrong = _scaled_return(result.numpy_with_value(), "grad_W")   # scales the value only
    monkeypatch.setattr(Result, "numpy_with_value", lambda self: wrong)
    report = result.check()
    assert _failed(report) == {"NumPy grad_W with value"}


@pytest.mark.parametrize("case, field, failing", [
    ("gradient", "expr", "symbolic ⟨∂f/∂W, V⟩"),
    ("jacobian", "expr", "symbolic vec form J vec(V)"),
    ("jacobian", "map_expr", "symbolic map form ⟨G ↦ …, V⟩"),
    ("hessian", "gradient", "symbolic ⟨∇f, V⟩"),
    ("hessian", "expr", "symbolic vec form H vec(V)"),
    ("hessian", "map_expr", "symbolic Hessian–vector product d(∇f)[V]"),
])
def test_check_catches_a_wrong_symbolic_result(case, field, failing, monkeypatch):
    """A symbolic form 1% off fails the check. The generated code, made from the right forms
    before the change, still passes (unless the wrong form is ∇f, which the Hessian's forms are
    differenced from)."""
    text, wrt, kind, _ = CASES[case]
    result = derive(text, wrt, kind=kind)
    code, valued = result.numpy, result.numpy_with_value()
    monkeypatch.setattr(Result, "numpy", property(lambda self: code))
    monkeypatch.setattr(Result, "numpy_with_value", lambda self: valued)
    (d,) = result.derivatives
    right = getattr(d, field)
    setattr(d, field, Add(right, MatMul(Num("0.01"), right)))
    report = result.check()
    assert failing in _failed(report)
    if field != "gradient":
        assert _failed(report) == {failing}


@pytest.mark.parametrize("source, reason", [
    ("def grad_W(X, W):\n    raise ValueError('broken')\n", "raised ValueError: broken"),
    ("def grad_W(X, W:\n", "the generated code does not run: SyntaxError"),
    ("import numpy as np\ndef grad_W(X, W):\n    return np.zeros((1, 1))\n",
     "grad_W returned shape (1, 1), not"),
    ("def grad_X(X, W):\n    return X\n", "the code has no function grad_W"),
])
def test_generated_code_that_does_not_keep_its_contract_fails(source, reason, monkeypatch):
    result = derive("‖XWᵀ‖_F²", "W")
    monkeypatch.setattr(Result, "numpy", property(lambda self: source))
    report = result.check()
    line = _lines(report)["NumPy grad_W"]
    assert line.error == np.inf and line.reason.startswith(reason)
    assert not report.ok and "FAILED" in str(report)


def test_seed_example_checks_at_its_declared_sizes():
    """Issue 10, item 8: the README's seed checks without forming W ⊗ I (32768×65536): the vec
    form is applied factor by factor, jac_X (whose result alone is 16 GiB) is reported as not
    run, and the map form and vjp_X are checked at the full size, within the memory budget."""
    result = derive("XWᵀ", "X", {"X": "64x1024", "W": "512x1024"}, kind="jacobian")
    tracemalloc.start()
    try:
        report = result.check()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < BUDGET
    assert report.ok, str(report)
    forms = _lines(report)
    assert forms["symbolic vec form J vec(V)"].error is not None
    assert forms["NumPy vjp_X"].error is not None
    assert forms["NumPy jac_X vec(V)"].error is None
    assert "16 GiB" in forms["NumPy jac_X vec(V)"].reason
    assert "at the declared sizes" in str(report) and "(1 not run)" in str(report)


def test_seed_example_check_on_the_command_line(capsys):
    assert main(["XWᵀ", "--wrt", "X", "--jacobian", "--shape", "X=64x1024", "--shape",
                 "W=512x1024", "--check"]) == 0
    out = capsys.readouterr().out
    assert "NumPy jac_X vec(V)" in out and "not run" in out and out.rstrip().endswith("ok")


def test_huge_declared_shapes_are_refused_not_allocated(capsys):
    """λ‖X‖ at X = 100000×100000 would need 74.5 GiB: a MatcalcError with a hint, before any
    array is allocated; with symbolic sizes the same check runs at small ones."""
    result = derive("λ‖X‖", "λ", {"X": "100000x100000"})
    tracemalloc.start()
    try:
        with pytest.raises(MatcalcError) as info:
            result.check()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2**24
    assert "74.5 GiB" in info.value.message and "symbols" in info.value.hint
    assert derive("λ‖X‖", "λ").check().ok
    assert main(["λ‖X‖", "--wrt", "λ", "--shape", "X=100000x100000", "--check"]) == 2
    assert "74.5 GiB" in capsys.readouterr().err


A, B = Var("A", (2, 3)), Var("B", (4, 5))
C, S = Var("C", (3, 4)), Var("S", (6, 6))
STRUCTURED = [
    Kron(A, B),
    Transpose(Kron(A, B)),
    Commutation(2, 3),
    Transpose(Commutation(2, 3)),
    MatMul(Num(-2), Kron(A, Identity(3)), Commutation(3, 3)),
    Add(Kron(Identity(2), C), Kron(C, Identity(2))),
    Diag(Vec(C)),
    Transpose(MatMul(Kron(A, B), Diag(Vec(Var("D", (5, 3)))))),
    MatMul(Vec(C), Transpose(Vec(C))),
    Add(Zero(6, 6), S, Transpose(MatMul(S, Commutation(2, 3)))),
]


@pytest.mark.parametrize("e", STRUCTURED, ids=[repr(e)[:50] for e in STRUCTURED])
def test_apply_equals_the_dense_product(e):
    """(A ⊗ B) vec(V) = vec(B V Aᵀ), K vec(V) = vec(Vᵀ), Diag(v) m = v ∘ m, and transposes
    moved onto the factors: the same as forming the matrix."""
    rng = np.random.default_rng(0)
    names = {n.name: n for n in _vars(e)}
    env = {name: rng.standard_normal(v.shape) for name, v in names.items()}
    ev = Evaluator(env, {})
    m = rng.standard_normal((ev(e).shape[1], 3))
    assert np.allclose(ev.apply(e, m), evaluate(e, env, {}) @ m)


def _vars(e):
    if isinstance(e, Var):
        yield e
    for a in e.args:
        yield from _vars(a)


def test_budget_names_the_largest_array():
    with pytest.raises(TooLarge, match=re.escape("X, is 100000×100000")):
        require_budget([Var("X", (100000, 100000))], {}, "this")
    require_budget([Var("X", ("n", "n"))], {"n": 5}, "this")


@pytest.mark.parametrize("kind", ["gradient", "hessian"])
def test_cancelling_terms_are_compared_on_their_own_scale(kind):
    """f is 0 up to rounding, computed from terms near 10⁶, and its gradient is 0 written as
    the mean of a centred matrix: the differences' noise scales with those terms, not with f
    (a floor from |f| alone failed this right result by 0.26)."""
    text = "X, A ∈ ℝ^{n×m}; sum(G ∘ (var(1000A − var(X, 1), 1) − var(1000A, 1)))"
    report = derive(text, "X", kind=kind).check()
    assert report.ok, str(report)


@pytest.mark.parametrize("text, wrt, kind", [
    ("eps, float: scalar; t2: n x m; G: m x n; (float*eps*t2)*G", "t2", "jacobian"),
    ("value, np: scalar; X: n x m; sum(np*value*X)", "X", "gradient"),
    ("ValueError: n x n; X: n x n; tr(ValueError*X*X)", "X", "hessian"),
])
def test_check_calls_the_code_by_the_names_it_gives_its_parameters(text, wrt, kind):
    """A variable named like something the code reads (float, np, ValueError) is renamed in the
    code (float_); the check must pass the value under that name, not fail a right result."""
    report = derive(text, wrt, kind=kind).check()
    assert report.ok, str(report)


def test_check_verifies_the_one_pass_grads(monkeypatch):
    """With several variables the code has grads (every gradient in one pass): the check runs it
    for each gradient, and a grads 1% off in its second gradient fails that line only."""
    result = derive("‖XWᵀ − Y‖_F² + λ‖W‖_F²", ["X", "W"])
    report = result.check()
    assert report.ok, str(report)
    assert {"NumPy grads[∂f/∂X]", "NumPy grads[∂f/∂W]"} <= set(_lines(report))
    source = result.numpy
    head = source.index("def grads(")
    ret = source.index("    return ", head) + len("    return ")
    end = source.index("\n", ret)
    first, second = source[ret:end].split(", ")
    wrong = source[:ret] + f"{first}, 1.01 * {second}" + source[end:]
    monkeypatch.setattr(Result, "numpy", property(lambda self: wrong))
    assert _failed(result.check()) == {"NumPy grads[∂f/∂W]"}


@pytest.mark.parametrize("text", ["sum(log(b − Ax))", "log(1 − xᵀx)", "log(xᵀx − 10)",
                                  "sum(log(b − Ax)) + sum(log(x))"])
def test_check_draws_inputs_inside_the_functions_domain(text):
    """The log barrier's b − Ax > 0 holds for no single variable: the check tries each draw at a
    few scales until f is finite there, instead of failing a right gradient on NaNs."""
    report = derive(text, "x").check()
    assert report.ok, str(report)


def test_a_symmetric_variable_is_probed_along_symmetric_directions():
    """f of a symmetric S is defined on the symmetric matrices only, so is its Hessian: the map
    V ↦ H(Vᵀ) is the same Hessian there. The check compared it along any V with the derivative
    of the printed ∇f (an extension off the symmetric matrices) and failed it; along symmetric
    directions it passes, and a wrong Hessian still fails."""
    from matcalc.ir import substitute
    r = derive("S ∈ 𝕊^n; tr(ASAS) + xᵀS³y", "S", kind="hessian")
    d = r.derivatives[0]
    right, wrong = (substitute(d.map_expr, {d.map_var: e}) for e in
                    (Transpose(d.map_var), MatMul(Num(2), d.map_var)))
    symbol = "symbolic Hessian–vector product"
    for expr, ok in ((right, True), (wrong, False)):
        d.map_expr = expr
        line = next(line for form, line in _lines(r.check()).items() if form.startswith(symbol))
        assert (line.error <= 1e-6) == ok, (to_text(expr), line)


def test_a_draw_where_an_inverse_is_singular_is_drawn_again():
    """(10¹⁴xxᵀ + I)⁻¹ is singular to working precision at the first draw (condition number
    4·10¹³) and not at a smaller scale: the check tries the next draw, as it does where f is not
    finite, rather than end in "has no value there"."""
    r = derive("x ∈ ℝ^n; A ∈ ℝ^{n×n}; tr((100000000000000 xxᵀ + I)⁻¹A)", "x")
    assert r.check().ok


@pytest.mark.parametrize("text, wrt", [
    # f finite at the first draw, its gradient's inverse singular to working precision there
    ("α ∈ ℝ; X̂ ∈ ℝ^{4×3} stochastic; value ∈ ℝ^{3×3}; "
     "tr(logm((X̂ expm(expm(value)·(α value)))ᵀ(X̂ expm(expm(value)·(α value))) + I))", "value"),
    ("W ∈ ℝ^{2×2} diagonal; C, Σ ∈ ℝ^{2×2}; ε ∈ ℝ; "
     "tr logm(expm(C + Σ + (C + Σ)ᵀ) + εexpm(expm(W)) + W)", "W"),
    # values of 10²⁵ on the way: logm and the differences kept few digits
    ("A ∈ 𝕊^{n×n}; C ∈ ℝ^{n×n}; tr(expm(expm(logm(C)) ⊙ logm(expm(expm(A)))))", "A"),
    # logm of expm(S) whose eigenvalues e⁻³⁰ and e⁶ part by more than the digits hold: the log
    # of the smallest had none right (focus seed 1400763)
    ("W: k x k symmetric; gradX: m x m diagonal; V: pxp symmetric; C: n x n symmetric; "
     "X: p x m; Lambda: m x n; x: n probability; B: n x p; "
     "tr(logm(expm((Lambda + Lambda + gradX @ Lambda)*(C*x*lambda_min(W))*(lambda_max(V)*"
     "(x.'*B*X)) + ((Lambda + Lambda + gradX @ Lambda)*(C*x*lambda_min(W))*(lambda_max(V)*"
     "(x.'*B*X)))')))", "W"),
])
def test_the_check_draws_where_the_gradient_has_a_value_of_moderate_size(text, wrt):
    """Right gradients of nested matrix exponentials and logarithms were reported wrong at a
    draw where f was finite but its gradient had no value, or where values of 10²⁵ met on the
    way left the differences few digits (random compositions, focus seeds 1200141, 1201707,
    1201482): the check draws where the gradient has a value and the values stay moderate."""
    assert derive(text, wrt).check().ok


# tr(logm(expm(M))) = tr(M) exactly, but f is evaluated through expm of entries near 10 and its
# logarithm: rounding makes the differences wander by ~1e-5 of the floor (random composition,
# focus seed 1401996), more than the tolerance
NOISY = ("V: n x p; rho: scalar; X: p x n; trace(logm(expm(X*(rho*V) + (X*(rho*V))')))", "rho")


def test_an_error_within_the_resolution_of_the_differences_is_inconclusive(capsys):
    """The differences of logm∘expm resolve less than the tolerance: the right gradient is
    reported inconclusive, with the resolution, and exit status 4 (it was failed, exit 1)."""
    report = derive(*NOISY).check()
    assert report.status == "inconclusive" and not report.ok and not report.failed
    lines = list(_lines(report).values())
    assert all(line.error > report.tolerance and line.resolution >= line.error for line in
               lines if line.form != "NumPy grad_rho with value")
    assert "INCONCLUSIVE" in str(report) and "resolve only" in str(report)
    text, wrt = NOISY
    assert main([text, "--wrt", wrt, "--check"]) == 4
    assert "INCONCLUSIVE" in capsys.readouterr().out


@pytest.mark.parametrize("factor", ["0.99", "1.01", "0.999"])
def test_a_wrong_gradient_still_fails_where_the_differences_are_noisy(factor, monkeypatch):
    """The same noisy function with its gradient 1% (and 0.1%) off: the error is beyond the
    resolution, and the check fails, the symbolic form and the generated code alike."""
    result = derive(*NOISY)
    (d,) = result.derivatives
    d.expr = MatMul(Num(factor), d.expr)
    wrong = _scaled_return(result.numpy, "grad_rho", f"{factor} * ")
    monkeypatch.setattr(Result, "numpy", property(lambda self: wrong))
    report = result.check()
    assert report.status == "failed", str(report)
    assert {"symbolic ⟨∂f/∂ρ, V⟩", "NumPy grad_rho"} <= {
        form for form, line in _lines(report).items()
        if line.verdict(report.tolerance) == "failed"}


def test_where_f_has_no_finite_value_at_any_point_tried_the_check_is_inconclusive(capsys):
    """logm of expm(M) whose eigenvalues spread over e³⁰ has no digit left in its smallest
    eigenvalues, at every draw (W stochastic is not scaled down, and sum(expm(X̂)^∘2) ≥ p):
    f's own domain, not the derivative's fault. Nothing is compared, and the check says so
    (it failed, with LinAlgError from the generated value; focus seed 1600701)."""
    text = ("W ∈ ℝ^{m×n} (stochastic); X̂ ∈ ℝ^{p×p}; "
            "tr(logm(expm((sum(expm(X̂) ∘ expm(X̂))W)ᵀ(sum(expm(X̂) ∘ expm(X̂))W) + I)))")
    report = derive(text, "X̂").check()
    assert report.status == "inconclusive", str(report)
    assert all(line.error is None and line.reason.startswith("f has no finite value")
               for line in _lines(report).values())
    assert main([text, "--wrt", "X̂", "--check"]) == 4
    assert "INCONCLUSIVE: f has no finite value" in capsys.readouterr().out


@pytest.mark.parametrize("text, wrt", [
    ("w ∈ ℝ^m; A ∈ ℝ^{m×m}; tr(A logm(Diag(w)))", "w"),
    ("C ∈ ℝ^{m×k}; X̂ ∈ ℝ^{m×p}; B ∈ ℝ^{k×n} stochastic; value ∈ ℝ; gradX ∈ ℝ^{k×m}; "
     "z, w ∈ ℝ^m; X ∈ ℝ^{n×m}; L = ‖expm(gradX @ logsoftmax(C)) (value*BX·X̂) ⊙ (zᵀ ⊘ w^T )"
     "*logm(Diag(w))*X̂‖_2", "w"),
])
def test_a_vector_under_logm_is_drawn_positive(text, wrt):
    """logm(Diag(w)) has a real value for w > 0 only: the check drew w with negative entries,
    evaluated logm there as log|w| (the real part of the complex logarithm) and failed the
    right gradient (random composition, focus seed 9101844). A vector under logm, an inverse
    or a determinant is drawn positive."""
    report = derive(text, wrt).check()
    assert report.ok, str(report)


def test_where_logm_has_no_real_value_anywhere_the_check_is_inconclusive():
    """−I − xxᵀ has only negative eigenvalues: f has no real value at any draw, and the check
    says so rather than fail the gradient of log|·| it computed there."""
    report = derive("x ∈ ℝ^n; A ∈ ℝ^{n×n}; tr(A logm(−I − xxᵀ))", "x").check()
    assert report.status == "inconclusive", str(report)


# W orthogonal: W² + (W²)ᵀ has eigenvalues 2cos θ in pairs, so its smallest is repeated at
# every draw and λ_min has no derivative there (focus seed 5400604: --check said FAILED)
KINKED = "W ∈ ℝ^{4×4} orthogonal; τ ∈ ℝ; λ_min(W(τW) + (W(τW))ᵀ)"


@pytest.mark.parametrize("kind", ["gradient", "jacobian"])
def test_where_every_point_tried_is_at_a_kink_the_check_is_inconclusive(kind, capsys):
    """The differences of f at a repeated eigenvalue are one-sided, no formula can match them:
    the check says inconclusive, the lines and the summary say why, exit status 4."""
    report = derive(KINKED, "W", kind=kind).check()
    assert report.status == "inconclusive", str(report)
    assert all(s.at_kink for s in report.sections)
    assert any(line.error > report.tolerance for line in _lines(report).values())
    assert "f may have no derivative here" in str(report)
    assert "INCONCLUSIVE: at every point tried f may have no derivative" in str(report)
    args = [KINKED, "--wrt", "W", "--check"] + (["--jacobian"] if kind == "jacobian" else [])
    assert main(args) == 4


def test_at_a_kink_a_form_that_does_not_run_still_fails():
    """Only a number compared at a kink is inconclusive: code that fails to run fails."""
    from matcalc.check import Line
    assert Line("f", 0.5).verdict(1e-6, at_kink=True) == "inconclusive"
    assert Line("f", 0.5).verdict(1e-6) == "failed"
    assert Line("f", float("inf"), "raised").verdict(1e-6, at_kink=True) == "failed"


def test_a_gradient_that_is_not_a_number_fails(monkeypatch):
    """A nan from the generated code fails its line (max() over the probes passes over a nan
    that comes after a number)."""
    result = derive("‖XWᵀ‖_F²", "W")
    wrong = _scaled_return(result.numpy, "grad_W", "(1 + 0 * np.where(X[0, 0] > -1e9, "
                           "np.nan, 0)) * ")
    monkeypatch.setattr(Result, "numpy", property(lambda self: wrong))
    report = result.check()
    assert report.failed and _lines(report)["NumPy grad_W"].error == np.inf, str(report)


def test_a_defined_name_held_as_the_variable_is_symmetric_where_f_needs_it():
    """λ_max(Y) of Y = expm(expm(A) + expm(A)ᵀ), with respect to Y: f is defined for a
    symmetric Y only, as the definition's values are, so Y is held as a symmetric variable
    and the note says so. The check drew an unsymmetric Y and failed the generated code (which
    reads Y by eigh) 43% off (focus seed 3700161); the gradient qqᵀ + ½(B + Bᵀ) is taken in the
    symmetric matrices. A defined name f does not need symmetric stays unstructured."""
    text = "A ∈ 𝕊^{m×m}; B ∈ ℝ^{m×m}; Y := expm(expm(A) + expm(A)ᵀ); value = λ_max(Y) + tr(B Y)"
    result = derive(text, "Y")
    (d,) = result.derivatives
    assert d.wrt.structure == "symmetric"
    assert any("held as an independent symmetric variable" in n for n in d.notes)
    report = result.check()
    assert report.ok, str(report)
    # read back with Y declared symmetric, the printed gradient is the one checked
    read = derive("A ∈ 𝕊^{m×m}; B ∈ ℝ^{m×m}; Y ∈ 𝕊^{m×m}; λ_max(Y) + tr(B Y)", "Y")
    assert to_text(read.derivatives[0].expr) == to_text(d.expr)
    (held,) = derive("X ∈ ℝ^{n×n}; A ∈ ℝ^{n×n}; W = XXᵀ; tr(AW)", "W").derivatives
    assert held.wrt.structure == "" and to_text(held.expr) == "Aᵀ"


# cos(‖·‖₁²) of a square near 10⁵ at the point drawn for row G: f bends on a scale of 10⁻⁶, the
# first step is 10⁻⁴ (random composition, focus seed 4302113)
SHARP = ("W1: n x n orthogonal; w: m; G: pxp symmetric; b: n; A: m x m symmetric; "
         "cos(norm1(var(W1*b*(w'*A), 1) .* tr(G))^2)")


def test_a_difference_is_taken_at_a_step_short_enough_that_its_estimates_agree():
    """The halving of the step stopped at the first estimates that moved apart, while they had not
    yet agreed to a digit (a step longer than the scale on which f bends): the block ∂²f/∂G∂Aᵀ,
    right, was FAILED at 1.3. The step is halved until the estimates agree, and the spread is
    taken from there."""
    report = derive(SHARP, ["A", "G"], kind="hessian").check()
    assert report.ok and report.largest < 1e-7, str(report)


def test_two_estimates_that_agree_by_chance_do_not_settle_the_difference():
    """Where rounding dominates, two successive extrapolations may agree by chance while both
    are off: their range (the spread) was 4e-9 and the estimate 2e-8 off, and a right gradient
    was judged wrong beyond the spread (random composition, focus seed 8810040). A difference
    settles on three estimates at least, and its spread covers the error of the one kept."""
    truth, noise = 1.0, {1e-3: 1e-8, 5e-4: 1e-8, 2.5e-4: 1e-8, 1.25e-4: -1e-8}

    def central(h):                      # f linear: the differences are truth plus rounding
        return np.array([truth + noise.get(h, 0.0)])

    best, spread = extrapolated(central, 1e-3, 4, settled=1e-9)
    assert abs(best[0] - truth) <= spread[0], (best, spread)


def test_estimates_that_agree_at_too_long_a_step_do_not_settle_the_difference():
    """At steps longer than the scale on which f bends, successive extrapolations may agree,
    even closer and closer, on a wrong value; at a shorter step they leave it by far more than
    rounding can (random composition 9974661: cos(s) with s′ of 10⁶, three estimates agreed
    to 0.1% on 35,836 where the derivative is −968,746, and a right gradient was FAILED). The
    search goes on to where they agree again."""
    truth, wrong = -968746.0, 35836.0

    def central(h):                      # a plateau of the long steps, the truth below 5e-6
        return np.array([wrong + 1e3 * h if h >= 5e-6 else truth])

    best, spread = extrapolated(central, 1e-4, 6, scale=5e6)
    assert best[0] == truth and spread[0] == 0.0, (best, spread)


# random composition 9974661 (--check said FAILED where the gradient is right)
SHARP_COSINE = (
    r"W_{1} \in \mathbb{R}^{n \times p}; V \in \mathbb{R}^{p \times m}; u, z \in \mathbb{R}^{m}; "
    r"t_{1}, w \in \mathbb{R}^{n}; Z \in \mathbb{R}^{n \times m}; \gamma \in \mathbb{R}; "
    r"\cos\left(\operatorname{sum}\left(W_{1} \cdot V \cdot (u + z) (\mathbf{1}^T z \cdot "
    r"\left(t_{1}^{\top} \circ w^{T}\right)) \odot \operatorname{expm}\left(\gamma \cdot Z "
    r"\cdot Z^{T} - t_{1}^T\right)\right) \cdot \gamma\right) + \gamma")


def test_a_right_gradient_where_f_oscillates_fast_passes():
    report = derive(SHARP_COSINE, "w").check()
    assert report.ok, str(report)


def test_a_wrong_block_is_caught_where_f_bends_sharply():
    """The same Hessian with the block ∂²f/∂G∂Aᵀ 0.1% off fails (its row G, at the sharp point)."""
    result = derive(SHARP, ["A", "G"], kind="hessian")
    row = result.derivatives[1]
    (a, block), rest = row.blocks[0], row.blocks[1:]
    assert a.name == "A"
    row.blocks = [(a, MatMul(Num("1.001"), block)), *rest]
    report = result.check()
    assert report.status == "failed", str(report)
    assert "symbolic ∂²f/∂vec(G)∂vec(A)ᵀ vec(V)" in {
        form for form, line in _lines(report).items()
        if line.verdict(report.tolerance) == "failed"}


def test_the_entries_under_a_1_norm_are_kinks_the_check_keeps_away_from():
    """‖A‖₁ = Σ|aᵢⱼ| has the kink of |·| at each entry's 0 (its derivative has sign(A)), as
    abs has: the check draws away from it, and notes it where no draw can (it saw none)."""
    from matcalc.evaluate import closest_kink
    (d,) = derive("x: n; norm1(x)", "x").derivatives
    margin, node = closest_kink(d.function, {"x": np.array([[0.5], [-1e-5], [2.0]])}, {"n": 3})
    assert margin == 1e-5 and node == d.function
    report = derive("e: n onehot; a: n; norm1(a ∘ e)", "a").check()
    assert "an entry of a ∘ e is at the kink 0 of |·| in its 1-norm" in str(report), str(report)


@pytest.mark.parametrize("text, symmetric", [
    ("log det(X)", False), ("tr(X⁻¹A)", False), ("tr(logm(X))", False),
    ("X ∈ 𝕊^n; log det(X)", True), ("X: n x n spd; tr(X⁻¹A)", True)])
def test_a_matrix_drawn_invertible_is_not_symmetric_unless_declared_so(text, symmetric):
    """Under an inverse, a determinant or logm a square variable is drawn positive definite
    (I + aaᵀ/n plus a skew part): drawn symmetric, X⁻¹ and X⁻ᵀ had one value, and a gradient
    transposed wrongly (or, from a defect found on the way, missing the factors of a repeated
    block in det(AXAXAXA AXAXAXA B)) passed every check."""
    program = parse(text)
    x = next(v for v in program.variables if v.name == "X")
    env = random_inputs(program.result, program.variables, {"n": 4}, np.random.default_rng(0))
    value = env["X"]
    assert np.allclose(value, value.T) == symmetric
    assert np.all(np.linalg.eigvals(value).real > 0), x
