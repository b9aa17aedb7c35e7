"""Derivations for readers (--steps): one line per rule layer, each citing the law it used, the
simplifications shown with their identities, chains of definitions read backwards by named
adjoints; every line a value (checked in test_roundtrip.py), every adjoint the derivative it
names."""

from __future__ import annotations

import re

import numpy as np
import pytest
from identities import ROWS
from roundtrip import Reader, same_value, without_laws

from matcalc import derive, parse
from matcalc.derivation import is_adjoint, line_expr
from matcalc.evaluate import evaluate
from matcalc.ir import D, Var, Zero, substitute, walk
from matcalc.printers import to_text
from matcalc.report import derivation

BATCH_NORM = ("X ∈ ℝ^{N×D}; γ, β ∈ ℝ^D; μ = mean(X, 1); v = var(X, 1); "
              "X̂ = (X − μ) ⊘ √(v + ε); Y = X̂ ∘ γᵀ + βᵀ; L = sum(G ∘ Y)")
SEED_003 = "W = XXᵀ; Y = WX; ℓ = ‖Y‖_F"


def _derivation_lines(steps: str) -> list:
    """The lines of a derivation before the result it ends with (a long line broken, its
    laws on lines of their own, counts once)."""
    lines = steps.splitlines()
    end = max(i for i, ln in enumerate(lines) if ln.lstrip().startswith(("⇒", "=>")))
    out: list = []
    for ln in without_laws(lines[:end]):
        if ln.lstrip().startswith(("⇒", "=>")) or not ln.strip():
            continue
        if " = " in ln or not out:
            out.append(ln)
        else:
            out[-1] += " " + ln.strip()                # a long line continued
    return out


def test_a_textbook_takes_three_lines():
    """logdet(X) − tr(SX) took 11 lines of sum rules, linearity and scalar factors."""
    assert derive("logdet(X) − tr(SX)", "X").steps.splitlines() == [
        "df = d(log det(X)) − tr(S dX)",
        "   = tr(X⁻¹ dX) − tr(S dX)      [d(log det(X)) = tr(X⁻¹ dX)]",
        "   = X⁻ᵀ : dX − Sᵀ : dX      [tr(dX) = I : dX; G : A dX = AᵀG : dX]",
        "   ⇒ ∂f/∂X = X⁻ᵀ − Sᵀ    (n×n)"]


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_lines_are_textbook_lines(row):
    """No sign printed + −, one notation (A : B, never ⟨A, B⟩) in the derivation, and no line
    that repeats the one above."""
    result = derive(row.text, row.wrt, row.shapes)
    for steps in (result.steps, result.steps_ascii):
        lines = _derivation_lines(steps)
        bodies = [ln.split(" = ", 1)[-1].split("      [")[0] for ln in lines]
        assert not any(" + −" in b or " + -" in b or "⟨" in b for b in bodies), steps
        assert all(a != b for a, b in zip(bodies, bodies[1:])), steps
        # a law is cited once in a line (‖AX − B‖₂ + λ_max(XᵀX) cited G : A dX twice)
        laws = [ln.split("[", 1)[1].rstrip("]").split("; ")
                for ln in steps.splitlines() if "[" in ln]
        assert all(len(set(group)) == len(group) for group in laws), steps


def test_binary_cross_entropy_shows_its_cancellation():
    steps = derive("−sum(y ∘ log(σ(Xw)) + (1 − y) ∘ log(1 − σ(Xw)))", "w").steps
    assert "[(1 − y) ∘ σ(Xw) − y ∘ (1 − σ(Xw)) = σ(Xw) − y]" in steps
    assert "a ∘ b ⊘ b = a" in steps                              # y ⊘ σ ∘ σ(1 − σ)
    assert len(_derivation_lines(steps)) <= 7


