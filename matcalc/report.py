"""Results as the user reads them: each derivative in text, ASCII or LaTeX, with its shape,
its Jacobian/Hessian forms, and its derivation."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import replace
from fractions import Fraction
from itertools import islice

from .differentiate import gradient
from .ir import (Add, Broadcast, D, Frob, Hadamard, Identity, MatMul, Norm, Num, Power,
                 Softmax, Transpose, UserFunc, Var, Zero, dim_mul, distinct_nodes, fmt_shape,
                 occurrences, substitute)
from .printers import (SUPERSCRIPT, AsciiPrinter, LatexPrinter, TextPrinter, latex_name,
                       latex_notes, names_in_scope, reads_alone, text_length)
from .simplify import cost, fold_powers, present, simplify, textbook_form

K_NOTE = "K_{m,n} is the commutation matrix: K_{m,n} vec(A) = vec(Aᵀ) for an m×n A"
# the Kronecker forms of the Fréchet derivatives [Higham, Functions of Matrices, (3.17)] and
# the second Fréchet derivatives [Higham and Relton 2014], by (node, function)
FRECHET_NOTES = {
    ("KronFrechet", "expm"):
        "K_exp(A) is the Kronecker form of the Fréchet derivative of expm: vec(L_exp(A, E)) = "
        "K_exp(A) vec(E), K_exp(A) = ∫ expm((1 − s)Aᵀ) ⊗ expm(sA) ds over [0, 1], the upper "
        "right block of expm([[Aᵀ ⊗ I, I], [0, I ⊗ A]]) (Van Loan)",
    ("KronFrechet", "logm"):
        "K_log(A) is the Kronecker form of the Fréchet derivative of logm: vec(L_log(A, E)) = "
        "K_log(A) vec(E), K_log(A) = K_exp(logm(A))⁻¹",
    ("Frechet2", "expm"):
        "L_exp(A, E, F) is the second Fréchet derivative of expm, the derivative of L_exp(A, E) "
        "along F: the upper right block of L_exp([[A, E], [0, A]], [[F, 0], [0, F]])",
    ("Frechet2", "logm"):
        "L_log(A, E, F) is the second Fréchet derivative of logm, the derivative of L_log(A, E) "
        "along F: −L_log(A, L_exp(logm(A), L_log(A, E), L_log(A, F)))",
    ("KronFrechet2", "expm"):
        "K_exp(A, E) is the Kronecker form of the second Fréchet derivative of expm: "
        "vec(L_exp(A, E, F)) = K_exp(A, E) vec(F)",
    ("KronFrechet2", "logm"):
        "K_log(A, E) is the Kronecker form of the second Fréchet derivative of logm: "
        "vec(L_log(A, E, F)) = K_log(A, E) vec(F)",
}


def _printer(style: str):
    return {"text": TextPrinter, "ascii": AsciiPrinter, "latex": LatexPrinter}[style]()


def _name(name: str, style: str) -> str:
    if style == "latex":
        return latex_name(name)
    return _printer(style).doprint(Var(name, (1, 1)))


def _shape(shape, style: str) -> str:
    text = fmt_shape(tuple(_dim(d, style) for d in shape))
    return text.replace("×", "x").replace("·", "*") if style == "ascii" else text


def _dim(d, style: str):
    """A size with its repeated factors as powers: n·n is n² (n^2 in ASCII), k·n·n is k·n²."""
    if not isinstance(d, str):
        return d
    powers = Counter(d.split("·"))
    return "·".join(f + ("" if k == 1 else f"^{k}" if style == "ascii" else
                         str(k).translate(SUPERSCRIPT)) for f, k in powers.items())


# Automatic names for long repeated subexpressions: a preferred letter by kind, else T₁, T₂ …
# The residual R of a loss ‖R‖² is named E where it appears, if it is long.
AUTO_NAME = {Softmax: "p", ("SpectralFactor", "qmax"): "q", ("SpectralFactor", "qmin"): "q",
             ("SpectralFactor", "umax"): "u", ("SpectralFactor", "vmax"): "v"}
MIN_NAMED_LENGTH = 8      # characters of the printed subexpression
MIN_RESIDUAL_LENGTH = 12
MAX_AUTO_NAMES = 3
MAX_NAME_TRIALS = 12       # candidates the reader is asked about, each round


def auto_name(ds: list, taken: set) -> tuple:
    """The derivatives ds with their long repeated subexpressions replaced by new names, one
    set of names for all of them, and the (name, subexpression) pairs to print as "where …":
    a subexpression is named where it repeats within one expression or stands in the results
    of two derivatives (one dS in ∂f/∂Q = dS K and ∂f/∂K = dSᵀQ)."""
    taken = set(taken) | {d.wrt.name for d in ds} | {d.fname for d in ds}
    exprs = {}
    for i, d in enumerate(ds):
        exprs.update({(i, f): getattr(d, f) for f in ("expr", "map_expr", "gradient")
                      if getattr(d, f) is not None})
        exprs.update({(i, "block", j): block for j, (_, block) in enumerate(d.blocks)})
        exprs.update({(i, "index", t, k): m for t, k, m in _index_parts(d)})
    named: list = []
    for r in dict.fromkeys(n.arg for d in ds for n in distinct_nodes(d.function) if isinstance(n, Norm)):
        # the residual, as it stands or transposed (Eᵀ = W₂Tᵀ + b₂𝟏ᵀ − Yᵀ once expanded), its
        # terms in any order
        if not isinstance(r, Add) or text_length(r) < MIN_RESIDUAL_LENGTH:
            continue
        var = Var(_fresh_name("E", taken), r.shape)
        # and negated, term by term: yᵀ − σ(W₁x)ᵀW₂ᵀ = −Eᵀ
        forms = {_terms(r): var, _terms(simplify(Transpose(r))): Transpose(var)}
        for form, named_form in ((r, var), (simplify(Transpose(r)), Transpose(var))):
            if isinstance(form, Add):
                negated = Add(*(simplify(MatMul(Num(-1), t)) for t in form.args))
                forms[_terms(negated)] = MatMul(Num(-1), named_form)
        found = {k: _replace_terms(e, forms) for k, e in exprs.items()}
        if found != exprs:
            exprs = found
            named.append((var.name, r))
            break
    for _ in range(MAX_AUTO_NAMES * len(ds)):
        # repeated within one expression, or within what a name stands for (p = softmax(QKᵀ)
        # twice in T₁ = p ∘ (GVᵀ − (p ∘ (GVᵀ))𝟏𝟏ᵀ))
        written: Counter = Counter()
        repeated = set()
        for e in [*exprs.values(), *(e for _, e in named)]:
            counts = occurrences(e)
            written.update(counts)
            repeated |= {n for n, c in counts.items() if c > 1}
        owners: dict = {}
        for (i, *_), e in exprs.items():
            for n in distinct_nodes(e):
                owners.setdefault(n, set()).add(i)
        repeated |= {n for n, owner in owners.items() if len(owner) > 1}
        # the name that saves the most reading first: the repeats it spares, weighted by the
        # square of its cost (a long expression is harder to read again than its length; a
        # base written 300 times in a power's Jacobian before a product of two of them written
        # 20 times, and before the pieces of the base), ties in a fixed order (not the set's,
        # which varies by run)
        # (the reader judges whether a candidate reads alone: the first MAX_NAME_TRIALS worth a
        # name are asked, not each of the hundreds of nested chains of a long Jacobian)
        worth = (n for n in sorted(repeated, key=lambda n: (-(written[n] - 1) * cost(n) ** 2,
                                                             -cost(n), repr(n)))
                 if _worth_a_name(n))
        sub = next((n for n in islice(worth, MAX_NAME_TRIALS) if reads_alone(n)), None)
        if sub is None:
            break
        preferred = AUTO_NAME.get(type(sub)) or AUTO_NAME.get((type(sub).__name__,
                                                               *sub.params[:1]))
        name = _fresh_name(preferred, taken | {n for n, _ in named})
        var = Var(name, sub.shape)
        # its transpose is the name's (T₁ᵀ, not a T₂ = valueᵀ + b that hides VᵀT₁ᵀT₁V's
        # symmetry from the reader), and the transpose of that is the name ((T₁ᵀ)ᵀ is T₁)
        transposed = simplify(Transpose(sub))
        forms = {transposed: Transpose(var), Transpose(transposed): var, sub: var}
        # two spellings of one product side by side are one name twice: a power, (T₁ᵀ)²
        exprs = {k: fold_powers(substitute(e, forms)) for k, e in exprs.items()}
        named = [(n, fold_powers(substitute(e, forms))) for n, e in named] + [(name, sub)]
    out = []
    for i, d in enumerate(ds):
        blocks = [(y, exprs[(i, "block", j)]) for j, (y, _) in enumerate(d.blocks)]
        out.append(replace(d, blocks=blocks, index=_index_with(d, i, exprs),
                           **{f: e for (k, f, *_), e in exprs.items()
                              if k == i and f not in ("block", "index")}))
    # inner names first: p = softmax(Z), T₁ = Diag(vec(p)); E before the T₁ = … E … that uses it
    ordered: dict = {}

    def put(name):
        if name not in ordered:
            for n in distinct_nodes(dict(named)[name]):
                if isinstance(n, Var) and n.name in dict(named):
                    put(n.name)
            ordered[name] = dict(named)[name]

    for name, _ in named[::-1]:
        put(name)
    return out, list(ordered.items())


def _index_parts(d) -> list:
    """[(term, place, expression)] of the scalars and matrices of d's index form, the scalars
    first in each term (place −1 − k for the k-th scalar), so that names print there too."""
    terms = d.index.terms if getattr(d, "index", None) is not None else None
    return [(t, place, m) for t, term in enumerate(terms or ())
            for place, m in [(-1 - k, s) for k, s in enumerate(term.scalars)] +
            [(k, e.matrix) for k, e in enumerate(term.entries) if e.matrix is not None]]


def _index_with(d, i: int, exprs: dict):
    """d's index form over the named expressions."""
    if not _index_parts(d):
        return getattr(d, "index", None)
    terms = [replace(term,
                     scalars=[exprs[(i, "index", t, -1 - k)] for k in range(len(term.scalars))],
                     entries=[e if e.matrix is None else replace(e, matrix=exprs[(i, "index", t, k)])
                              for k, e in enumerate(term.entries)])
             for t, term in enumerate(d.index.terms)]
    return replace(d.index, terms=terms)


