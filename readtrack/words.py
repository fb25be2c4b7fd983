"""Counts in words, as readtrack prints them: ``1 paper``, ``2 papers``, ``1,001 runs``, ``12 min`` old.

The one place that decides singular or plural, so no message says "1 papers" or hedges with "seed(s)", and
how an age is said.
"""

from __future__ import annotations


def plural(count: int, word: str, words: str | None = None) -> str:
    """``count`` and ``word``, plural (``words``, else ``word + "s"``) unless the count is 1; thousands
    separated (``1,001``)."""
    return f"{count:,} {word if count == 1 else words or word + 's'}"


def age(seconds: float) -> str:
    """How old something is, in the unit people would say: ``45 s``, ``12 min``, ``5 h``, ``3 days``."""
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.0f} h"
    return f"{seconds / 86400:.0f} days"
