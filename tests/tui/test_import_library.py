"""The command palette's "Import library…" in the TUI, driven through Pilot as a user would."""

from __future__ import annotations

from pathlib import Path

from textual.pilot import Pilot
from tui_driver import run_app, settle, wait_until
from zotero_db import ZoteroLibrary, tiny_pdf

from readtrack.catalog import load
from readtrack.tui.app import ReadtrackApp
from readtrack.tui.dialogs import PromptScreen


def test_import_library_from_the_palette(catalog_file: Path, tmp_path: Path) -> None:
    z = ZoteroLibrary(tmp_path / "Zotero")
    reading = z.collection("Reading group")
    item = z.item(
        "preprint",
        title="Denoising Diffusion Probabilistic Models",
        archiveID="arXiv:2006.11239",
        collections=[reading],
        extra="Read_Status: In Progress",
    )
    z.pdf(item, "ddpm.pdf", tiny_pdf())
    z.close()

    async def steps(app: ReadtrackApp, pilot: Pilot[None]) -> None:
        assert "Import library…" in [c.title for c in app.get_system_commands(app.screen)]
        await pilot.press("ctrl+p", *"Import library")
        await settle(app, pilot)
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, PromptScreen)
        await pilot.press(*str(tmp_path / "Zotero"), "enter")
        await wait_until(pilot, lambda: any(p.arxiv == "2006.11239" for p in load(catalog_file).papers()))
        await settle(app, pilot)
        shown = [str(n.message) for n in app._notifications]
        assert any("added 1 paper to papers.yaml (new section: Reading group)" in m for m in shown), shown
        assert any("copied 1 PDF into the PDF cache" in m for m in shown)

    run_app(catalog_file, steps)
    paper = next(p for p in load(catalog_file).papers() if p.arxiv == "2006.11239")
    assert (paper.section, paper.status) == ("Reading group", "reading")
