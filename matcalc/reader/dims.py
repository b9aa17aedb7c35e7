"""Dimensions unified by union–find: each free, a constant or a product of two."""

from __future__ import annotations

import math

from .. import ir


class _Dims:
    """Union–find over dimensions. A dimension is free, a constant (an int or a declared
    symbol such as 'n') or the product of two dimensions (of a Kronecker product or vec)."""

    def __init__(self):
        self.parent: list[int] = []
        self.value: list = []
        self.size: list[int] = []
        self.consts: dict = {}
        self.pending: list = []
        self.ONE = self.const(1)
        self.where = None               # the span being elaborated
        self.watched: set[int] = set()  # fresh dimensions whose first use is wanted
        self.origin: dict = {}          # watched dimension → the span that first unified it
        self._pending_one: dict = {}    # root → fresh dimensions of its class asked about (watch_one)
        self.made_one: dict = {}        # such a dimension → the span where its class became 1

    def new(self, value=None) -> int:
        self.parent.append(len(self.parent))
        self.value.append(value)
        self.size.append(1)
        return len(self.parent) - 1

    def const(self, value) -> int:
        if value not in self.consts:
            self.consts[value] = self.new(value)
        return self.consts[value]

    def find(self, d: int) -> int:
        root = d
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[d] != root:
            self.parent[d], d = root, self.parent[d]
        return root

    def val(self, d: int):
        return self.value[self.find(d)]

    def is1(self, d: int) -> bool:
        return self.val(d) == 1

    def same(self, a: int, b: int) -> bool:
        return self.find(a) == self.find(b)

    def watch_one(self, d: int):
        """Note where the fresh dimension d becomes 1, if it does (made_one)."""
        self._pending_one.setdefault(d, []).append(d)

    def _link(self, ra: int, rb: int):
        """Put the root rb under the root ra."""
        for r in (ra, rb):
            if r in self.watched:
                self.watched.discard(r)
                self.origin[r] = self.where
        self.parent[rb] = ra
        self.size[ra] += self.size[rb]
        a, b = self._pending_one.pop(ra, None), self._pending_one.pop(rb, None)
        if a and b:
            a, b = (a, b) if len(a) >= len(b) else (b, a)
            a.extend(b)                         # the shorter list into the longer: n log n
        pending = a or b
        if pending and self.value[ra] == 1:
            self.made_one.update(dict.fromkeys(pending, self.where))
        elif pending:
            self._pending_one[ra] = pending

    def product(self, a: int, b: int) -> int:
        if self.is1(a):
            return b
        if self.is1(b):
            return a
        va, vb = self.val(a), self.val(b)
        if isinstance(va, int) and isinstance(vb, int):
            return self.const(va * vb)
        return self.new(("*", a, b))

    def occurs(self, d: int, e: int) -> bool:
        """Is the root d a factor of the dimension e (itself, or in its products)?"""
        stack, seen = [e], set()
        while stack:
            r = self.find(stack.pop())
            if r == d:
                return True
            if r not in seen and isinstance(self.value[r], tuple):
                seen.add(r)
                stack += self.value[r][1:]
        return False

    def unify(self, a: int, b: int) -> bool:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return True
        va, vb = self.value[ra], self.value[rb]
        if va is None or vb is None:
            if va is None:
                ra, rb = rb, ra       # link the free root under the other
            if self.occurs(rb, ra):
                return False          # d = a·d needs a = 1, and a free dimension is not 1
            self._link(ra, rb)
            return True
        if isinstance(va, tuple) and isinstance(vb, tuple):
            known = self.known(ra), self.known(rb)
            if None not in known:
                if known[0] != known[1]:      # k·n = n·k: known products as numbers do
                    return False
            else:
                if self.same(va[1], vb[2]) or self.same(va[2], vb[1]):
                    vb = (vb[0], vb[2], vb[1])    # a factor they share meets itself
                if not (self.unify(va[1], vb[1]) and self.unify(va[2], vb[2])):
                    return False
            self._link(ra, rb)
            return True
        if isinstance(va, tuple):
            ra, rb, va, vb = rb, ra, vb, va
        if isinstance(vb, tuple) and isinstance(va, int) and self._solve_product(vb, va):
            ra, rb = self.find(ra), self.find(rb)
            if ra != rb:
                self._link(ra, rb)            # the product takes the number as its value
            return True
        return False

    def known(self, d: int):
        """The value of a dimension whose factors are all known (as the IR writes it: k·n),
        else None."""
        v = self.val(d)
        if isinstance(v, tuple):
            a, b = self.known(v[1]), self.known(v[2])
            return None if a is None or b is None else ir.dim_mul(a, b)
        return v

    def _solve_product(self, product, q: int) -> bool:
        """a·b = q for a number q (the size of I ⊗ A, vec(I) … read off what they meet): a
        factor follows from the other, a square's from √q; with both unknown it is checked
        when one becomes known."""
        _, a, b = product
        fa, fb = self.val(a), self.val(b)
        if isinstance(fa, int) and isinstance(fb, int):
            return fa * fb == q
        for known, other in ((fa, b), (fb, a)):
            if isinstance(known, int):
                # a known factor that divides q gives the other (B⊗A = 4×4, A 2×2)
                return q % known == 0 and self.unify(other, self.const(q // known))
        if fa is not None or fb is not None:
            return False                       # a declared symbol times something: not q
        if self.same(a, b):
            root = math.isqrt(q)
            return root * root == q and self.unify(a, self.const(root))
        self.pending.append((product, q))
        return True

    def settle(self) -> bool:
        """Solve the products whose factors were unknown when they met a number, as far as
        what was read later tells their factors."""
        while self.pending:
            pending, self.pending = self.pending, []
            if not all(self._solve_product(p, q) for p, q in pending):
                return False
            if len(self.pending) == len(pending):
                break                          # nothing more is known about them
        return True


class _DimRef:
    """A dimension inside the params of a node under construction."""
    __slots__ = ("d",)

    def __init__(self, d):
        self.d = d
