"""Checks every output matcalc gives for a random case of tests/randexpr.py against the truth:
central finite differences (Richardson-extrapolated) of the generator's own NumPy evaluation.

For one case (a gradient, a Jacobian or a Hessian, asked in one dialect), the checks (CHECKS):

- input: the input, read by matcalc in each dialect, has the generator's value;
- tree, code: the result trees (evaluated by matcalc.evaluate) and the generated NumPy
  (grad_/jac_/vjp_/hess_/hvp_, and grad_ with the value, executed) are the derivative;
- printed: the right-hand side of every result line in text, ASCII and LaTeX, read back after
  the input's own statements with the "where" names as definitions, is the derivative;
- steps: every line of the derivation (``Derivative.steps``, the dF and vec(dF) lines) has the
  value df[V] along a random direction V, each d(e) taken as the directional derivative de[V];
  printed steps: each printed line, each d(…) replaced by a name of that value, reads back so;
- index, printed index: the index form (its structure, by einsum with the δ's, and each printed
  text read back term by term) is the Jacobian, and its "zero unless" and "at most … nonzero"
  claims hold;
- latex: the LaTeX (results and derivations) compiles (``compile_latex``, many cases at once);
- self-check: Result.check() (--check) fails exactly when the result is wrong (on a right one it
  may say inconclusive, where the finite differences cannot resolve the error);
- undeclared: the input without the declarations the reader can do without
  (rx.undeclared_text): where the reader gives every variable the case's shape (its sizes
  renamed) and f the case's value, the result tree is the derivative; a reading at other
  shapes or of another function, or an error (it may ask), is counted, not compared (the
  summary gives the counts);
- a block Hessian (two variables): each row's ∇f, each block applied to a direction and the
  Hessian–vector product in a direction per variable, trees and generated hess()/hvp(), against
  second differences moving both variables (its printed forms are not read back yet);
and always: nothing but MatcalcError/UnsupportedError escapes (an UnsupportedError is counted
apart), and a documented input is not refused. A comparison beyond the tolerance but within the
spread of the truth's extrapolated estimates (for a derivation line, and of those it takes of
its d(…)), as --check judges (matcalc.check.compared), is unresolved: a case with one and no failure is counted unresolved, neither passed nor failed.

Run thousands:  python tests/randcheck.py --cases 10000 [--checks tree,code] [--shrink]
(a summary by check and by kind of failure, with one example each, shrunk with --shrink).
"""

from __future__ import annotations

import contextlib
import copy
import inspect
import itertools
import random
import re
import shlex
import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import randexpr as rx

# Failure classes, in the order a report lists them.
CLASSES = (
    "wrong derivative",               # the generated code or the result tree is not the derivative
    "generated code raises",          # on correctly shaped inputs (or does not define its functions)
    "traceback",                      # an exception other than MatcalcError escaped
    "does not finish",                # a case took more than TIME_LIMIT seconds
    "input rejected",                 # a MatcalcError on an input the language documents
    "input read differently",         # matcalc's reading of the input has another value
    "printed form reads back differently",
    "printed form does not parse",
    "derivation step wrong",          # a structured line of the derivation has another value
    "printed step reads back differently",
    "printed step does not parse",
    "index form wrong",
    "LaTeX does not compile",
    "--check misjudges",              # Result.check() fails a right result or passes a wrong one
)
# The checks, each a part of the outputs (a test may run some of them): "derive" (nothing but
# MatcalcError/UnsupportedError escapes, a documented input is accepted) always runs.
CHECKS = ("input", "tree", "code", "printed", "steps", "printed steps", "index",
          "printed index", "latex", "self-check", "undeclared")

TIME_LIMIT = 120                      # seconds a case may take (on a loaded machine)
RTOL = 1e-5                           # first derivatives (Richardson differences resolve ~1e-9)
RTOL2 = 1e-4                          # second derivatives
H1, H2 = 1e-3, 3e-3                   # steps of the first and second differences


@dataclass
class Finding:
    cls: str
    what: str
    detail: str = ""
    check: str = "derive"             # the check (CHECKS) that found it

    def __str__(self):
        return f"{self.cls}: {self.what}" + (f"\n    {self.detail}" if self.detail else "")


@dataclass
class Report:
    case: rx.Case
    status: str = "checked"           # checked, unresolved, unsupported, inadmissible, misread
    findings: list = field(default_factory=list)
    latex: str = ""                   # the case's LaTeX, for compile_latex
    phase: str = "derive"             # the check running (findings are filed under it)
    undeclared: str = ""              # how the input without declarations was read: the
    #                                   same, otherwise, asked (an error), or "" (not tried)

    @property
    def ok(self) -> bool:
        return not self.findings

    def add(self, cls: str, what: str, detail: str = ""):
        assert cls in CLASSES, cls
        if not any(f.cls == cls and f.what == what for f in self.findings):
            self.findings.append(Finding(cls, what, str(detail)[:2000], self.phase))

    def unresolved(self, what: str, detail: str):
        """A comparison the finite differences cannot resolve: the case is counted unresolved
        (neither passed nor failed) unless it fails elsewhere."""
        self.findings.append(Finding("unresolved", what, detail, self.phase))

    def command(self) -> str:
        return reproducer(self.case)

    def __str__(self):
        lines = [f"seed {self.case.seed} ({self.case.kind}, {self.case.dialect}): {self.status}",
                 "  " + self.command()]
        lines += ["  " + str(f) for f in self.findings]
        return "\n".join(lines)


def reproducer(case: rx.Case) -> str:
    """The command line that asks matcalc what the case asks."""
    wrt = case.wrt_name.spell(case.dialect)
    flag = {"gradient": "", "jacobian": " --jacobian", "hessian": " --hessian"}[case.kind]
    also = "".join(f" --wrt {shlex.quote(v.name.ir)}" for v in case.also)
    return f"matcalc {shlex.quote(case.text())} --wrt {shlex.quote(wrt)}{also}{flag}"


class Crossed(Exception):
    """A finite-difference step crossed a kink (relu, H, |·| …): the inputs are redrawn."""


# --- the truth: finite differences of the generator's evaluation ---------------------------

class Truth:
    """Derivatives of the case's function along directions, by central differences of the
    generator's evaluation, extrapolated (Richardson) so that they resolve ~1e-9."""

    def __init__(self, case: rx.Case, values: dict):
        self.case = case
        self.values = values
        self.key = case.wrt_name.ir
        self.x0 = values[self.key]
        self.kinks = rx.kink_signature(case, values)
        self.f0 = case.evaluate(values)
        # the rounding of the differences scales with the largest value met on the way
        self.scale_f = max(1.0, float(np.abs(self.f0).max()), case.probe(values).largest)

    def f(self, x) -> np.ndarray:
        return self.at({self.key: x - self.x0})

    def at(self, shifts: dict) -> np.ndarray:
        """f with the variables moved (IR name → displacement), the kinks holding."""
        values = dict(self.values)
        for key, dv in shifts.items():
            values[key] = self.values[key] + dv
        with np.errstate(all="ignore"):
            ev = self.case.probe(values)
        signs = [np.sign(k) for k in ev.kinks]
        if len(signs) != len(self.kinks) or any(
                a.shape != b.shape or not np.array_equal(a, b) for a, b in zip(signs, self.kinks)):
            raise Crossed()
        return ev(self.case.result)

    def d2_joint(self, ku, u, kv, v) -> tuple:
        """d²f[u, v] for u a direction of the variable ku and v one of kv, and its spread."""
        def moved(a, b):
            if ku == kv:
                return self.at({ku: a * u + b * v})
            return self.at({ku: a * u, kv: b * v})

        def central(h):
            return (moved(h, h) - moved(h, -h) - moved(-h, h) + moved(-h, -h)) / (4 * h * h)
        return extrapolate(central, H2, self.scale_f, halvings=2)

    def d1(self, v, key=None) -> tuple:
        """df[v] (of f's shape), v a direction of the variable (IR name) ``key`` (default: the
        case's), and its spread (``extrapolate``), at least what the rounding of f makes of
        the differences (``rounding``): each estimate (4 c(h/2) - c(h))/3 is off by up to
        3 r/h for r the rounding of f, and h/2 is no shorter than the shortest step taken."""
        key = key or self.key
        steps = []

        def central(h):
            steps.append(h)
            return (self.at({key: h * v}) - self.at({key: -h * v})) / (2 * h)
        value, spread = extrapolate(central, H1, self.scale_f)
        return value, np.maximum(spread, 1.5 * self.rounding(key, v) / min(steps))

    def rounding(self, key, v) -> float:
        """The rounding in f's values near the point along v, measured: the largest second
        difference f(x + tv) - 2f(x) + f(x - tv) over steps t too short for f's curvature to
        show (t² f'' ≪ the rounding) but long enough to round differently. The size of the
        values met (scale_f) does not bound it: expm of an argument of norm 2500 and
        eigenvalues -315, -109 (focus seed 9882889) rounds by 1e-9 in values of 23, and its
        differences wandered by 9e-6 around a derivative of 1e-43."""
        t = 1e-8 * max(1.0, float(np.abs(self.values[key]).max(initial=0.0)))
        return max(float(np.abs(self.at({key: a * t * v}) - 2 * self.f0
                                + self.at({key: -a * t * v})).max(initial=0.0)) for a in (1, 3))

    def d2(self, u, v) -> tuple:
        """d²f[u, v], and its spread."""
        def central(h):
            return (self.f(self.x0 + h * (u + v)) - self.f(self.x0 + h * (u - v))
                    - self.f(self.x0 - h * (u - v)) + self.f(self.x0 - h * (u + v))) / (4 * h * h)
        return extrapolate(central, H2, self.scale_f, halvings=2)


def extrapolate(central, h: float, scale: float, halvings: int = 4) -> tuple:
    """Richardson's extrapolation of central differences, as --check takes them
    (matcalc.evaluate.extrapolated): the step halved until successive extrapolations agree,
    then while they come closer, to ~1e-9 (of scale, the largest value met, if larger); the
    estimate that moved least, and the spread of the estimates, entry by entry: the resolution
    of the truth."""
    from matcalc.evaluate import extrapolated
    return extrapolated(central, h, halvings, scale, settled=1e-9)


def basis(case: rx.Case, var=None) -> list:
    """Directions spanning the variable's space: unit matrices, or for a symmetric variable
    E_ii and E_ij + E_ji (its derivative is only defined along symmetric directions), for a
    diagonal one E_ii. (An orthogonal or stochastic variable's gradient is the unstructured
    one, docs/language.md: every unit matrix.)"""
    var = var or case.wrt
    rows, cols = case.size(var.shape if isinstance(var, rx.Variable) else var.node.shape)
    structure = rx.structure(var)
    out = []
    if structure == "diagonal":
        for i in range(rows):
            e = np.zeros((rows, cols))
            e[i, i] = 1.0
            out.append(e)
        return out
    if structure in ("symmetric", "spd"):
        for i in range(rows):
            for j in range(i, rows):
                e = np.zeros((rows, cols))
                e[i, j] = e[j, i] = 1.0
                out.append(e)
        return out
    for j in range(cols):
        for i in range(rows):
            e = np.zeros((rows, cols))
            e[i, j] = 1.0
            out.append(e)
    return out


