"""The fake Semantic Scholar (tests/fakes2.py): its shapes, paging, title match, recommendations, faults."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from fakes2 import FakeS2, paper_id_of

from readtrack.related.s2 import FIELDS

SEED_CATALOG = Path(__file__).resolve().parents[2] / "papers.yaml"


@pytest.fixture(scope="module")
def sample() -> Iterator[FakeS2]:
    """The sample graph of the repository's papers.yaml, served for the whole module."""
    with FakeS2.sample(SEED_CATALOG) as server:
        yield server


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        session.trust_env = False  # no proxy from the environment between the test and 127.0.0.1
        yield session


def page_all(http: requests.Session, url: str, limit: int) -> tuple[list[dict[str, Any]], list[int | None]]:
    """Every item of a references or citations listing, and the ``next`` of each page."""
    items: list[dict[str, Any]] = []
    nexts: list[int | None] = []
    offset: int | None = 0
    while offset is not None:
        reply = http.get(
            url, params={"offset": str(offset), "limit": str(limit), "fields": "title,publicationDate"}
        )
        assert reply.status_code == 200, reply.text
        page = reply.json()
        assert page["offset"] == offset
        items += page["data"]
        offset = page.get("next")
        nexts.append(offset)
    return items, nexts


def test_batch_keeps_order_with_null_for_unknown_ids(http: requests.Session) -> None:
    with FakeS2.running() as server:
        attention = server.add_paper("t", "Attention Is All You Need", arxiv="1706.03762", year=2017)
        lstm = server.add_paper("l", "Long Short-Term Memory", doi="10.1162/NECO.1997.9.8.1735", year=1997)
        corpus = server.get("l").corpus_id
        ids = [
            "arXiv:1706.03762v5",
            "f" * 40,
            "DOI:10.1162/neco.1997.9.8.1735",
            f"CorpusId:{corpus}",
            attention,
        ]
        reply = http.post(f"{server.url}/paper/batch", params={"fields": "year"}, json={"ids": ids})
        assert reply.status_code == 200
        assert reply.json() == [
            {"paperId": attention, "year": 2017},
            None,
            {"paperId": lstm, "year": 1997},
            {"paperId": lstm, "year": 1997},
            {"paperId": attention, "year": 2017},
        ]
        assert server.requests_log[-1].body == {"ids": ids}
        assert server.requests_log[-1].headers["content-type"] == "application/json"
        too_many = http.post(f"{server.url}/paper/batch", json={"ids": ["f" * 40] * 501})
        assert too_many.status_code == 400 and "error" in too_many.json()
        for bad in ({"ids": "1706.03762"}, {"ids": [1]}, ["f" * 40]):
            assert http.post(f"{server.url}/paper/batch", json=bad).status_code == 400
        assert server.count("/graph/v1/paper/batch") == 5


def test_references_page_in_the_order_added(http: requests.Session) -> None:
    with FakeS2.running() as server:
        server.add_paper("hub", "A survey of everything")
        refs = [server.add_paper(f"ref{n}", f"Reference number {n}") for n in range(250)]
        for n in range(250):
            server.cite("hub", f"ref{n}")
        items, nexts = page_all(http, f"{server.url}/paper/{paper_id_of('hub')}/references", 100)
        assert nexts == [100, 200, None]
        assert [item["citedPaper"]["paperId"] for item in items] == refs
        assert set(items[0]) == {"citedPaper"}
        assert set(items[0]["citedPaper"]) == {"paperId", "title", "publicationDate"}

        url = f"{server.url}/paper/{refs[0]}/citations"
        one = http.get(url, params={"fields": "isInfluential,year"}).json()
        assert one == {
            "offset": 0,
            "data": [{"isInfluential": False, "citingPaper": {"paperId": paper_id_of("hub"), "year": None}}],
        }
        assert http.get(url, params={"limit": 1001}).status_code == 400
        missing = http.get(f"{server.url}/paper/ARXIV:9999.99999/references")
        assert missing.status_code == 404
        assert missing.json() == {"error": "Paper with id ARXIV:9999.99999 not found"}


