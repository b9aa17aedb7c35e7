"""NumPy code generation: a self-contained snippet with one ``grad_<name>`` function per result.

Contract (README, "NumPy code"): parameters are the free variables in order of first
appearance, transliterated to ASCII (λ → lam, W₁ → W1, ℓ → ell); vectors are 1-D arrays,
matrices 2-D, scalars floats. Inside, vectors are columns (n×1) so that the formulas read as
printed. Shapes are checked against each other (ValueError naming the mismatch); repeated
subexpressions are computed once; X⁻¹B is ``np.linalg.solve(X, B)``.
"""

from __future__ import annotations

import keyword
import re
from collections import Counter
from fractions import Fraction

from .errors import MatcalcError
from .ir import (SCALAR, Add, Broadcast, Expr, Hadamard, HadPow, MatMul, Num, Ones, Power,
                 Transpose, UserFunc, Var, walk)
from .printers import ACCENTS, LETTER_ASCII, SUBSCRIPT_DIGITS
from .simplify import simplify



def py_name(name: str) -> str:
    """A valid Python identifier for a variable name: 'λ' → 'lam', 'W₁' → 'W1', 'x′' → 'x_prime'."""
    out = ""
    for ch in name:
        if ch in SUBSCRIPT_DIGITS:
            out += str(SUBSCRIPT_DIGITS.index(ch))
        elif ch == "′":
            out += "_prime"
        elif ch in ACCENTS:
            out += "_" + ACCENTS[ch]
        elif ch in LETTER_ASCII:
            out += LETTER_ASCII[ch]
        else:
            out += ch
    if not out.isascii() or not out.isidentifier() or keyword.iskeyword(out):
        raise MatcalcError(f"the name '{name}' has no Python spelling for the NumPy code",
                           hint="rename the variable with ASCII letters and digits")
    return out


ELEMENTWISE = {
    "exp": "np.exp({})", "log": "np.log({})", "sin": "np.sin({})", "cos": "np.cos({})",
    "tan": "np.tan({})", "tanh": "np.tanh({})", "sqrt": "np.sqrt({})", "abs": "np.abs({})",
    "sign": "np.sign({})", "sigmoid": "0.5 * (1.0 + np.tanh(0.5 * {}))",
    "relu": "np.maximum({}, 0.0)", "softplus": "np.logaddexp(0.0, {})",
    "heaviside": "np.heaviside({}, 0.0)",
}


