"""A fake arXiv on 127.0.0.1: the Atom API, PDFs, web pages, and the faults real servers have.

A real ``http.server.ThreadingHTTPServer`` in a thread, so readtrack's sync talks real HTTP to it (never the
live site). It serves:

- ``/api/query`` with ``id_list``, ``search_query`` (``ti:"..."``, ``all:...``, terms joined by ``AND``;
  or ``cat:A OR cat:B``, the papers of any of those categories), ``sortBy=submittedDate`` with
  ``sortOrder``, ``start`` and ``max_results``, answering in exactly the shape of the replies saved in
  /work/shared/arxiv-samples (or, with ``shape="old"``, the older one: namespaces declared on each element,
  hard-wrapped summaries); entries' pdf links point back at this server;
- ``/pdf/<id>``: a small valid PDF (``%PDF-1.4 ... %%EOF``), deterministic per id and size, with Range
  support (206);
- ``/web/<path>``: a PDF when the path ends in ``.pdf``, else an HTML page (a stand-in for other sites).

Faults are injected per path prefix, for a number of requests: 503 or 429 (with Retry-After), 403, a
connection reset, a redirect (to any ``location``, file:// included), a reply slower than the client's
timeout, a truncated PDF, HTML instead of a PDF, malformed XML, the error feed, the empty feed, an empty page
of a listing at a ``start`` whose total still counts its entries (arXiv's flaky page), an id the API
silently drops, a disconnect mid-download, a server that ignores Range. ``latency`` delays every reply. It
counts requests and bytes served per path, logs every request (path, query, headers, time) and the most
requests it ever had in flight, for tests to assert on.

    with FakeArxiv.running() as server:
        server.fail("/pdf/2205.14135", "disconnect", fraction=0.6)
        ...
        assert server.bytes_served["/pdf/2205.14135"] == ...
"""

from __future__ import annotations

import contextlib
import hashlib
import random
import re
import socket
import struct
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import cast
from urllib.parse import parse_qs, unquote, urlsplit
from xml.sax.saxutils import escape

from loopback import LoopbackServer

ATOM = "http://www.w3.org/2005/Atom"
OPENSEARCH = "http://a9.com/-/spec/opensearch/1.1/"
ARXIV = "http://arxiv.org/schemas/atom"
NEW_ID = re.compile(r"^\d{4}\.\d{4,5}$")
OLD_ID = re.compile(r"^[a-z]+(?:-[a-z]+)*(?:\.[A-Z]{2})?/\d{7}$")
WORDS = (
    "attention",
    "sparse",
    "learning",
    "transformer",
    "memory",
    "scaling",
    "networks",
    "gradient",
    "efficient",
    "language",
    "models",
    "deep",
    "residual",
    "training",
    "optimisation",
    "vision",
)