def test_transformer_citations_in_the_sample_graph_need_paging(
    sample: FakeS2, http: requests.Session
) -> None:
    start = time.perf_counter()
    FakeS2.sample(SEED_CATALOG)
    assert time.perf_counter() - start < 2  # about 0.07 s alone: a loose bound for a busy machine

    items, nexts = page_all(http, f"{sample.url}/paper/ARXIV:1706.03762/citations", 1000)
    assert len(items) > 2500
    assert nexts == [1000, 2000, None]
    ids = [item["citingPaper"]["paperId"] for item in items]
    assert len(set(ids)) == len(ids)
    dates = [item["citingPaper"]["publicationDate"] or "" for item in items]
    assert dates == sorted(dates, reverse=True)
    paper = http.get(f"{sample.url}/paper/arXiv:1706.03762v7", params={"fields": "citationCount"}).json()
    assert paper["citationCount"] == len(items)
    # a few classics are cited by many list papers: candidates for co-citation
    classics = [sample.get(f"classic:{n:02d}") for n in range(40)]
    assert max(len(c.citing) for c in classics) >= 10


def test_match_by_title(sample: FakeS2, http: requests.Session) -> None:
    match = f"{sample.url}/paper/search/match"
    exact = http.get(match, params={"query": "attention is all you need!", "fields": "externalIds,year"})
    assert exact.status_code == 200
    [found] = exact.json()["data"]
    assert found["externalIds"]["ArXiv"] == "1706.03762" and found["year"] == 2017
    assert found["matchScore"] == 100.0
    # a list paper without an arXiv id is found by its title only
    lstm = http.get(match, params={"query": "Long Short-Term Memory", "fields": "externalIds"}).json()
    assert set(lstm["data"][0]["externalIds"]) == {"CorpusId"}
    near = http.get(match, params={"query": "Long short term memory networks"}).json()["data"][0]
    assert near["title"] == "Long Short-Term Memory" and 60 <= near["matchScore"] < 100
    none = http.get(match, params={"query": "Quantum gravity for cats"})
    assert none.status_code == 404 and none.json() == {"error": "Title match not found"}


def test_recommendations_are_deterministic_and_exclude_the_given_papers(
    sample: FakeS2, http: requests.Session
) -> None:
    positives = ["ARXIV:2205.14135", "ARXIV:2004.05150"]
    negatives = ["ARXIV:1512.03385"]
    body = {"positivePaperIds": positives, "negativePaperIds": negatives}
    replies = [
        http.post(
            f"{sample.recs_url}/papers{slash}",
            params={"fields": "title,citationCount", "limit": "20"},
            json=body,
        )
        for slash in ("/", "", "/")
    ]
    assert all(reply.status_code == 200 for reply in replies)
    papers = replies[0].json()["recommendedPapers"]
    assert 0 < len(papers) <= 20 and replies[1].json() == replies[2].json() == replies[0].json()
    assert set(papers[0]) == {"paperId", "title", "citationCount"}
    given = {sample.get(ident).paper_id for ident in positives + negatives}
    assert not given & {paper["paperId"] for paper in papers}
    assert [paper["paperId"] for paper in papers] == sample.recommend(positives, negatives, 20)

    assert http.post(f"{sample.recs_url}/papers/", json={"positivePaperIds": []}).status_code == 400
    over = http.post(f"{sample.recs_url}/papers/", params={"limit": 501}, json=body)
    assert over.status_code == 400 and "error" in over.json()


