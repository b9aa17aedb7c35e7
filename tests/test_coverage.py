"""The constructs of the coverage issue (14), each written in all three dialects (Unicode, the
ASCII of matrixcalculus.org, LaTeX) and checked by every check of tests/randcheck.py: the input
read in each dialect, the result trees and the generated NumPy against finite differences, every
printed form (text, ASCII, LaTeX) and derivation line (in the dialect asked) read back, the
index form, Result.check() (--check) and the LaTeX compiled with pdflatex. The three dialects
give one derivative.

Kronecker products in derivatives (Cookbook (39), (105), (120)), Diag and diag in Jacobians and
Hessians, products of symbolic sizes, block Hessians, the spectral functions (67), matrix
functions under a trace (98), (121), the backward pass of expm, the Jacobians of expm and logm
(K_exp, K_log), and the declarations spd, diagonal (142), orthogonal and probability vectors /
stochastic rows."""

from __future__ import annotations

import functools
import random

import pytest
import randcheck as rc
import randexpr as rx

from matcalc import derive

SIZES = {"n": 3, "m": 2, "k": 2, "p": 3}


def _var(name: str, shape, domain="any", structure="") -> rx.Variable:
    names = {n.ir: n for n in rx.SCALAR_NAMES + rx.VECTOR_NAMES + rx.MATRIX_NAMES}
    return rx.Variable(names[name], shape, domain, structure)


X = _var("X", ("n", "m"))
Xsq = _var("X", ("n", "n"))
Y = _var("Y", ("k", "p"))
A = _var("A", ("k", "p"))
Asq = _var("A", ("n", "n"))
Amn = _var("A", ("n", "m"))
Akk = _var("A", ("k", "k"))
Avec = _var("A", ("m·n", "m·n"))
G = _var("G", ("n", "n"))
Gkron = _var("G", ("k·n", "m·p"))
S = _var("Σ", ("n", "n"), "any", "symmetric")
Spd = _var("Σ", ("n", "n"), "spd", "spd")
D = _var("Λ", ("n", "n"), "any", "diagonal")
Q = _var("V", ("n", "m"), "any", "orthogonal")
x = _var("x", ("n", 1))
y = _var("y", ("m", 1))
z = _var("z", ("n", 1))
prob = _var("y", ("n", 1), "any", "stochastic")
Z = _var("Z", ("n", "m"))
rows = _var("Y", ("n", "m"), "any", "stochastic")


def _r(v):
    return rx.Ref(v)


class SizedIdentity(rx.Identity):
    """I with its size written (I_k, eye(k), I_{k}): beside ⊗ nothing else gives it."""

    def show(self, p):
        return {"unicode": f"I_{self.n}", "ascii": f"eye({self.n})",
                "latex": f"I_{{{self.n}}}"}[p.d], rx.ATOM


