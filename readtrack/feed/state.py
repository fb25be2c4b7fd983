"""What `readtrack feed` remembers in the data dir, as two JSON files written atomically.

- ``feed.json``: when the last feed ran, what it showed (arXiv id: date; a paper is shown once unless
  ``--all``), the rows of the last listing (what ``--add N`` and ``--dismiss N`` number), and the dismissed
  papers with their title and abstract (negatives for the ranking, never shown again). Changed only through
  `updating`, which holds its lock from the read to the write, so two commands at once lose nothing. A damaged
  one is refused in one line naming it: it holds the reader's dismissals, so it is never rewritten over.
- ``feed-window.json``: the last window fetched from arXiv (its categories, start, when it was fetched, the
  records), reused for an hour unless ``--refresh``, so re-ranking or ``-n 50`` asks arXiv nothing. Only a
  cache: a damaged one is `DamagedWindow`, and fetched again.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from readtrack.base.atomic import atomic_write
from readtrack.base.errors import StorageError
from readtrack.base.paths import data_dir
from readtrack.base.writelock import locked
from readtrack.catalog.metadata import ArxivRecord

STATE_FILE = "feed.json"
WINDOW_FILE = "feed-window.json"
START_AFRESH = "move it away to start afresh (the feed then forgets what it showed and what you dismissed)"


@dataclass
class State:
    last_run: str | None = None  # ISO time, UTC
    shown: dict[str, str] = field(default_factory=dict)  # arXiv id -> date first shown
    last: list[dict[str, Any]] = field(default_factory=list)  # the rows of the last listing
    last_date: str | None = None  # the date of the last listing
    dismissed: dict[str, dict[str, str]] = field(default_factory=dict)  # id -> title, abstract, date

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def forget_shown_before(self, date: str) -> None:
        """Forget the papers first shown before ``date`` (YYYY-MM-DD), so the memory stays bounded; the
        dismissed are kept, they are the reader's judgement."""
        self.shown = {ident: day for ident, day in self.shown.items() if day >= date}


@dataclass
class CachedWindow:
    categories: list[str]
    since: str  # ISO time, UTC: the window's start
    fetched_at: str  # ISO time, UTC
    records: list[ArxivRecord]
    capped: bool = False  # the window held more than the records: the newest were kept


class DamagedWindow(StorageError):
    """The cached window cannot be read; the message says why. Only a cache: fetch the window again."""


def _read(path: Path) -> Any:
    """The JSON value of ``path``; None when it does not exist."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except UnicodeDecodeError as err:
        raise StorageError(f"{path}: not UTF-8 text ({err.reason} at byte {err.start})") from None
    except OSError as err:
        raise StorageError(f"cannot read {path}: {err.strerror or err}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise StorageError(f"{path}:{err.lineno}:{err.colno}: not valid JSON ({err.msg})") from None


def _expect(value: Any, kind: type | tuple[type, ...], where: str) -> None:
    if not isinstance(value, kind):
        names = " or ".join(k.__name__ for k in (kind if isinstance(kind, tuple) else (kind,)))
        got = "null" if value is None else type(value).__name__
        raise StorageError(f"{where} is {got}, not {names.replace('NoneType', 'null')}")


def _state_of(raw: Any) -> State:
    """``raw`` as a `State`, every field of the shape the feed reads; a `StorageError` naming the first that
    is not."""
    _expect(raw, dict, "the whole file")
    state = State()
    for key in ("last_run", "last_date"):
        _expect(raw.get(key), (str, type(None)), f"{key!r}")
    shown, last, dismissed = raw.get("shown") or {}, raw.get("last") or [], raw.get("dismissed") or {}
    _expect(shown, dict, "'shown'")
    for ident, day in shown.items():
        _expect(day, str, f"'shown' of {ident}")
    _expect(last, list, "'last'")
    for n, row in enumerate(last, start=1):
        _expect(row, dict, f"row {n} of 'last'")
        _expect(row.get("number"), int, f"'number' of row {n} of 'last'")
        for key in ("arxiv_id", "title", "why"):
            _expect(row.get(key), str, f"{key!r} of row {n} of 'last'")
    _expect(dismissed, dict, "'dismissed'")
    for ident, paper in dismissed.items():
        _expect(paper, dict, f"'dismissed' of {ident}")
        for key, text in paper.items():
            _expect(text, str, f"{key!r} of 'dismissed' of {ident}")
    state.last_run, state.last_date = raw.get("last_run"), raw.get("last_date")
    state.shown, state.last, state.dismissed = dict(shown), list(last), dict(dismissed)
    return state


def load_state(folder: Path | None = None) -> State:
    """What the feed remembers; a `StorageError` naming the file (``path:line:col`` for bad JSON) and what to
    do when it is damaged."""
    path = (folder or data_dir()) / STATE_FILE
    try:
        raw = _read(path)
        return State() if raw is None else _state_of(raw)
    except StorageError as err:
        text = str(err)
        where = "" if text.startswith(str(path)) or str(path) in text else f"{path}: "
        raise StorageError(f"{where}{text}; {START_AFRESH}") from None


def save_state(state: State, folder: Path | None = None) -> None:
    atomic_write((folder or data_dir()) / STATE_FILE, json.dumps(state.to_json(), indent=1) + "\n")


@contextlib.contextmanager
def updating(folder: Path | None = None) -> Iterator[State]:
    """The state as it is now, to change in the block, written when the block ends without an error. The
    file's lock (`readtrack.base.writelock`) is held throughout, so a dismissal made while a feed was
    fetching is kept by that feed's write, and two dismissals at once both land."""
    path = (folder or data_dir()) / STATE_FILE
    with locked(path):
        state = load_state(folder)
        yield state
        save_state(state, folder)


