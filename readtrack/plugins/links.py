"""Which paper plugins run which papers: the plugins a paper names (``plugin:``) or, when it names none,
every plugin declared with one of the paper's arXiv ids (``arxiv`` or ``related``); failing that, with its
DOI (from its ``url``: ``https://doi.org/10.1109/CVPR.2016.90``); failing that, with its title (normalised:
`readtrack.catalog.keys`) when the paper's first author, as an import or sync stored it, is the one the
plugin's page names first (``Deep Residual Learning for Image Recognition (He, Zhang, ...)``) and no arXiv id
or DOI says they are two papers. A title alone never links: two papers may share one.

Read on every ``readtrack list``, so it never imports a plugin (nor pluggy, nor importlib.metadata): the
plugins' ``__init__.py`` files are read as text, where each declares itself with ``declare(__name__,
title="...", arxiv="1711.05101", doi=..., ...)`` under its page. A plugin declared otherwise, or any plugin
installed from a distribution (an entry point), is found by the real discovery
(`readtrack.plugins.discovery`), which imports only those light ``__init__`` modules. What the plugins declare
is kept in the data dir, keyed by the plugin files' sizes and times and the install folders' times, so an
unchanged set of plugins costs a few ``stat`` calls; which papers their ids link is kept there too, keyed by
that and the list's bytes, so an unchanged list compares no keys at all. Only a paper whose title is a
plugin's asks the database for its authors, every time (a sync may have stored them since)."""

from __future__ import annotations

import contextlib
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from readtrack.base import quickcache
from readtrack.base.digest import digest
from readtrack.catalog import arxivid
from readtrack.catalog.keys import author_key, doi_of, title_key
from readtrack.catalog.model import LINKED_BY_ARXIV, LINKED_BY_DOI, LINKED_BY_TITLE, Catalog
from readtrack.catalog.reader import load as load_list
from readtrack.plugins.folders import plugin_init_stats, plugin_inits, plugin_roots

if TYPE_CHECKING:
    from readtrack.catalog.model import Paper

_FORMAT = 3  # 2: DOIs and titles; 3: change times in the stamp


class Declared(NamedTuple):
    """What one plugin declares that a paper is recognised by (keys as `readtrack.catalog.keys` makes
    them)."""

    name: str
    arxiv: str | None = None  # base id
    doi: str | None = None
    title: str = ""  # title key
    author: str | None = None  # the first author's key, from the plugin's page


@dataclass
class PluginKeys:
    """The plugins by what they declare: base arXiv id, DOI and title key -> plugins, in discovery order."""

    arxiv: dict[str, list[str]] = field(default_factory=dict)
    doi: dict[str, list[str]] = field(default_factory=dict)
    title: dict[str, list[Declared]] = field(default_factory=dict)

    def add(self, plugin: Declared) -> None:
        if plugin.arxiv:
            self.arxiv.setdefault(plugin.arxiv, []).append(plugin.name)
        if plugin.doi:
            self.doi.setdefault(plugin.doi, []).append(plugin.name)
        if plugin.title and plugin.author:
            self.title.setdefault(plugin.title, []).append(plugin)

    def by_title(self, paper: Paper, first_author: str | None) -> list[str]:
        """The plugins of the paper's title whose first author is the paper's, unless an arXiv id or DOI
        on both sides differs (two papers)."""
        author = author_key(first_author)
        ids = {arxivid.base_id(i) for i in paper.arxiv_ids()}
        doi = doi_of(paper.url)
        return [
            plugin.name
            for plugin in self.title.get(title_key(paper.title), [])
            if author is not None
            and plugin.author == author
            and not (ids and plugin.arxiv and plugin.arxiv not in ids)
            and not (doi and plugin.doi and plugin.doi != doi)
        ]

    def to_plain(self) -> dict[str, object]:
        """Plain values (each `Declared` a tuple), as `quickcache` keeps them."""
        titles = {key: [tuple(plugin) for plugin in found] for key, found in self.title.items()}
        return {"arxiv": self.arxiv, "doi": self.doi, "title": titles}

    @classmethod
    def from_plain(cls, data: dict[str, Any]) -> PluginKeys:
        titles = {key: [Declared(*plugin) for plugin in found] for key, found in data["title"].items()}
        return cls(dict(data["arxiv"]), dict(data["doi"]), titles)


def load(path: str | Path, *, cache: bool = True) -> Catalog:
    """papers.yaml as `readtrack.catalog.model.load` reads it, each paper that names no plugin given the
    plugins that declare it (`link_plugins`): the list every command and the TUI show."""
    return load_list(path, cache=cache, link=link_plugins)


