"""Finding paper plugins: built-in, installed, and in the user's plugin folder.

Three sources, searched in this order (the first plugin of a name wins; a later one of the same name is
listed as broken, "shadowed by ..."):

1. built-in: the subpackages of ``readtrack_plugins`` (the repo's ``plugins/`` folder, installed under that
   name; from a source checkout that was never installed, the folder is loaded under that name directly);
2. installed: every entry point of the group ``readtrack`` names a module implementing the hooks;
3. the user's folder: ``READTRACK_PLUGINS_DIR``, else ``plugins/`` next to the active papers.yaml. Each
   subfolder with an ``__init__.py`` is imported as a package under a private name, so its relative imports
   work and it cannot collide with an installed package.

Every module is registered with one pluggy ``PluginManager`` (hookspecs in ``readtrack.plugins.hookspecs``),
next to readtrack's own history recorder, and asked for its declarations through ``readtrack_paper_plugins``.
A module that fails to import, raises in that hook or declares something invalid becomes a
:class:`BrokenPlugin` carrying the error: listing never crashes. Only the light ``__init__`` modules are
imported here; a plugin's implementation and experiments are imported when they are asked for.

An installed plugin's name is its entry point's: when the module an entry point names declares exactly one
plugin and calls it otherwise (``swish-pkg = "swish_readtrack"`` beside ``declare(name="swish")``, or no
``name=``, which is the folder's, ``swish-readtrack``), that plugin is broken, listed under its declared name
and found by the entry point's too, with one line naming both: ``entry point 'swish-pkg' (distribution
swish-readtrack 0.1) declares plugin 'swish': name them alike (entry point name = declare(name=...))``. An
entry point whose module declares several plugins (or only lifecycle hooks) is a label: each plugin keeps its
declared name. Silently adopting one name or the other would leave the other one answering "unknown plugin"
(practice, links and the search read the declared name from the page's text).

Errors are one line naming the file and line (`readtrack.base.errors.located`), at the plugin's own line even
when a library it calls raised: a page that does not import is ``/home/me/swish/__init__.py:8: NameError:
...``. Installed and user-folder plugins are checked further before they are listed fine, without importing
torch (`code_problem`): their ``config.py`` is imported and its ``Config`` must be a frozen dataclass of valid
knobs (`readtrack.plugins.knobs.config_class`), and their implementation and experiments modules must compile
(compiled, not run). The built-in plugins are held to the same by the tests, and skipped here: listing stays
as fast as before. An experiments module that raises as it is imported shows when the plugin runs
(`readtrack.runner.run`), as the same kind of line."""

from __future__ import annotations

import difflib
import hashlib
import importlib
import importlib.util
import pkgutil
import re
import sys
import threading
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from importlib import metadata
from pathlib import Path
from types import ModuleType
from typing import Any

import pluggy

from readtrack.base.errors import PluginError, UsageError, located, one_line
from readtrack.plugins import hookspecs
from readtrack.plugins.declaration import PaperPlugin
from readtrack.plugins.folders import (
    BUILTIN_PACKAGE,
    ENTRY_POINT_GROUP,
    builtin_roots,
    user_plugins_dir,
)

#: Prefix of the private module names user-folder plugins are imported under.
USER_MODULE_PREFIX = "_readtrack_user_"

BUILTIN, INSTALLED, USER = "built-in", "installed", "user folder"


@dataclass
class LoadedPlugin:
    """A plugin that was found and declared itself correctly."""

    info: PaperPlugin
    source: str  # built-in | installed | user folder
    origin: str  # the module (and distribution) or folder it came from
    status: str = field(default="ok", init=False)
    error: None = field(default=None, init=False)
    _implementation: ModuleType | None = field(default=None, init=False, repr=False)
    _experiments: ModuleType | None = field(default=None, init=False, repr=False)

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def implementation(self) -> ModuleType:
        """The implementation module (``model.py``), imported on first use (this imports torch)."""
        if self._implementation is None:
            self._implementation = self.info.import_implementation()
        return self._implementation

    @property
    def experiments(self) -> ModuleType:
        """The experiments module with ``check``/``train``/``bench``, imported on first use."""
        if self._experiments is None:
            self._experiments = self.info.import_experiments()
        return self._experiments


