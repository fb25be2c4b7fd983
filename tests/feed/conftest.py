"""The feed's fixtures: a fake arXiv on 127.0.0.1 serving the hand-made and real entries of
`test_feed_cli`, and the reader's list with its synced metadata (the TUI's feed tests have their own copy:
tests/tui is another folder)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fakearxiv import FakeArxiv, serving
from test_feed_cli import HAND, LIST, SYNCED, real_entries

from readtrack.catalog import metadata


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeArxiv]:
    with serving(monkeypatch, auto=False) as fake:
        fake.add(*HAND, *real_entries())
        yield fake


@pytest.fixture
def reader(catalog_file: Path) -> Path:
    catalog_file.write_text(LIST, encoding="utf-8")
    metadata.save(SYNCED)
    return catalog_file
