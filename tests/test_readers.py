"""Results for readers (issue 13): the names several gradients share, defined once and read
back by matcalc in every style with the value of the gradient they print."""

from __future__ import annotations

import re

import numpy as np
import pytest
from identities import SYMMETRIC_ROWS
from roundtrip import Reader, same_value, split_top

from matcalc import derive
from matcalc.evaluate import evaluate
from matcalc.printers import to_text
from matcalc.report import CONTINUED

# several gradients of one function, each with what it shares with the others
SHARED = [
    ("½‖relu(XW₁ᵀ + b₁ᵀ)W₂ᵀ + b₂ᵀ − Y‖_F²", ["W₁", "b₁", "W₂", "b₂"]),
    ("½‖relu(XW₁ᵀ)W₂ᵀ − Y‖_F²", ["W₁", "W₂"]),
    ("sum(G ∘ relu(XWᵀ + bᵀ))", ["W", "b"]),
    ("sum(G ∘ (softmax(QKᵀ)V))", ["Q", "K", "V"]),
]


def _rows(result, style: str) -> list:
    """The result lines and the where definitions, as 'lhs = rhs' (a LaTeX row broken over
    several joined)."""
    if style != "latex":
        lines = getattr(result, style).splitlines()
        return [ln.rsplit("    (", 1)[0] for ln in lines if not ln.startswith("where ")], \
            [x for ln in lines if ln.startswith("where ")
             for x in split_top(ln.removeprefix("where "))]
    rows: list = []
    for row in result.latex.splitlines()[1:-1]:
        row = row.removesuffix(" \\\\")
        if row.startswith(CONTINUED):
            rows[-1] += " " + row.removeprefix(CONTINUED).strip()
        else:
            rows.append(row.replace(" &= ", " = "))
    results = [r for r in rows if r.startswith(r"\frac")]
    return results, [r.removeprefix(r"\text{where } ") for r in rows if r not in results]


@pytest.mark.parametrize("style", ["text", "ascii", "latex"])
@pytest.mark.parametrize("text, wrt", SHARED, ids=[t for t, _ in SHARED])
def test_shared_names_read_back(text, wrt, style):
    """Each printed gradient, read with the where definitions, is the gradient."""
    result = derive(text, wrt)
    results, where = _rows(result, style)
    assert len(results) == len(result.derivatives) and where
    reader = Reader(result.program)
    for d, line in zip(result.derivatives, results):
        form = "; ".join(where + [line.split(" = ", 1)[1]])
        assert same_value(reader.value(d.expr), reader.read(form, style, like=d.expr)), form


def test_where_is_given_once():
    """Issue 13: "where E = …" was repeated under every gradient that uses E."""
    result = derive("½‖relu(XW₁ᵀ)W₂ᵀ − Y‖_F²", ["W₁", "W₂"])
    assert result.text.count("where E =") == 1
    assert result.latex.count(r"\text{where }") == 1


def test_no_fraction_under_a_superscript():
    r"""\frac{∂ℓ}{∂W}^{\top} sets the ᵀ on the numerator's corner; a fraction under a
    superscript is in parentheses, (∂ℓ/∂W)ᵀ as the text prints it."""
    result = derive("W = XXᵀ; Y = WX; ℓ = ‖Y‖_F", ["X", "W"])
    latex = result.steps_latex + result.latex
    assert r"\left( \frac{\partial \ell}{\partial W} \right)^{\top} X" in latex
    assert not re.search(r"\\frac\{[^{}]*\}\{[^{}]*\}\^", latex)


def test_the_norm_of_a_scalar_is_a_step():
    """Issue 13: --steps on ‖xᵀx‖₂ began df = d(xᵀx), the norm gone without a word; it is
    |xᵀx| = xᵀx, and of xᵀAx, which may be negative, |xᵀAx|, whose derivative is sign(·)."""
    lines = derive("‖xᵀx‖₂", "x").steps.splitlines()
    assert lines[:2] == ["df = d(‖xᵀx‖₂)", "   = d(xᵀx)      [‖xᵀx‖₂ = abs(xᵀx) = xᵀx]"]
    result = derive("‖xᵀAx‖₂", "x")
    assert "   = d(abs(xᵀAx))      [‖xᵀAx‖₂ = abs(xᵀAx)]" in result.steps.splitlines()
    assert "|x|′ = sign(x) holds almost everywhere (not at 0)" in result.caveats


def test_attention_shares_one_ds():
    """Issue 13: ∂f/∂K printed (T₁ − p ∘ (T₁𝟏𝟏ᵀ))ᵀQ, the queries' dS distributed under a
    transpose; both read one dS, named once. (The softmax is not named p: K is p×k.)"""
    lines = derive("sum(G ∘ (softmax(QKᵀ)V))", ["Q", "K", "V"]).text.splitlines()
    assert lines[:4] == ["∂f/∂Q = T₁K    (n×k)",
                         "where T₂ = softmax(QKᵀ), T₁ = T₂ ∘ (GVᵀ − (T₂ ∘ (GVᵀ))𝟏𝟏ᵀ)",
                         "∂f/∂K = T₁ᵀQ    (p×k)", "∂f/∂V = T₂ᵀG    (p×m)"]


