"""The Python API: ``derive(text, wrt)`` runs the pipeline and returns a ``Result``.

    >>> from matcalc import derive
    >>> r = derive("‖XWᵀ‖_F²", "W")
    >>> print(r.text)
    ∂f/∂W = 2WXᵀX    (k×m)
    >>> r.check().ok
    True
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field, replace
from functools import cached_property
from fractions import Fraction
from typing import TYPE_CHECKING

from .differentiate import FUNC_NOTE, Gradient, gradient
from .errors import MatcalcError, UnsupportedError, guarded
from .ir import (Add, Commutation, D, Expr, Frob, Hadamard, Identity, MatMul, Num, Transpose, Var,
                 Zero, dim_mul, distinct_nodes, fmt_shape, is_scalar, is_symmetric, occurrences,
                 substitute)
from .memo import for_input
from .printers import ASCII_GREEK, ascii_text, to_ascii, to_latex, to_text
from .reader import Program, parse
from .report import (FRECHET_NOTES, K_NOTE, auto_named, latex_results, render_all,
                     render_steps)
from .simplify import coeff_and_rest, cost, present, simplify, textbook_form, tidy

if TYPE_CHECKING:
    from .check import CheckReport


@dataclass
class Derivative:
    """One derivative of f with respect to one variable X.

    kind "gradient": ``expr`` is ∂f/∂X. kind "jacobian": ``expr`` is the vec form ∂vec F/∂vec X,
    ``index`` the index form, ``map_expr`` the vector–Jacobian product in ``map_var`` (G).
    kind "hessian": ``expr`` is ∂vec(∇f)/∂vec X, ``gradient`` is ∇f, ``map_expr`` the
    Hessian–vector product in ``map_var`` (V).
    """
    kind: str
    wrt: Var
    expr: Expr
    function: Expr             # f, over the names of `definitions`
    definitions: dict          # the definitions in force (the variable's own is left out)
    notes: list = field(default_factory=list)
    fname: str = "f"
    result_name: str | None = None                # the input's own name for f (ℓ = ‖Y‖_F)
    index: object = None                          # the IndexForm (Jacobians)
    map_expr: Expr | None = None
    map_var: Var | None = None
    gradient: Expr | None = None                  # ∇f (Hessians)
    differential: Expr | None = None              # dF in dX (Jacobians, Hessians)
    blocks: list = field(default_factory=list)    # [(Y, ∂²f/∂vec(X)∂vec(Y)ᵀ)] (block Hessians)
    directions: list = field(default_factory=list)  # the map form's V, one per variable

    @property
    def block(self) -> bool:
        """Is this one row of blocks of the Hessian over several variables?"""
        return bool(self.blocks)

    @property
    def symbol(self) -> str:
        return f"∂{self.fname}/∂{self.wrt.name}"


class Result:
    """What ``derive`` returns. Text, LaTeX and NumPy forms, the derivation, and a check."""

    def __init__(self, program: Program, derivatives: list[Derivative]):
        self.program = program
        self.derivatives = derivatives

    # -- forms -------------------------------------------------------------------------------
    def _render(self, style: str) -> str:
        return _in_style("\n".join(render_all(self._named, style, self._names)), style)

    @cached_property
    def _named(self) -> tuple:
        """The derivatives with their names, the same in every style."""
        return auto_named(self.derivatives, self._names)

    @property
    def _names(self) -> set:
        """The names in use (declared, defined, functions), and the symbols of the sizes
        (automatic names avoid them: a softmax named p beside a size p read back as the size;
        printed forms spell around them: n·p, not np beside a variable np)."""
        shapes = [v.shape for v in self.program.variables] + \
            [e.shape for _, e in self.program.definitions]
        return {v.name for v in self.program.variables} | set(self.program.declared) | \
            set(self.program.functions) | {n for n, _ in self.program.definitions} | \
            {f for shape in shapes for d in shape if isinstance(d, str) for f in d.split("·")}

    @property
    @guarded
    def text(self) -> str:
        """The results in Unicode, with their shapes."""
        return self._render("text")

    @property
    @guarded
    def ascii(self) -> str:
        """The results in the ASCII dialect (matrixcalculus.org style)."""
        return self._render("ascii")

    @property
    @guarded
    def latex(self) -> str:
        """The results as one amsmath align* block, aligned on "=", long lines broken at their
        top-level operators, each "where" definition once."""
        return latex_results(self._named, self._names)

    @property
    @guarded
    def numpy(self) -> str:
        """A self-contained NumPy snippet: grad_/jac_/vjp_/hess_/hvp_ functions."""
        from .codegen import generate
        return generate(self)

    @guarded
    def numpy_with_value(self) -> str:
        """Like ``numpy``, but each gradient function returns ``(f, grad)``."""
        from .codegen import generate
        return generate(self, with_value=True)

    @property
    @guarded
    def steps(self) -> str:
        """The derivations as text, one identity per line, each naming its rules."""
        return "\n\n".join(self._steps("text"))

    @property
    @guarded
    def steps_ascii(self) -> str:
        return "\n\n".join(_in_style(steps, "ascii") for steps in self._steps("ascii"))

    @property
    @guarded
    def steps_latex(self) -> str:
        """The derivations as LaTeX align* blocks."""
        return "\n".join(self._steps("latex"))

    def _steps(self, style: str) -> list[str]:
        """Each derivation, the gradients through one chain of definitions read in one
        backward pass, and a block printed for one derivative not printed again."""
        shown: set = set()
        return [render_steps(d, style, self._names, self._together(d), shown)
                for d in self.derivatives]

    def _together(self, d: Derivative) -> tuple:
        """The variables whose gradients one backward pass gives with d's: those of the
        gradients of the same function through the same definitions."""
        return tuple(e.wrt for e in self.derivatives if e.kind == d.kind == "gradient" and
                     e.function == d.function and e.definitions == d.definitions)

    @property
    @guarded
    def notes(self) -> list[str]:
        """How the input was read, then what the results need (``caveats``)."""
        return list(dict.fromkeys([*self.program.notes, *self.caveats]))

    @property
    @guarded
    def caveats(self) -> list[str]:
        """The notes on the results themselves, without how the input was read (what --quiet
        keeps): a derivative that holds only almost everywhere, a total derivative through the
        definitions, a symmetric variable's gradient, symbols such as K."""
        return list(dict.fromkeys(n for d in self.derivatives for n in d.notes))

    @guarded
    def to_json(self, ascii_only: bool = False) -> str:
        """One JSON object for editors and tools; the schema is in docs/json.md. With
        ``ascii_only`` every non-ASCII character is escaped (\\uXXXX): the same JSON value."""
        import json                 # here: a start without --to json does not load it
        return json.dumps({
            "input": self.program.source,
            "function": to_text(self.program.result),
            "shapes": {v.name: fmt_shape(v.shape) for v in self.program.variables},
            "derivatives": [{
                "kind": d.kind,
                "wrt": d.wrt.name,
                "shape": fmt_shape(d.wrt.shape),
                "result": {"text": to_text(d.expr), "ascii": to_ascii(d.expr),
                           "latex": to_latex(d.expr)},
                **self._styled_lines(d),
                "steps_text": render_steps(d, "text", self._names,
                                           self._together(d)).splitlines(),
                "steps_latex": render_steps(d, "latex", self._names, self._together(d)),
                "notes": d.notes,
                **({"blocks": [{"wrt": y.name, "shape": fmt_shape((_size(d.wrt), _size(y))),
                                "result": {"text": to_text(h), "ascii": to_ascii(h),
                                           "latex": to_latex(h)}}
                               for y, h in d.blocks]} if d.block else {}),
            } for d in self.derivatives],
            "numpy": self.numpy,
            "notes": self.notes,
        }, ensure_ascii=ascii_only, indent=2)

    def _styled_lines(self, d: Derivative) -> dict:
        """One derivative's lines in text, ASCII and LaTeX, its names found once for all."""
        named = auto_named([d], self._names)
        return {"text": render_all(named, "text", self._names),
                "ascii": _in_style("\n".join(render_all(named, "ascii", self._names)),
                                   "ascii").split("\n"),
                "latex": render_all(named, "latex", self._names)}

    @guarded
    def _repr_latex_(self) -> str:
        """Jupyter's view: the results, then the notes, in one align* block."""
        return latex_results(self._named, self._names, self.notes)

    @guarded
    def __repr__(self) -> str:
        return self.text

    # -- the numerical check ---------------------------------------------------------------
    @guarded
    def check(self, seed: int = 0, tries: int = 20, probes: int = 3) -> CheckReport:
        """Check every form against central differences of f along ``probes`` random
        directions, at random inputs suited to the expression (SPD where it takes an inverse or
        a determinant, positive under log and sqrt, away from the kinks of relu and H; ``tries``
        draws at most): the symbolic results and the generated NumPy functions, the vec forms
        applied to vec(V), the map forms by ⟨G, J V⟩. See matcalc.check."""
        from .check import check_result
        return check_result(self, seed, tries, probes)


