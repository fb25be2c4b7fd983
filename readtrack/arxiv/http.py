"""The one HTTP session factory of readtrack: polite, bounded and retrying requests.

Every request readtrack makes (the arXiv API, arXiv PDFs, PDFs from other sites) goes through a
`PoliteSession`, a ``requests.Session`` that adds what arXiv's terms of use and a flaky network ask for:

- a User-Agent naming readtrack, its version and, when ``READTRACK_CONTACT`` is set, a mail address;
- connect and read timeouts on every request (``READTRACK_TIMEOUT``: ``10`` or ``10,30`` seconds);
- one rate limiter per host shared by the whole run: arXiv hosts (export.arxiv.org, arxiv.org and the host
  of ``READTRACK_ARXIV_API``) get one request at a time, ``READTRACK_ARXIV_DELAY`` seconds apart; the hosts
  a command paces (`HttpSettings.paced`: Semantic Scholar's) likewise at their own interval; other hosts run
  in parallel up to the run's number of jobs;
- retries with exponential backoff and jitter on 429, 5xx, timeouts and dropped connections, honouring
  Retry-After up to a cap (``READTRACK_RETRIES`` attempts, ``READTRACK_BACKOFF`` seconds for the first wait),
  each wait a server asked for told to `PoliteSession.on_wait` when set;
- no patience where none helps: a refused connection or a failed DNS lookup is tried once more after
  `QUICK_RETRY` seconds, then fails, and the host counts as down for the rest of the run (a network that is
  down says so in a second, not after a minute of backoff);
- redirects followed only to http and https URLs: a ``Location: file:///etc/passwd`` fails that request;
- a 403 from arXiv stops every later arXiv request of the run: arXiv answers 403 to clients it blocks,
  and hammering on is what gets a client blocked for longer;
- a cancel event, checked before each attempt and during every wait, so the TUI can stop a sync.

Responses are always opened streamed and held inside `PoliteSession.open`, so the host's slot stays taken
while a body downloads: "one request at a time" holds for PDFs too.
"""

from __future__ import annotations

import errno
import os
import random
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter

from readtrack.base.errors import SyncError, UsageError
from readtrack.base.version import __version__
from readtrack.base.words import plural

DEFAULT_ARXIV_API = "https://export.arxiv.org/api/query"
ARXIV_HOSTS = frozenset({"export.arxiv.org", "arxiv.org", "www.arxiv.org"})
PROJECT_URL = "https://github.com/readtrack/readtrack"
QUICK_RETRY = 0.25  # seconds before the one retry of a refused connection or failed DNS lookup
FOLLOWED_SCHEMES = frozenset({"http", "https"})


class RequestFailed(SyncError):
    """A request that did not get a usable reply, after the retries it deserved."""

    def __init__(self, url: str, reason: str, status: int | None = None) -> None:
        super().__init__(f"{reason} ({url})")
        self.url = url
        self.reason = reason
        self.status = status


class Unreachable(RequestFailed):
    """No connection to the host at all (refused, reset, unknown host): usually the network is down."""


class ArxivStopped(RequestFailed):
    """arXiv answered 403 earlier in this run (or now): no more arXiv requests are made."""


class Cancelled(SyncError):
    """The run's cancel event was set (the TUI stopped the sync, or Ctrl-C)."""

    def __init__(self) -> None:
        super().__init__("cancelled")


