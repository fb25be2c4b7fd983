"""Semantic Scholar's Graph API (v1) and Recommendations API (v1), as readtrack asks them.

What is asked (https://api.semanticscholar.org/api-docs/graph):

- ``POST {graph}/paper/batch?fields=...`` with ``{"ids": [...]}``: many papers at once (at most 500), the
  reply a list in the same order with ``null`` for an id Semantic Scholar does not know. Ids are
  ``ARXIV:1706.03762``, ``DOI:10.1000/xyz``, ``CorpusId:123`` or the 40-hex ``paperId``.
- ``GET {graph}/paper/search/match?query=TITLE``: the one best title match (404 when none).
- ``GET {graph}/paper/{id}/references`` and ``.../citations`` with ``offset`` and ``limit`` (at most 1000
  a page): ``{"offset": 0, "next": 1000, "data": [{"citedPaper": {...}}]}``; no ``next`` on the last page.
  ``offset`` and ``next`` count every item, those Semantic Scholar could not resolve to a paper too
  (``"citedPaper": {"paperId": null, "title": ...}``): the next page is asked where the reply says (its
  ``next``), never at the number of papers kept, and a reply whose ``next`` does not move forward is
  `MalformedReply`, so no page is asked twice and the paging ends whatever the server sends.
- ``POST {recs}/papers/?fields=...&limit=N`` with ``{"positivePaperIds": [...], "negativePaperIds": [...]}``:
  ``{"recommendedPapers": [...]}``.

Requests go through the command's `readtrack.arxiv.http.PoliteSession`: one at a time to Semantic Scholar,
``READTRACK_S2_DELAY`` seconds apart (default 1, the public API's shared limit and a key's first one),
429 and 5xx retried with back-off and ``Retry-After`` honoured, a network that is down said in a second.
The key (``S2_API_KEY``) goes in the ``x-api-key`` header of Semantic Scholar's requests only, and into no
message. A redirect to another host (scheme, host and port: `origin`) than the configured Graph and
Recommendations APIs' is refused while a key is set, in one line (requests would carry the header along);
without a key it is followed.

Every reply is judged here: a shape that is not the documented one is `MalformedReply`, naming the endpoint.
Replies are cached (`readtrack.related.cache`) per paper, per listing and per recommendation query, with the
date they were fetched.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urljoin, urlsplit

from readtrack.base.errors import SyncError, UsageError
from readtrack.catalog import arxivid
from readtrack.related.cache import Cache

if TYPE_CHECKING:
    import requests

    from readtrack.arxiv.http import HttpSettings, PoliteSession, RequestFailed

DEFAULT_GRAPH_URL = "https://api.semanticscholar.org/graph/v1"
DEFAULT_RECS_URL = "https://api.semanticscholar.org/recommendations/v1"
FIELDS = "paperId,externalIds,title,year,venue,citationCount,publicationDate,authors"
BATCH_MAX = 500  # ids per batch request (the API's limit)
PAGE_MAX = 1000  # items per page of references or citations (the API's limit)
RECS_MAX = 500  # recommendations per request (the API's limit)
KEY_VARIABLE = "S2_API_KEY"


class S2Error(SyncError):
    """Semantic Scholar could not answer what was asked (down, rate-limited, or a reply we cannot read)."""


class MalformedReply(S2Error):
    """A reply that is not the documented shape: the message names the endpoint."""


@dataclass(frozen=True)
class S2Settings:
    """Where the APIs are and how patient to be: ``READTRACK_S2_URL``, ``READTRACK_S2_RECS_URL``,
    ``READTRACK_S2_DELAY`` and ``S2_API_KEY``."""

    graph_url: str = DEFAULT_GRAPH_URL
    recs_url: str = DEFAULT_RECS_URL
    key: str | None = field(default=None, repr=False)
    delay: float = 1.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> S2Settings:
        env = os.environ if environ is None else environ
        delay_text = env.get("READTRACK_S2_DELAY", "").strip()
        try:
            delay = float(delay_text) if delay_text else 1.0
        except ValueError:
            raise UsageError(f"READTRACK_S2_DELAY must be a number of seconds, got {delay_text!r}") from None
        if delay < 0:
            raise UsageError(f"READTRACK_S2_DELAY must not be negative, got {delay_text!r}")
        return cls(
            graph_url=(env.get("READTRACK_S2_URL") or DEFAULT_GRAPH_URL).rstrip("/"),
            recs_url=(env.get("READTRACK_S2_RECS_URL") or DEFAULT_RECS_URL).rstrip("/"),
            key=env.get(KEY_VARIABLE, "").strip() or None,
            delay=delay,
        )

    @property
    def key_said(self) -> str:
        """The key as ``doctor`` shows it: whether it is set, never any of its characters."""
        return f"set ({len(self.key)} characters, not shown)" if self.key else "not set"

    @property
    def origins(self) -> frozenset[str]:
        """The hosts (`origin`) the key is sent to: the Graph API's and the Recommendations API's."""
        return frozenset({origin(self.graph_url), origin(self.recs_url)})

    def session_settings(self, base: HttpSettings | None = None) -> HttpSettings:
        """The HTTP settings of a session that paces Semantic Scholar's hosts."""
        from readtrack.arxiv.http import HttpSettings, host_of  # requests: only when a session opens

        http = base or HttpSettings.from_env()
        hosts = {host_of(self.graph_url), host_of(self.recs_url)}
        return replace(http, paced=tuple((host, self.delay) for host in sorted(hosts)))


