"""The command line end to end: exit statuses, error format, every output format on the seeds,
and the Jacobian/Hessian NumPy functions run against finite differences."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from matcalc import derive
from matcalc.cli import main

ROOT = Path(__file__).resolve().parents[1]

SEEDS = [
    ["B ∘ (C > 0.2)", "--wrt", "C"],
    ["sum(G ∘ σ(X))", "--wrt", "X"],
    ["XWᵀ", "--wrt", "X", "--shape", "X=64x1024", "--shape", "W=512x1024"],
    ["W = XXᵀ; Y = WX; ℓ = ‖Y‖_F", "--wrt", "X", "--wrt", "W"],
    ["sum(G ∘ max(0, X))", "--wrt", "X"],
    ["X ∈ ℝ^{N×D}; γ, β ∈ ℝ^D; μ = mean(X, 1); v = var(X, 1); X̂ = (X − μ) ⊘ √(v + ε); "
     "Y = X̂ ∘ γᵀ + βᵀ; L = sum(G ∘ Y)", "--wrt", "X", "--wrt", "γ", "--wrt", "β"],
    ["f(x) := x³/(1 + x²); sum(f(AX))", "--wrt", "X"],
]


@pytest.mark.parametrize("args", SEEDS, ids=[a[0] for a in SEEDS])
@pytest.mark.parametrize("fmt", ["text", "latex", "numpy", "json"])
def test_seed_in_every_format(args, fmt, capsys):
    assert main(args + ["--to", fmt]) == 0
    out = capsys.readouterr().out
    if fmt == "json":
        assert json.loads(out)["derivatives"]
    if fmt == "numpy":
        compile(out, "<numpy>", "exec")


def test_bad_input_exits_2_with_caret(capsys):
    assert main(["trace2(X)", "--wrt", "X"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("matcalc: error: unknown function 'trace2' — did you mean 'tr'?")
    assert "^^^^^^" in err


def test_unknown_variable_exits_2(capsys):
    assert main(["tr(AXB)", "--wrt", "Z"]) == 2
    assert "has no variable 'Z'" in capsys.readouterr().err


@pytest.mark.parametrize("text, wrt, gradient", [
    (r"\hat{X} \in \mathbb{R}^{n \times n}; \operatorname{tr}(\hat{X}^{2})", r"\hat{X}",
     "∂f/∂X̂ = 2·X̂ᵀ"),
    ("x_bar: n; A: n x n; x_bar'*A*x_bar", "x_bar", "∂f/∂x̄ = (A + Aᵀ)·x̄"),
    ("X_hat: n x n; trace(X_hat*X_hat)", "X_hat", "∂f/∂X̂ = 2·X̂ᵀ"),
])
def test_the_variable_is_named_as_the_input_spells_it(text, wrt, gradient, capsys):
    """--wrt takes the name as the input's dialect spells it (random compositions printed
    reproducers with --wrt '\\hat{X}' and --wrt x_bar, which were no variables)."""
    assert main([text, "--wrt", wrt]) == 0, capsys.readouterr().err
    assert capsys.readouterr().out.startswith(gradient)


def test_check_passes(capsys):
    assert main(["logdet X", "--wrt", "X", "--check"]) == 0
    assert "ok" in capsys.readouterr().out


def test_vjp_at_seed_sizes_without_the_4_tensor():
    r = derive("XWᵀ", "X", {"X": "64x1024", "W": "512x1024"})
    ns: dict = {}
    exec(r.numpy, ns)
    rng = np.random.default_rng(0)
    X, W, G = rng.standard_normal((64, 1024)), rng.standard_normal((512, 1024)), \
        rng.standard_normal((64, 512))
    assert np.allclose(ns["vjp_X"](X, W, G), G @ W)
    assert "∂F_ij/∂X_kl = δ_ik W_jl" in r.text and "33,554,432" in r.text


@pytest.mark.parametrize("text,wrt,kind,expected", [
    ("XWᵀ", "X", "jacobian", "W ⊗ I"),
    ("σ(X)", "X", "jacobian", "Diag(vec(σ(X) ∘ (1 − σ(X))))"),
    ("X⁻¹", "X", "jacobian", "−(X⁻ᵀ ⊗ X⁻¹)"),
    ("AXB", "X", "jacobian", "Bᵀ ⊗ A"),
    ("tanh(W*x + b)", "x", "jacobian", "Diag(1 − tanh(Wx + b)^∘2)W"),
    ("‖Ax − b‖₂²", "x", "hessian", "2AᵀA"),
    ("xᵀAx + bᵀx", "x", "hessian", "A + Aᵀ"),
    ("tr(XᵀAX)", "X", "hessian", "I ⊗ (A + Aᵀ)"),
    ("‖AX − B‖_F²", "X", "hessian", "2(I ⊗ AᵀA)"),
    ("logdet X", "X", "hessian", "−(X⁻¹ ⊗ X⁻ᵀ)K_{n,n}"),
    ("sum(log(1 + exp(Xw)) − y ∘ Xw)", "w", "hessian", "XᵀDiag(σ(Xw) ∘ (1 − σ(Xw)))X"),
    ("log(sum(exp(x)))", "x", "hessian", "Diag(softmax(x)) − softmax(x) softmax(x)ᵀ"),
    ("softmax(z)", "z", "jacobian", "Diag(softmax(z)) − softmax(z) softmax(z)ᵀ"),
    ("max(0, X)", "X", "jacobian", "Diag(vec(H(X)))"),
    ("f(x) := x³/(1 + x²); f(X)", "X", "jacobian", "Diag(vec(f′(X)))"),
    ("mean(X, 1)", "X", "jacobian", "(I ⊗ 𝟏ᵀ)/n"),
])
def test_jacobian_and_hessian(text, wrt, kind, expected):
    from matcalc.evaluate import assign_sizes, evaluate, random_inputs
    from matcalc.printers import to_text
    r = derive(text, wrt, kind=kind)
    (d,) = r.derivatives
    assert "".join(to_text(d.expr).split()) == "".join(expected.split())
    assert r.check().ok, str(r.check())
    # the generated jac_/hess_ and vjp_/hvp_ agree with the evaluated vec and map forms
    ns: dict = {}
    exec(r.numpy, ns)
    variables = list(r.program.variables) + [d.map_var]
    sizes = assign_sizes([d.function, *variables])
    env = random_inputs(d.function, variables, sizes, np.random.default_rng(2))
    args = [env[v.name][:, 0] if v.shape[1] == 1 and v.shape != (1, 1) else env[v.name]
            for v in r.program.variables]
    prefix = "jac" if kind == "jacobian" else "hess"
    mapped = "vjp" if kind == "jacobian" else "hvp"
    x = env[d.wrt.name]
    assert np.allclose(ns[f"{prefix}_{wrt}"](*args), evaluate(d.expr, env, sizes))
    extra = env[d.map_var.name]
    extra = extra[:, 0] if d.map_var.shape[1] == 1 else extra
    got = np.asarray(ns[f"{mapped}_{wrt}"](*args, extra)).reshape(x.shape)
    assert np.allclose(got, np.broadcast_to(evaluate(d.map_expr, env, sizes), x.shape))


def test_softmax_hessian_reads_as_the_textbook():
    """Issue 5: log(sum(exp(x))) has Hessian Diag(p) − ppᵀ with p = softmax(x), in every form."""
    r = derive("log(sum(exp(x)))", "x", kind="hessian")
    assert "H = ∂vec(∇f)/∂vec(x) = Diag(p) − ppᵀ" in r.text
    assert r.text.splitlines()[-1] == "where p = softmax(x)"
    assert r"\operatorname{Diag}(p) - p p^{\top}" in r.latex
    assert "where p = softmax(x)" in r.ascii


def test_softmax_jacobian_index_form():
    # the index form writes the names the other lines use: ∂p_i/∂z_k = p_i(δ_ik − p_k)
    r = derive("softmax(z)", "z")
    assert "∂F_i/∂z_k = p_i δ_ik − p_i p_k" in r.text
    assert r.text.splitlines()[-1] == "where p = softmax(z)"
    r = derive("softmax(Z)", "Z")   # each row's softmax depends on that row only
    assert ("∂F_ij/∂Z_kl = p_ij δ_ik δ_jl − p_ij δ_ik p_kl    "
            "(a 4-tensor of shape (n, m, n, m); zero unless i = k)") in r.text


def test_mean_jacobian_index_form():
    assert "∂F_j/∂X_kl = (1/n) δ_jl" in derive("mean(X, 1)", "X").text


def test_user_function_derivative_is_spelled_out_once(capsys):
    assert main(["f(x) := x³/(1 + x²); sum(f(AX))", "--wrt", "X"]) == 0
    assert capsys.readouterr().out.splitlines()[:2] == [
        "∂ℓ/∂X = Aᵀf′(AX)    (m×k)", "where f′(x) = x²(3 + x²)/(1 + x²)²"]


def test_mlp_residual_is_named_e():
    """Issue 6: the two-layer MLP gradient reads (H(XW₁ᵀ) ∘ (EW₂))ᵀX with E the residual,
    defined once for both gradients (issue 13)."""
    r = derive("½‖relu(XW₁ᵀ)W₂ᵀ − Y‖_F²", ["W₁", "W₂"])
    assert r.text.splitlines()[:3] == [
        "∂f/∂W₁ = (H(XW₁ᵀ) ∘ (EW₂))ᵀX    (k×m)", "where E = relu(XW₁ᵀ)W₂ᵀ − Y",
        "∂f/∂W₂ = Eᵀ relu(XW₁ᵀ)    (p×k)"]
    assert r.check().ok


def test_mlp_with_biases_names_e_in_every_gradient():
    """Issue 13: with biases the output layer's gradient printed (b₂ + W₂T₁ᵀ − Yᵀ)T₁, the
    residual transposed with its terms in another order; it is Eᵀ relu(…), and the hidden
    layer's δ = H(…) ∘ (EW₂), shared by W₁ and b₁, is named once."""
    r = derive("½‖relu(XW₁ᵀ + b₁ᵀ)W₂ᵀ + b₂ᵀ − Y‖_F²", ["W₁", "b₁", "W₂", "b₂"])
    assert r.text.splitlines()[:5] == [
        "∂f/∂W₁ = T₁ᵀX    (k×m)",
        "where E = relu(XW₁ᵀ + b₁ᵀ)W₂ᵀ + b₂ᵀ − Y, T₁ = H(XW₁ᵀ + b₁ᵀ) ∘ (EW₂)",
        "∂f/∂b₁ = T₁ᵀ𝟏    (vector of length k)",
        "∂f/∂W₂ = Eᵀ relu(XW₁ᵀ + b₁ᵀ)    (p×k)",
        "∂f/∂b₂ = Eᵀ𝟏    (vector of length p)"]
    assert r.check().ok


