"""References, citations and what to read next, seen from the reader's own list.

`Related` joins three things nobody else has together: Semantic Scholar's citation graph
(`readtrack.related.s2`), the reader's list with each paper's status, and the plugins that run a paper. Every
paper it shows is a `Row`: Semantic Scholar's description, the list's paper when it is already there (and its
status), the plugins that run it, and for ``next`` the reasons it is suggested.

The ranking of ``next`` (`rank`), one point per reason, so that a row's "why" is its score spelled out:

- **co-citation**: +1 for each paper the reader has read or is reading that cites it (its references);
- **citing**: +1 for each of those papers it cites (their citations);
- **recommended**: +1 when Semantic Scholar's recommendations, seeded with the read and reading papers as
  positives and the skipped ones as negatives, name it (its place there breaks ties);
- **runnable**: +1 when a plugin runs it.

Ties go to the better recommendation, then the more cited paper, the newer one, and Semantic Scholar's id:
the same graph gives the same list. Papers already in the list are left out (shown with their status with
``--all``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from readtrack.base.errors import ReadtrackError, UsageError
from readtrack.base.words import plural
from readtrack.catalog import arxivid
from readtrack.catalog.keys import doi_of, title_key
from readtrack.catalog.model import Catalog, Paper
from readtrack.plugins.links import PluginKeys, plugin_keys
from readtrack.related.cache import Cache
from readtrack.related.s2 import S2Paper, S2Settings, SemanticScholar, s2_ident

if TYPE_CHECKING:
    from readtrack.arxiv.http import PoliteSession

SEEDS = ("read", "reading")  # the statuses whose papers' graph ranks the suggestions
NEGATIVE = "skipped"
DEFAULT_FETCH = 1000  # references or citations fetched per paper unless asked for more
RECOMMENDATIONS = 100
SHOWN_NAMES = 3  # list paper ids named in a row's "why" before "+N"
TITLE_MATCH = "title match"  # how a list paper without an arXiv id or DOI is found
TITLE_MATCH_UNKNOWN_ID = "title match, its id unknown"  # ... and one whose id Semantic Scholar does not know

Progress = Callable[[str], None]


class NotOnSemanticScholar(ReadtrackError):
    """An id or list paper Semantic Scholar does not know."""


@dataclass
class Row:
    """A paper as readtrack shows it beside the list."""

    paper: S2Paper
    listed: Paper | None = None
    plugins: list[str] = field(default_factory=list)
    why: str = ""
    score: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        p = self.paper
        return {
            "title": p.title,
            "year": p.year,
            "venue": p.venue or None,
            "citations": p.citations,
            "arxiv": p.arxiv,
            "doi": p.doi,
            "s2_id": p.s2_id,
            "authors": list(p.authors),
            "plugins": self.plugins,
            "in_list": self.listed.id if self.listed else None,
            "status": self.listed.status if self.listed else None,
            "why": self.why or None,
            "score": self.score if self.why else None,
        }


@dataclass
class Resolved:
    """A list paper found on Semantic Scholar, and how (its arXiv id, its DOI, or a title match)."""

    paper: Paper
    s2: S2Paper | None
    how: str


@dataclass
class Listing:
    """``refs`` or ``cites`` of one paper: the rows shown and what a reader should know about them."""

    target: S2Paper
    rows: list[Row]
    fetched: int  # how many references or citations were fetched, resolved or not
    complete: bool  # every one was
    notes: list[str] = field(default_factory=list)
    unresolved: int = 0  # of those fetched, how many Semantic Scholar has no paper for (not in ``rows``)


@dataclass
class Suggestions:
    """What ``next`` found: the ranked rows, how many papers ranked them, and what could not be used."""

    rows: list[Row]
    notes: list[str] = field(default_factory=list)
    ranked_by: int = 0  # the distinct papers on Semantic Scholar whose graph ranked the rows
    capped: bool = False  # some paper's citations were fetched in part (`DEFAULT_FETCH`)


class ListIndex:
    """Which list paper a Semantic Scholar paper is: by arXiv id, DOI, Semantic Scholar id or title."""

    def __init__(self, catalog: Catalog, keys: PluginKeys) -> None:
        self.keys = keys
        self.by_arxiv: dict[str, Paper] = {}
        self.by_doi: dict[str, Paper] = {}
        self.by_title: dict[str, Paper] = {}
        self.by_s2: dict[str, Paper] = {}
        for paper in catalog.papers():
            for ident in paper.arxiv_ids():
                self.by_arxiv.setdefault(arxivid.base_id(ident), paper)
            doi = doi_of(paper.url)
            if doi:
                self.by_doi.setdefault(doi, paper)
            if paper.title and not paper.untitled:
                self.by_title.setdefault(title_key(paper.title), paper)

    def find(self, found: S2Paper) -> Paper | None:
        return (
            self.by_s2.get(found.s2_id)
            or (self.by_arxiv.get(found.arxiv) if found.arxiv else None)
            or (self.by_doi.get(found.doi.lower()) if found.doi else None)
            or (self.by_title.get(title_key(found.title)) if found.title else None)
        )

    def row(self, found: S2Paper) -> Row:
        listed = self.find(found)
        plugins = list(listed.plugins) if listed and listed.plugins else self.plugins_of(found)
        return Row(found, listed, plugins)

    def plugins_of(self, found: S2Paper) -> list[str]:
        names = list(self.keys.arxiv.get(found.arxiv, [])) if found.arxiv else []
        if found.doi:
            names += [n for n in self.keys.doi.get(found.doi.lower(), []) if n not in names]
        return names


class Related:
    """The reader's list against Semantic Scholar's graph."""

    def __init__(
        self,
        catalog: Catalog,
        client: SemanticScholar,
        keys: PluginKeys,
        *,
        on_progress: Progress | None = None,
    ) -> None:
        self.catalog = catalog
        self.client = client
        self.index = ListIndex(catalog, keys)
        self.say: Progress = on_progress or (lambda _text: None)
        self._targets: dict[str, tuple[S2Paper, list[str]]] = {}  # `target`'s answers: refs and cites share

    # -- finding papers ----------------------------------------------------------------------------------

    def resolve(self, papers: Iterable[Paper]) -> list[Resolved]:
        """The papers on Semantic Scholar: by arXiv id or DOI in batches, else by a title match each."""
        papers = list(papers)
        idents: dict[str, str] = {}
        for paper in papers:
            ident = _list_ident(paper)
            if ident:
                idents[paper.id] = ident
        if idents:
            self.say(f"looking up {plural(len(idents), 'paper')} on Semantic Scholar")
        found = self.client.papers(list(idents.values())) if idents else {}
        resolved: list[Resolved] = []
        for paper in papers:
            ident = idents.get(paper.id)
            if ident is not None and found.get(ident) is not None:
                how = "arXiv id" if ident.startswith("ARXIV:") else "DOI"
                resolved.append(Resolved(paper, found[ident], how))
                continue
            if not paper.title or paper.untitled:
                resolved.append(Resolved(paper, None, "arXiv id" if ident else "no arXiv id, DOI or title"))
                continue
            self.say(f"matching {paper.id} by its title")
            how = TITLE_MATCH if ident is None else TITLE_MATCH_UNKNOWN_ID
            resolved.append(Resolved(paper, self.client.match(paper.title), how))
        for item in resolved:
            if item.s2 is not None:
                self.index.by_s2.setdefault(item.s2.s2_id, item.paper)
        return resolved

    def target(self, text: str) -> tuple[S2Paper, list[str]]:
        """The paper a reader named: a list paper's id, else an id Semantic Scholar takes; with notes."""
        if text not in self._targets:
            self._targets[text] = self._find_target(text)
        return self._targets[text]

    def _find_target(self, text: str) -> tuple[S2Paper, list[str]]:
        try:
            paper: Paper | None = self.catalog.get(text)
        except UsageError as not_listed:
            paper = None
            try:
                ident = s2_ident(text)
            except UsageError:
                raise UsageError(
                    f"{not_listed}; nor is {text!r} an id Semantic Scholar takes (an arXiv id, DOI:10..., "
                    "CorpusId:N or a paperId)"
                ) from None
        if paper is not None:
            (resolved,) = self.resolve([paper])
            if resolved.s2 is None:
                raise NotOnSemanticScholar(_unknown(paper, resolved.how))
            notes = []
            if resolved.how in (TITLE_MATCH, TITLE_MATCH_UNKNOWN_ID):
                why = "has no arXiv id or DOI" if resolved.how == TITLE_MATCH else "is unknown by its id"
                notes.append(
                    f"{paper.id} {why}: matched by title to “{resolved.s2.title}” "
                    f"({resolved.s2.year or 'year unknown'})"
                )
            return resolved.s2, notes
        found = self.client.paper(ident)
        if found is None:
            raise NotOnSemanticScholar(f"Semantic Scholar does not know {ident}")
        listed = self.index.find(found)
        if listed is not None:
            self.index.by_s2.setdefault(found.s2_id, listed)
        return found, []

    # -- refs and cites ----------------------------------------------------------------------------------

    def refs(self, text: str, *, fetch: int | None = DEFAULT_FETCH, sort: str = "order") -> Listing:
        """What the paper cites: in Semantic Scholar's order (``sort="order"``) or as `cites` sorts."""
        target, notes = self.target(text)
        self.say(f"fetching the references of “{target.title}”")
        listing = self.client.references(target.s2_id, fetch, on_page=self._pages("references"))
        rows = _sorted([self.index.row(p) for p in listing.papers], sort)
        return Listing(target, rows, listing.items, listing.complete, notes, listing.unresolved)

    def cites(self, text: str, *, fetch: int | None = DEFAULT_FETCH, sort: str = "cited") -> Listing:
        """Who cites the paper, most cited (``sort="cited"``) or newest (``"newest"``) first, among those
        fetched."""
        target, notes = self.target(text)
        self.say(f"fetching the citations of “{target.title}”")
        listing = self.client.citations(target.s2_id, fetch, on_page=self._pages("citations"))
        rows = _sorted([self.index.row(p) for p in listing.papers], sort)
        return Listing(target, rows, listing.items, listing.complete, notes, listing.unresolved)

    def _pages(self, kind: str) -> Callable[[int], None]:
        return lambda count: self.say(f"  {count:,} {kind} so far")

    # -- next --------------------------------------------------------------------------------------------

    def suggest(
        self, *, fetch: int | None = DEFAULT_FETCH, recommendations: bool = True, include_listed: bool = False
    ) -> Suggestions:
        """Every candidate, ranked (`rank`); the list's own papers only with ``include_listed``."""
        papers = list(self.catalog.papers())
        seeds_wanted = [p for p in papers if p.status in SEEDS]
        if not seeds_wanted:
            raise ReadtrackError(
                "nothing read yet: what to read next is ranked by the papers you have read or are reading; "
                "mark one read first"
            )
        negatives_wanted = [p for p in papers if p.status == NEGATIVE]
        resolved = self.resolve(seeds_wanted + negatives_wanted)
        seeds = [r for r in resolved if r.paper.status in SEEDS]
        negatives = [r for r in resolved if r.paper.status == NEGATIVE]
        notes = _resolution_notes(resolved)
        # one seed per Semantic Scholar paper: two list items of the same paper count once
        usable = list({r.s2.s2_id: r for r in reversed(seeds) if r.s2 is not None}.values())[::-1]
        if not usable:
            raise NotOnSemanticScholar(
                f"none of the {plural(len(seeds), 'paper')} you read or are reading is on Semantic Scholar"
            )
        capped = False  # a seed's citations were fetched in part
        cited_by: dict[str, list[str]] = {}  # candidate -> seeds that cite it
        citing: dict[str, list[str]] = {}  # candidate -> seeds it cites
        papers_by_id: dict[str, S2Paper] = {}
        for number, seed in enumerate(usable, 1):
            assert seed.s2 is not None
            self.say(f"[{number}/{len(usable)}] the references and citations of {seed.paper.id}")
            refs = self.client.references(seed.s2.s2_id, fetch)
            cites = self.client.citations(seed.s2.s2_id, fetch)
            for found in refs.papers:
                papers_by_id.setdefault(found.s2_id, found)
                _add_once(cited_by, found.s2_id, seed.paper.id)
            for found in cites.papers:
                papers_by_id.setdefault(found.s2_id, found)
                _add_once(citing, found.s2_id, seed.paper.id)
            if not cites.complete and seed.s2.citations:
                capped = True
                notes.append(
                    f"{seed.paper.id}: ranked by the first {cites.items:,} of its "
                    f"{seed.s2.citations:,} citations"
                )
        recommended: dict[str, int] = {}
        if recommendations:
            self.say("asking Semantic Scholar for recommendations")
            positive = [r.s2.s2_id for r in usable if r.s2]
            negative = [r.s2.s2_id for r in negatives if r.s2]
            for place, found in enumerate(self.client.recommend(positive, negative, RECOMMENDATIONS), 1):
                papers_by_id.setdefault(found.s2_id, found)
                recommended.setdefault(found.s2_id, place)
        rows = rank(self.index, papers_by_id, cited_by, citing, recommended, include_listed=include_listed)
        return Suggestions(rows, notes, len(usable), capped)