def direction(case: rx.Case, rng, var=None) -> np.ndarray:
    var = var or case.wrt
    v = rng.standard_normal(case.size(var.shape if isinstance(var, rx.Variable)
                                      else var.node.shape))
    structure = rx.structure(var)
    if structure == "diagonal":
        return np.diag(np.diag(v))
    return (v + v.T) / 2 if structure in ("symmetric", "spd") else v


def _scalar(a) -> float:
    return float(np.asarray(a, dtype=float).reshape(-1)[0])


def close(a, b, scale_floor: float, rtol: float = RTOL) -> tuple[bool, float]:
    """Is candidate a equal to truth b on the scale of their largest entry? (A zero of any
    shape stands for the zero matrix.)"""
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    if a.shape != b.shape and not np.any(a) and np.abs(b).max(initial=0.0) <= scale_floor:
        return True, 0.0
    try:
        a = np.broadcast_to(a, b.shape)
    except ValueError:
        return False, np.inf
    if not np.all(np.isfinite(a)):
        return False, np.inf
    scale = max(np.abs(a).max(initial=0.0), np.abs(b).max(initial=0.0), scale_floor)
    err = float(np.abs(a - b).max(initial=0.0) / scale)
    return err <= rtol, err


# --- matcalc side ---------------------------------------------------------------------------

def _matcalc():
    import matcalc
    from matcalc.errors import MatcalcError, UnsupportedError
    return matcalc, MatcalcError, UnsupportedError


def mc_evaluate(expr, env: dict, sizes: dict, definitions: dict) -> np.ndarray:
    """matcalc's evaluation of its own tree (``sizes``: the symbolic sizes' values)."""
    return mc_evaluate_largest(expr, env, sizes, definitions)[0]


def mc_evaluate_largest(expr, env: dict, sizes: dict, definitions: dict) -> tuple:
    """(matcalc's evaluation of its own tree, the largest finite value met on the way)."""
    from matcalc.evaluate import Evaluator
    evaluator = Evaluator(env, dict(sizes), definitions)
    with np.errstate(all="ignore"):
        value = evaluator(expr)
        largest = max((float(np.abs(a).max(initial=0.0)) for a in map(np.asarray,
                       evaluator.cache.values()) if a.dtype.kind == "f" and np.isfinite(a).all()),
                      default=0.0)
    return value, largest


def check(case: rx.Case, checks=CHECKS, steps_dialects=rx.DIALECTS) -> Report:
    """The checks of the module docstring on one case (LaTeX is collected, not compiled)."""
    report = Report(case)
    rng = np.random.default_rng(case.seed)
    for _ in range(20):
        values = rx.draw(case, rng)
        if not rx.admissible(case, values):
            continue
        try:
            _Checker(case, values, report, rng, set(checks), steps_dialects).run()
            classes = {f.cls for f in report.findings}
            if report.status == "checked" and "unresolved" in classes and \
                    not classes & set(CLASSES):
                report.status = "unresolved"
            return report
        except Crossed:
            report.findings.clear()
            continue
    report.status = "inadmissible"
    report.findings.clear()
    return report


