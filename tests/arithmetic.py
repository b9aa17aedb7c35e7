"""Counting the arithmetic NumPy code does, by running it on arrays that record every operation:
what a test can say about the speed of code without timing it.

``run(fn, *args)`` calls fn with its array arguments wrapped, and returns the operations it
applied, each as (name, the shapes it took, the shape it gave). ``cost`` turns them into a count
of floating-point operations: a product (p×q)(q×r) 2pqr, a solve ⅔n³ + 2n²k, an inverse 2n³,
a determinant ⅔n³, a Cholesky factorisation ⅓n³, a reduction one per entry it takes, and every
other operation one per entry it gives.
"""

from __future__ import annotations

import numpy as np


LOG: list = []


class Traced(np.ndarray):
    """An array that records into ``LOG`` every ufunc and array function applied to it."""

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        name = ufunc.__name__ if method == "__call__" else f"{ufunc.__name__}.{method}"
        out = getattr(ufunc, method)(*_plain(inputs), **_plain(kwargs))
        LOG.append((name, _shapes(inputs), np.shape(out)))
        return _traced(out)

    def __array_function__(self, func, types, args, kwargs):
        out = func(*_plain(args), **_plain(kwargs))
        LOG.append((func.__name__, _shapes(args),
                           np.shape(out) if not isinstance(out, tuple) else ()))
        return _traced(out)


def _plain(x):
    if isinstance(x, Traced):
        return x.view(np.ndarray)
    if isinstance(x, (list, tuple)) and not hasattr(x, "_fields"):
        return type(x)(_plain(v) for v in x)
    if isinstance(x, dict):
        return {k: _plain(v) for k, v in x.items()}
    return x


def _traced(x):
    if isinstance(x, np.ndarray) and not isinstance(x, Traced):
        return x.view(Traced)
    if isinstance(x, tuple):
        return tuple(_traced(v) for v in x)
    return x


def _shapes(args) -> list:
    out = []
    for a in args:
        if isinstance(a, (list, tuple)):
            out.extend(_shapes(a))
        elif isinstance(a, np.ndarray):
            out.append(a.shape)
    return out


class TracingNumpy:
    """The numpy module as the generated code sees it, but np.asarray keeps a Traced array."""

    def __getattr__(self, name):
        return getattr(np, name)

    @staticmethod
    def asarray(a, dtype=None):
        return np.asanyarray(a, dtype=dtype)


def run(fn, *args, **kwargs) -> list:
    """The operations fn(*args, **kwargs) applies to its array arguments."""
    LOG.clear()
    fn(*[_traced(a) for a in args], **{k: _traced(v) for k, v in kwargs.items()})
    return list(LOG)


def _size(shape) -> int:
    return int(np.prod(shape)) if shape else 1


def cost(log: list) -> float:
    """The floating-point operations of a run."""
    total = 0.0
    for name, shapes, out in log:
        if name == "matmul":
            a, b = shapes
            p, q = (1, a[0]) if len(a) == 1 else a[-2:]
            r = 1 if len(b) == 1 else b[-1]
            total += 2 * p * q * r
        elif name == "solve":
            n, rhs = shapes[0][0], shapes[1]
            total += 2 / 3 * n ** 3 + 2 * n * n * (1 if len(rhs) == 1 else rhs[1])
        elif name == "inv":
            total += 2 * shapes[0][0] ** 3
        elif name in ("det", "slogdet"):
            total += 2 / 3 * shapes[0][0] ** 3
        elif name == "cholesky":
            total += 1 / 3 * shapes[0][0] ** 3
        elif name.endswith(".reduce"):
            total += _size(shapes[0])
        else:
            total += _size(out)
    return total


def calls(log: list, name: str) -> list:
    """The shapes each call of the operation took."""
    return [tuple(shapes) for op, shapes, _ in log if op == name]
