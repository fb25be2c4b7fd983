"""Which paper plugins run which papers: the plugins a paper names (``plugin:``) or, when it names none,
every plugin whose declared arXiv id is one of the paper's (``arxiv`` or ``related``).

Read on every ``readtrack list``, so it never imports a plugin (nor pluggy, nor importlib.metadata): the
plugins' ``__init__.py`` files are read as text, where each declares itself with
``declare(__name__, arxiv="1711.05101", ...)``. A plugin declared otherwise, or any plugin installed from
a distribution (an entry point), is found by the real discovery (`readtrack.plugins`), which imports only
those light ``__init__`` modules. The answer is kept in the data dir, keyed by the plugin files' sizes and
times and the install folders' times, so an unchanged set of plugins costs a few ``stat`` calls.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from readtrack import arxivid

if TYPE_CHECKING:
    from readtrack.catalog import Catalog

_FORMAT = 1
BUILTIN_PACKAGE = "readtrack_plugins"  # the built-in plugins, installed (see setup.py)


def link_plugins(catalog: Catalog) -> Catalog:
    """Give each paper without a ``plugin:`` key the plugins declared with one of its arXiv ids (in place).

    ``plugin: []`` in the file opts a paper out; a written ``plugin:`` always wins."""
    from readtrack.catalog import LINKED_BY_ARXIV

    papers = [p for p in catalog.papers() if p.plugin_link is None and (p.arxiv or p.related)]
    if not papers:
        return catalog
    by_arxiv = arxiv_plugins(catalog.path)
    for paper in papers:
        found = [name for ident in paper.arxiv_ids() for name in by_arxiv.get(arxivid.base_id(ident), [])]
        if found:
            paper.plugins = list(dict.fromkeys(found))
            paper.plugin_link = LINKED_BY_ARXIV
    return catalog


def arxiv_plugins(catalog_path: Path) -> dict[str, list[str]]:
    """Base arXiv id -> the names of the plugins that declare it, in discovery order."""
    folders = plugin_roots(catalog_path)
    stamp = _stamp(folders)
    cache = _cache_file()
    with contextlib.suppress(OSError, ValueError, TypeError):
        cached = json.loads(cache.read_bytes())
        if cached.get("stamp") == stamp:
            return {k: list(v) for k, v in cached["links"].items()}
    links = _declared(folders)
    if links is None:
        links = _discovered()
    with contextlib.suppress(OSError):  # a read-only data dir only means reading the plugins again
        from readtrack.atomic import atomic_write

        atomic_write(cache, json.dumps({"stamp": stamp, "links": links}, separators=(",", ":")))
    return links


def builtin_roots() -> list[Path]:
    """The built-in plugins' folder: the installed ``readtrack_plugins`` package, else ``plugins/`` of the
    source checkout readtrack runs from (found, never imported)."""
    spec = importlib.util.find_spec(BUILTIN_PACKAGE)  # finds, does not import
    if spec is not None and spec.submodule_search_locations:
        return [Path(p) for p in spec.submodule_search_locations]
    checkout = Path(__file__).resolve().parent.parent
    if (checkout / "plugins" / "__init__.py").is_file() and (checkout / "pyproject.toml").is_file():
        return [checkout / "plugins"]
    return []


def plugin_roots(catalog_path: Path) -> list[Path]:
    """The built-in plugin folder, then the user's (as `readtrack.plugins` searches them)."""
    folders = builtin_roots()
    explicit = os.environ.get("READTRACK_PLUGINS_DIR")
    user = Path(explicit).expanduser() if explicit else catalog_path.parent / "plugins"
    with contextlib.suppress(OSError):
        if user.is_dir() and user.resolve() not in {f.resolve() for f in folders}:
            folders.append(user)
    return folders


def plugin_inits(folder: Path) -> list[Path]:
    """The ``__init__.py`` of each plugin package in ``folder``, as discovery picks them."""
    try:
        subs = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        return []
    packages = [sub for sub in subs if sub.is_dir() and not sub.name.startswith((".", "_"))]
    inits = [Path(sub.path, "__init__.py") for sub in packages]
    return [init for init in inits if init.is_file()]


def _stamp(folders: list[Path]) -> str:
    """A digest of everything that changes the answer: each plugin file, and the folders packages install
    into (installing or removing a distribution, which may bring an entry point, changes their times)."""
    parts = [str(_FORMAT), sys.prefix]
    for folder in folders:
        for init in plugin_inits(folder):
            with contextlib.suppress(OSError):
                info = init.stat()
                parts.append(f"{init}:{info.st_size}:{info.st_mtime_ns}")
    for entry in sys.path:
        with contextlib.suppress(OSError):
            parts.append(f"{entry}:{os.stat(entry or '.').st_mtime_ns}")
    return hashlib.blake2b("\n".join(parts).encode(), digest_size=12).hexdigest()


def _cache_file() -> Path:
    from readtrack.paths import data_dir

    return data_dir() / "cache" / "plugin-links.json"


def _declared(folders: list[Path]) -> dict[str, list[str]] | None:
    """The links read from the plugins' text; None when one of them cannot be read so (or when a
    distribution installs plugins): then only importing tells."""
    if _entry_points_installed():
        return None
    links: dict[str, list[str]] = {}
    names: set[str] = set()
    for folder in folders:
        for init in plugin_inits(folder):
            declared = _declaration(init)
            if declared is None:
                return None
            name, ident = declared
            if name in names:
                continue  # shadowed: the first plugin of a name wins, as in discovery
            names.add(name)
            if ident:
                links.setdefault(arxivid.base_id(ident), []).append(name)
    return links


def _declaration(init: Path) -> tuple[str, str | None] | None:
    """(name, arXiv id) from ``declare(__name__, arxiv="...", name=...)`` in ``init``; None if not so."""
    import ast

    try:
        tree = ast.parse(init.read_bytes(), str(init))
    except (OSError, SyntaxError, ValueError):
        return None
    for node in tree.body:
        call = node.value if isinstance(node, (ast.Assign, ast.AnnAssign)) else None
        if not (isinstance(call, ast.Call) and getattr(call.func, "id", None) == "declare"):
            continue
        keywords = {k.arg: k.value for k in call.keywords}
        values = {k: v.value for k, v in keywords.items() if isinstance(v, ast.Constant)}
        if "arxiv" not in values or ("name" in keywords and "name" not in values):
            return None
        ident = values["arxiv"]
        if ident is not None and not (isinstance(ident, str) and arxivid.is_valid(ident)):
            return None
        name = values.get("name") or init.parent.name.replace("_", "-")
        return str(name), ident
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


def _discovered() -> dict[str, list[str]]:
    """The links from the real discovery (imports each plugin's light ``__init__``; never torch)."""
    from readtrack.plugins import LoadedPlugin, discover

    links: dict[str, list[str]] = {}
    for plugin in discover():
        if isinstance(plugin, LoadedPlugin) and plugin.info.arxiv and arxivid.is_valid(plugin.info.arxiv):
            links.setdefault(arxivid.base_id(plugin.info.arxiv), []).append(plugin.name)
    return links
