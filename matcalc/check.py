"""The numerical check (``Result.check``, ``--check``): every form the user gets — the symbolic
results and the generated NumPy code alike — against central differences of f along a few random
directions V (Richardson-extrapolated, the step halved while they converge), as JAX's
check_grads does:

- a gradient by ⟨∇f, V⟩ against the difference of f along V;
- a Jacobian by J vec(V) against the difference of F along V, and its map form by
  ⟨vjp(G), V⟩ = ⟨G, J vec(V)⟩ for a random G;
- a Hessian by H vec(V) and the Hessian–vector product against the difference of ∇f along V
  (∇f itself checked as a gradient).

f is evaluated by matcalc.evaluate, which shares no code with the derivation or the code
generator. No finite-difference Jacobian is formed, and a vec form is applied to vec(V) factor by
factor, so a check costs a few evaluations of f. Symbolic sizes are set to small distinct
numbers; declared sizes whose arrays exceed the memory budget are refused, not allocated.

A form passes within the tolerance. Beyond it, it fails where the error also exceeds the
resolution of the difference it is compared with (the spread of the extrapolated estimates:
rounding in f makes them wander), and is inconclusive where it does not (tr(logm(expm(M))) of
large M); so is a check where f has no finite value at any point tried.
"""

from __future__ import annotations

import functools
import inspect
import math
from dataclasses import dataclass

import numpy as np

from .codegen import parameter_names, py_name
from .errors import InternalError, MatcalcError
from .evaluate import (BUDGET, KINK_GAP, Evaluator, TooLarge, assign_sizes, closest_kink,
                       directional_difference, evaluate, finite_at, format_bytes,
                       inputs_in_domain, joint_difference, noise_floor, relative_error,
                       relative_scale, require_budget)
from .printers import to_text
from .report import hessian_symbol

TOLERANCE = 1e-6
SMALLER = "declare the sizes with symbols (e.g. --shape X=n×m): the check then runs at small sizes"


@dataclass
class Line:
    """One form compared: the largest relative error over the probes (inf: it failed to run,
    None: not run), and why it was not run or how it failed; ``resolved``: the largest error
    of a probe beyond the resolution of its finite difference (the spread of its extrapolated
    estimates, on the same relative scale; None: every probe's), and the largest resolution of
    the others: a probe within it can neither pass nor fail."""
    form: str
    error: float | None
    reason: str = ""
    resolved: float | None = None
    resolution: float = 0.0

    def verdict(self, tolerance: float, at_kink: bool = False) -> str:
        """ok, inconclusive, failed (or "" where not run); ``at_kink``: every point tried is
        where f may have no derivative, and a number there cannot tell right from wrong."""
        if self.error is None:
            return ""
        if self.error <= tolerance:
            return "ok"
        if at_kink and not math.isinf(self.error):
            return "inconclusive"
        resolved = self.error if self.resolved is None else self.resolved
        return "failed" if resolved > tolerance else "inconclusive"


@dataclass
class Section:
    """The lines of one derivative, and the numbers its symbolic sizes were given."""
    title: str
    wrt: str
    sizes: dict
    lines: list
    scalars: bool = False      # every variable is a scalar: there are no sizes to speak of
    note: str = ""             # where the point drawn is not as the check wants it
    undefined: bool = False    # f has no finite value at any point tried: nothing was compared
    at_kink: bool = False      # every point tried is where f may have no derivative (the note)

    def verdicts(self, tolerance: float) -> set:
        """The lines' verdicts; where f has no value, or may have no derivative, at every point
        tried, a difference beyond the tolerance cannot tell right from wrong: inconclusive."""
        if self.undefined:
            return {"inconclusive"}
        return {line.verdict(tolerance, self.at_kink) for line in self.lines}


