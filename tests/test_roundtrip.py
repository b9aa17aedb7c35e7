"""Printed forms read back: re-printing a parsed tree and parsing it again gives the same tree
(issue 2), and every printed result — text, ASCII, LaTeX, its "where" lines and derivation —
read back by matcalc has the value of what it prints (issue 10).

The printer writes scalar factors first (λAX for A·λ·X), so the property is stated on trees
that came from printed text: parse(print(t)) == t for every t = parse(print(parse(input))),
and the first re-parse has the same value as the input's tree (numerical check)."""

from __future__ import annotations

import functools
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from identities import ROWS
from roundtrip import PRINTERS, Reader, printed_forms, same_value, without_laws

from matcalc import derive
from matcalc.errors import MatcalcError
from matcalc.derivation import adjoint, is_adjoint, line_expr
from matcalc.ir import Broadcast, D, Transpose, UserFunc, Var, dim_value, substitute, walk
from matcalc.printers import TextPrinter, to_ascii, to_text
from matcalc.reader import parse
from matcalc.report import derivation, render, render_steps

SHAPES = {"A": "n x n", "B": "n x n", "X": "n x n", "x": "n", "λ": "scalar"}
ATOMS = ["A", "B", "X", "Xᵀ", "X⁻¹", "(X + I)", "λX", "2A", "½B", "σ(X)", "exp(A)", "H(X − λ)",
         "xxᵀ", "Diag(x)", "A ∘ B", "A ⊘ B", "X^∘3", "(A + B)", "relu(X)", "1 − σ(A)"]


def combine(children):
    return st.one_of(
        st.tuples(children, children).map(lambda t: f"({t[0]})({t[1]})"),
        st.tuples(children, children).map(lambda t: f"{t[0]} + {t[1]}"),
        st.tuples(children, children).map(lambda t: f"{t[0]} − {t[1]}"),
        st.tuples(children, children).map(lambda t: f"({t[0]}) ∘ ({t[1]})"),
        children.map(lambda c: f"({c})ᵀ"),
        children.map(lambda c: f"tanh({c})"),
        children.map(lambda c: f"−({c})"),
    )


MATRICES = st.recursive(st.sampled_from(ATOMS), combine, max_leaves=8)
SCALARS = MATRICES.flatmap(lambda m: st.sampled_from(
    [f"tr({m})", f"‖{m}‖_F²", f"sum({m})", f"xᵀ({m})x", f"logdet({m})", f"‖{m}‖_F"]))


@settings(max_examples=150, deadline=None)
@given(st.one_of(MATRICES, SCALARS))
def test_unicode_reprint_round_trips(text):
    tree = parse(to_text(parse(text, SHAPES).result), SHAPES).result
    assert parse(to_text(tree), SHAPES).result == tree


@settings(max_examples=100, deadline=None)
@given(st.one_of(MATRICES, SCALARS))
def test_ascii_reprint_round_trips(text):
    shapes = {"A": "n x n", "B": "n x n", "X": "n x n", "x": "n", "lam": "scalar"}
    tree = parse(to_ascii(parse(text, SHAPES).result), shapes).result
    assert parse(to_ascii(tree), shapes).result == tree


@settings(max_examples=60, deadline=None)
@given(st.one_of(MATRICES, SCALARS))
def test_reprint_keeps_the_value(text):
    from matcalc.evaluate import assign_sizes, evaluate, random_inputs
    original = parse(text, SHAPES)
    reread = parse(to_text(original.result), SHAPES).result
    sizes = assign_sizes([original.result])
    env = random_inputs(original.result, original.variables, sizes, np.random.default_rng(0))
    a, b = evaluate(original.result, env, sizes), evaluate(reread, env, sizes)
    assert np.allclose(a, b, equal_nan=True)


# --- every printed form means its value (issue 10) ------------------------------------------

STYLES = list(PRINTERS)