# (label, kind, result tree, wrt, more variables of a block Hessian)
CONSTRUCTS = [
    # Kronecker products
    ("X ⊗ Y Jacobian", "jacobian", rx.Kron(_r(X), _r(Y)), X, []),
    ("tr(A ⊗ X), (105)", "gradient", rx.Trace(rx.Kron(_r(Akk), _r(Xsq))), Xsq, []),
    ("tr(X ⊗ X), (120)", "gradient", rx.Trace(rx.Kron(_r(Xsq), _r(Xsq))), Xsq, []),
    ("tr(X ⊗ X) Hessian, (120)", "hessian", rx.Trace(rx.Kron(_r(Xsq), _r(Xsq))), Xsq, []),
    ("‖X ⊗ A‖_F², (39)", "gradient", rx.Norm(rx.Kron(_r(X), _r(A)), squared=True), X, []),
    ("sum(G ∘ (X ⊗ A))", "gradient", rx.Sum(rx.Hadamard(_r(Gkron), rx.Kron(_r(X), _r(A)))),
     X, []),
    ("sum(G ∘ (A ⊗ X))", "gradient", rx.Sum(rx.Hadamard(_r(Gkron), rx.Kron(_r(A), _r(X)))),
     X, []),
    ("I ⊗ X Jacobian", "jacobian", rx.Kron(SizedIdentity(2), _r(X)), X, []),
    ("X ⊗ I Jacobian", "jacobian", rx.Kron(_r(X), SizedIdentity(3)), X, []),
    # Diag and diag
    ("Diag(x)A Jacobian", "jacobian", rx.MatMul(rx.DiagMatrix(_r(x)), _r(Amn)), x, []),
    ("diag(X) Jacobian", "jacobian", rx.DiagOf(_r(Xsq)), Xsq, []),
    ("xᵀDiag(x)Ax Hessian", "hessian",
     rx.MatMul(rx.MatMul(rx.Transpose(_r(x)), rx.DiagMatrix(_r(x))),
               rx.MatMul(_r(Asq), _r(x))), x, []),
    ("‖diag(X)‖² Hessian", "hessian", rx.Norm(rx.DiagOf(_r(Xsq)), squared=True), Xsq, []),
    # products of symbolic sizes
    ("vec(X)ᵀA vec(X)", "gradient",
     rx.MatMul(rx.MatMul(rx.Transpose(rx.Vec(_r(X))), _r(Avec)), rx.Vec(_r(X))), X, []),
    ("vec(X)ᵀA vec(X) Hessian", "hessian",
     rx.MatMul(rx.MatMul(rx.Transpose(rx.Vec(_r(X))), _r(Avec)), rx.Vec(_r(X))), X, []),
    # block Hessians
    ("xᵀAy block Hessian", "hessian",
     rx.MatMul(rx.MatMul(rx.Transpose(_r(x)), _r(Amn)), _r(y)), x, [y]),
    ("(xᵀz)² block Hessian", "hessian",
     rx.Power(rx.MatMul(rx.Transpose(_r(x)), _r(z)), 2), x, [z]),
    # spectral functions, (67)
    ("λ_max(S)", "gradient", rx.Spectral(_r(S), "lmax"), S, []),
    ("λ_min(S)", "gradient", rx.Spectral(_r(S), "lmin"), S, []),
    ("λ_max(XᵀX)", "gradient", rx.Spectral(rx.MatMul(rx.Transpose(_r(X)), _r(X)), "lmax"),
     X, []),
    ("‖X‖₂", "gradient", rx.Spectral(_r(X), "norm2"), X, []),
    ("‖X‖_*", "gradient", rx.Spectral(_r(X), "nuclear"), X, []),
    # matrix functions, (98), (121)
    ("tr(expm(X)), (98)", "gradient", rx.Trace(rx.MatFunc("expm", _r(Xsq))), Xsq, []),
    ("tr(logm(Σ)), (98)", "gradient", rx.Trace(rx.MatFunc("logm", _r(Spd))), Spd, []),
    ("tr(X³), (121)", "gradient", rx.Trace(rx.Power(_r(Xsq), 3)), Xsq, []),
    ("tr(X³) Hessian", "hessian", rx.Trace(rx.Power(_r(Xsq), 3)), Xsq, []),
    ("sum(G ∘ expm(X))", "gradient", rx.Sum(rx.Hadamard(_r(G), rx.MatFunc("expm", _r(Xsq)))),
     Xsq, []),
    ("expm(X) Jacobian", "jacobian", rx.MatFunc("expm", _r(Xsq)), Xsq, []),
    ("expm(X)A Jacobian", "jacobian", rx.MatMul(rx.MatFunc("expm", _r(Xsq)), _r(Amn)), Xsq, []),
    ("logm(Σ) Jacobian", "jacobian", rx.MatFunc("logm", _r(Spd)), Spd, []),
    ("tr(expm(X)) Hessian", "hessian", rx.Trace(rx.MatFunc("expm", _r(Xsq))), Xsq, []),
    ("tr(Σ logm(Σ)) Hessian", "hessian",
     rx.Trace(rx.MatMul(_r(Spd), rx.MatFunc("logm", _r(Spd)))), Spd, []),
    ("tr(X expm(X)) Hessian", "hessian",
     rx.Trace(rx.MatMul(_r(Xsq), rx.MatFunc("expm", _r(Xsq)))), Xsq, []),
    ("sum(G ∘ expm(X)) Hessian", "hessian",
     rx.Sum(rx.Hadamard(_r(G), rx.MatFunc("expm", _r(Xsq)))), Xsq, []),
    ("sum(G ∘ logm(Σ)) Hessian", "hessian",
     rx.Sum(rx.Hadamard(_r(G), rx.MatFunc("logm", _r(Spd)))), Spd, []),
    ("‖expm(X)A‖_F² Hessian", "hessian",
     rx.Norm(rx.MatMul(rx.MatFunc("expm", _r(Xsq)), _r(Amn)), squared=True), Xsq, []),
    ("sum(G ∘ logm(Σ))", "gradient", rx.Sum(rx.Hadamard(_r(G), rx.MatFunc("logm", _r(Spd)))),
     Spd, []),
    # declarations
    ("Σ spd: logdet(Σ)", "gradient", rx.Det(_r(Spd), log=True), Spd, []),
    ("Σ spd: xᵀΣ⁻¹x", "gradient",
     rx.MatMul(rx.MatMul(rx.Transpose(_r(x)), rx.Inverse(_r(Spd))), _r(x)), Spd, []),
    ("Λ diagonal: tr(AΛ), (142)", "gradient", rx.Trace(rx.MatMul(_r(Asq), _r(D))), D, []),
    ("Λ diagonal: ‖Λx‖² Hessian", "hessian", rx.Norm(rx.MatMul(_r(D), _r(x)), squared=True),
     D, []),
    ("V orthogonal: ‖VᵀAV‖_F²", "gradient",
     rx.Norm(rx.MatMul(rx.MatMul(rx.Transpose(_r(Q)), _r(Asq)), _r(Q)), squared=True), Asq, []),
    ("y probability: −yᵀlogsoftmax(z)", "gradient",
     rx.Neg(rx.MatMul(rx.Transpose(_r(prob)), rx.AxisOp(_r(z), "logsoftmax", None))), z, []),
    ("y probability: −yᵀlogsoftmax(z) Hessian", "hessian",
     rx.Neg(rx.MatMul(rx.Transpose(_r(prob)), rx.AxisOp(_r(z), "logsoftmax", None))), z, []),
    ("Y stochastic: −sum(Y ∘ logsoftmax(Z, 2))", "gradient",
     rx.Neg(rx.Sum(rx.Hadamard(_r(rows), rx.AxisOp(_r(Z), "logsoftmax", 2)))), Z, []),
]
IDS = [c[0] for c in CONSTRUCTS]


