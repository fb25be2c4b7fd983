"""The key stays home: ``S2_API_KEY`` goes to the configured Semantic Scholar hosts only, never across a
redirect to another host. Two real HTTP servers on 127.0.0.1 (tests/fakes2.py), each on its own port: a host
is scheme, host and port. No function of ours is mocked."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fakes2 import FakeS2

from readtrack.related.cache import Cache
from readtrack.related.s2 import S2Error, S2Settings, SemanticScholar, origin

SECRET = "s2-key-for-home-only-0123"
BATCH = "/graph/v1/paper/batch"


@pytest.fixture
def home() -> Iterator[FakeS2]:
    with FakeS2.running() as fake:
        fake.add_paper("root", "A Paper", year=2020, arxiv="2001.00001")
        yield fake


@pytest.fixture
def elsewhere() -> Iterator[FakeS2]:
    with FakeS2.running() as fake:
        fake.add_paper("root", "A Paper", year=2020, arxiv="2001.00001")
        yield fake


def client(graph_url: str, recs_url: str, key: str | None = SECRET) -> SemanticScholar:
    return SemanticScholar(S2Settings(graph_url, recs_url, key, 0.0), Cache())


def test_a_redirect_to_another_host_is_refused_in_one_line_and_the_key_never_gets_there(
    home: FakeS2, elsewhere: FakeS2
) -> None:
    home.redirect(BATCH, elsewhere.url + "/paper/batch", status=307)
    with pytest.raises(S2Error) as err:
        client(home.url, home.recs_url).paper("ARXIV:2001.00001")
    message = str(err.value)
    assert message == (
        f"Semantic Scholar's paper batch: refused a redirect (HTTP 307) to {origin(elsewhere.url)}, not a "
        "Semantic Scholar host of this configuration: S2_API_KEY is sent to those only"
    )
    assert SECRET not in message
    assert home.requests_log[0].headers["x-api-key"] == SECRET
    assert not any("x-api-key" in r.headers for r in elsewhere.requests_log)
    assert elsewhere.count() == 0


@pytest.mark.parametrize("status", [301, 302, 303, 308])
def test_no_kind_of_redirect_carries_the_key_away(home: FakeS2, elsewhere: FakeS2, status: int) -> None:
    home.redirect(BATCH, elsewhere.url + "/paper/batch", status=status)
    with pytest.raises(S2Error, match=f"refused a redirect \\(HTTP {status}\\)"):
        client(home.url, home.recs_url).paper("ARXIV:2001.00001")
    assert elsewhere.count() == 0


def test_a_redirect_on_the_same_host_or_to_the_other_configured_api_keeps_the_key(
    home: FakeS2, elsewhere: FakeS2
) -> None:
    home.redirect(BATCH, "/graph/v1/paper/batch")  # relative: the same host
    assert client(home.url, home.recs_url).paper("ARXIV:2001.00001") is not None
    assert [r.headers.get("x-api-key") for r in home.requests_log] == [SECRET, SECRET]
    home.clear_log()
    home.redirect(BATCH, elsewhere.url + "/paper/batch")  # the recommendations' host is a configured one
    s2 = client(home.url, elsewhere.recs_url)
    assert s2.paper("ARXIV:2001.00002") is None
    assert [r.headers.get("x-api-key") for r in elsewhere.requests_log] == [SECRET]


def test_without_a_key_a_redirect_to_another_host_is_followed(home: FakeS2, elsewhere: FakeS2) -> None:
    home.redirect(BATCH, elsewhere.url + "/paper/batch")
    found = client(home.url, home.recs_url, key=None).paper("ARXIV:2001.00001")
    assert found is not None and found.title == "A Paper"
    assert elsewhere.count() == 1 and "x-api-key" not in elsewhere.requests_log[0].headers


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("https://api.semanticscholar.org/graph/v1", "https://api.semanticscholar.org:443"),
        ("HTTPS://API.SemanticScholar.org:443/recommendations/v1", "https://api.semanticscholar.org:443"),
        ("http://api.semanticscholar.org/graph/v1", "http://api.semanticscholar.org:80"),
        ("http://127.0.0.1:8080/graph/v1", "http://127.0.0.1:8080"),
    ],
)
def test_a_host_is_scheme_host_and_port(url: str, said: str) -> None:
    assert origin(url) == said


def test_the_key_goes_to_the_configured_hosts_only() -> None:
    settings = S2Settings("http://127.0.0.1:1/graph/v1", "https://api.semanticscholar.org/recommendations/v1")
    assert settings.origins == {"http://127.0.0.1:1", "https://api.semanticscholar.org:443"}
