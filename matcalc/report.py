"""Results as the user reads them: each derivative in text, ASCII or LaTeX, with its shape,
its Jacobian/Hessian forms, and its derivation."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

from .errors import MatcalcError
from .ir import (Add, Broadcast, D, Identity, Norm, Ones, Softmax, Transpose, UserFunc, Var, Zero,
                 dim_mul, fmt_shape, substitute, walk)
from .printers import (AsciiPrinter, LatexPrinter, TextPrinter, latex_name, steps_to_latex,
                       steps_to_text, to_text)
from .reader import parse
from .simplify import cost, present, simplify

VEC_RULES = "vec(AXB) = (Bᵀ ⊗ A)vec X; vec(A ∘ X) = Diag(vec A)vec X; vec(Xᵀ) = K_{m,n} vec X"
K_NOTE = "K_{m,n} is the commutation matrix: K_{m,n} vec(A) = vec(Aᵀ) for an m×n A"


def _printer(style: str):
    return {"text": TextPrinter, "ascii": AsciiPrinter, "latex": LatexPrinter}[style]()


def _name(name: str, style: str) -> str:
    if style == "latex":
        return latex_name(name)
    return _printer(style).doprint(Var(name, (1, 1)))


def _shape(shape, style: str) -> str:
    text = fmt_shape(shape)
    return text.replace("×", "x").replace("·", "*") if style == "ascii" else text


# Automatic names for long repeated subexpressions: a preferred letter by kind, else T₁, T₂ …
# The residual R of a loss ‖R‖² is named E where it appears, if it is long.
AUTO_NAME = {Softmax: "p"}
MIN_NAMED_LENGTH = 8      # characters of the printed subexpression
MIN_RESIDUAL_LENGTH = 12
MAX_AUTO_NAMES = 3


def auto_name(d, taken: set):
    """d with its long repeated subexpressions replaced by new names, and the list of
    (name, subexpression) to print as "where T₁ = …"."""
    fields = [f for f in ("expr", "map_expr", "gradient") if getattr(d, f) is not None]
    exprs = {f: getattr(d, f) for f in fields}
    named: list = []
    for r in (n.arg for n in walk(d.function) if isinstance(n, Norm)):
        # the residual, as it stands or transposed (Eᵀ = W₂T − Yᵀ once expanded)
        forms = (r, simplify(Transpose(r)))
        if isinstance(r, Add) and len(to_text(r)) >= MIN_RESIDUAL_LENGTH and \
                any(n in forms for e in exprs.values() for n in walk(e)):
            name = _fresh_name("E", taken)
            var = Var(name, r.shape)
            exprs = {f: substitute(e, {forms[0]: var, forms[1]: Transpose(var)})
                     for f, e in exprs.items()}
            named.append((name, r))
            break
    for _ in range(MAX_AUTO_NAMES):
        # repeated within one expression; once named, the name is used on every line
        repeated = {n for e in exprs.values() for n, c in Counter(walk(e)).items()
                    if c > 1 and _worth_a_name(n)}
        sub = next((n for n in sorted(repeated, key=cost, reverse=True) if _reads_alone(n)),
                   None)
        if sub is None:
            break
        name = _fresh_name(AUTO_NAME.get(type(sub)), taken | {n for n, _ in named})
        var = Var(name, sub.shape)
        exprs = {f: substitute(e, {sub: var}) for f, e in exprs.items()}
        named = [(n, substitute(e, {sub: var})) for n, e in named] + [(name, sub)]
    # inner names first: p = softmax(Z), T₁ = Diag(vec(p))
    return replace(d, **exprs), named[::-1]


def _worth_a_name(e) -> bool:
    return bool(e.args) and not isinstance(e, (Transpose, D, Broadcast)) and \
        len(to_text(e)) >= MIN_NAMED_LENGTH


def _reads_alone(e) -> bool:
    """Does e, printed on a "where" line of its own, tell the size of each I and 𝟏 in it?
    (Diag(vec(I)) or mean(I, 1) do not: their size is known only where they are used.) The
    reader decides, with e's names declared at their shapes."""
    if not any(isinstance(n, (Identity, Ones, Broadcast, Zero)) for n in walk(e)):
        return True
    names = {n.name: shape_spec(n) for n in walk(e) if isinstance(n, Var)}
    functions = {n.name: n for n in walk(e) if isinstance(n, UserFunc)}
    program = [f"{to_text(UserFunc(f.name, f.param.name, f.body, f.param))} := "
               f"{to_text(f.body)}" for f in functions.values()]
    try:
        parse("; ".join(program + [to_text(e)]), names)
    except MatcalcError:
        return False
    return True


