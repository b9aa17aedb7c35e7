"""Parsing: the user's text (Unicode math, the ASCII dialect or LaTeX) → a ``Program`` of
shape-checked expression trees (matcalc/ir.py).

The pipeline of this module, one stage per section below:

1. **lexing** (``_Lexer``) — the context work a grammar cannot do: detect the dialect, split
   statements, read declarations, split letter runs into names, decide whether a bar opens
   or closes, normalise LaTeX commands and read superscripts. It yields Lark tokens with
   their character spans.
2. **parsing** — ``grammar/matcalc.lark`` (LALR(1)), the specification of the language.
3. **elaboration** (``_Elaborator``) — a mapping from each grammar alias to the node it builds,
   with symbolic dimensions unified by union–find; it keeps the source span of every
   sub-expression for error messages, applies the conventions (and records a note for each)
   and finally builds the ``ir`` nodes, which check their shapes again.

Every problem with the input is a ``MatcalcError`` with carets under the offending text.

    >>> parse("tr(AXB)").result
    Trace(MatMul(Var('A', ('n', 'm')), Var('X', ('m', 'k')), Var('B', ('k', 'n'))))
"""

from __future__ import annotations

import bisect
import difflib
import functools
import importlib.resources
import math
import os
import re
from collections import Counter
from dataclasses import dataclass, replace
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

from lark import Lark
from lark.lexer import Lexer

from . import ir, readings
from .errors import MatcalcError
from .ir import Expr, Shape, Var

__all__ = ["Program", "detect_dialect", "parse", "parse_shape_spec"]

MAX_LENGTH = 100_000    # characters of input
MAX_NESTING = 100       # nested brackets / bars
MAX_DEPTH = 200         # depth of the expression tree
MAX_DIGITS = 300        # digits of a number's numerator and of its denominator


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


# =============================================================================================
# Vocabulary
# =============================================================================================

GREEK = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "varepsilon": "ε",
    "eps": "ε", "zeta": "ζ", "eta": "η", "theta": "θ", "vartheta": "θ", "iota": "ι",
    "kappa": "κ", "lambda": "λ", "lam": "λ", "mu": "μ", "nu": "ν", "xi": "ξ", "pi": "π",
    "rho": "ρ", "varrho": "ρ", "sigma": "σ", "tau": "τ", "upsilon": "υ", "phi": "φ",
    "varphi": "φ", "chi": "χ", "psi": "ψ", "omega": "ω", "Gamma": "Γ", "Delta": "Δ",
    "Theta": "Θ", "Lambda": "Λ", "Xi": "Ξ", "Pi": "Π", "Sigma": "Σ", "Upsilon": "Υ",
    "Phi": "Φ", "Psi": "Ψ", "Omega": "Ω", "ell": "ℓ",
}
_GREEK_VARIANTS = {"ϵ": "ε", "ϑ": "θ", "ϕ": "φ", "ϱ": "ρ", "ς": "σ"}
_LETTER = "A-Za-zΑ-Ωα-ωℓϵϑϕϱς"
# Combining accents a name may carry: X̂ (hat), X̃ (tilde), x̄ (bar), ẋ (dot).
_MARKS = "\u0302\u0303\u0304\u0307"
SUBSCRIPT_DIGITS = "₀₁₂₃₄₅₆₇₈₉"
_SUPERSCRIPT_DIGITS = {"⁰": "0", "¹": "1", "²": "2", "³": "3", "⁴": "4", "⁵": "5", "⁶": "6",
                       "⁷": "7", "⁸": "8", "⁹": "9", "⁻": "-"}
_VULGAR = {"½": "1/2", "⅓": "1/3", "⅔": "2/3", "¼": "1/4", "¾": "3/4", "⅕": "1/5", "⅛": "1/8"}

# Spellings of functions → their key (the elaborator dispatches on the key).
FUNCTION_SPELLINGS = {
    "tr": "tr", "Tr": "tr", "trace": "tr", "Trace": "tr", "det": "det", "Det": "det",
    "logdet": "logdet", "exp": "exp", "log": "log", "ln": "log", "sin": "sin", "cos": "cos",
    "tan": "tan", "tanh": "tanh", "sqrt": "sqrt", "abs": "abs", "sign": "sign", "sgn": "sign",
    "sigmoid": "sigmoid", "relu": "relu", "ReLU": "relu", "softplus": "softplus",
    "heaviside": "heaviside", "Heaviside": "heaviside", "step": "heaviside", "sum": "sum",
    "Diag": "Diag", "diag": "diag", "vec": "vec", "kron": "kron", "frob": "frob", "max": "max",
    "min": "min", "clip": "clip", "mean": "mean", "var": "var", "softmax": "softmax",
    "logsoftmax": "logsoftmax", "log_softmax": "logsoftmax", "logsumexp": "logsumexp",
    "LSE": "logsumexp",
    "norm": "norm", "norm2": "norm2", "norm1": "norm1", "inv": "inv", "vector": "vector",
    "matrix": "matrix",
    # spectral functions and the factors of their derivatives (λ_max(X), q_max(X), ‖X‖_* …)
    "lambda_max": "lambda_max", "lambda_min": "lambda_min", "norm_nuc": "norm_nuc",
    "q_max": "q_max", "q_min": "q_min", "u_max": "u_max", "v_max": "v_max", "polar": "polar",
}
# The spectral functions and factors by key: (IR node, kind).
SPECTRAL_KEYS = {
    "lambda_max": ("Spectral", "lmax"), "lambda_min": ("Spectral", "lmin"),
    "norm_nuc": ("Spectral", "nuclear"), "q_max": ("SpectralFactor", "qmax"),
    "q_min": ("SpectralFactor", "qmin"), "u_max": ("SpectralFactor", "umax"),
    "v_max": ("SpectralFactor", "vmax"), "polar": ("SpectralFactor", "polar"),
}
# A letter with the subscript max or min before a call: λ_max(X), \lambda_{\max}(X), q_min(X).
_SUBSCRIPTED_FUNCTIONS = {("λ", "max"): "lambda_max", ("λ", "min"): "lambda_min",
                          ("q", "max"): "q_max", ("q", "min"): "q_min", ("u", "max"): "u_max",
                          ("v", "max"): "v_max"}
CONSTANT_SPELLINGS = {"eye": "I", "ones": "1"}
_LONGEST_GREEK = max(map(len, GREEK))
_LONGEST_FUNCTION = max(map(len, FUNCTION_SPELLINGS))
_FUNCTIONS_LONGEST_FIRST = sorted((f for f in FUNCTION_SPELLINGS if len(f) > 1), key=len,
                                  reverse=True)
# Structures a declaration may give a matrix (the word → Var.structure).
STRUCTURES = {"symmetric": "symmetric", "sym": "symmetric", "onehot": "onehot",
              "one-hot": "onehot"}
# How a function key is shown in messages (did-you-mean suggestions).
_FUNCTION_DISPLAY = {"tr": "tr", "det": "det", "logdet": "logdet", "heaviside": "heaviside"}

_ONE_ARG = {"tr", "det", "logdet", "exp", "log", "sin", "cos", "tan", "tanh", "sqrt", "abs",
            "sign", "sigmoid", "relu", "softplus", "heaviside", "Diag", "diag", "vec",
            "norm2", "norm1", "inv", "vector", "matrix", *SPECTRAL_KEYS}
_TWO_ARG = {"kron", "frob", "max", "min"}
_THREE_ARG = {"clip"}
# Reductions and softmax: (A) over a vector, (A, axis) along MATLAB's axis 1 or 2.
_AXIS_ARG = {"sum", "mean", "var", "softmax", "logsoftmax", "logsumexp"}

# Tokens after which a bar closes rather than opens (they end an operand).
_ENDS_OPERAND = {"NAME", "NUMBER", "CONSTANT", "_RPAR", "NORM_CLOSE", "_BAR_CLOSE", "_RANGLE",
                 "TRANSPOSE", "INVERSE_TRANSPOSE", "POWER", "HADPOW"}
_STARTS_OPERAND = {"NAME", "NUMBER", "CONSTANT", "_LPAR", "FUNC_CALL", "FUNC_BARE", "NORM_OPEN",
                   "_BAR_OPEN", "_LANGLE", "_FRAC", "INDICATOR", "ADD_OP"}
_BINARY = {"ADD_OP", "_MUL_OP", "_DIV", "HADAMARD_OP", "_KRON", "_COLON", "COMPARE", "_DEFINE",
           "_ELEMENT", "_COMMA"}

_LATEX_SKIP = {",", ";", "!", ":", " ", "quad", "qquad", "displaystyle", "textstyle", "bf", "rm",
               "it", "mathstrut", "nonumber", "notag", "limits", "middle"}
_LATEX_SIZE = {"left": "open", "right": "close", "bigl": "open", "Bigl": "open",
               "biggl": "open", "Biggl": "open", "bigr": "close", "Bigr": "close",
               "biggr": "close", "Biggr": "close", "big": None, "Big": None, "bigg": None,
               "Bigg": None, "bigm": None, "Bigm": None}
_LATEX_OPS = {"cdot": ("_MUL_OP", "·"), "times": ("_MUL_OP", "·"), "ast": ("_MUL_OP", "·"),
              "circ": ("HADAMARD_OP", "∘"), "odot": ("HADAMARD_OP", "∘"),
              "oslash": ("HADAMARD_OP", "⊘"), "otimes": ("_KRON", "⊗"),
              "geq": ("COMPARE", ">"), "ge": ("COMPARE", ">"), "geqslant": ("COMPARE", ">"),
              "gt": ("COMPARE", ">"), "leq": ("COMPARE", "<"), "le": ("COMPARE", "<"),
              "leqslant": ("COMPARE", "<"), "lt": ("COMPARE", "<"),
              "top": ("TRANSPOSE", "T"), "intercal": ("TRANSPOSE", "T"),
              "langle": ("_LANGLE", "⟨"), "rangle": ("_RANGLE", "⟩"), "div": ("_DIV", "/")}
_LATEX_FUNCS = {"det", "log", "ln", "exp", "sin", "cos", "tan", "tanh", "max", "tr", "Tr",
                "trace", "sgn", "diag", "sqrt"}
_LATEX_WRAPPERS = {"mathbf", "boldsymbol", "bm", "mathit", "mathrm", "operatorname", "text",
                   "textrm", "textbf", "textit", "mathsf", "mathcal", "mathtt", "mathbb", "Bbb",
                   "mathbbm", "mathds", "vec", "mathnormal", "hat", "widehat", "tilde",
                   "widetilde", "bar", "overline", "dot"}
# LaTeX accents → the combining mark of the name (\hat{X} is X̂).
_LATEX_ACCENTS = {"hat": "\u0302", "widehat": "\u0302", "tilde": "\u0303",
                  "widetilde": "\u0303", "bar": "\u0304", "overline": "\u0304", "dot": "\u0307"}