def test_ascii_output_has_no_question_marks(capsys):
    text = ("X ∈ ℝ^{N×D}; γ, β ∈ ℝ^D; μ = mean(X, 1); v = var(X, 1); X̂ = (X − μ) ⊘ √(v + ε); "
            "Y = X̂ ∘ γᵀ + βᵀ; L = sum(G ∘ Y)")
    assert main([text, "--wrt", "X", "--ascii", "--check"]) == 0
    out = capsys.readouterr().out
    assert out.isascii() and "?" not in out
    assert "dL/dX = gamma' .* (G - mean(G, 1) - X_hat .* mean(G .* X_hat, 1)) ./ sqrt(v + eps)" \
        in out
    assert "definitions of mu, v, X_hat, Y" in out


# --- what goes where, and internal errors -----------------------------------------------------

def test_numpy_check_keeps_stdout_a_python_file(capsys):
    """Issue 10: `--to numpy --check > o.py` must give a valid Python file; the report and the
    notes go to stderr."""
    assert main(["sum(G ∘ max(0, X))", "--wrt", "X", "--to", "numpy", "--check",
                 "--show"]) == 0
    captured = capsys.readouterr()
    compile(captured.out, "<o.py>", "exec")
    assert "ok" in captured.err and "note: 'max(0, X)' read as relu(X)" in captured.err


