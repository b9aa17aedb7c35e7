"""The bounds on what the reader reads: the input's length, its nesting and depth, and the
digits of a number (a number is an exact fraction, so its size is bounded before it is
expanded)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from fractions import Fraction

from ..errors import MatcalcError

MAX_LENGTH = 100_000    # characters of input
MAX_NESTING = 100       # nested brackets / bars
MAX_DEPTH = 200         # depth of the expression tree
MAX_DIGITS = 300        # digits of a number's numerator and of its denominator


class LimitError(MatcalcError):
    """The input passes one of the limits, whatever the shapes of its names: the search over
    readings takes it as the answer, not as a place where another shape may fit."""


_NUMBER_BOUND = 10 ** MAX_DIGITS
_NUMBER_HINT = (f"numbers are exact fractions with at most {MAX_DIGITS} digits above and below "
                f"the line (1e-{MAX_DIGITS - 1} to 1e{MAX_DIGITS - 1})")


def fits(value: Fraction) -> bool:
    """Is the number within the limits: numerator and denominator of at most MAX_DIGITS
    digits?"""
    return abs(value.numerator) < _NUMBER_BOUND and value.denominator < _NUMBER_BOUND


def power_fits(base: Fraction, k: int) -> bool:
    """Can bᵏ be computed within the limits? It has at least |k|·(bits of b − 1) bits: past
    4·MAX_DIGITS bits it is out of range, found before it is computed (2^(3³⁰) would take
    hours)."""
    bits = max(base.numerator.bit_length(), base.denominator.bit_length())
    return bits <= 1 or abs(k) * (bits - 1) <= 4 * MAX_DIGITS


def _literal_fits(literal: str) -> bool:
    """Is a written number (2, 0.5, 1e-5, 12/7) within the limits? Its size is read off its
    digits and exponent before it is expanded (1e30800001 would take minutes to expand)."""
    top, _, bottom = literal.partition("/")
    try:
        parts = Decimal(top), Decimal(bottom or "1")
    except InvalidOperation:        # an exponent beyond any Decimal's
        return False
    if any(d and (len(d.as_tuple().digits) > MAX_DIGITS or abs(d.adjusted()) > MAX_DIGITS)
           for d in parts):
        return False
    return not parts[1] or fits(Fraction(top) / Fraction(bottom or "1"))