_LATEX_FUNCTION_WRAPPERS = {"mathrm", "operatorname", "text", "textrm", "mathsf", "textit",
                            "mathtt"}
_KNOWN_LATEX = (set(GREEK) | _LATEX_SKIP | set(_LATEX_SIZE) | set(_LATEX_OPS) | _LATEX_FUNCS
                | _LATEX_WRAPPERS | {"frac", "dfrac", "tfrac", "in", "lVert", "rVert", "Vert",
                                     "lvert", "rvert", "vert", "mathbb"})


# =============================================================================================
# Names, dialects and shape specifications
# =============================================================================================

def detect_dialect(text: str) -> str:
    """'latex' if the text has a backslash command, 'unicode' if it has any non-ASCII
    character, 'ascii' otherwise."""
    if re.search(r"\\[A-Za-z|,;!{} ]", text):
        return "latex"
    if any(ord(c) > 127 for c in text):
        return "unicode"
    return "ascii"


def _subscript(digits: str) -> str:
    return "".join(SUBSCRIPT_DIGITS[int(c)] for c in digits)


@functools.lru_cache(maxsize=4096)
def canonical_name(spelling: str) -> str | None:
    """The internal (Unicode) name of one written name, or None if it is not a name:
    'W_1', 'W₁', 'W1' → 'W₁'; 'lam', '\\lambda', 'λ' → 'λ'; '\\mathbf{x}' → 'x'."""
    s = spelling.strip()
    accent = re.fullmatch(r"\\(" + "|".join(_LATEX_ACCENTS) + r")\s*\{\s*(\\?[A-Za-z]+)\s*\}(.*)",
                          s, re.DOTALL)
    if accent:
        inner = canonical_name(accent.group(2) + accent.group(3))
        return None if inner is None else inner[0] + _LATEX_ACCENTS[accent.group(1)] + inner[1:]
    m = re.fullmatch(r"\\(?:mathbf|boldsymbol|bm|mathit|mathrm|mathcal|mathsf|vec|mathnormal)"
                     r"\s*\{\s*(\\?[A-Za-z]+)\s*\}(.*)", s, re.DOTALL)
    if not m:
        m = re.fullmatch(r"\{\s*\\bf\s+([A-Za-z]+)\s*\}(.*)", s, re.DOTALL)
    if not m:
        m = re.fullmatch(r"(\\[A-Za-z]+|[" + _LETTER + r"][" + _LETTER + _MARKS + r"0-9]*)(.*)", s,
                         re.DOTALL)
    if not m:
        return None
    base, rest = m.group(1), m.group(2).strip()
    if base.startswith("\\"):
        base = GREEK.get(base[1:])
        if base is None:
            return None
    base = "".join(_GREEK_VARIANTS.get(c, c) for c in base)
    digits = re.search(r"[0-9]+$", base)
    sub = ""
    if digits and digits.start() > 0:
        sub, base = digits.group(), base[: digits.start()]
    base = GREEK.get(base, base)
    primes = ""
    rest_m = re.fullmatch(r"(?:_\s*\{?\s*([0-9]+)\s*\}?|([₀-₉]+))?\s*(" + _ASCII_ACCENT + ")(" +
                          _PRIMES + ")", rest)
    if not rest_m:
        return None
    if rest_m.group(1):
        sub += rest_m.group(1)
    elif rest_m.group(2):
        sub += "".join(str(SUBSCRIPT_DIGITS.index(c)) for c in rest_m.group(2))
    primes = "′" * len(re.findall("′|prime", rest_m.group(4)))
    mark = _ASCII_ACCENTS.get(rest_m.group(3).lstrip("_"), "")
    return base + mark + _subscript(sub) + primes


_DIM_RE = re.compile(r"[0-9]+|[" + _LETTER + r"][" + _LETTER + r"0-9_]*")


def _dim_factors(d: str) -> list:
    """'2·k·n' → [2, 'k', 'n']."""
    return [int(f) if f.isdigit() else f for f in d.split("·")]


def parse_shape_spec(spec: str) -> tuple[Shape, str]:
    """'64x1024', 'n×m', 'n x m', 'n' (a column vector), 'scalar', each optionally followed by
    a structure, ' symmetric' or ' onehot' (rows of 0/1 that sum to 1) → (shape, structure).

        >>> parse_shape_spec("n x n symmetric")
        (('n', 'n'), 'symmetric')
        >>> parse_shape_spec("64x1024")
        ((64, 1024), '')
    """
    hint = ("write e.g. 64x1024, n×m, n (a column vector), scalar, n x n symmetric or "
            "n x k onehot")
    s = spec.strip()
    structure = ""
    m = re.fullmatch(r"(.*?)[\s,]*\(?\b(symmetric|sym|onehot|one-hot)\)?", s, re.DOTALL)
    if m:
        s, structure = m.group(1).strip(), STRUCTURES[m.group(2)]
    symmetric = structure == "symmetric"
    if s in ("scalar", "1", "") and not (structure and s == ""):
        if s == "":
            raise MatcalcError(f"cannot read the shape '{spec}'", hint=hint)
        return (1, 1), ""
    s = s.replace("\\times", "×").replace("*", "×").replace(",", "×")
    s = re.sub(r"\s+x\s+", "×", s)
    s = re.sub(r"(?<=[0-9])\s*x\s*(?=[0-9A-Za-z])|(?<=[A-Za-z0-9])\s*x\s*(?=[0-9])", "×", s)
    m2 = re.fullmatch(r"([A-Za-z])x([A-Za-z])", s)
    if m2:
        s = f"{m2.group(1)}×{m2.group(2)}"
    parts = [p.strip().strip("{}").strip() for p in s.split("×")]
    dims = []
    for p in parts:
        # a size: a number, a symbol, or a product of them as matcalc prints it (k·n)
        factors = [f.strip() for f in p.split("·")]
        if not all(_DIM_RE.fullmatch(f or "?") for f in factors):
            raise MatcalcError(f"cannot read the shape '{spec}'", hint=hint)
        if any(f.isdigit() and int(f) == 0 for f in factors):
            raise MatcalcError(f"cannot read the shape '{spec}': a dimension of 0", hint=hint)
        dims.append(functools.reduce(ir.dim_mul, _dim_factors(p.replace(" ", ""))))
    if len(dims) == 1:
        shape = (dims[0], dims[0]) if symmetric else (dims[0], 1)
    elif len(dims) == 2:
        shape = (dims[0], dims[1])
    else:
        raise MatcalcError(f"cannot read the shape '{spec}': more than two dimensions",
                           hint=hint)
    if symmetric and shape[0] != shape[1]:
        raise MatcalcError(f"a symmetric matrix must be square, got '{spec}'",
                           hint="e.g. n x n symmetric")
    return shape, structure


_NUMBER_BOUND = 10 ** MAX_DIGITS
_NUMBER_HINT = (f"numbers are exact fractions with at most {MAX_DIGITS} digits above and below "
                f"the line (1e-{MAX_DIGITS - 1} to 1e{MAX_DIGITS - 1})")


def fits(value: Fraction) -> bool:
    """Is the number within the limits: numerator and denominator of at most MAX_DIGITS
    digits?"""
    return abs(value.numerator) < _NUMBER_BOUND and value.denominator < _NUMBER_BOUND


def _literal_fits(literal: str) -> bool:
    """Is a written number (2, 0.5, 1e-5, 12/7) within the limits? Its size is read off its
    digits and exponent before it is expanded (1e30800001 would take minutes to expand)."""
    top, _, bottom = literal.partition("/")
    for part in (top, bottom or "1"):
        d = Decimal(part)
        if d and (len(d.as_tuple().digits) > MAX_DIGITS or abs(d.adjusted()) > MAX_DIGITS):
            return False
    return not Decimal(bottom or "1") or fits(Fraction(top) / Fraction(bottom or "1"))


# =============================================================================================
# The grammar and the Lark parser (built on first use)
# =============================================================================================

def _grammar_text() -> str:
    installed = importlib.resources.files("matcalc") / "grammar" / "matcalc.lark"
    path = installed if installed.is_file() else \
        Path(__file__).resolve().parent.parent / "grammar" / "matcalc.lark"
    return path.read_text(encoding="utf-8")


_PARSER = None


class _TokenListLexer(Lexer):
    """The tokens are made by _Lexer; Lark only parses them. (At module level: the cached parser
    tables name it.)"""

    def __init__(self, lexer_conf):
        pass

    def lex(self, data):
        yield from data


def _parser():
    global _PARSER
    if _PARSER is None:
        # the LALR tables are built once and kept in the user's cache directory (Lark checks
        # that they are of this grammar and Lark); where none can be made, they are built anew.
        # Every token stays in the tree: the elaborator takes the spans from them (Lark's
        # propagate_positions would cost twice the parse) and drops the punctuation.
        _PARSER = Lark(_grammar_text(), parser="lalr", lexer=_TokenListLexer,
                       keep_all_tokens=True, maybe_placeholders=False,
                       cache=_parser_cache() or False)
    return _PARSER


