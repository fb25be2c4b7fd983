"""The day's arXiv for one reader: the window, what the list already holds, the ranking, the rows.

`feed` is the listing (it writes the data dir's feed state only once the window is fetched and ranked, so a
failure changes nothing); `add` and `dismiss` act on the rows of the last listing by their numbers, `add_rows`
and `dismiss_rows` on rows themselves (the TUI's, whose rows do not move when a CLI listing comes between).
"""

from __future__ import annotations

import math
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from readtrack.base.errors import SyncError, UsageError
from readtrack.base.words import plural
from readtrack.catalog import arxivid, metadata
from readtrack.catalog.keys import doi_of, title_key
from readtrack.catalog.metadata import ArxivRecord
from readtrack.catalog.model import Catalog, Paper
from readtrack.catalog.new_paper import NewPaper, today
from readtrack.feed import categories as known_categories
from readtrack.feed import state as stored
from readtrack.feed.rank import Doc, Ranked, document
from readtrack.feed.reads import Link, fetch_missing

POSITIVE = ("read", "reading")
NEGATIVE = ("skipped",)
MAX_DAYS = 7.0
FEW_READS = 10  # fewer reads than this: the feed says its ranking is rough (bench_feed's few-read readers)
LONGEST_DAYS = 365.0  # --days at most; so a paper shown is remembered that long (no window reaches further)
FIRST_DAYS = 1.0
MIN_DAYS = 1.0  # arXiv announces once a day: a shorter default window would miss the day's announcement
CACHE_FOR = timedelta(hours=1)
MAX_DEFAULT_CATEGORIES = 6  # the reader's most read categories, when --category is not given
SECTION = "Inbox"
ISO = "%Y-%m-%dT%H:%M:%SZ"

Waiting = Callable[[str, str, float, int, int], None]
Paged = Callable[[int], None]  # told the number of pages arXiv has answered so far, after each one


class NoCategories(UsageError):
    """Nothing read (or nothing read is synced): no categories to follow unless some are given."""

    def __init__(self, why: str) -> None:
        super().__init__(
            f"no categories to follow: {why} (`readtrack sync` stores their categories); give one with "
            "--category, e.g. --category cs.LG"
        )
        self.why = why


@dataclass
class FeedOptions:
    categories: list[str] = field(default_factory=list)  # as asked; empty: the reader's
    days: float | None = None  # None: since the last feed
    count: int = 20
    show_all: bool = False
    refresh: bool = False
    showing: frozenset[str] = frozenset()  # arXiv ids on the reader's screen: listed again though shown


@dataclass
class Row:
    number: int
    arxiv_id: str
    version: str
    title: str
    date: str  # YYYY-MM-DD, the submission's
    categories: list[str]
    score: float  # the model's probability, for scripts: `standing` is what a person reads
    why: str
    abstract: str = ""
    doi: str | None = None
    of: int = 0  # the papers ranked in this listing's window (0: newest first, no ranking)

    @property
    def top_percent(self) -> int:
        """The share of the window ranked at or above this row, in whole percent, rounded up (1 to 100)."""
        return math.ceil(100 * self.number / self.of) if self.of else 0

    @property
    def standing(self) -> str:
        """``top 2% of 250``: where the row stands in the window, which a probability cannot say."""
        return f"top {self.top_percent}% of {self.of:,}" if self.of else "newest first"

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "score": round(self.score, 4), "top_percent": self.top_percent}


@dataclass
class FeedResult:
    rows: list[Row]
    categories: list[str]
    since: datetime
    window: int  # submissions in the window
    held: int  # of them, in the list already
    hidden: int  # of them, dismissed or shown before
    pages: int  # API requests made, a page asked again included (0: the cached window)
    recency: bool  # nothing read: newest first
    notes: list[str] = field(default_factory=list)  # what the reader should know, for stderr


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime(ISO)


def _parse(text: str) -> datetime:
    return datetime.strptime(text, ISO).replace(tzinfo=timezone.utc)


def window_start(days: float | None, last_run: str | None, now: datetime) -> datetime:
    """``--days N`` back from now; else since the last feed, at least a day and at most `MAX_DAYS`; a first
    feed, `FIRST_DAYS`."""
    if days is not None:
        if not (0 < days <= LONGEST_DAYS):
            raise UsageError(f"--days takes a number of days from 0 to 365, got {days:g}")
        return now - timedelta(days=days)
    if last_run is None:
        return now - timedelta(days=FIRST_DAYS)
    try:
        last = _parse(last_run)
    except ValueError:
        return now - timedelta(days=FIRST_DAYS)
    span = min(max((now - last).total_seconds() / 86400, MIN_DAYS), MAX_DAYS)
    return now - timedelta(days=span)