def test_seed_003_says_why_the_terms_are_equal():
    steps = derive(SEED_003, "X").steps
    assert "Wᵀ = W since W = XXᵀ" in steps
    assert "⇒ ∂ℓ/∂W = (∂ℓ/∂Y)Xᵀ" in steps                         # the question of seed 003
    # the bracket gives the definitions the step needs, not ℓ's, which it only carries along
    bracket = next(line for line in steps.splitlines() if "since W = XXᵀ" in line)
    assert "Y = WX" in bracket and "ℓ =" not in bracket, bracket


def test_a_jacobian_keeps_its_forms_after_the_steps():
    steps = derive("XWᵀ", "X", {"X": "64x1024", "W": "512x1024"}).steps
    assert "vec(dF) = (W ⊗ I) vec(dX)      [vec(A dX B) = (Bᵀ ⊗ A) vec(dX)]" in steps
    assert "∂F_ij/∂X_kl = δ_ik W_jl    (a 4-tensor of shape (64, 512, 64, 1024); zero unless " \
        "i = k; at most 33,554,432 of 2,147,483,648 entries can be nonzero (1.6%))" in steps
    assert "G ↦ GW    (map form for backpropagation" in steps


def test_a_hessian_derives_its_second_half():
    steps = derive("sum(log(1 + exp(Xw)) − y ∘ Xw)", "w", kind="hessian").steps
    assert "d∇f = Xᵀ d(σ(Xw))\n" \
        "    = Xᵀ(σ(Xw) ∘ (1 − σ(Xw)) ∘ (X dw))      [d(σ(x)) = σ(x) ∘ (1 − σ(x)) ∘ dx]" in steps


def test_batch_norm_reads_backwards_by_named_adjoints():
    """As in Ioffe & Szegedy (2015), section 3: ∂L/∂Y, ∂L/∂X̂, ∂L/∂μ, ∂L/∂v, then ∂L/∂X."""
    steps = derive(BATCH_NORM, "X").steps
    read_off = [ln.strip().split(" = ")[0] for ln in steps.splitlines()
                if ln.lstrip().startswith("⇒ ∂L/∂")]
    assert read_off == ["⇒ ∂L/∂Y", "⇒ ∂L/∂X̂", "⇒ ∂L/∂μ", "⇒ ∂L/∂v", "⇒ ∂L/∂X"]
    assert "⇒ ∂L/∂X̂ = ∂L/∂Y ∘ γᵀ" in steps
    assert max(map(len, steps.splitlines())) < 240


@pytest.mark.parametrize("text, wrt", [(BATCH_NORM, "X"), (BATCH_NORM, "γ"),
                                       (SEED_003, "X"), (SEED_003, "W")])
def test_each_adjoint_is_the_derivative_it_names(text, wrt):
    """∂L/∂Z read off in the backward reading equals the gradient with respect to Z held as
    an independent variable (matcalc --wrt Z), numerically."""
    result = derive(text, wrt)
    (d,) = result.derivatives
    reader = Reader(result.program)
    values = {name: value for kind, block in derivation(d) if kind == "adjoint"
              for name, value in block.results}
    assert values
    for name, value in values.items():
        while any(is_adjoint(n) for n in walk(value)):
            value = substitute(value, values)
        held = name.name.split("/∂", 1)[1]
        (truth,) = derive(text, held).derivatives
        assert np.allclose(reader.value(value), reader.value(truth.expr)), name.name


def test_one_hot_rows_are_said_to_sum_to_one():
    """The cross-entropy's 𝟏 : (softmax ∘ dZ)𝟏 comes from Y𝟏 = 𝟏 (rows of Y one-hot)."""
    steps = derive("Y ∈ ℝ^{n×k} onehot; −sum(Y ∘ logsoftmax(XW))", "W").steps
    assert "   = −Y : X dW + 𝟏 : (softmax(XW) ∘ (X dW))𝟏\n" \
        "         [sum(dX) = 𝟏𝟏ᵀ : dX; G : (A ∘ dX) = (G ∘ A) : dX; G : dx 𝟏ᵀ = G𝟏 : dx; Y𝟏 = 𝟏]" \
        in steps