class NumpyPrinter:
    """Python expressions over 2-D arrays; ``names`` maps shared subtrees to temporaries."""

    def __init__(self, names: dict, dims: dict):
        self.names = names
        self.dims = dims

    def __call__(self, e: Expr) -> str:
        if e in self.names:
            return self.names[e]
        return getattr(self, "_" + type(e).__name__)(e)

    def atom(self, e: Expr) -> str:
        """e printed so that it can stand as an operand of * / @ ** or .T."""
        if isinstance(e, Broadcast) and e not in self.names:
            return self.atom(e.arg)          # NumPy broadcasts it as it stands
        text = self(e)
        if e in self.names or isinstance(e, (Var, Transpose)) or text.isidentifier() \
                or (isinstance(e, Num) and e.value >= 0) or _is_call(text):
            return text
        return f"({text})"

    def dim(self, d) -> str:
        if isinstance(d, int):
            return str(d)
        return " * ".join(p if p.isdigit() else self.dims[p] for p in d.split("·"))

    def _Var(self, e):
        return py_name(e.name)

    def _Num(self, e):
        return repr(float(e.value))

    def _Identity(self, e):
        return f"np.eye({self.dim(e.rows)})"

    def _Ones(self, e):
        return f"np.ones(({self.dim(e.rows)}, {self.dim(e.cols)}))"

    def _Zero(self, e):
        return f"np.zeros(({self.dim(e.rows)}, {self.dim(e.cols)}))"

    def _Add(self, e):
        out = self(e.args[0])
        for a in e.args[1:]:
            if isinstance(a, MatMul) and isinstance(a.args[0], Num) and a.args[0].value < 0:
                out += " - " + self._scaled_text(-a.args[0].value, a.args[1:], tight=True)
            else:
                out += " + " + self(a)
        return out

    def _scaled_text(self, c: Fraction, rest, tight=False) -> str:
        rest = list(rest)
        body = self(rest[0] if len(rest) == 1 else MatMul(*rest))
        if c == 1:
            return body if not tight or not _needs_parens_after_minus(body) else f"({body})"
        return f"{float(c)!r} * {body if not _needs_parens_after_minus(body) else f'({body})'}"

    def _MatMul(self, e):
        scalars = [a for a in e.args if a.shape == SCALAR]
        chain = [a for a in e.args if a.shape != SCALAR]
        sign = ""
        if scalars and isinstance(scalars[0], Num) and scalars[0].value < 0:
            sign = "-"
            scalars = ([Num(-scalars[0].value)] if scalars[0].value != -1 else []) + scalars[1:]
        parts = []
        for s in scalars:
            if isinstance(s, Power) and s.exp < 0:
                continue
            parts.append(self.atom(s))
        dens = [Power(s.arg, -s.exp) if s.exp != -1 else s.arg
                for s in scalars if isinstance(s, Power) and s.exp < 0]
        if chain:
            parts.append(self.chain(chain))
        text = " * ".join(parts) if parts else "1.0"
        for d in dens:
            text += " / " + self.atom(d)
        return sign + text

    def chain(self, chain: list) -> str:
        """A matrix product, right to left, with X⁻¹B as solve(X, B) and BX⁻¹ as
        solve(Xᵀ, Bᵀ)ᵀ — no explicit inverse unless the inverse is the whole product."""
        if len(chain) == 1:
            return self.atom(chain[0])
        # sums with a ones vector: M𝟏 is M.sum(axis=1), 𝟏ᵀM is M.sum(axis=0); Gᵀ𝟏 is G's
        # column sums
        if _is_ones_vector(chain[-1]):
            rest = chain[:-1]
            if len(rest) == 1 and isinstance(rest[0], Transpose):
                return f"{self.atom(rest[0].arg)}.sum(axis=0, keepdims=True).T"
            return f"{self._group(self.chain(rest))}.sum(axis=1, keepdims=True)"
        if isinstance(chain[0], Transpose) and _is_ones_vector(chain[0].arg):
            return f"{self._group(self.chain(chain[1:]))}.sum(axis=0, keepdims=True)"
        last = _inverse_arg(chain[-1])
        if last is not None:
            left = self.chain(chain[:-1])
            return f"np.linalg.solve({self(_transposed(last))}, {_t(left)}).T"
        # ending in a vector, the product is cheapest right to left: A @ (B @ x)
        nest = chain[-1].cols == 1
        acc = self.atom(chain[-1])
        for f in reversed(chain[:-1]):
            inv = _inverse_arg(f)
            if inv is not None and f not in self.names:
                acc = f"np.linalg.solve({self(inv)}, {acc})"
            else:
                grouped = nest and " @ " in acc and not _is_call(acc)
                acc = f"{self.atom(f)} @ {f'({acc})' if grouped else acc}"
        return acc

    @staticmethod
    def _group(text: str) -> str:
        return text if text.isidentifier() or _is_call(text) else f"({text})"

    def _Hadamard(self, e):
        out = self.atom(e.args[0])
        for a in e.args[1:]:
            if isinstance(a, HadPow) and a.exp == -1:
                out += " / " + self.atom(a.arg)
            else:
                out += " * " + self.atom(a)
        return out

    def _HadPow(self, e):
        if e.exp == -1:
            return f"1.0 / {self.atom(e.arg)}"
        return f"{self.atom(e.arg)} ** {float(e.exp)!r}"

    def _Power(self, e):
        if e.arg.shape == SCALAR:
            if e.exp == Fraction(1, 2):
                return f"np.sqrt({self(e.arg)})"
            if e.exp < 0:
                return f"1.0 / {self.atom(Power(e.arg, -e.exp) if e.exp != -1 else e.arg)}"
            return f"{self.atom(e.arg)} ** {float(e.exp)!r}"
        if e.exp == -1:
            return f"np.linalg.inv({self(e.arg)})"
        return f"np.linalg.matrix_power({self(e.arg)}, {int(e.exp)})"

    def _Commutation(self, e):
        return f"_commutation({self.dim(e.params[0])}, {self.dim(e.params[1])})"

    def _Kron(self, e):
        return f"np.kron({self(e.args[0])}, {self(e.args[1])})"

    def _Transpose(self, e):
        return f"{self.atom(e.arg)}.T"

    def _Func(self, e):
        return ELEMENTWISE[e.name].format(self(e.arg))

    def _Trace(self, e):
        return f"np.trace({self(e.arg)})"

    def _Det(self, e):
        return f"np.linalg.det({self(e.arg)})"

    def _LogDet(self, e):
        return f"np.linalg.slogdet({self(e.arg)})[1]"

    def _Norm(self, e):
        if e.kind == "1":
            return f"np.abs({self(e.arg)}).sum()"
        return f"np.linalg.norm({self(e.arg)})"

    def _Sum(self, e):
        return f"np.sum({self(e.arg)})"

    def _Frob(self, e):
        return f"np.sum({self.atom(e.args[0])} * {self.atom(e.args[1])})"

    def _Diag(self, e):
        return f"np.diagflat({self(e.arg)})"

    def _DiagOf(self, e):
        return f"np.diag({self(e.arg)}).reshape(-1, 1)"

    def _Vec(self, e):
        return f"{self.atom(e.arg)}.reshape(-1, 1, order=\"F\")"

    def _Unvec(self, e):
        return f"{self.atom(e.arg)}.reshape(({self.dim(e.rows)}, {self.dim(e.cols)}), order=\"F\")"

    def _Broadcast(self, e):
        # NumPy broadcasts a scalar, a row or a column by itself
        return self(e.arg)

    def _Size(self, e):
        return self.dim(e.dim)

    def _Mean(self, e):
        return f"{self.atom(e.arg)}.mean(axis={e.axis - 1}, keepdims=True)"

    def _Variance(self, e):
        return f"{self.atom(e.arg)}.var(axis={e.axis - 1}, keepdims=True)"

    def _LogSumExp(self, e):
        return f"_logsumexp({self(e.arg)}, {e.axis - 1})"

    def _Softmax(self, e):
        return f"_softmax({self(e.arg)}, {e.axis - 1})"

    def _LogSoftmax(self, e):
        return f"{self.atom(e.arg)} - _logsumexp({self(e.arg)}, {e.axis - 1})"


