"""Synced arXiv metadata in SQLite: stored by `readtrack sync`, read offline by `show`, `export` and the TUI.

One row per arXiv paper, keyed by its id without version (``2205.14135``, ``hep-th/9901001``); the version
the reply described is kept beside it. Authors and categories are JSON lists. Abstracts are stored with
arXiv's hard line wraps undone (older API replies wrap at ~80 columns) and paragraphs kept.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterable
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, field, fields
from typing import TYPE_CHECKING, Any

from readtrack.base.store import opened
from readtrack.catalog import arxivid

if TYPE_CHECKING:
    from readtrack.catalog.model import Catalog, Paper

SCHEMA = """
CREATE TABLE IF NOT EXISTS arxiv_metadata (
    arxiv_id TEXT PRIMARY KEY,      -- without version
    version TEXT NOT NULL,          -- 'v2', of the entry the reply described
    title TEXT NOT NULL,
    authors TEXT NOT NULL,          -- JSON list of names
    abstract TEXT NOT NULL,
    published TEXT,                 -- ISO 8601, UTC
    updated TEXT,
    categories TEXT NOT NULL,       -- JSON list
    primary_category TEXT,
    doi TEXT,
    journal_ref TEXT,
    comment TEXT,
    pdf_url TEXT,
    fetched_at TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class ArxivRecord:
    """One paper's arXiv metadata as stored."""

    arxiv_id: str
    version: str
    title: str
    authors: list[str] = field(default_factory=list)
    abstract: str = ""
    published: str | None = None
    updated: str | None = None
    categories: list[str] = field(default_factory=list)
    primary_category: str | None = None
    doi: str | None = None
    journal_ref: str | None = None
    comment: str | None = None
    pdf_url: str | None = None
    fetched_at: str = ""

    @property
    def year(self) -> int | None:
        return int(self.published[:4]) if self.published and self.published[:4].isdigit() else None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


FIELDS = tuple(f.name for f in fields(ArxivRecord))  # the table's columns (SCHEMA; a test keeps them equal)
# Fields `show` does not list under the synced keys: the catalog has the id and title, pdf_path the PDF.
#: What a record holds that `show` does not list as a synced detail.
NOT_DETAILS = ("arxiv_id", "version", "title", "pdf_url", "fetched_at")


def normalise_text(text: str | None) -> str:
    """Whitespace collapsed to single spaces, other control characters (C0, DEL, C1: U+009B was seen in
    an arXiv title) left out: titles, comments, author names as listed and as papers.yaml, which cannot
    hold them, takes them."""
    return _CONTROL.sub("", re.sub(r"\s+", " ", text or "")).strip()


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def normalise_abstract(text: str | None) -> str:
    """Undo hard wraps, keep paragraphs.

    Both reply shapes mark a new paragraph with a newline followed by indentation; the older shape also
    wraps every line at ~80 columns with a bare newline, which is just a space.
    """
    paragraphs = re.split(r"\n[ \t]+", (text or "").strip())
    return "\n".join(p for p in (normalise_text(p) for p in paragraphs) if p)


def _db(conn: sqlite3.Connection | None) -> AbstractContextManager[sqlite3.Connection]:
    return opened(SCHEMA, conn)


def _from_row(row: sqlite3.Row) -> ArxivRecord:
    values = {key: row[key] for key in FIELDS}
    values["authors"] = json.loads(values["authors"])
    values["categories"] = json.loads(values["categories"])
    return ArxivRecord(**values)


def save(records: Iterable[ArxivRecord], conn: sqlite3.Connection | None = None) -> int:
    """Insert or replace records in one transaction; returns how many."""
    rows = [_row(r) for r in records]
    with _db(conn) as db:
        # one transaction: a sync interrupted mid-save leaves the table as it was (the connection autocommits)
        db.execute("BEGIN IMMEDIATE")
        try:
            db.executemany(_INSERT, rows)
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
    return len(rows)


_INSERT = (
    f"INSERT OR REPLACE INTO arxiv_metadata ({', '.join(FIELDS)}) VALUES ({', '.join('?' * len(FIELDS))})"
)


def _row(record: ArxivRecord) -> tuple[Any, ...]:
    values = (getattr(record, name) for name in FIELDS)
    return tuple(json.dumps(v, ensure_ascii=False) if isinstance(v, list) else v for v in values)


def get(arxiv_id: str, conn: sqlite3.Connection | None = None) -> ArxivRecord | None:
    """The stored record of an id (any version given is ignored), or None."""
    with _db(conn) as db:
        query = "SELECT * FROM arxiv_metadata WHERE arxiv_id = ?"
        found = db.execute(query, (arxivid.base_id(arxiv_id),)).fetchone()
    return _from_row(found) if found else None


def get_many(arxiv_ids: Iterable[str], conn: sqlite3.Connection | None = None) -> dict[str, ArxivRecord]:
    """Stored records by base id, for the ids that have one."""
    bases = sorted({arxivid.base_id(i) for i in arxiv_ids})
    found: dict[str, ArxivRecord] = {}
    with _db(conn) as db:
        for start in range(0, len(bases), 500):  # SQLite caps the number of bound parameters
            chunk = bases[start : start + 500]
            query = f"SELECT * FROM arxiv_metadata WHERE arxiv_id IN ({', '.join('?' * len(chunk))})"
            for row in db.execute(query, chunk):
                record = _from_row(row)
                found[record.arxiv_id] = record
    return found


def for_papers(
    catalog: Catalog | Iterable[Paper], conn: sqlite3.Connection | None = None
) -> dict[str, ArxivRecord]:
    """Each synced paper's record (its primary id, else its first related one), by paper id."""
    from readtrack.catalog.model import Catalog

    papers = list(catalog.papers()) if isinstance(catalog, Catalog) else list(catalog)
    records = get_many((i for p in papers for i in p.arxiv_ids()), conn)
    found: dict[str, ArxivRecord] = {}
    for paper in papers:
        for ident in paper.arxiv_ids():
            record = records.get(arxivid.base_id(ident))
            if record:
                found[paper.id] = record
                break
    return found


def first_authors(papers: list[Paper]) -> dict[str, str]:
    """Each paper's first author as sync (arXiv's metadata, first) or an import stored it, by paper id: what
    tells two papers of one title apart (`readtrack.catalog.identity`, `readtrack.plugins.links`). Papers
    nobody stored authors for are left out; an unreadable database (or none yet) leaves them all out."""
    import sqlite3

    from readtrack.base.errors import ReadtrackError
    from readtrack.base.paths import database_path

    try:
        stored = bool(papers) and database_path().exists()
    except OSError:  # a data dir that cannot be created holds nothing (`list` works without one)
        return {}
    if not stored:
        return {}
    from readtrack.base.store import connect
    from readtrack.catalog.stored import details as imported

    found: dict[str, str] = {}
    try:
        conn = connect()
        try:
            tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            synced = for_papers(papers, conn) if "arxiv_metadata" in tables else {}  # a read creates none
            for paper in papers:
                record = synced.get(paper.id)
                names: object = record.authors if record and record.authors else None
                names = names or imported(paper.id, paper.arxiv, conn).get("authors")
                if isinstance(names, list) and names and names[0]:
                    found[paper.id] = str(names[0])
        finally:
            conn.close()
    except (ReadtrackError, OSError, sqlite3.Error):
        return {}
    return found
