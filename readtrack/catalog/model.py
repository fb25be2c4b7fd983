"""The reading list: papers.yaml, loaded into `Catalog`, `Section` and `Paper`, validated, and queried.

papers.yaml is the user's file, edited by hand and kept in git. `readtrack.catalog.reader.load` reads it,
from a cache keyed by the file's bytes when unchanged, and turns its text into this model and checks it, so
every paper knows the line it sits on and every error names ``file:line:col``. Scalars are read as the text
the user wrote: ``arxiv: 1711.05101`` is the id, not a float, and ``added: 2024-04-12`` stays a string.
Edits never go through this model: see `readtrack.catalog.edits`, which splices only the lines it must change.

The format (version 1)::

    version: 1
    title: My reading list          # optional
    notes: free text for the list   # optional
    sections:
      - name: Development of language models
        notes: free text for the section   # optional
        papers:
          - id: transformer                # unique slug: what the CLI takes
            title: Attention Is All You Need
            label: Transformer (Attention is all you need)   # the user's own wording, optional
            status: read                   # todo | reading | read | skipped
            arxiv: "1706.03762"            # optional, new- or old-style, optional version
            related: ["2205.14135"]        # further arXiv ids for items that bundle several papers
            url: https://...               # optional: the paper's own page when not on arXiv
            code: https://github.com/...   # optional: code links, one or a list
            year: 2017
            tags: [attention]
            plugin: transformer            # the paper plugin that runs it, or a list: [adamw, schedule-free]
            bibtex: "@inproceedings{vaswani2017attention}"   # optional: its BibTeX entry type and cite key
            added: 2024-04-12
            read: 2024-05-01
            notes: |
              free text
            papers:                        # nested items keep their nesting
              - id: ...
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import Field, dataclass, field, fields
from pathlib import Path
from typing import Any

from readtrack.base.errors import UsageError
from readtrack.catalog import arxivid

FORMAT_VERSION = 1
#: A list with no papers yet: what ``readtrack init --empty``, ``import`` and ``add`` write to a new file.
NEW_CATALOG = """\
# readtrack reading list (format: see README, "The reading list: papers.yaml").
# Edit freely: readtrack only ever changes the lines of what you asked it to change.
version: 1
sections: []
"""
STATUSES = ("todo", "reading", "read", "skipped")
STATUS_GLYPHS = {"todo": "☐", "reading": "◐", "read": "☑", "skipped": "⊘"}
SECTION_KEYS = ("name", "notes", "papers")
TOP_KEYS = ("version", "title", "notes", "sections")

# Field metadata of `Paper`: where a paper sits is set by the loader (no key in the file); a block value
# (free text, nested papers) is written after the one-line keys; ``key`` when the file names it otherwise.
_PLACE = {"place": True}
_BLOCK = {"block": True}
#: How a paper's plugins were found (`Paper.plugin_link`): its own ``plugin:`` key, or what the plugins
#: declare: its arXiv ids, its DOI, or its title and first author (`readtrack.plugins.links`).
LINKED_BY_FILE, LINKED_BY_ARXIV = "file", "arxiv id"
LINKED_BY_DOI, LINKED_BY_TITLE = "doi", "title and first author"


@dataclass(kw_only=True)
class Paper:
    """One checklist item: the keys of papers.yaml, and where the item sits (section, parent, depth, line).

    This class is the one definition of a paper's fields: the file's keys (`PAPER_KEYS`), the JSON of
    ``list --json``, the parse cache and the lines `readtrack.catalog.edits` writes for a new paper all come
    from `dataclasses.fields`. A paper to add is a `Paper` too, whose id may be left empty (one is derived).
    """

    id: str = ""
    title: str
    label: str | None = None
    section: str = field(default="", metadata=_PLACE)
    status: str = "todo"
    arxiv: str | None = None
    related: list[str] = field(default_factory=list)
    url: str | None = None
    # links to code (``code: https://github.com/...`` or a list); `url` stays the paper's own page
    code: list[str] = field(default_factory=list, metadata={"items": "links"})
    year: int | None = None
    tags: list[str] = field(default_factory=list)
    notes: str | None = field(default=None, metadata=_BLOCK)
    # the paper plugins that run this paper: ``plugin: adamw`` or ``plugin: [adamw, schedule-free]``
    plugins: list[str] = field(default_factory=list, metadata={"key": "plugin"})
    # the BibTeX entry's type and cite key, as its first line: ``"@inproceedings{vaswani2017attention}"``
    # (written by a BibTeX import, kept by the export: `readtrack.formats.bibtex.writer`);
    # the rule: `catalog_reader`
    bibtex: str | None = None
    # "file" when papers.yaml says ``plugin:`` (``plugin: []`` opts out of linking), "arxiv id", "doi" or
    # "title and first author" when the plugins were found so (`readtrack.plugins.links`), None when none
    plugin_link: str | None = field(default=None, metadata={"derived": True})
    added: str | None = None
    read: str | None = None
    parent: str | None = field(default=None, metadata=_PLACE)
    depth: int = field(default=0, metadata=_PLACE)
    line: int = field(default=0, metadata=_PLACE)
    children: list[Paper] = field(default_factory=list, metadata={"key": "papers", **_BLOCK})

    @property
    def display_title(self) -> str:
        return self.title or self.label or self.id

    @property
    def untitled(self) -> bool:
        """True while the paper's title is empty or only its arXiv id (``readtrack add 2106.09685``, not
        synced yet): sync replaces such a title with the real one."""
        return untitled(self.title, self.arxiv)

    def arxiv_ids(self) -> list[str]:
        """Primary id first, then related ones, without duplicates."""
        ids = [self.arxiv] if self.arxiv else []
        return ids + [r for r in self.related if r not in ids]

    def to_dict(self) -> dict[str, Any]:
        """The flat JSON shape of ``readtrack list --json`` and ``show --json``: every field but children."""
        values = ((f.name, getattr(self, f.name)) for f in fields(self) if f.name != "children")
        return {name: list(value) if isinstance(value, list) else value for name, value in values}


def untitled(title: str, arxiv: str | None) -> bool:
    """True for no title, or a title that is only the paper's arXiv id (see `Paper.untitled`)."""
    return not title or (
        arxiv is not None and arxivid.is_valid(title) and arxivid.base_id(title) == arxivid.base_id(arxiv)
    )


