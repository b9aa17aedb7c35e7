"""Matrix functions (issue 14): expm and logm (not entrywise), their Fréchet derivatives
L_f(A, E) with the adjoint L_f(Aᵀ, ·), so that tr(F(X)) gives f(X)ᵀ and sum(G ∘ expm(X)) a
backward pass; the generated code's expm (Padé) against the evaluator's (Taylor), the Fréchet
derivative by the block-triangular identity against finite differences."""

from __future__ import annotations

import numpy as np
import pytest

from matcalc import UnsupportedError, derive
from matcalc.evaluate import evaluate, random_inputs
from matcalc.ir import Frechet, MatFunc, Transpose, Var
from matcalc.reader import parse


@pytest.mark.parametrize("texts, wrt, gradient", [
    (["tr(expm(X))", r"\operatorname{tr}(\operatorname{expm}(X))"], "X", "expm(X)ᵀ"),
    (["tr(logm(X))", r"\operatorname{tr}(\operatorname{logm}(X))"], "X", "X⁻ᵀ"),
    (["sum(G ∘ expm(X))", "sum(G .* expm(X))",
      r"\operatorname{sum}(G \circ \operatorname{expm}(X))"], "X", "L_exp(Xᵀ, G)"),
])
def test_every_dialect(texts, wrt, gradient):
    assert len({parse(t).result for t in texts}) == 1
    for text in texts:
        r = derive(text, wrt)
        assert r.text.splitlines()[0].startswith(f"∂f/∂{wrt} = {gradient}    ")
        assert r.check().ok, str(r.check())


def test_printed_frechet_derivatives_read_back_in_every_dialect():
    for text in ("L_exp(Xᵀ, G)", "L_exp(X', G)", r"L_{\exp}(X^\top, G)"):
        x, g = Var("X", ("n", "n")), Var("G", ("n", "n"))
        assert parse(text).result == Frechet("expm", Transpose(x), g)


def _generated(name: str):
    """The generated code's helper of that name, as a snippet that uses it defines it."""
    ns: dict = {}
    result = derive("sum(G ∘ expm(X)) + sum(H ∘ logm(Y))", ["X", "Y"])
    exec(result.numpy_with_value(), ns)  # noqa: S102 (f and the gradients: every helper)
    return ns[name]


def test_generated_expm_against_the_evaluator_and_the_spectrum():
    """Padé in the code, Taylor in the check: the two agree, also where scaling and squaring
    is needed; for a symmetric matrix both agree with Q exp(Λ) Qᵀ."""
    expm = _generated("_expm")
    rng = np.random.default_rng(2)
    for scale in (0.1, 1.0, 8.0):
        a = scale * rng.standard_normal((5, 5))
        want = evaluate(MatFunc("expm", Var("A", (5, 5))), {"A": a}, {})
        assert np.allclose(expm(a), want, rtol=1e-10, atol=1e-12 * np.abs(want).max())
    s = rng.standard_normal((4, 4))
    s = 3 * (s + s.T)
    w, q = np.linalg.eigh(s)
    assert np.allclose(expm(s), (q * np.exp(w)) @ q.T, rtol=1e-10)


def test_the_evaluated_logm_has_no_value_on_the_negative_real_axis():
    """A real matrix with an eigenvalue ≤ 0 has no real principal logarithm. The evaluator
    took the real part of the complex one, log|λ|: another function, with another derivative,
    and --check failed the right gradient of tr(A logm(Diag(w))) at a w with a negative entry
    (random composition, focus seed 9101844). For a symmetric argument the eigenvalues are
    taken by eigh: eig gave a repeated −1 as a pair −1 ± 1e-16i, which is not on the axis.
    Off the axis the logarithm keeps its value."""
    rng = np.random.default_rng(0)
    logm = MatFunc("logm", Var("A", (4, 4)))
    for _ in range(100):
        q, _ = np.linalg.qr(rng.standard_normal((4, 4)))
        for spectrum in ([-1.0, -1.0, -1.0, 2.5], [-1.0, -1.0, 0.5, 2.0]):
            a = (q * spectrum) @ q.T
            assert np.all(np.isnan(evaluate(logm, {"A": a}, {}))), spectrum
        spectrum = [0.5, 1.0, 1.0, 2.0]
        assert np.allclose(evaluate(logm, {"A": (q * spectrum) @ q.T}, {}),
                           (q * np.log(spectrum)) @ q.T)


