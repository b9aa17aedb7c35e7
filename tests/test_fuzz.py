"""Fuzzing the front end: every input either parses or is a MatcalcError — never another
exception — and no input takes more than a bounded amount of work.

The inputs are seeded: random short strings over the language's alphabet (its symbols, function
names, LaTeX commands, digits and letters), random expressions of the grammar's constructs after
random declarations, and mutations of valid inputs (the identity tables and the dialect
examples: a piece deleted, inserted, replaced, repeated or swapped, two inputs spliced). Instead of a clock, the work of one parse is bounded by a number of Python calls that
grows linearly with the input; beyond it the parse is stopped and reported as a hang.

CI runs FUZZ_COUNT inputs (1,000), and derives DERIVE_COUNT more (400). For a long run set
the environment variables, e.g. ``MATCALC_FUZZ_COUNT=100000 python -m pytest
tests/test_fuzz.py`` (about an hour), ``MATCALC_FUZZ_DERIVE_COUNT``; ``MATCALC_FUZZ_SEED``
picks another sequence.
"""

from __future__ import annotations

import os
import random
import sys

from identities import BLOCK_ROWS, HESSIAN_ROWS, JACOBIAN_ROWS, KNOWN_FORM_GAPS, ROWS

import matcalc
from matcalc.errors import InternalError, MatcalcError
from matcalc.reader import parse

FUZZ_COUNT = int(os.environ.get("MATCALC_FUZZ_COUNT", "1000"))
FUZZ_SEED = int(os.environ.get("MATCALC_FUZZ_SEED", "11"))

ALPHABET = [
    "X", "Y", "A", "W", "x", "y", "b", "n", "λ", "σ", "Σ", "μ", "ℓ", "I", "H", "T", "F", "e",
    "0", "1", "2", "9", "0.5", "1e3", "1e-5", "½", "𝟏", "𝟙",
    " ", "  ", "\t", "\n", ";", ",", "+", "-", "−", "*", "·", "@", "/", "∘", "⊙", "⊘", "⊗", ":",
    "=", ":=", "∈", "ℝ", "𝕊", "^", "_", "ᵀ", "'", "⁻¹", "²", "³", "⁻ᵀ", "ⁿ", "′", "₁", "₂",
    "‖", "|", "||", "(", ")", "[", "]", "{", "}", "⟨", "⟩", ">", "<", "≥", "≤", ".", ".*", "./",
    ".^", "**", "√", "X̂", "×",
    "tr", "det", "logdet", "log", "exp", "sum", "mean", "var", "softmax", "max", "min", "clip",
    "norm", "norm2", "kron", "frob", "inv", "diag", "Diag", "vec", "relu", "tanh", "σ(", "H(",
    "lam", "eps", "theta", "W1", "symmetric", "onehot", "scalar", "x n",
    "\\frac", "\\frac12", "\\|", "\\cdot", "\\circ", "\\otimes", "\\left(", "\\right)",
    "\\left|", "\\right|", "\\mathbf{", "\\in", "\\mathbb{R}", "^{", "_{", "}", "\\hat{",
    "\\top", "\\sqrt", "\\lambda", "\\log", "\\det", "\\operatorname{tr}", "\\,", "\\\\",
    "\\", "\\times", "\\langle", "\\rangle", "\\prime", "^{-1}", "^T", "_F", "_2",
    "f(x) :=", "f(", "x ∈ ℝ^n;", "X ∈ ℝ^{n×m};", "S ∈ 𝕊^n;", "W = ", "ℓ = ",
]

DIALECT_EXAMPLES = [
    "norm2(X*W')^2", "\\|X W^\\top\\|_F^2", "\\frac{1}{2}\\|Xw-y\\|_2^2", "2*A'*(A*x-b)",
    "x'*A*x", "sum(log(1 + exp(X*w)) - y.*(X*w))", "lam*norm2(w)^2 + norm1(x)",
    "X: n x m; W: k x m; norm2(X*W')", "\\mathbf{x}^\\top A \\mathbf{x}",
    "\\log\\det X + \\operatorname{tr}(S X^{-1})", "f(x) := x³/(1 + x²); sum(f(AX))",
    "max(0, X) + clip(Y, 0, 1)", "(C > 0.2) ∘ B", "⟨A, XB⟩", "kron(A, B)", "X^∘3 ⊘ Y",
    "softmax(Z, 1)", "logsumexp(Z, 2)", "vec(X)ᵀvec(Y)", "√(xᵀx)",
]


