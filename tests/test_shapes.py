"""Shapes from context (issue 11): an undeclared name's shape comes from its uses first and from
its letter last; a broadcast is never chosen to rescue a guessed shape; two readings at the same
cost are a question, not a choice. Each derivative is checked against finite differences, and
against the textbook formula for the question the input asks, computed here with NumPy."""

from __future__ import annotations

import numpy as np
import pytest

from matcalc import derive
from matcalc.errors import MatcalcError
from matcalc.evaluate import assign_sizes, evaluate, random_inputs
from matcalc.ir import Broadcast, walk
from matcalc.printers import to_text
from matcalc.reader import parse, readings


def shapes(text: str, given: dict | None = None) -> dict:
    return {v.name: v.shape for v in parse(text, given).variables}


def inv(a):
    return np.linalg.inv(a)


def ones(env, name):
    return np.ones((env[name].shape[0], 1))


# (input, variable, the shapes its uses give, the textbook gradient in NumPy)
TEXTBOOK = [
    ("‖Xθ − y‖²", "θ", {"X": ("n", "m"), "θ": ("m", 1), "y": ("n", 1)},
     lambda e: 2 * e["X"].T @ (e["X"] @ e["θ"] - e["y"])),
    ("‖y − Xβ‖²", "β", {"y": ("n", 1), "X": ("n", "m"), "β": ("m", 1)},
     lambda e: -2 * e["X"].T @ (e["y"] - e["X"] @ e["β"])),
    ("X ∈ ℝ^{n×m}; y ∈ ℝⁿ; ‖Xθ − y‖²", "θ", {"θ": ("m", 1)},
     lambda e: 2 * e["X"].T @ (e["X"] @ e["θ"] - e["y"])),
    ("sum(log(1 + exp(−y ∘ Xθ)))", "θ", {"θ": ("m", 1)},
     lambda e: -e["X"].T @ (e["y"] / (1 + np.exp(e["y"] * (e["X"] @ e["θ"]))))),
    # ∂/∂μ of −½(x − μ)ᵀΣ⁻¹(x − μ) = ½(Σ⁻¹ + Σ⁻ᵀ)(x − μ), Σ⁻¹(x − μ) for a symmetric Σ
    ("−½ log det Σ − ½(x − μ)ᵀΣ⁻¹(x − μ)", "μ", {"Σ": ("n", "n"), "μ": ("n", 1)},
     lambda e: (inv(e["Σ"]) + inv(e["Σ"]).T) @ (e["x"] - e["μ"]) / 2),
    ("Σ ∈ 𝕊^n; −½ log det Σ − ½(x − μ)ᵀΣ⁻¹(x − μ)", "μ", {"μ": ("n", 1)},
     lambda e: inv(e["Σ"]) @ (e["x"] - e["μ"])),
    # ‖X − 𝟏μᵀ‖_F² = Σᵢ ‖xᵢ − μ‖²: 2(nμ − Xᵀ𝟏)
    ("‖X − 𝟏μᵀ‖_F²", "μ", {"X": ("n", "m"), "μ": ("m", 1)},
     lambda e: 2 * (e["X"].shape[0] * e["μ"] - e["X"].T @ ones(e, "X"))),
    ("½xᵀAx − bᵀx + c", "x", {"x": ("n", 1), "A": ("n", "n"), "b": ("n", 1), "c": (1, 1)},
     lambda e: (e["A"] + e["A"].T) @ e["x"] / 2 - e["b"]),
    ("x ∈ ℝⁿ; A ∈ ℝ^{n×n}; b ∈ ℝⁿ; ½xᵀAx − bᵀx + c", "c", {"c": (1, 1)},
     lambda e: np.ones((1, 1))),
    ("θᵀx", "θ", {"θ": ("n", 1), "x": ("n", 1)}, lambda e: e["x"]),
    ("x²", "x", {"x": (1, 1)}, lambda e: 2 * e["x"]),
]


@pytest.mark.parametrize("text, wrt, read, textbook", TEXTBOOK,
                         ids=[f"{t} wrt {w}" for t, w, _, _ in TEXTBOOK])