@dataclass
class BrokenPlugin:
    """A plugin that could not be loaded: ``error`` is the one line shown, ``detail`` the traceback;
    ``aliases`` other names it is found by (the entry point's, when that differs from the declared one)."""

    name: str
    source: str
    origin: str
    error: str
    detail: str = ""
    info: PaperPlugin | None = None
    status: str = field(default="broken", init=False)
    aliases: tuple[str, ...] = ()


Plugin = LoadedPlugin | BrokenPlugin


@dataclass
class Discovery:
    """Everything one discovery found, and the plugin manager the runner calls lifecycle hooks on."""

    plugins: list[Plugin]
    hooks: pluggy.PluginManager


@dataclass
class _Candidate:
    name: str  # the name to list it under if it breaks before declaring itself; an entry point's name
    source: str
    origin: str
    load: Callable[[], Any]
    home: Callable[[], Path | None]  # its folder (or single module's file): where its errors are placed
    entry_point: str = ""  # "entry point 'swish' (distribution swish-readtrack 0.1)"


# -- the three sources ----------------------------------------------------------------------------
def _builtin_package() -> ModuleType | None:
    try:
        return importlib.import_module(BUILTIN_PACKAGE)
    except ModuleNotFoundError as err:
        if err.name != BUILTIN_PACKAGE:
            raise
    folders = builtin_roots()  # not installed: the source checkout's plugins/, if readtrack runs from one
    return _import_folder(BUILTIN_PACKAGE, folders[0]) if folders else None


def _builtin_candidates() -> Iterator[_Candidate]:
    package = _builtin_package()
    if package is None:
        return
    if hasattr(package, "readtrack_lineages"):  # the built-in families (`readtrack.plugins.lineages`)
        home = partial(_module_home, BUILTIN_PACKAGE)
        yield _Candidate(BUILTIN_PACKAGE, BUILTIN, BUILTIN_PACKAGE, lambda: package, home)
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if info.ispkg and not info.name.startswith("_"):
            module_name = f"{BUILTIN_PACKAGE}.{info.name}"
            load = partial(importlib.import_module, module_name)
            yield _Candidate(info.name, BUILTIN, module_name, load, partial(_module_home, module_name))


def _entry_point_candidates() -> Iterator[_Candidate]:
    for ep in sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        dist = getattr(ep, "dist", None)
        origin = f"{ep.value} ({dist.name} {dist.version})" if dist is not None else ep.value
        label = f"entry point {ep.name!r}" + (f" (distribution {dist.name} {dist.version})" if dist else "")
        home = partial(_module_home, ep.module)
        yield _Candidate(ep.name, INSTALLED, origin, ep.load, home, entry_point=label)


def _module_home(module_name: str) -> Path | None:
    """The folder of the package ``module_name`` (the file of a single module), found without running it."""
    try:
        spec = importlib.util.find_spec(module_name)
    except Exception:  # its parent package does not import: nowhere to point at
        return None
    if spec is None:
        return None
    if spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations)))
    return Path(spec.origin) if spec.origin and spec.has_location else None


def _user_candidates(folder: Path | None) -> Iterator[_Candidate]:
    if folder is None or not folder.is_dir():
        return
    builtin_dirs = {Path(p).resolve() for p in getattr(_builtin_package(), "__path__", [])}
    if folder.resolve() in builtin_dirs:
        return  # papers.yaml at the repo root: its plugins/ is the built-in folder, already found
    for sub in sorted(folder.iterdir()):
        if sub.is_dir() and (sub / "__init__.py").is_file() and not sub.name.startswith((".", "_")):
            if any(_same_code(sub, builtin / sub.name) for builtin in builtin_dirs):
                continue  # a copy of a built-in plugin (a clone's plugins/ beside an installed readtrack)
            module_name = _private_name(sub)
            load = partial(_import_folder, module_name, sub)
            yield _Candidate(sub.name, USER, str(sub), load, partial(Path, sub))