@contextmanager
def opened(
    catalog: Catalog,
    *,
    refresh: bool = False,
    on_progress: Progress | None = None,
    on_wait: Callable[[str, str, float, int, int], None] | None = None,
    cancel: threading.Event | None = None,
) -> Iterator[Related]:
    """`Related` for the list, its client on the data dir's cache (closed after) and a session of its own
    (``cancel`` stops it between and during requests: `readtrack.arxiv.http.Cancelled`)."""
    settings = S2Settings.from_env()

    def open_one() -> PoliteSession:  # on the first request: a warm cache opens none (issue 96)
        from readtrack.arxiv.http import open_session

        session = open_session(settings.session_settings(), jobs=1, cancel=cancel)
        session.on_wait = on_wait
        return session

    with Cache() as cache:
        client = SemanticScholar(settings, cache, refresh=refresh, opener=open_one)
        try:
            yield Related(catalog, client, plugin_keys(catalog.path), on_progress=on_progress)
        finally:
            if client.opened:
                client.session.close()


def rank(
    index: ListIndex,
    papers: dict[str, S2Paper],
    cited_by: dict[str, list[str]],
    citing: dict[str, list[str]],
    recommended: dict[str, int],
    *,
    include_listed: bool = False,
) -> list[Row]:
    """The candidates best first, each with its score and the reasons that make it (see the module's page)."""
    rows: list[Row] = []
    for s2_id, found in papers.items():
        row = index.row(found)
        if row.listed is not None and not include_listed:
            continue
        reasons: list[str] = []
        score = 0.0
        if cited_by.get(s2_id):
            score += len(cited_by[s2_id])
            reasons.append(f"cited by {_count_named(cited_by[s2_id])}")
        if citing.get(s2_id):
            score += len(citing[s2_id])
            reasons.append(f"cites {_count_named(citing[s2_id])}")
        if s2_id in recommended:
            score += 1
            reasons.append(f"recommended (#{recommended[s2_id]})")
        if row.plugins:
            score += 1
            reasons.append(f"a plugin runs it ({', '.join(row.plugins)})")
        row.score = score
        row.why = "; ".join(reasons)
        rows.append(row)
    rows.sort(
        key=lambda r: (
            -r.score,
            recommended.get(r.paper.s2_id, len(recommended) + 1),
            -(r.paper.citations or 0),
            -(r.paper.year or 0),
            r.paper.s2_id,
        )
    )
    return rows


