"""Shared fixtures: every test gets its own data dir and catalog; the CLI runs as a real subprocess."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_runner import run_cli

REPO = Path(__file__).resolve().parents[1]
SEED_CATALOG = REPO / "readtrack" / "data" / "papers.yaml"


@pytest.fixture(autouse=True)
def readtrack_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """A fresh READTRACK_HOME per test; READTRACK_CATALOG points into it (a copy of the seed list)."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("READTRACK_HOME", str(home))
    monkeypatch.setenv("READTRACK_CATALOG", str(home / "papers.yaml"))
    monkeypatch.delenv("READTRACK_PLUGINS_DIR", raising=False)
    shutil.copy(SEED_CATALOG, home / "papers.yaml")
    yield home


@pytest.fixture
def user_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty user plugin folder (READTRACK_PLUGINS_DIR) for the test plugins of tests/fake_plugins.py."""
    folder = tmp_path / "user-plugins"
    folder.mkdir()
    monkeypatch.setenv("READTRACK_PLUGINS_DIR", str(folder))
    return folder


@pytest.fixture
def catalog_file(readtrack_home: Path) -> Path:
    """The test's own copy of the shipped seed list."""
    return readtrack_home / "papers.yaml"


@pytest.fixture
def cli() -> object:
    """`cli("list", "--json")` runs the real CLI in a subprocess and returns the CompletedProcess."""
    return run_cli
