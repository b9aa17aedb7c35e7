"""Elaboration: the tree of the grammar → shape-checked IR. A mapping from each grammar alias to
the node it builds, with symbolic dimensions unified by union–find (dims.py); it keeps the
source span of every sub-expression for error messages, applies the conventions (and records a
note for each) and finally builds the ``ir`` nodes, which check their shapes again."""

from __future__ import annotations

import bisect
import functools
import math
import re
from collections import Counter
from dataclasses import dataclass
from fractions import Fraction

from .. import ir
from ..errors import MatcalcError
from ..ir import Expr, Var
from . import readings
from .calls import _Calls
from .dims import _DimRef, _Dims
from .grammar import Token
from .lexer import _Lexer
from .limits import _NUMBER_HINT, MAX_DEPTH, LimitError, fits
from .nodes import _E, _NONE, _union
from .operators import _Operators
from .vocabulary import (
    _DIM_RE,
    _dim_factors,
    canonical_name,
    parse_shape_spec,
)


# what a scalar function's body may hold: f(A) applies it to each entry of A alone
_ENTRYWISE = {"Num", "Var", "Add", "MatMul", "Power", "Func"}


@dataclass(frozen=True)
class Program:
    """What the input says: definitions in order, the expression to differentiate, its free
    variables and a note for every convention that was applied in reading it."""
    source: str
    definitions: tuple          # ((name, Expr), ...) in order
    result: Expr                # the last statement's expression
    result_name: str | None     # 'ℓ' for 'ℓ = ‖Y‖_F', None for a bare expression
    variables: tuple            # free (non-defined) Vars, in order of first appearance
    notes: tuple                # how the input was read
    functions: tuple = ()       # names of the functions the input defines, f in f(x) := …
    declared: tuple = ()        # the names the input declares, used or not


# Nodes whose kind (scalar, vector, matrix) no shape of a name inside changes: reductions to a
# scalar, and a broadcast, which takes the shape of what it meets (in a + b broadcast, the
# kind of the sum is the other operand's)
_KIND_FIXED = {"Sum", "Trace", "Det", "LogDet", "Norm", "Frob", "Broadcast"}


_POOL = ["n", "m", "k", "p", "q", "r", "s", "t", "u", "v", "w"]