OPERANDS = ["X", "Y", "A", "W", "W₁", "x", "y", "b", "λ", "μ", "Σ", "𝟏", "I", "1", "2", "0",
            "0.5", "½", "n", "1e300", "X10"]
BINARY = [" + ", " − ", "", " ", "·", "*", " ∘ ", " ⊘ ", " ⊗ ", " : ", "/", " > "]
POSTFIX = ["ᵀ", "'", "⁻¹", "²", "^∘2", "⁻ᵀ", "^(1/2)", "^-1", "**100", "^0", "₁", "′"]
CALLS = ["tr", "det", "logdet", "exp", "log", "sum", "σ", "relu", "diag", "Diag", "vec",
         "softmax", "norm2", "inv", "abs", "sqrt", "H", "mean", "var", "logsumexp"]
CALLS2 = ["kron", "max", "min", "frob", "sum", "mean", "softmax", "norm"]
STATEMENTS = ["X ∈ ℝ^{n×m}; ", "X ∈ ℝ^{4×6}; ", "A ∈ ℝ^{2×3}; ", "x ∈ ℝ^n; ", "λ ∈ ℝ; ",
              "S ∈ 𝕊^n; ", "Y ∈ ℝ^{n×k} onehot; ", "f(x) := x²/(1 + x²); ", "b: n; "]


def expression(rng: random.Random, depth: int) -> str:
    """A random expression of the grammar's constructs (shapes are not respected)."""
    kind = rng.randrange(9) if depth else 0

    def e():
        return expression(rng, depth - 1)
    if kind == 0:
        return rng.choice(OPERANDS)
    if kind <= 2:
        return e() + rng.choice(BINARY) + e()
    if kind == 3:
        return e() + rng.choice(POSTFIX)
    if kind == 4:
        return f"{rng.choice(CALLS)}({e()})"
    if kind == 5:
        return f"{rng.choice(CALLS2)}({e()}, {rng.choice([e(), '1', '2', '0'])})"
    if kind == 6:
        return rng.choice(["({})", "‖{}‖", "‖{}‖_F²", "|{}|", "‖{}‖₁", "{}{}"]).format(e(), e())
    if kind == 7:
        return f"⟨{e()}, {e()}⟩"
    return f"clip({e()}, 0, 1)"


def program(rng: random.Random) -> str:
    """Random statements (declarations, a definition) before a random expression."""
    text = "".join(rng.sample(STATEMENTS, rng.randint(0, 2)))
    if rng.random() < 0.3:
        text += f"Z = {expression(rng, 2)}; "
    return text + expression(rng, rng.randint(1, 4))


def corpus() -> list[str]:
    rows = ROWS + KNOWN_FORM_GAPS + JACOBIAN_ROWS + HESSIAN_ROWS
    texts = {row.text for row in rows} | {row[0] for row in BLOCK_ROWS}
    return sorted(texts) + DIALECT_EXAMPLES


def fuzz_inputs(count: int, seed: int = FUZZ_SEED):
    """count inputs: a third random strings, a third random expressions of the grammar, a third
    mutations of valid inputs."""
    rng = random.Random(seed)
    valid = corpus()
    for _ in range(count):
        kind = rng.randrange(3)
        if kind == 0:
            yield "".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 12)))
        elif kind == 1:
            text = program(rng)
            yield mutate(rng, text, valid) if rng.random() < 0.3 else text
        else:
            text = rng.choice(valid)
            for _ in range(rng.randint(1, 3)):
                text = mutate(rng, text, valid)
            yield text