def reader_categories(catalog: Catalog, records: dict[str, ArxivRecord]) -> tuple[list[str], str]:
    """The primary categories of the papers read or being read (their synced metadata), the most read first,
    at most `MAX_DEFAULT_CATEGORIES`, and the line that says so."""
    counts: Counter[str] = Counter()
    papers = [p for p in catalog.papers() if p.status in POSITIVE]
    for paper in papers:
        record = records.get(paper.id)
        if record is None:
            continue
        primary = record.primary_category or (record.categories[0] if record.categories else None)
        if primary and known_categories.known(primary):
            counts[primary] += 1
    if not counts:
        raise NoCategories(
            "nothing read or being read yet" if not papers else "none of the papers you read is synced"
        )
    chosen = [name for name, _ in counts.most_common(MAX_DEFAULT_CATEGORIES)]
    listed = ", ".join(f"{name} ({counts[name]})" for name in chosen)
    more = f"; {plural(len(counts) - len(chosen), 'rarer one')} left out" if len(counts) > len(chosen) else ""
    synced = sum(counts.values())
    return chosen, (
        f"categories of the {plural(synced, 'paper')} you read or are reading: {listed}{more} "
        "(--category to choose)"
    )


class ListKeys:
    """What the list holds, by arXiv id (any version), DOI and title: never suggested."""

    def __init__(self, catalog: Catalog, records: dict[str, ArxivRecord]) -> None:
        self.ids: set[str] = set()
        self.dois: set[str] = set()
        self.titles: set[str] = set()
        for paper in catalog.papers():
            self.ids.update(arxivid.base_id(i) for i in paper.arxiv_ids())
            if doi := doi_of(paper.url):
                self.dois.add(doi)
            if key := title_key(paper.title):
                self.titles.add(key)
            record = records.get(paper.id)
            if record is not None:
                if record.doi:
                    self.dois.add(record.doi.lower())
                if key := title_key(record.title):
                    self.titles.add(key)

    def holds(self, record: ArxivRecord) -> bool:
        return (
            arxivid.base_id(record.arxiv_id) in self.ids
            or (record.doi is not None and record.doi.lower() in self.dois)
            or title_key(record.title) in self.titles
        )


def _fetch(
    categories: list[str],
    since: datetime,
    now: datetime,
    refresh: bool,
    link: Link,
    notes: list[str] | None = None,
) -> list[ArxivRecord]:
    """The window's records, newest first, from the cache or through ``link`` (which counts the requests);
    what the reader should know of them (a damaged cache, a capped window) appended to ``notes``."""
    notes = [] if notes is None else notes
    try:
        cached = None if refresh else stored.load_window()
    except stored.DamagedWindow as err:
        notes.append(f"{err}: only a cache, the window is fetched again")
        cached = None
    if (
        cached is not None
        and sorted(cached.categories) == sorted(categories)
        and cached.since <= _iso(since)
        and _iso(now - CACHE_FOR) <= cached.fetched_at <= _iso(now)
    ):
        if cached.capped:
            notes.append(_capped(cached.records, since))
        return [r for r in cached.records if (r.published or "") >= _iso(since)]
    from readtrack.arxiv.http import NETWORK_HINT, Cancelled, RequestFailed, Unreachable
    from readtrack.arxiv.newest import newest

    try:
        if link.unreachable is not None:  # the reads' abstracts could not reach arXiv a moment ago
            raise link.unreachable
        window = newest(link.session, link.api_url, categories, since)
    except Cancelled:
        raise
    except Unreachable as err:  # the hint sync gives when arXiv cannot be reached at all
        hint = "" if NETWORK_HINT in err.reason else f" ({NETWORK_HINT})"
        raise SyncError(f"cannot fetch the feed from arXiv: {err.reason}{hint}; nothing changed") from None
    except RequestFailed as err:
        raise SyncError(f"cannot fetch the feed from arXiv: {err.reason}; nothing changed") from None
    except SyncError as err:
        raise SyncError(f"cannot fetch the feed from arXiv: {err}; nothing changed") from None
    stored.save_window(stored.CachedWindow(categories, _iso(since), _iso(now), window.records, window.capped))
    if window.capped:
        notes.append(_capped(window.records, since))
    if window.skipped:
        notes.append(
            f"{plural(window.skipped, 'entry', 'entries')} arXiv sent left out: a date that is not one"
        )
    return window.records


def _capped(records: list[ArxivRecord], since: datetime) -> str:
    oldest = (records[-1].published or "?").replace("T", " ").rstrip("Z") if records else "?"
    return (
        f"the window since {_iso(since)[:10]} reached the cap of {len(records):,} submissions: only the "
        f"newest (back to {oldest} UTC) are ranked; a shorter --days or fewer categories covers it all"
    )