def _parser_cache() -> str | None:
    """The file that keeps the parser tables: matcalc/parser.tables in $XDG_CACHE_HOME (else
    ~/.cache), or None when that folder cannot be made."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    folder = os.path.join(base, "matcalc")
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError:
        return None
    return os.path.join(folder, "parser.tables")


# =============================================================================================
# 1. Lexing
# =============================================================================================

@dataclass
class _Declaration:
    names: list          # [(name, span)]
    shape: Shape
    structure: str
    span: tuple


# An accent written in ASCII after the name (X_hat is X̂), and the primes of a name: x′ (Unicode), x^{\prime} (LaTeX, where ' is the transpose), x_prime (ASCII).
_ASCII_ACCENTS = {"hat": "\u0302", "tilde": "\u0303", "bar": "\u0304", "dot": "\u0307"}
_ASCII_ACCENT = r"(?:_(?:hat|tilde|bar|dot)(?![A-Za-z0-9]))?"
_PRIMES = r"(?:′|\^\s*\{\s*(?:\\prime\s*)+\}|\^\s*\\prime(?![A-Za-z])|_prime)*"
_NAME_SPELLING = (r"(?:\\(?:mathbf|boldsymbol|bm|mathit|mathrm|mathcal|mathsf|vec|mathnormal|"
                  r"hat|widehat|tilde|widetilde|bar|overline|dot)"
                  r"\s*\{\s*\\?[A-Za-z]+\s*\}|\{\s*\\bf\s+[A-Za-z]+\s*\}|\\[A-Za-z]+|"
                  r"[" + _LETTER + r"][" + _LETTER + _MARKS + r"0-9]*)"
                  r"(?:\s*_\s*(?:\{\s*[0-9]+\s*\}|[0-9]+)|[₀-₉]+)?" + _ASCII_ACCENT + _PRIMES)
_DEF_RE = re.compile(r"\s*(" + _NAME_SPELLING + r")\s*(:=|=)(?!=)")
_FUNCTION_DEF_RE = re.compile(r"\s*(" + _NAME_SPELLING + r")\s*(?:\\left\s*)?\(\s*(" +
                              _NAME_SPELLING + r")\s*(?:\\right\s*)?\)\s*(:=|=)(?!=)")
_NAMES = r"(" + _NAME_SPELLING + r"(?:\s*,\s*" + _NAME_SPELLING + r")*)"
_DECL_IN_RE = re.compile(r"\s*" + _NAMES + r"\s*(∈|\\in(?![A-Za-z]))\s*", re.DOTALL)
_DECL_COLON_RE = re.compile(r"\s*" + _NAMES + r"\s*(:)(?!=)\s*", re.DOTALL)
_SPACE_RE = re.compile(
    r"(ℝ|𝕊|\\mathbb\s*\{\s*([RS])\s*\}|\\mathbb\s+([RS])|\\Bbb\s*\{\s*([RS])\s*\}|"
    r"\\Bbb\s+([RS])|\\R(?![A-Za-z])|R|S)\s*"
    r"(?:\^\s*(\{[^{}]*\}|\([^()]*\)|[A-Za-z0-9]+)|([ⁿᵐᵏᵖᵈᴺᴰˣ⁰¹²³⁴⁵⁶⁷⁸⁹]+))?"
    r"\s*(\(?\s*(?:symmetric|onehot|one-hot)\s*\)?)?\s*", re.DOTALL)
_SUP_LETTERS = {"ⁿ": "n", "ᵐ": "m", "ᵏ": "k", "ᵖ": "p", "ᵈ": "d", "ᴺ": "N", "ᴰ": "D", "ˣ": "×",
                "⁰": "0", "¹": "1", "²": "2", "³": "3", "⁴": "4", "⁵": "5", "⁶": "6",
                "⁷": "7", "⁸": "8", "⁹": "9"}
_NUMBER_RE = re.compile(r"(?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
# The lexer's patterns, matched at a position of the text (never on a copy of its rest, which
# would make lexing quadratic in the length of the input).
_LATEX_COMMAND_RE = re.compile(r"\\([A-Za-z]+\*?|.)", re.DOTALL)
_LATEX_SPACING_RE = re.compile(r"\\([A-Za-z]+|[,;!: ])")
_FRAC_DIGITS_RE = re.compile(r"([0-9])\s*([0-9])")
_WRAPPED_RE = re.compile(r"\\[A-Za-z]+|[A-Za-z0-9]")
_ASCII_WORD_RE = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)*")
_RUN_RE = re.compile("[" + _LETTER + "][" + _LETTER + _MARKS + "0-9]*")
_SUBSCRIPT_RE = re.compile(
    r"_\s*(\{\s*([^{}]*?)\s*\}|[0-9]+|\\[A-Za-z]+|m(?:ax|in)(?![A-Za-z])|.)")
_PRIME_EXPONENT_RE = re.compile(r"\{\s*(?:\\prime\s*)+\}|\\prime(?![A-Za-z])")
_LATEX_EXPONENT_RE = re.compile(r"[-−]?\s*(?:\\[A-Za-z]+|.)")
_EXPONENT_RE = re.compile(r"[-−]?\s*(?:[0-9]+(?:\.[0-9]+)?|[A-Za-z⊤][A-Za-z0-9]*|.)")
_NORM_SUBSCRIPT_RE = re.compile(
    r"_\s*(?:\{\s*(?:\\(?:mathrm|text|mathsf|rm)\s*(?:\{\s*(?P<wrapped>[A-Za-z0-9∞]+)"
    r"\s*\}|(?P<bare>[A-Za-z0-9∞]+))|(?P<braced>[A-Za-z0-9∞*∗]+|\\infty|\\ast))\s*\}"
    r"|(?P<char>[A-Za-z0-9∞*∗]))")
_NOT_BLANK_RE = re.compile(r"\S")
_DIGITS_RE = re.compile("[0-9]+")
_WS = " \t\r\n\u00a0\u2009\u200a\u202f\u2002\u2003\u2005\u2006$&"


def _tok(type_: str, value, start: int, end: int):
    from lark import Token
    return Token(type_, value, start_pos=start, end_pos=end, line=1, column=start + 1,
                 end_line=1, end_column=end + 1)


class _Lexer:
    """Turns the text into Lark tokens; reads declarations on the way."""

    def __init__(self, text: str, shapes: dict | None):
        self.text = text
        self.dialect = detect_dialect(text)
        self.tokens = []
        self.declarations: list[_Declaration] = []
        self.defined: dict[str, tuple] = {}       # name → span of its definition's name
        self.names: set[str] = set()              # declared or defined (for letter runs)
        self.notes: list = []
        self.statements: list[tuple] = []
        self.functions: dict[str, tuple] = {}     # user function → (parameter, body span)
        for name in (shapes or {}):
            canon = canonical_name(name) or name
            self.names.add(canon)

    def error(self, message, spans=(), hint=""):
        raise MatcalcError(message, self.text, spans, hint)

    # --- statements ------------------------------------------------------------------------
    def run(self):
        regions = self._split_statements()
        self.n_statements = len(regions)
        kinds = []
        for i, (start, end) in enumerate(regions):
            last = i == len(regions) - 1
            kinds.append(self._classify(start, end, last))
        # the longest piece of a letter run that can spell a declared or defined name: its
        # length, and a Greek letter spelt out (λ₁ as lambda1); the end of a run, a function
        self.reach = max((len(n) + _LONGEST_GREEK - 1 for n in self.names), default=0)
        for i, (kind, data) in enumerate(kinds):
            if i:
                self.tokens.append(_tok("_SEP", ";", regions[i][0], regions[i][0]))
            if kind == "declaration":
                self._emit_declaration(data)
            elif kind == "function":
                name, name_span, param, param_span, op_span, body_start, end = data
                self.tokens += [_tok("FUNCTION_NAME", name, *name_span),
                                _tok("_LPAR", "(", name_span[1], name_span[1]),
                                _tok("PARAMETER", param, *param_span),
                                _tok("_RPAR", ")", param_span[1], param_span[1]),
                                _tok("_DEFINE", "=", *op_span)]
                self._lex_expression(body_start, end)
            elif kind == "definition":
                name, name_span, op_span, body_start, end = data
                self.tokens.append(_tok("DEFINED_NAME", name, *name_span))
                self.tokens.append(_tok("_DEFINE", "=", *op_span))
                self._lex_expression(body_start, end)
            else:
                self._lex_expression(*data)
        return self.tokens

    def _split_statements(self):
        text, regions, depth, start = self.text, [], 0, 0
        i, n = 0, len(text)
        opens = []
        while i < n:
            c = text[i]
            if c in "([{⟨":
                depth += 1
                opens.append(i)
                if depth > MAX_NESTING:
                    self.error(f"the expression is nested too deeply (more than {MAX_NESTING} "
                               "brackets)", [(i, i + 1)],
                               "simplify the expression or split it into definitions")
            elif c in ")]}⟩" and depth:
                depth -= 1
                opens.pop()
            elif depth == 0 and (c in ";\n" or text.startswith("\\\\", i)):
                regions.append((start, i))
                i += 2 if c == "\\" else 1
                start = i
                continue
            elif c == "\\" and i + 1 < n:
                i += 2
                continue
            i += 1
        regions.append((start, n))
        regions = [(s, e) for s, e in regions if text[s:e].strip(_WS)]
        if not regions:
            self.error("empty input", hint="write an expression, e.g. ‖XWᵀ‖_F²")
        return regions

    def _classify(self, start, end, last):
        text = self.text
        lead = re.match(r"(?:[" + _WS + r"]|\\[,;!: ]|\\q?quad(?![A-Za-z]))*", text[start:end])
        start += lead.end()
        chunk = text[start:end]
        m = _DECL_IN_RE.match(chunk)
        if m:
            return "declaration", self._read_declaration(start, end, m, "in")
        if not last:
            m = _DECL_COLON_RE.match(chunk)
            if m:
                return "declaration", self._read_declaration(start, end, m, "colon")
        m = _FUNCTION_DEF_RE.match(chunk)
        if m and canonical_name(m.group(1)) and canonical_name(m.group(2)):
            name, param = canonical_name(m.group(1)), canonical_name(m.group(2))
            name_span = (start + m.start(1), start + m.end(1))
            if name in self.functions or name in self.defined:
                self.error(f"{name} is defined twice", [name_span],
                           "give the second definition another name")
            self.functions[name] = (param, (start + m.end(), end))
            return "function", (name, name_span, param, (start + m.start(2), start + m.end(2)),
                                (start + m.start(3), start + m.end(3)), start + m.end(), end)
        m = _DEF_RE.match(chunk)
        if m:
            name = canonical_name(m.group(1))
            if name is not None:
                name_span = (start + m.start(1), start + m.end(1))
                if name in self.defined:
                    self.error(f"{name} is defined twice", [self.defined[name], name_span],
                               "give the second definition another name")
                self.defined[name] = name_span
                self.names.add(name)
                op_span = (start + m.start(2), start + m.end(2))
                return "definition", (name, name_span, op_span, start + m.end(), end)
        return "expression", (start, end)

    def _read_declaration(self, start, end, m, form):
        text = self.text
        names = []
        for nm in re.finditer(_NAME_SPELLING, m.group(1)):
            name = canonical_name(nm.group())
            span = (start + m.start(1) + nm.start(), start + m.start(1) + nm.end())
            if name is None:
                self.error(f"'{nm.group()}' cannot be declared: it is not a name", [span])
            names.append((name, span))
        rhs_start = start + m.end()
        rhs = text[rhs_start:end].rstrip(_WS + ".,")
        rhs_span = (rhs_start, rhs_start + len(rhs))
        elem_span = (start + m.start(2), start + m.end(2))
        if form == "colon":
            try:
                shape, structure = parse_shape_spec(rhs)
            except MatcalcError as err:
                self.error(err.message, [rhs_span], err.hint)
        else:
            shape, structure = self._read_space(rhs, rhs_span)
        decl = _Declaration(names, shape, structure, rhs_span)
        self.declarations.append(decl)
        for name, _ in names:
            self.names.add(name)
        return decl, elem_span

    def _read_space(self, rhs, span):
        hint = "write ℝ, ℝ^n, ℝ^{n×m} or 𝕊^n (symmetric n×n); in ASCII, X: n x m"
        m = _SPACE_RE.fullmatch(rhs)
        if not m:
            self.error(f"cannot read the set '{rhs}'", [span], hint)
        letter = m.group(1)
        for g in (2, 3, 4, 5):
            if m.group(g):
                letter = m.group(g)
        word = m.group(8) and m.group(8).strip("() \t")
        structure = "symmetric" if letter in ("𝕊", "S") else STRUCTURES.get(word, "")
        symmetric = structure == "symmetric"
        exponent = m.group(6)
        if m.group(7):
            exponent = "".join(_SUP_LETTERS[c] for c in m.group(7))
        if exponent is None:
            if symmetric:
                self.error("𝕊 needs a size: 𝕊^n is the symmetric n×n matrices", [span], hint)
            return (1, 1), ""
        exponent = exponent.strip("{}()").strip()
        try:
            shape, _ = parse_shape_spec(exponent)
        except MatcalcError:
            self.error(f"cannot read the set '{rhs}'", [span], hint)
        if symmetric:
            if shape[1] == 1 and shape[0] != 1:
                shape = (shape[0], shape[0])
            if shape[0] != shape[1]:
                self.error(f"a symmetric matrix must be square, got '{rhs}'", [span], hint)
        return shape, structure

    def _emit_declaration(self, data):
        decl, elem_span = data
        for i, (name, span) in enumerate(decl.names):
            if i:
                self.tokens.append(_tok("_COMMA", ",", span[0], span[0]))
            self.tokens.append(_tok("DECLARED_NAME", name, *span))
        self.tokens.append(_tok("_ELEMENT", "∈", *elem_span))
        self.tokens.append(_tok("SPACE", (decl.shape, decl.structure), *decl.span))

    # --- expressions -----------------------------------------------------------------------
    def _lex_expression(self, start, end):
        self.pos, self.end = start, end
        self.stack = []          # open delimiters: (kind, start, end)
        self.force = None        # 'open' / 'close' after \left / \right
        first = len(self.tokens)
        while True:
            self._skip_space()
            if self.pos >= self.end:
                break
            self._next_token()
        if self.stack:
            kind, s, e = self.stack[-1]
            if kind in ("‖", "|"):
                self.error(f"unbalanced {kind}: this {kind} is never closed", [(s, e)],
                           f"close it with a second {kind}")
            closer = {"(": ")", "[": "]", "{": "}", "⟨": "⟩"}[kind]
            self.error(f"unbalanced parentheses: '{kind}' is never closed", [(s, e)],
                       f"add the matching '{closer}'")
        if len(self.tokens) == first:
            self.error("empty statement", [(start, max(end, start + 1))],
                       "write an expression after '='")

    def _skip_space(self):
        t = self.text
        while self.pos < self.end:
            c = t[self.pos]
            if c in _WS:
                self.pos += 1
            elif c == "\\" and self.dialect == "latex":
                m = _LATEX_SPACING_RE.match(t, self.pos, self.end)
                if m and m.group(1) in _LATEX_SKIP:
                    self.pos = m.end()
                else:
                    return
            else:
                return

    def _peek_call(self, pos):
        """Is the text at pos (after spacing) an opening parenthesis?"""
        t = self.text
        while pos < self.end:
            c = t[pos]
            if c in _WS:
                pos += 1
                continue
            if c == "\\":
                m = _LATEX_SPACING_RE.match(t, pos, self.end)
                if m and (m.group(1) in _LATEX_SKIP or m.group(1) in _LATEX_SIZE):
                    pos = m.end()
                    continue
                return False
            return c == "(" or (c == "{" and self.dialect == "latex")
        return False

    def _prev(self):
        return self.tokens[-1] if self.tokens else None

    def _prev_ends_operand(self):
        p = self._prev()
        return p is not None and p.type in _ENDS_OPERAND

    def _emit(self, type_, value, start, end):
        self.tokens.append(_tok(type_, value, start, end))

    def _next_token(self):
        t, i = self.text, self.pos
        c = t[i]
        if c == "\\" and self.dialect == "latex":
            return self._latex_command()
        # two-character operators first
        for op, type_, value in ((":=", None, None), (">=", "COMPARE", ">"),
                                 ("<=", "COMPARE", "<"), (".*", "HADAMARD_OP", "∘"),
                                 ("./", "HADAMARD_OP", "⊘"), (".'", "TRANSPOSE", "T"),
                                 ("||", None, None), ("**", None, None), (".^", None, None)):
            if t.startswith(op, i, self.end):
                if op == ":=":
                    self.error("unexpected ':=' inside an expression", [(i, i + 2)],
                               "a definition is NAME := expression, one per statement")
                if op == "||":
                    self.pos += 2
                    return self._bar("‖", i, i + 2)
                if op in ("**", ".^"):
                    self.pos += 2
                    return self._exponent(i, hadamard=(op == ".^"))
                self.pos += 2
                return self._emit(type_, value, i, i + 2)
        if c in "([{":
            self.stack.append((c, i, i + 1))
            self.pos += 1
            self.force = None
            return self._emit("_LPAR", c, i, i + 1)
        if c in ")]}":
            return self._close_paren(c, i)
        if c == "⟨":
            self.stack.append(("⟨", i, i + 1))
            self.pos += 1
            return self._emit("_LANGLE", c, i, i + 1)
        if c == "⟩":
            return self._close_paren(c, i)
        if c in "‖|":
            self.pos += 1
            return self._bar(c, i, i + 1)
        if c in "+-−–":
            self.pos += 1
            return self._emit("ADD_OP", "+" if c == "+" else "-", i, i + 1)
        if c in "*·⋅@×∗∙":
            self.pos += 1
            return self._emit("_MUL_OP", "·", i, i + 1)
        if c in "/÷":
            self.pos += 1
            return self._emit("_DIV", "/", i, i + 1)
        if c in "∘⊙":
            self.pos += 1
            return self._emit("HADAMARD_OP", "∘", i, i + 1)
        if c == "⊘":
            self.pos += 1
            return self._emit("HADAMARD_OP", "⊘", i, i + 1)
        if c == "⊗":
            self.pos += 1
            return self._emit("_KRON", "⊗", i, i + 1)
        if c in "><≥≤⩾⩽":
            self.pos += 1
            return self._emit("COMPARE", ">" if c in ">≥⩾" else "<", i, i + 1)
        if c == ":":
            self.pos += 1
            return self._emit("_COLON", ":", i, i + 1)
        if c == ",":
            self.pos += 1
            return self._emit("_COMMA", ",", i, i + 1)
        if c == "=":
            self.error("unexpected '=' inside an expression", [(i, i + 1)],
                       "a definition is NAME = expression, one per statement")
        if c == "∈":
            self.error("'∈' is only used in declarations", [(i, i + 1)],
                       "declare a name in its own statement: X ∈ ℝ^{n×m}")
        if c == "'" or c in "ᵀ⊤":
            self.pos += 1
            return self._emit("TRANSPOSE", "T", i, i + 1)
        if c == "^":
            self.pos += 1
            return self._exponent(i)
        if c in _SUPERSCRIPT_DIGITS:
            return self._superscript(i)
        if c == "_" or c in SUBSCRIPT_DIGITS:
            return self._subscript(i)
        if c in "′″":
            return self._prime(i)
        if c == "√":
            self.pos += 1
            call = self._peek_call(self.pos)
            return self._emit("FUNC_CALL" if call else "FUNC_BARE", "sqrt", i, i + 1)
        if c == "𝟏":
            self.pos += 1
            return self._emit("CONSTANT", "1", i, i + 1)
        if c == "𝟙":
            self.pos += 1
            return self._emit("INDICATOR", "1", i, i + 1)
        if c in _VULGAR:
            self.pos += 1
            return self._emit("NUMBER", _VULGAR[c], i, i + 1)
        m = _NUMBER_RE.match(t, i, self.end)
        if m:
            self.pos = m.end()
            return self._number(m.group(), i, m.end())
        if re.match("[" + _LETTER + "]", c):
            return self._word(i)
        if c in "ℝ𝕊":
            self.error(f"'{c}' is only used in declarations", [(i, i + 1)],
                       "declare a name in its own statement: X ∈ ℝ^{n×m}")
        if c in "∑Σ∫∂∇" and c != "Σ":
            self.error(f"unsupported symbol '{c}'", [(i, i + 1)],
                       "matcalc works with whole matrices: sum(X) is the sum of all entries")
        self.error(f"unexpected character '{c}'", [(i, i + 1)],
                   "see docs/language.md for the accepted symbols")

    def _number(self, literal, start, end):
        if not _literal_fits(literal):
            self.error(f"the number {literal} is out of range", [(start, end)], _NUMBER_HINT)
        return self._emit("NUMBER", literal, start, end)

    def _close_paren(self, c, i):
        opener = {")": "(", "]": "[", "}": "{", "⟩": "⟨"}[c]
        if not self.stack:
            self.error(f"unbalanced parentheses: '{c}' has no matching '{opener}'", [(i, i + 1)],
                       f"remove it or add '{opener}' before it")
        kind, s, e = self.stack[-1]
        if kind in ("‖", "|"):
            self.error(f"unbalanced {kind}: this {kind} is not closed before '{c}'",
                       [(s, e), (i, i + 1)], f"close it with a second {kind}")
        if kind != opener:
            self.error(f"mismatched brackets: '{kind}' is closed by '{c}'", [(s, e), (i, i + 1)])
        self.stack.pop()
        self.pos += 1
        self.force = None
        return self._emit("_RANGLE" if c == "⟩" else "_RPAR", c, i, i + 1)

    def _bar(self, kind, start, end):
        force, self.force = self.force, None
        top = self.stack[-1][0] if self.stack else None
        if force == "close" or (force is None and top == kind and self._prev_ends_operand()):
            if top != kind:
                self.error(f"unbalanced {kind}: nothing to close", [(start, end)],
                           f"open it with {kind} first")
            self.stack.pop()
            if kind == "|":
                return self._emit("_BAR_CLOSE", kind, start, end)
            return self._emit("NORM_CLOSE", self._norm_subscript(), start, self.pos)
        if len(self.stack) >= MAX_NESTING:
            self.error(f"the expression is nested too deeply (more than {MAX_NESTING} "
                       "brackets)", [(start, end)], "simplify the expression")
        self.stack.append((kind, start, end))
        return self._emit("_BAR_OPEN" if kind == "|" else "NORM_OPEN", kind, start, end)

    def _norm_subscript(self):
        t, i = self.text, self.pos
        if i < self.end and t[i] in "₁₂":
            self.pos += 1
            return "1" if t[i] == "₁" else "2"
        # _F, _2, _{F}, _{\mathrm{F}}, _{\mathrm F}: a brace opened inside is closed inside
        m = _NORM_SUBSCRIPT_RE.match(t, i, self.end)
        if not m:
            return ""
        sub = next(g for g in m.group("wrapped", "bare", "braced", "char") if g)
        start = i
        self.pos = m.end()
        if sub in ("F", "fro", "Fro"):
            return "F"
        if sub in ("1", "2"):
            return sub
        if sub in ("*", "∗", "\\ast"):
            return "*"             # ‖X‖_*: the nuclear norm
        self.error(f"unsupported norm ‖·‖_{sub}", [(start, self.pos)],
                   f"supported: {spelled('Frobenius norm', self.dialect, 'X')} (Frobenius), "
                   f"{spelled('2-norm', self.dialect, 'x')} (of a vector), "
                   f"{spelled('1-norm', self.dialect, 'x')}")

    def _exponent(self, start, hadamard=False):
        """What follows ^ (or .^ / **): T, −T, a number, ∘k, in braces, parentheses or bare."""
        t, end = self.text, self.end
        self._skip_space()
        i = self.pos
        prime = _PRIME_EXPONENT_RE.match(t, i, end)
        if prime and not hadamard:      # f^{\prime}: the name's prime (LaTeX's ' is the transpose)
            return self._prime(start, prime.end(), prime.group().count("prime"))
        if t.startswith("∘", i, end):
            hadamard, i = True, i + 1
        elif t.startswith("\\circ", i, end):
            hadamard, i = True, i + 5
            while i < end and t[i].isspace():
                i += 1
        if not _NOT_BLANK_RE.search(t, i, end):
            self.error("an exponent is missing after '^'", [(start, self.pos)],
                       "e.g. X^2, X^{-1}, X^T")
        if t[i] in "{(":
            opener, close = t[i], "}" if t[i] == "{" else ")"
            depth = 0
            for j in range(i, end):
                if t[j] == opener:
                    depth += 1
                elif t[j] == close:
                    depth -= 1
                    if depth == 0:
                        break
            else:
                self.error("unbalanced parentheses: the exponent is never closed",
                           [(i, i + 1)], f"add the matching '{close}'")
            content, self.pos = t[i + 1:j], j + 1
        else:
            m = (_LATEX_EXPONENT_RE if self.dialect == "latex" else _EXPONENT_RE).match(t, i, end)
            if not m:
                self.error("an exponent is missing after '^'", [(start, i + 1)],
                           "e.g. X^2, X^{-1}, X^T")
            content, self.pos = m.group(), m.end()
        span = (start, self.pos)
        kind, value = self._read_exponent(content, span, hadamard)
        return self._emit(kind, value, *span)

    def _read_exponent(self, content, span, hadamard):
        c = re.sub(r"\\(mathsf|mathrm|text|rm|mathbf|mathit)\s*", "", content)
        c = c.replace("\\top", "T").replace("\\intercal", "T").replace("⊤", "T")
        c = c.replace("\\circ", "∘").replace("−", "-")
        c = re.sub(r"[\s{}]|\\[,;! ]", "", c)
        if c.startswith("∘"):
            hadamard, c = True, c[1:]
        if c.startswith("(") and c.endswith(")"):
            c = c[1:-1]
        if not hadamard and c == "T":
            return "TRANSPOSE", "T"
        if not hadamard and c == "-T":
            return "INVERSE_TRANSPOSE", "-T"
        m = re.fullmatch(r"\\[dt]?frac([0-9])([0-9])|([-+]?)\\[dt]?frac([0-9]+)([0-9]+)", c)
        if re.fullmatch(r"[-+]?\\[dt]?frac[0-9]+", c):
            c = re.sub(r"\\[dt]?frac", "", c)
            sign = c[0] if c[0] in "+-" else ""
            digits = c.lstrip("+-")
            if len(digits) == 2:
                c = f"{sign}{digits[0]}/{digits[1]}"
        del m
        c = "".join(_VULGAR.get(ch, ch) for ch in c)
        if re.fullmatch(r"[-+]?(?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+)(?:/[0-9]+)?", c):
            if not _literal_fits(c.lstrip("+-")):
                self.error(f"the exponent {c} is out of range", [span], _NUMBER_HINT)
            try:
                value = Fraction(c)
            except ZeroDivisionError:
                self.error(f"cannot read the exponent '{content}'", [span])
            return ("HADPOW" if hadamard else "POWER"), value
        if re.fullmatch(r"[-+]?[A-Za-z" + _LETTER + r"]\w*", c):
            self.error(f"symbolic exponents are not supported: '{content.strip()}'", [span],
                       "use a number, e.g. X^2, X^{-1}, "
                       f"{spelled('entrywise power', self.dialect, 'x', 3)}, or T for the "
                       "transpose")
        self.error(f"cannot read the exponent '{content.strip()}'", [span],
                   "e.g. X^2, X^{-1}, X^T, X^{-T}, "
                   f"{spelled('entrywise power', self.dialect, 'X', 3)}")

    def _superscript(self, start):
        t, i = self.text, start
        if t.startswith("⁻ᵀ", i):
            self.pos = i + 2
            return self._emit("INVERSE_TRANSPOSE", "-T", start, self.pos)
        digits = ""
        while i < self.end and t[i] in _SUPERSCRIPT_DIGITS:
            digits += _SUPERSCRIPT_DIGITS[t[i]]
            i += 1
        self.pos = i
        if not re.fullmatch(r"-?[0-9]+", digits):
            self.error(f"cannot read the superscript '{t[start:i]}'", [(start, i)],
                       "e.g. X⁻¹, X², X⁻ᵀ")
        if not _literal_fits(digits.lstrip("-")):
            self.error(f"the exponent {t[start:i]} is out of range", [(start, i)], _NUMBER_HINT)
        return self._emit("POWER", Fraction(int(digits)), start, i)

    def _subscript(self, start):
        t = self.text
        prev = self._prev()
        if t[start] == "_":
            m = _SUBSCRIPT_RE.match(t, start, self.end)
            content = m.group(2) if m and m.group(2) is not None else (m.group(1) if m else "")
            end = m.end() if m else start + 1
        else:
            end = start
            while end < self.end and t[end] in SUBSCRIPT_DIGITS:
                end += 1
            content = "".join(str(SUBSCRIPT_DIGITS.index(ch)) for ch in t[start:end])
        if prev is None or prev.type != "NAME" or prev.end_pos != start:
            self.error("a subscript must follow a name (W₁, W_1) or a norm (‖X‖_F)",
                       [(start, end)])
        if prev.value == "K" and "," in content:
            # K_{m,n}: the commutation matrix, K_{m,n} vec(A) = vec(Aᵀ) for an m×n A
            self.tokens.pop()
            self.pos = end
            return self._emit("CONSTANT", "K_{" + content + "}", prev.start_pos, end)
        spectral = _SUBSCRIPTED_FUNCTIONS.get((prev.value, content.lstrip("\\")))
        if spectral and self._peek_call(end):
            # λ_max(X), q_min(X): a spectral function or factor, not an index
            self.tokens.pop()
            self.pos = end
            return self._emit("FUNC_CALL", spectral, prev.start_pos, end)
        if not re.fullmatch(r"[0-9]+", content):
            self.error(f"index subscripts are not supported: '{t[prev.start_pos:end]}'",
                       [(start, end)],
                       "matcalc works with whole vectors and matrices; subscripts are "
                       "digits only (W₁, W_1)")
        # the letters before, read apart, may end in a declared name with this subscript: dW₁
        name, first = prev.value + _subscript(content), len(self.tokens) - 1
        for k in range(len(self.tokens) - 2, -1, -1):
            tok = self.tokens[k]
            if tok.type != "NAME" or tok.end_pos != self.tokens[k + 1].start_pos:
                break
            joined = "".join(x.value for x in self.tokens[k:]) + _subscript(content)
            if joined in self.names:
                name, first = joined, k
        begin = self.tokens[first].start_pos
        del self.tokens[first:]
        self._name(name, begin, end)
        self.pos = end

    def _prime(self, start, end=None, count=None):
        r"""A prime of the name before: x′, x″, x^{\prime} (from start to end)."""
        end = start + 1 if end is None else end
        prev = self._prev()
        if prev is None or prev.type != "NAME" or prev.end_pos != start:
            self.error("a prime ′ must follow a name (x′)", [(start, end)],
                       "for the transpose write ᵀ or '")
        if count is None:
            count = 1 if self.text[start] == "′" else 2
        self._rename_prev(prev.value + "′" * count, end)
        self.pos = end

    def _rename_prev(self, name, end):
        """The name before, with its subscript or prime: read as a name again (f′(x) calls
        the function f′)."""
        prev = self.tokens.pop()
        self._name(name, prev.start_pos, end)

    # --- names -----------------------------------------------------------------------------
    def _word(self, start):
        t = self.text
        if self.dialect == "ascii":
            m = _ASCII_WORD_RE.match(t, start, self.end)
            word = m.group()
            self.pos = start + len(word)
            return self._ascii_word(word, start, self.pos)
        m = _RUN_RE.match(t, start, self.end)
        run = m.group()
        self.pos = start + len(run)
        # a letter with an accent (X̂) is a name of its own; the plain parts are segmented
        offset = start
        for part in re.split("([" + _LETTER + "][" + _MARKS + "]+)", run):
            if part[-1:] in tuple(_MARKS):
                self._name(part, offset, offset + len(part))
            elif part:
                self._segment_run(part, offset)
            offset += len(part)

    def _ascii_word(self, word, start, end):
        canon = canonical_name(word) or word
        call = self._peek_call(end)
        if canon in self.names or canon in self.functions:
            return self._name(canon, start, end)
        if word in FUNCTION_SPELLINGS:
            return self._emit("FUNC_CALL" if call else "FUNC_BARE", FUNCTION_SPELLINGS[word],
                              start, end)
        if word in CONSTANT_SPELLINGS:
            return self._emit("CONSTANT", CONSTANT_SPELLINGS[word], start, end)
        called = call and next((f for f in _FUNCTIONS_LONGEST_FIRST if word.endswith(f)
                                and len(word) > len(f) and word[-len(f) - 1] != "_"), None)
        if called:
            # a function name at the end of a run is split off: Xexp(Y) = X·exp(Y)
            cut = end - len(called)
            self._ascii_word(word[:-len(called)], start, cut)
            return self._emit("FUNC_CALL", FUNCTION_SPELLINGS[called], cut, end)
        if re.fullmatch("[A-Z]{2,}", word) and word not in GREEK:
            # a run of capitals is a product even in ASCII: XW + b, tr(AXB)
            self.notes.append(f"'{word}' read as the product {'·'.join(word)} (a run of "
                              "capitals; declare it to use it as one name)")
            for k, letter in enumerate(word):
                self._name(letter, start + k, start + k + 1)
            return None
        letters = re.sub(r"[0-9_]+$", "", word)
        if call and len(letters) > 1 and letters not in GREEK:
            self._unknown_function(word, start, end)
        return self._name(canon, start, end)

    def _unknown_function(self, word, start, end):
        close = difflib.get_close_matches(word, list(FUNCTION_SPELLINGS), n=1, cutoff=0.6)
        if close:
            key = FUNCTION_SPELLINGS[close[0]]
            suggestion = _FUNCTION_DISPLAY.get(key, close[0])
            self.error(f"unknown function '{word}' — did you mean '{suggestion}'?",
                       [(start, end)],
                       f"or declare {word} as a name (e.g. {word}: n x m) to multiply it")
        self.error(f"unknown function '{word}'", [(start, end)],
                   "the functions are listed in docs/language.md; to multiply by a "
                   f"name, declare {word} or write {word}*(…)")

    def _segment_run(self, run, start):
        """A run of letters and digits in the Unicode and LaTeX dialects: a declared name or a
        known function/constant spelling is one token, otherwise one name per letter and a
        number per group of digits (XW = X·W, X1 = X·𝟏)."""
        end = start + len(run)
        canon = canonical_name(run)
        if canon in self.names or canon in self.functions:
            return self._name(canon, start, end)
        call = self._peek_call(end)
        if run in FUNCTION_SPELLINGS:
            return self._emit("FUNC_CALL" if call else "FUNC_BARE", FUNCTION_SPELLINGS[run],
                              start, end)
        if run in CONSTANT_SPELLINGS:
            return self._emit("CONSTANT", CONSTANT_SPELLINGS[run], start, end)
        letters = re.sub(r"[0-9]+$", "", run)
        if (call and len(letters) >= 3 and canon not in self.names
                and difflib.get_close_matches(run, list(FUNCTION_SPELLINGS), n=1, cutoff=0.75)
                and not any(run.endswith(f) for f in FUNCTION_SPELLINGS if len(f) > 1)):
            self._unknown_function(run, start, end)
        i = 0
        while i < len(run):
            if run[i].isdigit():
                m = _DIGITS_RE.match(run, i)
                self._number(m.group(), start + i, start + m.end())
                i = m.end()
                continue
            taken = None
            reach = max(self.reach, _LONGEST_FUNCTION if len(run) - i <= _LONGEST_FUNCTION else 0)
            for j in range(min(len(run), i + reach), i + 1, -1):
                piece = run[i:j]
                if canonical_name(piece) in self.names:
                    taken = ("name", canonical_name(piece), j)
                    break
                if j == len(run) and piece in FUNCTION_SPELLINGS:
                    taken = ("func", FUNCTION_SPELLINGS[piece], j)
                    break
            if taken and taken[0] == "name":
                self._name(taken[1], start + i, start + taken[2])
                i = taken[2]
            elif taken:
                self._emit("FUNC_CALL" if call else "FUNC_BARE", taken[1], start + i,
                           start + taken[2])
                i = taken[2]
            else:
                letter = _GREEK_VARIANTS.get(run[i], run[i])
                self._name(letter, start + i, start + i + 1)
                i += 1

    def _name(self, name, start, end):
        """A name token — or the identity I, or H(…)/σ(…) as the Heaviside step/sigmoid, or
        a call of a function the input defines."""
        declared = name in self.names
        if name in self.functions and self._peek_call(end):
            return self._emit("FUNC_CALL", "fn:" + name, start, end)
        if name == "I" and not declared:
            return self._emit("CONSTANT", "I", start, end)
        if name in ("H", "σ") and self._peek_call(end):
            what = "the Heaviside step" if name == "H" else "the logistic sigmoid"
            if declared:
                self.notes.append(f"{name} is declared, so {name}(…) is read as the product "
                                  f"{name}·(…), not as {what}")
            else:
                self.notes.append(f"{name}(…) read as {what}")
                return self._emit("FUNC_CALL", "heaviside" if name == "H" else "sigmoid",
                                  start, end)
        return self._emit("NAME", name, start, end)

    # --- LaTeX -----------------------------------------------------------------------------
    def _latex_command(self):
        t, start = self.text, self.pos
        m = _LATEX_COMMAND_RE.match(t, start, self.end)
        if m is None:
            self.error("a lone backslash at the end", [(start, start + 1)],
                       "write a LaTeX command (\\cdot, \\frac, …) or remove it")
        cmd = m.group(1).rstrip("*")
        if cmd.isspace():
            cmd = " "          # a backslash before a line break is a space, as in LaTeX
        self.pos = m.end()
        end = self.pos
        if cmd in _LATEX_SKIP:
            return None
        if cmd in _LATEX_SIZE:
            self.force = _LATEX_SIZE[cmd]
            self._skip_space()
            if self.pos < self.end and t[self.pos] == "." and cmd in ("left", "right"):
                self.pos += 1          # \left. and \right. are invisible
                self.force = None
            return None
        if cmd in ("|", "Vert", "lVert", "rVert"):
            return self._bar("‖", start, end)
        if cmd in ("vert", "lvert", "rvert", "mid"):
            return self._bar("|", start, end)
        if cmd in ("{", "}"):
            self.error(f"unexpected '\\{cmd}'", [(start, end)],
                       "use ( ) or plain { } for grouping")
        if cmd in _LATEX_OPS:
            type_, value = _LATEX_OPS[cmd]
            if type_ == "_LANGLE":
                self.stack.append(("⟨", start, end))
            elif type_ == "_RANGLE":
                if not self.stack or self.stack[-1][0] != "⟨":
                    self.error("unbalanced ⟨ ⟩: this \\rangle has no matching \\langle",
                               [(start, end)])
                self.stack.pop()
            return self._emit(type_, value, start, end)
        if cmd in ("frac", "dfrac", "tfrac"):
            self._skip_space()
            m2 = _FRAC_DIGITS_RE.match(t, self.pos, self.end)
            if m2:          # \frac12 = \frac{1}{2}
                self._emit("_FRAC", "frac", start, end)
                for g in (1, 2):
                    p = m2.start(g)
                    self._emit("_LPAR", "{", p, p)
                    self._emit("NUMBER", m2.group(g), p, p + 1)
                    self._emit("_RPAR", "}", p + 1, p + 1)
                self.pos = m2.end()
                return None
            if self.pos < self.end and t[self.pos] != "{":
                self.error(f"write \\{cmd} with braces: \\{cmd}{{a}}{{b}}", [(start, self.pos + 1)])
            return self._emit("_FRAC", "frac", start, end)
        if cmd == "sqrt":
            self._skip_space()
            if self.pos < self.end and t[self.pos] == "[":
                self.error("only square roots are supported", [(start, self.pos + 1)],
                           "\\sqrt{x}; for other roots write x^{1/3}")
            return self._emit("FUNC_CALL" if self._peek_call(end) else "FUNC_BARE", "sqrt",
                              start, end)
        if cmd in _LATEX_FUNCS:
            key = FUNCTION_SPELLINGS.get(cmd, "log")
            return self._emit("FUNC_CALL" if self._peek_call(end) else "FUNC_BARE", key,
                              start, end)
        if cmd in GREEK:
            return self._name(GREEK[cmd], start, end)
        if cmd == "in":
            self.error("'∈' is only used in declarations", [(start, end)],
                       "declare a name in its own statement: X \\in \\mathbb{R}^{n \\times m}")
        if cmd in _LATEX_WRAPPERS:
            return self._latex_wrapper(cmd, start)
        close = difflib.get_close_matches(cmd, sorted(_KNOWN_LATEX), n=1, cutoff=0.7)
        hint = f"did you mean \\{close[0]}?" if close else "see docs/language.md for the " \
            "LaTeX commands matcalc reads"
        self.error(f"unknown LaTeX command \\{cmd}", [(start, end)], hint)

    def _latex_wrapper(self, cmd, start):
        t = self.text
        self._skip_space()
        i = self.pos
        if i < self.end and t[i] == "{":
            j = t.find("}", i)
            if j < 0 or j >= self.end:
                self.error(f"unbalanced braces after \\{cmd}", [(start, i + 1)])
            content, end = t[i + 1:j].strip(), j + 1
        else:
            m = _WRAPPED_RE.match(t, i, self.end)
            if not m:
                self.error(f"\\{cmd} needs an argument", [(start, i)])
            content, end = m.group(), m.end()
        self.pos = end
        span = (start, end)
        if content == "1":
            if cmd in ("mathbb", "Bbb", "mathbbm", "mathds"):
                return self._emit("INDICATOR", "1", *span)
            return self._emit("CONSTANT", "1", *span)
        if cmd in ("mathbb", "Bbb") and content in ("R", "S"):
            self.error(f"'\\{cmd}{{{content}}}' is only used in declarations", [span],
                       "declare a name in its own statement: X \\in \\mathbb{R}^{n \\times m}")
        if cmd in _LATEX_ACCENTS:
            letter = GREEK.get(content[1:]) if content.startswith("\\") else content
            if letter is None or not re.fullmatch("[" + _LETTER + "]", letter):
                self.error(f"\\{cmd} is supported on one letter, e.g. \\{cmd}{{X}}", [span])
            return self._name(letter + _LATEX_ACCENTS[cmd], *span)
        if content.startswith("\\"):
            name = GREEK.get(content[1:])
            if name is None:
                self.error(f"cannot read \\{cmd}{{{content}}}", [span])
            return self._name(name, *span)
        if not re.fullmatch("[" + _LETTER + "][" + _LETTER + "0-9]*", content):
            self.error(f"cannot read \\{cmd}{{{content}}}", [span])
        call = self._peek_call(end)
        if cmd in _LATEX_FUNCTION_WRAPPERS and len(content) > 1:
            if content in FUNCTION_SPELLINGS:
                return self._emit("FUNC_CALL" if call else "FUNC_BARE",
                                  FUNCTION_SPELLINGS[content], *span)
            if content in CONSTANT_SPELLINGS:
                return self._emit("CONSTANT", CONSTANT_SPELLINGS[content], *span)
            canon = canonical_name(content)
            if canon in self.names or canon in GREEK.values():
                return self._name(canon, *span)
            self._unknown_function(content, *span)
        if cmd == "mathcal" and content == "H":
            return self._name("H", *span)
        if len(content) == 1:
            return self._name(_GREEK_VARIANTS.get(content, content), *span)
        # \mathbf{Xw}: a run of letters, each its own name (unless declared)
        before = len(self.tokens)
        self._segment_run(content, start)
        for k in range(before, len(self.tokens)):
            tok = self.tokens[k]
            self.tokens[k] = _tok(tok.type, tok.value, start, end)
        return None


# =============================================================================================
# 2.–3. Elaboration: the tree of the grammar → shape-checked IR
# =============================================================================================

class _Dims:
    """Union–find over dimensions. A dimension is free, a constant (an int or a declared
    symbol such as 'n') or the product of two dimensions (of a Kronecker product or vec)."""

    def __init__(self):
        self.parent: list[int] = []
        self.value: list = []
        self.size: list[int] = []
        self.consts: dict = {}
        self.pending: list = []
        self.ONE = self.const(1)
        self.where = None               # the span being elaborated
        self.watched: set[int] = set()  # fresh dimensions whose first use is wanted
        self.origin: dict = {}          # watched dimension → the span that first unified it

    def new(self, value=None) -> int:
        self.parent.append(len(self.parent))
        self.value.append(value)
        self.size.append(1)
        return len(self.parent) - 1

    def const(self, value) -> int:
        if value not in self.consts:
            self.consts[value] = self.new(value)
        return self.consts[value]

    def find(self, d: int) -> int:
        root = d
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[d] != root:
            self.parent[d], d = root, self.parent[d]
        return root

    def val(self, d: int):
        return self.value[self.find(d)]

    def is1(self, d: int) -> bool:
        return self.val(d) == 1

    def same(self, a: int, b: int) -> bool:
        return self.find(a) == self.find(b)

    def _link(self, ra: int, rb: int):
        """Put the root rb under the root ra."""
        for r in (ra, rb):
            if r in self.watched:
                self.watched.discard(r)
                self.origin[r] = self.where
        self.parent[rb] = ra
        self.size[ra] += self.size[rb]

    def product(self, a: int, b: int) -> int:
        if self.is1(a):
            return b
        if self.is1(b):
            return a
        va, vb = self.val(a), self.val(b)
        if isinstance(va, int) and isinstance(vb, int):
            return self.const(va * vb)
        return self.new(("*", a, b))

    def occurs(self, d: int, e: int) -> bool:
        """Is the root d a factor of the dimension e (itself, or in its products)?"""
        stack, seen = [e], set()
        while stack:
            r = self.find(stack.pop())
            if r == d:
                return True
            if r not in seen and isinstance(self.value[r], tuple):
                seen.add(r)
                stack += self.value[r][1:]
        return False

    def unify(self, a: int, b: int) -> bool:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return True
        va, vb = self.value[ra], self.value[rb]
        if va is None or vb is None:
            if va is None:
                ra, rb = rb, ra       # link the free root under the other
            if self.occurs(rb, ra):
                return False          # d = a·d needs a = 1, and a free dimension is not 1
            self._link(ra, rb)
            return True
        if isinstance(va, tuple) and isinstance(vb, tuple):
            known = self.known(ra), self.known(rb)
            if None not in known:
                if known[0] != known[1]:      # k·n = n·k: known products as numbers do
                    return False
            else:
                if self.same(va[1], vb[2]) or self.same(va[2], vb[1]):
                    vb = (vb[0], vb[2], vb[1])    # a factor they share meets itself
                if not (self.unify(va[1], vb[1]) and self.unify(va[2], vb[2])):
                    return False
            self._link(ra, rb)
            return True
        if isinstance(va, tuple):
            ra, rb, va, vb = rb, ra, vb, va
        if isinstance(vb, tuple) and isinstance(va, int) and self._solve_product(vb, va):
            ra, rb = self.find(ra), self.find(rb)
            if ra != rb:
                self._link(ra, rb)            # the product takes the number as its value
            return True
        return False

    def known(self, d: int):
        """The value of a dimension whose factors are all known (as the IR writes it: k·n),
        else None."""
        v = self.val(d)
        if isinstance(v, tuple):
            a, b = self.known(v[1]), self.known(v[2])
            return None if a is None or b is None else ir.dim_mul(a, b)
        return v

    def _solve_product(self, product, q: int) -> bool:
        """a·b = q for a number q (the size of I ⊗ A, vec(I) … read off what they meet): a
        factor follows from the other, a square's from √q; with both unknown it is checked
        when one becomes known."""
        _, a, b = product
        fa, fb = self.val(a), self.val(b)
        if isinstance(fa, int) and isinstance(fb, int):
            return fa * fb == q
        for known, other in ((fa, b), (fb, a)):
            if isinstance(known, int):
                # a known factor that divides q gives the other (B⊗A = 4×4, A 2×2)
                return q % known == 0 and self.unify(other, self.const(q // known))
        if fa is not None or fb is not None:
            return False                       # a declared symbol times something: not q
        if self.same(a, b):
            root = math.isqrt(q)
            return root * root == q and self.unify(a, self.const(root))
        self.pending.append((product, q))
        return True

    def settle(self) -> bool:
        """Solve the products whose factors were unknown when they met a number, as far as
        what was read later tells their factors."""
        while self.pending:
            pending, self.pending = self.pending, []
            if not all(self._solve_product(p, q) for p, q in pending):
                return False
            if len(self.pending) == len(pending):
                break                          # nothing more is known about them
        return True


class _DimRef:
    """A dimension inside the params of a node under construction."""
    __slots__ = ("d",)

    def __init__(self, d):
        self.d = d


MAX_FLEX = 16      # undeclared names followed per operand (readings.Broadcast.names)
_NONE = frozenset()
_ARGS = object()   # flex not given: the union of the children's
# Nodes whose kind (scalar, vector, matrix) no shape of a name inside changes: reductions to a
# scalar, and a broadcast, which takes the shape of what it meets (in a + b broadcast, the
# kind of the sum is the other operand's)
_KIND_FIXED = {"Sum", "Trace", "Det", "LogDet", "Norm", "Frob", "Broadcast"}


def _union(sets):
    """The union of name sets, None (too many to follow) beyond MAX_FLEX names."""
    out = _NONE
    for s in sets:
        if s is None:
            return None
        if s:
            out = out | s
            if len(out) > MAX_FLEX:
                return None
    return out


class _E:
    """A node under construction: the IR class name, children, params (with _DimRefs), the
    shape as two dimension ids, the source span it came from; for the search over readings,
    the undeclared names with another possible shape on which its kind may depend (``flex``,
    through definitions too) and whether it is built from numbers and declared scalars alone
    (``stated``).

    The children are the first ``n`` entries of a list, which a flattened Add, MatMul or
    Hadamard shares with the node it extends: a + b + c … appends to one list (each node
    sees only its own prefix, which never changes), so a chain of n operands is built in
    O(n), not O(n²). A list given to the constructor is taken over, not copied."""
    __slots__ = (
        "_list",
        "_n",
        "coeff",
        "compare",
        "depth",
        "flex",
        "kind",
        "one",
        "params",
        "shape",
        "span",
        "stated",
    )

    def __init__(self, kind, args, params, shape, span, one=False, coeff=Fraction(1),
                 depth=None, flex=_ARGS, stated=_ARGS):
        self.kind, self.params, self.shape, self.span = kind, tuple(params), shape, span
        self._list = args if type(args) is list else list(args)
        self._n = len(self._list)
        self.depth = depth if depth is not None else \
            1 + max((a.depth for a in self._list), default=0)
        self.one = one
        self.coeff = coeff        # the numeric factor of a MatMul
        self.compare = False
        # by default the names its children involve
        self.flex = _union(a.flex for a in self.args) if flex is _ARGS else flex
        if stated is _ARGS:
            stated = bool(self.args) and all(a.stated for a in self.args)
        self.stated = stated

    @property
    def args(self) -> tuple:
        return tuple(self._list[:self._n])

    @property
    def last(self) -> _E:
        return self._list[self._n - 1]

    def extended(self, items) -> list:
        """The children followed by items, for a node of this kind that extends this one: this
        node's own list appended to, unless another node has extended it already."""
        children = self._list if len(self._list) == self._n else self._list[:self._n]
        children.extend(items)
        return children


