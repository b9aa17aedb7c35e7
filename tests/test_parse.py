"""The input language: every construct in every dialect gives the same hand-written tree."""

import sys
from fractions import Fraction as F

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matcalc.errors import MatcalcError
from matcalc.ir import (
    Add,
    Broadcast,
    Det,
    Diag,
    DiagOf,
    Frob,
    Func,
    Hadamard,
    HadPow,
    Identity,
    Kron,
    LogDet,
    LogSoftmax,
    LogSumExp,
    MatMul,
    Mean,
    Norm,
    Num,
    Ones,
    Power,
    Size,
    Softmax,
    Sum,
    Trace,
    Transpose,
    UserFunc,
    Var,
    Variance,
    Vec,
)
from matcalc.reader import Program, canonical_name, detect_dialect, parse, parse_shape_spec

# --- the names used in the expected trees (free dimensions are named n, m, k, p … in order
# of first appearance) ------------------------------------------------------------------------
A, B, C, X, Y, W = (Var(c, ("n", "m")) for c in "ABCXYW")
Xnn, Snn, Ann = Var("X", ("n", "n")), Var("S", ("n", "n")), Var("A", ("n", "n"))
x, y, b, w, a = (Var(c, ("n", 1)) for c in "xybwa")
lam = Var("λ", (1, 1))
mu, theta = Var("μ", ("n", 1)), Var("θ", ("n", 1))     # read from x − μ and θᵀx
ONE = Num(1)
NEG = Num(-1)


def neg(e):
    return MatMul(NEG, e)


def T(e):
    return Transpose(e)


def result(text, shapes=None):
    return parse(text, shapes).result


# =============================================================================================
# Dialects give identical trees: (expected tree, spellings, shapes)
# =============================================================================================