@pytest.mark.parametrize("text, wrt, sym, entries, source", SYMMETRIC_ROWS,
                         ids=[f"{r[0]} wrt {r[1]}" for r in SYMMETRIC_ROWS])
def test_symmetric_variable_in_both_conventions(text, wrt, sym, entries, source):
    """Issue 13: a symmetric X printed the unstructured G and a note; it prints the gradient
    in the symmetric matrices, ½(G + Gᵀ), and its note the derivative over the independent
    entries, G + Gᵀ − G ∘ I (Cookbook §2.8.2), both read back against central differences:
    ⟨∇f, E⟩ = df[E] for E = E_ij + E_ji, and the (i, j) entry of the other is df[E]."""
    result = derive(text, wrt)
    (d,) = result.derivatives
    assert to_text(d.expr) == sym
    (note,) = [n for n in result.notes if n.startswith(f"{wrt} is symmetric")]
    assert note.endswith(f"G + Gᵀ − G ∘ I = {entries}")
    reader = Reader(result.program)
    n = reader.env[wrt].shape[0]
    got_sym = reader.read(sym, "text", like=d.expr)
    got_entries = reader.read(entries, "text", like=d.expr)
    assert np.allclose(got_sym, got_sym.T)
    named = dict(result.program.definitions)
    for i in range(n):
        for j in range(i, n):
            e = np.zeros((n, n))
            e[i, j] = e[j, i] = 1.0
            h = 1e-6
            values = []
            for sign in (1, -1):
                env = dict(reader.env)
                env[wrt] = reader.env[wrt] + sign * h * e
                values.append(evaluate(d.function, env, reader.sizes, named)[0, 0])
            df = (values[0] - values[1]) / (2 * h)
            assert abs(np.sum(got_sym * e) - df) < 1e-5 * max(1, abs(df))
            assert abs(got_entries[i, j] - df) < 1e-5 * max(1, abs(df))


def test_logistic_hessian_is_factored():
    """Issue 13: the Hessian of σ(wᵀx) printed x(σT₁²xᵀ − T₁σ²xᵀ) with T₁ = 1 − σ, and its
    Hessian–vector product the expanded (1 + 2σ² − 3σ): a sign costs no more than the sum it
    stands in, so the factored σ(1 − σ)(1 − 2σ) is the cheaper form; an inner product stands
    after the sums, beside the vector it scales: σ(1 − σ)(1 − 2σ)(Vᵀx)x."""
    result = derive("σ(wᵀx)", "w", kind="hessian")
    lines = result.text.splitlines()
    assert lines[:3] == [
        "∇f = σ(wᵀx)(1 − σ(wᵀx))x",
        "H = ∂vec(∇f)/∂vec(w) = σ(wᵀx)(1 − σ(wᵀx))(1 − 2σ(wᵀx))xxᵀ    (n×n)",
        "V ↦ σ(wᵀx)(1 − σ(wᵀx))(1 − 2σ(wᵀx))(Vᵀx)x    (Hessian-vector product d(∇f)[V])"]
    assert result.check().ok


def test_a_short_norm_is_not_named():
    """The Hessian of ‖x − a‖₂ named the norm T₁ = ‖x − a‖₂: its bars read at a glance, so a
    norm is as long as its argument, and x − a is short (Cookbook (130))."""
    result = derive("‖x − a‖₂", "x", kind="hessian")
    lines = result.text.splitlines()
    assert lines[:3] == [
        "∇f = (x − a)/‖x − a‖₂",
        "H = ∂vec(∇f)/∂vec(x) = (I − (x − a)(x − a)ᵀ/‖x − a‖₂²)/‖x − a‖₂    (n×n)",
        "V ↦ (V − ((x − a)ᵀV/‖x − a‖₂²)(x − a))/‖x − a‖₂    (Hessian-vector product d(∇f)[V])"]
    assert not any(line.startswith("where") for line in lines)
    assert result.check().ok


def test_terms_sharing_a_hadamard_factor_are_factored_apart_from_the_others():
    """The Hessian–vector product of sum(G ∘ σ(X)) + ‖X‖_F² printed V ∘ (2 + G ∘ σ(X) ∘ T₁^∘2
    − G ∘ σ(X)^∘2 ∘ T₁): the two terms that share G ∘ σ(X) ∘ T₁ factor although 2 does not,
    into σ′′ = σ(1 − σ)(1 − 2σ)."""
    result = derive("sum(G ∘ σ(X)) + ‖X‖_F²", "X", kind="hessian")
    lines = result.text.splitlines()
    assert lines[1:3] == [
        "H = ∂vec(∇f)/∂vec(X) = 2I + Diag(vec(G ∘ σ(X) ∘ (1 − σ(X)) ∘ (1 − 2σ(X))))    (m·n×m·n)",
        "V ↦ V ∘ (2 + G ∘ σ(X) ∘ (1 − σ(X)) ∘ (1 − 2σ(X)))    (Hessian-vector product d(∇f)[V])"]
    assert result.check().ok