@dataclass
class CheckReport:
    """The numerical check of every derivative of a Result, form by form."""
    sections: list
    probes: int
    tolerance: float = TOLERANCE

    @property
    def errors(self) -> dict:
        """The largest relative error of each variable's forms (inf if a form failed to run)."""
        return {s.wrt: max((line.error for line in s.lines if line.error is not None),
                           default=0.0) for s in self.sections}

    @property
    def largest(self) -> float:
        return max(self.errors.values(), default=0.0)

    @property
    def status(self) -> str:
        """ok (every form within the tolerance), failed (a form beyond it and beyond the
        resolution of the finite differences it is compared with), or inconclusive (a form
        beyond the tolerance only within that resolution: the differences cannot tell)."""
        verdicts = set().union(*(s.verdicts(self.tolerance) for s in self.sections))
        return "failed" if "failed" in verdicts else \
            "inconclusive" if "inconclusive" in verdicts else "ok"

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def failed(self) -> bool:
        return self.status == "failed"

    def __str__(self) -> str:
        out = []
        for s in self.sections:
            at = ", ".join(f"{k} = {v}" for k, v in s.sizes.items())
            at = f" at {at}" if at else "" if s.scalars else " at the declared sizes"
            out.append(f"check {s.title}{at}, along {self.probes} random directions V "
                       "(central differences):")
            width = max(len(line.form) for line in s.lines)
            for line in s.lines:
                out.append(f"  {line.form:<{width}}  {_verdict(line, self.tolerance, s.at_kink)}")
            if s.note:
                out.append(f"  note: {s.note}")
        run = [line for s in self.sections for line in s.lines if line.error is not None]
        skipped = sum(len(s.lines) for s in self.sections) - len(run)
        status = self.status
        out.append(f"largest relative error {self.largest:.1e} over {len(run)} forms"
                   + (f" ({skipped} not run)" if skipped else "")
                   + f", tolerance {self.tolerance:.0e}: " + {
                       "ok": "ok", "failed": "FAILED",
                       "inconclusive": "INCONCLUSIVE: " + (
                           "f has no finite value at any point tried" if any(
                               s.undefined for s in self.sections) else
                           "at every point tried f may have no derivative (see the note): "
                           "the differences cannot tell a right result from a wrong one there"
                           if any(s.at_kink and "inconclusive" in s.verdicts(self.tolerance)
                                  for s in self.sections) else
                           "the errors beyond the tolerance are within the resolution of the "
                           "finite differences (the spread of their extrapolated estimates): "
                           "they cannot tell a right result from a wrong one there")}[status])
        return "\n".join(out)


def _verdict(line: Line, tolerance: float, at_kink: bool) -> str:
    if line.error is None:
        return f"not run: {line.reason}"
    if math.isinf(line.error):
        return f"FAILED: {line.reason}"
    verdict = line.verdict(tolerance, at_kink)
    if verdict == "inconclusive":
        return f"relative error {line.error:.1e}  inconclusive: " + (
            "f may have no derivative here (the note)" if at_kink else
            f"the differences resolve only {line.resolution:.1e}")
    return f"relative error {line.error:.1e}  {'ok' if verdict == 'ok' else 'FAILED'}"


class _Mismatch(Exception):
    """What the generated code returned is not what its contract promises."""


@dataclass
class _Code:
    """The generated snippet, run: its namespace, or why there is none (missing: not generated,
    a limitation; broken: it does not run, a failure)."""
    namespace: dict | None = None
    missing: str = ""
    broken: str = ""


def _load(source) -> _Code:
    try:
        text = source()
    except InternalError:
        raise
    except MatcalcError as err:
        return _Code(missing=f"not generated: {err.message}")
    namespace: dict = {}
    try:
        exec(compile(text, "<generated NumPy>", "exec"), namespace)  # noqa: S102 — the check
    except Exception as err:  # noqa: BLE001 — any failure of the generated code is reported
        return _Code(broken=f"the generated code does not run: {type(err).__name__}: {err}")
    return _Code(namespace)


def check_result(result, seed: int = 0, tries: int = 20, probes: int = 3) -> CheckReport:
    rng = np.random.default_rng(seed)
    code = _load(lambda: result.numpy)
    valued = _load(result.numpy_with_value) \
        if any(d.kind == "gradient" for d in result.derivatives) else None
    gradients = [d for d in result.derivatives if d.kind == "gradient"]
    return CheckReport([_Probe(result, d, rng, tries, probes).section(
        code, valued, gradients.index(d) if d in gradients else None)
        for d in result.derivatives], probes)