@dataclass
class FakePaper:
    """One paper the fake arXiv knows. Unknown ids are made up on request unless ``auto`` is off."""

    arxiv_id: str
    title: str = ""
    authors: list[str] = field(default_factory=list)
    abstract: str = ""
    version: int = 1
    categories: list[str] = field(default_factory=lambda: ["cs.LG", "cs.CL"])
    published: str = "2020-01-02T03:04:05Z"
    updated: str = "2020-02-03T04:05:06Z"
    doi: str | None = None
    journal_ref: str | None = None
    comment: str | None = "12 pages, 3 figures"
    pdf_size: int = 20_000

    @classmethod
    def made_up(cls, arxiv_id: str, pdf_size: int = 20_000) -> FakePaper:
        rng = random.Random(arxiv_id)
        words = rng.sample(WORDS, 5)
        title = " ".join(words).capitalize() + f" ({arxiv_id})"
        abstract = (
            f"We study {words[0]} and {words[1]} in {words[2]} {words[3]}. "
            f"Experiments on {words[4]} show that the approach of paper {arxiv_id} works.\n"
            "A second paragraph says what the experiments were."
        )
        day = datetime(2015, 1, 1, tzinfo=timezone.utc) + timedelta(days=rng.randrange(3000))
        return cls(
            arxiv_id=arxiv_id,
            title=title,
            authors=[f"Author {n} {arxiv_id}" for n in range(1, rng.randint(2, 4))],
            abstract=abstract,
            version=rng.randint(1, 3),
            published=day.strftime("%Y-%m-%dT%H:%M:%SZ"),
            updated=(day + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            doi=f"10.1234/fake.{arxiv_id.replace('/', '.')}" if rng.random() < 0.5 else None,
            pdf_size=pdf_size,
        )


@dataclass
class Fault:
    kind: str
    path: str
    times: int | None  # None: every matching request
    retry_after: str | None = None
    delay: float = 0.0
    fraction: float = 0.5
    content_type: str = "text/html; charset=utf-8"
    ids: frozenset[str] = frozenset()
    location: str = ""  # where a "redirect" sends the client
    start: int | None = None  # an "empty-page" at this ``start`` of a listing only


FAULT_KINDS = {
    "503",
    "429",
    "403",
    "404",
    "reset",
    "slow",
    "truncate",
    "html",
    "malformed",
    "error-feed",
    "empty-feed",
    "empty-page",
    "drop",
    "disconnect",
    "ignore-range",
    "trickle",
    "redirect",
}


def make_pdf(seed: str, size: int) -> bytes:
    """A valid one-page PDF of exactly ``size`` bytes (at least ~500), the same for the same seed and size."""
    header = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"
    text = f"BT /F1 18 Tf 72 720 Td (readtrack fake arXiv: {seed}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        None,  # the content stream, sized to fill
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]

    def build(padding: bytes) -> bytes:
        body = bytearray(header)
        offsets = []
        for number, obj in enumerate(objects, start=1):
            offsets.append(len(body))
            if obj is None:
                stream = text + b"\n%" + padding + b"\n"
                obj = b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"endstream"
            body += b"%d 0 obj\n" % number + obj + b"\nendobj\n"
        xref = len(body)
        body += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
        body += b"".join(b"%010d 00000 n \n" % off for off in offsets)
        body += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
        return bytes(body)

    # filler inside a comment line of the content stream, free of line breaks and PDF markers
    filler = random.Random(seed).randbytes(max(0, size))
    filler = filler.replace(b"\n", b" ").replace(b"\r", b" ").replace(b"%", b"#")
    fill = max(0, size - len(build(b"")))
    pdf = build(filler[:fill])
    while len(pdf) != size and fill > 0:  # the stream's /Length may gain a digit: settle in a step or two
        fill = max(0, fill - (len(pdf) - size))
        pdf = build(filler[:fill])
    return pdf


