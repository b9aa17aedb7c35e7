"""Hessians: the single-variable table, and Hessians over several variables together (block
Hessians, issue 14): every block as printed, checked numerically by --check (which must be able
to fail), the generated hess and hvp run against central differences, the three dialects and
LaTeX, and every printed line read back."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest
from identities import BLOCK_ROWS, HESSIAN_ROWS
from roundtrip import PRINTERS, Reader, printed_forms, same_value

from matcalc import derive
from matcalc.cli import main
from matcalc.evaluate import assign_sizes, finite_difference_jacobian, random_inputs
from matcalc.ir import Add, MatMul, Num, Ones, Zero
from matcalc.printers import latex_document, to_text
from matcalc.report import render


def _squash(text: str) -> str:
    return "".join(text.split())


@pytest.fixture(scope="module")
def singles():
    return {row.id: derive(row.text, row.wrt, row.shapes, kind="hessian") for row in HESSIAN_ROWS}


@pytest.fixture(scope="module")
def blocks():
    return {text: derive(text, list(wrt), kind="hessian") for text, wrt, _, _ in BLOCK_ROWS}


@pytest.mark.parametrize("row", HESSIAN_ROWS, ids=[row.id for row in HESSIAN_ROWS])
def test_single_hessian(row, singles):
    result = singles[row.id]
    (d,) = result.derivatives
    assert _squash(to_text(d.expr)) == _squash(row.expected)
    assert result.check().ok, str(result.check())


@pytest.mark.parametrize("text, wrt, expected, source", BLOCK_ROWS, ids=[r[0] for r in BLOCK_ROWS])
def test_blocks_as_printed(text, wrt, expected, source, blocks):
    result = blocks[text]
    assert [d.wrt.name for d in result.derivatives] == list(wrt)
    for i, d in enumerate(result.derivatives):
        assert [y.name for y, _ in d.blocks] == list(wrt)
        assert d.expr == d.blocks[i][1]                 # the diagonal block is the row's own
        for j, (_, block) in enumerate(d.blocks):
            assert _squash(to_text(block)) == _squash(expected[i, j]), (i, j, source)
    report = result.check()
    assert report.ok, str(report)
    forms = {line.form for s in report.sections for line in s.lines if line.error is not None}
    assert {f"NumPy hess()[{i}][{j}] vec(V)" for i, j in expected} <= forms
    assert {f"NumPy hvp()[{i}]" for i in range(len(wrt))} <= forms


@pytest.mark.parametrize("text, wrt, expected, source", BLOCK_ROWS, ids=[r[0] for r in BLOCK_ROWS])
def test_check_fails_a_wrong_block_and_a_wrong_product(text, wrt, expected, source, blocks):
    """The check can fail: 1% of an all-ones matrix added to one off-diagonal block, or to one
    row's Hessian–vector product, fails it."""
    result = blocks[text]
    d = result.derivatives[0]
    y, block = d.blocks[1]
    wrong = Add(block, MatMul(Num(0.01), Ones(*block.shape)))
    original, product = list(d.blocks), d.map_expr
    try:
        d.blocks[1] = (y, wrong)
        assert not result.check().ok
        d.blocks[:] = original
        d.map_expr = Add(product, MatMul(Num(0.01), Ones(*d.wrt.shape)) if d.wrt.shape != (1, 1)
                         else Num(0.01))
        assert not result.check().ok
    finally:
        d.blocks[:], d.map_expr = original, product


@pytest.mark.parametrize("text, wrt, expected, source", BLOCK_ROWS, ids=[r[0] for r in BLOCK_ROWS])
def test_generated_hess_and_hvp(text, wrt, expected, source, blocks):
    """hess()[i][j] is the finite-difference Jacobian of ∂f/∂vᵢ in vⱼ; hvp()[i] is the sum of the
    blocks of row i applied to one direction per variable (independent of the check)."""
    result = blocks[text]
    namespace: dict = {}
    exec(compile(result.numpy, "<generated>", "exec"), namespace)  # noqa: S102
    program = result.program
    variables = list(program.variables)
    sizes = assign_sizes([program.result, *variables])
    rng = np.random.default_rng(3)
    env = random_inputs(program.result, variables, sizes, rng)
    args = [_user(env[v.name], v) for v in variables]
    H = namespace["hess"](*args)
    directions = [rng.standard_normal(env[name].shape) for name in wrt]
    products = namespace["hvp"](*args, *(_user(v, d.wrt) for v, d in
                                         zip(directions, result.derivatives)))
    assert len(H) == len(products) == len(wrt)
    for i, d in enumerate(result.derivatives):
        total = 0
        for j, (y, _) in enumerate(d.blocks):
            fd = finite_difference_jacobian(d.gradient, y, env, sizes)
            assert np.allclose(H[i][j], fd, atol=1e-6), (i, j)
            total = total + fd @ directions[j].reshape(-1, 1, order="F")
        got = np.asarray(products[i], dtype=float).reshape(-1, 1, order="F")
        assert np.allclose(got, total, atol=1e-6), i


def _user(value, v):
    if v.shape == (1, 1):
        return float(np.asarray(value).reshape(-1)[0])
    return value[:, 0].copy() if v.shape[1] == 1 else value


