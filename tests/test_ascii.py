"""Every ASCII path is ASCII, on every identity-table row (gradients, Hessians, Jacobians):
Result.ascii and .steps_ascii, the LaTeX forms, --ascii output, and the code and JSON written to
a terminal that cannot encode Unicode — which must never make matcalc fail."""

from __future__ import annotations

import ast
import io
import json

import pytest
from identities import JACOBIAN_ROWS, ROWS

from matcalc import derive
from matcalc.cli import main
from matcalc.printers import ascii_text, latex_document, latex_notes

CASES = [(row.text, row.wrt, row.shapes, "auto") for row in ROWS] + \
    [(row.text, row.wrt, row.shapes, "jacobian") for row in JACOBIAN_ROWS] + \
    [(row.text, row.wrt, row.shapes, "hessian") for row in ROWS if row.hessian]
IDS = [f"{text} wrt {wrt} ({kind})" for text, wrt, _, kind in CASES]


@pytest.fixture(scope="module")
def results():
    return {id_: derive(*case[:3], kind=case[3]) for id_, case in zip(IDS, CASES)}


def _options(case) -> list[str]:
    _, _, shapes, kind = case
    return [f"--shape={name}={spec}" for name, spec in shapes.items()] + \
        ([] if kind == "auto" else [f"--{kind}"])


def _ascii(text: str) -> bool:
    # '?' is what a transliteration writes for a character it does not know
    return text.isascii() and "?" not in text


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_ascii_and_latex_forms_are_ascii(results, case):
    r = results[IDS[CASES.index(case)]]
    assert _ascii(r.ascii), r.ascii
    assert _ascii(r.steps_ascii), r.steps_ascii
    for latex in (r.latex, r.steps_latex, latex_document(r.latex + latex_notes(r.notes))):
        assert latex.isascii(), latex


@pytest.mark.parametrize("case", CASES[::4], ids=IDS[::4])
def test_ascii_command_line_output_is_ascii(case, capsys):
    text, wrt = case[:2]
    assert main([text, "--wrt", wrt, *_options(case), "--ascii", "--steps"]) == 0
    out = capsys.readouterr().out
    assert _ascii(out), out


def _without_docstrings(code: str) -> str:
    tree = ast.parse(code)
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and ast.get_docstring(node) is not None:
            node.body[0] = ast.Pass()
    return ast.dump(tree)


# gradients and Jacobians (the ∂, ∇ and ↦ of their docstrings are those of the Hessians too)
CODE_CASES = [case for case in CASES if case[3] != "hessian"]


@pytest.mark.parametrize("case", CODE_CASES[::3], ids=IDS[:len(CODE_CASES):3])
def test_code_and_json_for_a_terminal_without_unicode(results, case, monkeypatch):
    """The same code, only its docstrings spelled in ASCII; the same JSON value, escaped."""
    r, (text, wrt) = results[IDS[CASES.index(case)]], case[:2]
    for fmt, original, same in [
            ("numpy", r.numpy, lambda a, b: _without_docstrings(a) == _without_docstrings(b)),
            ("json", r.to_json(), lambda a, b: json.loads(a) == json.loads(b))]:
        stdout = io.TextIOWrapper(io.BytesIO(), encoding="ascii")
        monkeypatch.setattr("sys.stdout", stdout)
        monkeypatch.setattr("sys.stderr", io.StringIO())
        assert main([text, "--wrt", wrt, *_options(case), "--to", fmt]) == 0
        stdout.flush()
        written = stdout.buffer.getvalue().decode("ascii")
        assert same(written, original)


def test_prose_spells_membership_as_one_spaced_word():
    """∈ in a note is the word 'in', spaced once whether or not the prose spaced it."""
    assert ascii_text("declare A ∈ 𝕊^n") == "declare A in S^n"
    assert ascii_text("x∈ℝ") == "x in R"