def shape_spec(v: Var) -> str:
    """v's declaration as --shape writes it: n x m, n (a column), scalar, k·n x m symmetric."""
    rows, cols = v.shape
    spec = "scalar" if v.shape == (1, 1) else (f"{rows}" if cols == 1 else f"{rows} x {cols}")
    return f"{spec} {v.structure}".strip()


def _fresh_name(preferred, taken: set) -> str:
    if preferred and preferred not in taken:
        return preferred
    k = 1
    while f"T{'₀₁₂₃₄₅₆₇₈₉'[k]}" in taken:
        k += 1
    return f"T{'₀₁₂₃₄₅₆₇₈₉'[k]}"


def render(d, style: str = "text", taken: set = frozenset()) -> list[str]:
    """The lines that present one derivative; long repeated subexpressions get names
    (``taken``: names already in use), defined on a last "where" line."""
    d, named = auto_name(d, set(taken) | {d.wrt.name, d.fname})
    lines = _render(d, style)
    p = _printer(style)
    defs = [f"{_name(n, style)} = {p.doprint(e)}" for n, e in named]
    # the derivative of a user function, spelled out once: f′(x) = …
    shown = [getattr(d, f) for f in ("expr", "map_expr", "gradient") if getattr(d, f) is not None]
    derived = {n.name: n for e in shown for n in walk(e) if isinstance(n, UserFunc)
               and n.name.endswith("′")}
    for fn in derived.values():
        call = UserFunc(fn.name, fn.param.name, fn.body, fn.param)
        defs.append(f"{p.doprint(call)} = {p.doprint(present(fn.body))}")
    if defs:
        lines.append(rf"\text{{where }} {', '.join(defs)}" if style == "latex"
                     else f"where {', '.join(defs)}")
    return lines


def _render(d, style: str) -> list[str]:
    p = _printer(style)
    f, x = _name(d.fname, style), _name(d.wrt.name, style)
    latex = style == "latex"
    if d.kind == "gradient":
        if latex:
            return [rf"\frac{{\partial {f}}}{{\partial {x}}} = {p.doprint(d.expr)}"]
        part = "d" if style == "ascii" else "∂"
        return [f"{part}{f}/{part}{x} = {p.doprint(d.expr)}    ({_shape(d.wrt.shape, style)})"]
    if d.kind == "jacobian":
        return _render_jacobian(d, p, f, x, style)
    return _render_hessian(d, p, f, x, style)


def _jacobian_lhs(f: str, x: str, F, X, style: str) -> str:
    """∂vec(F)/∂vec(X), with vec left out on a column vector or a scalar (vec x = x)."""
    latex = style == "latex"

    def vec(name, e):
        if e.cols == 1:
            return name
        return rf"\operatorname{{vec}}({name})" if latex else f"vec({name})"

    if latex:
        return rf"\frac{{\partial {vec(f, F)}}}{{\partial {vec(x, X)}}}"
    part = "d" if style == "ascii" else "∂"
    return f"{part}{vec(f, F)}/{part}{vec(x, X)}"


