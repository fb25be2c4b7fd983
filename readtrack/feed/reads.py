"""The reader's own papers, as the feed's model reads them: the arXiv session a feed's requests share, and the
abstracts of the papers read, being read or skipped that were never synced, fetched when missing.

A list that was never synced gives the model bare titles against the window's abstracts: on
benchmarks/bench_feed.py's topic readers, AUC 0.797 with the reads as titles against 0.870 with their
abstracts (issue 94). So `feed` asks arXiv for the missing ones (one request per `API_BATCH` ids, through the
session the window's pages use, so its pauses between requests hold for both) and stores them as `sync`
does; the next feed finds them. A paper arXiv does not know, or a failure, leaves it to its title and says
so on stderr. The categories the feed follows come from these records too, so a list never synced still has
its categories.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from readtrack.base.errors import SyncError
from readtrack.base.words import plural
from readtrack.catalog import arxivid, metadata
from readtrack.catalog.metadata import ArxivRecord
from readtrack.catalog.model import Catalog

#: The statuses whose papers the model learns from: read or being read (positives), skipped (negatives).
LEARNED_FROM = ("read", "reading", "skipped")


class Link:
    """The feed's one polite session to arXiv, opened at its first request; `requests` counts them all."""

    def __init__(
        self,
        on_wait: Callable[[str, str, float, int, int], None] | None = None,
        on_page: Callable[[int], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> None:
        self.on_wait, self.on_page, self.cancel = on_wait, on_page, cancel
        self._session: Any = None
        self.unreachable: SyncError | None = None  # arXiv could not be reached: not tried twice

    @property
    def session(self) -> Any:
        if self._session is None:
            from readtrack.arxiv.http import open_session

            self._session = open_session(jobs=1, cancel=self.cancel)
            self._session.on_wait = self.on_wait
            if self.on_page is not None:
                answered = [0]
                on_page = self.on_page

                def page_answered(response: Any, *args: Any, **kwargs: Any) -> None:
                    if response.status_code == 200:
                        answered[0] += 1
                        on_page(answered[0])

                self._session.hooks["response"].append(page_answered)
        return self._session

    @property
    def api_url(self) -> str:
        return str(self.session.settings.api_url)

    @property
    def requests(self) -> int:
        return 0 if self._session is None else int(self._session.log.requests)

    def close(self) -> None:
        if self._session is not None:
            self._session.close()


def missing(catalog: Catalog, records: dict[str, ArxivRecord]) -> dict[str, list[str]]:
    """The papers the model learns from that have an arXiv id and no record: their papers' ids, by base id."""
    wanted: dict[str, list[str]] = {}
    for paper in catalog.papers():
        if paper.status in LEARNED_FROM and paper.id not in records:
            ident = next(iter(paper.arxiv_ids()), None)
            if ident:
                wanted.setdefault(arxivid.base_id(ident), []).append(paper.id)
    return wanted


def fetch_missing(
    catalog: Catalog, records: dict[str, ArxivRecord], link: Link, notes: list[str]
) -> dict[str, ArxivRecord]:
    """``records`` with the missing ones (`missing`) fetched from arXiv and stored; what the reader should
    know (a failure, ids arXiv does not know) appended to ``notes``. `Cancelled` goes through."""
    wanted = missing(catalog, records)
    if not wanted:
        return records
    from readtrack.arxiv.api import API_BATCH, ArxivApi
    from readtrack.arxiv.http import Cancelled, Unreachable

    idents = list(wanted)
    found: list[ArxivRecord] = []
    failed = False
    try:
        api = ArxivApi(link.session, link.api_url)
        for start in range(0, len(idents), API_BATCH):
            found += api.by_ids(idents[start : start + API_BATCH])
    except Cancelled:
        raise
    except SyncError as err:
        failed = True
        if isinstance(err, Unreachable):
            link.unreachable = err
        reason = getattr(err, "reason", None) or str(err)
        left = len(idents) - len(found)
        notes.append(
            f"the abstracts of {plural(left, 'paper')} you read or skipped could not be fetched ({reason}): "
            "the ranking knows them by their titles"
        )
    metadata.save(found)
    records = dict(records)  # the caller's, with each fetched record under the papers that asked for it
    for record in found:
        records.update(dict.fromkeys(wanted.get(arxivid.base_id(record.arxiv_id), []), record))
    unknown = [ident for ident in idents if not any(p in records for p in wanted[ident])]
    if unknown and not failed:
        shown = ", ".join(unknown[:3]) + (", ..." if len(unknown) > 3 else "")
        notes.append(
            f"arXiv has no entry for {plural(len(unknown), 'id')} your read or skipped papers give "
            f"({shown}): the ranking knows them by their titles"
        )
    if found:
        fetched = plural(len(found), "paper")
        notes.append(f"fetched the abstracts of {fetched} you read or skipped, never synced")
    return records