def _terms(e) -> frozenset | None:
    """The terms of a sum, with their multiplicities, in no order."""
    return frozenset(Counter(e.args).items()) if isinstance(e, Add) else None


def _replace_terms(e, forms: dict):
    """e with each sum whose terms are those of a key (in any order) replaced by its value;
    a negated value's sign stands in front of the product it is a factor of (−EᵀW₂T₁)."""
    if isinstance(e, Add):
        terms = _terms(e)
        for key, value in forms.items():
            if terms == key:
                return value
    if not e.args:
        return e
    out = e.with_args(_replace_terms(a, forms) for a in e.args)
    negated = [a for a in out.args if isinstance(a, MatMul) and a.args[0] == Num(-1)]
    if isinstance(out, MatMul) and out != e and negated:
        c, factors = Fraction(1), []
        for a in out.args:
            if isinstance(a, Num):
                c *= a.value
            elif a in negated:
                c, rest = -c, a.args[1:]
                factors.append(rest[0] if len(rest) == 1 else MatMul(*rest))
            else:
                factors.append(a)
        out = MatMul(*([Num(c)] if c != 1 else []), *factors) if c != 1 or len(factors) > 1 \
            else factors[0]
    return out


def _worth_a_name(e) -> bool:
    # a reciprocal 1/s reads as the division it prints as, not as a name; a norm's bars read
    # at a glance, as a name's letter would: it is as long as what stands between them
    reciprocal = isinstance(e, Power) and e.shape == (1, 1) and e.exp < 0
    read = e.args[0] if isinstance(e, Norm) else e
    return bool(e.args) and not isinstance(e, (Transpose, D, Broadcast)) and \
        not reciprocal and text_length(read) >= MIN_NAMED_LENGTH


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
    return render_all(auto_named([d], taken), style, taken)


