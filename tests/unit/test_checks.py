"""models/checks.py: one contract, for every endpoint, on what counts as a number, a whole
number, an index and a choice."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models import checks


@pytest.mark.parametrize("value, expected", [(3, 3.0), (2.5, 2.5), ("3", 3.0), (" -1e-3 ", -0.001),
                                             (10**3, 1000.0)])
def test_numbers_and_texts_of_one_number(value, expected):
    assert checks.number(value, "x") == expected


@pytest.mark.parametrize("value", [True, False, None, [1], {"a": 1}, "1,000", "seven", "",
                                   float("nan"), float("inf"), "-inf", 10**400])
def test_what_is_not_a_number(value):
    with pytest.raises(ValueError, match="^The x must"):
        checks.number(value, "The x")


def test_bounds_and_whole_numbers():
    assert checks.integer("4", "n", 1, 5) == 4 and checks.integer(4.0, "n", 1, 5) == 4
    for value, message in [(4.5, "whole number"), (6, "between 1 and 5"), (True, "number")]:
        with pytest.raises(ValueError, match=message):
            checks.integer(value, "n", 1, 5)


def test_indices_count_from_1_unless_the_api_says_0():
    assert checks.index("1", "Layer", 6) == 1 and checks.index(6, "Layer", 6) == 6
    for value in (0, 7, "mean", 2.5, True):
        with pytest.raises(ValueError, match="Layer"):
            checks.index(value, "Layer", 6)
    assert checks.index(0, "Row", 28, first=0) == 0
    with pytest.raises(ValueError, match="0 to 27"):
        checks.index(28, "Row", 28, first=0)
    assert checks.index(None, "Head", 4, default=1) == 1


def test_a_choice_is_exact():
    assert checks.choice("relu", "activation", ("relu", "tanh")) == "relu"
    assert checks.choice(8, "number of bits", (8, 4)) == 8
    for value in ("ReLU", True, ["relu"], None, "8"):
        with pytest.raises(ValueError, match="Unknown"):
            checks.choice(value, "activation", ("relu", "tanh", 8, 1))


@given(st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=20),
                 st.lists(st.integers(), max_size=2)))
@settings(max_examples=300, deadline=None)
def test_anything_is_a_finite_number_in_bounds_or_a_sentence(value):
    try:
        x = checks.number(value, "The value", -10, 10)
    except ValueError as e:
        assert str(e).startswith("The value") and str(e).endswith(".")
        return
    assert math.isfinite(x) and -10 <= x <= 10 and not isinstance(value, bool)