def _in_style(text: str, style: str) -> str:
    """The ASCII style is ASCII throughout: the printers spell the mathematics in ASCII, and
    the prose around it (rule names such as vec(AXB) = (Bᵀ ⊗ A)vec X) is spelled here."""
    return ascii_text(text) if style == "ascii" else text


def resolve_variable(program: Program, name: str) -> Var:
    """The variable (or defined name) the user means by ``name`` ('lam' finds λ, 'W1' W₁)."""
    candidates = {v.name: v for v in program.variables}
    for defined, _ in program.definitions:
        candidates.setdefault(defined, None)
    spelled = _normalize_name(name)
    if spelled not in candidates:
        spelled = _read_name(name) or spelled       # x_bar, \hat{X}: as the input spells them
    if spelled in candidates:
        return candidates[spelled] or _held(program, spelled)
    # the same name in another case first (w for W), then the closest spelling
    close = [c for c in candidates if c.casefold() == spelled.casefold()] or \
        difflib.get_close_matches(spelled, list(candidates), n=1)
    known = ", ".join(candidates) or "none"
    # a run the reader took apart says so: 'Ax' read as the product A·x (…)
    read = next((n for n in program.notes if n.startswith(f"'{name}' read as the product")), None)
    raise MatcalcError(
        f"--wrt {name}: the expression has no variable '{name}'",
        hint=(f"{read}; " if read else f"did you mean '{close[0]}'? " if close else "") +
        f"its variables are: {known}")