@pytest.mark.parametrize("text, wrt, kind", [
    ("τ ∈ ℝ; tanh(τ − τ)", "τ", "hessian"),
    ("W1: 4 x 5; x_bar: 4; B: 2 x 4; b: 2; value = (b.'*B*x_bar .* frob(b, b))*(2*sum(W1))", "b",
     "gradient"),
])
def test_derivations_found_by_random_compositions(text, wrt, kind):
    """d of a subtree that tidying left constant is 0 (it was linearized and failed); a scale
    made of a row, a matrix and a column multiplies a Frobenius product as one 1×1 factor."""
    r = derive(text, wrt, kind=kind)
    assert r.check().ok
    for steps in (r.steps, r.steps_ascii, r.steps_latex):
        assert steps


def test_factoring_a_sum_of_zero_terms_takes_out_no_number():
    """A derivation's closing line may hold terms that are 0 · …: their common number is 0,
    which factoring divided by."""
    text = ("np: 2; float: scalar; C: 5 x 2; value: scalar; tau = sum(C*(np - np)); "
            "ell = tau*((value + float) .* value)")
    r = derive(text, "value")
    assert r.check().ok
    assert r.steps and r.steps_ascii and r.steps_latex


def test_differential_of_a_number_is_not_a_name():
    """The derivation of float·(float − float) starts df = d(0): printed d0, it read back as
    the name d₀ (as W1 is W₁)."""
    r = derive("float: scalar; float*(float - float)", "float")
    for text in (r.steps, r.steps_ascii):
        assert text.splitlines()[0] == "df = d(0)", text
    assert r"\mathrm{d}(0)" in r.steps_latex


def test_adjoint_of_a_definition_whose_use_cancels_is_zero():
    """W₁ := uᵀ is used only in W₁((Y − Y)t₂), which cancels: nothing flows into ∂f/∂W₁, which
    was never given a value, and the derivation substituted it for ever (random case 100064).
    It is 0, and the closing ∂f/∂u = 8τu + (∂f/∂W₁)ᵀ reads 8τu."""
    r = derive("Y ∈ ℝ^{4×5}; t2 ∈ ℝ^{5×4}; τ ∈ ℝ; u ∈ ℝ^4; W₁ := uᵀ; "
               "(uᵀu)·sum(W₁((Y − Y)t2) + τ)", "u")
    (d,) = r.derivatives
    values = {a.name: v for _, b in derivation(d) for a, v in b.results}
    assert isinstance(values["∂f/∂W₁"], Zero)
    assert r.steps.rstrip().endswith("⇒ ∂f/∂u = 8τu    (vector of length 4)"), r.steps


@pytest.mark.parametrize("text, wrt, kind", [
    ("c: p probability; gamma: scalar; X: p x n; (sum(c) + 2*gamma)*(c'*X)", "c", "jacobian"),
    ("Q ∈ ℝ^{n×n} orthogonal; A ∈ ℝ^{n×n}; tr(QᵀQA)", "Q", "gradient"),
    ("Y ∈ ℝ^{n×k} stochastic; x ∈ ℝ^k; sum(Y𝟏 ∘ (Yx))", "Y", "gradient"),
])
def test_lines_hold_along_every_direction_of_a_constrained_variable(text, wrt, kind):
    """The derivative of an orthogonal or stochastic variable is the unstructured one, so each
    line of its derivation holds along every dX: what the declaration promises (𝟏ᵀc = 1, QᵀQ = I)
    is used where f is evaluated, not inside d(…). d((sum(c) + 2γ)cᵀX) was written
    d((1 + 2γ)cᵀX), and the line below it left out sum(dc)cᵀX (random compositions, seed
    800428)."""
    r = derive(text, wrt, kind=kind)
    (d,) = r.derivatives
    reader = Reader(r.program)
    rng = np.random.default_rng(1)
    v = rng.standard_normal(reader.env[wrt].shape)           # not along the constraint

    def at(e, h):
        env = dict(reader.env, **{wrt: reader.env[wrt] + h * v})
        return evaluate(e, env, reader.sizes, reader.definitions)

    def differential(e):            # central differences, Richardson-extrapolated
        return sum(c * (at(e, h) - at(e, -h)) / (2 * h) for c, h in ((4 / 3, 1e-4), (-1 / 3, 2e-4)))

    df = differential(r.program.result)
    lines = [line_expr(line) for kind, block in derivation(d) if kind != "adjoint"
             for line in block.lines]
    assert lines
    for line in lines:
        values = {n: Var(f"Δ{i}", n.shape) for i, n in enumerate(
            dict.fromkeys(n for n in walk(line) if isinstance(n, D)))}
        env = dict(reader.env, **{x.name: (v if n.arg == d.wrt else differential(n.arg))
                                  for n, x in values.items()})
        got = evaluate(substitute(line, values), env, reader.sizes, reader.definitions)
        assert np.allclose(got, df, rtol=1e-6, atol=1e-8), line