def auto_named(derivatives, taken: set = frozenset()) -> tuple:
    """The derivatives with their long repeated subexpressions named (auto_name), and the
    names: what every style prints, found once."""
    with names_in_scope(taken):
        return auto_name(list(derivatives), taken)


def render_all(named_derivatives: tuple, style: str = "text",
               taken: set = frozenset()) -> list[str]:
    """The lines of several derivatives (as ``auto_named`` gives them), named together: each
    "where" line after the first result that uses its names, each definition once."""
    lines = []
    with names_in_scope(taken):
        parts = _named_parts(named_derivatives, style)
    for result, defs in parts:
        lines += result
        if defs:
            lines.append(rf"\text{{where }} {', '.join(defs)}" if style == "latex"
                         else f"where {', '.join(defs)}")
    return lines


def latex_results(named_derivatives: tuple, taken: set, notes=()) -> str:
    """The results of several derivatives (as ``auto_named`` gives them) as one align* block: each
    "where" definition once, after the first result that uses it; the notes, if given, as rows
    of text at the end."""
    rows = []
    with names_in_scope(taken):
        parts = _named_parts(named_derivatives, "latex")
    for lines, defs in parts:
        rows += [_split_relation(line) for line in lines]
        for i, definition in enumerate(defs):
            lhs, rhs = definition.split(" = ", 1)
            rows.append(((r"\text{where } " if i == 0 else "") + lhs, "=", rhs, ()))
    block = latex_align(rows)
    if notes:
        block = block.replace("\n\\end{align*}",
                              " \\\\\n" + latex_notes(notes, math=True) + "\n\\end{align*}")
    return block


def _named_parts(named_derivatives: tuple, style: str) -> list:
    """[(result lines, "where" definitions)] of each derivative, the names shared: the
    definitions its lines use (and those they use) that an earlier derivative has not given."""
    ds, named = named_derivatives
    p = _printer(style)
    definitions = dict(named)
    parts, shown = [], set()
    for d in ds:
        shown_exprs = [getattr(d, f) for f in ("expr", "map_expr", "gradient")
                       if getattr(d, f) is not None] + [block for _, block in d.blocks] + \
            [m for *_, m in _index_parts(d)]
        used = _used_names(shown_exprs, definitions)
        defs = [f"{_name(n, style)} = {p.doprint(e)}" for n, e in named if n in used]
        # the derivative of a user function, spelled out once: f′(x) = …
        derived = {n.name: n for e in shown_exprs + [definitions[n] for n in used]
                   for n in distinct_nodes(e) if isinstance(n, UserFunc) and n.name.endswith("′")}
        for fn in derived.values():
            call = UserFunc(fn.name, fn.param.name, fn.body, fn.param)
            defs.append(f"{p.doprint(call)} = {p.doprint(present(fn.body))}")
        defs = [x for x in defs if x not in shown]
        shown.update(defs)
        parts.append((_render(d, style), defs))
    return parts


def _used_names(exprs: list, definitions: dict) -> set:
    """The defined names the expressions use, directly or through other definitions."""
    used: set = set()
    todo = list(exprs)
    while todo:
        for n in distinct_nodes(todo.pop()):
            if isinstance(n, Var) and n.name in definitions and n.name not in used:
                used.add(n.name)
                todo.append(definitions[n.name])
    return used


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


