"""The house's shape (ARCHITECTURE.md): readtrack/ in layers that import only downward, checked by
import-linter's contracts in pyproject.toml, and no import circle anywhere, inside a layer either."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import grimp

REPO = Path(__file__).resolve().parents[1]
LINT_IMPORTS = str(Path(sys.executable).with_name("lint-imports"))


def circles(graph: grimp.ImportGraph) -> set[frozenset[str]]:
    """The strongly connected components of more than one module: every import counts, at the top of a
    module, inside a function or under TYPE_CHECKING (an import hidden in a function is still an arrow)."""
    modules = sorted(graph.modules)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: set[frozenset[str]] = set()

    def strong(v: str) -> None:  # Tarjan's algorithm, iterative enough for a package this size
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.find_modules_directly_imported_by(v)):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                found.add(frozenset(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for module in modules:
        if module not in index:
            strong(module)
    return found


def test_the_layers_hold() -> None:
    """`lint-imports`: every contract in pyproject.toml is kept (the layers, the faces apart)."""
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


def test_no_import_circle() -> None:
    """No module reaches itself through imports: at the top, inside functions, under TYPE_CHECKING."""
    graph = grimp.build_graph("readtrack", include_external_packages=False)
    assert circles(graph) == set(), sorted(map(sorted, circles(graph)))


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
    assert circles(graph) == {frozenset({"circled.a", "circled.b"})}
