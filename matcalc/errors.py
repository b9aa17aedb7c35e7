"""The one error type users see: what is wrong, where (carets under the input), how to fix it."""

from __future__ import annotations


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


def caret_lines(text: str, start: int, end: int) -> list[str]:
    """The input line holding [start, end) and a caret line under that span."""
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", start)
    if line_end == -1:
        line_end = len(text)
    line = text[line_start:line_end]
    end = max(min(end, line_end), start + 1)
    return ["  " + line, "  " + " " * (start - line_start) + "^" * (end - start)]