class _Probe:
    """One derivative at one random point, with its random directions."""

    def __init__(self, result, d, rng, tries: int, probes: int):
        program = result.program
        self.d = d
        self.named = dict(d.definitions)
        if program.result_name:
            self.named[program.result_name] = d.function
        self.variables = [v for v in dict.fromkeys([*program.variables, d.wrt,
                                                    *(y for y, _ in d.blocks)])
                          if v.name not in self.named]
        self.sizes = assign_sizes([d.function, d.wrt, *self.named.values(), *self.variables])
        require_budget([d.function, *self.variables], self.sizes,
                       f"--check: evaluating {d.fname}", self.named, hint=SMALLER)
        # the gradient checked has a value there too (a Jacobian's is not formed)
        gradient = {"gradient": d.expr, "hessian": d.gradient}.get(d.kind)
        self.env = inputs_in_domain(d.function, self.variables, self.sizes, rng, self.named,
                                    tries, also=[gradient] if gradient is not None else [])
        self.evaluator = Evaluator(self.env, self.sizes, self.named)
        self.x = self.env[d.wrt.name]
        self.directions = [_direction(rng, self.x.shape, d.wrt) for _ in range(probes)]
        # a block Hessian's probes: a direction for every variable of the block
        self.joint = [{y.name: _direction(rng, self.env[y.name].shape, y) for y, _ in d.blocks}
                      for _ in range(probes)]
        self.rng = rng

    # -- evaluation ------------------------------------------------------------------------
    def value(self, e, extra: dict | None = None) -> np.ndarray:
        require_budget([e], self.sizes, "evaluating it", self.named)
        if extra:
            return evaluate(e, {**self.env, **extra}, self.sizes, self.named)
        return self.evaluator(e)

    def along(self, e) -> list:
        """The central difference of e along each direction, with its spread."""
        require_budget([e], self.sizes, "evaluating it", self.named)
        return [directional_difference(e, self.d.wrt, v, self.env, self.sizes, self.named)
                for v in self.directions]

    def shaped(self, value: np.ndarray, shape, what: str) -> np.ndarray:
        if value.shape != shape:
            raise _Mismatch(f"{what} has shape {value.shape}, not {shape}")
        return value

    def arguments(self, extra: dict | None = None) -> dict:
        """The user-facing values of the variables (floats, 1-D vectors, 2-D matrices), by the
        names the generated code gives its parameters; fresh copies for every call."""
        values = {**self.env, **(extra or {})}
        variables = list(self.variables)
        if self.d.block:
            variables += self.d.directions
        elif self.d.map_var is not None:
            variables.append(self.d.map_var)
        names = parameter_names([v.name for v in variables])
        return {names[v.name]: _user_value(values[v.name], v)
                for v in variables if v.name in values}

    def call(self, code: _Code, name: str, extra: dict | None = None):
        function = code.namespace.get(name)
        if function is None:
            raise _Mismatch(f"the code has no function {name}")
        arguments = self.arguments(extra)
        try:
            return function(*(arguments[p] for p in inspect.signature(function).parameters))
        except KeyError as err:
            raise _Mismatch(f"{name} takes a parameter {err} that is no variable") from None

    def user_result(self, out, shape: tuple, name: str) -> np.ndarray:
        """What a grad_/vjp_/hvp_ function returned, as a 2-D array, once it has the promised
        user-facing shape (a float for a scalar, 1-D for a vector)."""
        rows, cols = shape
        promised = () if (rows, cols) == (1, 1) else (rows,) if cols == 1 else (rows, cols)
        if np.shape(out) != promised:
            raise _Mismatch(f"{name} returned shape {np.shape(out)}, not {promised}")
        return np.asarray(out, dtype=float).reshape(shape, order="F")

    # -- the lines ---------------------------------------------------------------------------
    def section(self, code: _Code, valued: _Code | None, position: int | None) -> Section:
        """position: where this gradient stands in what the one-pass grads returns."""
        d = self.d
        if not finite_at(d.function, self.env, self.sizes, self.named):
            # the function's own overflow or domain (logm of expm(M) whose eigenvalues spread
            # beyond the digits of float64) at every point tried: nothing to compare with
            with np.errstate(all="ignore"):
                title, lines = self.lines(code, valued, position)
            reason = "f has no finite value at any point tried (it overflows, or is evaluated " \
                "outside its domain)"
            return Section(title, d.wrt.name, self.sizes,
                           [Line(line.form, None, reason) for line in lines],
                           all(v.shape == (1, 1) for v in self.variables), undefined=True)
        title, lines = self.lines(code, valued, position)
        if all(line.error is None for line in lines):
            raise TooLarge(f"--check: nothing of ∂{d.fname}/∂{d.wrt.name} can be evaluated within "
                           f"the memory budget of {format_bytes(BUDGET)}", hint=SMALLER)
        kink = self.kink_note()
        return Section(title, d.wrt.name, self.sizes, lines,
                       all(v.shape == (1, 1) for v in self.variables), kink, at_kink=bool(kink))

    def lines(self, code: _Code, valued: _Code | None, position: int | None) -> tuple:
        """The title of the section and its lines."""
        d = self.d
        x = py_name(d.wrt.name)
        symbol = f"∂{d.fname}/∂{d.wrt.name}"
        if d.kind == "gradient":
            functions = [(code, f"grad_{x}", False, None), (valued, f"grad_{x}", True, None)]
            if code.namespace and "grads" in code.namespace:
                functions += [(code, "grads", False, position), (valued, "grads", True, position)]
            lines = self.gradient_lines(d.expr, symbol, functions)
            title = f"the gradient {symbol}"
        elif d.kind == "jacobian":
            lines = self.jacobian_lines(code, x)
            title = f"the Jacobian {symbol}"
        elif d.block:
            lines = self.gradient_lines(d.gradient, symbol, []) + self.block_lines(code)
            title = f"row {d.wrt.name} of the Hessian of {d.fname} in " \
                f"({', '.join(y.name for y, _ in d.blocks)})"
        else:
            lines = self.gradient_lines(d.gradient, f"∇{d.fname}", []) + \
                self.hessian_lines(code, x)
            title = f"the Hessian of {d.fname} in {d.wrt.name}"
        return title, lines

    def kink_note(self) -> str:
        """What is not differentiable at the point drawn, where no draw avoided it (λ_min of
        a low-rank SᵀS + I, at these sizes a repeated eigenvalue everywhere)."""
        margin, node = closest_kink(self.d.function, self.env, self.sizes, self.named)
        if node is None or margin > KINK_GAP:
            return ""
        arg = to_text(node.arg)
        kind = getattr(node, "kind", None)
        what = {"lmax": f"the largest eigenvalue of {arg} is repeated",
                "lmin": f"the smallest eigenvalue of {arg} is repeated",
                "norm2": f"the largest singular value of {arg} is repeated or 0",
                "nuclear": f"{arg} is not of full rank",
                "1": f"an entry of {arg} is at the kink 0 of |·| in its 1-norm"}[kind] \
            if kind else f"an entry of {arg} is at the kink 0 of {node.name}"
        return (f"at every point tried {what}: f may have no derivative there, and the "
                "check ran at such a point")

    def gradient_lines(self, grad, symbol: str, functions: list) -> list:
        d, shape = self.d, self.x.shape
        f0 = self.value(d.function)
        floor = noise_floor(self.evaluator.magnitude(d.function))
        want = [(float(diff[0, 0]), spread) for diff, spread in self.along(d.function)]

        def directional(g):
            return [(_frob(g, v), w, floor, spread)
                    for v, (w, spread) in zip(self.directions, want)]

        lines = [_line(f"symbolic ⟨{symbol}, V⟩", lambda: directional(
            self.shaped(self.value(grad), shape, symbol)))]
        for code, name, with_value, position in functions:
            if code is None:
                continue

            def run(code=code, name=name, with_value=with_value, position=position):
                require_budget([grad], self.sizes, name, self.named)   # it computes the tree
                out = self.call(code, name)
                if position is not None:
                    # grads returns every gradient, after f with --with-value
                    out = (out[0], out[1 + position]) if with_value else out[position]
                if not with_value:
                    return directional(self.user_result(out, shape, name))
                if not (isinstance(out, tuple) and len(out) == 2):
                    raise _Mismatch(f"{name} with --with-value returned {type(out).__name__}, "
                                    "not a pair (value, gradient)")
                value = self.user_result(out[0], (1, 1), name + "'s value")
                return [(value, f0, floor, 0.0)] + directional(self.user_result(out[1], shape,
                                                                                 name))
            label = f"NumPy {name}" + ("" if position is None else f"[{symbol}]")
            lines.append(_code_line(code, label + (" with value" if with_value else ""), run))
        return lines

    def jacobian_lines(self, code: _Code, x: str) -> list:
        d, shape = self.d, self.x.shape
        f_value = self.value(d.function)
        floor = noise_floor(self.evaluator.magnitude(d.function))
        along = self.along(d.function)
        uppers = [self.rng.standard_normal(f_value.shape) for _ in self.directions]
        g = d.map_var.name
        size = (f_value.size, self.x.size)

        def applied(jac):
            return [(jac(_vec(v)), _vec(w), floor, spread)
                    for v, (w, spread) in zip(self.directions, along)]

        def mapped(vjp):
            # ⟨vjp(G), V⟩ = ⟨G, J vec(V)⟩; the rounding of ⟨G, ·⟩ and the spread of the
            # difference grow with Σ|G|
            return [(_frob(vjp(u), v), _frob(u, w), floor * np.abs(u).sum(),
                     spread * np.abs(u).sum())
                    for u, v, (w, spread) in zip(uppers, self.directions, along)]

        return [
            _line("symbolic vec form J vec(V)",
                  lambda: applied(lambda v: self.evaluator.apply(d.expr, v))),
            _line(f"symbolic map form ⟨{g} ↦ …, V⟩",
                  lambda: mapped(lambda u: self.shaped(self.value(d.map_expr, {g: u}), shape,
                                                       "the map form"))),
            _code_line(code, f"NumPy jac_{x} vec(V)",
                       lambda: self.generated_matrix(code, f"jac_{x}", size, applied)),
            _code_line(code, f"NumPy vjp_{x}", lambda: mapped(
                lambda u: self.user_result(self.call_checked(code, f"vjp_{x}", d.map_expr,
                                                             {g: u}), shape, f"vjp_{x}"))),
        ]

    def generated_matrix(self, code: _Code, name: str, size: tuple, applied):
        """The generated jac_/hess_ matrix, of its promised size, applied to the directions."""
        require_budget([self.d.expr], self.sizes, name, self.named)
        matrix = self.call(code, name)
        if np.shape(matrix) != size:
            raise _Mismatch(f"{name} returned shape {np.shape(matrix)}, not {size}")
        return applied(lambda v: np.asarray(matrix) @ v)

    def hessian_lines(self, code: _Code, x: str) -> list:
        d, shape = self.d, self.x.shape
        v_name = d.map_var.name
        size = (self.x.size, self.x.size)

        @functools.cache
        def reference():
            # the difference of ∇f along each V, and the scale it resolves
            self.value(d.gradient)
            return self.along(d.gradient), noise_floor(self.evaluator.magnitude(d.gradient))

        def applied(hess):
            along, floor = reference()
            return [(hess(_vec(v)), _vec(w), floor, spread)
                    for v, (w, spread) in zip(self.directions, along)]

        def products(hvp):
            along, floor = reference()
            return [(hvp(v), w, floor, spread) for v, (w, spread) in zip(self.directions, along)]

        return [
            _line("symbolic vec form H vec(V)",
                  lambda: applied(lambda v: self.evaluator.apply(d.expr, v))),
            _line(f"symbolic Hessian–vector product d(∇{d.fname})[V]",
                  lambda: products(lambda v: self.shaped(
                      self.value(d.map_expr, {v_name: v}), shape, "the Hessian–vector product"))),
            _code_line(code, f"NumPy hess_{x} vec(V)",
                       lambda: self.generated_matrix(code, f"hess_{x}", size, applied)),
            _code_line(code, f"NumPy hvp_{x}", lambda: products(
                lambda v: self.user_result(self.call_checked(code, f"hvp_{x}", d.map_expr,
                                                             {v_name: v}), shape, f"hvp_{x}"))),
        ]

    def block_lines(self, code: _Code) -> list:
        """One row of a block Hessian: each block ∂²f/∂X∂Yᵀ by H vec(V) against the difference of
        ∂f/∂X along V moving Y alone, and the Hessian–vector product against the difference
        along a direction for every variable at once; the generated hess and hvp alike."""
        d, shape = self.d, self.x.shape
        i = [y for y, _ in d.blocks].index(d.wrt)
        names = [v.name for v in d.directions]

        @functools.cache
        def reference(moved: tuple):
            # the difference of ∂f/∂X along the probes' directions of the variables moved
            self.value(d.gradient)
            floor = noise_floor(self.evaluator.magnitude(d.gradient))
            return [joint_difference(d.gradient, {y: probe[y] for y in moved}, self.env,
                                     self.sizes, self.named) for probe in self.joint], floor

        def applied(y, hess):
            along, floor = reference((y.name,))
            return [(hess(_vec(probe[y.name])), _vec(w), floor, spread)
                    for probe, (w, spread) in zip(self.joint, along)]

        def products(hvp):
            along, floor = reference(tuple(y.name for y, _ in d.blocks))
            return [(hvp({v: probe[y.name] for v, (y, _) in zip(names, d.blocks)}), w, floor,
                     spread) for probe, (w, spread) in zip(self.joint, along)]

        def generated_block(j, y):
            require_budget([h for _, h in d.blocks], self.sizes, "hess", self.named)
            matrix = self.call(code, "hess")[i][j]
            size = (self.x.size, self.env[y.name].size)
            if np.shape(matrix) != size:
                raise _Mismatch(f"hess()[{i}][{j}] has shape {np.shape(matrix)}, not {size}")
            return applied(y, lambda v: np.asarray(matrix) @ v)

        def generated_product(extra):
            require_budget([d.map_expr], self.sizes, "hvp", self.named)
            out = self.call(code, "hvp", extra)
            if not (isinstance(out, tuple) and len(out) == len(d.blocks)):
                raise _Mismatch(f"hvp returned {type(out).__name__}, not a tuple of "
                                f"{len(d.blocks)}")
            return self.user_result(out[i], shape, f"hvp()[{i}]")

        lines = []
        for j, (y, block) in enumerate(d.blocks):
            symbol = hessian_symbol(d.fname, d.wrt, y, "text")
            lines.append(_line(f"symbolic {symbol} vec(V)", lambda y=y, block=block: applied(
                y, lambda v: self.evaluator.apply(block, v))))
            lines.append(_code_line(code, f"NumPy hess()[{i}][{j}] vec(V)",
                                    lambda j=j, y=y: generated_block(j, y)))
        return lines + [
            _line(f"symbolic Hessian–vector product d(∂{d.fname}/∂{d.wrt.name})"
                  f"[{', '.join(names)}]", lambda: products(lambda extra: self.shaped(
                      self.value(d.map_expr, extra), shape, "the Hessian–vector product"))),
            _code_line(code, f"NumPy hvp()[{i}]", lambda: products(generated_product)),
        ]

    def call_checked(self, code: _Code, name: str, tree, extra: dict):
        """Call a map-form function once the tree it computes is known to fit the budget."""
        require_budget([tree], self.sizes, name, self.named)
        return self.call(code, name, extra)


