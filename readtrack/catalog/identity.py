"""What makes two listings one paper: the identity rule of ``import``, ``add`` and every library format.

Two listings are the same paper when they share an arXiv id (primary or related, versions ignored) or a
DOI (from a doi.org or ``/doi/`` link); failing that, when they have the same normalised title or label
(the wording a list gave it; case, accents, LaTeX, punctuation, a ``(2018)`` and a trailing "arXiv preprint
arXiv:..." ignored: `readtrack.catalog.keys`) and nothing tells them apart: two different arXiv ids or DOIs
are two papers, whatever else they share. Where both first authors are known (a library's ``author``
field, or what sync and earlier imports stored for a listed paper), the same last name makes one paper
whatever the years say (arXiv's export of a paper says 2023, Scholar's 2017), and two names two papers;
where one is unknown, two different years are two papers. An exported list's
``<!-- id: x -->`` comments name papers too: the same id is the same paper unless the arXiv ids differ,
and two different ids in one file are two papers. A shared URL or code link never merges, nor does a
short name before the title (``[GCN]``): such pairs only look similar.

`Identity` is what identifies one listing, `IdentityIndex` finds the listing a new one is the same paper
as; `already_listed` applies the rule to papers about to be added (`readtrack.catalog.edits.add_many`), and
`readtrack.formats.importer` to a whole imported list.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from readtrack.catalog import arxivid
from readtrack.catalog.keys import author_key, doi_of, short_name, title_key
from readtrack.catalog.model import Catalog, Paper, untitled

if TYPE_CHECKING:
    from readtrack.catalog.new_paper import NewPaper


@dataclass
class Listing:
    """Where a paper is listed, for the report: ``list.md:12`` or ``papers.yaml:40``, its title, section."""

    where: str
    title: str
    section: str

    def __str__(self) -> str:
        return f'{self.where} "{_shorten(self.title)}"'


def already_listed(
    catalog: Catalog, papers: Iterable[NewPaper], authors: Mapping[int, Sequence[str]] | None = None
) -> tuple[NewPaper, str, str] | None:
    """The first paper to add (nested ones too) that the list already has, by import's identity rule: (the
    new paper, the id of the listed one, why: "same arXiv id 1706.03762", "same title"). None when all
    are new. This is the rule `readtrack.catalog.edits.add_many` applies to every addition (``add``, the TUI's
    ``a``, import), so a paper is never listed twice, by id or by title. ``authors``: the authors an
    imported library gives a new paper, by ``id(paper)``.

    A paper known by its arXiv id alone (its title is the id until sync) is also known by the title sync
    stored for that id, when there is one: LoRA added by id and then by title is one paper."""
    new = list(walk_papers(list(papers)))
    authors = authors or {}
    known = IdentityIndex(ids_apart=False)
    listed = list(catalog.papers())
    untitled_ones: list[Paper | NewPaper] = [p for p in listed if p.arxiv and untitled(p.title, p.arxiv)]
    untitled_ones += [p for p in new if p.arxiv and untitled(p.title, p.arxiv)]
    synced = _synced_titles(untitled_ones)
    first = listed_first_authors(listed, [p for p in new if authors.get(id(p))])
    for paper in listed:
        listing = Listing(f"{catalog.path.name}:{paper.line}", paper.display_title, paper.section)
        identity = Identity.of(paper, listing, [first[paper.id]] if paper.id in first else ())
        identity.existing_id = paper.id
        known.add(identity, _with_synced_title(identity, paper, synced))
    for addition in new:
        identity = Identity.of(addition, Listing("", addition.title, ""), authors.get(id(addition), ()))
        identity.id = None  # an id is given to a new paper, not a claim to be the listed one of that id
        _with_synced_title(identity, addition, synced)
        found = known.same(identity)
        if found is not None and found[0].existing_id is not None:
            return addition, found[0].existing_id, found[1]
    return None


def listed_first_authors(listed: list[Paper], new: list[NewPaper]) -> dict[str, str]:
    """The first authors stored for the listed papers that share a title with one of ``new`` (the papers
    whose first author is known), by paper id: only those can be told apart, or made one, by it."""
    names = {title_key(n) for p in new for n in (p.title, p.label) if n}
    sharing = [p for p in listed if names & {title_key(n) for n in (p.title, p.label) if n}]
    if not sharing:
        return {}
    from readtrack.catalog.metadata import first_authors

    return first_authors(sharing)


def _synced_titles(papers: list[Paper | NewPaper]) -> dict[str, str]:
    """Base arXiv id -> the title sync stored for it (SQLite; nothing when never synced)."""
    if not papers:
        return {}
    import sqlite3

    from readtrack.base.errors import ReadtrackError
    from readtrack.catalog import metadata

    try:
        records = metadata.get_many(arxivid.base_id(p.arxiv or "") for p in papers)
    except (ReadtrackError, OSError, sqlite3.Error):
        return {}
    return {ident: record.title for ident, record in records.items() if record.title}


def _with_synced_title(
    identity: Identity, paper: Paper | NewPaper, synced: dict[str, str]
) -> Iterator[tuple[str, str]]:
    title = synced.get(arxivid.base_id(paper.arxiv or "")) if untitled(paper.title, paper.arxiv) else None
    if title and (name := title_key(title)) not in identity.names:
        identity.names.append(name)
    return identity.keys()


@dataclass
class Identity:
    """What identifies one listing (a paper in the catalog, or an item of the imported file)."""

    listing: Listing
    arxiv: list[str]  # base ids, primary first
    doi: str | None
    names: list[str]  # normalised title and label
    year: int | None
    id: str | None  # the catalog's id, or an imported item's <!-- id: --> comment
    hints: list[tuple[str, str]]  # ("url" | "code" | "short name", value): shared, they only look similar
    paper: NewPaper | None = None  # an imported item: where later listings merge
    existing_id: str | None = None  # a catalog paper
    first_author: str | None = None  # as written: "Kaiming He"; compared by `paper_keys.author_key`

    @classmethod
    def of(cls, paper: Paper | NewPaper, listing: Listing, authors: Sequence[str] = ()) -> Identity:
        """``paper``'s identity; ``authors``: its authors, where known (papers.yaml has no key for them)."""
        arxiv = list(dict.fromkeys(arxivid.base_id(i) for i in [paper.arxiv, *paper.related] if i))
        # the title, and the label: the wording the item had in a list (what an import writes as label)
        names = [title_key(n) for n in (paper.title, paper.label) if n]
        hints = [("url", _url_key(paper.url))] if paper.url else []
        hints += [("code", _url_key(link)) for link in paper.code]
        if paper.label and (short := short_name(paper.label)):
            hints.append(("short name", short))  # [GCN]: two papers of that name are common
        return cls(
            listing,
            arxiv,
            doi_of(paper.url),
            list(dict.fromkeys(n for n in names if n)),
            paper.year,
            paper.id or None,
            hints,
            first_author=authors[0] if authors else None,
        )

    def keys(self) -> Iterator[tuple[str, str]]:
        """The index keys: what can make two listings one (id, arXiv, DOI, name) and the hints."""
        yield from [("id", self.id)] if self.id else []
        yield from (("arxiv", a) for a in self.arxiv)
        yield from [("doi", self.doi)] if self.doi else []
        yield from (("name", n) for n in self.names)
        yield from self.hints

    def apart(self, other: Identity, *, by_title: bool) -> str | None:
        """What says these are two papers (different arXiv ids, DOIs, or for a title match first authors,
        else years), or None."""
        if self.arxiv and other.arxiv and not set(self.arxiv) & set(other.arxiv):
            return f"arXiv {self.arxiv[0]} and {other.arxiv[0]}"
        if self.doi and other.doi and self.doi != other.doi:
            return f"DOI {self.doi} and {other.doi}"
        if not by_title:
            return None
        same = self.same_author(other)
        if same is not None:  # both known: the first authors decide, whatever the years say
            return None if same else f"first authors {self.first_author} and {other.first_author}"
        if self.year and other.year and self.year != other.year:
            return f"years {self.year} and {other.year}"
        return None

    def same_author(self, other: Identity) -> bool | None:
        """Whether the two first authors have one last name; None when one of them is unknown."""
        mine, theirs = author_key(self.first_author), author_key(other.first_author)
        return None if mine is None or theirs is None else mine == theirs

    def absorb(self, other: Identity) -> None:
        """Take on what a later listing of the same paper adds (the merge adds it to the paper too)."""
        self.arxiv = list(dict.fromkeys([*self.arxiv, *other.arxiv]))
        self.doi = self.doi or other.doi
        self.year = self.year or other.year
        self.names = list(dict.fromkeys([*self.names, *other.names]))
        self.first_author = self.first_author or other.first_author


