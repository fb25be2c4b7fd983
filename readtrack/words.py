"""Counts in words, as readtrack prints them: ``1 paper``, ``2 papers``, ``1,001 runs``.

The one place that decides singular or plural, so no message says "1 papers" or hedges with "seed(s)".
"""

from __future__ import annotations


def plural(count: int, word: str, words: str | None = None) -> str:
    """``count`` and ``word``, plural (``words``, else ``word + "s"``) unless the count is 1; thousands
    separated (``1,001``)."""
    return f"{count:,} {word if count == 1 else words or word + 's'}"