def _same_code(a: Path, b: Path) -> bool:
    """Whether two plugin folders hold the same Python files, byte for byte: then they are one plugin,
    found twice, not one shadowing the other."""

    def code(folder: Path) -> dict[str, bytes]:
        files = (p for p in folder.rglob("*.py") if "__pycache__" not in p.parts)
        return {p.relative_to(folder).as_posix(): p.read_bytes() for p in files}

    try:
        return b.is_dir() and code(a) == code(b)
    except OSError:
        return False


def _private_name(folder: Path) -> str:
    # The folder's path is part of the name: two folders with a plugin of the same name get two modules.
    digest = hashlib.sha1(str(folder.resolve()).encode()).hexdigest()[:8]
    slug = re.sub(r"\W", "_", folder.name)
    return f"{USER_MODULE_PREFIX}{slug}_{digest}"


def _import_folder(module_name: str, folder: Path) -> ModuleType:
    """Import ``folder`` as the package ``module_name`` (fresh: its old modules are forgotten first)."""
    for loaded in [m for m in sys.modules if m == module_name or m.startswith(module_name + ".")]:
        del sys.modules[loaded]
    spec = importlib.util.spec_from_file_location(
        module_name, folder / "__init__.py", submodule_search_locations=[str(folder)]
    )
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {folder} as a package")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[module_name]
        raise
    return module


# -- discovery ------------------------------------------------------------------------------------
def new_plugin_manager() -> pluggy.PluginManager:
    """A plugin manager with readtrack's hookspecs (the runner adds its history recorder when it runs)."""
    manager = pluggy.PluginManager(hookspecs.PROJECT)
    manager.add_hookspecs(hookspecs)
    return manager


def _declare(manager: pluggy.PluginManager, candidate: _Candidate, module: Any) -> list[PaperPlugin] | str:
    """Register ``module`` and ask it for its declarations; a string is the reason it is broken."""
    if manager.is_registered(module):
        return []  # the same module reached twice (e.g. an entry point naming a built-in): found already
    try:
        manager.register(module, name=candidate.origin)
    except (pluggy.PluginValidationError, ValueError) as err:
        return f"invalid hook implementation: {one_line(err)}"
    unknown = sorted(c.name for c in manager.get_hookcallers(module) or [] if not c.has_spec())
    if unknown:
        manager.unregister(module)
        return f"implements unknown hook {', '.join(unknown)} (see readtrack.plugins.hookspecs)"
    hook = manager.hook.readtrack_paper_plugins
    if not any(impl.plugin is module for impl in hook.get_hookimpls()):
        if not manager.get_hookcallers(module):
            manager.unregister(module)
            return "implements no readtrack hook (is readtrack_paper_plugins marked with @hookimpl?)"
        return []  # a lifecycle-only plugin (an exporter, say): registered, nothing to list
    # Through pluggy, asking only this module: each result is one implementation's list of declarations.
    others = [plugin for plugin in manager.get_plugins() if plugin is not module]
    results = manager.subset_hook_caller(hook.name, remove_plugins=others)()
    declared = [
        item for result in results for item in (result if isinstance(result, (list, tuple)) else [result])
    ]
    if not all(isinstance(d, PaperPlugin) for d in declared):
        manager.unregister(module)
        return f"readtrack_paper_plugins() returned {results!r:.80}, expected a list of PaperPlugin"
    for plugin in declared:
        for part in (plugin.implementation, plugin.experiments):
            module_name = f"{plugin.package}.{part}"
            try:
                found = importlib.util.find_spec(module_name) is not None
            except (ImportError, ValueError):
                found = False
            if not found:
                manager.unregister(module)
                return f"plugin {plugin.name} names module {module_name}, which does not exist"
    return list(declared)


