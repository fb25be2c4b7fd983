"""What a library import stored beside papers.yaml: authors, abstract, DOI, venue, the source's URL and the
rest of its bibliographic fields (volume, pages, publisher ...).

papers.yaml has no keys for these, so `readtrack.formats.library` stores them for the papers an
import adds, in the ``library_metadata`` table of readtrack's database, keyed by the paper's arXiv id (without
version) where it has one, else by its paper id. `details` reads them back for `readtrack show` and the TUI
(which prefer what sync stored from arXiv), and `for_papers` for ``readtrack export -f bibtex``, which writes
them back out. Light on purpose: showing a paper imports only this module."""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from readtrack.base.store import opened
from readtrack.catalog import arxivid

if TYPE_CHECKING:
    from readtrack.catalog.model import Paper

SCHEMA = """
CREATE TABLE IF NOT EXISTS library_metadata (
    key TEXT PRIMARY KEY,           -- the arXiv id without version, else 'paper:<paper id>'
    paper_id TEXT NOT NULL,
    source TEXT NOT NULL,           -- where it was read: 'library.bib:120', 'zotero:item 4711'
    authors TEXT NOT NULL,          -- JSON list of names, 'First Last'
    abstract TEXT,
    doi TEXT,
    venue TEXT,
    url TEXT,                       -- the source's URL when papers.yaml's url is another (the DOI link)
    imported_at TEXT NOT NULL,
    fields TEXT                     -- JSON object: the entry's other fields by BibTeX name, {"pages": "1--9"}
);
"""
#: Columns added after the table's first release, with their DDL (added on first use of an older file).
ADDED_COLUMNS = {"fields": "ALTER TABLE library_metadata ADD COLUMN fields TEXT"}
COLUMNS = ("key", "paper_id", "source", "authors", "abstract", "doi", "venue", "url", "imported_at", "fields")
#: One stored paper: (paper id, arXiv id, where, authors, abstract, doi, venue, url, other fields).
SavedRow = tuple[
    str, str | None, str, list[str], str | None, str | None, str | None, str | None, dict[str, str]
]

# what `readtrack show` takes from here, under the keys of sync's metadata (a venue is a journal reference)
SHOWN = {"authors": "authors", "abstract": "abstract", "doi": "doi", "venue": "journal_ref"}


def key(paper_id: str, arxiv: str | None) -> str:
    return arxivid.base_id(arxiv) if arxiv else f"paper:{paper_id}"


def _with_columns(db: sqlite3.Connection) -> sqlite3.Connection:
    """``db`` with the columns of `ADDED_COLUMNS` added to a table an older readtrack made."""
    have = {row[1] for row in db.execute("PRAGMA table_info(library_metadata)")}
    for column, ddl in ADDED_COLUMNS.items():
        if have and column not in have:
            with contextlib.suppress(sqlite3.OperationalError):  # another process added it first
                db.execute(ddl)
    return db


def save(rows: Iterable[SavedRow], conn: sqlite3.Connection | None = None) -> None:
    """Store `SavedRow` tuples in one transaction."""
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    values = [
        (
            key(paper_id, arxiv),
            paper_id,
            where,
            json.dumps(authors, ensure_ascii=False),
            abstract,
            doi,
            venue,
            url,
            now,
            json.dumps(fields, ensure_ascii=False) if fields else None,
        )
        for paper_id, arxiv, where, authors, abstract, doi, venue, url, fields in rows
    ]
    insert = f"INSERT OR REPLACE INTO library_metadata ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * 10)})"
    with opened(SCHEMA, conn) as db:
        _with_columns(db)
        db.execute("BEGIN IMMEDIATE")
        try:
            db.executemany(insert, values)
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")


def details(paper_id: str, arxiv: str | None, conn: sqlite3.Connection | None = None) -> dict[str, object]:
    """What an import stored of a paper: authors, abstract, doi, venue, url, source and the other ``fields``
    (a mapping); {} when nothing."""
    wanted = key(paper_id, arxiv)
    rows = _select(
        "SELECT * FROM library_metadata WHERE key IN (?, ?) ORDER BY key = ? DESC LIMIT 1",
        (wanted, f"paper:{paper_id}", wanted),
        conn,
    )
    return _details(rows[0]) if rows else {}


def for_papers(
    papers: Iterable[Paper], conn: sqlite3.Connection | None = None
) -> dict[str, dict[str, object]]:
    """`details` of every paper that has some, by paper id, read in one query (an export's)."""
    rows = {row["key"]: row for row in _select("SELECT * FROM library_metadata", (), conn)}
    found: dict[str, dict[str, object]] = {}
    for paper in papers:
        row = rows.get(key(paper.id, paper.arxiv)) or rows.get(f"paper:{paper.id}")
        if row is not None:
            found[paper.id] = _details(row)
    return found


def _select(query: str, params: tuple[str, ...], conn: sqlite3.Connection | None) -> list[sqlite3.Row]:
    """The rows of ``query``; none while there is no database or table (a read creates neither)."""
    from readtrack.base.paths import database_path

    if conn is None and not database_path().exists():
        return []
    with opened("", conn) as db:
        table = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'library_metadata'"
        if db.execute(table).fetchone() is None:
            return []
        return db.execute(query, params).fetchall()


def _details(row: sqlite3.Row) -> dict[str, object]:
    found: dict[str, object] = {k: row[k] for k in ("source", "abstract", "doi", "venue", "url") if row[k]}
    columns = row.keys()  # a Row's `in` looks at its values
    fields = row["fields"] if "fields" in columns else None  # None in a table an older readtrack made
    if fields:
        found["fields"] = json.loads(fields)
    return {"authors": json.loads(row["authors"]), **found}