class FakeArxiv(LoopbackServer):
    """The fake server. With ``auto``, every well-formed id the API is asked for exists (made up)."""

    def __init__(
        self, *, auto: bool = True, latency: float = 0.0, shape: str = "new", pdf_size: int = 20_000
    ):
        self.auto = auto
        self.latency = latency
        self.shape = shape
        self.pdf_size = pdf_size
        self.papers: dict[str, FakePaper] = {}
        self.pages: dict[str, tuple[str, bytes]] = {}
        self.faults: list[Fault] = []
        self.requests: Counter[str] = Counter()
        self.bytes_served: Counter[str] = Counter()
        self.log: list[dict[str, object]] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        self._pdfs: dict[tuple[str, int], bytes] = {}

    # -- lifecycle (start, stop, with, base_url: `LoopbackServer`) -------------------------------------

    thread_name = "fake-arxiv"

    def handler(self) -> type[BaseHTTPRequestHandler]:
        return _Handler

    @classmethod
    @contextlib.contextmanager
    def running(cls, **options: object) -> Iterator[FakeArxiv]:
        server = cls(**options).start()  # type: ignore[arg-type]
        try:
            yield server
        finally:
            server.stop()

    @property
    def api_url(self) -> str:
        return self.base_url + "/api/query"

    def env(self, **extra: str) -> dict[str, str]:
        """Environment for readtrack pointed at this server, with fast, test-sized patience."""
        return {
            "READTRACK_ARXIV_API": self.api_url,
            "READTRACK_ARXIV_DELAY": "0",
            "READTRACK_TIMEOUT": "2",
            "READTRACK_BACKOFF": "0.05",
            "READTRACK_RETRIES": "3",
            **extra,
        }

    # -- content ------------------------------------------------------------------------------------

    def add(self, *papers: FakePaper) -> None:
        for paper in papers:
            self.papers[paper.arxiv_id] = paper

    def paper(self, arxiv_id: str) -> FakePaper | None:
        base = re.sub(r"v\d+$", "", arxiv_id)
        if base in self.papers:
            return self.papers[base]
        if self.auto and (NEW_ID.match(base) or OLD_ID.match(base)):
            self.papers[base] = FakePaper.made_up(base, self.pdf_size)
            return self.papers[base]
        return None

    def pdf_for(self, seed: str, size: int) -> bytes:
        key = (seed, size)
        if key not in self._pdfs:
            self._pdfs[key] = make_pdf(seed, size)
        return self._pdfs[key]

    def pdf_of(self, arxiv_id: str) -> bytes:
        """The bytes /pdf/<id> serves for a paper (what a correct download must equal)."""
        paper = self.paper(arxiv_id)
        assert paper is not None
        return self.pdf_for(f"{paper.arxiv_id}v{paper.version}", paper.pdf_size)

    def serve_pdf(self, arxiv_id: str, data: bytes) -> None:
        """Serve ``data`` (a real PDF the test made) as the PDF of ``arxiv_id`` instead of a made-up one."""
        paper = self.paper(arxiv_id)
        assert paper is not None
        paper.pdf_size = len(data)
        self._pdfs[(f"{paper.arxiv_id}v{paper.version}", len(data))] = data

    def web_pdf(self, path: str) -> bytes:
        return self.pdf_for(path, self.pdf_size)

    # -- faults and counters ------------------------------------------------------------------------

    def fail(self, path: str, kind: str, *, times: int | None = 1, **params: object) -> None:
        """Make the next ``times`` requests under ``path`` fail with ``kind`` (None: all of them)."""
        assert kind in FAULT_KINDS, kind
        if "ids" in params:
            params["ids"] = frozenset(cast("Iterable[str]", params["ids"]))
        self.faults.append(Fault(kind=kind, path=path, times=times, **params))  # type: ignore[arg-type]

    def drop(self, *arxiv_ids: str, times: int | None = 1) -> None:
        """The API silently leaves these ids out of its next ``times`` replies that were asked for them."""
        self.fail("/api/query", "drop", times=times, ids=frozenset(arxiv_ids))

    def take_fault(
        self, path: str, query_ids: set[str] | None = None, start: int | None = None
    ) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if not path.startswith(fault.path) or fault.times == 0:
                    continue
                if fault.kind == "drop" and not (query_ids and fault.ids & query_ids):
                    continue
                if fault.kind == "empty-page" and fault.start != start:
                    continue
                if fault.times is not None:
                    fault.times -= 1
                return fault
        return None

    @property
    def total_requests(self) -> int:
        return sum(self.requests.values())

    def api_calls(self) -> list[dict[str, list[str]]]:
        """The query parameters of every API request, in order."""
        return [entry["query"] for entry in self.log if entry["path"] == "/api/query"]  # type: ignore[misc]

    def reset_counters(self) -> None:
        """Zero the counters, once replies still being written (to clients that left) have ended."""
        deadline = time.monotonic() + 5
        while self.in_flight and time.monotonic() < deadline:
            time.sleep(0.01)
        with self._lock:
            self.requests.clear()
            self.bytes_served.clear()
            self.log.clear()
            self.max_in_flight = 0

    def _count(self, path: str, sent: int) -> None:
        with self._lock:
            self.bytes_served[path] += sent

    # -- the Atom replies ---------------------------------------------------------------------------

    def feed(
        self,
        entries: list[FakePaper],
        versions: dict[str, int],
        query: str,
        total: int,
        start: int,
        per_page: int,
    ) -> bytes:
        if self.shape == "old":
            return _old_feed(self.base_url, entries, versions, query, total, start, per_page)
        return _new_feed(self.base_url, entries, versions, query, total, start, per_page)


def quoteattr_free(text: str) -> str:
    """Text escaped for use inside a double-quoted XML attribute."""
    return escape(text, {'"': "&quot;"})


def _pdf_link(base_url: str, ident: str) -> str:
    return f"{base_url}/pdf/{ident}"


