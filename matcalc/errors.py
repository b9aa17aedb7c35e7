"""The errors matcalc raises: MatcalcError for the input (what is wrong, where — carets under
the input — and how to fix it), UnsupportedError for what matcalc cannot derive, InternalError for
a bug in matcalc itself."""

from __future__ import annotations

import functools


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
        lines = [self.message]
        for start, end in self.spans:
            lines.extend(caret_lines(self.text, start, end))
        if self.hint:
            lines.append(f"hint: {self.hint}")
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


def guarded(fn):
    """fn, with every exception other than a MatcalcError raised as an InternalError (chained).
    Python's recursion limit is an UnsupportedError: matcalc cannot go that deep."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
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


def caret_lines(text: str, start: int, end: int) -> list[str]:
    """The input line holding [start, end) and a caret line under that span."""
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", start)
    if line_end == -1:
        line_end = len(text)
    line = text[line_start:line_end]
    end = max(min(end, line_end), start + 1)
    return ["  " + line, "  " + " " * (start - line_start) + "^" * (end - start)]