def link_plugins(catalog: Catalog) -> Catalog:
    """Give each paper without a ``plugin:`` key the plugins declared with one of its arXiv ids, else its
    DOI, else its title and first author (in place).

    ``plugin: []`` in the file opts a paper out; a written ``plugin:`` always wins. What the ids and titles
    gave is kept in the data dir, keyed by the list's content and the plugins' stamp: an unchanged list
    (every second ``readtrack list``) reads it back instead of comparing every paper's keys again."""
    papers = [p for p in catalog.papers() if p.plugin_link is None]
    if not papers:
        return catalog
    keys, stamp = _plugin_keys(catalog.path)
    memo = _LinkMemo(catalog, stamp)
    found = memo.read()
    if found is None:
        found = _by_ids(keys, papers)
        memo.write(found)
    links, by_title = found
    for paper in papers:
        if paper.id in links:
            paper.plugins, paper.plugin_link = list(links[paper.id][0]), links[paper.id][1]
    candidates = [p for p in papers if p.id in by_title]
    if candidates:  # a title shared with a plugin is rare: only then is the database asked for authors
        from readtrack.catalog.metadata import first_authors

        authors = first_authors(candidates)
        for paper in candidates:
            named = keys.by_title(paper, authors.get(paper.id))
            if named:
                paper.plugins, paper.plugin_link = list(dict.fromkeys(named)), LINKED_BY_TITLE
    return catalog


#: Paper id -> (plugins, how linked) for the papers an arXiv id or DOI links, and the ids of the papers whose
#: title is a plugin's (their first author, from the database, decides).
Found = tuple[dict[str, tuple[list[str], str]], set[str]]


def _by_ids(keys: PluginKeys, papers: list[Paper]) -> Found:
    links: dict[str, tuple[list[str], str]] = {}
    by_title: set[str] = set()
    for paper in papers:
        found = [name for ident in paper.arxiv_ids() for name in keys.arxiv.get(arxivid.base_id(ident), [])]
        how = LINKED_BY_ARXIV
        if not found and (doi := doi_of(paper.url)):
            found, how = keys.doi.get(doi, []), LINKED_BY_DOI
        if found:
            links[paper.id] = (list(dict.fromkeys(found)), how)
        elif keys.title and title_key(paper.title) in keys.title:
            by_title.add(paper.id)
    return links, by_title


class _LinkMemo:
    """`_by_ids`'s answer for one list, in the data dir next to the list's model cache: valid while the
    list's bytes (``catalog.content_key``) and the plugins (their stamp) are the same."""

    def __init__(self, catalog: Catalog, stamp: str) -> None:
        self.key = f"{_FORMAT}:{catalog.content_key}:{stamp}" if catalog.content_key else None
        self.path = catalog.path

    def _file(self) -> Path:
        from readtrack.base.paths import data_dir

        return data_dir() / "cache" / f"links-{digest(str(self.path.resolve()))}.marshal"

    def read(self) -> Found | None:
        if self.key is None:
            return None
        with contextlib.suppress(OSError, ValueError, TypeError, KeyError, AttributeError):
            raw = quickcache.read(self._file())
            if raw is not None and raw["key"] == self.key:
                links = {ident: (list(plugins), str(how)) for ident, (plugins, how) in raw["links"].items()}
                return links, set(raw["by_title"])
        return None  # a missing or stale memo is only slower

    def write(self, found: Found) -> None:
        if self.key is None:
            return
        links, by_title = found
        payload = {"key": self.key, "links": links, "by_title": sorted(by_title)}
        with contextlib.suppress(OSError):  # a read-only data dir only means linking every time
            quickcache.write(self._file(), payload)


def plugin_keys(catalog_path: Path) -> PluginKeys:
    """What every plugin declares (`PluginKeys`), read from their files or the cache in the data dir."""
    return _plugin_keys(catalog_path)[0]


def _plugin_keys(catalog_path: Path) -> tuple[PluginKeys, str]:
    """`plugin_keys` and the stamp of the plugin files it was read from (`_stamp`)."""
    folders = plugin_roots(catalog_path)
    stamp = _stamp(folders)
    try:
        cache: Path | None = _cache_file()
    except OSError:  # a data dir that cannot be created: read the plugins every time (`list` still works)
        cache = None
    if cache is not None:
        with contextlib.suppress(OSError, ValueError, TypeError, KeyError, AttributeError):
            cached = quickcache.read(cache)
            if cached is not None and cached.get("stamp") == stamp:
                return PluginKeys.from_plain(cached["links"]), stamp
    links = _declared(folders)
    if links is None:
        links = _discovered()
    if cache is not None:
        with contextlib.suppress(OSError):  # a read-only data dir only means reading the plugins again
            quickcache.write(cache, {"stamp": stamp, "links": links.to_plain()})
    return links, stamp