def _discover(user_dir: Path | None) -> Discovery:
    manager = new_plugin_manager()
    found: list[Plugin] = []
    first: dict[str, LoadedPlugin] = {}

    def broken(candidate: _Candidate, error: str, detail: str = "") -> None:
        found.append(BrokenPlugin(candidate.name, candidate.source, candidate.origin, error, detail))

    sources: list[Callable[[], Iterator[_Candidate]]] = [
        _builtin_candidates,
        _entry_point_candidates,
        lambda: _user_candidates(user_dir),
    ]
    for source in sources:
        try:
            candidates = list(source())
        except Exception as err:  # e.g. an unreadable folder or broken distribution metadata
            found.append(BrokenPlugin("?", "discovery", "", one_line(err), traceback.format_exc()))
            continue
        for candidate in candidates:
            try:
                module = candidate.load()
            except (Exception, SystemExit) as err:
                place = located(err, candidate.home())
                error = place or f"cannot import {candidate.origin}: {one_line(err)}"
                broken(candidate, error, traceback.format_exc())
                continue
            try:
                declared = _declare(manager, candidate, module)
            except (Exception, SystemExit) as err:
                if manager.is_registered(module):
                    manager.unregister(module)
                raised = f"readtrack_paper_plugins() raised {one_line(err)}"
                place = located(err, candidate.home())
                error = f"{place.partition(': ')[0]}: {raised}" if place else raised
                broken(candidate, error, traceback.format_exc())
                continue
            if isinstance(declared, str):
                broken(candidate, declared)
                continue
            misnamed = _misnamed(candidate, declared)
            if misnamed:
                manager.unregister(module)
                (info,) = declared
                aliases = (candidate.name,)
                found.append(BrokenPlugin(info.name, candidate.source, candidate.origin, misnamed,
                                          info=info, aliases=aliases))  # fmt: skip
                continue
            for info in declared:
                if info.name in first:
                    winner = first[info.name]
                    error = f"shadowed by {winner.source} plugin {info.name} ({winner.origin})"
                    found.append(
                        BrokenPlugin(info.name, candidate.source, candidate.origin, error, info=info)
                    )
                    continue
                problem = None if candidate.source == BUILTIN else code_problem(info)
                if problem:
                    found.append(
                        BrokenPlugin(info.name, candidate.source, candidate.origin, problem, info=info)
                    )
                    continue
                loaded = LoadedPlugin(info, candidate.source, candidate.origin)
                first[info.name] = loaded
                found.append(loaded)
    return Discovery(found, manager)


def _misnamed(candidate: _Candidate, declared: list[PaperPlugin]) -> str | None:
    """Why an entry point whose name is not the name of the one plugin its module declares is broken (None
    when they agree, or the module declares several plugins or none: then the entry point's name is only a
    label)."""
    if candidate.source != INSTALLED or len(declared) != 1 or declared[0].name == candidate.name:
        return None
    return (
        f"{candidate.entry_point} declares plugin {declared[0].name!r}: name them alike "
        "(entry point name = declare(name=...))"
    )


def code_problem(info: PaperPlugin) -> str | None:
    """What keeps a declared plugin from running that can be found without running it (no torch): its
    ``config.py`` does not import or its ``Config`` is not a frozen dataclass of valid knobs, or its
    implementation or experiments module has a syntax error (compiled, not run). One line naming the file
    and line; None when there is nothing to say. Discovery asks this of installed and user-folder plugins."""
    from readtrack.plugins.knobs import config_class

    try:
        config_class(info.package)
    except PluginError as err:
        return str(err)
    for part in (info.implementation, info.experiments):
        try:
            spec = importlib.util.find_spec(f"{info.package}.{part}")
            get_code = getattr(spec.loader, "get_code", None) if spec is not None else None
            if get_code is not None:
                get_code(spec.name)  # type: ignore[union-attr]  # a cached .pyc when there is a fresh one
        except SyntaxError as err:
            return located(err) or f"{info.package}.{part}: {one_line(err)}"
        except Exception:  # unreadable: importing it says why, when the plugin runs
            continue
    return None


