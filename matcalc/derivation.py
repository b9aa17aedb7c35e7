"""Derivations as a textbook writes them (``--steps``).

A derivation is a list of lines, each equal to the one above by the laws it cites:

1. **the differential**, forward: d is taken of the expression and moves through the linear
   operations silently, as a textbook writes d(A + tr(SX)) = dA + tr(S dX) without comment
   (sums, transposes, traces, sums of entries, means, products with one varying factor …);
   each line then takes one layer of the other operations (a product of two varying factors,
   an elementwise function, log det, a norm, a definition …), in every term at once;
2. **the extraction** of a gradient: each line moves one layer of operations across the
   Frobenius product (A : BC = BᵀA : C = ACᵀ : B and its kin); a trace, a sum of entries, a
   scalar factor or a transpose moves together with the layer inside it;
3. **the collection** of the terms into ∂f/∂X : dX, and the identities that turn it into the
   form printed as the result (a definition folded back, Wᵀ = W for a symmetric definition …).

Each law is cited as the instance that was used, written on generic names (d(XY) = dX Y + X dY,
dσ(X) = σ(X) ∘ (1 − σ(X)) ∘ dX, A : B dX = BᵀA : dX); the rules themselves are the engine's
tables (LINEARIZE and ADJOINT in differentiate.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from .differentiate import (ADJ_FROB, ADJ_SCALAR, ADJOINT, NORM_SQUARED, commutation,
                            linearize_rule)
from .ir import (Add, Broadcast, D, Diag, DiagOf, Expr, Frob, Func, Hadamard, HadPow, Kron,
                 MatMul, Mean, Norm, Num, Ones, Power, Softmax, Sum, Trace, Transpose, Unvec,
                 Var, Vec, Zero, is_scalar, product, substitute, walk)
from .printers import reads_alone
from .simplify import factor, fold_definitions, simplify

# Operations whose differential is the operation of the differentials: d moves through them
# without a line of its own (d tr(A) = tr(dA), d(A + B) = dA + dB, d(Aᵀ) = dAᵀ …).
LINEAR = (Add, Transpose, Trace, Sum, Mean, Vec, Unvec, Diag, DiagOf, Broadcast)
# Products: linear when one factor varies (d(SX) = S dX), the product rule when several do.
PRODUCTS = (MatMul, Hadamard, Kron, Frob)
# Moves across the Frobenius product that a textbook makes together with the next one.
QUIET = (Trace, Sum, Mean, Transpose, Frob, Broadcast)


@dataclass(frozen=True)
class Law:
    """An identity a line uses: equal expressions (d(XY), dX Y + X dY), and the definition it
    follows from, if any (Wᵀ = W since W = XXᵀ)."""
    sides: tuple
    since: tuple = ()


@dataclass(frozen=True)
class Line:
    """One line: a differential (an expression in d's) or a sum of Frobenius products
    ((G, L), …), and the laws that make it from the line above."""
    body: Expr | tuple
    laws: tuple = ()


def differential_lines(e: Expr, wrt: Var | tuple, definitions: dict) -> list[Line]:
    """The lines of d(e), until every differential is d(wrt) (of one of the variables, for a
    tuple of them: a block Hessian's d(∂f/∂X) in dX, dY, …)."""
    leaves = wrt if isinstance(wrt, tuple) else (wrt,)
    depends: dict = {}

    def dep(n: Expr) -> bool:
        if n not in depends:
            if _is_defined(n, definitions, leaves):
                depends[n] = dep(definitions[n.name])
            else:
                depends[n] = n in leaves or any(dep(a) for a in n.args)
        return depends[n]

    def d(c: Expr) -> Expr | None:
        return D(c) if dep(c) else None

    def silent(n: Expr) -> bool:
        if _is_defined(n, definitions, leaves):
            return False
        return isinstance(n, LINEAR) or \
            isinstance(n, PRODUCTS) and sum(dep(a) for a in n.args) == 1

    def inwards(expr: Expr) -> Expr:
        """d moved through the linear operations."""
        mapping = {}
        for n in walk(expr):
            if isinstance(n, D) and n.arg not in leaves and n not in mapping and silent(n.arg):
                mapping[n] = inwards(linearize_rule(n.arg)[1](n.arg, d))
        return substitute(expr, mapping) if mapping else expr

    raw = inwards(D(e)) if dep(e) else Zero(*e.shape)
    line = _tidy(raw)
    # what the simplification recognized in the expression itself is a line of its own:
    # d(‖xᵀx‖₂) = d(xᵀx) [‖xᵀx‖₂ = |xᵀx| = xᵀx]
    first = _recognized(raw, line)
    lines = [Line(raw), Line(line, tuple(first))] if first else [Line(line)]
    while True:
        mapping, laws = {}, []
        for n in walk(line):
            if not isinstance(n, D) or n.arg in leaves or n in mapping:
                continue
            node = n.arg
            if not dep(node):
                # d of what does not depend on the variables is 0 (tidying can leave such a d)
                mapping[n] = Zero(*node.shape)
                continue
            if _is_defined(node, definitions, leaves):
                lin = D(definitions[node.name])
                laws.append(Law((Var(node.name, node.shape), definitions[node.name])))
            else:
                lin = _linearize(node, d)
                laws.append(_forward_law(node, dep))
            mapping[n] = Zero(*node.shape) if lin is None else inwards(lin)
        if not mapping:
            return lines
        raw = substitute(line, mapping)
        line = _tidy(raw)
        lines.append(Line(line, tuple(dict.fromkeys(laws + _recognized(raw, line)))))


def _linearize(node: Expr, d) -> Expr | None:
    """The differential of one layer; in a product, a reciprocal factor's with it: the
    quotient rule d(X ⊘ Y) = dX ⊘ Y − X ⊘ Y^∘2 ∘ dY is one step, as a textbook takes it."""
    lin = linearize_rule(node)[1](node, d)
    if lin is None or not isinstance(node, PRODUCTS):
        return lin
    return substitute(lin, {n: linearize_rule(n.arg)[1](n.arg, d) for n in walk(lin)
                            if isinstance(n, D) and _reciprocal(n.arg)})


def _reciprocal(e: Expr) -> bool:
    """Is e an entrywise power, or a scalar's power, of a negative exponent (1 ⊘ Y, 1/s)?"""
    return isinstance(e, (HadPow, Power)) and e.exp < 0 and \
        (isinstance(e, HadPow) or is_scalar(e))


def _recognized(raw: Expr, line: Expr) -> list:
    """The identities the simplification of a line used that a reader should be told: σ and
    softmax recognized, (a ⊘ b) ∘ b = a."""
    a, b = Var("a", ("n", 1)), Var("b", ("n", 1))
    laws = []
    if _has(line, _is_sigmoid) and not _has(raw, _is_sigmoid):
        one_plus = Add(Broadcast(Num(1), "n", 1), Func("exp", a))
        laws.append(Law((Hadamard(Func("exp", a), HadPow(one_plus, -1)), Func("sigmoid", a))))
    if _has(line, Softmax) and not _has(raw, Softmax):
        laws.append(Law((MatMul(Func("exp", a), Power(Sum(Func("exp", a)), -1)), Softmax(a, 1))))
    for y in dict.fromkeys(n for n in walk(raw) if isinstance(n, Var) and
                           n.structure == "onehot" and n not in walk(line)):
        laws.append(Law((MatMul(y, Ones(y.cols, 1)), Ones(y.rows, 1))))   # each row sums to 1
    for n in dict.fromkeys(walk(raw)):
        if isinstance(n, Norm) and is_scalar(n.arg) and n not in walk(line):
            # every norm of a 1×1 s is |s|, and |s| = s where s ≥ 0
            value = simplify(n)
            laws.append(Law((n, Func("abs", n.arg)) + ((value,) if value != Func("abs", n.arg)
                                                      else ())))
    for n in walk(raw):
        factors = _hadamard_factors(n) if isinstance(n, Hadamard) else []
        if any(HadPow(f, -1) in factors for f in factors):
            laws.append(Law((Hadamard(a, HadPow(b, -1), b), a)))
            break
    return laws


def _hadamard_factors(e: Expr) -> list:
    """The factors of a Hadamard product, nested ones flattened: a ⊘ b ∘ c → [a, b^∘−1, c]."""
    return [f for a in e.args for f in (_hadamard_factors(a) if isinstance(a, Hadamard)
                                        else [a])]


def _is_sigmoid(n: Expr) -> bool:
    return isinstance(n, Func) and n.name == "sigmoid"


def _has(e: Expr, test) -> bool:
    if isinstance(test, type):
        return any(isinstance(n, test) for n in walk(e))
    return any(test(n) for n in walk(e))


def _is_defined(n: Expr, definitions: dict, leaves: tuple) -> bool:
    return isinstance(n, Var) and n.name in definitions and n not in leaves


def _tidy(line: Expr) -> Expr:
    """The line simplified, its Frobenius products kept as such (2x : dx, not 2xᵀdx), with
    their scalar factors on the constant side: Y/‖Y‖_F : dY rather than (Y : dY)/‖Y‖_F, and
    differentials last in a product of scalars: 2 tr(X) tr(dX). A simplification that leaves
    an I or 𝟏 whose size the line no longer tells (y − y + α = α𝟏) is not made."""
    tidy = _arrange(_simplified(line))
    return tidy if reads_alone(tidy) else _arrange(line)


# Structures whose derivative is the unstructured one (docs/language.md): what they promise
# (X𝟏 = 𝟏, XᵀX = I) holds where f is evaluated, not along every dX, so not inside d(…).
UNSTRUCTURED = ("orthogonal", "stochastic", "onehot")


def unpromised(e: Expr) -> tuple:
    """e with its variables of an UNSTRUCTURED structure as declared without their promise, and
    the map back to them."""
    free = {v: Var(v.name, v.shape) for v in walk(e)
            if isinstance(v, Var) and v.structure in UNSTRUCTURED}
    return (substitute(e, free) if free else e), {t: v for v, t in free.items()}


def _simplified(line: Expr) -> Expr:
    frobs, twins = {}, {}

    def hold(e: Expr) -> Expr:
        if isinstance(e, Frob):
            held = Var(f"frob{len(frobs)}", e.shape)
            frobs[held] = Frob(*(_tidy(a) for a in e.args))
            return held
        if isinstance(e, D):
            # d((sum(c) + γ)cᵀ) of a probability vector c is not d((1 + γ)cᵀ): its variables
            # are simplified inside d as declared without their promise
            arg, back = unpromised(e.arg)
            twins.update(back)
            return D(arg) if back else e
        return e.with_args(hold(a) for a in e.args) if e.args else e

    tidy = simplify(hold(line))
    return substitute(substitute(tidy, twins) if twins else tidy, frobs)


def _arrange(e: Expr) -> Expr:
    if not e.args:
        return e
    e = e.with_args(_arrange(a) for a in e.args)
    if isinstance(e, MatMul) and is_scalar(e) and all(is_scalar(a) for a in e.args):
        e = MatMul(*sorted(e.args, key=_has_d))
    if isinstance(e, MatMul) and is_scalar(e):
        frobs = [a for a in e.args if isinstance(a, Frob)]
        if len(frobs) == 1 and not any(_has_d(a) for a in e.args if a is not frobs[0]):
            (f,) = frobs
            a, b = f.args if _has_d(f.args[1]) else f.args[::-1]
            # the other factors multiply to a 1×1 scale, though each may be a row or a column
            scale = product(x for x in e.args if x is not f)
            return Frob(simplify(MatMul(scale, a)), b)
    return e


def _has_d(e: Expr) -> bool:
    return isinstance(e, D) or any(_has_d(a) for a in e.args)


# --- the extraction of a gradient ------------------------------------------------------------

def extraction_lines(lin: Expr) -> list[Line]:
    """The lines that move a scalar differential L(dX) across the Frobenius product until
    every term reads G : dX; the first line is L(dX) itself, as terms."""
    terms = [_signed(t) for t in (lin.args if isinstance(lin, Add) else (lin,))]
    lines = [Line(tuple(terms))]
    while any(not isinstance(x, D) for _, x in terms):
        laws: list = []
        terms = [moved for g, x in terms for moved in _move(g, x, laws)]
        # a layer of quiet moves only (a scalar factor, g (A : dB)) changes the notation
        # alone: it stands in the line before
        lines[-1 if not laws else len(lines):] = [Line(tuple(terms),
                                                       tuple(dict.fromkeys(laws)))]
    return lines


def _signed(term: Expr) -> tuple:
    """(c, L) for a term c·L with c a number: the sign and scale stand in front of L."""
    if isinstance(term, MatMul) and isinstance(term.args[0], Num):
        rest = term.args[1:]
        return term.args[0], rest[0] if len(rest) == 1 else MatMul(*rest)
    return Num(1), term


def _move(g: Expr, x: Expr, laws: list, moved: bool = False) -> list:
    """G : L(…) with one layer of L moved across the Frobenius product: [(G′, L′), …]. A
    layer is one move with its quiet neighbours (a trace, a sum of entries, a transpose, a
    scalar factor)."""
    if isinstance(x, D):
        return [(g, x)]
    if not _has_d(x):
        return []                     # a term with no differential is 0 : M (d(w − w) = 0)
    if isinstance(x, Add):
        return [out for t in x.args for out in _move(g, t, laws, moved)]
    pairs, rule = ADJOINT[type(x)](x, g)
    # a scalar factor moves without comment (G : λ dX = λG : dX), and so does g (A : dB)
    cite = not (rule in (ADJ_SCALAR, ADJ_FROB) or
                isinstance(x, MatMul) and all(is_scalar(a) for a in x.args if not _has_d(a)))
    quiet = isinstance(x, QUIET) or not cite
    if moved and not quiet:
        return [(g, x)]                                    # the next line's move
    if cite:
        laws.append(_adjoint_law(g, x))
    out = []
    for inner, adj in pairs:
        tidy = simplify(adj)
        laws.extend(_recognized(adj, tidy))
        out.extend(_move(tidy, inner, laws, moved or not quiet))
    return out


# --- the collection: ∂f/∂X : dX, and the identities that give the printed form ----------------

def gradient_lines(function: Expr, wrt: Var, definitions: dict, result: Expr, textbook,
                   named: dict) -> list[Line]:
    """The derivation of ∂f/∂X = result: the differential, the extraction, the collection.
    ``textbook`` gives a term's printed form; ``named`` maps the names a result may use
    (definitions, the function's own name) to what they stand for."""
    lines = differential_lines(function, wrt, definitions)
    if not _has_d(lines[-1].body):
        return lines                                         # df = 0
    extraction = extraction_lines(lines[-1].body)
    lines += extraction[1:]
    return lines + _closing_lines([g for g, _ in extraction[-1].body], D(wrt), result,
                                  textbook, named)


@dataclass(frozen=True)
class Block:
    """A part of a derivation: lines whose first has ``lead`` on its left (df, ∂L/∂Y : dY),
    and what is read off at its end: [(∂L/∂Y, its value)]."""
    lead: Expr
    lines: list
    results: list


def adjoint(fname: str, name: str, shape) -> Var:
    """∂L/∂Y: the adjoint of a defined name, as a name the printers write as such."""
    return Var(f"∂{fname}/∂{name}", shape)


def is_adjoint(e: Expr) -> bool:
    return isinstance(e, Var) and e.name.startswith("∂")


def backprop_blocks(function: Expr, wrt: Var, definitions: dict, fname: str, result: Expr,
                    textbook, named: dict, together: tuple = ()) -> list[Block]:
    """The derivation through a chain of definitions read backwards, by named adjoints, as in
    the batch-norm paper: dL = … ⇒ ∂L/∂Y = G; then from each definition, last first,
    ∂L/∂Y : dY = ∂L/∂Y : d(its definition) = Σ A : dZ, each name's adjoint ∂L/∂Z = ΣA read off
    once every definition that uses Z has given its part; at the end ∂L/∂X, and the result.
    The variables ``together`` with X are read in the same backward pass (one pass gives
    ∂L/∂X, ∂L/∂γ and ∂L/∂β), so that each of their derivations has the same blocks."""
    names = {n: Var(n, e.shape) for n, e in definitions.items()}
    variables = [wrt] + [v for v in together if v != wrt]
    through = [n for n in definitions if any(_depends(names[n], v, definitions)
                                              for v in variables)]
    owners = [(None, function)] + [(n, definitions[n]) for n in reversed(through)]
    users = {n: [o for o, e in owners if names[n] in walk(e)] for n in through}
    parts: dict = {}                       # a name (or the variable) → the adjoint's parts
    done: set = set()
    blocks = []
    for owner, expr in owners:
        leaves = tuple(v for v in [*(names[n] for n in through), *variables] if v in walk(expr))
        if owner is None:
            lead, body = D(Var(fname, function.shape)), expr
        else:
            g = adjoint(fname, owner, expr.shape)
            lead, body = Frob(g, D(names[owner])), Frob(g, expr)
        lines = differential_lines(body, leaves, {}) if leaves else [Line(Num(0))]
        # the rules' own forms written with the names: X − μ, not X − mean(X, 1)
        lines[1:] = [Line(fold_definitions(line.body, definitions), line.laws)
                     for line in lines[1:]]
        if _has_d(lines[-1].body):
            extraction = extraction_lines(lines[-1].body)
            lines = lines + extraction[1:]
            for g, x in extraction[-1].body:
                parts.setdefault(x.arg, []).append(g)
        done.add(owner)
        # a definition's adjoint is read off after its last user; nothing flowed into it
        # (its use cancelled: W₁((Y − Y)t₂)) makes it 0
        results = [(adjoint(fname, n, definitions[n].shape),
                    textbook(_total(parts.get(names[n], [Zero(*definitions[n].shape)]))))
                   for n in through if n not in done and
                   all(u in done for u in users[n]) and owner in users[n]]
        blocks.append(Block(lead, lines, results))
    # ∂L/∂X from its parts, the adjoints put in, and the identities of the printed form
    total = _total(parts.get(wrt, [Zero(*wrt.shape)]))
    values = {a: v for b in blocks for a, v in b.results}
    terms = list(total.args) if isinstance(total, Add) else [total]
    expanded = [simplify(_put_in(t, values)) for t in terms]
    laws = tuple(Law((a, v)) for a, v in values.items() if any(a in walk(t) for t in terms))
    lines = [Line(total)] + ([Line(_sum(expanded), laws)] if laws else [])
    lines += [Line(line_expr(line), line.laws)
              for line in _closing_lines(expanded, None, result, textbook, named)]
    blocks.append(Block(adjoint(fname, wrt.name, wrt.shape), lines, []))
    return blocks


def _depends(e: Expr, wrt: Var, definitions: dict) -> bool:
    if e == wrt:
        return True
    if isinstance(e, Var) and e.name in definitions:
        return _depends(definitions[e.name], wrt, definitions)
    return any(_depends(a, wrt, definitions) for a in e.args)


def _total(parts: list) -> Expr:
    return simplify(parts[0] if len(parts) == 1 else Add(*parts))


def _sum(terms: list) -> Expr:
    return terms[0] if len(terms) == 1 else Add(*terms)


def _put_in(e: Expr, values: dict) -> Expr:
    """e with each adjoint replaced by its value, until none that has one is left."""
    while (put := substitute(e, values)) != e:
        e = put
    return e


def _closing_lines(gs: list, dx: D | None, result: Expr, textbook, named: dict) -> list[Line]:
    """The terms ∂f/∂X is read off from (Gᵢ : dX, or Gᵢ alone for dx None) in their printed
    form, and the identities that give the result."""
    out = []
    # each term in its printed form, where that is more than a reordering
    forms = [g if _reordered(f, g) else f for g, f in zip(gs, map(textbook, gs))]

    def body(terms):
        return _sum(terms) if dx is None else tuple((t, dx) for t in terms)

    if forms != gs:
        out.append(Line(body(forms), _naming_laws(gs, forms, named)))
    collected = _sum(forms)
    factored = factor(collected)
    if not (_reordered(result, collected) or _reordered(result, factored)):
        # an identity beyond collecting terms: the part of the sum that changes
        out.append(Line(body([result]), (Law(_differing(factored, result)),)))
    return out


def _reordered(a: Expr, b: Expr) -> bool:
    """Are a and b the same up to the order of the operands of +, ∘ and : ?"""
    return _canonical(simplify(a)) == _canonical(simplify(b))


def _canonical(e: Expr) -> Expr:
    if not e.args:
        return e
    args = [_canonical(a) for a in e.args]
    if isinstance(e, (Add, Hadamard, Frob)):
        args.sort(key=repr)
    return e.with_args(args)


def _naming_laws(gs: list, forms: list, named: dict) -> tuple:
    """The identities that turn the terms gs into their printed forms: the names they fold
    back (Y = WX), a symmetric one's transpose dropped (Wᵀ = W since W = XXᵀ); with no name
    involved, each term's own identity."""
    used = [n for n in named if any(Var(n, named[n].shape) in walk(e) for e in gs + forms)]
    if not used:
        return tuple(Law((g, f)) for g, f in zip(gs, forms) if g != f)
    # of the names met, those the step needs: a name only carried along (the ℓ of WᵀY/ℓ =
    # WY/ℓ) is not a law of it
    used = [n for n in used if not _holds_without(n, gs, forms, named)] or used
    laws = []
    for n in used:
        v = Var(n, named[n].shape)
        definition = Law((v, named[n]))
        symmetric = simplify(Transpose(named[n])) == simplify(named[n])
        if symmetric and any(Transpose(v) in walk(g) for g in gs):
            laws.append(Law((Transpose(v), v), since=definition.sides))
        else:
            laws.append(definition)
    return tuple(laws)


def _holds_without(name: str, gs: list, forms: list, named: dict) -> bool:
    """Are the terms their printed forms with every definition but name's written out?"""
    values = {Var(n, e.shape): e for n, e in named.items() if n != name}
    return all(_reordered(_put_in(g, values), _put_in(f, values)) for g, f in zip(gs, forms))


def _differing(a: Expr, b: Expr) -> tuple:
    """The smallest parts in which a and b differ, where the rest of them agree: for
    Xᵀ(p − q) and Xᵀ(r), (p − q, r)."""
    while type(a) is type(b) and a.params == b.params and len(a.args) == len(b.args):
        diff = [(x, y) for x, y in zip(a.args, b.args) if x != y]
        if len(diff) != 1:
            break
        a, b = diff[0]
    return a, b


# --- laws, as the instance used written on generic names ---------------------------------------

VARYING = {"matrix": "XYZ", "vector": "xyz"}
CONSTANT = {"matrix": "ABC", "vector": "abc"}


def _kind(e: Expr) -> str:
    return "matrix" if e.rows != 1 and e.cols != 1 else "vector"


def _generic(children, varies, share: bool = True) -> list:
    """Generic names for the children of a node: X, Y for varying ones, A, B for constant
    ones (x, a for vectors and scalars); equal children share their name if ``share``
    (d(XX) = dX X + X dX, but G : A dX B = AᵀGBᵀ : dX)."""
    names: dict = {}
    used = {"varying": 0, "constant": 0}
    out = []
    for i, c in enumerate(children):
        if not share:
            c = (i, c)
        if c not in names:
            child = c if share else c[1]
            role = "varying" if varies(child) else "constant"
            pool = (VARYING if role == "varying" else CONSTANT)[_kind(child)]
            # a row that is a column transposed is named so: aᵀB, not a·B
            row = isinstance(child, Transpose) and child.arg.cols == 1 and child.rows == 1 \
                and not is_scalar(child)
            name = Var(pool[used[role] % len(pool)], child.arg.shape if row else child.shape)
            names[c] = Transpose(name) if row else name
            used[role] += 1
        out.append(names[c])
    return out


def _forward_law(node: Expr, dep) -> tuple:
    """d(node) = its differential, on generic names: (d(XY), dX Y + X dY)."""
    if _squared_norm(node):                                             # d‖X‖_F² = 2X : dX
        (x,) = _generic(node.arg.args, dep)
        generic = node.with_args([node.arg.with_args([x])])
    elif isinstance(node, PRODUCTS):            # a reciprocal factor stays one: d(X ⊘ Y)
        names = _generic([c.arg if _reciprocal(c) else c for c in node.args], dep)
        generic = node.with_args([c.with_args([x]) if _reciprocal(c) else x
                                  for c, x in zip(node.args, names)])
    else:
        generic = node.with_args(_generic(node.args, dep))
    varying = {v for v, c in zip(_leaves(generic, node), _leaves(node, node)) if dep(c)}
    varying |= {v.arg for v in varying if _reciprocal(v)}
    lin = _linearize(generic, lambda c: D(c) if c in varying else None)
    return Law((D(generic), Zero(*generic.shape) if lin is None else _arrange(_simplified(lin))))


def _squared_norm(node: Expr) -> bool:
    return linearize_rule(node) is NORM_SQUARED


def _leaves(generic: Expr, node: Expr) -> list:
    """The operands of a node (the norm's under a squared norm)."""
    if _squared_norm(node):
        return list(generic.arg.args)
    return list(generic.args)


def _adjoint_law(g: Expr, x: Expr) -> tuple:
    """G : L(dX) = L*(G) : dX on generic names: (A : B dX, BᵀA : dX)."""
    if isinstance(x, Hadamard):                  # A ∘ dX: ∘ commutes, its constants are one A
        (lin,) = [a for a in x.args if _has_d(a)]
        x = Hadamard(Var("A", x.shape), lin)
    kept = [a for a in x.args if _has_d(a) or not is_scalar(a)]
    if isinstance(x, MatMul) and 2 <= len(kept) < len(x.args):
        x = MatMul(*kept)                        # a scalar factor moves without comment
    names = iter(_generic([a for a in x.args if not _has_d(a)], lambda c: False, share=False))
    args = [_generic_d(a) if _has_d(a) else next(names) for a in x.args]
    generic = x.with_args(args)
    # a scalar G is left out: tr(dX) = I : dX
    big_g = Num(1) if is_scalar(g) else Var("G" if _kind(g) == "matrix" else "g", g.shape)
    (inner, adj), = ADJOINT[type(x)](generic, big_g)[0]
    return Law((_product_term(big_g, generic), _product_term(simplify(adj), inner)))


def _generic_d(a: Expr) -> Expr:
    """dX (dx) for the differential factor a; dxᵀ for a transposed vector's."""
    if isinstance(a, Transpose) and isinstance(a.arg, D) and _kind(a) == "vector":
        return Transpose(D(Var("x", a.arg.shape)))
    return D(Var("X" if _kind(a) == "matrix" else "x", a.shape))


def line_expr(line: Line) -> Expr:
    """The line as one expression: a sum of Frobenius products Gᵢ : Lᵢ (gL for scalars)."""
    if not isinstance(line.body, tuple):
        return line.body
    terms = [_product_term(g, x) for g, x in line.body]
    return terms[0] if len(terms) == 1 else Add(*terms)


def vec_laws(lin: Expr, wrt: Var) -> tuple:
    """The vec identities that turn dF = L(dX) into J vec(dX), each as it is used."""
    if is_scalar(wrt) or lin is None:
        return ()
    x = Var("X" if _kind(wrt) == "matrix" else "x", wrt.shape)
    m, n = wrt.shape
    a, b = Var("A", ("p", m)), Var("B", (n, "q"))
    laws = []
    for node in walk(lin):
        if isinstance(node, Frob) and _has_d(node):
            c = Var("A", wrt.shape)
            laws.append(Law((Frob(c, D(x)), MatMul(Transpose(Vec(c)), Vec(D(x))))))
        elif isinstance(node, MatMul) and any(_has_d(f) and not is_scalar(f) for f in node.args) \
                and any(not is_scalar(f) and not _has_d(f) for f in node.args):
            laws.append(Law((Vec(MatMul(a, D(x), b)),
                             MatMul(Kron(Transpose(b), a), Vec(D(x))))))
        elif isinstance(node, Hadamard) and _has_d(node):
            c = Var("A", wrt.shape)
            laws.append(Law((Vec(Hadamard(c, D(x))), MatMul(Diag(Vec(c)), Vec(D(x))))))
        elif isinstance(node, Transpose) and _has_d(node):
            laws.append(Law((Vec(Transpose(D(x))), MatMul(commutation(m, n), Vec(D(x))))))
    return tuple(dict.fromkeys(laws))


def _product_term(g: Expr, x: Expr) -> Expr:
    """G : L, or gL for a scalar L."""
    if is_scalar(x):
        return x if g == Num(1) else MatMul(g, x)
    return Frob(g, x)