def _stamp(folders: list[Path]) -> str:
    """A digest of everything that changes the answer: each plugin file, and the folders packages install
    into (installing or removing a distribution, which may bring an entry point, changes their times)."""
    parts = [str(_FORMAT), sys.prefix]
    for folder in folders:
        for init in plugin_init_stats(folder):
            parts.append(f"{init.path}:{init.size}:{init.mtime_ns}:{init.ctime_ns}")
    for entry in sys.path:
        with contextlib.suppress(OSError):
            parts.append(f"{entry}:{os.stat(entry or '.').st_mtime_ns}")
    return digest("\n".join(parts))


def _cache_file() -> Path:
    from readtrack.base.paths import data_dir

    return data_dir() / "cache" / "plugin-links.marshal"


def _declared(folders: list[Path]) -> PluginKeys | None:
    """The links read from the plugins' text; None when one of them cannot be read so (or when a
    distribution installs plugins): then only importing tells."""
    if _entry_points_installed():
        return None
    links = PluginKeys()
    names: set[str] = set()
    for folder in folders:
        for init in plugin_inits(folder):
            declared = _declaration(init)
            if declared is None:
                return None
            if declared.name in names:
                continue  # shadowed: the first plugin of a name wins, as in discovery
            names.add(declared.name)
            links.add(declared)
    return links


def _declaration(init: Path) -> Declared | None:
    """What ``declare(__name__, title=..., arxiv="...", doi=..., name=...)`` in ``init`` declares, with the
    first author its docstring names; None when it cannot be read from the text."""
    import ast

    from readtrack.base import pyast

    try:
        tree = pyast.parse(init.read_bytes(), str(init))
    except (OSError, SyntaxError, ValueError):
        return None
    for node in tree.body:
        call = node.value if isinstance(node, (ast.Assign, ast.AnnAssign)) else None
        if not (isinstance(call, ast.Call) and getattr(call.func, "id", None) == "declare"):
            continue
        keywords = {k.arg: k.value for k in call.keywords}
        values = {k: v.value for k, v in keywords.items() if isinstance(v, ast.Constant)}
        if "arxiv" not in values or any(k in keywords and k not in values for k in ("name", "doi", "title")):
            return None
        ident, doi, title = values["arxiv"], values.get("doi"), values.get("title")
        if ident is not None and not (isinstance(ident, str) and arxivid.is_valid(ident)):
            return None
        if doi is not None and not (isinstance(doi, str) and doi_of(doi) == doi.lower()):
            return None  # not a DOI as `declare` takes one: importing the plugin says what is wrong
        name = values.get("name") or init.parent.name.replace("_", "-")
        text = title if isinstance(title, str) else ""
        return _keys(str(name), ident, doi, text, ast.get_docstring(tree))
    return None


def _keys(name: str, arxiv: str | None, doi: str | None, title: str, page: str | None) -> Declared:
    author = author_key(first_author(page, title))
    return Declared(name, arxiv and arxivid.base_id(arxiv), doi_of(doi), title_key(title), author)


def first_author(page: str | None, title: str) -> str | None:
    """The first author a plugin's page names: the first name in the parentheses after the title that
    opens it (``Deep Residual Learning for Image Recognition (He, Zhang, Ren and Sun, arXiv 1512.03385)``
    gives He; an acronym or a year there is skipped: ``(R-CNN, Girshick, ...`` gives Girshick); None when
    the page does not open so."""
    opening = " ".join((page or "").split("\n\n", 1)[0].split())
    if not title or title_key(opening[: len(title)]) != title_key(title):
        return None
    found = re.match(r"\s*\(([^()]*)", opening[len(title) :])
    if found is None:
        return None
    for piece in re.split(r",|;|\band\b|\bet al\b", found.group(1)):
        piece = piece.strip()
        if re.search(r"[a-z]", piece) and not re.search(r"\d", piece):
            return piece
    return None


def _entry_points_installed() -> bool:
    """True when a distribution on sys.path declares an entry point of the ``readtrack`` group."""
    for entry in sys.path:
        try:
            found = [e.path for e in os.scandir(entry or ".") if e.name.endswith((".dist-info", ".egg-info"))]
        except OSError:
            continue
        for dist in found:
            with contextlib.suppress(OSError, UnicodeDecodeError):
                text = Path(dist, "entry_points.txt").read_text(encoding="utf-8")
                if "[readtrack]" in text:
                    return True
    return False


def _discovered() -> PluginKeys:
    """The links from the real discovery (imports each plugin's light ``__init__``; never torch)."""
    from readtrack.plugins.discovery import LoadedPlugin, discover

    links = PluginKeys()
    for plugin in discover():
        if not isinstance(plugin, LoadedPlugin):
            continue
        info = plugin.info
        ident = info.arxiv if info.arxiv and arxivid.is_valid(info.arxiv) else None
        page = getattr(sys.modules.get(info.package), "__doc__", None)
        links.add(_keys(plugin.name, ident, info.doi, info.title, page))
    return links
