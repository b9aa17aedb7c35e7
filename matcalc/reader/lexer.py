"""Lexing: the context work a grammar cannot do — detect the dialect, split letter runs into
names, decide whether a bar opens or closes, normalise LaTeX commands and read superscripts,
after statements.py has cut the input and read its declarations. It yields the grammar's
tokens with their character spans."""

from __future__ import annotations

import difflib
import re
from fractions import Fraction

from ..errors import MatcalcError
from .grammar import Token
from .limits import _NUMBER_HINT, MAX_NESTING, _literal_fits
from .statements import _WS, Statements
from .vocabulary import (
    _ENDS_OPERAND,
    _FUNCTION_DISPLAY,
    _FUNCTIONS_LONGEST_FIRST,
    _GREEK_VARIANTS,
    _KNOWN_LATEX,
    _LATEX_ACCENTS,
    _LATEX_FUNCS,
    _LATEX_FUNCTION_WRAPPERS,
    _LATEX_OPS,
    _LATEX_SIZE,
    _LATEX_SKIP,
    _LATEX_WRAPPERS,
    _LETTER,
    _LONGEST_GREEK,
    _MARKS,
    _SUBSCRIPTED_FUNCTIONS,
    _SUPERSCRIPT_DIGITS,
    _VULGAR,
    CONSTANT_SPELLINGS,
    FUNCTION_SPELLINGS,
    GREEK,
    SUBSCRIPT_DIGITS,
    _subscript,
    canonical_name,
    detect_dialect,
    spelled,
)


_NUMBER_RE = re.compile(r"(?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
# The lexer's patterns, matched at a position of the text (never on a copy of its rest, which
# would make lexing quadratic in the length of the input).
_LATEX_COMMAND_RE = re.compile(r"\\([A-Za-z]+\*?|.)", re.DOTALL)
_LATEX_SPACING_RE = re.compile(r"\\([A-Za-z]+|[,;!: ])")
_FRAC_DIGITS_RE = re.compile(r"([0-9])\s*([0-9])")
_WRAPPED_RE = re.compile(r"\\[A-Za-z]+|[A-Za-z0-9]")
# The sizes of eye(n), ones(m, n): each a number, a symbol or a product of them (k*n).
_SIZE = r"(?:[0-9]+|[A-Za-z][A-Za-z0-9_]*)(?:\s*[*·]\s*(?:[0-9]+|[A-Za-z][A-Za-z0-9_]*))*"
_SIZES_RE = re.compile(r"\s*\(\s*(" + _SIZE + r")\s*(?:,\s*(" + _SIZE + r")\s*)?\)")
_ASCII_WORD_RE = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:_(?:[0-9]+|[A-Za-z]+))*")
_RUN_RE = re.compile("[" + _LETTER + "][" + _LETTER + _MARKS + "0-9]*")
_SUBSCRIPT_RE = re.compile(
    r"_\s*(\{\s*([^{}]*?)\s*\}|[0-9]+|\\[A-Za-z]+|(?:max|min|exp|log)(?![A-Za-z])|.)")
_PRIME_EXPONENT_RE = re.compile(r"\{\s*(?:\\prime\s*)+\}|\\prime(?![A-Za-z])")
_LATEX_EXPONENT_RE = re.compile(r"[-−]?\s*(?:\\[A-Za-z]+|.)")
_EXPONENT_RE = re.compile(r"[-−]?\s*(?:[0-9]+(?:\.[0-9]+)?|[A-Za-z⊤][A-Za-z0-9]*|.)")
_NORM_SUBSCRIPT_RE = re.compile(
    r"_\s*(?:\{\s*(?:\\(?:mathrm|text|mathsf|rm)\s*(?:\{\s*(?P<wrapped>[A-Za-z0-9∞]+)"
    r"\s*\}|(?P<bare>[A-Za-z0-9∞]+))|(?P<braced>[A-Za-z0-9∞*∗]+|\\infty|\\ast))\s*\}"
    r"|(?P<char>[A-Za-z0-9∞*∗]))")
_NOT_BLANK_RE = re.compile(r"\S")
_LETTER_DIGITS_RE = re.compile("[" + _LETTER + "][0-9]*")
_ACCENTED_RE = re.compile("([" + _LETTER + "][" + _MARKS + "]+[0-9]*)")


def _tok(type_: str, value, start: int, end: int) -> Token:
    return Token(type_, value, start, end)


