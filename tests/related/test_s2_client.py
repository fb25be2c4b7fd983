"""The Semantic Scholar client against a real HTTP server on 127.0.0.1 (tests/fakes2.py): shapes, paging,
caps, the cache and its dates, politeness, faults. No function of ours is mocked."""

from __future__ import annotations

import itertools
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fakes2 import FakeS2

from readtrack.arxiv.http import Cancelled
from readtrack.base.errors import UsageError
from readtrack.related.cache import Cache
from readtrack.related.s2 import MalformedReply, S2Error, S2Settings, SemanticScholar, s2_ident

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def server() -> Iterator[FakeS2]:
    with FakeS2.running() as fake:
        fake.add_paper("root", "A Paper With Many Neighbours", year=2020, arxiv="2001.00001")
        for number in range(250):
            fake.add_paper(f"ref{number}", f"Cited Work {number}", year=2000 + number % 20)
            fake.cite("root", f"ref{number}")
        fake.add_paper("doi-only", "A Journal Paper", year=1998, doi="10.1000/Journal.42")
        yield fake


def client(
    server: FakeS2, *, refresh: bool = False, key: str | None = None, delay: float = 0.0
) -> SemanticScholar:
    settings = S2Settings(server.url, server.recs_url, key, delay)
    return SemanticScholar(settings, Cache(), refresh=refresh)


def test_a_batch_answers_null_for_an_unknown_id_and_asks_once_for_many(server: FakeS2) -> None:
    s2 = client(server)
    found = s2.papers(["ARXIV:2001.00001", "ARXIV:9912.99999", "DOI:10.1000/journal.42"])
    assert found["ARXIV:9912.99999"] is None
    root = found["ARXIV:2001.00001"]
    assert root is not None and root.title == "A Paper With Many Neighbours" and root.year == 2020
    assert root.arxiv == "2001.00001" and root.citations == 0
    doi = found["DOI:10.1000/journal.42"]
    assert doi is not None and doi.doi == "10.1000/Journal.42" and doi.arxiv is None
    assert server.count("/graph/v1/paper/batch") == 1
    (request,) = server.requests_log
    assert request.method == "POST" and request.body == {"ids": list(found)}
    assert set(request.query["fields"].split(",")) >= {
        "title",
        "year",
        "venue",
        "citationCount",
        "externalIds",
    }
    assert request.headers["user-agent"].startswith("readtrack/")
    assert "x-api-key" not in request.headers


def test_the_key_goes_in_x_api_key_and_into_no_message(server: FakeS2) -> None:
    secret = "s2-secret-key-0123456789"
    s2 = client(server, key=secret)
    s2.papers(["ARXIV:2001.00001"])
    assert server.requests_log[-1].headers["x-api-key"] == secret
    server.fail("/graph/v1/paper/batch", "malformed")
    with pytest.raises(MalformedReply) as err:
        s2.papers(["ARXIV:2001.00002"])
    assert secret not in str(err.value)
    assert secret not in repr(S2Settings(key=secret)) and secret not in S2Settings(key=secret).key_said


def test_references_are_paged_to_the_cap_and_the_rest_fetched_later_from_where_the_cache_ends(
    server: FakeS2,
) -> None:
    s2 = client(server)
    root = server.get("root").paper_id
    first = s2.references(root, 120)
    assert [p.title for p in first.papers] == [f"Cited Work {n}" for n in range(120)]
    assert not first.complete
    assert [r.query["limit"] for r in server.requests_log] == ["120"]
    server.clear_log()
    whole = client(server).references(root, None)  # a later command: the cached 120, then the rest
    assert len(whole.papers) == 250 and whole.complete
    assert [(r.query["offset"], r.query["limit"]) for r in server.requests_log] == [("120", "1000")]
    server.clear_log()
    again = client(server).references(root, None)
    assert again.papers == whole.papers and again.complete and server.count() == 0