class _Elaborator(_Operators, _Calls):
    """Elaborates the tree under a reading (readings.py): the shapes of the undeclared names
    that differ from the convention's. It records each broadcast it makes, and the place where
    it stops, for the search over readings."""

    def __init__(self, text: str, lexer: _Lexer, shapes: dict | None, reading: dict):
        self.text = text
        self.reading = reading                       # name → readings.Inferred
        self.flexible: set[str] = set()              # undeclared names with another shape
        self.uses: list[tuple] = []                  # (span, flex) of the names used
        self.broadcasts: list = []                   # readings.Broadcast, in order
        self.oriented: dict[str, bool] = {}          # vector name → broadcast as a row?
        self.unoriented: dict = {}                   # vector name (or node) → broadcasts
        #                                              whose orientation is settled at the end
        self.misfits: list = []                      # readings.Misfit, in order
        self.step = 0                                # tree nodes elaborated
        self.site = (0, 0)                           # the span of the node being elaborated
        self.dialect = lexer.dialect
        self.dims = _Dims()
        self.ONE = self.dims.ONE
        self.notes: list = list(lexer.notes)
        self.all_defined = lexer.defined             # name → span (every definition)
        self.defined: dict[str, _E] = {}             # processed so far
        self.definitions: list = []
        self.symbols: dict[str, tuple] = {}          # variable → (rows, cols, structure)
        self.variables: list[str] = []
        self.declared: dict[str, tuple] = {}         # name → (shape, structure, span)
        self.inferred: list[tuple] = []              # (dim, what, span) of I and 𝟏
        self.user_symbols: set[str] = set()
        self.result = None
        self.result_name = None
        # the bodies of the user functions, in the order of the text: (start, end, param, name)
        self.function_bodies = sorted((start, end, param, name) for name, (param, (start, end))
                                      in lexer.functions.items())
        self.functions: dict[str, tuple] = {}        # name → (parameter, body), elaborated
        self.statements = 0
        self.n_statements = lexer.n_statements
        self._names: dict[int, object] = {}
        declarations = []                            # (name, shape, structure, span)
        for name, spec in (shapes or {}).items():
            canon = canonical_name(name) or name
            try:
                shape, structure = parse_shape_spec(spec)
            except MatcalcError as err:
                raise MatcalcError(f"--shape {name}={spec}: {err.message}", hint=err.hint) \
                    from None
            declarations.append((canon, shape, structure, None))
        declarations += [(name, decl.shape, decl.structure, span)
                         for decl in lexer.declarations for name, span in decl.names]
        runs = self._runs_of_sizes([shape for _, shape, _, _ in declarations])
        for name, shape, structure, span in declarations:
            self._declare(name, tuple(runs.get(d, d) for d in shape), structure, span)

    # --- helpers ---------------------------------------------------------------------------
    def error(self, message, spans=(), hint="", kind=MatcalcError):
        raise kind(message, self.text, [s for s in spans if s], hint)

    def src(self, e_or_span) -> str:
        """The source of a node, blanks collapsed, shortened to 40 characters (read from its
        first 200 unless they are mostly blank: every sum names itself, so this stays linear)."""
        start, end = e_or_span.span if isinstance(e_or_span, _E) else e_or_span
        s = " ".join(self.text[start:min(end, start + 200)].split())
        if len(s) <= 40 and end > start + 200:
            s = " ".join(self.text[start:end].split())
        return s if len(s) <= 40 else s[:37] + "…"

    def _runs_of_sizes(self, shapes: list) -> dict:
        """The declared sizes written as a run of one-letter sizes declared too, each read as
        their product (nm and mn are m·n beside n and m), with a note."""
        sizes = {p for shape in shapes for d in shape if isinstance(d, str) for p in d.split("·")}
        runs = {}
        for d in sorted(sizes):
            if len(d) > 1 and d.isalpha() and all(c in sizes for c in d):
                runs[d] = functools.reduce(ir.dim_mul, d)
                self.notes.append(f"the size {d} read as {runs[d]} (a run of declared sizes)")
        return runs

    def _declare(self, name, shape, structure, span):
        if name in self.declared:
            old_shape, old_sym, old_span = self.declared[name]
            if (old_shape, old_sym) != (shape, structure):
                self.error(f"{name} is declared twice, as {_fmt_decl(old_shape, old_sym)} and "
                           f"as {_fmt_decl(shape, structure)}", [old_span, span],
                           "keep one declaration")
            return
        self.declared[name] = (shape, structure, span)
        for d in shape:
            if isinstance(d, str):
                self.user_symbols.update(d.split("·"))

    def is_scalar(self, e: _E) -> bool:
        return self.dims.is1(e.shape[0]) and self.dims.is1(e.shape[1])

    def is_col(self, e):
        return self.dims.is1(e.shape[1]) and not self.dims.is1(e.shape[0])

    def is_row(self, e):
        return self.dims.is1(e.shape[0]) and not self.dims.is1(e.shape[1])

    def dim_name(self, d) -> str:
        """The printed name of a dimension (free ones named in order of creation)."""
        v = self.dims.val(d)
        if isinstance(v, tuple):
            return ir.dim_mul(self.dim_name(v[1]), self.dim_name(v[2]))
        if v is not None:
            return v
        root = self.dims.find(d)
        if root not in self._names:
            self._name_free_dims()
        return self._names[root]

    def _name_free_dims(self):
        # never a declared size's or a variable's name: n in X/n is not X's rows
        taken = self.user_symbols | self.symbols.keys() | self.all_defined.keys()
        pool = [p for p in _POOL if p not in taken]
        used = set(self._names.values())
        counter = 0
        for d in range(len(self.dims.parent)):
            root = self.dims.find(d)
            if self.dims.value[root] is not None or root in self._names:
                continue
            name = next((p for p in pool if p not in used), None)
            while name is None:
                counter += 1
                if f"d{counter}" not in used and f"d{counter}" not in taken:
                    name = f"d{counter}"
            self._names[root] = name
            used.add(name)

    def fmt(self, shape) -> str:
        r, c = shape
        if self.dims.is1(r) and self.dims.is1(c):
            return "a scalar"
        if self.dims.is1(c):
            return f"a vector of length {self.dim_name(r)}"
        if self.dims.is1(r):
            return f"a row vector of length {self.dim_name(c)}"
        return f"{self.dim_name(r)}×{self.dim_name(c)}"

    def node(self, kind, args, params, shape, span, **kw) -> _E:
        if kind in _KIND_FIXED:
            kw.setdefault("flex", _NONE)
        e = _E(kind, args, params, shape, span, **kw)
        if e.depth > MAX_DEPTH:
            self.error(f"the expression is nested too deeply (more than {MAX_DEPTH} levels, "
                       "counting through the definitions it uses)", [span],
                       "simplify the expression", LimitError)
        return e

    def num(self, value, span, one=False) -> _E:
        self.check_number(Fraction(value), span)
        return self.node("Num", (), (Fraction(value),), (self.ONE, self.ONE), span, one=one,
                         stated=True)

    def check_number(self, value: Fraction, span):
        """Numbers folded from numbers (2^10, 3·0.5, 1/8) obey the limits of written ones."""
        if not fits(value):
            self.error(f"the number {self.src(span)} is out of range", [span], _NUMBER_HINT,
                       LimitError)

    def unify_or(self, a, b, message, spans, hint=""):
        if not self.dims.unify(a, b):
            self.error(message(), spans, hint)

    def require_square(self, e: _E, what: str, span):
        r, c = e.shape
        if self.is_scalar(e):
            return
        if self.dims.unify(r, c):
            return
        self.error(f"{what} needs a square matrix, {self.src(e)} is {self.fmt(e.shape)}",
                   [span])

    # --- the tree walk (iterative: deep inputs must not hit the recursion limit) -------------
    def run(self, tree) -> Program:
        """Each node of the tree is built from its children's values, over the span from its
        first token to its last (brackets included); the tokens whose names start with '_'
        (punctuation) give their place to the span only."""
        stack, values, spans = [(tree, False)], [], []
        while stack:
            item, done = stack.pop()
            if isinstance(item, Token):
                values.append(item)
                spans.append((item.start_pos, item.end_pos))
                continue
            if not done:
                stack.append((item, True))
                stack.extend((child, False) for child in reversed(item.children))
                continue
            n = len(item.children)
            args = [v for v in values[len(values) - n:]
                    if not (isinstance(v, Token) and v.type[0] == "_")]
            span = (spans[-n][0], spans[-1][1]) if n else (0, 0)
            del values[len(values) - n:], spans[len(spans) - n:]
            self.step += 1
            self.site = self.dims.where = span
            values.append(getattr(self, "_" + str(item.data))(span, args))
            spans.append(span)
        self.step += 1
        return self.finish()

    def outcome(self, tree) -> readings.Outcome:
        """The elaboration as the search over readings sees it."""
        try:
            program = self.run(tree)
        except LimitError:
            raise
        except MatcalcError as err:
            spans = [s for s in err.spans if s] or [self.site]
            names = _union(f for (a, b), f in self.uses
                           if any(s <= a and b <= e for s, e in spans))
            self.misfits.append(readings.Misfit(
                self.step, self.site, frozenset(self.flexible) if names is None else names,
                "misfit"))
            return readings.Outcome(None, err, tuple(self.broadcasts), tuple(self.misfits),
                                    self.step)
        return readings.Outcome(program, None, tuple(self.broadcasts), tuple(self.misfits),
                                self.step)

    # --- statements ------------------------------------------------------------------------
    def _program(self, span, statements):
        return None

    def _expression(self, span, args):
        self.statements += 1
        if self.statements < self.n_statements:
            self.error("only the last statement may be a bare expression", [span],
                       "name it (f = …) to use it later, or remove it")
        (e,) = args
        self.result, self.result_name = e, None
        self.result_kind = ("expression", span)

    def _definition(self, span, args):
        self.statements += 1
        tok, e = args
        name = tok.value
        name_span = (tok.start_pos, tok.end_pos)
        if name in self.declared:
            shape, structure, dspan = self.declared[name]
            r, c = (self.size(d) for d in shape)
            if not (self.dims.unify(e.shape[0], r) and self.dims.unify(e.shape[1], c)):
                self.error(f"{name} is declared {_fmt_decl(shape, structure)} but its "
                           f"definition {self.src(e)} is {self.fmt(e.shape)}",
                           [dspan, e.span])
        if name in self.symbols:
            # used as a free variable earlier (cannot happen: caught at the use)
            self.error(f"{name} is used before its definition", [name_span])
        self.defined[name] = e
        self.definitions.append((name, e))
        self.result, self.result_name = e, name
        self.result_kind = ("definition", span)

    def _function(self, span, args):
        self.statements += 1
        name_tok, param_tok, body = args
        param = param_tok.value
        if not self.is_scalar(body):
            self.error(f"the body of {name_tok.value}({param}) must be a scalar expression of "
                       f"{param}; it is {self.fmt(body.shape)}", [body.span])
        stack = [body]
        while stack:
            e = stack.pop()
            if e.kind == "Var" and e.params[0] != param:
                self.error(f"the body of {name_tok.value}({param}) may use only {param} and "
                           f"numbers, not {e.params[0]}", [e.span],
                           f"pass {e.params[0]} in the argument instead, e.g. "
                           f"{name_tok.value}({e.params[0]}X)")
            if e.kind not in _ENTRYWISE:
                self.error(f"the body of {name_tok.value}({param}) may use only what acts on "
                           f"each entry alone (+, −, ·, /, powers, exp, log, …), not "
                           f"{self.src(e)}", [e.span],
                           "a reduction such as sum, mean or var belongs outside the function")
            stack.extend(e.args)
        self.functions[name_tok.value] = (param, body)
        self.result_kind = ("function", span)

    def _parameter_of(self, name, span):
        """The function whose body this use of a name is in, if the name is its parameter."""
        i = bisect.bisect_right(self.function_bodies, (span[0], math.inf)) - 1
        if i >= 0:
            _, end, param, fname = self.function_bodies[i]
            if param == name and span[0] < end:
                return fname
        return None

    def _declaration(self, span, args):
        self.statements += 1
        self.result_kind = ("declaration", span)

    # --- leaves ----------------------------------------------------------------------------
    def _var(self, span, args):
        (tok,) = args
        name = tok.value
        if self._parameter_of(name, span):
            return self.node("Var", (), (name, (1, 1), ""), (self.ONE, self.ONE), span)
        if name in self.defined:
            # as deep as its definition: the derivation goes through it
            d = self.defined[name]
            structure = self.declared.get(name, (None, ""))[1]
            if d.flex != _NONE:
                self.uses.append((span, d.flex))
            return self.node("Var", (), (name, (_DimRef(d.shape[0]), _DimRef(d.shape[1])),
                                         structure), d.shape, span, depth=d.depth, flex=d.flex,
                             stated=d.stated)
        if name in self.all_defined:
            self.error(f"{name} is used before its definition", [span, self.all_defined[name]],
                       f"define {name} first, or use another name for the variable")
        if name in self.user_symbols and name not in self.declared:
            # a declared dimension used as a number: (1/N)𝟏ᵀX for X ∈ ℝ^{N×D}
            self.notes.append(f"{name} read as the size {name} of a declared dimension")
            return self.node("Size", (), (name,), (self.ONE, self.ONE), span, stated=True)
        if name not in self.symbols:
            self.variables.append(name)
            if name in self.declared:
                shape, structure, _ = self.declared[name]
                self.symbols[name] = (self.size(shape[0]), self.size(shape[1]), structure)
            else:
                self.symbols[name] = self._by_convention(name)
        r, c, structure = self.symbols[name]
        flex = frozenset((name,)) if name in self.flexible else _NONE
        if flex:
            self.uses.append((span, flex))
        stated = name in self.declared and self.declared[name][0] == (1, 1)
        return self.node("Var", (), (name, (_DimRef(r), _DimRef(c)), structure), (r, c), span,
                         flex=flex, stated=stated)

    def _by_convention(self, name):
        """The shape of an undeclared name: the reading's, else the convention's."""
        shapes = readings.domain(name)
        if len(shapes) > 1:
            self.flexible.add(name)
        inferred = self.reading.get(name)
        kind = inferred.kind if inferred else shapes[0][0]
        r = self.ONE if kind == "scalar" else self.dims.new()
        c = self.dims.new() if kind == "matrix" else self.ONE
        if inferred and kind == "vector":
            self.dims.watched.add(r)
        fresh = [d for d in (r, c) if d != self.ONE] if not inferred else []
        for d in fresh:
            self.dims.watch_one(d)              # where a use makes it 1, the note says

        def note():
            shape = ("scalar" if kind == "scalar" else
                     f"vector of length {self.dim_name(r)}" if kind == "vector" else
                     f"{self.dim_name(r)}×{self.dim_name(c)} matrix")
            if not inferred:
                # a size the convention left free that a use made 1 says where (t in rt)
                made = next((self.dims.made_one[d] for d in fresh if d in self.dims.made_one),
                            None)
                use = f", from {self.src(made)}" if made else ""
                return f"{name}: {shape}{use} ({readings.convention(name)})"
            use = self.src(self.dims.origin.get(r) or inferred.site)
            site = self.src(inferred.site)
            usual = f"as a {shapes[0][0]} by convention"
            fault = "does not fit" if inferred.why == "misfit" else "would need a broadcast"
            why = ("a transposed name is not a scalar" if inferred.why == "transposed" else
                   f"{usual} it {fault} there" if use == site else
                   f"{usual}, {site} {fault}")
            return f"{name}: {shape}, from {use} ({why})"
        self.notes.append(note)
        return r, c, ""

    def _num(self, span, args):
        (tok,) = args
        return self.num(Fraction(tok.value), span, one=(tok.value == "1"))

    def _constant(self, span, args):
        (tok,) = args
        if tok.value.startswith("K_"):
            return self.commutation(tok.value[3:-1], span)
        if tok.value.startswith("I_"):                  # I_n: the n×n identity
            (n,) = self.written_sizes(tok.value[3:-1], 1, span)
            return self.node("Identity", (), (_DimRef(n),), (n, n), span)
        if tok.value.startswith("1_"):                  # 𝟏_n, ones(m, n): ones of that size
            r, c = self.written_sizes(tok.value[3:-1], 2, span)
            return self.node("Ones", (), (_DimRef(r), _DimRef(c)), (r, c), span)
        if tok.value == "I":
            d = self.dims.new()
            self.inferred.append((d, "I", span))
            return self.node("Identity", (), (_DimRef(d),), (d, d), span)
        return self.ones(span)

    def commutation(self, content, span):
        """K_{m,n} (mn×mn)."""
        m, n = self.written_sizes(content, 2, span)
        # from vec(A) to vec(Aᵀ), lengths in the Kronecker order of vec (columns·rows)
        shape = (self.dims.product(m, n), self.dims.product(n, m))
        return self.node("Commutation", (), (_DimRef(m), _DimRef(n)), shape, span)

    def written_sizes(self, content, count, span) -> list:
        """The ``count`` sizes written, separated by commas, under K_{m,n}, I_n, 𝟏_n or in
        eye(n), ones(m, n); each a number, a name or their product (k·n, k*n, k \\cdot n)."""
        parts = [re.split(r"\s*(?:·|\*|\\cdot)\s*", p.strip()) for p in content.split(",")]
        if len(parts) != count or not all(_DIM_RE.fullmatch(f) and f.strip("0")
                                          for p in parts for f in p):
            what = self.src(span)
            self.error(f"cannot read the size in {what}", [span],
                       "write K_{m,n} (K_{m,n} vec(A) = vec(Aᵀ) for an m×n A)"
                       if what.startswith("K") else
                       "write I_n, 𝟏_n, I_{k·n} (ASCII eye(n), ones(n, 1)): a number, a "
                       "symbol or a product of them")
        for p in parts:
            self.user_symbols.update(f for f in p if not f.isdigit())
        return [self.size("·".join(p)) for p in parts]

    def size(self, d):
        """The dimension of a written size: a number, a symbol (n) or a product of them (k·n)."""
        if isinstance(d, str) and "·" in d:
            return functools.reduce(self.dims.product, map(self.size, _dim_factors(d)))
        return self.dims.const(int(d) if isinstance(d, str) and d.isdigit() else d)

    def ones(self, span, note=False):
        d = self.dims.new()
        self.inferred.append((d, "𝟏", span))
        if note:
            self.notes.append(f"'{self.src(span)}' next to a matrix read as the ones vector 𝟏")
        return self.node("Ones", (), (_DimRef(d), 1), (d, self.ONE), span)

    def _group(self, span, args):
        (e,) = args
        if e.one:
            e = self.num(1, e.span)
        return e

    # --- functions -------------------------------------------------------------------------
    def _norm(self, span, args):
        _, e, close = args
        kind = close.value
        if kind == "1":
            if not (self.is_col(e) or self.is_row(e) or self.is_scalar(e)):
                self.notes.append(f"'{self.src(span)}' read as the entrywise 1-norm "
                                  "(the sum of the absolute values of the entries)")
            return self.node("Norm", (e,), ("1",), (self.ONE, self.ONE), span)
        if kind == "*":
            return self.node("Spectral", (e,), ("nuclear",), (self.ONE, self.ONE), span)
        if kind == "2" and not (self.is_col(e) or self.is_row(e) or self.is_scalar(e)):
            # ‖X‖₂ of a matrix: the spectral norm, its largest singular value
            return self.node("Spectral", (e,), ("norm2",), (self.ONE, self.ONE), span)
        if kind == "" and not (self.is_col(e) or self.is_row(e) or self.is_scalar(e)):
            self.notes.append(f"'{self.src(span)}' of a matrix read as the Frobenius norm "
                              f"‖{self.src(e)}‖_F")
        return self.node("Norm", (e,), ("F",), (self.ONE, self.ONE), span)

    def _abs(self, span, args):
        (e,) = args
        return self.node("Func", (e,), ("abs",), e.shape, span)

    # --- the end: name the dimensions, build the IR -----------------------------------------
    def finish(self) -> Program:
        kind, span = self.result_kind
        if kind in ("declaration", "function"):
            what = "a function definition" if kind == "function" else "a declaration"
            self.error(f"the input has no expression to differentiate: it ends with {what}",
                       [span], "add the expression as the last statement")
        self.orient_the_rest()
        if not self.dims.settle():
            self.error("the sizes of a Kronecker product or vec do not match what they meet",
                       hint="declare the names it meets")
        inferred = Counter(self.dims.find(d) for d, _, _ in self.inferred)
        for d, what, s in self.inferred:
            # nothing but other I and 𝟏 tells its size (𝟏𝟏ᵀ𝟏 or I + I alone)
            root = self.dims.find(d)
            if self.dims.val(d) is None and self.dims.size[root] <= inferred[root]:
                self.error(f"the size of {what} cannot be inferred", [s],
                           f"use {what} next to a matrix of known size, e.g. X + I, or "
                           "declare the names it meets")
        self._name_free_dims()
        self.built: dict = {}           # the definitions built so far, name → tree
        for name, e in self.definitions:
            if not (name == self.result_name and e is self.result):
                self.built[name] = self.build(e)
        definitions = tuple(self.built.items())
        result = self.build(self.result)
        variables = []
        for name in self.variables:
            r, c, structure = self.symbols[name]
            variables.append(Var(name, (self.resolve(r), self.resolve(c)), structure))
        notes = tuple(dict.fromkeys(
            note for note in (n() if callable(n) else n for n in self.notes) if note))
        return Program(self.text, definitions, result, self.result_name, tuple(variables),
                       notes, tuple(self.functions), tuple(self.declared))

    def resolve(self, d):
        return self.dim_name(d)

    def build(self, e: _E) -> Expr:
        args = [self.build(a) for a in e.args]
        params = []
        for p in e.params:
            if isinstance(p, _DimRef):
                p = self.resolve(p.d)
            elif isinstance(p, tuple) and p and isinstance(p[0], _DimRef):
                p = tuple(self.resolve(x.d) for x in p)
            elif isinstance(p, _E):
                p = self.build(p)           # the body of a user function
            params.append(p)
        try:
            if e.kind == "MatMul":
                if e.coeff != 1:
                    args.insert(0, ir.Num(e.coeff))
                return ir.MatMul(*args)
            cls = getattr(ir, e.kind)
            if e.kind == "Var":
                return cls(params[0], params[1], params[2])
            node = cls(*args, *params) if cls.params_after_args else cls(*params, *args)
        except (ir.ShapeError, ValueError, TypeError) as err:
            raise MatcalcError(f"{self.src(e)}: {err}", self.text, [e.span]) from None
        if getattr(node, "requires_symmetric", False) and \
                not ir.is_symmetric(node.arg, self.built):
            # eigenvalues are real (and their derivatives qqᵀ) for a symmetric matrix only
            raise MatcalcError(
                f"{self.src(e)} needs a symmetric matrix, and {self.src(e.args[0])} is not "
                "symmetric by its form", self.text, [e.span],
                "declare the matrix symmetric (" + self.spelled("symmetric", "S") + ") or take "
                "its symmetric part, " + self.spelled("symmetric part", self.src(e.args[0])
                                                      if e.args[0].kind == "Var" else
                                                      f"({self.src(e.args[0])})"))
        return node


def _fmt_decl(shape, structure) -> str:
    r, c = shape
    if shape == (1, 1):
        return "a scalar"
    text = f"{r}×{c}" if c != 1 else f"a vector of length {r}"
    return text + (f" {structure}" if structure else "")
