"""Jacobians in every shape: the vec form against finite differences, and the index form,
evaluated entry by entry (an einsum over its entries with the Kronecker deltas as identity
matrices), against the vec form; the printed index forms of the table in identities.py."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest
from identities import JACOBIAN_ROWS, Row
from roundtrip import without_laws

from matcalc import derive
from matcalc.evaluate import (
    assign_sizes,
    evaluate,
    finite_difference_jacobian,
    noise_floor,
    random_inputs,
    relative_error,
)
from matcalc.ir import MatMul, Num, dim_value, walk
from matcalc.jacobian import differential, vec_form
from matcalc.printers import latex_document, latex_notes, reads_alone
from matcalc.reader import parse
from matcalc.simplify import simplify

# 𝟏ᵀ(w𝟏ᵀ)𝟏 over five copies of w
SUMMED_BROADCAST = "V ∈ ℝ^{5×2}; w ∈ ℝ^2; c ∈ ℝ^4; τ ∈ ℝ; 1ᵀ(τV − τ(τwᵀ))1 · τ·c"
# More shapes, checked numerically only (the Jacobian rows of test_cli among them).
MORE = [
    Row("σ(X)", "X", "", ""), Row("tanh(W*x + b)", "x", "", ""),
    Row("max(0, X)", "X", "", ""), Row("mean(X, 2)", "X", "", ""), Row("XᵀX", "X", "", ""),
    Row("X²", "X", "", ""), Row("A ∘ X", "X", "", ""), Row("softmax(Z)", "Z", "", ""),
    Row("X − mean(X, 2)", "X", "", ""), Row("var(X, 1)", "X", "", ""),
    Row("XWᵀ", "W", "", ""), Row("abᵀ", "b", "", ""), Row("A + x", "x", "", ""),
    Row("X ∘ (a𝟏ᵀ)", "a", "", ""), Row("exp(λX)", "λ", "", ""), Row("X + λ", "λ", "", ""),
    Row("sum(X)", "X", "", ""), Row("xᵀAx", "x", "", ""), Row("λ‖w‖₂²", "λ", "", ""),
    Row("xᵀ", "x", "", ""), Row("aᵀX", "X", "", ""), Row("sum(X, 1)", "X", "", ""),
    Row("Xᵀy", "y", "", ""), Row("f(x) := x³/(1 + x²); f(X)", "X", "", ""),
    Row("softmax(W*x)", "W", "", ""), Row("logsoftmax(z)", "z", "", ""),
    Row("(A ⊗ B)vec(X)", "X", "", ""), Row("‖Ax − b‖₂²", "x", "", ""),
    Row("sum(G ∘ relu(XWᵀ + bᵀ))", "b", "", ""),
    Row("XWᵀ", "X", "", "", {"X": "4x6", "W": "5x6"}),
    Row("σ(λ)A", "λ", "", "", {"A": "2x3"}),
    Row("W = XXᵀ; Y = WX", "X", "", ""),
    Row("X, A ∈ ℝ^{n×m}; sum(A ∘ softmax(softmax(A) ∘ X), 2)", "A", "", ""),   # Σ_p left
    Row("X ⊗ A", "X", "", "", {"A": "2x3"}), Row("A ⊗ X", "X", "", "", {"A": "2x3"}),
    Row("x ⊗ y", "y", "", ""), Row("(Xw) ⊗ cᵀ", "X", "", ""),
    Row(SUMMED_BROADCAST, "c", "", ""),
]
CASES = JACOBIAN_ROWS + MORE
IDS = [row.id + (f" {row.shapes}" if row.shapes else "") for row in CASES]

# A factor of the vec form that no pair of indices of F and X reads: its entries are given.
AS_VEC_ENTRIES = {"(A ⊗ B)vec(X)", "X ⊗ A", "A ⊗ X"}


@pytest.fixture(scope="module")
def results():
    return {row.id + str(row.shapes): derive(row.text, row.wrt, row.shapes, kind="jacobian")
            for row in CASES}


def _inputs(result):
    (d,) = result.derivatives
    named = dict(d.definitions)
    if result.program.result_name:
        named[result.program.result_name] = d.function
    variables = [v for v in dict.fromkeys([*result.program.variables, d.wrt])
                 if v.name not in named]
    sizes = assign_sizes([d.function, d.wrt, *named.values(), *variables])
    env = random_inputs(d.function, variables, sizes, np.random.default_rng(3), named)
    return d, named, sizes, env


def _axes(shape, sizes) -> list:
    """The lengths of a Jacobian's axes for one operand, axes of length 1 left out."""
    return [dim_value(d, sizes) for d in shape if d != 1]