def test_the_generated_logm_has_no_value_on_the_negative_real_axis():
    """The generated logm and its Fréchet derivative, like the evaluator, give NaN where the
    argument has a real eigenvalue ≤ 0: they returned log|w| and its derivative, right for
    another function (the gradient of tr(A logm(Diag(w))) at w = (1, −2, 3) was (1, −0.5, 0.33)
    with no sign that logm has no real value there). Off the axis the value is kept: the
    gradient is diag(A) ⊘ w."""
    ns: dict = {}
    exec(derive("w ∈ ℝ^m; A ∈ ℝ^{m×m}; tr(A logm(Diag(w)))", "w").numpy_with_value(), ns)  # noqa: S102
    a = np.arange(1.0, 10.0).reshape(3, 3)
    for w in ([1.0, -2.0, 3.0], [1.0, 0.0, 3.0]):
        value, grad = ns["grad_w"](a, np.array(w))
        assert np.isnan(value) and np.all(np.isnan(grad)), w
    w = np.array([1.0, 2.0, 3.0])
    value, grad = ns["grad_w"](a, w)
    assert np.isclose(value, np.sum(np.diag(a) * np.log(w)))
    assert np.allclose(grad.ravel(), np.diag(a) / w)
    rng = np.random.default_rng(4)
    q, _ = np.linalg.qr(rng.standard_normal((4, 4)))
    for name, args in (("_logm", ()), ("_logm_frechet", (rng.standard_normal((4, 4)),))):
        assert np.all(np.isnan(_generated(name)((q * [-1.0, 0.5, 1.0, 2.0]) @ q.T, *args)))


def test_generated_frechet_derivatives_against_differences():
    rng = np.random.default_rng(3)
    a, e = rng.standard_normal((4, 4)), rng.standard_normal((4, 4))
    expm, frechet = _generated("_expm"), _generated("_expm_frechet")
    h = 1e-6
    assert np.allclose(frechet(a, e), (expm(a + h * e) - expm(a - h * e)) / (2 * h), atol=1e-7)
    b = rng.standard_normal((4, 4))
    spd = b @ b.T + np.eye(4)
    logm, log_frechet = _generated("_logm"), _generated("_logm_frechet")
    w, q = np.linalg.eigh(spd)
    assert np.allclose(logm(spd), (q * np.log(w)) @ q.T)
    assert np.allclose(log_frechet(spd, e), (logm(spd + h * e) - logm(spd - h * e)) / (2 * h),
                       atol=1e-7)


def test_frechet_derivative_of_a_far_larger_direction():
    """L_exp(A, E) is linear in E: for an E of 10¹²⁰ it is 10¹²⁰ L_exp(A, E/10¹²⁰). Taken as the
    block of expm([[A, E], [0, A]]) as it stood, E set the number of squarings and their
    rounding swamped the block (wrong 100-fold in the gradient of tr(expm(expm(…) ∘ …)) at
    5·10¹²¹, random compositions seed 300975), in the check's evaluation and the code alike."""
    rng = np.random.default_rng(4)
    a, e = 10 * rng.standard_normal((4, 4)), rng.standard_normal((4, 4))
    x, y = Var("A", (4, 4)), Var("E", (4, 4))
    for frechet in (_generated("_expm_frechet"),
                    lambda a, e: evaluate(Frechet("expm", x, y), {"A": a, "E": e}, {})):
        want = 1e120 * frechet(a, e)
        assert np.allclose(frechet(a, 1e120 * e), want, rtol=1e-10, atol=0)
        assert not frechet(a, 0 * e).any()


def test_check_of_nested_matrix_exponentials():
    """The check found right gradients of nested expm wrong (the Fréchet derivatives above)."""
    for text, wrt in [("C ∈ 𝕊^p; λ_max(expm(expm(expm(C)) + expm(expm(C))ᵀ))", "C"),
                      ("G ∈ ℝ^{k×p}; B ∈ ℝ^{p×k}; b ∈ ℝ^k; "
                       "tr(expm(expm(G(B − 𝟏bᵀ) + bbᵀ) ∘ (bbᵀ)))", "G")]:
        assert derive(text, wrt).check().ok


def test_expm_is_never_the_entrywise_exp():
    """exp(X) stays entrywise (its trace has the gradient exp(X) ∘ I), expm(X) is the matrix
    exponential (expm(X)ᵀ)."""
    assert derive("tr(exp(X))", "X").text.startswith("∂f/∂X = exp(X) ∘ I    ")
    assert derive("tr(expm(X))", "X").text.startswith("∂f/∂X = expm(X)ᵀ    ")


def test_the_jacobian_of_expm_is_its_kronecker_form():
    """∂vec(expm(X))/∂vec(X) = K_exp(X) (it was refused: no vec form for L_exp), whose columns
    are the Fréchet derivatives in the directions E_kl, central differences of expm here."""
    from matcalc.evaluate import _expm, evaluate
    result = derive("X ∈ ℝ^{3×3}; expm(X)", "X", kind="jacobian")
    (d,) = result.derivatives
    assert result.text.startswith("∂vec(F)/∂vec(X) = K_exp(X)    (9×9, vec form)")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 3))
    J = evaluate(d.expr, {"X": x}, {})
    for k in range(9):
        e = np.zeros(9)
        e[k] = 1e-6
        e = e.reshape((3, 3), order="F")
        column = (_expm(x + e) - _expm(x - e)) / 2e-6
        assert np.allclose(J[:, k], column.reshape(-1, order="F"), atol=1e-7)
    assert result.check().ok
    # the Hessian of tr(S logm(S)), whose gradient is logm(S) + I, is K_log(S)
    hessian = derive("S ∈ 𝕊^{3} spd; tr(S logm(S))", "S", kind="hessian")
    assert "H = ∂vec(∇f)/∂vec(S) = K_log(S)    (9×9)" in hessian.text.splitlines()
    assert hessian.check().ok


