"""The parser runs LALR(1) tables made from grammar/matcalc.lark by Lark (matcalc/reader/
tables.py): they must be the grammar's, and running them must build the tree Lark's own parser
builds — the same nodes, the same tokens, and on a syntax error the same token and the same
expected terminals."""

from __future__ import annotations

import pathlib

import pytest
from lark import Token
from lark.exceptions import UnexpectedToken as LarkUnexpectedToken
from test_fuzz import fuzz_inputs

from matcalc.errors import MatcalcError
from matcalc.reader import grammar
from matcalc.reader.lexer import _Lexer

TABLES = pathlib.Path(grammar.__file__).with_name("tables.py")


def test_the_tables_are_the_grammars():
    assert TABLES.read_text(encoding="utf-8") == grammar.tables_source(), (
        "grammar/matcalc.lark changed: rewrite the tables with "
        "python -c 'import matcalc.reader.grammar as g; g.write_tables()'")


@pytest.fixture(scope="module")
def lark_parser():
    return grammar.lark_parser()


def _shape(node):
    """A tree as nested tuples: (alias, children…) for a node, (type, text, start, end) for a
    token, the same for Lark's trees and ours."""
    if hasattr(node, "children"):
        return (str(node.data), *map(_shape, node.children))
    return (node.type, str(node), node.start_pos, node.end_pos)


def _both(lark_parser, tokens):
    try:
        ours = ("tree", _shape(grammar.parse_tokens(tokens)))
    except grammar.UnexpectedToken as err:
        ours = ("error", _shape(err.token), sorted(err.expected))
    try:
        theirs = ("tree", _shape(lark_parser.parse(
            [Token(t.type, t.value, t.start_pos, 1, t.start_pos + 1, 1, t.end_pos + 1, t.end_pos)
             for t in tokens])))
    except LarkUnexpectedToken as err:
        theirs = ("error", (err.token.type, str(err.token), err.token.start_pos,
                            err.token.end_pos), sorted(err.expected))
    return ours, theirs


def test_the_tables_parse_as_lark_does(lark_parser):
    compared = {"tree": 0, "error": 0}
    for text in fuzz_inputs(3000, seed=5):
        try:
            tokens = _Lexer(text, None).run()
        except MatcalcError:
            continue
        ours, theirs = _both(lark_parser, tokens)
        assert ours == theirs, text
        compared[ours[0]] += 1
    assert compared["tree"] > 500 and compared["error"] > 100, compared


def test_an_empty_token_list_is_an_error_at_the_end():
    with pytest.raises(grammar.UnexpectedToken) as err:
        grammar.parse_tokens([])
    assert err.value.token.type == "$END"
