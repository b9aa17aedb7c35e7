"""The scalar-calculus bridge: the derivative f′ of a user-defined scalar function f(x), by SymPy.

The body of f is an IR expression of scalars (Num, Var, Add, MatMul as a product, Power with a
rational exponent, Func). It goes to SymPy node by node — never through a string, so the user's
text cannot reach sympify, parse_expr or eval — SymPy differentiates it, and the result comes
back node by node in the same vocabulary. Of the equivalent forms SymPy offers (as
differentiated, cancelled, factored, over one denominator, simplified; each also with σ and
softplus recognized where they are written out, so that log(1 + exp(x)) has σ(x) as its
derivative, which is also the form the code can compute without overflow) the cheapest by
``matcalc.simplify.cost`` wins.

SymPy loads on first use, so importing this module stays cheap.
"""

from __future__ import annotations

import math
from fractions import Fraction
from functools import cache

from .errors import UnsupportedError
from .ir import Add, Expr, Func, MatMul, Num, Power, Var, is_scalar
from .simplify import cost
from .stable import logistic

SIMPLIFY_MAX_OPS = 40            # sympy.simplify is slow: only derivatives this small get it,
# and none with tanh: simplify writes tanh′ with cosh, which matcalc cannot express, after a
# trigsimp that took 1.7 s on (x³tanh(1 + x²))′
# cancel, factor, together and simplify compute with polynomials as dense as the derivative's
# degree: past this one (x^33333333/(1 + x²) hung) only the derivative as differentiated is taken
MAX_POLYNOMIAL_DEGREE = 10_000
# factoring over the integers (Zassenhaus) is far slower: past this degree it is not tried
# (the derivative of x³/(1 + x²⁹⁵) took 15 s to factor, while cancel and together take 0.01 s)
MAX_FACTOR_DEGREE = 64
MAX_FLOAT_DENOMINATOR = 10 ** 6  # a SymPy Float comes back only if it is a short decimal


@cache
def derivative(body: Expr, x: Var) -> Expr:
    """d body/dx, in its cheapest form; every other scalar variable is a constant (memoized:
    one derivation asks for f′ at every use of f).

    >>> from matcalc.printers import to_text
    >>> x = Var("x", (1, 1))
    >>> print(to_text(derivative(MatMul(Power(x, 3), Power(Add(Num(1), Power(x, 2)), -1)), x)))
    x²(3 + x²)/(1 + x²)²
    """
    sp, functions, _ = _sympy()
    symbols = {x: _symbol(x)}
    # |u| is differentiated as a stand-in with |u|′ = sign(u) u′ (every value is real), then
    # restored so that SymPy can simplify it: SymPy's own Abs would split log(x) into re and im
    raw = sp.diff(to_sympy(logistic(body), symbols), symbols[x]).replace(functions["abs"], sp.Abs)
    variables = {s: v for v, s in symbols.items()}
    forms = [raw]
    degree = _degree(raw)
    if degree <= MAX_POLYNOMIAL_DEGREE:
        forms += [sp.cancel(raw)] + ([sp.factor(raw)] if degree <= MAX_FACTOR_DEGREE else []) + \
            [sp.together(raw)]
        if sp.count_ops(raw) <= SIMPLIFY_MAX_OPS and not raw.has(sp.tanh):
            forms.append(sp.simplify(raw))
    converted, errors = [], []
    for form in forms:
        try:
            converted.append(from_sympy(form, variables))
            converted.append(logistic(converted[-1]))
        except UnsupportedError as err:
            errors.append(err)
    if not converted:
        raise errors[0]
    return min(converted, key=cost)   # ties: the earlier form