def test_long_lines_break_at_top_level_operators():
    """Batch norm's closing line was 347 characters: a line wider than the page continues on
    the next, broken before a + or − outside brackets (before a product only where none fits),
    its laws on lines of their own; joined, the pieces are the line as printed whole."""
    from matcalc.printers import TextPrinter
    from matcalc.report import TEXT_WIDTH
    result = derive(BATCH_NORM, "X")
    steps = result.steps
    assert max(map(len, steps.splitlines())) <= TEXT_WIDTH
    assert "\n            − 𝟏(mean(G, 1) ∘ γᵀ ⊘ √(v + ε))\n" in steps
    printer = TextPrinter(colon=True)
    (d,) = result.derivatives
    whole = [printer.doprint(line_expr(line)) for _, block in derivation(d)
             for line in block.lines]
    read = [ln.split(" = ", 1)[1].split("      [")[0] for ln in _derivation_lines(steps)]
    assert read == whole[:len(read)]


def test_one_backward_pass_gives_every_gradient():
    """Batch norm wrt X, γ and β is read in one backward pass, as in Ioffe & Szegedy (2015):
    the block of Y reads off ∂L/∂X̂ and the parts of ∂L/∂γ and ∂L/∂β at once, and no block is
    printed twice (dL = … ⇒ ∂L/∂Y = G was printed once per variable). Each closing line, the
    adjoints put in, is the gradient it names."""
    result = derive(BATCH_NORM, ["X", "γ", "β"])
    steps = result.steps
    assert steps.count("dL = sum(G ∘ dY)") == 1
    assert len(_derivation_lines(steps)) <= 21                   # 32 before
    assert "= (∂L/∂Y ∘ γᵀ) : dX̂ + (∂L/∂Y ∘ X̂)ᵀ𝟏 : dγ + (∂L/∂Y)ᵀ𝟏 : dβ\n" in steps
    assert "\n\n∂L/∂γ = (∂L/∂Y ∘ X̂)ᵀ𝟏\n      = (G ∘ X̂)ᵀ𝟏      [∂L/∂Y = G]\n" in steps
    reader = Reader(result.program)
    together = tuple(d.wrt for d in result.derivatives)
    for d in result.derivatives:
        blocks = [block for _, block in derivation(d, together)]
        values = {name: value for block in blocks for name, value in block.results}
        closing = blocks[-1]
        assert closing.lead.name == f"∂L/∂{d.wrt.name}"
        for line in closing.lines:
            value = line.body
            while any(is_adjoint(n) for n in walk(value)):
                value = substitute(value, values)
            assert np.allclose(reader.value(value), reader.value(d.expr)), d.wrt.name