_POOL = ["n", "m", "k", "p", "q", "r", "s", "t", "u", "v", "w"]


class _Elaborator:
    """Elaborates the tree under a reading (readings.py): the shapes of the undeclared names
    that differ from the convention's. It records each broadcast it makes, and the place where
    it stops, for the search over readings."""

    def __init__(self, text: str, lexer: _Lexer, shapes: dict | None, reading: dict):
        self.text = text
        self.reading = reading                       # name → readings.Inferred
        self.flexible: set[str] = set()              # undeclared names with another shape
        self.uses: list[tuple] = []                  # (span, flex) of the names used
        self.broadcasts: list = []                   # readings.Broadcast, in order
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
        for name, spec in (shapes or {}).items():
            canon = canonical_name(name) or name
            try:
                shape, structure = parse_shape_spec(spec)
            except MatcalcError as err:
                raise MatcalcError(f"--shape {name}={spec}: {err.message}", hint=err.hint) \
                    from None
            self._declare(canon, shape, structure, None)
        for decl in lexer.declarations:
            for name, span in decl.names:
                self._declare(name, decl.shape, decl.structure, span)

    # --- helpers ---------------------------------------------------------------------------
    def error(self, message, spans=(), hint=""):
        raise MatcalcError(message, self.text, [s for s in spans if s], hint)

    def src(self, e_or_span) -> str:
        """The source of a node, blanks collapsed, shortened to 40 characters (read from its
        first 200 unless they are mostly blank: every sum names itself, so this stays linear)."""
        start, end = e_or_span.span if isinstance(e_or_span, _E) else e_or_span
        s = " ".join(self.text[start:min(end, start + 200)].split())
        if len(s) <= 40 and end > start + 200:
            s = " ".join(self.text[start:end].split())
        return s if len(s) <= 40 else s[:37] + "…"

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
                       "simplify the expression")
        return e

    def num(self, value, span, one=False) -> _E:
        self.check_number(Fraction(value), span)
        return self.node("Num", (), (Fraction(value),), (self.ONE, self.ONE), span, one=one,
                         stated=True)

    def check_number(self, value: Fraction, span):
        """Numbers folded from numbers (2^10, 3·0.5, 1/8) obey the limits of written ones."""
        if not fits(value):
            self.error(f"the number {self.src(span)} is out of range", [span], _NUMBER_HINT)

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
        from lark import Token
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

        def note():
            shape = ("scalar" if kind == "scalar" else
                     f"vector of length {self.dim_name(r)}" if kind == "vector" else
                     f"{self.dim_name(r)}×{self.dim_name(c)} matrix")
            if not inferred:
                return f"{name}: {shape} ({readings.convention(name)})"
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
        if tok.value == "I":
            d = self.dims.new()
            self.inferred.append((d, "I", span))
            return self.node("Identity", (), (_DimRef(d),), (d, d), span)
        return self.ones(span)

    def commutation(self, content, span):
        """K_{m,n} (mn×mn); each size a number, a name or their product (k·n, k*n, k \\cdot n)."""
        parts = [re.split(r"\s*(?:·|\*|\\cdot)\s*", p.strip()) for p in content.split(",")]
        if len(parts) != 2 or not all(_DIM_RE.fullmatch(f) and f.strip("0")
                                      for p in parts for f in p):
            self.error(f"cannot read the commutation matrix K_{{{content}}}", [span],
                       "write K_{m,n}: K_{m,n} vec(A) = vec(Aᵀ) for an m×n A")
        for p in parts:
            self.user_symbols.update(f for f in p if not f.isdigit())
        m, n = (self.size("·".join(p)) for p in parts)
        # from vec(A) to vec(Aᵀ), lengths in the Kronecker order of vec (columns·rows)
        shape = (self.dims.product(m, n), self.dims.product(n, m))
        return self.node("Commutation", (), (_DimRef(m), _DimRef(n)), shape, span)

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
        k = v.shape[0]
        if dims.same(k, rows):          # its length is already the row count: a column
            return self.bcast(v, m.shape)
        if not dims.unify(k, cols):
            if dims.unify(k, rows):
                return self.bcast(v, m.shape)
            self.error(f"{self.src(v)} is {self.fmt(v.shape)} but {self.src(m)} is "
                       f"{self.fmt(m.shape)} — to broadcast it as a row (as NumPy does) its "
                       f"length must equal the columns ({self.dim_name(cols)}); as a column, "
                       f"the rows ({self.dim_name(rows)})", [v.span, m.span])
        name = self.src(v)
        self.notes.append(lambda: f"{name} added to {_article(self.fmt(m.shape))} matrix "
                                  f"broadcasts as a row {name}ᵀ, as NumPy does")
        t = self.node("Transpose", (v,), (), (v.shape[1], v.shape[0]), v.span)
        return self.bcast(t, m.shape)

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
            if a.kind == "Num" and a.params[0] == 1 and not self.is_scalar(b):
                return self.node("HadPow", (b,), (Fraction(-1),), b.shape, span)
            b = self.node("HadPow", (b,), (Fraction(-1),), b.shape, b.span)
        return self.combine("Hadamard", a, b, span, f"{self.src(span)}")

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
                # bᵏ has at least k·(bits of b − 1) bits: too many to compute is out of range
                bits = max(base.numerator.bit_length(), base.denominator.bit_length())
                if bits > 1 and abs(k) * (bits - 1) > 4 * MAX_DIGITS:
                    self.error(f"the number {self.src(span)} is out of range", [span],
                               _NUMBER_HINT)
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
        return self.node("HadPow", (e,), (Fraction(tok.value),), e.shape, span)

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

    # --- the end: name the dimensions, build the IR -----------------------------------------
    def finish(self) -> Program:
        kind, span = self.result_kind
        if kind in ("declaration", "function"):
            what = "a function definition" if kind == "function" else "a declaration"
            self.error(f"the input has no expression to differentiate: it ends with {what}",
                       [span], "add the expression as the last statement")
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
        notes = tuple(dict.fromkeys(n() if callable(n) else n for n in self.notes))
        return Program(self.text, definitions, result, self.result_name, tuple(variables),
                       notes, tuple(self.functions))

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


