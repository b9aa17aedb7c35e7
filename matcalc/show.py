"""``--show``: how matcalc read the input — the expression with every grouping made explicit,
the shape of every name and of the result, and each convention it applied."""

from __future__ import annotations

from .ir import fmt_shape
from .printers import AsciiPrinter, TextPrinter, ascii_text
from .reader import Program


def describe(program: Program, ascii_only: bool = False) -> str:
    printer = AsciiPrinter(explicit=True) if ascii_only else TextPrinter(explicit=True)
    lines = []
    for name, expr in program.definitions:
        lines.append(f"{name} = {printer.doprint(expr)}    ({fmt_shape(expr.shape)})")
    lead = f"{program.result_name} = " if program.result_name else ""
    lines.append(f"{lead}{printer.doprint(program.result)}    ({fmt_shape(program.result.shape)})")
    lines.append("shapes: " + ", ".join(f"{v.name}: {fmt_shape(v.shape)}"
                                        + (f" {v.structure}" if v.structure else "")
                                        for v in program.variables))
    lines.extend(f"note: {n}" for n in program.notes)
    text = "\n".join(lines)
    return ascii_text(text) if ascii_only else text
