"""The full-text index behind `readtrack search` and the TUI's search: SQLite FTS5 tables in the data dir.

One FTS5 row per document: a paper (title, label, authors, year, section, tags, notes, synced abstract), one
page of its cached PDF, its plugin's page (the docstring of ``__init__.py``) or one file of the plugin's
code. ``search_docs`` says where each row came from (the paper, the PDF page, the file and line), and
``search_papers`` holds what the filters ask (status, section, tags).

Never stale, never redone: every source (``paper:ID``, ``pdf:ID``, ``plugin:ID:NAME``) is stored with a hash
of its content, and `refresh` rebuilds only the sources whose hash changed. Files are hashed only when
their size or mtime moved (``search_files``). When papers.yaml, the synced metadata, the PDF folder and the
plugin folders all look as they did at the last refresh (a few stats and one small query), it does nothing.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from readtrack.base import pyast
from readtrack.base.store import opened
from readtrack.catalog.reader import content_key

if TYPE_CHECKING:
    from readtrack.catalog.metadata import ArxivRecord
    from readtrack.catalog.model import Catalog, Paper
    from readtrack.search import edits as search_edits

SCHEMA_VERSION = "4"  # 4: a document's kind in its rowid's low bits
COLUMNS = ("title", "label", "authors", "year", "section", "tags", "notes", "abstract", "pdf", "page", "code")
SCHEMA = f"""
CREATE TABLE IF NOT EXISTS search_state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS search_sources (
    source TEXT PRIMARY KEY,        -- paper:ID | pdf:ID | plugin:ID:NAME
    paper_id TEXT NOT NULL,
    hash TEXT NOT NULL,             -- of the content the rows were made from
    problem TEXT                    -- a PDF without text: why (encrypted, unreadable, image-only)
);
CREATE TABLE IF NOT EXISTS search_docs (
    id INTEGER PRIMARY KEY,         -- the row of search_fts; its low two bits are the kind (KIND_BITS)
    source TEXT NOT NULL,
    paper_id TEXT NOT NULL,
    kind TEXT NOT NULL,             -- paper | pdf | page | code
    page INTEGER,                   -- pdf: the page number, from 1
    file TEXT,                      -- page, code: plugin folder/file.py
    line INTEGER                    -- page, code: the file's line the indexed text starts on
);
CREATE INDEX IF NOT EXISTS search_docs_source ON search_docs(source);
CREATE INDEX IF NOT EXISTS search_sources_paper ON search_sources(paper_id);
CREATE TABLE IF NOT EXISTS search_papers (
    paper_id TEXT PRIMARY KEY,
    digest TEXT NOT NULL,           -- of the paper's entry in papers.yaml (what `_paper_digest` reads)
    title TEXT NOT NULL,
    status TEXT NOT NULL,
    section TEXT NOT NULL,
    tags TEXT NOT NULL              -- ' tag1 tag2 ': a LIKE '% tag %' finds one
);
CREATE TABLE IF NOT EXISTS search_files (
    path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, sha256 TEXT NOT NULL
);
CREATE VIRTUAL TABLE IF NOT EXISTS search_fts USING fts5(
    {", ".join(COLUMNS)}, tokenize = 'porter unicode61 remove_diacritics 2'
);
"""
# Each document's rowid carries its kind in the low two bits, so that ranking can weigh the kinds without
# joining search_docs for every match (a common word matches every PDF page).
KIND_BITS = {"paper": 0, "page": 1, "pdf": 2, "code": 3}
_TABLES = ("search_state", "search_sources", "search_docs", "search_papers", "search_files", "search_fts")


@dataclass
class IndexReport:
    """What one refresh did: sources (re)indexed and removed, PDF pages read, PDFs without text."""

    indexed: int = 0
    removed: int = 0
    pdf_pages: int = 0
    no_text: dict[str, str] = field(default_factory=dict)  # paper id -> why its PDF gave no text

    @property
    def changed(self) -> bool:
        return bool(self.indexed or self.removed)


@dataclass
class _Doc:
    kind: str  # paper | pdf | page | code
    values: dict[str, str]  # column -> text
    page: int | None = None
    file: str | None = None
    line: int | None = None


@dataclass
class _Source:
    key: str
    paper_id: str
    hash: str
    build: Callable[[], tuple[list[_Doc], str | None]]  # the rows, and why a PDF gave no text
    paper_row: tuple[object, ...] | None = None  # paper sources: their search_papers row


@contextmanager
def _connection(conn: sqlite3.Connection | None) -> Iterator[sqlite3.Connection]:
    """The database with the index's tables, rebuilt empty when they were made by another schema version."""
    with opened(SCHEMA, conn) as db:
        version = db.execute("SELECT value FROM search_state WHERE key = 'schema'").fetchone()
        if version is None or version[0] != SCHEMA_VERSION:
            _drop(db)
            db.executescript(SCHEMA)
            db.execute("INSERT INTO search_state VALUES ('schema', ?)", (SCHEMA_VERSION,))
        yield db