def hessian_symbol(f: str, x, y, style: str) -> str:
    """∂²f/∂x∂yᵀ: a block of the Hessian, ∂vec(∂f/∂X)/∂vec(Y), with vec around a matrix and no
    transpose on a scalar (∂²f/∂vec(X)∂λ)."""
    latex = style == "latex"

    def part(v, last: bool) -> str:
        name = _name(v.name, style)
        if v.cols != 1:
            name = rf"\operatorname{{vec}}({name})" if latex else f"vec({name})"
        if last and v.shape != (1, 1):
            name += r"^\top" if latex else ("'" if style == "ascii" else "ᵀ")
        return rf"\partial {name}" if latex else ("d" if style == "ascii" else "∂") + name

    if x == y and x.shape == (1, 1):    # ∂²f/∂λ²
        name = _name(x.name, style)
        if latex:
            return rf"\frac{{\partial^2 {f}}}{{\partial {name}^2}}"
        return f"d^2{f}/d{name}^2" if style == "ascii" else f"∂²{f}/∂{name}²"
    if latex:
        return rf"\frac{{\partial^2 {f}}}{{{part(x, False)}\,{part(y, True)}}}"
    if style == "ascii":
        return f"d^2{f}/{part(x, False)} {part(y, True)}"
    return f"∂²{f}/{part(x, False)}{part(y, True)}"


def _render_block_hessian(d, p, f, x, style):
    """One row of blocks of a Hessian over several variables: ∂f/∂X, each ∂²f/∂X∂Yᵀ, and the
    Hessian–vector product with one direction per variable."""
    latex = style == "latex"
    part = "d" if style == "ascii" else "∂"
    grad = rf"\frac{{\partial {f}}}{{\partial {x}}}" if latex else f"{part}{f}/{part}{x}"
    directions = ", ".join(_name(v.name, style) for v in d.directions)
    mapsto = r"\mapsto" if latex else ("|->" if style == "ascii" else "↦")
    lines = [f"{grad} = {p.doprint(d.gradient)}"]
    for y, block in d.blocks:
        line = f"{hessian_symbol(f, d.wrt, y, style)} = {p.doprint(block)}"
        size = (_dims_product(d.wrt.shape), _dims_product(y.shape))
        lines.append(line if latex else f"{line}    ({_shape(size, style)})")
    hvp = f"({directions}) {mapsto} {p.doprint(d.map_expr)}"
    if latex:
        return lines + [hvp]
    along = ", ".join(f"{_name(v.name, style)} along {_name(y.name, style)}"
                      for v, (y, _) in zip(d.directions, d.blocks))
    return lines + [f"{hvp}    (Hessian-vector product d({grad})[{directions}]; {along})"]


def _render_hessian(d, p, f, x, style):
    if d.block:
        return _render_block_hessian(d, p, f, x, style)
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


def derivation(d, together: tuple = ()) -> list:
    """The derivation's parts, each (kind, Block): for a gradient the lines of df down to
    ∂f/∂X : dX, or through a chain of definitions the blocks of the backward reading (kind
    "adjoint", with the variables ``together`` read in the same pass); for a Jacobian the
    lines of dF (kind "differential"); for a Hessian both."""
    # the steps' module is imported when steps are asked for (a start-up saves its 4 ms)
    from .derivation import Block, Law, Line, backprop_blocks, differential_lines, gradient_lines
    named = dict(d.definitions)
    if d.result_name:
        named[d.result_name] = d.function

    def textbook(g):
        return textbook_form(g, d.definitions, d.function, d.result_name)

    parts = []
    if d.kind != "jacobian":
        result = d.expr if d.kind == "gradient" else d.gradient
        # a diagonal variable's gradient is the unstructured one's diagonal, a symmetric one's
        # its symmetric part: derived, then kept
        unstructured = textbook(gradient(d.function, d.wrt, d.definitions).expr) \
            if d.wrt.structure in ("diagonal", "symmetric", "spd") else result
        if any(Var(n, e.shape) in distinct_nodes(d.function) for n, e in d.definitions.items()):
            parts += [("adjoint", b) for b in backprop_blocks(
                d.function, d.wrt, d.definitions, d.fname, unstructured, textbook, named,
                together)]
        else:
            parts.append(("gradient", Block(None, gradient_lines(
                d.function, d.wrt, d.definitions, unstructured, textbook, named), [])))
        if unstructured != result:
            g, dx = Var("G", d.wrt.shape), D(d.wrt)
            if d.wrt.structure == "diagonal":       # G : dX = (G ∘ I) : dX since dX = dX ∘ I
                law = Law((Frob(g, dx), Frob(Hadamard(g, Identity(d.wrt.rows)), dx)),
                          (dx, Hadamard(dx, Identity(d.wrt.rows))))
            else:                                   # G : dX = ½(G + Gᵀ) : dX since dX = dXᵀ
                law = Law((Frob(g, dx), Frob(MatMul(Num(Fraction(1, 2)),
                                                    Add(g, Transpose(g))), dx)),
                          (dx, Transpose(dx)))
            # in the form of its block's lines: G : dX, or G itself closing a backward reading
            body = result if parts[-1][0] == "adjoint" else ((result, D(d.wrt)),)
            parts[-1][1].lines.append(Line(body, (law,)))
    if d.kind != "gradient":
        subject = d.function if d.kind == "jacobian" else d.gradient
        # a block Hessian's row: d(∂f/∂X) in the differentials of every variable
        leaves = tuple(y for y, _ in d.blocks) or d.wrt
        parts.append(("differential", Block(None, differential_lines(subject, leaves, named),
                                            [])))
    return parts


