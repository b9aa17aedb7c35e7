"""The README's examples are real: every ```$ matcalc …``` block is run and must print exactly
what the README shows."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from matcalc.cli import main

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCKS = re.findall(r"```\n\$ (matcalc[^\n]*)\n((?:(?!```)[^\n]*\n)*)```",
                    README.read_text(encoding="utf-8"))


def test_the_readme_has_examples():
    assert len(BLOCKS) >= 8


@pytest.mark.parametrize("command, shown", BLOCKS, ids=[c[:60] for c, _ in BLOCKS])
def test_readme_example_prints_what_it_shows(command, shown, capsys):
    main(shlex.split(command)[1:])
    captured = capsys.readouterr()
    assert (captured.out + captured.err).rstrip("\n") == shown.rstrip("\n")
