"""The arXiv API client: metadata by id and title searches, answered as `ArxivRecord`s.

Requests go through the run's `readtrack.arxiv.http.PoliteSession` (timeouts, readtrack's User-Agent, the
arXiv rate limit, retries); the ``arxiv`` package builds the query URLs and parses the Atom replies. This
module judges each reply (arXiv's error feed, malformed XML, HTTP errors) and maps entries to stored records.

The package is imported only when a request is made, so importing this module stays cheap.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

from readtrack.arxiv.http import PoliteSession
from readtrack.base.errors import SyncError
from readtrack.catalog import arxivid, metadata
from readtrack.catalog.metadata import ArxivRecord

API_BATCH = 100  # ids per API request; arXiv's manual asks for modest pages
STOP_WORDS = frozenset({"the", "and", "for", "with", "from", "into", "via", "are", "its", "our", "this"})
MAX_TITLE_WORDS = 8  # a title search by words uses at most this many (arXiv ANDs them all)
EMPTY_PAGE_TRIES = 3  # a later page of a listing that comes back empty is asked for this many times


class ArxivApiError(SyncError):
    """The API answered, but not with usable results (its error feed, malformed XML, an HTTP error)."""


class ArxivApi:
    """The arXiv API through one shared ``arxiv.Client`` whose requests go through ``session``."""

    def __init__(self, session: PoliteSession, api_url: str) -> None:
        self.session = session
        self.api_url = api_url
        self._client: Any = None

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = polite_client(self.session, self.api_url)
        return self._client

    def by_ids(self, idents: Sequence[str]) -> list[ArxivRecord]:
        """Metadata for up to `API_BATCH` ids in one request; ids arXiv does not know are simply absent."""
        import arxiv

        assert len(idents) <= API_BATCH
        self.client.page_size = len(idents)  # the URL's max_results: exactly what we ask for
        search = arxiv.Search(id_list=list(idents), max_results=len(idents))
        return [r for r in (to_record(x) for x in self.client.results(search)) if r]

    def search_title(self, title: str, limit: int) -> list[ArxivRecord]:
        """The best ``limit`` papers whose title matches ``title`` as a phrase (``ti:"..."``)."""
        phrase = " ".join(re.findall(r"[^\W_]+", title))
        return self._search(f'ti:"{phrase}"', limit)

    def search_title_words(self, title: str, limit: int) -> list[ArxivRecord]:
        """The best ``limit`` papers whose title has every significant word of ``title``, in any order
        (``ti:deep AND ti:residual ...``): candidates for a title written a little differently."""
        words = [w for w in re.findall(r"[^\W_]+", title.lower()) if len(w) > 2 and w not in STOP_WORDS]
        if not words:
            return []
        return self._search(" AND ".join(f"ti:{w}" for w in dict.fromkeys(words[:MAX_TITLE_WORDS])), limit)

    def _search(self, query: str, limit: int) -> list[ArxivRecord]:
        import arxiv

        self.client.page_size = limit
        search = arxiv.Search(query=query, max_results=limit)
        return [r for r in (to_record(x) for x in self.client.results(search)) if r]


# -- the one place that reaches into the arxiv package ------------------------------------------------
#
# arxiv 4.x sets no timeout, retries on its own and sends its own User-Agent. Its `Client._results` asks
# `Client._parse_feed(url, first_page, _try_index)` for each page, and that private method does the
# fetching (with sleeps and retries); `arxiv._feed.parse(bytes)` is the package's Atom parser. The client
# below overrides `_parse_feed` so that the page is fetched by the PoliteSession and judged here before the
# package's own parser reads it. tests/arxiv/test_arxivapi.py fails when any of this changes in a new arxiv.


def polite_client(session: PoliteSession, api_url: str) -> Any:
    """An ``arxiv.Client`` that fetches every page through ``session`` from ``api_url``."""
    import arxiv
    from arxiv import _feed

    class PoliteArxivClient(arxiv.Client):
        # defined here so that importing readtrack.arxiv.api does not import arxiv
        def _parse_feed(self, url: str, first_page: bool = True, _try_index: int = 0) -> Any:
            for _ in range(EMPTY_PAGE_TRIES):
                response = session.get(url)
                problem, api_error = inspect_feed(response.content)
                if api_error:
                    raise ArxivApiError(f"the arXiv API refused the request: {api_error}")
                if response.status_code != 200:
                    raise ArxivApiError(
                        f"the arXiv API answered HTTP {response.status_code} {response.reason}"
                    )
                if problem:
                    raise ArxivApiError(f"malformed reply from the arXiv API ({problem})")
                body, skipped = without_undated(response.content)
                self.skipped += skipped
                feed = _feed.parse(body)
                # arXiv's known flaky reply: a later page with no entries, though the listing's total says
                # there are more (the package only asks for a page below that total). Asked again.
                if first_page or feed.results:
                    return feed
            raise ArxivApiError(
                f"arXiv sent an empty page at {_start_of(url)} of a listing of "
                f"{feed.header.total_results:,} results, {EMPTY_PAGE_TRIES} times; try again later"
            )

    client = PoliteArxivClient(page_size=API_BATCH, delay_seconds=0, num_retries=0)
    client.skipped = 0  # entries left out: a date that is not one (`without_undated`)
    joiner = "&" if "?" in api_url else "?"
    client.query_url_format = api_url.replace("{", "{{").replace("}", "}}") + joiner + "{}"
    return client


def without_undated(body: bytes) -> tuple[bytes, int]:
    """``body`` without the entries whose ``<published>`` or ``<updated>`` is missing or not a date
    (``<updated>None</updated>`` was seen), and how many those were: the arxiv package skips a missing date
    but raises ValueError for the whole page on a malformed one. ``body`` itself when all are dated."""
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, recover=True)
    try:
        root = etree.fromstring(body, parser=parser)
    except etree.XMLSyntaxError:
        return body, 0  # `inspect_feed` has judged it
    if root is None:
        return body, 0
    ns = {"atom": "http://www.w3.org/2005/Atom"}
    undated = [
        entry
        for entry in root.iterfind("atom:entry", ns)
        if not all(_is_date(entry.findtext(f"atom:{key}", namespaces=ns)) for key in ("published", "updated"))
    ]
    for entry in undated:
        root.remove(entry)
    return (etree.tostring(root, xml_declaration=True, encoding="utf-8") if undated else body), len(undated)


def _is_date(text: str | None) -> bool:
    if not text:
        return False
    try:
        datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _start_of(url: str) -> str:
    """``start=N`` of a page's URL, as a reader reads it: "start=100"."""
    from urllib.parse import parse_qs, urlsplit

    start = parse_qs(urlsplit(url).query).get("start", ["?"])[0]
    return f"start={start}"


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


def to_record(result: Any) -> ArxivRecord | None:
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