def test_uses_give_the_shape_and_the_gradient_is_the_textbook_one(text, wrt, read, textbook):
    got = shapes(text)
    assert {name: got[name] for name in read} == read
    result = derive(text, wrt)
    (d,) = result.derivatives
    assert d.kind == "gradient"
    report = result.check()
    assert report.ok, str(report)
    program = result.program
    sizes = assign_sizes([program.result])
    env = random_inputs(program.result, program.variables, sizes, np.random.default_rng(5),
                        dict(program.definitions))
    want = np.asarray(textbook(env), dtype=float)
    value = np.asarray(evaluate(d.expr, env, sizes), dtype=float).reshape(want.shape)
    assert np.allclose(value, want), to_text(d.expr)


@pytest.mark.parametrize("text, wrt, expected", [
    ("‖Xθ − y‖²", "θ", "2Xᵀ(Xθ − y)"),
    ("‖y − Xβ‖²", "β", "−2Xᵀ(y − Xβ)"),
    ("Σ ∈ 𝕊^n; −½ log det Σ − ½(x − μ)ᵀΣ⁻¹(x − μ)", "μ", "Σ⁻¹(x − μ)"),
])
def test_printed_as_the_textbook_writes_it(text, wrt, expected):
    (d,) = derive(text, wrt).derivatives
    assert to_text(d.expr) == expected


def test_attention_scales_by_a_scalar():
    """QKᵀ/√d divides by a scalar: d is one, from that use (it was 'cannot divide by √d')."""
    text = "sum(G ∘ softmax(QKᵀ/√d)V)"
    assert shapes(text)["d"] == (1, 1)
    result = derive(text, ["Q", "V", "d"])
    assert [d.kind for d in result.derivatives] == ["gradient"] * 3
    report = result.check()
    assert report.ok, str(report)
    assert any(n.startswith("d: scalar, from QKᵀ/√d") for n in result.program.notes)


@pytest.mark.parametrize("text, note", [
    ("‖Xθ − y‖²",
     "θ: vector of length m, from Xθ (as a scalar by convention, Xθ − y would need a broadcast)"),
    ("−½ log det Σ − ½(x − μ)ᵀΣ⁻¹(x − μ)",
     ("μ: vector of length n, from x − μ (as a scalar by convention it would need a broadcast "
      "there)")),
    ("½xᵀAx − bᵀx + c",
     ("c: scalar, from ½xᵀAx − bᵀx + c (as a vector by convention it would need a broadcast "
      "there)")),
    ("θᵀx", "θ: vector of length n, from θᵀx (a transposed name is not a scalar)"),
    ("x²", "x: scalar, from x² (as a vector by convention it does not fit there)"),
    ("XW + b", "b: vector of length k (undeclared lower-case name: column vector by convention)"),
    # a size the convention left free that a use makes 1: the note says which use
    ("sum(rt)",
     "t: vector of length 1, from rt (undeclared lower-case name: column vector by convention)"),
    ("r(A(x)∘x)",
     "A: 1×1 matrix, from r(A(x)∘x) (undeclared upper-case name: matrix by convention)"),
])
def test_a_note_says_where_the_shape_came_from(text, note):
    assert note in parse(text).notes


def broadcasts(text: str, given: dict | None = None) -> int:
    return sum(isinstance(e, Broadcast) for e in walk(parse(text, given).result))


# Broadcasts the input states, or that no other shape avoids: (input, shapes read)
KEPT = [
    ("XW + bᵀ", {"b": ("k", 1)}),
    ("b ∈ ℝᵏ; XW + b", {}),
    ("C − λ", {"λ": (1, 1)}),
    ("B∘H(C−λ)", {"λ": (1, 1)}),
    ("(C > 0.2)", {}),
    ("1 − σ(X)", {}),
    ("x + 1", {"x": ("n", 1)}),
    ("sum(log(x + 1))", {"x": ("n", 1)}),
    ("λ ∈ ℝ; x + λ", {"x": ("n", 1)}),
    ("λ ∈ ℝ; x + λ²", {"x": ("n", 1)}),
    ("x + aᵀx", {"x": ("n", 1), "a": ("n", 1)}),         # aᵀ: a is not a scalar
    ("XW + b", {"b": ("k", 1)}),                         # NumPy's row rule, with its note
]


@pytest.mark.parametrize("text, read", KEPT, ids=[t for t, _ in KEPT])
def test_stated_broadcasts_stay(text, read):
    got = shapes(text)
    assert {name: got[name] for name in read} == read
    assert broadcasts(text) == 1


