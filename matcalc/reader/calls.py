"""Function calls in elaboration: each function's number of arguments, the shapes it takes
and gives, and the node it builds — tr, det, vec, Diag/diag, norms, the spectral functions,
the reductions along an axis (sum, mean, var, softmax, …) and max/min/clip written with relu.
A part of the elaborator (elaborate.py), which it extends."""

from __future__ import annotations

import functools
from fractions import Fraction

from .. import ir
from .dims import _DimRef
from .vocabulary import _AXIS_ARG, _ONE_ARG, _THREE_ARG, _TWO_ARG, SPECTRAL_KEYS


def _is_zero(e) -> bool:
    return e.kind == "Num" and e.params[0] == 0


class _Calls:
    """The elaborator's methods for a function call (the grammar's ``call``)."""

    def frechet(self, key, name, operands, span):
        """L_f(A, E) and L_f(A, E, F), the first and second Fréchet derivatives of expm or logm
        at A; K_f(A) and K_f(A, E), their Kronecker forms: vec(L_f(A, E)) = K_f(A) vec(E),
        vec(L_f(A, E, F)) = K_f(A, E) vec(F)."""
        kron = key.startswith("K")
        counts = (1, 2) if kron else (2, 3)
        if len(operands) not in counts:
            self.error(f"{name} takes {' or '.join(map(str, counts))} arguments: "
                       + (f"{name}(A) or {name}(A, E)" if kron else
                          f"{name}(A, E) or {name}(A, E, F)"), [span])
        e, *directions = operands
        self.require_square(e, f"{name}({self.src(e)}, …)", span)
        for d in directions:
            if not (self.dims.unify(e.shape[0], d.shape[0])
                    and self.dims.unify(e.shape[1], d.shape[1])):
                self.error(f"{self.src(e)} is {self.fmt(e.shape)} but {self.src(d)} is "
                           f"{self.fmt(d.shape)} — {name}(A, E…) needs E of A's shape",
                           [e.span, d.span])
        kind = {(True, 1): "KronFrechet", (True, 2): "KronFrechet2", (False, 2): "Frechet",
                (False, 3): "Frechet2"}[kron, len(operands)]
        size = self.dims.product(e.shape[1], e.shape[0])
        return self.node(kind, tuple(operands), (key[2:] + "m",),
                         (size, size) if kron else e.shape, span)

    def _call(self, span, args):
        tok, *operands = args
        key = tok.value
        name = self.text[tok.start_pos:tok.end_pos]
        if key in _ONE_ARG and len(operands) != 1:
            self.error(f"{name} takes one argument, not {len(operands)}", [span])
        if key in _TWO_ARG and len(operands) != 2:
            form = f"{key}(0, X)" if key in ("max", "min") else f"{key}(A, B)"
            self.error(f"{name} takes two arguments: {form}", [span])
        if key in _THREE_ARG and len(operands) != 3:
            self.error(f"{name} takes three arguments: clip(X, low, high)", [span])
        if key in _AXIS_ARG:
            if len(operands) > 2:
                self.error(f"{name} takes one or two arguments: {name}(A) or {name}(A, axis)",
                           [span])
            return self.axis_call(key, name, operands, span)
        if key.startswith("unvec"):
            return self.unvec(key, name, operands, span)
        e = operands[0]
        one = self.ONE
        if key.startswith("fn:"):
            name = key[3:]
            if len(operands) != 1:
                self.error(f"{name} takes one argument", [span])
            if name not in self.functions:
                self.error(f"{name} is used before its definition", [span],
                           f"define {name}(x) := … first")
            param, body = self.functions[name]
            return self.node("UserFunc", (e,), (name, param, body), e.shape, span)
        if key == "tr":
            self.require_square(e, f"tr({self.src(e)})", span)
            return self.node("Trace", (e,), (), (one, one), span)
        if key == "det":
            self.require_square(e, f"det({self.src(e)})", span)
            return self.node("Det", (e,), (), (one, one), span)
        if key == "logdet":
            self.require_square(e, f"logdet({self.src(e)})", span)
            return self.node("LogDet", (e,), (), (one, one), span)
        if key == "log":
            if e.kind == "Det":
                return self.node("LogDet", e.args, (), (one, one), span)
            if e.kind == "Func" and e.params[0] == "abs" and e.args[0].kind == "Det":
                return self.node("LogDet", e.args[0].args, (), (one, one), span)
        if key in ir.FUNCTIONS:
            return self.node("Func", (e,), (key,), e.shape, span)
        if key == "vec":
            # vec X = Σⱼ eⱼ ⊗ Xeⱼ: its length in the Kronecker order, columns·rows
            return self.node("Vec", (e,), (), (self.dims.product(e.shape[1], e.shape[0]), one),
                             span)
        if key == "Diag" or (key == "diag" and self.is_col(e)):
            if not self.is_col(e) and not self.is_scalar(e):
                self.error(f"Diag needs a column vector, {self.src(e)} is {self.fmt(e.shape)}",
                           [span], "for the diagonal of a square matrix as a vector, "
                           "write diag(X)")
            if key == "diag":
                self.notes.append(f"'{self.src(span)}' of a vector read as Diag({self.src(e)}),"
                                  " the diagonal matrix (as in MATLAB)")
            return self.node("Diag", (e,), (), (e.shape[0], e.shape[0]), span)
        if key == "diag":
            self.require_square(e, f"diag({self.src(e)})", span)
            return self.node("DiagOf", (e,), (), (e.shape[0], one), span)
        if key == "kron":
            return self._kron(span, operands)
        if key == "frob":
            return self._frob(span, operands)
        if key in ("max", "min", "clip"):
            return self.clamp(key, operands, span)
        if key in ("norm", "norm2", "norm1"):
            kind = "1" if key == "norm1" else "F"
            if len(operands) == 2:
                p = operands[1]
                if p.kind != "Num" or p.params[0] not in (1, 2):
                    self.error(f"{name}(x, p) is supported for p = 1 and p = 2 (of a vector)",
                               [p.span])
                kind = "1" if p.params[0] == 1 else "F"
                if kind == "F" and not (self.is_col(e) or self.is_row(e)):
                    # norm(X, 2) of a matrix: the spectral norm, as in MATLAB
                    return self.node("Spectral", (e,), ("norm2",), (one, one), span)
            elif len(operands) != 1:
                self.error(f"{name} takes one argument", [span])
            if kind == "F" and not (self.is_col(e) or self.is_row(e) or self.is_scalar(e)):
                self.notes.append(f"'{self.src(span)}' of a matrix read as the Frobenius norm "
                                  "(as on matrixcalculus.org)")
            return self.node("Norm", (e,), (kind,), (one, one), span)
        if key == "inv":
            return self.power_node(e, Fraction(-1), span)
        if key in ("expm", "logm"):
            self.require_square(e, f"{name}({self.src(e)})", span)
            return self.node("MatFunc", (e,), (key,), e.shape, span)
        if key in ("K_exp", "K_log", "L_exp", "L_log"):
            return self.frechet(key, name, operands, span)
        if key in SPECTRAL_KEYS:
            node, kind = SPECTRAL_KEYS[key]
            if kind in ("lmax", "lmin", "qmax", "qmin"):
                self.require_square(e, f"{name}({self.src(e)})", span)
            rows, cols = e.shape
            shape = {"qmax": (rows, one), "qmin": (rows, one), "umax": (rows, one),
                     "vmax": (cols, one), "polar": (rows, cols)}.get(kind, (one, one))
            return self.node(node, (e,), (kind,), shape, span)
        if key in ("vector", "matrix"):
            if e.kind != "Num" or e.params[0] != 1:
                self.error(f"{name}(…) is supported only as {name}(1), the all-ones "
                           f"{key}", [span])
            if key == "vector":
                return self.ones(span)
            r, c = self.dims.new(), self.dims.new()
            self.inferred.append((r, "matrix(1)", span))
            self.inferred.append((c, "matrix(1)", span))
            return self.node("Ones", (), (_DimRef(r), _DimRef(c)), (r, c), span)
        self.error(f"unknown function '{name}'", [span])   # pragma: no cover

    def unvec(self, key, name, operands, span):
        """vec⁻¹_{n×m}(v), ASCII unvec(v, n, m): the n×m matrix whose vec is v. Its shape is
        written: the length m·n of v does not say which factor counts the rows."""
        if key == "unvec" and len(operands) == 3:
            sizes = [self.written_size(a) for a in operands[1:]]
        elif key != "unvec" and len(operands) == 1:
            sizes = self.written_sizes(key[7:-1], 2, span)
        else:
            sizes = [None]
        if None in sizes:
            self.error(f"{name}(…), the inverse of vec, needs its shape written", [span],
                       "write vec⁻¹_{n×m}(v) (ASCII unvec(v, n, m)) for the n×m matrix whose "
                       "vec is v")
        e, (rows, cols) = operands[0], sizes
        # vec stacks the columns: the length of v is (columns)·(rows), as vec(X) reads it
        if not (self.dims.unify(e.shape[1], self.ONE) and
                self.dims.unify(e.shape[0], self.dims.product(cols, rows))):
            self.error(f"{self.src(e)} is {self.fmt(e.shape)}, not a vector of the "
                       f"{self.dim_name(rows)}·{self.dim_name(cols)} entries of "
                       f"{self.src(span)}", [span])
        return self.node("Unvec", (e,), (_DimRef(rows), _DimRef(cols)), (rows, cols), span)

    def written_size(self, e):
        """The size an operand states (ASCII unvec(v, n, m)): a number, a declared size or
        their product; else None."""
        if e.kind == "Num" and e.params[0].denominator == 1 and e.params[0] > 0:
            return self.dims.const(int(e.params[0]))
        if e.kind == "Size":
            return self.size(e.params[0])
        if e.kind == "MatMul" and e.coeff.denominator == 1 and e.coeff > 0:
            factors = [self.written_size(a) for a in e.args]
            if None not in factors:
                if e.coeff != 1:
                    factors.append(self.dims.const(int(e.coeff)))
                return functools.reduce(self.dims.product, factors)
        return None

    def axis_call(self, key, name, operands, span):
        """sum/mean/var/logsumexp reduce, softmax/logsoftmax normalize, along an axis: the
        given one (1 down the rows, 2 along the columns, as in MATLAB), else over a vector
        (softmax of a matrix: along each row)."""
        e, one = operands[0], self.ONE
        if len(operands) == 2:
            a = operands[1]
            if a.kind != "Num" or a.params[0] not in (1, 2):
                self.error(f"the axis of {name} must be 1 (down the rows) or 2 (along the "
                           "columns)", [a.span], f"e.g. {name}(X, 1)")
            axis = int(a.params[0])
        elif key == "sum":
            return self.node("Sum", (e,), (), (one, one), span)
        elif self.is_col(e) or self.is_scalar(e):
            axis = 1
        elif self.is_row(e) or key in ("softmax", "logsoftmax"):
            axis = 2
        else:
            self.error(f"{name} of a matrix needs an axis: {name}({self.src(e)}, 1) goes down "
                       f"the rows, {name}({self.src(e)}, 2) along the columns", [span])
        reduced = (one, e.shape[1]) if axis == 1 else (e.shape[0], one)
        if key == "sum":
            # sum(X, 1) = 𝟏ᵀX, sum(X, 2) = X𝟏
            ones = self.node("Ones", (), (_DimRef(e.shape[axis - 1]), 1),
                             (e.shape[axis - 1], one), span)
            if axis == 1:
                ones = self.node("Transpose", (ones,), (), (one, e.shape[0]), span)
                return self.matmul_node((ones, e), Fraction(1), reduced, span)
            return self.matmul_node((e, ones), Fraction(1), reduced, span)
        kind = {"mean": "Mean", "var": "Variance", "logsumexp": "LogSumExp",
                "softmax": "Softmax", "logsoftmax": "LogSoftmax"}[key]
        shape = e.shape if key in ("softmax", "logsoftmax") else reduced
        return self.node(kind, (e,), (axis,), shape, span)

    def clamp(self, key, operands, span):
        """max, min and clip written with relu, which carries the a.e. derivative H:
        max(A, B) = B + relu(A − B), min(A, B) = A − relu(A − B),
        clip(X, a, b) = a + relu(X − a) − relu(X − b) for numbers a < b."""
        def plus(a, b):
            return self.combine("Add", a, b, span, f"the sum in {self.src(span)}")

        def minus(a, b):
            return plus(a, self.negate(b, b.span))

        def relu(x, y):      # relu(x − y), broadcast as the input does
            diff = x if _is_zero(y) else minus(x, y)
            return self.node("Func", (diff,), ("relu",), diff.shape, span)

        def relu_text(x, y):
            if y.kind == "Num" and y.params[0] <= 0:
                return f"relu({self.src(x)}" + (f" + {-y.params[0]})" if y.params[0] else ")")
            return f"relu({self.src(x)} − {self.src(y)})"

        if key == "clip":
            x, low, high = operands
            if not (low.kind == "Num" and high.kind == "Num" and low.params[0] < high.params[0]):
                self.error("clip(X, low, high) needs two numbers with low < high", [span],
                           "e.g. clip(X, 0, 1)")
            lower = relu(x, low) if _is_zero(low) else plus(low, relu(x, low))
            out = minus(lower, relu(x, high))
            reading = ("" if _is_zero(low) else f"{self.src(low)} + ") + \
                f"{relu_text(x, low)} − {relu_text(x, high)}"
        else:
            a, b = operands
            if _is_zero(a):
                a, b = b, a        # max(0, X) = relu(X); min(0, X) = X − relu(X)
            if key == "max":
                out = relu(a, b) if _is_zero(b) else plus(b, relu(a, b))
                reading = ("" if _is_zero(b) else f"{self.src(b)} + ") + relu_text(a, b)
            else:
                out = minus(a, relu(a, b))
                reading = f"{self.src(a)} − {relu_text(a, b)}"
        self.notes.append(f"'{self.src(span)}' read as {reading}")
        return out
