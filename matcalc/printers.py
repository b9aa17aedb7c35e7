"""Printers: the tree as Unicode text, as ASCII (the matrixcalculus.org dialect) and as LaTeX.

One class per output language, one ``_print_<Node>`` method per node type, always recursing
through ``self._print(node, precedence)``; the shared PRECEDENCE table decides parentheses.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import re
from fractions import Fraction
from typing import ClassVar

from .errors import MatcalcError
from .ir import (SCALAR, Add, Broadcast, D, Diag, DiagOf, Expr, Frechet, Frechet2, Frob, Hadamard,
                 HadPow, Identity, Kron, KronFrechet, KronFrechet2, MatFunc, MatMul, Num, Ones,
                 Power, SpectralFactor, Transpose, UserFunc, Var, Vec, Zero, _AxisOp,
                 distinct_nodes, substitute)
from .memo import memoized
from .reader import CONSTANT_SPELLINGS, FUNCTION_SPELLINGS, parse
from .reader.vocabulary import GREEK

# How tightly each printed form binds, loosest first: the grammar's levels (docs/language.md,
# "Precedence", read from the bottom). A child that binds more loosely than the place it is
# printed in gets parentheses; nothing else decides a parenthesis.
PREC_ADD = 10        # A + B, A − B
PREC_FROB = 15       # A : B (derivation lines)
PREC_HADAMARD = 20   # A ∘ B, A ⊘ B, A ⊗ B
PREC_MUL = 30        # juxtaposition, A·B, a/b (left to right)
PREC_NEG = 35        # −A: a leading sign
PREC_PREFIX = 40     # a function without parentheses: log det X, √x (a juxtaposed operand)
PREC_POSTFIX = 50    # Xᵀ, X⁻¹, X², X^∘2 (left to right)
PREC_ATOM = 60       # names, numbers, calls f(…), ‖X‖, (…)

# The usual printed form of each node; a printer whose form of a node binds differently (1/x,
# √x, 1 ⊘ X, inv(X) …) says so in a ``_precedence_<Node>`` method.
PRECEDENCE = {
    "Add": PREC_ADD, "Hadamard": PREC_HADAMARD, "Kron": PREC_HADAMARD, "MatMul": PREC_MUL,
    "Power": PREC_POSTFIX, "HadPow": PREC_POSTFIX, "Transpose": PREC_POSTFIX,
}

SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
SUBSCRIPT_DIGITS = "₀₁₂₃₄₅₆₇₈₉"
VULGAR = {Fraction(1, 2): "½", Fraction(1, 3): "⅓", Fraction(1, 4): "¼", Fraction(3, 4): "¾",
          Fraction(2, 3): "⅔", Fraction(1, 8): "⅛"}

GREEK_LATEX = {
    "α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "ε": "varepsilon", "ζ": "zeta",
    "η": "eta", "θ": "theta", "ι": "iota", "κ": "kappa", "λ": "lambda", "μ": "mu", "ν": "nu",
    "ξ": "xi", "π": "pi", "ρ": "rho", "σ": "sigma", "τ": "tau", "υ": "upsilon", "φ": "phi",
    "χ": "chi", "ψ": "psi", "ω": "omega", "Γ": "Gamma", "Δ": "Delta", "Θ": "Theta",
    "Λ": "Lambda", "Σ": "Sigma", "Φ": "Phi", "Ψ": "Psi", "Ω": "Omega", "ℓ": "ell",
}


# The names of the program a printed line is read in (its variables, definitions, functions):
# a function whose symbol is one of them is spelt out, since the reader takes a declared σ or H
# before "(" for the name (σ(λ) would be σ·λ): sigmoid(λ), heaviside(X).
_SCOPE: contextvars.ContextVar[frozenset] = contextvars.ContextVar("scope", default=frozenset())
FUNCTION_SYMBOLS = {"sigmoid": "σ", "heaviside": "H"}


@contextlib.contextmanager
def names_in_scope(names):
    """Print as read in a program with these names."""
    token = _SCOPE.set(frozenset(names))
    try:
        yield
    finally:
        _SCOPE.reset(token)


def explicit_broadcast(e: Expr) -> Expr:
    """A broadcast written as a product with ones: a scalar s as s𝟏𝟏ᵀ (s𝟏, s𝟏ᵀ), a row r as
    𝟏r, a column c as c𝟏ᵀ, a zero matrix as 0𝟏𝟏ᵀ. Only beside an operand of full shape in + or
    ∘ does the reader broadcast by itself; everywhere else a broadcast is printed so."""
    if isinstance(e, Zero) and e.shape != SCALAR:
        e = Broadcast(Num(0), e.rows, e.cols)
    if not isinstance(e, Broadcast):
        return e
    a = e.arg
    if a.shape == SCALAR:
        return _product(a, Ones(e.rows, e.cols))
    if a.rows == 1 and e.rows != 1:
        return _product(Ones(e.rows, 1), a)
    return _product(a, Ones(1, e.cols))


def _product(*factors: Expr) -> Expr:
    """The product of the factors, nested products flattened (a 1×1 chain like xᵀy stays one
    factor: its parts do not multiply the others)."""
    flat = [g for f in factors for g in (f.args if _flattens(f) else (f,))]
    return MatMul(*flat)


def _flattens(e: Expr) -> bool:
    return isinstance(e, MatMul) and (e.shape != SCALAR or all(a.shape == SCALAR for a in e.args))


def _is_column(e: Expr) -> bool:
    return e.cols == 1 and e.rows != 1


def _unbroadcast(e: Expr) -> Expr | None:
    """e without its broadcast, when e is a broadcast (a zero matrix: 0), a multiple or an
    entrywise power of one (c·b, b^∘k): what + and ∘ broadcast again when read."""
    if isinstance(e, Broadcast):
        return e.arg
    if isinstance(e, Zero) and e.shape != SCALAR:
        return Num(0)
    if isinstance(e, HadPow) and isinstance(e.arg, Broadcast):
        return HadPow(e.arg.arg, e.exp)
    if isinstance(e, MatMul) and isinstance(e.args[-1], Broadcast) and \
            all(a.shape == SCALAR for a in e.args[:-1]):
        # scalars times a broadcast: s𝟏/‖E‖² beside a vector is s/‖E‖²
        inner = e.args[-1].arg
        factors = [*e.args[:-1], *([] if inner == Num(1) else [inner])]
        return factors[0] if len(factors) == 1 else _product(*factors)
    return None


def _is_one(e: Expr) -> bool:
    """A 1×1 identity or ones: the number 1."""
    return isinstance(e, (Identity, Ones)) and e.shape == SCALAR


def _leading_coeff(e: Expr) -> Fraction:
    if isinstance(e, Num):
        return e.value
    if isinstance(e, MatMul) and isinstance(e.args[0], Num):
        return e.args[0].value
    if isinstance(e, (Broadcast, Frob)):
        return _leading_coeff(e.args[0])             # −A : B = −(A : B)
    return Fraction(1)


def negate(e: Expr) -> Expr:
    """−e, folding the sign into a leading number."""
    if isinstance(e, Num):
        return Num(-e.value)
    if isinstance(e, (Broadcast, Frob)):
        return e.with_args([negate(e.args[0]), *e.args[1:]])
    if isinstance(e, MatMul) and isinstance(e.args[0], Num):
        c = -e.args[0].value
        rest = e.args[1:]
        if c == 1:
            return rest[0] if len(rest) == 1 else MatMul(*rest)
        return MatMul(Num(c), *rest)
    return MatMul(Num(-1), e)


@memoized(1 << 14)
def split_product(e: MatMul) -> tuple:
    """(coefficient, scalar numerator factors, scalar denominator factors, matrix chain), the
    factors as tuples; a broadcast factor is written with ones (𝟏r), a 1×1 identity or ones is
    the number 1. (Memoized: a product's precedence asks for it at each of its parents.)"""
    coeff = Fraction(1)
    num, den, chain = [], [], []
    for a in _product(*(_ones_factors(explicit_broadcast(f)) for f in e.args)).args:
        if isinstance(a, Num):
            coeff *= a.value
        elif _is_one(a):
            continue
        elif a.shape == SCALAR and isinstance(a, Power) and a.exp < 0:
            den.append(a.arg if a.exp == -1 else Power(a.arg, -a.exp))
        elif a.shape == SCALAR and e.shape != SCALAR:
            num.append(a)
        else:
            chain.append(a)
    return coeff, tuple(num), tuple(den), tuple(chain)


def scaling_quotient(num: list, den: list, chain: list) -> Expr | None:
    """The scalar quotient of a product's scalar factors where they scale a matrix chain and
    have both a numerator and a denominator (the parts split_product gives); else None."""
    if num and den and chain:
        # one inner product alone above the bar needs no parentheses: xᵀAx/(xᵀx)
        top = num[0].args if len(num) == 1 and isinstance(num[0], MatMul) else num
        return MatMul(*top, *(Power(d, Fraction(-1)) for d in den))
    return None


def _ones_factors(e: Expr) -> Expr:
    """A matrix of ones as the product 𝟏𝟏ᵀ of its two vectors (which juxtapose with others)."""
    if isinstance(e, Ones) and e.rows != 1 and e.cols != 1:
        return MatMul(Ones(e.rows, 1), Ones(1, e.cols))
    return e


class Printer:
    """Shared logic; subclasses fill in the symbols of their language. ``explicit=True``
    parenthesizes every compound operand (how ``--show`` displays the reading)."""

    def __init__(self, explicit: bool = False, colon: bool = False, sizes=None):
        self.explicit = explicit
        self.colon = colon          # A : B for a Frobenius product (derivations), not ⟨A, B⟩
        self.sizes = sizes          # the sizes of I and 𝟏 to write (None: written_sizes decides)
        self.sized = frozenset()
        self.names = frozenset()    # the names the reader will know (a function's symbol among them)
        self.bars = 0               # how many norms' bars are open around what is printed
        self.context = 0            # the binding the node being printed needs (see _print)

    def doprint(self, e: Expr) -> str:
        if isinstance(e, Zero):
            return "0"              # a zero result: its shape is printed beside it
        return self._print(e, 0)

    def _print(self, e: Expr, context: int = 0) -> str:
        """e as it reads where an operand must bind at least as tightly as ``context``
        (memoized for the outermost call: a product looks at how its next factor starts, and
        nested products would print their factors again at every level)."""
        memo = self.__dict__.get("_memo")
        if memo is None:
            self._memo = {}
            self.sized = written_sizes(e) if self.sizes is None else self.sizes
            self.names = _SCOPE.get() | {n.name for n in distinct_nodes(e)
                                         if isinstance(n, (Var, UserFunc))}
            try:
                return self._print(e, context)
            finally:
                del self._memo
        key = (e, context, self.explicit, self.colon, self.sized, self.bars > 0)
        if key not in memo:
            outer, self.context = self.context, context     # where e stands (_scaled_hadamard)
            try:
                text = getattr(self, "_print_" + type(e).__name__)(e)
                prec = self.precedence(e)
            finally:
                self.context = outer
            if prec < context or (self.explicit and context > 0 and prec < PREC_POSTFIX):
                text = self.paren(text)
            memo[key] = text
        return memo[key]

    def index_base(self, e: Expr) -> str:
        """e ready to take an index subscript: X_ij, (X²)_ij, (XW)_ij."""
        text = self.doprint(e)
        return self.paren(text) if self.precedence(e) <= PREC_POSTFIX else text

    def factor(self, e: Expr) -> str:
        """e as a factor of a product written side by side (a juxtaposed operand)."""
        return self._print(e, PREC_PREFIX)

    def between_bars(self, e: Expr) -> str:
        """e as the argument of a norm ‖e‖: a bar inside it after an operand would close it."""
        self.bars += 1
        try:
            return self._print(e)
        finally:
            self.bars -= 1

    def paren(self, text: str) -> str:
        return f"({text})"

    def _transposed(self, a: Expr) -> str:
        """The operand of a transpose; a number in parentheses, since 1ᵀ reads as 𝟏ᵀ."""
        return self._print(a, PREC_ATOM + 1 if isinstance(a, Num) else PREC_POSTFIX + 1)

    # -- precedence of the printed forms ---------------------------------------------------
    def precedence(self, e: Expr) -> int:
        form = getattr(self, "_precedence_" + type(e).__name__, None)
        return form(e) if form else PRECEDENCE.get(type(e).__name__, PREC_ATOM)

    def _precedence_Var(self, e: Var) -> int:
        return PREC_MUL if _is_adjoint_name(e.name) else PREC_ATOM     # Xᵀ(∂L/∂Y)

    def _precedence_Num(self, e: Num) -> int:
        return PREC_NEG if e.value < 0 else PREC_ATOM

    def _precedence_MatMul(self, e: MatMul) -> int:
        if self._scaled_hadamard(e):
            return PREC_HADAMARD                                    # −a ⊘ b
        return PREC_NEG if split_product(e)[0] < 0 else PREC_MUL

    def _precedence_Broadcast(self, e: Broadcast) -> int:
        return self.precedence(explicit_broadcast(e))

    def _precedence_HadPow(self, e: HadPow) -> int:
        return PREC_HADAMARD if e.exp == -1 else PREC_POSTFIX      # 1 ⊘ X

    def _precedence_Power(self, e: Power) -> int:
        if e.arg.shape == SCALAR and e.exp < 0:
            return self.precedence(MatMul(Num(1), e))              # 1/x
        return PREC_POSTFIX

    def _precedence_Ones(self, e) -> int:
        if e.cols == 1:
            return PREC_ATOM                                        # 𝟏
        return PREC_POSTFIX if e.rows == 1 else PREC_MUL            # 𝟏ᵀ, 𝟏𝟏ᵀ

    def _precedence_Identity(self, e) -> int:
        return PREC_ATOM

    # -- sums ----------------------------------------------------------------------------
    def _operands(self, e: Expr) -> list:
        """The operands of + or ∘; a broadcast one is printed as it stands where another
        operand has the full shape, since the reader broadcasts it again (X + bᵀ, 1 − σ(X)).
        The reader takes a column for one only when the matrix it meets (the operands before
        it, else the first full one after it) states its row count (X − mean(X, 2)), or its
        length is not the column count; else it is written c𝟏ᵀ (I + b, 𝟏𝟏ᵀA + b would read
        b as a row)."""
        bare = [_unbroadcast(a) for a in e.args]
        full = [i for i, b in enumerate(bare) if b is None]
        if not full:
            return list(e.args)

        def read_as_column(i: int) -> bool:
            met = [e.args[j] for j in full if j < i] or [e.args[next(j for j in full if j > i)]]
            return e.rows != e.cols or any(self.states(m, 0) for m in met)
        # before the first full operand the bare ones meet each other: a row and a column
        # there would be an error (bᵀ ∘ z ∘ X), so they are written stretched
        lead = [b for b in bare[:full[0]] if b is not None and b.shape != SCALAR]
        crossed = len({_is_column(b) for b in lead}) > 1
        return [a if b is None or (crossed and i < full[0] and b.shape != SCALAR)
                or (_is_column(b) and not read_as_column(i)) else b
                for i, (a, b) in enumerate(zip(e.args, bare))]

    def states(self, e: Expr, axis: int) -> bool:
        """Does e as printed fix its rows (axis 0) or columns (axis 1) by itself? A name does;
        an I or 𝟏 without its size written takes it from its neighbours, and so does a product
        beginning (ending) with one: 𝟏𝟏ᵀA has A's columns, its rows are the reader's guess."""
        if e.shape[axis] == 1 or isinstance(e, Var):
            return True
        if isinstance(e, (Identity, Ones)):
            return ("I" if isinstance(e, Identity) else "1", e.shape[axis]) in self.sized
        if isinstance(e, Transpose):
            return self.states(e.arg, 1 - axis)
        if isinstance(e, MatMul):
            factors = [f for f in e.args if f.shape != SCALAR]
            return self.states(factors[-axis], axis)
        if isinstance(e, Kron):
            return all(self.states(a, axis) for a in e.args)
        if isinstance(e, _AxisOp):
            return self.states(e.arg, axis)
        if isinstance(e, Vec):
            return self.states(e.arg, 0) and self.states(e.arg, 1)
        if isinstance(e, Diag):
            return self.states(e.arg, 0)
        if isinstance(e, (DiagOf, KronFrechet, KronFrechet2)) or (isinstance(e, SpectralFactor)
                                                   and e.kind in ("qmax", "qmin")):
            return self.states(e.arg, 0) or self.states(e.arg, 1)     # a square matrix's
        if isinstance(e, SpectralFactor) and e.kind != "polar":
            return self.states(e.arg, 0 if e.kind == "umax" else 1)
        # the other nodes keep the shape of their operands (X + Y, σ(X), X⁻¹), the square ones
        # (X⁻¹, expm(X)) both sizes of either side
        square = isinstance(e, (Power, MatFunc, Frechet, Frechet2))
        return any(self.states(a, k) for a in e.args if a.shape == e.shape
                   for k in ((0, 1) if square else (axis,)))

    def _print_Add(self, e: Add) -> str:
        first, *rest = self._operands(e)
        out = self._print(first, PREC_ADD)
        for term in rest:
            if _leading_coeff(term) < 0:
                out += f" {self.minus} " + self._print(negate(term), PREC_ADD + 1)
            else:
                out += " + " + self._print(term, PREC_ADD + 1)
        return out

    def _print_Broadcast(self, e: Broadcast) -> str:
        return self._print(explicit_broadcast(e))

    # -- products ------------------------------------------------------------------------
    def _print_MatMul(self, e: MatMul) -> str:
        if text := self._scaled_hadamard(e):
            return text
        coeff, num, den, chain = split_product(e)
        sign = ""
        if coeff < 0:
            sign, coeff = self.minus, -coeff
        if quotient := scaling_quotient(num, den, chain):
            # a scalar quotient scales the matrices as one factor, as R = xᵀAx/(xᵀx) does in
            # ∇R = 2(Ax − Rx)/(xᵀx): 2(xᵀAx/(xᵀx))x, not 2(xᵀAx)x/(xᵀx)
            num, den = (quotient,), ()
        factors = [(self.factor(f), f) for f in num + chain]
        if den:
            return sign + self.fraction(coeff, factors, [(self.factor(f), f) for f in den],
                                        len(den) > 1)
        if coeff != 1 or not factors:
            factors.insert(0, (self.number(coeff, coefficient=bool(factors)), Num(coeff)))
        return sign + self.juxtapose(factors)

    def _scaled_hadamard(self, e: MatMul) -> str | None:
        """c(a ∘ b) = (ca) ∘ b written so where it saves parentheses: a sign, −G ∘ sin(X) as
        −sin(x), and a number before an operand in parentheses of its own, −½(𝟏ᵀG) ⊘ s and
        2(XᵀE) ∘ I, not −½((𝟏ᵀG) ⊘ s), where the product stands bare; None where c(a ∘ b) is
        written as it is."""
        if len(e.args) != 2 or not isinstance(e.args[0], Num) or \
                not isinstance(e.args[1], Hadamard) or self.context > PREC_HADAMARD:
            return None                 # where a ∘ product takes parentheses: −(a ∘ b) : C
        c, h = e.args[0].value, e.args[1]
        text = self._print(h)
        if text.startswith(self.minus) or text[:1].isdigit() or \
                not (c == -1 or text.startswith(("(", r"\left("))):
            return None
        lead = [(self.number(abs(c), coefficient=True), Num(abs(c)))] if abs(c) != 1 else []
        return (self.minus if c < 0 else "") + self.juxtapose(lead + [(text, h)])

    def fraction(self, coeff, num, den, den_parens) -> str:
        lead = [(self.number(coeff, coefficient=bool(num)), Num(coeff))]
        top = self.juxtapose((lead if coeff != 1 or not num else []) + num)
        bottom = self.juxtapose(den)
        return f"{top}/{self.paren(bottom) if den_parens else bottom}"

    def juxtapose(self, factors: list[tuple[str, Expr]]) -> str:
        """Printed factors side by side; ``factors`` pairs each text with its expression."""
        out, prev = factors[0]
        for text, expr in factors[1:]:
            out += self.product_separator(prev, expr, out, text) + text
            prev = expr
        return out

    def product_separator(self, left: Expr, right: Expr, left_text: str, right_text: str) -> str:
        return ""

    def _print_Hadamard(self, e: Hadamard) -> str:
        bare = [_unbroadcast(a) for a in e.args]
        if all(b is not None and b.shape == bare[0].shape != SCALAR for b in bare):
            # every operand broadcast alike: 𝟏(r ∘ s), not 𝟏r ∘ 𝟏s
            return self._print(Broadcast(Hadamard(*bare), *e.shape))
        # the divisors after the factors: dx ⊘ x, not (1 ⊘ x) ∘ dx (∘ commutes); the operands
        # are read in that order, so what a bare one meets is judged in it
        def divisor(a):
            a = _unbroadcast(a) or a
            return isinstance(a, HadPow) and a.exp < 0
        first, *rest = self._operands(Hadamard(*sorted(e.args, key=divisor)))
        out = self._hadamard_operand(first)
        for a in rest:
            if isinstance(a, HadPow) and a.exp < 0:
                divisor = a.arg if a.exp == -1 else HadPow(a.arg, -a.exp)
                out += f" {self.hdiv} " + self._hadamard_operand(divisor)
            else:
                out += f" {self.hmul} " + self._hadamard_operand(a)
        return out

    def _hadamard_operand(self, a: Expr) -> str:
        # a matrix product beside ∘ gets parentheses for the eye: H(Z) ∘ (EW), not H(Z) ∘ EW
        if isinstance(a, MatMul) and sum(f.shape != SCALAR for f in a.args) > 1:
            return self.paren(self._print(a))
        return self._print(a, PREC_HADAMARD + 1)

    def _print_Kron(self, e) -> str:
        a, b = e.args
        return f"{self._print(a, PREC_HADAMARD + 1)} {self.kron} {self._print(b, PREC_HADAMARD + 1)}"

    def _print_Frob(self, e) -> str:
        a, b = e.args
        if self.colon:        # (A ∘ B) : C in parentheses for the eye, as A ∘ B on its own
            return f"{self._print(a, PREC_HADAMARD + 1)} : {self._print(b, PREC_HADAMARD + 1)}"
        return self.angle(self._print(a), self._print(b))

    def _precedence_Frob(self, e) -> int:
        return PREC_FROB if self.colon else PREC_ATOM

    # -- axis operations: mean(G, 1); the axis is left out where the language implies it
    def _axis_call(self, name: str, e) -> str:
        inner = self._print(e.arg) + ("" if e.implied else f", {e.axis}")
        return self.call(name, inner)

    def call(self, name: str, inner: str) -> str:
        return f"{name}({inner})"

    def _print_Mean(self, e) -> str:
        return self._axis_call("mean", e)

    def _print_Variance(self, e) -> str:
        return self._axis_call("var", e)

    def _print_LogSumExp(self, e) -> str:
        return self._axis_call("logsumexp", e)

    def _print_Softmax(self, e) -> str:
        return self._axis_call("softmax", e)

    def _print_LogSoftmax(self, e) -> str:
        return self._axis_call("logsoftmax", e)

    def _print_UserFunc(self, e) -> str:
        return self.call(self._function_name(e.name), self._print(e.arg))

    def _function_name(self, name: str) -> str:
        return name

    def builtin_name(self, name: str, spelled: str) -> str:
        """The name a function prints with: its symbol, unless a name in use is spelt so."""
        if FUNCTION_SYMBOLS.get(name) in self.names:
            return spelled
        return self.function_names.get(name, spelled)

    def _print_Size(self, e) -> str:
        return str(e.dim)

    # -- leaves ----------------------------------------------------------------------------
    def _print_Zero(self, e) -> str:
        return "0" if e.shape == SCALAR else self._print(explicit_broadcast(e))

    def _precedence_Zero(self, e) -> int:
        return PREC_ATOM if e.shape == SCALAR else self.precedence(explicit_broadcast(e))

    def _print_Commutation(self, e) -> str:
        # sized, K_{m,n} vec(A) = vec(Aᵀ) for an m×n A: K_{m,n} and K_{n,m} are different
        return "K_{" + ",".join(self.dim(d) for d in e.params) + "}"

    def dim(self, d) -> str:
        """A size as written in a subscript: 3, n, k·n."""
        return str(d)

    def _print_Num(self, e: Num) -> str:
        return self.number(e.value)

    def number(self, value: Fraction, coefficient: bool = False) -> str:
        sign = self.minus if value < 0 else ""
        value = abs(value)
        if value.denominator == 1:
            return sign + str(value.numerator)
        if value in VULGAR and self.vulgar:
            return sign + VULGAR[value]
        decimal = _finite_decimal(value)
        if decimal is not None:
            return sign + decimal
        return sign + self.paren(f"{value.numerator}/{value.denominator}")


def _finite_decimal(value: Fraction) -> str | None:
    d = value.denominator
    for p in (2, 5):
        while d % p == 0:
            d //= p
    if d != 1:
        return None
    try:
        text = f"{float(value):.12g}"
    except OverflowError:           # past double precision: not written as a decimal
        return None
    return text if "e" not in text else None


# Combining accents of names: the LaTeX command and the ASCII suffix (X̂ → \hat{X}, X_hat).
ACCENTS = {"\u0302": "hat", "\u0303": "tilde", "\u0304": "bar", "\u0307": "dot"}


def split_accent(base: str) -> tuple[str, str | None]:
    """'X̂' → ('X', 'hat'); 'X' → ('X', None)."""
    if len(base) > 1 and base[-1] in ACCENTS:
        return base[:-1], ACCENTS[base[-1]]
    return base, None


def _split_name(name: str) -> tuple[str, str]:
    """'W₁' -> ('W', '1'); 'x′' -> ('x′', '')."""
    base = name.rstrip(SUBSCRIPT_DIGITS)
    digits = name[len(base):]
    return base, "".join(str(SUBSCRIPT_DIGITS.index(c)) for c in digits)


class TextPrinter(Printer):
    """Unicode math, the way the results are meant to be read (and re-read by the parser)."""

    minus, hmul, hdiv, kron, vulgar = "−", "∘", "⊘", "⊗", True
    function_names = {"sigmoid": "σ", "heaviside": "H"}

    def product_separator(self, left: Expr, right: Expr, left_text: str, right_text: str) -> str:
        # a differential stands apart: dW X, not dWX
        if _differential(left) or _differential(right):
            return " "
        # a digit would join the number or name before it (2·3, not 23); letters that would
        # spell a function or a longer name with their neighbours need a dot (t·r, not tr)
        if right_text[:1] in "0123456789." + "".join(VULGAR.values()):
            return "·"
        # a bar after an operand closes an enclosing norm: ‖λ·‖Y‖_*x‖₂, ‖‖A‖₂·‖B‖₂C‖₂, not
        # ‖λ‖Y‖_*x‖₂, ‖‖A‖₂‖B‖₂C‖₂
        if right_text[:1] == "‖" and (self.bars or CLOSED_NORM.search(left_text)):
            return "·"
        if _starts_with_word(right, right_text):
            return " "                # A exp(A), not Aexp(A)
        if _has_long_name(left) or _has_long_name(right) or _joins_a_word(left_text, right_text, self.names):
            return "·"
        return ""

    def _print_Var(self, e: Var) -> str:
        return e.name

    def _print_Identity(self, e) -> str:
        return "1" if e.shape == SCALAR else self.sized_constant("I", "I", e.rows)

    def _print_Ones(self, e) -> str:
        if e.shape == SCALAR:
            return "1"
        column = self.sized_constant("1", "𝟏", e.rows)
        row = self.sized_constant("1", "𝟏", e.cols) + "ᵀ"
        if e.cols == 1:
            return column
        return row if e.rows == 1 else column + row

    def sized_constant(self, key: str, symbol: str, d) -> str:
        """I or 𝟏, with its size written under it where the line does not tell it: Iₙ as
        I_n, I₃, I_{k·n}."""
        if (key, d) not in self.sized:
            return symbol
        if isinstance(d, int):
            return symbol + str(d).translate(str.maketrans("0123456789", SUBSCRIPT_DIGITS))
        text = self.dim(d)
        return f"{symbol}_{text}" if len(text) == 1 else f"{symbol}_{{{text}}}"

    def _print_Transpose(self, e: Transpose) -> str:
        a = e.arg
        if isinstance(a, Power) and a.arg.shape != SCALAR and a.exp < 0:
            return self._print(a.arg, PREC_POSTFIX + 1) + self._sup(-a.exp, "⁻") + "ᵀ"
        return self._transposed(a) + "ᵀ"

    def _sup(self, k: Fraction, prefix: str = "") -> str:
        if k == 1:
            return prefix if prefix != "⁻" else "⁻"
        return prefix + str(k).translate(SUPERSCRIPT)

    def _print_Power(self, e: Power) -> str:
        k = e.exp
        if e.arg.shape == SCALAR and k == Fraction(1, 2):
            return "√" + self._print(e.arg, PREC_ATOM)
        if e.arg.shape == SCALAR and k < 0:
            return self._print(MatMul(Num(1), e), 0)
        base = self._print(e.arg, PREC_POSTFIX + 1)
        if k.denominator == 1:
            return base + str(k).translate(SUPERSCRIPT)
        return f"{base}^({k})"

    def _precedence_Power(self, e: Power) -> int:
        if e.arg.shape == SCALAR and e.exp == Fraction(1, 2):
            return PREC_PREFIX                                      # √x
        return super()._precedence_Power(e)

    def _print_HadPow(self, e: HadPow) -> str:
        if e.exp == -1:
            return f"1 ⊘ {self._print(e.arg, PREC_HADAMARD + 1)}"
        exp = str(e.exp) if e.exp.denominator == 1 and e.exp > 0 else f"({e.exp})"
        return f"{self._print(e.arg, PREC_POSTFIX + 1)}^∘{exp}"

    def _precedence_Func(self, e) -> int:
        return PREC_PREFIX if e.name == "sqrt" else PREC_ATOM       # √(x)

    def _precedence_LogDet(self, e) -> int:
        return PREC_PREFIX                                          # log det(X)

    def _print_Func(self, e) -> str:
        name = self.builtin_name(e.name, e.name)
        if name == "sqrt":
            return f"√({self._print(e.arg)})"
        return f"{name}({self._print(e.arg)})"

    def _print_Trace(self, e) -> str:
        return f"tr({self._print(e.arg)})"

    def _print_Det(self, e) -> str:
        return f"det({self._print(e.arg)})"

    def _print_LogDet(self, e) -> str:
        return f"log det({self._print(e.arg)})"

    def _print_Norm(self, e) -> str:
        if e.kind == "1":
            sub = "₁"
        else:
            sub = "₂" if e.arg.shape[1] == 1 else "_F"
        return f"‖{self.between_bars(e.arg)}‖{sub}"

    def _print_Sum(self, e) -> str:
        return f"sum({self._print(e.arg)})"

    # the spectral functions and factors: λ_max(X), ‖X‖₂, ‖X‖_*, q_max(X), polar(X)
    spectral: ClassVar[dict] = {"lmax": "λ_max({})", "lmin": "λ_min({})", "norm2": "‖{}‖₂",
                                "nuclear": "‖{}‖_*", "qmax": "q_max({})", "qmin": "q_min({})",
                                "umax": "u_max({})", "vmax": "v_max({})", "polar": "polar({})"}

    def _print_Spectral(self, e) -> str:
        inner = self.between_bars(e.arg) if e.kind in ("norm2", "nuclear") else self._print(e.arg)
        return self.spectral[e.kind].format(inner)

    _print_SpectralFactor = _print_Spectral

    def _print_MatFunc(self, e) -> str:
        return self.call(e.name, self._print(e.arg))

    def _print_Frechet(self, e) -> str:
        # L_exp(A, E): the Fréchet derivative of expm at A in the direction E
        return self.call("L_" + e.name[:-1], ", ".join(self._print(a) for a in e.args))

    def _print_KronFrechet(self, e) -> str:
        # K_exp(A): vec(L_exp(A, E)) = K_exp(A) vec(E); K_exp(A, E): vec(L_exp(A, E, F)) =
        # K_exp(A, E) vec(F)
        return self.call("K_" + e.name[:-1], ", ".join(self._print(a) for a in e.args))

    _print_Frechet2 = _print_Frechet
    _print_KronFrechet2 = _print_KronFrechet

    def angle(self, a: str, b: str) -> str:
        return f"⟨{a}, {b}⟩"

    def _print_Diag(self, e) -> str:
        return f"Diag({self._print(e.arg)})"

    def _print_DiagOf(self, e) -> str:
        return f"diag({self._print(e.arg)})"

    def _print_Vec(self, e) -> str:
        return f"vec({self._print(e.arg)})"

    def _print_Unvec(self, e) -> str:
        # its shape written: the length m·n of the vector does not tell it
        return f"vec⁻¹_{{{self.dim(e.rows)}×{self.dim(e.cols)}}}({self._print(e.arg)})"

    def _print_D(self, e) -> str:
        inner = self._print(e.arg)
        return "d" + (inner if self.precedence(e.arg) >= PREC_POSTFIX and _is_atom_text(inner)
                      else f"({inner})")


def _is_adjoint_name(name: str) -> bool:
    """∂L/∂Y: the adjoint of Y in a derivation read backwards (not a name of the language)."""
    return name.startswith("∂")


def _differential(e: Expr) -> bool:
    """Is e a differential dX, possibly transposed (dXᵀ)?"""
    while isinstance(e, Transpose):
        e = e.arg
    return isinstance(e, D)


def _is_atom_text(text: str) -> bool:
    """A plain name, possibly transposed: 'X', 'W₁', 'X̂', 'Xᵀ' (d(Xᵀ) = (dX)ᵀ; d(X⁻¹) and
    d(X²) are not (dX)⁻¹ and (dX)², so they keep their parentheses; d(0) is not the name
    d0 = d₀)."""
    return text[:1].isalpha() and all(
        c.isalpha() or c in "0123456789" + SUBSCRIPT_DIGITS + "ᵀ′" + "".join(ACCENTS)
        for c in text)


def _starts_with_word(e: Expr, text: str) -> bool:
    """Does e, printed as ``text``, start with a function name of several letters (exp, tr,
    log det …; not a name, not (log det X)²)?"""
    while isinstance(e, (Transpose, Power, MatMul)) and e.args:
        e = e.args[0]
    if isinstance(e, Var):
        return False
    word = ""
    for ch in text:
        if not ch.isalpha():
            break
        word += ch
    return len(word) > 1


_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ" + "".join(GREEK_LATEX)
# the runs the reader takes as one token: functions, constants, Greek letters spelt out (mu)
_WORDS = [w for w in (*FUNCTION_SPELLINGS, *CONSTANT_SPELLINGS, *GREEK) if len(w) > 1]


def _joins_a_word(left: str, right: str, names=()) -> bool:
    """Would the letters on both sides of a juxtaposition read as one function name, a Greek
    letter spelt out or a name in use (``names``), as t·r written tr would, m·u written mu (μ),
    or the sizes n·p written np beside a variable np?"""
    a = len(left) - len(left.rstrip(_LETTERS))
    b = len(right) - len(right.lstrip(_LETTERS))
    run = left[len(left) - a:] + right[:b]
    words, longest = _words_with(names)
    # the stretches of the run that start left of the juxtaposition and end right of it
    return any(run[i:j] in words for i in range(max(0, a - longest + 1), a)
               for j in range(a + 1, min(a + b, i + longest) + 1))


@functools.lru_cache(maxsize=64)
def _words_with(names) -> tuple[frozenset, int]:
    """The words a run of letters may spell, and the longest one's length: _WORDS and the
    names of several letters in use (found once per set of names, not at each product:
    thousands of names W₀, W₁, … made printing quadratic)."""
    words = frozenset((*_WORDS, *(n for n in names if len(n) > 1 and n.isalpha())))
    return words, max(map(len, words))


def _has_long_name(e: Expr) -> bool:
    """Is e a multi-letter name (possibly transposed or powered), like 'theta' or 'Wᵀ'?"""
    while isinstance(e, (Transpose, Power)):
        e = e.arg
    return isinstance(e, Var) and len(_split_name(e.name)[0].rstrip("′")) > 1 and \
        not _is_adjoint_name(e.name)                   # (∂L/∂Y) stands in parentheses


class AsciiPrinter(TextPrinter):
    """The ASCII dialect of matrixcalculus.org (MATLAB-like), for terminals without Unicode."""

    minus, hmul, hdiv, kron, vulgar = "-", ".*", "./", "kron", False
    function_names = {}

    def product_separator(self, left: Expr, right: Expr, left_text: str, right_text: str) -> str:
        return "*"

    def _function_name(self, name: str) -> str:
        return self._print_Var(Var(name, SCALAR))

    def _print_Var(self, e: Var) -> str:
        if _is_adjoint_name(e.name):                                # dL/dY
            return "/".join("d" + self._print_Var(Var(n, SCALAR))
                            for n in e.name[1:].split("/∂", 1))
        base, sub = _split_name(e.name.replace("′", ""))
        base, accent = split_accent(base)
        base = LETTER_ASCII.get(base, base)
        return base + sub + (f"_{accent}" if accent else "") + "_prime" * e.name.count("′")

    def _print_Identity(self, e) -> str:
        if e.shape == SCALAR:
            return "1"
        return f"eye({self.dim(e.rows)})" if ("I", e.rows) in self.sized else "eye"

    def dim(self, d) -> str:
        return str(d).replace("·", "*")

    def _print_Ones(self, e) -> str:
        if e.shape == SCALAR:
            return "1"
        if self._sized_ones(e):
            return f"ones({self.dim(e.rows)}, {self.dim(e.cols)})"      # as in MATLAB
        if e.cols == 1:
            return "vector(1)"
        return "vector(1)'" if e.rows == 1 else "matrix(1)"

    def _sized_ones(self, e) -> bool:
        return ("1", e.rows) in self.sized or ("1", e.cols) in self.sized

    def _precedence_Ones(self, e) -> int:
        return PREC_POSTFIX if e.rows == 1 and e.cols != 1 and not self._sized_ones(e) \
            else PREC_ATOM

    def _print_Kron(self, e) -> str:
        return f"kron({self._print(e.args[0])}, {self._print(e.args[1])})"

    def _precedence_Kron(self, e) -> int:
        return PREC_ATOM

    def _print_Transpose(self, e: Transpose) -> str:
        a = e.arg
        if isinstance(a, Power) and a.arg.shape != SCALAR and a.exp == -1:
            return f"inv({self._print(a.arg)})'"
        return self._transposed(a) + "'"

    def _print_Power(self, e: Power) -> str:
        k = e.exp
        if e.arg.shape != SCALAR and k == -1:
            return f"inv({self._print(e.arg)})"
        if e.arg.shape == SCALAR and k == Fraction(1, 2):
            return f"sqrt({self._print(e.arg)})"
        if e.arg.shape == SCALAR and k < 0:
            return self._print(MatMul(Num(1), e), 0)
        exp = str(k) if k.denominator == 1 and k > 0 else f"({k})"
        return f"{self._print(e.arg, PREC_POSTFIX + 1)}^{exp}"

    def _precedence_Power(self, e: Power) -> int:
        if e.arg.shape != SCALAR and e.exp == -1 or e.arg.shape == SCALAR and e.exp == \
                Fraction(1, 2):
            return PREC_ATOM                                        # inv(X), sqrt(x)
        return Printer._precedence_Power(self, e)

    def _print_HadPow(self, e: HadPow) -> str:
        if e.exp == -1:
            return f"1 ./ {self._print(e.arg, PREC_HADAMARD + 1)}"
        exp = str(e.exp) if e.exp.denominator == 1 and e.exp > 0 else f"({e.exp})"
        return f"{self._print(e.arg, PREC_POSTFIX + 1)}.^{exp}"

    def _precedence_Func(self, e) -> int:
        return PREC_ATOM

    def _precedence_LogDet(self, e) -> int:
        return PREC_ATOM

    def _print_Func(self, e) -> str:
        return f"{e.name}({self._print(e.arg)})"

    def _print_LogDet(self, e) -> str:
        return f"logdet({self._print(e.arg)})"

    def _print_Norm(self, e) -> str:
        return f"norm{'1' if e.kind == '1' else '2'}({self._print(e.arg)})"

    spectral: ClassVar[dict] = {**TextPrinter.spectral, "lmax": "lambda_max({})",
                                "lmin": "lambda_min({})", "norm2": "norm({}, 2)",
                                "nuclear": "norm_nuc({})"}

    def angle(self, a: str, b: str) -> str:
        return f"frob({a}, {b})"

    def _print_Diag(self, e) -> str:
        return f"diag({self._print(e.arg)})"

    def _print_Unvec(self, e) -> str:
        return f"unvec({self._print(e.arg)}, {self.dim(e.rows)}, {self.dim(e.cols)})"


CLOSED_NORM = re.compile(r"‖(₁|₂|_F|_\*)?[²³]?$")

ASCII_GREEK = {name: letter for letter, name in GREEK_LATEX.items()}
ASCII_GREEK.update({"lam": "λ", "eps": "ε", "ell": "ℓ"})
del ASCII_GREEK["varepsilon"]
ASCII_GREEK["epsilon"] = "ε"
# Each letter's ASCII spelling (the reverse, with the short forms λ → lam, ε → eps, ℓ → ell).
LETTER_ASCII = {letter: name for name, letter in ASCII_GREEK.items()
                if name not in ("lam", "eps", "epsilon")}
LETTER_ASCII.update({"λ": "lam", "ε": "eps", "ℓ": "ell"})


class LatexPrinter(Printer):
    """LaTeX for papers (amsmath); compiles with pdflatex."""

    minus, hmul, hdiv, kron, vulgar = "-", r"\circ", r"\oslash", r"\otimes", False
    function_names = {"sigmoid": r"\sigma", "heaviside": r"\operatorname{H}", "exp": r"\exp",
                      "log": r"\log", "sin": r"\sin", "cos": r"\cos", "tan": r"\tan",
                      "tanh": r"\tanh"}

    def paren(self, text: str) -> str:
        return self.delimited("(", text, ")")

    @staticmethod
    def delimited(opening: str, text: str, closing: str) -> str:
        r"""text between delimiters that grow (\left … \right) only around tall content."""
        if _tall(text):
            return rf"\left{opening} {text} \right{closing}"
        return f"{opening}{text}{closing}"

    def product_separator(self, left: Expr, right: Expr, left_text: str, right_text: str) -> str:
        # a digit would join the number before it: 2 \cdot 3, not 2 3; a differential stands
        # apart by a thin space: \mathrm{d}W\,X, not d(WX)
        # a bar after an operand inside a norm would close it: \|\lambda \cdot \|Y\|_{*} x\|_{2}
        if right_text[:1] in "0123456789." or right_text.startswith(r"\|") and self.bars:
            return r" \cdot "
        return r"\," if _differential(left) or _differential(right) else " "

    def _precedence_MatMul(self, e: MatMul) -> int:
        if self._scaled_hadamard(e):
            return PREC_HADAMARD
        coeff, num, den, chain = split_product(e)
        if coeff < 0:
            return PREC_NEG
        # as _print_MatMul: the chain is on top too, and a fraction there leaves the whole bare
        if den and not scaling_quotient(num, den, chain) and \
                not any(r"\frac" in self.factor(f) for f in (*num, *chain)):
            return PREC_ATOM                                        # \frac{…}{…}
        return PREC_MUL                                             # \frac{2}{N} x \frac{a}{b}

    def number(self, value: Fraction, coefficient: bool = False) -> str:
        sign = "-" if value < 0 else ""
        value = abs(value)
        if value.denominator == 1:
            return sign + str(value.numerator)
        if coefficient or _finite_decimal(value) is None:
            return sign + rf"\frac{{{value.numerator}}}{{{value.denominator}}}"
        return sign + _finite_decimal(value)

    def fraction(self, coeff, num, den, den_parens) -> str:
        # the coefficient's numerator goes on top and its denominator below: \frac{x}{2\lambda}
        p, q = coeff.numerator, coeff.denominator
        bottom = ([(str(q), Num(q))] if q != 1 else []) + list(den)
        if any(r"\frac" in text for text, _ in num):
            # a fraction over a fraction reads badly: \frac{2}{N} \mathbf{1} \frac{a}{b}
            return rf"\frac{{{p}}}{{{self._alone(bottom)}}} {self.juxtapose(list(num))}"
        top = ([(str(p), Num(p))] if p != 1 or not num else []) + list(num)
        return rf"\frac{{{self._alone(top)}}}{{{self._alone(bottom)}}}"

    def _alone(self, factors: list) -> str:
        """Factors above or below a fraction bar; one alone needs no parentheses there."""
        if len(factors) == 1:
            return self.doprint(factors[0][1])
        return self.juxtapose(factors)

    def _print_Var(self, e: Var) -> str:
        if _is_adjoint_name(e.name):                                # ∂L/∂Y
            f, x = e.name[1:].split("/∂", 1)
            return rf"\frac{{\partial {latex_name(f)}}}{{\partial {latex_name(x)}}}"
        return latex_name(e.name)

    def _precedence_Var(self, e: Var) -> int:
        return PREC_POSTFIX if "′" in e.name else PREC_ATOM         # f^{\prime}

    def index_base(self, e: Expr) -> str:
        if isinstance(e, Var) and _split_name(e.name.replace("′", ""))[1]:
            return self.paren(self.doprint(e))                      # (W_{1})_{kl}
        return super().index_base(e)

    def _print_Identity(self, e) -> str:
        return "1" if e.shape == SCALAR else self.sized_constant("I", "I", e.rows)

    def dim(self, d) -> str:
        return str(d).replace("·", r" \cdot ")

    def _print_Ones(self, e) -> str:
        if e.shape == SCALAR:
            return "1"
        column = self.sized_constant("1", r"\mathbf{1}", e.rows)
        row = self.sized_constant("1", r"\mathbf{1}", e.cols) + r"^{\top}"
        if e.cols == 1:
            return column
        return row if e.rows == 1 else f"{column} {row}"

    def sized_constant(self, key: str, symbol: str, d) -> str:
        r"""I or \mathbf{1}, with its size where the line does not tell it: I_{n}."""
        return f"{symbol}_{{{self.dim(d)}}}" if (key, d) in self.sized else symbol

    def _print_Transpose(self, e: Transpose) -> str:
        a = e.arg
        if isinstance(a, Power) and a.arg.shape != SCALAR and a.exp == -1:
            return self._base(a.arg) + r"^{-\top}"
        return self._transposed(a) + r"^{\top}"

    def _transposed(self, a: Expr) -> str:
        return self._base(a) if not isinstance(a, Num) else super()._transposed(a)

    def _base(self, a: Expr) -> str:
        r"""a under a superscript: a fraction in parentheses, since \frac{a}{b}^{\top} sets the
        ᵀ on its numerator's corner (an adjoint ∂L/∂Y, a quotient Y/ℓ)."""
        text = self._print(a, PREC_POSTFIX + 1)
        return self.paren(text) if text.startswith(r"\frac") else text

    def _print_Power(self, e: Power) -> str:
        k = e.exp
        if e.arg.shape == SCALAR and k == Fraction(1, 2):
            return rf"\sqrt{{{self._print(e.arg)}}}"
        if e.arg.shape == SCALAR and k < 0:
            return self._print(MatMul(Num(1), e), 0)
        return f"{self._base(e.arg)}^{{{k}}}"

    def _precedence_Power(self, e: Power) -> int:
        if e.arg.shape == SCALAR and e.exp == Fraction(1, 2):
            return PREC_ATOM                                        # \sqrt{x}
        return super()._precedence_Power(e)

    def _print_HadPow(self, e: HadPow) -> str:
        if e.exp == -1:
            return rf"1 \oslash {self._print(e.arg, PREC_HADAMARD + 1)}"
        return rf"{self._base(e.arg)}^{{\circ {e.exp}}}"

    def _precedence_LogDet(self, e) -> int:
        return PREC_PREFIX                                          # \log\det(X)

    def _print_Func(self, e) -> str:
        if e.name == "sqrt":
            return rf"\sqrt{{{self._print(e.arg)}}}"
        name = self.builtin_name(e.name, rf"\operatorname{{{e.name}}}")
        return name + self.paren(self._print(e.arg))

    def _print_Trace(self, e) -> str:
        return r"\operatorname{tr}" + self.paren(self._print(e.arg))

    def _print_Det(self, e) -> str:
        return r"\det" + self.paren(self._print(e.arg))

    def _print_LogDet(self, e) -> str:
        return r"\log\det" + self.paren(self._print(e.arg))

    def _print_Norm(self, e) -> str:
        sub = "1" if e.kind == "1" else ("2" if e.arg.shape[1] == 1 else "F")
        return self.delimited(r"\|", self.between_bars(e.arg), r"\|") + f"_{{{sub}}}"

    def _print_Sum(self, e) -> str:
        return r"\operatorname{sum}" + self.paren(self._print(e.arg))

    spectral: ClassVar[dict] = {"lmax": r"\lambda_{\max}", "lmin": r"\lambda_{\min}",
                                "qmax": r"q_{\max}", "qmin": r"q_{\min}", "umax": r"u_{\max}",
                                "vmax": r"v_{\max}", "polar": r"\operatorname{polar}"}

    def _print_Spectral(self, e) -> str:
        if e.kind in ("norm2", "nuclear"):
            inner = self.between_bars(e.arg)
            return self.delimited(r"\|", inner, r"\|") + ("_{2}" if e.kind == "norm2" else "_{*}")
        return self.spectral[e.kind] + self.paren(self._print(e.arg))

    def _print_MatFunc(self, e) -> str:
        return self.call(e.name, self._print(e.arg))

    def _print_Frechet(self, e) -> str:
        return rf"L_{{\{e.name[:-1]}}}" + self.paren(", ".join(self._print(a) for a in e.args))

    def _print_KronFrechet(self, e) -> str:
        return rf"K_{{\{e.name[:-1]}}}" + self.paren(", ".join(self._print(a) for a in e.args))

    _print_Frechet2 = _print_Frechet
    _print_KronFrechet2 = _print_KronFrechet

    _print_SpectralFactor = _print_Spectral

    def angle(self, a: str, b: str) -> str:
        return self.delimited(r"\langle ", f"{a}, {b}", r" \rangle")

    def _print_Diag(self, e) -> str:
        return r"\operatorname{Diag}" + self.paren(self._print(e.arg))

    def _print_DiagOf(self, e) -> str:
        return r"\operatorname{diag}" + self.paren(self._print(e.arg))

    def _print_Vec(self, e) -> str:
        return r"\operatorname{vec}" + self.paren(self._print(e.arg))

    def _print_Unvec(self, e) -> str:
        return rf"\operatorname{{vec}}^{{-1}}_{{{self.dim(e.rows)} \times {self.dim(e.cols)}}}" + \
            self.paren(self._print(e.arg))

    def call(self, name: str, inner: str) -> str:
        return rf"\operatorname{{{name}}}" + self.paren(inner)

    def _print_UserFunc(self, e) -> str:
        return latex_name(e.name) + self.paren(self._print(e.arg))

    def _print_D(self, e) -> str:
        inner = self._print(e.arg)
        if isinstance(e.arg, Var):
            return rf"\mathrm{{d}}{inner}"
        return r"\mathrm{d}" + self.paren(inner)

    def _precedence_D(self, e) -> int:
        return self.precedence(e.arg) if isinstance(e.arg, Var) else PREC_ATOM   # dx^{\prime}


def _tall(text: str) -> bool:
    """Does LaTeX text stand taller than a line of symbols: a fraction of more than numbers
    (\frac{1}{2} is not), a tall delimiter?"""
    return r"\left" in text or re.search(r"\\frac\{(?![0-9]+\}\{[0-9]+\})", text) is not None


def latex_name(name: str) -> str:
    """A variable name in LaTeX: 'λ' -> '\\lambda', 'W₁' -> 'W_{1}', 'theta2' -> '\\mathrm{theta2}',
    "f′" -> 'f^{\\prime}' (a bare ' would read as the transpose)."""
    primes = name.count("′")
    base, sub = _split_name(name.replace("′", ""))
    base, accent = split_accent(base)
    if base in GREEK_LATEX:
        base = "\\" + GREEK_LATEX[base]
    elif len(base) > 1:
        base = rf"\mathrm{{{base}}}"
    if accent:
        base = rf"\{accent}{{{base}}}"
    return base + (f"_{{{sub}}}" if sub else "") + \
        ("^{" + r"\prime" * primes + "}" if primes else "")


def to_text(e: Expr) -> str:
    return TextPrinter().doprint(e)


@memoized(1 << 14)
def text_length(e: Expr) -> int:
    """How long e reads as text, the sizes of its I and 𝟏 left out (to judge whether it is
    worth a name, without asking the reader which sizes the text must write)."""
    return len(TextPrinter(sizes=frozenset()).doprint(e))


@memoized(4096)
def reads_alone(e: Expr) -> bool:
    """Does e, printed on a line of its own, tell the size of each I and 𝟏 in it without
    writing it? (Diag(vec(I)) or mean(I, 1) do not: their size is known only where they are
    used.)"""
    return _reads_back(e, frozenset(), _constant_keys(e), beside=False)


# characters of a line whose sizes the reader is asked about (reading lines of 1,000 to 3,000
# characters back took a tenth of the time of the slowest fuzzed inputs)
MAX_READ_BACK = 1_000


@memoized(4096)
def written_sizes(e: Expr) -> frozenset:
    """The sizes of I and 𝟏 that e, printed as a line whose left side states its shape (∂f/∂X,
    dF, H), writes (I_n, 𝟏_n): those the reader cannot take from the rest of the line. The
    reader decides: with all written, each is left out in turn and stays out if the line still
    reads back so. After a size that could be left out, twice as many are tried at once, after
    one that could not, one again: a line of 52 sizes that needs one written is read 12 times,
    not 52, and one that needs them all no more often than that. A line longer than
    MAX_READ_BACK characters writes them all, unasked (one reading of a Jacobian's 30,000
    characters took a second)."""
    keys = _constant_keys(e)
    if keys and text_length(e) > MAX_READ_BACK:
        return keys
    if not keys or _reads_back(e, frozenset(), keys, beside=True):
        return frozenset()
    if not _reads_back(e, keys, keys, beside=True):
        # no line with fewer sizes reads back either (one deeper than the reader's limits):
        # each left out in turn, a line of 100 layers was read 100 times
        return keys
    ordered, sized = sorted(keys, key=str), keys
    i, step = 0, 1
    while i < len(ordered):
        group = set(ordered[i:i + step])
        if _reads_back(e, sized - group, keys, beside=True):
            sized, i, step = sized - group, i + step, 2 * step
        elif step > 1:
            step = 1
        else:
            i += 1
    return sized


def _constant_keys(e: Expr) -> frozenset:
    """("I", n) for each n×n identity e prints, ("1", n) for each ones vector of length n
    (a broadcast and a zero matrix print theirs: s𝟏𝟏ᵀ, 0𝟏𝟏ᵀ); a zero result prints 0."""
    if isinstance(e, Zero):
        return frozenset()
    keys = set()
    for n in distinct_nodes(e):
        if isinstance(n, Identity):
            keys.add(("I", n.rows))
        elif isinstance(n, (Ones, Broadcast, Zero)):
            keys.update(("1", d) for d in n.shape)
    return frozenset(k for k in keys if k[1] != 1)


def _reads_back(e: Expr, sized: frozenset, keys: frozenset, beside: bool,
                in_d: bool = False) -> bool:
    """Does e, printed with the sizes ``sized`` written, read back at its shape with each I
    and 𝟏 at a size it has (not 𝟏_k ⊗ I_m for 𝟏_m ⊗ I_k)? The reader decides, with e's names
    (and its differentials, as names) declared at their shapes, and (``beside``) the line's
    shape known: read as Ψ + (e) for a Ψ of e's shape. A line that is a zero matrix prints 0
    beside its shape; one in d(…) (``in_d``) prints 0𝟏𝟏ᵀ, which must tell its shape."""
    if not any(isinstance(n, (Identity, Ones, Broadcast, Zero)) for n in distinct_nodes(e)):
        return True
    differentials = list(dict.fromkeys(n for n in distinct_nodes(e) if isinstance(n, D)))
    if not all(_reads_back(n.arg, sized, keys, False, in_d=True) for n in differentials):
        return False                                    # d(…) prints what it holds
    # differentials and adjoints ∂L/∂Y read as names of their shapes
    held = differentials + list(dict.fromkeys(n for n in distinct_nodes(e) if
                                              isinstance(n, Var) and _is_adjoint_name(n.name)))
    e = substitute(e, {n: Var(f"Ξ{SUBSCRIPT_DIGITS[i % 10] * (i // 10 + 1)}", n.shape)
                       for i, n in enumerate(held)})
    names = {n.name: shape_spec(n) for n in distinct_nodes(e) if isinstance(n, Var)}
    functions = {n.name: n for n in distinct_nodes(e) if isinstance(n, UserFunc)}
    printer = TextPrinter(colon=True, sizes=sized)
    program = [f"{printer.doprint(UserFunc(f.name, f.param.name, f.body, f.param))} := "
               f"{printer.doprint(f.body)}" for f in functions.values()]
    line = printer._print(e) if in_d else printer.doprint(e)
    if beside:
        known = next(c for c in "ΨΩΦΘΓ" if c not in names)
        names[known] = shape_spec(Var(known, e.shape))
        line = f"{known} + ({line})"
    try:
        result = parse("; ".join(program + [line]), names).result
    except MatcalcError:
        return False
    return (isinstance(e, Zero) and not in_d or result.shape == e.shape) and \
        _constant_keys(result) <= keys | _constant_keys(e)


def shape_spec(v: Var) -> str:
    """v's declaration as --shape writes it: n x m, n (a column), scalar, k·n x m symmetric."""
    rows, cols = v.shape
    spec = "scalar" if v.shape == (1, 1) else (f"{rows}" if cols == 1 else f"{rows} x {cols}")
    return f"{spec} {v.structure}".strip()


def to_ascii(e: Expr) -> str:
    return AsciiPrinter().doprint(e)


def to_latex(e: Expr) -> str:
    return LatexPrinter().doprint(e)


# --- documents ------------------------------------------------------------------------------

def latex_document(body: str) -> str:
    """A complete document around a LaTeX body (compiles with pdflatex)."""
    return ("\\documentclass{article}\n\\usepackage{amsmath,amssymb}\n"
            "\\allowdisplaybreaks\n"               # a long derivation goes on to the next page
            "\\begin{document}\n" + body + "\n\\end{document}\n")


def latex_notes(notes, math: bool = False) -> str:
    """The notes as LaTeX: paragraphs of text, or (``math``) rows of an align* block, as
    MathJax shows them in Jupyter."""
    if math:
        return " \\\\\n".join(r"&\text{note: }" + latex_prose(n, math=True) for n in notes)
    # ragged right: a note's long formulas break between their terms, never past the margin
    return "".join(f"\\noindent Note: {{\\raggedright {latex_prose(n)}\\par}}\n\n"
                   for n in notes)


def latex_prose(text: str, math: bool = False) -> str:
    r"""Prose with its Unicode math written as LaTeX math ($\lambda$, $W_{1}$, $>$, $-$) for
    text mode, or (``math``) as \text{…} pieces between the math for math mode."""
    pieces: list = []                                # [is_math, text]
    for i, ch in enumerate(text):
        if ch in ACCENTS:
            continue                                 # written with its letter: X̂ → \hat{X}
        if i + 1 < len(text) and text[i + 1] in ACCENTS:
            piece = (True, latex_name(ch + text[i + 1]))
        elif ch in "<>|":
            piece = (True, ch)                       # not what a text font sets for them
        elif ch in "&%$#_{}":
            piece = (False, "\\" + ch)
        elif ch == "'" and not math and (i == 0 or text[i - 1] in " (") and \
                "'" in text[i + 1:]:
            piece = (False, "`")                     # an opening quote: `XW', not 'XW'
        elif ch in "\\^~":
            piece = (False, {"\\": r"\textbackslash{}", "^": r"\^{}", "~": r"\~{}"}[ch])
        elif ord(ch) < 128:
            piece = (False, ch)
        elif ch in GREEK_LATEX:
            piece = (True, f"\\{GREEK_LATEX[ch]} ")
        elif ch in _PROSE_MATH:
            piece = (True, _PROSE_MATH[ch])
        else:
            piece = (False, _PROSE_TEXT.get(ch, "?"))
        if pieces and pieces[-1][0] == piece[0]:
            pieces[-1][1] += piece[1]
        else:
            pieces.append(list(piece))
    for piece in pieces:
        while piece[0] and _SCRIPT_RUN.search(piece[1]):   # a run of scripts is one: S^{-1}
            piece[1] = _SCRIPT_RUN.sub(r"\1{\2", piece[1])
    if math:
        return "".join(t if is_math else rf"\text{{{t}}}" for is_math, t in pieces)
    return "".join(f"${t.rstrip()}$" if is_math else t for is_math, t in pieces)


_SCRIPT_RUN = re.compile(r"([_^])\{([^{}]*)\}(?=\1\{)\1\{")


def ascii_text(text: str) -> str:
    """Prose (notes, messages) with its Unicode math spelled in ASCII: μ → mu, X̂ → X_hat,
    n×m → nxm, ∘ → .*; anything else unknown becomes '?'."""
    out = []
    for i, ch in enumerate(text):
        if ch in ACCENTS:
            out.append("_" + ACCENTS[ch])
        elif ch == "∈":                  # a word: spaced once, 'A ∈ 𝕊^n' → 'A in S^n'
            out.append(("" if text[i - 1:i] == " " else " ") + "in" +
                       ("" if text[i + 1:i + 2] == " " else " "))
        elif ord(ch) < 128:
            out.append(ch)
        elif ch in LETTER_ASCII:
            out.append(LETTER_ASCII[ch])
        elif ch in SUBSCRIPT_DIGITS:
            out.append(str(SUBSCRIPT_DIGITS.index(ch)))
        else:
            out.append(_ASCII_CHARS.get(ch, "?"))
    return "".join(out)


_ASCII_CHARS = {
    "′": "'", "∘": ".*", "⊘": "./", "ᵀ": "'", "−": "-", "½": "1/2", "‖": "||", "⊗": " kron ",
    "∂": "d", "→": "->", "×": "x", "—": "--", "–": "-", "𝟏": "1", "⁻": "^-", "¹": "1",
    "²": "^2", "³": "^3", "ℝ": "R", "𝕊": "S", "…": "...", "≤": "<=", "≥": ">=", "⇒": "=>",
    "·": "*", "√": "sqrt", "↦": "|->", "δ": "delta", "∇": "grad ", "⟨": "<",
    "⟩": ">", "∫": "integral", "é": "e",
}

# Prose characters and their LaTeX: set in math, or (the second table) in text.
_PROSE_MATH = {
    "′": "'", "″": "''", "∘": r"\circ ", "⊙": r"\odot ", "ᵀ": r"^{\top}", "⊤": r"\top ",
    "−": "-", "½": r"\tfrac12", "⅓": r"\tfrac13", "¼": r"\tfrac14", "¾": r"\tfrac34",
    "‖": r"\|", "⊗": r"\otimes ", "⊘": r"\oslash ", "∂": r"\partial ", "∇": r"\nabla ",
    "→": r"\to ", "↦": r"\mapsto ", "⇒": r"\Rightarrow ", "×": r"\times ", "·": r"\cdot ",
    "⋅": r"\cdot ", "∗": "*", "∙": r"\cdot ", "÷": r"\div ", "𝟏": r"\mathbf{1}",
    "𝟙": r"\mathbb{1}", "ℝ": r"\mathbb{R}", "𝕊": r"\mathbb{S}", "∈": r"\in ", "≤": r"\le ",
    "≥": r"\ge ", "⩽": r"\le ", "⩾": r"\ge ", "≠": r"\ne ", "∞": r"\infty ", "√": r"\surd ",
    "∑": r"\sum ", "∫": r"\int ", "⟨": r"\langle ", "⟩": r"\rangle ", "ℓ": r"\ell ",
    "ϵ": r"\epsilon ", "ϑ": r"\vartheta ", "ϕ": r"\varphi ", "ϱ": r"\varrho ",
    "ς": r"\varsigma ", "⁻": "^{-}", "ⁿ": "^{n}", "ⁱ": "^{i}", "ᵏ": "^{k}",
    **{c: f"^{{{d}}}" for d, c in enumerate("⁰¹²³⁴⁵⁶⁷⁸⁹")},
    **{c: f"_{{{d}}}" for d, c in enumerate(SUBSCRIPT_DIGITS)},
    "ₙ": "_{n}", "ₘ": "_{m}", "ₓ": "_{x}", "ᵢ": "_{i}", "ⱼ": "_{j}",
}
_PROSE_TEXT = {"…": r"\dots{}", "—": "---", "–": "--", "‘": "`", "’": "'", "“": "``", "”": "''",
               "é": r"\'e"}
