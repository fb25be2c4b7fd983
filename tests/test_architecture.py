"""The house's shape (ARCHITECTURE.md): readtrack/ in layers that import only downward, checked by
import-linter's contracts in pyproject.toml, and no import circle anywhere, inside a layer either."""

from __future__ import annotations

import graphlib
import shutil
import subprocess
import sys
from pathlib import Path

import grimp

REPO = Path(__file__).resolve().parents[1]
LINT_IMPORTS = str(Path(sys.executable).with_name("lint-imports"))


def a_circle(graph: grimp.ImportGraph) -> list[str] | None:
    """Modules that reach themselves through imports (``[a, b, a]``), None when none do. Every import counts:
    at the top of a module, inside a function or under TYPE_CHECKING (an import hidden in a function is still
    an arrow). The standard library's topological sort finds it."""
    arrows = {module: graph.find_modules_directly_imported_by(module) for module in graph.modules}
    try:
        graphlib.TopologicalSorter(arrows).prepare()
    except graphlib.CycleError as err:
        return list(err.args[1])
    return None


def test_the_layers_hold() -> None:
    """`lint-imports`: every contract in pyproject.toml is kept (the layers; Textual and Typer only in the
    faces; no torch under the runner)."""
    result = subprocess.run([LINT_IMPORTS], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


def test_an_upward_import_breaks_the_layers_contract(tmp_path: Path) -> None:
    """The contract can fail: the same package with one base module importing the CLI is refused."""
    shutil.copytree(REPO / "readtrack", tmp_path / "readtrack", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    words = tmp_path / "readtrack" / "base" / "words.py"
    words.write_text(
        words.read_text() + "\n\ndef _up() -> None:\n    from readtrack.cli import app  # noqa: F401\n"
    )
    result = subprocess.run(
        [LINT_IMPORTS], cwd=tmp_path, capture_output=True, text=True, timeout=300,
        env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert result.returncode == 1, result.stdout + result.stderr
    assert "readtrack.base.words -> readtrack.cli.app" in result.stdout


def test_a_plugin_importing_readtrack_beyond_its_api_breaks_the_plugins_contract(tmp_path: Path) -> None:
    """The built-in plugins import readtrack.api and readtrack.plugin_kit only: the same shelf with one
    plugin importing the runner's module directly is refused, naming the import."""
    shutil.copytree(REPO / "readtrack", tmp_path / "readtrack", ignore=shutil.ignore_patterns("__pycache__"))
    shelf = tmp_path / "readtrack_plugins"
    shutil.copytree(REPO / "plugins", shelf, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    model = shelf / "rope" / "model.py"
    model.write_text(model.read_text() + "\nfrom readtrack.runner.context import RunContext  # noqa: E402\n")
    result = subprocess.run(
        [LINT_IMPORTS], cwd=tmp_path, capture_output=True, text=True, timeout=300,
        env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert result.returncode == 1, result.stdout + result.stderr
    assert "readtrack_plugins.rope.model -> readtrack.runner.context" in result.stdout
    assert "public API only" in result.stdout and "1 broken" in result.stdout


def test_no_import_circle() -> None:
    """No module reaches itself through imports: at the top, inside functions, under TYPE_CHECKING."""
    graph = grimp.build_graph("readtrack", include_external_packages=False)
    assert a_circle(graph) is None, " -> ".join(a_circle(graph) or [])


def test_the_circle_finder_finds_a_circle(tmp_path: Path) -> None:
    """The check can fail: two modules importing each other (one only inside a function) are a circle."""
    package = tmp_path / "circled"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from circled import b\n")
    (package / "b.py").write_text("def f() -> None:\n    from circled import a  # noqa: F401\n")
    (package / "c.py").write_text("from circled import a\n")
    sys.path.insert(0, str(tmp_path))
    try:
        graph = grimp.build_graph("circled", include_external_packages=False)
    finally:
        sys.path.remove(str(tmp_path))
    circle = a_circle(graph)
    assert circle is not None and set(circle) == {"circled.a", "circled.b"}, circle


def test_every_child_process_starts_through_base_processes() -> None:
    """A readtrack child started as ``sys.executable -c``/``-m`` has the working directory first on its path:
    a folder named ``readtrack`` there replaces the package (`readtrack.base.processes`). Only that module
    names the interpreter; everything else asks it for the command line."""
    naming = sorted(
        str(path.relative_to(REPO))
        for path in (REPO / "readtrack").rglob("*.py")
        if "sys.executable" in path.read_text(encoding="utf-8")
    )
    assert naming == ["readtrack/base/processes.py"]
