"""A plugin's code as one hash (`fingerprint`): what a calibration record holds it was measured on.

Every ``*.py`` of the plugin's folder that `is_code` (its page and wrong solutions are not), every
``readtrack.plugin_kit`` module it imports and the code of every plugin it imports (a family bench's
members), transitively, parsed by ``ast``: docstrings and a knob's words
(`KNOB_WORDS`) left out, the check and bench stages (`SEPARATE_STAGES`) too, and imports through
``readtrack.api`` hashed as from their former homes (`FORMER_HOMES`), so a page edit, a reworded knob or a
moved import needs no new calibration, and a code edit does.
"""

from __future__ import annotations

import ast
import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

from readtrack.base import pyast
from readtrack.plugins.pages import (
    NOT_CODE,  # a plugin's files that are not its code: the page, the wrong solutions
)

if TYPE_CHECKING:
    from importlib.machinery import ModuleSpec

KIT = "readtrack.plugin_kit"

#: Where each name of ``readtrack.api`` lived before that module existed. `fingerprint` hashes
#: ``from readtrack.api import X, Y`` as the import from X's former home, so moving the plugins' imports to
#: ``readtrack.api`` moved no fingerprint. Frozen: a name added to the API later needs no entry.
FORMER_HOMES = {
    "atomic_write": "readtrack.base.atomic",
    "PluginError": "readtrack.base.errors",
    "STAGES": "readtrack.plugins.declaration",
    "Exercise": "readtrack.plugins.declaration",
    "PaperPlugin": "readtrack.plugins.declaration",
    "declare": "readtrack.plugins.declaration",
    "hookimpl": "readtrack.plugins.declaration",
    "knob": "readtrack.plugins.knobs",
    "BenchRow": "readtrack.plugins.records",
    "mistake": "readtrack.practice",
    "BenchHarness": "readtrack.runner.bench",
    "TOLERANCES": "readtrack.runner.context",
    "RunContext": "readtrack.runner.context",
    "dtype_name": "readtrack.runner.context",
}


#: The stages whose own code `fingerprint` leaves out: seeded afresh and never run by a calibration.
SEPARATE_STAGES = ("check", "bench")


#: What this process fingerprinted, by folder: the bytes' hash of every file it read (the folder's code and
#: the kit modules found), in order, and the fingerprint (`fingerprint`).
_REMEMBERED: dict[Path, tuple[tuple[tuple[Path, bytes], ...], str]] = {}


def fingerprint(folder: Path) -> str:
    """A hash of the plugin's code (every ``*.py`` that `is_code`) and of the ``readtrack.plugin_kit``
    modules it imports (transitively), each parsed, docstrings and a knob's words (`KNOB_WORDS`) left out.

    The ``check`` and ``bench`` stages themselves (``experiment.py``'s top-level ``def check`` and ``def
    bench``) are left out too: the runner seeds every stage afresh (``runner.seed_everything``) and a
    calibration runs the train stage alone, so neither can move a calibrated number; a check made stricter (a
    rule ``readtrack practice`` must enforce) or a bench row added or regrouped needs no recalibration. What
    they call from elsewhere (a helper in ``model.py``, the kit) still counts.

    Parsing is what costs (~25 ms a plugin, which every run paid to record its code): a process that already
    fingerprinted ``folder`` reads its files' bytes again and parses nothing when every file it read then,
    and the folder's list of code files, are as they were (a fork server's runs inherit its answer)."""
    remembered = _REMEMBERED.get(folder)
    if remembered is not None and _unchanged(folder, remembered[0]):
        return remembered[1]
    digest = hashlib.sha256()
    files = _code_files(folder)
    seen: set[Path] = set()
    read: list[tuple[Path, bytes]] = []
    while files:
        path = files.pop(0)
        if path in seen:
            continue
        seen.add(path)
        source = path.read_bytes()
        read.append((path, hashlib.sha256(source).digest()))
        tree = pyast.parse(source.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n"))  # as read_text
        imports = [node for node in ast.walk(tree) if isinstance(node, ast.Import | ast.ImportFrom)]
        files += sorted((_kit_modules(imports) | _member_files(imports)) - seen)
        _as_former_imports(tree)
        _without_knob_words(tree)
        if path.name == "experiment.py":
            separate = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name in SEPARATE_STAGES]
            tree.body = [node for node in tree.body if node not in separate]
        for node in ast.walk(tree):
            body = getattr(node, "body", None)
            if (
                isinstance(body, list)
                and body
                and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)
            ):
                body[0] = ast.Pass()
        digest.update(path.name.encode() + b"\0" + ast.dump(tree).encode() + b"\0")
    code = digest.hexdigest()[:16]
    _REMEMBERED[folder] = (tuple(read), code)
    return code


def _code_files(folder: Path) -> list[Path]:
    return [p for p in sorted(folder.glob("*.py")) if is_code(p)]


def _unchanged(folder: Path, read: tuple[tuple[Path, bytes], ...]) -> bool:
    """Whether the files ``read`` hold the same bytes, and ``folder`` the same code files, as then."""
    paths = {path for path, _ in read}
    if any(path not in paths for path in _code_files(folder)):
        return False  # a code file added (one removed fails to read below)
    try:
        return all(hashlib.sha256(path.read_bytes()).digest() == seen for path, seen in read)
    except OSError:
        return False


#: The words of a ``knob(...)`` (``config.py``) that say what it means and move no number: its help, what
#: the paper used, and what its special values mean. `fingerprint` leaves them out, so a help made clearer
#: needs no recalibration; a default, a range or a choice still moves the fingerprint.
KNOB_WORDS = frozenset({"help", "paper", "means", "arm"})


