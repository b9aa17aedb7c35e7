"""The grammar (``grammar/matcalc.lark``, LALR(1), the specification of the language), the
parser that runs its tables, and the messages for what the grammar does not accept.

The tables (tables.py) are made from the grammar by Lark when the grammar changes
(``write_tables`` writes them; a test checks that they are the grammar's),
so that reading an input needs neither Lark nor a table cache: a start loads them in well under
a millisecond, where importing Lark took 30 ms."""

from __future__ import annotations

import os

from ..errors import MatcalcError
from .tables import ACTIONS, END, RULES, START
from .vocabulary import _BINARY, _STARTS_OPERAND, detect_dialect, spelled


class Token(str):
    """A terminal of the grammar: its text, its name in the grammar (``type``), its value
    (the text, or what the lexer read from it, e.g. a declaration's shape) and its span."""

    __slots__ = ("type", "value", "start_pos", "end_pos")

    def __new__(cls, type_: str, value, start_pos: int, end_pos: int):
        token = super().__new__(cls, value)
        token.type, token.value, token.start_pos, token.end_pos = type_, value, start_pos, end_pos
        return token


class Tree:
    """A node of the parse tree: the alias of the grammar alternative that built it (``data``)
    and its children (trees and tokens, punctuation included)."""

    __slots__ = ("data", "children")

    def __init__(self, data: str, children: list):
        self.data, self.children = data, children

    def __repr__(self) -> str:
        return f"Tree({self.data!r}, {self.children!r})"


class UnexpectedToken(Exception):
    """The grammar has no move for ``token`` here; ``expected`` are the terminals it had."""

    def __init__(self, token: Token, expected: set[str]):
        super().__init__(token.type)
        self.token, self.expected = token, expected


def parse_tokens(tokens: list[Token]) -> Tree:
    """The LALR(1) parse of the tokens: shift a token onto the stack, or reduce the top of the
    stack by a rule into the tree that rule builds. A rule whose name starts with '_' (a
    repetition) hands its children to its parent; a '?' rule with one child is that child."""
    states, values = [START], []
    last = tokens[-1] if tokens else None
    end = Token("$END", "", last.start_pos, last.end_pos) if last else Token("$END", "", 0, 0)
    for token in (*tokens, end):
        while True:
            actions = ACTIONS[states[-1]]
            move = actions.get(token.type)
            if move is None:
                raise UnexpectedToken(token, {t for t in actions if t.isupper()})
            if move >= 0:                                   # shift
                states.append(move)
                values.append(token)
                break
            symbol, size, data, single = RULES[~move]       # reduce
            children = []
            for value in values[len(values) - size:]:
                if type(value) is list:
                    children.extend(value)
                else:
                    children.append(value)
            del states[len(states) - size:], values[len(values) - size:]
            if data is None:
                node = children
            elif single and len(children) == 1:
                node = children[0]
            else:
                node = Tree(data, children)
            states.append(ACTIONS[states[-1]][symbol])
            values.append(node)
            if token is end and states[-1] == END:
                return node


def _grammar_text() -> str:
    """The grammar file: installed in the package (matcalc/grammar), else in the source tree
    beside it."""
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    path = os.path.join(package, "grammar", "matcalc.lark")
    if not os.path.isfile(path):
        path = os.path.join(os.path.dirname(package), "grammar", "matcalc.lark")
    with open(path, encoding="utf-8") as file:
        return file.read()


def lark_parser():
    """The grammar's LALR(1) parser as Lark builds it, over tokens given ready (our lexer makes
    them): the source of the tables, and what the tests compare the tables' parse with."""
    from lark import Lark
    from lark.lexer import Lexer

    class Given(Lexer):
        def __init__(self, conf):
            pass

        def lex(self, data):
            yield from data

    return Lark(_grammar_text(), parser="lalr", lexer=Given, keep_all_tokens=True,
                maybe_placeholders=False)


def tables_source() -> str:
    """The text of tables.py for the grammar as it is: Lark builds the LALR(1) automaton; its
    states are numbered here in the order a walk from the start meets them, so that the same
    grammar always gives the same text."""
    from lark.parsers.lalr_analysis import Shift

    lark = lark_parser()
    table = lark.parser.parser.parser.parse_table
    rules = list(lark.rules)
    order = [table.start_states["start"]]
    number = {order[0]: 0}
    for state in order:
        for symbol in sorted(table.states[state]):
            action, arg = table.states[state][symbol]
            if action is Shift and arg not in number:
                number[arg] = len(order)
                order.append(arg)
    rows = []
    for state in order:
        moves = {}
        for symbol in sorted(table.states[state]):
            action, arg = table.states[state][symbol]
            moves[str(symbol)] = number[arg] if action is Shift else ~rules.index(arg)
        rows.append(f"    {moves!r},")
    described = []
    for rule in rules:
        inline = rule.origin.name.startswith("_")
        data = None if inline else str(rule.alias or rule.origin.name)
        single = bool(rule.options.expand1 and not rule.alias)
        described.append(f"    ({str(rule.origin.name)!r}, {len(rule.expansion)}, {data!r}, {single}),"
                         f"  # {' '.join(s.name for s in rule.expansion)}")
    return "\n".join([
        '"""The LALR(1) tables of grammar/matcalc.lark, made by Lark. Do not edit: after changing',
        "the grammar, run ``python -c 'import matcalc.reader.grammar as g; g.write_tables()'``",
        '(tests/test_grammar_tables.py checks that these are the grammar\'s)."""',
        "",
        f"START, END = 0, {number[table.end_states['start']]}",
        "",
        "# RULES[r]: the symbol rule r makes, how many symbols it takes off the stack, the tree it",
        "# builds (None: its parent takes its children) and whether one child stands for it",
        "RULES = (",
        *described,
        ")",
        "",
        "# ACTIONS[state][symbol]: shift (or go) to state n >= 0, or reduce by rule ~n",
        "ACTIONS = (",
        *rows,
        ")",
        "",
    ])


def write_tables() -> None:
    """Write tables.py for the grammar as it is (after a change to grammar/matcalc.lark)."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tables.py")
    with open(path, "w", encoding="utf-8") as out:
        out.write(tables_source())


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
