"""Statements: the input cut at the top-level ';', newlines and LaTeX's \\\\, and each one
classified — a declaration (X ∈ ℝ^{n×m}, 𝕊^n, X: n x m) with its set read, a definition
(Y = …), a user function (f(x) := …) or an expression — before any expression is lexed, so
that the lexer knows every declared and defined name wherever it is used."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import MatcalcError
from ..ir import SQUARE_STRUCTURES, Shape
from .limits import MAX_NESTING
from .vocabulary import (
    _ASCII_ACCENT,
    _LETTER,
    _MARKS,
    _PRIMES,
    STRUCTURE_WORDS,
    STRUCTURES,
    canonical_name,
    parse_shape_spec,
)

# the characters between tokens (LaTeX's alignment & and $ among them)
_WS = " \t\r\n\u00a0\u2009\u200a\u202f\u2002\u2003\u2005\u2006$&"


@dataclass
class Declaration:
    names: list          # [(name, span)]
    shape: Shape
    structure: str
    span: tuple


_NAME_SPELLING = (r"(?:\\(?:mathbf|boldsymbol|bm|mathit|mathrm|mathcal|mathsf|vec|mathnormal|"
                  r"hat|widehat|tilde|widetilde|bar|overline|dot)"
                  r"\s*\{\s*\\?[A-Za-z]+\s*\}|\{\s*\\bf\s+[A-Za-z]+\s*\}|\\[A-Za-z]+|"
                  r"[" + _LETTER + r"][" + _LETTER + _MARKS + r"0-9]*)"
                  r"(?:\s*_\s*(?:\{\s*[0-9]+\s*\}|[0-9]+)|[₀-₉]+)?" + _ASCII_ACCENT + _PRIMES)
# The patterns of the statements that are not expressions, compiled on first use (re keeps them)
# and tried only on a statement that has their sign: compiling them costs a start-up that
# reads no declaration or definition 8 ms.
_DEF_RE = r"\s*(" + _NAME_SPELLING + r")\s*(:=|=)(?!=)"
_FUNCTION_DEF_RE = (r"\s*(" + _NAME_SPELLING + r")\s*(?:\\left\s*)?\(\s*(" +
                    _NAME_SPELLING + r")\s*(?:\\right\s*)?\)\s*(:=|=)(?!=)")
_NAMES = r"(" + _NAME_SPELLING + r"(?:\s*,\s*" + _NAME_SPELLING + r")*)"
_DECL_IN_RE = r"\s*" + _NAMES + r"\s*(∈|\\in(?![A-Za-z]))\s*"
_DECL_COLON_RE = r"\s*" + _NAMES + r"\s*(:)(?!=)\s*"
_SPACE_RE = re.compile(
    r"(ℝ|𝕊|\\mathbb\s*\{\s*([RS])\s*\}|\\mathbb\s+([RS])|\\Bbb\s*\{\s*([RS])\s*\}|"
    r"\\Bbb\s+([RS])|\\R(?![A-Za-z])|R|S)\s*"
    r"(?:\^\s*(\{[^{}]*\}|\([^()]*\)|[A-Za-z0-9]+)|([ⁿᵐᵏᵖᵈᴺᴰˣ⁰¹²³⁴⁵⁶⁷⁸⁹]+))?"
    r"\s*(\(?\s*(?:" + STRUCTURE_WORDS + r")\s*\)?)?\s*", re.DOTALL)
_SUP_LETTERS = {"ⁿ": "n", "ᵐ": "m", "ᵏ": "k", "ᵖ": "p", "ᵈ": "d", "ᴺ": "N", "ᴰ": "D", "ˣ": "×",
                "⁰": "0", "¹": "1", "²": "2", "³": "3", "⁴": "4", "⁵": "5", "⁶": "6",
                "⁷": "7", "⁸": "8", "⁹": "9"}


class Statements:
    """The statements of a text, classified; the names they declare and define, and the user
    functions, as the lexer needs them."""

    def __init__(self, text: str, shapes: dict | None):
        self.text = text
        self.declarations: list[Declaration] = []
        self.defined: dict[str, tuple] = {}       # name → span of its definition's name
        self.names: set[str] = set()              # declared or defined (for letter runs)
        self.functions: dict[str, tuple] = {}     # user function → (parameter, body span)
        for name in (shapes or {}):
            self.names.add(canonical_name(name) or name)

    def error(self, message, spans=(), hint=""):
        raise MatcalcError(message, self.text, spans, hint)

    def read(self) -> list[tuple]:
        """[(region, kind, data)] in order: kind is declaration, function, definition or
        expression."""
        regions = self._split()
        return [(region, *self._classify(*region, i == len(regions) - 1))
                for i, region in enumerate(regions)]

    def _split(self):
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
        m = ("∈" in chunk or "\\in" in chunk) and re.match(_DECL_IN_RE, chunk, re.DOTALL)
        if m:
            return "declaration", self._read_declaration(start, end, m, "in")
        if not last:
            m = ":" in chunk and re.match(_DECL_COLON_RE, chunk, re.DOTALL)
            if m:
                return "declaration", self._read_declaration(start, end, m, "colon")
        defines = "=" in chunk
        m = defines and re.match(_FUNCTION_DEF_RE, chunk)
        if m and canonical_name(m.group(1)) and canonical_name(m.group(2)):
            name, param = canonical_name(m.group(1)), canonical_name(m.group(2))
            name_span = (start + m.start(1), start + m.end(1))
            if name in self.functions or name in self.defined:
                self.error(f"{name} is defined twice", [name_span],
                           "give the second definition another name")
            self.functions[name] = (param, (start + m.end(), end))
            return "function", (name, name_span, param, (start + m.start(2), start + m.end(2)),
                                (start + m.start(3), start + m.end(3)), start + m.end(), end)
        m = defines and re.match(_DEF_RE, chunk)
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
        decl = Declaration(names, shape, structure, rhs_span)
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
        structure = STRUCTURES.get(word, "symmetric" if letter in ("𝕊", "S") else "")
        symmetric = structure in SQUARE_STRUCTURES
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
                self.error(f"a {structure} matrix must be square, got '{rhs}'", [span], hint)
        return shape, structure
