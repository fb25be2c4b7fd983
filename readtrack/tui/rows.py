"""What the paper table shows: the rows of one section, or of a filter across every section.

Pure functions over the core's `Catalog` (searching is `readtrack.catalog.matches`), so the widget only
draws rows and the filter's speed can be measured without a screen.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from readtrack.catalog import Catalog, Paper, Section, matches


@dataclass(frozen=True)
class PaperRow:
    """One line of the table: the paper, and whether to show its section (rows of a filter)."""

    paper: Paper
    show_section: bool = False


def section_rows(section: Section) -> list[PaperRow]:
    """The section's papers in document order, nested ones after their parent."""
    return [PaperRow(paper) for paper in section.walk()]


def filter_rows(catalog: Catalog, query: str, extra: Mapping[str, str]) -> list[PaperRow]:
    """Every paper of every section matching ``query``; ``extra`` is synced text (authors, abstract) by id."""
    return [
        PaperRow(paper, show_section=True)
        for paper in catalog.papers()
        if matches(paper, query, extra.get(paper.id, ""))
    ]


def overall_progress(catalog: Catalog) -> tuple[int, int]:
    """(done, total) over every section; done counts read and skipped papers, as `Section.progress` does."""
    done = total = 0
    for section in catalog.sections:
        section_done, section_total = section.progress()
        done += section_done
        total += section_total
    return done, total