def feed(
    catalog: Catalog,
    options: FeedOptions,
    *,
    now: datetime | None = None,
    on_wait: Waiting | None = None,
    on_page: Paged | None = None,
    cancel: threading.Event | None = None,
) -> FeedResult:
    """The listing: fetched (or cached), filtered, ranked, numbered and remembered. ``cancel`` set (the TUI
    left) stops it with `Cancelled` before anything is remembered."""
    now = now or datetime.now(timezone.utc)
    if options.count < 1:
        raise UsageError(f"-n takes a number of rows (1 or more), got {options.count}")
    state = stored.load_state()
    notes: list[str] = []
    chosen = known_categories.checked(options.categories) if options.categories else []
    since = window_start(options.days, state.last_run, now)
    link = Link(on_wait, on_page, cancel)
    try:
        records = fetch_missing(catalog, metadata.for_papers(catalog), link, notes)
        if not chosen:
            chosen, said = reader_categories(catalog, records)
            notes.insert(0, said)
        fetched = _fetch(chosen, since, now, options.refresh, link, notes)
    finally:
        link.close()
    pages = link.requests  # every request made: a page asked again, the reads' abstracts included
    keys = ListKeys(catalog, records)
    unique: dict[str, ArxivRecord] = {}
    untitled = 0
    for record in fetched:
        title = metadata.normalise_text(record.title)  # as listed, so as added (a control character out)
        if not title:  # nothing to list nor to add it by
            untitled += 1
            continue
        if title != record.title:
            record = replace(record, title=title)
        unique.setdefault(arxivid.base_id(record.arxiv_id), record)
    if untitled:
        notes.append(f"{plural(untitled, 'entry', 'entries')} arXiv sent without a title left out")
    held = [r for r in unique.values() if keys.holds(r)]
    window = [r for r in unique.values() if not keys.holds(r)]
    hidden_ids = set(state.dismissed) | (set() if options.show_all else set(state.shown) - options.showing)
    candidates = [r for r in window if r.arxiv_id not in hidden_ids and r.arxiv_id not in state.dismissed]
    ranked = _ranked(catalog, records, state, window, candidates)
    recency = ranked is None
    if recency:
        notes.append("nothing read or being read in the list yet: newest first (mark papers read to rank)")
    elif (reads := sum(p.status in POSITIVE for p in catalog.papers())) < FEW_READS:
        notes.append(
            f"ranked by {plural(reads, 'paper')} you read or are reading: rough until about {FEW_READS} are"
        )
    by_id = {r.arxiv_id: r for r in candidates}
    order = ranked or [Ranked(r.arxiv_id, 0.0) for r in candidates]
    rows: list[Row] = []
    for number, item in enumerate(order[: options.count], start=1):
        record = by_id[item.key]
        rows.append(
            Row(
                number=number,
                arxiv_id=record.arxiv_id,
                version=record.version,
                title=record.title,
                date=(record.published or "")[:10],
                categories=list(record.categories),
                score=item.score,
                why=_why(item) if not recency else "newest first",
                abstract=record.abstract,
                doi=record.doi,
                of=0 if recency else len(order),
            )
        )
    if cancel is not None and cancel.is_set():  # nobody will see these rows: not shown, not remembered
        from readtrack.arxiv.http import Cancelled

        raise Cancelled()
    shown_on = now.date().isoformat()
    with stored.updating() as fresh:  # read again under its lock: what was dismissed meanwhile stays
        if not options.show_all:  # `--all` is a look back at the window: nothing it shows is used up, and
            for row in rows:  # the next feed's window still starts where the last plain one ended
                fresh.shown.setdefault(row.arxiv_id, shown_on)
            fresh.last_run = _iso(now)
        fresh.forget_shown_before((now - timedelta(days=LONGEST_DAYS)).date().isoformat())
        fresh.last = [row.to_json() for row in rows]  # numbered for --add and --dismiss, --all's too
        fresh.last_date = shown_on
    return FeedResult(
        rows=rows,
        categories=chosen,
        since=since,
        window=len(unique),
        held=len(held),
        hidden=len(window) - len(candidates),
        pages=pages,
        recency=recency,
        notes=notes,
    )


def _ranked(
    catalog: Catalog,
    records: dict[str, ArxivRecord],
    state: stored.State,
    window: list[ArxivRecord],
    candidates: list[ArxivRecord],
) -> list[Ranked] | None:
    """The candidates ranked by the reader's model; None when nothing is read (newest first then)."""

    def doc(paper: Paper) -> Doc:
        record = records.get(paper.id)
        return Doc(paper.id, document(paper.title, record.abstract if record else None, paper.notes))

    papers = list(catalog.papers())
    positives = [doc(p) for p in papers if p.status in POSITIVE]
    if not positives or not candidates:
        return None if not positives else []
    negatives = [doc(p) for p in papers if p.status in NEGATIVE]
    negatives += [
        Doc(ident, document(d.get("title"), d.get("abstract"))) for ident, d in state.dismissed.items()
    ]
    docs = [Doc(r.arxiv_id, document(r.title, r.abstract)) for r in window]
    from readtrack.feed.rank import rank

    return rank(positives, negatives, docs, [r.arxiv_id for r in candidates])