def _sorted(rows: list[Row], sort: str) -> list[Row]:
    """``cited``: most cited first; ``newest``: newest first; ``order``: as Semantic Scholar listed them."""
    if sort == "newest":
        return sorted(rows, key=lambda r: (r.paper.date or str(r.paper.year or ""), r.paper.s2_id))[::-1]
    if sort == "cited":
        return sorted(rows, key=lambda r: (-(r.paper.citations or 0), -(r.paper.year or 0), r.paper.s2_id))
    return rows


def _count_named(ids: list[str]) -> str:
    names = ", ".join(ids[:SHOWN_NAMES]) + (f" +{len(ids) - SHOWN_NAMES}" if len(ids) > SHOWN_NAMES else "")
    return f"{len(ids)} you read: {names}"


def _add_once(table: dict[str, list[str]], key: str, value: str) -> None:
    found = table.setdefault(key, [])
    if value not in found:
        found.append(value)


def _list_ident(paper: Paper) -> str | None:
    """How Semantic Scholar is asked for a list paper: its arXiv id, else its DOI; None: by title."""
    if paper.arxiv:
        parsed = arxivid.parse(paper.arxiv)
        if parsed is not None:
            return f"ARXIV:{parsed.base}"
    doi = doi_of(paper.url)
    return f"DOI:{doi}" if doi else None