def test_json_check_keeps_stdout_json(capsys):
    assert main(["XWᵀ", "--wrt", "X", "--to", "json", "--check", "--show"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["derivatives"][0]["kind"] == "jacobian"
    assert "ok" in captured.err


def test_latex_check_keeps_stdout_latex(capsys):
    assert main(["tr(AXB)", "--wrt", "X", "--to", "latex", "--check", "--show"]) == 0
    captured = capsys.readouterr()
    # the LaTeX, with its notes as paragraphs; the reading and the check report aside
    assert captured.out.startswith("\\begin{align*}")
    assert "\\end{align*}\n\n\\noindent Note: " in captured.out
    assert "relative error" not in captured.out and "shapes:" not in captured.out
    assert "note:" in captured.err and "ok" in captured.err


def test_text_output_keeps_everything_on_stdout(capsys):
    assert main(["logdet X", "--wrt", "X", "--check", "--show"]) == 0
    captured = capsys.readouterr()
    assert "shapes:" in captured.out and "ok" in captured.out and captured.err == ""


def _explode(*args, **kwargs):
    raise ValueError("injected failure")


@pytest.mark.parametrize("target, args", [
    ("matcalc.api._gradient", []),
    ("matcalc.codegen.generate", ["--to", "numpy"]),
    ("matcalc.report.render_all", []),
    ("matcalc.evaluate.evaluate", ["--check"]),
])
def test_internal_error_is_exit_3_without_traceback(target, args, monkeypatch, capsys):
    """Issue 10: an unexpected exception is a bug report (exit 3), never a traceback and never
    exit 1 (a failed check) or 2 (bad input)."""
    module, name = target.rsplit(".", 1)
    monkeypatch.setattr(f"{module}.{name}", _explode)
    if module == "matcalc.report":
        monkeypatch.setattr("matcalc.api.render_all", _explode)
    assert main(["tr(AXB)", "--wrt", "X", *args]) == 3
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.startswith("matcalc: internal error")
    assert "ValueError: injected failure" in err
    assert "bug in matcalc 0.1.0" in err and "command: matcalc 'tr(AXB)' --wrt X" in err


def test_internal_error_message_does_not_act_on_the_terminal(monkeypatch, capsys):
    def clear_screen(*args, **kwargs):
        raise ValueError("\x1b[2J\u202e")
    monkeypatch.setattr("matcalc.api._gradient", clear_screen)
    assert main(["tr(AXB)", "--wrt", "X"]) == 3
    err = capsys.readouterr().err
    assert "ValueError: \\x1b[2J\\u202e" in err and "\x1b" not in err and "\u202e" not in err


def test_api_raises_internal_error_with_the_cause(monkeypatch):
    import matcalc
    monkeypatch.setattr("matcalc.api._gradient", _explode)
    with pytest.raises(matcalc.InternalError) as info:
        matcalc.derive("tr(AXB)", "X")
    assert not isinstance(info.value, matcalc.MatcalcError)
    assert isinstance(info.value.__cause__, ValueError)
    assert "InternalError" in matcalc.__all__


def test_result_forms_raise_internal_error(monkeypatch):
    import matcalc
    result = matcalc.derive("tr(AXB)", "X")
    monkeypatch.setattr("matcalc.codegen.generate", _explode)
    with pytest.raises(matcalc.InternalError):
        _ = result.numpy
    with pytest.raises(matcalc.InternalError):
        result.to_json()


def test_recursion_limit_is_reported_as_too_deep(monkeypatch, capsys):
    def recurse(*args, **kwargs):
        raise RecursionError("maximum recursion depth exceeded")
    monkeypatch.setattr("matcalc.api._gradient", recurse)
    assert main(["tr(AXB)", "--wrt", "X"]) == 2
    err = capsys.readouterr().err
    assert "too deep for matcalc" in err and "Traceback" not in err


# --- reading -f files and stdin --------------------------------------------------------------

def test_file_that_is_not_utf8_is_an_error(tmp_path, capsys):
    path = tmp_path / "latin1.mc"
    path.write_bytes("tr(Xµ)".encode("latin-1"))
    assert main(["-f", str(path), "--wrt", "X"]) == 2
    assert "it is not UTF-8 text (byte 0xb5)" in capsys.readouterr().err


def test_endless_file_is_refused_after_the_size_limit(capsys):
    assert main(["-f", "/dev/zero", "--wrt", "X"]) == 2
    assert "/dev/zero is too long: the limit is 100,000 characters" in capsys.readouterr().err


@pytest.mark.parametrize("data, status, expected", [
    (b"tr(X)", 0, ""),
    (b"\xff", 2, "the standard input: it is not UTF-8 text (byte 0xff)"),
    (b"X + " * 30_000, 2, "the standard input is too long"),
    (b"\\;\\", 2, "matcalc: error: "),
])
def test_stdin(data, status, expected, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(data)))
    assert main(["-f", "-", "--wrt", "X"]) == status
    assert expected in capsys.readouterr().err


@pytest.mark.parametrize("text, wrt", [
    ("ℓ = ‖W‖_F", "W"),
    ("W = XXᵀ; Y = WX; ℓ = ‖Y‖_F", "W"),
    ("W = XXᵀ; Y = WX; ℓ = ‖Y‖_F", "X"),
])
def test_hessian_through_the_functions_own_name(text, wrt):
    """∇ℓ = W/ℓ names ℓ itself; d(∇ℓ) must go through ℓ's definition (d(1/ℓ) = −dℓ/ℓ²)."""
    r = derive(text, wrt, kind="hessian")
    report = r.check()
    assert report.ok, str(report)


def test_package_parse_stays_the_function_after_the_pipeline_loads():
    # a fresh interpreter: loading the pipeline imports the reader module, which must not
    # replace the package's parse function by a submodule of the same name
    code = ("import matcalc; matcalc.derive('x', 'x'); import matcalc.reader; "
            "print(callable(matcalc.parse), type(matcalc.parse('tr(X)')).__name__)")
    run = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert run.stdout.split() == ["True", "Program"], run.stderr


@pytest.mark.parametrize("argv, expected", [
    (["-tr(X)", "--wrt", "X"], "∂f/∂X = −I"),
    (["--wrt", "x", "-sum(x)"], "∂f/∂x = −𝟏"),
    (["--wrt", "x", "--", "-sum(x)"], "∂f/∂x = −𝟏"),
    (["-x^T x", "--wrt", "x"], "∂f/∂x = −2x"),
    (["-hᵀx", "--wrt", "x"], "∂f/∂x = −h"),            # not -h (help)
    (["--wrt", "x", "-fᵀx"], "∂f/∂x = −f"),            # not -f (a file named ᵀx)
    (["--shape", "x=n", "-sum(x)", "--wrt", "x"], "∂f/∂x = −𝟏"),
])
def test_expression_starting_with_a_minus(argv, expected, capsys):
    # negative log-likelihoods start with a minus: the argument is the expression, not an option
    assert main(argv) == 0
    assert capsys.readouterr().out.startswith(expected)


@pytest.mark.parametrize("argv, unknown", [
    (["--bogus", "tr(X)", "--wrt", "X"], "--bogus"),
    (["-sum(x)", "--wrt", "x", "-tr(X)"], "-tr(X)"),
])
def test_unknown_options_are_still_errors(argv, unknown, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    assert f"error: unrecognized arguments: {unknown}" in capsys.readouterr().err


def test_version(capsys):
    from matcalc import __version__
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out == f"matcalc {__version__}\n"


def test_comments_in_a_file_and_on_stdin(tmp_path, monkeypatch, capsys):
    model = "# least squares\nX ∈ ℝ^{n×m}; θ ∈ ℝ^m  # data; y ∈ ℝ^n below\n½‖Xθ − y‖²  # loss\n"
    (tmp_path / "model.mc").write_text(model, encoding="utf-8")
    assert main(["-f", str(tmp_path / "model.mc"), "--wrt", "θ"]) == 0
    from_file = capsys.readouterr().out
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(model.encode())))
    assert main(["-f", "-", "--wrt", "θ"]) == 0
    assert capsys.readouterr().out == from_file
    assert from_file.startswith("∂f/∂θ = Xᵀ(Xθ − y)")