def _why(item: Ranked) -> str:
    if item.nearest:
        parts = ["near " + ", ".join(f"{key} ({similarity:.2f})" for key, similarity in item.nearest)]
    else:
        parts = ["near nothing you read"]
    if item.words:
        parts.append("words: " + ", ".join(item.words))
    return "; ".join(parts)


# -- acting on the last listing ----------------------------------------------------------------------


def _picked(state: stored.State, numbers: Iterable[int], what: str) -> list[dict[str, Any]]:
    numbers = list(numbers)
    if not numbers:
        raise UsageError(f"--{what} takes the numbers of rows the last `readtrack feed` showed")
    if not state.last:
        raise UsageError(f"no feed shown yet to {what} from: run `readtrack feed` first")
    rows = {int(row["number"]): row for row in state.last}
    missing = [n for n in numbers if n not in rows]
    if missing:
        raise UsageError(
            f"no row {', '.join(map(str, missing))} in the last feed ({plural(len(rows), 'row')}, "
            f"on {state.last_date}); nothing changed"
        )
    return [rows[n] for n in dict.fromkeys(numbers)]


def new_paper(row: dict[str, Any], date: str) -> NewPaper:
    """A row as a list entry: title, arXiv id, year, the submission date and why, in its notes."""
    submitted = str(row.get("date") or "")
    return NewPaper(
        title=metadata.normalise_text(str(row["title"])),
        arxiv=str(row["arxiv_id"]),
        year=int(submitted[:4]) if submitted[:4].isdigit() else None,
        added=today(),
        notes=f"Submitted to arXiv on {submitted}. Suggested by `readtrack feed` on {date}: {row['why']}.",
    )


def add(path: Path, numbers: Iterable[int], section: str | None = None) -> tuple[str, list[Paper]]:
    """Add rows of the last listing to ``section`` (Inbox) in one write: all or, when one is listed, none."""
    return add_rows(path, _picked(stored.load_state(), numbers, "add"), section)


def add_rows(path: Path, rows: list[dict[str, Any]], section: str | None = None) -> tuple[str, list[Paper]]:
    """Add feed rows (`Row.to_json`) to ``section`` (Inbox) in one write: all or, when one is listed, none."""
    from readtrack.catalog import edits  # yaml: only when a paper is added, not for every listing

    entries = [new_paper(row, today()) for row in rows]
    section = section or SECTION
    catalog = edits.add_papers(path, section, entries)
    added = [p for p in catalog.papers() if p.arxiv in {e.arxiv for e in entries}]
    _keep_metadata({str(row["arxiv_id"]) for row in rows})
    return section, added


def _keep_metadata(idents: set[str]) -> None:
    """The added papers' arXiv records, as the feed's window holds them (abstract, authors, dates): stored as
    a sync stores them, so that `show` and the TUI have the abstract the feed showed (issue 94: "Not synced
    yet"). A paper the window no longer holds (older than its hour, or fetched elsewhere) waits for sync."""
    try:
        window = stored.load_window()
    except stored.DamagedWindow:
        return
    held = [r for r in (window.records if window else []) if r.arxiv_id in idents]
    if held:
        metadata.save(held)


def dismiss(numbers: Iterable[int]) -> list[dict[str, Any]]:
    """Rows of the last listing never shown again, and negatives of the ranking from now on."""
    return dismiss_rows(_picked(stored.load_state(), numbers, "dismiss"))


def dismiss_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Feed rows (`Row.to_json`) never shown again, and negatives of the ranking from now on; all of them
    or, when one was dismissed already, none."""
    day = today()
    with stored.updating() as state:
        if again := [row for row in rows if str(row["arxiv_id"]) in state.dismissed]:
            raise UsageError(
                "; ".join(
                    f"{row['arxiv_id']} ({row['title']}) was dismissed on "
                    f"{state.dismissed[str(row['arxiv_id'])].get('date', '?')}"
                    for row in again
                )
                + ": nothing changed"
            )
        for row in rows:
            state.dismissed[str(row["arxiv_id"])] = {
                "title": str(row.get("title") or ""),
                "abstract": str(row.get("abstract") or ""),
                "date": day,
            }
    return rows


def age(since: datetime, now: datetime | None = None) -> str:
    """The window's length for a line: ``1 day``, ``2.5 days``."""
    days = ((now or datetime.now(timezone.utc)) - since).total_seconds() / 86400
    return plural(round(days), "day") if math.isclose(days, round(days), abs_tol=0.05) else f"{days:.1f} days"
