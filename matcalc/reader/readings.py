"""The shapes of undeclared names: from their uses first, from the naming convention last.

Each undeclared name has a *domain* of shapes, cheapest first; the first is the convention:

| name                                   | shapes (cost)                      |
|----------------------------------------|------------------------------------|
| lower-case Greek (θ, μ, λ) and ℓ       | scalar (0), column vector (1)      |
| lower-case Latin (x, b, ASCII x_out)   | column vector (0), scalar (2)      |
| upper-case (X, W₁, Σ)                  | matrix with free sizes (0)         |

A *reading* gives every undeclared name one shape of its domain; its cost is the sum of theirs.
The reader elaborates the input under a reading (elaborate._Elaborator) and reports each broadcast
it made, each name with a scalar shape it met transposed, and the place where the shapes did not
fit if any (an ``Outcome``). Starting from the convention, the search settles the *issues* of a
reading in reading order:

- a broadcast, unless the operand it widens is built from numbers and declared scalars alone
  (``x + 1``, ``1 − σ(X)``, ``λ ∈ ℝ; x + λ``): it is removed by another shape for a name on
  which either operand's kind depends (``x − μ``, ``Xθ − y``, ``½xᵀAx + c``) — the broadcast
  would only rescue a guess; one that no other shape removes (``C − λ``: λ's other shape, a
  vector, is still not C's; ``XW + b``) is taken as written;
- a transposed name with a scalar shape (``θᵀx``): a transposed name is not a scalar;
- a place where the shapes do not fit (``QKᵀ/√d``, d a vector): another shape for a name in it
  may let the reading go past that place.

An issue is settled by the cheapest change of one name that removes it, adds no broadcast
involving that name (nor transposes it as a scalar), and leads to a reading that works; among equally cheap changes the reading
of lower total cost wins, and two at the same cost are ambiguous: the reader asks for a
declaration. Places that each have one cheapest change are settled together, in one
elaboration, when those changes remove all of them (independent places x₁ − μ₁, x₂ − μ₂, …);
else one at a time. Each name changes at most once. The elaborations are bounded (MAX_READINGS,
MAX_STEPS); beyond, the reader asks for declarations. The convention settles almost every
input, which is then elaborated once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..errors import MatcalcError

MAX_READINGS = 64       # elaborations of one input at most
MAX_STEPS = 300_000     # tree steps over all its elaborations at most


def domain(name: str) -> tuple:
    """The shapes an undeclared name may take, as (kind, cost), the conventional one first."""
    first = name[0]
    if first == "ℓ" or "α" <= first <= "ω":
        return (("scalar", 0), ("vector", 1))
    if first.isupper():
        return (("matrix", 0),)
    return (("vector", 0), ("scalar", 2))


def convention(name: str) -> str:
    """Why the conventional shape, as a note says it."""
    first = name[0]
    if first == "ℓ":
        return "undeclared ℓ: scalar by convention"
    if "α" <= first <= "ω":
        return "undeclared Greek name: scalar by convention"
    if "Α" <= first <= "Ω":
        return "undeclared upper-case Greek name: matrix by convention"
    if first.isupper():
        return "undeclared upper-case name: matrix by convention"
    return "undeclared lower-case name: column vector by convention"


@dataclass(frozen=True)
class Inferred:
    """A shape other than the convention's, taken because of the place ``site`` (a span),
    where the conventional shape needed a broadcast (``why`` "broadcast"), did not fit
    ("misfit") or was a transposed scalar ("transposed")."""
    kind: str
    site: tuple
    why: str


@dataclass(frozen=True)
class Broadcast:
    """A broadcast an elaboration made at tree step ``step`` (the operation at ``site``): an
    operand of kind ``kinds[0]`` widened to the other's, ``kinds[1]`` (kinds: scalar, col, row,
    matrix). ``names``: the undeclared names with another possible shape that each operand
    involves (None: more than the reader follows); ``leaves``: (name, transposed) where an
    operand is one such name alone, up to sign, a number factor and transposes, else None."""
    step: int
    site: tuple
    kinds: tuple
    names: tuple
    leaves: tuple
    stated: bool    # the widened operand is built from numbers and declared scalars alone


@dataclass(frozen=True)
class Misfit:
    """A place where a shape did not fit, at tree step ``step`` (the node at ``site``), and the
    undeclared names with another possible shape it involves: where the elaboration failed
    (``why`` "misfit", the last one), or a name with a scalar shape written transposed
    ("transposed"; a transposed name is not a scalar)."""
    step: int
    site: tuple
    names: frozenset
    why: str


@dataclass(frozen=True)
class Outcome:
    """One elaboration: the Program or the error; the broadcasts made and the misfits met, in
    order (an error's last); the number of tree steps walked."""
    program: object
    error: MatcalcError | None
    broadcasts: tuple
    misfits: tuple
    steps: int

    @property
    def reached(self) -> int:
        """The last step elaborated."""
        return self.misfits[-1].step if self.error is not None else self.steps


def _cost(reading: dict) -> int:
    return sum(dict(domain(n))[i.kind] for n, i in reading.items())


def _flip(kind: str, transposed: bool) -> str:
    return "row" if kind == "col" and transposed else kind


class _Search:
    def __init__(self, text: str, elaborate: Callable[[dict], Outcome]):
        self.text = text
        self._elaborate = elaborate
        self.outcomes: dict = {}        # frozenset of changed names → Outcome
        self.settled: dict = {}         # frozenset of changed names → (reading, Outcome)
        self.steps = 0
        self.seen: set = set()          # names whose shape was in question

    def elaborate(self, reading: dict) -> Outcome:
        key = frozenset(reading)
        if key not in self.outcomes:
            if len(self.outcomes) >= MAX_READINGS or self.steps > MAX_STEPS:
                names = sorted(self.seen)
                names = ", ".join(names[:6]) + (", …" if len(names) > 6 else "")
                n = len(self.outcomes)
                raise MatcalcError(
                    f"the shapes of the undeclared names {names} depend on each other in more "
                    f"ways than matcalc tries ({n} reading{'s' if n != 1 else ''})",
                    hint="declare some of them, e.g. x ∈ ℝⁿ for a vector, λ ∈ ℝ for a scalar")
            out = self._elaborate(reading)
            self.outcomes[key] = out
            self.steps += out.steps
        return self.outcomes[key]

    def settle(self, reading: dict) -> tuple:
        """The reading that settles every issue of ``reading`` by further changes, and its
        Outcome (an error when nothing works)."""
        key = frozenset(reading)
        if key not in self.settled:
            out = self.elaborate(reading)
            issues = sorted([b for b in out.broadcasts if not b.stated] + list(out.misfits),
                            key=lambda i: i.step)
            result = self.settle_together(reading, out, issues)
            for issue in [] if result else issues:
                result = self.settle_issue(reading, out, issue)
                if result is not None:
                    break
            self.settled[key] = result or (reading, out)
        return self.settled[key]

    def changes(self, reading: dict, issue) -> dict:
        """The changes of one name that may remove the issue: cost → [(name, Inferred)]."""
        if isinstance(issue, Broadcast):
            names = set().union(*(n for n in issue.names if n is not None))
        else:
            names = set(issue.names)
        why = issue.why if isinstance(issue, Misfit) else "broadcast"
        by_cost: dict = {}
        for name in sorted(names - set(reading)):
            self.seen.add(name)
            kind, cost = domain(name)[1]
            if not isinstance(issue, Broadcast) or _may_equal(issue, name, kind):
                by_cost.setdefault(cost, []).append((name, Inferred(kind, issue.site, why)))
        return by_cost

    def settle_issue(self, reading: dict, out: Outcome, issue):
        """The settled reading after the cheapest change of one name that removes the issue
        and leads to a working reading (the lowest total cost among equally cheap changes; a
        tie is ambiguous), or None."""
        by_cost = self.changes(reading, issue)
        for cost in sorted(by_cost):
            works = {}          # settled readings, one for each set of changed names
            for name, inferred in by_cost[cost]:
                changed = {**reading, name: inferred}
                if _removes(out, self.elaborate(changed), issue, name):
                    settled = self.settle(changed)
                    if settled[1].program is not None:
                        works.setdefault(frozenset(settled[0]), settled)
            if works:
                best = min(_cost(r) for r, _ in works.values())
                tied = [w for w in works.values() if _cost(w[0]) == best]
                if len(tied) > 1:
                    raise _ambiguous(issue, tied[0][0], tied[1][0], self.text)
                return tied[0]
        return None

    def settle_together(self, reading: dict, out: Outcome, issues: list):
        """Places that each have one cheapest change, settled in one elaboration when those
        changes remove all of them together and lead to a working reading; else None (they
        are settled one at a time). Independent places (x₁ − μ₁, x₂ − μ₂, …) cost one
        elaboration, not one each."""
        plan: dict = {}
        for issue in issues:
            by_cost = self.changes(reading, issue)
            if by_cost:
                cheapest = by_cost[min(by_cost)]
                if len(cheapest) == 1 and cheapest[0][0] not in plan:
                    plan[cheapest[0][0]] = (issue, cheapest[0][1])
        if len(plan) < 2:
            return None
        changed = {**reading, **{name: inferred for name, (_, inferred) in plan.items()}}
        trial = self.elaborate(changed)
        if not all(_removes(out, trial, issue, name) for name, (issue, _) in plan.items()):
            return None
        settled = self.settle(changed)
        return settled if settled[1].program is not None else None


def _may_equal(b: Broadcast, name: str, kind: str) -> bool:
    """Could the two operands of b have one shape with ``name`` of kind ``kind``? Where an
    operand does not involve the name its kind stays; where it is the name alone it becomes
    ``kind``; anything else is found out by elaborating."""
    after = []
    for side in (0, 1):
        names, leaf, other = b.names[side], b.leaves[side], b.names[1 - side]
        if names is not None and name not in names:
            after.append(b.kinds[side])
        elif leaf is not None and leaf[0] == name and other is not None and name not in other:
            after.append(_flip("col" if kind == "vector" else kind, leaf[1]))
        else:
            return True
    return after[0] == after[1]


def _removes(out: Outcome, trial: Outcome, issue, name: str) -> bool:
    """Does the trial reading get past the issue's step without it, without a broadcast
    involving the changed name where ``out`` had none (it would rescue the new guess), and
    without writing the name transposed if it is now a scalar?"""
    if trial.error is not None and trial.reached <= issue.step:
        return False
    same = trial.broadcasts if isinstance(issue, Broadcast) else trial.misfits
    if any(i.step == issue.step for i in same):
        return False
    if any(m.why == "transposed" and name in m.names for m in trial.misfits):
        return False
    before = {b.step for b in out.broadcasts}
    for b in trial.broadcasts:
        if b.step > out.reached:
            break
        if b.step not in before and not b.stated and \
                any(n is None or name in n for n in b.names):
            return False
    return True


def _changed(reading: dict, other: dict) -> list:
    return sorted(n for n in reading if n not in other)


def _declare(names: list, kind: str) -> str:
    return f"{', '.join(names)} ∈ {'ℝ' if kind == 'scalar' else 'ℝⁿ'}"


def _ambiguous(issue, a: dict, b: dict, text: str) -> MatcalcError:
    """Two readings at one cost: each named by its changes, with the declarations that choose
    it, or (a broadcast) keep the convention's shapes and the broadcast."""
    readings = []
    for one, other in ((a, b), (b, a)):
        names = _changed(one, other)
        readings.append((" and ".join(f"{n} a {one[n].kind}" for n in names),
                         "; ".join(_declare([n], one[n].kind) for n in names)))
    hint = f"declare the shape you mean: {readings[0][1]}, or {readings[1][1]}"
    if isinstance(issue, Broadcast):
        names = _changed(a, b) + _changed(b, a)
        by_kind: dict = {}
        for n in sorted(names):
            by_kind.setdefault(domain(n)[0][0], []).append(n)
        hint += ", or " + "; ".join(_declare(ns, k) for k, ns in by_kind.items()) + \
            " to broadcast"
    return MatcalcError(
        f"two readings fit equally well: {readings[0][0]}, or {readings[1][0]}",
        text, [issue.site], hint)


def read(text: str, elaborate: Callable[[dict], Outcome]):
    """The Program of the settled reading of ``text`` (elaborate(reading) → Outcome), or the
    error of the conventional reading when no reading works."""
    _, out = _Search(text, elaborate).settle({})
    if out.error is not None:
        raise out.error
    return out.program