class _Checker:
    def __init__(self, case, values, report, rng, checks, steps_dialects):
        self.case, self.values, self.report, self.rng = case, values, report, rng
        self.checks = checks
        self.steps_dialects = steps_dialects
        self.truth = Truth(case, values)
        self.B = basis(case)
        # derivatives are compared on the scale of their largest entry, but not below what
        # the differences resolve next to the largest value met on the way (a saturated tanh)
        self.floor = 1e-5 * self.truth.scale_f
        self.line_scale = 0.0
        self.differentials: dict = {}   # name → spread of the differences taken for d(…)
        self.line_noise = 0.0           # what their spreads make of a line (evaluate_line)
        self.index_texts: dict = {}
        self.sizes = case.sizes         # the values of the sizes of the reading checked

    # -- the truth, computed once ------------------------------------------------------------
    def truths(self):
        t = self.truth
        # each with its spread: the resolution of its differences (judge)
        self.jac, self.jac_spread = zip(*[t.d1(b) for b in self.B])   # df[B_k], of f's shape
        self.v = direction(self.case, self.rng)
        self.df_v, self.df_v_spread = t.d1(self.v)
        if self.case.kind == "jacobian":
            self.g = self.rng.standard_normal(self.case.size(self.case.result.shape))
        if self.case.kind == "hessian":
            self.hv, self.hv_spread = (np.array([float(x[0, 0]) for x in column]) for column in
                                       zip(*[t.d2(b, self.v) for b in self.B]))   # <B_k, H v>
            self.hfloor = 1e-4 * t.scale_f

    def judge(self, cls, what, got, want, floor, rtol=RTOL, spread=0.0,
              detail="relative error {err:.2g}") -> bool:
        """Is got the truth want (close)? If not, a finding of class cls, or, where got differs
        from want only within the spread of want's finite differences (entry by entry, as
        --check judges: matcalc.check.compared), the comparison is unresolved: neither passed
        nor failed, and the case is counted so."""
        from matcalc.check import compared
        good, err = close(got, want, floor, rtol)
        if good:
            return True
        if np.isfinite(err) and np.any(spread):
            b = np.asarray(want, dtype=float)
            a = np.broadcast_to(np.asarray(got, dtype=float), b.shape)
            scale = max(np.abs(a).max(initial=0.0), np.abs(b).max(initial=0.0), floor)
            line = compared(what, zip(a.ravel(), b.ravel(), itertools.repeat(scale),
                                      np.broadcast_to(spread, b.shape).ravel()))
            if line.verdict(rtol) == "inconclusive":
                self.report.unresolved(what, f"relative error {err:.2g} within the resolution "
                                             f"{line.resolution:.2g} of the differences")
                return False
        self.report.add(cls, what, detail.format(err=err))
        return False

    def run(self):
        matcalc, MatcalcError, UnsupportedError = _matcalc()
        case, report = self.case, self.report
        self.truths()
        wrt = [case.wrt_name.ir] + [v.name.ir for v in case.also] if case.also else \
            case.wrt_name.ir
        try:
            result = matcalc.derive(case.text(), wrt, kind=case.kind)
        except UnsupportedError as e:
            report.status = "unsupported"
            report.findings.append(Finding("unsupported", "derive", e.message))
            return
        except MatcalcError as e:
            report.status = "rejected"
            report.add("input rejected", "derive", e.render())
            return
        except Crossed:
            raise
        except Exception as e:          # noqa: BLE001 — any other exception is the defect
            report.status = "internal error"
            report.add("traceback", "derive", _trace(e))
            return
        self.result = result
        self.d = result.derivatives[0]
        on = self.checks
        report.phase = "input"
        if "input" in on and not self.read_input():
            report.status = "misread"
            return
        # a block Hessian's rows are checked together; its printed forms are not read back yet
        for check, run, needed_by in ((("tree", self.check_blocks, {"tree", "code"}),
                                       ("latex", self.collect_latex, {"latex"}),
                                       ("self-check", self.self_check, {"self-check"}))
                                      if case.also else (
                ("tree", self.check_tree, {"tree"}), ("code", self.check_code, {"code"}),
                ("printed", self.check_printed, {"printed", "printed index"}),
                ("steps", self.check_steps, {"steps", "printed steps"}),
                ("index", self.check_index, {"index", "printed index"}),
                ("latex", self.collect_latex, {"latex"}),
                ("self-check", self.self_check, {"self-check"}),
                ("undeclared", self.check_undeclared, {"undeclared"}))):
            report.phase = check
            if on & needed_by:
                run()
        report.phase = "derive"

    def check_blocks(self):
        """A block Hessian (--wrt X --wrt Y --hessian): each row's ∂f/∂X, each block ∂²f/∂X∂Yᵀ
        applied to a direction of Y and the Hessian–vector product taking a direction for every
        variable — the result trees and the generated hess() and hvp() alike — against second
        differences that move X and Y together."""
        case = self.case
        variables = {v.name.ir: v for v in [case.wrt] + case.also}
        dirs = {k: direction(case, self.rng, v) for k, v in variables.items()}
        code = self.generated()
        for i, d in enumerate(self.result.derivatives):
            try:
                self.block_row(i, d, basis(case, variables[d.wrt.name]), dirs, code)
            except Crossed:
                raise
            except Exception as e:      # noqa: BLE001
                self.report.add("traceback", f"checking the row of {d.wrt.name}", _trace(e))

    def block_row(self, i, d, B, dirs, code):
        t, x, sizes, named = self.truth, d.wrt.name, self.case.sizes, self.named()

        def compare(got, want, what, floor, rtol):
            want, spread = want
            what = f"{what} of ∂f/∂{x}"
            if got is not None and np.size(got) == B[0].size:
                got = np.asarray(got, dtype=float).reshape(B[0].shape, order="F")
                self.judge("wrong derivative", what, np.array([np.sum(got * b) for b in B]),
                           want, floor, rtol, spread)
            else:
                self.report.add("wrong derivative", what, "relative error inf")

        def along(differences):
            return tuple(np.array([float(x[0, 0]) for x in column])
                         for column in zip(*differences))
        compare(mc_evaluate(d.gradient, self.env(), sizes, named), along(t.d1(b, x) for b in B),
                "∇f tree", self.floor, RTOL)
        total = np.zeros(len(B)), np.zeros(len(B))
        hess = self.call_block(code, "hess") if code is not None else None
        for j, (y, block) in enumerate(d.blocks):
            v = dirs[y.name].reshape(-1, order="F")
            hv = along(t.d2_joint(x, b, y.name, dirs[y.name]) for b in B)
            total = total[0] + hv[0], total[1] + hv[1]
            compare(np.asarray(mc_evaluate(block, self.env(), sizes, named)) @ v, hv,
                    f"block {y.name} tree", self.hfloor, RTOL2)
            if hess is not None:
                compare(np.asarray(hess[i][j]) @ v if hess else None, hv, f"hess()[{i}][{j}]",
                        self.hfloor, RTOL2)
        given = {w.name: dirs[y.name] for w, (y, _) in zip(d.directions, d.blocks)}
        compare(mc_evaluate(d.map_expr, self.env(**given), sizes, named), total,
                "Hessian–vector product tree", self.hfloor, RTOL2)
        if code is not None:
            out = self.call_block(code, "hvp", given)
            compare(out[i] if isinstance(out, tuple) else None, total, f"hvp()[{i}]",
                    self.hfloor, RTOL2)

    def generated(self):
        """The namespace of the generated NumPy, or None (a finding) if it does not run."""
        text = self.outputs("numpy")
        if text is None:
            return None
        namespace: dict = {}
        try:
            exec(text, namespace)       # noqa: S102 — the generated code, run as a user runs it
        except Exception as e:          # noqa: BLE001
            self.report.add("generated code raises", "defining the functions", _trace(e))
            return None
        return namespace

    def call_block(self, code, name, given=None):
        """hess() or hvp() of a block Hessian, the inputs (and directions) by parameter name."""
        from matcalc.codegen import py_name
        d = self.result.derivatives[0]
        by_py = {py_name(v.name.ir): (v.shape, self.values[v.name.ir])
                 for v in self.case.variables}
        for w, (y, _) in zip(d.directions, d.blocks):
            if given:
                by_py[py_name(w.name)] = (y.shape, given[w.name])
        try:
            args = []
            for p in inspect.signature(code[name]).parameters:
                shape, value = by_py[p if p in by_py else p.rstrip("_")]
                args.append(float(value[0, 0]) if shape == rx.SCALAR else
                            value[:, 0].copy() if shape[1] == 1 else value.copy())
            with np.errstate(all="ignore"):
                return code[name](*args)
        except Exception as e:          # noqa: BLE001
            self.report.add("generated code raises", name, _trace(e))
            return ()

    def self_check(self):
        """Result.check() (--check) fails exactly when the tree or the code is wrong; on a right
        result it passes, or says inconclusive where the finite differences cannot resolve it.
        (Where this harness cannot resolve the tree or the code, it cannot judge --check.)"""
        wrong = any(f.cls in ("wrong derivative", "generated code raises")
                    for f in self.report.findings)
        if not {"tree", "code"} <= self.checks or not wrong and any(
                f.cls == "unresolved" and f.check in ("tree", "code")
                for f in self.report.findings):
            return
        report = self.outputs("check")
        if report is not None and report.failed != wrong:
            self.report.add("--check misjudges", "Result.check()",
                            f"says {report.status}: {report}")

    def outputs(self, name: str):
        """An output property; an exception there is a finding."""
        _, MatcalcError, _ = _matcalc()
        try:
            value = getattr(self.result, name)
            return value() if callable(value) else value
        except MatcalcError as e:
            cls = "generated code raises" if "numpy" in name else "input rejected"
            self.report.add(cls, name, e.render())
        except Exception as e:          # noqa: BLE001
            self.report.add("traceback", name, _trace(e))
        return None

    # -- the input is read as the generator meant --------------------------------------------
    def read_input(self) -> bool:
        from matcalc import parse
        ok = True
        for dialect, text in self.case.texts.items():
            try:
                program = parse(text)
                got = mc_evaluate(program.result, self.values, self.case.sizes,
                                  dict(program.definitions))
            except Exception as e:      # noqa: BLE001
                self.report.add("input rejected", f"parse ({dialect})", f"{text}\n    {e}")
                ok = ok and dialect != self.case.dialect
                continue
            # to rounding on the scale of the largest value met (sum(Y) − 𝟏ᵀY𝟏 is 1e-14)
            good, _ = close(got, self.truth.f0, self.truth.scale_f, 1e-9)
            if not good or got.shape != self.truth.f0.shape:
                self.report.add("input read differently", dialect,
                                f"{text}\n    read as {program.result}")
                ok = ok and dialect != self.case.dialect
        return ok

    # -- the structured results (matcalc's own trees) -----------------------------------------
    def named(self) -> dict:
        d = self.d
        named = dict(d.definitions)
        if self.result.program.result_name:
            named[self.result.program.result_name] = d.function
        return named

    def env(self, **extra) -> dict:
        env = dict(self.values)
        env.update(extra)
        return env

    def check_tree(self):
        d, kind = self.d, self.case.kind
        try:
            if kind == "gradient":
                self.compare_gradient(mc_evaluate(d.expr, self.env(), self.sizes, self.named()),
                                      "wrong derivative", "result tree")
            elif kind == "jacobian":
                self.compare_jacobian(mc_evaluate(d.expr, self.env(), self.sizes, self.named()),
                                      "wrong derivative", "vec form tree")
                g = mc_evaluate(d.map_expr, self.env(**{d.map_var.name: self.g}), self.sizes,
                                self.named())
                self.compare_vjp(g, "wrong derivative", "map form tree")
            else:
                self.compare_gradient(mc_evaluate(d.gradient, self.env(), self.sizes,
                                                  self.named()), "wrong derivative", "∇f tree")
                self.compare_hessian(mc_evaluate(d.expr, self.env(), self.sizes, self.named()),
                                     "wrong derivative", "Hessian tree")
                hv = mc_evaluate(d.map_expr, self.env(**{d.map_var.name: self.v}), self.sizes,
                                 self.named())
                self.compare_hvp(hv, "wrong derivative", "Hessian-vector product tree")
        except Crossed:
            raise
        except Exception as e:          # noqa: BLE001
            self.report.add("traceback", "evaluating the result tree", _trace(e))

    def check_undeclared(self):
        """The undeclared check (module docstring): the reading's tree, where it reads the
        case's function at the case's shapes."""
        matcalc, MatcalcError, _ = _matcalc()
        from matcalc.errors import InternalError
        text = rx.undeclared_text(self.case)
        if text is None:
            return
        wrt = self.case.wrt_name.ir
        try:
            result = matcalc.derive(text, wrt, kind=self.case.kind)
        except InternalError as e:
            self.report.add("traceback", "derive (undeclared)", f"{text}\n    {e.render()}")
            return
        except MatcalcError:
            self.report.undeclared = "asked"
            return
        except Crossed:
            raise
        except Exception as e:          # noqa: BLE001 — any other exception is the defect
            self.report.add("traceback", "derive (undeclared)", f"{text}\n    {_trace(e)}")
            return
        sizes = self.sizes_of(result.program)
        if sizes is None or not self.same_function(result.program, sizes):
            self.report.undeclared = "otherwise"
            return
        self.report.undeclared = "same"
        reading = copy.copy(self)
        reading.result, reading.d, reading.sizes = result, result.derivatives[0], sizes
        reading.check_tree()

    def same_function(self, program, sizes: dict) -> bool:
        """Is the reading's function the case's at the values drawn? (At the same shapes a
        vector may broadcast the other way: X̂ ∘ c by rows, not columns.)"""
        got = mc_evaluate(program.result, self.values, sizes, dict(program.definitions))
        return got.shape == self.truth.f0.shape and \
            close(got, self.truth.f0, self.truth.scale_f, 1e-9)[0]

    def sizes_of(self, program) -> dict | None:
        """The values of the sizes of a reading: each variable's shape unified with the case's
        (None where a variable has another shape)."""
        shapes = {v.name.ir: self.case.size(v.shape) for v in self.case.variables}
        sizes: dict = {}
        products = []
        for var in program.variables:
            if var.name not in shapes:
                return None
            for got, want in zip(var.shape, shapes[var.name]):
                if isinstance(got, int):
                    if got != want:
                        return None
                elif "·" in got:
                    products.append((got, want))
                elif sizes.setdefault(got, want) != want:
                    return None
        for got, want in products:
            factors = got.split("·")
            if not all(f in sizes for f in factors) or \
                    int(np.prod([sizes[f] for f in factors])) != want:
                return None
        return sizes

    # comparisons against the truth; each returns True when it holds
    def at_wrt_shape(self, x, cls, what):
        """x as an array of the variable's shape (the same entries reshaped, or a smaller
        array broadcast); None, with a finding, if it has neither."""
        shape = self.case.size(self.case.wrt_shape)
        try:
            return np.broadcast_to(np.asarray(x, dtype=float).reshape(
                shape if np.size(x) == np.prod(shape) else np.shape(x)), shape)
        except ValueError:
            self.report.add(cls, what, f"shape {np.shape(x)}, expected {shape}")
            return None

    def compare_gradient(self, g, cls, what) -> bool:
        g = self.at_wrt_shape(g, cls, what)
        if g is None:
            return False
        got = np.array([np.sum(g * b) for b in self.B])
        want = np.array([float(j[0, 0]) for j in self.jac])
        spread = np.array([float(s[0, 0]) for s in self.jac_spread])
        return self.judge(cls, what, got, want, self.floor, spread=spread)

    def jac_truth(self, of=None):
        """The Jacobian in the basis B (of: the spreads of its columns instead)."""
        return np.stack([j.reshape(-1, order="F") for j in of or self.jac], axis=1)

    def compare_jacobian(self, J, cls, what) -> bool:
        J = np.asarray(J, dtype=float)
        want = self.jac_truth()
        cols = np.stack([b.reshape(-1, order="F") for b in self.B], axis=1)
        if J.ndim != 2 or J.shape[1] != cols.shape[0] or J.shape[0] != want.shape[0]:
            if J.size == 1 and want.size > 1 and J.reshape(-1)[0] != 0:
                self.report.add(cls, what, f"a scalar ({float(J.reshape(-1)[0]):.3g}), "
                                           f"expected a {want.shape[0]}×{cols.shape[0]} matrix")
                return False
            try:
                J = np.broadcast_to(J, (want.shape[0], cols.shape[0]))
            except ValueError:
                self.report.add(cls, what, f"shape {J.shape}, expected "
                                           f"{(want.shape[0], cols.shape[0])}")
                return False
        return self.judge(cls, what, J @ cols, want, self.floor,
                          spread=self.jac_truth(self.jac_spread))

    def compare_vjp(self, g, cls, what) -> bool:
        want = np.array([np.sum(self.g * j) for j in self.jac])
        shape = self.case.size(self.case.wrt_shape)
        try:
            g = np.broadcast_to(np.asarray(g, dtype=float).reshape(
                shape if np.size(g) == np.prod(shape) else np.shape(g)), shape)
        except ValueError:
            self.report.add(cls, what, f"shape {np.shape(g)}, expected {shape}")
            return False
        got = np.array([np.sum(g * b) for b in self.B])
        spread = np.array([np.sum(np.abs(self.g) * s) for s in self.jac_spread])
        return self.judge(cls, what, got, want, self.floor * np.abs(self.g).max(),
                          spread=spread)

    def compare_hessian(self, H, cls, what) -> bool:
        H = np.asarray(H, dtype=float)
        n = len(self.B[0].reshape(-1))
        if H.size == 1 and n > 1:
            H = np.broadcast_to(H, (n, n))   # a scalar stands for its multiple of I? no: checked
        if H.shape != (n, n):
            self.report.add(cls, what, f"shape {H.shape}, expected {(n, n)}")
            return False
        hv = H @ self.v.reshape(-1, order="F")
        got = np.array([np.sum(hv * b.reshape(-1, order="F")) for b in self.B])
        return self.judge(cls, what, got, self.hv, self.hfloor, RTOL2, self.hv_spread)

    def compare_hvp(self, hv, cls, what) -> bool:
        hv = self.at_wrt_shape(hv, cls, what)
        if hv is None:
            return False
        got = np.array([np.sum(hv * b) for b in self.B])
        return self.judge(cls, what, got, self.hv, self.hfloor, RTOL2, self.hv_spread)

    # -- the generated NumPy -----------------------------------------------------------------
    def check_code(self):
        code = self.outputs("numpy")
        code_value = self.outputs("numpy_with_value")
        case = self.case
        x = case.wrt_name.py
        for source, with_value in ((code, False), (code_value, True)):
            if source is None or (with_value and case.kind != "gradient"):
                continue
            namespace: dict = {}
            try:
                exec(compile(source, "<generated>", "exec"), namespace)   # noqa: S102
            except Exception as e:      # noqa: BLE001
                self.report.add("generated code raises", "exec", _trace(e))
                continue
            names = {"gradient": ["grad_"], "jacobian": ["jac_", "vjp_"],
                     "hessian": ["hess_", "hvp_"]}[case.kind]
            for prefix in names if not with_value else names[:1]:
                fn = namespace.get(prefix + x)
                label = prefix + x + (" (with value)" if with_value else "")
                if fn is None:
                    self.report.add("generated code raises", label,
                                    f"no function {prefix + x} in the code")
                    continue
                try:
                    args = self.arguments(fn, prefix)
                    with np.errstate(all="ignore"):
                        out = fn(*args)
                except _Unmapped as e:
                    self.report.add("generated code raises", label, str(e))
                    continue
                except Exception as e:  # noqa: BLE001
                    self.report.add("generated code raises", label, _trace(e))
                    continue
                self.compare_code(prefix, label, out, with_value)

    def arguments(self, fn, prefix: str) -> list:
        """The inputs in the order of the signature: vectors 1-D, scalars floats."""
        by_py = {v.name.py: (v.shape, self.values[v.name.ir]) for v in self.case.variables}
        w = self.case.wrt
        by_py[w.name.py] = (self.case.wrt_shape, self.values[w.name.ir])
        params = list(inspect.signature(fn).parameters)
        args = []
        for i, p in enumerate(params):
            if prefix in ("vjp_", "hvp_") and i == len(params) - 1:
                value = self.g if prefix == "vjp_" else self.v
                shape = self.case.result.shape if prefix == "vjp_" else self.case.wrt_shape
            elif p in by_py or p.rstrip("_") in by_py:    # np → np_ (README, NumPy code)
                shape, value = by_py[p if p in by_py else p.rstrip("_")]
            else:
                raise _Unmapped(f"parameter {p!r} is none of the inputs "
                                f"({', '.join(by_py)})")
            if shape == rx.SCALAR:
                args.append(float(value[0, 0]))
            elif shape[1] == 1:
                args.append(value[:, 0].copy())
            else:
                args.append(value.copy())
        return args

    def compare_code(self, prefix, label, out, with_value):
        if with_value:
            if not (isinstance(out, tuple) and len(out) == 2):
                self.report.add("generated code raises", label, "does not return (f, grad)")
                return
            value, out = out
            # to rounding on the scale of the largest value met (logdet(expm(Z − Z)) is 1e-16)
            good, err = close(value, self.truth.f0, self.truth.scale_f, 1e-9)
            if not good:
                self.report.add("wrong derivative", label + ": the value f",
                                f"relative error {err:.2g}")
        cls = "wrong derivative"
        if prefix == "grad_":
            self.check_returned_shape(label, out, self.case.wrt_shape)
            self.compare_gradient(out, cls, label)
        elif prefix == "jac_":
            self.compare_jacobian(out, cls, label)
        elif prefix == "vjp_":
            self.check_returned_shape(label, out, self.case.wrt_shape)
            self.compare_vjp(out, cls, label)
        elif prefix == "hess_":
            self.compare_hessian(out, cls, label)
        else:
            self.check_returned_shape(label, out, self.case.wrt_shape)
            self.compare_hvp(out, cls, label)

    def check_returned_shape(self, label, out, shape):
        """The README: a gradient comes back in the shape of its variable."""
        rows, cols = self.case.size(shape)
        want = () if shape == rx.SCALAR else (rows,) if shape[1] == 1 else (rows, cols)
        if np.shape(out) != want:
            self.report.add("generated code raises", label,
                            f"returns shape {np.shape(out)}, expected {want}")

    # -- printed forms read back -------------------------------------------------------------
    def check_printed(self):
        for dialect, prop in (("unicode", "text"), ("ascii", "ascii"), ("latex", "latex")):
            text = self.outputs(prop)
            if text is None:
                continue
            try:
                lines = split_result(text, self.case.kind, dialect)
            except ValueError as e:
                self.report.add("printed form does not parse", f"{prop}: layout", str(e))
                continue
            reader = Reader(self, dialect, lines.where)
            if "printed" in self.checks:
                for role, rhs in lines.rhs.items():
                    self.check_line(reader, prop, role, rhs)
            if self.case.kind == "jacobian" and "printed index" in self.checks:
                self.index_texts[dialect] = (lines.index, reader)

    def check_line(self, reader, prop, role, rhs):
        d = self.d
        what = f"{prop} {role}: {rhs}"
        extra = {}
        if role == "map":
            extra[d.map_var.name] = (d.map_var.shape,
                                     self.g if self.case.kind == "jacobian" else self.v)
        value = reader.value(rhs, extra, what, self.stated_shape(role))
        if value is None:
            return
        cls = "printed form reads back differently"
        compare = {("gradient", "result"): self.compare_gradient,
                   ("hessian", "gradient"): self.compare_gradient,
                   ("jacobian", "vec"): self.compare_jacobian,
                   ("jacobian", "map"): self.compare_vjp,
                   ("hessian", "hessian"): self.compare_hessian,
                   ("hessian", "map"): self.compare_hvp}[(self.case.kind, role)]
        compare(value, cls, what)

    def stated_shape(self, role: str) -> tuple:
        """The shape a line's left-hand side states (∂f/∂X: X's; a vec form: F.size × X.size)."""
        f, x = self.case.result.shape, self.case.wrt_shape
        if self.case.numeric:                         # the sizes as the input states them
            f, x = self.case.size(f), self.case.size(x)
        nf, nx = rx.dim_mul(*f), rx.dim_mul(*x)
        return {"result": x, "gradient": x, "map": x, "vec": (nf, nx), "hessian": (nx, nx),
                "df": (1, 1), "dF": f, "vec dF": (nf, 1), "d grad": x,
                "vec d grad": (nx, 1)}[role]

    # -- the derivation ----------------------------------------------------------------------
    def check_steps(self):
        try:
            if "steps" in self.checks:
                self.structured_steps()
        except Crossed:
            raise
        except Exception as e:          # noqa: BLE001
            self.report.add("traceback", "evaluating the derivation", _trace(e))
        self.report.phase = "printed steps"
        for dialect in self.steps_dialects if "printed steps" in self.checks else ():
            prop = {"unicode": "steps", "ascii": "steps_ascii", "latex": "steps_latex"}[dialect]
            text = self.outputs(prop)
            if text is None:
                continue
            reader = Reader(self, dialect, steps_where(text, dialect))
            for label, rhs, target in split_steps(text, dialect, self.d.kind):
                self.check_printed_step(reader, prop, label, rhs, target)

    def directional(self, expr, env: dict, definitions: dict, sizes=None) -> tuple:
        """d(expr)[v] by the same extrapolated differences, on matcalc's own evaluation, and
        their spread."""
        sizes = self.case.sizes if sizes is None else sizes
        key = self.case.wrt_name.ir

        def at(h):
            moved = dict(env)
            moved[key] = self.truth.x0 + h * self.v
            value, largest = mc_evaluate_largest(expr, moved, sizes, definitions)
            self.line_scale = max(self.line_scale, largest)
            return value

        value, spread = extrapolate(lambda h: (at(h) - at(-h)) / (2 * h), H1, self.truth.scale_f)
        self.line_scale = max(self.line_scale, float(np.abs(value).max(initial=0.0)))
        return value, spread

    def line_floor(self, floor: float) -> float:
        """A derivation line is compared no finer than the differences resolve next to the
        largest value met evaluating it and its differentials (``line_scale``, ~1e-9 of it):
        dy ⊘ y + y ∘ d(1 ⊘ y) is 0 as the sum of two terms of 35."""
        return max(floor, 1e-4 * self.line_scale)

    def begin_line(self):
        self.line_scale = float(np.abs(self.v).max(initial=0.0))
        self.differentials, self.line_noise = {}, 0.0

    def line_spread(self, spread, shape=None) -> np.ndarray:
        """The spread a line is judged with: the truth's and the line's own (line_noise), of
        the line's shape, or (shape "basis") along each direction of the basis B."""
        noise = np.asarray(self.line_noise, dtype=float)
        if shape == "basis":
            if noise.size == self.v.size:
                noise = noise.reshape(self.v.shape, order="F")
            noise = np.broadcast_to(noise, self.v.shape)
            return spread + np.array([np.sum(noise * np.abs(b)) for b in self.B])
        if shape is not None and noise.size == np.prod(shape):
            noise = noise.reshape(shape, order="F")
        return spread + noise

    def differential_value(self, lin, named: dict, given=None) -> np.ndarray:
        """lin, an expression in differentials D(e), with each D(e) := de[v]."""
        from matcalc.ir import D, Var, substitute, walk
        mapping, env = {}, self.env(**(given or {}))
        for i, node in enumerate(n for n in dict.fromkeys(walk(lin)) if isinstance(n, D)):
            name = f"<d{i}>"
            if node.arg == self.d.wrt:
                env[name] = self.v
            else:
                env[name], self.differentials[name] = self.directional(node.arg, dict(env), named)
            mapping[node] = Var(name, node.shape)
        return self.evaluate_line(substitute(lin, mapping), env, named)

    def evaluate_line(self, expr, env: dict, named: dict) -> np.ndarray:
        """A derivation line's value; its largest value met goes into ``line_scale``, and
        into ``line_noise`` what the differences it takes of its differentials d(…) resolve
        of it: the line is linear in them, and their rounding, random in sign, makes it wander
        by about L(s ∘ R) for L its linear part, s their spreads, R random signs (rounding in
        d(expm(expm(expm(sM)))) of entries near 30 moved sum(G ∘ d(…)) of 6e-7 by 6e-8)."""
        value, largest = mc_evaluate_largest(expr, env, self.case.sizes, named)
        self.line_scale = max(self.line_scale, largest)
        held = {name: s for name, s in self.differentials.items() if name in env}
        if not held:
            return value
        if not all(np.all(np.isfinite(s)) for s in held.values()):
            self.line_noise = self.line_noise + np.full(np.shape(value), np.inf)
            return value
        rng = np.random.default_rng(0)
        zero = mc_evaluate(expr, {**env, **{n: 0 * env[n] for n in held}}, self.case.sizes,
                           named)
        noise = [np.abs(mc_evaluate(expr, {**env, **{
            n: s * rng.choice((-1.0, 1.0), np.shape(s)) for n, s in held.items()}},
            self.case.sizes, named) - zero) for _ in range(3)]
        self.line_noise = self.line_noise + np.max(noise, axis=0)
        return value

    def derivation(self) -> list:
        """The blocks of the derivation --steps prints (report.derivation): (kind, Block)."""
        from matcalc.report import derivation
        if not hasattr(self, "_blocks"):
            self._blocks = derivation(self.d)
        return self._blocks

    def differential_shapes(self, dialect: str, inner: str) -> list:
        """The shapes of the differentials d(e) of the derivation, those whose e matcalc prints
        as ``inner`` first."""
        from matcalc.derivation import line_expr
        from matcalc.ir import D, walk
        from matcalc.printers import AsciiPrinter, LatexPrinter, TextPrinter
        printer = {"unicode": TextPrinter, "ascii": AsciiPrinter, "latex": LatexPrinter}[dialect]()
        d = self.d
        exprs = [line_expr(line) for _, block in self.derivation() for line in block.lines]
        exprs += [d.differential] if d.differential is not None else []
        nodes = [n for e in exprs for n in walk(e) if isinstance(n, D)]
        same = [n.shape for n in nodes if printer.doprint(n.arg) == inner]
        return list(dict.fromkeys(same + [n.shape for n in nodes]))

    def structured_steps(self):
        """Each line of the derivation has the value of its block's lead along v: df (the first
        block), ∂L/∂Y : dY (a block of the backward reading through definitions, with the
        adjoints read off above it), ∂L/∂X (the closing block: the gradient), dF, or d∇f
        (a Hessian's second part); so does d.differential, from which the vec form is read."""
        from matcalc.derivation import line_expr
        from matcalc.ir import D, Var
        d, named = self.d, self.named()
        adjoints: dict = {}
        checks = []
        for kind, block in self.derivation():
            for line in block.lines:
                checks.append((kind, block.lead, line_expr(line), dict(adjoints)))
            for var, value in block.results:          # ∂L/∂Y read off at the block's end
                adjoints[var.name] = mc_evaluate(value, self.env(**adjoints), self.case.sizes,
                                                 named)
        if d.differential is not None:
            checks.append(("differential", None, d.differential, {}))
        for i, (kind, lead, expr, given) in enumerate(checks):
            self.begin_line()
            value = self.differential_value(expr, named, given)
            what = f"line {i + 1} of the derivation: {str(expr)[:300]}"
            cls = "derivation step wrong"
            if kind == "differential" and d.kind == "hessian":
                got = np.array([np.sum(np.broadcast_to(value, self.v.shape) * b)
                                for b in self.B])
                self.judge(cls, what, got, self.hv, self.line_floor(self.hfloor), RTOL2,
                           self.line_spread(self.hv_spread, "basis"))
            elif kind == "differential" or lead is None or isinstance(lead, D):
                self.judge(cls, what, value, self.df_v, self.line_floor(self.floor),
                           spread=self.line_spread(self.df_v_spread))
            elif isinstance(lead, Var):                # ∂L/∂X = …: the gradient
                self.compare_gradient(value, cls, what)
            else:                                      # ∂L/∂Y : dY
                want = self.differential_value(lead, named, given)
                self.judge(cls, what, value, want, self.line_floor(self.floor),
                           spread=self.line_spread(0.0))

    def check_printed_step(self, reader, prop, label, rhs, target):
        what = f"{prop} {label}: {rhs}"
        self.begin_line()
        value = reader.value(rhs, {}, what, self.stated_shape(target), differentials=True,
                             steps=True)
        if value is None:
            return
        cls = "printed step reads back differently"
        if target == "gradient":
            self.compare_gradient(value, cls, what)
            return
        if target in ("df", "dF", "vec dF"):
            if target == "df" and self.case.kind == "jacobian":
                return
            shape = np.shape(self.df_v) if target != "vec dF" else (self.df_v.size, 1)
            self.judge(cls, what, value, self.df_v.reshape(shape, order="F"),
                       self.line_floor(self.floor),
                       spread=self.line_spread(self.df_v_spread.reshape(shape, order="F"),
                                               shape))
            return
        if target == "d grad":
            v = np.asarray(value, dtype=float)
            try:
                v = np.broadcast_to(v, self.v.shape)
            except ValueError:
                self.report.add(cls, what, f"shape {v.shape}")
                return
            got = np.array([np.sum(v * b) for b in self.B])
        elif target == "vec d grad":
            v = np.asarray(value, dtype=float).reshape(-1)
            if rhs.strip() == "0":
                v = np.zeros(self.v.size)          # 0 is the zero of the line's shape
            if v.size != self.v.size:
                self.report.add(cls, what, f"size {v.size}, expected {self.v.size}")
                return
            got = np.array([np.sum(v * b.reshape(-1, order="F")) for b in self.B])
        else:
            return
        self.judge(cls, what, got, self.hv, self.line_floor(self.hfloor), RTOL2,
                   self.line_spread(self.hv_spread, "basis"))

    def check_index(self):
        if self.case.kind == "jacobian":
            check_index(self)

    # -- LaTeX -------------------------------------------------------------------------------
    def collect_latex(self):
        latex = self.outputs("latex")
        steps = self.outputs("steps_latex")
        if latex is None or steps is None:
            return
        from matcalc.printers import latex_notes
        # as tests/test_outputs.py puts them together: results, derivation, notes
        self.report.latex = latex + "\n" + steps + "\n\n" + latex_notes(
            self.outputs("notes") or [])


