"""Parsing: the user's text (Unicode math, the ASCII dialect or LaTeX) → a ``Program`` of
shape-checked expression trees (matcalc/ir.py).

The pipeline, one stage per module of this package:

1. **lexing** (statements.py, lexer.py with names.py and latex.py, and the spellings of
   vocabulary.py) — the context work a grammar cannot do: split the statements and read the
   declarations (statements.py), then detect the dialect, decide whether a bar opens or
   closes, read superscripts (lexer.py), split letter runs into names (names.py) and read
   LaTeX commands (latex.py). It yields the grammar's tokens with their character spans.
2. **parsing** (grammar.py) — ``grammar/matcalc.lark`` (LALR(1)), the specification of the
   language, run from its tables (tables.py).
3. **elaboration** (elaborate.py, with the operators in operators.py, the function calls in
   calls.py and the node under construction in nodes.py) — a mapping from each grammar alias
   to the node it builds, with symbolic dimensions unified by union–find
   (dims.py), under a reading of the undeclared names' shapes searched for by readings.py; it
   keeps the source span of every sub-expression for error messages, applies the conventions
   (and records a note for each) and finally builds the ``ir`` nodes, which check their shapes
   again.

Every problem with the input is a ``MatcalcError`` with carets under the offending text; the
bounds on the input are in limits.py.

    >>> parse("tr(AXB)").result
    Trace(MatMul(Var('A', ('n', 'm')), Var('X', ('m', 'k')), Var('B', ('k', 'n'))))
"""

from __future__ import annotations

import re
from dataclasses import replace

from ..errors import MatcalcError
from . import readings
from .elaborate import Program, _Elaborator
from .grammar import UnexpectedToken, _syntax_error, parse_tokens
from .lexer import _Lexer
from .limits import MAX_LENGTH
from .statements import _WS
from .vocabulary import (
    CONSTANT_SPELLINGS,
    FUNCTION_SPELLINGS,
    canonical_name,
    detect_dialect,
    parse_shape_spec,
)

__all__ = ["CONSTANT_SPELLINGS", "FUNCTION_SPELLINGS", "MAX_LENGTH", "Program", "canonical_name",
           "detect_dialect", "parse", "parse_shape_spec"]


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
        try:
            tree = parse_tokens(tokens)
        except UnexpectedToken as err:
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