def _drop(db: sqlite3.Connection) -> None:
    for table in _TABLES:
        db.execute(f"DROP TABLE IF EXISTS {table}")


def refresh_list(path: Path) -> IndexReport:
    """`refresh` on the list at ``path`` as every face reads it (plugins linked): what sync calls when its
    downloads are done (`readtrack.arxiv.sync.sync`'s ``index``)."""
    from readtrack.plugins.links import load

    return refresh(load(path))


def refresh(
    catalog: Catalog,
    conn: sqlite3.Connection | None = None,
    *,
    on_source: Callable[[str], None] | None = None,
) -> IndexReport:
    """Bring the index up to date with ``catalog``, the synced metadata, the PDF cache and the plugins.

    Reindexes only the sources whose content changed. PDFs are read outside any write transaction and
    committed one at a time, so an interrupted refresh keeps what it did and readers never wait long.
    ``on_source`` is called with each source about to be (re)built: progress for a long run of PDFs.
    """
    with _connection(conn) as db:
        return _refresh(catalog, db, on_source)


def rebuild(catalog: Catalog, conn: sqlite3.Connection | None = None) -> IndexReport:
    """Drop the whole index and build it again from scratch (`readtrack doctor --reindex`)."""
    with opened("", conn) as db:
        _drop(db)
    return refresh(catalog, conn)


def problems(conn: sqlite3.Connection | None = None) -> dict[str, str]:
    """Every indexed paper whose PDF gave no text, with the reason."""
    with _connection(conn) as db:
        rows = db.execute("SELECT paper_id, problem FROM search_sources WHERE problem IS NOT NULL")
        return {r["paper_id"]: r["problem"] for r in rows}


