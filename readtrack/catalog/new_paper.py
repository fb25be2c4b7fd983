"""A paper to add (`NewPaper`): what an import, `readtrack add` or `feed --add` hand to
`readtrack.catalog.edits`.

Apart from `readtrack.catalog.model` so that `readtrack list`, which adds nothing, does not define it (a
dataclass costs a fraction of a millisecond to make, on every start).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


def today() -> str:
    """Today's date as papers.yaml writes it (``added:``, ``read:``): 2026-11-29."""
    return dt.date.today().isoformat()


@dataclass
class NewPaper:
    """A paper to add: the keys of a `Paper` (tests/catalog/test_edits.py holds the two to the same fields),
    but ``id`` may be None, to be derived from the title or arXiv id, and where it goes is the caller's
    choice."""

    title: str
    id: str | None = None
    arxiv: str | None = None
    related: list[str] = field(default_factory=list)
    label: str | None = None
    url: str | None = None
    code: list[str] = field(default_factory=list)
    year: int | None = None
    status: str = "todo"
    tags: list[str] = field(default_factory=list)
    notes: str | None = None
    added: str | None = None
    plugins: list[str] = field(default_factory=list)
    read: str | None = None
    bibtex: str | None = None
    children: list[NewPaper] = field(default_factory=list)