def test_a_huge_citation_list_is_capped_and_paged_a_thousand_at_a_time() -> None:
    with FakeS2.sample(REPO / "papers.yaml") as server:
        s2 = client(server)
        (attention,) = s2.papers(["ARXIV:1706.03762"]).values()
        assert attention is not None and attention.citations is not None and attention.citations > 2500
        capped = s2.citations(attention.s2_id, 1000)
        assert len(capped.papers) == 1000 and not capped.complete
        assert server.count("/graph/v1/paper/" + attention.s2_id + "/citations") == 1
        pages: list[int] = []
        every = s2.citations(attention.s2_id, None, on_page=pages.append)
        assert every.complete and len(every.papers) == attention.citations
        assert pages == [2000, attention.citations]  # two more pages of at most 1000 after the cached one
        assert len({p.s2_id for p in every.papers}) == len(every.papers)


def test_refresh_asks_again_but_never_twice_in_one_command(server: FakeS2) -> None:
    client(server).papers(["ARXIV:2001.00001"])
    server.clear_log()
    cached = client(server)
    cached.papers(["ARXIV:2001.00001"])
    assert (
        server.count() == 0
        and cached.from_cache == 1
        and cached.oldest == time.strftime("%Y-%m-%d", time.gmtime())
    )
    fresh = client(server, refresh=True)
    fresh.papers(["ARXIV:2001.00001"])
    fresh.papers(["ARXIV:2001.00001"])
    assert server.count() == 1 and fresh.from_cache == 0


def test_title_match_and_no_match(server: FakeS2) -> None:
    s2 = client(server)
    found = s2.match("A paper with many neighbours")
    assert found is not None and found.arxiv == "2001.00001"
    assert s2.match("Nothing Anybody Ever Wrote About Teapots") is None
    assert server.count("/graph/v1/paper/search/match") == 2
    assert s2.match("Nothing Anybody Ever Wrote About Teapots") is None  # "not found" is cached too
    assert server.count("/graph/v1/paper/search/match") == 2


def test_recommendations_send_positives_and_negatives(server: FakeS2) -> None:
    server.add_paper("sibling", "Another Paper Citing The Same", year=2021)
    for number in range(5):
        server.cite("sibling", f"ref{number}")
    s2 = client(server)
    root, doi = server.get("root").paper_id, server.get("doi-only").paper_id
    found = s2.recommend([root], [doi], 10)
    assert found and found[0].title == "Another Paper Citing The Same"
    body = server.requests_log[-1].body
    assert body == {"positivePaperIds": [root], "negativePaperIds": [doi]}
    assert s2.recommend([root], [doi], 10) == found and server.count("/recommendations") == 1


def test_requests_to_semantic_scholar_are_one_at_a_time_and_spaced(server: FakeS2) -> None:
    s2 = client(server, delay=0.3)
    for number in range(3):
        s2.papers([f"ARXIV:2001.0000{number + 2}"])
    times = [r.time for r in server.requests_log]
    assert len(times) == 3 and min(b - a for a, b in itertools.pairwise(times)) >= 0.28
    assert server.max_in_flight == 1


def test_a_429_with_retry_after_is_waited_out_and_said(server: FakeS2) -> None:
    s2 = client(server)
    waits: list[tuple[str, float]] = []
    s2.session.on_wait = lambda url, reason, seconds, attempt, attempts: waits.append((reason, seconds))
    server.fail("/graph/v1/paper/batch", "429", times=1, retry_after=1)
    started = time.monotonic()
    assert s2.paper("ARXIV:2001.00001") is not None
    assert time.monotonic() - started >= 0.95
    assert waits == [("HTTP 429", 1.0)]


