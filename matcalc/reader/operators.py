"""The operators in elaboration: sums and comparisons (with the broadcasts a sum may need),
products (matrix, scalar, Hadamard, Kronecker, division) and the postfix operators (transpose,
powers, inverses). A part of the elaborator (elaborate.py), which it extends."""

from __future__ import annotations

import re
from fractions import Fraction

from . import readings
from .calls import _is_zero
from .dims import _DimRef
from .limits import _NUMBER_HINT, LimitError, power_fits
from .nodes import _E, _union
from .vocabulary import spelled


class _Operators:
    """The elaborator's methods for the grammar's operators."""

    # --- sums and comparisons --------------------------------------------------------------
    def _add(self, span, args):
        a, op, b = args
        if op.value == "-":
            b = self.negate(b, b.span)
        return self.combine("Add", a, b, span, f"the sum {self.src(span)}")

    def negate(self, e: _E, span) -> _E:
        if e.kind == "Num":
            return self.num(-e.params[0], span)
        if e.kind == "MatMul":
            return self.matmul_node(e.args, -e.coeff, e.shape, span, e.depth, flex=e.flex,
                                    stated=e.stated)
        return self.matmul_node((e,), Fraction(-1), e.shape, span)

    def _negate(self, span, args):
        op, e = args
        if op.value == "+":
            return e
        return self.negate(e, span)

    def combine(self, kind, a, b, span, what):
        """a + b, a ∘ b, …: equal shapes, or one side broadcast as NumPy does."""
        a, b, shape = self.broadcast_pair(a, b, span, what)
        tail = b.args if b.kind == kind else (b,)
        args = a.extended(tail) if a.kind == kind else [a, *tail]
        depth = max(a.depth if a.kind == kind else a.depth + 1,
                    b.depth if b.kind == kind else b.depth + 1)
        return self.node(kind, args, (), shape, span, depth=depth, **self.joined(a, b))

    @staticmethod
    def joined(a: _E, b: _E) -> dict:
        """flex and stated of a node over a and b (its flattened children need not be
        visited again)."""
        return {"flex": _union((a.flex, b.flex)), "stated": a.stated and b.stated}

    def broadcast_pair(self, a, b, span, what):
        dims = self.dims
        sa, sb = self.is_scalar(a), self.is_scalar(b)
        if sa and sb:
            return a, b, a.shape
        if sa:
            self.record(a, b, span)
            return self.bcast(a, b.shape), b, b.shape
        if sb:
            self.record(b, a, span)
            return a, self.bcast(b, a.shape), a.shape
        a_vec = self.is_col(a) or self.is_row(a)
        b_vec = self.is_col(b) or self.is_row(b)
        if a_vec and not b_vec:
            self.record(a, b, span)
            return self.bcast_vector(a, b, span, what), b, b.shape
        if b_vec and not a_vec:
            self.record(b, a, span)
            return a, self.bcast_vector(b, a, span, what), a.shape
        if (self.is_col(a) and self.is_row(b)) or (self.is_row(a) and self.is_col(b)):
            self.error(f"{self.src(a)} is {self.fmt(a.shape)} but {self.src(b)} is "
                       f"{self.fmt(b.shape)} — {what} needs equal shapes",
                       [a.span, b.span], "transpose one of them")

        def message():
            return (f"{self.src(a)} is {self.fmt(a.shape)} but {self.src(b)} is "
                    f"{self.fmt(b.shape)} — {what} needs equal shapes")
        ok = dims.unify(a.shape[0], b.shape[0]) and dims.unify(a.shape[1], b.shape[1])
        if not ok:
            self.error(message(), [a.span, b.span])
        return a, b, a.shape

    def kind(self, e: _E) -> str:
        return ("scalar" if self.is_scalar(e) else "col" if self.is_col(e) else
                "row" if self.is_row(e) else "matrix")

    def leaf(self, e: _E):
        """(name, transposed) when e is an undeclared name with another possible shape,
        up to sign, a number factor and transposes; else None."""
        transposed = False
        while e.kind in ("Transpose", "MatMul") and len(e.args) == 1:
            transposed ^= e.kind == "Transpose"
            e = e.args[0]
        if e.kind == "Var" and e.flex == frozenset(e.params[:1]):
            return e.params[0], transposed
        return None

    def record(self, small: _E, big: _E, span):
        """A broadcast of small to big's shape, for the search over readings."""
        self.broadcasts.append(readings.Broadcast(
            self.step, span, (self.kind(small), self.kind(big)), (small.flex, big.flex),
            (self.leaf(small), self.leaf(big)), small.stated))

    def bcast(self, e, shape):
        return self.node("Broadcast", (e,), (_DimRef(shape[0]), _DimRef(shape[1])), shape,
                         e.span)

    def bcast_vector(self, v, m, span, what):
        """A row or column vector v against a matrix m."""
        dims = self.dims
        rows, cols = m.shape
        if self.is_row(v):
            if not dims.unify(v.shape[1], cols):
                self.error(f"{self.src(v)} is {self.fmt(v.shape)} but {self.src(m)} is "
                           f"{self.fmt(m.shape)} — a row broadcast over {what} needs its "
                           f"length to equal the columns ({self.dim_name(cols)})",
                           [v.span, m.span])
            return self.bcast(v, m.shape)
        # a column vector: a column if its length is the row count, else a row (NumPy's 1-D
        # rule), as the shapes are in the end (a length still open when it is met is settled
        # with the rest: `X + c` with X and c undeclared reads as with X ∈ ℝ^{n×n}, c ∈ ℝⁿ
        # declared where the uses make X square); a name keeps one orientation in every
        # broadcast, so that (A + t)(A + t) reads t the same in both places
        k, name = v.shape[0], (v.params[0] if v.kind == "Var" else None)
        as_row = self.oriented.get(name) if name is not None else None
        if as_row is None and dims.same(k, rows):
            as_row = False
            if name is not None:
                self.oriented[name] = False
        node = self.bcast(v, m.shape)
        broadcast = _Oriented(node, v, m)
        if as_row is None:
            self.unoriented.setdefault(name or id(node), []).append(broadcast)
        else:
            self.orient([broadcast], as_row)
        text = self.src(v)
        # (a note of the end: the shape as finally named)
        self.notes.append(lambda: broadcast.as_row and (
            f"{text} added to {_article(self.fmt(m.shape))} matrix broadcasts as a row "
            f"{text}ᵀ, as NumPy does"))
        return node

    def orient_the_rest(self):
        """The broadcasts of column vectors whose orientation was left open, as the shapes
        are now: a column where the length is the row count of every matrix the vector is
        broadcast over, or can be (a square matrix: as a row its length would be the row
        count too), else a row (NumPy's rule), else a column."""
        dims = self.dims
        for key, group in self.unoriented.items():
            as_row = self.oriented.get(key) if isinstance(key, str) else None
            if as_row is None:
                k = group[0].vector.shape[0]
                as_row = not all(dims.same(k, rows) or dims.same(rows, cols)
                                 for rows, cols in (b.matrix.shape for b in group)) and (
                    all(dims.unify(k, b.matrix.shape[1]) for b in group) or
                    not all(dims.unify(k, b.matrix.shape[0]) for b in group))
            self.orient(group, as_row)
        self.unoriented = {}

    def orient(self, group: list, as_row: bool):
        """The broadcasts of a column vector as rows or as columns (its length unified)."""
        for b in group:
            v, m = b.vector, b.matrix
            (rows, cols), k = m.shape, v.shape[0]
            if not self.dims.unify(k, cols if as_row else rows):
                self.error(f"{self.src(v)} is {self.fmt(v.shape)} but {self.src(m)} is "
                           f"{self.fmt(m.shape)} — to broadcast it as a row (as NumPy does) "
                           f"its length must equal the columns ({self.dim_name(cols)}); as a "
                           f"column, the rows ({self.dim_name(rows)})", [v.span, m.span])
            b.as_row = as_row
            if as_row:
                t = self.node("Transpose", (v,), (), (v.shape[1], v.shape[0]), v.span)
                b.node._list, b.node._n = [t], 1

    def _compare(self, span, args):
        a, op, b = args
        big, small = (a, b) if op.value == ">" else (b, a)
        if small.kind == "Num" and small.params[0] == 0:
            diff = big
        else:
            diff = self.combine("Add", big, self.negate(small, small.span), span,
                                f"the comparison {self.src(span)}")
        self.notes.append(f"'{self.src(span)}' read as the 0/1 indicator "
                          f"H({self.src(big)}{'' if diff is big else ' − ' + self.src(small)})"
                          " (Heaviside step; its derivative is 0 almost everywhere)")
        e = self.node("Func", (diff,), ("heaviside",), diff.shape, span)
        e.compare = True
        return e

    def _indicator(self, span, args):
        tok, e = args
        if not e.compare:
            self.error(f"{self.text[tok.start_pos:tok.end_pos]}[…] needs a comparison such as "
                       "C > 0.2", [span])
        return e

    # --- products --------------------------------------------------------------------------
    def matmul_node(self, factors, coeff, shape, span, depth=None, **kw):
        if not factors:
            return self.num(coeff, span)
        if coeff == 1 and len(factors) == 1:
            return factors[0]
        self.check_number(coeff, span)
        return self.node("MatMul", factors, (), shape, span, coeff=coeff, depth=depth, **kw)

    def _matmul(self, span, args):
        a, b = args
        return self.product(a, b, span)

    def product(self, a, b, span):
        dims = self.dims
        # the digit 1 beside a matrix is the ones vector 𝟏 (1ᵀX1, 1bᵀ)
        last = a.last if a.kind == "MatMul" else a
        if b.one and not self.is_scalar(last) and last.kind != "Num" \
                and not dims.is1(last.shape[1]):
            b = self.ones(b.span, note=True)
            dims.unify(b.shape[0], last.shape[1])
        if a.one and self.is_row(b):
            a = self.ones(a.span, note=True)
        sa, sb = self.is_scalar(a), self.is_scalar(b)
        if not sa and not sb:
            if not dims.unify(a.shape[1], b.shape[0]):
                whole = self.src(span)
                self.error(f"{self.src(a)} is {self.fmt(a.shape)} but {self.src(b)} is "
                           f"{self.fmt(b.shape)} — the product {whole} needs {self.src(a)}'s "
                           f"columns ({self.dim_name(a.shape[1])}) to equal {self.src(b)}'s "
                           f"rows ({self.dim_name(b.shape[0])})", [a.span, b.span])
            shape = (a.shape[0], b.shape[1])
        elif sa and sb:
            shape = (self.ONE, self.ONE)
        else:
            shape = b.shape if sa else a.shape
        coeff, head, factors, inner = Fraction(1), None, [], 0
        for side, other_scalar in ((a, sb), (b, sa)):
            if side.kind == "Num":
                coeff *= side.params[0]
            elif side.kind == "MatMul" and (other_scalar or not self.is_scalar(side)
                                            or all(self.is_scalar(f) for f in side.args)):
                coeff *= side.coeff
                if side is a:
                    head = a            # the product extends a's chain of factors
                else:
                    factors.extend(side.args)
                inner = max(inner, side.depth - 1)
            else:
                factors.append(side)
                inner = max(inner, side.depth)
        return self.matmul_node(head.extended(factors) if head else factors, coeff, shape,
                                span, inner + 1, **self.joined(a, b))

    def _divide(self, span, args):
        a, b = args
        if not self.is_scalar(b):
            self.error(f"cannot divide by {self.src(b)}: it is {self.fmt(b.shape)}, not a "
                       "scalar", [b.span],
                       f"for entrywise division write {self.spelled('entrywise division', 'A', 'B')}"
                       f"; for the inverse, {self.spelled('inverse', 'X')}")
        if b.kind == "Num":
            if b.params[0] == 0:
                self.error("division by zero", [b.span])
            return self.product(a, self.num(1 / b.params[0], b.span), span)
        return self.product(a, self.power_node(b, Fraction(-1), b.span), span)

    def _fraction(self, span, args):
        return self._divide(span, args)

    def _hadamard(self, span, args):
        a, op, b = args
        if op.value == "⊘":
            if _is_zero(b):
                self.error(f"division by zero: {self.src(span)}", [b.span])
            if a.kind == "Num" and a.params[0] == 1 and not self.is_scalar(b):
                return self.hadpow_node(b, Fraction(-1), span)
            b = self.hadpow_node(b, Fraction(-1), b.span)
        return self.combine("Hadamard", a, b, span, f"{self.src(span)}")

    def hadpow_node(self, e, k: Fraction, span):
        if _is_zero(e) and k < 0:
            self.error(f"division by zero: {self.src(span)}", [span])
        if e.kind == "Num":
            # a number's entrywise power is its power, folded within the limits on numbers
            # (3^∘3^∘3^∘… was folded later without them: 3^(3²³) hung)
            return self.power_node(e, k, span)
        return self.node("HadPow", (e,), (k,), e.shape, span)

    def _kron(self, span, args):
        a, b = args
        shape = (self.dims.product(a.shape[0], b.shape[0]),
                 self.dims.product(a.shape[1], b.shape[1]))
        return self.node("Kron", (a, b), (), shape, span)

    def _frob(self, span, args):
        a, b = args
        if not (self.dims.unify(a.shape[0], b.shape[0])
                and self.dims.unify(a.shape[1], b.shape[1])):
            self.error(f"{self.src(a)} is {self.fmt(a.shape)} but {self.src(b)} is "
                       f"{self.fmt(b.shape)} — the Frobenius product needs equal shapes",
                       [a.span, b.span])
        return self.node("Frob", (a, b), (), (self.ONE, self.ONE), span)

    # --- postfix ---------------------------------------------------------------------------
    def _transpose(self, span, args):
        e, _ = args
        if e.one:
            e = self.ones(e.span, note=True)
        if self.leaf(e) and self.is_scalar(e):
            self.misfits.append(readings.Misfit(self.step, span, e.flex, "transposed"))
        return self.node("Transpose", (e,), (), (e.shape[1], e.shape[0]), span)

    def _inverse_transpose(self, span, args):
        e, tok = args
        inv = self.power_node(e, Fraction(-1), span, tok)
        return self.node("Transpose", (inv,), (), (inv.shape[1], inv.shape[0]), span)

    def _power(self, span, args):
        e, tok = args
        return self.power_node(e, Fraction(tok.value), span, tok)

    def power_node(self, e, k: Fraction, span, op=None):
        """e^k; ``op`` is the token of the power when the input writes one (X^2, X**2, X²)."""
        if k == 1:
            return e
        if e.kind == "Num":
            base = e.params[0]
            if base == 0 and k < 0:
                self.error(f"division by zero: {self.src(span)}", [span])
            if base < 0 and k.denominator != 1:
                self.error(f"{self.src(span)} is not a real number", [span],
                           "a negative number has no real fractional power")
            if k.denominator == 1:
                if not power_fits(base, int(k)):
                    self.error(f"the number {self.src(span)} is out of range", [span],
                               _NUMBER_HINT, LimitError)
                return self.num(base ** int(k), span)
        if self.is_scalar(e):
            return self.node("Power", (e,), (k,), e.shape, span)
        what = self.src(span)
        base = self.src(e)
        # the base as an operand: with the parentheses that group it in the input
        operand = re.sub(r"\\(?:left|right)(?![A-Za-z])\s*", "",
                         self.text[span[0]:op.start_pos]).strip() if op is not None else base
        entrywise = "for the entrywise power write " + \
            self.spelled("entrywise power", operand, _fmt_num(k))
        if self.is_col(e) or self.is_row(e):
            if k == -1:
                self.error(f"{what} needs a square matrix, {base} is {self.fmt(e.shape)}",
                           [span], "a vector has no inverse; for "
                           f"{self.spelled('entrywise division', 1, operand)} write "
                           f"{self.spelled('entrywise power', operand, -1)}")
            self.error(f"{what} needs a square matrix or a scalar, {base} is "
                       f"{self.fmt(e.shape)}", [span], entrywise + (
                           f"; for the squared norm, {self.spelled('squared norm', base)}"
                           if k == 2 else ""))
        if k.denominator != 1:
            self.error(f"{what}: a matrix power needs an integer exponent", [span], entrywise)
        if not self.dims.unify(e.shape[0], e.shape[1]):
            self.error(f"{what} needs a square matrix, {base} is {self.fmt(e.shape)}", [span],
                       "" if k == -1 else entrywise)
        if op is not None and k != -1 and self.text.startswith(("^", "**"), op.start_pos):
            # X^2 and X**2 are entrywise in other languages (NumPy's ** always): say so
            self.notes.append(
                f"'{what}' read as the matrix power "
                + (self.spelled("product", operand, operand) + "; for the entrywise square "
                   "write " + self.spelled("entrywise power", operand, 2) if k == 2 else
                   f"(not entrywise); {entrywise}"))
        return self.node("Power", (e,), (k,), e.shape, span)

    def spelled(self, operation: str, *operands) -> str:
        """An operation suggested to the user, spelled in the input's dialect."""
        return spelled(operation, self.dialect, *operands)

    def _hadpow(self, span, args):
        e, tok = args
        return self.hadpow_node(e, Fraction(tok.value), span)


def _fmt_num(k: Fraction) -> str:
    return str(k) if k.denominator == 1 else f"({k})"


def _article(shape_text: str) -> str:
    return ("an " if shape_text[:1] in "aeiouAEIOU8" or shape_text.startswith(("n×", "m×"))
            else "a ") + shape_text


class _Oriented:
    """A broadcast of a column vector over a matrix: as a row, or a column, or (None) not yet
    settled."""
    __slots__ = ("as_row", "matrix", "node", "vector")

    def __init__(self, node, vector, matrix):
        self.node, self.vector, self.matrix = node, vector, matrix
        self.as_row = None