def test_a_reciprocal_is_not_named():
    """A common 1/(xᵀAx) taken out of the Hessian of log(xᵀAx) was named T₁ = 1/(xᵀAx), and ∇f
    then printed T₁(A + Aᵀ)x: a reciprocal reads as the division it is."""
    lines = derive("log(xᵀAx)", "x", kind="hessian").text.splitlines()
    assert lines[:2] == ["∇f = (A + Aᵀ)x/(xᵀAx)",
                         "H = ∂vec(∇f)/∂vec(x) = (A + Aᵀ − (A + Aᵀ)xxᵀ(A + Aᵀ)/(xᵀAx))/(xᵀAx)"
                         "    (n×n)"]
    assert not any(line.startswith("where") for line in lines)


def test_a_negated_residual_is_written_with_its_name():
    """The Hessian of ‖W₂σ(W₁x) − y‖₂ named E = W₂σ(W₁x) − y but printed yᵀ − σ(W₁x)ᵀW₂ᵀ
    beside it, which is −Eᵀ; its Hessian–vector product stretched that scalar by 𝟏."""
    result = derive("‖W₂σ(W₁x) − y‖₂", "x", kind="hessian")
    text = result.text
    assert "yᵀ − σ(W₁x)ᵀW₂ᵀ" not in text and "𝟏" not in text, text
    assert "(W₁V) ∘ (1 − 2σ(W₁x)) − (EᵀW₂T₂)/‖E‖₂²" in text, text
    assert "where T₁ = 1 − σ(W₁x), T₃ = Diag(σ(W₁x) ∘ T₁), T₂ = σ(W₁x) ∘ T₁ ∘ (W₁V), " \
        "E = W₂σ(W₁x) − y" in text
    assert result.check().ok


def test_a_scalar_direction_is_written_last():
    """Issue 13: the Hessian–vector product of λ³ + λ printed 6Vλ (the names in the order of
    their spelling); the direction V stands where the differential stands, 6λ dλ: 6λV, and over
    two scalars 2(μV₁ + λV₂). Each read back is the product it prints, H V."""
    result = derive("λ³ + λ", "λ", kind="hessian")
    assert result.text.splitlines()[2].startswith("V ↦ 6λV    (")
    assert result.check().ok
    result = derive("λ²μ", ["λ", "μ"], kind="hessian")
    assert [ln.split("    (")[0] for ln in result.text.splitlines() if "↦" in ln] == [
        "(V₁, V₂) ↦ 2(μV₁ + λV₂)", "(V₁, V₂) ↦ 2λV₁"]
    reader = Reader(result.program, result.derivatives[0].directions)
    for d, printed in zip(result.derivatives, ["2(μV₁ + λV₂)", "2λV₁"]):
        assert same_value(reader.value(d.map_expr), reader.read(printed, "text"))
        lam, mu, v1, v2 = (reader.env[n][0, 0] for n in ("λ", "μ", "V₁", "V₂"))
        want = 2 * (mu * v1 + lam * v2) if d.wrt.name == "λ" else 2 * lam * v1
        assert np.isclose(reader.value(d.map_expr)[0, 0], want)


def test_a_scalar_quotient_scales_as_one_factor():
    r"""Issue 13: the gradient of the Rayleigh quotient xᵀAx/(xᵀx) printed the quotient apart,
    2(xᵀAx)x/(xᵀx), where a textbook writes (2/xᵀx)(½(A + Aᵀ)x − R(x)x): the quotient stands
    whole, 2(xᵀAx/(xᵀx))x, and in LaTeX 2\frac{x^{\top} A x}{x^{\top} x} x; a lone denominator
    under the fraction bar has no parentheses (it printed \frac{1}{(x^{\top} x)}). Each read
    back is the gradient."""
    result = derive("xᵀAx/(xᵀx)", "x")
    (d,) = result.derivatives
    text = result.text.split("    (")[0].split(" = ", 1)[1]
    latex = result.latex.splitlines()[1].split(" &= ", 1)[1]
    assert text == "((A + Aᵀ)x − 2(xᵀAx/(xᵀx))x)/(xᵀx)"
    assert latex == (r"\frac{1}{x^{\top} x} \left( (A + A^{\top}) x - 2 \frac{x^{\top} A x}"
                     r"{x^{\top} x} x \right)")
    reader = Reader(result.program)
    x, a = reader.env["x"], reader.env["A"]
    r = (x.T @ a @ x) / (x.T @ x)
    want = 2 / (x.T @ x) * (0.5 * (a + a.T) @ x - r * x)
    for form, style in ((text, "text"), (latex, "latex")):
        assert same_value(reader.read(form, style, like=d.expr), want)