SAME_TREE = [
    # --- the seeds ---------------------------------------------------------------------------
    (Hadamard(B, Func("heaviside", Add(C, Broadcast(neg(lam), "n", "m")))),
     ["B∘H(C−λ)", "B .* heaviside(C - lam)", "B .* step(C - lam)", r"B \circ H(C - \lambda)",
      "B ∘ H(C - λ)"], None),
    (Hadamard(B, Func("heaviside", Add(C, Broadcast(Num(F("-0.2")), "n", "m")))),
     ["B∘(C>0.2)", "B .* (C > 0.2)", r"B \circ \mathbb{1}[C > 0.2]", r"B\circ (C>0.2)",
      "B∘𝟙[C > 0.2]", "B ⊙ (C ≥ 0.2)"], None),
    (Func("sigmoid", X), ["σ(X)", "sigmoid(X)", r"\sigma(X)", r"\sigma\left(X\right)"], None),
    (MatMul(Var("X", (64, 1024)), T(Var("W", (512, 1024)))),
     ["XWᵀ", "X*W'", r"X W^\top", r"\mathbf{X}\mathbf{W}^{\mathsf T}", "X·Wᵀ", "X@W.'"],
     {"X": "64x1024", "W": "512x1024"}),
    (Func("relu", X), ["max(0, X)", "relu(X)", r"\max(0, X)", "max(X, 0)", "ReLU(X)"], None),
    (Add(MatMul(Var("X", ("n", "m")), Var("W", ("m", "k"))),
         Broadcast(T(Var("b", ("k", 1))), "n", "k")),
     ["XW + b", "X*W + b", r"\mathbf{X}\mathbf{W} + \mathbf{b}", "X·W + b", "X W + b"], None),
    # --- the brief's examples ----------------------------------------------------------------
    (Power(Norm(MatMul(X, T(Var("W", ("k", "m")))), "F"), F(2)),
     ["‖XWᵀ‖_F²", "norm2(X*W')^2", r"\|X W^T\|_F^2", r"\left\| X W^\top \right\|_F^2",
      r"\lVert XW^T\rVert_F^2", "‖XWᵀ‖²", "||X*W'||_F^2"], None),
    (Trace(MatMul(Var("A", ("n", "m")), Var("X", ("m", "k")), Var("B", ("k", "n")))),
     ["tr(AXB)", "trace(A*X*B)", r"\operatorname{tr}(A X B)", "Tr(AXB)", r"\mathrm{Tr}(AXB)",
      "tr(A·X·B)"], None),
    (Power(Norm(Add(MatMul(A, Var("x", ("m", 1))), neg(b)), "F"), F(2)),
     ["‖Ax − b‖₂²", "norm2(A*x - b)^2", r"\left\| A x - b \right\|_2^2", "‖Ax − b‖_2^2",
      "norm(A*x - b)^2", "‖Ax - b‖²"], None),
    (MatMul(T(a), Power(Xnn, F(-1)), Var("b", ("n", 1))),
     ["aᵀX⁻¹b", "a'*inv(X)*b", "a^T X^{-1} b", "a'*X^-1*b", "aᵀ X^(-1) b"], None),
    (LogDet(Xnn), ["logdet X", "logdet(X)", r"\log\det X", "log det X", "log|det X|",
                   "log(det(X))", r"\log\left|\det X\right|", "log det(X)"], None),
    (Add(MatMul(Num(F(1, 2)), LogDet(Snn)),
         MatMul(Num(F(1, 2)), T(Add(x, neg(mu))), Power(Snn, F(-1)), Add(x, neg(mu)))),
     ["0.5 logdet(S) + 0.5 (x − μ)ᵀS⁻¹(x − μ)",
      "0.5*logdet(S) + 0.5*(x - mu)'*inv(S)*(x - mu)",
      r"\frac{1}{2}\log\det S + \frac{1}{2} (x - \mu)^T S^{-1} (x - \mu)",
      "½ logdet S + ½(x − μ)ᵀS⁻¹(x − μ)"], None),
    # --- scalar factors ----------------------------------------------------------------------
    (MatMul(lam, Power(Norm(w, "F"), F(2))),
     ["λ‖w‖²", "lam*norm(w)^2", r"\lambda \|w\|^2", "λ‖w‖₂²", "lambda*norm2(w)^2"], None),
    (MatMul(Num(F(1, 2)), Power(Norm(Add(MatMul(X, Var("w", ("m", 1))), neg(y)), "F"), F(2))),
     ["0.5‖Xw − y‖₂²", "0.5*norm2(X*w - y)^2", r"\frac{1}{2}\|Xw-y\|_2^2",
      "½‖Xw − y‖²", "norm2(X*w - y)^2/2"], None),
    (MatMul(Num(3), LogDet(Snn)), ["3logdet(S)", "3*logdet(S)", r"3 \log\det S"], None),
    (MatMul(Num(2), T(A), Add(MatMul(A, Var("x", ("m", 1))), neg(b))),
     ["2Aᵀ(Ax − b)", "2*A'*(A*x - b)", r"2 A^T (A x - b)"], None),
    # --- elementwise products, Kronecker, Frobenius ------------------------------------------
    (Hadamard(A, B), ["A∘B", "A.*B", r"A \circ B", "A⊙B", r"A \odot B"], None),
    (Hadamard(A, HadPow(B, F(-1))), ["A⊘B", "A./B", r"A \oslash B"], None),
    (HadPow(X, F(3)), ["X^∘3", "X.^3", r"X^{\circ 3}"], None),
    (Kron(Var("A", ("n", "m")), Var("B", ("k", "p"))),
     ["A⊗B", "kron(A,B)", r"A \otimes B", "kron(A, B)"], None),
    (Frob(A, B), ["A:B", "frob(A,B)", r"\langle A, B\rangle", "⟨A,B⟩", "A : B",
                  r"\left\langle A, B \right\rangle"], None),
    # \right belongs to the \rangle, not to the bar after it (the bar opens a norm)
    (MatMul(Frob(A, B), Norm(Var("X", ("k", "p")), "F")),
     [r"\left\langle A, B \right\rangle \|X\|_F", r"\left\langle A, B \right \rangle \|X\|"],
     None),
    # --- transpose, inverse, powers ----------------------------------------------------------
    (T(X), ["Xᵀ", "X'", r"X^\top", r"X^{\mathsf T}", "X^T", "X^{T}", "X⊤", r"X^\intercal"],
     None),
    (Power(Xnn, F(-1)), ["X⁻¹", "inv(X)", "X^-1", "X^{-1}", "X^(-1)"], None),
    (Power(Xnn, F(2)), ["X²", "X^2", "X^{2}", "X**2"], None),
    (T(Power(Xnn, F(-1))), ["X⁻ᵀ", "inv(X)'", "X^{-T}", "X⁻¹ᵀ"], None),
    (MatMul(T(x), Ann, x, Power(MatMul(T(x), x), F(-1))),
     ["(xᵀAx)/(xᵀx)", "(x'*A*x)/(x'*x)", r"\frac{x^T A x}{x^T x}"], None),
    (MatMul(Num(F(1, 2)), X), ["X/2", r"\frac{X}{2}", "½X", "0.5X", r"\frac12 X"], None),
    (MatMul(Var("x", ("n", 1)), Power(lam, F(-1))), ["x/λ", "x/lam", r"\frac{x}{\lambda}"],
     None),
    # --- norms, absolute value ---------------------------------------------------------------
    (Norm(X, "F"), ["‖X‖_F", "‖X‖", "norm(X)", "norm2(X)", r"\|X\|_F", r"\lVert X\rVert",
                    r"\left\| X \right\|", r"\left\lVert X \right\rVert_F", "||X||"], None),
    (Norm(x, "F"), ["‖x‖₂", "‖x‖_2", "norm2(x)", r"\|x\|_2", "‖x‖", "norm(x, 2)"], None),
    (Norm(x, "1"), ["‖x‖₁", "norm1(x)", r"\|x\|_1", "‖x‖_1", "norm(x, 1)"], None),
    (Func("abs", x), ["|x|", "abs(x)", r"\lvert x\rvert", r"\left| x \right|"], None),
    # --- trace, determinant, sums and diagonals -----------------------------------------------
    (Trace(Xnn), ["tr(X)", "Tr X", "trace(X)", r"\operatorname{tr}(X)", r"\mathrm{Tr}\,X",
                  "tr X"], None),
    (Det(Xnn), ["det X", "det(X)", r"\det X", r"\det(X)"], None),
    (Sum(X), ["sum(X)", r"\operatorname{sum}(X)"], None),
    (MatMul(T(Ones("n", 1)), X, Ones("m", 1)),
     ["1ᵀX 1", "vector(1)'*X*vector(1)", r"\mathbf{1}^T X \mathbf{1}", "𝟏ᵀX𝟏", "ones'*X*ones"],
     None),
    (Diag(x), ["Diag(x)", "diag(x)", r"\operatorname{Diag}(x)"], None),
    (DiagOf(Xnn), ["diag(X)", r"\operatorname{diag}(X)"], None),
    (Vec(X), ["vec(X)", r"\operatorname{vec}(X)"], None),
    # --- elementwise functions ---------------------------------------------------------------
    (Add(Func("sin", X), Func("cos", X), Func("tanh", X)),
     ["sin(X) + cos(X) + tanh(X)", r"\sin(X) + \cos(X) + \tanh(X)"], None),
    (Hadamard(Func("exp", X), Func("log", X), Func("tan", X)),
     ["exp(X)∘log(X)∘tan(X)", "exp(X).*log(X).*tan(X)", r"\exp(X) \circ \log(X) \circ \tan(X)",
      "exp(X).*ln(X).*tan(X)"], None),
    (Func("sqrt", x), ["√x", "sqrt(x)", r"\sqrt{x}", "√(x)"], None),
    (Add(Func("softplus", x), Func("sign", x)), ["softplus(x) + sign(x)",
                                                  r"\operatorname{softplus}(x) + \operatorname{sign}(x)",
                                                  "softplus(x) + sgn(x)"], None),
    # --- constants and broadcasting ----------------------------------------------------------
    (Add(Xnn, Identity("n")), ["X + I", "X + eye", r"\mathbf{X} + I"], None),
    (Add(C, Broadcast(neg(lam), "n", "m")), ["C − λ", "C - lam", r"C - \lambda"], None),
    (Add(Broadcast(ONE, "n", "m"), neg(Func("sigmoid", X))),
     ["1 − σ(X)", "1 - sigmoid(X)", r"1 - \sigma(X)"], None),
    (MatMul(Num(-2), X), ["−2X", "-2*X", r"-2 \mathbf{X}", "-(2X)", "−(2·X)"], None),
    (MatMul(Num(F("1e-5")), x), ["1e-5 x", "1e-5*x", r"1e-5 \, x"], None),
    # --- declarations and names --------------------------------------------------------------
    (MatMul(lam, T(x), x), ["λ ∈ ℝ; x ∈ ℝ^n; λxᵀx", "lam: scalar; x: n; lam*x'*x",
                            r"\lambda \in \mathbb{R}; x \in \mathbb{R}^n; \lambda x^T x",
                            "λ ∈ ℝ\nx ∈ ℝⁿ\nλxᵀx"], None),
    (Trace(Var("S", ("n", "n"), "symmetric")),
     ["S ∈ 𝕊^n; tr(S)", "S: n x n symmetric; trace(S)", r"S \in \mathbb{S}^n; \operatorname{tr}(S)",
      "S ∈ 𝕊^{n×n}; tr S"], None),
    (Add(MatMul(Var("W₁", ("n", "m")), Var("x", ("m", 1))), b),
     ["W₁x + b", "W1*x + b", "W_1 x + b", r"W_{1} x + b"], None),
    (MatMul(T(theta), x), ["θᵀx", "theta'*x", r"\theta^T x"], None),
    # --- axis reductions, softmax, max/min/clip (issue 6) ----------------------------------------
    (Mean(X, 1), ["mean(X, 1)", "mean(X,1)", r"\operatorname{mean}(X, 1)"], None),
    (Variance(X, 2), ["var(X, 2)", "var(X,2)", r"\operatorname{var}\left(X, 2\right)"], None),
    (MatMul(T(Ones("n", 1)), X), ["sum(X, 1)", "sum(X,1)", r"\operatorname{sum}(X, 1)", "𝟏ᵀX"],
     None),
    (MatMul(X, Ones("m", 1)), ["sum(X, 2)", "sum(X,2)", r"\operatorname{sum}(X, 2)", "X𝟏"], None),
    (Softmax(X, 2), ["softmax(X)", "softmax(X)", r"\operatorname{softmax}(X)", "softmax(X, 2)"],
     None),
    (LogSoftmax(x, 1), ["logsoftmax(x)", "log_softmax(x)", r"\operatorname{logsoftmax}(x)"],
     None),
    (LogSumExp(X, 2), ["logsumexp(X, 2)", "logsumexp(X,2)", r"\operatorname{logsumexp}(X, 2)"],
     None),
    (Func("relu", X), ["max(0, X)", "max(X, 0)", r"\max(0, X)"], None),
    (Add(X, neg(Func("relu", Add(X, Broadcast(NEG, "n", "m"))))),
     ["min(X, 1)", "min(X,1)", r"\operatorname{min}(X, 1)"], None),
    (Add(Func("relu", X), neg(Func("relu", Add(X, Broadcast(NEG, "n", "m"))))),
     ["clip(X, 0, 1)", "clip(X,0,1)", r"\operatorname{clip}(X, 0, 1)"], None),
    (MatMul(Var("Y", ("n", "k"), "onehot"), Ones("k", 1)),
     ["Y ∈ ℝ^{n×k} onehot; Y𝟏", "Y: n x k onehot; Y*vector(1)",
      r"Y \in \mathbb{R}^{n \times k} (one-hot); Y \mathbf{1}"], None),
    (Sum(Var("X̂", ("n", "m"))), ["sum(X̂)", r"\operatorname{sum}(\hat{X})",
                                  r"\operatorname{sum}(\widehat{X})"], None),
]