class _Unmapped(Exception):
    pass


def _trace(e: Exception) -> str:
    """The exception and where it was raised (for matcalc's InternalError, its cause)."""
    import traceback
    e = getattr(e, "cause", None) or e
    tb = traceback.extract_tb(e.__traceback__)
    where = " ← ".join(f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in tb[-3:][::-1])
    return f"{type(e).__name__}: {e} (at {where})"


# --- reading printed results ------------------------------------------------------------------

@dataclass
class ResultLines:
    rhs: dict                 # role → right-hand side text
    index: str | None         # the index form (Jacobians)
    where: list               # "NAME = …" entries of the where line


ANNOTATION = re.compile(r"    \([^()]*(\([^()]*\)[^()]*)*\)$")


def split_result(text: str, kind: str, dialect: str) -> ResultLines:
    """The right-hand sides of one derivative's printed lines."""
    if dialect == "latex":
        lines, where = _latex_rows(text)
    else:
        lines = [line for line in text.split("\n") if line.strip()]
        where = []
        if lines and lines[-1].startswith("where "):
            where = split_top(lines.pop()[len("where "):], ", ")
        lines = [_strip_annotation(line) for line in lines]
    need = 1 if kind == "gradient" else 3
    if len(lines) != need:
        raise ValueError(f"{len(lines)} lines, expected {need}: {text!r}")

    def after(line, sep):
        i = line.find(sep)
        if i < 0:
            raise ValueError(f"no {sep!r} in {line!r}")
        return line[i + len(sep):]

    mapsto = {"unicode": " ↦ ", "ascii": " |-> ", "latex": r" \mapsto "}[dialect]
    if kind == "gradient":
        return ResultLines({"result": after(lines[0], " = ")}, None, where)
    if kind == "jacobian":
        return ResultLines({"vec": after(lines[0], " = "), "map": after(lines[2], mapsto)},
                           lines[1], where)
    hess = lines[1]
    hess = after(after(hess, " = "), " = ") if dialect != "latex" else after(hess, " = ")
    return ResultLines({"gradient": after(lines[0], " = "), "hessian": hess,
                        "map": after(lines[2], mapsto)}, None, where)