def render_steps(d, style: str = "text", taken: set = frozenset(), together: tuple = (),
                 shown: set | None = None) -> str:
    """The derivation of one derivative, as a textbook writes it (see derivation.py), then
    the result as it prints without the steps (its automatic names avoiding ``taken``); a
    Jacobian's or a Hessian's differential ends with its vec line. ``together``: the variables
    of one backward pass (see derivation); a block already in ``shown`` (printed for another
    derivative) is not printed again, and the blocks printed are added to it."""
    with names_in_scope(taken):
        return _render_steps(d, style, taken, together, shown)


def _render_steps(d, style: str, taken: set, together: tuple, shown: set | None) -> str:
    p = {"text": TextPrinter, "ascii": AsciiPrinter, "latex": LatexPrinter}[style](colon=True)
    f = _name(d.fname, style)
    nabla = _nabla(f, style)
    if d.block:                         # one gradient of several: d(∂f/∂X)
        part = "d" if style == "ascii" else "∂"
        x = _name(d.wrt.name, style)
        nabla = rf"\frac{{\partial {f}}}{{\partial {x}}}" if style == "latex" else \
            f"{part}{f}/{part}{x}"
    blocks = []
    parts = derivation(d, together)
    for i, (kind, block) in enumerate(parts):
        target = f if kind != "differential" or d.kind == "jacobian" else nabla
        target = _grouped(target, d) if kind == "differential" else target
        lead = p.doprint(block.lead) if block.lead is not None else \
            _differential(target, style)
        rows = _rows(p, block.lines, lead, style)
        rows += [(_implies(style) + " " + p.doprint(name), p.doprint(value), ())
                 for name, value in block.results]
        last_of_gradient = kind != "differential" and \
            (i + 1 == len(parts) or parts[i + 1][0] == "differential")
        if last_of_gradient and d.kind == "hessian":
            rows.append((_implies(style) + " " + nabla, _printer(style).doprint(d.gradient), ()))
        if kind == "differential":
            # vec(dF) = J vec(dX); a block Hessian's row: vec(d(∂f/∂X)) = Σ_Y H_XY vec(dY)
            column = d.function if d.kind == "jacobian" else d.wrt
            hessians = [(y, H) for y, H in d.blocks if not isinstance(H, Zero)] if d.block \
                else [(d.wrt, d.expr)] * (not isinstance(d.expr, Zero))
            jdx = " + ".join((r"\," if style == "latex" else " ").join(
                [p.factor(H), _vec_text(p.doprint(D(y)), y, style)]) for y, H in hessians) or "0"
            if jdx != rows[-1][1]:                      # dF = 0 is its own vec form
                from .derivation import vec_laws
                laws = dict.fromkeys(law for y, _ in hessians
                                     for law in vec_laws(d.differential, y))
                # vec(dF) of a column is dF: the line goes on under the block's first
                vec = _vec_text(_differential(target, style), column, style)
                rows.append((vec if vec != rows[0][0] else "", jdx,
                             tuple(_law(p, law, style) for law in laws)))
        if shown is not None:
            if tuple(rows) in shown:
                continue
            shown.add(tuple(rows))
        blocks.append(rows)
    tail = render(d, style, taken)[d.kind == "hessian":]  # ∇f concluded its own part
    if style == "latex":
        return _latex_layout(blocks, tail)
    indent = " " * (_lead_width(blocks[-1], style) + 1)
    return "\n".join(["\n\n".join(_layout(rows, style) for rows in blocks),
                      f"{indent}{_implies(style)} {tail[0]}",
                      *(f"{indent}  {line}" for line in tail[1:])])


def _rows(p, lines, lead: str, style: str) -> list:
    """(left side, body, laws) of each line; the left side only on the first; a law cited
    once (two instances of it on names of other shapes print alike)."""
    from .derivation import line_expr
    return [(lead if i == 0 else "", p.doprint(line_expr(line)),
             tuple(dict.fromkeys(_law(p, law, style) for law in line.laws)))
            for i, line in enumerate(lines)]


def _law(p, law, style: str) -> str:
    text = " = ".join(p.doprint(side) for side in law.sides)
    if law.since:
        since = " = ".join(p.doprint(side) for side in law.since)
        text += (r" \text{ since } " if style == "latex" else " since ") + since
    return text


def _latex_layout(blocks: list, tail: list) -> str:
    """The derivation and the result after it, as one align* block."""
    rows = [(lead, "=", text, laws) for block in blocks for lead, text, laws in block]
    tail_rows = [_split_relation(line) for line in tail]
    if tail_rows:
        lhs, rel, rhs, laws = tail_rows[0]
        tail_rows[0] = (rf"\Rightarrow {lhs}", rel, rhs, laws)
    return latex_align(rows + tail_rows)


