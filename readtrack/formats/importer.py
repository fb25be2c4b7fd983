"""Moving a reading list in and out of papers.yaml: ``readtrack import`` and ``readtrack export``.

Import reads a markdown list (`readtrack.formats.markdown`) and merges it into the catalog file through
`readtrack.catalog.edits`, so the user's existing lines are never rewritten: new papers are appended to their
section (created at the end when missing), or under the existing paper when only a nested item is new.

Two listings are the same paper by the rule of `readtrack.catalog.identity` (a shared arXiv id or DOI; else
the same normalised title or label with nothing telling them apart); pairs that share only a URL, code link
or short name are kept apart, and the report names them as looking similar.

An item that is the same as a paper already in the catalog is skipped (importing a list twice adds
nothing). A paper listed twice in the imported file is imported once, where it first appears, and each
later listing adds its context there: the slug of its section and its own tags (a paper under "Surveys"
and again under "Vision" gets the tag ``vision``), the children nested under it, notes, code links, and a
year, url or arXiv id the first listing lacks (so does a listing the catalog has: a url, year or arXiv id
its paper lacks, and a BibTeX entry's type and cite key, ``bibtex:``, so the export gives the key the
reader's ``\\cite{}``s use; not a key another paper holds). The report names, for every skip and merge,
both listings with their lines and the key that made them one, and every value the two disagree on with
the one kept (the first listing's, the catalog's): "list.bib:9 says year 2023; kept 2017 (list.bib:2)".
List and section notes are filled in where the catalog has none; notes the user already wrote are kept.

Export renders the whole catalog as a markdown checklist, BibTeX (`readtrack.formats.bibtex.writer`:
what sync and a library import stored included) or the JSON of ``readtrack list --json``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from readtrack.base.atomic import atomic_write
from readtrack.base.errors import UsageError
from readtrack.catalog import arxivid, edits
from readtrack.catalog.identity import (
    Identity,
    IdentityIndex,
    Listing,
    listed_first_authors,
    page_key,
    walk_papers,
)
from readtrack.catalog.keys import doi_of
from readtrack.catalog.model import NEW_CATALOG, Catalog, Paper
from readtrack.catalog.new_paper import NewPaper
from readtrack.catalog.reader import BIBTEX_HEAD, load
from readtrack.formats import markdown

EXPORT_FORMATS = ("md", "bibtex", "json")


@dataclass
class Merge:
    """Two listings found to be one paper: ``listing`` was merged into ``first`` (a skipped duplicate: the
    catalog's paper ``existing_id``) because of ``key`` ("same arXiv id 1606.00915", "same title")."""

    listing: Listing
    first: Listing
    key: str
    existing_id: str | None = None
    # the merged listing, and the paper it went into (None for a skip): for a library's extras
    item: NewPaper | None = field(default=None, repr=False, compare=False)
    into: NewPaper | None = field(default=None, repr=False, compare=False)

    @property
    def title(self) -> str:
        return self.listing.title

    def line(self) -> str:
        """One line of the report."""
        if self.existing_id is not None:
            return f"{self.listing} is {self.existing_id} ({self.first.where}): {self.key}"
        if self.listing.section != self.first.section:
            return (
                f"{self.listing} in {self.listing.section!r} into {self.first} "
                f"in {self.first.section!r}: {self.key}"
            )
        return f"{self.listing} into {self.first}: {self.key}"


@dataclass
class Enrichment:
    """What an imported listing adds to the paper the catalog already has: tags, code links, notes."""

    paper_id: str
    tags: list[str] = field(default_factory=list)
    code: list[str] = field(default_factory=list)
    notes: bool = False
    filled: list[str] = field(default_factory=list)  # "url https://doi.org/...", "year 2016"

    def line(self) -> str:
        parts = [f"tags {', '.join(self.tags)}"] if self.tags else []
        parts += self.filled
        parts += [f"code {', '.join(self.code)}"] if self.code else []
        parts += ["notes"] if self.notes else []
        return f"{self.paper_id}: {'; '.join(parts)}"


@dataclass
class StatusDiffers:
    """A listing whose status differs from the catalog's paper: reported, never applied."""

    listing: Listing
    paper_id: str
    where: str  # papers.yaml:40
    imported: str
    listed: str

    def line(self) -> str:
        return (
            f"{self.listing} says {self.imported}; {self.paper_id} ({self.where}) is {self.listed}"
            " (kept; `readtrack mark` changes it)"
        )


@dataclass
class Kept:
    """A value two listings of one paper disagree on: ``listing``'s left out, the one at ``where`` kept."""

    listing: Listing
    key: str  # "year", "title", "url", "venue" ...
    value: str
    kept: str
    where: str  # list.bib:2, papers.yaml:40

    def line(self) -> str:
        return f"{self.listing} says {self.key} {self.value}; kept {self.kept} ({self.where})"


@dataclass
class Similar:
    """Two listings kept as two papers that share a URL, code link or title: named so a reader can check."""

    listing: Listing
    other: Listing
    shared: str  # "same code link https://github.com/...; arXiv 1806.00178 and 1804.06202"

    def line(self) -> str:
        return f"{self.listing} and {self.other}: {self.shared}"


@dataclass
class ImportReport:
    catalog: Path
    added: list[str] = field(default_factory=list)
    skipped: list[Merge] = field(default_factory=list)  # already in the catalog
    enriched: list[Enrichment] = field(default_factory=list)  # what those listings added to it
    status_differs: list[StatusDiffers] = field(default_factory=list)
    repeated: list[Merge] = field(default_factory=list)  # listed again in the imported file, merged
    similar: list[Similar] = field(default_factory=list)
    kept: list[Kept] = field(default_factory=list)  # values the merged listings disagree on
    new_sections: list[str] = field(default_factory=list)
    notes_set: list[str] = field(default_factory=list)
    notes_kept: list[str] = field(default_factory=list)
    dry_run: bool = False

    def summary(self) -> str:
        """What happened (with ``dry_run``: what would happen), a few lines per kind for the terminal."""
        count = len(self.added)
        verb = "would add" if self.dry_run else "added"
        lines = [f"{verb} {count} paper{'s' if count != 1 else ''} to {self.catalog.name}"]
        if self.new_sections:
            lines[0] += (
                f" (new section{'s' if len(self.new_sections) > 1 else ''}: {', '.join(self.new_sections)})"
            )
        if self.dry_run:
            lines[0] += "; dry run, nothing written"
        if self.skipped:
            ids = ", ".join(dict.fromkeys(str(d.existing_id) for d in self.skipped))
            lines.append(
                f"skipped {len(self.skipped)} duplicate{'s' if len(self.skipped) > 1 else ''} "
                f"already in the list as: {ids}"
            )
            lines += [f"  {merge.line()}" for merge in self.skipped]
        if self.enriched:
            count = len(self.enriched)
            lines.append(
                f"{count} paper{'s' if count > 1 else ''} already there get{'' if count > 1 else 's'}"
                " what the list adds (only those lines change):"
            )
            lines += [f"  {enrichment.line()}" for enrichment in self.enriched]
        if self.status_differs:
            count = len(self.status_differs)
            lines.append(
                f"{count} status{'es' if count > 1 else ''} differ{'' if count > 1 else 's'}"
                f" from {self.catalog.name}, left as they are:"
            )
            lines += [f"  {differs.line()}" for differs in self.status_differs]
        if self.repeated:
            lines.append(
                f"merged {len(self.repeated)} repeated listing{'s' if len(self.repeated) > 1 else ''} "
                f"into the first: {', '.join(dict.fromkeys(m.title for m in self.repeated))}"
            )
            lines += [f"  {merge.line()}" for merge in self.repeated]
        if self.similar:
            pairs = len(self.similar)
            lines.append(
                f"{pairs} pair{'s' if pairs > 1 else ''} look{'' if pairs > 1 else 's'} similar, kept apart:"
            )
            lines += [f"  {pair.line()}" for pair in self.similar]
        if self.kept:
            count = len(self.kept)
            differ = "values of merged listings differ" if count > 1 else "value of merged listings differs"
            lines.append(f"{count} {differ}:")
            lines += [f"  {kept.line()}" for kept in self.kept]
        if self.notes_set:
            lines.append(f"{'would set' if self.dry_run else 'set'} {', '.join(self.notes_set)}")
        if self.notes_kept:
            lines.append(f"kept {', '.join(self.notes_kept)} as they were (the imported ones differ)")
        return "\n".join(lines)


# -- import -------------------------------------------------------------------------------------------


def read_source(path: Path, what: str) -> bytes:
    """The bytes of a file to import (``what``: "a markdown file", "a BibTeX file"); a `UsageError` naming
    the file when it is missing, a folder or unreadable."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise UsageError(f"{path}: is a folder, not {what}") from None
    except OSError as err:
        raise UsageError(f"{path}: cannot read it ({err.strerror})") from None


def read_markdown(source: Path) -> str:
    """The text of a markdown file; a `UsageError` naming the file when it cannot be read as text."""
    data = read_source(source, "a markdown file")
    try:
        return markdown.decode(data)
    except UnicodeDecodeError as err:
        raise UsageError(
            f"{source}: not UTF-8 text (byte {err.start}); save it as UTF-8 and try again"
        ) from None


def read_list(source: Path) -> markdown.ImportedList:
    """The papers of the markdown list at ``source``; a `UsageError` when it holds none."""
    imported = markdown.parse(read_markdown(source))
    if not imported.count():
        raise UsageError(f"{source}: no list items found (expected lines like `- [ ] Title` or `1. Title`)")
    return imported


def import_markdown(
    catalog_path: Path, source: Path, *, section: str | None = None, dry_run: bool = False
) -> ImportReport:
    """Merge the markdown list at ``source`` into the catalog file (created when missing).

    With ``section``, every item goes to that section instead of one section per heading. With
    ``dry_run``, nothing is written: the report says what the import would do.
    """
    imported = read_list(source)
    if section is not None:
        if not section.strip():
            raise UsageError("--section needs a name")
        imported = _into_one_section(imported, section.strip())
    if not catalog_path.exists() and not dry_run:
        atomic_write(catalog_path, NEW_CATALOG)
    return merge(catalog_path, imported, source=source.name, dry_run=dry_run)


def _into_one_section(imported: markdown.ImportedList, name: str) -> markdown.ImportedList:
    notes = "\n\n".join(s.notes for s in imported.sections if s.notes) or None
    papers = [p for s in imported.sections for p in s.papers]
    merged = markdown.ImportedSection(name, notes, papers)
    return markdown.ImportedList(imported.title, imported.notes, [merged], imported.lines)


def merge(
    path: Path,
    imported: markdown.ImportedList,
    *,
    source: str = "list",
    dry_run: bool = False,
    authors: Mapping[int, Sequence[str]] | None = None,
) -> ImportReport:
    """Add what the catalog file lacks from ``imported`` (see the module docstring); report what was done.

    ``source`` names the imported file in the report; with ``dry_run`` nothing is written. ``authors``: a
    library's authors of its papers, by ``id(paper)`` (the first author tells papers of one title apart).
    """
    catalog = load(path) if path.exists() else Catalog(path=path, sections=[])
    report = ImportReport(catalog=path, dry_run=dry_run)
    papers = _Papers(catalog, imported, source, report, authors or {})
    # the list's own title and notes first, while the file is at its smallest (each is one edit)
    for key, value, what in (
        ("title", imported.title, "the list's title"),
        ("notes", imported.notes, "the list's notes"),
    ):
        if not value:
            continue
        if not getattr(catalog, key):
            if not dry_run:
                catalog = edits.set_list_field(path, key, value)
            report.notes_set.append(what)
        elif key == "notes" and _words(catalog.notes) != _words(value):
            report.notes_kept.append(what)
    sections = {s.name.lower() for s in catalog.sections}
    added = edits.today()
    additions: list[edits.Addition] = []
    noted: set[str] = set()  # new sections whose notes the addition writes
    for section in imported.sections:
        fresh, nested = papers.split(section.papers, section.name)
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
    if dry_run:
        edits.assign_ids([p for a in additions for p in a.papers], {p.id for p in catalog.papers()})
    elif additions:
        # one read, one validation and one write for the whole import
        catalog = edits.add_many(path, additions, authors=authors)
    report.enriched = papers.enrichments()
    if papers.updates and not dry_run:  # one more write: only the lines of the fields that grow
        catalog = edits.set_many(path, papers.updates)
    report.added += [p.id or "" for a in additions for p in walk_papers(a.papers)]
    for section in imported.sections:
        if section.notes and section.name.lower() in sections and section.name.lower() not in noted:
            current = next((s for s in catalog.sections if s.name.lower() == section.name.lower()), None)
            if current is None:  # a dry run's new section
                continue
            if not current.notes:
                if not dry_run:
                    catalog = edits.set_section_notes(path, current.name, section.notes)
                report.notes_set.append(f"the notes of section {current.name!r}")
            elif _words(current.notes) != _words(section.notes):
                report.notes_kept.append(f"the notes of section {current.name!r}")
    return report


class _Papers:
    """The catalog's papers and the imported file's first listings, and the report of what matched."""

    def __init__(
        self,
        catalog: Catalog,
        imported: markdown.ImportedList,
        source: str,
        report: ImportReport,
        authors: Mapping[int, Sequence[str]],
    ) -> None:
        self.imported, self.source, self.report, self.authors = imported, source, report, authors
        self.known = IdentityIndex(ids_apart=False)
        self.listed = {p.id: p for p in catalog.papers()}
        self.where = catalog.path.name
        # the cite keys papers.yaml holds, as BibTeX compares them (without case): a key is one paper's
        self.cite_keys = {
            key.lower(): (p.id, key) for p in self.listed.values() if (key := _cite_key(p.bibtex))
        }
        self.updates: dict[str, dict[str, object]] = {}  # what imported listings add to listed papers
        self.added: dict[str, Enrichment] = {}
        new = [p for s in imported.sections for p in walk_papers(s.papers) if authors.get(id(p))]
        first_authors = listed_first_authors(list(self.listed.values()), new)
        for paper in catalog.papers():
            listing = Listing(f"{catalog.path.name}:{paper.line}", paper.display_title, paper.section)
            identity = Identity.of(
                paper, listing, [first_authors[paper.id]] if paper.id in first_authors else ()
            )
            identity.existing_id = paper.id
            self.known.add(identity)
        self.first = IdentityIndex(ids_apart=True)

    def split(
        self, items: list[NewPaper], section: str
    ) -> tuple[list[NewPaper], list[tuple[str, list[NewPaper]]]]:
        """(new papers for this level, [(existing parent id, new papers to nest under it)])."""
        fresh: list[NewPaper] = []
        nested: list[tuple[str, list[NewPaper]]] = []
        for item in items:
            listing = Listing(self.imported.where_of(item, self.source), item.title, section)
            identity = Identity.of(item, listing, self.authors.get(id(item), ()))
            existing = self.known.same(identity)
            if existing is not None:
                other, key = existing
                self.report.skipped.append(Merge(listing, other.listing, key, other.existing_id, item))
                if other.existing_id is not None:
                    self.enrich(self.listed[other.existing_id], item, listing, other.listing)
                children, deeper = self.split(item.children, section)
                if children and other.existing_id:
                    nested.append((other.existing_id, children))
                nested += deeper
                continue
            earlier = self.first.same(identity)
            if earlier is not None and (first_paper := earlier[0].paper) is not None:
                first, key = earlier
                self.report.repeated.append(Merge(listing, first.listing, key, None, item, first_paper))
                self.report.kept += _differences(first_paper, item, listing, first.listing.where)
                _merge_into(first_paper, item, section, first.listing.section)
                first.absorb(identity)
                self.first.add(first, identity.keys())
                children, deeper = self.split(item.children, section)
                first_paper.children += children
                nested += deeper
                continue
            for other, shared in [*self.known.similar(identity), *self.first.similar(identity)]:
                self.report.similar.append(Similar(listing, other.listing, shared))
            identity.paper = item
            self.first.add(identity)
            item.children, deeper = self.split(item.children, section)
            fresh.append(item)
            nested += deeper
        return fresh, nested

    def enrich(self, paper: Paper, item: NewPaper, listing: Listing, listed: Listing) -> None:
        """Add what ``item`` says and the listed ``paper`` lacks (tags, code links, notes, a url, year or
        arXiv id) to its pending update; a status or other value that differs is reported, never applied."""
        update = self.updates.get(paper.id, {})
        added = self.added.setdefault(paper.id, Enrichment(paper.id))
        self.report.kept += _differences(paper, item, listing, listed.where)
        for key, value in (("url", item.url), ("year", item.year), ("arxiv", item.arxiv)):
            if (
                value
                and not getattr(paper, key)
                and key not in update
                and not (key == "arxiv" and paper.related)
            ):
                update[key] = value
                added.filled.append(f"{'arXiv' if key == 'arxiv' else key} {value}")
        tags = _strings(update.get("tags", paper.tags))
        fresh = [t for t in item.tags if t not in tags]
        if fresh:
            update["tags"], added.tags = tags + fresh, added.tags + fresh
        code = _strings(update.get("code", paper.code))
        known = {page_key(link) for link in [*code, paper.url, paper.label] if link}
        links = [c for c in item.code if page_key(c) not in known]  # the paper's own repo is no news
        if links:
            update["code"], added.code = code + links, added.code + links
        notes = str(update.get("notes", paper.notes or ""))
        if item.notes and _words(item.notes) and " ".join(_words(item.notes)) not in " ".join(_words(notes)):
            update["notes"], added.notes = (f"{notes}\n\n{item.notes}" if notes else item.notes), True
        if item.bibtex and not paper.bibtex and "bibtex" not in update:
            self.keep_cite_key(paper, item.bibtex, update, added, listing)
        if update:
            self.updates[paper.id] = update
        if id(item) in self.imported.stated and item.status != paper.status:
            self.report.status_differs.append(
                StatusDiffers(listing, paper.id, listed.where, item.status, paper.status)
            )

    def keep_cite_key(
        self, paper: Paper, head: str, update: dict[str, object], added: Enrichment, listing: Listing
    ) -> None:
        """Give ``paper`` the BibTeX entry's type and cite key (``@article{dao2023flashattention2}``), so
        the export writes the key the reader's ``\\cite{}``s use; unless another paper holds that key."""
        key = _cite_key(head) or ""
        holder, held = self.cite_keys.get(key.lower(), (paper.id, key))
        if holder == paper.id:
            update["bibtex"] = head
            self.cite_keys[key.lower()] = (paper.id, key)
            added.filled.append(f"bibtex {head}")
            return
        where = f"{self.where}:{self.listed[holder].line}"
        self.report.kept.append(Kept(listing, "bibtex", head, f"none: {holder} has cite key {held}", where))

    def enrichments(self) -> list[Enrichment]:
        return [e for e in self.added.values() if e.tags or e.code or e.notes or e.filled]


def _cite_key(head: str | None) -> str | None:
    """The cite key of a ``bibtex:`` value (``@article{dao2023flashattention2}``), or None."""
    found = BIBTEX_HEAD.fullmatch(head or "")
    return found.group("key") if found else None


def _strings(value: object) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


def _differences(kept: Paper | NewPaper, item: NewPaper, listing: Listing, where: str) -> list[Kept]:
    """The year, url and ``bibtex:`` head ``item`` and the paper it merges into (the one kept) both give,
    differently (a title is a paper's name: "ViT" and "An Image is Worth 16x16 Words" name one paper, and
    the report says both)."""
    found: list[Kept] = []
    if item.year and kept.year and item.year != kept.year:
        found.append(Kept(listing, "year", str(item.year), str(kept.year), where))
    same_doi = doi_of(item.url) is not None and doi_of(item.url) == doi_of(kept.url)
    if item.url and kept.url and page_key(item.url) != page_key(kept.url) and not same_doi:
        found.append(Kept(listing, "url", item.url, kept.url, where))
    if item.bibtex and kept.bibtex and item.bibtex != kept.bibtex:
        found.append(Kept(listing, "bibtex", item.bibtex, kept.bibtex, where))
    return found


def _merge_into(earlier: NewPaper, item: NewPaper, section: str, first_section: str) -> None:
    """A later listing's context added to the first: its section as a tag, tags, notes, code, and the
    year, url and arXiv ids the first lacks. The caller moves ``item``'s children there."""
    section_tag = markdown.slug(section)
    elsewhere = section.lower() != first_section.lower() and section_tag
    context = [*([section_tag] if elsewhere else []), *item.tags]
    earlier.tags = list(dict.fromkeys([*earlier.tags, *context]))
    earlier.year, earlier.url = earlier.year or item.year, earlier.url or item.url
    earlier.bibtex = earlier.bibtex or item.bibtex
    earlier.code = list(dict.fromkeys([*earlier.code, *item.code]))
    if not earlier.arxiv and item.arxiv:
        earlier.arxiv, earlier.related = item.arxiv, [*item.related, *earlier.related]
    elif earlier.arxiv:
        known = {arxivid.base_id(i) for i in [earlier.arxiv, *earlier.related]}
        extra = [i for i in [item.arxiv, *item.related] if i and arxivid.base_id(i) not in known]
        earlier.related = [*earlier.related, *extra]  # one paper: its listings' ids stay with it
    if item.notes and item.notes not in (earlier.notes or ""):
        earlier.notes = f"{earlier.notes}\n\n{item.notes}" if earlier.notes else item.notes


def _stamp(papers: list[NewPaper], date: str) -> None:
    for paper in walk_papers(papers):
        paper.added = paper.added or date


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
        from readtrack.catalog import stored  # what a library import stored: authors, venue, pages ...
        from readtrack.formats.bibtex import writer as bibtex

        return bibtex.render(catalog, synced_metadata(catalog), stored.for_papers(catalog.papers()))
    from readtrack.base.safe_text import (
        json_safe,  # C1 and bidi controls as \uXXXX: the same data, safe to cat
    )

    return json_safe(json.dumps([p.to_dict() for p in catalog.papers()], ensure_ascii=False, indent=2)) + "\n"


def synced_metadata(catalog: Catalog) -> Mapping[str, object] | None:
    """Synced arXiv metadata by paper id (`readtrack.catalog.metadata`), for BibTeX; None before the first
    sync."""
    from readtrack.base.paths import database_path
    from readtrack.catalog import metadata

    if not database_path().exists():
        return None  # never synced: do not create an empty database just to export
    return metadata.for_papers(catalog)
