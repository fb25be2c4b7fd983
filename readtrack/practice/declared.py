"""Which plugins have practice exercises: read from their ``__init__.py`` as text, never imported.

Every plugin discovery finds is read: built-in, an installed package's (its entry point's folder) and a
folder of the user's plugin folder.

``readtrack practice`` lists every exercise as fast as ``readtrack list`` lists papers, so the declarations
(``declare(..., exercises=[Exercise(target=..., statement=..., hints=[...], lines=6)])``) are read from the
syntax tree, as literals; a file without ``Exercise(`` in it is not even parsed. Grading imports the plugin
anyway, and a test checks that the imported declaration equals what is read here.
"""

from __future__ import annotations

import ast
import contextlib
import json
import os
import sys
import textwrap
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from readtrack.base import pyast
from readtrack.base.errors import UsageError
from readtrack.plugins.declaration import Exercise


@dataclass(frozen=True)
class PracticePlugin:
    """A plugin with exercises: its name, its folder (``model.py`` is the model solution) and exercises."""

    name: str
    title: str
    folder: Path
    exercises: tuple[Exercise, ...]

    @property
    def model_file(self) -> Path:
        return self.folder / "model.py"

    @property
    def targets(self) -> list[str]:
        return [e.target for e in self.exercises]


def practice_plugins() -> list[PracticePlugin]:
    """Every plugin that declares exercises, in name order (the first plugin of a name wins, as discovery
    picks it: built-in, then installed packages' entry points, then the user's folder). Kept in the data dir,
    keyed by the ``__init__.py`` files' sizes and times, so an unchanged set of plugins costs a ``stat`` each;
    the installed plugins' folders are kept there too, keyed by the times of the folders on ``sys.path``
    (an install or uninstall changes them), so that the list need not read every distribution's metadata."""
    from readtrack.base.paths import catalog_path, data_dir
    from readtrack.plugins.folders import builtin_roots, plugin_inits, plugin_roots

    try:
        catalog = catalog_path()
    except Exception:  # no catalog: the built-in plugins are still there
        catalog = Path.cwd() / "papers.yaml"
    cache = data_dir() / "cache" / "practice-exercises.json"
    cached: dict[str, Any] = {}
    with contextlib.suppress(OSError, ValueError):
        loaded = json.loads(cache.read_bytes())
        cached = loaded if isinstance(loaded, dict) else {}
    installed, paths = _installed_inits(cached)
    roots = plugin_roots(catalog)
    builtin = len(builtin_roots())
    inits = [init for folder in roots[:builtin] for init in plugin_inits(folder)]
    inits += installed + [init for folder in roots[builtin:] for init in plugin_inits(folder)]
    stamp = [_CACHE_FORMAT, *paths]
    for init in inits:
        with contextlib.suppress(OSError):
            info = init.stat()
            stamp.append(f"{init}:{info.st_size}:{info.st_mtime_ns}")
    with contextlib.suppress(OSError, ValueError, TypeError, KeyError):
        if cached["stamp"] == stamp:
            return [_from_json(p) for p in cached["plugins"]]
    found: dict[str, PracticePlugin] = {}
    for init in inits:
        plugin = _read(init)
        if plugin is not None:
            found.setdefault(plugin.name, plugin)
    plugins = sorted(found.values(), key=lambda p: p.name)
    with contextlib.suppress(OSError):  # a read-only data dir only means reading the files again
        from readtrack.base.atomic import atomic_write

        data = [{**asdict(p), "folder": str(p.folder)} for p in plugins]
        kept = {"stamp": stamp, "plugins": data, "paths": paths, "installed": [str(i) for i in installed]}
        atomic_write(cache, json.dumps(kept, ensure_ascii=False))
    return plugins


def _installed_inits(cached: dict[str, Any]) -> tuple[list[Path], list[str]]:
    """The ``__init__.py`` of each installed plugin package (an entry point of the group ``readtrack``), and
    the stamp of ``sys.path`` they were found under; from ``cached`` while that stamp holds (reading the
    entry points takes tens of ms the list does not spend every time). ``sys.path[0]``, the command's own
    folder or the working directory, is left out: it is not where packages are installed, and the working
    directory changes with every file written in it."""
    paths = []
    for entry in sys.path[1:]:
        with contextlib.suppress(OSError):
            paths.append(f"{entry}:{os.stat(entry or '.').st_mtime_ns}")
    if cached.get("paths") == paths and isinstance(cached.get("installed"), list):
        return [Path(str(init)) for init in cached["installed"]], paths
    from readtrack.plugins.folders import entry_point_folders

    return [folder / "__init__.py" for folder in entry_point_folders()], paths