# Printed forms that read back wrong before: a number beside a number (21 ⊘ X), ⊘ inside a
# product (1 ⊘ b(1 ⊘ b)ᵀ), a power of log det, negative coefficients, powers of calls, Kronecker
# products times vectors, transposes of sums, nested fractions, broadcasts.
TRICKY = [
    ("sum(2log(X))", "X"),
    ("sum(A ∘ (b^∘(−1)(b^∘(−1))ᵀ))", "A"),
    ("logdet(X)^3", "X"),
    ("‖x‖", "x"),
    ("(aᵀx)²(bᵀx)", "x"),
    ("−3tr(AX) − 2sum(X)", "X"),
    ("exp(λ)^2 + sin(λ)³", "λ"),
    ("tr(X)²·det(X)", "X"),
    ("sum((A + B)ᵀX)", "X"),
    ("(xᵀAx)/(1 + (xᵀx)/(1 + λ²))", "x"),
    ("1/(1 + 1/(1 + λ²))", "λ"),
    ("sum(X ⊘ (A ∘ B))", "A"),
    ("mean(x)^2", "x"),
    ("X ∈ ℝ^{n×n}; v ∈ ℝ^n; sum(exp(X + v))", "v"),
    ("X ∈ ℝ^{n×m}; b ∈ ℝ^m; sum(exp(X + bᵀ))", "b"),
    ("wᵀ(A ⊗ B)vec(X)", "w"),
    ("B ∈ ℝ^{n×n}; b ∈ ℝ^n; logdet(B³(I + bᵀ)ᵀ + I)", "b"),
    ("(1)ᵀ − logdet(A)", "A"),
    ("sum(exp(X − λ))", "λ"),
    ("√(1 + λ²)³", "λ"),
    ("t ∈ ℝ; r ∈ ℝ; X ∈ ℝ^{n×n}; sum(t·r·exp(X))", "X"),
    ("f(x) := x³/(1 + x²); sum(f(AX))", "X"),
    ("XWᵀ", "W"),
    ("σ(Xw)", "w"),
    ("softmax(z)", "z"),
    ("‖relu(Wᵀ)‖", "W"),                 # K_{m,n} and K_{n,m} in one Hessian
    ("det(I ∘ S)", "S"),                  # Diag(vec(I)), mean(I, 1): sized only where used
    ("√(1 + mean(z)²)", "z"),
    ("sum(A ∘ softmax(X, 2))", "X"),
    ("sum(σ(x/(1 + λ²)))/(1 + λ)", "λ"),   # a fraction inside a fraction's numerator
    ("u ∈ ℝ^n; Σ ∈ 𝕊^n; n·logdet(Σ)·sum(u)", "u"),   # n log det(Σ)𝟏, not nlog det(Σ)𝟏
    ("X̂ ∈ ℝ^{k×p}; G ∈ ℝ^{m×k}; sum(logsoftmax(GX̂))", "X̂"),   # softmax named p beside a size p
    ("Λ ∈ ℝ^{m×p} onehot; u ∈ ℝ^k; X̂ ∈ ℝ^{k×n}; sum(sum(Λ)uᵀX̂)", "X̂"),   # m·u, not mu = μ
    # a column beside a square matrix whose rows only a 𝟏 gives: np ∘ (𝟏𝟏ᵀ·valueᵀ) read np as
    # a row (random compositions, seed 500247)
    ("ε ∈ ℝ; value ∈ ℝ^{m×k}; np ∈ ℝ^m; B ∈ 𝕊^{m×m}; (ε + ε) ∘ εsum((B ∘ np) value)", "B"),
    # a name spelt as a function's symbol: σ(λ) beside a name σ read as σ·λ (seed 900153)
    ("x ∈ ℝ^m; λ ∈ ℝ; σ = xᵀ; sum(σ)·sigmoid(λ)", "λ"),
    ("σ ∈ ℝ; sum(sigmoid(x))·σ", "σ"),
    ("H ∈ ℝ^{n×n}; sum(H ∘ heaviside(X − H))", "H"),
    # vec⁻¹ printed without its shape could not be read back (aᵀvec(X), ∂/∂X)
    ("aᵀvec(X)", "X"),
    ("wᵀ(A ⊗ B)vec(X)", "X"),
    # the sizes n·p beside β written npβγ, read as the variable np (seed 501988)
    ("B: m x p; W: n x p; gamma, beta: scalar; X_hat: n x n; np: n; x: m; C = x'; "
     "(X_hat .* sum(W .* 1.5 + gamma .* beta - C @ (B - B)))*((((np - np) .* np + beta) .* np)"
     "*gamma)", "beta"),
]


@functools.cache
def _derived(text, wrt, kind="auto", shapes=()):
    return derive(text, wrt, dict(shapes), kind=kind)