def mutate(rng: random.Random, text: str, valid: list[str]) -> str:
    i, j = sorted(rng.randint(0, len(text)) for _ in range(2))
    piece = rng.choice(ALPHABET)
    kind = rng.randrange(6)
    if kind == 0:
        return text[:i] + text[j:]                      # delete
    if kind == 1:
        return text[:i] + piece + text[i:]              # insert
    if kind == 2:
        return text[:i] + piece + text[i + 1:]          # replace one character
    if kind == 3:                                       # repeat a piece, up to 400 characters
        return text[:i] + text[i:j] * rng.randint(2, max(2, 400 // max(1, j - i))) + text[j:]
    if kind == 4 and j > i + 1:                         # swap two characters
        return text[:i] + text[j - 1] + text[i + 1:j - 1] + text[i] + text[j:]
    other = rng.choice(valid)                           # splice two inputs
    return text[:i] + other[rng.randint(0, len(other)):]


class WorkLimit(BaseException):
    """The parse made more calls than the bound (a BaseException: nothing in matcalc may
    catch it)."""


MATCALC = os.path.dirname(os.path.abspath(matcalc.__file__))


def work_bound(text: str) -> int:
    """Steps (Python calls, and lines run in matcalc) a parse may take: far above what any
    input needs, far below what an endless loop or an exponential search takes."""
    return 200_000 + 5_000 * len(text)


def parse_bounded(text: str):
    """parse(text), stopped with WorkLimit after work_bound(text) steps."""
    left = work_bound(text)

    def count(frame, event, arg):
        nonlocal left
        left -= 1
        if left < 0:
            raise WorkLimit(text)
        # lines are counted in matcalc's own code (a loop there makes no calls)
        return count if frame.f_code.co_filename.startswith(MATCALC) else None
    sys.settrace(count)
    try:
        return parse(text)
    finally:
        sys.settrace(None)


def outcome(text: str) -> str | None:
    """None if text parses or is a MatcalcError; else what went wrong."""
    try:
        parse_bounded(text)
    except MatcalcError as err:
        err.render()
    except WorkLimit:
        return f"more than {work_bound(text):,} steps"
    except Exception as err:  # noqa: BLE001 — any other exception is the failure sought
        return f"{type(err).__name__}: {err}"
    return None


def test_fuzzed_inputs_parse_or_are_matcalc_errors():
    parse("x")      # the grammar is built once, outside the bound
    failures = []
    for text in fuzz_inputs(FUZZ_COUNT):
        problem = outcome(text)
        if problem:
            failures.append(f"{text!r}: {problem}")
    assert not failures, f"{len(failures)} of {FUZZ_COUNT}:\n" + "\n".join(failures[:20])


DERIVE_COUNT = int(os.environ.get("MATCALC_FUZZ_DERIVE_COUNT", "400"))


def test_fuzzed_programs_derive_or_are_matcalc_errors():
    """Past the reader: each fuzzed input that parses is derived with respect to its first
    two variables and given as text, LaTeX and NumPy; only a MatcalcError that is not an
    internal error may stop it (a KeyError in the code generator, a LaTeX line breaker that
    took minutes on a long product were found so)."""
    failures = []
    for text in fuzz_inputs(DERIVE_COUNT, FUZZ_SEED + 1):
        try:
            variables = parse(text).variables[:2]
        except MatcalcError:
            continue
        for v in variables:
            try:
                result = matcalc.derive(text, v.name)
                result.text, result.latex, result.numpy
            except InternalError as err:
                failures.append(f"{text!r} wrt {v.name}: {err}")
            except MatcalcError:
                pass
    assert not failures, f"{len(failures)}:\n" + "\n".join(failures[:20])


def test_the_fuzzer_reaches_both_outcomes_and_every_kind_of_mutation():
    """The inputs are not all rejected (nor all accepted): the fuzzer reaches the elaborator."""
    parsed = errors = 0
    for text in fuzz_inputs(300):
        try:
            parse(text)
            parsed += 1
        except MatcalcError:
            errors += 1
    assert parsed > 30 and errors > 30


def test_the_work_bound_stops_an_endless_loop(monkeypatch):
    """A lexer that does not advance loops in matcalc's code: the bound stops it."""
    monkeypatch.setattr("matcalc.reader._Lexer._next_token", lambda self: None)
    assert outcome("X") == f"more than {work_bound('X'):,} steps"
