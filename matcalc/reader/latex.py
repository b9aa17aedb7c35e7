r"""LaTeX: the commands of the LaTeX dialect — spacing and sizing skipped, operators, \frac,
\sqrt, functions, Greek letters, and the wrappers (\mathbf, \hat, \operatorname, …) — read
into the grammar's tokens. A part of the lexer (lexer.py), which it extends."""

from __future__ import annotations

import difflib
import re

from .grammar import Token
from .vocabulary import (
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
    CONSTANT_SPELLINGS,
    FUNCTION_SPELLINGS,
    GREEK,
    canonical_name,
)

_LATEX_COMMAND_RE = re.compile(r"\\([A-Za-z]+\*?|.)", re.DOTALL)
_FRAC_DIGITS_RE = re.compile(r"([0-9])\s*([0-9])")
_WRAPPED_RE = re.compile(r"\\[A-Za-z]+|[A-Za-z0-9]")


class _Latex:
    """The lexer's reading of LaTeX commands (lexer._Lexer mixes it in)."""

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
        if cmd in ("lVert", "rVert", "lvert", "rvert") and self.force is None:
            # the command says which side it is (\left and \right say it first):
            # \lVert a \lVert G\rVert_2 G\rVert_2 nests
            self.force = "open" if cmd[0] == "l" else "close"
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
            if type_ in ("_LANGLE", "_RANGLE"):
                self.force = None      # \left or \right was for this bracket, not the next bar
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
            if canon in self.names or canon in self.functions or canon in GREEK.values():
                return self._name(canon, *span)       # \mathrm{np}(x) calls np(s) := …
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
            self.tokens[k] = Token(tok.type, tok.value, start, end)
        return None