def _check_result(result, style):
    """Each printed line of each derivative, read back, has the value of what it prints."""
    for d in result.derivatives:
        extra = [d.map_var] if d.map_var is not None else []
        reader = Reader(result.program, extra)
        trees = [t for t in (d.expr, d.gradient, d.map_expr) if t is not None]
        lines = render(d, style, result._names)
        forms = printed_forms(lines, style, d.kind)
        # the lines print the vec form (or ∇f), the Hessian, the map form, in this order
        order = [d.gradient, d.expr, d.map_expr] if d.kind == "hessian" else trees
        assert len(forms) == len(order), lines
        for tree, text in zip(order, forms):
            want = reader.value(tree)
            got = reader.read(text, style, like=tree)
            assert same_value(want, got), f"{text!r} does not read back as {tree!r}"
        # the "where" definitions read on their own: each I and 𝟏 sized where it is defined
        where = forms[0].split("; ")[:-1]
        if where:
            reader.parse("; ".join(where + ["0"]), style, like=d.expr)


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_identity_results_read_back(row, style):
    _check_result(_derived(row.text, row.wrt, "auto", tuple(row.shapes.items())), style)


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("kind", ["auto", "jacobian", "hessian"])
@pytest.mark.parametrize("text, wrt", TRICKY, ids=[t for t, _ in TRICKY])
def test_tricky_results_read_back(text, wrt, kind, style):
    result = _derived(text, wrt)
    if kind == "hessian" and result.program.result.shape != (1, 1):
        return
    _check_result(_derived(text, wrt, kind), style)


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("text, wrt", TRICKY, ids=[t for t, _ in TRICKY])
def test_tricky_inputs_read_back(text, wrt, style):
    program = _derived(text, wrt).program
    reader = Reader(program)
    printed = PRINTERS[style].doprint(program.result)
    assert same_value(reader.value(program.result),
                      reader.read(printed, style, like=program.result)), printed


@pytest.mark.parametrize("style", STYLES)
def test_a_where_name_keeps_its_transpose(style):
    """A where name for value + bᵀ and another for its transpose hid from the reader the
    symmetry q_min needs, VᵀT₂T₁V (random compositions, seed 501771): it is VᵀT₁ᵀT₁V."""
    result = _derived("V ∈ ℝ^{p×p}; b ∈ ℝ^p; value ∈ ℝ^{m×p}; "
                      "0.1/λ_min(((value + bᵀ)V)ᵀ((value + bᵀ)V) + I)", "V")
    assert "T₂" not in result.text, result.text
    _check_result(result, style)


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("text, wrt, kind", [
    # λ_max(2τx·X̂) for X̂ = xᵀ is symmetric only through the definition (seed 1200045)
    ("x: n; X_hat = x'; C: k x k; tau: scalar; lambda_max(tau*x*X_hat + (tau*x*X_hat)')*sum(C)",
     "C", "auto"),
    # X̂ᵀZᵀ + 4X̂ᵀX̂ + I + ZX̂ was factored into X̂ᵀ(Zᵀ + 4X̂) + I + ZX̂ (seed 1200793)
    ("W1: n x n symmetric; G: kxn onehot; v1: m; c: k; X_hat: p x n stochastic; y: m; "
     "Z: nxp; np: n; c - norm(lambda_max((X_hat + X_hat)'*(X_hat + X_hat) + I + (Z*X_hat + "
     "(Z*X_hat).'))*(sum(y.' .* v1' .* lambda_max(W1))*(5*(G .* np.' - 0.75 ./ 0.75))), 2)",
     "np", "jacobian"),
])
def test_symmetric_arguments_read_back_symmetric(text, wrt, kind, style):
    """λ_max and q_max need an argument symmetric by its form: it stays so when tidied, and the
    reader sees it through the definitions."""
    _check_result(_derived(text, wrt, kind), style)


def test_item_5_prints():
    """The printed forms of issue 10, item 5, as they now read."""
    assert _derived("sum(2log(X))", "X").text.startswith("∂f/∂X = 2(1 ⊘ X)")
    assert _derived("sum(A ∘ (b^∘(−1)(b^∘(−1))ᵀ))", "A").text.startswith(
        "∂f/∂A = (1 ⊘ b)(1 ⊘ b)ᵀ")
    assert _derived("logdet(X)^3", "X").text.startswith("∂f/∂X = 3(log det(X))²X⁻ᵀ")