def _latex_rows(text: str) -> tuple[list, list]:
    r"""The rows of the align* block as 'lhs = rhs' (a row broken over several, CONTINUED …,
    joined), and the where entries as 'NAME = rhs'."""
    from matcalc.report import CONTINUED
    body = re.search(r"\\begin\{align\*\}\n(.*?)\n\\end\{align\*\}", text, re.DOTALL)
    if not body:
        raise ValueError(f"no align* block: {text!r}")
    rows: list = []
    for row in body.group(1).split(" \\\\\n"):
        s = row.strip()
        if s.startswith("&=") and rows:            # the right-hand side of a long left one
            rows[-1] = rows[-1].lstrip("&") + " " + s
        elif s.startswith(CONTINUED) and rows:    # a long line broken at an operator
            rows[-1] += " " + s.removeprefix(CONTINUED).strip()
        else:
            rows.append(row)
    lines, where = [], []
    for row in rows:
        row = row.replace(" &= ", " = ").replace(r" &\mapsto ", r" \mapsto ").lstrip("&")
        if row.startswith(r"\text{where }") or where:
            # one row may define several names: p = \operatorname{softmax}(Y, 1), T_{1} = …
            where += split_top(row.replace(r"\text{where }", "", 1), ", ")
        else:
            lines.append(row)
    return lines, where


def _strip_annotation(line: str) -> str:
    i = line.rfind("    (")
    return line[:i] if i >= 0 else line


OPEN, CLOSE = "([{⟨", ")]}⟩"
SIZED_OPEN = re.compile(r"\\(?:left|biggl)\(")
SIZED_CLOSE = re.compile(r"\\(?:right|biggr)\)")


def depth_scan(text: str):
    """(index, depth before the character) for each character; \\left( and \\right) count,
    so do \\langle and \\rangle, and a norm's bars ‖, \\| (the closing one takes its subscript)."""
    depth = 0
    i = 0
    while i < len(text):
        ch = text[i]
        bar = 1 if ch == "‖" else 2 if text.startswith(r"\|", i) and not text.endswith(
            (r"\left", r"\right"), 0, i) else 0
        if bar:
            opens = text[i + bar:i + bar + 1] not in ("_", "₁", "₂")
            depth -= not opens
            yield i, depth
            depth += opens
            i += bar
            continue
        if text.startswith(r"\langle", i) or text.startswith(r"\rangle", i):
            opens = text[i + 1] == "l"
            depth -= not opens
            yield i, depth
            depth += opens
            i += 7
            continue
        if text.startswith(r"\left", i) and i + 5 < len(text):
            yield i, depth
            depth += 1
            i += 5
            continue
        if text.startswith(r"\right", i) and i + 6 < len(text):
            depth -= 1
            yield i, depth
            i += 6
            continue
        if ch in CLOSE:
            depth -= 1
        yield i, depth
        if ch in OPEN:
            depth += 1
        i += 1


def split_top(text: str, sep: str) -> list:
    """text split at ``sep`` outside brackets."""
    out, start, skip_to = [], 0, -1
    for i, depth in depth_scan(text):
        if i < skip_to:
            continue
        if depth == 0 and text.startswith(sep, i):
            out.append(text[start:i])
            start = i + len(sep)
            skip_to = start
    out.append(text[start:])
    return [p for p in out if p.strip()]


def split_steps(text: str, dialect: str, kind: str) -> list:
    r"""(label, right-hand side, what it equals) for each printed derivation line before the
    results (⇒ …). A line without a left-hand side continues the one above; a Hessian's second
    part (d∇f) starts after its first ⇒. Rows that continue a long line (CONTINUED …, or in text
    indented, from an operator) are joined to it; the laws cited ([…], &\qquad […], a text
    row of its own in brackets) are left out."""
    from matcalc.report import CONTINUED
    out, part, in_result, target = [], 0, False, None
    if dialect == "latex":
        body = re.search(r"\\begin\{align\*\}\n(.*?)\n\\end\{align\*\}", text, re.DOTALL)
        rows = body.group(1).split(" \\\\\n") if body else []
    else:
        rows = text.split("\n")
    in_law = False                                    # in a text law broken over lines
    for i, row in enumerate(rows):
        label = f"row {i + 1}" if dialect == "latex" else f"line {i + 1}"
        if not row.strip():
            continue
        if dialect == "latex":
            if row.startswith(r"&\qquad"):
                continue                              # the laws of the line above
            row = re.sub(r" \\quad \[.*$", "", row)        # the laws (go on in &\qquad rows)
            if row.startswith(CONTINUED):
                if out and not in_result:
                    out[-1] = (out[-1][0], out[-1][1] + " " + row.removeprefix(CONTINUED).strip(),
                               out[-1][2])
                continue
            lhs, sep, rhs = row.partition("&= ")
        else:
            if in_law or row.lstrip().startswith("["):
                in_law = not row.rstrip().endswith("]")
                continue                              # the laws of the line above
            row = re.sub(r"      \[.*$", "", row)
            if re.match(r"\s+(\+|−|-|∘|⊘|⊗|:|\.\*|\./) ", row):
                if out and not in_result:             # a long line continued
                    out[-1] = (out[-1][0], out[-1][1] + " " + row.strip(), out[-1][2])
                continue
            lhs, sep, rhs = row.partition("= ")
        if any(mark in lhs for mark in ("⇒", "=>", r"\Rightarrow")):
            in_result = True
            continue
        # dF, vec(dF), d∇f start a line of their own (dF_ij/dX_kl, ∂vec(F)/∂vec(X) do not)
        starts = lhs.strip().startswith(("d", "vec(d", r"\mathrm{d}",
                                         r"\operatorname{vec}(\mathrm{d}")) and "/" not in lhs
        if not sep or (in_result and not starts):
            continue                                  # a result line or a where line
        if lhs.strip():
            if in_result:
                part, in_result = part + 1, False
            # a closing block ∂f/∂X = … = … equals the gradient; ∂L/∂Y : dY = … is not read
            target = _target(lhs, kind, part) if starts else \
                "gradient" if ":" not in lhs and kind != "jacobian" else None
        if not in_result:
            out.append((label, rhs, target))
    return [(label, rhs, target) for label, rhs, target in out
            if target and not _mentions_adjoint(rhs)]