@pytest.mark.parametrize("expected, spellings, shapes", SAME_TREE,
                         ids=[row[1][0] for row in SAME_TREE])
def test_dialects_give_the_same_tree(expected, spellings, shapes):
    for text in spellings:
        assert result(text, shapes) == expected, text


def test_at_least_40_rows_and_all_dialects_covered():
    assert len(SAME_TREE) >= 40
    for _, spellings, _ in SAME_TREE:
        dialects = {detect_dialect(s) for s in spellings}
        assert "latex" in dialects or len(spellings) >= 2


@pytest.mark.parametrize("expected, spellings, shapes", SAME_TREE[:20],
                         ids=[row[1][0] for row in SAME_TREE[:20]])
def test_repr_round_trips(expected, spellings, shapes):
    from fractions import Fraction  # noqa: F401  (used by eval)

    from matcalc.ir import (  # noqa: F401
        Add,
        Broadcast,
        Det,
        Diag,
        DiagOf,
        Frob,
        Func,
        Hadamard,
        HadPow,
        Identity,
        Kron,
        LogDet,
        MatMul,
        Norm,
        Num,
        Ones,
        Power,
        Sum,
        Trace,
        Transpose,
        Var,
        Vec,
    )
    tree = result(spellings[0], shapes)
    assert eval(repr(tree)) == tree
    assert hash(eval(repr(tree))) == hash(tree)


