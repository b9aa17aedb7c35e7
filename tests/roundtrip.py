"""Reading printed forms back: the value of what matcalc prints, read by matcalc itself.

``printed_forms(result, style)`` cuts the rendered lines of a result into programs that parse
(each "where" definition a statement before the expression); ``read_value`` parses one with the
original variables declared at fixed sizes and evaluates it. A dimension printed as a number
(mean = sum/n) is declared a scalar holding its size."""

from __future__ import annotations

import numpy as np

from matcalc.errors import MatcalcError
from matcalc.evaluate import assign_sizes, dim_value, evaluate, random_inputs
from matcalc.ir import Broadcast, Size, UserFunc, Var, walk
from matcalc.printers import AsciiPrinter, LatexPrinter, TextPrinter, latex_name, shape_spec
from matcalc.reader import parse

PRINTERS = {"text": TextPrinter(), "ascii": AsciiPrinter(), "latex": LatexPrinter()}
MAPSTO = {"text": " ↦ ", "ascii": " |-> ", "latex": r" \mapsto "}


def name_in(style: str, name: str) -> str:
    return latex_name(name) if style == "latex" else PRINTERS[style].doprint(Var(name, (1, 1)))


def split_top(text: str, sep: str = ", ") -> list[str]:
    """text cut at each sep outside brackets."""
    parts, depth, start, i = [], 0, 0, 0
    while i < len(text):
        if text[i] in "([{⟨" or text.startswith(r"\langle", i):
            depth += 1
        elif text[i] in ")]}⟩" or text.startswith(r"\rangle", i):
            depth -= 1
        elif depth == 0 and text.startswith(sep, i):
            parts.append(text[start:i])
            start = i = i + len(sep)
            continue
        i += 1
    return parts + [text[start:]]


def without_laws(lines: list[str]) -> list[str]:
    """The lines of a text derivation but its laws: a line that opens with [ and the lines
    that go on until its ] (a law too long for a line is broken over several)."""
    out, in_law = [], False
    for line in lines:
        if in_law or line.lstrip().startswith("["):
            in_law = not line.rstrip().endswith("]")
        else:
            out.append(line)
    return out


def printed_forms(lines: list[str], style: str, kind: str) -> list[str]:
    """The printed right-hand sides of a derivative's lines (a Jacobian's second line, its index
    form, left out), each with the "where" definitions as statements in front."""
    if kind == "jacobian":
        lines = lines[:1] + lines[2:]
    where = [ln for ln in lines if ln.startswith(("where ", r"\text{where } "))]
    defs = split_top(where[0].split(" ", 1)[1].removeprefix("} ")) if where else []
    out = []
    for line in lines:
        if line in where:
            continue
        body = line.rsplit("    (", 1)[0] if style != "latex" else line
        body = body.split(MAPSTO[style], 1)[1] if MAPSTO[style] in body else \
            body.rsplit(" = ", 1)[1]
        out.append("; ".join(defs + [body]))
    return out


class Reader:
    """The variables of a program at fixed sizes, random values for them, and the reading of a
    printed text in their context."""

    def __init__(self, program, extra_vars=(), seed: int = 0):
        self.program = program
        self.variables = list(program.variables) + list(extra_vars)
        self.sizes = assign_sizes([program.result, *(e for _, e in program.definitions),
                                   *self.variables])
        rng = np.random.default_rng(seed)
        self.env = random_inputs(program.result, self.variables, self.sizes, rng,
                                 dict(program.definitions))
        self.definitions = dict(program.definitions)
        if program.result_name:
            self.definitions[program.result_name] = program.result

    def value(self, e):
        return evaluate(e, self.env, self.sizes, self.definitions)

    def preamble(self, style: str) -> list[str]:
        """The input's functions and definitions (and its named result ℓ = …) printed in the
        style."""
        p = PRINTERS[style]
        trees = [self.program.result, *self.definitions.values()]
        functions = {n.name: n for e in trees for n in walk(e) if isinstance(n, UserFunc)}
        return [f"{p.doprint(UserFunc(f.name, f.param.name, f.body, f.param))} = "
                f"{p.doprint(f.body)}" for f in functions.values()] + \
            [f"{name_in(style, n)} = {p.doprint(e)}" for n, e in self.definitions.items()]

    def declarations(self, like=None) -> tuple[dict, dict]:
        """The shapes and values of the variables, and of the sizes printed as numbers in the
        definitions or ``like``."""
        shapes = {v.name: shape_spec(v) for v in self.variables}
        env = dict(self.env)
        trees = [*self.definitions.values()] + ([like] if like is not None else [])
        for node in (n for e in trees for n in walk(e)):
            if isinstance(node, Size) and isinstance(node.dim, str):
                shapes[node.dim] = "scalar"
                env[node.dim] = np.array([[float(self.sizes[node.dim])]])
        return shapes, env

    def parse(self, text: str, style: str, like=None):
        """``text`` read with the variables declared, nothing guessed from a later use."""
        return parse("; ".join(self.preamble(style) + [text]), self.declarations(like)[0])

    def read(self, text: str, style: str, like=None, shape=None):
        """The value of ``text`` (a program in the style) read with the variables declared;
        ``like``: the tree it prints, for the constants it may hold (sizes, K); ``shape``: the
        shape printed beside it (like's by default)."""
        shapes, env = self.declarations(like)
        program = "; ".join(self.preamble(style) + [text])
        try:
            read = parse(program, shapes)
        except MatcalcError as e:
            if "cannot be inferred" not in str(e):
                raise
            # a lone 𝟏 or I: read in the context of the printed shape (it is printed beside it)
            shape = like.shape if shape is None else shape
            shapes["Ω"] = shape_spec(Var("Ω", shape))
            env["Ω"] = np.zeros([dim_value(d, self.sizes) for d in shape])
            omega = name_in(style, "Ω")
            read = parse(f"{program} + 0{omega}" if style != "ascii" else
                         f"{program} + 0*{omega}", shapes)
            assert len(read.result.args) > 2 or not isinstance(read.result.args[0], Broadcast), \
                f"{text} is not {shape}"
        return evaluate(read.result, env, self.sizes, dict(read.definitions))


def same_value(a, b) -> bool:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if b.shape == (1, 1) and b[0, 0] == 0 and not a.any():
        return True                                    # a zero matrix prints as 0
    scale = max(1.0, float(np.abs(a).max(initial=0.0)))
    return a.shape == b.shape and np.allclose(a, b, rtol=1e-9, atol=1e-10 * scale)