@dataclass(frozen=True)
class HttpSettings:
    """How patient and how polite to be; `from_env` reads the ``READTRACK_*`` variables."""

    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    arxiv_delay: float = 3.0
    attempts: int = 4
    backoff: float = 2.0
    max_wait: float = 60.0
    api_url: str = DEFAULT_ARXIV_API
    contact: str | None = None
    # other hosts that get one request at a time, this many seconds apart (Semantic Scholar's: host -> s)
    paced: tuple[tuple[str, float], ...] = ()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> HttpSettings:
        env = os.environ if environ is None else environ
        connect, read = _timeouts(env.get("READTRACK_TIMEOUT", ""))
        return cls(
            connect_timeout=connect,
            read_timeout=read,
            arxiv_delay=_seconds(env, "READTRACK_ARXIV_DELAY", 3.0),
            attempts=max(1, int(_seconds(env, "READTRACK_RETRIES", 4))),
            backoff=_seconds(env, "READTRACK_BACKOFF", 2.0),
            api_url=env.get("READTRACK_ARXIV_API") or DEFAULT_ARXIV_API,
            contact=env.get("READTRACK_CONTACT") or None,
        )

    @property
    def user_agent(self) -> str:
        contact = f"; mailto:{self.contact}" if self.contact else ""
        return f"readtrack/{__version__} (+{PROJECT_URL}{contact})"

    @property
    def arxiv_hosts(self) -> frozenset[str]:
        """Hosts that share arXiv's limiter: the public ones and whatever serves the configured API."""
        return ARXIV_HOSTS | {host_of(self.api_url)}


def host_of(url: str) -> str:
    """The limiter key of a URL: ``host[:port]``, lowercased."""
    return urlsplit(url).netloc.lower()


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    text = env.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        raise UsageError(f"{name} must be a number of seconds, got {text!r}") from None
    if value < 0:
        raise UsageError(f"{name} must not be negative, got {text!r}")
    return value


def _timeouts(text: str) -> tuple[float, float]:
    text = text.strip()
    if not text:
        return 10.0, 30.0
    parts = text.split(",")
    try:
        values = [float(p) for p in parts]
    except ValueError:
        values = []
    if len(values) not in (1, 2) or any(v <= 0 for v in values):
        raise UsageError(f"READTRACK_TIMEOUT must be seconds, e.g. 10 or 10,30 (connect,read); got {text!r}")
    return values[0], values[-1]


class HostLimiter:
    """At most ``concurrency`` requests to a host at once, each ``interval`` s after the last one ended."""

    def __init__(self, interval: float, concurrency: int) -> None:
        self.interval = interval
        self._slots = threading.BoundedSemaphore(concurrency)
        self._lock = threading.Lock()
        self._last_end = float("-inf")

    @contextmanager
    def slot(self, cancel: threading.Event) -> Iterator[None]:
        while not self._slots.acquire(timeout=0.1):
            if cancel.is_set():
                raise Cancelled()
        try:
            with self._lock:
                wait = self._last_end + self.interval - time.monotonic()
            if wait > 0 and cancel.wait(wait):
                raise Cancelled()
            yield
        finally:
            with self._lock:
                self._last_end = time.monotonic()
            self._slots.release()


@dataclass
class RequestLog:
    """What a session did, for summaries and benchmarks: requests sent and retries waited out."""

    requests: int = 0
    retries: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count(self, *, retry: bool = False) -> None:
        with self.lock:
            self.requests += 1
            self.retries += retry


