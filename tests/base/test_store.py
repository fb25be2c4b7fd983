"""The SQLite store: connections opened together on a fresh database all get WAL mode and no error."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from readtrack.base import store


def test_connections_opening_a_fresh_database_together_never_see_it_locked(tmp_path: Path) -> None:
    # The TUI's workers open the new database at the same moment. Switching it to WAL needs the file to
    # itself, and SQLite answered "database is locked" at once (no busy handler) to the one that lost: about
    # 1 open in 450 failed here before connect() retried.
    errors: list[str] = []
    modes: list[str] = []

    def open_and_create(db: Path, table: str, start: threading.Barrier) -> None:
        start.wait()
        try:
            with store.opened(f"CREATE TABLE IF NOT EXISTS {table} (a INTEGER);", store.connect(db)) as conn:
                modes.append(conn.execute("PRAGMA journal_mode").fetchone()[0])
                conn.execute(f"INSERT INTO {table} VALUES (1)")
        except sqlite3.OperationalError as err:
            errors.append(str(err))

    for trial in range(150):
        db = tmp_path / f"fresh-{trial}.db"
        start = threading.Barrier(6)
        threads = [threading.Thread(target=open_and_create, args=(db, f"t{i % 3}", start)) for i in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        conn = store.connect(db)
        rows = sum(conn.execute(f"SELECT count(*) FROM t{i}").fetchone()[0] for i in range(3))
        conn.close()
        assert rows == 6 or errors, "every thread's row was written"
    assert errors == []
    assert set(modes) == {"wal"}
