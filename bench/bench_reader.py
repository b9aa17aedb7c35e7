"""Reading, deriving and printing against the length of the input: CPU seconds for inputs of
1,000 to 100,000 characters (the input limit) of several kinds, and for deep inputs up to the
depth limit (200 levels). All grow near-linearly (docs/language.md, Limits); printing is the
text, the LaTeX and the NumPy code together.

    python bench/bench_reader.py [--no-derive] [--deep]
"""

from __future__ import annotations

import gc
import sys
import time

from matcalc import derive
from matcalc.reader import parse

SIZES = (1_000, 2_000, 5_000, 10_000, 20_000, 50_000, 100_000)


def repeated(unit, size: int, sep: str = " + ") -> str:
    """Copies of unit(i) joined by sep, up to size characters."""
    parts, length = [], 0
    while length + len(unit(len(parts))) + len(sep) <= size:
        parts.append(unit(len(parts)))
        length += len(parts[-1]) + len(sep)
    return sep.join(parts)


def definitions(size: int) -> str:
    """W0 = A0X; W1 = A1X; …; sum(W0 + W1 + …): as many as fit in size characters."""
    low, high = 1, size
    while low < high:
        mid = (low + high + 1) // 2
        low, high = (mid, high) if len(definitions_of(mid)) <= size else (low, mid - 1)
    return definitions_of(low)


def definitions_of(k: int) -> str:
    return ("; ".join(f"W{i} = A{i}X" for i in range(k)) + "; sum("
            + " + ".join(f"W{i}" for i in range(k)) + ")")


# kind → (input of a given length, the variable to differentiate by, or None)
KINDS = {
    "equal terms": (lambda n: repeated(lambda i: "sum(2Aᵀ(Ax − b)∘σ(Ax))", n), "x"),
    "distinct terms": (lambda n: repeated(lambda i: f"tr(A{i}*X)", n), "X"),
    "variables": (lambda n: repeated(lambda i: f"x{i}'*y{i}", n), "x0"),
    "definitions": (definitions, "X"),
    "LaTeX": (lambda n: repeated(lambda i: r"\frac{1}{2}\|X W^\top\|_F^2", n), "W"),
    # read only: its differential has a term per factor, refused past 1,000
    "capitals": (lambda n: "sum(" + "X" * (n - 5) + ")", None),
}


def tanh_layers(depth: int) -> str:
    """h1 = tanh(W1 x); h2 = tanh(W2 h1); …; sum(h<depth>)."""
    return "; ".join(["h1 = tanh(W1 x)"] + [f"h{i} = tanh(W{i} h{i - 1})"
                                            for i in range(2, depth + 1)]) + f"; sum(h{depth})"


def sigmoid_chain(depth: int) -> str:
    """s1 = σ(x); s2 = σ(s1); …; sum(s<depth>)."""
    return "; ".join(["s1 = σ(x)"] + [f"s{i} = σ(s{i - 1})" for i in range(2, depth + 1)]) + \
        f"; sum(s{depth})"


# deep kind → (input of a given depth, the variable, the depths up to the limit)
DEEP = {
    "tanh layers": (tanh_layers, "W1", (12, 25, 50, 99)),
    "σ chain": (sigmoid_chain, "x", (25, 50, 100, 198)),
}


def cpu_time(fn) -> float:
    gc.collect()
    start = time.process_time()
    fn()
    return time.process_time() - start


def measure(text: str, wrt: str | None) -> str:
    """Read, derive and print CPU seconds, as columns."""
    read = cpu_time(lambda: parse(text))
    line = f"{read:>7.2f}"
    if wrt:
        results = []
        seconds = cpu_time(lambda: results.append(derive(text, wrt)))
        shown = cpu_time(lambda: (results[0].text, results[0].latex, results[0].numpy))
        line += f" {seconds:>9.2f} {shown:>8.2f}"
    return line


def main() -> None:
    with_derive = "--no-derive" not in sys.argv
    parse("x")
    if "--deep" in sys.argv:
        print(f"{'kind':<15} {'depth':>10} {'read s':>7} {'derive s':>9} {'print s':>8}")
        for kind, (make, wrt, depths) in DEEP.items():
            for depth in depths:
                print(f"{kind:<15} {depth:>10} {measure(make(depth), wrt)}", flush=True)
        return
    print(f"{'kind':<15} {'characters':>10} {'read s':>7} {'derive s':>9} {'print s':>8}")
    for kind, (make, wrt) in KINDS.items():
        for size in SIZES:
            text = make(size)
            line = measure(text, wrt if with_derive else None)
            print(f"{kind:<15} {len(text):>10,} {line}", flush=True)


if __name__ == "__main__":
    main()
