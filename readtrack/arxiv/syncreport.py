"""What a sync run reports: its events as it goes, its report at the end, and that report in words.

`readtrack.arxiv.sync` emits the events and returns the `SyncReport`; the faces render them (the CLI's
progress in `readtrack.render`, the TUI's sync panel) without importing the run itself. ``summary_lines`` is
the plain text both faces print when a run ends.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from readtrack.base.words import plural


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
    indexed_pages: int = 0  # PDF pages the search index read after the downloads
    no_text: dict[str, str] = field(default_factory=dict)  # paper id -> why its new PDF gave no text
    index_problem: str | None = None  # the search index could not be updated (the sync itself is fine)

    def count(self, outcome: str) -> int:
        return sum(p.outcome == outcome for p in self.papers)

    @property
    def failed(self) -> list[PaperResult]:
        return [p for p in self.papers if p.outcome == "failed"]

    @property
    def exit_code(self) -> int:
        resolve_failed = any(r.outcome == "failed" for r in self.resolved)
        return 1 if self.failed or self.stopped or resolve_failed or self.cancelled else 0


def paper_result(paper_id: str, items: Iterable[ItemResult]) -> PaperResult:
    """A paper's result from its items: failed if any failed, else synced, link or cached, in that order."""
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


def summary_lines(report: SyncReport) -> list[str]:
    """The end-of-run summary: counts, then each failure with its reason, links, and what had nothing."""
    counts = [f"{report.count('synced')} synced", f"{report.count('cached')} already cached"]
    if report.count("link"):
        counts.append(f"{report.count('link')} kept as links")
    counts.append(f"{len(report.failed)} failed")
    lines = [f"{', '.join(counts)} ({plural(report.requests, 'request')})"]
    resolved = [r for r in report.resolved if r.outcome == "resolved"]
    if report.resolved:
        lines.append(f"resolved {len(resolved)} of {plural(len(report.resolved), 'title')} on arXiv")
    if report.filled:
        lines.append(f"filled in the title or year of {plural(len(report.filled), 'paper')} in papers.yaml")
    if report.indexed_pages:
        lines.append(f"indexed {plural(report.indexed_pages, 'PDF page')} for `readtrack search`")
    lines += [f"  no text in the PDF of {p}: {why}" for p, why in sorted(report.no_text.items())]
    if report.index_problem:
        lines.append(f"search index not updated: {report.index_problem}")
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
            f"{plural(len(report.nothing_to_sync), 'paper has', 'papers have')} no arXiv id or url "
            f"({', '.join(report.nothing_to_sync[:5])}{', ...' if len(report.nothing_to_sync) > 5 else ''});"
            " `readtrack sync --resolve` searches arXiv by title"
        )
    return lines
