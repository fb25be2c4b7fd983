"""Semantic Scholar's answers, kept in the data dir's database with the date they came.

One table, ``s2_cache``: a key per question (``paper:ARXIV:1706.03762``, ``references:<paperId>``,
``match:<title>``, ``recommend:<digest>``), the answer as JSON, and when it was fetched (UTC, ISO 8601). A
listing of references or citations keeps its raw position in Semantic Scholar's listing (the last reply's
``next``, which counts unresolved items too) and each paper's, so that it is continued where the last reply
said and cut at any number of items. Each answer is written whole in one statement, so a command cut short
leaves every answer it stored readable. ``--refresh`` asks again; nothing expires on its own (the graph of
old papers changes slowly, and a reader sees the date of what they are shown).
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timezone
from typing import Any

from readtrack.base.store import connect, ensure_schema

SCHEMA = """
CREATE TABLE IF NOT EXISTS s2_cache (
    key TEXT PRIMARY KEY,
    fetched TEXT NOT NULL,
    value TEXT NOT NULL
);
"""


class Cache:
    """The ``s2_cache`` table through one connection (the caller's, or one of its own)."""

    def __init__(self, conn: sqlite3.Connection | None = None) -> None:
        self._own = conn is None
        self.conn = connect() if conn is None else conn
        ensure_schema(self.conn, SCHEMA)

    def close(self) -> None:
        if self._own:
            self.conn.close()

    def __enter__(self) -> Cache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get(self, key: str) -> tuple[Any, str] | None:
        """The answer stored under ``key`` and its date (``YYYY-MM-DD``), or None."""
        row = self.conn.execute("SELECT value, fetched FROM s2_cache WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        try:
            return json.loads(row["value"]), str(row["fetched"])[:10]
        except ValueError:  # a row no reader can use is as good as none: it is fetched again
            return None

    def put(self, key: str, value: Any) -> None:
        stamp = datetime.now(timezone.utc).isoformat(timespec="seconds")
        self.conn.execute(
            "INSERT OR REPLACE INTO s2_cache (key, fetched, value) VALUES (?, ?, ?)",
            (key, stamp, json.dumps(value, ensure_ascii=False, separators=(",", ":"))),
        )
