"""The simplifier: from the engine's raw adjoints to the form a careful author would write.

``simplify`` (engine.py) rewrites bottom-up with each node type's rules — the table in
table.py, the rules in one module per family: sums.py, chains.py (products and transposes),
powers.py, reductions.py (sum, tr, mean), broadcast.py, hadamard.py, frobenius.py (A : B and
norms), functions.py and structure.py (diag, vec, ⊗), over the shared vocabulary of terms.py.
``tidy`` (search.py) then compares the simplified expression with its expanded,
like-terms-collected and re-factored forms (factor.py) and keeps the cheaper by ``cost``
(cost.py, operation count); ``present`` (present.py) writes repeated factors as powers and
positive terms first; definitions.py expands the user's named intermediates and folds them back.
Everything here is deterministic: no set iteration or hashing decides an order.
"""

from __future__ import annotations

from . import table  # noqa: F401  (fills the engine's rule table)
from .cost import cost, within_written
from .definitions import expand_definitions, fold_definitions, fold_hadamard_definitions
from .engine import RULES, simplify
from .factor import MAX_TERMS, common_run, expand, factor
from .present import fold_powers, present
from .search import textbook_form, tidy
from .terms import ONE, coeff_and_rest, is_ones, is_zero, scale, zero_like

__all__ = ["MAX_TERMS", "ONE", "RULES", "coeff_and_rest", "common_run", "cost", "expand",
           "expand_definitions", "factor", "fold_definitions", "fold_hadamard_definitions",
           "fold_powers", "is_ones", "is_zero", "present", "scale", "simplify", "textbook_form",
           "tidy", "within_written", "zero_like"]