def test_a_divisor_is_written_after_the_factors():
    """d(log(x)) = dx ⊘ x, as a textbook writes it, not (1 ⊘ x) ∘ dx; so is a line."""
    steps = derive("sum(log(1 + exp(Xw)) − y ∘ Xw)", "w").steps
    assert "= sum(d(exp(Xw)) ⊘ (1 + exp(Xw)) − y ∘ (X dw))      [d(log(x)) = dx ⊘ x]" in steps
    assert "1 ⊘" not in steps


def test_laws_name_rows_as_transposed_columns_and_leave_scalars_out():
    """The Rayleigh quotient's laws read aᵀB dx = Bᵀa : dx (its scalar 1/(xᵀx) moves without
    comment), not a·b·C dx = aCᵀbᵀ : dx with a row named like a column."""
    steps = derive("R = xᵀAx/(xᵀx)", "x").steps
    assert "[d(yᵀAz/x) = −dx yᵀAz/x² + dyᵀ Az/x + yᵀA dz/x]" in steps
    assert "aᵀB dx = Bᵀa : dx]" in steps
    assert "·b·" not in steps and "a·B" not in steps


def test_a_negated_hadamard_product_carries_its_sign_on_the_first_operand():
    """Batch norm's ∂L/∂μ printed −((𝟏ᵀ(∂L/∂X̂)) ⊘ √(v + ε)): −(a ⊘ b) = (−a) ⊘ b, so the sign
    (and its number, −½) goes on the first operand, as Ioffe & Szegedy write it, unless the
    product takes parentheses anyway (an operand of :); read back with the adjoints put in,
    each is the gradient it names. A LaTeX line that goes on starts a quad past where the
    right sides start (under the text's indent, not under the first symbol of the right
    side)."""
    from matcalc.report import CONTINUED
    result = derive(BATCH_NORM, "X")
    steps = result.steps
    assert "⇒ ∂L/∂μ = −(𝟏ᵀ(∂L/∂X̂)) ⊘ √(v + ε)\n" in steps
    assert "⇒ ∂L/∂v = −½(𝟏ᵀ(∂L/∂X̂ ∘ (X − μ))) ⊘ (v + ε) ⊘ √(v + ε)\n" in steps
    # where the ∘ product takes parentheses anyway, the sign stays outside them
    bce = derive("−sum(y ∘ log(σ(Xw)) + (1 − y) ∘ log(1 − σ(Xw)))", "w").steps
    assert "   = −(y ∘ (1 − σ(Xw))) : X dw + ((1 − y) ∘ σ(Xw)) : X dw\n" in bce
    assert r"\Rightarrow \frac{\partial L}{\partial \mu} &= -\left( \mathbf{1}^{\top} " \
        r"\frac{\partial L}{\partial \hat{X}} \right) \oslash \sqrt{v + \varepsilon} \\" \
        in result.steps_latex
    assert CONTINUED == r"&\phantom{{}={}}\quad "
    assert any(row.startswith(CONTINUED + "- ") for row in result.steps_latex.splitlines())
    (d,) = result.derivatives
    values = {n: v for _, block in derivation(d) for n, v in block.results}
    reader = Reader(result.program)
    for name, value in values.items():
        while any(is_adjoint(n) for n in walk(value)):
            value = substitute(value, values)
        values[name] = value
    adjoint_x_hat = next(v for n, v in values.items() if n.name == "∂L/∂X̂")
    for name in ("∂L/∂μ", "∂L/∂v"):
        (line,) = [ln for ln in steps.splitlines() if ln.strip().startswith(f"⇒ {name} = ")]
        printed = line.split(" = ", 1)[1].replace("∂L/∂X̂", "Q")
        form = f"Q = {to_text(adjoint_x_hat)}; {printed}"
        want = next(v for n, v in values.items() if n.name == name)
        assert same_value(reader.value(want), reader.read(form, "text")), form


