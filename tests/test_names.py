"""One reading of the characters in every dialect (issue 11): a run of letters and digits is read
by one rule whatever else the input contains — declared and defined names first, a letter with
digits a subscripted name (W1 = W₁), a run with a capital a product of one-letter names (Ax =
A·x), a lower-case run one name only when it is a known spelling. Each derivative is checked
against central differences."""

from __future__ import annotations

import numpy as np
import pytest

from matcalc import derive
from matcalc.errors import MatcalcError
from matcalc.ir import MatMul, Transpose, Var
from matcalc.reader import parse


def tree(text, shapes=None):
    return parse(text, shapes).result


# the same input in each dialect; a single Unicode character (−, ·) or LaTeX command pasted
# into an ASCII input must not change how any run is read
SAME = [
    ["norm2(X*W1 - Y)^2", "norm2(X*W1 − Y)^2", "‖XW1 − Y‖₂²", "‖XW₁ − Y‖²",
     r"\|X W_1 - Y\|_2^2", r"\|X W1 - Y\|^2"],
    ["x'Ax", "x'Ax + 0·x'Ax", "xᵀAx", r"x^\top A x", r"x^T Ax"],
    ["sin(Ax + y)", "sin(Ax + y)·1", "sin(A·x + y)", r"\sin(Ax + y)"],
    ["sum(log(b - Ax))", "sum(log(b − Ax))", r"\operatorname{sum}(\log(b - A x))"],
    ["a'b", "aᵀb", r"a^\top b"],
    ["ab'", "abᵀ", "a*b'", r"a b^\top"],
    ["tr(AXB)", "tr(A·X·B)", r"\operatorname{tr}(AXB)"],
    ["lam*x1", "λ·x₁", "lam·x1", r"\lambda x_1"],
]


@pytest.mark.parametrize("spellings", SAME, ids=[row[0] for row in SAME])
def test_every_dialect_reads_a_run_alike(spellings):
    first = parse(spellings[0])
    for text in spellings[1:]:
        p = parse(text)
        assert p.variables == first.variables, text
    if "0·" not in spellings[1] and "·1" not in spellings[1]:
        assert parse(spellings[1]).result == first.result


def test_a_letter_with_digits_is_a_subscripted_name_in_every_dialect():
    W1 = Var("W₁", ("n", "m"))
    for text in ("W1", "W₁", "W_1", r"W_{1}", "W1 + 0·W1"):
        assert W1 in parse(text).variables, text
    assert {v.name for v in parse("X1ᵀ").variables} == {"X₁"}


def test_a_single_unicode_minus_keeps_w1_a_name():
    """norm2(X*W1 − Y)^2 wrt W read W1 as W·𝟏 and answered 2Xᵀ(XW𝟏 − Yᵀ)𝟏𝟏ᵀ."""
    for text in ("norm2(X*W1 - Y)^2", "norm2(X*W1 − Y)^2"):
        with pytest.raises(MatcalcError) as err:
            derive(text, "W")
        assert "did you mean 'W₁'?" in err.value.hint
        result = derive(text, "W1")
        assert result.text.startswith("∂f/∂W₁ = 2Xᵀ(XW₁ − Y)"), result.text
        assert result.check().ok


@pytest.mark.parametrize("text", ["Ax", "A*x", "A·x", r"A x", "Ax + 0*y"])
def test_the_jacobian_of_ax_is_a_as_typed(text):
    """∂(Ax)/∂x = A: ASCII Ax was one name ('did you mean Ax?')."""
    result = derive(text, "x")
    assert result.text.splitlines()[0] == "∂F/∂x = A    (n×m, vec form)"
    assert result.check().ok


@pytest.mark.parametrize("text", ["x'Ax", "xᵀAx", "sum(exp(b - Ax))", "sum(exp(b − Ax))",
                                  "sum(sin(Ax + y))", "sum(sin(Ax + y)) + 0·sum(y)"])
def test_products_in_runs_give_the_gradient(text):
    result = derive(text, "x")
    assert "Ax_" not in result.text and result.check().ok, result.text
    assert any(v.name == "A" for v in result.program.variables)


@pytest.mark.parametrize("text", ["sum(log(b - Ax))", "sum(log(b − Ax))"])
def test_the_log_barrier_reads_ax_as_a_product(text):
    """∇ sum(log(b − Ax)) = −Aᵀ(1 ⊘ (b − Ax)), in either dialect."""
    assert tree(text) == tree("sum(log(b − A·x))")
    first = derive(text, "x").text.splitlines()[0]
    assert first == "∂f/∂x = −Aᵀ(1 ⊘ (b − Ax))    (vector of length m)"


