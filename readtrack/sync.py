"""`readtrack sync`: arXiv metadata and PDFs for the reading list, polite, resumable and verified.

One call, `sync(catalog, ids, options, on_event=..., cancel=...)`, does a whole run and returns a
`SyncReport`; the CLI renders its events as a progress bar or plain lines, the TUI calls it from a worker
thread and stops it with the cancel event. A run:

1. with ``resolve``, searches arXiv by title for papers without an id and writes a confident match back to
   papers.yaml (`readtrack.edits.set_arxiv`: one line);
2. fetches metadata for every arXiv id (primary and related) not stored yet: at most 100 ids per API request
   through one shared ``arxiv.Client``; ids missing from a reply are asked once more, then reported;
3. downloads PDFs into the cache (`readtrack.pdfcache`): arXiv PDFs one at a time in this thread, PDFs from
   other sites on up to ``jobs`` threads at once; web pages are kept as links.

Whatever is already stored and valid is not asked for again (a second run makes no request at all) unless
``force``. All requests go through one `readtrack.http.PoliteSession` (rate limits, retries, timeouts). A 403
from arXiv or an unreachable arXiv stops the arXiv part of the run; other hosts go on.

This module imports ``arxiv`` only when a run talks to the API, and never torch or textual.
"""

from __future__ import annotations

import concurrent.futures
import difflib
import os
import re
import shlex
import subprocess
import sys
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from readtrack import arxivid, metadata, pdfcache
from readtrack.errors import ReadtrackError, SyncError, UsageError
from readtrack.http import ArxivStopped, Cancelled, HttpSettings, PoliteSession, Unreachable, open_session
from readtrack.metadata import ArxivRecord

if TYPE_CHECKING:
    from readtrack.catalog import Catalog, Paper

API_BATCH = 100  # ids per API request; arXiv's manual asks for modest pages
RESOLVE_THRESHOLD = 0.9
RESOLVE_CANDIDATES = 5


# -- options, results and events ----------------------------------------------------------------------


@dataclass
class SyncOptions:
    """What a run does; `from_env` fills the network settings from ``READTRACK_*`` variables."""

    pdf: bool = True
    resolve: bool = False
    force: bool = False
    jobs: int = 4
    max_pdf_bytes: int = pdfcache.DEFAULT_MAX_PDF_MB * 1_000_000
    http: HttpSettings = field(default_factory=HttpSettings)

    @classmethod
    def from_env(cls, **overrides: Any) -> SyncOptions:
        values: dict[str, Any] = {"http": HttpSettings.from_env(), "max_pdf_bytes": pdfcache.max_pdf_bytes()}
        values.update(overrides)
        if values.get("jobs", 4) < 1:
            raise UsageError(f"--jobs must be at least 1, got {values['jobs']}")
        return cls(**values)


@dataclass(frozen=True)
class ItemResult:
    """One unit of work done: the metadata of an arXiv id, a PDF, a paper's url, or a title search.

    ``outcome``: synced | cached | link | failed (for ``resolve``: resolved | unresolved | failed).
    """

    kind: str
    target: str
    outcome: str
    detail: str = ""
    size: int = 0
    papers: tuple[str, ...] = ()


@dataclass(frozen=True)
class PaperResult:
    """A paper is synced, cached, link (its url is a web page) or failed, from its items' outcomes."""

    paper_id: str
    outcome: str
    items: tuple[ItemResult, ...]

    @property
    def reasons(self) -> list[str]:
        return [
            f"{item.kind} {item.target}: {item.detail}" for item in self.items if item.outcome == "failed"
        ]


@dataclass(frozen=True)
class SyncStarted:
    papers: int
    metadata: int  # ids whose metadata will be asked for
    downloads: int  # PDFs and urls to fetch


@dataclass(frozen=True)
class BytesProgress:
    target: str
    done: int
    total: int | None


@dataclass(frozen=True)
class ItemFinished:
    result: ItemResult


@dataclass(frozen=True)
class PaperFinished:
    result: PaperResult


@dataclass(frozen=True)
class Notice:
    """Something to tell the user that is not a paper's result (resolve candidates, a stopped arXiv)."""

    message: str


SyncEvent = SyncStarted | BytesProgress | ItemFinished | PaperFinished | Notice
EventCallback = Callable[[SyncEvent], None]