def _steps_value(reader, text, dx_name, dx_shape, dx, like, shape=None):
    """A derivation line read with the differential dX declared as a name."""
    reader.variables.append(Var(dx_name, dx_shape))
    reader.env[dx_name] = dx
    try:
        return reader.read(text, "text", like=like, shape=shape)
    finally:
        reader.variables.pop()


def _check_steps(text, wrt, kind, shapes=()):
    """Each line of a derivation, read with dX a name, is the same linear function of dX: the
    gradient's lines all equal ∇f : dX, the differential's all dF, and the vec line is vec of
    dF (a line with the differential of anything but X is not a value in dX)."""
    result = _derived(text, wrt, "auto", shapes)
    (d,) = _derived(text, wrt, kind, shapes).derivatives
    reader = Reader(result.program)
    dx_name = "d" + d.wrt.name
    dx = np.random.default_rng(1).standard_normal([dim_value(n, reader.sizes)
                                                    for n in d.wrt.shape])
    if d.wrt.structure == "diagonal":           # its gradient is over its diagonal entries
        dx = np.diag(np.diag(dx))
    if d.wrt.structure in ("symmetric", "spd"):  # in the symmetric matrices
        dx = (dx + dx.T) / 2
    printer = TextPrinter(colon=True)
    with_dx = {D(d.wrt): Var(dx_name, d.wrt.shape)}
    differential = _steps_value(reader, to_text(substitute(d.differential, with_dx)), dx_name,
                                d.wrt.shape, dx, d.differential) if d.differential else None
    grad = reader.value(d.gradient if d.kind == "hessian" else d.expr)
    for part, block in derivation(d):
        if part == "gradient":
            want, like = np.array([[np.sum(grad * dx)]]), d.function
        elif part == "adjoint":
            # read backwards: the last block is ∂f/∂X itself, the others parts of it
            if block.lead != adjoint(d.fname, d.wrt.name, d.wrt.shape):
                continue
            want, like = grad, d.wrt
        else:
            want, like = differential, d.differential
        for line in block.lines:
            body = line_expr(line)
            if all(n == D(d.wrt) for n in walk(body) if isinstance(n, D)) and \
                    not any(is_adjoint(n) for n in walk(body)):
                text = printer.doprint(substitute(body, with_dx))
                got = _steps_value(reader, _with_derivatives(text, body), dx_name,
                                   d.wrt.shape, dx, like)
                if part == "adjoint" and d.wrt.structure == "diagonal":
                    # a gradient over the diagonal entries: G and G ∘ I are the same one
                    want, got = np.diag(np.diag(want)), np.diag(np.diag(got))
                assert same_value(want, got), text
    if d.kind != "gradient":
        steps = render_steps(d, "text").splitlines()
        end = max(i for i, ln in enumerate(steps) if ln.lstrip().startswith("⇒"))
        # the vec line, with its continuations, before its laws (on lines of their own)
        lines = without_laws(steps[:end])
        start = max(i for i, ln in enumerate(lines) if " = " in ln)
        vec = " ".join(ln.strip() for ln in lines[start:])
        vec = vec.split("= ", 1)[1].split("      [")[0]      # vec(dF) = …, or = … under dF
        got = _steps_value(reader, vec, dx_name, d.wrt.shape, dx, d.expr, (d.expr.rows, 1))
        assert same_value(differential.reshape(-1, 1, order="F"), got), vec


def _with_derivatives(text: str, body) -> str:
    """The text with the derivatives f′ it calls defined before it."""
    primed = {n.name: n for n in walk(body) if isinstance(n, UserFunc) and "′" in n.name}
    return "; ".join([f"{to_text(UserFunc(f.name, f.param.name, f.body, f.param))} = "
                      f"{to_text(f.body)}" for f in primed.values()] + [text])


@pytest.mark.parametrize("text, wrt", [("xᵀAx", "x"), ("XWᵀ", "X"), ("‖XWᵀ‖_F²", "W"),
                                       ("tr(X)²", "X"), ("sum(σ(Xw))", "w")])
@pytest.mark.parametrize("kind", ["gradient", "jacobian", "hessian"])
def test_steps_read_back(text, wrt, kind):
    result = _derived(text, wrt)
    if (kind != "jacobian") == (result.program.result.shape == (1, 1)):
        _check_steps(text, wrt, kind)