@pytest.mark.parametrize("text, wrt, meant", [
    ("tr(AXB)", "x", "X"),
    ("‖XW − Y‖_F²", "w", "W"),
    ("Λ ∈ ℝ^{n×n}; tr(ΛX)", "lambda", "Λ"),
    ("W₁ ∈ ℝ^{n×n}; tr(W₁X)", "w1", "W₁"),
])
def test_wrt_in_the_wrong_case_suggests_the_name(text, wrt, meant, capsys):
    assert main([text, "--wrt", wrt]) == 2
    assert f"hint: did you mean '{meant}'?" in capsys.readouterr().err


@pytest.mark.parametrize("text, wrt", [("tr(ρ + A)", "ρ"), ("λ‖w‖₂²", "λ")])
def test_zero_hessian_of_a_scalar_prints_its_derivation(text, wrt):
    # f is linear in the scalar: its Hessian, a 1×1 zero, prints as 0 in every form
    r = derive(text, wrt, kind="hessian")
    for steps in (r.steps, r.steps_ascii):
        (hessian,) = [ln for ln in steps.splitlines() if ln.lstrip()[:4] in ("⇒ H ", "=> H")]
        assert hessian.split("=")[-1].split()[0] == "0"
    assert "= 0" in r.steps_latex


def test_the_mask_advice_is_given_only_where_nothing_but_a_mask_holds_the_variable():
    """The step's note advises C ∘ H(C − λ) only where the derivative is 0 because the variable
    stands in nothing but masks: beside B ∘ C ∘ H(C − λ), which is that form, it repeated the
    advice to write what the input had written (seed 000). It names the mask and the variable
    met (it named C and λ whatever the input's names were), and writes the kept form only where
    it has the variable's shape."""
    step = "H′ = 0 almost everywhere: the Dirac term δ at the step is dropped"
    kept = derive("B ∘ C ∘ H(C − λ)", "C", kind="jacobian")
    assert step in kept.notes and not any("passes no gradient" in n for n in kept.notes)
    for text, wrt, said in (
            ("B ∘ H(C − λ)", "C", ", so the mask H(C − λ) passes no gradient to C; to keep the "
                                  "entries of C it selects, write C ∘ H(C − λ)"),
            ("B ∘ (Z > 0.2)", "Z", ", so the mask H(Z − 0.2) passes no gradient to Z; to keep "
                                   "the entries of Z it selects, write Z ∘ H(Z − 0.2)"),
            ("sum(H(C − λ))", "C", ", so the mask H(C − λ) passes no gradient to C; to keep the "
                                   "entries of C it selects, write C ∘ H(C − λ)"),
            ("sum(H(Xw))", "X", ", so the mask H(Xw) passes no gradient to X")):
        masked = derive(text, wrt, kind="jacobian" if text[0] == "B" else "gradient")
        assert step + said in masked.notes, (text, masked.notes)