# =============================================================================================
# Programs: definitions, result name, variables, notes
# =============================================================================================

def test_definitions_and_result_name():
    for text in ["W = XXᵀ; Y = WX; ℓ = ‖Y‖_F", "W = X*X'\nY = W*X\nell = norm2(Y)",
                 "W = X X^T \\\\ Y = W X \\\\ \\ell = \\|Y\\|_F", "W := XXᵀ; Y := WX; ℓ := ‖Y‖_F"]:
        p = parse(text)
        Xv = Var("X", ("n", "m"))
        assert p.definitions == (("W", MatMul(Xv, T(Xv))),
                                 ("Y", MatMul(Var("W", ("n", "n")), Xv))), text
        assert p.result == Norm(Var("Y", ("n", "m")), "F")
        assert p.result_name == "ℓ"
        assert p.variables == (Xv,)


def test_seed_with_declarations_of_defined_names():
    text = ("X \\in \\mathbb{R}^{D \\times N};\\; W \\in \\mathbb{R}^{D \\times D}\n"
            "W = XX^\\top\nY = WX\n\\ell = \\left\\lVert Y \\right\\lVert_F")
    p = parse(text)
    assert p.result == Norm(Var("Y", ("D", "N")), "F")
    assert p.definitions[0] == ("W", MatMul(Var("X", ("D", "N")), T(Var("X", ("D", "N")))))
    assert p.variables == (Var("X", ("D", "N")),)


def test_seed_bold_declarations():
    text = ("{\\bf X} \\in \\Bbb R^{64 \\times 1024}; {\\bf W} \\in \\Bbb R^{512 \\times 1024}; "
            "{\\bf Y} := {\\bf X} {\\bf W}^\\top")
    p = parse(text)
    assert p.result == MatMul(Var("X", (64, 1024)), T(Var("W", (512, 1024))))
    assert p.result_name == "Y" and p.definitions == ()


def test_seed_masked_hadamard_with_declarations():
    p = parse("A,B,C \\in \\mathbb{R}^{n\\times m}\nA = B\\circ (C>0.2)")
    assert p.result == Hadamard(B, Func("heaviside", Add(C, Broadcast(Num(F("-0.2")), "n", "m"))))
    assert p.result_name == "A"


def test_bare_expression_has_no_result_name():
    p = parse("tr(X)")
    assert isinstance(p, Program) and p.result_name is None and p.definitions == ()
    assert p.source == "tr(X)"


def test_shapes_act_as_declarations():
    p = parse("‖XWᵀ‖_F²", {"X": "64x1024", "W": "512x1024"})
    assert p.variables == (Var("X", (64, 1024)), Var("W", (512, 1024)))
    assert p.notes == ()          # a run of declared names needs no note
    assert result("lam*x", {"lam": "scalar", "x": "n"}) == MatMul(lam, x)
    assert result("S", {"S": "n x n symmetric"}) == Var("S", ("n", "n"), "symmetric")
    assert result("W1*x", {"W_1": "3x4"}) == MatMul(Var("W₁", (3, 4)), Var("x", (4, 1)))


def test_symmetric_everywhere():
    p = parse("S ∈ 𝕊^n; x ∈ ℝ^n; xᵀSx + tr(S)")
    S = Var("S", ("n", "n"), "symmetric")
    assert p.result == Add(MatMul(T(Var("x", ("n", 1))), S, Var("x", ("n", 1))), Trace(S))


def test_convention_notes():
    p = parse("‖Ax − b‖₂² + λ")
    assert p.notes == (
        "'Ax' read as the product A·x (a run of letters; declare it to use it as one name)",
        "A: n×m matrix (undeclared upper-case name: matrix by convention)",
        "x: vector of length m (undeclared lower-case name: column vector by convention)",
        "b: vector of length n (undeclared lower-case name: column vector by convention)",
        "λ: scalar (undeclared Greek name: scalar by convention)",
    )


def test_declared_function_name_is_a_product():
    p = parse("H ∈ ℝ^{n×n}; H(C − λ)")
    H = Var("H", ("n", "n"))
    Cn = Var("C", ("n", "m"))
    assert p.result == MatMul(H, Add(Cn, Broadcast(neg(lam), "n", "m")))
    assert "H is declared, so H(…) is read as the product H·(…), not as the Heaviside step" \
        in p.notes


def test_heaviside_note_and_row_broadcast_note():
    p = parse("B∘H(C−λ)")
    assert "H(…) read as the Heaviside step" in p.notes
    p = parse("XW + b")
    assert "b added to an n×k matrix broadcasts as a row bᵀ, as NumPy does" in p.notes


def test_column_broadcast_when_rows_match():
    p = parse("X ∈ ℝ^{n×m}; x ∈ ℝ^n; X + x")
    assert p.result == Add(X, Broadcast(x, "n", "m"))
    p = parse("X ∈ ℝ^{n×m}; y ∈ ℝ^m; X + yᵀ")
    assert p.result == Add(X, Broadcast(T(Var("y", ("m", 1))), "n", "m"))


