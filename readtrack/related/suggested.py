"""Suggestions a reader adds: ``next --add N`` and ``add ID`` for a paper ``next`` suggested.

``next`` remembers the rows it showed (their ids and why each was suggested, with the date) in the cache,
so that ``readtrack add 2401.01234`` of a suggested paper, or ``readtrack add DOI:10.1000/xyz`` (or its
``https://doi.org/`` link) of one without an arXiv id, as ``next`` shows it, lands where ``next --add`` puts
it (the "To read" section unless named) with the same entry and reason in its notes.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from readtrack.catalog import arxivid
from readtrack.catalog.keys import doi_of
from readtrack.catalog.model import Paper
from readtrack.catalog.new_paper import NewPaper, today
from readtrack.related.cache import Cache

if TYPE_CHECKING:
    from readtrack.related.graph import Row

LAST = "next:last"  # the cache key of the rows `next` showed last
SECTION = "To read"  # where a suggestion goes unless the reader names a section


def reason(row: Row, date: str) -> str:
    return f"Suggested by `readtrack next` on {date}: {row.why}."


def remember(cache: Cache, rows: list[Row]) -> None:
    """Keep each row's ids and reason for a later ``add`` (rows in the list are not kept)."""
    date = today()
    kept: dict[str, dict[str, Any]] = {}
    for row in rows:
        if row.listed is not None or not row.why:
            continue
        entry = {"reason": reason(row, date), "paper": row.paper.to_json()}
        for key in _keys(row.paper.arxiv, row.paper.doi):
            kept.setdefault(key, entry)
    before = cache.get(LAST)
    if before is None or before[0] != kept:  # the same rows the same day: nothing written, so that `next`
        cache.put(LAST, kept)  # run again on an unchanged cache is replayed (`readtrack.cli.replay`)


def find(cache: Cache, ident: str) -> tuple[str, dict[str, Any]] | None:
    """The reason and paper ``next`` suggested under this arXiv id or DOI (bare, ``DOI:...`` or a link to
    it), if it did."""
    hit = cache.get(LAST)
    if hit is None or not isinstance(hit[0], dict):
        return None
    parsed = arxivid.parse(ident)
    doi = None if parsed else doi_of(ident)
    key = f"arxiv:{parsed.base}" if parsed else f"doi:{doi}" if doi else None
    entry = hit[0].get(key) if key else None
    return (str(entry["reason"]), dict(entry["paper"])) if isinstance(entry, dict) else None


def _keys(arxiv: str | None, doi: str | None) -> list[str]:
    return ([f"arxiv:{arxiv}"] if arxiv else []) + ([f"doi:{doi.lower()}"] if doi else [])


def new_paper(row: Row, note: str) -> NewPaper:
    """The list entry of a suggested paper: title, year, arXiv id (else its DOI's link), the reason."""
    p = row.paper
    return NewPaper(
        title=p.title or p.ident,
        arxiv=p.arxiv,
        url=None if p.arxiv or not p.doi else f"https://doi.org/{p.doi}",
        year=p.year,
        added=today(),
        notes=note,
    )


def add_rows(path: Path, rows: list[Row], section: str = SECTION, *, note: str | None = None) -> list[Paper]:
    """Add the rows' papers to ``section`` in one write (nothing is written when one is already listed), each
    with ``note`` in its notes, else why ``next`` suggested it."""
    from readtrack.catalog import edits  # yaml: only when a paper is added

    date = today()
    entries = [new_paper(row, note if note is not None else reason(row, date)) for row in rows]
    catalog = edits.add_papers(path, section, entries)
    return [catalog.get(entry.id) for entry in entries if entry.id]


def suggested_entry(entry: NewPaper) -> NewPaper | None:
    """``readtrack add ID`` of a paper the last ``next`` suggested: its entry with the title, year and the
    reason; None for any other paper (and without touching the data dir when it has no database yet)."""
    from readtrack.base.paths import database_path

    ident = entry.arxiv or doi_of(entry.url) or ""
    if not ident or not database_path().exists():
        return None
    with Cache() as cache:
        found = find(cache, ident)
    if found is None:
        return None
    from readtrack.related.s2 import S2Paper  # requests comes with it: only for a suggested paper

    note, paper = found
    p = S2Paper.from_json(paper, "cache")
    if entry.arxiv or not p.arxiv:
        return replace(entry, title=p.title or entry.title, year=p.year, notes=note)
    # asked by the DOI of a paper with an arXiv id too: the entry `next --add` writes, by its arXiv id
    return replace(entry, title=p.title or entry.title, year=p.year, notes=note, arxiv=p.arxiv, url=None)