def test_diagonal_variable_through_a_definition_steps_read_back():
    """The backward reading's closing block is of gradients: its last line, the diagonal's
    mask, was written (G ∘ I) : dD, a scalar among matrices (random case 100109)."""
    _check_steps("D ∈ ℝ^{p×p} diagonal; Λ ∈ ℝ^{p×k}; Z := Λ; 𝟏ᵀ(D @ Z)𝟏", "D", "auto")


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_identity_steps_read_back(row):
    _check_steps(row.text, row.wrt, "auto", tuple(row.shapes.items()))


# What matcalc prints, read by its own reader (each read wrongly or refused before).
F_PRIME = ("Sum(UserFunc('f′', 'x', MatMul(Num(Fraction('3')), Var('x', (1, 1))), "
           "Var('X', ('n', 'm'))))")
READINGS = [
    # vec⁻¹ with its shape written, in the three dialects (the length m·n leaves it open)
    ("vec⁻¹_{n×m}(a)", {"a": "m·n"},
     "Unvec(Var('a', ('m·n', 1)), 'n', 'm')"),
    ("unvec(a, k*n, m)", {"a": "k·m·n"},
     "Unvec(Var('a', ('k·m·n', 1)), 'k·n', 'm')"),
    (r"\operatorname{vec}^{-1}_{3 \times 2}(a)", {"a": "6"},
     "Unvec(Var('a', (6, 1)), 3, 2)"),
    (r"\frac{x}{\left\| x \right\|_{2}}", {},
     "MatMul(Var('x', ('n', 1)), Power(Norm(Var('x', ('n', 1)), 'F'), Fraction('-1')))"),
    ("X + v", {"X": "n x n", "v": "n"},
     "Add(Var('X', ('n', 'n')), Broadcast(Var('v', ('n', 1)), 'n', 'n'))"),
    ("Xexp(Y)", {}, "MatMul(Var('X', ('n', 'm')), Func('exp', Var('Y', ('m', 'k'))))"),
    ("f′(x) := 3x; sum(f′(X))", {}, F_PRIME),
    (r"f^{\prime}\left(x\right) = 3 x \\ \operatorname{sum}\left(f^{\prime}\left(X\right)\right)",
     {}, F_PRIME),
    ("f_prime(x) = 3*x; sum(f_prime(X))", {}, F_PRIME),
    ("X_hat = 2*X; X_hat", {}, "Var('X̂', ('n', 'm'))"),
    ("(I ⊗ X)vec(b)", {"X": "3x4", "b": "4"},
     "MatMul(Kron(Identity(1), Var('X', (3, 4))), Vec(Var('b', (4, 1))))"),
    ("K_{m,n}vec(X)", {"X": "m x n"}, "MatMul(Commutation('m', 'n'), Vec(Var('X', ('m', 'n'))))"),
    (r"K_{k \cdot n,2} \operatorname{vec}\left(X\right)", {},
     "MatMul(Commutation('k·n', 2), Vec(Var('X', ('k·n', 2))))"),
    ("w ∈ ℝ^{k·n}; K_{k,n}w", {}, "MatMul(Commutation('k', 'n'), Var('w', ('k·n', 1)))"),
    # sized I and 𝟏 in the three dialects: I_n, I₃, 𝟏_{k·n}; ASCII eye(n), ones(m, n)
    ("tr(I_{k·n}) + 𝟏_nᵀ𝟏_n", {},
     "Add(Trace(Identity('k·n')), MatMul(Transpose(Ones('n', 1)), Ones('n', 1)))"),
    ("I₃ + I_3 + I_{3} + 𝟏₃𝟏_3ᵀ", {},
     "Add(Identity(3), Identity(3), Identity(3), MatMul(Ones(3, 1), Transpose(Ones(3, 1))))"),
    (r"\operatorname{tr}(I_{n}) + \mathbf{1}_{k \cdot n}^{\top} \mathbf{1}_{k \cdot n}", {},
     "Add(Trace(Identity('n')), MatMul(Transpose(Ones('k·n', 1)), Ones('k·n', 1)))"),
    ("eye(k*n) + ones(k*n, 1)*ones(1, k*n) + ones(k*n)", {},
     "Add(Identity('k·n'), MatMul(Ones('k·n', 1), Ones(1, 'k·n')), Ones('k·n', 'k·n'))"),
    # a declared name wins: I₃ and (ASCII, where _n is a written subscript) I_n are matrices
    ("I₃ ∈ ℝ^{n×n}; tr(I₃)", {}, "Trace(Var('I₃', ('n', 'n')))"),
    ("tr(I3)", {"I3": "n x n"}, "Trace(Var('I₃', ('n', 'n')))"),
    (r"I_{3} \in \mathbb{R}^{n \times n} \\ \operatorname{tr}(I_{3})", {},
     "Trace(Var('I₃', ('n', 'n')))"),
    ("tr(I_n*X)", {"X": "n x n"}, "Trace(MatMul(Var('I_n', ('n', 'n')), Var('X', ('n', 'n'))))"),
    ("X*ones(x)", {"X": "n x n", "x": "scalar"},
     "MatMul(Var('X', ('n', 'n')), Ones('n', 1), Var('x', (1, 1)))"),
    # a ⁻ after a superscript's digits starts the next one: G⁻¹⁻ᵀ = (G⁻¹)⁻ᵀ, as inv(inv(G))'
    ("G⁻¹⁻ᵀ", {"G": "n x n"},
     "Transpose(Power(Power(Var('G', ('n', 'n')), Fraction('-1')), Fraction('-1')))"),
    # (A ⊗ B)vec X = vec(BXAᵀ): X is (B's columns)×(A's columns)
    ("wᵀ(A ⊗ B)vec(X)", {},
     ("MatMul(Transpose(Var('w', ('k·n', 1))), Kron(Var('A', ('n', 'm')), Var('B', ('k', 'p'))), "
      "Vec(Var('X', ('p', 'm'))))")),
]