def _without_knob_words(tree: ast.Module) -> None:
    """Drop `KNOB_WORDS` keywords from every call of ``knob`` (by that name, or ``api.knob``) in ``tree``."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and "knob" in (
            getattr(node.func, "id", ""),
            getattr(node.func, "attr", ""),
        ):
            node.keywords = [k for k in node.keywords if k.arg not in KNOB_WORDS]


def is_code(path: Path) -> bool:
    """Whether ``path`` in a plugin's folder counts as its code: not ``NOT_CODE`` (the page, the wrong
    solutions), and not a test (``test_*.py``, ``*_test.py``, ``conftest.py``), which checks the code and
    moves none of its numbers: a plugin packaged with or without its tests has one fingerprint."""
    name = path.name
    return not (
        name in NOT_CODE or name.startswith("test_") or name.endswith("_test.py") or name == "conftest.py"
    )


def _as_former_imports(tree: ast.Module) -> None:
    """Rewrite ``from readtrack.api import ...`` in place into the imports from the names' former homes
    (``FORMER_HOMES``; one statement per home), then put each run of consecutive ``from readtrack...``
    imports in the order of their modules, as isort leaves them. A name with no former home leaves its
    statement as it is."""
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if not isinstance(body, list):
            continue
        out: list[ast.stmt] = []
        for stmt in body:
            homes: dict[str | None, list[ast.alias]] = {}
            if isinstance(stmt, ast.ImportFrom) and stmt.module == "readtrack.api" and stmt.level == 0:
                for alias in stmt.names:
                    homes.setdefault(FORMER_HOMES.get(alias.name), []).append(alias)
            if not homes or None in homes:
                out.append(stmt)
                continue
            out += [ast.ImportFrom(module=home, names=names, level=0) for home, names in homes.items()]
        body[:] = _sorted_runs(out)


def _sorted_runs(body: list[ast.stmt]) -> list[ast.stmt]:
    """``body`` with each run of consecutive ``from readtrack... import`` statements sorted by module."""

    out: list[ast.stmt] = []
    run: list[ast.ImportFrom] = []
    for stmt in [*body, None]:
        if (
            isinstance(stmt, ast.ImportFrom)
            and stmt.level == 0
            and (stmt.module or "").startswith("readtrack.")
        ):
            run.append(stmt)
            continue
        ordered: list[ast.ImportFrom] = sorted(run, key=lambda s: s.module or "")
        out += ordered
        run = []
        if stmt is not None:
            out.append(stmt)
    return out


def _found(module: str) -> ModuleSpec | None:
    """The import system's spec of ``module``; None when it cannot be found (or its parent not imported)."""
    import importlib.util

    try:
        return importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None


def package_folder(package: str) -> Path | None:
    """The folder of the plugin package ``package`` (None when it has none)."""
    spec = _found(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def package_fingerprint(package: str) -> str | None:
    """`fingerprint` of the plugin package ``package`` as it is on disk (None when it has no folder): the
    runner records it in each run's environment, so a calibration knows which code its runs ran."""
    folder = package_folder(package)
    return None if folder is None else fingerprint(folder)


def _kit_modules(imports: list[ast.Import | ast.ImportFrom]) -> set[Path]:
    """The files of the ``readtrack.plugin_kit`` modules that a module's ``imports`` name, found by the import
    system (the kit installed beside whatever readtrack is imported, never a path guessed from this module's
    place).
    ``from readtrack.plugin_kit import name`` counts the module ``name`` when there is one, else the kit's
    ``__init__``. A kit module that cannot be found is a ValueError: a fingerprint that silently left it out
    would let an edit to it mark no record stale."""
    imported: dict[str, str | None] = {}  # a module imported, and what stands in when it is no module
    for node in imports:
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == KIT:
                imported |= {f"{KIT}.{a.name}": KIT for a in node.names}
            elif node.module.startswith(KIT + "."):
                imported[node.module] = None
        elif isinstance(node, ast.Import):
            imported |= {a.name: None for a in node.names if a.name.startswith(KIT + ".")}
    files = set()
    for name, instead in imported.items():
        path = _kit_file(name) or (_kit_file(instead) if instead else None)
        if path is None:
            raise ValueError(f"{name} is imported but cannot be found: no fingerprint without it")
        files.add(path)
    return files


#: The package of the built-in plugins: a family bench imports its members' code from it.
SHELF = "readtrack_plugins"


def _member_files(imports: list[ast.Import | ast.ImportFrom]) -> set[Path]:
    """The code files of every plugin that a module's ``imports`` take from ``readtrack_plugins`` (a family
    bench runs its members' own implementations, ``tests/plugins/test_stock.py``'s ``BENCHED``): an edit to a
    member's code marks the bench's records stale, as an edit to the kit does. A plugin that cannot be found
    is a ValueError, as for the kit."""
    names: set[str] = set()
    for node in imports:
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.startswith(SHELF + "."):
                names.add(node.module.split(".")[1])
            elif node.module == SHELF:
                names |= {a.name for a in node.names}
        elif isinstance(node, ast.Import):
            names |= {a.name.split(".")[1] for a in node.names if a.name.startswith(SHELF + ".")}
    files: set[Path] = set()
    for name in names:
        folder = package_folder(f"{SHELF}.{name}")
        if folder is None:
            raise ValueError(f"{SHELF}.{name} is imported but cannot be found: no fingerprint without it")
        files |= {path.resolve() for path in _code_files(folder)}
    return files


def _kit_file(module: str) -> Path | None:
    """The source file of the kit module ``module`` (its ``__init__.py`` for the package), or None."""
    spec = _found(module)
    if spec is None or spec.origin is None or not spec.origin.endswith(".py"):
        return None
    return Path(spec.origin).resolve()
