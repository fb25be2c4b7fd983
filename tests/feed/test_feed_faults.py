"""`readtrack feed` at its edges (issue 85, items 1 and 4): a second day's window, a damaged data dir, the
memory's bound, two commands at once, a window of 10,000 entries, bad row numbers and a read-only list. The
real CLI in a subprocess against the fake arXiv on 127.0.0.1, as in test_feed_cli.py, whose list and papers
these tests share."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import threading
import time
import tracemalloc
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from cli_runner import run_cli
from fakearxiv import FakeArxiv, FakePaper, serving
from test_feed_cli import HAND, NOTHING_READ, feed, real_entries, rows_of, stamp
from test_reliability import tmpfs  # noqa: F401 (a fixture: a file system of its own, to make read-only)


def one_line(result: subprocess.CompletedProcess[str], code: int, *words: str) -> None:
    assert result.returncode == code, (result.returncode, result.stderr)
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr, result.stderr
    for word in words:
        assert word in result.stderr, (word, result.stderr)


def ids_of(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [str(row["arxiv_id"]) for row in rows_of(result)]


# -- 1. the default window: since the last feed ------------------------------------------------------


def test_a_second_day_s_window_reaches_back_to_the_last_feed(
    server: FakeArxiv, reader: Path, readtrack_home: Path
) -> None:
    older = [
        FakePaper(f"2604.0005{n}", title=f"Tiling {n}", categories=["cs.LG"], published=stamp(hours))
        for n, hours in enumerate((30, 50, 80))
    ]
    server.add(*older)
    first = feed("-n", "50", "--json")
    assert not {p.arxiv_id for p in older} & set(ids_of(first)) and "over 1 day" in first.stderr
    # the first feed was two and a half days ago: its stored time is what a second day's feed starts from
    state_file = readtrack_home / "feed.json"
    state = json.loads(state_file.read_text(encoding="utf-8"))
    state["last_run"] = stamp(60)
    state_file.write_text(json.dumps(state), encoding="utf-8")
    server.reset_counters()
    second = feed("-n", "50", "--json")
    # the window grew past the cached one: asked again, and paged to 60 hours back, not to 80
    assert server.total_requests == 1 and "over 2.5 days" in second.stderr, second.stderr
    assert set(ids_of(second)) == {"2604.00050", "2604.00051", "2604.00007"}  # the rest was shown on day one
    assert json.loads(state_file.read_text(encoding="utf-8"))["last_run"] > stamp(1)


# -- 2. a damaged data dir ----------------------------------------------------------------------------

GOOD_STATE = {
    "last_run": None,
    "shown": {"2604.00001": "2026-04-20"},
    "last": [{"number": 1, "arxiv_id": "2604.00001", "title": "T", "why": "near x", "date": "2026-04-20"}],
    "last_date": "2026-04-20",
    "dismissed": {},
}
DAMAGED = {
    "truncated": json.dumps(GOOD_STATE, indent=1)[:70],
    "not JSON": "shown: 2604.00001\n",
    "empty": "",
    "a list": "[]\n",
    "rows a string": json.dumps({**GOOD_STATE, "last": "12"}),
    "a row without a number": json.dumps({**GOOD_STATE, "last": [{"arxiv_id": "2604.00001"}]}),
    "a time not a string": json.dumps({**GOOD_STATE, "last_run": 5}),
    "a dismissal not an object": json.dumps({**GOOD_STATE, "dismissed": {"2604.00002": 5}}),
    "not UTF-8": "\udcff",
}


@pytest.mark.parametrize("damage", DAMAGED)
def test_a_damaged_feed_json_is_one_line_naming_it_and_nothing_changes(
    damage: str, server: FakeArxiv, reader: Path, readtrack_home: Path
) -> None:
    state_file = readtrack_home / "feed.json"
    state_file.write_bytes(DAMAGED[damage].encode("utf-8", "surrogateescape"))
    before, listed = state_file.read_bytes(), reader.read_bytes()
    where = str(state_file)
    try:
        json.loads(before)
    except json.JSONDecodeError as err:
        where = f"{state_file}:{err.lineno}:{err.colno}: not valid JSON"
    except UnicodeDecodeError:
        where = f"{state_file}: not UTF-8"
    for command in (["-n", "3"], ["--add", "1"], ["--dismiss", "1"]):
        one_line(feed(*command), 2, where, "move it away to start afresh")
    assert state_file.read_bytes() == before and reader.read_bytes() == listed
    assert server.total_requests == 0


DAMAGED_WINDOWS = ('{"categories": ["cs.LG"], "since": "2026-', '{"records": 5}', "[1, 2]", '{"since": 1}')


def test_a_damaged_cached_window_is_fetched_again_and_said(
    server: FakeArxiv, catalog_file: Path, readtrack_home: Path
) -> None:
    catalog_file.write_text(NOTHING_READ, encoding="utf-8")  # newest first: no ranking to wait for
    first = ids_of(feed("--category", "cs.LG", "--json"))
    window = readtrack_home / "feed-window.json"
    for damage in DAMAGED_WINDOWS:
        window.write_text(damage, encoding="utf-8")
        server.reset_counters()
        again = feed("--category", "cs.LG", "--all", "--json")
        assert ids_of(again) == first and server.total_requests == 1, damage
        assert (
            f"readtrack: {window}" in again.stderr
            and "only a cache, the window is fetched again" in again.stderr
        )
        assert "Traceback" not in again.stderr
        assert json.loads(window.read_text(encoding="utf-8"))["records"]  # the cache made whole again


WRONG_TYPES = (
    ("record", "abstract", 5),
    ("record", "categories", None),
    ("record", "doi", 7),
    ("record", "authors", [1, 2]),
    ("record", "fetched_at", None),
    ("window", "capped", "yes"),
    ("window", "categories", [1]),
)


@pytest.mark.parametrize("where, key, value", WRONG_TYPES, ids=[f"{w}-{k}" for w, k, _ in WRONG_TYPES])
def test_a_cached_window_with_a_field_of_the_wrong_type_is_fetched_again(
    server: FakeArxiv, catalog_file: Path, readtrack_home: Path, where: str, key: str, value: object
) -> None:
    """Well-formed JSON with one field of another type than a record's (issue 94: a traceback on every `feed`
    for an hour): a damaged cache, fetched again and said."""
    catalog_file.write_text(NOTHING_READ, encoding="utf-8")
    first = ids_of(feed("--category", "cs.LG", "--json"))
    window = readtrack_home / "feed-window.json"
    cached = json.loads(window.read_text(encoding="utf-8"))
    (cached["records"][3] if where == "record" else cached)[key] = value
    window.write_text(json.dumps(cached), encoding="utf-8")
    server.reset_counters()
    again = feed("--category", "cs.LG", "--all", "--json")
    assert again.returncode == 0 and "Traceback" not in again.stderr, again.stderr
    assert ids_of(again) == first and server.total_requests == 1
    assert (
        f"readtrack: {window}" in again.stderr and "only a cache, the window is fetched again" in again.stderr
    )


def test_the_window_checks_every_field_of_an_arxiv_record() -> None:
    from dataclasses import fields

    from readtrack.catalog.metadata import ArxivRecord
    from readtrack.feed import state

    assert set(state._RECORD_TYPES) == {f.name for f in fields(ArxivRecord)}


# -- 3. a memory that stays bounded -------------------------------------------------------------------


def test_what_was_shown_a_year_ago_is_forgotten_and_dismissals_are_kept(
    server: FakeArxiv, reader: Path, readtrack_home: Path
) -> None:
    today = datetime.now(timezone.utc).date()
    long_ago, lately = (today - timedelta(days=400)).isoformat(), (today - timedelta(days=300)).isoformat()
    old = {f"2401.{n:05d}": long_ago for n in range(5000)}  # a year of daily feeds and more
    state_file = readtrack_home / "feed.json"
    state_file.write_text(
        json.dumps(
            {
                "shown": {**old, "2604.00002": lately},
                "dismissed": {"2401.99999": {"title": "Old", "abstract": "GANs", "date": long_ago}},
            }
        ),
        encoding="utf-8",
    )
    size = state_file.stat().st_size
    rows = ids_of(feed("--json"))
    assert "2604.00002" not in rows  # shown 300 days ago: a --days 365 window could hold it, still hidden
    state = json.loads(state_file.read_text(encoding="utf-8"))
    assert set(state["shown"]) == {"2604.00002", *rows}
    assert state["dismissed"]["2401.99999"]["title"] == "Old"  # the reader's judgement is never forgotten
    assert state_file.stat().st_size < size / 5


# -- 4. two commands at once --------------------------------------------------------------------------


class GatedArxiv(FakeArxiv):
    """The fake arXiv, holding every API reply while ``open`` is clear: a fetch stays in flight as long as
    a test needs."""

    def __init__(self, **options: object) -> None:
        super().__init__(**options)
        self.open = threading.Event()
        self.open.set()

    def feed(self, *args: object, **kwargs: object) -> bytes:
        self.open.wait(120)
        return super().feed(*args, **kwargs)


def started(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """`readtrack ARGS` started and left running, with the environment `run_cli` gives."""
    return subprocess.Popen(
        [sys.executable, "-m", "readtrack", *args],
        env={**os.environ, "NO_COLOR": "1", "COLUMNS": "120", **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_a_dismissal_made_while_a_feed_fetches_is_kept(
    monkeypatch: pytest.MonkeyPatch, reader: Path, readtrack_home: Path
) -> None:
    with GatedArxiv.running(auto=False) as server:
        for name, value in server.env(READTRACK_TIMEOUT="120").items():
            monkeypatch.setenv(name, value)
        server.add(*HAND, *real_entries())
        rows = rows_of(feed("-n", "3", "--json"))
        server.open.clear()
        fetching = started("feed", "--refresh", "--json")
        deadline = time.monotonic() + 120
        while server.requests["/api/query"] < 2 and time.monotonic() < deadline:  # its request is held
            time.sleep(0.02)
        dismissed = feed("--dismiss", "1")
        server.open.set()
        out, err = fetching.communicate(timeout=300)
    assert dismissed.returncode == 0 and fetching.returncode == 0, dismissed.stderr + err
    state = json.loads((readtrack_home / "feed.json").read_text(encoding="utf-8"))
    assert rows[0]["arxiv_id"] in state["dismissed"]  # the feed's write kept it
    assert {r["arxiv_id"] for r in json.loads(out)} <= set(state["shown"])  # and its own write landed


def test_two_adds_at_once_both_land(server: FakeArxiv, reader: Path) -> None:
    rows = rows_of(feed("-n", "2", "--json"))
    both = [started("feed", "--add", "1"), started("feed", "--add", "2", "--section", "Later")]
    for process in both:
        _, err = process.communicate(timeout=300)
        assert process.returncode == 0, err
    listed = json.loads(run_cli("list", "--json").stdout)
    assert {p["arxiv"] for p in listed} >= {rows[0]["arxiv_id"], rows[1]["arxiv_id"]}


# -- 5. a window of 10,000 entries --------------------------------------------------------------------


def crowded_window(count: int, hours: float = 40) -> list[FakePaper]:
    """``count`` submissions in cs.LG over the last ``hours``, each a real entry's text under a new id."""
    real = real_entries()
    step = hours * 3600 / count
    return [
        dataclasses.replace(
            real[n % len(real)],
            arxiv_id=f"2605.{n:05d}",
            title=f"{real[n % len(real)].title} ({n})",
            categories=["cs.LG"],
            published=stamp((n + 1) * step / 3600),
        )
        for n in range(count)
    ]


