"""Memo tables of expression trees, kept for one input at a time.

Trees are immutable, so the rules memoize what they compute of a tree (its simplified form, its
cost, its code form). The tables are emptied when another input is derived: kept, they grew over
the inputs of a long session to millions of nodes, which the cycle collector scanned (a second
at a time, on whichever input it fell) and memory held."""

from __future__ import annotations

from functools import lru_cache

_TABLES: list = []


def memoized(maxsize: int):
    """fn memoized in a table of at most ``maxsize`` entries, emptied by ``forget``."""
    def wrap(fn):
        table = lru_cache(maxsize=maxsize)(fn)
        _TABLES.append(table)
        return table
    return wrap


_input: list = [None]      # the input the tables hold what was computed of


def for_input(key) -> None:
    """Empty every memo table unless ``key`` is the input they were filled for (the
    derivatives of one input by each of its variables share much of their work)."""
    if key != _input[0]:
        for table in _TABLES:
            table.cache_clear()
        _input[0] = key
