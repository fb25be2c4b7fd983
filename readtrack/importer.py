"""Moving a reading list in and out of papers.yaml: ``readtrack import`` and ``readtrack export``.

Import reads a markdown list (`readtrack.markdown`) and merges it into the catalog file through
`readtrack.edits`, so the user's existing lines are never rewritten: new papers are appended to their
section (created at the end when missing), or under the existing paper when only a nested item is new.
An imported item is a duplicate, and skipped, when the catalog already has a paper with the same id (from
an ``<!-- id: x -->`` comment), a shared arXiv id (primary or related, versions ignored), the same URL, or
the same title or label (case and a trailing ``(2018)`` ignored). The same rules find a paper listed
twice in the imported file: it is imported once, where it first appears, and each later listing adds its
context there, the slug of its section and its own tags (a paper under "Surveys" and again under "Vision"
gets the tag ``vision``), the children nested under it, notes, and a year, url or arXiv id the first
listing lacks. Two listings with different ``<!-- id: -->`` comments (an exported list) stay two papers.
List and section notes are filled in where the catalog has none; notes the user already wrote are kept.

Export renders the whole catalog as a markdown checklist, BibTeX or the JSON of ``readtrack list --json``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from readtrack import arxivid, edits, markdown
from readtrack.atomic import atomic_write
from readtrack.catalog import Catalog, load
from readtrack.edits import NewPaper
from readtrack.errors import UsageError

EXPORT_FORMATS = ("md", "bibtex", "json")
NEW_CATALOG = """\
# readtrack reading list (format: see README, "The reading list: papers.yaml").
# Edit freely: readtrack only ever changes the lines of what you asked it to change.
version: 1
sections: []
"""


@dataclass
class Duplicate:
    """An imported item that was skipped, and the paper already in the catalog that it duplicates."""

    title: str
    existing_id: str


@dataclass
class ImportReport:
    catalog: Path
    added: list[str] = field(default_factory=list)
    skipped: list[Duplicate] = field(default_factory=list)
    repeated: list[str] = field(default_factory=list)  # titles listed again in the imported file, merged
    new_sections: list[str] = field(default_factory=list)
    notes_set: list[str] = field(default_factory=list)
    notes_kept: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """What happened, in a few lines for the terminal."""
        count = len(self.added)
        lines = [f"added {count} paper{'s' if count != 1 else ''} to {self.catalog.name}"]
        if self.new_sections:
            lines[0] += (
                f" (new section{'s' if len(self.new_sections) > 1 else ''}: {', '.join(self.new_sections)})"
            )
        if self.skipped:
            ids = ", ".join(dict.fromkeys(d.existing_id for d in self.skipped))
            lines.append(
                f"skipped {len(self.skipped)} duplicate{'s' if len(self.skipped) > 1 else ''} "
                f"already in the list as: {ids}"
            )
        if self.repeated:
            lines.append(
                f"merged {len(self.repeated)} repeated listing{'s' if len(self.repeated) > 1 else ''} "
                f"into the first: {', '.join(dict.fromkeys(self.repeated))}"
            )
        if self.notes_set:
            lines.append(f"set {', '.join(self.notes_set)}")
        if self.notes_kept:
            lines.append(f"kept {', '.join(self.notes_kept)} as they were (the imported ones differ)")
        return "\n".join(lines)


# -- import -------------------------------------------------------------------------------------------


def read_markdown(source: Path) -> str:
    """The text of a markdown file; a `UsageError` naming the file when it cannot be read as text."""
    try:
        data = source.read_bytes()
    except FileNotFoundError:
        raise UsageError(f"{source}: no such file") from None
    except IsADirectoryError:
        raise UsageError(f"{source}: is a folder, not a markdown file") from None
    except OSError as err:
        raise UsageError(f"{source}: cannot read it ({err.strerror})") from None
    try:
        return markdown.decode(data)
    except UnicodeDecodeError as err:
        raise UsageError(
            f"{source}: not UTF-8 text (byte {err.start}); save it as UTF-8 and try again"
        ) from None


def import_markdown(catalog_path: Path, source: Path, *, section: str | None = None) -> ImportReport:
    """Merge the markdown list at ``source`` into the catalog file (created when missing).

    With ``section``, every item goes to that section instead of one section per heading.
    """
    imported = markdown.parse(read_markdown(source))
    if not imported.count():
        raise UsageError(f"{source}: no list items found (expected lines like `- [ ] Title` or `1. Title`)")
    if section is not None:
        if not section.strip():
            raise UsageError("--section needs a name")
        imported = _into_one_section(imported, section.strip())
    if not catalog_path.exists():
        atomic_write(catalog_path, NEW_CATALOG)
    return merge(catalog_path, imported)


def _into_one_section(imported: markdown.ImportedList, name: str) -> markdown.ImportedList:
    notes = "\n\n".join(s.notes for s in imported.sections if s.notes) or None
    papers = [p for s in imported.sections for p in s.papers]
    merged = markdown.ImportedSection(name, notes, papers)
    return markdown.ImportedList(imported.title, imported.notes, [merged])


def merge(path: Path, imported: markdown.ImportedList) -> ImportReport:
    """Add what the catalog file lacks from ``imported`` (see the module docstring); report what was done."""
    catalog = load(path)
    known = _KnownPapers(catalog)
    report = ImportReport(catalog=path)
    first = _FirstListings(report.repeated)
    # the list's own title and notes first, while the file is at its smallest (each is one edit)
    for key, value, what in (
        ("title", imported.title, "the list's title"),
        ("notes", imported.notes, "the list's notes"),
    ):
        if not value:
            continue
        if not getattr(catalog, key):
            catalog = edits.set_list_field(path, key, value)
            report.notes_set.append(what)
        elif key == "notes" and _words(catalog.notes) != _words(value):
            report.notes_kept.append(what)
    sections = {s.name.lower() for s in catalog.sections}
    added = edits.today()
    additions: list[edits.Addition] = []
    noted: set[str] = set()  # new sections whose notes the addition writes
    for section in imported.sections:
        fresh, nested = _split(section.papers, known, report.skipped, first, markdown.slug(section.name))
        if fresh:
            _stamp(fresh, added)
            if section.name.lower() not in sections:  # a new section: its notes come with it
                sections.add(section.name.lower())
                report.new_sections.append(section.name)
                additions.append(edits.Addition(section.name, fresh, notes=section.notes))
                if section.notes:
                    noted.add(section.name.lower())
                    report.notes_set.append(f"the notes of section {section.name!r}")
            else:
                additions.append(edits.Addition(section.name, fresh))
        for parent_id, children in nested:
            _stamp(children, added)
            additions.append(edits.Addition(section.name, children, parent=parent_id))
    if additions:
        # one read, one validation and one write for the whole import
        catalog = edits.add_many(path, additions)
        report.added += [p.id or "" for a in additions for p in _walk(a.papers)]
    for section in imported.sections:
        if section.notes and section.name.lower() in sections and section.name.lower() not in noted:
            current = catalog.section(section.name)
            if not current.notes:
                catalog = edits.set_section_notes(path, current.name, section.notes)
                report.notes_set.append(f"the notes of section {current.name!r}")
            elif _words(current.notes) != _words(section.notes):
                report.notes_kept.append(f"the notes of section {current.name!r}")
    return report


def _keys(
    ident: str | None, arxiv_ids: list[str], url: str | None, names: tuple[str | None, ...]
) -> list[tuple[str, str]]:
    """What identifies a paper, strongest first: id, arXiv ids (versions ignored), URL, title and label."""
    keys = [("id", ident)] if ident else []
    keys += [("arxiv", arxivid.base_id(a)) for a in arxiv_ids]
    keys += [("url", _url_key(url))] if url else []
    return keys + [("name", _name_key(n)) for n in names if n and _name_key(n)]


def _new_keys(item: NewPaper) -> list[tuple[str, str]]:
    return _keys(item.id, [i for i in [item.arxiv, *item.related] if i], item.url, (item.title, item.label))


class _KnownPapers:
    """What identifies the papers already in the catalog: ids, arXiv ids, URLs, titles and labels."""

    def __init__(self, catalog: Catalog) -> None:
        self.keys: dict[tuple[str, str], str] = {}
        for paper in catalog.papers():
            keys = _keys(paper.id, paper.arxiv_ids(), paper.url, (paper.title, paper.label))
            for key in keys:
                self.keys.setdefault(key, paper.id)

    def match(self, item: NewPaper) -> str | None:
        """The id of the known paper ``item`` duplicates, or None."""
        return next((self.keys[k] for k in _new_keys(item) if k in self.keys), None)


class _FirstListings:
    """The papers of the imported file met so far, so that a paper listed again merges into its first."""

    def __init__(self, repeated: list[str]) -> None:
        self.keys: dict[tuple[str, str], NewPaper] = {}
        self.section_of: dict[int, str] = {}  # id(first listing) -> its section's tag
        self.repeated = repeated

    def merge(self, item: NewPaper, section_tag: str) -> NewPaper | None:
        """The paper met before that ``item`` repeats, with ``item``'s tags, section and notes added; or None
        (then ``item`` is a first listing). The caller moves ``item``'s children there."""
        keys = _new_keys(item)
        earlier = next((self.keys[k] for k in keys if k in self.keys), None)
        if earlier is None or (item.id and earlier.id and item.id != earlier.id):
            # two ids given in the file (an exported list) are two entries the user keeps apart
            for key in keys:
                self.keys.setdefault(key, item)
            self.section_of[id(item)] = section_tag
            return None
        elsewhere = section_tag and section_tag != self.section_of.get(id(earlier))
        context = [*([section_tag] if elsewhere else []), *item.tags]
        earlier.tags = list(dict.fromkeys([*earlier.tags, *context]))
        earlier.year, earlier.url = earlier.year or item.year, earlier.url or item.url
        if not earlier.arxiv and item.arxiv:
            earlier.arxiv, earlier.related = item.arxiv, [*item.related, *earlier.related]
        if item.notes and item.notes not in (earlier.notes or ""):
            earlier.notes = f"{earlier.notes}\n\n{item.notes}" if earlier.notes else item.notes
        for key in keys:
            self.keys.setdefault(key, earlier)
        self.repeated.append(item.title)
        return earlier