def test_a_law_too_long_for_a_line_is_broken():
    """A simplification cited as its law, A = B, ran 118 characters on one line (random
    composition 1013; others up to 444): a law too long for a line is broken at its operators,
    at " = " first, and goes on inside its brackets; the derivation's lines all fit."""
    from matcalc.report import TEXT_WIDTH
    text = ("y: 5; B: 3 x 3; Z: 4 x 4; alpha, float, beta: scalar; F = sum(y)*(((0.1 + alpha) "
            ".* (0.5 .* 1.5) + (logdet(B) - alpha .* float)) .* logdet(beta*Z + Z))")
    steps = derive(text, "y").steps.splitlines()
    assert max(map(len, steps)) <= TEXT_WIDTH
    start = next(i for i, ln in enumerate(steps) if ln.lstrip().startswith("[log det"))
    assert steps[start:start + 2] == [
        "         [log det(βZ + Z)(¾(0.1 + α) + log det(B) − float·α)𝟏",
        "          = log det(βZ + Z)((log det(B) + ¾α − float·α)𝟏 + 0.075)]"]
    assert [ln for ln in without_laws(steps) if "[" in ln] == \
        ["   = log det(βZ + Z)(¾(0.1 + α) + log det(B) − float·α)𝟏 : dy      [sum(dx) = 𝟏 : dx]"]


def test_the_equals_signs_stand_under_one_another():
    """Seed 002's derivation printed dF = dX Wᵀ above vec(dF) = (W ⊗ I) vec(dX), the = signs
    apart: the left sides are set flush right; and where vec(d∇f) is d∇f (a column) the vec
    line goes on under it, = (…) dw, not a second d∇f = …"""
    steps = derive("XWᵀ", "X", kind="jacobian").steps.splitlines()
    assert steps[:3] == ["     dF = dX Wᵀ",
                         "vec(dF) = (W ⊗ I) vec(dX)      [vec(A dX B) = (Bᵀ ⊗ A) vec(dX)]",
                         "        ⇒ ∂vec(F)/∂vec(X) = W ⊗ I    (k·n×m·n, vec form)"]
    steps = derive("sum(log(1 + exp(Xw)) − y ∘ Xw)", "w", kind="hessian").steps
    assert "    = Xᵀ(σ(Xw) ∘ (1 − σ(Xw)) ∘ (X dw))      [d(σ(x)) = σ(x) ∘ (1 − σ(x)) ∘ dx]\n" \
        "    = (Xᵀ Diag(σ(Xw) ∘ (1 − σ(Xw)))X) dw\n" in steps
    assert steps.count("d∇f = ") == 1



def _differential_arguments(text: str, opening: str) -> list:
    """The text inside each ``opening`` … ) of a printed derivation (d( not inside a name)."""
    out = []
    for m in re.finditer(r"(?<![\w\\])" + re.escape(opening), text):
        depth = 1
        for end in range(m.end(), len(text)):
            depth += {"(": 1, ")": -1}.get(text[end], 0)
            if depth == 0:
                out.append(text[m.end():end])
                break
    return out


def test_a_zero_matrix_inside_a_differential_tells_its_shape():
    """A line prints a zero result as 0 beside its shape, but inside d(…) a zero matrix is
    0𝟏𝟏ᵀ, which alone has no size: sum(A d(0𝟏𝟏ᵀ)) did not read back (random composition, focus
    seed 8810146). Each differential's argument reads alone."""
    r = derive("Z ∈ ℝ^{k×p}; A ∈ ℝ^{p×k}; sum(exp(A((Z − Z) ∘ Z)))", "Z")
    shapes = {"Z": "k x p", "A": "p x k"}
    for text, opening in ((r.steps, "d("), (r.steps_ascii, "d("),
                          (r.steps_latex, r"\mathrm{d}(")):
        lines = "\n".join(line.split("[")[0] for line in text.splitlines())   # not the laws
        arguments = _differential_arguments(lines, opening)
        assert len(arguments) > 1, text
        for argument in arguments:
            assert parse(argument, shapes=shapes).result.shape in (("k", "p"), ("p", "p"))