@dataclass
class SyncReport:
    papers: list[PaperResult] = field(default_factory=list)
    resolved: list[ItemResult] = field(default_factory=list)
    nothing_to_sync: list[str] = field(default_factory=list)
    stopped: str | None = None
    cancelled: bool = False
    requests: int = 0
    filled: list[str] = field(default_factory=list)  # papers whose empty title/year sync wrote in

    def count(self, outcome: str) -> int:
        return sum(p.outcome == outcome for p in self.papers)

    @property
    def failed(self) -> list[PaperResult]:
        return [p for p in self.papers if p.outcome == "failed"]

    @property
    def exit_code(self) -> int:
        resolve_failed = any(r.outcome == "failed" for r in self.resolved)
        return 1 if self.failed or self.stopped or resolve_failed or self.cancelled else 0


# -- the arXiv API ------------------------------------------------------------------------------------


class ArxivApiError(SyncError):
    """The API answered, but not with usable results (its error feed, malformed XML, an HTTP error)."""


class ArxivApi:
    """The arXiv API through one shared ``arxiv.Client`` whose requests go through the run's `PoliteSession`.

    arxiv 4.x sets no timeout, retries on its own and sends its own User-Agent; its `_parse_feed` is where
    a page is fetched, so that is what the client below replaces: the session supplies timeouts,
    readtrack's User-Agent, the arXiv rate limit and the retries; this class judges the reply (the error
    feed, malformed XML) and hands well-formed Atom to the package's own parser.
    """

    def __init__(self, session: PoliteSession, api_url: str) -> None:
        self.session = session
        self.api_url = api_url
        self._client: Any = None

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = _polite_arxiv_client(self.session, self.api_url)
        return self._client

    def by_ids(self, idents: Sequence[str]) -> list[ArxivRecord]:
        """Metadata for up to `API_BATCH` ids in one request; ids arXiv does not know are simply absent."""
        import arxiv

        assert len(idents) <= API_BATCH
        self.client.page_size = len(idents)  # the URL's max_results: exactly what we ask for
        search = arxiv.Search(id_list=list(idents), max_results=len(idents))
        return [r for r in (_record(x) for x in self.client.results(search)) if r]

    def search_title(self, title: str) -> list[ArxivRecord]:
        """The best few papers whose title matches ``title`` as a phrase (``ti:"..."``)."""
        import arxiv

        phrase = " ".join(re.findall(r"[^\W_]+", title))
        self.client.page_size = RESOLVE_CANDIDATES
        search = arxiv.Search(query=f'ti:"{phrase}"', max_results=RESOLVE_CANDIDATES)
        return [r for r in (_record(x) for x in self.client.results(search)) if r]


def _polite_arxiv_client(session: PoliteSession, api_url: str) -> Any:
    import arxiv
    from arxiv import _feed  # the package's Atom parser (arxiv 4.x)

    class PoliteArxivClient(arxiv.Client):
        # defined here so that importing readtrack.sync does not import arxiv
        def _parse_feed(self, url: str, first_page: bool = True, _try_index: int = 0) -> Any:
            response = session.get(url)
            problem, api_error = inspect_feed(response.content)
            if api_error:
                raise ArxivApiError(f"the arXiv API refused the request: {api_error}")
            if response.status_code != 200:
                raise ArxivApiError(f"the arXiv API answered HTTP {response.status_code} {response.reason}")
            if problem:
                raise ArxivApiError(f"malformed reply from the arXiv API ({problem})")
            return _feed.parse(response.content)

    client = PoliteArxivClient(page_size=API_BATCH, delay_seconds=0, num_retries=0)
    joiner = "&" if "?" in api_url else "?"
    client.query_url_format = api_url.replace("{", "{{").replace("}", "}}") + joiner + "{}"
    return client


def inspect_feed(body: bytes) -> tuple[str | None, str | None]:
    """(problem, api_error): why ``body`` is not a well-formed Atom feed, and the message of an error feed."""
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(body, parser=parser)
    except etree.XMLSyntaxError as err:
        return f"line {err.lineno}: {err.msg}", None
    if root is None or root.tag != "{http://www.w3.org/2005/Atom}feed":
        return "not an Atom feed", None
    ns = {"atom": "http://www.w3.org/2005/Atom"}
    for entry in root.iterfind("atom:entry", ns):
        entry_id = entry.findtext("atom:id", default="", namespaces=ns)
        if "/api/errors" in entry_id:
            summary = entry.findtext("atom:summary", default="", namespaces=ns)
            return None, metadata.normalise_text(summary) or entry_id
    return None, None


