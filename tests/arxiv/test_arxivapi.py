"""`readtrack.arxiv.api` against the fake arXiv on 127.0.0.1, and a tripwire on the arxiv internals it uses.

readtrack subclasses ``arxiv.Client`` and replaces its private ``_parse_feed``. When a new arxiv release
renames it, changes its signature or stops fetching pages through it, these tests fail with a message that
says so, instead of sync silently going around readtrack's rate limit, timeouts and User-Agent.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator

import pytest
from fakearxiv import FakeArxiv, FakePaper

from readtrack import __version__
from readtrack.arxiv.api import ArxivApi, ArxivApiError, inspect_feed
from readtrack.arxiv.http import HttpSettings, PoliteSession


@pytest.fixture
def server() -> Iterator[FakeArxiv]:
    with FakeArxiv.running() as fake:
        yield fake


def api_for(server: FakeArxiv) -> ArxivApi:
    settings = HttpSettings(
        api_url=server.api_url, arxiv_delay=0.0, connect_timeout=1.0, read_timeout=1.0, attempts=1
    )
    return ArxivApi(PoliteSession(settings), server.api_url)


def test_the_private_method_readtrack_overrides_is_still_there_with_its_signature() -> None:
    import arxiv
    from arxiv import _feed

    method = getattr(arxiv.Client, "_parse_feed", None)
    assert method is not None, "arxiv.Client._parse_feed is gone: update readtrack.arxiv.api.polite_client"
    parameters = [(p.name, p.default) for p in inspect.signature(method).parameters.values()]
    assert parameters == [
        ("self", inspect.Parameter.empty),
        ("url", inspect.Parameter.empty),
        ("first_page", True),
        ("_try_index", 0),
    ], f"arxiv.Client._parse_feed changed its signature: {parameters}"
    assert callable(getattr(_feed, "parse", None)), "arxiv._feed.parse is gone"
    assert "_parse_feed" in inspect.getsource(arxiv.Client._results), "pages are no longer fetched there"


def test_every_page_goes_through_the_polite_session_and_parses(server: FakeArxiv) -> None:
    server.add(FakePaper("2205.14135", title="FlashAttention: Fast and Memory-Efficient Exact Attention"))
    api = api_for(server)
    records = api.by_ids(["2205.14135", "1706.03762"])
    assert [r.arxiv_id for r in records] == ["2205.14135", "1706.03762"]
    assert records[0].title == "FlashAttention: Fast and Memory-Efficient Exact Attention"
    # One request, sent by readtrack's session (its User-Agent, its counter), not by arxiv's own.
    assert api.session.log.requests == 1
    assert [entry["path"] for entry in server.log] == ["/api/query"]
    agent = server.log[0]["headers"]["User-Agent"]
    assert agent.startswith(f"readtrack/{__version__}"), agent
    assert server.api_calls()[0]["max_results"] == ["2"]


def test_a_title_search_asks_for_the_phrase_and_at_most_the_limit(server: FakeArxiv) -> None:
    server.add(FakePaper("1512.03385", title="Deep Residual Learning for Image Recognition"))
    records = api_for(server).search_title("Deep residual learning, for image recognition!", 3)
    assert [r.arxiv_id for r in records] == ["1512.03385"]
    query = server.api_calls()[0]
    assert query["search_query"] == ['ti:"Deep residual learning for image recognition"']
    assert query["max_results"] == ["3"]


def test_the_error_feed_and_malformed_xml_raise_with_what_arxiv_said(server: FakeArxiv) -> None:
    server.fail("/api/query", "error-feed")
    with pytest.raises(ArxivApiError, match="refused the request: incorrect id format for abc"):
        api_for(server).by_ids(["2205.14135"])
    server.fail("/api/query", "malformed")
    with pytest.raises(ArxivApiError, match="malformed reply from the arXiv API"):
        api_for(server).by_ids(["2205.14135"])


def test_inspect_feed_tells_a_feed_from_html() -> None:
    assert inspect_feed(b"<html><body>busy</body></html>") == ("not an Atom feed", None)
    problem, error = inspect_feed(b"<feed")
    assert problem is not None and problem.startswith("line 1") and error is None