def case(index: int, dialect: str) -> rx.Case:
    """The construct asked in a dialect, its input written in all three."""
    label, kind, result, wrt, also = CONSTRUCTS[index]
    used = {id(n.var): n.var for n in result.walk() if isinstance(n, rx.Ref)}
    c = rx.Case(9_000_000 + index, kind, dialect, list(used.values()), [], [], result, None,
                wrt, dict(SIZES), False, also=list(also))
    for i, d in enumerate(rx.DIALECTS):
        c.texts[d] = rx.render(c, d, random.Random(index * 3 + i))
    return c


@functools.cache
def report(index: int, dialect: str) -> rc.Report:
    return rc.check(case(index, dialect), rc.CHECKS, (dialect,))


@pytest.mark.parametrize("dialect", rx.DIALECTS)
@pytest.mark.parametrize("index", range(len(CONSTRUCTS)), ids=IDS)
def test_construct_in_each_dialect(index, dialect):
    r = report(index, dialect)
    assert r.status == "checked" and r.ok, str(r)


@pytest.mark.parametrize("index", range(len(CONSTRUCTS)), ids=IDS)
def test_dialects_give_one_derivative(index):
    """The input written in each dialect derives the same printed result."""
    c = case(index, "unicode")
    wrt = [c.wrt_name.ir] + [v.name.ir for v in c.also] if c.also else c.wrt_name.ir
    texts = {d: derive(c.text(d), wrt, kind=c.kind).text for d in rx.DIALECTS}
    assert texts["ascii"] == texts["unicode"] == texts["latex"], texts


def test_constructs_latex_compiles():
    reports = [report(i, d) for i in range(len(CONSTRUCTS)) for d in rx.DIALECTS]
    failed = rc.compile_latex(reports)
    assert not failed, "\n\n".join(map(str, failed))


def test_kronecker_gradient_reads_by_blocks():
    """∂sum(G ∘ (X ⊗ A))/∂X printed vec⁻¹_{n×m}((I_{m·n} ⊗ vec(A)ᵀ)((I_m ⊗ K_{p,n}ᵀ) ⊗ I_k) vec(G)),
    right but unreadable. The (i, j) block of X ⊗ A is X_ij A, so the (i, j) entry of the
    gradient is G's (i, j) block : A, the blocks of G ∘ (𝟏𝟏ᵀ ⊗ A) summed; and for A ⊗ X the sum
    of A_ij times G's (i, j) block (the values: the constructs above)."""
    shapes = "X ∈ ℝ^{n×m}; A ∈ ℝ^{k×p}; "
    assert derive(shapes + "sum(G ∘ (X ⊗ A))", "X").text.splitlines()[0] == \
        "∂f/∂X = (I_n ⊗ 𝟏ᵀ)(G ∘ (𝟏𝟏ᵀ ⊗ A))(I ⊗ 𝟏)    (n×m)"
    assert derive(shapes + "sum(G ∘ (A ⊗ X))", "X").text.splitlines()[0] == \
        "∂f/∂X = (𝟏ᵀ ⊗ I)(G ∘ (A ⊗ 𝟏𝟏ᵀ))(𝟏 ⊗ I_m)    (n×m)"


def test_the_frechet_notes_keep_their_letters():
    """The notes on K_exp, K_log and the second Fréchet derivatives in LaTeX and ASCII:
    Fréchet's é was set as '?' (a character the prose tables lacked), and so was ∫ in ASCII."""
    from matcalc.printers import ascii_text, latex_prose
    from matcalc.report import FRECHET_NOTES
    for note in FRECHET_NOTES.values():
        assert "?" not in latex_prose(note) and "?" not in ascii_text(note)
        assert r"Fr\'echet" in latex_prose(note) and "Frechet" in ascii_text(note)
    assert r"$\int$" in latex_prose(FRECHET_NOTES["KronFrechet", "expm"])


def test_constructs_generated_code_is_ruff_clean(tmp_path):
    """The generated NumPy of every construct (its helpers: K_exp by Van Loan's block, the
    second Fréchet derivatives) is clean under ruff, as the identity rows' is."""
    import subprocess
    import sys
    for index in range(len(CONSTRUCTS)):
        c = case(index, "unicode")
        wrt = [c.wrt_name.ir] + [v.name.ir for v in c.also] if c.also else c.wrt_name.ir
        (tmp_path / f"construct_{index}.py").write_text(derive(c.text(), wrt, kind=c.kind).numpy,
                                                        encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--isolated",
                           str(tmp_path)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