def test_ones_digit_is_a_number_when_alone():
    assert result("1 + λ") == Add(ONE, lam)
    assert result("2·1") == Num(2)
    assert result("λ ∈ ℝ; x 1") == x   # 1 next to a column vector is the number
    assert result("XW + 1bᵀ") == Add(MatMul(Var("X", ("n", "m")), Var("W", ("m", "k"))),
                                     MatMul(Ones("n", 1), T(Var("b", ("k", 1)))))


def test_numbers_are_exact():
    assert result("0.2") == Num(F(1, 5))
    assert result("1e-5") == Num(F(1, 100000))
    assert result("2^3") == Num(8)
    assert result("1/3") == Num(F(1, 3))


def test_dimension_names_skip_user_symbols():
    p = parse("X ∈ ℝ^{n×m}; ‖XY‖_F")
    assert p.variables == (Var("X", ("n", "m")), Var("Y", ("m", "k")))


def test_parse_shape_spec():
    assert parse_shape_spec("64x1024") == ((64, 1024), "")
    assert parse_shape_spec("n×m") == (("n", "m"), "")
    assert parse_shape_spec("n x m") == (("n", "m"), "")
    assert parse_shape_spec("n") == (("n", 1), "")
    assert parse_shape_spec("scalar") == ((1, 1), "")
    assert parse_shape_spec("n x n symmetric") == (("n", "n"), "symmetric")
    assert parse_shape_spec("n symmetric") == (("n", "n"), "symmetric")
    with pytest.raises(MatcalcError):
        parse_shape_spec("n x m symmetric")
    with pytest.raises(MatcalcError):
        parse_shape_spec("n x m x k")
    # a size written as a product, as each dialect writes one (docs/language.md)
    assert parse_shape_spec("k*n x m*p") == (("k·n", "m·p"), "")
    assert parse_shape_spec(r"k \cdot n \times m") == (("k·n", "m"), "")
    assert parse_shape_spec("3*4") == ((3, 4), "")


def test_a_run_of_declared_sizes_is_their_product():
    """Issue 14: sizes nm, mn and m·n are one size (vec(X)ᵀA vec(X) with A ∈ ℝ^{nm×nm} was
    refused: cannot multiply 1×m·n by nm×nm); a run of letters that are not all sizes stays
    one size."""
    for text in ("X ∈ ℝ^{n×m}; A ∈ ℝ^{nm×nm}; vec(X)ᵀA vec(X)",
                 "X: n x m; A: mn x mn; vec(X)'*A*vec(X)",
                 r"X \in \mathbb{R}^{n \times m}; A \in \mathbb{R}^{nm \times mn}; "
                 r"\operatorname{vec}(X)^\top A \operatorname{vec}(X)"):
        program = parse(text)
        assert Var("A", ("m·n", "m·n")) in program.variables
        assert "the size " in " ".join(program.notes)
    assert Var("W", ("d", "dk")) in parse("X ∈ ℝ^{n×d}; W ∈ ℝ^{d×dk}; XW").variables


# =============================================================================================
# Precedence: one test per row of the table in docs/language.md
# =============================================================================================

def test_postfix_binds_tightest():
    assert result("λ ∈ ℝ; -λ^2") == neg(Power(lam, F(2)))     # −(λ²)
    assert result("2Xᵀ") == MatMul(Num(2), T(X))
    assert result("X⁻¹ᵀ") == T(Power(Xnn, F(-1)))
    assert result("(AB)ᵀ") == T(MatMul(Var("A", ("n", "m")), Var("B", ("m", "k"))))


def test_function_without_parentheses_takes_one_operand():
    assert result("tr X Y") == MatMul(Trace(Xnn), Var("Y", ("m", "k")))
    assert result("tr Xᵀ") == Trace(T(Xnn))
    assert result("log det X") == LogDet(Xnn)
    assert result("exp(X)²") == Power(Func("exp", Xnn), F(2))


def test_unary_minus_below_powers_above_products():
    assert result("-AB") == MatMul(NEG, Var("A", ("n", "m")), Var("B", ("m", "k")))
    assert result("A*-B") == MatMul(NEG, Var("A", ("n", "m")), Var("B", ("m", "k")))


def test_juxtaposition_tighter_than_hadamard():
    expected = Hadamard(MatMul(Var("A", ("n", "m")), Var("B", ("m", "k"))), Var("C", ("n", "k")))
    assert result("A B∘C") == expected
    assert result("A*B .* C") == expected
    assert result("A·B ∘ C") == expected


def test_division_is_a_product():
    assert result("2x/λ/μ") == MatMul(Num(2), x, Power(lam, F(-1)), Power(Var("μ", (1, 1)), F(-1)))


def test_hadamard_and_kron_tighter_than_frobenius_and_sum():
    assert result("A + B∘C") == Add(A, Hadamard(B, C))
    assert result("A:B + C:D") == Add(Frob(A, B), Frob(Var("C", ("k", "p")),
                                                        Var("D", ("k", "p"))))
    assert result("A∘B:C") == Frob(Hadamard(A, B), C)


def test_sum_and_difference_flatten():
    assert result("A − B + C") == Add(A, neg(B), C)
    assert result("A + (B + C)") == Add(A, B, C)
    assert result("a - -b") == Add(a, b)


def test_comparison_is_loosest():
    assert result("(A + B > C)") == Func("heaviside", Add(A, B, neg(C)))
    assert result("(C < λ)") == Func("heaviside", Add(Broadcast(lam, "n", "m"), neg(C)))
    assert result("(X > 0)") == Func("heaviside", X)


