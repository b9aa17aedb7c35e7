"""The vocabulary: how each dialect (Unicode, ASCII, LaTeX) spells names, functions, constants
and operations, the canonical (Unicode) name of a written name, the dialect of a text, and
shape specifications (``--shape X=64x1024``)."""

from __future__ import annotations

import functools
import re

from .. import ir
from ..errors import MatcalcError
from ..ir import Shape

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
    "Diag": "Diag", "diag": "diag", "vec": "vec", "unvec": "unvec", "kron": "kron", "frob": "frob", "max": "max",
    "min": "min", "clip": "clip", "mean": "mean", "var": "var", "softmax": "softmax",
    "logsoftmax": "logsoftmax", "log_softmax": "logsoftmax", "logsumexp": "logsumexp",
    "LSE": "logsumexp",
    "norm": "norm", "norm2": "norm2", "norm1": "norm1", "inv": "inv", "vector": "vector",
    "matrix": "matrix",
    # spectral functions and the factors of their derivatives (λ_max(X), q_max(X), ‖X‖_* …)
    "lambda_max": "lambda_max", "lambda_min": "lambda_min", "norm_nuc": "norm_nuc",
    "q_max": "q_max", "q_min": "q_min", "u_max": "u_max", "v_max": "v_max", "polar": "polar",
    # matrix functions (not entrywise) and their Fréchet derivatives L_f(A, E)
    "expm": "expm", "logm": "logm", "L_exp": "L_exp", "L_log": "L_log",
    # and the Kronecker forms K_f(A) of those: vec(L_f(A, E)) = K_f(A) vec(E)
    "K_exp": "K_exp", "K_log": "K_log",
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
                          ("v", "max"): "v_max", ("L", "exp"): "L_exp", ("L", "log"): "L_log",
                          ("K", "exp"): "K_exp", ("K", "log"): "K_log"}
CONSTANT_SPELLINGS = {"eye": "I", "ones": "1"}
_LONGEST_GREEK = max(map(len, GREEK))
_LONGEST_FUNCTION = max(map(len, FUNCTION_SPELLINGS))
_FUNCTIONS_LONGEST_FIRST = sorted((f for f in FUNCTION_SPELLINGS if len(f) > 1), key=len,
                                  reverse=True)
# Structures a declaration may give a matrix (the word → Var.structure).
STRUCTURES = {"symmetric": "symmetric", "sym": "symmetric", "onehot": "onehot",
              "one-hot": "onehot", "spd": "spd", "SPD": "spd", "diagonal": "diagonal",
              "orthogonal": "orthogonal", "orthonormal": "orthogonal",
              "stochastic": "stochastic", "probability": "stochastic"}
# The structure words as a regular expression (longest first).
STRUCTURE_WORDS = "|".join(sorted(map(re.escape, STRUCTURES), key=len, reverse=True))
# How a function key is shown in messages (did-you-mean suggestions).
_FUNCTION_DISPLAY = {"tr": "tr", "det": "det", "logdet": "logdet", "heaviside": "heaviside"}

_ONE_ARG = {"tr", "det", "logdet", "exp", "log", "sin", "cos", "tan", "tanh", "sqrt", "abs",
            "sign", "sigmoid", "relu", "softplus", "heaviside", "Diag", "diag", "vec",
            "norm2", "norm1", "inv", "vector", "matrix", "expm", "logm", *SPECTRAL_KEYS}
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


# An accent written in ASCII after the name (X_hat is X̂), and the primes of a name: x′ (Unicode), x^{\prime} (LaTeX, where ' is the transpose), x_prime (ASCII).
_ASCII_ACCENTS = {"hat": "\u0302", "tilde": "\u0303", "bar": "\u0304", "dot": "\u0307"}
_ASCII_ACCENT = r"(?:_(?:hat|tilde|bar|dot)(?![A-Za-z0-9]))?"
_PRIMES = r"(?:′|\^\s*\{\s*(?:\\prime\s*)+\}|\^\s*\\prime(?![A-Za-z])|_prime)*"


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
    m = re.fullmatch(r"(.*?)[\s,]*\(?\b(" + STRUCTURE_WORDS + r")\)?", s, re.DOTALL)
    if m:
        s, structure = m.group(1).strip(), STRUCTURES[m.group(2)]
    symmetric = structure in ir.SQUARE_STRUCTURES
    if s in ("scalar", "1", "") and not (structure and s == ""):
        if s == "":
            raise MatcalcError(f"cannot read the shape '{spec}'", hint=hint)
        return (1, 1), ""
    s = s.replace("\\times", "×").replace("\\cdot", "·").replace(",", "×")
    s = re.sub(r"\s+x\s+", "×", s)
    # a size written as a product, k*n (ASCII) or k \cdot n (LaTeX), beside another separator;
    # alone, * separates the two sizes (64*1024)
    s = s.replace("*", "·" if "×" in s else "×")
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
        raise MatcalcError(f"a {structure} matrix must be square, got '{spec}'",
                           hint=f"e.g. n x n {structure}")
    return shape, structure


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
