"""Paging through references and citations as Semantic Scholar really answers: real recorded replies
(tests/data/s2) served by the fake on 127.0.0.1 (tests/fakes2.py), unresolved items included. The API counts
``offset`` and ``next`` over every item, resolved or not: the client pages by the reply's own position,
asks no page twice, and says how many items were unresolved. No function of ours is mocked."""

from __future__ import annotations

import json
import threading
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest
from fakes2 import FakeS2, recorded

from readtrack.related.cache import Cache
from readtrack.related.s2 import Fetched, MalformedReply, S2Settings, SemanticScholar

DOI = "10.2139/ssrn.2250500"
PAGES = ("rec__test_get_paper_references__00.json", "rec__test_get_paper_references__01.json")
T = TypeVar("T")


def recorded_items() -> list[Any]:
    """The 67 references of the recorded paper, as the API listed them over its two pages."""
    items: list[Any] = []
    for name in PAGES:
        items += recorded(name)["body"]["data"]
    return items


ITEMS = recorded_items()
RESOLVED = [item["citedPaper"] for item in ITEMS if item["citedPaper"]["paperId"]]


@pytest.fixture
def server() -> Iterator[FakeS2]:
    """The recorded paper and its recorded references, in pages of 50 as they were recorded."""
    with FakeS2.running() as fake:
        fake.add_paper("ssrn", "The recorded paper", doi=DOI)
        fake.record("ssrn", "references", ITEMS)
        fake.page_max = 50
        yield fake


def client(server: FakeS2) -> SemanticScholar:
    return SemanticScholar(S2Settings(server.url, server.recs_url, None, 0.0), Cache())


def bounded(s2: SemanticScholar, ask: Callable[[], T], seconds: float = 10.0) -> T:
    """``ask()``, its session cancelled after ``seconds``: a paging loop that never ends fails the test
    (`readtrack.arxiv.http.Cancelled`) instead of hanging it."""
    watchdog = threading.Timer(seconds, s2.session.cancel.set)
    watchdog.start()
    try:
        return ask()
    finally:
        watchdog.cancel()


def pages_asked(server: FakeS2) -> list[tuple[str, str]]:
    return [
        (r.query["offset"], r.query["limit"]) for r in server.requests_log if r.path.endswith("/references")
    ]


def test_the_fake_replays_the_recorded_pages_as_the_api_sent_them(server: FakeS2) -> None:
    s2_id = server.get("ssrn").paper_id
    assert len(ITEMS) == 67 and len(RESOLVED) == 44
    for name in PAGES:
        uri = recorded(name)["uri"]
        query = uri.split("?", 1)[1]
        with urllib.request.urlopen(f"{server.url}/paper/{s2_id}/references?{query}") as reply:
            assert json.loads(reply.read()) == recorded(name)["body"]


def test_paging_follows_next_over_unresolved_items_and_asks_each_page_once(server: FakeS2) -> None:
    s2 = client(server)
    s2_id = server.get("ssrn").paper_id
    pages: list[int] = []
    whole = bounded(s2, lambda: s2.references(s2_id, None, on_page=pages.append))
    assert pages_asked(server) == [("0", "1000"), ("50", "1000")]  # where each reply's `next` said
    assert [p.s2_id for p in whole.papers] == [p["paperId"] for p in RESOLVED]  # each once, in order
    assert [p.title for p in whole.papers].count("The Economics of Microfinance, Second Edition") == 1
    assert whole.complete and whole.items == 67 and whole.unresolved == 23 and pages == [50, 67]
    stored = Cache().get(f"references:{s2_id}")
    assert stored is not None and stored[0]["position"] == 67 and stored[0]["complete"]


def test_a_cap_counts_items_and_a_later_fetch_goes_on_from_the_raw_position(server: FakeS2) -> None:
    s2 = client(server)
    s2_id = server.get("ssrn").paper_id
    assert ITEMS[36]["citedPaper"]["paperId"] is None  # the 37th reference is unresolved
    capped = bounded(s2, lambda: s2.references(s2_id, 37))
    assert pages_asked(server) == [("0", "37")]
    assert (len(capped.papers), capped.items, capped.unresolved, capped.complete) == (36, 37, 1, False)
    stored = Cache().get(f"references:{s2_id}")
    assert stored is not None and stored[0]["position"] == 37  # the API's position, not the 36 papers kept
    server.clear_log()
    later = client(server)
    whole = bounded(later, lambda: later.references(s2_id, None))
    assert pages_asked(server) == [("37", "1000")]
    assert [p.s2_id for p in whole.papers] == [p["paperId"] for p in RESOLVED]
    assert (whole.items, whole.unresolved, whole.complete) == (67, 23, True)
    server.clear_log()
    again = client(server)
    assert again.references(s2_id, 37) == Fetched(capped.papers, False, 37)  # cut from the cache: no request
    assert server.count() == 0


@pytest.mark.parametrize("cap", [5, 41, 49, 50, 51, 60, None])
def test_any_cap_asks_each_page_once_and_keeps_each_paper_once(server: FakeS2, cap: int | None) -> None:
    s2 = client(server)
    s2_id = server.get("ssrn").paper_id
    found = bounded(s2, lambda: s2.references(s2_id, cap))
    offsets = [offset for offset, _ in pages_asked(server)]
    assert len(offsets) == len(set(offsets)) <= 2
    end = 67 if cap is None else min(cap, 67)
    assert [p.s2_id for p in found.papers] == [
        i["citedPaper"]["paperId"] for i in ITEMS[:end] if i["citedPaper"]["paperId"]
    ]
    assert found.items == end and found.unresolved == end - len(found.papers)


def test_a_reply_whose_next_does_not_move_on_is_refused_after_one_request(server: FakeS2) -> None:
    s2_id = server.get("ssrn").paper_id
    server.fail(f"/graph/v1/paper/{s2_id}/references", "stuck", times=None)
    s2 = client(server)
    with pytest.raises(MalformedReply) as err:
        bounded(s2, lambda: s2.references(s2_id, None))
    assert str(err.value) == (
        f"Semantic Scholar's references of {s2_id} sent the page at offset 0 with next 0: "
        "no further page to ask for"
    )
    assert server.count() == 1


def test_a_listing_cached_before_paging_by_position_is_fetched_again(server: FakeS2) -> None:
    s2_id = server.get("ssrn").paper_id
    twice = [RESOLVED[0], *RESOLVED[:3]]  # what paging by papers kept could store: a paper twice
    with Cache() as cache:
        cache.put(f"references:{s2_id}", {"papers": twice, "complete": True})
    s2 = client(server)
    found = bounded(s2, lambda: s2.references(s2_id, None))
    assert len(found.papers) == 44 == len({p.s2_id for p in found.papers}) and server.count() == 2