def test_429_with_retry_after_then_the_answer(http: requests.Session) -> None:
    with FakeS2.running() as server:
        server.add_paper("t", "Attention Is All You Need", arxiv="1706.03762")
        server.fail("/graph/v1/paper/batch", "429", times=2, retry_after=3)
        url = f"{server.url}/paper/batch"
        for _ in range(2):
            reply = http.post(url, json={"ids": ["ARXIV:1706.03762"]})
            assert reply.status_code == 429 and reply.headers["Retry-After"] == "3"
            assert reply.json()["code"] == "429" and reply.json()["message"].startswith("Too Many Requests.")
        assert (
            http.post(url, json={"ids": ["ARXIV:1706.03762"]}).json()[0]["title"]
            == "Attention Is All You Need"
        )
        assert server.count("/graph/v1/paper/batch") == 3 and server.count() == 3


def test_other_faults(http: requests.Session) -> None:
    with FakeS2.running() as server:
        pid = server.add_paper("t", "Attention Is All You Need")
        paper, refs = f"{server.url}/paper/{pid}", f"{server.url}/paper/{pid}/references"
        server.fail("/graph/v1/paper", "503")
        assert http.get(paper).status_code == 503
        server.fail("/graph/v1/paper", "malformed")
        with pytest.raises(ValueError):
            http.get(paper).json()
        server.fail("/graph/v1/paper", "wrong-shape", times=2)
        assert http.get(paper).json() == {"unexpected": True}
        assert http.get(refs).json() == {"data": "oops"}
        server.fail("/graph/v1/paper", "reset")
        with pytest.raises(requests.ConnectionError):
            http.get(paper)
        server.fail("/graph/v1/paper", "slow", slow_s=1)
        with pytest.raises(requests.Timeout):
            http.get(paper, timeout=0.2)
        assert http.get(paper).json() == {"paperId": pid, "title": "Attention Is All You Need"}
        assert http.get(f"{server.base_url}/graph/v1/nowhere").json() == {"error": "Not found"}
        assert server._server is not None and server._server.server_address[0] == "127.0.0.1"


def test_fields_filtering(http: requests.Session) -> None:
    with FakeS2.running() as server:
        pid = server.add_paper(
            "t",
            "Attention Is All You Need",
            arxiv="1706.03762v5",
            venue="NeurIPS",
            authors=["A. Vaswani"],
            date="2017-06-12",
        )
        url = f"{server.url}/paper/ARXIV:1706.03762"
        assert http.get(url).json() == {"paperId": pid, "title": "Attention Is All You Need"}
        reply = http.get(url, params={"fields": "authors, year,publicationDate"}).json()
        assert list(reply) == ["paperId", "year", "publicationDate", "authors"]
        assert reply["year"] == 2017 and reply["authors"][0]["name"] == "A. Vaswani"
        assert isinstance(reply["authors"][0]["authorId"], str)
        every = http.get(
            url,
            params={"fields": FIELDS},  # every field readtrack's client asks for
        ).json()
        assert every["externalIds"] == {"ArXiv": "1706.03762", "CorpusId": server.get("t").corpus_id}
        assert every["citationCount"] == 0 and every["venue"] == "NeurIPS"
        bad = http.get(url, params={"fields": "title,abstractt"})
        assert bad.status_code == 400 and bad.json() == {
            "error": "Unrecognized or unsupported fields: [abstractt]"
        }
        assert http.get(url, params={"fields": "isInfluential"}).status_code == 400
        assert server.requests_log[-1].query == {"fields": "isInfluential"}


def test_doi_with_slashes_in_the_path(http: requests.Session) -> None:
    with FakeS2.running() as server:
        pid = server.add_paper("x", "Some paper", doi="10.1000/ABC/def")
        server.add_paper("y", "Its reference")
        server.cite("x", "y")
        for ident in ("DOI:10.1000/abc/def", "DOI:10.1000%2FABC%2Fdef", "doi:10.1000/ABC%2Fdef"):
            assert http.get(f"{server.url}/paper/{ident}").json()["paperId"] == pid
            refs = http.get(f"{server.url}/paper/{ident}/references").json()
            assert [item["citedPaper"]["title"] for item in refs["data"]] == ["Its reference"]
        assert server.requests_log[-1].path == "/graph/v1/paper/doi:10.1000/ABC/def/references"