def _is_zero(e: _E) -> bool:
    return e.kind == "Num" and e.params[0] == 0


def _fmt_decl(shape, structure) -> str:
    r, c = shape
    if shape == (1, 1):
        return "a scalar"
    text = f"{r}×{c}" if c != 1 else f"a vector of length {r}"
    return text + (f" {structure}" if structure else "")


def _fmt_num(k: Fraction) -> str:
    return str(k) if k.denominator == 1 else f"({k})"


# The operations a hint or note suggests, as each dialect spells them (Unicode, ASCII, LaTeX):
# the text answers the input in the input's own dialect — X.^2 to an ASCII user, not X^∘2.
_SPELLINGS = {
    "entrywise power": ("{0}^∘{1}", "{0}.^{1}", "{0}^{{\\circ {1}}}"),
    "entrywise division": ("{0} ⊘ {1}", "{0} ./ {1}", "{0} \\oslash {1}"),
    "inverse": ("{0}⁻¹", "inv({0})", "{0}^{{-1}}"),
    "transpose": ("{0}ᵀ", "{0}'", "{0}^\\top"),
    "product": ("{0}{1}", "{0}*{1}", "{0} {1}"),
    "power": ("{0}^{1}", "{0}^{1}", "{0}^{{{1}}}"),
    "squared norm": ("‖{0}‖²", "norm2({0})^2", "\\|{0}\\|^2"),
    "Frobenius norm": ("‖{0}‖_F", "norm({0})", "\\|{0}\\|_F"),
    "2-norm": ("‖{0}‖₂", "norm2({0})", "\\|{0}\\|_2"),
    "1-norm": ("‖{0}‖₁", "norm1({0})", "\\|{0}\\|_1"),
    "symmetric": ("{0} ∈ 𝕊^n", "{0}: n x n symmetric", "{0} \\in \\mathbb{{S}}^n"),
    "symmetric part": ("½({0} + {0}ᵀ)", "0.5*({0} + {0}')", "\\frac{{1}}{{2}}({0} + {0}^\\top)"),
}
_DIALECTS = ("unicode", "ascii", "latex")