def _vec_as_tensor(d, named, sizes, env) -> np.ndarray:
    """The vec form J as the tensor ∂F_ij/∂X_kl: J's row i + p(j − 1), column k + m(l − 1)."""
    J = evaluate(d.expr, env, sizes, named)
    full = [dim_value(x, sizes) for x in (*d.function.shape, *d.wrt.shape)]
    return J.reshape(full, order="F").reshape(_axes(d.function.shape, sizes)
                                              + _axes(d.wrt.shape, sizes))


def _index_as_tensor(form, named, sizes, env) -> np.ndarray:
    """The index form entry by entry: each term is an einsum over its entries M_ab and δ_ab."""
    letters: dict = {}

    def letter(index):
        return letters.setdefault(index, "abcdefghijklmnopqrstuvwxyzABCDEFGH"[len(letters)])

    free = form.free
    lengths = {i: dim_value(form.dims[i], sizes) for i in form.dims}
    total = np.zeros([lengths[i] for i in free])
    for term in form.terms:
        operands, subscripts = [np.ones(())], [""]
        for i in free:                      # every free index spans its axis
            operands.append(np.ones(lengths[i]))
            subscripts.append(letter(i))
        for e in term.entries:
            if e.matrix is None:
                operands.append(np.eye(lengths[e.row]))
            else:
                m = evaluate(e.matrix, env, sizes, named)
                if e.row is None:
                    assert m.shape[0] == 1
                    m = m[0]
                if e.col is None:
                    assert m.shape[-1] == 1
                    m = m[..., 0]
                operands.append(m)
            subscripts.append("".join(letter(i) for i in (e.row, e.col) if i is not None))
        scale = float(term.coeff)
        for s in term.scalars:
            scale *= evaluate(s, env, sizes, named)[0, 0]
        spec = ",".join(subscripts) + "->" + "".join(letter(i) for i in free)
        total = total + scale * np.einsum(spec, *operands)
    return total


@pytest.mark.parametrize("row", JACOBIAN_ROWS, ids=[row.id for row in JACOBIAN_ROWS])
def test_printed_index_form(row, results):
    assert results[row.id + str(row.shapes)].text.splitlines()[1] == row.expected


@pytest.mark.parametrize("row", CASES, ids=IDS)
def test_vec_form_against_finite_differences(row, results):
    d, named, sizes, env = _inputs(results[row.id + str(row.shapes)])
    J = evaluate(d.expr, env, sizes, named)
    fd = finite_difference_jacobian(d.function, d.wrt, env, sizes, named)
    assert J.shape == fd.shape
    assert relative_error(J, fd, noise_floor(evaluate(d.function, env, sizes, named))) < 1e-6


@pytest.mark.parametrize("row", CASES, ids=IDS)
def test_index_form_entry_by_entry(row, results):
    d, named, sizes, env = _inputs(results[row.id + str(row.shapes)])
    if row.text in AS_VEC_ENTRIES:
        assert d.index.terms is None
        return
    assert d.index.terms is not None, d.index.render()
    want = _vec_as_tensor(d, named, sizes, env)
    got = _index_as_tensor(d.index, named, sizes, env)
    assert got.shape == want.shape
    assert relative_error(got, want, 1e-9) < 1e-12, d.index.render()


@pytest.mark.parametrize("row", CASES, ids=IDS)
def test_index_letters_name_no_dimension(row, results):
    result = results[row.id + str(row.shapes)]
    (d,) = result.derivatives
    names = {v.name for v in result.program.variables}
    for node in walk(result.program.result):
        for dim in node.shape:
            names.update(dim.split("·") if isinstance(dim, str) else ())
    used = set(d.index.dims) | {i for t in d.index.terms or [] for i in t.sums}
    assert not used & names


@pytest.mark.parametrize("row", CASES, ids=IDS)
def test_shape_statement(row, results):
    """A 4-tensor of shape (p, q, m, n); a vector or scalar Jacobian says so."""
    (d,) = results[row.id + str(row.shapes)].derivatives
    shape = [x for x in (*d.function.shape, *d.wrt.shape) if x != 1]
    said = d.index.describe()
    if len(shape) > 2:
        assert said == f"a {len(shape)}-tensor of shape ({', '.join(map(str, shape))})"
    else:
        assert said == {0: "a scalar", 1: f"a vector of length {shape[0] if shape else ''}",
                        2: f"a matrix of shape ({', '.join(map(str, shape))})"}[len(shape)]