def test_products_flatten_and_fold_numbers():
    assert result("2(3X)") == MatMul(Num(6), X)
    assert result("2·x·3") == MatMul(Num(6), x)
    assert result("−(−X)") == X
    # a 1×1 product beside a matrix stays one factor (it is a scalar multiplier)
    xx = MatMul(T(x), Var("y", ("n", 1)))
    assert result("(xᵀy)Z") == MatMul(xx, Var("Z", ("m", "k")))


# =============================================================================================
# Limits
# =============================================================================================

def test_deep_nesting_is_an_error_not_a_recursion_error():
    with pytest.raises(MatcalcError) as err:
        parse("(" * 10_000 + "x" + ")" * 10_000)
    assert "nested too deeply" in err.value.message
    with pytest.raises(MatcalcError):
        parse("X" + "ᵀ" * 5000)


def test_kronecker_dimensions():
    """A product of dimensions has one name everywhere (a defined name's shape is the IR's),
    and a known factor that divides a number gives the other factor."""
    w = Var("W", ("k·n", "m·p"))
    a, b = Var("A", ("n", "m")), Var("B", ("k", "p"))
    assert parse("W = A⊗B; W + A⊗B").result == Add(w, Kron(a, b))
    assert parse("X ∈ ℝ^{4×6}; A ∈ ℝ^{2×3}; B⊗A − X").variables == (
        Var("B", (2, 2)), Var("A", (2, 3)), Var("X", (4, 6)))


def test_depth_counts_through_definitions():
    chain = "".join(f"W{i} = W{i - 1} + X; " for i in range(1, 199))
    assert len(parse("W0 = X; " + chain + "sum(W198)").definitions) == 199
    with pytest.raises(MatcalcError) as err:
        parse("W0 = X; " + chain + "W199 = W198 + X; sum(W199)")
    assert err.value.message == ("the expression is nested too deeply (more than 200 levels, "
                                 "counting through the definitions it uses)")


def test_a_limit_is_the_error_not_a_reason_for_another_reading():
    """D·i is 1×1 when i is a vector, and each D·i·D… nests one level deeper: past 200 levels
    the reader said so only after trying i as a scalar, which fits, so that DiDi… read i as a
    vector up to 150 times and as a scalar from 200 times."""
    assert parse("Di" * 90).variables[1] == Var("i", ("n", 1))
    with pytest.raises(MatcalcError) as err:
        parse("Di" * 200)
    assert err.value.message.startswith("the expression is nested too deeply")


def test_numbers_at_the_limits_are_exact():
    assert parse("1e299 X").result == MatMul(Num(10 ** 299), Var("X", ("n", "m")))
    assert parse("1e-299X").result == MatMul(Num(F(1, 10 ** 299)), Var("X", ("n", "m")))
    assert parse("2^996 ½^995 X").result == MatMul(Num(2), Var("X", ("n", "m")))
    assert parse("0⁰X").result == Var("X", ("n", "m"))


def test_digits_after_an_accented_letter_are_its_subscript():
    """One letter with an accent and digits is one name (X̂1 = X̂₁, as W1 = W₁)."""
    assert parse("X̂0").result == Var("X̂₀", ("n", "m"))
    assert parse("X̂1W").result == MatMul(Var("X̂₁", ("n", "m")), Var("W", ("m", "k")))


def test_latex_left_and_right_bars_say_which_side_they_are():
    r"""\lVert opens a norm and \rVert closes one, whatever stands before them: a norm inside a
    norm after a factor was closed at the inner \lVert (random composition, focus seed
    9600399, "a subscript must follow a name or a norm"). \left and \right say it first."""
    declared = r"G, H \in \mathbb{R}^{n \times n}; a \in \mathbb{R}; "
    for latex, unicode in [(r"\lVert a \lVert G\rVert_2 G\rVert_2", "‖a(‖G‖₂)G‖₂"),
                           (r"\lVert \operatorname{tr}(G) \lVert G + H\rVert_2 G\rVert_2",
                            "‖tr(G)(‖G + H‖₂)G‖₂"),
                           (r"\lvert a \rvert \lVert G\rVert_2", "|a|(‖G‖₂)"),
                           (r"\left\lVert G \right\lVert_F", "‖G‖_F")]:
        assert parse(declared + latex).result == parse("G, H ∈ ℝ^{n×n}; a ∈ ℝ; " + unicode).result


def test_latex_backslash_before_a_line_break_is_a_space():
    assert parse("X \\\n+ \\frac12 Y").result == parse("X + ½Y").result


def _repeat(unit, size, sep=" + "):
    """Copies of unit(i) joined by sep, up to size characters."""
    parts, length = [], 0
    while length + len(unit(len(parts))) + len(sep) <= size:
        parts.append(unit(len(parts)))
        length += len(parts[-1]) + len(sep)
    return sep.join(parts)


