"""Names: one rule for a run of letters and digits, in every dialect (docs/language.md, Names) —
a declared or defined name, a known spelling (function, constant, Greek letter spelt out), one
letter with its digits, subscript, accent or primes, or else a product of one-letter names,
with a note. A part of the lexer (lexer.py), which it extends."""

from __future__ import annotations

import difflib
import re

from .vocabulary import (
    _FUNCTION_DISPLAY,
    _FUNCTIONS_LONGEST_FIRST,
    _LETTER,
    _MARKS,
    CONSTANT_SPELLINGS,
    FUNCTION_SPELLINGS,
    GREEK,
    SUBSCRIPT_DIGITS,
    canonical_name,
)

# The sizes of eye(n), ones(m, n): each a number, a symbol or a product of them (k*n).
_SIZE = r"(?:[0-9]+|[A-Za-z][A-Za-z0-9_]*)(?:\s*[*·]\s*(?:[0-9]+|[A-Za-z][A-Za-z0-9_]*))*"
_SIZES_RE = re.compile(r"\s*\(\s*(" + _SIZE + r")\s*(?:,\s*(" + _SIZE + r")\s*)?\)")
_ASCII_WORD_RE = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:_(?:[0-9]+|[A-Za-z]+))*")
# a run of letters and digits, an accent only on a letter (X̂1 is X̂₁; in X1̂ the accent
# follows a digit and is no part of the run: an unexpected character, as alone)
_RUN_RE = re.compile("[" + _LETTER + "][" + _MARKS + "]*(?:[" + _LETTER + "][" + _MARKS +
                     "]*|[0-9])*")
_LETTER_DIGITS_RE = re.compile("[" + _LETTER + "][0-9]*")
_ACCENTED_RE = re.compile("([" + _LETTER + "][" + _MARKS + "]+[0-9]*)")


class _Names:
    """The lexer's reading of names (lexer._Lexer mixes it in)."""

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
        by_convention = False     # a piece that is no declared name: a letter's own reading
        i = 0
        while i < len(base):
            taken = None
            for j in range(min(len(base), i + self.reach), i + 1, -1):
                # a name does not end before a digit: digits go with the letter before them
                # (lam0 is λ₀ or l·a·m₀, never λ and a bare 0)
                if canonical_name(base[i:j]) in self.names and not base[j:j + 1].isdigit():
                    taken = j
                    break
            if taken:
                self._name(canonical_name(base[i:taken]), start + i, start + taken)
                i = taken
                continue
            j = _LETTER_DIGITS_RE.match(base, i).end()
            if j == len(base):
                j = len(run)           # the last letter takes the subscript, accent or primes
            piece = canonical_name(run[i:j]) or run[i:j]
            self._name(piece, start + i, start + j)
            by_convention |= piece not in self.names
            i = j
        pieces = [t.value for t in self.tokens[before:]]
        # a run of declared names (XW with X and W declared) is their product, nothing to say
        if len(pieces) > 1 and by_convention:
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
