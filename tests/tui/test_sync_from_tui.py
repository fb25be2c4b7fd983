"""Syncing and opening PDFs from the TUI, against the fake arXiv on 127.0.0.1 (real HTTP, SQLite, files)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fakearxiv import FakeArxiv, point_urls_at, serving
from textual.pilot import Pilot
from tui_driver import main_screen, run_app, screen_text, settle, table, wait_until

from readtrack.catalog import metadata, pdfcache
from readtrack.plugins.links import load
from readtrack.tui.app import ReadtrackApp
from readtrack.tui.widgets.sync_panel import SyncPanel


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeArxiv]:
    with serving(monkeypatch) as fake:
        yield fake


def test_s_syncs_the_selected_paper_and_shows_its_abstract(server: FakeArxiv, catalog_file: Path) -> None:
    before = catalog_file.read_text()

    async def steps(app: ReadtrackApp, pilot: Pilot[None]) -> str:
        await pilot.press("s")  # adamw: 1711.05101 and two related ids
        await wait_until(pilot, lambda: not main_screen(app).syncer.running)
        await settle(app, pilot)
        panel = main_screen(app).query_one(SyncPanel)
        assert panel.has_class("-shown")
        return screen_text(app)

    text = run_app(catalog_file, steps, size=(140, 40))
    assert "✓ adamw: synced" in text
    fake = server.paper("1711.05101")
    assert fake is not None and " ".join(fake.abstract.split()[:3]) in text  # the detail pane's abstract
    assert pdfcache.arxiv_pdf_path("1711.05101").is_file()
    assert catalog_file.read_text() == before  # syncing never touches papers.yaml here


def test_no_network_is_shown_and_the_list_keeps_working(
    monkeypatch: pytest.MonkeyPatch, catalog_file: Path
) -> None:
    monkeypatch.setenv("READTRACK_ARXIV_API", "http://127.0.0.1:9/api/query")  # the discard port: refused
    monkeypatch.setenv("READTRACK_ARXIV_DELAY", "0")
    monkeypatch.setenv("READTRACK_BACKOFF", "0.01")
    point_urls_at(catalog_file, "http://127.0.0.1:9")

    async def steps(app: ReadtrackApp, pilot: Pilot[None]) -> str:
        await pilot.press("S")
        await wait_until(pilot, lambda: not main_screen(app).syncer.running)
        await settle(app, pilot)
        text = screen_text(app)
        await pilot.press("j", "space")  # still usable
        await settle(app, pilot)
        return text

    text = run_app(catalog_file, steps, size=(140, 40))
    assert "Sync failed" in text or "failed" in text
    assert "127.0.0.1:9" in text
    assert load(catalog_file).get("lbfgs").status == "read"
    assert metadata.for_papers(load(catalog_file)) == {}


def test_escape_cancels_a_running_sync(monkeypatch: pytest.MonkeyPatch, catalog_file: Path) -> None:
    with serving(monkeypatch, latency=0.5):
        point_urls_at(catalog_file, "http://127.0.0.1:9")

        async def steps(app: ReadtrackApp, pilot: Pilot[None]) -> str:
            await pilot.press("S")
            await pilot.pause(0.3)
            assert main_screen(app).syncer.running
            await pilot.press("escape")
            await wait_until(pilot, lambda: not main_screen(app).syncer.running)
            await settle(app, pilot)
            return screen_text(app)

        text = run_app(catalog_file, steps, size=(140, 40))
    assert "Cancelled: " in text, text


def test_o_fetches_a_missing_pdf_then_opens_it(
    server: FakeArxiv, catalog_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened = tmp_path / "opened.txt"
    # The "viewer" is a real program that writes down what it was asked to open.
    recorder = f"import sys; open({str(opened)!r}, 'w').write(sys.argv[1])"
    monkeypatch.setenv("READTRACK_OPENER", f'{sys.executable} -c "{recorder}"')

    async def steps(app: ReadtrackApp, pilot: Pilot[None]) -> None:
        assert table(app).current is not None
        await pilot.press("o")
        await wait_until(pilot, opened.exists)
        await settle(app, pilot)

    run_app(catalog_file, steps)
    assert opened.read_text() == str(pdfcache.arxiv_pdf_path("1711.05101"))