def test_a_window_of_10000_entries_is_paged_and_capped_at_2000(server: FakeArxiv, reader: Path) -> None:
    server.papers.clear()
    server.add(*crowded_window(10_000))
    started_at = time.monotonic()
    run_cli("--version")
    baseline = time.monotonic() - started_at
    started_at = time.monotonic()
    result = feed("--category", "cs.LG", "--days", "2", "-n", "5", "--json")
    took = time.monotonic() - started_at - baseline
    assert len(rows_of(result)) == 5
    calls = server.api_calls()
    assert [c["start"] for c in calls] == [[str(n)] for n in range(0, 2000, 100)]  # 20 pages of 100, no more
    assert all(c["max_results"] == ["100"] for c in calls)
    assert "2,000 submissions in cs.LG" in result.stderr and "(20 requests)" in result.stderr
    assert "reached the cap of 2,000 submissions: only the newest" in result.stderr, result.stderr
    assert took < 20, f"a 10,000-entry window took {took:.1f} s beyond start-up"
    cached = feed("--category", "cs.LG", "--days", "2", "-n", "5", "--json")
    assert "the cached window" in cached.stderr and "reached the cap of 2,000" in cached.stderr


def test_fetching_a_10000_entry_window_holds_a_page_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """Peak Python memory of the fetch, as tracemalloc counts it: 6.2 MB measured for the 2,000 records
    read; the 10,000 entries held (as `arxiv.Result`s) take 30 MB, their records alone 21 MB."""
    from readtrack.arxiv.http import HttpSettings, open_session
    from readtrack.arxiv.newest import MAX_ENTRIES, newest

    with serving(monkeypatch, auto=False) as server:
        server.add(*crowded_window(10_000))
        settings = HttpSettings.from_env()
        session = open_session(settings, jobs=1)
        tracemalloc.start()
        try:
            window = newest(session, settings.api_url, ["cs.LG"], datetime.now(timezone.utc) - timedelta(2))
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
            session.close()
    assert len(window.records) == MAX_ENTRIES == 2000 and window.capped and window.pages == 20
    assert [r.arxiv_id for r in window.records[:2]] == ["2605.00000", "2605.00001"]  # newest first
    assert peak < 12e6, f"peak {peak / 1e6:.1f} MB"