def _refresh(
    catalog: Catalog, db: sqlite3.Connection, on_source: Callable[[str], None] | None
) -> IndexReport:
    from readtrack.base.paths import pdf_cache_dir
    from readtrack.search import edits as search_edits

    pdf_root = pdf_cache_dir()
    pdfs = _listing(pdf_root)
    text = _read(catalog.path)
    text_digest = content_key(text)
    catalog_part = _digest(str(catalog.path), text_digest)
    before = json.loads(_state(db, "look_parts") or "[]")
    layout, folders = None, None
    if before and before[0] == catalog_part:  # the same list names the same plugins: no walk over it
        folders = json.loads(_state(db, "look_folders") or "null")
    if folders is None:
        layout = search_edits.layout(catalog)
        folders = _plugin_folders(layout.plugin_names(), db)
    parts = [catalog_part, *_look(db, pdfs, folders)]
    look = _digest(parts)
    if _state(db, "look") == look:
        if layout is not None:  # an index made before the folders were kept: keep them now
            with _transaction(db):
                _set_state(db, "look_folders", json.dumps(folders))
        return IndexReport()
    files = _FileHashes(db)
    layout = layout or search_edits.layout(catalog)
    if before and before[1:] == parts[1:]:
        # only papers.yaml changed (a mark, a note, an edit by hand): only its changed papers are looked at
        saved = json.loads(_state(db, "catalog_saved") or "null")
        edited = search_edits.edited_papers(saved, text, layout)
        entries, touched = (
            (edited, [p.id for p in edited]) if edited is not None else _changed_papers(db, layout)
        )
        wanted = {s.key: s for s in _sources(entries, db, pdf_root, pdfs, folders, files)}
        marks = ", ".join("?" * len(touched))
        query = f"SELECT source, hash FROM search_sources WHERE paper_id IN ({marks})"
        stored = {r["source"]: r["hash"] for r in db.execute(query, touched)} if touched else {}
    else:
        wanted = {s.key: s for s in _sources(layout.papers, db, pdf_root, pdfs, folders, files)}
        stored = {r["source"]: r["hash"] for r in db.execute("SELECT source, hash FROM search_sources")}
    report = IndexReport()
    gone = [key for key in stored if key not in wanted]
    todo = [s for s in wanted.values() if stored.get(s.key) != s.hash]
    papers = [s for s in todo if s.paper_row is not None]
    with _transaction(db):  # removals and paper rows (many small ones) in one transaction
        for key in gone:
            _delete(db, key)
        for source in papers:
            _insert(db, source, *source.build())
    report.removed, report.indexed = len(gone), len(papers)
    for source in todo:
        if source.paper_row is not None:
            continue
        if on_source is not None:
            on_source(source.key)
        docs, problem = source.build()
        with _transaction(db):
            _insert(db, source, docs, problem)
        report.indexed += 1
        report.pdf_pages += sum(d.kind == "pdf" for d in docs)
        if problem:
            report.no_text[source.paper_id] = problem
    saved = search_edits.save(layout, text, text_digest)  # before the state that names it
    with _transaction(db):  # what the index now reflects, and what the next edit is compared with
        files.save()
        _set_state(db, "look", look)
        _set_state(db, "look_parts", json.dumps(parts))
        _set_state(db, "look_folders", json.dumps(folders))
        _set_state(db, "catalog_saved", json.dumps(saved))
    search_edits.forget(keep=text_digest)
    return report


def _state(db: sqlite3.Connection, key: str) -> str | None:
    row = db.execute("SELECT value FROM search_state WHERE key = ?", (key,)).fetchone()
    return None if row is None else str(row[0])


def _set_state(db: sqlite3.Connection, key: str, value: str) -> None:
    db.execute("INSERT OR REPLACE INTO search_state VALUES (?, ?)", (key, value))


@contextmanager
def _transaction(db: sqlite3.Connection) -> Iterator[None]:
    db.execute("BEGIN IMMEDIATE")  # the connection autocommits otherwise
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def _delete(db: sqlite3.Connection, key: str) -> None:
    db.execute("DELETE FROM search_fts WHERE rowid IN (SELECT id FROM search_docs WHERE source = ?)", (key,))
    db.execute("DELETE FROM search_docs WHERE source = ?", (key,))
    db.execute("DELETE FROM search_sources WHERE source = ?", (key,))
    if key.startswith("paper:"):
        db.execute("DELETE FROM search_papers WHERE paper_id = ?", (key.removeprefix("paper:"),))


_INSERT_FTS = f"INSERT INTO search_fts (rowid, {', '.join(COLUMNS)}) VALUES (?{', ?' * len(COLUMNS)})"


def _insert(db: sqlite3.Connection, source: _Source, docs: list[_Doc], problem: str | None) -> None:
    _delete(db, source.key)  # another process may have indexed it meanwhile: replace, never duplicate
    last = db.execute("SELECT max(id) FROM search_docs").fetchone()[0]
    first = 0 if last is None else (last >> 2) + 1
    for n, doc in enumerate(docs):
        doc_id = (first + n) << 2 | KIND_BITS[doc.kind]
        db.execute(
            "INSERT INTO search_docs VALUES (?, ?, ?, ?, ?, ?, ?)",
            (doc_id, source.key, source.paper_id, doc.kind, doc.page, doc.file, doc.line),
        )
        db.execute(_INSERT_FTS, (doc_id, *(doc.values.get(c, "") for c in COLUMNS)))
    row = (source.key, source.paper_id, source.hash, problem)
    db.execute("INSERT INTO search_sources VALUES (?, ?, ?, ?)", row)
    if source.paper_row is not None:
        db.execute("INSERT OR REPLACE INTO search_papers VALUES (?, ?, ?, ?, ?, ?)", source.paper_row)


# -- what there is to index, and how it looks now -------------------------------------------------------


