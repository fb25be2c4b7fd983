"""What a library import stored beside papers.yaml: authors, abstract, DOI, venue and the source's URL.

papers.yaml has no keys for these, so `readtrack.formats.library` stores them for the papers an import adds,
in the ``library_metadata`` table of readtrack's database, keyed by the paper's arXiv id (without version)
where it has one, else by its paper id. `details` reads them back for `readtrack show` and the TUI (which
prefer what sync stored from arXiv). Light on purpose: showing a paper imports only this module.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from datetime import datetime, timezone

from readtrack import arxivid
from readtrack.store import opened

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
    imported_at TEXT NOT NULL
);
"""

# what `readtrack show` takes from here, under the keys of sync's metadata (a venue is a journal reference)
SHOWN = {"authors": "authors", "abstract": "abstract", "doi": "doi", "venue": "journal_ref"}


def key(paper_id: str, arxiv: str | None) -> str:
    return arxivid.base_id(arxiv) if arxiv else f"paper:{paper_id}"


def save(
    rows: Iterable[tuple[str, str | None, str, list[str], str | None, str | None, str | None, str | None]],
    conn: sqlite3.Connection | None = None,
) -> None:
    """Store (paper id, arXiv id, where, authors, abstract, doi, venue, url) rows in one transaction."""
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
        )
        for paper_id, arxiv, where, authors, abstract, doi, venue, url in rows
    ]
    with opened(SCHEMA, conn) as db:
        db.execute("BEGIN IMMEDIATE")
        try:
            db.executemany(f"INSERT OR REPLACE INTO library_metadata VALUES ({', '.join('?' * 9)})", values)
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")


def details(paper_id: str, arxiv: str | None, conn: sqlite3.Connection | None = None) -> dict[str, object]:
    """What an import stored of a paper: authors, abstract, doi, venue, url, source; {} when nothing."""
    from readtrack.paths import database_path

    if conn is None and not database_path().exists():
        return {}
    wanted = key(paper_id, arxiv)
    with opened("", conn) as db:  # a read: no table is created for it
        table = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'library_metadata'"
        if db.execute(table).fetchone() is None:
            return {}
        row = db.execute(
            "SELECT * FROM library_metadata WHERE key IN (?, ?) ORDER BY key = ? DESC LIMIT 1",
            (wanted, f"paper:{paper_id}", wanted),
        ).fetchone()
    if row is None:
        return {}
    found = {k: row[k] for k in ("source", "abstract", "doi", "venue", "url") if row[k]}
    return {"authors": json.loads(row["authors"]), **found}