@pytest.mark.parametrize("argv, kept", [
    (["sum(max(0, x))", "--wrt", "x"], ["relu′ = H, the Heaviside step (1 where x > 0, 0 where "
                                        "x < 0), holds almost everywhere (not at the kink 0)"]),
    (["‖w‖₁", "--wrt", "w"], ["|x|′ = sign(x) holds almost everywhere (not at 0)"]),
    (["W = XXᵀ; Y = WX; ℓ = ‖Y‖_F", "--wrt", "X"],
     ["total derivative: it goes through the definitions of W, Y"]),
    (["sum(G ∘ (X > 0.5))", "--wrt", "G"], []),
])
def test_quiet_keeps_only_the_notes_on_the_results(argv, kept, capsys):
    assert main(argv) == 0
    everything = capsys.readouterr().out
    assert "by convention" in everything
    assert main(argv + ["--quiet"]) == 0
    text = capsys.readouterr().out
    assert [line[len("note: "):] for line in text.splitlines() if line.startswith("note:")] == kept
    assert text.splitlines()[0] == everything.splitlines()[0]
    assert main(argv + ["--quiet", "--to", "numpy"]) == 0
    assert capsys.readouterr().err.splitlines() == [f"note: {n}" for n in kept]


@pytest.mark.parametrize("argv, status, stream", [
    (["--help"], 0, "stdout"), (["--bogus"], 2, "stderr"), (["--to", "λ"], 2, "stderr")])
