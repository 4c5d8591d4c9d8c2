"""One contract for what a client may send: numbers, whole numbers, indices and choices.

Every model module checks its arguments with these, so the API answers alike everywhere:

- **a number** is an int or a float, or a text holding one (" 2.5", "3", "-1e-3"), and finite.
  Never a bool (True is not 1 here), a list, or "1,000" (a comma is the decimal point in much of
  the world: write 1000);
- **a whole number** is a number equal to an integer: 3, 3.0 and "3"; not 3.5;
- **an index** counts from 1, as people count and the API says (layer 1 is the first layer),
  except where an endpoint says it counts from 0 (a pixel's row and column, as numpy's);
- **a choice** is one of the options exactly;
- **a yes or no** is True or False, or (from an address) the text "true" or "false".

Each raises ValueError with a sentence saying what to send (demos turn it into gr.Error).
"""

from __future__ import annotations

import math


def _shown(value) -> str:
    return repr(value) if not isinstance(value, str) else repr(value[:40])


def number(value, what: str, low: float = -math.inf, high: float = math.inf) -> float:
    """A finite float in [low, high]."""
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise ValueError(f"{what} must be a number, got {_shown(value)}.") from None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{what} must be a number, got {_shown(value)}.")
    try:
        value = float(value)
    except OverflowError:  # an int beyond float's range
        raise ValueError(f"{what} must be between {low:g} and {high:g}.") from None
    if not math.isfinite(value):
        raise ValueError(f"{what} must be a finite number, got {value}.")
    if not low <= value <= high:
        raise ValueError(f"{what} must be between {low:g} and {high:g}, got {value:g}.")
    return value


def integer(value, what: str, low: float = -math.inf, high: float = math.inf) -> int:
    """A whole number in [low, high]."""
    value = number(value, what, low, high)
    if value != int(value):
        raise ValueError(f"{what} must be a whole number, got {value:g}.")
    return int(value)


def index(value, what: str, n: int, first: int = 1, default: int | None = None,
          others: str = "") -> int:
    """One of n things, counted from `first` (1 unless the API counts from 0). `default`
    stands in for None or empty text; `others` names what else the argument takes (for the
    sentence: ' (or "mean")')."""
    if default is not None and (value is None or isinstance(value, str) and not value.strip()):
        return default
    last = first + n - 1
    try:
        value = integer(value, what)
    except ValueError:
        raise ValueError(f"{what} must be a whole number from {first} to {last}{others}."
                         ) from None
    if not first <= value <= last:
        raise ValueError(f"{what} {value} does not exist: there are {n} ({first} to {last})"
                         f"{others}.")
    return value


def choice(value, what: str, options):
    """One of `options`, exactly (True is not 1, "3" is not 3)."""
    if isinstance(value, bool) or not _hashable(value) or value not in options:
        raise ValueError(f"Unknown {what} {_shown(value)}: choose from "
                         f"{', '.join(map(str, options))}.")
    return value


def flag(value, what: str) -> bool:
    """True or False (not 1 or 0), or the text "true" or "false" in any case."""
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    if not isinstance(value, bool):
        raise ValueError(f"{what} must be true or false, got {_shown(value)}.")
    return value


def _hashable(value) -> bool:
    try:
        hash(value)
        return True
    except TypeError:
        return False
