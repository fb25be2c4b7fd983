"""A fake Semantic Scholar on 127.0.0.1: the Graph API v1, the Recommendations API v1, and their faults.

A real ``http.server.ThreadingHTTPServer`` in a thread, so a citation-graph client talks real HTTP to it
(never api.semanticscholar.org). It serves a graph the test builds (`FakeS2.add_paper`, `FakeS2.cite`) or
the sample graph of a reading list (`FakeS2.sample`), under ``server.url`` (``.../graph/v1``) and
``server.recs_url`` (``.../recommendations/v1``):

- ``GET /graph/v1/paper/{id}``: one paper. ``{id}`` is a paperId (40 hex digits), ``ARXIV:<id>`` (prefix in
  any case, version ignored), ``DOI:<doi>`` (any case; its slashes raw or ``%2F``) or ``CorpusId:<n>``;
- ``POST /graph/v1/paper/batch`` with ``{"ids": [...]}`` (at most 500): a list in the same order, ``null``
  where an id is unknown;
- ``GET /graph/v1/paper/{id}/references`` and ``.../citations`` with ``offset`` and ``limit`` (default 100,
  at most 1000): ``{"offset", "next", "data"}`` pages of ``{"citedPaper": ...}`` or ``{"citingPaper": ...}``,
  ``next`` only while more remain; references in the order they were added, citations newest
  ``publicationDate`` first (undated last, ties by paperId); ``isInfluential`` (always false), ``contexts``
  and ``intents`` (always empty) are item fields there;
- ``GET /graph/v1/paper/search/match?query=``: the best title match, with its ``matchScore`` (100 for the
  same words, else 100 times the word Jaccard when at least 0.6), or 404;
- ``POST /recommendations/v1/papers[/]`` with ``positivePaperIds`` and ``negativePaperIds`` (``limit``
  default 100, at most 500) and ``GET /recommendations/v1/papers/forpaper/{id}``: ``{"recommendedPapers"}``
  ranked by a deterministic rule (`FakeS2.recommend`).

Every endpoint takes ``fields``: a paper object holds ``paperId`` and exactly the fields asked for among
paperId, externalIds, title, year, venue, citationCount, publicationDate, authors (paperId and title when
none are); an unknown field is a 400, an unknown paper a 404, each ``{"error": ...}`` as the real API words
it. ``citationCount`` is the number of citing papers in the graph plus the paper's ``extra_citations``.

A paper's references or citations can also be a listing recorded from the real API (`FakeS2.record`:
its items verbatim, unresolved ones with ``"paperId": null`` included; `recorded` reads tests/data/s2), and
``page_max`` is the most items one reply holds (1000, the API's limit for ``limit``; a test lowers it to
replay pages as they were recorded): a reply then holds ``limit`` items or fewer, and ``next`` (only while
items remain) is where the next page starts, counting every item, resolved or not, as the real API does.

Faults are injected per path prefix for a number of requests: 429 (with Retry-After, in the real API's
words), 503, a 200 whose JSON is cut off, a 200 of valid JSON in the wrong shape, a connection reset, a
reply ``slow_s`` seconds late, a listing page whose ``next`` is the offset asked ("stuck"), a redirect
(`FakeS2.redirect`). ``latency`` delays every reply. It logs every request (method, path, query,
headers, JSON body, time) and the most requests it ever had in flight, for tests to assert on.

    with FakeS2.sample("papers.yaml") as server:   # or FakeS2.running(), then add_paper() and cite()
        server.fail("/graph/v1/paper/batch", "429", retry_after=1)
        ...
        assert server.count("/graph/v1/paper/batch") == 2
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import random
import re
import socket
import struct
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from loopback import LoopbackServer

#: The paper fields the fake knows, in the order a reply lists them.
PAPER_FIELDS = (
    "paperId",
    "externalIds",
    "title",
    "year",
    "venue",
    "citationCount",
    "publicationDate",
    "authors",
)
DEFAULT_FIELDS = ("paperId", "title")
#: Fields of a references/citations item itself (not of the nested paper).
EDGE_FIELDS = ("contexts", "intents", "isInfluential")
FAULT_KINDS = ("429", "503", "malformed", "wrong-shape", "reset", "slow", "stuck", "redirect")
DATA = Path(__file__).resolve().parent / "data" / "s2"  # real replies of the API (tests/data/s2/README.md)
MAX_BATCH = 500
MAX_EDGE_LIMIT = 1000
MAX_RECS_LIMIT = 500
MATCH_THRESHOLD = 0.6
TOO_MANY = (
    "Too Many Requests. Please wait and try again or apply for a key for higher rate limits. "
    "https://www.semanticscholar.org/product/api#api-key-form"
)
GRAPH_PAPER = "/graph/v1/paper/"
RECS_PAPERS = "/recommendations/v1/papers"
PAPER_ID = re.compile(r"^[0-9a-f]{40}$")
ARXIV_VERSION = re.compile(r"v\d+$")
NEW_ARXIV = re.compile(r"^(\d{2})(\d{2})\.\d{4,5}$")


def paper_id_of(key: str) -> str:
    """The paperId of the paper added under ``key``: the SHA-1 of the key, 40 lowercase hex digits."""
    return hashlib.sha1(key.encode()).hexdigest()


def words_of(text: str) -> tuple[str, ...]:
    """A title as the match endpoint compares it: its lowercase alphanumeric words."""
    return tuple(re.findall(r"[a-z0-9]+", text.lower()))


def _author_id(name: str) -> str:
    return str(int(hashlib.sha1(name.encode()).hexdigest()[:8], 16) % 10**9)


@dataclass(eq=False)
class S2Paper:
    """One paper of the graph. ``references`` and ``citing`` hold paperIds."""

    paper_id: str
    corpus_id: int
    title: str
    year: int | None = None
    venue: str = ""
    arxiv: str | None = None  # without version
    doi: str | None = None
    date: str | None = None  # "YYYY-MM-DD"
    authors: tuple[tuple[str, str], ...] = ()  # (authorId, name)
    extra_citations: int = 0
    references: list[str] = field(default_factory=list)  # in the order they were added
    citing: set[str] = field(default_factory=set)  # the papers that reference this one
    words: tuple[str, ...] = ()
    word_set: frozenset[str] = frozenset()

    @property
    def citation_count(self) -> int:
        return len(self.citing) + self.extra_citations

    def external_ids(self) -> dict[str, Any]:
        ids: dict[str, Any] = {}
        if self.arxiv:
            ids["ArXiv"] = self.arxiv
        if self.doi:
            ids["DOI"] = self.doi
        ids["CorpusId"] = self.corpus_id
        return ids

    def to_json(self, fields: Sequence[str] = DEFAULT_FIELDS) -> dict[str, Any]:
        """The API's object for this paper: paperId, then each of ``fields`` in `PAPER_FIELDS` order."""
        values: dict[str, Any] = {
            "externalIds": self.external_ids(),
            "title": self.title,
            "year": self.year,
            "venue": self.venue,
            "citationCount": self.citation_count,
            "publicationDate": self.date,
            "authors": [{"authorId": author_id, "name": name} for author_id, name in self.authors],
        }
        return {
            "paperId": self.paper_id,
            **{name: values[name] for name in PAPER_FIELDS[1:] if name in fields},
        }