def _read_name(name: str) -> str | None:
    """The name ``name`` reads as in an input (x̄ for x_bar, X̂ for \\hat{X}), if it is one."""
    try:
        read = parse(name).result
    except MatcalcError:
        return None
    return read.name if isinstance(read, Var) else None


def _held(program: Program, name: str) -> Var:
    """A defined name held as an independent variable: symmetric where f is defined for a
    symmetric value of it only (λ_max(Y) of Y = expm(A + Aᵀ): its derivative qqᵀ is taken in
    the symmetric matrices, where the definition's values lie), else unstructured."""
    shape = dict(program.definitions)[name].shape
    others = {n: e for n, e in program.definitions if n != name}
    needs_symmetric = any(getattr(node, "requires_symmetric", False) and
                          not is_symmetric(node.arg, others)
                          for node in distinct_nodes(program.result, *others.values()))
    return Var(name, shape, "symmetric" if needs_symmetric else "")


def holding(program: Program, var: Var) -> Program:
    """The program with a defined name held as the variable ``var`` (a symmetric one, _held)
    named by ``var`` wherever it is used."""
    plain = Var(var.name, var.shape)
    if var == plain or var.name not in dict(program.definitions):
        return program
    return replace(program, result=substitute(program.result, {plain: var}),
                   definitions=tuple((n, substitute(e, {plain: var}))
                                     for n, e in program.definitions))


def _normalize_name(name: str) -> str:
    base = name.rstrip("0123456789").replace("_", "")
    digits = name[len(name.rstrip("0123456789")):]
    base = ASCII_GREEK.get(base, base)
    if base.startswith("\\"):
        base = ASCII_GREEK.get(base[1:], base)
    return base + "".join("₀₁₂₃₄₅₆₇₈₉"[int(c)] for c in digits)


