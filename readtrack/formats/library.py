"""What every library format shares: what it read (`Library`), how it is merged, and the report.

A format module reads its source into a `Library`: a `markdown.ImportedList` of `edits.NewPaper` (what
papers.yaml holds) and, beside each paper, its `Extras`: where it was read (``library.bib:120``,
``zotero:item 4711``), authors, abstract, DOI, venue, the source's own URL, the PDF files it names and
the rest of a BibTeX entry's bibliographic fields (volume, pages ...).
`import_library` merges the list through `readtrack.formats.importer.merge`, the markdown import's merge and
report, with the identity rule of `readtrack.catalog.identity` (arXiv id, then DOI, then the normalised title
when no arXiv id or DOI tells two apart), so importing a library twice adds nothing and a paper already in
papers.yaml is never duplicated. Then, for the papers it added only:

- their extras go to the database (`readtrack.catalog.stored`: keyed by the arXiv id where there is
  one, else the paper id) rather than papers.yaml, which has no key for them; `readtrack show` shows them;
- their first PDF that verifies as sync verifies a download (`pdfcache.pdf_problem`) is copied into the
  PDF cache under the name sync would give it (``2205.14135.pdf``, ``web/<id>.pdf``) and recorded, so sync
  finds it cached and downloads nothing.

A PDF that is missing or corrupt, like an entry the reader could not read, is a problem of one item: the
rest is imported and `LibraryReport.problems` lists it (the CLI exits 1). A source that cannot be read at
all is a `UsageError` before anything is written.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from pathlib import Path

from readtrack.base.errors import UsageError
from readtrack.catalog import arxivid, stored
from readtrack.catalog.keys import author_key
from readtrack.catalog.new_paper import NewPaper
from readtrack.formats import markdown
from readtrack.formats.importer import NEW_CATALOG, ImportReport, Kept, merge

READ_STATUS = {
    "new": "todo",
    "to read": "todo",
    "in progress": "reading",
    "read": "read",
    "not reading": "skipped",
}
_READ_STATUS_LINE = re.compile(r"^\s*Read_Status:\s*(.+?)\s*$", re.MULTILINE | re.IGNORECASE)
_STATUS_LINES = re.compile(r"^\s*Read_Status(?:_Date)?:.*$\n?", re.MULTILINE | re.IGNORECASE)
_DOI = re.compile(r"10\.\d{4,9}/\S+")
_ARXIV_DOI = re.compile(r"^10\.48550/arxiv\.(.+)$", re.IGNORECASE)


@dataclass
class Extras:
    """What a library knows of a paper beyond papers.yaml's keys."""

    where: str
    authors: list[str] = field(default_factory=list)
    abstract: str | None = None
    doi: str | None = None
    venue: str | None = None
    url: str | None = None
    pdfs: list[Path] = field(default_factory=list)
    # the entry's other bibliographic fields as text, by BibTeX name: {"volume": "30", "pages": "1--9"}
    fields: dict[str, str] = field(default_factory=dict)


@dataclass
class Library:
    """A library read by a format module, ready for `import_library`."""

    source: str  # how the report names the source: "library.bib", "zotero"
    imported: markdown.ImportedList
    extras: dict[int, Extras] = field(default_factory=dict)  # by id(paper)
    problems: list[str] = field(default_factory=list)  # entries that could not be read, one line each

    def add(self, section: str, paper: NewPaper, extras: Extras, line: int | None = None) -> None:
        """Append ``paper`` to ``section`` (created at the end when new)."""
        found = next((s for s in self.imported.sections if s.name == section), None)
        if found is None:
            found = markdown.ImportedSection(section)
            self.imported.sections.append(found)
        found.papers.append(paper)
        self.extras[id(paper)] = extras
        self.imported.places[id(paper)] = extras.where
        if line is not None:
            self.imported.lines[id(paper)] = line

    def papers(self) -> Iterator[NewPaper]:
        for section in self.imported.sections:
            yield from section.papers


@dataclass
class LibraryReport:
    """The markdown import's report, and what happened to the added papers' PDFs and metadata."""

    merged: ImportReport
    pdfs: int = 0  # PDFs copied into the cache (with dry_run: that would be)
    problems: list[str] = field(default_factory=list)

    def summary(self) -> str:
        lines = [self.merged.summary()]
        if self.pdfs:
            verb = "would copy" if self.merged.dry_run else "copied"
            lines.append(f"{verb} {self.pdfs} PDF{'s' if self.pdfs != 1 else ''} into the PDF cache")
        if self.problems:
            count = len(self.problems)
            lines.append(f"{count} problem{'s' if count != 1 else ''}:")
            lines += [f"  {problem}" for problem in self.problems]
        return "\n".join(lines)