@dataclass
class Fault:
    kind: str
    path: str
    times: int | None  # None: every matching request
    retry_after: str | None = None
    slow_s: float = 3.0
    location: str = ""  # where a "redirect" sends the client
    status: int = 307  # a redirect's status


@dataclass(frozen=True)
class LoggedRequest:
    """One request as the server saw it: ``path`` decoded, ``query`` one value a name (the last)."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # names in lowercase
    body: Any  # the JSON body, or None (none, or not JSON)
    time: float  # time.monotonic()


class ApiError(Exception):
    """An error reply: ``status`` with ``{"error": message}``."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


class FakeS2(LoopbackServer):
    """The fake server and its graph. Build the graph before or while it runs; `start` or ``with`` serves it.

    ``latency`` delays every reply; ``slow_s`` is how late a "slow" fault answers unless `fail` says.
    """

    def __init__(self, *, latency: float = 0.0, slow_s: float = 3.0):
        self.latency = latency
        self.slow_s = slow_s
        self.papers: dict[str, S2Paper] = {}
        self.page_max = MAX_EDGE_LIMIT  # the most items one page of references or citations holds
        self.recorded: dict[tuple[str, str], list[Any]] = {}  # (paperId, item name) -> a recorded listing
        self.faults: list[Fault] = []
        self.requests_log: list[LoggedRequest] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._by_arxiv: dict[str, str] = {}
        self._by_doi: dict[str, str] = {}
        self._by_corpus: dict[int, str] = {}
        self._citations: dict[str, list[str]] = {}  # cache of each paper's citations in reply order
        self._lock = threading.RLock()

    # -- lifecycle (start, stop, with, base_url: `LoopbackServer`) -------------------------------------

    thread_name = "fake-s2"

    def handler(self) -> type[BaseHTTPRequestHandler]:
        return _Handler

    @classmethod
    @contextlib.contextmanager
    def running(
        cls, *, catalog: str | Path | None = None, latency: float = 0.0, slow_s: float = 3.0
    ) -> Iterator[FakeS2]:
        """A running server: empty, or with the sample graph of ``catalog`` (see `sample`)."""
        server = cls.sample(catalog) if catalog is not None else cls()
        server.latency, server.slow_s = latency, slow_s
        with server:
            yield server

    @property
    def url(self) -> str:
        """The Graph API root: ``http://127.0.0.1:PORT/graph/v1``."""
        return self.base_url + "/graph/v1"

    @property
    def recs_url(self) -> str:
        """The Recommendations API root: ``http://127.0.0.1:PORT/recommendations/v1``."""
        return self.base_url + "/recommendations/v1"

    # -- the graph ----------------------------------------------------------------------------------

    def add_paper(
        self,
        key: str,
        title: str,
        *,
        year: int | None = None,
        arxiv: str | None = None,
        doi: str | None = None,
        venue: str = "",
        authors: Sequence[str] = ("A. Author",),
        extra_citations: int = 0,
        date: str | None = None,
    ) -> str:
        """Add a paper; its paperId (`paper_id_of` ``key``). ``year`` defaults to the year of ``date``.

        A key, arXiv id or DOI already in the graph is a ``ValueError``.
        """
        pid = paper_id_of(key)
        base = ARXIV_VERSION.sub("", arxiv.strip()) if arxiv else None
        with self._lock:
            if pid in self.papers:
                raise ValueError(f"a paper with key {key!r} is already in the graph")
            if base and base in self._by_arxiv:
                raise ValueError(f"arXiv id {base} is already in the graph")
            if doi and doi.lower() in self._by_doi:
                raise ValueError(f"DOI {doi} is already in the graph")
            corpus = int(pid[:12], 16) % 900_000_000 + 100_000_000
            while corpus in self._by_corpus:
                corpus += 1
            words = words_of(title)
            self.papers[pid] = S2Paper(
                paper_id=pid,
                corpus_id=corpus,
                title=title,
                year=year if year is not None or not date else int(date[:4]),
                venue=venue,
                arxiv=base,
                doi=doi,
                date=date,
                authors=tuple((_author_id(name), name) for name in authors),
                extra_citations=extra_citations,
                words=words,
                word_set=frozenset(words),
            )
            self._by_corpus[corpus] = pid
            if base:
                self._by_arxiv[base] = pid
            if doi:
                self._by_doi[doi.lower()] = pid
        return pid

    def cite(self, citing: str, cited: str) -> None:
        """Add a reference from ``citing`` to ``cited`` (each a key, a paperId or an API id); once only."""
        with self._lock:
            source, target = self.get(citing), self.get(cited)
            if source is target:
                raise ValueError(f"a paper cannot cite itself: {citing!r}")
            if target.paper_id in source.references:
                return
            source.references.append(target.paper_id)
            target.citing.add(source.paper_id)
            self._citations.pop(target.paper_id, None)

    def get(self, key_or_id: str) -> S2Paper:
        """The paper added under this key, or with this paperId or API id; ``KeyError`` when none."""
        with self._lock:
            paper = self.papers.get(paper_id_of(key_or_id)) or self.resolve(key_or_id)
        if paper is None:
            raise KeyError(key_or_id)
        return paper

    def resolve(self, ident: str) -> S2Paper | None:
        """The paper an API id names (paperId, ``ARXIV:``, ``DOI:``, ``CorpusId:``), or None."""
        ident = ident.strip()
        prefix, colon, rest = ident.partition(":")
        rest = rest.strip()
        pid: str | None = None
        if not colon:
            pid = ident.lower() if PAPER_ID.match(ident.lower()) else None
        elif prefix.lower() == "arxiv":
            pid = self._by_arxiv.get(ARXIV_VERSION.sub("", rest))
        elif prefix.lower() == "doi":
            pid = self._by_doi.get(rest.lower())
        elif prefix.lower() == "corpusid" and rest.isdigit():
            pid = self._by_corpus.get(int(rest))
        return self.papers.get(pid) if pid else None

    def citations_of(self, paper: S2Paper) -> list[str]:
        """The paperIds citing ``paper``, in reply order: newest publicationDate first, undated last, ties
        by paperId."""
        with self._lock:
            cached = self._citations.get(paper.paper_id)
            if cached is None:
                by_id = sorted(paper.citing)
                cached = sorted(by_id, key=lambda pid: self.papers[pid].date or "", reverse=True)
                self._citations[paper.paper_id] = cached
            return cached

    def recommend(self, positive: Iterable[str], negative: Iterable[str] = (), limit: int = 100) -> list[str]:
        """The paperIds the recommendations endpoint returns for these papers (API ids; unknown ones ignored).

        Each paper that is neither positive nor negative scores the number of distinct references it shares
        with the positives, minus those it shares with the negatives, plus the number of positives it cites
        or is cited by. Those scoring above zero come by score, then citationCount (both descending), then
        paperId, at most ``limit`` of them.
        """
        with self._lock:
            pos = [p for p in (self.resolve(i) for i in positive) if p]
            neg = [p for p in (self.resolve(i) for i in negative) if p]
            score: Counter[str] = Counter()
            for sign, papers in ((1, pos), (-1, neg)):
                for ref in {r for p in papers for r in p.references}:
                    for pid in self.papers[ref].citing:
                        score[pid] += sign
            for p in pos:
                for pid in p.citing.union(p.references):
                    score[pid] += 1
            excluded = {p.paper_id for p in pos + neg}
            ranked = [pid for pid, s in score.items() if s > 0 and pid not in excluded]
            ranked.sort(key=lambda pid: (-score[pid], -self.papers[pid].citation_count, pid))
            return ranked[:limit]

    @classmethod
    def sample(cls, catalog: str | Path, *, followups: int = 2500) -> FakeS2:
        """A server (not started) holding a deterministic graph built from a readtrack papers.yaml.

        - every list paper with an arXiv id or a year (its duplicates once), keyed ``list:<arxiv id>`` or
          ``list:<title words>``; one without an arXiv id has no DOI either: only a title match finds it;
        - 40 older "classics", keyed ``classic:NN``: 20 with an ArXiv id ``1501.000NN`` (some also a DOI),
          12 with a DOI only, 8 with neither; cited by many papers outside the graph (``extra_citations``);
        - each list paper references 2-4 earlier list papers and 4-10 classics (from before it), drawn with a
          skewed distribution, so that a few classics are cited by many list papers;
        - 120 newer papers (2023-2025, ArXiv ``YYMM.0NNNN``), keyed ``new:NNN``, each citing 2-5 earlier list
          papers (skewed too);
        - when 1706.03762 is on the list, ``followups`` more papers citing it ("Follow-up work NNNN on
          attention", keyed ``followup:NNNN``), for clients that must page through citations and cap.
        """
        from readtrack.catalog.reader import load

        fake = cls()
        listed = [(paper.title, paper.arxiv, paper.year) for paper in load(catalog, cache=False).papers()]
        _build_sample(fake, listed, followups)
        return fake

    def record(self, key_or_id: str, kind: str, items: Sequence[Any]) -> None:
        """Serve ``items`` (the API's item objects as recorded, ``{"citedPaper": {...}}`` or
        ``{"citingPaper": {...}}``, unresolved ones included) as the paper's ``kind``: "references" or
        "citations", in place of the graph's. The items are sent as they are, whatever ``fields`` asks."""
        item = {"references": "citedPaper", "citations": "citingPaper"}[kind]
        with self._lock:
            self.recorded[(self.get(key_or_id).paper_id, item)] = list(items)

    # -- faults and the log ---------------------------------------------------------------------------

    def redirect(self, path_prefix: str, location: str, *, status: int = 307, times: int | None = 1) -> None:
        """Answer the next ``times`` requests whose path starts with ``path_prefix`` with a redirect to
        ``location`` (its query appended as it came: a 307 keeps the method and body)."""
        fault = Fault("redirect", path_prefix, times, location=location, status=status)
        with self._lock:
            self.faults.append(fault)

    def fail(
        self,
        path_prefix: str,
        kind: str,
        times: int | None = 1,
        retry_after: float | str | None = None,
        slow_s: float | None = None,
    ) -> None:
        """Make the next ``times`` requests whose path starts with ``path_prefix`` (decoded, no query, e.g.
        ``/graph/v1/paper/batch``) get the fault ``kind`` (None: every such request from now on).

        Kinds: "429" (with ``Retry-After: retry_after`` when given), "503", "malformed" (a 200 whose JSON
        is cut off), "wrong-shape" (a 200 of valid JSON in the wrong shape), "reset" (the connection closed
        without a reply), "slow" (a normal reply after ``slow_s`` seconds, default the server's ``slow_s``),
        "stuck" (a listing page whose ``next`` is the offset asked: the same page again).
        """
        if kind == "redirect":
            raise ValueError("use redirect() for a redirect: it needs a location")
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}: one of {', '.join(FAULT_KINDS)}")
        after = None
        if retry_after is not None:
            after = retry_after if isinstance(retry_after, str) else f"{retry_after:g}"
        fault = Fault(kind, path_prefix, times, after, self.slow_s if slow_s is None else slow_s)
        with self._lock:
            self.faults.append(fault)

    def take_fault(self, path: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if path.startswith(fault.path) and fault.times != 0:
                    if fault.times is not None:
                        fault.times -= 1
                    return fault
        return None

    def count(self, prefix: str = "") -> int:
        """How many requests had a path starting with ``prefix``."""
        with self._lock:
            return sum(1 for entry in self.requests_log if entry.path.startswith(prefix))

    def clear_log(self) -> None:
        """Empty the log and ``max_in_flight``, once replies still being written have ended."""
        deadline = time.monotonic() + 5
        while self.in_flight and time.monotonic() < deadline:
            time.sleep(0.01)
        with self._lock:
            self.requests_log.clear()
            self.max_in_flight = 0

    # -- the API --------------------------------------------------------------------------------------

    def answer(self, method: str, raw_path: str, query: dict[str, str], body: Any) -> tuple[int, Any]:
        """The status and JSON reply for a request (``raw_path`` still URL-encoded), without the HTTP."""
        try:
            with self._lock:
                return 200, self._route(method, raw_path, query, body)
        except ApiError as error:
            return error.status, {"error": error.message}

    def _route(self, method: str, raw_path: str, query: dict[str, str], body: Any) -> Any:
        if raw_path.startswith(GRAPH_PAPER):
            rest = raw_path[len(GRAPH_PAPER) :]
            if rest == "batch":
                _method(method, "POST")
                return self._batch(query, body)
            _method(method, "GET")
            if rest == "search/match":
                return self._match(query)
            for suffix, item in (("/references", "citedPaper"), ("/citations", "citingPaper")):
                if rest.endswith(suffix) and len(rest) > len(suffix):
                    return self._edges(unquote(rest[: -len(suffix)]), query, item)
            if rest:
                fields = _fields(query)
                return self._paper(unquote(rest)).to_json(fields)
        elif raw_path.rstrip("/") == RECS_PAPERS:
            _method(method, "POST")
            return self._recommendations(query, body)
        elif raw_path.startswith(RECS_PAPERS + "/forpaper/"):
            _method(method, "GET")
            ident = unquote(raw_path[len(RECS_PAPERS + "/forpaper/") :])
            return self._recommendations(query, {"positivePaperIds": [self._paper(ident).paper_id]})
        raise ApiError(404, "Not found")

    def _paper(self, ident: str) -> S2Paper:
        paper = self.resolve(ident)
        if paper is None:
            raise ApiError(404, f"Paper with id {ident} not found")
        return paper

    def _batch(self, query: dict[str, str], body: Any) -> list[dict[str, Any] | None]:
        fields = _fields(query)
        ids = body.get("ids") if isinstance(body, dict) else None
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise ApiError(400, 'Unacceptable JSON body: expected {"ids": [<paper id>, ...]}')
        if len(ids) > MAX_BATCH:
            raise ApiError(400, f"Cannot process more than {MAX_BATCH} ids in one request, got {len(ids)}")
        return [paper.to_json(fields) if paper else None for paper in map(self.resolve, ids)]

    def _edges(self, ident: str, query: dict[str, str], item: str) -> dict[str, Any]:
        names = _fields(query, EDGE_FIELDS)
        paper = self._paper(ident)
        offset = _int_param(query, "offset", 0, 0, None)
        limit = _int_param(query, "limit", 100, 1, MAX_EDGE_LIMIT)
        ids = paper.references if item == "citedPaper" else self.citations_of(paper)
        recorded = self.recorded.get((paper.paper_id, item))
        total = len(recorded) if recorded is not None else len(ids)
        limit = min(limit, self.page_max)
        reply: dict[str, Any] = {"offset": offset}
        if offset + limit < total:
            reply["next"] = offset + limit
        if recorded is not None:
            reply["data"] = [json.loads(json.dumps(entry)) for entry in recorded[offset : offset + limit]]
            return reply
        data = []
        for pid in ids[offset : offset + limit]:
            entry: dict[str, Any] = {}
            if "contexts" in names:
                entry["contexts"] = []
            if "intents" in names:
                entry["intents"] = []
            if "isInfluential" in names:
                entry["isInfluential"] = False
            entry[item] = self.papers[pid].to_json(names)
            data.append(entry)
        reply["data"] = data
        return reply

    def _match(self, query: dict[str, str]) -> dict[str, Any]:
        fields = _fields(query)
        words = words_of(query.get("query", ""))
        if not words:
            raise ApiError(400, "Missing required parameter: 'query'")
        wanted = frozenset(words)
        best: tuple[float, int, str] | None = None  # (-score, -citationCount, paperId): the least wins
        for paper in self.papers.values():
            if paper.words == words:
                score = 100.0
            else:
                union = len(wanted | paper.word_set)
                jaccard = len(wanted & paper.word_set) / union if union else 0.0
                if jaccard < MATCH_THRESHOLD:
                    continue
                score = round(min(99.99, 100.0 * jaccard), 2)
            candidate = (-score, -paper.citation_count, paper.paper_id)
            if best is None or candidate < best:
                best = candidate
        if best is None:
            raise ApiError(404, "Title match not found")
        return {"data": [{**self.papers[best[2]].to_json(fields), "matchScore": -best[0]}]}

    def _recommendations(self, query: dict[str, str], body: Any) -> dict[str, Any]:
        fields = _fields(query)
        limit = _int_param(query, "limit", 100, 1, MAX_RECS_LIMIT)
        if not isinstance(body, dict):
            raise ApiError(400, "Unacceptable JSON body: expected an object")
        lists = []
        for name in ("positivePaperIds", "negativePaperIds"):
            ids = body.get(name, [])
            if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
                raise ApiError(400, f"Unacceptable JSON body: {name} must be a list of paper ids")
            lists.append(ids)
        if not lists[0]:
            raise ApiError(400, "Must provide at least one paper id in positivePaperIds")
        ranked = self.recommend(lists[0], lists[1], limit)
        return {"recommendedPapers": [self.papers[pid].to_json(fields) for pid in ranked]}


def recorded(name: str) -> dict[str, Any]:
    """A real reply of the API kept in tests/data/s2 (``rec__test_get_paper_references__00.json``): its
    ``method``, ``uri``, ``status`` and ``body`` (decoded: the JSON the API sent)."""
    found = json.loads((DATA / name).read_text(encoding="utf-8"))
    return {**found, "body": json.loads(found["body"])}


def _method(method: str, wanted: str) -> None:
    if method != wanted:
        raise ApiError(405, f"Method {method} not allowed here")


def _fields(query: dict[str, str], extra: Sequence[str] = ()) -> tuple[str, ...]:
    names = [name.strip() for name in query.get("fields", "").split(",") if name.strip()]
    if not names:
        return DEFAULT_FIELDS
    unknown = [name for name in names if name not in PAPER_FIELDS and name not in extra]
    if unknown:
        raise ApiError(400, f"Unrecognized or unsupported fields: [{', '.join(unknown)}]")
    return tuple(dict.fromkeys(names))


def _int_param(query: dict[str, str], name: str, default: int, low: int, high: int | None) -> int:
    text = query.get(name, "").strip()
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        raise ApiError(400, f"The {name} parameter must be an integer, got {text!r}") from None
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise ApiError(400, f"The {name} parameter must be {bound}, got {value}")
    return value


# -- the sample graph ---------------------------------------------------------------------------------

FIRST_NAMES = ("Ada", "Yann", "Geoffrey", "Fei", "Jürgen", "Yoshua", "Daphne", "Andrew", "Ilya", "Noam")
LAST_NAMES = ("Lovelace", "Hinton", "Schmidhuber", "Koller", "Sutskever", "Shazeer", "Bengio", "Li", "Ng")
VENUES = ("", "", "arXiv.org", "NeurIPS", "ICML", "ICLR", "CVPR", "ACL", "Nature", "J. Mach. Learn. Res.")
CLASSIC_WORDS = (
    ("Stochastic", "Hierarchical", "Probabilistic", "Recurrent", "Convolutional", "Adaptive", "Sparse"),
    ("Networks", "Models", "Machines", "Estimators", "Representations", "Codes", "Filters"),
    ("Speech", "Vision", "Language", "Control", "Inference", "Optimization", "Memory"),
)
NEW_WORDS = (
    ("Scaling", "Distilling", "Aligning", "Probing", "Compressing", "Routing", "Steering", "Merging"),
    ("Mixtures", "State Spaces", "Long Contexts", "Small Models", "Agents", "Adapters", "Tokenizers"),
    ("Reasoning", "Retrieval", "Efficiency", "Robustness", "Multimodality", "Pretraining", "Planning"),
)


def _skewed(rng: random.Random, items: Sequence[str], weights: dict[str, float], k: int) -> list[str]:
    """``k`` distinct items drawn with probability proportional to their weight (Efraimidis-Spirakis)."""
    keyed = sorted(items, key=lambda item: rng.random() ** (1.0 / weights[item]), reverse=True)
    return keyed[: min(k, len(items))]


def _zipf(rng: random.Random, keys: Sequence[str]) -> dict[str, float]:
    """Weights 1/rank over a random ranking of ``keys``: a few are drawn very often."""
    ranks = list(range(1, len(keys) + 1))
    rng.shuffle(ranks)
    return {key: 1.0 / rank for key, rank in zip(keys, ranks, strict=True)}


def _authors(rng: random.Random) -> list[str]:
    return [f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}" for _ in range(rng.randint(1, 4))]


def _unique_title(rng: random.Random, parts: Sequence[Sequence[str]], taken: set[str]) -> str:
    while True:
        title = "{} {} for {}".format(*(rng.choice(words) for words in parts))
        if title not in taken:
            taken.add(title)
            return title


#: A reading-list paper as the sample graph takes it: (title, arXiv id, year).
Listed = tuple[str, str | None, int | None]


def _build_sample(fake: FakeS2, listed: Sequence[Listed], followups: int) -> None:
    rng = random.Random(0)
    dates: dict[str, str] = {}  # key -> publicationDate, or "YYYY-00-00" when undated: what "earlier" means
    list_keys = _add_list(fake, rng, listed, dates)
    classic_keys = _add_classics(fake, rng, dates)
    classic_weights = _zipf(rng, classic_keys)
    by_date = sorted(list_keys, key=lambda key: (dates[key], key))
    for i, key in enumerate(by_date):
        for earlier in rng.sample(by_date[:i], min(rng.randint(2, 4), i)):
            fake.cite(key, earlier)
        older = [c for c in classic_keys if dates[c] < dates[key]]
        for classic in _skewed(rng, older, classic_weights, rng.randint(4, 10)):
            fake.cite(key, classic)
    _add_newer(fake, rng, list_keys, dates)
    transformer = fake.resolve("ARXIV:1706.03762")
    if transformer is not None:
        _add_followups(fake, rng, transformer.paper_id, followups)


def _add_list(
    fake: FakeS2,
    rng: random.Random,
    listed: Sequence[Listed],
    dates: dict[str, str],
) -> list[str]:
    """The reading list's papers, (title, arxiv, year) in document order, each once; their keys."""
    keys: list[str] = []
    for title, arxiv, listed_year in listed:
        base = ARXIV_VERSION.sub("", arxiv) if arxiv else None
        new_style = NEW_ARXIV.match(base) if base else None
        arxiv_year = 2000 + int(new_style.group(1)) if new_style else None
        year = listed_year or arxiv_year
        key = f"list:{base}" if base else "list:" + " ".join(words_of(title))
        if year is None or paper_id_of(key) in fake.papers:
            continue
        month = int(new_style.group(2)) if new_style and arxiv_year == year else rng.randint(1, 12)
        date = f"{year}-{month:02d}-{rng.randint(1, 28):02d}"
        venue, authors = rng.choice(VENUES), _authors(rng)
        fake.add_paper(key, title, year=year, arxiv=base, venue=venue, authors=authors, date=date)
        dates[key] = date
        keys.append(key)
    return keys


def _add_classics(fake: FakeS2, rng: random.Random, dates: dict[str, str]) -> list[str]:
    """40 older papers: ArXiv ids for the first 20 (a DOI too for every third), a DOI only for the next 12,
    neither for the last 8; about a third undated."""
    taken: set[str] = set()
    keys = []
    for n in range(40):
        key = f"classic:{n:02d}"
        year = rng.randint(1958, 2014)
        date = f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}" if rng.random() < 0.7 else None
        with_doi = (n < 20 and n % 3 == 0) or 20 <= n < 32
        fake.add_paper(
            key,
            _unique_title(rng, CLASSIC_WORDS, taken),
            year=year,
            arxiv=f"1501.{n + 1:05d}" if n < 20 else None,
            doi=f"10.{1000 + n}/Classic.{year}.{n:02d}" if with_doi else None,
            venue=rng.choice(VENUES[2:]),
            authors=_authors(rng),
            extra_citations=rng.randint(100, 30_000),
            date=date,
        )
        dates[key] = date or f"{year}-00-00"
        keys.append(key)
    return keys


