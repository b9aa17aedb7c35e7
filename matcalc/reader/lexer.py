"""Lexing: the context work a grammar cannot do — detect the dialect, decide whether a bar opens
or closes, read numbers, superscripts, subscripts and primes, after statements.py has cut the
input and read its declarations; letter runs are read into names by names.py, LaTeX commands by
latex.py. It yields the grammar's tokens with their character spans."""

from __future__ import annotations

import re
from fractions import Fraction

from ..errors import MatcalcError
from .grammar import Token
from .latex import _Latex
from .limits import _NUMBER_HINT, MAX_NESTING, _literal_fits
from .names import _Names
from .statements import _WS, Statements
from .vocabulary import (
    _ENDS_OPERAND,
    _LATEX_SIZE,
    _LATEX_SKIP,
    _LETTER,
    _LONGEST_GREEK,
    _SUBSCRIPTED_FUNCTIONS,
    _SUPERSCRIPT_DIGITS,
    _VULGAR,
    SUBSCRIPT_DIGITS,
    _subscript,
    detect_dialect,
    spelled,
)


_NUMBER_RE = re.compile(r"(?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
# The lexer's patterns (here, in names.py and in latex.py) are matched at a position of the
# text, never on a copy of its rest, which would make lexing quadratic in the input's length.
_LATEX_SPACING_RE = re.compile(r"\\([A-Za-z]+|[,;!: ])")
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


class _Lexer(_Names, _Latex):
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
                self.tokens.append(Token("_SEP", ";", start, start))
            if kind == "declaration":
                self._emit_declaration(data)
            elif kind == "function":
                name, name_span, param, param_span, op_span, body_start, end = data
                self.tokens += [Token("FUNCTION_NAME", name, *name_span),
                                Token("_LPAR", "(", name_span[1], name_span[1]),
                                Token("PARAMETER", param, *param_span),
                                Token("_RPAR", ")", param_span[1], param_span[1]),
                                Token("_DEFINE", "=", *op_span)]
                self._lex_expression(body_start, end)
            elif kind == "definition":
                name, name_span, op_span, body_start, end = data
                self.tokens.append(Token("DEFINED_NAME", name, *name_span))
                self.tokens.append(Token("_DEFINE", "=", *op_span))
                self._lex_expression(body_start, end)
            else:
                self._lex_expression(*data)
        return self.tokens

    def _emit_declaration(self, data):
        decl, elem_span = data
        for i, (name, span) in enumerate(decl.names):
            if i:
                self.tokens.append(Token("_COMMA", ",", span[0], span[0]))
            self.tokens.append(Token("DECLARED_NAME", name, *span))
        self.tokens.append(Token("_ELEMENT", "∈", *elem_span))
        self.tokens.append(Token("SPACE", (decl.shape, decl.structure), *decl.span))

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
        self.tokens.append(Token(type_, value, start, end))

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
        if kind == "POWER" and value == -1 and self._inverse_of_vec(start, self.pos):
            return None
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
        if re.fullmatch(r"[-+]?\\[dt]?frac[0-9]+", c):
            c = re.sub(r"\\[dt]?frac", "", c)
            sign = c[0] if c[0] in "+-" else ""
            digits = c.lstrip("+-")
            if len(digits) == 2:
                c = f"{sign}{digits[0]}/{digits[1]}"
        c = "".join(_VULGAR.get(ch, ch) for ch in c)
        if re.fullmatch(r"[-+]?(?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+)(?:/[0-9]+)?", c):
            if not _literal_fits(c.lstrip("+-")):
                self.error(f"the exponent {c} is out of range", [span], _NUMBER_HINT)
            # a decimal over a whole number, 0.5/2, read as the quotient (Fraction reads only
            # a whole numerator over its denominator)
            numerator, _, denominator = c.partition("/")
            if denominator and int(denominator) == 0:
                self.error(f"cannot read the exponent '{content}': it divides by zero", [span],
                           "an exponent p/q needs q ≠ 0")
            value = Fraction(numerator) / Fraction(denominator or 1)
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
        if digits == "-1" and self._inverse_of_vec(start, i):
            return None
        return self._emit("POWER", Fraction(int(digits)), start, i)

    def _inverse_of_vec(self, start, end) -> bool:
        r"""vec⁻¹, \operatorname{vec}^{-1} right after vec: the function vec⁻¹ (its shape is
        written under it, vec⁻¹_{n×m}(v))."""
        prev = self._prev()
        if prev is None or prev.type != "FUNC_BARE" or prev.value != "vec" or \
                prev.end_pos != start:
            return False
        self.tokens.pop()
        self.pos = end
        self._emit("FUNC_CALL" if self._peek_call(end) else "FUNC_BARE", "unvec",
                   prev.start_pos, end)
        return True

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
        if prev is not None and prev.value == "unvec" and prev.end_pos == start:
            # vec⁻¹_{n×m}(v): the n×m matrix whose vec is v
            sizes = re.split(r"\s*(?:×|\\times)\s*", content)
            if len(sizes) != 2:
                self.error(f"cannot read the shape '{content}' of vec⁻¹", [(start, end)],
                           "write vec⁻¹_{n×m}(v) for the n×m matrix whose vec is v")
            self.tokens.pop()
            self.pos = end
            return self._emit("FUNC_CALL" if self._peek_call(end) else "FUNC_BARE",
                              f"unvec_{{{','.join(sizes)}}}", prev.start_pos, end)
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
