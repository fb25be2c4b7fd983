"""What a markdown reading list holds once read (`ImportedList`), and what reading and writing share."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from readtrack.catalog.new_paper import NewPaper

DEFAULT_SECTION = "Imported"
ASCII_PUNCT = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
ESCAPED_ORDERED = re.compile(r"^(\d{1,9})\\[.)]")  # how `render` escapes a note line "1. x": "1\\. x"
CHECKBOX_STATUS = {" ": "todo", "x": "read", "X": "read", "/": "reading", "-": "skipped", "~": "skipped"}
STATUS_CHECKBOX = {"todo": " ", "read": "x", "reading": "/", "skipped": "-"}


@dataclass
class ImportedSection:
    name: str
    notes: str | None = None
    papers: list[NewPaper] = field(default_factory=list)


@dataclass
class ImportedList:
    """What a markdown list holds, ready to merge into a catalog (see `readtrack.formats.importer`)."""

    title: str | None = None
    notes: str | None = None
    sections: list[ImportedSection] = field(default_factory=list)
    # the source line (from 1) of each paper, by ``id(paper)``: `line_of` (a NewPaper holds papers.yaml's
    # keys only)
    lines: dict[int, int] = field(default_factory=dict, repr=False)
    # where a paper was read when a line does not say it (``zotero:item 4711``), by ``id(paper)``
    places: dict[int, str] = field(default_factory=dict, repr=False)
    # the papers whose status the list states (a checkbox: ``[x]``, ``[/]``), by ``id(paper)``: only those
    # are compared with the status of the same paper in the catalog
    stated: set[int] = field(default_factory=set, repr=False)

    def line_of(self, paper: NewPaper) -> int | None:
        """The line of the markdown file that lists ``paper`` (None for a paper not read from it)."""
        return self.lines.get(id(paper))

    def where_of(self, paper: NewPaper, source: str) -> str:
        """How the import report names where ``paper`` was read: ``list.md:12``, ``zotero:item 4711``."""
        line = self.lines.get(id(paper))
        return f"{source}:{line}" if line else self.places.get(id(paper), source)

    def count(self) -> int:
        """How many papers, nested ones included."""

        def count(papers: list[NewPaper]) -> int:
            return sum(1 + count(p.children) for p in papers)

        return sum(count(s.papers) for s in self.sections)


def slug(text: str) -> str:
    """A tag from free text: lowercase words joined by hyphens, at most 40 characters."""
    words = re.findall(r"[a-z0-9]+", text.lower().replace("'", ""))
    out = ""
    for word in words:
        if len(out) + len(word) + 1 > 40:
            break
        out = f"{out}-{word}" if out else word
    return out