def save_extras(items: list[tuple[NewPaper, Extras]], conn: sqlite3.Connection | None = None) -> None:
    """Store the added papers' extras (`readtrack.catalog.stored`)."""
    rows = [
        (p.id or "", p.arxiv, e.where, e.authors, e.abstract, e.doi, e.venue, e.url, e.fields)
        for p, e in items
    ]
    stored.save(rows, conn)


def details(paper_id: str, arxiv: str | None) -> dict[str, object]:
    """What an import stored of a paper (`readtrack.catalog.stored.details`)."""
    return stored.details(paper_id, arxiv)


def import_library(
    catalog_path: Path, library: Library, *, section: str | None = None, dry_run: bool = False
) -> LibraryReport:
    """Merge ``library`` into the catalog file (created when missing); store the added papers' extras and
    copy their PDFs. With ``section`` every paper goes there; with ``dry_run`` nothing is written."""
    if not library.imported.count():
        raise UsageError(f"{library.source}: no papers found in it")
    if section is not None:
        if not section.strip():
            raise UsageError("--section needs a name")
        everything = [p for s in library.imported.sections for p in s.papers]
        library.imported.sections = [markdown.ImportedSection(section.strip(), None, everything)]
    if not catalog_path.exists() and not dry_run:
        from readtrack.base.atomic import atomic_write

        atomic_write(catalog_path, NEW_CATALOG)
    authors = {key: extras.authors for key, extras in library.extras.items()}
    merged = merge(catalog_path, library.imported, source=library.source, dry_run=dry_run, authors=authors)
    report = LibraryReport(merged, problems=list(library.problems))
    for repeat in merged.repeated:  # one paper listed twice: the first listing's extras take the later's
        first, later = (library.extras.get(id(p)) for p in (repeat.into, repeat.item))
        if first is not None and later is not None:
            merged.kept += [
                Kept(repeat.listing, *difference, first.where) for difference in merge_extras(first, later)
            ]
    added_ids = set(merged.added)
    added = [p for p in library.papers() if p.id and p.id in added_ids]
    # a paper the list had: what the library knows of it is stored when nothing is yet (its authors ...)
    listed = {
        m.existing_id: extras
        for m in reversed(merged.skipped)
        if m.existing_id and (extras := library.extras.get(id(m.item))) is not None
    }
    if dry_run:
        report.pdfs = sum(_place_pdf(p, library.extras[id(p)], report.problems, None) for p in added)
        return report
    items = [(p, library.extras[id(p)]) for p in added] + _unrecorded(catalog_path, listed)
    if items:
        from readtrack.base.store import connect

        conn = connect()  # one connection for every record: each open and close costs a WAL checkpoint
        try:
            report.pdfs = sum(_place_pdf(p, library.extras[id(p)], report.problems, conn) for p in added)
            save_extras(items, conn)
        finally:
            conn.close()
    return report


def _unrecorded(catalog_path: Path, listed: dict[str, Extras]) -> list[tuple[NewPaper, Extras]]:
    """The papers of ``listed`` (paper id -> what a library says of it) nothing is stored for yet, each as
    `save_extras` takes it: importing a library a second time stores nothing."""
    from readtrack.base.paths import database_path

    if not listed:
        return []
    from readtrack.base.store import connect
    from readtrack.catalog.reader import load

    papers = [p for p in load(catalog_path).papers() if p.id in listed]
    if not database_path().exists():
        return [(NewPaper(title=p.title, id=p.id, arxiv=p.arxiv), listed[p.id]) for p in papers]
    conn = connect()  # one connection for every read
    try:
        return [
            (NewPaper(title=p.title, id=p.id, arxiv=p.arxiv), listed[p.id])
            for p in papers
            if not stored.details(p.id, p.arxiv, conn)
        ]
    finally:
        conn.close()


def merge_extras(first: Extras, later: Extras) -> list[tuple[str, str, str]]:
    """Fill what ``first`` lacks from ``later``, a later listing of the same paper (its PDFs added after
    ``first``'s); for each value both give differently, (its name, ``later``'s, ``first``'s: the one kept)."""
    differ: list[tuple[str, str, str]] = []
    for name in (f.name for f in fields(Extras) if f.name != "where"):
        mine, theirs = getattr(first, name), getattr(later, name)
        if not theirs or mine == theirs:
            continue
        if name == "pdfs":
            first.pdfs = [*mine, *(p for p in theirs if p not in mine)]
        elif isinstance(mine, dict):
            differ += [(k, v, mine[k]) for k, v in theirs.items() if k in mine and mine[k] != v]
            setattr(first, name, {**theirs, **mine})
        elif not mine:
            setattr(first, name, theirs)
        elif name == "authors" and [author_key(a) for a in mine] == [author_key(a) for a in theirs]:
            continue  # the same people, written otherwise
        elif " ".join(str(mine).lower().split()) != " ".join(str(theirs).lower().split()):
            differ.append((name, _shown(theirs), _shown(mine)))
    return differ