# --- LaTeX layout: one align* block, long lines broken at their top-level operators ---------

# The width of a line of an article page at 10 pt, in points
LATEX_WIDTH = 345
LAW_SEPARATOR = r";\quad "
# A continued line starts a quad past where the right sides start (as the text indents it)
CONTINUED = r"&\phantom{{}={}}\quad "
# Where a long line may break: before these operators, outside braces (inside \left … \right
# only where nothing else fits)
BREAKS = (" + ", " - ", r" \circ ", r" \oslash ", r" \otimes ", " : ")


def latex_align(rows: list) -> str:
    """Rows (left side, relation, right side, laws) aligned on their relations; a right side
    too long for the page continues on the next lines, broken before a top-level + − ∘ ⊘ ⊗ :
    and indented; the laws follow in brackets, on a line of their own when they do not fit."""
    out = []
    # a left side wider than this stands on a line of its own, where the right sides start
    wide = 0.3 * LATEX_WIDTH
    # the right sides start after the widest left side; a margin for the estimate's error
    room = 0.92 * LATEX_WIDTH - max([_width(lhs) for lhs, *_ in rows if _width(lhs) <= wide],
                                    default=0) - 15
    for lhs, rel, rhs, laws in rows:
        if _width(lhs) > wide:
            out.append(f"&{lhs}")
            lhs = ""
        pieces = _break(rhs, room, room - 20)
        lines = [f"{lhs} &{rel} {pieces[0]}"] + [CONTINUED + p for p in pieces[1:]]
        if laws:
            why = f"[{LAW_SEPARATOR.join(laws)}]"
            if _width(pieces[-1]) + _width(why) + 10 <= room - 20 * (len(pieces) > 1):
                lines[-1] += rf" \quad {why}"
            else:
                lines += [rf"&\qquad {p}" for p in _pack(laws, room - 20)]
        out += lines
    return "\\begin{align*}\n" + " \\\\\n".join(out) + "\n\\end{align*}"


def _pack(laws: list, room: float) -> list:
    """The laws in brackets, as few to a line as fit (a law too long alone is broken at its
    operators)."""
    lines = [""]
    for law in laws:
        for k, p in enumerate(_break(law, room, room - 10, BREAKS + (" = ",))):
            sep = " " if k else LAW_SEPARATOR      # a broken law goes on; a new one after ;
            joined = f"{lines[-1]}{sep}{p}" if lines[-1] else p
            if lines[-1] and _width(joined) > room:
                lines[-1] += sep.split()[0] if k == 0 else ""
                lines.append(p)
            else:
                lines[-1] = joined
    lines[0] = "[" + lines[0]
    lines[-1] += "]"
    return lines


def _split_relation(line: str) -> tuple:
    """A LaTeX result line as (left side, relation, right side, laws)."""
    for rel in (" = ", r" \mapsto "):
        if rel in line:
            lhs, rhs = line.split(rel, 1)
            return lhs, rel.strip(), rhs, ()
    return "", "", line, ()


def _break(text: str, first: float, rest: float, ops=BREAKS, style: str = "latex") -> list:
    r"""text cut into pieces of at most ``first`` (then ``rest``) widths, each cut before an
    operator outside braces (in text: outside brackets), at the shallowest parenthesis depth
    that fits. Widths are points in LaTeX, characters in text. In LaTeX, where no operator
    fits, a product is cut between two factors (the next line goes on with a factor), and where
    nothing fits the nearest cut is taken: every line ends, however long the formula (TeX
    stops at a line 16,000 pt wide); \left … \right around a cut become \biggl … \biggr."""
    found, pairs = _break_points(text, ops) if style == "latex" else \
        (_text_break_points(text, ops), {})
    width = _width if style == "latex" else len
    points = [p for p in found if p[0] > 0]
    # a cut is outside every brace group, so widths add up: at[k] is the width of
    # text[:points[k][0]]
    bounds = [p[0] for p in points] + [len(text)]
    at = []
    for a, b in zip([0] + bounds, bounds):
        at.append((at[-1] if at else 0.0) + width(text[a:b]))
    cuts, taken, budget = [], 0.0, first        # taken: the width of what is already cut
    after = 0                                   # the first point past the last cut
    while at[-1] - taken > budget and after < len(points):
        # the points that fit on the line: the widths only grow, so they are the next few
        # (each line looks at its own points: linear in the length of the text)
        end = after
        while end < len(points) and at[end] - taken <= budget:
            end += 1
        fits = [j for j in range(after, end) if not points[j][2]] or list(range(after, end))
        if fits:                                # an operator before a product
            # a line at least a third full, at the shallowest depth, as long as it can be
            full = [j for j in fits if at[j] - taken >= budget / 3] or fits
            depth = min(points[j][1] for j in full)
            k = max(j for j in full if points[j][1] == depth)
        else:
            k = after
        cuts.append(points[k])
        after, taken, budget = k + 1, at[k], rest
    return _cut(text, cuts, pairs)