@guarded
def derive(text: str, wrt, shapes: dict | None = None, kind: str = "auto") -> Result:
    """Parse ``text``, differentiate its (last) expression with respect to each name in ``wrt``
    (a name or a list of names) and return the results.

    ``kind`` is "gradient", "jacobian", "hessian" or "auto" (the gradient of a scalar, the
    Jacobian of anything else).

    >>> print(derive("‖Ax − b‖₂²", "x").text)
    ∂f/∂x = 2Aᵀ(Ax − b)    (vector of length m)
    """
    for_input((text, shapes))       # what was memoized of other inputs is dropped
    program = parse(text, shapes)
    names = [wrt] if isinstance(wrt, str) else list(wrt)
    if not names:
        raise MatcalcError("no variable to differentiate with respect to",
                           hint="name one with --wrt, e.g. --wrt X")
    if kind == "auto":
        kind = "gradient" if is_scalar(program.result) else "jacobian"
    if kind not in ("gradient", "jacobian", "hessian"):
        raise MatcalcError(f"unknown kind of derivative '{kind}'",
                           hint="gradient, jacobian or hessian")
    variables = [resolve_variable(program, name) for name in names]
    for var in variables:
        program = holding(program, var)
    if kind == "hessian" and len(set(variables)) > 1:
        derivatives = _block_hessian(program, list(dict.fromkeys(variables)))
    else:
        derivatives = []
        for var in variables:
            definitions = {n: e for n, e in program.definitions if n != var.name}
            derivatives.append({"gradient": _gradient, "jacobian": _jacobian,
                                "hessian": _hessian}[kind](program, var, definitions))
    for d in derivatives:
        d.notes += _frechet_notes(d) + _symmetric_notes(program, d)
        var, definitions = d.wrt, d.definitions
        if var.name in dict(program.definitions):
            d.notes.insert(0, f"{var.name} is a defined name: it is held as an independent "
                              + ("symmetric " if var.symmetric else "") +
                              "variable (what it is defined from is held fixed" +
                              ("; f needs it symmetric, as its definition is)"
                               if var.symmetric else ")"))
        elif definitions:
            d.notes.insert(0, "total derivative: it goes through the definitions of "
                              + ", ".join(definitions))
    return Result(program, derivatives)


def gradient_notes(g: Gradient) -> list:
    """The gradient's notes; where it is 0 because the variable stands only in masks, the
    step's note says which mask, and how to keep the entries it selects (seed 000's C > 0.2,
    meant as C ∘ H(C − 0.2))."""
    notes = list(g.notes)
    if g.mask is not None:
        x = g.wrt
        said = f", so the mask {to_text(g.mask)} passes no gradient to {x.name}"
        if g.mask.shape == x.shape:
            said += f"; to keep the entries of {x.name} it selects, write " \
                    f"{to_text(Hadamard(x, g.mask))}"
        notes[notes.index(FUNC_NOTE["heaviside"])] += said
    return notes


def _gradient(program: Program, var: Var, definitions: dict) -> Derivative:
    g = gradient(program.result, var, definitions)
    unstructured = textbook_form(g.expr, definitions, program.result, program.result_name)
    expr = over_structure(var, unstructured)
    notes = gradient_notes(g) + structure_notes(var, unstructured)
    return Derivative("gradient", var, expr, program.result, definitions, notes,
                      fname=_result_name(program, "f"),
                      result_name=program.result_name)


def _fresh(program: Program, preferred: str, shape) -> Var:
    """A new variable name not used in the program (G for an upstream gradient, V a direction);
    the function's own name (G = XWᵀ) is used too."""
    taken = {v.name for v in program.variables} | {n for n, _ in program.definitions} | \
        {program.result_name}
    for name in (preferred, preferred + "₁", preferred + "₂", "Γ", "Ω"):
        if name not in taken:
            return Var(name, shape)
    raise MatcalcError(f"no free name for the {preferred} of the map form")


def _jacobian(program: Program, var: Var, definitions: dict) -> Derivative:
    from .jacobian import differential, index_form, vec_form
    f = program.result
    # the map form first: what it refuses (a long chain of ⊗) is refused before the vec form
    # is built and tidied
    g = _fresh(program, "G", f.shape)
    vjp = gradient(Frob(g, f), var, definitions)
    lin = differential(f, var, definitions)
    if lin is None:
        lin = Zero(*f.shape)
    J = present(tidy(vec_form(lin, var))) if not isinstance(lin, Zero) else \
        Zero(_size(f), _size(var))
    fname = _result_name(program, "F")
    index = index_form(J, f.shape, var, fname)
    map_expr = over_structure(var, textbook_form(vjp.expr, definitions, f,
                                                 program.result_name))
    notes = gradient_notes(vjp) + structure_notes(var)
    if _mentions(J, Commutation):
        notes.append(K_NOTE)
    return Derivative("jacobian", var, J, f, definitions, notes,
                      fname=fname, result_name=program.result_name, index=index,
                      map_expr=map_expr, map_var=g, differential=lin)