def _new_feed(
    base_url: str,
    entries: list[FakePaper],
    versions: dict[str, int],
    query: str,
    total: int,
    start: int,
    per_page: int,
) -> bytes:
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    digest = hashlib.sha1(query.encode()).hexdigest()[:27]
    lines = [
        "<?xml version='1.0' encoding='UTF-8'?>",
        f'<feed xmlns:opensearch="{OPENSEARCH}" xmlns:arxiv="{ARXIV}" xmlns="{ATOM}">',
        f"  <id>https://arxiv.org/api/{digest}</id>",
        f"  <title>arXiv Query: {escape(query)}</title>",
        f"  <updated>{now}</updated>",
        f'  <link href="https://arxiv.org/api/query?{quoteattr_free(query)}" type="application/atom+xml"/>',
        f"  <opensearch:itemsPerPage>{per_page}</opensearch:itemsPerPage>",
        f"  <opensearch:totalResults>{total}</opensearch:totalResults>",
        f"  <opensearch:startIndex>{start}</opensearch:startIndex>",
    ]
    for paper in entries:
        ident = f"{paper.arxiv_id}v{versions.get(paper.arxiv_id, paper.version)}"
        lines += [
            "  <entry>",
            f"    <id>http://arxiv.org/abs/{ident}</id>",
            f"    <title>{escape(paper.title)}</title>",
            f"    <updated>{paper.updated}</updated>",
            f'    <link href="https://arxiv.org/abs/{ident}" rel="alternate" type="text/html"/>',
            f'    <link href="{_pdf_link(base_url, ident)}" rel="related" type="application/pdf" '
            'title="pdf"/>',
            f"    <summary>{escape(paper.abstract.replace(chr(10), chr(10) + '  '))}</summary>",
        ]
        lines += [
            f'    <category term="{c}" scheme="http://arxiv.org/schemas/atom"/>' for c in paper.categories
        ]
        lines.append(f"    <published>{paper.published}</published>")
        if paper.comment:
            lines.append(f"    <arxiv:comment>{escape(paper.comment)}</arxiv:comment>")
        lines.append(f'    <arxiv:primary_category term="{paper.categories[0]}"/>')
        if paper.journal_ref:
            lines.append(f"    <arxiv:journal_ref>{escape(paper.journal_ref)}</arxiv:journal_ref>")
        for author in paper.authors:
            lines += ["    <author>", f"      <name>{escape(author)}</name>", "    </author>"]
        if paper.doi:
            lines.append(f"    <arxiv:doi>{escape(paper.doi)}</arxiv:doi>")
            lines.append(f'    <link rel="related" href="https://doi.org/{escape(paper.doi)}" title="doi"/>')
        lines.append("  </entry>")
    lines.append("</feed>")
    return ("\n".join(lines) + "\n").encode()


def _wrap(text: str, width: int = 78) -> str:
    """Hard-wrap like the older API: lines at ~80 columns, a new paragraph indented by two spaces."""
    out = []
    for paragraph in text.split("\n"):
        line = " "
        for word in paragraph.split():
            if len(line) + len(word) + 1 > width:
                out.append(line)
                line = word
            else:
                line = f"{line} {word}"
        out.append(line)
    return "\n".join(out) + "\n"