def _degree(e) -> int:
    """The degree of the polynomials SymPy makes of e, at most: its largest power of a
    generator, a power x^(p/q) being the p-th power of x^(1/l), l the lcm of e's exponents'
    denominators."""
    sp, _, _ = _sympy()
    exponents = [a.exp for a in e.atoms(sp.Pow) if a.exp.is_Rational]
    if not exponents:
        return 1
    lcm = math.lcm(*(int(k.q) for k in exponents))
    return max(abs(int(k.p)) * (lcm // int(k.q)) for k in exponents)


def to_sympy(e: Expr, symbols: dict):
    """The SymPy tree of a scalar IR expression; ``symbols`` maps each Var to its SymPy symbol
    and gains the variables met on the way."""
    sp, functions, _ = _sympy()
    if not is_scalar(e):
        raise UnsupportedError(
            f"a scalar function's body must be scalar throughout; {type(e).__name__} is not")
    if isinstance(e, Num):
        return sp.Rational(e.value.numerator, e.value.denominator)
    if isinstance(e, Var):
        if e not in symbols:
            symbols[e] = _symbol(e)
        return symbols[e]
    args = [to_sympy(a, symbols) for a in e.args]
    if isinstance(e, Add):
        return sp.Add(*args)
    if isinstance(e, MatMul):                       # a product of scalars
        return sp.Mul(*args)
    if isinstance(e, Power):
        return sp.Pow(args[0], sp.Rational(e.exp.numerator, e.exp.denominator))
    if isinstance(e, Func):
        return functions[e.name](args[0])
    raise UnsupportedError(f"a scalar function's body cannot contain {type(e).__name__}")


def from_sympy(e, variables: dict) -> Expr:
    """The IR of a SymPy expression; ``variables`` maps SymPy symbols back to Vars."""
    sp, _, names = _sympy()
    if e.is_Rational:
        return Num(Fraction(int(e.p), int(e.q)))
    if e.is_Float:
        value = Fraction(str(e))
        if value.denominator <= MAX_FLOAT_DENOMINATOR:
            return Num(value)
    if e.is_Symbol and e in variables:
        return variables[e]
    if e is sp.E:
        return Func("exp", Num(1))                  # e = exp(1)
    if e.is_Add:
        return Add(*(from_sympy(a, variables) for a in e.args))
    if e.is_Mul:
        return MatMul(*(from_sympy(a, variables) for a in e.args))
    if e.is_Pow and e.exp.is_Rational:
        base, k = from_sympy(e.base, variables), Fraction(int(e.exp.p), int(e.exp.q))
        return Func("sqrt", base) if k == Fraction(1, 2) else Power(base, k)
    if type(e) in names and len(e.args) == 1:
        return Func(names[type(e)], from_sympy(e.args[0], variables))
    shown = e.xreplace({s: sp.Symbol(v.name) for s, v in variables.items()})
    raise UnsupportedError(f"the derivative of f contains {shown}, which matcalc cannot express")


def _symbol(v: Var):
    # a Dummy cannot clash with any other name; every value in matcalc is real
    sp, _, _ = _sympy()
    return sp.Dummy(v.name, real=True)


@cache
def _sympy():
    """(sympy, matcalc name → SymPy function, SymPy function class → matcalc name)."""
    import sympy as sp

    # the class names must differ from SymPy's own: its printers dispatch on them
    class RealFunction(sp.Function):
        """A real function of one real argument."""

        def _eval_is_extended_real(self):
            return self.args[0].is_extended_real

    class Sigmoid(RealFunction):
        _eval_is_extended_positive = RealFunction._eval_is_extended_real

        def fdiff(self, argindex=1):
            s = Sigmoid(self.args[0])
            return s * (1 - s)                      # σ′ = σ(1 − σ)

    class Relu(RealFunction):
        _eval_is_extended_nonnegative = RealFunction._eval_is_extended_real

        def fdiff(self, argindex=1):
            return Step(self.args[0])               # relu′ = H

    class Softplus(RealFunction):
        _eval_is_extended_positive = RealFunction._eval_is_extended_real

        def fdiff(self, argindex=1):
            return Sigmoid(self.args[0])            # softplus′ = σ

    class Step(RealFunction):
        _eval_is_extended_nonnegative = RealFunction._eval_is_extended_real

        def fdiff(self, argindex=1):
            return sp.S.Zero                        # H′ = 0 almost everywhere

    class Absolute(RealFunction):
        _eval_is_extended_nonnegative = RealFunction._eval_is_extended_real

        def fdiff(self, argindex=1):
            return sp.sign(self.args[0])            # |u|′ = sign(u) for a real u ≠ 0

    class Sgn(RealFunction):
        def fdiff(self, argindex=1):
            return sp.S.Zero                        # sign′ = 0 almost everywhere

    functions = {
        "exp": sp.exp, "log": sp.log, "sin": sp.sin, "cos": sp.cos, "tan": sp.tan,
        "tanh": sp.tanh, "sqrt": sp.sqrt, "abs": Absolute, "sign": Sgn, "sigmoid": Sigmoid,
        "relu": Relu, "softplus": Softplus, "heaviside": Step,
    }
    # back again; √u comes back as a power u^½, and |u|′ brings SymPy's own Abs and sign
    names = {f: name for name, f in functions.items() if name != "sqrt"}
    names.update({sp.Abs: "abs", sp.sign: "sign"})
    return sp, functions, names