def _render_jacobian(d, p, f, x, style):
    F = d.function
    size = (_dims_product(F.shape), _dims_product(d.wrt.shape))
    lhs = _jacobian_lhs(f, x, F, d.wrt, style)
    index = d.index.render(style)
    mapsto = r"\mapsto" if style == "latex" else ("|->" if style == "ascii" else "↦")
    g = _name(d.map_var.name, style)
    if style == "latex":
        return [f"{lhs} = {p.doprint(d.expr)}",
                index,
                rf"{g} {mapsto} {p.doprint(d.map_expr)}"]
    facts = "; ".join(d.index.facts())
    if style == "ascii":
        facts = facts.replace("×", "x").replace("·", "*")
    part, loss = ("d", _name("ℓ", style)) if style == "ascii" else ("∂", "ℓ")
    upstream = f"{g} = {part}{loss}/{part}{f}"
    upstream += f" of shape {_shape(F.shape, style)}" if F.cols != 1 else \
        f", a {_shape(F.shape, style)},"
    return [f"{lhs} = {p.doprint(d.expr)}    ({_shape(size, style)}, vec form)",
            f"{index}    ({facts})",
            f"{g} {mapsto} {p.doprint(d.map_expr)}    (map form for backpropagation: "
            f"{upstream} gives {part}{loss}/{part}{x})"]


def _render_hessian(d, p, f, x, style):
    v = _name(d.map_var.name, style)
    if style == "latex":
        return [rf"\nabla {f} = {p.doprint(d.gradient)}",
                rf"\frac{{\partial^2 {f}}}{{\partial \operatorname{{vec}}({x})\,"
                rf"\partial \operatorname{{vec}}({x})^\top}} = {p.doprint(d.expr)}",
                rf"{v} \mapsto {p.doprint(d.map_expr)}"]
    n = _dims_product(d.wrt.shape)
    nabla = "grad " if style == "ascii" else "∇"
    mapsto = "|->" if style == "ascii" else "↦"
    return [f"{nabla}{f} = {p.doprint(d.gradient)}",
            f"H = {'d' if style == 'ascii' else '∂'}vec({nabla}{f})/"
            f"{'d' if style == 'ascii' else '∂'}vec({x}) = {p.doprint(d.expr)}    "
            f"({_shape((n, n), style)})",
            f"{v} {mapsto} {p.doprint(d.map_expr)}    (Hessian-vector product d({nabla}{f})[{v}])"]


def _dims_product(shape):
    return dim_mul(shape[0], shape[1])


def render_steps(d, style: str = "text") -> str:
    """The derivation of one derivative."""
    if d.kind == "gradient":
        if style == "latex":
            return steps_to_latex(d.steps, d.fname, d.wrt.name, d.expr)
        return "\n".join(steps_to_text(d.steps, _name(d.fname, style), _name(d.wrt.name, style),
                                       d.expr, ascii=style == "ascii"))
    p = _printer(style)
    f, x = _name(d.fname, style), _name(d.wrt.name, style)
    latex = style == "latex"

    def vec(text: str, e) -> str:                  # vec(·) around a matrix only: vec x = x
        if e.cols == 1:
            return text
        return rf"\operatorname{{vec}}({text})" if latex else f"vec({text})"

    target = f if d.kind == "jacobian" else \
        (rf"\nabla {f}" if latex else ("grad " if style == "ascii" else "∇") + f)
    dF = (r"\mathrm{d}" if latex else "d") + target
    lin = p.doprint(d.differential)
    vec_dF = vec(dF, d.function if d.kind == "jacobian" else d.wrt)
    # J stands as one factor before vec(dX): (W ⊗ I) vec(dX)
    J_dX = (r"\," if latex else " ").join([p.factor(d.expr),
                                           vec(p.doprint(D(d.wrt)), d.wrt)])
    if latex:
        rows = [rf"{dF} &= {lin} && \text{{(differential rules)}}",
                rf"{vec_dF} &= {J_dX} && \text{{(vec identities)}}"]
        lines = "\\begin{align*}\n" + " \\\\\n".join(rows) + "\n\\end{align*}"
        if d.kind == "hessian":
            lines = steps_to_latex(d.steps, d.fname, d.wrt.name, d.gradient) + "\n" + lines
        return lines
    lines = []
    if d.kind == "hessian":
        lines = steps_to_text(d.steps, f, x, d.gradient, ascii=style == "ascii") + [""]
    lines += [f"{dF} = {lin}      [differential rules]",
              f"{vec_dF} = {J_dX}      [{VEC_RULES}]"]
    return "\n".join(lines)