def _old_feed(
    base_url: str,
    entries: list[FakePaper],
    versions: dict[str, int],
    query: str,
    total: int,
    start: int,
    per_page: int,
) -> bytes:
    os_ns = f'xmlns:opensearch="{OPENSEARCH}"'
    ax_ns = f'xmlns:arxiv="{ARXIV}"'
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<feed xmlns="{ATOM}">',
        f'  <link href="http://arxiv.org/api/query?{quoteattr_free(query)}" rel="self" '
        'type="application/atom+xml"/>',
        f'  <title type="html">ArXiv Query: {escape(query)}</title>',
        "  <id>http://arxiv.org/api/oldshape</id>",
        "  <updated>2024-01-01T00:00:00-05:00</updated>",
        f"  <opensearch:totalResults {os_ns}>{total}</opensearch:totalResults>",
        f"  <opensearch:startIndex {os_ns}>{start}</opensearch:startIndex>",
        f"  <opensearch:itemsPerPage {os_ns}>{per_page}</opensearch:itemsPerPage>",
    ]
    for paper in entries:
        ident = f"{paper.arxiv_id}v{versions.get(paper.arxiv_id, paper.version)}"
        title = paper.title
        if len(title) > 40:  # the older API wrapped long titles too
            cut = title.rfind(" ", 0, 40)
            title = title[:cut] + "\n  " + title[cut + 1 :]
        lines += [
            "  <entry>",
            f"    <id>http://arxiv.org/abs/{ident}</id>",
            f"    <updated>{paper.updated}</updated>",
            f"    <published>{paper.published}</published>",
            f"    <title>{escape(title)}</title>",
            f"    <summary>{escape(_wrap(paper.abstract))}</summary>",
        ]
        for author in paper.authors:
            lines += ["    <author>", f"      <name>{escape(author)}</name>", "    </author>"]
        if paper.doi:
            lines.append(f"    <arxiv:doi {ax_ns}>{escape(paper.doi)}</arxiv:doi>")
            lines.append(
                f'    <link title="doi" href="http://dx.doi.org/{escape(paper.doi)}" rel="related"/>'
            )
        if paper.comment:
            lines.append(f"    <arxiv:comment {ax_ns}>{escape(paper.comment)}</arxiv:comment>")
        if paper.journal_ref:
            lines.append(f"    <arxiv:journal_ref {ax_ns}>{escape(paper.journal_ref)}</arxiv:journal_ref>")
        lines += [
            f'    <link href="http://arxiv.org/abs/{ident}" rel="alternate" type="text/html"/>',
            f'    <link title="pdf" href="{_pdf_link(base_url, ident)}" rel="related" '
            'type="application/pdf"/>',
            f'    <arxiv:primary_category {ax_ns} term="{paper.categories[0]}" '
            'scheme="http://arxiv.org/schemas/atom"/>',
        ]
        lines += [
            f'    <category term="{c}" scheme="http://arxiv.org/schemas/atom"/>' for c in paper.categories
        ]
        lines.append("  </entry>")
    lines.append("</feed>")
    return ("\n".join(lines) + "\n").encode()


def error_feed(message: str) -> bytes:
    """arXiv's error reply (sent with HTTP 400), shaped like arxiv_sample_atom_error_400.xml."""
    anchor = re.sub(r"\W+", "_", message)
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"""<?xml version='1.0' encoding='UTF-8'?>
<feed xmlns:opensearch="{OPENSEARCH}" xmlns:arxiv="{ARXIV}" xmlns="{ATOM}">
  <id>https://arxiv.org/</id>
  <title>arXiv Search Results</title>
  <updated>{now}</updated>
  <opensearch:itemsPerPage>1</opensearch:itemsPerPage>
  <opensearch:totalResults>1</opensearch:totalResults>
  <opensearch:startIndex>0</opensearch:startIndex>
  <entry>
    <id>https://arxiv.org/api/errors#{anchor}</id>
    <title>Error</title>
    <updated>{now}</updated>
    <link href="https://arxiv.org/api/errors#{anchor}" rel="alternate" type="text/html"/>
    <summary>{escape(message)}</summary>
    <author>
      <name>arXiv api core</name>
    </author>
  </entry>
</feed>
""".encode()