def test_the_second_frechet_derivative():
    """The Hessian of sum(G ∘ expm(X)) was refused (the derivative of L_exp(A, E) in A): its
    Hessian-vector product is the second Fréchet derivative L_exp(Xᵀ, G, Vᵀ), its vec form that
    derivative's Kronecker form; L_exp(A, E, F) against central differences of L_exp(A, E)
    along F, and G : L_exp(A, E, F) = L_exp(Aᵀ, Eᵀ, G) : F."""
    from matcalc.evaluate import _expm_frechet, _frechet2
    result = derive("X ∈ ℝ^{3×3}; sum(G ∘ expm(X))", "X", kind="hessian")
    assert result.text.splitlines()[:3] == [
        "∇f = L_exp(Xᵀ, G)", "H = ∂vec(∇f)/∂vec(X) = K_exp(Xᵀ, G)K_{3,3}    (9×9)",
        "V ↦ L_exp(Xᵀ, G, Vᵀ)    (Hessian-vector product d(∇f)[V])"]
    assert result.check().ok
    rng = np.random.default_rng(1)
    a, e, f, g = (rng.standard_normal((3, 3)) for _ in range(4))
    want = (_expm_frechet(a + 1e-6 * f, e) - _expm_frechet(a - 1e-6 * f, e)) / 2e-6
    assert np.allclose(_frechet2("expm", a, e, f), want, atol=1e-7)
    assert np.isclose(np.sum(g * _frechet2("expm", a, e, f)),
                      np.sum(_frechet2("expm", a.T, e.T, g) * f))
    # of logm, at a positive definite S
    s = a @ a.T + 3 * np.eye(3)
    from matcalc.evaluate import _logm_frechet
    want = (_logm_frechet(s + 1e-6 * f, e) - _logm_frechet(s - 1e-6 * f, e)) / 2e-6
    assert np.allclose(_frechet2("logm", s, e, f), want, atol=1e-7)
    assert derive("S ∈ 𝕊^{3} spd; sum(G ∘ logm(S))", "S", kind="hessian").check().ok


def test_what_is_not_derived_is_refused_clearly():
    with pytest.raises(UnsupportedError, match="third derivative of expm"):
        derive("sum(G ∘ L_exp(X, X, E))", "X")
    with pytest.raises(UnsupportedError, match="derivative of K_exp"):
        derive("sum(G ∘ K_exp(X))", "X")


@pytest.mark.parametrize("text, wrt, first", [
    ("M: n x n; tr(logm(expm(M + Mᵀ)))", "M", "∂f/∂M = 2I    (n×n)"),
    ("rho: scalar; value: m x k onehot; y: k; X_hat: kxm; trace(logm(expm((value .* (y' .* "
     "y.'))*(X_hat .* rho) + ((value .* (y' .* y.'))*(X_hat .* rho))')))", "rho",
     "∂f/∂ρ = 2 sum(X̂ ∘ (value ∘ (yᵀ)^∘2)ᵀ)    (scalar)"),
])
def test_a_sum_symmetric_by_its_form_is_its_own_transpose(text, wrt, first):
    """(M + Mᵀ)ᵀ is M + Mᵀ as written, not Mᵀ + M: the adjoint of tr(logm(expm(S))) holds
    L_exp(Sᵀ, expm(S)⁻¹), which is I only where Sᵀ reads as S (the two spellings were not
    recognized as one matrix: focus seed 9602123 printed T₁ + T₁ᵀ for 2I). f is linear:
    2 tr(M) in M, so ∂f/∂M = 2I, and ρ times a constant in ρ, so ∂f/∂ρ = f/ρ."""
    result = derive(text, wrt)
    assert result.text.splitlines()[0] == first
    program = result.program
    sizes = {"n": 3, "m": 3, "k": 4}
    env = random_inputs(program.result, program.variables, sizes, np.random.default_rng(1))
    (d,) = result.derivatives
    gradient, f = (evaluate(e, env, sizes) for e in (d.expr, program.result))
    if wrt == "M":
        assert np.allclose(gradient, 2 * np.eye(3)) and np.isclose(f, 2 * np.trace(env["M"]))
    else:
        assert np.allclose(gradient, f / env["ρ"], rtol=1e-9)