def test_an_empty_page_in_the_middle_is_asked_again_and_every_request_counted(
    monkeypatch: pytest.MonkeyPatch, catalog_file: Path
) -> None:
    """arXiv's flaky reply (issue 94): a page of a listing that comes back empty, its total still counting
    the rest. 250 submissions in the day, start=100 empty once: asked again, all 250 listed, 4 requests."""
    catalog_file.write_text(NOTHING_READ, encoding="utf-8")
    with serving(monkeypatch, auto=False) as server:
        server.add(*crowded_window(250, hours=20))
        server.fail("/api/query", "empty-page", times=1, start=100)
        result = feed("--category", "cs.LG", "--json", "-n", "300")
        rows = rows_of(result)
        assert len(rows) == 250 and "4 requests" in result.stderr, result.stderr
        assert [q.get("start") for q in server.api_calls()] == [["0"], ["100"], ["100"], ["200"]]


def test_a_page_that_stays_empty_fails_in_one_line_and_changes_nothing(
    monkeypatch: pytest.MonkeyPatch, catalog_file: Path, readtrack_home: Path
) -> None:
    """Before: `feed` exited 0 with the first 100 of 250, cached them as the whole window for an hour and
    moved its last run on, so the 150 others were never shown."""
    catalog_file.write_text(NOTHING_READ, encoding="utf-8")
    with serving(monkeypatch, auto=False) as server:
        server.add(*crowded_window(250, hours=20))
        server.fail("/api/query", "empty-page", times=None, start=100)
        one_line(
            feed("--category", "cs.LG", "--json", "-n", "300"),
            1,
            "arXiv sent an empty page at start=100 of a listing of 250 results, 3 times",
            "nothing changed",
        )
        assert not (readtrack_home / "feed.json").exists()
        assert not (readtrack_home / "feed-window.json").exists()
        server.faults.clear()
        assert len(rows_of(feed("--category", "cs.LG", "--json", "-n", "300"))) == 250