def _record(result: Any) -> ArxivRecord | None:
    """An ``arxiv.Result`` as a stored record; None for an entry without a recognisable id."""
    parsed = arxivid.parse(result.get_short_id())
    if parsed is None:
        return None

    def iso(value: Any) -> str | None:
        return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ") if value else None

    return ArxivRecord(
        arxiv_id=parsed.base,
        version=parsed.version,
        title=metadata.normalise_text(result.title),
        authors=[metadata.normalise_text(a.name) for a in result.authors],
        abstract=metadata.normalise_abstract(result.summary),
        published=iso(result.published),
        updated=iso(result.updated),
        categories=list(result.categories),
        primary_category=result.primary_category or None,
        doi=metadata.normalise_text(result.doi) or None,
        journal_ref=metadata.normalise_text(result.journal_ref) or None,
        comment=metadata.normalise_text(result.comment) or None,
        pdf_url=result.pdf_url,
        fetched_at=datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )


def title_similarity(a: str, b: str) -> float:
    """difflib's ratio on lowercased alphanumerics: punctuation, case and spacing do not count."""

    def key(text: str) -> str:
        return "".join(ch for ch in text.lower() if ch.isalnum())

    return difflib.SequenceMatcher(None, key(a), key(b)).ratio()


# -- a run --------------------------------------------------------------------------------------------


def select_papers(catalog: Catalog, paper_ids: Sequence[str] = (), section: str | None = None) -> list[Paper]:
    """The papers a run covers: the given ids (else all), within ``section`` when given."""
    papers = [catalog.get(i) for i in dict.fromkeys(paper_ids)] if paper_ids else list(catalog.papers())
    if section:
        in_section = {p.id for p in catalog.filter(section=section)}
        papers = [p for p in papers if p.id in in_section]
    return papers


def sync(
    catalog: Catalog,
    paper_ids: Sequence[str] = (),
    *,
    section: str | None = None,
    options: SyncOptions | None = None,
    on_event: EventCallback | None = None,
    cancel: threading.Event | None = None,
) -> SyncReport:
    """Sync metadata and PDFs of the selected papers; see the module docstring. Safe to call from a thread.

    ``on_event`` receives `SyncEvent`s, one at a time (never concurrently). Setting ``cancel`` stops the
    run between requests and chunks; partial downloads stay as ``.part`` files for the next run.
    """
    run = _Run(
        catalog,
        select_papers(catalog, paper_ids, section),
        options or SyncOptions.from_env(),
        on_event,
        cancel or threading.Event(),
    )
    return run.execute()


@dataclass
class _ArxivTarget:
    ident: str  # as written in papers.yaml (a version when pinned)
    papers: list[str]