def test_outer_product_with_ones_is_no_broadcast():
    assert shapes("X + 𝟏bᵀ")["b"] == ("m", 1)
    assert broadcasts("X + 𝟏bᵀ") == 0


def test_numpy_row_rule_keeps_its_note():
    assert "b added to an n×k matrix broadcasts as a row bᵀ, as NumPy does" in \
        parse("XW + b").notes


@pytest.mark.parametrize("text, message, hint, span", [
    ("sum(x − λμ)", "two readings fit equally well: λ a vector, or μ a vector",
     "declare the shape you mean: λ ∈ ℝⁿ, or μ ∈ ℝⁿ, or λ, μ ∈ ℝ to broadcast", (4, 10)),
    ("(bᵀy)ᵀ + x", "two readings fit equally well: x a scalar, or y a scalar",
     "declare the shape you mean: x ∈ ℝ, or y ∈ ℝ, or x, y ∈ ℝⁿ to broadcast", (0, 10)),
])
def test_two_readings_at_one_cost_are_asked_about(text, message, hint, span):
    with pytest.raises(MatcalcError) as err:
        parse(text)
    assert err.value.message == message
    assert err.value.hint == hint
    assert err.value.spans == (span,)


@pytest.mark.parametrize("text, name, shape", [
    ("λ ∈ ℝ; sum(x − λμ)", "μ", ("n", 1)),
    ("λ ∈ ℝⁿ; sum(x − λμ)", "μ", (1, 1)),
    ("λ, μ ∈ ℝ; sum(x − λμ)", "x", ("n", 1)),
    ("x, y ∈ ℝⁿ; (bᵀy)ᵀ + x", "b", ("n", 1)),
])
def test_declaring_settles_the_question(text, name, shape):
    assert shapes(text)[name] == shape


def test_errors_are_those_of_the_conventional_reading():
    """Where no reading works the error is the one the letters' shapes give."""
    with pytest.raises(MatcalcError) as err:
        parse("x + xᵀ")
    assert err.value.message.startswith("x is a vector of length n but xᵀ is a row vector")


def count_elaborations(monkeypatch, text: str) -> int:
    calls = []
    original = readings._Search.elaborate

    def counting(self, reading):
        if frozenset(reading) not in self.outcomes:
            calls.append(reading)
        return original(self, reading)
    monkeypatch.setattr(readings._Search, "elaborate", counting)
    parse(text)
    return len(calls)


def test_the_conventional_reading_is_elaborated_once(monkeypatch):
    layers = " + ".join(f"sum(σ(X W_{i} + b_{i}) − C + λ)" for i in range(200))
    assert count_elaborations(monkeypatch, layers) == 1


def test_independent_places_settle_together(monkeypatch):
    """Ten places, each with its one cheapest change, are settled in one more elaboration."""
    text = " + ".join(f"sum(x_{i} − μ_{i})" for i in range(10))
    assert count_elaborations(monkeypatch, text) == 2
    assert all(shape[0] != 1 for shape in shapes(text).values())


def test_the_search_is_bounded(monkeypatch):
    monkeypatch.setattr(readings, "MAX_READINGS", 1)
    with pytest.raises(MatcalcError) as err:
        parse("‖Xθ − y‖²")
    assert err.value.message == ("the shapes of the undeclared names y, θ depend on each other "
                                 "in more ways than matcalc tries (1 reading)")


def test_free_dimensions_are_named_once(monkeypatch):
    """Naming the free dimensions scans them all: once per input, not once per name shown
    (a 3,000-term sum took 16 s)."""
    from matcalc.reader import _Elaborator
    calls = []
    original = _Elaborator._name_free_dims

    def counting(self):
        calls.append(1)
        return original(self)
    monkeypatch.setattr(_Elaborator, "_name_free_dims", counting)
    parse(" + ".join(f"x_{i}ᵀAx_{i}" for i in range(300)))
    assert len(calls) == 1