#: The JSON type of each field of an `ArxivRecord` as `save_window` writes it (lists hold text).
_RECORD_TYPES: dict[str, type | tuple[type, ...]] = {
    "arxiv_id": str,
    "version": str,
    "title": str,
    "authors": list,
    "abstract": str,
    "published": (str, type(None)),
    "updated": (str, type(None)),
    "categories": list,
    "primary_category": (str, type(None)),
    "doi": (str, type(None)),
    "journal_ref": (str, type(None)),
    "comment": (str, type(None)),
    "pdf_url": (str, type(None)),
    "fetched_at": str,
}


def _window_of(raw: Any) -> CachedWindow:
    _expect(raw, dict, "the whole file")
    for key in ("since", "fetched_at"):
        _expect(raw.get(key), str, repr(key))
    _expect(raw.get("categories"), list, "'categories'")
    if not all(isinstance(c, str) for c in raw["categories"]):
        raise StorageError("'categories' holds other values than text")
    _expect(raw.get("capped", False), bool, "'capped'")
    _expect(raw.get("records"), list, "'records'")
    records = []
    names = {f.name for f in fields(ArxivRecord)}
    for n, item in enumerate(raw["records"], start=1):
        _expect(item, dict, f"record {n}")
        if not names >= set(item) or not {"arxiv_id", "version", "title"} <= set(item):
            raise StorageError(f"record {n} has other fields than an arXiv record's")
        for key, value in item.items():  # each field of the type an arXiv record's has (issue 94)
            kind = _RECORD_TYPES[key]
            _expect(value, kind, f"{key!r} of record {n}")
            if kind is list and not all(isinstance(each, str) for each in value):
                raise StorageError(f"{key!r} of record {n} holds other values than text")
        records.append(ArxivRecord(**item))
    return CachedWindow(
        categories=[str(c) for c in raw["categories"]],
        since=raw["since"],
        fetched_at=raw["fetched_at"],
        records=records,
        capped=bool(raw.get("capped", False)),
    )


def load_window(folder: Path | None = None) -> CachedWindow | None:
    """The cached window; None when there is none, `DamagedWindow` when it cannot be read (a cache: the
    caller fetches the window again and says so)."""
    path = (folder or data_dir()) / WINDOW_FILE
    try:
        raw = _read(path)
        return None if raw is None else _window_of(raw)
    except StorageError as err:
        text = str(err)
        raise DamagedWindow(text if str(path) in text else f"{path}: {text}") from None


def save_window(window: CachedWindow, folder: Path | None = None) -> None:
    data = {
        "categories": window.categories,
        "since": window.since,
        "fetched_at": window.fetched_at,
        "capped": window.capped,
        "records": [r.to_dict() for r in window.records],
    }
    atomic_write((folder or data_dir()) / WINDOW_FILE, json.dumps(data) + "\n")
