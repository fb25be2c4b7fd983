"""The polite session against a real HTTP server on 127.0.0.1: User-Agent, retries, 403, rate limits."""

from __future__ import annotations

import itertools
import socket
import threading
import time
from collections.abc import Iterator

import pytest
from fakearxiv import FakeArxiv

from readtrack import __version__
from readtrack.arxiv.http import (
    ArxivStopped,
    Cancelled,
    HttpSettings,
    PoliteSession,
    RequestFailed,
    Unreachable,
)
from readtrack.base.errors import UsageError


@pytest.fixture
def server() -> Iterator[FakeArxiv]:
    with FakeArxiv.running() as fake:
        yield fake


@pytest.fixture
def other() -> Iterator[FakeArxiv]:
    """A second host: not arXiv, so not bound by arXiv's limiter."""
    with FakeArxiv.running() as fake:
        yield fake


def session_for(server: FakeArxiv, **settings: object) -> PoliteSession:
    values: dict[str, object] = {
        "api_url": server.api_url,
        "arxiv_delay": 0.0,
        "connect_timeout": 1.0,
        "read_timeout": 1.0,
        "attempts": 3,
        "backoff": 0.05,
    }
    values.update(settings)
    return PoliteSession(HttpSettings(**values), jobs=4)  # type: ignore[arg-type]


def test_user_agent_names_readtrack_its_version_and_the_contact(server: FakeArxiv) -> None:
    session = session_for(server, contact="reader@example.org")
    session.get(server.api_url, params={"id_list": "2205.14135"})
    agent = server.log[-1]["headers"]["User-Agent"]
    assert agent.startswith(f"readtrack/{__version__} (+https://github.com/readtrack/readtrack")
    assert "mailto:reader@example.org" in agent


def test_503_with_retry_after_waits_as_asked_then_succeeds(server: FakeArxiv) -> None:
    server.fail("/api/query", "503", retry_after="1")
    response = session_for(server).get(server.api_url, params={"id_list": "2205.14135"})
    assert response.status_code == 200
    times = [entry["time"] for entry in server.log]
    assert len(times) == 2
    assert times[1] - times[0] >= 0.95


def test_429_is_retried_with_backoff_and_attempts_are_bounded(server: FakeArxiv) -> None:
    server.fail("/api/query", "429", times=None)
    session = session_for(server, attempts=3, backoff=0.1)
    started = time.monotonic()
    with pytest.raises(RequestFailed, match=r"HTTP 429.*3 attempts"):
        session.get(server.api_url)
    assert server.requests["/api/query"] == 3
    assert time.monotonic() - started >= 0.05 + 0.1  # two waits, each at least half its step (jitter)


def test_a_retry_after_beyond_the_cap_gives_up_at_once(server: FakeArxiv) -> None:
    server.fail("/api/query", "503", retry_after="3600")
    with pytest.raises(RequestFailed, match="asks to wait 3600 s"):
        session_for(server).get(server.api_url)
    assert server.requests["/api/query"] == 1


def test_403_from_arxiv_stops_every_later_arxiv_request_but_not_other_hosts(
    server: FakeArxiv, other: FakeArxiv
) -> None:
    server.fail("/api/query", "403")
    session = session_for(server)
    with pytest.raises(ArxivStopped, match="refused access"):
        session.get(server.api_url)
    with pytest.raises(ArxivStopped):
        session.get(server.base_url + "/pdf/2205.14135")
    assert server.total_requests == 1  # the PDF request never left
    assert session.get(other.base_url + "/web/paper.pdf").status_code == 200


def test_403_from_another_host_is_just_that_reply(server: FakeArxiv, other: FakeArxiv) -> None:
    other.fail("/web/", "403")
    session = session_for(server)
    assert session.get(other.base_url + "/web/paper.pdf").status_code == 403
    assert session.arxiv_stopped is None


def test_connection_reset_is_retried(server: FakeArxiv) -> None:
    server.fail("/api/query", "reset")
    response = session_for(server).get(server.api_url, params={"id_list": "2205.14135"})
    assert response.status_code == 200
    assert server.requests["/api/query"] == 2


def test_a_reply_slower_than_the_read_timeout_is_retried(server: FakeArxiv) -> None:
    server.fail("/api/query", "slow", delay=1.0)
    response = session_for(server, read_timeout=0.3).get(server.api_url, params={"id_list": "2205.14135"})
    assert response.status_code == 200
    assert server.requests["/api/query"] == 2


def test_a_server_that_never_answers_in_time_fails_with_the_timeout_named(server: FakeArxiv) -> None:
    server.fail("/api/query", "slow", delay=1.0, times=None)
    started = time.monotonic()
    with pytest.raises(RequestFailed, match=r"no reply within 0.2 s \(read timeout\), 2 attempts"):
        session_for(server, read_timeout=0.2, attempts=2).get(server.api_url)
    assert time.monotonic() - started < 2