def _unknown(paper: Paper, how: str) -> str:
    if how == TITLE_MATCH_UNKNOWN_ID:
        return f"Semantic Scholar knows neither {paper.id}'s id nor its title “{paper.title}”"
    if how == TITLE_MATCH:
        return f"Semantic Scholar knows no paper titled “{paper.title}” ({paper.id} has no arXiv id or DOI)"
    if how == "arXiv id" and paper.arxiv:
        return f"Semantic Scholar does not know {paper.id}'s arXiv id {paper.arxiv}"
    if how == "DOI":
        return f"Semantic Scholar does not know {paper.id}'s DOI {doi_of(paper.url)}"
    return f"{paper.id} has no arXiv id, DOI or title to look it up by"


def _resolution_notes(resolved: list[Resolved]) -> list[str]:
    notes = []
    for how, said in ((TITLE_MATCH, "no arXiv id or DOI"), (TITLE_MATCH_UNKNOWN_ID, "their ids unknown")):
        matched = [r.paper.id for r in resolved if r.s2 is not None and r.how == how]
        if matched:
            notes.append(f"matched by title ({said}): {', '.join(matched)}")
    missing = [r for r in resolved if r.s2 is None]
    if missing:
        ids = ", ".join(r.paper.id for r in missing)
        notes.append(f"not found on Semantic Scholar, left out: {ids}")
    return notes
