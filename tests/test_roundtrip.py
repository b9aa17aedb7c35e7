"""Re-printing a parsed tree as Unicode and parsing it again gives the same tree (issue 2).

The printer writes scalar factors first (λAX for A·λ·X), so the property is stated on trees
that came from printed text: parse(print(t)) == t for every t = parse(print(parse(input))),
and the first re-parse has the same value as the input's tree (numerical check)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from matcalc.parse import parse
from matcalc.printers import to_ascii, to_text

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
    import numpy as np

    from matcalc.evaluate import assign_sizes, evaluate, random_inputs
    original = parse(text, SHAPES)
    reread = parse(to_text(original.result), SHAPES).result
    sizes = assign_sizes([original.result])
    env = random_inputs(original.result, original.variables, sizes, np.random.default_rng(0))
    a, b = evaluate(original.result, env, sizes), evaluate(reread, env, sizes)
    assert np.allclose(a, b, equal_nan=True)
