"""The errors matcalc raises: MatcalcError for the input (what is wrong, where — carets under
the input — and how to fix it), UnsupportedError for what matcalc cannot derive, InternalError for
a bug in matcalc itself."""

from __future__ import annotations

import functools
import gc
import re
import sys
import threading
import unicodedata


class MatcalcError(Exception):
    """A problem with the user's input or a request matcalc cannot honour.

    ``spans`` are (start, end) character offsets into ``text``; each gets a caret line.
    ``hint`` says what would be accepted instead.
    """

    def __init__(self, message: str, text: str = "", spans=(), hint: str = ""):
        super().__init__(message)
        self.message = message
        self.text = text
        self.spans = tuple(spans)
        self.hint = hint

    def render(self) -> str:
        """The error as printed by the command line (without the 'matcalc: error: ' prefix)."""
        lines = [shown(self.message)]
        for start, end in self.spans:
            lines.extend(caret_lines(self.text, start, end))
        if self.hint:
            lines.append(shown(f"hint: {self.hint}"))
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.render()


class UnsupportedError(MatcalcError):
    """A well-formed request that matcalc cannot derive (yet); never a silent wrong answer."""


class InternalError(RuntimeError):
    """A bug in matcalc, not in the input: an unexpected exception inside matcalc, chained as
    ``__cause__``. Deliberately not a MatcalcError, so that ``except MatcalcError`` (bad input,
    unsupported request) never hides one."""

    def __init__(self, where: str, cause: BaseException):
        super().__init__(f"{where}: {type(cause).__name__}: {cause}")
        self.where = where
        self.cause = cause


# The stack and recursion limit matcalc runs with: the rules recurse over the trees, and a
# tree as deep as the input may be (200 levels, docs/language.md) has derivatives several times
# deeper (the backward pass through 60 layers tanh(Wᵢhᵢ₋₁) nests 4 levels a layer), past
# Python's default of 1,000 frames
DEEP_STACK = 512 * 1024 * 1024       # bytes of address space; only what is used is touched
DEEP_RECURSION = 30_000
_deep = threading.local()


def _on_deep_stack(fn, *args, **kwargs):
    """fn(*args, **kwargs) on a thread whose stack holds DEEP_RECURSION frames (at once if this
    is that thread already); its exception is raised here."""
    if getattr(_deep, "active", False):
        return fn(*args, **kwargs)
    outcome: dict = {}

    def run():
        _deep.active = True
        try:
            outcome["value"] = fn(*args, **kwargs)
        except BaseException as err:    # noqa: BLE001 — raised again in the caller's thread
            outcome["error"] = err

    size, limit = threading.stack_size(DEEP_STACK), sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, DEEP_RECURSION))
    # the cycle collector paused meanwhile: expression trees are immutable and acyclic (a node
    # is built after its children), so reference counting frees them, and the collector only
    # scanned the million nodes a long derivation builds (a fifth of its time)
    collecting = gc.isenabled()
    gc.disable()
    try:
        worker = threading.Thread(target=run, name="matcalc", daemon=True)
        worker.start()
        worker.join()
    finally:
        threading.stack_size(size)
        sys.setrecursionlimit(limit)
        if collecting:
            gc.enable()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def guarded(fn):
    """fn, with every exception other than a MatcalcError raised as an InternalError (chained),
    run with a stack deep enough for any input within the limits. Python's recursion limit is
    an UnsupportedError: matcalc cannot go that deep."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return _on_deep_stack(fn, *args, **kwargs)
        except (MatcalcError, InternalError):
            raise
        except RecursionError as err:
            raise UnsupportedError(
                "the input is too deep for matcalc: Python's recursion limit was reached",
                hint="write deep nests in steps with definitions (Y = …; Z = …); if the input "
                     "is not deeply nested, this is a bug in matcalc: please report it") from err
        except Exception as err:
            raise InternalError(fn.__qualname__, err) from err
    return wrapper


# What a terminal would act on rather than show: control characters (C0 but tab and line
# break, DEL, C1) and the bidirectional marks, embeddings, overrides and isolates
# (U+061C, U+200E–U+200F, U+202A–U+202E, U+2066–U+2069). Echoed input shows them escaped.
_INTERPRETED = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e"
                          "\u2066-\u2069]")
CONTEXT = 40        # characters of input shown on each side of a caret span
MAX_CARETS = 80     # carets under one span at most
MAX_WORD = 60       # longer runs of non-blank characters in a message are shortened
MAX_LINE = 300      # characters of a message line at most


def _escape(c: str) -> str:
    return c.encode("unicode_escape").decode("ascii")


def shown(message: str) -> str:
    """A message as printed: what a terminal would interpret escaped, words longer than
    MAX_WORD (pieces of a long input) shortened to their ends, lines cut at MAX_LINE."""
    message = _INTERPRETED.sub(lambda m: _escape(m.group()), message)
    message = re.sub(rf"\S{{{MAX_WORD + 1},}}",
                     lambda m: m.group()[:MAX_WORD - 20] + "..." + m.group()[-17:], message)
    return "\n".join(line if len(line) <= MAX_LINE else line[:MAX_LINE - 3] + "..."
                      for line in message.split("\n"))


def _display(c: str) -> str:
    """One character of echoed input as printed: tabs and carriage returns as a space (the
    caret line counts one column for each), what a terminal would interpret escaped."""
    if c in "\t\r":
        return " "
    return _escape(c) if _INTERPRETED.match(c) else c


def _width(text: str) -> int:
    """Terminal columns: combining marks take none, wide East Asian characters two."""
    return sum(0 if unicodedata.combining(c) else
               2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def caret_lines(text: str, start: int, end: int) -> list[str]:
    """The input around [start, end) — its line, at most CONTEXT characters either side, with
    '...' where it is cut — and a caret line under the span (at most MAX_CARETS carets)."""
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", start)
    if line_end == -1:
        line_end = len(text)
    end = min(max(min(end, line_end), start + 1), start + MAX_CARETS)
    left, right = max(line_start, start - CONTEXT), min(line_end, end + CONTEXT)
    before = ("..." if left > line_start else "") + \
        "".join(_display(c) for c in text[left:start])
    marked = "".join(_display(c) for c in text[start:end])
    after = "".join(_display(c) for c in text[end:right]) + ("..." if right < line_end else "")
    return ["  " + before + marked + after,
            "  " + " " * _width(before) + "^" * max(_width(marked), 1)]