def _hessian(program: Program, var: Var, definitions: dict) -> Derivative:
    g, grad, through = _hessian_gradient(program, var, definitions)
    H, lin = _hessian_block(grad, var, var, through)
    v = _fresh(program, "V", var.shape)
    hvp = directions_last(textbook_form(substitute(lin, {D(var): v}), definitions,
                                        program.result, program.result_name), [v])
    return Derivative("hessian", var, H, program.result, definitions, _hessian_notes(g, [H]),
                      fname=_result_name(program, "f"), result_name=program.result_name,
                      map_expr=hvp, map_var=v, gradient=grad, differential=lin)


def _block_hessian(program: Program, variables: list[Var]) -> list[Derivative]:
    """The Hessian of f in all the variables together, as jax.hessian gives it for a tuple of
    arguments: row X of blocks ∂²f/∂vec(X)∂vec(Y)ᵀ = ∂vec(∂f/∂X)/∂vec(Y), one per variable Y, and
    the Hessian–vector product (V₁, V₂, …) ↦ d(∂f/∂X)[V₁, V₂, …], one direction per variable.
    Every variable is held independent of the others (a defined one as a leaf)."""
    held = {v.name for v in variables}
    definitions = {n: e for n, e in program.definitions if n not in held}
    directions = _fresh_directions(program, variables)
    rows = []
    for var in variables:
        g, grad, through = _hessian_gradient(program, var, definitions)
        blocks, lins = [], []
        for other in variables:
            H, lin = _hessian_block(grad, var, other, through)
            blocks.append((other, H))
            if not isinstance(lin, Zero):
                lins.append(lin)
        # d(∂f/∂X) = Σ_Y (the part linear in dY)
        lin = simplify(Add(*lins)) if len(lins) > 1 else (lins[0] if lins else Zero(*var.shape))
        hvp = directions_last(
            textbook_form(substitute(lin, {D(y): v for y, v in zip(variables, directions)}),
                          definitions, program.result, program.result_name), directions)
        own = variables.index(var)
        rows.append(Derivative(
            "hessian", var, blocks[own][1], program.result, definitions,
            _hessian_notes(g, [H for _, H in blocks]), fname=_result_name(program, "f"),
            result_name=program.result_name, map_expr=hvp, map_var=directions[own],
            gradient=grad, differential=lin, blocks=blocks, directions=directions))
    return rows


SYMMETRIC = ("symmetric", "spd")


def over_structure(var: Var, g: Expr) -> Expr:
    """The gradient over a diagonal variable's own entries, G ∘ I [Cookbook §2.8.3]; of a
    symmetric one the gradient in the symmetric matrices, ½(G + Gᵀ) (df = ½(G + Gᵀ) : dX for
    every symmetric dX); any other variable's gradient as it is (the unstructured one, which
    structure_notes qualifies)."""
    if var.structure == "diagonal":
        return present(tidy(simplify(Hadamard(g, Identity(var.rows)))))
    if var.structure in SYMMETRIC:
        # the terms that are symmetric stay, the others are averaged with their transposes:
        # S⁻¹ − Aᵀ gives S⁻¹ − ½(A + Aᵀ)
        terms = g.args if isinstance(g, Add) else (g,)
        flipped = {t: simplify(Transpose(t)) for t in terms}
        kept = [t for t in terms if flipped[t] == t]
        rest = [t for t in terms if flipped[t] != t]
        half = Fraction(1, 2)
        if rest and all(coeff_and_rest(t)[0] < 0 for t in rest):     # −½(A + Aᵀ)
            half, rest = -half, [simplify(MatMul(Num(-1), t)) for t in rest]
            flipped = {t: simplify(Transpose(t)) for t in rest}
        pairs = sorted([*rest, *(flipped[t] for t in rest)], key=cost)
        averaged = [MatMul(Num(half), Add(*pairs))] if rest else []
        return present(simplify(Add(*kept, *averaged)) if len(kept) + len(averaged) > 1
                       else simplify((kept + averaged)[0]))
    return g


def independent_entries(var: Var, g: Expr) -> Expr:
    """A symmetric variable's derivative with respect to its independent entries X_ij, i ≤ j,
    from its unstructured gradient G: G + Gᵀ − G ∘ I [Cookbook §2.8.2]."""
    both = sorted([g, simplify(Transpose(g))], key=cost)            # A + Aᵀ, not Aᵀ + A
    return simplify(Add(*both, MatMul(Num(-1), Hadamard(g, Identity(var.rows)))))


