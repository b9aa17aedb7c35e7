"""The cost model of the printed form: what a reader has to parse.
"""

from __future__ import annotations

from ..ir import Add, Broadcast, Expr, Hadamard, Identity, MatMul, Num, Ones, Transpose, Var
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