def _split(
    items: list[NewPaper],
    known: _KnownPapers,
    skipped: list[Duplicate],
    first: _FirstListings,
    section_tag: str,
) -> tuple[list[NewPaper], list[tuple[str, list[NewPaper]]]]:
    """(new papers for this level, [(existing parent id, new papers to nest under it)])."""
    fresh: list[NewPaper] = []
    nested: list[tuple[str, list[NewPaper]]] = []
    for item in items:
        existing = known.match(item)
        if existing is not None:
            skipped.append(Duplicate(item.title, existing))
        elif (earlier := first.merge(item, section_tag)) is not None:
            children, deeper = _split(item.children, known, skipped, first, section_tag)
            earlier.children += children
            nested += deeper
            continue
        children, deeper = _split(item.children, known, skipped, first, section_tag)
        if existing is None:
            item.children = children
            fresh.append(item)
        elif children:
            nested.append((existing, children))
        nested += deeper
    return fresh, nested


def _walk(papers: list[NewPaper]) -> Iterator[NewPaper]:
    for paper in papers:
        yield paper
        yield from _walk(paper.children)


def _stamp(papers: list[NewPaper], date: str) -> None:
    for paper in _walk(papers):
        paper.added = paper.added or date


def _name_key(text: str) -> str:
    text = re.sub(r"\(\s*(?:19|20)\d{2}\s*\)", " ", text.lower())
    return " ".join(text.split()).strip(" -:,;")