class IdentityIndex:
    """Listings by what identifies them, to find the one a new listing is the same paper as."""

    def __init__(self, *, ids_apart: bool) -> None:
        self.by_key: dict[tuple[str, str], list[Identity]] = {}
        self.ids_apart = ids_apart  # within one file, two different id comments are two papers

    def add(self, identity: Identity, keys: Iterator[tuple[str, str]] | None = None) -> None:
        for key in keys if keys is not None else identity.keys():
            found = self.by_key.setdefault(key, [])
            if identity not in found:
                found.append(identity)

    def same(self, new: Identity) -> tuple[Identity, str] | None:
        """The listing ``new`` is the same paper as, and the key that says so; None for a new paper."""
        candidates: list[tuple[tuple[str, str], str, bool]] = []
        candidates += [(("id", new.id), f"same id {new.id}", False)] if new.id else []
        candidates += [(("arxiv", a), f"same arXiv id {a}", False) for a in new.arxiv]
        candidates += [(("doi", new.doi), f"same DOI {new.doi}", False)] if new.doi else []
        candidates += [(("name", n), "same title", True) for n in new.names]
        for key, why, by_title in candidates:
            for other in self.by_key.get(key, []):
                if self.ids_apart and new.id and other.id and new.id != other.id:
                    continue
                if key[0] in ("arxiv", "doi") or not new.apart(other, by_title=by_title):
                    if by_title and new.same_author(other):
                        names = dict.fromkeys([str(new.first_author), str(other.first_author)])
                        why = f"same title and first author ({', '.join(names)})"
                    return other, why
        return None

    def similar(self, new: Identity) -> list[tuple[Identity, str]]:
        """Listings that share a title, label, URL or code link with ``new`` but are other papers: for each
        shared value the first listing that has it."""
        shared: dict[int, tuple[Identity, list[str]]] = {}
        for key in [*(("name", n) for n in new.names), *new.hints]:
            others = [o for o in self.by_key.get(key, []) if o is not new]
            if not others:
                continue
            other = others[0]
            what = {
                "url": f"same URL {key[1]}",
                "code": f"same code link {key[1]}",
                "short name": f"same short name [{key[1]}]",
            }.get(key[0], "same title")
            entry = shared.setdefault(id(other), (other, []))
            if what not in entry[1]:
                entry[1].append(what)
        out = []
        for other, reasons in shared.values():
            apart = new.apart(other, by_title=True)
            out.append((other, "; ".join(reasons) + (f" ({apart})" if apart else "")))
        return out


def walk_papers(papers: list[NewPaper]) -> Iterator[NewPaper]:
    """Every paper to add, nested ones right after their parent."""
    for paper in papers:
        yield paper
        yield from walk_papers(paper.children)


def _url_key(url: str) -> str:
    url = re.sub(r"^https?://(www\.)?", "", url.strip(), flags=re.IGNORECASE)
    return url.rstrip("/").lower()


def page_key(url: str) -> str:
    """A link without its query and fragment (``?tab=readme``, ``#section``): the page it opens."""
    return _url_key(re.split(r"[?#]", url.strip(), maxsplit=1)[0])


def _shorten(title: str, width: int = 50) -> str:
    return title if len(title) <= width else title[: width - 1].rstrip() + "…"