def test_a_closed_port_is_unreachable_with_connection_refused() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/api/query"
    session = PoliteSession(HttpSettings(api_url=url, arxiv_delay=0, attempts=2, backoff=0.01))
    with pytest.raises(Unreachable, match=r"cannot reach 127\.0\.0\.1:.*connection refused, 2 attempts"):
        session.get(url)


def closed_port_url() -> str:
    """A URL on 127.0.0.1 where nothing listens: the connection is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/api/query"


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        (None, "connection refused"),
        ("http://no-such-host.invalid/x.pdf", r"unknown host \(DNS lookup failed\)"),
    ],
)
def test_refused_or_unknown_hosts_fail_after_one_quick_retry_even_with_default_patience(
    url: str | None, reason: str
) -> None:
    url = url or closed_port_url()
    # the default patience: 4 attempts from a 2 s backoff, which a dropped connection still gets (>= 7 s)
    session = PoliteSession(HttpSettings(api_url="http://127.0.0.1:1/api", arxiv_delay=0))
    started = time.monotonic()
    with pytest.raises(Unreachable, match=rf"cannot reach .*: {reason}, 2 attempts"):
        session.get(url)
    assert time.monotonic() - started < 2
    assert session.log.requests == 2

    started = time.monotonic()
    with pytest.raises(Unreachable, match=reason):  # the host is down for the rest of the run: no more tries
        session.get(url.rsplit("/", 1)[0] + "/another.pdf")
    assert session.log.requests == 2
    assert time.monotonic() - started < 0.5


def test_a_redirect_to_a_file_url_fails_that_request_in_one_line(server: FakeArxiv, other: FakeArxiv) -> None:
    server.fail("/web/", "redirect", location="file:///etc/passwd")
    session = session_for(server)
    with pytest.raises(RequestFailed) as caught:
        session.get(server.base_url + "/web/paper.pdf")
    message = str(caught.value)
    assert "refused a redirect to a file: URL (HTTP 302 to file:///etc/passwd)" in message
    assert "only http and https are followed" in message and "\n" not in message
    assert server.requests["/web/paper.pdf"] == 1  # not retried
    assert session.get(other.base_url + "/web/paper.pdf").status_code == 200  # the session carries on


def test_a_redirect_to_http_is_still_followed(server: FakeArxiv, other: FakeArxiv) -> None:
    server.fail("/web/", "redirect", location=other.base_url + "/web/moved.pdf")
    response = session_for(server).get(server.base_url + "/web/paper.pdf")
    assert response.status_code == 200 and response.content.startswith(b"%PDF-")
    assert other.requests["/web/moved.pdf"] == 1


def test_arxiv_requests_go_one_at_a_time_and_delay_apart(server: FakeArxiv) -> None:
    server.latency = 0.05
    session = session_for(server, arxiv_delay=0.2)
    threads = [
        threading.Thread(target=session.get, args=(server.base_url + f"/pdf/2205.1413{n}",)) for n in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert server.max_in_flight == 1
    starts = sorted(entry["time"] for entry in server.log)
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert min(gaps) >= 0.2 + 0.05 - 0.01  # the delay counts from the end of the previous reply


def test_other_hosts_run_in_parallel(server: FakeArxiv, other: FakeArxiv) -> None:
    other.latency = 0.3
    session = session_for(server)
    threads = [
        threading.Thread(target=session.get, args=(other.base_url + f"/web/{n}.pdf",)) for n in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert other.max_in_flight == 4


def test_cancel_interrupts_a_retry_wait(server: FakeArxiv) -> None:
    server.fail("/api/query", "503", retry_after="30")
    session = session_for(server)
    threading.Timer(0.2, session.cancel.set).start()
    started = time.monotonic()
    with pytest.raises(Cancelled):
        session.get(server.api_url)
    assert time.monotonic() - started < 5


def test_settings_come_from_the_environment_and_bad_values_are_usage_errors() -> None:
    settings = HttpSettings.from_env(
        {"READTRACK_TIMEOUT": "5,20", "READTRACK_ARXIV_DELAY": "4", "READTRACK_ARXIV_API": "http://h:1/q"}
    )
    assert (settings.connect_timeout, settings.read_timeout, settings.arxiv_delay) == (5, 20, 4)
    assert "h:1" in settings.arxiv_hosts and "export.arxiv.org" in settings.arxiv_hosts
    assert HttpSettings.from_env({}).arxiv_delay == 3.0
    with pytest.raises(UsageError, match="READTRACK_TIMEOUT"):
        HttpSettings.from_env({"READTRACK_TIMEOUT": "soon"})
    with pytest.raises(UsageError, match="READTRACK_ARXIV_DELAY"):
        HttpSettings.from_env({"READTRACK_ARXIV_DELAY": "-1"})
