"""arXiv's categories that `readtrack feed --category` takes: computer science, statistics and mathematics.

From arXiv's category taxonomy (https://arxiv.org/category_taxonomy). A name outside it is refused with the
closest names, so a typo (``cs.lg``, ``cs.ML``) never becomes a query that silently finds nothing.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from readtrack.base.errors import UsageError

CS = (
    "AI AR CC CE CG CL CR CV CY DB DC DL DM DS ET FL GL GR GT HC IR IT LG LO MA MM MS NA NE NI OH OS PF PL "
    "RO SC SD SE SI SY"
)
STAT = "AP CO ME ML OT TH"
MATH = "AC AG AP AT CA CO CT CV DG DS FA GM GN GR GT HO IT KT LO MG MP NA NT OA OC PR QA RA RT SG SP ST"
OTHER = ("eess.AS", "eess.IV", "eess.SP", "eess.SY", "q-bio.NC", "q-bio.QM", "physics.data-an", "quant-ph")

KNOWN: tuple[str, ...] = (
    *(f"cs.{c}" for c in CS.split()),
    *(f"stat.{c}" for c in STAT.split()),
    *(f"math.{c}" for c in MATH.split()),
    *OTHER,
)


def checked(names: Iterable[str]) -> list[str]:
    """The names as arXiv spells them (``cs.lg`` is cs.LG), each once; an unknown one refused with the
    closest known names."""
    by_lower = {name.lower(): name for name in KNOWN}
    found: list[str] = []
    for raw in names:
        name = raw.strip()
        known = by_lower.get(name.lower())
        if known is None:
            close = difflib.get_close_matches(name.lower(), list(by_lower), n=3, cutoff=0.5)
            hint = f"; did you mean {', '.join(by_lower[c] for c in close)}?" if close else ""
            raise UsageError(f"unknown arXiv category {name!r}{hint} (docs/feed.md lists them)")
        if known not in found:
            found.append(known)
    return found


def known(name: str) -> bool:
    return name in KNOWN
