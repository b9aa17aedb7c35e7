"""Bad inputs: every one is a MatcalcError with this exact message and hint (never a Python
traceback, never a hang)."""

import pytest

from matcalc.errors import MatcalcError
from matcalc.reader import parse

NUMBERS = "numbers are exact fractions with at most 300 digits above and below the line " \
    "(1e-299 to 1e299)"

# (input, message, hint)
BAD = [
    ('',
     'empty input',
     'write an expression, e.g. ‖XWᵀ‖_F²'),
    ('   ',
     'empty input',
     'write an expression, e.g. ‖XWᵀ‖_F²'),
    ('X +',
     "dangling operator '+': it needs an operand after it",
     'complete the expression or remove the operator'),
    ('* X',
     "'*' needs an operand before it",
     'put an expression before the operator'),
    ('X + * Y',
     "missing operand between '+' and '*'",
     'put an expression between the two operators'),
    ('()',
     'empty parentheses',
     'put an expression inside, or remove them'),
    ('(X',
     "unbalanced parentheses: '(' is never closed",
     "add the matching ')'"),
    ('X)',
     "unbalanced parentheses: ')' has no matching '('",
     "remove it or add '(' before it"),
    ('(X]',
     "mismatched brackets: '(' is closed by ']'",
     ''),
    ('‖X',
     'unbalanced ‖: this ‖ is never closed',
     'close it with a second ‖'),
    ('‖x‖₂ + |y',
     'unbalanced |: this | is never closed',
     'close it with a second |'),
    ('(‖x)‖',
     "unbalanced ‖: this ‖ is not closed before ')'",
     'close it with a second ‖'),
    ('trace2(X)',
     "unknown function 'trace2' — did you mean 'tr'?",
     'or declare trace2 as a name (e.g. trace2: n x m) to multiply it'),
    ('sigmod(X)',
     "unknown function 'sigmod' — did you mean 'sigmoid'?",
     'or declare sigmod as a name (e.g. sigmod: n x m) to multiply it'),
    ('foo(X)',
     "unknown function 'foo'",
     ('the functions are listed in docs/language.md; declare foo to multiply by it as one name, '
      'or write foo*(…) for the product of its letters')),
    ('\\foo X',
     'unknown LaTeX command \\foo',
     'see docs/language.md for the LaTeX commands matcalc reads'),
    ('\\lamda x',
     'unknown LaTeX command \\lamda',
     'did you mean \\lambda?'),
    ('X ∈ ℝ^{n×m}; W ∈ ℝ^{k×m}; ‖XW‖_F',
     "X is n×m but W is k×m — the product XW needs X's columns (m) to equal W's rows (k)",
     ''),
    ('X ∈ ℝ^{n×m}; X⁻¹',
     'X⁻¹ needs a square matrix, X is n×m',
     ''),
    ('X ∈ ℝ^{n×m}; tr(X)',
     'tr(X) needs a square matrix, X is n×m',
     ''),
    ('X ∈ ℝ^{n×m}; det X',
     'det(X) needs a square matrix, X is n×m',
     ''),
    ('x ∈ ℝⁿ; x²',
     'x² needs a square matrix or a scalar, x is a vector of length n',
     'for the entrywise power write x^∘2; for the squared norm, ‖x‖²'),
    ('X^k',
     "symbolic exponents are not supported: 'k'",
     'use a number, e.g. X^2, X^{-1}, x.^3, or T for the transpose'),
    ('λ_max(X)',
     'λ_max(X) needs a symmetric matrix, and X is not symmetric by its form',
     'declare the matrix symmetric (S ∈ 𝕊^n) or take its symmetric part, ½(X + Xᵀ)'),
    ('lambda_min(A*B)',
     'lambda_min(A*B) needs a symmetric matrix, and A*B is not symmetric by its form',
     ("declare the matrix symmetric (S: n x n symmetric) or take its symmetric part, "
      "0.5*((A*B) + (A*B)')")),
    # vec⁻¹ without its shape (the ASCII unvec(v) was read as the product u·n·vec(v))
    ('unvec(a)',
     'unvec(…), the inverse of vec, needs its shape written',
     'write vec⁻¹_{n×m}(v) (ASCII unvec(v, n, m)) for the n×m matrix whose vec is v'),
    ('a ∈ ℝ^6; vec⁻¹(a)',
     'vec⁻¹(…), the inverse of vec, needs its shape written',
     'write vec⁻¹_{n×m}(v) (ASCII unvec(v, n, m)) for the n×m matrix whose vec is v'),
    ('a ∈ ℝ^6; vec⁻¹_{4×3}(a)',
     'a is a vector of length 6, not a vector of the 4·3 entries of vec⁻¹_{4×3}(a)', ''),
    ('Y = WX; W = XXᵀ',
     'W is used before its definition',
     'define W first, or use another name for the variable'),
    ('W = W + X',
     'W is used before its definition',
     'define W first, or use another name for the variable'),
    ('X ∈ ℝ^{n×m}; X ∈ ℝ^{n×n}; X',
     'X is declared twice, as n×m and as n×n',
     'keep one declaration'),
    ('W = X; W = Y; W',
     'W is defined twice',
     'give the second definition another name'),
    ('x ∈ ℝ^n',
     'the input has no expression to differentiate: it ends with a declaration',
     'add the expression as the last statement'),
    ('X; Y',
     'only the last statement may be a bare expression',
     'name it (f = …) to use it later, or remove it'),
    ('A,B',
     "unexpected ','",
     'a comma separates the two arguments of kron(A, B), frob(A, B), max(0, X) and ⟨A, B⟩, or the names of a declaration'),
    ('f = ',
     'empty statement',
     "write an expression after '='"),
    ('X ∈ ℝ^{n×m}; x ∈ ℝ^k; X + x',
     'x is a vector of length k but X is n×m — to broadcast it as a row (as NumPy does) its length must equal the columns (m); as a column, the rows (n)',
     ''),
    ('X ∈ ℝ^{n×m}; X/X',
     'cannot divide by X: it is n×m, not a scalar',
     'for entrywise division write A ⊘ B; for the inverse, X⁻¹'),
    ('x/0',
     'division by zero',
     ''),
    ('f(x) := αx; sum(f(X))',
     'the body of f(x) may use only x and numbers, not α',
     'pass α in the argument instead, e.g. f(αX)'),
    # var(x²) of a scalar was read, and f(X) computed var along the rows of X (a wrong shape
    # in the generated code; found by the end-to-end fuzz)
    ('f(x) := x³/var(x²); sum(f(X))',
     'the body of f(x) may use only what acts on each entry alone (+, −, ·, /, powers, exp, '
     'log, …), not var(x²)',
     'a reduction such as sum, mean or var belongs outside the function'),
    ('f(x) := x²',
     'the input has no expression to differentiate: it ends with a function definition',
     'add the expression as the last statement'),
    ('f(x) := x + X; sum(f(X))',
     'the body of f(x) must be a scalar expression of x; it is n×m',
     ''),
    ('softmax(X, 0)',
     'the axis of softmax must be 1 (down the rows) or 2 (along the columns)',
     'e.g. softmax(X, 1)'),
    ('clip(X, 1, 0)',
     'clip(X, low, high) needs two numbers with low < high',
     'e.g. clip(X, 0, 1)'),
    ('mean(X)',
     'mean of a matrix needs an axis: mean(X, 1) goes down the rows, mean(X, 2) along the '
     'columns',
     ''),
    ('sum(X, 3)',
     'the axis of sum must be 1 (down the rows) or 2 (along the columns)',
     'e.g. sum(X, 1)'),
    ('tr(X, Y)',
     'tr takes one argument, not 2',
     ''),
    ('kron(A)',
     'kron takes two arguments: kron(A, B)',
     ''),
    ('tr(I)',
     'the size of I cannot be inferred',
     'use I next to a matrix of known size, e.g. X + I, or declare the names it meets'),
    ('X = Y = Z',
     "unexpected '=' inside an expression",
     'a definition is NAME = expression, one per statement'),
    ('x + xᵀ',
     'x is a vector of length n but xᵀ is a row vector of length n — the sum x + xᵀ needs equal shapes',
     'transpose one of them'),
    ('X ∈ ℝ^{n×m}; Y ∈ ℝ^{m×n}; X + Y',
     'X is n×m but Y is m×n — the sum X + Y needs equal shapes',
     ''),
    ('∑x',
     "unsupported symbol '∑'",
     'matcalc works with whole matrices: sum(X) is the sum of all entries'),
    ('X € Y',
     "unexpected character '€'",
     'see docs/language.md for the accepted symbols'),
    ('‖X‖_∞',
     'unsupported norm ‖·‖_∞',
     'supported: ‖X‖_F (Frobenius), ‖x‖₂ (of a vector), ‖x‖₁'),
    ('X ∈ ℝ^{n×m}; X^(1/2)',
     'X^(1/2): a matrix power needs an integer exponent',
     'for the entrywise power write X^∘(1/2)'),
    ('W ∈ ℝ^{n×n}; W^(0.51/2)',
     'W^(0.51/2): a matrix power needs an integer exponent',
     'for the entrywise power write W^∘(51/200)'),
    ('W^(1/0)',
     "cannot read the exponent '1/0': it divides by zero",
     'an exponent p/q needs q ≠ 0'),
    ('x ∈ ℝ^n; x⁻¹',
     'x⁻¹ needs a square matrix, x is a vector of length n',
     'a vector has no inverse; for 1 ⊘ x write x^∘-1'),
    ('X ∈ foo; X',
     "cannot read the set 'foo'",
     'write ℝ, ℝ^n, ℝ^{n×m} or 𝕊^n (symmetric n×n); in ASCII, X: n x m'),
    ('S ∈ 𝕊^{n×m}; S',
     "a symmetric matrix must be square, got '𝕊^{n×m}'",
     'write ℝ, ℝ^n, ℝ^{n×m} or 𝕊^n (symmetric n×n); in ASCII, X: n x m'),
    ('ᵀX',
     "'ᵀ' needs an operand before it",
     'write it right after a name or a closing parenthesis, e.g. Xᵀ, (AB)ᵀ'),
    ('X^',
     "an exponent is missing after '^'",
     'e.g. X^2, X^{-1}, X^T'),
    ('2 +* 3',
     "missing operand between '+' and '*'",
     'put an expression between the two operators'),
    ('X ∈ ℝ^{n×m}; Diag(X)',
     'Diag needs a column vector, X is n×m',
     'for the diagonal of a square matrix as a vector, write diag(X)'),
    ('𝟙[x]',
     '𝟙[…] needs a comparison such as C > 0.2',
     ''),
    ('vector(2)',
     'vector(…) is supported only as vector(1), the all-ones vector',
     ''),
    ('\\sqrt[3]{x}',
     'only square roots are supported',
     '\\sqrt{x}; for other roots write x^{1/3}'),
    ('X ∈ ℝ^{n×m}; X:Xᵀ',
     'X is n×m but Xᵀ is m×n — the Frobenius product needs equal shapes',
     ''),
    ('X : n x q x r; X',
     "cannot read the shape 'n x q x r': more than two dimensions",
     'write e.g. 64x1024, n×m, n (a column vector), scalar, n x n symmetric or n x k onehot'),
    ('ℝ',
     "'ℝ' is only used in declarations",
     'declare a name in its own statement: X ∈ ℝ^{n×m}'),
    ('X ∈ ℝ^{n×m}; X²',
     'X² needs a square matrix, X is n×m',
     'for the entrywise power write X^∘2'),
    ('A ⊗',
     "dangling operator '⊗': it needs an operand after it",
     'complete the expression or remove the operator'),
    ('tr',
     "'tr' needs an argument",
     'e.g. tr(X)'),
    ('1e30800001X',
     'the number 1e30800001 is out of range',
     NUMBERS),
    ('2^99999999 X',
     'the number 2^99999999 is out of range',
     NUMBERS),
    ('(1e299 X)(1e299 X)',
     'the number (1e299 X)(1e299 X) is out of range',
     NUMBERS),
    ('X^2' + '0' * 300,
     'the exponent 2' + '0' * 300 + ' is out of range',
     NUMBERS),
    ('A⊗X−X',
     'A⊗X is k·n×m·p but X is k×p — the sum A⊗X−X needs equal shapes',
     ''),
    ('X ∈ ℝ^{5×6}; A ∈ ℝ^{2×3}; B⊗A − X',
     'B⊗A is 2·n×3·m but X is 5×6 — the sum B⊗A − X needs equal shapes',
     ''),
    ('0⁻¹X',
     'division by zero: 0⁻¹',
     ''),
    ('X ⊘ 0',
     'division by zero: X ⊘ 0',
     ''),
    ('X^∘2 + 0^∘-1',
     'division by zero: 0^∘-1',
     ''),
    ('0^(-1/2) X',
     'division by zero: 0^(-1/2)',
     ''),
    ('(-1)^(1/2) X',
     '(-1)^(1/2) is not a real number',
     'a negative number has no real fractional power'),
    ('\\;\\',
     'a lone backslash at the end',
     'write a LaTeX command (\\cdot, \\frac, …) or remove it'),
    ('X ∈ ℝ^{n×m}; y ∈ ℝ^m; X y + yᵀ',
     'X y is a vector of length n but yᵀ is a row vector of length m — the sum X y + yᵀ needs equal shapes',
     'transpose one of them'),
]