def _cut(text: str, cuts: list, pairs: dict) -> list:
    r"""text cut at the points ``cuts``; a \left … \right pair (``pairs``: the index of each
    \left to its \right's) around a cut is sized \biggl … \biggr, since \left and \right pair
    within one line."""
    sized = {}
    for _, _, _, groups in cuts:
        for left in groups:
            sized[left], sized[pairs[left]] = r"\biggl", r"\biggr"
    pieces, piece, pos = [], "", 0
    for i, word in sorted([(i, "") for i, *_ in cuts] + list(sized.items())):
        piece += text[pos:i]
        if not word:                                        # a cut
            pieces.append(piece)
            piece, pos = "", i
        else:
            piece += word
            pos = i + (5 if word == r"\biggl" else 6)      # \left, \right
    pieces.append(piece + text[pos:])
    return pieces[:1] + [p.lstrip() for p in pieces[1:]]   # a line goes on at its sign


def _break_points(text: str, ops) -> tuple[list, dict]:
    r"""[(index, parenthesis depth, a product?, the \left groups around it)] of the places a
    line may break: before an operator (see _binding) or between two factors of a product,
    outside braces; and each \left's index to its \right's."""
    points, braces, parens, i = [], 0, 0, 0
    lefts: list = []                                # the open \left groups, by index
    pairs: dict = {}
    firsts = {op[0] for op in ops}                  # (an operator is looked for only there)
    while i < len(text):
        c = text[i]
        if c == "\\":
            if sizing := _SIZED.match(text, i):     # \left( or \right\|, and the space after
                if sizing.group(1) == "left":
                    lefts.append(i)
                else:
                    pairs[lefts.pop()] = i
                i = sizing.end()
            else:
                i += 2
            continue
        if c == "{":
            braces += 1
        elif c == "}":
            braces -= 1
        elif c == "(":
            parens += 1
        elif c == ")":
            parens -= 1
        elif braces == 0 and c in firsts and any(text.startswith(op, i) for op in ops):
            points.append((i, parens + len(lefts) + _binding(text, i), False, tuple(lefts)))
        elif braces == 0 and c == " " and _between_factors(text, i, ops):
            points.append((i, parens + len(lefts) + 0.75, True, tuple(lefts)))
        i += 1
    return points, pairs


_SIZED = re.compile(r"\\(left|right)(?![A-Za-z])(\\[A-Za-z]+|\\.|.) *")


def _between_factors(text: str, i: int, ops) -> bool:
    r"""Is the space at text[i] one between two factors of a product (X Y, 2 \exp(x))?"""
    before, after = text[max(0, i - 40):i], text[i + 1:i + 40]
    if not before or not after or before[-1] in " (,[&" or after[0] in " )]^_,":
        return False
    if any(before.endswith(op.rstrip()) or (" " + after).startswith(op) for op in ops):
        return False
    return not re.search(r"[-+=:]$|\\(circ|oslash|otimes|quad|qquad|cdot|mapsto|Rightarrow|"
                         r"[,;:!]|text\{[^}]*\})$", before) and \
        not re.match(r"\\(right|cdot|quad|qquad|mapsto)(?![A-Za-z])", after)


def _text_break_points(text: str, ops) -> list:
    """[(index, bracket depth, False, ())] of the operators a text line may break before."""
    points, depth, bars = [], 0, 0
    firsts = {op[0] for op in ops}
    for i, c in enumerate(text):
        if c in "([⟨":
            depth += 1
        elif c in ")]⟩":
            depth -= 1
        elif c == "‖":
            bars ^= 1
        elif bars == 0 and c in firsts and any(text.startswith(op, i) for op in ops):
            points.append((i, depth + _binding(text, i), False, ()))
    return points


def _binding(text: str, i: int) -> float:
    """How much deeper a break before the operator at text[i] is than one before a + or −
    there: half a level before a product (∘, ⊘, ⊗, :), which binds tighter."""
    return 0.0 if text.startswith((" + ", " − ", " - ", " = "), i) else 0.5


def _width(latex: str) -> float:
    """About how wide LaTeX math sets at 10 pt, in points (Computer Modern: a capital about 8,
    a small letter 5.3, a binary operator with its spacing 9, a relation 12): sub- and
    superscripts smaller, a fraction as its wider part, a command as what it prints."""
    total, i = 0.0, 0
    while i < len(latex):
        c = latex[i]
        if latex.startswith(r"\frac{", i):
            top, i = _group(latex, i + 5)
            bottom, i = _group(latex, i)
            total += max(_width(top), _width(bottom)) + 2.4
            continue
        if c in "^_":
            if latex.startswith("{", i + 1):
                inner, i = _group(latex, i + 1)
            else:                                   # one symbol: X^\top, X^2
                token = re.match(r"\\[A-Za-z]+|.", latex[i + 1:])
                inner, i = token.group(), i + 1 + token.end()
            total += 0.7 * _width(inner)
            continue
        if c == "\\":
            m = re.match(r"\\([A-Za-z]+|.?)", latex[i:])
            name = m.group(1)
            i += m.end()
            if name in ("operatorname", "mathrm", "mathbf", "text"):
                inner, i = _group(latex, i)
                total += 5.0 * len(re.sub(r"\\[A-Za-z]+|[{} ]", "", inner)) + 1.7
            elif name in ("hat", "tilde", "bar", "sqrt"):
                inner, i = _group(latex, i)
                total += _width(inner) + (8.3 if name == "sqrt" else 0.0)
            else:
                total += LATEX_COMMAND_WIDTH.get(name, 6.0)
            continue
        total += _CHAR_WIDTH.get(c, 7.8 if c.isupper() else 5.3)
        i += 1
    return total


