"""The SQLite database in the data dir: one connection factory for every module that stores things.

Each module owns its tables and creates them with ``CREATE TABLE IF NOT EXISTS`` through
:func:`ensure_schema` (synced metadata: ``readtrack.metadata``; run history: ``readtrack.history``).
WAL mode lets the TUI read while a sync or a run writes from another process.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from readtrack.paths import database_path


def connect(path: Path | None = None) -> sqlite3.Connection:
    """Open the database (created when missing) with rows addressable by column name."""
    db = path or database_path()
    db.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(db, timeout=30, isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    _use_wal(conn)
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    return conn


def _use_wal(conn: sqlite3.Connection, wait: float = 30.0) -> None:
    """Switch the database to WAL (it stays so: the mode is stored in the file).

    The switch needs the file to itself and SQLite returns "database is locked" at once, without its busy
    handler, when another connection is reading the new file at that moment (the TUI's workers opening a
    fresh database together did). So only a database not yet in WAL mode tries, and retries for ``wait``.
    """
    deadline = time.monotonic() + wait
    delay = 0.001
    while conn.execute("PRAGMA journal_mode").fetchone()[0].lower() not in ("wal", "memory"):
        try:
            mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0].lower()
        except sqlite3.OperationalError as err:
            if "locked" not in str(err) or time.monotonic() > deadline:
                raise
            mode = "locked"
        if mode == "wal" or time.monotonic() > deadline:
            return  # a file system without WAL keeps its rollback journal; that only costs concurrency
        time.sleep(delay)
        delay = min(delay * 2, 0.05)


def ensure_schema(conn: sqlite3.Connection, ddl: str) -> None:
    """Run a module's ``CREATE TABLE/INDEX IF NOT EXISTS`` statements."""
    conn.executescript(ddl)


@contextmanager
def opened(schema: str, conn: sqlite3.Connection | None = None) -> Iterator[sqlite3.Connection]:
    """The caller's connection, or one of our own closed afterwards (the TUI lives long), with ``schema``
    ensured. How every module that owns tables talks to the database."""
    db = connect() if conn is None else conn
    try:
        ensure_schema(db, schema)
        yield db
    finally:
        if conn is None:
            db.close()
