"""The node under construction in elaboration (``_E``): an IR class name with its children,
parameters, shape as dimension ids and source span, and what the search over readings needs to
know of it. Shared by the elaborator (elaborate.py) and its operators (operators.py)."""

from __future__ import annotations

from fractions import Fraction

MAX_FLEX = 16      # undeclared names followed per operand (readings.Broadcast.names)
_NONE = frozenset()
_ARGS = object()   # flex not given: the union of the children's


def _union(sets):
    """The union of name sets, None (too many to follow) beyond MAX_FLEX names."""
    out = _NONE
    for s in sets:
        if s is None:
            return None
        if s:
            out = out | s
            if len(out) > MAX_FLEX:
                return None
    return out


class _E:
    """A node under construction: the IR class name, children, params (with _DimRefs), the
    shape as two dimension ids, the source span it came from; for the search over readings,
    the undeclared names with another possible shape on which its kind may depend (``flex``,
    through definitions too) and whether it is built from numbers and declared scalars alone
    (``stated``).

    The children are the first ``n`` entries of a list, which a flattened Add, MatMul or
    Hadamard shares with the node it extends: a + b + c … appends to one list (each node
    sees only its own prefix, which never changes), so a chain of n operands is built in
    O(n), not O(n²). A list given to the constructor is taken over, not copied."""
    __slots__ = (
        "_list",
        "_n",
        "coeff",
        "compare",
        "depth",
        "flex",
        "kind",
        "one",
        "params",
        "shape",
        "span",
        "stated",
    )

    def __init__(self, kind, args, params, shape, span, one=False, coeff=Fraction(1),
                 depth=None, flex=_ARGS, stated=_ARGS):
        self.kind, self.params, self.shape, self.span = kind, tuple(params), shape, span
        self._list = args if type(args) is list else list(args)
        self._n = len(self._list)
        self.depth = depth if depth is not None else \
            1 + max((a.depth for a in self._list), default=0)
        self.one = one
        self.coeff = coeff        # the numeric factor of a MatMul
        self.compare = False
        # by default the names its children involve
        self.flex = _union(a.flex for a in self.args) if flex is _ARGS else flex
        if stated is _ARGS:
            stated = bool(self.args) and all(a.stated for a in self.args)
        self.stated = stated

    @property
    def args(self) -> tuple:
        return tuple(self._list[:self._n])

    @property
    def last(self) -> _E:
        return self._list[self._n - 1]

    def extended(self, items) -> list:
        """The children followed by items, for a node of this kind that extends this one: this
        node's own list appended to, unless another node has extended it already."""
        children = self._list if len(self._list) == self._n else self._list[:self._n]
        children.extend(items)
        return children
