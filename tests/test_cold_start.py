"""A fresh process starts quickly: the parser tables are built once and kept in the user's cache
directory (a folder that cannot be made, or a damaged file, means building them anew, silently),
and deriving a gradient of an expression without user functions imports neither SymPy nor
NumPy."""

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


def test_parser_tables_are_kept_between_runs(tmp_path):
    first = _run(tmp_path)
    tables = tmp_path / "matcalc" / "parser.tables"
    assert first.returncode == 0 and tables.is_file()
    kept = tables.stat().st_mtime_ns
    second = _run(tmp_path)
    assert (second.stdout, second.stderr) == (first.stdout, first.stderr)
    assert tables.stat().st_mtime_ns == kept           # read, not written again


def test_a_cache_that_cannot_be_made_is_no_error(tmp_path):
    want = _run(tmp_path / "fine")
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    got = _run(blocked)
    assert (got.returncode, got.stdout, got.stderr) == (0, want.stdout, want.stderr)


def test_damaged_tables_are_built_anew(tmp_path):
    want = _run(tmp_path)
    tables = tmp_path / "matcalc" / "parser.tables"
    tables.write_bytes(tables.read_bytes()[:100] + b"\x00 damaged")
    got = _run(tmp_path)
    assert (got.returncode, got.stdout, got.stderr) == (0, want.stdout, want.stderr)
    assert _run(tmp_path).stdout == want.stdout


def test_start_up_imports_neither_sympy_nor_numpy(tmp_path):
    # nor json, which only --to json needs
    probe = ("import sys; from matcalc.cli import main; main(['tr(AXB)', '--wrt', 'X']); "
             "print(sorted(m for m in ('sympy', 'numpy', 'json') if m in sys.modules))")
    got = _run(tmp_path, [sys.executable, "-c", probe])
    assert got.stdout.splitlines()[-1] == "[]", got.stdout


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
