"""Lint, format and type checks run with the tests, so CI fails on them like on a failing test."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=REPO, capture_output=True, text=True, timeout=600
    )


def test_ruff_lint() -> None:
    result = run("ruff", "check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format() -> None:
    result = run("ruff", "format", "--check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_on_the_package() -> None:
    """pyproject's files: the package, the plugins, the benchmarks and the tests (issue 94: three test files
    had drifted from the types they use; the tests cost mypy ~30 % more, 9 CPU-s)."""
    result = run("mypy")
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_module_of_the_package_has_one_job_stated_and_stays_small() -> None:
    """One module, one job: a docstring saying what it is for, and no module over 600 lines."""
    import ast

    for path in sorted((REPO / "readtrack").rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        name = path.relative_to(REPO)
        assert ast.get_docstring(ast.parse(source)), f"{name} has no docstring stating its job"
        assert source.count("\n") <= 600, f"{name} has {source.count(chr(10))} lines (at most 600)"