@pytest.mark.parametrize("text, quoted", [
    ("(" + " " * 300 + "x) + xᵀ", "( x) + xᵀ"),
    (" + ".join(["x"] * 100) + " + xᵀ", "x + x + x + x + x + x + x + x + x + x…"),
])
def test_messages_quote_the_source_shortened(text, quoted):
    """A node's source is read from its first characters (every sum quotes itself, so reading
    all of it made a long sum quadratic), and from all of it when those are blank."""
    with pytest.raises(MatcalcError) as err:
        parse(text)
    assert err.value.message.endswith(f"the sum {quoted} needs equal shapes")


def test_a_free_size_never_takes_a_variables_name():
    """n in sum((Xw − y)^∘2)/n is a scalar variable (one divides by scalars): X's rows are not
    also called n, which would print a gradient 2Xᵀ(Xw − y)/n with two meanings of n."""
    text = "sum((Xw − y)^∘2)/n"
    assert shapes(text) == {"X": ("m", "k"), "w": ("k", 1), "y": ("m", 1), "n": (1, 1)}
    result = derive(text, "w")
    report = result.check()
    assert report.ok, str(report)


def test_equally_cheap_changes_that_meet_are_one_reading():
    """Changing α first or β first, each place then asks for the other: both end at the same
    reading, which is no ambiguity (the search, driven by scripted elaborations)."""
    def broadcast(step, small):
        return readings.Broadcast(step, (0, 1), ("scalar", "col"), (frozenset(small), frozenset()),
                                  (None, None), False)
    script = {
        frozenset(): [broadcast(1, "αβ")],
        frozenset("α"): [broadcast(2, "β")],
        frozenset("β"): [broadcast(2, "α")],
        frozenset("αβ"): [],
    }

    def elaborate(reading):
        key = frozenset(reading)
        return readings.Outcome(f"program {sorted(key)}", None, tuple(script[key]), (), 3)
    assert readings.read("αβ", elaborate) == "program ['α', 'β']"


def test_a_vector_keeps_one_orientation_in_every_broadcast():
    # the first A + t made t's length the row count of the square A, and the second read it
    # as a column: (A + tᵀ)(A + t), a product that no reading of the input states
    both = parse("A: n x n; (A + t)*(A + t)").result
    assert both == parse("A: n x n; t: n; (A + t)*(A + t)").result
    rows = parse("A: n x m; (A + t)*(A + t)ᵀ").result
    assert rows == parse("A: n x m; (A + tᵀ)*(A + tᵀ)ᵀ").result


def test_vectors_that_are_not_names_are_each_oriented_by_their_own_shapes():
    # Ax, a column (its length A's row count), made the next vector that is no name a column
    # too, and B + Bᵀy an error (in a draft of the orientation settled at the end)
    declared = "A ∈ ℝ^{3×3}; B ∈ ℝ^{3×4}; x ∈ ℝ^3; y ∈ ℝ^3; "
    assert parse(declared + "sum(A + Ax) + sum(B + Bᵀy)").result == \
        parse(declared + "sum(A + Ax) + sum(B + (Bᵀy)ᵀ)").result


@pytest.mark.parametrize("undeclared, declared", [
    # c's length is X's row count in the end (cᵀ(…) says so), not when X + c is read
    ("sum(cᵀ(X + c))", "X: n x m; c: n; sum(cᵀ(X + c))"),
    ("sum(cᵀ exp(X ∘ c))", "X: n x m; c: n; sum(cᵀ exp(X ∘ c))"),
    # a square matrix: as a row c's length would be the row count too (random composition
    # 20025: X̂ ∘ c read by rows undeclared, by columns declared)
    ("sum(cᵀ exp(X̂ ∘ c)) + sum(X̂ X̂)", "X̂: n x n; c: n; sum(cᵀ exp(X̂ ∘ c)) + sum(X̂ X̂)"),
    ("sum((X + c)X)", "X: n x n; c: n; sum((X + c)X)"),
    # NumPy's rule where the length is the column count: XW + b, a row
    ("sum(XW + b)", "X: n x m; W: m x k; b: k; sum(XW + bᵀ)"),
])
def test_an_undeclared_vector_broadcasts_as_it_would_declared_at_the_shape_read(
        undeclared, declared):
    """A column vector broadcast over a matrix is a column where its length is the row count,
    else a row (NumPy's rule) — as the shapes are in the end: the orientation of an undeclared
    vector was decided where it was met, before its uses said its length, and the same shapes
    declared read otherwise (random compositions 20025, 20047)."""
    assert parse(undeclared).result == parse(declared).result