def _shown(value: object) -> str:
    text = ", ".join(map(str, value)) if isinstance(value, list) else " ".join(str(value).split())
    return text if len(text) <= 80 else text[:79] + "…"


# -- PDFs ---------------------------------------------------------------------------------------------


def _place_pdf(paper: NewPaper, extras: Extras, problems: list[str], conn: sqlite3.Connection | None) -> int:
    """Copy the first of the paper's PDFs that verifies into the cache and record it in ``conn``; 1 when
    one was copied (with no ``conn``, a dry run: would be)."""
    from readtrack.catalog import pdfcache

    if not extras.pdfs:
        return 0
    found: list[str] = []
    for source in extras.pdfs:
        problem = pdfcache.pdf_problem(source)
        if problem is None:
            break
        found.append(f"{source}: {problem}")
    else:
        problems.append(f"{extras.where}: {paper.id}: no usable PDF ({'; '.join(found)})")
        return 0
    name = pdfcache.arxiv_file_name(paper.arxiv) if paper.arxiv else pdfcache.web_file_name(paper.id or "")
    dest = pdfcache.cache_path(name)
    if pdfcache.pdf_problem(dest) is None:
        return 0  # a PDF sync already fetched stays
    if conn is None:
        return 1
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".import")
    try:
        shutil.copyfile(source, part)
        os.replace(part, dest)
    except OSError as err:
        part.unlink(missing_ok=True)
        problems.append(f"{extras.where}: {paper.id}: cannot copy {source} ({err.strerror})")
        return 0
    pdfcache.record_file(name, source.resolve().as_uri(), dest, conn)
    return 1


# -- what the formats share when reading ------------------------------------------------------------


def read_status(text: str | None) -> str | None:
    """The status a Zotero Reading List ``Read_Status:`` line gives (New, To Read, In Progress, Read, Not
    Reading), or None when there is no such line or an unknown value."""
    found = _READ_STATUS_LINE.search(text or "")
    return READ_STATUS.get(found.group(1).strip().lower()) if found else None


def without_status_line(text: str | None) -> str | None:
    """``text`` without its ``Read_Status:`` and ``Read_Status_Date:`` lines (the status is the paper's)."""
    cleaned = _STATUS_LINES.sub("", text or "").strip()
    return cleaned or None


def clean_doi(value: str | None) -> str | None:
    """A DOI from ``10.1145/x``, ``doi:10.1145/x`` or ``https://doi.org/10.1145/x``; None else."""
    found = _DOI.search(value or "")
    return found.group(0).rstrip(".,;") if found else None


def arxiv_from(*values: str | None) -> str | None:
    """The first arXiv id among values: an arXiv DOI (``10.48550/arXiv.1706.03762``), an arXiv link or id."""
    for value in values:
        if not value:
            continue
        doi = _ARXIV_DOI.match(value.strip())
        candidate = doi.group(1) if doi else value
        ident = arxivid.parse(candidate.strip())
        if ident is None:
            found = re.search(
                r"arxiv(?:\.org/(?:abs|pdf)/|:\s*)(\S+?)(?:\.pdf)?(?:[\s\]\[,;]|$)", candidate, re.I
            )
            ident = arxivid.parse(found.group(1)) if found else None
        if ident is not None:
            return str(ident)
    return None


def paper_url(doi: str | None, url: str | None, arxiv: str | None) -> tuple[str | None, str | None]:
    """(papers.yaml's url, the source's url kept in the metadata): the DOI link when there is a DOI, so that
    the identity rule sees the DOI, else the source's url; none for an arXiv paper's arXiv link."""
    if url and arxiv and arxiv_from(url) is not None:
        url = None  # the arXiv id says it
    if doi and not _ARXIV_DOI.match(doi):
        link = f"https://doi.org/{doi}"
        return link, (url if url and (clean_doi(url) or "").lower() != doi.lower() else None)
    return url, None


def tags_from(keywords: list[str]) -> list[str]:
    """Keywords as tags, in order, once: lowercase, words joined by hyphens (``Computer Science - Machine
    Learning`` is ``computer-science-machine-learning``), since a tag holds no spaces or commas."""
    words = (re.findall(r"[^\s,]+", k.lower()) for k in keywords)
    tags = ("-".join(w for w in found if w.strip("-")).lstrip("+-") for found in words)
    return list(dict.fromkeys(t for t in tags if t))


def year_from(text: str | None) -> int | None:
    found = re.search(r"(?<!\d)(1[5-9]\d{2}|20\d{2})(?!\d)", text or "")
    return int(found.group(1)) if found else None