@pytest.mark.parametrize("text, shapes, tree", READINGS, ids=[t for t, _, _ in READINGS])
def test_reader_reads_its_output(text, shapes, tree):
    assert repr(parse(text, shapes).result) == tree


@pytest.mark.parametrize("text", ["𝟏𝟏ᵀ𝟏", "I + I", "x + 𝟏𝟏ᵀ𝟏"])
def test_sizes_nothing_tells_are_errors(text):
    """A size that only other I and 𝟏 meet is unknown: an error, not a guess."""
    with pytest.raises(MatcalcError, match="cannot be inferred"):
        parse(text)


def test_zero_matrix_in_a_call_is_not_the_number_0():
    """logsumexp(y − y) = log n folds to logsumexp of the zero vector: printed logsumexp(0) it
    read back as logsumexp of the number 0 = 0, printed logsumexp(0𝟏) it had no length; its
    length is written, logsumexp(0𝟏ₙ), since nothing else on the line tells it."""
    r = _derived("logsumexp(y − y)/(1 + λ²)", "λ")
    (d,) = r.derivatives
    reader = Reader(r.program)
    for style, printer in PRINTERS.items():
        text = printer.doprint(d.expr)
        assert same_value(reader.value(d.expr), reader.read(text, style, like=d.expr)), text


# Lines whose I and 𝟏 have a size only the context knew (a derivation's line, a Kronecker
# product of constants): each must read back with its value, the sizes written where needed.
UNSIZED = [
    # steps: a broadcast scalar whose length only the input knew (3γ𝟏ᵀ : (γ dβ + β dγ)𝟏ᵀ)
    ("w ∈ ℝ^k; z ∈ ℝ^m; γ ∈ ℝ; 𝟏ᵀ(z @ (wᵀ + γ))𝟏", "γ", "auto"),
    ("v₁ ∈ ℝ^4; γ ∈ ℝ; sum(v₁ + γ)", "γ", "auto"),
    ("t₁ ∈ ℝ^n; τ ∈ ℝ; 𝟏ᵀ(t₁ − τ ∘ ½)", "τ", "auto"),
    ("τ, φ ∈ ℝ; y ∈ ℝ^p; 𝟏ᵀ(y + τ) ∘ (τ ∘ τ)φ", "τ", "auto"),
    # Kronecker products of constants: k·m = m·k, which factor is which only the sizes tell
    ("G ∈ ℝ^{k×m}; sum(var(G, 2))", "G", "hessian"),
    ("G ∈ ℝ^{k×m}; sum(var(G, 1))", "G", "hessian"),
    ("B ∈ ℝ^{4×5}; logsoftmax(B)", "B", "jacobian"),
    ("X ∈ ℝ^{3×4}; logsumexp(softmax(X, 2), 1)", "X", "jacobian"),
]


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("text, wrt, kind", UNSIZED, ids=[t for t, _, _ in UNSIZED])
def test_sizes_only_the_context_knew_are_written(text, wrt, kind, style):
    _check_result(_derived(text, wrt, kind), style)


