"""The output stages on every identity-table row: generated NumPy is clean under ruff, and the
LaTeX (results and derivations) compiles with a real TeX engine."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from identities import ROWS
from matcalc import derive
from matcalc.printers import latex_document


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


def test_latex_compiles(results, tmp_path):
    engine = shutil.which("pdflatex")
    assert engine, "pdflatex is needed (Debian: texlive-latex-base); .ci/run installs it"
    body = []
    for result in results:
        body.append("\\begin{gather*}\n" + result.latex.replace("\n", " \\\\\n")
                    + "\n\\end{gather*}")
        body.append(result.steps_latex)
    notes = sorted({n for r in results for n in r.notes})
    (tmp_path / "all.tex").write_text(latex_document("\n".join(body), notes), encoding="utf-8")
    proc = subprocess.run([engine, "-interaction=nonstopmode", "-halt-on-error", "all.tex"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:]