@pytest.mark.parametrize("text, message, hint", BAD, ids=[repr(row[0]) for row in BAD])
def test_bad_input_message(text, message, hint):
    with pytest.raises(MatcalcError) as err:
        parse(text)
    assert err.value.message == message
    assert err.value.hint == hint
    err.value.render()      # renders without failing


def test_table_is_large_enough():
    assert len(BAD) >= 30


def spans(text, shapes=None):
    with pytest.raises(MatcalcError) as err:
        parse(text, shapes)
    return list(err.value.spans)


def test_product_mismatch_points_at_both_factors():
    text = "X ∈ ℝ^{n×m}; W ∈ ℝ^{k×m}; ‖XW‖_F"
    assert spans(text) == [(27, 28), (28, 29)]
    with pytest.raises(MatcalcError) as err:
        parse(text)
    assert err.value.render() == (
        "X is n×m but W is k×m — the product XW needs X's columns (m) to equal W's rows (k)\n"
        "  X ∈ ℝ^{n×m}; W ∈ ℝ^{k×m}; ‖XW‖_F\n"
        "                             ^\n"
        "  X ∈ ℝ^{n×m}; W ∈ ℝ^{k×m}; ‖XW‖_F\n"
        "                              ^")


def test_spans_of_a_few_errors():
    assert spans("X + * Y") == [(2, 5)]
    assert spans("(‖x)‖") == [(1, 2), (3, 4)]
    assert spans("trace2(X)") == [(0, 6)]
    assert spans("X ∈ ℝ^{n×m}; X⁻¹") == [(13, 16)]
    assert spans("Y = WX; W = XXᵀ") == [(4, 5), (8, 9)]
    assert spans("X ∈ ℝ^{n×m}; X ∈ ℝ^{n×n}; X") == [(0, 1), (13, 14)]


