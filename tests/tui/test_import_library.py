"""The command palette's "Import library…" in the TUI, driven through Pilot as a user would."""

from __future__ import annotations

from pathlib import Path

from textual import events
from textual.pilot import Pilot
from textual.widgets import Input, RichLog, Static
from tui_driver import run_app, screen_text, settle, wait_until
from zotero_db import ZoteroLibrary, tiny_pdf

from readtrack.plugins.links import load
from readtrack.tui.app import ReadtrackApp
from readtrack.tui.screens.dialogs import PromptScreen
from readtrack.tui.widgets.sync_panel import SyncPanel


def panel_text(app: ReadtrackApp) -> str:
    """The panel under the list: its status line and its log."""
    panel = app.screen.query_one(SyncPanel)
    status = str(panel.query_one("#sync-status", Static).content)
    return "\n".join([status, *(strip.text.rstrip() for strip in panel.query_one(RichLog).lines)])


async def import_from_the_palette(app: ReadtrackApp, pilot: Pilot[None], source: Path) -> None:
    await pilot.press("ctrl+p", *"Import library")
    await settle(app, pilot)
    await pilot.press("enter")
    await settle(app, pilot)
    assert isinstance(app.screen, PromptScreen)
    # pasted, as a reader gives a path (bracketed paste: one Paste event); typed key by key, this tmp path
    # was some 80 presses of about 65 ms each, 5 s of each test spent waiting
    app.post_message(events.Paste(str(source)))
    await pilot.pause()
    assert app.screen.query_one("#prompt-input", Input).value == str(source)
    await pilot.press("enter")


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
        await import_from_the_palette(app, pilot, tmp_path / "Zotero")
        await wait_until(pilot, lambda: any(p.arxiv == "2006.11239" for p in load(catalog_file).papers()))
        await settle(app, pilot)
        shown = [str(n.message) for n in app._notifications]
        assert any("added 1 paper to papers.yaml (new section: Reading group)" in m for m in shown), shown
        assert "copied 1 PDF into the PDF cache" in panel_text(app)  # the whole report, in the panel

    run_app(catalog_file, steps)
    paper = next(p for p in load(catalog_file).papers() if p.arxiv == "2006.11239")
    assert (paper.section, paper.status) == ("Reading group", "reading")


BIB_WITH_A_BAD_ENTRY = """@article{good2020,
  title = {Quorbix Networks for Reading},
  author = {Doe, Jane},
  year = {2020},
}

@article{bad2021
  title = {Broken Entry},
  year = 2021,
}
"""


def test_the_problems_of_an_import_stay_readable_after_its_toast(catalog_file: Path, tmp_path: Path) -> None:
    """Issue 53: an import's problems were only in a toast, gone before they were read. They stay in the
    panel under the list until Esc, and the toast says so."""
    library = tmp_path / "library.bib"
    library.write_text(BIB_WITH_A_BAD_ENTRY, encoding="utf-8")
    problem = f"{library.name}:7: malformed entry skipped (Expected comma after entry key, but found =)"

    async def steps(app: ReadtrackApp, pilot: Pilot[None]) -> None:
        await import_from_the_palette(app, pilot, library)
        titles = lambda: [p.title for p in load(catalog_file).papers()]  # noqa: E731
        await wait_until(pilot, lambda: "Quorbix Networks for Reading" in titles())
        await settle(app, pilot)
        (toast,) = [n for n in app._notifications if n.title == "Import library"]
        assert "1 problem in the panel under the list (Esc closes it)" in str(toast.message)
        app.clear_notifications()  # the toast is gone: the problem is still there to read
        await pilot.pause(0.2)
        panel = app.screen.query_one(SyncPanel)
        assert panel.has_class("-shown") and panel.border_title == "Import: library.bib"
        text = " ".join(panel_text(app).split())  # its lines wrap in the pane
        assert "added 1 paper to papers.yaml" in text and "1 problem, listed below" in text
        assert problem in text
        assert problem.split(" (")[0] in " ".join(screen_text(app).split())  # on the screen, as shown
        await pilot.press("escape")
        assert not panel.has_class("-shown")

    run_app(catalog_file, steps, size=(120, 40))