def test_an_entry_whose_date_is_not_one_is_left_out_and_counted(
    monkeypatch: pytest.MonkeyPatch, catalog_file: Path
) -> None:
    """``<updated>None</updated>`` in one entry: the arxiv package's ValueError took the whole feed down with
    a traceback (issue 94). Now that entry is left out, the page's others listed, and stderr counts it."""
    catalog_file.write_text(NOTHING_READ, encoding="utf-8")
    papers = crowded_window(30, hours=20)
    papers[4] = dataclasses.replace(papers[4], updated="None")
    papers[9] = dataclasses.replace(papers[9], published="yesterday")
    with serving(monkeypatch, auto=False) as server:
        server.add(*papers)
        result = feed("--category", "cs.LG", "--json", "-n", "50")
    listed = set(ids_of(result))
    assert listed == {p.arxiv_id for p in papers} - {papers[4].arxiv_id, papers[9].arxiv_id}
    assert "2 entries arXiv sent left out: a date that is not one" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_title_with_a_control_character_lists_and_adds_alike_and_an_untitled_entry_is_not_offered(
    monkeypatch: pytest.MonkeyPatch, catalog_file: Path
) -> None:
    """Issue 94: a title holding U+009B was listed, then `feed --add` refused the whole batch ("unacceptable
    character #x009b"), and an entry without a title was added as ``title: ""``. Now a title is normalised
    once, as listed so added, and an untitled entry is left out and counted."""
    catalog_file.write_text(NOTHING_READ, encoding="utf-8")
    papers = crowded_window(6, hours=10)
    papers[0] = dataclasses.replace(papers[0], title="Attention\x9b over\x7f bells")
    papers[1] = dataclasses.replace(papers[1], title="   ")
    with serving(monkeypatch, auto=False) as server:
        server.add(*papers)
        listed = feed("--category", "cs.LG", "--json")
        rows = rows_of(listed)
        assert papers[1].arxiv_id not in ids_of(listed) and len(rows) == 5
        assert "1 entry arXiv sent without a title left out" in listed.stderr
        (first,) = [r for r in rows if r["arxiv_id"] == papers[0].arxiv_id]
        assert first["title"] == "Attention over bells"
        number = rows.index(first) + 1
        added = feed("--add", str(number), "1" if number != 1 else "2")
    assert added.returncode == 0, added.stderr
    inbox = json.loads(run_cli("list", "--section", "Inbox", "--json").stdout)
    assert "Attention over bells" in [p["title"] for p in inbox] and all(p["title"] for p in inbox)