def test_the_quadratic_form_in_ascii_is_numerically_right():
    """x'Ax silently returned a Jacobian of a name Ax; the gradient is (A + Aᵀ)x."""
    result = derive("x'Ax", "x", {"x": "3"})
    rng = np.random.default_rng(0)
    A, x = rng.standard_normal((3, 3)), rng.standard_normal(3)
    namespace: dict = {}
    exec(compile(result.numpy, "<generated>", "exec"), namespace)  # noqa: S102
    assert np.allclose(namespace["grad_x"](A=A, x=x).ravel(), (A + A.T) @ x)


def test_a_product_run_is_said_in_a_note():
    assert "'Ax' read as the product A·x (a run of letters; declare it to use it as one name)" \
        in parse("x'Ax").notes
    assert "'ab' read as the product a·b (a run of letters; declare it to use it as one name)" \
        in parse("abᵀ").notes


def test_a_lower_case_run_is_one_name_only_when_known_or_declared():
    assert tree("theta'*x") == MatMul(Transpose(Var("θ", ("n", 1))), Var("x", ("n", 1)))
    loss = parse("loss: scalar; loss*x")
    assert Var("loss", (1, 1)) in loss.variables
    defined = parse("loss = norm2(X*w - y)^2; loss")
    assert [name for name, _ in defined.definitions] == ["loss"]
    undeclared = parse("loss")
    assert "'loss' read as the product l·o·s·s (a run of letters; declare it to use it as one " \
        "name)" in undeclared.notes
    with pytest.raises(MatcalcError) as err:
        derive("sum(Ax)", "Ax")
    assert err.value.hint == ("'Ax' read as the product A·x (a run of letters; declare it to use "
                              "it as one name); its variables are: A, x")


def test_declared_names_come_first_in_a_run():
    p = parse("Ax: n x m; B: m x k; AxB")
    assert p.result == MatMul(Var("Ax", ("n", "m")), Var("B", ("m", "k")))


def test_an_underscore_subscript_ends_where_its_digits_end():
    """W_1W_1 is W₁·W₁ (it was one undeclared name W_1W_1, and tr(W₂) had the gradient 0)."""
    r = derive("W_1 = XX; W_2 = W_1W_1; tr(W_2)", "X")
    assert r.check().ok
    assert "4(Xᵀ)³" in r.text


def test_a_declared_name_in_a_run_leaves_no_digits_alone():
    """The fuzzed input `λ ∈ ℝ; Z = clip(λlam0, 0, 1)` ended in a traceback: the declared λ,
    spelt lam, was taken before the 0, which no letter then took: the digits go with a letter
    (λ·l·a·m₀), or with the declared λ₀ (λ·λ₀)."""
    result = derive("λ ∈ ℝ; λlam0", "λ")
    assert any("read as the product λ·l·a·m₀ " in n for n in result.notes), result.notes
    assert result.check().ok
    result = derive("λ ∈ ℝ; λ₀ ∈ ℝ; λlam0", "λ")
    assert result.text.splitlines()[0].startswith("∂f/∂λ = λ₀    ")
    assert result.check().ok


def test_a_run_of_declared_names_is_their_product_without_a_note():
    """XW with X and W declared can be nothing but X·W: the note that it was read as a product,
    with its advice to declare XW, was noise (user question 002, with --shape for X and W); a
    run with a letter read by convention keeps it."""
    declared = derive("XWᵀ", "X", shapes={"X": "64x1024", "W": "512x1024"})
    assert not any("read as the product" in n for n in declared.notes), declared.notes
    one_undeclared = derive("XWᵀ", "X", shapes={"X": "64x1024"})
    assert any("'XW' read as the product X·W" in n for n in one_undeclared.notes)


def test_every_printed_line_writes_a_product_of_names_alike():
    """The rule is one in every dialect, on output too: a line that happens to be plain ASCII
    writes the product A·x as Ax like the lines beside it (it wrote Diag(cos(A·x + y))A above
    G ↦ Aᵀ(G ∘ cos(Ax + y))), and still reads back as the product; a dot stays where the letters
    would spell a word (t·r, not tr)."""
    result = derive("sin(Ax + y)", "x")
    lines = result.text.splitlines()[:3]
    assert all("cos(Ax + y)" in line for line in lines), lines
    assert tree("Diag(cos(Ax + y))A") == tree("Diag(cos(A·x + y))A")
    assert "sin(t·r)" in derive("sum(cos(rt))", "r").text


@pytest.mark.parametrize("text", ["X1̂", "aBX1̂", "x2̃y"])
def test_an_accent_after_a_digit_is_an_unexpected_character(text):
    """A run took an accent after a digit (X1̂) and then found no letter where it looked for
    one: a traceback (fuzz seed 42). The accent is no part of the run; alone it is the same
    error as ̂X."""
    with pytest.raises(MatcalcError) as err:
        parse(text)
    assert err.value.message in ("unexpected character '\u0302'",
                                 "unexpected character '\u0303'")
    assert parse("X̂1").variables[0].name == "X̂₁"

