"""Numbers that print the same are not said to differ (issue 84): below their 4th significant digit, or both
at round-off near zero. A sweep's row says "same" where its mean and the defaults' print alike (it said
"differs" of 0.6773 beside 0.6773 a last bit apart, and of 6.661e-16 beside 5.551e-17); `compare` counts such
a number unchanged and shows a ratio of round-off values as what it is ("both ≈ 0"), not 1e15×."""

from __future__ import annotations

import math

from readtrack.batch.sweep import compared
from readtrack.history.comparison import Delta, LinedNumber
from readtrack.history.spread import Spread, same_printed
from readtrack.render.runs import ratio_text


def spread(*values: float) -> Spread:
    return Spread("final loss", "measured", list(range(len(values))), list(values))


def test_numbers_that_print_the_same_are_the_same() -> None:
    assert same_printed(0.6773, math.nextafter(0.6773, 1.0))
    assert same_printed(6.661e-16, 5.551e-17)  # both round-off
    assert same_printed(0.0, 1e-13) and same_printed(1.00004, 1.00006)
    assert not same_printed(0.6773, 0.6774)  # a 4th digit apart: printed apart
    assert not same_printed(1e-7, 2e-7)  # a float32 error is a value, not round-off
    assert not same_printed(5.4e-32, 1e-3)
    assert same_printed(math.nan, math.nan) and not same_printed(math.nan, 1.0)


def test_a_sweeps_setting_with_the_defaults_mean_as_printed_is_the_same_not_apart() -> None:
    base = spread(0.6773, 0.6773, 0.6773)
    assert compared(spread(*[math.nextafter(0.6773, 1.0)] * 3), base) == ("same", 3)
    assert (
        compared(spread(6.661e-16, 6.661e-16, 6.661e-16), spread(5.551e-17, 5.551e-17, 5.551e-17))[0]
        == "same"
    )
    assert compared(spread(0.9, 0.91, 0.92), base)[0] == "differs"
    assert compared(spread(0.5, 0.7, 0.9), spread(0.6, 0.7, 0.8))[0] == "same"  # equal means: same
    assert compared(spread(0.5, 0.7, 0.95), spread(0.6, 0.7, 0.8))[0] == "within"
    assert compared(spread(0.6773, 0.6773), base) == ("too few runs", 2)  # no verdict below 3 runs


def test_compare_counts_round_off_as_unchanged_and_says_what_a_round_off_ratio_is() -> None:
    assert Delta("check", "out vs ref", 5.551e-17, 6.661e-16).same
    assert not Delta("measured", "loss", 0.5, 0.6).same
    assert Delta("measured", "loss", None, None).same and not Delta("measured", "loss", None, 0.1).same
    assert ratio_text(5.4e-32, 5.551e-17, 5.551e-17 / 5.4e-32) == "both ≈ 0"
    assert ratio_text(0.0, 0.5, None) == "from ≈ 0" and ratio_text(0.5, 1e-17, 2e-17) == "to ≈ 0"
    assert ratio_text(2.5, 1.7, 0.68) == "0.68×" and ratio_text(1e-3, 20.0, 2e4) == "2e+04×"
    assert ratio_text(None, 1.0, None) == "–"
    lined = LinedNumber("measured", "drift", [5.4e-32, 5.551e-17, None], [None, None, None])
    assert not lined.same  # a column lacks it
    assert LinedNumber("measured", "drift", [5.4e-32, 5.551e-17], [None, None]).same
    assert not LinedNumber("target", "acc", [0.9, 0.9], [True, False]).same  # the verdicts differ