def _digest(*parts: object) -> str:
    return hashlib.blake2b(json.dumps(parts, ensure_ascii=False).encode(), digest_size=16).hexdigest()


def _listing(root: Path) -> dict[str, tuple[int, int]]:
    """The cached PDFs: cache name (``2205.14135.pdf``, ``web/x.pdf``) -> (size, mtime in ns)."""
    found: dict[str, tuple[int, int]] = {}
    for folder, prefix in ((root, ""), (root / "web", "web/")):
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            if entry.name.endswith(".pdf") and entry.is_file():
                stat = entry.stat()
                found[prefix + entry.name] = (stat.st_size, stat.st_mtime_ns)
    return found


def _python_files(folder: Path) -> dict[str, tuple[int, int]]:
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return {}
    stats = {
        e.name: e.stat()
        for e in entries
        if e.name.endswith(".py")
        and e.name != "mistakes.py"
        and e.is_file()  # the practice's wrong solutions
    }
    return {name: (s.st_size, s.st_mtime_ns) for name, s in sorted(stats.items())}


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b""


def _look(
    db: sqlite3.Connection, pdfs: dict[str, tuple[int, int]], folders: dict[str, str | None]
) -> list[str]:
    """Digests of everything else the index is made from, as it looks without reading it (papers.yaml's
    bytes are the first part): the synced metadata's count and newest fetch, the PDF files' and plugin
    files' sizes and mtimes, the extractor's version."""
    try:
        meta = tuple(db.execute("SELECT count(*), max(fetched_at) FROM arxiv_metadata").fetchone())
    except sqlite3.OperationalError:  # never synced: no table yet, as good as an empty one
        meta = (0, None)
    plugin_files = {name: _python_files(Path(f)) for name, f in sorted(folders.items()) if f}
    from readtrack.arxiv.pdftext import EXTRACTOR

    listing = "\n".join(f"{name}\t{size}\t{mtime}" for name, (size, mtime) in sorted(pdfs.items()))
    return [_digest(meta), _digest(listing), _digest(plugin_files), _digest(EXTRACTOR)]


def _paper_digest(paper: Paper) -> str:
    values = (paper.title, paper.label, paper.section, paper.status, paper.arxiv, paper.related, paper.url)
    more = (paper.year, paper.tags, paper.notes, paper.plugins)
    return hashlib.blake2b(repr((values, more)).encode(), digest_size=8).hexdigest()


def _changed_papers(db: sqlite3.Connection, layout: search_edits.Layout) -> tuple[list[Paper], list[str]]:
    """The papers whose entry differs from the one indexed (new ones too), and the ids of those and of the
    papers gone from the list: all a papers.yaml edit can have changed."""
    cursor = db.cursor()
    cursor.row_factory = None  # plain tuples: ten thousand rows
    indexed = dict(cursor.execute("SELECT paper_id, digest FROM search_papers").fetchall())
    changed = [p for p in layout.papers if indexed.pop(p.id, None) != _paper_digest(p)]
    return changed, [p.id for p in changed] + list(indexed)


def _plugin_folders(names: list[str], db: sqlite3.Connection) -> dict[str, str | None]:
    """The folder of each plugin the catalog names (None: no such plugin). Found by reading the plugins'
    ``__init__.py`` files as text, never importing them (searching must not run a plugin's code), and
    remembered in the index, so folders are looked for only when the list names a plugin not seen before."""
    known: dict[str, str | None] = json.loads(_state(db, "plugin_folders") or "{}")
    if all(name in known for name in names):
        return {name: known[name] for name in names}
    from readtrack.plugins.folders import folders_as_text

    folders = folders_as_text()
    found: dict[str, str | None] = {n: str(folders[n]) if n in folders else None for n in names}
    with _transaction(db):
        _set_state(db, "plugin_folders", json.dumps(found))
    return found