@pytest.mark.parametrize("text, wrt, kind", UNSIZED, ids=[t for t, _, _ in UNSIZED])
def test_steps_with_sizes_only_the_context_knew_read_back(text, wrt, kind):
    _check_steps(text, wrt, kind)


def test_var_of_columns_hessian_sizes_its_kronecker_factor():
    """H of sum(var(G, 2)) for a k×m G is 2(I − (𝟏ₘ𝟏ₘᵀ ⊗ Iₖ)/m)/m: printed with unsized
    (𝟏𝟏ᵀ ⊗ I) it read back as 𝟏ₖ𝟏ₖᵀ ⊗ Iₘ (relative error 1); Iₖ is written."""
    (d,) = _derived("G ∈ ℝ^{k×m}; sum(var(G, 2))", "G", "hessian").derivatives
    assert "".join(to_text(d.expr).split()) == "2(I−(𝟏𝟏ᵀ⊗I_k)/m)/m"
    assert "kron(matrix(1), eye(k))" in to_ascii(d.expr)


def test_a_scalar_zero_in_the_steps_prints():
    """A 1×1 zero is printed 0 and binds as an atom (its precedence asked for itself forever)."""
    from matcalc import derive
    r = derive("α, γ: scalar; y ∈ ℝ^2; γ ∘ (α ∘ γ ∘ sum(y))", "α", kind="hessian")
    for text in (r.steps, r.steps_ascii, r.steps_latex):
        assert text


@pytest.mark.parametrize("style", STYLES)
def test_a_product_of_broadcasts_prints_as_one_broadcast(style):
    """𝟏(r ∘ s ⊘ t), not 𝟏r ∘ 𝟏s ⊘ 𝟏t (batch norm's derivation put in its adjoints so), and
    it reads back as the same value."""
    from matcalc.ir import Hadamard, HadPow
    program = parse("X ∈ ℝ^{n×m}; r, s, t ∈ ℝ^m; X + rᵀ + sᵀ + tᵀ")
    r, s, t = (Var(n, ("m", 1)) for n in "rst")
    rows = [Broadcast(Transpose(v), "n", "m") for v in (r, s, t)]
    e = Hadamard(rows[0], rows[1], HadPow(rows[2], Fraction(-1)))
    text = PRINTERS[style].doprint(e)
    assert {"text": "𝟏(rᵀ ∘ sᵀ ⊘ tᵀ)", "ascii": "vector(1)*(r' .* s' ./ t')",
            "latex": r"\mathbf{1} (r^{\top} \circ s^{\top} \oslash t^{\top})"}[style] == text
    reader = Reader(program)
    assert same_value(reader.value(e), reader.read(text, style, like=e))


@pytest.mark.parametrize("style", STYLES)
def test_a_multiple_of_ones_beside_a_vector_is_its_scalar(style):
    """y + s𝟏/‖c‖² prints y + s/‖c‖², as 1 − σ(x) does (the Hessian–vector product of
    ‖W₂σ(W₁x) − y‖₂ stretched its scalar by 𝟏), and reads back as the same value."""
    from matcalc.ir import Add, Hadamard, MatMul, Norm, Num, Power
    program = parse("x, y ∈ ℝ^n; a, b, c ∈ ℝ^m; x ∘ y + aᵀb + ‖c‖₂")
    x, y = Var("x", ("n", 1)), Var("y", ("n", 1))
    a, b, c = (Var(n, ("m", 1)) for n in "abc")
    s = MatMul(Transpose(a), b)
    e = Hadamard(x, Add(y, MatMul(s, Power(Norm(c, "F"), Fraction(-2)),
                                  Broadcast(Num(1), "n", 1))))
    text = PRINTERS[style].doprint(e)
    assert "𝟏" not in text and "vector(1)" not in text and r"\mathbf{1}" not in text, text
    reader = Reader(program)
    assert same_value(reader.value(e), reader.read(text, style, like=e))
