"""Start-up: a whole `matcalc 'tr(AXB)' --wrt X` process against `python -c "import sympy"`,
both with the Python that runs this script (install matcalc into it with `pip install .` first,
so that its bytecode is compiled as a user's is, and its `matcalc` script is the one timed). The two run in turn, the order reversed every
other round; each round's ratio matcalc ÷ sympy is taken for wall and for CPU time (user + sys),
and the medians over the rounds are printed.

    python bench/bench_start.py [--rounds 40]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

# the command a user runs: the script pip installed beside this Python (else python -m matcalc)
_SCRIPT = os.path.join(os.path.dirname(sys.executable), "matcalc")
MATCALC = ([_SCRIPT] if os.path.isfile(_SCRIPT) else [sys.executable, "-m", "matcalc"]) + [
    "tr(AXB)", "--wrt", "X"]
SYMPY = [sys.executable, "-c", "import sympy"]
LABELS = {"matcalc": "matcalc 'tr(AXB)' --wrt X", "sympy": 'python -c "import sympy"'}


def timed(command: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds of one run of command (its output thrown away)."""
    start = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        sys.exit(f"{' '.join(command)} failed with exit status {child.returncode}")
    return wall, usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=40)
    rounds = parser.parse_args().rounds
    for command in (MATCALC, SYMPY):                   # warm the file cache
        timed(command)
    runs = {"matcalc": [], "sympy": []}
    for i in range(rounds):
        order = [("matcalc", MATCALC), ("sympy", SYMPY)]
        for name, command in order if i % 2 == 0 else order[::-1]:
            runs[name].append(timed(command))
    print(f"{'':<28}{'wall ms':>9}{'CPU ms':>9}   (medians of {rounds} rounds)")
    for name, label in LABELS.items():
        wall = statistics.median(w for w, _ in runs[name]) * 1000
        cpu = statistics.median(c for _, c in runs[name]) * 1000
        print(f"{label:<28}{wall:>9.1f}{cpu:>9.1f}")
    for k, what in ((0, "wall"), (1, "CPU")):
        ratios = [m[k] / s[k] for m, s in zip(runs["matcalc"], runs["sympy"])]
        low, _, high = statistics.quantiles(ratios, n=4)
        print(f"matcalc ÷ import sympy, {what}: {statistics.median(ratios):.3f} "
              f"(quartiles {low:.3f}–{high:.3f})")


if __name__ == "__main__":
    main()
