"""`readtrack sync`: one run fetching arXiv metadata and PDFs for the reading list, politely, resumably.

One call, `sync(catalog, ids, options, on_event=..., cancel=...)`, does a whole run and returns a
`readtrack.arxiv.syncreport.SyncReport`; the CLI renders its events as a progress bar or plain lines, the TUI
calls it from a worker thread and stops it with the cancel event. A run:

1. with ``resolve``, searches arXiv by title for papers without an id and writes a confident match back to
   papers.yaml (`readtrack.catalog.edits.set_arxiv`: one line);
2. fetches metadata for every arXiv id (primary and related) not stored yet: at most 100 ids per API request
   (`readtrack.arxiv.api`); ids missing from a reply are asked once more, then reported;
3. downloads PDFs into the cache (`readtrack.catalog.pdfcache`): arXiv PDFs one at a time in this thread, PDFs
   from other sites on up to ``jobs`` threads at once; web pages are kept as links.

Whatever is already stored and valid is not asked for again (a second run makes no request at all) unless
``force``. All requests go through one `readtrack.arxiv.http.PoliteSession` (rate limits, retries, timeouts).
A 403 from arXiv or an unreachable arXiv stops the arXiv part of the run; other hosts go on.

This module imports ``arxiv`` only when a run talks to the API, and never rich, torch or textual.
"""

from __future__ import annotations

import concurrent.futures
import difflib
import re
import sqlite3
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from readtrack.arxiv import download
from readtrack.arxiv.api import API_BATCH, ArxivApi
from readtrack.arxiv.http import (
    NETWORK_HINT,
    ArxivStopped,
    Cancelled,
    HttpSettings,
    Unreachable,
    open_session,
)
from readtrack.arxiv.syncreport import (
    BytesProgress,
    EventCallback,
    ItemFinished,
    ItemResult,
    Notice,
    PaperFinished,
    PaperResult,
    SyncEvent,
    SyncReport,
    SyncStarted,
    paper_result,
)
from readtrack.base.errors import AlreadyListed, ReadtrackError, SyncError, UsageError, one_line
from readtrack.catalog import arxivid, metadata, pdfcache
from readtrack.catalog.metadata import ArxivRecord

if TYPE_CHECKING:
    from readtrack.catalog.model import Catalog, Paper

RESOLVE_THRESHOLD = 0.9
RESOLVE_CANDIDATES = 5


# -- options ------------------------------------------------------------------------------------------


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
        values: dict[str, Any] = {"http": HttpSettings.from_env(), "max_pdf_bytes": download.max_pdf_bytes()}
        values.update(overrides)
        if values.get("jobs", 4) < 1:
            raise UsageError(f"--jobs must be at least 1, got {values['jobs']}")
        return cls(**values)


# -- resolving titles ---------------------------------------------------------------------------------


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
    index: Indexer | None = None,
) -> SyncReport:
    """Sync metadata and PDFs of the selected papers; see the module docstring. Safe to call from a thread.

    ``on_event`` receives `SyncEvent`s, one at a time (never concurrently). Setting ``cancel`` stops the
    run between requests and chunks; partial downloads stay as ``.part`` files for the next run. ``index``
    brings the search index up to date afterwards (the faces pass `readtrack.search.index.refresh_list`),
    so that a search reads no PDF.
    """
    run = _Run(
        catalog,
        select_papers(catalog, paper_ids, section),
        options or SyncOptions.from_env(),
        on_event,
        cancel or threading.Event(),
        index,
    )
    return run.execute()


class Indexed(Protocol):
    """What an index refresh tells the sync report (`readtrack.search.index.IndexReport`)."""

    pdf_pages: int
    no_text: dict[str, str]  # paper id -> why its PDF gave no text


#: Brings the search index up to date with the list at a path (`readtrack.search.index.refresh_list`).
Indexer = Callable[[Path], Indexed]


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
        index: Indexer | None = None,
    ) -> None:
        self.catalog = catalog
        self.indexer = index
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
                    done.append(paper_result(paper_id, self._items[paper_id]))
            self.report.papers.extend(done)
        for paper in done:
            self.emit(PaperFinished(paper))

    # -- the run --

    def execute(self) -> SyncReport:
        try:
            self._execute()
            self.fill_titles()
            self.index()
            return self.report
        finally:
            self.report.requests = self.session.log.requests
            self.session.close()

    def fill_titles(self) -> None:
        """Papers added by arXiv id alone (``readtrack add 2205.14135``, no title yet) get their title and
        year from the synced metadata: one line each in papers.yaml, and only where the file has none.
        Papers the user titled are not touched (``--resolve`` stays a one-line change)."""
        wanted = [p for p in self.papers if p.arxiv and p.untitled]  # no title, or only the id
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
            from readtrack.catalog import edits

            edits.set_many(self.catalog.path, changes, only_empty=True)
            self.report.filled = sorted(changes)

    def index(self) -> None:
        """What arrived goes into the search index now (only what changed), so a search reads no PDF."""
        if self.indexer is None:
            return
        try:
            report = self.indexer(self.catalog.path)
        except (ReadtrackError, OSError, sqlite3.Error) as err:  # the downloads are kept all the same
            self.report.index_problem = one_line(err)
            return
        self.report.indexed_pages = report.pdf_pages
        self.report.no_text = report.no_text

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
                raise SyncError(f"{err.reason}; {NETWORK_HINT} Nothing was changed")
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
                candidates = self.api.search_title(title, RESOLVE_CANDIDATES)
                if not candidates:  # no title has it as a phrase: titles with all its words, as candidates
                    candidates = self.api.search_title_words(title, RESOLVE_CANDIDATES)
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
            from readtrack.catalog import edits

            try:
                edits.set_arxiv(self.catalog.path, paper.id, record.arxiv_id)
            except AlreadyListed as err:  # one paper, two entries: the user merges them, not sync
                self.emit(Notice(f"unresolved {paper.id} (\u201c{title}\u201d): {err}"))
                return ItemResult("resolve", paper.id, "unresolved", str(err), papers=(paper.id,))
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
            detail = "no arXiv paper has this title or all of its words"
            advice = "papers.yaml unchanged; add `arxiv:` by hand if you find it"
        else:
            lines = [
                f"    {r.arxiv_id:<12}  {r.year or '----'}  {s:.2f}  {r.title}"
                for s, r in list(unique.values())[:RESOLVE_CANDIDATES]
            ]
            why = "several close matches" if confident else f"no match reaches similarity {RESOLVE_THRESHOLD}"
            detail = f"{why}; candidates (arXiv id, year, similarity, title):\n" + "\n".join(lines)
            advice = "papers.yaml unchanged; add `arxiv: ID` by hand if one of them is right"
        self.emit(Notice(f"unresolved {paper.id} (\u201c{title}\u201d): {detail}\n    {advice}"))
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
                fetched = download.fetch_pdf(
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
            fetched = download.fetch_pdf(
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
