"""The cost model of the printed form: what a reader has to parse.
"""

from __future__ import annotations

from ..errors import UnsupportedError
from ..ir import (Add, Broadcast, Expr, Hadamard, Identity, MatMul, Num, Ones, Transpose, Var,
                  occurrences)
from ..memo import memoized


@memoized(1 << 16)
def cost(e: Expr) -> float:
    """Operation count: what a reader has to parse. Leaves and transposes are cheap."""
    own = {Var: 1, Num: 0.5, Transpose: 0.25, Identity: 0.5, Ones: 0.5, Broadcast: 0}.get(
        type(e), 1)
    if isinstance(e, (Add, MatMul, Hadamard)):
        own = len(e.args) - 1
    if isinstance(e, MatMul) and len(e.args) == 2 and e.args[0] == Num(-1):
        return cost(e.args[1])              # −A: a sign, read with the sum it stands in
    return own + sum(cost(a) for a in e.args)


# Symbols of a derivative written out (the nodes of its tree, a shared subtree counted each
# time it is written): the adjoint of logsoftmax(Z), G − softmax(Z) ∘ (G𝟏𝟏ᵀ), writes the
# adjoint G from above it twice, so 20 nested layers write 28 million symbols
MAX_WRITTEN = 50_000


def within_written(e: Expr) -> Expr:
    """e, refused past MAX_WRITTEN symbols rather than arranged and printed (its tree shares
    its subtrees: it is built in time linear in its depth, written in time exponential)."""
    written = sum(occurrences(e).values())
    if written > MAX_WRITTEN:
        raise UnsupportedError(
            f"the derivative written out has {written:,} symbols: past the {MAX_WRITTEN:,} "
            "matcalc writes", hint="a function whose derivative writes the one around it twice "
            "(logsoftmax of logsoftmax …) doubles it at each level: differentiate fewer levels")
    return e
