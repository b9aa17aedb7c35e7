"""The output stages on every identity-table row: generated NumPy is clean under ruff, and the
LaTeX (results and derivations) compiles with a real TeX engine."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from identities import ROWS
from matcalc import derive
from matcalc.cli import parse_arguments
from matcalc.printers import latex_document, latex_notes, latex_prose


# Beyond the table: index forms of subscripted names ((W_{1})_{kl}), the vec form's prose,
# primed names (f^{\prime}, a primed vector transposed) and a Hessian.
MORE = [("W₁X", "W₁", "jacobian"), ("tr(X)", "X", "jacobian"),
        ("f(x) := x³/(1 + x²); sum(f(AX))", "X", "gradient"),
        ("x′ ∈ ℝ^n; x′ᵀAx′", "x′", "hessian")]


@pytest.fixture(scope="module")
def results():
    return [derive(row.text, row.wrt, row.shapes) for row in ROWS] + \
        [derive(text, wrt, kind=kind) for text, wrt, kind in MORE]


def test_generated_numpy_is_ruff_clean(results, tmp_path):
    for i, result in enumerate(results):
        (tmp_path / f"snippet_{i}.py").write_text(result.numpy, encoding="utf-8")
        (tmp_path / f"snippet_{i}_value.py").write_text(result.numpy_with_value(),
                                                        encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--isolated",
                           str(tmp_path)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


# The examples of the README and docs/*.md that derive, and the seeds' questions, as derived
# in the examples and --steps
ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = [argv for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
            for c in re.findall(r"^\$ (matcalc [^\n]*?)(?:\s+#[^\n]*)?\n(?!matcalc: error)",
                                page.read_text(encoding="utf-8"), re.M)
            for argv in [shlex.split(c)[1:]] if "--wrt" in argv] + [
    ["B ∘ (C > 0.2)", "--wrt", "C"], ["σ(X)", "--wrt", "X"],
    ["logdet(X) − tr(SX)", "--wrt", "X"],
    ["−sum(y ∘ log(σ(Xw)) + (1 − y) ∘ log(1 − σ(Xw)))", "--wrt", "w"]]


def _derive(argv):
    args = parse_arguments(argv)
    shapes = dict(s.split("=", 1) for s in args.shape)
    return derive(args.expr, args.wrt, shapes, kind=args.kind)


def test_the_examples_are_found():
    """The README's and the docs' examples, the ASCII and LaTeX spellings among them."""
    assert len(EXAMPLES) >= 18
    assert ["norm2(X*W')^2", "--wrt", "W"] in EXAMPLES
    assert ["\\|X W^\\top\\|_F^2", "--wrt", "W"] in EXAMPLES


def test_latex_compiles_and_fits_the_page(results, tmp_path):
    """Every result and derivation in LaTeX, with its notes, compiles, and no line is wider
    than the page (long ones are broken at their top-level operators)."""
    engine = shutil.which("pdflatex")
    assert engine, "pdflatex is needed (Debian: texlive-latex-base); .ci/run installs it"
    body = [r.latex + "\n" + r.steps_latex + "\n\n" + latex_notes(r.notes)
            for r in results + [_derive(argv) for argv in EXAMPLES]]
    # a character the fonts lack is logged (\tracinglostchars), not silently dropped
    (tmp_path / "all.tex").write_text(latex_document("\\tracinglostchars=1\n" + "\n".join(body)),
                                      encoding="utf-8")
    proc = subprocess.run([engine, "-interaction=nonstopmode", "-halt-on-error", "all.tex"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:]
    log = (tmp_path / "all.log").read_text(encoding="latin-1")
    assert "Overfull \\hbox" not in log, log[log.index("Overfull"):][:2000]
    assert "Missing character" not in log, log[log.index("Missing character"):][:2000]


def test_notes_in_latex_keep_their_symbols():
    """The notes' Unicode is LaTeX in the document: W₁ as W_{1}, > in math (a text font sets
    ¿), − as a minus; nothing is replaced by '?'."""
    text = "W₁: k×m; (C > λ) = H(C − λ); relu′ = H; X̂; ‖x‖₂; 𝟏ᵀx ≤ 2; A ⊘ B ∘ C ⊗ D"
    assert latex_prose(text) == (
        r"W$_{1}$: k$\times$m; (C $>$ $\lambda$) = H(C $-$ $\lambda$); relu$'$ = H; "
        r"$\hat{X}$; $\|$x$\|_{2}$; $\mathbf{1}^{\top}$x $\le$ 2; "
        r"A $\oslash$ B $\circ$ C $\otimes$ D")
    assert "?" not in latex_prose(text, math=True)
    # a quotation opens with ` in LaTeX ('XW' set ’XW’); a prime stays one
    assert latex_prose("'XW' read as the product X·W; f′") == \
        r"`XW' read as the product X$\cdot$W; f$'$"


def test_jupyter_shows_the_notes():
    """_repr_latex_ is one align* block: the results, then the notes as rows of text (MathJax
    sets no $…$ inside \\text, so their math stands between the text pieces)."""
    r = derive("½‖relu(XW₁ᵀ)W₂ᵀ − Y‖_F²", ["W₁", "W₂"])
    shown = r._repr_latex_()
    assert shown.startswith("\\begin{align*}") and shown.endswith("\\end{align*}")
    assert r"&\text{note: }\text{relu}'\text{ = H, the Heaviside step (1 where x }>\text{ 0" \
        in shown
    assert shown.count(r"\text{where } E") == 1 and "$" not in shown


def test_a_long_latex_line_is_measured_once(monkeypatch):
    # widths between break points add up, so each stretch is measured once: a 450-character
    # product took 87 s when every prefix was measured again at every cut
    from matcalc import report
    measured = []
    width = report._width
    monkeypatch.setattr(report, "_width", lambda t: measured.append(len(t)) or width(t))
    text = " + ".join(f"A_{{{i}}} X^{{\\top}}" for i in range(400))
    pieces = report._break(text, 300, 290)
    assert " ".join(pieces) == text
    assert len(pieces) > 50 and all(width(p) <= 300 for p in pieces)
    assert sum(measured) <= 2 * len(text)


@pytest.mark.parametrize("argv", EXAMPLES, ids=[a[0][:40] for a in EXAMPLES])
def test_standalone_steps_are_what_is_compiled(argv, capsys):
    """`--to latex --steps --standalone` of every example is the document the compilation test
    above sets (its derivation and notes), so that what compiles there is what users get."""
    from matcalc.cli import main
    assert main(argv + ["--to", "latex", "--steps", "--standalone"]) == 0
    r = _derive(argv)
    notes = r.caveats if "--quiet" in argv else r.notes
    want = latex_document(r.steps_latex + "\n\n" + latex_notes(notes))
    assert capsys.readouterr().out.rstrip("\n") == want.rstrip("\n")


def test_a_row_without_an_operator_to_break_at_compiles(tmp_path):
    r"""Rows of block-Hessian derivations ran 15,000 characters with no top-level operator to
    break at (random compositions 1301042 and focus 750299), and TeX stopped at "Dimension
    too large". A long product is cut between its factors (the next line goes on with one),
    a \left … \right pair around a cut is sized \biggl … \biggr (\left and \right pair within
    a line), and where nothing fits the nearest cut is taken: the rows fit the page and read
    back as the formula."""
    from matcalc.reader import parse
    from matcalc.report import CONTINUED, latex_align
    factors = " ".join(f"A_{{{i}}}^{{\\top}}" for i in range(1500))
    rhs = rf"\left( \frac{{x}}{{y}} {factors} + B \right) \left( C + D \right) \|E\|_{{F}}"
    block = latex_align([("F", "=", rhs, ())])
    rows = block.splitlines()[1:-1]
    assert len(rows) > 50 and rows[1].startswith(CONTINUED + "A_{")
    (tmp_path / "long.tex").write_text(latex_document(block), encoding="utf-8")
    proc = subprocess.run([shutil.which("pdflatex"), "-interaction=nonstopmode", "-halt-on-error",
                           "long.tex"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:]
    log = (tmp_path / "long.log").read_text(encoding="latin-1")
    assert "Overfull \\hbox" not in log, log[log.index("Overfull"):][:2000]
    joined = " ".join(r.removesuffix(" \\\\").removeprefix(CONTINUED).removeprefix("F &= ")
                      for r in rows)
    assert joined.count(r"\biggl(") == 1 and r"\left( C + D \right)" in joined
    shapes = {f"A_{i}": "n x n" for i in range(1500)} | {"B": "n x n", "C": "n x n",
                                                         "D": "n x n", "E": "n x n"}
    assert parse(joined, shapes).result == parse(rhs, shapes).result