# Inputs that grow with n: every kind of long run the front end meets.
GROWING = {
    "capitals": lambda n: "sum(" + "X" * n + ")",
    "unicode capitals": lambda n: "sum(" + "X" * n + ")−1",
    "declared run": lambda n: "W₁₂ ∈ ℝ^{n×n}; sum(" + "XW12" * (n // 4) + ")",
    "variables": lambda n: _repeat(lambda i: f"x{i}'*y{i}", n),
    "terms": lambda n: _repeat(lambda i: f"tr(A{i}*X)", n),
    "unicode": lambda n: _repeat(lambda i: "sum(2Aᵀ(Ax − b)∘σ(Ax))", n),
    "latex": lambda n: _repeat(lambda i: r"\frac{1}{2}\|X W^\top\|_F^2", n),
    "definitions": lambda n: _repeat(lambda i: f"W{i} = A{i} X", n, "\n") + "\nsum(X)",
    "functions": lambda n: _repeat(lambda i: f"f{i}(x) := x^2", n, "; ") + "; sum(f1(X))",
    "products": lambda n: "tr(" + "A·" * (n // 2) + "A)",
    "powers": lambda n: "sum(" + "X²" * (n // 2) + ")",
    "subscripts": lambda n: "dW₁ ∈ ℝ^{n×n}; sum(" + "aX₂" * (n // 3) + ")",
}


def _work(text):
    """The Python function calls made in parsing text: a measure of the work that does not
    depend on the machine or its load."""
    canonical_name.cache_clear()
    calls = 0

    def count(frame, event, arg):
        nonlocal calls
        calls += event == "call"
    sys.setprofile(count)
    try:
        parse(text)
    finally:
        sys.setprofile(None)
    return calls


@pytest.mark.parametrize("family", GROWING)
def test_parse_work_grows_linearly(family):
    parse("x")      # the grammar is built once
    small, large = (_work(GROWING[family](n)) for n in (500, 2000))
    assert large < 4.4 * small


def test_long_expression_parses():
    text = " + ".join(["2Aᵀ(Ax − b)∘σ(Ax)"] * 110)
    assert len(text) >= 2000
    tree = parse(text).result
    assert isinstance(tree, Add) and len(tree.args) == 110


# =============================================================================================
# Properties
# =============================================================================================

_TOKENS = [
    ["B", "∘", "H", "(", "C", "−", "λ", ")"],
    ["‖", "X", "Wᵀ", "‖_F²"],
    ["0.5", "logdet", "(", "S", ")", "+", "0.5", "(", "x", "−", "μ", ")ᵀ", "S⁻¹", "(", "x", "−",
     "μ", ")"],
    ["2", "*", "A'", "*", "(", "A", "*", "x", "-", "b", ")"],
    ["\\frac", "{", "1", "}", "{", "2", "}", "\\|", "X", "w", "-", "y", "\\|_2^2"],
    ["W", "=", "X", "Xᵀ", ";", "Y", "=", "W", "X", ";", "ℓ", "=", "‖", "Y", "‖_F"],
]


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(_TOKENS), st.data())
def test_whitespace_between_tokens_does_not_matter(tokens, data):
    gaps = data.draw(st.lists(st.sampled_from(["", " ", "  ", "\t"]), min_size=len(tokens),
                              max_size=len(tokens)))
    spaced = "".join(g + t for g, t in zip(gaps, tokens))
    plain = " ".join(tokens) if "\\frac" in tokens else "".join(tokens)
    assert parse(spaced).result == parse(plain).result


# A small generator of expressions over n×n matrices with an ASCII serialiser; the expected
# tree is built by smart constructors written here (flattening like the language does).
N = ("n", "n")
_DECLARE = "A: n x n\nB: n x n\nC: n x n\n"
_LEAVES = {"A": Var("A", N), "B": Var("B", N), "C": Var("C", N)}


def _flat(cls, a, b):
    return cls(*(a.args if isinstance(a, cls) else (a,)), *(b.args if isinstance(b, cls) else (b,)))


def _mm(a, b):
    coeff, factors = F(1), []
    for e in (a, b):
        parts = e.args if isinstance(e, MatMul) else (e,)
        for f in parts:
            if isinstance(f, Num):
                coeff *= f.value
            else:
                factors.append(f)
    if coeff != 1:
        factors.insert(0, Num(coeff))
    return factors[0] if len(factors) == 1 else MatMul(*factors)


def _exprs():
    leaf = st.sampled_from(sorted(_LEAVES)).map(lambda k: (k, _LEAVES[k]))

    def extend(children):
        binary = st.tuples(st.sampled_from(["+", "-", "*", ".*"]), children, children)
        unary = st.tuples(st.sampled_from(["'", "exp", "neg", "2*"]), children)

        def make_binary(t):
            op, (ta, ea), (tb, eb) = t
            text = f"({ta} {op} {tb})"
            if op == "+":
                return text, _flat(Add, ea, eb)
            if op == "-":
                return text, _flat(Add, ea, _mm(Num(-1), eb))
            if op == "*":
                return text, _mm(ea, eb)
            return text, _flat(Hadamard, ea, eb)

        def make_unary(t):
            op, (ta, ea) = t
            if op == "'":
                return f"({ta})'", Transpose(ea)
            if op == "exp":
                return f"exp({ta})", Func("exp", ea)
            if op == "neg":
                return f"(-{ta})", _mm(Num(-1), ea)
            return f"(2*{ta})", _mm(Num(2), ea)
        return st.one_of(binary.map(make_binary), unary.map(make_unary))
    return st.recursive(leaf, extend, max_leaves=8)


@settings(max_examples=150, deadline=None)
@given(_exprs())
def test_random_ascii_expressions_parse_to_their_trees(pair):
    text, expected = pair
    assert result(_DECLARE + text) == expected


@settings(max_examples=100, deadline=None)
@given(_exprs())
def test_ascii_and_unicode_spellings_agree(pair):
    text, _ = pair
    unicode_text = (text.replace(".*", "∘").replace("'", "ᵀ").replace("-", "−")
                    .replace("*", "·"))
    assert result(_DECLARE + unicode_text) == result(_DECLARE + text)


def test_user_function_in_every_dialect():
    x1 = Var("x", (1, 1))
    body = Add(MatMul(Num(2), x1), Power(x1, F(2)))
    expected = Sum(UserFunc("f", "x", body, X))
    for text in ["f(x) := 2x + x²; sum(f(X))", "f(x) = 2*x + x^2\nsum(f(X))",
                 r"f(x) := 2x + x^2; \operatorname{sum}(f(X))"]:
        program = parse(text)
        assert program.result == expected, text
        assert program.functions == ("f",) and program.variables == (X,)


def test_user_function_of_several_letters_written_upright_in_latex():
    """\\mathrm{np}(x) calls the function np the input defines, as np(x) does (random
    composition 3401071 was refused: 'unknown function np')."""
    want = parse(r"np(s) := \frac{1}{1 + \exp(-s)}; \operatorname{sum}(np(X))").result
    for call in (r"\mathrm{np}(X)", r"\operatorname{np}(X)", r"\mathrm{np}\left(X\right)"):
        program = parse(r"\mathrm{np}(s) := \frac{1}{1 + \exp(-s)}; "
                        r"\operatorname{sum}(" + call + ")")
        assert program.result == want and program.functions == ("np",), call


def test_user_function_parameter_is_local():
    """The parameter of f is its own scalar, even where the expression has a vector x."""
    program = parse("f(x) := x²; xᵀf(x)")
    assert program.variables == (x,)


def test_declared_dimension_is_a_size():
    program = parse("X ∈ ℝ^{N×D}; (1/N)𝟏ᵀX")
    assert program.result == MatMul(Power(Size("N"), F(-1)), T(Ones("N", 1)),
                                    Var("X", ("N", "D")))
    assert "N read as the size N of a declared dimension" in program.notes


@pytest.mark.parametrize("commented, plain", [
    ("X ∈ ℝ^{n×n}  # the weights; see (1), \\frac and ‖\n# a line of its own\nℓ = tr(XX)  # ∂",
     "X ∈ ℝ^{n×n}\nℓ = tr(XX)"),
    ("sum(X  # a bracket ( stays open in a comment\n ∘ Y)", "sum(X ∘ Y)"),
    ("norm2(A*x - b)^2  # ½‖Ax − b‖²: Unicode in a comment", "norm2(A*x - b)^2"),
    ("# only the comment line has a Unicode λ\nsum(Wx)", "sum(Wx)"),
])
def test_comments_take_no_part_in_reading(commented, plain):
    # '#' to the end of the line is a comment in every dialect; it does not choose the dialect
    a, b = parse(commented), parse(plain)
    assert (a.result, a.variables, a.definitions) == (b.result, b.variables, b.definitions)
    assert a.source == commented


def test_error_after_a_comment_shows_the_line_as_written():
    text = "A ∈ ℝ^{n×m}  # not square\nA⁻¹"
    with pytest.raises(MatcalcError) as info:
        parse(text)
    assert info.value.text == text
    assert "A⁻¹\n  ^^^" in info.value.render()
    with pytest.raises(MatcalcError, match="empty input"):
        parse("# nothing but a comment\n")


# (declaration, what fails, the hint's suggestion of the entrywise power) in each dialect
ENTRYWISE_HINTS = [
    ("x: n", "(x + y)^2", "(x + y).^2", "norm2(x + y)^2"),
    ("x ∈ ℝ^n", "(x + y)²", "(x + y)^∘2", "‖x + y‖²"),
    (r"x \in \mathbb{R}^n", r"\left(x + y\right)^2", r"(x + y)^{\circ 2}", r"\|x + y\|^2"),
]


@pytest.mark.parametrize("declaration, bad, entrywise, norm", ENTRYWISE_HINTS)
def test_hints_are_written_in_the_inputs_dialect(declaration, bad, entrywise, norm):
    with pytest.raises(MatcalcError) as info:
        parse(f"{declaration}; {bad}")
    assert info.value.hint == (f"for the entrywise power write {entrywise}; for the squared "
                               f"norm, {norm}")
    # and what the hint suggests reads as said
    s = Add(x, Var("y", ("n", 1)))
    assert parse(f"{declaration}; {entrywise}").result == HadPow(s, F(2))
    assert parse(f"{declaration}; {norm}").result == Power(Norm(s, "F"), F(2))


@pytest.mark.parametrize("text, superscript, note", [
    ("X^2", "X²", "'X^2' read as the matrix power X*X; for the entrywise square write X.^2"),
    ("tr(X**3)", "tr(X³)", ("'X**3' read as the matrix power (not entrywise); for the "
                            "entrywise power write X.^3")),
    ("(A*B)**2", "(A*B)²", ("'(A*B)**2' read as the matrix power (A*B)*(A*B); for the "
                            "entrywise square write (A*B).^2")),
    ("X^2 + 𝟏𝟏ᵀ", "X² + 𝟏𝟏ᵀ", ("'X^2' read as the matrix power XX; for the entrywise square "
                               "write X^∘2")),
    (r"X^{2} + \mathbf{1}", r"X² + \mathbf{1}", (r"'X^{2}' read as the matrix power X X; for "
                                                r"the entrywise square write X^{\circ 2}")),
])
def test_a_matrix_power_written_with_a_caret_or_stars_has_a_note(text, superscript, note):
    # NumPy's X**2 and many a reader's X^2 are entrywise: the matrix power is said, with the
    # entrywise spelling; a superscript is the matrix power of mathematics and has no note
    assert note in parse(text).notes
    assert not any("matrix power" in n for n in parse(superscript).notes)


def test_no_matrix_power_note_for_scalars_and_inverses():
    for text in ("λ^2", "(x'*x)^2", "X^-1", "X**-1", "(xᵀx)^2"):
        assert not any("matrix power" in n for n in parse(text).notes), text