def _is_call(text: str) -> bool:
    """Is text one call or one parenthesized group, like np.exp(X) or (A + B)?"""
    if not text.endswith(")") or "(" not in text:
        return False
    head = text[:text.index("(")]
    if head and not head.replace(".", "").replace("_", "").isalnum():
        return False
    depth = 0
    for i, ch in enumerate(text):
        depth += ch == "("
        depth -= ch == ")"
        if depth == 0 and ch == ")" and i < len(text) - 1:
            return False
    return True


def _is_ones_vector(e: Expr) -> bool:
    return isinstance(e, Ones) and e.cols == 1 and e.rows != 1


def _needs_parens_after_minus(text: str) -> bool:
    depth = 0
    for ch in text:
        depth += ch in "(["
        depth -= ch in ")]"
        if depth == 0 and ch in "+-":
            return True
    return False


def _inverse_arg(e: Expr):
    """X for X⁻¹, Xᵀ for X⁻ᵀ, else None."""
    if isinstance(e, Power) and e.exp == -1 and e.arg.shape != SCALAR:
        return e.arg
    if isinstance(e, Transpose) and isinstance(e.arg, Power) and e.arg.exp == -1:
        return Transpose(e.arg.arg)
    return None


def _transposed(e: Expr) -> Expr:
    return e.arg if isinstance(e, Transpose) else Transpose(e)


def _t(text: str) -> str:
    return f"({text}).T" if not text.isidentifier() else f"{text}.T"


# --- whole functions --------------------------------------------------------------------------

def _shared_subtrees(exprs) -> list[Expr]:
    """Non-trivial subtrees that occur more than once, children before parents."""
    counts: Counter = Counter()
    order: list = []
    for e in exprs:
        for node in walk(e):
            counts[node] += 1
            if node not in order:
                order.append(node)
    # names, transposes of names and inverses (which become solves) are not worth a temporary
    shared = [n for n in order if counts[n] > 1 and n.args
              and not (isinstance(n, Transpose) and isinstance(n.arg, Var))
              and _inverse_arg(n) is None and not isinstance(n, Broadcast)]
    return sorted(shared, key=lambda n: _depth(n))


def _entrywise(e: Expr) -> Expr:
    """e with every user function call f(A) written out entrywise (so that its argument is
    computed once like any shared subexpression)."""
    if e.args:
        e = e.with_args(_entrywise(a) for a in e.args)
    return e.entrywise() if isinstance(e, UserFunc) else e


def _depth(e: Expr) -> int:
    return 1 + max((_depth(a) for a in e.args), default=0)