def test_bad_shape_option():
    with pytest.raises(MatcalcError) as err:
        parse("X", {"X": "n by m"})
    assert err.value.message == "--shape X=n by m: cannot read the shape 'n by m'"


def test_shape_option_conflicting_with_a_declaration():
    with pytest.raises(MatcalcError) as err:
        parse("X ∈ ℝ^{n×n}; X", {"X": "3x4"})
    assert err.value.message == "X is declared twice, as 3×4 and as n×n"


@pytest.mark.parametrize("text", ["(" * 10_000 + "x" + ")" * 10_000, "‖" * 5000, "|" * 5000,
                                  "\\left(" * 3000 + "x", "X" + "ᵀ" * 5000,
                                  "exp(" * 2000 + "x" + ")" * 2000, "[" * 500 + "x" + "]" * 500])
def test_deep_nesting(text):
    with pytest.raises(MatcalcError) as err:
        parse(text)
    assert "nested too deeply" in err.value.message


def test_not_text():
    with pytest.raises(MatcalcError):
        parse(None)


def rendered(text):
    with pytest.raises(MatcalcError) as err:
        parse(text)
    return err.value.render()


def test_a_long_line_is_shown_around_the_caret():
    text = "X + " * 2000 + "* Y" + " + X" * 2000
    assert rendered(text).splitlines()[1:3] == [
        "  ..." + "+ X " * 10 + "+ *" + " Y" + " + X" * 9 + " +...",
        "  " + " " * 43 + "^^^"]


