"""The main screen through Pilot: marking, filtering, notes, tags, adding, reloading, bad files."""

from __future__ import annotations

import asyncio
import difflib
import io
import re
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console
from textual.pilot import Pilot
from textual.widgets import Input, OptionList, Static, TextArea
from tui_driver import (
    main_screen,
    region_text,
    run_app,
    screen_text,
    settle,
    shown_ids,
    table,
    wait_until,
    words_shown,
)

from readtrack.base.writelock import locked
from readtrack.catalog import edits
from readtrack.plugins.links import load
from readtrack.tui.app import ReadtrackApp
from readtrack.tui.screens.dialogs import CatalogErrorScreen, ChoiceScreen, HelpScreen, NotesScreen


def changed_lines(before: str, after: str) -> list[str]:
    """The lines removed or added between two versions of the file."""
    diff = difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
    return [line for line in diff if line[:1] in "+-" and not line.startswith(("+++", "---"))]


def test_opens_on_first_section_with_progress(catalog_file: Path) -> None:
    async def steps(app: ReadtrackApp, pilot: Pilot[None]) -> str:
        return screen_text(app)

    text = run_app(catalog_file, steps)
    assert "Optimization algorithm 1/2" in text  # the table's title: section and its progress
    assert "Decoupled Weight Decay" in text
    assert "Vision" in text and "0/16" in text  # another section with its progress in the list
    assert "/70 read" in text  # overall progress in the header


def test_space_marks_read_with_todays_date_and_changes_only_those_lines(catalog_file: Path) -> None:
    before = catalog_file.read_text()

    async def steps(app: ReadtrackApp, pilot: Pilot[None]) -> str | None:
        await pilot.press("j")  # lbfgs, a todo paper
        current = table(app).current
        assert current is not None and current.paper.id == "lbfgs"
        await pilot.press("space")
        await settle(app, pilot)
        current = table(app).current
        return current.paper.status if current else None

    assert run_app(catalog_file, steps) == "read"
    assert changed_lines(before, catalog_file.read_text()) == [
        "-        status: todo",
        "+        status: read",
        f"+        read: {edits.today()}",  # the date, as `readtrack mark --date` writes it
    ]
    assert load(catalog_file).get("lbfgs").status == "read"


def test_space_toggles_back_r_marks_reading_minus_skips(catalog_file: Path) -> None:
    async def steps(app: ReadtrackApp, pilot: Pilot[None]) -> None:
        await pilot.press("space")  # adamw is read: back to todo
        await settle(app, pilot)
        assert load(catalog_file).get("adamw").status == "todo"
        await pilot.press("r")
        await settle(app, pilot)
        assert load(catalog_file).get("adamw").status == "reading"
        await pilot.press("down", "minus")
        await settle(app, pilot)
        assert load(catalog_file).get("lbfgs").status == "skipped"

    run_app(catalog_file, steps)


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
def test_the_tags_prompt_shows_every_word_of_its_question_and_help(
    catalog_file: Path, size: tuple[int, int]
) -> None:
    """Issue 53: the `t` prompt was cut at 120 columns (and 80): "remove a wor" for a long paper id."""

    async def steps(app: ReadtrackApp, pilot: Pilot[None]) -> tuple[list[str], list[str]]:
        await pilot.press("slash", *"rethinking", "enter", "t")  # the list's longest paper id
        await settle(app, pilot)
        box = app.screen.query_one("#prompt-box")
        written = [str(w.render()) for w in box.query(Static) if w.id != "prompt-input"]
        return words_shown(region_text(app, box)), " ".join(written).split()

    shown, written = run_app(catalog_file, steps, size=size)
    assert "rethinking-generalization" in written
    for word in written:  # every word of the question and its help, whole, in the terminal
        assert word in shown, (word, shown)


