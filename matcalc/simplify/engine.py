"""The rewriting engine: bottom-up, each node type's rules until none applies.

``RULES`` maps a node type to its rules, small named functions ``expr -> expr`` that each return
their input unchanged when they do not apply; the table is written out in table.py, which fills
it when the package is imported.
Everything here is deterministic: no set iteration or hashing decides an order.
"""

from __future__ import annotations

from ..ir import Expr
from ..memo import memoized

RULES: dict = {}     # node type → its rules, in order (table.py)


@memoized(1 << 16)
def simplify(e: Expr) -> Expr:
    """Bottom-up: simplify the children, then apply the node's rules until none applies
    (memoized: trees are immutable and repeat a lot in derivations)."""
    if e.args:
        e = e.with_args(simplify(a) for a in e.args)
    for _ in range(50):
        rules = RULES.get(type(e), ())
        new = e
        for rule in rules:
            new = rule(new)
            if type(new) is not type(e):
                break
        if new == e:
            return e
        e = simplify(new) if type(new) is not type(e) or new.args != e.args else new
    return e