class _Run:
    def __init__(
        self,
        catalog: Catalog,
        papers: list[Paper],
        options: SyncOptions,
        on_event: EventCallback | None,
        cancel: threading.Event,
    ) -> None:
        self.catalog = catalog
        self.papers = papers
        self.options = options
        self.on_event = on_event
        self.cancel = cancel
        self.session = open_session(options.http, jobs=options.jobs, cancel=cancel)
        self.api = ArxivApi(self.session, options.http.api_url)
        self.report = SyncReport()
        self.arxiv_down: str | None = None
        self._told_stopped = False
        self._synced_any = False
        self._emit_lock = threading.Lock()
        self._state_lock = threading.Lock()
        self._pending: dict[str, set[str]] = {}
        self._items: dict[str, list[ItemResult]] = {}
        self._db_lock = threading.Lock()

    # -- plumbing --

    def emit(self, event: SyncEvent) -> None:
        if self.on_event:
            with self._emit_lock:
                self.on_event(event)

    def expect(self, paper_id: str, key: str) -> None:
        self._pending.setdefault(paper_id, set()).add(key)
        self._items.setdefault(paper_id, [])

    def finish(self, key: str, result: ItemResult) -> None:
        """Record an item's result for each of its papers; a paper whose items are all in is finished."""
        self.emit(ItemFinished(result))
        self._synced_any = self._synced_any or result.outcome == "synced"
        done: list[PaperResult] = []
        with self._state_lock:
            for paper_id in result.papers:
                pending = self._pending.get(paper_id)
                if pending is None or key not in pending:
                    continue
                pending.discard(key)
                self._items[paper_id].append(result)
                if not pending:
                    done.append(_paper_result(paper_id, self._items[paper_id]))
            self.report.papers.extend(done)
        for paper in done:
            self.emit(PaperFinished(paper))

    # -- the run --

    def execute(self) -> SyncReport:
        try:
            self._execute()
            self.fill_titles()
            return self.report
        finally:
            self.report.requests = self.session.log.requests
            self.session.close()

    def fill_titles(self) -> None:
        """Papers added by arXiv id alone (``readtrack add 2205.14135``, no title yet) get their title and
        year from the synced metadata: one line each in papers.yaml, and only where the file has none.
        Papers the user titled are not touched (``--resolve`` stays a one-line change)."""
        wanted = [p for p in self.papers if p.arxiv and not p.title]
        if not wanted:
            return
        records = metadata.get_many(arxivid.base_id(p.arxiv or "") for p in wanted)
        changes: dict[str, dict[str, object]] = {}
        for paper in wanted:
            record = records.get(arxivid.base_id(paper.arxiv or ""))
            if record is None:
                continue
            values: dict[str, object] = {}
            if record.title:
                values["title"] = record.title
            if paper.year is None and record.year:
                values["year"] = record.year
            if values:
                changes[paper.id] = values
        if changes:
            from readtrack import edits

            edits.set_many(self.catalog.path, changes, only_empty=True)
            self.report.filled = sorted(changes)

    def _execute(self) -> SyncReport:
        if self.options.resolve:
            self.resolve_titles()
        meta_targets, pdf_targets, url_papers = self.plan()
        if self.cancel.is_set():
            self.report.cancelled = True
            return self.report
        pool = concurrent.futures.ThreadPoolExecutor(max_workers=self.options.jobs, thread_name_prefix="sync")
        try:
            futures = [pool.submit(self.fetch_url, paper) for paper in url_papers]
            try:
                self.fetch_metadata(meta_targets)
                self.fetch_arxiv_pdfs(pdf_targets)
            except Cancelled:
                self.report.cancelled = True
            for future in concurrent.futures.as_completed(futures):
                try:
                    future.result()
                except Cancelled:
                    self.report.cancelled = True
        except BaseException:
            self.cancel.set()  # Ctrl-C: workers stop at their next chunk; .part files stay for next time
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        self.report.stopped = self.session.arxiv_stopped or self.arxiv_down
        return self.report

    def plan(self) -> tuple[dict[str, _ArxivTarget], dict[str, _ArxivTarget], list[Paper]]:
        """Work to do, with what is already stored reported as cached right away (no request)."""
        meta: dict[str, _ArxivTarget] = {}
        pdfs: dict[str, _ArxivTarget] = {}
        url_papers: list[Paper] = []
        for paper in self.papers:
            idents = paper.arxiv_ids()
            for ident in idents:
                base = arxivid.base_id(ident)
                meta.setdefault(base, _ArxivTarget(ident, [])).papers.append(paper.id)
                self.expect(paper.id, f"metadata:{base}")
                if self.options.pdf:
                    name = pdfcache.arxiv_file_name(ident)
                    pdfs.setdefault(name, _ArxivTarget(ident, [])).papers.append(paper.id)
                    self.expect(paper.id, f"pdf:{name}")
            if not idents and paper.url:
                if self.options.pdf:
                    url_papers.append(paper)
                    self.expect(paper.id, f"url:{paper.id}")
            elif not idents:
                self.report.nothing_to_sync.append(paper.id)
        stored = {} if self.options.force else metadata.get_many(meta)
        cached_meta = {b: t for b, t in meta.items() if _still_current(stored.get(b), t.ident)}
        cached_pdfs = (
            {}
            if self.options.force
            else {
                name: t for name, t in pdfs.items() if pdfcache.pdf_problem(pdfcache.cache_path(name)) is None
            }
        )
        cached_urls = [] if self.options.force else [p for p in url_papers if self._url_cached(p)]
        todo_meta = {b: t for b, t in meta.items() if b not in cached_meta}
        todo_pdfs = {n: t for n, t in pdfs.items() if n not in cached_pdfs}
        todo_urls = [p for p in url_papers if p not in cached_urls]
        self.emit(SyncStarted(len(self.papers), len(todo_meta), len(todo_pdfs) + len(todo_urls)))
        for base, target in cached_meta.items():
            self.finish(
                f"metadata:{base}", ItemResult("metadata", base, "cached", papers=tuple(target.papers))
            )
        for name, target in cached_pdfs.items():
            size = pdfcache.cache_path(name).stat().st_size
            self.finish(
                f"pdf:{name}",
                ItemResult("pdf", target.ident, "cached", size=size, papers=tuple(target.papers)),
            )
        for paper in cached_urls:
            kind = pdfcache.known_link(paper.url or "")
            outcome = "link" if kind == "page" else "cached"
            detail = "a web page, kept as a link" if kind == "page" else ""
            self.finish(
                f"url:{paper.id}", ItemResult("url", paper.url or "", outcome, detail, papers=(paper.id,))
            )
        return todo_meta, todo_pdfs, todo_urls

    def _url_cached(self, paper: Paper) -> bool:
        kind = pdfcache.known_link(paper.url or "")
        if kind == "page":
            return True
        return kind == "pdf" and pdfcache.pdf_problem(pdfcache.web_pdf_path(paper.id)) is None

    # -- arXiv: stop on 403 or when unreachable --

    def arxiv_blocked(self) -> str | None:
        return self.session.arxiv_stopped or self.arxiv_down

    def _arxiv_failure(self, err: ReadtrackError) -> str:
        """The reason to record for an arXiv item; stops the arXiv part of the run when arXiv is gone."""
        if isinstance(err, ArxivStopped):
            if not self._told_stopped:
                self._told_stopped = True
                self.emit(Notice(err.reason))
            return "not fetched: arXiv refused access (HTTP 403)"
        if isinstance(err, Unreachable) and not self.arxiv_down:
            if not self._synced_any:
                # the network is down (or arXiv is): one clear line beats a failure per paper
                raise SyncError(f"{err.reason}; is the network up? Nothing was changed")
            self.arxiv_down = f"stopped arXiv requests: {err.reason}"
            self.emit(Notice(self.arxiv_down))
        return _reason(err)

    # -- step 1: resolve titles --

    def resolve_titles(self) -> None:
        for paper in self.papers:
            title = paper.title or paper.label
            if paper.arxiv_ids() or not title or self.arxiv_blocked():
                continue
            try:
                candidates = self.api.search_title(title)
            except Cancelled:
                raise
            except SyncError as err:
                result = ItemResult(
                    "resolve", paper.id, "failed", self._arxiv_failure(err), papers=(paper.id,)
                )
                self.report.resolved.append(result)
                self.emit(ItemFinished(result))
                continue
            result = self._judge_candidates(paper, title, candidates)
            self.report.resolved.append(result)
            self.emit(ItemFinished(result))

    def _judge_candidates(self, paper: Paper, title: str, candidates: list[ArxivRecord]) -> ItemResult:
        scored = sorted(((title_similarity(title, c.title), c) for c in candidates), key=lambda s: -s[0])
        unique: dict[str, tuple[float, ArxivRecord]] = {}
        for score, record in scored:
            unique.setdefault(record.arxiv_id, (score, record))
        confident = [(s, r) for s, r in unique.values() if s >= RESOLVE_THRESHOLD]
        if len(confident) == 1:
            score, record = confident[0]
            from readtrack import edits

            edits.set_arxiv(self.catalog.path, paper.id, record.arxiv_id)
            paper.arxiv = record.arxiv_id  # the rest of this run syncs it like any other id
            with self._db_lock:
                metadata.save([record])
            self.emit(
                Notice(
                    f"resolved {paper.id}: arXiv {record.arxiv_id} \u201c{record.title}\u201d "
                    f"(similarity {score:.2f}), written to {self.catalog.path.name}"
                )
            )
            return ItemResult("resolve", paper.id, "resolved", record.arxiv_id, papers=(paper.id,))
        if not unique:
            detail = "no arXiv paper has this title"
        else:
            lines = [
                f"    {r.arxiv_id}  {s:.2f}  {r.title}" for s, r in list(unique.values())[:RESOLVE_CANDIDATES]
            ]
            why = "several close matches" if confident else f"no match reaches similarity {RESOLVE_THRESHOLD}"
            detail = f"{why}; candidates:\n" + "\n".join(lines)
        self.emit(
            Notice(
                f"unresolved {paper.id} (\u201c{title}\u201d): {detail}\n    papers.yaml unchanged; "
                f"add `arxiv:` by hand if one of them is right"
            )
        )
        return ItemResult("resolve", paper.id, "unresolved", detail, papers=(paper.id,))

    # -- step 2: metadata --

    def fetch_metadata(self, targets: dict[str, _ArxivTarget]) -> None:
        reasons: dict[str, str] = {}
        missing = self._ask(list(targets.items()), reasons)
        if missing and not self.arxiv_blocked():
            missing = self._ask(missing, reasons)  # arXiv drops ids now and then: ask once more
        for base, target in missing:
            reason = reasons.get(base) or "arXiv's reply has no entry for it (withdrawn or mistyped id?)"
            if self.arxiv_blocked() and base not in reasons:
                reason = "not fetched: arXiv requests were stopped"
            self.finish(
                f"metadata:{base}",
                ItemResult("metadata", target.ident, "failed", reason, papers=tuple(target.papers)),
            )

    def _ask(
        self, pairs: list[tuple[str, _ArxivTarget]], reasons: dict[str, str]
    ) -> list[tuple[str, _ArxivTarget]]:
        missing: list[tuple[str, _ArxivTarget]] = []
        for start in range(0, len(pairs), API_BATCH):
            batch = pairs[start : start + API_BATCH]
            if self.arxiv_blocked():
                missing.extend(batch)
                continue
            try:
                records = {r.arxiv_id: r for r in self.api.by_ids([t.ident for _, t in batch])}
            except Cancelled:
                raise
            except SyncError as err:
                reason = self._arxiv_failure(err)
                reasons.update((base, reason) for base, _ in batch)
                missing.extend(batch)
                continue
            found = [records[base] for base, _ in batch if base in records]
            with self._db_lock:
                metadata.save(found)
            for base, target in batch:
                if base in records:
                    reasons.pop(base, None)
                    self.finish(
                        f"metadata:{base}",
                        ItemResult("metadata", target.ident, "synced", papers=tuple(target.papers)),
                    )
                else:
                    reasons.pop(base, None)
                    missing.append((base, target))
        return missing

    # -- step 3: PDFs --

    def fetch_arxiv_pdfs(self, targets: dict[str, _ArxivTarget]) -> None:
        records = metadata.get_many(t.ident for t in targets.values())
        for name, target in targets.items():
            key = f"pdf:{name}"
            papers = tuple(target.papers)
            record = records.get(arxivid.base_id(target.ident))
            if self.arxiv_blocked():
                self.finish(
                    key,
                    ItemResult(
                        "pdf",
                        target.ident,
                        "failed",
                        "not fetched: arXiv requests were stopped",
                        papers=papers,
                    ),
                )
                continue
            if record is None or not record.pdf_url:
                reason = "no metadata, so no PDF link" if record is None else "arXiv lists no PDF for it"
                self.finish(key, ItemResult("pdf", target.ident, "failed", reason, papers=papers))
                continue
            url = _versioned_pdf_url(record.pdf_url, target.ident)
            try:
                fetched = pdfcache.fetch_pdf(
                    self.session,
                    url,
                    pdfcache.cache_path(name),
                    max_bytes=self.options.max_pdf_bytes,
                    on_bytes=self._progress(target.ident),
                )
            except Cancelled:
                raise
            except SyncError as err:
                self.finish(
                    key, ItemResult("pdf", target.ident, "failed", self._arxiv_failure(err), papers=papers)
                )
                continue
            with self._db_lock:
                pdfcache.record_file(name, url, pdfcache.cache_path(name))
            detail = f"resumed at {fetched.resumed_from} bytes" if fetched.resumed_from else ""
            self.finish(
                key, ItemResult("pdf", target.ident, "synced", detail, size=fetched.size, papers=papers)
            )

    def fetch_url(self, paper: Paper) -> None:
        """A paper's url: a PDF (by .pdf or Content-Type) goes to the cache; a web page is kept as a link."""
        url = paper.url or ""
        key = f"url:{paper.id}"
        dest = pdfcache.web_pdf_path(paper.id)
        try:
            fetched = pdfcache.fetch_pdf(
                self.session,
                url,
                dest,
                max_bytes=self.options.max_pdf_bytes,
                pages_ok=True,
                on_bytes=self._progress(url),
            )
        except Cancelled:
            raise
        except ReadtrackError as err:
            self.finish(key, ItemResult("url", url, "failed", _reason(err), papers=(paper.id,)))
            return
        with self._db_lock:
            if fetched.is_page:
                pdfcache.record_link(url, "page", fetched.content_type)
            else:
                pdfcache.record_link(url, "pdf", fetched.content_type)
                pdfcache.record_file(pdfcache.web_file_name(paper.id), url, dest)
        if fetched.is_page:
            kind = fetched.content_type or "no content type"
            self.finish(
                key,
                ItemResult("url", url, "link", f"a web page ({kind}), kept as a link", papers=(paper.id,)),
            )
        else:
            self.finish(key, ItemResult("url", url, "synced", size=fetched.size, papers=(paper.id,)))

    def _progress(self, target: str) -> Callable[[int, int | None], None]:
        def report(done: int, total: int | None) -> None:
            self.emit(BytesProgress(target, done, total))

        return report