def test_help_and_option_errors_on_a_terminal_without_unicode(argv, status, stream,
                                                              monkeypatch):
    terminal = io.TextIOWrapper(io.BytesIO(), encoding="ascii")
    monkeypatch.setattr(f"sys.{stream}", terminal)
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == status
    terminal.flush()
    written = terminal.buffer.getvalue().decode("ascii")
    assert "usage: matcalc" in written and "?" not in written


@pytest.mark.parametrize("text", ["λ ∈ ℝ; (λ − λ)⁻¹", "λ ∈ ℝ; x ∈ ℝⁿ; x/(λ − λ)"])
def test_division_by_an_identically_zero_denominator_is_a_clear_error(text, capsys):
    assert main([text, "--wrt", "λ"]) == 2
    assert "identically 0" in capsys.readouterr().err


# Inputs that crashed or hung matcalc (issue 11): each is an answer (exit 0) or a clear error
# (exit 2), never an internal error
CHAIN = "W0 = X; " + "".join(f"W{i} = W{i - 1} + X; " for i in range(1, 300)) + "sum(W299)"


@pytest.mark.parametrize("args, status", [
    (["1e30800001X", "--wrt", "X"], 2),
    (["1e999X", "--wrt", "X", "--to", "numpy"], 2),
    (["1" * 5000 + "X", "--wrt", "X"], 2),
    (["0⁻¹X", "--wrt", "X"], 2),
    (["X ⊘ 0", "--wrt", "X"], 2),
    (["r(A(x)∘x)", "--wrt", "A"], 0),
    (["A⊗X−X", "--wrt", "X"], 2),
    ([CHAIN, "--wrt", "X"], 2),
    (["det " * 150 + "X", "--wrt", "X"], 0),
], ids=lambda a: a[0][:20] if isinstance(a, list) else str(a))
def test_inputs_that_crashed(args, status, capsys):
    assert main(args) == status
    err = capsys.readouterr().err
    assert "internal error" not in err and len(err) < 2000
