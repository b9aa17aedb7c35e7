"""A fresh process starts quickly: the parser runs tables made from the grammar in advance
(matcalc/reader/tables.py), so it imports no parser generator and writes no cache, and deriving
a gradient of an expression without user functions imports neither SymPy nor NumPy."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMMAND = [sys.executable, "-m", "matcalc", "tr(AXB)", "--wrt", "X"]


def _run(cache_home, args=COMMAND) -> subprocess.CompletedProcess:
    env = {**os.environ, "XDG_CACHE_HOME": str(cache_home),
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run(args, capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)


def test_start_up_imports_neither_sympy_nor_numpy_nor_lark(tmp_path):
    # nor json, which only --to json needs
    probe = ("import sys; from matcalc.cli import main; main(['tr(AXB)', '--wrt', 'X']); "
             "print(sorted(m for m in ('sympy', 'numpy', 'json', 'lark') if m in sys.modules))")
    got = _run(tmp_path, [sys.executable, "-c", probe])
    assert got.stdout.splitlines()[-1] == "[]", got.stdout


def test_start_up_writes_no_cache(tmp_path):
    got = _run(tmp_path)
    assert got.returncode == 0 and "∂" in got.stdout
    assert list(tmp_path.iterdir()) == []


def test_start_up_does_only_the_work_its_input_needs(tmp_path):
    """An expression without declarations or definitions compiles none of their patterns (8 ms
    of a start), and without --steps imports no derivation steps (4 ms)."""
    probe = ("import re, sys; from matcalc.cli import main; main(['tr(AXB)', '--wrt', 'X']); "
             "from matcalc.reader import statements as s; "
             "print(['matcalc.derivation'] if 'matcalc.derivation' in sys.modules else [], "
             "[p for p in (s._DEF_RE, s._FUNCTION_DEF_RE, s._DECL_IN_RE, s._DECL_COLON_RE) "
             "if any(key[1] == p for key in re._cache)])")
    got = _run(tmp_path, [sys.executable, "-c", probe])
    assert got.stdout.splitlines()[-1] == "[] []", got.stdout + got.stderr


def test_the_start_up_benchmark_runs_and_reports_both_ratios(tmp_path):
    got = _run(tmp_path, [sys.executable, str(ROOT / "bench" / "bench_start.py"), "--rounds", "2"])
    assert got.returncode == 0, got.stderr
    lines = got.stdout.splitlines()
    assert [line.split(":")[0] for line in lines[-2:]] == [
        "matcalc ÷ import sympy, wall", "matcalc ÷ import sympy, CPU"], got.stdout
    assert all(float(line.split()[5]) > 0 for line in lines[-2:])
