"""What `readtrack feed` remembers in the data dir, as two JSON files written atomically.

- ``feed.json``: when the last feed ran, what it showed (arXiv id: date; a paper is shown once unless
  ``--all``), the rows of the last listing (what ``--add N`` and ``--dismiss N`` number), and the dismissed
  papers with their title and abstract (negatives for the ranking, never shown again);
- ``feed-window.json``: the last window fetched from arXiv (its categories, start, when it was fetched, the
  records), reused for an hour unless ``--refresh``, so re-ranking or ``-n 50`` asks arXiv nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from readtrack.base.atomic import atomic_write
from readtrack.base.errors import StorageError
from readtrack.base.paths import data_dir
from readtrack.catalog.metadata import ArxivRecord

STATE_FILE = "feed.json"
WINDOW_FILE = "feed-window.json"


@dataclass
class State:
    last_run: str | None = None  # ISO time, UTC
    shown: dict[str, str] = field(default_factory=dict)  # arXiv id -> date first shown
    last: list[dict[str, Any]] = field(default_factory=list)  # the rows of the last listing
    last_date: str | None = None  # the date of the last listing
    dismissed: dict[str, dict[str, str]] = field(default_factory=dict)  # id -> title, abstract, date

    def to_json(self) -> dict[str, Any]:
        return {
            "last_run": self.last_run,
            "shown": self.shown,
            "last": self.last,
            "last_date": self.last_date,
            "dismissed": self.dismissed,
        }


@dataclass
class CachedWindow:
    categories: list[str]
    since: str  # ISO time, UTC: the window's start
    fetched_at: str  # ISO time, UTC
    records: list[ArxivRecord]


def _read(path: Path) -> dict[str, Any] | None:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    try:
        value = json.loads(text)
    except ValueError as err:
        raise StorageError(f"{path} is not valid JSON ({err}): move it away to start afresh") from None
    if not isinstance(value, dict):
        raise StorageError(f"{path} is not a feed file (a JSON object): move it away to start afresh")
    return value


def load_state(folder: Path | None = None) -> State:
    raw = _read((folder or data_dir()) / STATE_FILE)
    if raw is None:
        return State()
    try:
        return State(
            last_run=raw.get("last_run"),
            shown=dict(raw.get("shown") or {}),
            last=list(raw.get("last") or []),
            last_date=raw.get("last_date"),
            dismissed=dict(raw.get("dismissed") or {}),
        )
    except (TypeError, ValueError) as err:
        raise StorageError(f"{STATE_FILE} in the data dir is damaged ({err})") from None


def save_state(state: State, folder: Path | None = None) -> None:
    atomic_write((folder or data_dir()) / STATE_FILE, json.dumps(state.to_json(), indent=1) + "\n")


def load_window(folder: Path | None = None) -> CachedWindow | None:
    """The cached window; None when there is none or it is not one (it is only a cache: fetched again)."""
    try:
        raw = _read((folder or data_dir()) / WINDOW_FILE)
        if raw is None:
            return None
        return CachedWindow(
            categories=list(raw["categories"]),
            since=str(raw["since"]),
            fetched_at=str(raw["fetched_at"]),
            records=[ArxivRecord(**r) for r in raw["records"]],
        )
    except (StorageError, KeyError, TypeError):
        return None


def save_window(window: CachedWindow, folder: Path | None = None) -> None:
    data = {
        "categories": window.categories,
        "since": window.since,
        "fetched_at": window.fetched_at,
        "records": [r.to_dict() for r in window.records],
    }
    atomic_write((folder or data_dir()) / WINDOW_FILE, json.dumps(data) + "\n")