def structure_notes(var: Var, g: Expr | None = None) -> list:
    """What a declared structure means for the gradient printed (of a symmetric variable, with
    its unstructured gradient g: the derivative over its independent entries as well)."""
    name, what = var.name, {"symmetric": "symmetric", "spd": "symmetric positive definite"}
    if var.structure in what:
        note = (f"{name} is {what[var.structure]}: the gradient is taken in the symmetric "
                "matrices, ½(G + Gᵀ) of the unstructured gradient G" +
                (f" = {to_text(g)}" if g is not None else "") + " (every entry independent)")
        if g is not None:
            note += (f"; the derivative with respect to the independent entries {name}_ij, "
                     f"i ≤ j (Matrix Cookbook 2.8.2) is G + Gᵀ − G ∘ I = "
                     f"{to_text(independent_entries(var, g))}")
    elif var.structure == "diagonal":
        note = (f"{name} is diagonal: the gradient over its diagonal entries, G ∘ I of the "
                "unstructured gradient G (Matrix Cookbook 2.8.3)")
    elif var.structure == "orthogonal":
        note = (f"{name} has orthonormal columns: this is the unstructured gradient G; along "
                f"such matrices (the tangent space at {name}) only G − {name} sym({name}ᵀG) "
                "counts, sym(M) = ½(M + Mᵀ)")
    elif var.structure == "stochastic":
        note = (f"the rows of {name} sum to 1: this is the unstructured gradient G; along such "
                "matrices only G minus the mean of each row of G counts")
    else:
        return []
    return [note]


def _hessian_gradient(program: Program, var: Var, definitions: dict) -> tuple:
    """∂f/∂X (the derivation and its textbook form), and the definitions d(∂f/∂X) goes through:
    ∂f/∂X may name f itself (∇ℓ = W/ℓ for ℓ = ‖W‖_F)."""
    if var.structure in ("orthogonal", "stochastic", "onehot"):
        # the simplifier uses XᵀX = I or X𝟏 = 𝟏, so ∂f/∂X is right on those matrices only,
        # and its derivative is not the Hessian along every direction
        raise UnsupportedError(
            f"the Hessian with respect to {var.name}, declared {var.structure}, is not derived",
            hint=f"declare {var.name} without its structure for the Hessian of f over all "
                 "matrices")
    if not is_scalar(program.result):
        raise UnsupportedError("a Hessian needs a scalar function",
                               hint="for a matrix-valued F ask for the Jacobian (--jacobian)")
    g = gradient(program.result, var, definitions)
    grad = over_structure(var, textbook_form(g.expr, definitions, program.result,
                                             program.result_name))
    through = dict(definitions)
    if program.result_name:
        through[program.result_name] = program.result
    return g, grad, through


def _hessian_block(grad: Expr, var: Var, other: Var, through: dict) -> tuple[Expr, Expr]:
    """∂vec(∂f/∂X)/∂vec(Y) in vec form, and d(∂f/∂X) in dY (a zero of X's shape if none)."""
    from .jacobian import differential, vec_form
    lin = differential(grad, other, through)
    if lin is None:
        return Zero(_size(var), _size(other)), Zero(*var.shape)
    return present(tidy(vec_form(lin, other))), lin


def _hessian_notes(g, blocks: list) -> list:
    notes = gradient_notes(g) + structure_notes(g.wrt)
    if any(_mentions(H, Commutation) for H in blocks):
        notes.append(K_NOTE + "; (A ⊗ B)K_{n,q} = K_{m,p}(B ⊗ A) for a p×q B")
    return notes


def _frechet_notes(d: Derivative) -> list:
    """What the Kronecker forms K_f and the second Fréchet derivatives in the results are."""
    trees = [t for t in (d.expr, d.gradient, d.map_expr, *(h for _, h in d.blocks))
             if t is not None]
    found = {(type(n).__name__, *n.params[:1]) for n in distinct_nodes(*trees)}
    return [note for key, note in FRECHET_NOTES.items() if key in found]


MAX_SYMMETRIC_NOTE = 200    # nodes of a gradient looked at for a symmetric form


