"""What the paper table shows: the rows of one section, or of a filter across every section.

Pure functions over the core's `Catalog` (searching is `readtrack.catalog.model.matches`), so the widget only
draws rows and the filter's speed can be measured without a screen.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from readtrack.catalog.model import Paper, Section, matches, search_text


@dataclass(frozen=True)
class PaperRow:
    """One line of the table: the paper, and whether to show its section (rows of a filter)."""

    paper: Paper
    show_section: bool = False


def section_rows(section: Section) -> list[PaperRow]:
    """The section's papers in document order, nested ones after their parent."""
    return [PaperRow(paper) for paper in section.walk()]


def filter_rows(papers: Iterable[Paper], query: str, extra: Mapping[str, str]) -> list[PaperRow]:
    """The ``papers`` matching ``query`` (every word, see `matches`); ``extra`` is synced text by paper id.

    Typing narrows a filter: the matches of ``"atten"`` are among those of ``"att"``, so the caller can pass
    the previous matches instead of the whole list (see `IncrementalFilter`).
    """
    return [
        PaperRow(paper, show_section=True)
        for paper in papers
        if matches(paper, query, extra.get(paper.id, ""))
    ]


class IncrementalFilter:
    """Filters a list as the user types: each paper's searchable text is lowered once, and a growing query
    rescans only the previous matches. Gives exactly what `filter_rows` gives (tests check it)."""

    def __init__(self, papers: list[Paper], extra: Mapping[str, str]) -> None:
        self.papers = papers
        self.extra = extra
        self._haystacks: list[tuple[PaperRow, str]] | None = None
        self._last: tuple[str, list[tuple[PaperRow, str]]] | None = None

    def prepare(self) -> None:
        """Build the searchable texts now (the TUI calls it on "/", before the first letter is typed)."""
        if self._haystacks is None:
            self._haystacks = [
                (PaperRow(paper, show_section=True), search_text(paper, self.extra.get(paper.id, "")))
                for paper in self.papers
            ]

    def rows(self, query: str) -> list[PaperRow]:
        key = query.lower()
        words = key.split()
        self.prepare()
        assert self._haystacks is not None
        candidates = self._haystacks
        if self._last is not None and _narrows(self._last[0], key):
            candidates = self._last[1]
        found = [(row, text) for row, text in candidates if all(word in text for word in words)]
        self._last = (key, found)
        return [row for row, _ in found]


def _narrows(old: str, new: str) -> bool:
    """True when every word of ``old`` is still a substring of a word of ``new`` (typing, not editing)."""
    old_words, new_words = old.split(), new.split()
    return len(new_words) >= len(old_words) and all(
        o in n for o, n in zip(old_words, new_words, strict=False)
    )