def test_a_long_span_gets_a_bounded_caret_line():
    lines = rendered("a" * 5000 + "(x)").splitlines()
    assert lines[0].startswith("unknown function 'aaaa") and len(lines[0]) < 100
    assert lines[1] == "  " + "a" * 120 + "..."
    assert lines[2] == "  " + "^" * 80
    assert all(len(line) <= 300 for line in lines)


def test_what_a_terminal_would_interpret_is_escaped():
    text = "X\x1b[31m + \u202eY"
    assert rendered(text).splitlines()[:3] == [
        "unexpected character '\\x1b'",
        "  X\\x1b[31m + \\u202eY",
        "   ^^^^"]
    assert rendered("X + \u202eY").splitlines()[1:3] == ["  X + \\u202eY", "      ^^^^^^"]


def test_carets_stay_under_combining_marks_and_tabs():
    assert rendered("X̂ +\t* Y").splitlines()[1:3] == ["  X̂ + * Y", "    ^^^"]


@pytest.mark.parametrize("text", ["1" * 5000 + "X", "X" + "⁹" * 5000, "0." + "0" * 400 + "1X",
                                  "1e" + "3" * 400 + "X",
                                  "θ 1" + "0" * 5000])
def test_numbers_beyond_the_limits(text):
    with pytest.raises(MatcalcError) as err:
        parse(text)
    assert err.value.message.endswith("is out of range")