def spelled(operation: str, dialect: str, *operands) -> str:
    """``operation`` applied to the operands (source text), written in ``dialect``.

        >>> spelled("entrywise power", "ascii", "X", 2), spelled("entrywise power", "latex", "X", 2)
        ('X.^2', 'X^{\\\\circ 2}')
    """
    return _SPELLINGS[operation][_DIALECTS.index(dialect)].format(*operands)


def _article(shape_text: str) -> str:
    return ("an " if shape_text[:1] in "aeiouAEIOU8" or shape_text.startswith(("n×", "m×"))
            else "a ") + shape_text


# =============================================================================================
# Entry point
# =============================================================================================

_TOKEN_WORDS = {
    "NAME": "a name", "NUMBER": "a number", "CONSTANT": "a constant", "_LPAR": "'('",
    "_RPAR": "')'", "FUNC_CALL": "a function", "FUNC_BARE": "a function",
    "NORM_OPEN": "'‖'", "NORM_CLOSE": "'‖'", "_BAR_OPEN": "'|'", "_BAR_CLOSE": "'|'",
    "_LANGLE": "'⟨'", "_RANGLE": "'⟩'", "_COMMA": "','", "ADD_OP": "'+' or '−'",
    "_MUL_OP": "'·'", "_DIV": "'/'", "HADAMARD_OP": "'∘'", "_KRON": "'⊗'", "_COLON": "':'",
    "COMPARE": "a comparison", "TRANSPOSE": "'ᵀ'", "POWER": "an exponent", "HADPOW": "'^∘'",
    "INVERSE_TRANSPOSE": "'⁻ᵀ'", "_SEP": "the end of the statement", "$END": "the end",
    "_FRAC": "\\frac", "INDICATOR": "𝟙",
}