def paper_key(paper_field: Field[Any]) -> str:
    """The papers.yaml key of a `Paper` field."""
    return str(paper_field.metadata.get("key", paper_field.name))


# The fields papers.yaml holds, in the order a new paper's keys are written: one-line keys, then blocks.
FILE_FIELDS = tuple(
    sorted(
        (f for f in fields(Paper) if not (f.metadata.get("place") or f.metadata.get("derived"))),
        key=lambda f: bool(f.metadata.get("block")),
    )
)
PAPER_KEYS = tuple(paper_key(f) for f in FILE_FIELDS)


@dataclass
class Section:
    name: str
    notes: str | None = None
    papers: list[Paper] = field(default_factory=list)
    line: int = 0

    def walk(self) -> Iterator[Paper]:
        """Every paper of the section, nested ones right after their parent (document order)."""
        stack = list(reversed(self.papers))
        while stack:
            paper = stack.pop()
            yield paper
            stack.extend(reversed(paper.children))

    def progress(self) -> tuple[int, int]:
        """(read, total) counting nested papers; skipped papers count as done-with."""
        papers = list(self.walk())
        done = sum(p.status in ("read", "skipped") for p in papers)
        return done, len(papers)


@dataclass
class Catalog:
    path: Path
    sections: list[Section]
    version: int = FORMAT_VERSION
    title: str | None = None
    notes: str | None = None
    sample: bool = False  # the bundled sample list a first run wrote (`SAMPLE_MARK`), not the user's own
    # the digest of the bytes it was read from (`reader.content_key`), what caches of its answers are keyed by
    content_key: str | None = field(default=None, compare=False, repr=False)
    _index: dict[str, Paper] = field(default_factory=dict, repr=False)

    def papers(self) -> Iterator[Paper]:
        """Every paper in document order, nested ones included."""
        for section in self.sections:
            yield from section.walk()

    def get(self, paper_id: str) -> Paper:
        """The paper with this id; a `UsageError` naming close ids when there is none."""
        if not self._index:
            self._index = {p.id: p for p in self.papers()}
        paper = self._index.get(paper_id)
        if paper is None:
            import difflib

            # ids are lowercase slugs, which a person may type in capitals ("GPT")
            close = difflib.get_close_matches(paper_id.lower(), list(self._index), n=3)
            hint = f" (did you mean {', '.join(close)}?)" if close else " (see `readtrack list`)"
            raise UsageError(f"no paper with id {paper_id!r} in {self.path.name}{hint}")
        return paper

    def find_arxiv(self, ident: str) -> Paper | None:
        """The paper whose primary or related id is ``ident`` (versions ignored)."""
        base = arxivid.base_id(ident)
        for paper in self.papers():
            if any(arxivid.base_id(i) == base for i in paper.arxiv_ids()):
                return paper
        return None

    def section(self, name: str) -> Section:
        """A section by name, case-insensitive; a `UsageError` listing the sections when missing."""
        for section in self.sections:
            if section.name.lower() == name.lower():
                return section
        names = ", ".join(s.name for s in self.sections)
        raise UsageError(f"no section {name!r} in {self.path.name} (sections: {names})")

    def filter(
        self,
        *,
        section: str | None = None,
        status: str | None = None,
        tag: str | None = None,
        search: str | None = None,
    ) -> list[Paper]:
        """Papers matching every given criterion; ``search`` looks in title, label, id, tags and notes."""
        if status is not None and status not in STATUSES:
            raise UsageError(f"unknown status {status!r} (use one of {', '.join(STATUSES)})")
        papers = list(self.section(section).walk()) if section else list(self.papers())
        if status:
            papers = [p for p in papers if p.status == status]
        if tag:
            papers = [p for p in papers if tag in p.tags]
        if search:
            papers = [p for p in papers if matches(p, search)]
        return papers


def matches(paper: Paper, query: str, extra: str = "") -> bool:
    """True when every word of ``query`` occurs (case-insensitive) in the paper's searchable text.

    ``extra`` is more text to search (the TUI passes synced authors and abstract).
    """
    haystack = search_text(paper, extra)
    return all(word in haystack for word in query.lower().split())


def search_text(paper: Paper, extra: str = "") -> str:
    """The lowercase text `matches` looks in: id, title, label, notes, tags, arXiv id and ``extra``.

    The TUI builds it once per paper so that filtering as you type only scans strings.
    """
    parts = [paper.id, paper.title, paper.label, paper.notes, " ".join(paper.tags), paper.arxiv, extra]
    return " ".join(filter(None, parts)).lower()