def _add_newer(fake: FakeS2, rng: random.Random, list_keys: Sequence[str], dates: dict[str, str]) -> None:
    """120 papers of 2023-2025, each citing 2-5 earlier list papers, a few of them very often."""
    weights = _zipf(rng, list_keys)
    taken: set[str] = set()
    for n in range(120):
        year, month = rng.randint(2023, 2025), rng.randint(1, 12)
        date = f"{year}-{month:02d}-{rng.randint(1, 28):02d}"
        key = f"new:{n:03d}"
        fake.add_paper(
            key,
            _unique_title(rng, NEW_WORDS, taken),
            arxiv=f"{year % 100:02d}{month:02d}.0{n + 1:04d}",
            venue=rng.choice(VENUES),
            authors=_authors(rng),
            date=date,
        )
        earlier = [k for k in list_keys if dates[k] < date]
        for cited in _skewed(rng, earlier, weights, rng.randint(2, 5)):
            fake.cite(key, cited)


def _add_followups(fake: FakeS2, rng: random.Random, cited: str, count: int) -> None:
    """``count`` papers of 2018-2025 citing ``cited``: enough that a client must page and cap."""
    authors = ("F. Follower",)
    for n in range(1, count + 1):
        date = f"{rng.randint(2018, 2025)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        key = f"followup:{n:04d}"
        fake.add_paper(key, f"Follow-up work {n:04d} on attention", authors=authors, date=date)
        fake.cite(key, cited)