def _syntax_error(text, tokens, err) -> MatcalcError:
    tok = err.token
    expected = set(getattr(err, "expected", ()) or ())
    wants_operand = bool(expected & _STARTS_OPERAND)
    if tok.type in ("$END", "_SEP"):
        prev = None
        for t in tokens:
            if t.type == "_SEP" and tok.type == "_SEP" and t.start_pos >= tok.start_pos:
                break
            prev = t
        if prev is not None and prev.type == "FUNC_BARE":
            s = text[prev.start_pos:prev.end_pos]
            return MatcalcError(f"'{s}' needs an argument", text,
                                [(prev.start_pos, prev.end_pos)], f"e.g. {s}(X)")
        if prev is not None and prev.type in _BINARY | {"_DEFINE"}:
            s = text[prev.start_pos:prev.end_pos]
            return MatcalcError(f"dangling operator '{s}': it needs an operand after it", text,
                                [(prev.start_pos, prev.end_pos)],
                                "complete the expression or remove the operator")
        pos = len(text.rstrip()) if tok.type == "$END" else tok.start_pos
        return MatcalcError("the expression ends too early", text, [(max(pos - 1, 0), pos)],
                            "complete the expression")
    s = text[tok.start_pos:tok.end_pos] or tok.value
    span = [(tok.start_pos, tok.end_pos)]
    prev = None
    for t in tokens:
        if t is tok or t.start_pos >= tok.start_pos:
            break
        prev = t
    if tok.type == "_RPAR" and prev is not None and prev.type == "_LPAR":
        return MatcalcError("empty parentheses", text, [(prev.start_pos, tok.end_pos)],
                            "put an expression inside, or remove them")
    if tok.type in _BINARY and wants_operand:
        if prev is not None and prev.type in _BINARY:
            p = text[prev.start_pos:prev.end_pos]
            return MatcalcError(f"missing operand between '{p}' and '{s}'", text,
                                [(prev.start_pos, tok.end_pos)],
                                "put an expression between the two operators")
        return MatcalcError(f"'{s}' needs an operand before it", text, span,
                            "put an expression before the operator")
    if tok.type == "_COMMA":
        return MatcalcError("unexpected ','", text, span,
                            "a comma separates the two arguments of kron(A, B), frob(A, B), "
                            "max(0, X) and ⟨A, B⟩, or the names of a declaration")
    if tok.type in ("DECLARED_NAME", "DEFINED_NAME"):
        return MatcalcError(f"unexpected '{s}'", text, span)
    if tok.type in ("TRANSPOSE", "POWER", "HADPOW", "INVERSE_TRANSPOSE"):
        dialect = detect_dialect(text)
        product = "(" + spelled("product", dialect, "A", "B") + ")"
        return MatcalcError(f"'{s}' needs an operand before it", text, span,
                            "write it right after a name or a closing parenthesis, e.g. "
                            f"{spelled('transpose', dialect, 'X')}, "
                            f"{spelled('transpose', dialect, product)}")
    if tok.type == "_COLON":
        return MatcalcError("unexpected ':'", text, span,
                            "A : B is the Frobenius product of two matrices")
    if wants_operand:
        return MatcalcError(f"unexpected '{s}'", text, span,
                            "expected an operand: a name, a number, a function or '('")
    words = sorted({_TOKEN_WORDS.get(t, t) for t in expected if t in _TOKEN_WORDS})
    hint = ("expected " + ", ".join(words[:6])) if words else ""
    return MatcalcError(f"unexpected '{s}'", text, span, hint)