def _shape_checks(params: list[Var]) -> tuple[list[str], dict]:
    """Lines that take each array, read each symbolic size off the first array that has it, and
    check every other array against it."""
    lines, dims = [], {}
    for v in params:
        name = py_name(v.name)
        rows, cols = v.shape
        if v.shape == SCALAR:
            continue
        if cols == 1:
            lines.append(f"{name} = np.asarray({name}, dtype=float).reshape(-1, 1)")
            axes = [(rows, f"{name}.shape[0]", f"the length of {name}")]
        else:
            lines.append(f"{name} = np.asarray({name}, dtype=float)")
            lines.append(f"if {name}.ndim != 2:")
            lines.append(f"    raise ValueError(\"{name} must be a 2-D array\")")
            axes = [(rows, f"{name}.shape[0]", f"the rows of {name}"),
                    (cols, f"{name}.shape[1]", f"the columns of {name}")]
        for d, expr, label in axes:
            if isinstance(d, int):
                lines.append(f"if {expr} != {d}:")
                lines.append(f"    raise ValueError(f\"{label}: {{{expr}}}, expected {d}\")")
            elif d in dims:
                first, first_label = dims[d]
                lines.append(f"if {expr} != {first}:")
                lines.append(f"    raise ValueError(f\"{label}: {{{expr}}}, but {first_label}: "
                             f"{{{first}}} (both are the size {d})\")")
            else:
                dims[d] = (f"dim_{py_name(d)}", label)
                lines.append(f"dim_{py_name(d)} = {expr}")
    return lines, {d: v[0] for d, v in dims.items()}


def _function(name: str, doc: str, expr: Expr, params: list[Var], definitions: dict,
              returns: Var | None, value: Expr | None = None) -> str:
    """One function: checks, definitions used, shared temporaries, the return value.
    ``returns`` is the variable whose shape the result takes (None: a 2-D matrix as is)."""
    check_lines, dims = _shape_checks(params)
    expr, value = _entrywise(expr), value and _entrywise(value)
    definitions = {n: simplify(_entrywise(e)) for n, e in definitions.items()}
    exprs = [expr] + ([value] if value is not None else [])
    for node in (n for e in exprs for n in walk(e)):
        for d in node.shape:
            for part in (d.split("·") if isinstance(d, str) else ()):
                if not part.isdigit() and part not in dims:
                    raise MatcalcError(f"the size {part} is not fixed by any input of {name}")
    used_defs = _needed_definitions(exprs, definitions)
    body = list(check_lines)
    names: dict = {}
    printer = NumpyPrinter(names, dims)
    # definitions and shared temporaries, each after everything it reads
    pending = [(Var(n, e.shape), e) for n, e in used_defs.items()] + \
        [(None, node) for node in _shared_subtrees(exprs + list(used_defs.values()))]
    done: set = set(params)
    while pending:
        i = next(i for i, (var, e) in enumerate(pending)
                 if all(n in done or not _is_pending(n, pending, e) for n in walk(e)))
        var, e = pending.pop(i)
        if var is None:
            text = printer(e)
            names[e] = f"t{len(names) + 1}"
            body.append(f"{names[e]} = {text}")
            done.add(e)
        else:
            body.append(f"{py_name(var.name)} = {printer(e)}")
            done.add(var)
    out = printer(expr)
    if returns is None:
        ret = out if _full(expr) else \
            f"np.broadcast_to({out}, ({printer.dim(expr.rows)}, {printer.dim(expr.cols)})).copy()"
    elif returns.shape == SCALAR:
        ret = f"float(np.squeeze({out}))"
    else:
        rows, cols = returns.shape
        ret = out
        if not _full(expr):
            ret = f"np.broadcast_to({out}, ({printer.dim(rows)}, {printer.dim(cols)})).copy()"
        if cols == 1:
            ret = f"{ret}.ravel()" if _is_call(ret) or ret.isidentifier() else f"({ret}).ravel()"
    if value is not None:
        body.append(f"value = float(np.squeeze({printer(value)}))")
        body.append(f"return value, {ret}")
    else:
        body.append(f"return {ret}")
    # a size or temporary that nothing reads needs no line (a temporary can be swallowed by a
    # larger shared one)
    while any(_unused_name(line, body) for line in body):
        body = [line for line in body if not _unused_name(line, body)]
    signature = ", ".join(py_name(v.name) for v in params)
    return "\n".join([f"def {name}({signature}):", f'    """{doc}"""']
                     + ["    " + line for line in body])