# -- HTTP ---------------------------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    fake: FakeS2
    protocol_version = "HTTP/1.1"
    server_version = "FakeS2/1.0"
    # headers and body go out in two writes: without TCP_NODELAY each reply waits ~40 ms for a delayed ACK
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: object) -> None:  # quiet: tests read the log, not stderr
        pass

    def handle_one_request(self) -> None:
        with contextlib.suppress(ConnectionError, BrokenPipeError, socket.timeout, OSError, ValueError):
            super().handle_one_request()

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def _handle(self) -> None:
        fake = self.fake
        url = urlsplit(self.path)
        path = unquote(url.path)
        query = {name: values[-1] for name, values in parse_qs(url.query, keep_blank_values=True).items()}
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length > 0 else b""  # read even when failing: keep-alive
        body: Any = None
        with contextlib.suppress(ValueError):
            body = json.loads(raw) if raw else None
        entry = LoggedRequest(
            method=self.command,
            path=path,
            query=query,
            headers={name.lower(): value for name, value in self.headers.items()},
            body=body,
            time=time.monotonic(),
        )
        with fake._lock:
            fake.requests_log.append(entry)
            fake.in_flight += 1
            fake.max_in_flight = max(fake.max_in_flight, fake.in_flight)
        try:
            if fake.latency:
                time.sleep(fake.latency)
            fault = fake.take_fault(path)
            if fault and self._fault(fault, path):
                return
            status, reply = fake.answer(self.command, url.path, query, body)
            if fault and fault.kind == "stuck" and status == 200 and isinstance(reply, dict):
                reply["next"] = reply.get("offset", 0)  # "the next page is this one", forever
            self._send(status, json.dumps(reply).encode())
        finally:
            with fake._lock:
                fake.in_flight -= 1

    def _fault(self, fault: Fault, path: str) -> bool:
        """Apply ``fault``; True when it was the whole reply."""
        kind = fault.kind
        if kind == "429":
            extra = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
            self._send(429, json.dumps({"message": TOO_MANY, "code": "429"}).encode(), extra)
        elif kind == "503":
            self._send(503, json.dumps({"message": "Internal Server Error"}).encode())
        elif kind == "malformed":
            self._send(200, b'{"data": [')
        elif kind == "wrong-shape":
            edges = path.endswith(("/references", "/citations"))
            self._send(200, b'{"data": "oops"}' if edges else b'{"unexpected": true}')
        elif kind == "redirect":
            query = urlsplit(self.path).query
            target = fault.location + ("?" + query if query else "")
            self._send(fault.status, b"", {"Location": target})
        elif kind == "reset":
            # SO_LINGER 0 makes close() send a RST: the client sees "connection reset by peer"
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
        elif kind == "slow":  # answer normally, too late for a client with a shorter timeout
            time.sleep(fault.slow_s)
            return False
        else:  # "stuck": answered normally, its next changed by `_handle`
            return False
        return True

    def _send(self, status: int, body: bytes, extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()