@pytest.mark.parametrize("style", list(PRINTERS))
@pytest.mark.parametrize("text, wrt, expected, source", BLOCK_ROWS, ids=[r[0] for r in BLOCK_ROWS])
def test_printed_lines_read_back(text, wrt, expected, source, style, blocks):
    """∂f/∂X, each block and the Hessian–vector product, read back by matcalc, have the values
    of the trees they print."""
    result = blocks[text]
    for d in result.derivatives:
        reader = Reader(result.program, d.directions)
        order = [d.gradient, *(block for _, block in d.blocks), d.map_expr]
        forms = printed_forms(render(d, style, result._names), style, d.kind)
        assert len(forms) == len(order)
        for tree, form in zip(order, forms):
            assert same_value(reader.value(tree), reader.read(form, style, like=tree)), form


@pytest.mark.parametrize("dialect", [
    "xᵀAy", "x'*A*y", r"x^\top A y",
])
def test_mixed_second_derivative_in_every_dialect(dialect, capsys):
    """Issue 14: xᵀAy with --wrt x --wrt y --hessian printed H = 0 twice; ∂²f/∂x∂yᵀ = A."""
    assert main([dialect, "--wrt", "x", "--wrt", "y", "--hessian", "--check"]) == 0
    out = capsys.readouterr().out
    assert "∂²f/∂x∂yᵀ = A    (n×m)" in out and "∂²f/∂y∂xᵀ = Aᵀ    (m×n)" in out
    assert "(V₁, V₂) ↦ AV₂" in out and "FAILED" not in out


def test_ascii_json_and_latex(blocks, tmp_path):
    """The ASCII lines are ASCII, the JSON has each row's blocks, the LaTeX and the derivation
    compile."""
    import json
    body = []
    for result in blocks.values():
        assert result.ascii.isascii(), result.ascii
        data = json.loads(result.to_json())
        for d, entry in zip(result.derivatives, data["derivatives"]):
            assert [b["wrt"] for b in entry["blocks"]] == [y.name for y, _ in d.blocks]
            assert [b["result"]["text"] for b in entry["blocks"]] == \
                [to_text(block) for _, block in d.blocks]
        body.append(result.latex + "\n" + result.steps_latex)
    assert "d^2f/dx dy' = A" in blocks["xᵀAy"].ascii
    assert r"\frac{\partial^2 f}{\partial x\,\partial y^\top} &= A" in blocks["xᵀAy"].latex
    (tmp_path / "all.tex").write_text(latex_document("\n".join(body)), encoding="utf-8")
    proc = subprocess.run([shutil.which("pdflatex"), "-interaction=nonstopmode",
                           "-halt-on-error", "all.tex"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:]


def test_steps_sum_the_blocks():
    """The derivation's vec line has one block per variable that d(∂f/∂X) depends on."""
    steps = derive("tr(XᵀAXB) + λ‖X‖² + λ²", ["X", "λ"], kind="hessian").steps
    assert "vec(d(∂f/∂X)) = (2λI + B ⊗ Aᵀ + Bᵀ ⊗ A) vec(dX) + (2 vec(X)) dλ" in steps


def test_a_repeated_variable_is_one_hessian():
    """--wrt x --wrt x is the Hessian in x alone, not a block Hessian."""
    for d in derive("xᵀAx", ["x", "x"], kind="hessian").derivatives:
        assert not d.block and to_text(d.expr) == "A + Aᵀ"


def test_a_block_whose_differentials_cancel_is_zero():
    """d(∂f/∂φ) in dG of τφ, τ = ‖x‖² + G : (φ − φ)(abᵀ), simplifies to the number 0 (the
    terms in dG cancel): the block is 0, where the vec form took the number for a linear map
    and raised KeyError (a random composition's block Hessian)."""
    text = "G ∈ ℝ^{p×m}; φ ∈ ℝ; τ = ‖x‖² + G : (φ − φ)(abᵀ); τφ"
    r = derive(text, ["G", "φ"], kind="hessian")
    (_, g_block), _ = r.derivatives[1].blocks
    assert to_text(g_block) == "0"
    report = r.check()
    assert report.ok, str(report)


def test_the_hessian_of_a_function_linear_through_logdet_of_expm_is_zero():
    """logdet(expm(S)) = tr(S) (det expm(S) = exp tr(S)), linear in V for S = V − uᵀ + (V − uᵀ)ᵀ:
    the Hessian's Fréchet terms cancel, and its derivation's last lines read 0 (random
    composition 8900168; a printed 0 is the zero of the line's shape). S is symmetric by its
    form, so Sᵀ is S written as it is, and L_exp(Sᵀ, expm(S)⁻¹) = I: ∇f = 2I at once."""
    result = derive("u: k; V: k x k; logdet(expm(V − uᵀ + (V − uᵀ)ᵀ))", "V", kind="hessian")
    (d,) = result.derivatives
    assert d.expr == Zero(d.expr.rows, d.expr.cols), result.text
    assert result.text.startswith("∇f = 2I\n")
    assert r"\mathrm{d}\nabla f &= 0" in result.steps_latex
    assert result.check().ok
