"""Counts in words, as readtrack prints them: ``1 paper``, ``2 papers``, ``1,001 runs``, ``12 min`` old.

The one place that decides singular or plural, so no message says "1 papers" or hedges with "seed(s)", and
how an age is said.
"""

from __future__ import annotations

import math
from collections.abc import Sequence


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


def seeds_label(seeds: Sequence[int], *, sep: str = ",", shortest_range: int = 2) -> str:
    """``0-4`` for a run of consecutive seeds, ``0-2,7,9-10`` when there are gaps (what ``--seeds`` reads);
    a run shorter than ``shortest_range`` is listed seed by seed."""
    parts: list[str] = []
    start = 0
    for i in range(1, len(seeds) + 1):
        if i == len(seeds) or seeds[i] != seeds[i - 1] + 1:
            first, last = seeds[start], seeds[i - 1]
            if i - start >= max(shortest_range, 2):
                parts.append(f"{first}-{last}")
            else:
                parts.extend(str(s) for s in seeds[start:i])
            start = i
    return sep.join(parts)


def fmt_seconds(value: float | None) -> str:
    """A duration as every face of readtrack writes it, three significant digits in the unit that fits:
    ``6.27 s``, ``7.32 ms``, ``41 µs`` (``–`` for none): one precision for a stage wherever it shows."""
    if value is None or not math.isfinite(value):
        return "–"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if abs(value) >= scale:
            return f"{value / scale:.3g} {unit}"
    return f"{value / 1e-9:.3g} ns"