_CACHE_FORMAT = "3"  # 2: Exercise.module; 3: installed plugins


def _from_json(data: dict[str, object]) -> PracticePlugin:
    exercises = tuple(Exercise(**e) for e in data["exercises"])  # type: ignore[attr-defined]
    return PracticePlugin(str(data["name"]), str(data["title"]), Path(str(data["folder"])), exercises)


def practice_plugin(name: str) -> PracticePlugin:
    """The plugin ``name`` with its exercises; UsageError naming the ones there are otherwise."""
    plugins = practice_plugins()
    for plugin in plugins:
        if plugin.name == name:
            return plugin
    names = ", ".join(p.name for p in plugins) or "none yet"
    raise UsageError(f"no practice exercise for {name!r}: plugins with exercises are {names}")


def _read(init: Path) -> PracticePlugin | None:
    try:
        text = init.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    if "Exercise(" not in text:
        return None
    try:
        tree = pyast.parse(text, str(init))
    except SyntaxError:
        return None
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "declare":
            keywords = {k.arg: k.value for k in node.keywords}
            if "exercises" not in keywords:
                continue
            name = _literal(keywords.get("name"), init) or init.parent.name.replace("_", "-")
            title = _literal(keywords.get("title"), init) or name
            exercises = tuple(_exercise(e, init) for e in _elements(keywords["exercises"], init))
            return PracticePlugin(str(name), str(title), init.parent, exercises)
    return None


def _elements(node: ast.expr, init: Path) -> list[ast.expr]:
    if isinstance(node, (ast.List, ast.Tuple)):
        return list(node.elts)
    raise UsageError(
        f"{init}:{node.lineno}:{node.col_offset + 1}: exercises=[...] must be a list of Exercise(...)"
    )


def _exercise(node: ast.expr, init: Path) -> Exercise:
    if not (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Exercise" and not node.args):
        raise UsageError(
            f"{init}:{node.lineno}:{node.col_offset + 1}: write each exercise as Exercise(target=..., ...)"
        )
    fields = {k.arg: _literal(k.value, init) for k in node.keywords if k.arg}
    try:
        for key, value in fields.items():
            wanted = _KINDS.get(str(key))
            if wanted is None:
                raise TypeError(f"Exercise has no field {key!r} (it has {', '.join(_KINDS)})")
            if not _of_kind(value, wanted):
                raise TypeError(f"Exercise's {key} must be {_KIND_NAMES[wanted]}")
        exercise = Exercise(**fields)  # type: ignore[arg-type]
    except (TypeError, ValueError) as err:
        raise UsageError(f"{init}:{node.lineno}:{node.col_offset + 1}: {err}") from None
    return _cleaned(exercise)


_KINDS = {"target": str, "statement": str, "hints": list, "lines": int, "references": list, "module": str}
_KIND_NAMES = {str: "a string", list: "a list of strings", int: "a whole number"}


def _of_kind(value: object, kind: type) -> bool:
    if kind is list:
        return isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value)
    return isinstance(value, kind) and not isinstance(value, bool)


def _cleaned(exercise: Exercise) -> Exercise:
    """The statement and hints as a reader sees them: a triple-quoted statement loses its indentation."""
    return Exercise(
        target=exercise.target,
        statement=_cleandoc(exercise.statement),
        hints=tuple(_cleandoc(h) for h in exercise.hints),
        lines=exercise.lines,
        references=exercise.references,
        module=exercise.module,
    )


def _cleandoc(text: str) -> str:
    """``inspect.cleandoc`` (the first line stripped, the rest dedented) without importing inspect."""
    first, _, rest = text.expandtabs().partition("\n")
    return (first.strip() + "\n" + textwrap.dedent(rest)).strip()


def _literal(node: ast.expr | None, init: Path) -> object:
    if node is None:
        return None
    try:
        return ast.literal_eval(node)
    except ValueError:
        raise UsageError(
            f"{init}:{node.lineno}:{node.col_offset + 1}: an exercise is declared with literals "
            "(strings, numbers, lists): readtrack practice reads it without importing the plugin"
        ) from None


def cleaned(exercises: tuple[Exercise, ...]) -> tuple[Exercise, ...]:
    """An imported plugin's exercises as :func:`practice_plugin` reads them (for comparing the two)."""
    return tuple(_cleaned(e) for e in exercises)
