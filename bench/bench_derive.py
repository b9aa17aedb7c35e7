"""Derivation speed of matcalc against SymPy's MatrixSymbol.diff, measured in the same run.

    python bench/bench_derive.py

Prints, per expression, the median wall time of each tool over repeated runs, their ratio, and
what SymPy returned (it returns 0 for ∇ log det X, which matcalc counts as a wrong answer; the
neural-network layers at the end cannot be written with SymPy's matrix expressions at all).
"""

from __future__ import annotations

import sympy as sp
from timing import median_time

from matcalc import derive
from matcalc.simplify import simplify, tidy

n = sp.Symbol("n")
A, B, X, W = (sp.MatrixSymbol(s, n, n) for s in "ABXW")
x, b = sp.MatrixSymbol("x", n, 1), sp.MatrixSymbol("b", n, 1)

CASES = [
    ("tr(AXB)", "X", lambda: sp.Trace(A * X * B).diff(X)),
    ("tr(XᵀAX)", "X", lambda: sp.Trace(X.T * A * X).diff(X)),
    ("‖XWᵀ‖_F²", "W", lambda: sp.Trace((X * W.T).T * (X * W.T)).diff(W)),
    ("‖Ax − b‖₂²", "x", lambda: ((A * x - b).T * (A * x - b)).diff(x)),
    ("logdet X", "X", lambda: sp.log(sp.Determinant(X)).diff(X)),
    ("aᵀX⁻¹b", "X", lambda: (x.T * X.I * b).diff(X)),
    # layers SymPy's matrix expressions cannot state (no broadcasting, axis means or softmax)
    ("sum(G ∘ relu(XWᵀ + bᵀ))", "W", None),
    ("Y ∈ ℝ^{n×k} onehot; −sum(Y ∘ logsoftmax(XW))", "W", None),
    ("X ∈ ℝ^{N×D}; γ, β ∈ ℝ^D; μ = mean(X, 1); v = var(X, 1); X̂ = (X − μ) ⊘ √(v + ε); "
     "Y = X̂ ∘ γᵀ + βᵀ; L = sum(G ∘ Y)", "X", None),
]


def cold_derive(text: str, wrt: str):
    """A derivation as a fresh process makes it: the simplifier's memo tables emptied."""
    simplify.cache_clear()
    tidy.cache_clear()
    return derive(text, wrt)


def main() -> None:
    derive("tr(X)", "X")          # build the parser once, as any session does
    print(f"{'expression':<14} {'matcalc ms':>11} {'sympy ms':>9} {'ratio':>6}  sympy's answer")
    for text, wrt, sympy_fn in CASES:
        ours = median_time(lambda: cold_derive(text, wrt), warm=False)
        label = text if len(text) <= 14 else text[:13] + "…"
        if sympy_fn is None:
            print(f"{label:<14} {ours * 1e3:>11.2f} {'—':>9} {'—':>6}  cannot be written")
            continue
        theirs = median_time(sympy_fn, warm=False)
        answer = str(sympy_fn())[:48]
        print(f"{label:<14} {ours * 1e3:>11.2f} {theirs * 1e3:>9.2f} {ours / theirs:>6.2f}  {answer}")


if __name__ == "__main__":
    main()