def _reason(err: ReadtrackError) -> str:
    """An error's reason without the URL, for an item whose target already names it."""
    reason = getattr(err, "reason", None)
    return reason if isinstance(reason, str) else str(err)


def _still_current(record: ArxivRecord | None, ident: str) -> bool:
    """A stored record serves a paper unless the paper pins a different version."""
    if record is None:
        return False
    parsed = arxivid.parse(ident)
    return not (parsed and parsed.version and parsed.version != record.version)


def _versioned_pdf_url(pdf_url: str, ident: str) -> str:
    """The reply's PDF link, for the version papers.yaml pins when it pins one."""
    parsed = arxivid.parse(ident)
    if parsed and parsed.version:
        return re.sub(r"v\d+$", parsed.version, pdf_url) if re.search(r"v\d+$", pdf_url) else pdf_url
    return pdf_url


def _paper_result(paper_id: str, items: Iterable[ItemResult]) -> PaperResult:
    items = tuple(items)
    outcomes = {i.outcome for i in items}
    if "failed" in outcomes:
        outcome = "failed"
    elif "synced" in outcomes:
        outcome = "synced"
    elif "link" in outcomes:
        outcome = "link"
    else:
        outcome = "cached"
    return PaperResult(paper_id, outcome, items)


# -- open ---------------------------------------------------------------------------------------------