def plugin_config(name: str) -> type | None:
    """The ``Config`` of the plugin ``name`` (None without a ``config.py``; see `readtrack.plugins.knobs`),
    found as ``run`` finds the plugin: a built-in wins its name, found without discovering the others; else
    by discovery. Imports the plugin's declaration and config, never torch. A broken plugin or ``config.py``
    is a `PluginError` of one line naming the file and line."""
    from readtrack.plugins.knobs import builtin_package, config_class

    package = builtin_package(name)
    return config_class(package if package is not None else load_plugin(name).info.package)


def plugin_folder(info: PaperPlugin) -> Path | None:
    """The folder of the plugin's package (its errors are placed in it), None when it is not imported."""
    module = sys.modules.get(info.package)
    path = getattr(module, "__path__", None)
    return Path(next(iter(path))) if path else None


_lock = threading.Lock()
_cache: dict[tuple[str, bool], Discovery] = {}


def discovery(*, refresh: bool = False, include_user: bool = True) -> Discovery:
    """The plugins and the plugin manager, discovered once per process and user folder.

    ``refresh`` discovers again (user-folder plugins are re-imported, so edits show up);
    ``include_user=False`` leaves the user folder out (built-in and installed plugins only).
    """
    user_dir = user_plugins_dir() if include_user else None
    key = (str(user_dir), include_user)
    with _lock:
        if refresh or key not in _cache:
            _cache[key] = _discover(user_dir)
        return _cache[key]


def discover(*, refresh: bool = False, include_user: bool = True) -> list[Plugin]:
    """Every plugin found, loaded or broken, in source order (built-in, installed, user folder)."""
    return list(discovery(refresh=refresh, include_user=include_user).plugins)


def get(name: str) -> Plugin:
    """The plugin called ``name`` (loaded or broken); an unknown name is a UsageError with suggestions."""
    plugins = discover()
    for plugin in plugins:
        if plugin.name == name and not (
            isinstance(plugin, BrokenPlugin) and plugin.error.startswith("shadowed")
        ):
            return plugin
    for plugin in plugins:  # a misnamed entry point's plugin, by the entry point's name
        if isinstance(plugin, BrokenPlugin) and name in plugin.aliases:
            return plugin
    names = sorted({p.name for p in plugins if p.status == "ok"})
    close = closest_names(name, names)
    listing = f"`readtrack plugins` lists all {len(names)}" if names else "no plugin was found"
    if not close:
        raise UsageError(f"unknown plugin {name!r}: no plugin has a name like it; {listing}")
    guess = close[0] if len(close) == 1 else f"{', '.join(close[:-1])} or {close[-1]}"
    raise UsageError(f"unknown plugin {name!r}: did you mean {guess}? ({listing})")


def closest_names(name: str, names: Sequence[str], n: int = 3) -> list[str]:
    """Up to ``n`` of ``names`` a mistyped ``name`` most likely meant, closest first: difflib's close matches
    (``transfomer`` → ``transformer``) and the names containing it or contained in it (``flash`` →
    ``flashattention``)."""
    key = name.lower()
    within = [m for m in names if key in m or (len(m) > 2 and m in key)]
    found = set(within) | set(difflib.get_close_matches(key, names, n=n))
    return sorted(found, key=lambda m: (-difflib.SequenceMatcher(None, key, m).ratio(), m))[:n]


def load_plugin(name: str) -> LoadedPlugin:
    """The working plugin called ``name``: a PluginError when it is broken, a UsageError when unknown."""
    plugin = get(name)
    if isinstance(plugin, BrokenPlugin):
        raise PluginError(f"plugin {name} is broken: {plugin.error}")
    return plugin