def steps_where(text: str, dialect: str) -> list:
    """The "where" definitions a derivation ends with (h′(t) = σ(t) − σ(t)², its lines use h′)."""
    if dialect == "latex":
        return _latex_rows(text)[1] if r"\begin{align*}" in text else []
    last = text.rstrip().rsplit("\n", 1)[-1].strip()
    return split_top(last[len("where "):], ", ") if last.startswith("where ") else []


def _mentions_adjoint(text: str) -> bool:
    """Does a line use an adjoint ∂L/∂Y (a backward reading through definitions)? Those are
    not names of the input language: the line is not read back."""
    return "∂" in text or r"\partial" in text or re.search(r"\bd\w+/d\w", text) is not None


def _target(lhs: str, kind: str, block: int) -> str:
    """What a derivation line equals: df (the gradient's lines, also the first block of a
    Hessian's), dF or vec(dF) (a Jacobian's), d∇f or vec(d∇f) (the second block of a Hessian's)."""
    vec = "vec" in lhs
    if kind == "gradient" or (kind == "hessian" and block == 0):
        return "df"
    if kind == "jacobian":
        return "vec dF" if vec else "dF"
    return "vec d grad" if vec else "d grad"


class Reader:
    """Parses printed right-hand sides back with matcalc, in one dialect: after the input's own
    declarations, functions and definitions, the function's own name and the "where" names;
    the other names a line mentions (the map form's G or V, the differentials' stand-ins, a
    matrix of the line's stated shape) are declared through ``parse(…, shapes=…)``."""

    def __init__(self, checker: _Checker, dialect: str, where: list):
        self.c = checker
        self.dialect = dialect
        self.rng = random.Random(checker.case.seed)
        self.renames: dict = {}            # derived function name (f′) → its stand-in
        stand_ins = {"unicode": ["φ", "χ", "ω"], "ascii": ["phi", "chi", "omega"],
                     "latex": [r"\phi", r"\chi", r"\omega"]}[dialect]
        parsed = []
        for entry in where:
            lhs, _, rhs = entry.partition(" = ")
            m = re.match(r"^(.*?)(\\left)?\((\w+|\\\w+)(\\right)?\)$", lhs.strip())
            if m:                           # f′(x) = body: a function
                self.renames[m.group(1)] = stand_ins[len(self.renames)]
            parsed.append((lhs.strip(), rhs, m))
        self.where_statements = []          # (name, statement), inner names first
        # a derived function (h′(t) = …) first: the names before it may use it, and its body
        # uses only its parameter
        for lhs, rhs, m in sorted(parsed, key=lambda entry: entry[2] is None):
            rhs = self.rename(rhs)
            if m:
                op = "=" if dialect == "ascii" else ":="
                name = self.renames[m.group(1)]
                self.where_statements.append((name, f"{name}({m.group(3)}) {op} {rhs}"))
            else:
                self.where_statements.append((lhs, f"{lhs} = {rhs}"))

    def used_where(self, line: str) -> list:
        """The where statements the line needs (and the ones those need)."""
        needed, text = [], line
        for name, statement in reversed(self.where_statements):
            # T₁ in 75T₁ᵀ, not in T₁₂ (a name that is not needed does no harm)
            if re.search(rf"(?<!\\){re.escape(name)}(?![0-9₀-₉])", text):
                needed.append(statement)
                text += " " + statement
        return needed[::-1]

    def rename(self, text: str) -> str:
        for name in sorted(self.renames, key=len, reverse=True):
            stand_in = self.renames[name]
            text = text.replace(name + r"\left(", stand_in + r"\left(")
            text = text.replace(name + "(", stand_in + "(")
        return text

    def prefix(self, line: str = "") -> str:
        """The statements before a line: the input's declarations, functions and definitions
        (a definition held as the variable is declared instead), the function's own name and
        the where names the line uses."""
        case, dialect = self.c.case, self.dialect
        p = rx.Printer(dialect, self.rng, {v.name.ir for v in case.variables}
                       | {d.name.ir for d in case.definitions})
        held = case.wrt if not isinstance(case.wrt, rx.Variable) else None
        declared = list(case.variables) + ([rx.Variable(held.name, held.node.shape,
                                                        structure=rx.structure(held))]
                                           if held else [])
        statements = [rx.declaration(v.name.spell(dialect), v.shape, v.structure, dialect, case,
                                     self.rng) for v in declared]
        statements += [f.statement(p) for f in case.functions]
        statements += [f"{d.name.spell(dialect)} = {p.whole(d.node)}"
                       for d in case.definitions if d is not held]
        if case.result_name:
            statements.append(f"{case.result_name.spell(dialect)} = {p.whole(case.result)}")
        return "; ".join(statements + self.used_where(line))

    def spell(self, ir_name: str) -> str:
        from matcalc.ir import Var
        from matcalc.printers import AsciiPrinter, latex_name
        if self.dialect == "unicode":
            return ir_name
        if self.dialect == "ascii":
            return AsciiPrinter().doprint(Var(ir_name, (1, 1)))
        return latex_name(ir_name)

    def value(self, rhs: str, given: dict, what: str, shape=None, differentials=False,
              steps=False):
        """The value of a printed right-hand side, or None (with a finding) when it does not
        parse. ``given``: name → (shape, value) of extra names; ``shape`` the shape its
        left-hand side states (∂f/∂X has X's): a line whose I or 𝟏 has no size of its own is
        read again beside a matrix of that shape."""
        rhs = self.rename(rhs)
        cls = "printed step does not parse" if steps else "printed form does not parse"
        # the zero matrix is printed 0, also as the left side of a Frobenius product: 0 : dX
        rhs = re.sub(r"(?<![\w.)}])0 : ", {"unicode": "0·", "ascii": "0*",
                                           "latex": r"0 \\cdot "}[self.dialect], rhs)
        try:
            given = dict(given)
            if differentials:
                rhs, more = self.replace_differentials(rhs)
                given.update(more)
            program, env = self.read(rhs, given, [shape] if shape else [])
            if steps:
                return self.c.evaluate_line(program.result, self.c.env(**env),
                                            dict(program.definitions))
            return mc_evaluate(program.result, self.c.env(**env), self.c.case.sizes,
                               dict(program.definitions))
        except _NotParsed as e:
            self.c.report.add(cls, what, str(e))
        except Crossed:
            raise
        except Exception as e:          # noqa: BLE001
            self.c.report.add("traceback", "parse of a printed line: " + what, _trace(e))
        return None

    def read(self, rhs: str, given: dict, shapes: list):
        """(program, values of the extra names) for rhs read alone, or else beside a matrix Ψ
        of the first of ``shapes`` that fixes every size (an I or 𝟏 has no size of its own)."""
        _, MatcalcError, _ = _matcalc()
        from matcalc import parse
        specs = {name: _spec(shape) for name, (shape, _) in given.items()}
        env = {name: value for name, (_, value) in given.items()}
        text = self.prefix(rhs)
        try:
            program = parse(text + "; " + rhs, shapes=specs)
            problem = self.problem(program, env)
        except MatcalcError as e:
            problem = e.message
        if not problem:
            return program, env
        psi = {"unicode": "Ψ", "ascii": "Psi", "latex": r"\Psi"}[self.dialect]
        tried = []
        for shape in dict.fromkeys(shapes):
            try:
                program = parse(f"{text}; {psi} + ({rhs})", shapes={**specs, "Ψ": _spec(shape)})
                again = self.problem(program, env)
            except MatcalcError as e:
                again = e.message
            if not again:
                env["Ψ"] = np.zeros(self.c.case.size(shape))
                return program, env
            tried.append(f"beside a {_spec(shape)} matrix: {again}")
        raise _NotParsed("; ".join([problem] + tried[:1]))

    def problem(self, program, env: dict) -> str:
        """What keeps a reading from having a value: a size no declaration fixes, or a name
        nothing declares (the reader took it by its naming convention)."""
        from matcalc.ir import walk
        known_sizes = set(self.c.case.sizes)
        for node in walk(program.result):
            for d in node.shape:
                if isinstance(d, str) and not set(d.split("·")) <= known_sizes | {
                        p for p in d.split("·") if p.isdigit()}:
                    return f"the size {d} of {type(node).__name__} is not determined"
        known = set(self.c.values) | set(env) | {d for d, _ in program.definitions} | {"Ψ"}
        for v in program.variables:
            if v.name not in known:
                return f"it reads {v.name} as a variable of its own"
        return ""

    # differentials: dX, d(…), \mathrm{d}X, \mathrm{d}\left(…\right), \mathrm{d}\biggl(…\biggr)
    def replace_differentials(self, rhs: str):
        """rhs with each differential d(e) replaced by a new name, and the names' values (the
        directional derivatives de[v])."""
        names = self.known_names()
        out, given, i, k = "", {}, 0, 0
        stand = {"unicode": "Ξ{}", "ascii": "Xi{}", "latex": r"\Xi_{{{}}}"}[self.dialect]
        while i < len(rhs):
            inner, end = self.differential_at(rhs, i, names)
            if inner is None:
                out += rhs[i]
                i += 1
                continue
            k += 1
            sub = "".join("₀₁₂₃₄₅₆₇₈₉"[int(c)] for c in str(k))
            name = stand.format(sub if self.dialect == "unicode" else k)
            shape, value, spread = self.directional_text(inner, given)
            given["Ξ" + sub] = shape, value
            self.c.differentials["Ξ" + sub] = spread
            out += name + (" " if self.dialect == "latex" else "")
            i = end
        return out, given

    def directional_text(self, inner: str, given: dict):
        """(shape, d(inner)[v], spread) for a printed argument of a differential (read beside a
        matrix of the shape of some differential of the derivation if it has an I or 𝟏 of no
        size)."""
        try:
            program, env = self.read(inner, given, self.c.differential_shapes(self.dialect,
                                                                              inner))
        except _NotParsed as e:
            raise _NotParsed(f"the differential's argument {inner!r}: {e}")
        return (program.result.shape, *self.c.directional(
            program.result, self.c.env(**env), dict(program.definitions)))

    def known_names(self) -> list:
        """The names a differential may be of, as matcalc prints them in this dialect."""
        case = self.c.case
        names = [n.name for n in (*case.variables, *case.definitions)]
        names += [case.result_name] if case.result_name else []
        spelled = {self.spell(n.ir) for n in names} | {n.spell(self.dialect) for n in names}
        return sorted(spelled, key=len, reverse=True)

    def differential_at(self, text: str, i: int, names: list):
        """(argument text, end index) of a differential starting at i, else (None, i)."""
        if self.dialect == "latex":
            if not text.startswith(r"\mathrm{d}", i):
                return None, i
            j = i + len(r"\mathrm{d}")
            if text.startswith("(", j):
                depth = 0
                for k in range(j, len(text)):
                    depth += text[k] == "("
                    depth -= text[k] == ")"
                    if depth == 0:
                        return text[j + 1:k], k + 1
                return None, i
            if opening := SIZED_OPEN.match(text, j):     # \left( or, a long line broken
                depth, k = 0, j                           # inside it, \biggl(
                while k < len(text):
                    if m := SIZED_OPEN.match(text, k) or SIZED_CLOSE.match(text, k):
                        depth += 1 if m.re is SIZED_OPEN else -1
                        if depth == 0:
                            return text[opening.end():k], m.end()
                        k = m.end()
                        continue
                    k += 1
                return None, i
            for n in names:
                if text.startswith(n, j):
                    return n, j + len(n)
            return None, i
        if text[i] != "d" or (i > 0 and (text[i - 1].isalnum() or text[i - 1] in "_\\′")):
            return None, i
        j = i + 1
        if text.startswith("(", j):
            depth = 0
            for k in range(j, len(text)):
                depth += text[k] == "("
                depth -= text[k] == ")"
                if depth == 0:
                    return text[j + 1:k], k + 1
            return None, i
        for n in names:
            after = text[j + len(n):j + len(n) + 1]
            if text.startswith(n, j) and not (after and (after.isascii() and after.isalnum()
                                                         or after in "₀₁₂₃₄₅₆₇₈₉_\u0302\u0304")):
                return n, j + len(n)
        return None, i