# -- 6. bad row numbers and a read-only list ----------------------------------------------------------


def test_a_missing_row_and_a_second_dismissal_change_nothing(
    server: FakeArxiv, reader: Path, readtrack_home: Path
) -> None:
    rows = rows_of(feed("-n", "3", "--json"))
    state_file = readtrack_home / "feed.json"
    before, listed = state_file.read_bytes(), reader.read_bytes()
    one_line(feed("--add", "4"), 2, "no row 4 in the last feed (3 rows", "nothing changed")
    one_line(feed("--dismiss", "2", "4"), 2, "no row 4", "nothing changed")
    assert state_file.read_bytes() == before and reader.read_bytes() == listed
    assert feed("--dismiss", "2").returncode == 0
    before = state_file.read_bytes()
    today = datetime.now().date().isoformat()
    one_line(
        feed("--dismiss", "2"), 2, f"{rows[1]['arxiv_id']} ({rows[1]['title']}) was dismissed on {today}"
    )
    one_line(feed("--dismiss", "3", "2"), 2, "nothing changed")  # all or none: 3 is not dismissed either
    assert state_file.read_bytes() == before and reader.read_bytes() == listed


def test_add_to_a_list_on_a_read_only_file_system_is_one_line(
    tmpfs: Path,  # noqa: F811 (the fixture imported above)
    server: FakeArxiv,
    reader: Path,
    readtrack_home: Path,
) -> None:
    listed = tmpfs / "papers.yaml"
    listed.write_bytes(reader.read_bytes())
    env = {"READTRACK_CATALOG": str(listed)}
    assert len(rows_of(feed("-n", "3", "--json", env=env))) == 3
    subprocess.run(["mount", "-o", "remount,ro", str(tmpfs)], check=True)
    before, state = listed.read_bytes(), (readtrack_home / "feed.json").read_bytes()
    one_line(feed("--add", "1", env=env), 2, "read-only")
    assert listed.read_bytes() == before and (readtrack_home / "feed.json").read_bytes() == state
