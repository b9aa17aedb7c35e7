"""matcalc: symbolic matrix calculus — gradients in textbook form, with the derivation.

    >>> import matcalc
    >>> print(matcalc.derive("tr(AXB)", "X").text)
    ∂f/∂X = AᵀBᵀ    (m×k)

The heavy parts (the parser, NumPy) load on first use, so ``import matcalc`` stays cheap.
Errors: MatcalcError (the input; UnsupportedError, what matcalc cannot derive) and
InternalError (a bug in matcalc, never a MatcalcError, with the original exception chained).
"""

__version__ = "0.1.0"
__all__ = ["InternalError", "MatcalcError", "Result", "UnsupportedError", "derive", "parse"]


def __getattr__(name):
    if name in ("derive", "Result"):
        from . import api
        return getattr(api, name)
    if name == "parse":
        from .reader import parse
        return parse
    if name in ("MatcalcError", "UnsupportedError", "InternalError"):
        from . import errors
        return getattr(errors, name)
    raise AttributeError(f"module 'matcalc' has no attribute {name!r}")