def open_paper(
    catalog: Catalog,
    paper_id: str,
    *,
    options: SyncOptions | None = None,
    on_event: EventCallback | None = None,
) -> str:
    """Open the paper's PDF in the system viewer, syncing it first when missing; returns what was opened.

    A paper whose url is a web page opens that page. ``READTRACK_OPENER`` overrides the viewer command.
    """
    paper = catalog.get(paper_id)
    path = pdfcache.paper_pdf_path(paper)
    if path is None or pdfcache.pdf_problem(path):
        if not paper.arxiv_ids() and not paper.url:
            raise UsageError(
                f"{paper_id} has no arXiv id and no url to open: add one to papers.yaml, "
                f"or try `readtrack sync {paper_id} --resolve`"
            )
        report = sync(catalog, [paper_id], options=options, on_event=on_event)
        path = pdfcache.paper_pdf_path(paper)
        if path is None:
            if paper.url and not paper.arxiv_ids() and pdfcache.known_link(paper.url) == "page":
                launch_viewer(paper.url)
                return paper.url
            reasons = [r for p in report.failed for r in p.reasons] or [report.stopped or "no PDF was found"]
            raise SyncError(f"could not fetch the PDF of {paper_id}: {reasons[0]}")
    launch_viewer(str(path))
    return str(path)