_CHAR_WIDTH = {**{d: 5.0 for d in "0123456789"}, " ": 0.0, "{": 0.0, "}": 0.0, "&": 0.0,
               "(": 3.9, ")": 3.9, "[": 2.8, "]": 2.8, ",": 4.5, ";": 4.5, ".": 2.8,
               "+": 12.2, "-": 12.2, "=": 13.3, ":": 8.4, "<": 13.3, ">": 13.3, "'": 2.8}

LATEX_COMMAND_WIDTH = {
    "left": 0.0, "right": 0.0, ",": 1.7, ";": 2.8, " ": 3.3, "quad": 10.0, "qquad": 20.0,
    "top": 7.8, "circ": 9.4, "oslash": 12.2, "otimes": 12.2, "cdot": 7.2, "mapsto": 15.5,
    "Rightarrow": 15.5, "log": 13.0, "exp": 15.0, "det": 13.7, "sin": 11.5, "cos": 13.0,
    "tan": 14.0, "tanh": 19.6, "partial": 5.7, "nabla": 8.3, "|": 5.0, "langle": 3.9,
    "rangle": 3.9, "prime": 2.8, "sigma": 5.7, "delta": 4.4, "ell": 4.2, "mu": 6.0,
    "max": 18.6, "min": 16.7, "lambda": 5.8, "ast": 5.0,
}


def _group(latex: str, i: int) -> tuple:
    """The {…} group starting at latex[i] and the index after it."""
    depth, j = 0, i
    while j < len(latex):
        if latex[j] == "{":
            depth += 1
        elif latex[j] == "}":
            depth -= 1
            if depth == 0:
                return latex[i + 1:j], j + 1
        elif latex[j] == "\\":
            j += 1
        j += 1
    return latex[i + 1:], len(latex)


# The width of a derivation's text line, in characters, and where a longer one may break
TEXT_WIDTH = 100
TEXT_BREAKS = {"text": (" + ", " − ", " ∘ ", " ⊘ ", " ⊗ ", " : "),
               "ascii": (" + ", " - ", " .* ", " ./ ", " : ")}


def _layout(rows: list, style: str) -> str:
    """Rows as text: the "=" under one another (the left sides set flush right, dF above
    vec(dF)), the laws in brackets after it. A line wider than TEXT_WIDTH continues on the
    next lines, broken before a top-level operator and indented, and its laws follow on lines
    of their own, each in its brackets."""
    pad = " " * _lead_width(rows, style)
    out = []
    for lead, text, laws in rows:
        if lead.startswith(_implies(style)):
            lead = f"{pad} {lead}"
        start = f"{lead.rjust(len(pad))} = "
        why = f"[{'; '.join(laws)}]" if laws else ""
        if len(start) + len(text) + len(why) + 6 * bool(why) <= TEXT_WIDTH:
            out.append(start + text + (f"      {why}" if why else ""))
            continue
        indent = " " * (len(start) + 4)
        room = TEXT_WIDTH - len(indent)
        pieces = _break(text, TEXT_WIDTH - len(start), room, TEXT_BREAKS[style], style)
        out += [start + pieces[0]] + [indent + p for p in pieces[1:]]
        # the laws in brackets, as many to a line as fit; a law too long for a line is broken
        # at its operators and goes on inside its brackets
        groups: list = []
        for law in laws:
            pieces = _break(law, room - 2, room - 2, TEXT_BREAKS[style] + (" = ",), style)
            if len(pieces) == 1 and groups and len(groups[-1]) == 1 and \
                    len(groups[-1][0]) + len(law) + 2 <= room - 2:
                groups[-1][0] += f"; {law}"
            else:
                groups.append(pieces)
        for group in groups:
            out += [f"{indent}{' ' if k else '['}{p}{']' if k == len(group) - 1 else ''}"
                    for k, p in enumerate(group)]
    return "\n".join(out)


def _lead_width(rows: list, style: str) -> int:
    """The width of the left sides of a block's rows (a result read off, ⇒ …, stands apart)."""
    return max(len(lead) for lead, *_ in rows if not lead.startswith(_implies(style)))


def _implies(style: str) -> str:
    return {"text": "⇒", "ascii": "=>", "latex": r"\Rightarrow"}[style]


def _differential(name: str, style: str) -> str:
    return (r"\mathrm{d}" if style == "latex" else "d") + name


def _grouped(target: str, d) -> str:
    """d(∂f/∂X) for a block Hessian's row (d∂f/∂X would read as a quotient), else as is."""
    if not d.block:
        return target
    return rf"\left({target}\right)" if target.startswith("\\") else f"({target})"


def _nabla(f: str, style: str) -> str:
    return {"text": "∇", "ascii": "grad ", "latex": r"\nabla "}[style] + f


def _vec_text(text: str, e, style: str) -> str:
    """vec(·) around a matrix only: vec x = x."""
    if e.cols == 1:
        return text
    return rf"\operatorname{{vec}}({text})" if style == "latex" else f"vec({text})"
