"""The newest arXiv submissions in some categories: what `readtrack feed` ranks.

One search, ``cat:A OR cat:B ...`` sorted by submission date, newest first, read page by page through the
run's `PoliteSession` (the one sync uses: one request at a time to arXiv, its pace, retries, Retry-After)
until an entry is older than the window's start, so a day's feed costs a page or two, never the category's
whole history. A cap (`MAX_ENTRIES`) bounds a window that somehow holds more.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone

from readtrack.arxiv.api import API_BATCH, polite_client, to_record
from readtrack.arxiv.http import PoliteSession
from readtrack.catalog.metadata import ArxivRecord

MAX_ENTRIES = 2000  # a week of cs.LG and cs.CL together is about this many submissions


@dataclass
class Window:
    """The submissions since ``since``, newest first, and how many pages that took."""

    records: list[ArxivRecord] = field(default_factory=list)
    pages: int = 0
    capped: bool = False
    skipped: int = 0  # entries arXiv sent without a date that is one (`readtrack.arxiv.api.without_undated`)


def query_of(categories: Sequence[str]) -> str:
    """The API's search query for any of ``categories``: ``cat:cs.LG OR cat:cs.CL``."""
    return " OR ".join(f"cat:{name}" for name in categories)


def newest(
    session: PoliteSession,
    api_url: str,
    categories: Sequence[str],
    since: datetime,
    *,
    page_size: int = API_BATCH,
    limit: int = MAX_ENTRIES,
) -> Window:
    """Every submission in ``categories`` since ``since`` (aware), newest first; a page is asked for only
    while the previous one ended inside the window."""
    import arxiv

    client = polite_client(session, api_url)
    client.page_size = page_size
    search = arxiv.Search(
        query=query_of(categories),
        max_results=limit,
        sort_by=arxiv.SortCriterion.SubmittedDate,
        sort_order=arxiv.SortOrder.Descending,
    )
    window = Window()
    cutoff = since.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    seen = 0
    for result in client.results(search):
        seen += 1
        window.pages = (seen - 1) // page_size + 1
        record = to_record(result)
        if record is None:
            continue
        if record.published is not None and record.published < cutoff:
            window.skipped = client.skipped
            return window  # sorted by submission: everything after this is older still
        window.records.append(record)
    window.capped = seen >= limit
    window.skipped = client.skipped
    return window
