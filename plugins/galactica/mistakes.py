"""The classic mistake in Galactica's <work> trace, for ``readtrack practice``: its check must catch it
(tests/practice/test_practice.py)."""

from __future__ import annotations

from readtrack.api import mistake

from .model import digits


@mistake("work", fails="vectorised formatter = per-example formatter, scratchpad, D = 2")
def work(a: int, b: int, D: int) -> list[int]:
    """Drops the incoming carry: each step adds a_i + b_i only, so 5 + 7 then 1 + 0 writes s_1 = 1, not 2,
    and the trace no longer adds up to the answer after </work>."""
    trace = []
    for a_i, b_i in zip(digits(a, D), digits(b, D), strict=True):
        total = a_i + b_i
        trace += [a_i, b_i, total % 10, total // 10]
    return trace