class _FileHashes:
    """Content hashes of files, recomputed only when a file's size or mtime changed since it was hashed."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self.new: dict[str, tuple[int, int, str]] = {}

    def sha256(self, path: Path, stat: tuple[int, int]) -> str:
        query = "SELECT size, mtime_ns, sha256 FROM search_files WHERE path = ?"
        known = self.db.execute(query, (str(path),)).fetchone()
        if known is not None and (known[0], known[1]) == stat:
            return str(known[2])
        from readtrack.catalog.pdfcache import sha256_of

        digest = sha256_of(path)
        self.new[str(path)] = (*stat, digest)
        return digest

    def save(self) -> None:
        rows = [(path, *values) for path, values in self.new.items()]
        self.db.executemany("INSERT OR REPLACE INTO search_files VALUES (?, ?, ?, ?)", rows)


def _sources(
    papers: list[Paper],
    db: sqlite3.Connection,
    pdf_root: Path,
    pdfs: dict[str, tuple[int, int]],
    folders: dict[str, str | None],
    files: _FileHashes,
) -> Iterator[_Source]:
    from readtrack.arxiv.pdftext import EXTRACTOR
    from readtrack.catalog import metadata
    from readtrack.catalog.pdfcache import arxiv_file_name, web_file_name

    records = metadata.for_papers(papers, db)
    for paper in papers:
        values = _paper_values(paper, records.get(paper.id))
        tags = f" {' '.join(paper.tags)} "
        row = (paper.id, _paper_digest(paper), paper.display_title, paper.status, paper.section, tags)
        build = partial(_paper_docs, values)
        yield _Source(f"paper:{paper.id}", paper.id, _digest(values, row), build, row)
        idents = paper.arxiv_ids()
        names = [arxiv_file_name(idents[0])] if idents else []
        name = next((n for n in [*names, web_file_name(paper.id)] if n in pdfs), None)
        if name is not None:
            path = pdf_root / name
            digest = _digest(files.sha256(path, pdfs[name]), EXTRACTOR)
            yield _Source(f"pdf:{paper.id}", paper.id, digest, partial(_pdf_docs, path))
        for plugin in paper.plugins:
            folder = folders.get(plugin)
            if folder is None:
                continue
            stats = _python_files(Path(folder))
            digest = _digest([(n, files.sha256(Path(folder) / n, s)) for n, s in stats.items()])
            key = f"plugin:{paper.id}:{plugin}"
            yield _Source(key, paper.id, digest, partial(_plugin_docs, Path(folder), list(stats)))


def _paper_values(paper: Paper, record: ArxivRecord | None) -> dict[str, str]:
    year = paper.year or (record.year if record else None)
    return {
        "title": paper.title,
        "label": " ".join(filter(None, [paper.label, paper.id])),
        "authors": ", ".join(record.authors) if record else "",
        "year": str(year or ""),
        "section": paper.section,
        "tags": " ".join(paper.tags),
        "notes": paper.notes or "",
        "abstract": record.abstract if record else "",
    }


def _paper_docs(values: dict[str, str]) -> tuple[list[_Doc], str | None]:
    return [_Doc("paper", values)], None


def _pdf_docs(path: Path) -> tuple[list[_Doc], str | None]:
    from readtrack.arxiv.pdftext import extract

    text = extract(path)
    docs = [_Doc("pdf", {"pdf": page}, page=n) for n, page in enumerate(text.pages, start=1) if page.strip()]
    return docs, text.problem


def _plugin_docs(folder: Path, names: list[str]) -> tuple[list[_Doc], str | None]:
    """The plugin's page (``__init__.py``'s docstring, from the line it starts on) and each other file."""
    docs = []
    for name in names:
        try:
            text = (folder / name).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        shown = f"{folder.name}/{name}"
        if name == "__init__.py":
            page = _docstring(text)
            if page is not None:
                docs.append(_Doc("page", {"page": page[1]}, file=shown, line=page[0]))
        else:
            docs.append(_Doc("code", {"code": text}, file=shown, line=1))
    return docs, None


def _docstring(source: str) -> tuple[int, str] | None:
    """(the line its text starts on, the text) of a module's docstring, lines kept as written."""
    try:
        module = pyast.parse(source)
    except SyntaxError:
        return None
    first = module.body[0] if module.body else None
    if not (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)):
        return None
    if not isinstance(first.value.value, str):
        return None
    raw = first.value.value
    leading = len(raw) - len(raw.lstrip("\n"))  # a docstring may open with a line break
    return first.lineno + leading, raw.strip("\n")