class PoliteSession(requests.Session):
    """A ``requests.Session`` with readtrack's User-Agent, timeouts, per-host limiters and retries."""

    def __init__(
        self, settings: HttpSettings, *, jobs: int = 4, cancel: threading.Event | None = None
    ) -> None:
        super().__init__()
        self.settings = settings
        self.jobs = max(1, jobs)
        self.cancel = cancel or threading.Event()
        self.log = RequestLog()
        self.arxiv_stopped: str | None = None
        self.headers["User-Agent"] = settings.user_agent
        adapter = HTTPAdapter(pool_connections=16, pool_maxsize=max(10, self.jobs + 2))
        self.mount("http://", adapter)
        self.mount("https://", adapter)
        self._arxiv_hosts = settings.arxiv_hosts
        self._limiters: dict[str, HostLimiter] = {}
        self._limiters_lock = threading.Lock()
        self._down: dict[str, str] = {}  # host -> why it cannot be reached (refused, unknown): no more tries
        # told of every wait a server asked for (429, 5xx): (url, "HTTP 429", seconds, attempt, attempts)
        self.on_wait: Callable[[str, str, float, int, int], None] | None = None
        self.waited = 0.0  # seconds spent waiting out 429s and 5xx, for summaries

    def is_arxiv(self, url: str) -> bool:
        return host_of(url) in self._arxiv_hosts

    def limiter(self, url: str) -> HostLimiter:
        """The run-wide limiter of the URL's host (all arXiv hosts share one)."""
        key = "arxiv" if self.is_arxiv(url) else host_of(url)
        with self._limiters_lock:
            if key not in self._limiters:
                paced = dict(self.settings.paced)
                if key == "arxiv":
                    self._limiters[key] = HostLimiter(self.settings.arxiv_delay, 1)
                elif key in paced:
                    self._limiters[key] = HostLimiter(paced[key], 1)
                else:
                    self._limiters[key] = HostLimiter(0.0, self.jobs)
            return self._limiters[key]

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        """A whole (non-streamed) request through `open`; the body is read before the host's slot is freed."""
        if kwargs.pop("stream", False):
            raise TypeError(
                "use PoliteSession.open() for streamed bodies: it keeps the host's slot while reading"
            )
        if args:
            raise TypeError("pass request options by keyword")
        with self.open(str(method), str(url), **kwargs) as response:
            _ = response.content
            return response

    @contextmanager
    def open(self, method: str, url: str, **kwargs: Any) -> Iterator[requests.Response]:
        """Send with retries while holding the host's slot; stream the body inside the ``with`` block.

        Yields the first reply that is not 429 or 5xx (so 200, 206, 404 ... are the caller's to judge).
        Raises `RequestFailed` (or `Unreachable`) when retries run out, `ArxivStopped` on a 403 from
        arXiv, `Cancelled` when the cancel event is set.
        """
        arxiv = self.is_arxiv(url)
        limiter = self.limiter(url)
        with limiter.slot(self.cancel):
            response = self._send_with_retries(method, url, arxiv, limiter.interval, kwargs)
            try:
                yield response
            finally:
                response.close()

    def check(self, url: str) -> None:
        """Raise before a request that must not be made: cancelled run, arXiv stopped, a host found down."""
        if self.cancel.is_set():
            raise Cancelled()
        if self.arxiv_stopped and self.is_arxiv(url):
            raise ArxivStopped(url, self.arxiv_stopped, 403)
        down = self._down.get(host_of(url))
        if down:
            raise Unreachable(url, down)

    def get_redirect_target(self, resp: requests.Response) -> str | None:
        """requests' hook for every redirect: only http(s) targets are followed, others fail the request."""
        target = super().get_redirect_target(resp)
        if target is not None:
            scheme = urlsplit(target).scheme.lower()
            if scheme and scheme not in FOLLOWED_SCHEMES:
                resp.close()
                raise RequestFailed(
                    resp.url,
                    f"refused a redirect to a {scheme}: URL (HTTP {resp.status_code} to {target[:100]}); "
                    "only http and https are followed",
                    resp.status_code,
                )
        return target

    def _send_with_retries(
        self, method: str, url: str, arxiv: bool, interval: float, kwargs: dict[str, Any]
    ) -> requests.Response:
        timeout = (self.settings.connect_timeout, self.settings.read_timeout)
        attempts = self.settings.attempts
        for attempt in range(1, attempts + 1):
            self.check(url)
            self.log.count(retry=attempt > 1)
            try:
                response = super().request(method, url, stream=True, timeout=timeout, **kwargs)
            except requests.Timeout as err:
                reason = _describe_timeout(err, timeout)
                if attempt == attempts:
                    raise RequestFailed(url, f"{reason}, {attempts} attempts") from None
                self._wait(self._backoff(attempt), interval)
                continue
            except requests.ConnectionError as err:
                reason = describe_connection_error(err)
                if reason in NO_ROUTE_REASONS:
                    # nothing listens or no such name: backing off will not change that, one quick look will
                    if attempt >= min(2, attempts):
                        tries = plural(attempt, "attempt")
                        down = f"cannot reach {host_of(url)}: {reason}, {tries}"
                        self._down[host_of(url)] = down
                        raise Unreachable(url, down) from None
                    self._wait(QUICK_RETRY, 0.0)
                    continue
                if attempt == attempts:
                    raise Unreachable(
                        url, f"cannot reach {host_of(url)}: {reason}, {attempts} attempts"
                    ) from None
                self._wait(self._backoff(attempt), interval)
                continue
            except requests.RequestException as err:  # InvalidURL, TooManyRedirects ...: fails this request
                raise RequestFailed(url, describe_connection_error(err)) from None
            status = response.status_code
            if status == 403 and arxiv:
                response.close()
                self.arxiv_stopped = (
                    f"arXiv refused access (HTTP 403 from {host_of(url)}); stopped every arXiv request of "
                    "this run. arXiv blocks clients that ignore its rate limit: wait before syncing again, "
                    "keep READTRACK_ARXIV_DELAY at 3 or more, and set READTRACK_CONTACT to your e-mail"
                )
                raise ArxivStopped(url, self.arxiv_stopped, 403)
            if status == 429 or status >= 500:
                asked = retry_after(response.headers.get("Retry-After"))
                response.close()
                if attempt == attempts:
                    raise RequestFailed(url, f"HTTP {status} {response.reason}, {attempts} attempts", status)
                if asked is not None and asked > self.settings.max_wait:
                    raise RequestFailed(
                        url,
                        f"HTTP {status}: the server asks to wait {asked:.0f} s before retrying "
                        f"(more than {self.settings.max_wait:.0f} s); try again later",
                        status,
                    )
                pause = max(asked if asked is not None else self._backoff(attempt), interval)
                if self.on_wait is not None:
                    self.on_wait(url, f"HTTP {status}", pause, attempt, attempts)
                self.waited += pause
                self._wait(pause, interval)
                continue
            return response
        raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover

    def _backoff(self, attempt: int) -> float:
        """Exponential backoff with "equal jitter": half of the step fixed, half random, capped."""
        step = min(self.settings.max_wait, self.settings.backoff * 2 ** (attempt - 1))
        return step / 2 + random.uniform(0, step / 2)

    def _wait(self, seconds: float, interval: float) -> None:
        # a retry is a request like any other: the host's minimum interval applies to it as well
        if self.cancel.wait(max(seconds, interval)):
            raise Cancelled()


def retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date); None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


REFUSED = "connection refused"
UNKNOWN_HOST = "unknown host (DNS lookup failed)"
NETWORK_HINT = "is the network up?"  # what a failure that reached no host at all asks (sync, refs, next)
NO_NETWORK = f"no route to the host ({NETWORK_HINT})"
NO_ROUTE_REASONS = frozenset({REFUSED, UNKNOWN_HOST, NO_NETWORK})


def describe_connection_error(err: BaseException) -> str:
    """A short human reason for a connection failure, from the innermost cause requests wraps."""
    seen: set[int] = set()
    stack: list[BaseException] = [err]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, ConnectionRefusedError):
            return REFUSED
        if isinstance(current, ConnectionResetError):
            return "connection reset by the server"
        if isinstance(current, OSError) and current.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
            return NO_NETWORK
        name = type(current).__name__
        if name == "NameResolutionError" or isinstance(current, socket.gaierror):
            return UNKNOWN_HOST
        if name == "RemoteDisconnected":
            return "the server closed the connection without replying"
        stack.extend(a for a in getattr(current, "args", ()) if isinstance(a, BaseException))
        for attr in ("reason", "__cause__", "__context__"):
            inner = getattr(current, attr, None)
            if isinstance(inner, BaseException):
                stack.append(inner)
    return str(err).splitlines()[0][:200] if str(err) else type(err).__name__


def _describe_timeout(err: requests.Timeout, timeout: tuple[float, float]) -> str:
    if isinstance(err, requests.ConnectTimeout):
        return f"no connection within {timeout[0]:g} s (connect timeout)"
    return f"no reply within {timeout[1]:g} s (read timeout)"


def open_session(
    settings: HttpSettings | None = None, *, jobs: int = 4, cancel: threading.Event | None = None
) -> PoliteSession:
    """The session for one run: settings from the environment unless given; limiters shared by its threads."""
    return PoliteSession(settings or HttpSettings.from_env(), jobs=jobs, cancel=cancel)
