"""`readtrack open`: a paper's PDF in the system viewer, fetched first by `readtrack.arxiv.sync` when missing.

``READTRACK_OPENER`` names the viewer command; otherwise ``open`` on macOS, ``os.startfile`` on Windows and
``xdg-open`` elsewhere. The CLI and the TUI both call `open_paper`.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from typing import TYPE_CHECKING

from readtrack.arxiv.sync import EventCallback, SyncOptions, sync
from readtrack.arxiv.syncreport import PaperFinished, SyncEvent
from readtrack.base.errors import SyncError, UsageError
from readtrack.catalog import pdfcache

if TYPE_CHECKING:
    from readtrack.catalog.model import Catalog


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
        report = sync(catalog, [paper_id], options=options, on_event=_all_but_failures(on_event))
        path = pdfcache.paper_pdf_path(paper)
        if path is None:
            if paper.url and not paper.arxiv_ids() and pdfcache.known_link(paper.url) == "page":
                launch_viewer(paper.url)
                return paper.url
            reasons = [r for p in report.failed for r in p.reasons] or [report.stopped or "no PDF was found"]
            raise SyncError(f"could not fetch the PDF of {paper_id}: {reasons[0]}")
    launch_viewer(str(path))
    return str(path)


def _all_but_failures(on_event: EventCallback | None) -> EventCallback | None:
    """The sync's events minus a paper's failure: the `SyncError` raised below says it, once."""
    if on_event is None:
        return None
    shown = on_event

    def forward(event: SyncEvent) -> None:
        if not (isinstance(event, PaperFinished) and event.result.outcome == "failed"):
            shown(event)

    return forward


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