def _line(form: str, compare) -> Line:
    """Run one comparison: ``compare()`` gives the probes of ``compared``."""
    try:
        return compared(form, compare())
    except TooLarge as err:
        return Line(form, None, err.message)
    except _Mismatch as err:
        return Line(form, math.inf, str(err))
    except Exception as err:  # noqa: BLE001 — a form that cannot be computed fails the check
        return Line(form, math.inf, f"raised {type(err).__name__}: {err}")


def compared(form: str, probes) -> Line:
    """The line of a form compared in probes (got, want, floor, spread), spread the resolution
    of the finite difference ``want`` (0 for an exact value): each probe's relative error on
    the scale of the larger of got and want (at least floor), and its spread on the same
    scale."""
    error, resolved, resolution = 0.0, 0.0, 0.0
    for got, want, floor, spread in probes:
        got, want = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
        e = relative_error(got, want, floor)
        if math.isnan(e):
            e = math.inf                                   # max() would pass over a nan
        r = spread / relative_scale(got, want, floor)      # on the error's scale
        error = max(error, e)
        if e > r:
            resolved = max(resolved, e)
        else:
            resolution = max(resolution, r)
    if not math.isfinite(error):
        return Line(form, math.inf, "not a finite number")
    return Line(form, error, resolved=resolved, resolution=resolution)


def _code_line(code: _Code, form: str, compare) -> Line:
    if code.missing:
        return Line(form, None, code.missing)
    if code.broken:
        return Line(form, math.inf, code.broken)
    return _line(form, compare)


def _direction(rng, shape: tuple, v) -> np.ndarray:
    """A random direction for the variable v; along a diagonal variable's own entries, since its
    gradient is taken over them, and symmetric for a symmetric one: f and its derivatives are
    defined on the symmetric matrices only (off them the Hessian–vector product was compared
    with the derivative of whichever extension the printed ∇f is)."""
    direction = rng.standard_normal(shape)
    if v.structure == "diagonal":
        return np.diag(np.diag(direction))
    return (direction + direction.T) / 2 if v.symmetric else direction


def _frob(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.sum(a * b))


def _vec(a: np.ndarray) -> np.ndarray:
    return a.reshape(-1, 1, order="F")


def _user_value(value: np.ndarray, v):
    rows, cols = v.shape
    if (rows, cols) == (1, 1):
        return float(value[0, 0])
    if cols == 1:
        return value[:, 0].copy()
    return value.copy()
