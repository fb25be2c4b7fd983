"""The TUI shows control characters from papers.yaml written out, never raw (issue 46 #2): in the table, the
details, the section list, the paper view's title and head, and the notes editor's title."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from textual.pilot import Pilot
from tui_driver import run_app, screen_text, settle, wait_until

from readtrack.catalog import edits
from readtrack.tui.app import ReadtrackApp

RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
POISON_YAML = r"\e]0;pwned\a Decoupled \0 Weight\x9b Decay \x7f\u202e\e[2J"
SHOWN = r"\x1b]0;pwned\x07 Decoupled \x00 Weight\x9b Decay \x7f\u202e\x1b[2J"


def test_control_characters_are_written_out_on_every_screen(catalog_file: Path) -> None:
    edits.set_fields(catalog_file, "adamw", {"plugin": "adamw"})
    text = catalog_file.read_text()
    for old, new in {
        "title: Decoupled Weight Decay Regularization": rf'title: "{POISON_YAML}"',
        "  - name: Optimization algorithm": r'  - name: "Optimization \e]0;x\a"',
        "        plugin: adamw\n": "        plugin: adamw\n"
        + r'        notes: "first line\nquorbix \e[2J\x9b[1m second\u202e"'
        + "\n",
    }.items():
        assert old in text, old
        text = text.replace(old, new, 1)
    catalog_file.write_text(text)

    async def steps(app: ReadtrackApp, pilot: Pilot[None]) -> list[tuple[str, str]]:
        seen = [("main", screen_text(app)), ("main title", f"{app.title} {app.sub_title}")]
        await pilot.press("p")  # the paper view of adamw's plugin
        await settle(app, pilot)
        seen += [
            ("paper view", screen_text(app)),
            ("view title", f"{app.screen.title} {app.screen.sub_title}"),
        ]
        await pilot.press("escape")
        await settle(app, pilot)
        await pilot.press("n")  # the notes editor, titled with the paper
        await settle(app, pilot)
        seen.append(("notes", screen_text(app)))
        await pilot.press("escape")
        await settle(app, pilot)
        await pilot.press("f", *"quorbix")  # the search screen: a hit in the notes
        await wait_until(pilot, lambda: getattr(app.screen, "shown_query", None) == "quorbix", timeout=45)
        seen.append(("search", screen_text(app)))
        await pilot.press("escape")
        return seen

    seen = run_app(catalog_file, steps, size=(160, 40))
    for where, shown in seen:
        found = RAW.search(shown)
        assert found is None, (
            f"{where}: raw {found.group(0)!r} in {shown[max(0, found.start() - 40) :][:80]!r}"
        )
    main = seen[0][1]
    assert r"\x1b]0;pwned\x07 Decoupled" in main  # the table's row and the details' title
    assert r"quorbix \x1b[2J\x9b[1m second\u202e" in main  # the notes in the details
    assert r"Optimization \x1b]0;x\x07" in main  # the section list
    assert r"\x1b]0;pwned\x07 Decoupled" in seen[2][1]
    assert r"quorbix \x1b[2J\x9b[1m" in seen[-1][1]


def test_a_notification_quoting_a_file_is_written_out_and_not_read_as_markup(catalog_file: Path) -> None:
    async def main() -> str:
        app = ReadtrackApp(catalog_file)
        async with app.run_test(size=(100, 30), notifications=True) as pilot:  # run_app shows no toasts
            await settle(app, pilot)
            # as the open action says a viewer failed on a paper's url
            app.screen.notify("could not open http://x/\x1b]0;pwned\x07 [/bold] page", severity="error")
            await wait_until(pilot, lambda: "could not open" in screen_text(app))
            return screen_text(app)

    shown = asyncio.run(main())
    assert RAW.search(shown) is None
    assert r"http://x/\x1b]0;pwned\x07" in shown and "[/bold] page" in shown  # the toast wraps the line