def parse(text: str, shapes: dict[str, str] | None = None) -> Program:
    """Read ``text`` (statements separated by newlines or ';'; the last is the expression)
    into a shape-checked ``Program``. ``shapes`` maps names to shape specs as given on the
    command line (``{"X": "64x1024"}``); they act as declarations.

        >>> parse("XWᵀ", {"X": "64x1024", "W": "512x1024"}).result
        MatMul(Var('X', (64, 1024)), Transpose(Var('W', (512, 1024))))
    """
    if not isinstance(text, str):
        raise MatcalcError("the expression must be text")
    if len(text) > MAX_LENGTH:
        raise MatcalcError(f"the input is too long ({len(text)} characters; the limit is "
                           f"{MAX_LENGTH})", hint="split it into definitions")
    code = _without_comments(text)
    if not code.strip(_WS):
        raise MatcalcError("empty input", text, (), "write an expression, e.g. ‖XWᵀ‖_F²")
    try:
        lexer = _Lexer(code, shapes)
        tokens = lexer.run()
        from lark.exceptions import UnexpectedInput
        try:
            tree = _parser().parse(tokens)
        except UnexpectedInput as err:
            raise _syntax_error(code, tokens, err) from None
        program = readings.read(
            code, lambda reading: _Elaborator(code, lexer, shapes, reading).outcome(tree))
        return replace(program, source=text)
    except MatcalcError as err:
        if err.text == code:
            err.text = text     # the same positions: the carets point into the text as written
        raise


def _without_comments(text: str) -> str:
    """The text with each comment, from '#' to the end of its line, blanked: the same length,
    so every position in it is a position in the text, and a comment's characters take no
    part in reading the rest (not even in detecting the dialect)."""
    return re.sub(r"#[^\n]*", lambda m: " " * len(m.group()), text)