class _NotParsed(Exception):
    pass


def _spec(shape) -> str:
    """A shape as parse(…, shapes=…) takes it: '3 x 4', 'm·n x k'."""
    return f"{shape[0]} x {shape[1]}"


# --- index forms --------------------------------------------------------------------------------

def index_value(checker: _Checker, form) -> np.ndarray:
    """The index form's structure (Derivative.index: terms of δ's, entries of matrices and
    scalars, summed over repeated letters) evaluated with einsum, as a tensor over F's and X's
    axes (i, j, k, l), the axes of length 1 kept."""
    case = checker.case
    sizes = {x: rx.dim_size(d, case.sizes) for x, d in form.dims.items()}
    free = [x for x in (*form.out, *form.inp) if x is not None]
    total = np.zeros([sizes[x] for x in free])
    for term in form.terms:
        operands, subscripts = [], []
        scale = float(term.coeff)
        for s in term.scalars:
            scale *= _scalar(mc_evaluate(s, checker.env(), case.sizes, checker.named()))
        for e in term.entries:
            letters = [x for x in (e.row, e.col) if x is not None]
            if e.matrix is None:
                operands.append(np.eye(sizes[e.row]))
            else:
                value = mc_evaluate(e.matrix, checker.env(), case.sizes, checker.named())
                operands.append(value.reshape([sizes[x] for x in letters]))
            subscripts.append(letters)
        total = total + scale * _einsum(operands, subscripts, free, sizes)
    return _full_axes(total, form, case)