class _Lexer:
    """Turns the text into the grammar's tokens; reads declarations on the way."""

    def __init__(self, text: str, shapes: dict | None):
        self.text = text
        self.dialect = detect_dialect(text)
        self.tokens = []
        self.notes: list = []
        statements = Statements(text, shapes)
        self.statements = statements.read()
        self.n_statements = len(self.statements)
        # what the statements declare and define, read before any expression
        self.declarations = statements.declarations
        self.defined = statements.defined
        self.names = statements.names
        self.functions = statements.functions

    def error(self, message, spans=(), hint=""):
        raise MatcalcError(message, self.text, spans, hint)

    # --- statements ------------------------------------------------------------------------
    def run(self):
        # the longest piece of a letter run that can spell a declared or defined name: its
        # length, and a Greek letter spelt out (λ₁ as lambda1); the end of a run, a function
        self.reach = max((len(n) + _LONGEST_GREEK - 1 for n in self.names), default=0)
        for i, ((start, _), kind, data) in enumerate(self.statements):
            if i:
                self.tokens.append(_tok("_SEP", ";", start, start))
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
        # a number, with a leading ⁻; a ⁻ after its digits starts the next one: G⁻¹⁻ᵀ = (G⁻¹)⁻ᵀ
        digits = ""
        while i < self.end and t[i] in _SUPERSCRIPT_DIGITS and not (digits and t[i] == "⁻"):
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
        if prev is not None and prev.type == "CONSTANT" and prev.value in ("I", "1") and \
                prev.end_pos == start:
            return self._sized_constant(prev, content, end)
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
        # (no further back than the longest such name is long)
        name, first = prev.value + _subscript(content), len(self.tokens) - 1
        joined = name
        for k in range(len(self.tokens) - 2, max(len(self.tokens) - 2 - self.reach, -1), -1):
            tok = self.tokens[k]
            if tok.type != "NAME" or tok.end_pos != self.tokens[k + 1].start_pos:
                break
            joined = tok.value + joined
            if joined in self.names:
                name, first = joined, k
        begin = self.tokens[first].start_pos
        del self.tokens[first:]
        self._name(name, begin, end)
        self.pos = end

    def _sized_constant(self, prev, content, end):
        """I_n, I₃, 𝟏_n, 𝟏_{k·n}: the identity or the ones vector of the size written under
        it; I₃ is the name I₃ only when that is declared or defined."""
        self.tokens.pop()
        self.pos = end
        if prev.value == "I" and re.fullmatch("[0-9]+", content) and \
                "I" + _subscript(content) in self.names:
            return self._name("I" + _subscript(content), prev.start_pos, end)
        size = content if prev.value == "I" else content + ",1"
        return self._emit("CONSTANT", f"{prev.value}_{{{size}}}", prev.start_pos, end)

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
        """A run of letters and digits (in ASCII with its _1, _hat, _prime): the dialect decides
        only where the run ends; every run is read by one rule (``_run``)."""
        pattern = _ASCII_WORD_RE if self.dialect == "ascii" else _RUN_RE
        run = pattern.match(self.text, start, self.end).group()
        self.pos = start + len(run)
        # a letter with an accent (X̂, X̂1 = X̂₁) is a name of its own; the plain parts are runs
        offset = start
        for part in _ACCENTED_RE.split(run):
            if _ACCENTED_RE.fullmatch(part):
                self._name(canonical_name(part), offset, offset + len(part))
            elif part:
                self._run(part, offset)
            offset += len(part)

    def _unknown_function(self, word, start, end):
        close = difflib.get_close_matches(word, list(FUNCTION_SPELLINGS), n=1, cutoff=0.6)
        if close:
            key = FUNCTION_SPELLINGS[close[0]]
            suggestion = _FUNCTION_DISPLAY.get(key, close[0])
            self.error(f"unknown function '{word}' — did you mean '{suggestion}'?",
                       [(start, end)],
                       f"or declare {word} as a name (e.g. {word}: n x m) to multiply it")
        self.error(f"unknown function '{word}'", [(start, end)],
                   f"the functions are listed in docs/language.md; declare {word} to multiply "
                   f"by it as one name, or write {word}*(…) for the product of its letters")

    def _run(self, run, start):
        """One rule for a run of letters and digits, in every dialect (docs/language.md, Names):
        a declared or defined name, or a known spelling (a function, a constant, a Greek
        letter spelt out), is one token; one letter with digits, a subscript, an accent or
        primes is one name (W1 = W₁ = W_1); any other run is a product of one-letter names,
        each with its digits (Ax = A·x, XW1 = X·W₁, ab = a·b), with a note; inside it, the
        longest declared name is read first. A function spelt at the end of a run before '('
        is called, the rest read as a run (Xexp(Y) = X·exp(Y), lamtanh(x) = λ·tanh(x))."""
        end = start + len(run)
        canon = canonical_name(run)
        if canon in self.names or canon in self.functions:
            return self._name(canon, start, end)
        call = self._peek_call(end)
        if run in FUNCTION_SPELLINGS:
            return self._emit("FUNC_CALL" if call else "FUNC_BARE", FUNCTION_SPELLINGS[run],
                              start, end)
        if run in CONSTANT_SPELLINGS:
            sizes = _SIZES_RE.match(self.text, end, self.end)
            if sizes and (run == "ones" or sizes.group(2) is None) and not any(
                    canonical_name(f) in self.names
                    for f in re.split(r"[\s,*·]+", sizes.group(1) + "," + (sizes.group(2) or ""))
                    if f and not f.isdigit()):
                # eye(n), ones(m, n) as in MATLAB: the n×n identity, the m×n ones (ones(n, 1)
                # the vector, ones(n) n×n); a declared name in the parentheses is an operand
                self.pos = sizes.end()
                rows, cols = sizes.group(1), sizes.group(2) or sizes.group(1)
                value = f"I_{{{rows}}}" if run == "eye" else f"1_{{{rows},{cols}}}"
                return self._emit("CONSTANT", value, start, sizes.end())
            return self._emit("CONSTANT", CONSTANT_SPELLINGS[run], start, end)
        letters, _, suffix = run.partition("_")
        letters = letters.rstrip("0123456789")
        if canon is not None and (len(letters) == 1 or letters in GREEK):
            return self._name(canon, start, end)
        if suffix and canon is None:
            return self._name(run, start, end)      # a written subscript: W_out
        base = run.partition("_")[0]
        called = call and not suffix and next(
            (f for f in _FUNCTIONS_LONGEST_FIRST if base.endswith(f) and len(base) > len(f)), None)
        if called:
            # a function spelt at the end of the run is called: Xexp(Y) = X·exp(Y)
            cut = end - len(called)
            self._run(run[:-len(called)], start)
            return self._emit("FUNC_CALL", FUNCTION_SPELLINGS[called], cut, end)
        if call and re.fullmatch("[a-z]{3,}", letters):
            self._unknown_function(run, start, end)
        before = len(self.tokens)
        i = 0
        while i < len(base):
            taken = None
            for j in range(min(len(base), i + self.reach), i + 1, -1):
                if canonical_name(base[i:j]) in self.names:
                    taken = j
                    break
            if taken:
                self._name(canonical_name(base[i:taken]), start + i, start + taken)
                i = taken
                continue
            j = _LETTER_DIGITS_RE.match(base, i).end()
            if j == len(base):
                j = len(run)           # the last letter takes the subscript, accent or primes
            piece = run[i:j]
            self._name(canonical_name(piece) or piece, start + i, start + j)
            i = j
        pieces = [t.value for t in self.tokens[before:]]
        if len(pieces) > 1:
            kind = "capitals" if run.isupper() else "letters"
            self.notes.append(f"'{run}' read as the product {'·'.join(pieces)} (a run of "
                              f"{kind}; declare it to use it as one name)")
        return None

    def _name(self, name, start, end):
        """A name token — or the identity I, or H(…)/σ(…) as the Heaviside step/sigmoid, or
        a call of a function the input defines."""
        declared = name in self.names
        if name in self.functions and self._peek_call(end):
            return self._emit("FUNC_CALL", "fn:" + name, start, end)
        if name == "I" and not declared:
            return self._emit("CONSTANT", "I", start, end)
        if re.fullmatch("I[₀-₉]+", name) and not declared:
            # I₃ = I3 = I_3: the 3×3 identity, as I_n is the n×n one
            digits = "".join(str(SUBSCRIPT_DIGITS.index(c)) for c in name[1:])
            return self._emit("CONSTANT", f"I_{{{digits}}}", start, end)
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
        self._run(content, start)
        for k in range(before, len(self.tokens)):
            tok = self.tokens[k]
            self.tokens[k] = _tok(tok.type, tok.value, start, end)
        return None