def test_a_429_storm_ends_in_bounded_time_with_one_line_that_says_so(
    server: FakeS2, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("READTRACK_RETRIES", "3")
    server.fail("/graph/v1/paper/batch", "429", times=100, retry_after=0)
    started = time.monotonic()
    with pytest.raises(S2Error) as err:
        client(server).paper("ARXIV:2001.00001")
    assert time.monotonic() - started < 5
    message = str(err.value)
    assert "too many requests" in message and "3 attempts" in message and "S2_API_KEY" in message
    assert "\n" not in message and server.count() == 3


def test_a_wait_longer_than_a_minute_is_refused_at_once(server: FakeS2) -> None:
    server.fail("/graph/v1/paper/batch", "429", times=1, retry_after=3600)
    started = time.monotonic()
    with pytest.raises(S2Error, match="asks to wait 3600 s"):
        client(server).paper("ARXIV:2001.00001")
    assert time.monotonic() - started < 2


def test_a_5xx_is_retried(server: FakeS2, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("READTRACK_BACKOFF", "0.01")
    server.fail("/graph/v1/paper/batch", "503", times=2)
    assert client(server).paper("ARXIV:2001.00001") is not None
    assert server.count() == 3


@pytest.mark.parametrize(
    ("kind", "endpoint"),
    [("malformed", "paper batch"), ("wrong-shape", "paper batch")],
)
def test_a_malformed_batch_reply_names_its_endpoint(server: FakeS2, kind: str, endpoint: str) -> None:
    server.fail("/graph/v1/paper/batch", kind)
    with pytest.raises(MalformedReply, match=f"Semantic Scholar's {endpoint} sent"):
        client(server).paper("ARXIV:2001.00001")


def test_a_malformed_listing_names_its_endpoint_and_caches_nothing(server: FakeS2) -> None:
    root = server.get("root").paper_id
    server.fail(f"/graph/v1/paper/{root}/references", "wrong-shape")
    with pytest.raises(MalformedReply, match=f"references of {root} sent"):
        client(server).references(root, 10)
    assert len(client(server).references(root, 10).papers) == 10  # fetched again: nothing was stored


def test_a_network_that_is_down_is_one_line_within_three_seconds() -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = S2Settings(f"http://127.0.0.1:{port}/graph/v1", f"http://127.0.0.1:{port}/recommendations/v1")
    started = time.monotonic()
    with pytest.raises(S2Error) as err:
        SemanticScholar(settings, Cache()).paper("ARXIV:1706.03762")
    assert time.monotonic() - started < 3
    assert "cannot reach 127.0.0.1" in str(err.value) and "\n" not in str(err.value)


def test_a_cancelled_session_stops_before_the_next_request(server: FakeS2) -> None:
    s2 = client(server)
    s2.session.cancel.set()
    with pytest.raises(Cancelled):
        s2.paper("ARXIV:2001.00001")
    assert server.count() == 0


@pytest.mark.parametrize(
    ("typed", "ident"),
    [
        ("1706.03762", "ARXIV:1706.03762"),
        ("1706.03762v5", "ARXIV:1706.03762"),
        ("https://arxiv.org/abs/1706.03762", "ARXIV:1706.03762"),
        ("arXiv:1706.03762", "ARXIV:1706.03762"),
        ("10.1109/CVPR.2016.90", "DOI:10.1109/CVPR.2016.90"),
        ("doi:10.1109/CVPR.2016.90", "DOI:10.1109/CVPR.2016.90"),
        ("CorpusId:13756489", "CorpusId:13756489"),
        ("S2:" + "ab" * 20, "ab" * 20),
        ("AB" * 20, "ab" * 20),
    ],
)
def test_what_a_reader_types_becomes_the_id_semantic_scholar_takes(typed: str, ident: str) -> None:
    assert s2_ident(typed) == ident


def test_text_that_is_no_id_is_refused() -> None:
    with pytest.raises(UsageError, match="neither a paper of your list nor an id"):
        s2_ident("attention is all you need")


def test_settings_come_from_the_environment() -> None:
    env = {"READTRACK_S2_URL": "http://h:1/graph/v1/", "S2_API_KEY": " k ", "READTRACK_S2_DELAY": "2.5"}
    settings = S2Settings.from_env(env)
    assert settings.graph_url == "http://h:1/graph/v1" and settings.key == "k" and settings.delay == 2.5
    assert settings.session_settings().paced == (("api.semanticscholar.org", 2.5), ("h:1", 2.5))
    with pytest.raises(UsageError, match="READTRACK_S2_DELAY"):
        S2Settings.from_env({"READTRACK_S2_DELAY": "soon"})