def launch_viewer(target: str) -> None:
    """Hand a file or URL to ``READTRACK_OPENER``, else ``open`` (macOS) or ``xdg-open``."""
    command = os.environ.get("READTRACK_OPENER", "").strip()
    if command:
        argv = [*shlex.split(command), target]
    elif sys.platform == "darwin":
        argv = ["open", target]
    elif sys.platform == "win32":
        os.startfile(target)  # type: ignore[attr-defined]  # Windows only
        return
    else:
        argv = ["xdg-open", target]
    try:
        process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
    except OSError as err:
        raise SyncError(
            f"cannot run {argv[0]!r} to open {target} ({err.strerror}); "
            "set READTRACK_OPENER to your PDF viewer's command"
        ) from None
    try:
        code = process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        return  # a viewer that stays in the foreground: leave it running
    if code != 0:
        raise SyncError(
            f"{argv[0]} could not open {target} (exit status {code}); "
            "set READTRACK_OPENER to your PDF viewer's command"
        )


# -- rendering for the command line -------------------------------------------------------------------


def human_size(size: float) -> str:
    """A file size in decimal units, as download tools show it (``12.0 MB``)."""
    from rich.filesize import decimal

    return decimal(int(size))


class TerminalProgress:
    """The CLI's ``on_event``: a rich progress bar (papers, bytes, ETA) on a terminal, else plain lines."""

    def __init__(self, *, live: bool | None = None) -> None:
        self.live = sys.stderr.isatty() if live is None else live
        self._progress: Any = None
        self._papers_task: Any = None
        self._bytes_task: Any = None
        self._downloads: dict[str, tuple[int, int | None]] = {}

    def __enter__(self) -> TerminalProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()

    def __call__(self, event: SyncEvent) -> None:
        if isinstance(event, SyncStarted):
            self._start(event)
        elif isinstance(event, BytesProgress):
            self._bytes(event)
        elif isinstance(event, PaperFinished):
            self._paper(event.result)
        elif isinstance(event, Notice):
            self._print(event.message)

    def _start(self, event: SyncStarted) -> None:
        line = (
            f"syncing {event.papers} papers: metadata for {event.metadata} arXiv ids, "
            f"{event.downloads} downloads"
        )
        if not self.live:
            print(line, flush=True)
            return
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

        self._progress = Progress(
            TextColumn("{task.description:<6}"),
            BarColumn(),
            TextColumn("{task.fields[info]}"),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        self._progress.start()
        self._progress.console.print(line)
        self._papers_task = self._progress.add_task("papers", total=event.papers, info="")
        self._bytes_task = self._progress.add_task("bytes", total=None, info="")

    def _bytes(self, event: BytesProgress) -> None:
        self._downloads[event.target] = (event.done, event.total)
        if self._progress is None:
            return
        done = sum(d for d, _ in self._downloads.values())
        total = sum(t or d for d, t in self._downloads.values())
        self._progress.update(
            self._bytes_task,
            completed=done,
            total=total or None,
            info=f"{human_size(done)} / {human_size(total)}",
        )

    def _paper(self, result: PaperResult) -> None:
        sizes = sum(i.size for i in result.items if i.outcome == "synced")
        detail = "; ".join(result.reasons) if result.outcome == "failed" else ""
        if result.outcome == "link":
            detail = next((i.target for i in result.items if i.outcome == "link"), "")
        elif result.outcome == "synced" and sizes:
            detail = human_size(sizes)
        if self._progress is not None:
            self._progress.advance(self._papers_task)
            task = self._progress.tasks[self._papers_task]
            self._progress.update(self._papers_task, info=f"{int(task.completed)}/{int(task.total or 0)}")
            if result.outcome in ("failed", "link"):
                self._print(f"{result.outcome:<7} {result.paper_id}  {detail}")
            return
        print(f"{result.outcome:<7} {result.paper_id}  {detail}".rstrip(), flush=True)

    def _print(self, message: str) -> None:
        if self._progress is not None:
            self._progress.console.print(message, markup=False, highlight=False)
        else:
            print(message, flush=True)


def summary_lines(report: SyncReport) -> list[str]:
    """The end-of-run summary: counts, then each failure with its reason, links, and what had nothing."""
    counts = [f"{report.count('synced')} synced", f"{report.count('cached')} already cached"]
    if report.count("link"):
        counts.append(f"{report.count('link')} kept as links")
    counts.append(f"{len(report.failed)} failed")
    lines = [f"{', '.join(counts)} ({report.requests} request{'' if report.requests == 1 else 's'})"]
    resolved = [r for r in report.resolved if r.outcome == "resolved"]
    if report.resolved:
        lines.append(f"resolved {len(resolved)} of {len(report.resolved)} titles on arXiv")
    if report.filled:
        lines.append(f"filled in the title or year of {len(report.filled)} papers in papers.yaml")
    if report.stopped:
        lines.append(f"arXiv: {report.stopped}")
    if report.cancelled:
        lines.append("cancelled: partial downloads stay as .part files and resume on the next sync")
    by_reason: dict[str, list[tuple[str, ItemResult]]] = {}
    for paper in report.failed:
        for item in paper.items:
            if item.outcome == "failed":
                by_reason.setdefault(item.detail, []).append((paper.paper_id, item))
    for reason, failures in by_reason.items():
        if len(failures) > 3:  # one cause, many papers (arXiv stopped): say it once
            ids = ", ".join(dict.fromkeys(p for p, _ in failures))
            lines.append(f"  failed {len(failures)} items: {reason} ({ids})")
        else:
            lines += [f"  failed {p}: {i.kind} {i.target}: {reason}" for p, i in failures]
    if report.nothing_to_sync:
        lines.append(
            f"{len(report.nothing_to_sync)} papers have no arXiv id or url "
            f"({', '.join(report.nothing_to_sync[:5])}{', ...' if len(report.nothing_to_sync) > 5 else ''});"
            " `readtrack sync --resolve` searches arXiv by title"
        )
    return lines


def doctor_lines(report: pdfcache.CacheReport) -> list[str]:
    lines = [
        f"PDF cache {report.folder}: {report.ok} of {report.checked} recorded files fine, "
        f"{report.not_downloaded} arXiv PDFs not downloaded yet"
    ]
    lines += [f"  {p.kind:<10} {p.name}: {p.detail}" for p in report.problems]
    lines.append(f"{len(report.problems)} problems" if report.problems else "no problems")
    return lines
