"""matcalc: symbolic matrix calculus — gradients in textbook form, with the derivation.

    >>> import matcalc
    >>> print(matcalc.derive("tr(AXB)", "X").text)
    ∂f/∂X = AᵀBᵀ    (m×k)

The heavy parts (the parser, NumPy) load on first use, so ``import matcalc`` stays cheap.
"""

__version__ = "0.1.0"
__all__ = ["derive", "parse", "Result", "MatcalcError", "UnsupportedError"]


def __getattr__(name):
    if name in ("derive", "Result"):
        from . import api
        return getattr(api, name)
    if name == "parse":
        from .parse import parse
        return parse
    if name in ("MatcalcError", "UnsupportedError"):
        from . import errors
        return getattr(errors, name)
    raise AttributeError(f"module 'matcalc' has no attribute {name!r}")