@dataclass(frozen=True)
class S2Paper:
    """One paper as Semantic Scholar describes it (the fields readtrack asks for)."""

    s2_id: str
    title: str
    year: int | None = None
    venue: str = ""
    citations: int | None = None
    arxiv: str | None = None
    doi: str | None = None
    date: str | None = None
    authors: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, data: object, endpoint: str) -> S2Paper:
        if not isinstance(data, dict) or not isinstance(data.get("paperId"), str):
            raise MalformedReply(
                f"Semantic Scholar's {endpoint} sent a paper without a paperId: {_brief(data)}"
            )
        ids = data.get("externalIds") or {}
        authors = data.get("authors") or []
        try:
            return cls(
                s2_id=data["paperId"],
                title=" ".join(str(data.get("title") or "").split()),
                year=int(data["year"]) if data.get("year") is not None else None,
                venue=str(data.get("venue") or ""),
                citations=int(data["citationCount"]) if data.get("citationCount") is not None else None,
                arxiv=_arxiv(ids.get("ArXiv")) if isinstance(ids, dict) else None,
                doi=str(ids["DOI"]) if isinstance(ids, dict) and ids.get("DOI") else None,
                date=str(data["publicationDate"]) if data.get("publicationDate") else None,
                authors=tuple(str(a.get("name") or "") for a in authors if isinstance(a, dict)),
            )
        except (TypeError, ValueError, AttributeError) as err:
            raise MalformedReply(
                f"Semantic Scholar's {endpoint} sent a paper we cannot read ({err}): {_brief(data)}"
            ) from None

    def to_json(self) -> dict[str, Any]:
        """The API's own shape, so a cached paper reads back through `from_json`."""
        ids = {k: v for k, v in (("ArXiv", self.arxiv), ("DOI", self.doi)) if v}
        return {
            "paperId": self.s2_id,
            "externalIds": ids,
            "title": self.title,
            "year": self.year,
            "venue": self.venue,
            "citationCount": self.citations,
            "publicationDate": self.date,
            "authors": [{"name": name} for name in self.authors],
        }

    @property
    def ident(self) -> str:
        """How a reader names the paper: its arXiv id, else its DOI, else Semantic Scholar's id."""
        if self.arxiv:
            return self.arxiv
        return f"DOI:{self.doi}" if self.doi else f"S2:{self.s2_id}"


