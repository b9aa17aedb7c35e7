"""The grammar (``grammar/matcalc.lark``, LALR(1), the specification of the language), the Lark
parser built from it on first use with its tables cached, and the messages for what the grammar
does not accept."""

from __future__ import annotations

import os

from lark import Lark
from lark.lexer import Lexer

from ..errors import MatcalcError
from .vocabulary import _BINARY, _STARTS_OPERAND, detect_dialect, spelled


def _grammar_text() -> str:
    """The grammar file: installed in the package (matcalc/grammar), else in the source tree
    beside it (os.path: importlib.resources and pathlib would add 3 ms to every start)."""
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    path = os.path.join(package, "grammar", "matcalc.lark")
    if not os.path.isfile(path):
        path = os.path.join(os.path.dirname(package), "grammar", "matcalc.lark")
    with open(path, encoding="utf-8") as file:
        return file.read()


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