HTML_PAGE = b"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>A web page</title></head>
<body><h1>Not a PDF</h1><p>This is a web page, as a blog or a publisher's landing page would be.</p></body>
</html>
"""


def _title_matches(title: str, phrase: str) -> bool:
    def words(text: str) -> str:
        return " ".join(re.findall(r"[a-z0-9]+", text.lower()))

    return words(phrase) in words(title)


@contextlib.contextmanager
def serving(monkeypatch: object, **options: object) -> Iterator[FakeArxiv]:
    """A running fake arXiv with READTRACK_* pointed at it for this test (in-process and subprocesses)."""
    with FakeArxiv.running(**options) as server:
        for name, value in server.env().items():
            monkeypatch.setenv(name, value)  # type: ignore[attr-defined]
        yield server


def point_urls_at(catalog: Path, web: FakeArxiv | str) -> list[str]:
    """Rewrite every ``url:`` of a papers.yaml copy to a fake web host (same host and path under /web/).

    The seed list links to live sites; tests must never reach them. Returns the new urls.
    """
    base = web if isinstance(web, str) else web.base_url
    text = catalog.read_text(encoding="utf-8")
    pattern = re.compile(r"^(\s*url: )https?://(\S+)$", re.MULTILINE)
    text = pattern.sub(lambda m: f"{m.group(1)}{base}/web/{m.group(2)}", text)
    catalog.write_text(text, encoding="utf-8")
    return re.findall(r"^\s*url: (\S+)$", text, re.MULTILINE)


class _Handler(BaseHTTPRequestHandler):
    fake: FakeArxiv
    protocol_version = "HTTP/1.1"
    server_version = "FakeArxiv/1.0"
    # headers and body go out in two writes: with Nagle's algorithm each reply waited ~40 ms for the
    # client's delayed ACK, so every request to the fake took 44 ms (10 queries: 0.44 s); now 0.5 ms
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: object) -> None:  # quiet: tests read counters, not logs
        pass

    def handle_one_request(self) -> None:
        with contextlib.suppress(ConnectionError, BrokenPipeError, socket.timeout, OSError, ValueError):
            super().handle_one_request()

    def do_HEAD(self) -> None:
        self.do_GET(head=True)

    def do_GET(self, head: bool = False) -> None:
        fake = self.fake
        url = urlsplit(self.path)
        path = unquote(url.path)
        query = parse_qs(url.query, keep_blank_values=True)
        with fake._lock:
            fake.requests[path] += 1
            fake.log.append(
                {
                    "path": path,
                    "query": query,
                    "headers": dict(self.headers),
                    "time": time.monotonic(),
                    "method": self.command,
                }
            )
            fake.in_flight += 1
            fake.max_in_flight = max(fake.max_in_flight, fake.in_flight)
        try:
            if fake.latency:
                time.sleep(fake.latency)
            self._route(path, query, head)
        finally:
            with fake._lock:
                fake.in_flight -= 1

    # -- routing ------------------------------------------------------------------------------------

    def _route(self, path: str, query: dict[str, list[str]], head: bool) -> None:
        ids = start = None
        if path == "/api/query":
            ids = {re.sub(r"v\d+$", "", i) for i in ",".join(query.get("id_list", [""])).split(",") if i}
            start = int((query.get("start") or ["0"])[0] or 0)
        fault = self.fake.take_fault(path, ids, start)
        if fault and self._general_fault(fault, path):
            return
        if path == "/api/query":
            self._api(query, fault)
        elif path.startswith("/pdf/"):
            paper = self.fake.paper(path[len("/pdf/") :])
            if paper is None:
                self._send(path, 404, "text/html", b"<html>no such paper</html>", head)
                return
            version = re.search(r"v(\d+)$", path)
            seed = f"{paper.arxiv_id}v{version.group(1) if version else paper.version}"
            self._pdf(path, self.fake.pdf_for(seed, paper.pdf_size), fault, head)
        elif path in self.fake.pages:
            content_type, body = self.fake.pages[path]
            self._send(path, 200, content_type, body, head)
        elif path.startswith("/web/"):
            if path.lower().endswith(".pdf"):
                self._pdf(path, self.fake.web_pdf(path), fault, head)
            else:
                self._send(path, 200, "text/html; charset=utf-8", HTML_PAGE, head)
        else:
            self._send(path, 404, "text/plain", b"not found\n", head)

    def _general_fault(self, fault: Fault, path: str) -> bool:
        kind = fault.kind
        if kind in ("503", "429", "403", "404"):
            headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
            self._send(path, int(kind), "text/html", b"<html>try later</html>", extra=headers)
            return True
        if kind == "reset":
            # SO_LINGER 0 makes close() send a RST: the client sees "connection reset by peer"
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
            return True
        if kind == "redirect":
            self._send(path, 302, "text/html", b"<html>moved</html>", extra={"Location": fault.location})
            return True
        if kind == "slow":
            time.sleep(fault.delay)
            return False  # then answer normally, too late for a client with a shorter timeout
        if kind == "html":
            self._send(path, 200, fault.content_type, HTML_PAGE)
            return True
        return False

    def _api(self, query: dict[str, list[str]], fault: Fault | None) -> None:
        fake = self.fake
        raw_query = "&".join(f"{k}={','.join(v)}" for k, v in query.items())
        if fault and fault.kind == "malformed":
            self._send(
                "/api/query",
                200,
                "application/atom+xml; charset=utf-8",
                b"<?xml version='1.0' encoding='UTF-8'?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\n"
                b"  <entry><id>http://arxiv.org/abs/1706.03762v5</id><title>Attention Is</title>\n",
            )
            return
        if fault and fault.kind == "error-feed":
            self._send(
                "/api/query",
                400,
                "application/atom+xml; charset=utf-8",
                error_feed("incorrect id format for abc"),
            )
            return
        start = int((query.get("start") or ["0"])[0] or 0)
        per_page = int((query.get("max_results") or ["10"])[0] or 10)
        id_list = [i for i in ",".join(query.get("id_list", [""])).split(",") if i]
        found: list[FakePaper] = []
        versions: dict[str, int] = {}
        bad = [
            i
            for i in id_list
            if not (NEW_ID.match(re.sub(r"v\d+$", "", i)) or OLD_ID.match(re.sub(r"v\d+$", "", i)))
        ]
        if bad:
            self._send(
                "/api/query",
                400,
                "application/atom+xml; charset=utf-8",
                error_feed(f"incorrect id format for {bad[0]}"),
            )
            return
        if id_list:
            for ident in id_list:
                paper = fake.paper(ident)
                if paper is None:
                    continue
                version = re.search(r"v(\d+)$", ident)
                if version:
                    versions[paper.arxiv_id] = int(version.group(1))
                found.append(paper)
        search = (query.get("search_query") or [""])[0]
        if search.startswith("cat:"):  # the newest of some categories (feed): cat:cs.LG OR cat:cs.CL
            wanted = {term.strip()[len("cat:") :] for term in search.split(" OR ")}
            found = [p for p in fake.papers.values() if wanted & set(p.categories)]
            search = ""
        if (query.get("sortBy") or [""])[0] == "submittedDate":
            descending = (query.get("sortOrder") or [""])[0] == "descending"
            found.sort(key=lambda p: p.published, reverse=descending)
        if search:  # ti:"a phrase", or terms joined by AND (ti:deep AND ti:residual): each must match
            phrases = []
            for term in search.split(" AND "):
                match = re.match(r'^(ti|all):"?(.*?)"?$', term.strip())
                phrases.append(match.group(2) if match else term)
            candidates = found if id_list else list(fake.papers.values())
            found = [p for p in candidates if all(_title_matches(p.title, phrase) for phrase in phrases)]
        if fault and fault.kind == "drop":
            found = [p for p in found if p.arxiv_id not in fault.ids]
        if fault and fault.kind == "empty-feed":
            found = []
        page = found[start : start + per_page]
        if fault and fault.kind == "empty-page":  # arXiv's flaky page: no entries, the total still counted
            page = []
        body = fake.feed(page, versions, raw_query, len(found), start, per_page)
        self._send("/api/query", 200, "application/atom+xml; charset=utf-8", body)

    def _pdf(self, path: str, pdf: bytes, fault: Fault | None, head: bool) -> None:
        kind = fault.kind if fault else None
        if kind == "truncate":
            # a complete HTTP reply whose PDF lacks its end: only verification can tell
            self._send(path, 200, "application/pdf", pdf[: int(len(pdf) * fault.fraction)], head)  # type: ignore[union-attr]
            return
        wanted = self.headers.get("Range")
        match = re.match(r"^bytes=(\d+)-$", wanted or "")
        if match and kind != "ignore-range":
            start = int(match.group(1))
            if start >= len(pdf):
                self._send(path, 416, "text/plain", b"", head, extra={"Content-Range": f"bytes */{len(pdf)}"})
                return
            body = pdf[start:]
            extra = {"Content-Range": f"bytes {start}-{len(pdf) - 1}/{len(pdf)}", "Accept-Ranges": "bytes"}
            self._send(path, 206, "application/pdf", body, head, extra=extra, cut=fault)
            return
        self._send(path, 200, "application/pdf", pdf, head, extra={"Accept-Ranges": "bytes"}, cut=fault)

    def _send(
        self,
        path: str,
        status: int,
        content_type: str,
        body: bytes,
        head: bool = False,
        extra: dict[str, str] | None = None,
        cut: Fault | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if head:
            return
        if cut is not None and cut.kind == "disconnect":
            # announce the whole body, send part of it, hang up: the client must resume with Range
            sent = int(len(body) * cut.fraction)
            self.wfile.write(body[:sent])
            self.wfile.flush()
            self.fake._count(path, sent)
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        view = memoryview(body)
        step = 16 * 1024 if cut is not None and cut.kind == "trickle" else 256 * 1024
        for start in range(0, len(body), step):
            chunk = view[start : start + step]
            self.wfile.write(chunk)
            self.wfile.flush()
            self.fake._count(path, len(chunk))
            if cut is not None and cut.kind == "trickle":
                time.sleep(cut.delay)
        if not body:
            self.fake._count(path, 0)