def _symmetric_notes(program: Program, d: Derivative) -> list:
    """For the undeclared square matrices M that the gradient holds with their transposes in a
    sum, as in A + Aᵀ or Σ⁻¹ + Σ⁻ᵀ, the gradient where they are symmetric, if that is a sum of
    fewer terms (Cookbook (81): (A + Aᵀ)x is 2Ax; a covariance Σ): a declaration away. M is
    constant in the gradient, so its value there is the gradient at a symmetric M."""
    if d.kind != "gradient" or len(distinct_nodes(d.expr)) > MAX_SYMMETRIC_NOTE or \
            not any(isinstance(n, Transpose) for n in distinct_nodes(d.expr)):
        return []

    def symmetric(names: list) -> Expr:
        held = {m: Var(m.name, m.shape, "symmetric") for m in names}
        return textbook_form(substitute(d.expr, held),
                             {n: substitute(e, held) for n, e in d.definitions.items()},
                             substitute(d.function, held), d.result_name)

    names = [m for m in program.variables
             if m != d.wrt and not m.structure and m.name not in program.declared and
             m.rows == m.cols != 1 and _leaves(d.expr, m.name) > 1]
    fewest = _terms(symmetric(names)) if names else 0
    if not names or fewest >= _terms(d.expr):
        return []
    for m in list(names):           # those the shorter sum needs (AᵀXBᵀ + AXB: A and B)
        if len(names) > 1 and _terms(symmetric([n for n in names if n != m])) <= fewest:
            names.remove(m)
    sizes: dict = {}
    for m in names:
        sizes.setdefault(m.rows, []).append(m.name)
    declared = "; ".join(f"{', '.join(group)} ∈ 𝕊^{n if '·' not in str(n) else '{' + n + '}'}"
                         for n, group in sizes.items())
    which = " and ".join([", ".join(m.name for m in names[:-1]), names[-1].name] if
                         len(names) > 1 else [names[0].name])
    return [f"if {which} {'are' if len(names) > 1 else 'is'} symmetric (declare {declared}), "
            f"{d.symbol} = {to_text(symmetric(names))}"]


def _leaves(e: Expr, name: str) -> int:
    """How many times e writes the name."""
    return sum(k for n, k in occurrences(e).items() if isinstance(n, Var) and n.name == name)


def _terms(e: Expr) -> int:
    """How many terms the sums in e write, beyond one each."""
    return sum((len(n.args) - 1) * k for n, k in occurrences(e).items() if isinstance(n, Add))


def directions_last(e: Expr, directions: list[Var]) -> Expr:
    """A scalar direction written last in a scalar product, else last among the scalars before
    the matrices, where the differential it stands for stands: d(3λ² + 1)[V] = 6λV, as 6λ dλ;
    d(3λ²aᵀx)[V] = 6λaᵀxV; d(λ²x)[V] = 2λVx."""
    scalar = {v for v in directions if is_scalar(v)}
    if not scalar:
        return e
    memo: dict = {}

    def visit(x: Expr) -> Expr:
        if x not in memo:
            y = x.with_args(visit(a) for a in x.args) if x.args else x
            if isinstance(y, MatMul) and scalar & set(y.args):
                rest = [a for a in y.args if a not in scalar]
                lead = len(rest) if is_scalar(y) else \
                    next(i for i, a in enumerate(rest) if not is_scalar(a))
                y = MatMul(*rest[:lead], *[a for a in y.args if a in scalar], *rest[lead:])
            memo[x] = y
        return memo[x]
    return visit(e)


def _fresh_directions(program: Program, variables: list[Var]) -> list[Var]:
    """The directions of a block Hessian–vector product, V₁, V₂, … in the order of the
    variables (U₁, … or W₁, … where the input uses one of those names)."""
    taken = {v.name for v in program.variables} | {n for n, _ in program.definitions}
    for stem in ("V", "U", "W", "Δ"):
        names = [stem + "".join("₀₁₂₃₄₅₆₇₈₉"[int(c)] for c in str(k + 1))
                 for k in range(len(variables))]
        if not taken & set(names):
            return [Var(n, v.shape) for n, v in zip(names, variables)]
    raise MatcalcError("no free names for the directions of the Hessian–vector product")


def _result_name(program: Program, default: str) -> str:
    """The name of the function being differentiated: its own, else f (F for a matrix), else
    ℓ when the input defines a function f of its own."""
    if program.result_name:
        return program.result_name
    return default if default not in program.functions else "ℓ"


def _size(e: Expr):
    return dim_mul(e.rows, e.cols)


def _mentions(e: Expr, node_type) -> bool:
    return any(isinstance(n, node_type) for n in distinct_nodes(e))