def _einsum(operands, subscripts, free, sizes) -> np.ndarray:
    """Σ over the indices not in ``free`` of the product of the operands (each subscripted by
    a list of index names), constant along the free indices no operand has."""
    for x in free:
        if not any(x in s for s in subscripts):
            operands = operands + [np.ones(sizes[x])]
            subscripts = subscripts + [[x]]
    if not operands:
        return np.ones([sizes[x] for x in free])
    letter = {}
    for x in [*free, *(y for s in subscripts for y in s)]:
        letter.setdefault(x, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"[len(letter)])
    spec = ",".join("".join(letter[y] for y in s) for s in subscripts)
    return np.einsum(spec + "->" + "".join(letter[x] for x in free), *operands)


def _full_axes(t: np.ndarray, form, case) -> np.ndarray:
    f = case.size(case.result.shape)
    x = case.size(case.wrt_shape)
    return t.reshape(f + x)


def check_index(checker: _Checker):
    """The index form (structure and the three printed texts) is the Jacobian, and its stated
    facts (zero unless …, at most … nonzero) hold."""
    case, d, report = checker.case, checker.d, checker.report
    if case.wrt_symmetric:
        return                            # the entries of X are not independent (or not all free)
    f_shape, x_shape = case.size(case.result.shape), case.size(case.wrt_shape)
    tensor = checker.jac_truth().reshape(f_shape + x_shape, order="F")
    spread = checker.jac_truth(checker.jac_spread).reshape(f_shape + x_shape, order="F")
    form = d.index
    cls = "index form wrong"
    if form.terms is None:
        return                                        # the vec form's entries, as they stand
    try:
        got = index_value(checker, form)
    except Crossed:
        raise
    except Exception as e:                            # noqa: BLE001
        report.add("traceback", "evaluating the index form's structure", _trace(e))
        return
    if "index" in checker.checks:
        checker.judge(cls, "index form (structure): " + form.render("text"), got, tensor,
                      checker.floor, spread=spread,
                      detail="relative error {err:.2g} against the Jacobian")
        _check_facts(checker, form, tensor)
    report.phase = "printed index"
    for dialect, (text, reader) in checker.index_texts.items():
        check_index_text(checker, form, dialect, text, reader, tensor, spread)


def check_index_text(checker, form, dialect: str, text: str, reader, tensor, spread):
    """The printed index form, read back term by term, is the Jacobian too."""
    what = f"index form ({dialect}): {text}"
    if dialect != "latex":
        i = text.rfind("    (")
        text = text[:i] if i >= 0 else text
    lhs, _, body = text.partition(" = ")
    free = [x for x in (*form.out, *form.inp) if x is not None]
    letters = set(form.dims)
    problem = _lhs_problem(lhs, dialect, form)
    if problem:
        checker.report.add("index form wrong", what, problem)
    sizes = {x: rx.dim_size(d, checker.case.sizes) for x, d in form.dims.items()}
    try:
        minus = {"unicode": " − ", "ascii": " - ", "latex": " - "}[dialect]
        total = np.zeros([sizes[x] for x in free])
        for sign, term in _signed_terms(body, minus):
            total = total + sign * _term_value(term, dialect, reader, sizes, free, letters)
    except _NotParsed as e:
        checker.report.add("index form wrong", what, f"cannot be read back: {e}")
        return
    checker.judge("index form wrong", what, _full_axes(total, form, checker.case), tensor,
                  checker.floor, spread=spread,
                  detail="read back, relative error {err:.2g} against the Jacobian")


def _lhs_problem(lhs: str, dialect: str, form) -> str:
    """'' if the left-hand side ∂F_ij/∂X_kl indexes F and X by the form's letters."""
    if dialect == "latex":
        m = re.match(r"^\\frac\{\\partial (.*)\}\{\\partial (.*)\}$", lhs)
        sides = m.groups() if m else None
    else:
        sides = lhs[1:].split("/" + lhs[0], 1) if "/" in lhs else None
    if not sides or len(sides) != 2:
        return f"left-hand side {lhs!r} is not ∂F/∂X"
    for side, idx in zip(sides, (form.out, form.inp)):
        letters = "".join(x for x in idx if x)
        tail = ("_{" + letters + "}" if dialect == "latex" else "_" + letters) if letters else ""
        if tail and not side.endswith(tail) or not tail and re.search(r"_(\{\})?$", side):
            return f"left-hand side {lhs!r}: {side!r} should be indexed by {letters or 'nothing'}"
    return ""


SUM = {"unicode": re.compile(r"^Σ_([a-z]+)$"), "ascii": re.compile(r"^sum_([a-z]+)$"),
       "latex": re.compile(r"^\\sum_\{([a-z]+)\}$")}
DELTA = {"unicode": re.compile(r"^δ_([a-z])([a-z])$"),
         "ascii": re.compile(r"^delta_([a-z])([a-z])$"),
         "latex": re.compile(r"^\\delta_\{([a-z])([a-z])\}$")}
ENTRY = {"unicode": re.compile(r"^(.+)_([a-z]{1,2})$"),
         "ascii": re.compile(r"^(.+)_([a-z]{1,2})$"),
         "latex": re.compile(r"^(.+)_\{([a-z]{1,2})\}$")}


def _signed_terms(body: str, minus: str) -> list:
    out = []
    for chunk in split_top(body, " + "):
        for j, part in enumerate(split_top(chunk, minus)):
            sign = -1.0 if j > 0 else 1.0
            part = part.strip()
            if part.startswith("−") or (part.startswith("-") and not part[1:2].isdigit()):
                sign, part = -sign, part[1:]
            out.append((sign, part))
    return out


def _tokens(term: str) -> list:
    merged: list = []
    for p in split_top(term, " "):
        if merged and merged[-1] in ("log", r"\log") and p.startswith(("det", r"\det")):
            merged[-1] += " " + p
        else:
            merged.append(p)
    return merged


def _factors(term: str, dialect: str, letters: set) -> list:
    """The term's tokens, each run of tokens without an index joined into one scalar factor
    (LaTeX writes uᵀu as u^{\\top} u)."""
    out, plain = [], []
    for tok in _tokens(term):
        m = ENTRY[dialect].match(tok)
        if SUM[dialect].match(tok) or DELTA[dialect].match(tok) or \
                (m and set(m.group(2)) <= letters):
            out += [" ".join(plain)] if plain else []
            out.append(tok)
            plain = []
        else:
            plain.append(tok)
    return out + ([" ".join(plain)] if plain else [])


def _term_value(term: str, dialect: str, reader, sizes: dict, free: list,
                letters: set) -> np.ndarray:
    """One printed term — Σ_pq, δ's, entries M_ab, scalar factors — as a tensor over ``free``."""
    operands, subscripts, scale = [], [], 1.0
    for tok in _factors(term, dialect, letters):
        m = SUM[dialect].match(tok)
        if m and not set(m.group(1)) & set(free):
            continue                                  # Σ_pq: einsum sums what is not free
        m = DELTA[dialect].match(tok)
        if m and set(m.groups()) <= letters:
            a, b = m.groups()
            operands.append(np.eye(sizes[a]))
            subscripts.append([a, b])
            continue
        m = ENTRY[dialect].match(tok)
        if m and not set(m.group(2)) <= letters:
            m = None
        expr_text, idx = (m.group(1), m.group(2)) if m else (tok, "")
        # an entry M_ab states M's shape; v_a a column's or a row's
        stated = [tuple(reader.c.d.index.dims[x] for x in idx)] if len(idx) == 2 else \
            [(reader.c.d.index.dims[idx], 1), (1, reader.c.d.index.dims[idx])] if idx else []
        value = _parse_value(expr_text, reader, stated)
        if not idx:
            if value.size != 1:
                raise _NotParsed(f"{tok!r} is not a scalar")
            scale *= float(value.reshape(-1)[0])
            continue
        rows, cols = value.shape
        if len(idx) == 2 and (rows, cols) == (sizes[idx[0]], sizes[idx[1]]):
            operands.append(value)
        elif len(idx) == 1 and (rows == 1 or cols == 1) and value.size == sizes[idx]:
            operands.append(value.reshape(-1))
        else:
            raise _NotParsed(f"{tok!r}: a {rows}×{cols} value indexed by {idx} (lengths "
                             f"{', '.join(str(sizes[x]) for x in idx)})")
        subscripts.append(list(idx))
    try:
        return scale * _einsum(operands, subscripts, free, sizes)
    except ValueError as e:
        raise _NotParsed(f"{term!r}: {e}")


def _parse_value(expr_text: str, reader, shapes) -> np.ndarray:
    try:
        program, env = reader.read(reader.rename(expr_text), {}, shapes)
        return mc_evaluate(program.result, reader.c.env(**env), reader.c.case.sizes,
                           dict(program.definitions))
    except _NotParsed as e:
        raise _NotParsed(f"{expr_text!r}: {e}")
    except Exception as e:              # noqa: BLE001
        raise _NotParsed(f"{expr_text!r}: {str(e).splitlines()[0]}")


def _check_facts(checker, form, tensor: np.ndarray):
    """'zero unless i = k' and 'at most N of M entries can be nonzero' hold for the Jacobian."""
    what = "index form facts: " + "; ".join(form.facts())
    scale = max(np.abs(tensor).max(initial=0.0), checker.floor)
    nonzero = np.abs(tensor) > 1e-6 * scale
    axes = [x for x in (*form.out, *form.inp)]          # one letter (or None) per axis
    grid = np.indices(tensor.shape)
    for fact in form.zero_unless:
        a, b = fact.split(" = ")
        if a not in axes or b not in axes:
            continue
        if np.any(nonzero & (grid[axes.index(a)] != grid[axes.index(b)])):
            checker.report.add("index form wrong", what,
                               f"says zero unless {fact}, but an entry off it is not")
    m = re.search(r"at most ([\d,]+) of ([\d,]+) entries", form.nonzeros())
    if m:
        bound, total = (int(x.replace(",", "")) for x in m.groups())
        if total != tensor.size or nonzero.sum() > bound:
            checker.report.add("index form wrong", what,
                               f"says at most {bound} of {total} nonzero; the Jacobian has "
                               f"{nonzero.sum()} of {tensor.size}")


# --- LaTeX ------------------------------------------------------------------------------------

def compile_latex(reports: list) -> list:
    """Compile the collected LaTeX of many cases; the reports whose LaTeX fails (found by
    bisection) get a finding. Returns those reports."""
    from matcalc.printers import latex_document
    engine = shutil.which("pdflatex")
    if engine is None:
        raise RuntimeError("pdflatex is needed (Debian: texlive-latex-base)")
    items = [r for r in reports if r.latex]

    def compiles(batch) -> tuple[bool, str]:
        body = "\n".join(f"% seed {r.case.seed}\n{r.latex}" for r in batch)
        with tempfile.TemporaryDirectory() as tmp:
            Path(tmp, "all.tex").write_text(latex_document(body), encoding="utf-8")
            proc = subprocess.run([engine, "-interaction=nonstopmode", "-halt-on-error",
                                   "all.tex"], cwd=tmp, capture_output=True, text=True, check=False,
                                  timeout=600)
        return proc.returncode == 0, proc.stdout[-1500:]

    failed = []

    def bisect(batch):
        ok, log = compiles(batch)
        if ok:
            return
        if len(batch) == 1:
            batch[0].phase = "latex"
            batch[0].add("LaTeX does not compile", "latex and steps_latex",
                         log[log.find("!"):][:600] if "!" in log else log[-600:])
            failed.append(batch[0])
            return
        half = len(batch) // 2
        bisect(batch[:half])
        bisect(batch[half:])

    if items:
        bisect(items)
    return failed


# --- campaigns ----------------------------------------------------------------------------------

def run(seeds, steps_dialects=None, checks=CHECKS, progress=None, focus=False) -> list:
    """Check many seeds; returns their reports (LaTeX compiled in batches of 200). The printed
    steps are read back in one dialect per seed, in turn, unless ``steps_dialects`` says.
    ``focus``: the cases of rx.case(seed, focus=True) (spectral and matrix functions,
    structured declarations)."""
    reports = []
    for s in seeds:
        c = rx.case(s, focus=focus)
        dialects = steps_dialects if steps_dialects is not None else (rx.DIALECTS[s % 3],)
        r = timed_check(c, checks, dialects)
        reports.append(r)
        if progress:
            progress(r)
    if "latex" in checks:
        for i in range(0, len(reports), 200):
            compile_latex(reports[i:i + 200])
    return reports


def timed_check(c: rx.Case, checks, dialects) -> Report:
    """check(c, …) within TIME_LIMIT seconds; a case over it, or a defect of this harness, is
    reported as such."""
    try:
        with _time_limit(TIME_LIMIT):
            return check(c, checks, dialects)
    except _TooLong:
        r = Report(c, "checked")
        r.findings.append(Finding("does not finish", "check", f"more than {TIME_LIMIT} s"))
    except Exception as e:          # noqa: BLE001 — a defect of this harness
        r = Report(c, "harness error")
        r.findings.append(Finding("harness error", "check", _trace(e)))
    return r


class _TooLong(BaseException):
    """A case over its time (not an Exception: matcalc's own handlers must not catch it)."""


@contextlib.contextmanager
def _time_limit(seconds: int):
    """Raise _TooLong in the main thread after ``seconds`` (where SIGALRM exists)."""
    if not hasattr(signal, "SIGALRM"):
        yield
        return

    def expire(*_):
        raise _TooLong

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def shrink(report: Report, keep, budget: int = 300) -> Report:
    """A smaller case whose report still satisfies ``keep`` (a class name: it has a failure of
    that class; or a predicate on reports). Greedy: a node replaced by a child of its shape, a
    definition inlined, a subtree by a variable."""
    if isinstance(keep, str):
        cls = keep

        def keep(r):
            return any(f.cls == cls for f in r.findings)
    best, tries = report, 0
    improved = True
    while improved and tries < budget:
        improved = False
        for candidate in rx.smaller(best.case):
            if candidate is None or rx.size(candidate) >= rx.size(best.case):
                continue
            tries += 1
            r = timed_check(candidate, CHECKS, rx.DIALECTS)
            compile_latex([r])
            if keep(r):
                best, improved = r, True
                break
            if tries >= budget:
                break
    return best


def signature(f: Finding) -> str:
    """A finding's kind, for grouping: its class and the first line of its detail with the
    numbers and the printed expressions left out."""
    detail = re.sub(r"'[^']*'|\"[^\"]*\"|\d+(\.\d+)?(e-?\d+)?", "…", f.detail.split("\n")[0])
    return f"{f.cls}: {detail.split('; beside')[0][:90]}"


def summary(reports: list) -> str:
    """Counts by status, by check (cases with a failure) and by class and kind of failure; the
    cases unresolved (no failure, a comparison the differences cannot resolve) by check."""
    from collections import Counter, defaultdict
    status = Counter(r.status for r in reports)
    by_check, by_kind = defaultdict(set), defaultdict(set)
    for r in reports:
        for f in r.findings:
            if f.cls in CLASSES:
                by_check[f.check].add(r.case.seed)
                by_kind[signature(f)].add(r.case.seed)
    failing = {r.case.seed for r in reports for f in r.findings if f.cls in CLASSES}
    lines = [f"{len(reports)} cases: " + ", ".join(f"{n} {s}" for s, n in status.most_common()),
             f"cases with a failure: {len(failing)}",
             "by check (cases): " + ", ".join(f"{c} {len(by_check[c])}" for c in
                                               ("derive", *CHECKS) if by_check[c]),
             "checks every case passes: " + ", ".join(c for c in CHECKS if not by_check[c])]
    lines += [f"  {len(seeds):5d}  {kind}   (e.g. seed {min(seeds)})" for kind, seeds in
              sorted(by_kind.items(), key=lambda kv: (CLASSES.index(kv[0].split(":")[0]),
                                                       -len(kv[1])))]
    read = Counter(r.undeclared for r in reports if r.undeclared)
    if read:
        lines.append("inputs without declarations: " + ", ".join(
            f"{read[k]} {what}" for k, what in (
                ("same", "read at the declared shapes (the derivative checked)"),
                ("otherwise", "read otherwise (other shapes or another function)"),
                ("asked", "an error"))) +
            " (read otherwise, e.g. seeds " + ", ".join(
                [str(r.case.seed) for r in reports if r.undeclared == "otherwise"][:8]) + ")")
    unresolved = Counter(f.check for r in reports if r.status == "unresolved"
                         for f in r.findings if f.cls == "unresolved")
    lines += [f"cases unresolved (neither passed nor failed): {status['unresolved']}"
              + (" (comparisons by check: " + ", ".join(f"{c} {n}" for c, n in
                                                         unresolved.most_common()) + ")"
                 if unresolved else "")]
    return "\n".join(lines)


def main(argv=None):
    import argparse
    import sys
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cases", type=int, default=1000)
    ap.add_argument("--start", type=int, default=0)
    ap.add_argument("--checks", default=",".join(CHECKS),
                    help=f"the checks to run, of {', '.join(CHECKS)} (default: all)")
    ap.add_argument("--all-steps", action="store_true", help="read back the steps in all three "
                    "dialects (default: one dialect per case, in turn)")
    ap.add_argument("--shrink", action="store_true", help="reduce each example to a small case")
    ap.add_argument("--show", type=int, default=1, help="examples to print per kind of failure")
    ap.add_argument("--focus", action="store_true", help="cases with a spectral or a matrix "
                    "function or a structured declaration (spd, diagonal, orthogonal, "
                    "stochastic), each drawn more often")
    args = ap.parse_args(argv)
    seeds = range(args.start, args.start + args.cases)
    done = [0]

    def progress(r):
        done[0] += 1
        if done[0] % 100 == 0:
            print(f"... {done[0]} cases", file=sys.stderr, flush=True)
    checks = [c.strip() for c in args.checks.split(",")]
    if not set(checks) <= set(CHECKS):
        ap.error(f"--checks: unknown {', '.join(set(checks) - set(CHECKS))}")
    reports = run(seeds, rx.DIALECTS if args.all_steps else None, checks, progress, args.focus)
    print(summary(reports), "\n", flush=True)
    shown: dict = {}
    for r in sorted(reports, key=lambda r: len(r.case.text())):
        for kind in dict.fromkeys(signature(f) for f in r.findings if f.cls in CLASSES or
                                  r.status == "unresolved" and f.cls == "unresolved"):
            shown[kind] = shown.get(kind, 0) + 1
            if shown[kind] > args.show:
                continue
            example = r
            if args.shrink:
                example = shrink(r, lambda s, kind=kind: any(
                    signature(f) == kind for f in s.findings))
            first = [f for f in example.findings if signature(f) == kind]
            example.findings = first + [f for f in example.findings if f not in first]
            print(f"[{kind}]\n{example}\n", flush=True)


if __name__ == "__main__":
    import sys
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    main()