def origin(url: str) -> str:
    """A URL's host as the key's rule counts it: ``scheme://host:port``, lowercased, the port always said
    (``https://api.semanticscholar.org:443``): another port or scheme is another host."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:  # a port that is no number: no host of ours
        return url
    default = {"http": 80, "https": 443}.get(scheme)
    return f"{scheme}://{(parts.hostname or '').lower()}:{port or default}"


def _arxiv(value: object) -> str | None:
    if not value:
        return None
    parsed = arxivid.parse(str(value))
    return parsed.base if parsed is not None else None


def _brief(data: object) -> str:
    text = json.dumps(data)[:120] if not isinstance(data, str) else data[:120]
    return text


@dataclass
class Fetched:
    """A paper's references or citations as far as they were fetched: ``complete`` when every one is here.

    ``items`` counts what the listing held up to there, resolved or not: the papers Semantic Scholar could not
    resolve (an item whose paper has no ``paperId``) are counted there and left out of ``papers``."""

    papers: list[S2Paper]
    complete: bool
    items: int = 0

    @property
    def unresolved(self) -> int:
        return self.items - len(self.papers)


def _listing_entry(value: Any) -> bool:
    """A cached listing this version reads: one stored before it paged by position (no ``position``, no
    ``at``) may hold a paper twice and is fetched again."""
    return isinstance(value, dict) and {"papers", "at", "position", "complete"} <= value.keys()


def _page_position(reply: dict[str, Any], asked: int, endpoint: str) -> tuple[int, int | None]:
    """Where a page of a listing starts (its ``offset``, else where it was asked) and where the next one
    does (its ``next``; None on the last page)."""
    start, following = reply.get("offset", asked), reply.get("next")
    for name, value in (("offset", start), ("next", following)):
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
            raise MalformedReply(f"Semantic Scholar's {endpoint} sent {name} {_brief(value)}, not a position")
    assert isinstance(start, int)
    return start, following


def s2_ident(value: str) -> str:
    """The id Semantic Scholar takes for what a reader typed: an arXiv id or URL (``ARXIV:...``), a DOI
    (``DOI:...``), ``CorpusId:...``, a 40-hex paperId, or ``S2:<paperId>`` as readtrack prints it."""
    text = value.strip()
    lowered = text.lower()
    if lowered.startswith("s2:"):
        text = text[3:]
        lowered = lowered[3:]
    if len(text) == 40 and all(c in "0123456789abcdef" for c in lowered):
        return lowered
    for prefix in ("doi:", "corpusid:", "arxiv:"):
        if lowered.startswith(prefix):
            rest = text[len(prefix) :].strip()
            if prefix == "arxiv:":
                parsed = arxivid.parse(rest)
                if parsed is None:
                    raise UsageError(f"{value!r} is not an arXiv id")
                return f"ARXIV:{parsed.base}"
            return f"{'DOI' if prefix == 'doi:' else 'CorpusId'}:{rest}"
    if lowered.startswith("10.") and "/" in text:
        return f"DOI:{text}"
    parsed = arxivid.parse(text)
    if parsed is not None:
        return f"ARXIV:{parsed.base}"
    raise UsageError(
        f"{value!r} is neither a paper of your list nor an id Semantic Scholar takes "
        "(an arXiv id, DOI:10..., CorpusId:N or a paperId)"
    )


class SemanticScholar:
    """The two APIs through one polite session and the cache; ``refresh`` fetches again what is cached (once
    per command: what this command fetched is not fetched twice)."""

    def __init__(
        self,
        settings: S2Settings,
        cache: Cache,
        *,
        session: PoliteSession | None = None,
        refresh: bool = False,
        opener: Callable[[], PoliteSession] | None = None,
    ) -> None:
        self.settings = settings
        self.cache = cache
        self.refresh = refresh
        self._session = session
        self._opener = opener  # how the session opens, on the first request (none: the default one)
        self.from_cache = 0  # answers the cache gave, for summaries
        self.oldest: str | None = None  # the oldest cached answer used (its UTC date)
        self._fresh: set[str] = set()  # cache keys fetched by this command

    @property
    def session(self) -> PoliteSession:
        """The polite session, opened on the first request: an answer from the cache imports no HTTP
        library (issue 96: `refs`, `cites` and `next` on a warm cache)."""
        if self._session is None:
            if self._opener is not None:
                self._session = self._opener()
            else:
                from readtrack.arxiv.http import open_session

                self._session = open_session(self.settings.session_settings(), jobs=1)
        return self._session

    @property
    def opened(self) -> bool:
        """Whether a request was made or a session given (a session to close)."""
        return self._session is not None

    # -- the cache --------------------------------------------------------------------------------------

    def _cached(self, key: str, valid: Callable[[Any], bool] | None = None) -> Any:
        if self.refresh and key not in self._fresh:
            return None
        hit = self.cache.get(key)
        if hit is None or (valid is not None and not valid(hit[0])):
            return None
        value, fetched = hit
        if key not in self._fresh:
            self.from_cache += 1
            self.oldest = min(self.oldest or fetched, fetched)
        return value

    def _store(self, key: str, value: Any) -> None:
        self._fresh.add(key)
        self.cache.put(key, value)

    # -- requests ----------------------------------------------------------------------------------------

    def _call(
        self,
        method: str,
        url: str,
        endpoint: str,
        *,
        params: dict[str, str | int] | None = None,
        body: object = None,
        missing_ok: bool = False,
    ) -> Any:
        """One request: the decoded JSON, or None for a 404 when ``missing_ok``."""
        headers = {"x-api-key": self.settings.key} if self.settings.key else {}
        hooks = {"response": [self._keep_key_home]} if self.settings.key else {}
        from readtrack.arxiv.http import RequestFailed

        try:
            response = self.session.request(
                method, url, params=params, json=body, headers=headers, hooks=hooks
            )
        except RequestFailed as err:
            raise S2Error(self._failure(err, endpoint)) from None
        if response.status_code == 404 and missing_ok:
            return None
        if response.status_code != 200:
            raise S2Error(
                f"Semantic Scholar's {endpoint} answered HTTP {response.status_code}: {_said(response.text)}"
            )
        try:
            return response.json()
        except ValueError:
            raise MalformedReply(
                f"Semantic Scholar's {endpoint} sent a reply that is not JSON: {response.text[:80]!r}"
            ) from None

    def _keep_key_home(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        """Refuse a redirect away from Semantic Scholar's configured hosts while a key is set: the
        ``x-api-key`` header would go along (requests drops only ``Authorization`` on the way). A host is
        scheme, host and port (`origin`); a redirect between the configured ones is followed."""
        location = response.headers.get("Location") if response.is_redirect else None
        if not location:
            return
        target = urljoin(response.url, location)
        if origin(target) in self.settings.origins:
            return
        from readtrack.arxiv.http import RequestFailed

        response.close()
        raise RequestFailed(
            response.url,
            f"refused a redirect (HTTP {response.status_code}) to {origin(target)}, not a Semantic Scholar "
            f"host of this configuration: {KEY_VARIABLE} is sent to those only",
            response.status_code,
        )

    def _failure(self, err: RequestFailed, endpoint: str) -> str:
        from readtrack.arxiv.http import NETWORK_HINT, Unreachable

        if err.status == 429:
            return (
                f"Semantic Scholar kept refusing {endpoint} as too many requests ({err.reason}; "
                f"{self.session.waited:.0f} s waited in all). Try again in a few minutes"
                + ("" if self.settings.key else f", or set {KEY_VARIABLE} for a rate limit of your own")
            )
        hint = "" if not isinstance(err, Unreachable) or NETWORK_HINT in err.reason else f"; {NETWORK_HINT}"
        return f"Semantic Scholar's {endpoint}: {err.reason}{hint}"

    @property
    def requests(self) -> int:
        return self._session.log.requests if self._session is not None else 0

    # -- papers ------------------------------------------------------------------------------------------

    def papers(self, idents: Sequence[str]) -> dict[str, S2Paper | None]:
        """Papers by id (as `s2_ident` writes them), None for an id Semantic Scholar does not know; the ones
        not cached are asked in batches of `BATCH_MAX`."""
        found: dict[str, S2Paper | None] = {}
        wanted: list[str] = []
        for ident in dict.fromkeys(idents):
            cached = self._cached(f"paper:{ident}")
            if cached is None:
                wanted.append(ident)
            else:
                found[ident] = S2Paper.from_json(cached["paper"], "cache") if cached["paper"] else None
        for start in range(0, len(wanted), BATCH_MAX):
            chunk = wanted[start : start + BATCH_MAX]
            reply = self._call(
                "POST", f"{self.settings.graph_url}/paper/batch", "paper batch",
                params={"fields": FIELDS}, body={"ids": chunk},
            )  # fmt: skip
            if not isinstance(reply, list) or len(reply) != len(chunk):
                raise MalformedReply(
                    f"Semantic Scholar's paper batch sent {_kind(reply)} for {len(chunk)} ids: "
                    + _brief(reply)
                )
            for ident, item in zip(chunk, reply, strict=True):
                paper = S2Paper.from_json(item, "paper batch") if item is not None else None
                found[ident] = paper
                self._store(f"paper:{ident}", {"paper": paper.to_json() if paper else None})
        return found

    def paper(self, ident: str) -> S2Paper | None:
        return self.papers([ident])[ident]

    def match(self, title: str) -> S2Paper | None:
        """The paper whose title best matches ``title`` (Semantic Scholar's title match), None when none."""
        key = "match:" + " ".join(title.lower().split())
        cached = self._cached(key)
        if cached is not None:
            return S2Paper.from_json(cached["paper"], "cache") if cached["paper"] else None
        reply = self._call(
            "GET", f"{self.settings.graph_url}/paper/search/match", "title match",
            params={"query": title, "fields": FIELDS}, missing_ok=True,
        )  # fmt: skip
        paper = None
        if reply is not None:
            data = reply.get("data") if isinstance(reply, dict) else None
            if not isinstance(data, list):
                raise MalformedReply(f"Semantic Scholar's title match sent {_brief(reply)}")
            paper = S2Paper.from_json(data[0], "title match") if data else None
        self._store(key, {"paper": paper.to_json() if paper else None})
        return paper

    # -- references and citations ------------------------------------------------------------------------

    def references(
        self, s2_id: str, cap: int | None, *, on_page: Callable[[int], None] | None = None
    ) -> Fetched:
        """What the paper cites, at most ``cap`` (None: all), in Semantic Scholar's order."""
        return self._listing("references", "citedPaper", s2_id, cap, on_page)

    def citations(
        self, s2_id: str, cap: int | None, *, on_page: Callable[[int], None] | None = None
    ) -> Fetched:
        """Who cites the paper, at most ``cap`` (None: all), in Semantic Scholar's order."""
        return self._listing("citations", "citingPaper", s2_id, cap, on_page)

    def _listing(
        self, kind: str, nested: str, s2_id: str, cap: int | None, on_page: Callable[[int], None] | None
    ) -> Fetched:
        """Pages of the listing from where the cache ends, each asked at the position the last reply gave.

        ``cap`` counts items (references or citations, resolved or not), as the API's ``offset`` does."""
        key = f"{kind}:{s2_id}"
        cached = self._cached(key, valid=_listing_entry)
        papers: list[S2Paper] = []
        places: list[int] = []  # each paper's position in the listing
        position = 0  # the next item's position: the last reply's ``next`` (or offset + items received)
        complete = False
        if cached is not None:
            papers = [S2Paper.from_json(p, "cache") for p in cached["papers"]]
            places = [int(n) for n in cached["at"]]
            position = int(cached["position"])
            complete = bool(cached["complete"])
        endpoint = f"{kind} of {s2_id}"
        while not complete and (cap is None or position < cap):
            want = PAGE_MAX if cap is None else min(PAGE_MAX, cap - position)
            reply = self._call(
                "GET", f"{self.settings.graph_url}/paper/{quote(s2_id, safe=':')}/{kind}", endpoint,
                params={"fields": FIELDS, "offset": position, "limit": want},
            )  # fmt: skip
            data = reply.get("data") if isinstance(reply, dict) else None
            if not isinstance(data, list):
                raise MalformedReply(f"Semantic Scholar's {endpoint} sent {_brief(reply)}")
            start, following = _page_position(reply, position, endpoint)
            for place, item in enumerate(data, start):
                if following is not None and place >= following:
                    break  # the next page starts there: it is asked for then, not kept twice
                inner = item.get(nested) if isinstance(item, dict) else None
                if not isinstance(inner, dict):
                    raise MalformedReply(f"Semantic Scholar's {endpoint} sent an item without {nested}")
                # a reference Semantic Scholar could not resolve has no paperId: counted, not shown
                if place >= position and inner.get("paperId"):
                    papers.append(S2Paper.from_json(inner, endpoint))
                    places.append(place)
            # an empty page ends the listing where its items end, whatever its `next` says
            reached = following if following is not None and data else start + len(data)
            complete = following is None or not data
            if not complete and reached <= position:
                raise MalformedReply(
                    f"Semantic Scholar's {endpoint} sent the page at offset {position} with next "
                    f"{following}: no further page to ask for"
                )
            position = max(position, reached)
            kept = {"papers": [p.to_json() for p in papers], "at": places, "position": position}
            self._store(key, {**kept, "complete": complete})
            if on_page is not None:
                on_page(position)
        items = position if cap is None else min(position, cap)
        shown = [p for p, place in zip(papers, places, strict=True) if place < items]
        return Fetched(shown, complete and items == position, items)

    # -- recommendations ---------------------------------------------------------------------------------

    def recommend(self, positive: Iterable[str], negative: Iterable[str], limit: int) -> list[S2Paper]:
        """Papers like the positives and unlike the negatives (paperIds), best first."""
        pos, neg = sorted(set(positive)), sorted(set(negative))
        if not pos:
            return []
        limit = max(1, min(limit, RECS_MAX))
        digest = hashlib.sha1(json.dumps([pos, neg, limit]).encode()).hexdigest()[:16]
        key = f"recommend:{digest}"
        cached = self._cached(key)
        if cached is not None:
            return [S2Paper.from_json(p, "cache") for p in cached["papers"]]
        reply = self._call(
            "POST", f"{self.settings.recs_url}/papers/", "recommendations",
            params={"fields": FIELDS, "limit": limit},
            body={"positivePaperIds": pos, "negativePaperIds": neg},
        )  # fmt: skip
        found = reply.get("recommendedPapers") if isinstance(reply, dict) else None
        if not isinstance(found, list):
            raise MalformedReply(f"Semantic Scholar's recommendations sent {_brief(reply)}")
        papers = [S2Paper.from_json(p, "recommendations") for p in found]
        self._store(key, {"papers": [p.to_json() for p in papers]})
        return papers


def _kind(value: object) -> str:
    if isinstance(value, list):
        return f"{len(value)} items"
    return f"a JSON {type(value).__name__}"


def _said(text: str) -> str:
    """A server's error reply in one short line: its ``error`` or ``message``, else its first characters."""
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if isinstance(data, dict):
        for name in ("error", "message"):
            if isinstance(data.get(name), str):
                return str(data[name])[:200]
    return " ".join(text.split())[:120] or "(no body)"