def _is_pending(node: Expr, pending: list, within: Expr) -> bool:
    """Is node a definition or a temporary still to be written (other than within itself)?"""
    return node is not within and any(node == (var if var is not None else e)
                                      for var, e in pending)


def _unused_name(line: str, body: list[str]) -> bool:
    name = line.split(" = ")[0]
    if not (name.startswith("dim_") or (name[:1] == "t" and name[1:].isdigit())):
        return False
    pattern = re.compile(rf"\b{name}\b")
    return not any(pattern.search(other) for other in body if other is not line)


def _full(e: Expr) -> bool:
    """Does NumPy evaluate e to an array of e's full shape (not a broadcastable smaller one)?"""
    if isinstance(e, (Broadcast, Num)):
        return False
    if isinstance(e, (Add, Hadamard)):
        return any(_full(a) for a in e.args)
    if isinstance(e, MatMul):
        chain = [a for a in e.args if a.shape != SCALAR]
        return len(chain) > 1 or any(_full(a) for a in chain)
    if isinstance(e, HadPow):
        return _full(e.arg)
    return True


def _needed_definitions(exprs, definitions: dict) -> dict:
    """The definitions the expressions mention (and the ones those mention), in order."""
    needed: set = set()
    todo = [n.name for e in exprs for n in walk(e) if isinstance(n, Var)]
    while todo:
        name = todo.pop()
        if name in definitions and name not in needed:
            needed.add(name)
            todo.extend(n.name for n in walk(definitions[name]) if isinstance(n, Var))
    return {n: e for n, e in definitions.items() if n in needed}


def generate(result, with_value: bool = False) -> str:
    """The NumPy snippet for a Result: per derivative, grad_<x>; or jac_<x> and vjp_<x>;
    or hess_<x> and hvp_<x>."""
    functions = []
    for d in result.derivatives:
        definitions = dict(d.definitions)
        if result.program.result_name and result.program.result_name not in definitions:
            definitions[result.program.result_name] = d.function
        params = [v for v in result.program.variables if v.name not in definitions]
        if d.wrt not in params:
            params.append(d.wrt)
        x, f = py_name(d.wrt.name), d.fname
        where = f"∂{f}/∂{d.wrt.name}"
        if d.kind == "gradient":
            functions.append(_function(
                f"grad_{x}", f"{where} by matcalc" + (" (returns f too)" if with_value else ""),
                d.expr, params, definitions, d.wrt, d.function if with_value else None))
        elif d.kind == "jacobian":
            functions.append(_function(
                f"jac_{x}", f"∂vec({f})/∂vec({d.wrt.name}) by matcalc (column-major vec)",
                d.expr, params, definitions, None))
            functions.append(_function(
                f"vjp_{x}", f"{d.map_var.name} ↦ ∂({d.map_var.name} : {f})/∂{d.wrt.name} "
                "by matcalc (backpropagation, no Jacobian formed)",
                d.map_expr, params + [d.map_var], definitions, d.wrt))
        else:
            functions.append(_function(
                f"hess_{x}", f"∂vec(∇{f})/∂vec({d.wrt.name}) by matcalc (column-major vec)",
                d.expr, params, definitions, None))
            functions.append(_function(
                f"hvp_{x}", f"{d.map_var.name} ↦ d(∇{f})[{d.map_var.name}] by matcalc "
                "(Hessian-vector product)", d.map_expr, params + [d.map_var], definitions,
                d.wrt))
    code = "\n\n\n".join(functions)
    header = "import numpy as np\n\n\n"
    for name, source in HELPERS.items():
        if name + "(" in code:
            header += source + "\n\n"
    return header + code + "\n"


# Helper functions, emitted only when the code calls them.
HELPERS = {
    "_commutation": '''def _commutation(m, n):
    """The commutation matrix K: K @ A.reshape(-1, order="F") == A.T.reshape(-1, order="F")."""
    k = np.zeros((m * n, m * n))
    rows = np.arange(m * n)
    k[rows, (rows % n) * m + rows // n] = 1.0
    return k
''',
    "_logsumexp": '''def _logsumexp(a, axis):
    """log(sum(exp(a), axis)) without overflow."""
    top = a.max(axis=axis, keepdims=True)
    return top + np.log(np.exp(a - top).sum(axis=axis, keepdims=True))
''',
    "_softmax": '''def _softmax(a, axis):
    """exp(a) / sum(exp(a), axis) without overflow."""
    e = np.exp(a - a.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)
''',
}
