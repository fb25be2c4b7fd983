"""The SQLite database in the data dir: one connection factory for every module that stores things.

Each module owns its tables and creates them with ``CREATE TABLE IF NOT EXISTS`` through
:func:`ensure_schema` (synced metadata: ``readtrack.catalog.metadata``; run history:
``readtrack.history.runs``). WAL mode lets the TUI read while a sync or a run writes from another process.

`check_database` and `repair_database` are ``readtrack doctor``'s and ``doctor --repair``'s: a database
SQLite cannot read (garbage bytes, a cut-off file) is moved aside, what can still be read of it is copied
into a new one, and what can be rebuilt (the search index) is left to be rebuilt.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from readtrack.base.paths import database_path
from readtrack.base.words import plural


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


# -- doctor: a database SQLite cannot read ------------------------------------------------------------

#: Tables rebuilt from papers.yaml, the PDFs and the plugins rather than copied: the search index.
REBUILT_PREFIXES = ("search_", "sqlite_")


def check_database(path: Path | None = None) -> str | None:
    """Why the database cannot be used (SQLite's words), or None when it is fine or not made yet.

    Reads every page (``PRAGMA quick_check``), so it takes a moment on a large index: doctor's, not every
    command's."""
    db = path or database_path()
    if not db.exists():
        return None
    try:
        conn = sqlite3.connect(db, timeout=30)
        try:
            rows = [str(r[0]) for r in conn.execute("PRAGMA quick_check")]
        finally:
            conn.close()
    except sqlite3.Error as err:
        return str(err)
    return None if rows == ["ok"] else "; ".join(rows[:3]) + (" ..." if len(rows) > 3 else "")


@dataclass
class Repair:
    """What ``doctor --repair`` did to the database: where the unreadable one went, the rows it kept."""

    path: Path
    problem: str  # why it was moved aside
    moved_to: Path
    kept: dict[str, int] = field(default_factory=dict)  # table -> rows copied into the new database
    lost: dict[str, str] = field(default_factory=dict)  # table -> why (some of) its rows could not be read

    def lines(self) -> list[str]:
        lines = [f"database {self.path}: {self.problem}; moved aside to {self.moved_to.name}"]
        for table, rows in sorted(self.kept.items()):
            note = f" (the rest unreadable: {self.lost[table]})" if table in self.lost else ""
            lines.append(f"  kept       {table}: {plural(rows, 'row')}{note}")
        lines += [f"  lost       {t}: {why}" for t, why in sorted(self.lost.items()) if t not in self.kept]
        return lines


def repair_database(path: Path | None = None, *, now: float | None = None) -> Repair | None:
    """Move an unreadable database aside (``readtrack.db.corrupt-YYYYmmdd-HHMMSS``, its -wal and -shm with
    it) and copy every table SQLite can still read (run history, synced metadata, the PDF cache's records)
    into a new one, row by row up to the first unreadable one. The search index is not copied: the caller
    rebuilds it. None when the database is fine or missing."""
    db = path or database_path()
    problem = check_database(db)
    if problem is None:
        return None
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(time.time() if now is None else now))
    aside = db.with_name(f"{db.name}.corrupt-{stamp}")
    for suffix in ("", "-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            os.replace(f"{db}{suffix}", f"{aside}{suffix}")
    repair = Repair(db, problem, aside)
    old = sqlite3.connect(aside, timeout=30)
    new = connect(db)
    try:
        try:
            tables = old.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table'").fetchall()
        except sqlite3.Error as err:
            repair.lost["(all tables)"] = str(err)
            tables = []
        for name, sql in tables:
            if name.startswith(REBUILT_PREFIXES) or not sql or sql.upper().startswith("CREATE VIRTUAL"):
                continue
            _copy_table(old, new, name, sql, repair)
    finally:
        old.close()
        new.close()
    return repair


def _copy_table(
    old: sqlite3.Connection, new: sqlite3.Connection, name: str, sql: str, repair: Repair
) -> None:
    quoted = '"' + name.replace('"', '""') + '"'
    new.execute("BEGIN")
    try:
        new.execute(sql)
        rows = 0
        try:
            cursor = old.execute(f"SELECT * FROM {quoted}")
            for row in cursor:
                marks = ", ".join("?" * len(row))
                new.execute(f"INSERT OR IGNORE INTO {quoted} VALUES ({marks})", tuple(row))
                rows += 1
        except sqlite3.Error as err:
            repair.lost[name] = str(err)
        repair.kept[name] = rows
        new.execute("COMMIT")
    except sqlite3.Error as err:
        new.execute("ROLLBACK")
        repair.kept.pop(name, None)
        repair.lost[name] = str(err)