def test_filter_searches_every_section_enter_keeps_escape_clears(catalog_file: Path) -> None:
    async def steps(app: ReadtrackApp, pilot: Pilot[None]) -> None:
        first_section = shown_ids(app)
        await pilot.press("slash", *"attention")
        await settle(app, pilot)
        found = table(app).rows
        assert found and all(
            "attention" in (r.paper.title + " " + " ".join(r.paper.tags)).lower()
            or "attention" in (r.paper.label or "").lower()
            or "attention" in (r.paper.notes or "").lower()
            for r in found
        )
        assert len({r.paper.section for r in found}) >= 2  # across sections, not just the selected one
        await pilot.press("enter")
        assert table(app).has_focus
        assert shown_ids(app) == [r.paper.id for r in found]  # Enter keeps the filter
        second = found[1].paper
        was = second.status
        await pilot.press("j", "space")  # keys act on the filtered rows
        await settle(app, pilot)
        assert load(catalog_file).get(second.id).status == ("todo" if was == "read" else "read")
        await pilot.press("escape")  # the filter goes; the cursor stays on its paper, in its section
        await settle(app, pilot)
        assert not main_screen(app).query_one("#filter", Input).value
        current = table(app).current
        assert current is not None and current.paper.id == second.id
        catalog = load(catalog_file)
        section = next(s for s in catalog.sections if any(p.id == second.id for p in s.walk()))
        assert shown_ids(app) == [p.id for p in section.walk()] != first_section
        sections = main_screen(app).query_one("#sections", OptionList)
        assert sections.highlighted == catalog.sections.index(section)
        assert f"{section.name} " in screen_text(app)  # the pane's title names it

    run_app(catalog_file, steps)


def test_filter_with_no_match_says_so(catalog_file: Path) -> None:
    async def steps(app: ReadtrackApp, pilot: Pilot[None]) -> str:
        await pilot.press("slash", *"zzzqqq")
        await settle(app, pilot)
        return screen_text(app)

    assert "Nothing matches 'zzzqqq'" in run_app(catalog_file, steps)


def test_notes_ctrl_s_saves_esc_asks_and_can_discard(catalog_file: Path) -> None:
    async def steps(app: ReadtrackApp, pilot: Pilot[None]) -> None:
        await pilot.press("j", "n")
        await pilot.pause()
        await pilot.press(*"LBFGS")
        await pilot.press("ctrl+s")  # saves and closes
        await settle(app, pilot)
        assert not isinstance(app.screen, NotesScreen)
        assert load(catalog_file).get("lbfgs").notes == "LBFGS"
        await pilot.press("n")
        await pilot.pause()
        await pilot.press("end", *" oops", "escape")  # changed: Esc asks
        await pilot.pause()
        assert isinstance(app.screen, ChoiceScreen)
        assert app.screen.options == ["Save them", "Discard the changes", "Keep editing"]
        await pilot.press("escape")  # keep editing: the text is still there
        await pilot.pause()
        assert isinstance(app.screen, NotesScreen)
        assert app.screen.query_one(TextArea).text.endswith("oops")
        await pilot.press("escape", "down", "enter")  # discard
        await settle(app, pilot)
        assert not isinstance(app.screen, NotesScreen | ChoiceScreen)
        await pilot.press("n")
        await pilot.pause()
        await pilot.press("end", *" two", "escape", "enter")  # save
        await settle(app, pilot)

    run_app(catalog_file, steps)
    assert load(catalog_file).get("lbfgs").notes == "LBFGS two"


def test_quitting_with_changed_notes_asks_as_esc_does(catalog_file: Path) -> None:
    """Ctrl+Q in the notes editor quit at once and the typed text was gone. Now it asks: save them and quit,
    quit without them, or keep editing; with nothing changed it quits at once."""

    async def type_notes(app: ReadtrackApp, pilot: Pilot[None], text: str) -> None:
        await pilot.press("j", "n")
        await pilot.pause()
        await pilot.press(*text)

    async def keep_then_save(app: ReadtrackApp, pilot: Pilot[None]) -> None:
        await type_notes(app, pilot, "draft")
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert isinstance(app.screen, ChoiceScreen) and not app._exit
        assert app.screen.options == ["Save them and quit", "Quit without saving them", "Keep editing"]
        await pilot.press("escape")  # keep editing: the app and the text stay
        await pilot.pause()
        assert isinstance(app.screen, NotesScreen) and not app._exit
        assert app.screen.query_one(TextArea).text == "draft"
        await pilot.press("ctrl+q", "enter")  # save them and quit
        await wait_until(pilot, lambda: app._exit)

    run_app(catalog_file, keep_then_save)
    assert load(catalog_file).get("lbfgs").notes == "draft"

    async def discard(app: ReadtrackApp, pilot: Pilot[None]) -> None:
        await type_notes(app, pilot, " more")
        await pilot.press("ctrl+q", "down", "enter")  # quit without saving them
        await wait_until(pilot, lambda: app._exit)

    before = catalog_file.read_text(encoding="utf-8")
    run_app(catalog_file, discard)
    assert catalog_file.read_text(encoding="utf-8") == before

    async def unchanged(app: ReadtrackApp, pilot: Pilot[None]) -> None:
        await type_notes(app, pilot, "")
        assert isinstance(app.screen, NotesScreen)
        await pilot.press("ctrl+q")
        await wait_until(pilot, lambda: app._exit)

    run_app(catalog_file, unchanged)