def test_ascii_and_latex(results, tmp_path):
    """The ASCII lines are ASCII (∂ℓ/∂F was left in the map line); the LaTeX compiles."""
    body, notes = [], set()
    for result in results.values():
        assert result.ascii.isascii(), result.ascii
        body.append(result.latex + "\n" + result.steps_latex)
        notes |= set(result.notes)
    (tmp_path / "all.tex").write_text(
        latex_document("\n".join(body) + "\n\n" + latex_notes(sorted(notes))), encoding="utf-8")
    proc = subprocess.run([shutil.which("pdflatex"), "-interaction=nonstopmode",
                           "-halt-on-error", "all.tex"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:]


@pytest.mark.parametrize("text", ["X ⊗ A", "A ⊗ X", "x ⊗ y", "X ⊗ X", "Diag(diag(X))"])
def test_vec_form_of_kronecker_products(text):
    """vec(A ⊗ B) = (I_n ⊗ K_qm ⊗ I_p)(vec A ⊗ vec B), against finite differences."""
    program = parse(text, {"A": "2x3"})
    f = program.result
    x = next(v for v in program.variables if v.name in ("X", "x"))
    J = vec_form(differential(f, x, {}), x)
    sizes = assign_sizes([f, *program.variables])
    env = random_inputs(f, program.variables, sizes, np.random.default_rng(5))
    fd = finite_difference_jacobian(f, x, env, sizes)
    assert relative_error(evaluate(J, env, sizes), fd) < 1e-6


def test_gradient_through_a_kronecker_product():
    """G : (dX ⊗ A) = vec⁻¹((I ⊗ vec(A)ᵀ)Pᵀ vec G) : dX: entry (i, j) is ⟨G's block (i, j), A⟩."""
    r = derive("G ∈ ℝ^{6×6}; X ∈ ℝ^{3×2}; A ∈ ℝ^{2×3}; sum(G ∘ (X ⊗ A))", ["X", "A"])
    assert r.check().ok
    ns: dict = {}
    exec(r.numpy, ns)  # noqa: S102 (the code matcalc generates, run as the user runs it)
    rng = np.random.default_rng(4)
    G, X, A = rng.standard_normal((6, 6)), rng.standard_normal((3, 2)), rng.standard_normal((2, 3))
    blocks = G.reshape(3, 2, 2, 3).transpose(0, 2, 1, 3)            # blocks[i, j] is 2×3
    assert np.allclose(ns["grad_X"](G, X, A), np.einsum("ijab,ab->ij", blocks, A))
    assert np.allclose(ns["grad_A"](G, X, A), np.einsum("ijab,ij->ab", blocks, X))
    assert derive("sum(X ⊗ X)", "X").check().ok


def test_sparsity_is_a_plain_percentage():
    """Issue 10: percentages print as 25%, never in exponent notation (1e+02%)."""
    text = derive("A ∘ X", "X", {"X": "2x2"}).text
    assert "at most 4 of 16 entries can be nonzero (25%)" in text
    text = derive("XWᵀ", "X", {"X": "300x1000", "W": "500x1000"}).text
    assert "at most 150,000,000 of 45,000,000,000 entries can be nonzero (0.33%)" in text
    text = derive("λA", "λ", {"A": "10x10"}).text
    assert "∂F_ij/∂λ = A_ij    (a matrix of shape (10, 10))" in text and "e+" not in text


def test_repeated_size_factors_print_as_powers():
    """Issue 13: the vec form of X⁻¹ is n²×n², not n·n×n·n (n^2 in ASCII)."""
    r = derive("X⁻¹", "X", kind="jacobian")
    assert r.text.splitlines()[0].endswith("(n²×n², vec form)")
    assert r.ascii.splitlines()[0].endswith("(n^2xn^2, vec form)")
    assert derive("X ⊗ X", "X", kind="jacobian").text.splitlines()[0].endswith(
        "(m²·n²×m·n, vec form)")


def test_broadcast_vec_form_has_every_entry():
    """Issue 10: the vec form of 𝟏zᵀ/β² wrt β has m·n entries (it printed vec(zᵀ), m entries),
    in the printed form and in the generated code."""
    r = derive("Y^∘(−2) − zᵀ/β", "β", {"Y": "3x4"}, kind="jacobian")
    assert r.text.splitlines()[0].startswith("∂vec(F)/∂β = vec(𝟏zᵀ)/β²    (vector of length 12")
    ns: dict = {}
    exec(r.numpy, ns)  # noqa: S102 (the code matcalc generates, run as the user runs it)
    rng = np.random.default_rng(0)
    Y, z, beta = rng.uniform(1, 2, (3, 4)), rng.standard_normal(4), 1.5
    got = ns["jac_beta"](Y, z, beta)
    assert np.allclose(np.ravel(got), np.tile(z, (3, 1)).ravel(order="F") / beta ** 2)


@pytest.mark.parametrize("text,wrt,expected", [
    ("λ²", "λ", "2"), ("exp(λ)", "λ", "exp(λ)"), ("λ‖w‖₂²", "λ", "0"),
    ("sum(exp(λX))", "λ", "⟨X ∘ exp(λX), X⟩"),
])
def test_hessian_in_a_scalar(text, wrt, expected):
    r = derive(text, wrt, kind="hessian")
    assert r.text.splitlines()[1] == f"H = ∂vec(∇f)/∂vec({wrt}) = {expected}    (scalar)"
    assert r.check().ok


def test_index_form_of_a_variable_named_like_an_index():
    """A variable named i and dimensions named k and l: the indices step aside to p, r, s."""
    r = derive("i ∈ ℝ^k; X ∈ ℝ^{k×l}; Xᵀi", "X", kind="jacobian")
    assert r.text.splitlines()[1] == \
        "∂F_p/∂X_rs = δ_ps i_r    (a 3-tensor of shape (l, k, l); zero unless p = s)"


@pytest.mark.parametrize("text,wrt,kind,line", [
    ("XWᵀ", "X", "jacobian", "vec(dF) = (W ⊗ I) vec(dX)"),
    ("tr(XᵀAX)", "X", "hessian", "vec(d∇f) = (I ⊗ (A + Aᵀ)) vec(dX)"),
    ("softmax(z)", "z", "jacobian", "   = (Diag(softmax(z)) − softmax(z) softmax(z)ᵀ) dz"),
    ("λA", "λ", "jacobian", "vec(dF) = vec(A) dλ"),
])
def test_steps_vec_line(text, wrt, kind, line):
    """Issue 10: the vec line printed W ⊗ I vec(dX), which reads W ⊗ (I vec(dX))."""
    steps = derive(text, wrt, kind=kind).steps.splitlines()
    end = max(i for i, ln in enumerate(steps) if ln.lstrip().startswith("⇒"))
    # the line before the result, but for its laws when they stand on a line of their own
    vec = without_laws(steps[:end])[-1]
    assert vec.split("      [")[0] == line


def test_a_summed_broadcast_keeps_the_number_of_its_copies(results):
    # 𝟏ᵀ(w𝟏ᵀ)𝟏 = 5 sum(w): the index form printed 𝟏ᵀw𝟏ᵀ𝟏, whose last 𝟏 has no length
    (d,) = results[SUMMED_BROADCAST + " wrt c{}"].derivatives
    for term in d.index.terms:
        assert reads_alone(simplify(MatMul(Num(1), *term.scalars))), d.index.render()


def test_a_kronecker_product_with_a_zero_factor_is_zero():
    """0 ⊗ B = 0: d(abs(0W)) ⊗ B was a term with no differential left in it, which the vec
    form could not place (a ValueError, found by the end-to-end fuzz)."""
    report = derive("abs(0W) ⊗ X + W ⊗ X", "W").check()
    assert report.ok, str(report)
    assert derive("abs(0W) ⊗ (μΣᵀWX)", "W").text


def test_a_base_repeated_through_a_powers_jacobian_is_named_on_every_line():
    """A name goes first where it saves the most reading: the base of clip(A − Y, 0, 1)⁶,
    written some 40 times over the three lines, before a product of two of its copies; and the
    index form writes the names too (it wrote the base out in every entry: 77,000 characters
    for a power 100)."""
    r = derive("clip(A − Y, 0, 1)**6", "A")
    vec, index, backward, where = r.text.splitlines()[:4]
    assert where == "where T₂ = relu(A − Y) − relu(A − Y − 1), T₁ = relu(A − Y) − relu(A − 1 − Y)"
    assert "relu" not in vec + index + backward
    assert index.startswith("∂F_ij/∂A_kl = (T₁⁵)_ik δ_jl (H(A − Y) − H(A − 1 − Y))_kl + ")



def test_a_name_transposed_twice_is_the_name():
    """A name stands for its subexpression S and Sᵀ for S's transpose; where the result spelt S
    as the transpose of Sᵀ's form, it read ((T₂ᵀ)ᵀ)¹⁵ (fuzz seed 33, input 24625)."""
    group = "(BᵀXᵀCXB)"
    r = derive("tr" + group * 4 + "(B)" + group * 3, "X")
    assert "where T" in r.text and "ᵀ)ᵀ" not in r.text, r.text
    assert r.check().ok


@pytest.mark.parametrize("text, written", [("(XAXAXA)ᵀ", "XAXA ⊗ Aᵀ"), ("(AXᵀ)³ ⊗ A", "(XAᵀ)² ⊗ A")])
def test_a_transposed_power_is_the_power_of_the_simplified_transpose(text, written):
    """((AXᵀ)²)ᵀ is written (XAᵀ)², not ((AXᵀ)ᵀ)² nor (AXᵀ)ᵀ(AXᵀ)ᵀ (54 of the slowest fuzzed
    Jacobians wrote such a transpose of a transpose)."""
    r = derive(text, "X")
    vec = r.text.splitlines()[0]
    assert written in vec and "ᵀ)ᵀ" not in vec, vec
    assert r.check().ok

def test_an_entry_of_a_matrix_named_like_the_index_notation_is_parenthesized():
    """Σ_rs of a matrix Σ read as a sum over r and s, and δ_ik of a matrix δ as the Kronecker
    delta (random composition, focus seed 8800171): ∂(Σx + δx)_i/∂x_k = Σ_ik + δ_ik, written
    (Σ)_ik + (δ)_ik; in LaTeX \\Sigma_{ik} is no sum, \\delta_{ik} is a delta."""
    r = derive("Σ: n x n; δ: n x n; x: n; Σx + δx", "x")
    assert r.text.splitlines()[1].startswith("∂F_i/∂x_k = (Σ)_ik + (δ)_ik    ")
    assert r"= \Sigma_{ik} + (\delta)_{ik}" in r.latex


def test_a_factor_common_to_every_term_of_a_long_sum_is_written_once():
    """A sum of more terms than are factored in full (MAX_FACTORED) still has the factors
    common to all its terms taken out: the Jacobian of (X ∘ S)¹⁸ is (Σᵢ ((X ∘ S)ᵀ)¹⁷⁻ⁱ ⊗
    (X ∘ S)ⁱ) Diag(vec(S)), not 18 terms each ending in Diag(vec(S)) — the Jacobian of
    clip(A^∘2 ⊗ softmax(W, 1), 0, 1)¹⁰⁰ (fuzz seed 18) wrote its 100 terms' common factor 100
    times, and read its 15,000 characters back for each size of I it might leave out."""
    r = derive("S ∈ ℝ^{n×n}; (X ∘ S)^18", "X")
    vec = r.text.splitlines()[0]
    assert vec.count("Diag(vec(S))") == 1 and vec.endswith(") Diag(vec(S))    (n²×n², vec form)")
    assert vec.index("((X ∘ S)ᵀ)¹⁷ ⊗ I") < vec.index("(X ∘ S)ᵀ ⊗ (X ∘ S)¹⁶"), vec
    report = r.check()
    assert report.ok, str(report)


@pytest.mark.parametrize("text, first", [
    ("x ∈ ℝ^n; (aᵀx)bᵀ", "∂vec(F)/∂x = baᵀ    (m×n, vec form)"),
    ("x ∈ ℝ^n; (xᵀx)xᵀ", "∂vec(F)/∂x = 2xxᵀ + (xᵀx)I    (n×n, vec form)"),
])
def test_the_vec_of_a_row_is_its_transpose(text, first):
    """vec(bᵀ) = b: the Jacobian of a row-valued function printed vec(bᵀ)aᵀ."""
    r = derive(text, "x")
    assert r.text.splitlines()[0] == first
    report = r.check()
    assert report.ok, str(report)


def test_a_name_written_twice_in_a_row_is_its_power():
    """Two spellings of one product, side by side, both named T₂ᵀ: the map form of the
    Jacobian of clip(A^∘2 ⊗ softmax(W, 1), 0, 1)³ read GT₂ᵀT₂ᵀ for G(T₂ᵀ)² (fuzz seed 18)."""
    r = derive("clip(A^∘2 ⊗ softmax(W, 1), 0, 1)**3", "W")
    assert "T₂ᵀT₂ᵀ" not in r.text and "(T₂ᵀ)²" in r.text, r.text
    report = r.check()
    assert report.ok, str(report)
