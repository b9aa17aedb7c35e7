"""Every row of the identity table: printed form, numerical check, the check's power to fail,
the derivation, and the generated NumPy code run against finite differences."""

from __future__ import annotations

import numpy as np
import pytest

from identities import KNOWN_FORM_GAPS, ROWS
from matcalc import derive
from matcalc.evaluate import (assign_sizes, finite_difference_gradient, random_inputs,
                              relative_error)
from matcalc.ir import Add, MatMul, Num, Ones
from matcalc.printers import to_text

IDS = [row.id for row in ROWS]
ALL = ROWS + KNOWN_FORM_GAPS
ALL_IDS = [row.id for row in ALL]


def _squash(text: str) -> str:
    return "".join(text.split())


@pytest.fixture(scope="module")
def results():
    return {row.id: derive(row.text, row.wrt, row.shapes) for row in ALL}


def test_table_is_large_enough():
    assert len(ROWS) >= 80


@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_printed_form(row, results):
    (d,) = results[row.id].derivatives
    assert _squash(to_text(d.expr)) == _squash(row.expected)


@pytest.mark.parametrize("row", ALL, ids=ALL_IDS)
def test_numerical_check(row, results):
    report = results[row.id].check()
    assert report.ok, str(report)


@pytest.mark.parametrize("row", ALL, ids=ALL_IDS)
def test_check_catches_a_wrong_result(row, results):
    """The numerical check can fail: the right answer plus 1% of an all-ones matrix fails it."""
    result = results[row.id]
    (d,) = result.derivatives
    original = d.expr
    ones = Num(1) if d.wrt.shape == (1, 1) else Ones(*d.wrt.shape)
    try:
        d.expr = Add(original, MatMul(Num(1), ones)) if _is_zero(original) else \
            Add(original, MatMul(Num(0.01), original), MatMul(Num(0.01), ones))
        assert not result.check().ok
    finally:
        d.expr = original


def _is_zero(e) -> bool:
    return to_text(e) == "0"


@pytest.mark.parametrize("row", ALL, ids=ALL_IDS)
def test_steps(row, results):
    result = results[row.id]
    lines = result.steps.splitlines()
    assert len(lines) >= 2
    # the derivation ends with the result as it prints without the steps
    answer = result.text.splitlines()
    assert [ln.strip().removeprefix("⇒ ") for ln in lines[-len(answer):]] == answer
    latex = result.steps_latex
    assert latex.startswith("\\begin{align*}") and latex.rstrip().endswith("\\end{align*}")


@pytest.mark.parametrize("row", ALL, ids=ALL_IDS)
def test_generated_numpy(row, results):
    """The generated function runs and agrees with central differences of f."""
    result = results[row.id]
    (d,) = result.derivatives
    namespace: dict = {}
    exec(compile(result.numpy, f"<numpy for {row.id}>", "exec"), namespace)
    from matcalc.codegen import py_name
    fn = namespace[f"grad_{py_name(d.wrt.name)}"]
    named = dict(d.definitions)
    if result.program.result_name:
        named[result.program.result_name] = d.function
    variables = [v for v in dict.fromkeys([*result.program.variables, d.wrt])
                 if v.name not in named]
    sizes = assign_sizes([d.function, *named.values(), *variables])
    rng = np.random.default_rng(1)
    env = random_inputs(d.function, variables, sizes, rng, named)
    args = [_as_user_value(env[v.name], v) for v in variables]
    got = np.asarray(fn(*args), dtype=float)
    want = finite_difference_gradient(d.function, d.wrt, env, sizes, named)
    if d.wrt.structure == "diagonal":           # over its diagonal entries, G ∘ I
        want = np.diag(np.diag(want))
    if d.wrt.structure in ("symmetric", "spd"):  # in the symmetric matrices, ½(G + Gᵀ)
        want = (want + want.T) / 2
    assert got.shape == _user_shape(want, d.wrt)
    assert relative_error(got.reshape(want.shape), want) < 1e-6


def _as_user_value(value: np.ndarray, v):
    if v.shape == (1, 1):
        return float(value[0, 0])
    if v.shape[1] == 1:
        return value[:, 0].copy()
    return value


def _user_shape(value: np.ndarray, v) -> tuple:
    if v.shape == (1, 1):
        return ()
    if v.shape[1] == 1:
        return (value.shape[0],)
    return value.shape