def test_ctrl_c_says_how_to_quit_in_plain_words(catalog_file: Path) -> None:
    """Ctrl+C showed a literal "Press [b]q[/b] to quit the app" (Textual's markup, shown as written)."""

    async def steps(app: ReadtrackApp, pilot: Pilot[None]) -> list[str]:
        await pilot.press("ctrl+c")
        await pilot.pause(0.3)
        return [f"{n.title}: {n.message}" for n in app._notifications]

    assert run_app(catalog_file, steps) == [
        "Do you want to quit?: Press q on the list, or Ctrl+Q anywhere, to quit"
    ]


def test_notes_edited_by_hand_while_the_editor_is_open_are_not_overwritten(catalog_file: Path) -> None:
    async def steps(app: ReadtrackApp, pilot: Pilot[None]) -> str:
        await pilot.press("j", "n")
        await pilot.pause()
        edits.note(catalog_file, "lbfgs", "written in my editor")  # meanwhile, by hand
        await pilot.press(*"in TUI", "ctrl+s")
        await settle(app, pilot)
        assert load(catalog_file).get("lbfgs").notes == "written in my editor"  # not overwritten
        assert isinstance(app.screen, ChoiceScreen)  # asked instead
        question = str(app.screen.query_one(".question", Static).content)
        await pilot.press("down", "down", "enter")  # edit again: both texts in the editor
        await pilot.pause()
        assert isinstance(app.screen, NotesScreen)
        merged = app.screen.query_one(TextArea).text
        await pilot.press("ctrl+s")  # saves the merge: the file has what the editor was reopened with
        await settle(app, pilot)
        return question + "\n" + merged

    shown = run_app(catalog_file, steps)
    assert "The notes of lbfgs changed in papers.yaml while you edited them" in shown
    assert "in TUI" in shown and "written in my editor" in shown
    saved = load(catalog_file).get("lbfgs").notes or ""
    assert saved.startswith("in TUI") and saved.endswith("written in my editor")


