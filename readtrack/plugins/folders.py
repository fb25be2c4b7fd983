"""Where plugin code lives on disk, found without importing it: the built-in folder (the installed
``readtrack_plugins`` or a checkout's ``plugins/``), the user's folder, the folders installed entry points
name, and the plugin names each ``__init__.py`` declares, read from its syntax tree.

What discovery (`readtrack.plugins.discovery`) imports, the links (`readtrack.plugins.links`), practice
and the search index only read: reading a plugin folder must not run its code.
"""

from __future__ import annotations

import ast
import contextlib
import importlib.util
import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from readtrack.base import pyast

if TYPE_CHECKING:
    from importlib import metadata

BUILTIN_PACKAGE = "readtrack_plugins"  # the built-in plugins, installed (see setup.py)
ENTRY_POINT_GROUP = "readtrack"  # the entry-point group of installed plugin distributions


def builtin_roots() -> list[Path]:
    """The built-in plugins' folder: the installed ``readtrack_plugins`` package, else ``plugins/`` of the
    source checkout readtrack runs from (found, never imported)."""
    spec = importlib.util.find_spec(BUILTIN_PACKAGE)  # finds, does not import
    if spec is not None and spec.submodule_search_locations:
        return [Path(p) for p in spec.submodule_search_locations]
    checkout = Path(__file__).resolve().parents[2]  # readtrack/plugins/folders.py -> the checkout
    if (checkout / "plugins" / "__init__.py").is_file() and (checkout / "pyproject.toml").is_file():
        return [checkout / "plugins"]
    return []


def plugin_roots(catalog_path: Path) -> list[Path]:
    """The built-in plugin folder, then the user's (as `readtrack.plugins.discovery` searches them)."""
    folders = builtin_roots()
    explicit = os.environ.get("READTRACK_PLUGINS_DIR")
    user = Path(explicit).expanduser() if explicit else catalog_path.parent / "plugins"
    with contextlib.suppress(OSError):
        if user.is_dir() and user.resolve() not in {f.resolve() for f in folders}:
            folders.append(user)
    return folders


def plugin_inits(folder: Path) -> list[Path]:
    """The ``__init__.py`` of each plugin package in ``folder``, as discovery picks them."""
    return [Path(found.path) for found in plugin_init_stats(folder)]


class InitStat(NamedTuple):
    """A plugin's ``__init__.py``, its size and its times: what tells that a plugin changed. The change time
    too: a copy that keeps the modification time (``cp -p``) of a file of the same size changes it."""

    path: str
    size: int
    mtime_ns: int
    ctime_ns: int


def plugin_init_stats(folder: Path) -> list[InitStat]:
    """`plugin_inits` with each file's size and time, one ``stat`` a plugin (what `readtrack list` reads on
    every start to tell whether the plugins changed)."""
    try:
        subs = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        return []
    found = []
    for sub in subs:
        if sub.name.startswith((".", "_")) or not sub.is_dir():
            continue
        init = os.path.join(sub.path, "__init__.py")
        try:
            info = os.stat(init)
        except OSError:
            continue
        if stat.S_ISREG(info.st_mode):
            found.append(InitStat(init, info.st_size, info.st_mtime_ns, info.st_ctime_ns))
    return found


def user_plugins_dir() -> Path | None:
    """``READTRACK_PLUGINS_DIR``, else ``plugins/`` next to the active papers.yaml (None if unknowable)."""
    explicit = os.environ.get("READTRACK_PLUGINS_DIR")
    if explicit:
        return Path(explicit).expanduser()
    try:
        from readtrack.base.paths import catalog_path

        return catalog_path().parent / "plugins"
    except Exception:  # a catalog problem is reported by the catalog commands, not by plugin listing
        return None


# -- plugin folders read as text --------------------------------------------------------------------------
# `readtrack search` indexes plugin pages and code; reading them must not run them (a plugin folder beside a
# downloaded papers.yaml is code nobody asked to execute). Only running a plugin imports it.


def folders_as_text() -> dict[str, Path]:
    """Each plugin's folder under the name it declares, found by reading ``__init__.py`` files (ast), never
    importing them. Sources in discovery's order (built-in, installed, user folder); the first of a name wins.
    """
    roots = builtin_roots()
    folders = [init.parent for root in roots for init in plugin_inits(root)]
    folders += entry_point_folders()
    user = user_plugins_dir()
    if user is not None and user.is_dir() and user.resolve() not in {r.resolve() for r in roots}:
        folders += [init.parent for init in plugin_inits(user)]
    found: dict[str, Path] = {}
    for folder in folders:
        for name in declared_names(folder):
            found.setdefault(name, folder)
    return found


def entry_point_folders() -> list[Path]:
    """The package folder of each installed plugin (entry point of the group ``readtrack``) that is one, in
    discovery's order, found without importing them."""
    from importlib import metadata  # only here: `list` reads the links without it (tens of ms)

    points = sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name)
    return [folder for folder in map(_entry_point_folder, points) if folder is not None]


def _entry_point_folder(ep: metadata.EntryPoint) -> Path | None:
    """The package folder an entry point names, located without importing anything."""
    top, *rest = ep.module.split(".")
    spec = importlib.util.find_spec(top)
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))).joinpath(*rest)
    return folder if (folder / "__init__.py").is_file() else None


def declared_names(folder: Path) -> list[str]:
    """The plugin names ``folder/__init__.py`` declares (``declare(...)``, ``PaperPlugin(name=...)``), read
    from its syntax tree; the folder's name, underscores as hyphens, when it names none (declare's default).
    """
    default = folder.name.replace("_", "-")
    try:
        tree = pyast.parse((folder / "__init__.py").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, SyntaxError, ValueError):
        return [default]
    names: list[str] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        called = (
            func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
        )
        if called not in ("declare", "PaperPlugin"):
            continue
        named = next((k.value for k in node.keywords if k.arg == "name"), None)
        if isinstance(named, ast.Constant) and isinstance(named.value, str):
            names.append(named.value)
        elif called == "declare":
            names.append(default)
    return list(dict.fromkeys(names)) or [default]