def _url_key(url: str) -> str:
    url = re.sub(r"^https?://(www\.)?", "", url.strip(), flags=re.IGNORECASE)
    return url.rstrip("/").lower()


def _words(text: str | None) -> list[str]:
    return (text or "").split()


# -- export -------------------------------------------------------------------------------------------


@dataclass
class Export:
    text: str
    papers: int
    written_to: Path | None = None


def export_catalog(catalog_path: Path, fmt: str, output: Path | None = None) -> Export:
    """The catalog rendered as ``md``, ``bibtex`` or ``json``; written atomically to ``output`` when given."""
    if fmt not in EXPORT_FORMATS:
        raise UsageError(f"unknown export format {fmt!r} (use one of {', '.join(EXPORT_FORMATS)})")
    catalog = load(catalog_path)
    text = render(catalog, fmt)
    if output is not None:
        if output.is_dir():
            raise UsageError(f"{output}: is a folder; give a file name to write to")
        try:
            atomic_write(output, text)
        except OSError as err:
            raise UsageError(f"{output}: cannot write it ({err.strerror})") from None
    return Export(text, sum(1 for _ in catalog.papers()), output)


def render(catalog: Catalog, fmt: str) -> str:
    if fmt == "md":
        return markdown.render(catalog)
    if fmt == "bibtex":
        from readtrack import bibtex

        return bibtex.render(catalog, synced_metadata(catalog))
    return json.dumps([p.to_dict() for p in catalog.papers()], ensure_ascii=False, indent=2) + "\n"


def synced_metadata(catalog: Catalog) -> Mapping[str, object] | None:
    """Synced arXiv metadata by paper id (`readtrack.metadata`), for BibTeX; None before the first sync."""
    from readtrack import metadata
    from readtrack.paths import database_path

    if not database_path().exists():
        return None  # never synced: do not create an empty database just to export
    return metadata.for_papers(catalog)
