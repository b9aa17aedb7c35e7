"""The timing the benchmarks share: the median wall time of repeated runs."""

from __future__ import annotations

import statistics
import time


def median_time(fn, repeat: int = 15, warm: bool = True) -> float:
    """The median of ``repeat`` timed calls of fn, after one untimed call when ``warm``."""
    if warm:
        fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)