def test_notes_that_cannot_be_saved_come_back_in_the_editor(
    catalog_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("READTRACK_LOCK_TIMEOUT", "0.2")

    async def steps(app: ReadtrackApp, pilot: Pilot[None]) -> None:
        await pilot.press("j", "n")
        await pilot.pause()
        await pilot.press(*"keep me")
        with locked(catalog_file):  # another readtrack holds the list: the save fails
            await pilot.press("ctrl+s")
            await wait_until(
                pilot,
                lambda: (
                    isinstance(app.screen, NotesScreen) and app.screen.query_one(TextArea).text == "keep me"
                ),
            )
        assert load(catalog_file).get("lbfgs").notes is None
        await pilot.press("ctrl+s")  # tried again once the list is free
        await settle(app, pilot)

    run_app(catalog_file, steps)
    assert load(catalog_file).get("lbfgs").notes == "keep me"


def test_save_mine_after_a_hand_edit_overwrites_and_a_failure_keeps_my_text(
    catalog_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("READTRACK_LOCK_TIMEOUT", "0.2")

    async def steps(app: ReadtrackApp, pilot: Pilot[None]) -> None:
        await pilot.press("j", "n")
        await pilot.pause()
        edits.note(catalog_file, "lbfgs", "by hand")
        await pilot.press(*"mine", "ctrl+s")
        await wait_until(pilot, lambda: isinstance(app.screen, ChoiceScreen))
        with locked(catalog_file):
            await pilot.press("enter")  # Save mine, while the list is locked: not saved, the text comes back
            await wait_until(
                pilot,
                lambda: isinstance(app.screen, NotesScreen) and app.screen.query_one(TextArea).text == "mine",
            )
        await pilot.press("ctrl+s")  # the file still has "by hand", what the editor came back over: saved
        await settle(app, pilot)

    run_app(catalog_file, steps)
    assert load(catalog_file).get("lbfgs").notes == "mine"


def test_space_toggles_from_the_status_in_the_file_after_a_hand_edit(catalog_file: Path) -> None:
    async def steps(app: ReadtrackApp, pilot: Pilot[None]) -> str:
        current = table(app).current
        assert current is not None and current.paper.id == "adamw" and current.paper.status == "read"
        text = catalog_file.read_text()  # by hand, before the reload poll shows it: adamw back to todo
        start = text.index("id: adamw")
        status = text.index("status: read", start)
        catalog_file.write_text(text[:status] + "status: todo" + text[status + len("status: read") :])
        await pilot.press("space")  # toggles what the file says (todo → read), not the stale row (read)
        await settle(app, pilot)
        return load(catalog_file).get("adamw").status

    assert run_app(catalog_file, steps) == "read"


def test_tags_prompt_adds_and_removes(catalog_file: Path) -> None:
    async def steps(app: ReadtrackApp, pilot: Pilot[None]) -> None:
        await pilot.press("t")
        await pilot.pause()
        prompt = app.screen.query_one(Input)
        assert prompt.value == "optimization"
        prompt.value = "adam weight-decay"
        await pilot.press("enter")
        await settle(app, pilot)

    run_app(catalog_file, steps)
    assert load(catalog_file).get("adamw").tags == ["adam", "weight-decay"]


def test_add_by_arxiv_id_appends_to_the_section_and_selects_it(catalog_file: Path) -> None:
    async def steps(app: ReadtrackApp, pilot: Pilot[None]) -> str | None:
        await pilot.press("a")
        await pilot.pause()
        await pilot.press(*"2106.09685", "enter")
        await settle(app, pilot)
        current = table(app).current
        return current.paper.id if current else None

    selected = run_app(catalog_file, steps)
    catalog = load(catalog_file)
    added = catalog.find_arxiv("2106.09685")
    assert added is not None and added.section == "Optimization algorithm"
    assert selected == added.id


def test_add_refuses_a_paper_already_in_the_list_and_leaves_the_file(catalog_file: Path) -> None:
    before = catalog_file.read_bytes()

    async def main() -> tuple[str, list[str], list[str]]:
        app = ReadtrackApp(catalog_file)
        async with app.run_test(size=(140, 40), notifications=True) as pilot:  # the refusal is a toast
            await settle(app, pilot)
            shown = shown_ids(app)
            await pilot.press("a")
            await pilot.pause()
            await pilot.press(*"https://arxiv.org/abs/1711.05101", "enter")  # adamw, in this very section
            await settle(app, pilot)
            await wait_until(pilot, lambda: "already in the list" in screen_text(app))
            return screen_text(app), shown, shown_ids(app)

    text, shown, after = asyncio.run(main())
    assert "Not saved" in text and "arXiv 1711.05101 is already in the list as 'adamw'" in text
    assert catalog_file.read_bytes() == before
    assert after == shown and shown.count("adamw") == 1


def test_reloads_when_the_file_changes_on_disk_and_keeps_the_cursor(catalog_file: Path) -> None:
    async def steps(app: ReadtrackApp, pilot: Pilot[None]) -> None:
        await pilot.press("j")  # on lbfgs
        # Another process (the CLI) changes the file while the TUI is open.
        subprocess.run([sys.executable, "-m", "readtrack", "mark", "lbfgs", "reading"], check=True)
        await wait_until(
            pilot, lambda: table(app).current is not None and table(app).current.paper.status == "reading"
        )
        current = table(app).current
        assert current is not None and current.paper.id == "lbfgs"

    run_app(catalog_file, steps)


def test_bad_catalog_shows_where_and_recovers_when_fixed(catalog_file: Path) -> None:
    good = catalog_file.read_text()
    catalog_file.write_text(good.replace("status: todo", "status: maybe", 1))
    bad_line = next(i for i, line in enumerate(catalog_file.read_text().splitlines(), 1) if "maybe" in line)

    async def steps(app: ReadtrackApp, pilot: Pilot[None]) -> None:
        assert isinstance(app.screen, CatalogErrorScreen)
        # The message, not the screen's lines: it names the whole path, so where it wraps depends on tmp
        text = str(app.screen.query_one("#error-message", Static).content)
        assert f"papers.yaml:{bad_line}:" in text and "unknown status 'maybe'" in text
        assert "The reading list cannot be opened" in screen_text(app)
        catalog_file.write_text(good)
        await wait_until(pilot, lambda: not isinstance(app.screen, CatalogErrorScreen))
        await settle(app, pilot)
        assert "Decoupled Weight Decay" in screen_text(app)

    run_app(catalog_file, steps)


def test_missing_catalog_is_a_screen_not_a_crash(tmp_path: Path) -> None:
    async def steps(app: ReadtrackApp, pilot: Pilot[None]) -> str:
        assert isinstance(app.screen, CatalogErrorScreen)
        assert "cannot be opened" in screen_text(app)
        return app.screen.message

    assert "nowhere.yaml: no such file" in run_app(tmp_path / "nowhere.yaml", steps)


def test_help_lists_every_key_and_the_palette_has_them(catalog_file: Path) -> None:
    async def steps(app: ReadtrackApp, pilot: Pilot[None]) -> tuple[str, list[str]]:
        commands = [command.title for command in app.get_system_commands(app.screen)]
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        return screen_text(app), commands

    text, commands = run_app(catalog_file, steps)
    shown = [
        ("Space", "Mark the paper read"),
        ("/", "Filter every section"),
        ("Enter", "Run the paper's plugin"),
        ("-", "Mark the paper skipped"),
        ("S", "Sync the whole list"),
        ("o", "Open the PDF"),
    ]
    for key, help_text in shown:
        assert re.search(rf"│\s+{re.escape(key)}\s+{re.escape(help_text)}", text), key
    for title in ("Read/todo", "Filter", "Run", "Skip", "Sync all", "Open PDF", "Notes", "Tags", "Add"):
        assert title in commands


def help_lines(app: ReadtrackApp) -> list[str]:
    """The help screen's text, every line of it (the box scrolls), at the box's width."""
    assert isinstance(app.screen, HelpScreen)
    width = app.screen.query_one("#help-box").content_region.width
    console = Console(width=width, record=True, file=io.StringIO())
    for static in app.screen.query("#help-box Static").results(Static):
        console.print(static.content)
    return console.export_text().splitlines()


def test_help_lists_the_paper_views_tabs_and_the_practice_tabs_keys(catalog_file: Path) -> None:
    """Issue 53: `?` did not mention the paper view's Paper and Practice tabs, nor their keys."""

    async def steps(app: ReadtrackApp, pilot: Pilot[None]) -> tuple[list[str], list[str]]:
        await pilot.press("question_mark")
        await pilot.pause()
        from_the_list = help_lines(app)
        await pilot.press("escape", "j", "p")  # lbfgs: one plugin, its view opens at once
        await settle(app, pilot)
        await pilot.press("question_mark")  # the view has the key too
        await pilot.pause()
        return from_the_list, help_lines(app)

    from_the_list, from_the_view = run_app(catalog_file, steps, size=(120, 40))
    for lines in (from_the_list, from_the_view):
        text = "\n".join(lines)
        assert "The paper view (p, or Enter on a search hit): tabs and keys" in " ".join(text.split())
        assert "Its Practice tab (5)" in text
        for key, words in [
            ("1", "Page tab"),
            ("2", "Code tab"),
            ("4", "Paper tab: the PDF's text page by page"),
            ("5", "Practice tab: implement the plugin's exercise yourself"),
            ("v", "Show model.py, the model solution"),
            ("h", "Reveal the next hint"),
            ("e", "Open your model.py"),
            ("c", "Grade your code with the plugin's check"),
            ("t", "Check, then train with your code"),
        ]:
            assert any(re.match(rf"\s*{key}\s+{re.escape(words)}", line) for line in lines), (key, text)
    assert any(re.match(r"\s*Space\s+Mark the paper read", line) for line in from_the_list)  # the list's too


def test_an_editor_not_yet_composed_answers_with_the_text_it_opens_with() -> None:
    # a failed save pushes the editor again: Ctrl+Q in the moment before it is composed asks whether the
    # notes changed, which used to query a TextArea not there yet (NoMatches, ending the app)
    editor = NotesScreen("a paper", "keep me", saved="")
    assert editor._text() == "keep me"
    assert editor.changed()
