"""A seeded random walk of keys over every screen of the TUI: after each key the app is alive and shows no
traceback, and at the end it quits cleanly (exit code 0) by Esc and q.

The keys lean toward moving and opening screens (the list, the details, the filter, the paper view and its
tabs, the run screen with its knobs (rmsnorm's) and its plot key, the search screen, the help, the notes
editor and the prompts, the Related tab and what to read next, fetched from a local Semantic Scholar), with a
few that type or edit the test's own papers.yaml. Left out: what would start torch work or reach the network
beyond 127.0.0.1 (Enter on the run screen, s/S sync, o open, R and Ctrl+R run the shelf), the command palette
(it reaches all of those), and q on the list until the end. The walk does not wait for
workers between keys, so it meets the races a quick typist meets.

Three seeds run in the normal suite; ``READTRACK_WALK_SEEDS=N`` runs N (``READTRACK_WALK_KEYS`` sets the
length; ``READTRACK_WALK_RUNS=1`` lets the walk run tiny fake plugins). A failure names the seed and the keys
so far, to replay with `replay` in a test.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from pathlib import Path
from typing import Any

import pytest
from fake_plugins import FAILING, PASSING, RAISING_STAGE, write_plugin
from fakes2 import FakeS2
from textual import events
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Input, TextArea
from tui_driver import SIZE, run_app, screen_text, settle, wait_until

from readtrack.catalog import edits
from readtrack.history import runs as history
from readtrack.tui.app import MainScreen, ReadtrackApp
from readtrack.tui.screens.dialogs import ChoiceScreen, HelpScreen, NotesScreen, PromptScreen
from readtrack.tui.screens.next_screen import NextScreen
from readtrack.tui.screens.paper_view import PaperView
from readtrack.tui.screens.run_screen import RunScreen
from readtrack.tui.screens.search_screen import SearchScreen

SEEDS = range(int(os.environ.get("READTRACK_WALK_SEEDS", "3")))
LENGTH = int(os.environ.get("READTRACK_WALK_KEYS", "150"))
# With READTRACK_WALK_RUNS=1 the first section's papers get tiny fake plugins (one passing, one failing, one
# raising) and Enter on their run screen runs them: a real `readtrack run` subprocess, about a second each.
RUNS = os.environ.get("READTRACK_WALK_RUNS") == "1"
FAKE_PLUGINS = {"tinyplug": PASSING, "failplug": FAILING, "raiseplug": RAISING_STAGE}

RESIZE = "resize"  # not a key: the terminal is resized, between the narrow and the wide layout

# (key, weight). Everywhere: moving and leaving.
COMMON: list[tuple[str, int]] = [
    *[(k, 3) for k in ("j", "k", "down", "up", "escape")],
    *[(k, 1) for k in ("pagedown", "pageup", "home", "end", "tab", "shift+tab")],
]
# The keys each screen binds, so that the walk goes on from a screen as often as it leaves it.
SCREEN_KEYS: dict[type[Screen[Any]], list[tuple[str, int]]] = {
    MainScreen: [
        *[(k, 4) for k in ("p", "enter")],
        *[(k, 2) for k in ("f", "question_mark", "slash", "n", "t")],
        *[
            (k, 1) for k in ("a", "space", "r", "minus", "g", "G", "N", RESIZE)
        ],  # a resize lays out every screen
    ],
    PaperView: [
        *[(k, 2) for k in ("1", "2", "3", "4", "5", "6", "slash", "n")],
        *[(k, 1) for k in ("N", "v", "question_mark")],
        ("enter", 4),
    ],
    RunScreen: [
        *[(k, 2) for k in ("d", "f", "s", "enter", "K")],
        *[(k, 1) for k in ("p", "space", "left", "right", "e", "r", "R")],  # p: a plot; the rest: knobs
    ],
    NextScreen: [("enter", 2), ("a", 1), ("r", 1), ("question_mark", 1)],
    SearchScreen: [("enter", 3)],
    ChoiceScreen: [("enter", 4)],
    PromptScreen: [("enter", 2)],
    NotesScreen: [("ctrl+s", 3)],
    HelpScreen: [("question_mark", 1), ("q", 1)],
}
# In a text field: what people type, search syntax included.
TYPING: list[tuple[str, int]] = [
    *[(k, 3) for k in ("x", "e", "enter")],
    *[(k, 1) for k in ("q", "1", "space", "backspace", "minus", "slash", "quotation_mark", "colon")],
    *[(k, 1) for k in ("asterisk", "left_parenthesis")],
]


def choices(app: ReadtrackApp) -> list[tuple[str, int]]:
    """The keys the walk draws from on the screen on top, with their weights."""
    typing = TYPING if isinstance(app.focused, Input | TextArea) else []
    return COMMON + SCREEN_KEYS.get(type(app.screen), []) + typing


# The character of each key drawn, as Textual's Pilot sends it (None: a key without one).
CHARACTERS = {"tab": "\t", "escape": "\x1b", "question_mark": "?", "slash": "/", "space": " ", "minus": "-"}
CHARACTERS |= {"backspace": "\x08", "quotation_mark": '"', "colon": ":", "asterisk": "*"}
CHARACTERS["left_parenthesis"] = "("


async def press(app: ReadtrackApp, pilot: Pilot[None], key: str) -> None:
    """Send one key as the terminal driver does and wait until the screen has handled it. `Pilot.press`
    also waits for the process to idle three times a key (20 ms each at least): a walk of hundreds of keys
    would take minutes, and a person types faster than that anyway."""
    if key == RESIZE:
        await pilot.resize_terminal(*((120, 40) if app.size.width < 120 else SIZE))
    else:
        app.post_message(events.Key(key, CHARACTERS.get(key, key if len(key) == 1 else None)))
    await pilot.pause(0)


def allowed(app: ReadtrackApp, key: str) -> bool:
    """Whether the walk may press ``key`` now (see the module docstring for what is left out)."""
    screen = app.screen
    typing = isinstance(app.focused, Input | TextArea)
    if isinstance(screen, RunScreen):  # Enter starts the run (from the seeds field too)
        return key != "enter" or (RUNS and screen.plugin in FAKE_PLUGINS)
    if isinstance(screen, MainScreen):
        return key != "q" or typing  # quits: only at the end
    return True


async def alive(app: ReadtrackApp, pilot: Pilot[None], seed: int, pressed: list[str]) -> None:
    """Fail naming the seed and the keys when the app has crashed or shows a traceback."""
    text = screen_text(app) if app.is_running and app.crash is None else ""
    if app.crash is not None or not app.is_running or "Traceback" in text:
        why = repr(app.crash) if app.crash is not None else "the app stopped" if not app.is_running else text
        raise AssertionError(f"seed {seed}, after {len(pressed)} keys {pressed}: {why}")


async def back_to_the_list(app: ReadtrackApp, pilot: Pilot[None]) -> None:
    """Esc until the list is on top and nothing is being typed in, as a user leaving would; a question
    (which plugin, save the changed notes) is answered with its first choice."""
    for _ in range(20):
        if isinstance(app.screen, MainScreen) and not isinstance(app.focused, Input | TextArea):
            return
        await pilot.press(*(("home", "enter") if isinstance(app.screen, ChoiceScreen) else ("escape",)))
        await settle(app, pilot)
    raise AssertionError(f"Esc did not lead back to the list: {type(app.screen).__name__} is on top")


def size_of(seed: int) -> tuple[int, int]:
    """Even seeds walk the narrow layout (details under the table), odd ones the wide one."""
    return SIZE if seed % 2 == 0 else (120, 40)


def walk(path: Path, seed: int, length: int = LENGTH) -> tuple[list[str], int | None]:
    """Press ``length`` keys drawn with ``seed``, then leave with Esc and q; the keys and the exit code."""
    draw = random.Random(seed)
    pressed: list[str] = []

    async def main() -> int | None:
        app = ReadtrackApp(path)
        async with app.run_test(size=size_of(seed)) as pilot:
            await settle(app, pilot)
            while len(pressed) < length:
                keys, weights = zip(*choices(app), strict=True)
                key = draw.choices(keys, weights)[0]
                if not allowed(app, key):
                    continue
                pressed.append(key)
                await press(app, pilot, key)
                await alive(app, pilot, seed, pressed)
            await settle(app, pilot)
            await alive(app, pilot, seed, pressed)
            await back_to_the_list(app, pilot)
            await pilot.press("q")
            await pilot.pause()
        return app.return_code

    try:
        code = asyncio.run(main())
    except AssertionError:
        raise
    except Exception as err:  # the app's own exception, re-raised by run_test: name the walk that found it
        raise AssertionError(f"seed {seed}, after {len(pressed)} keys {pressed}: {err!r}") from err
    return pressed, code


async def idle(app: ReadtrackApp, pilot: Pilot[None], timeout: float = 30.0) -> None:
    """Wait until no worker runs, those a new screen started on mounting included."""
    deadline = time.monotonic() + timeout
    while any(worker.is_running for worker in app.workers) and time.monotonic() < deadline:
        await settle(app, pilot)


def replay(path: Path, keys: list[str], size: tuple[int, int] = SIZE) -> int | None:
    """Press exactly ``keys`` (a walk's failure, cut down), each once the workers it started are done (a
    slow user), then leave; the exit code."""

    async def main() -> int | None:
        app = ReadtrackApp(path)
        async with app.run_test(size=size) as pilot:
            await settle(app, pilot)
            for key in keys:
                await press(app, pilot, key)
                await idle(app, pilot)
            assert app.crash is None and "Traceback" not in screen_text(app)
            await back_to_the_list(app, pilot)
            await pilot.press("q")
            await pilot.pause()
        return app.return_code

    return asyncio.run(main())


@pytest.mark.parametrize("seed", SEEDS)
def test_a_random_walk_of_keys_keeps_the_app_alive_and_quits_cleanly(
    user_dir: Path, catalog_file: Path, seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    if RUNS:
        for name, experiment in FAKE_PLUGINS.items():
            write_plugin(user_dir, name, experiment)
        edits.set_fields(catalog_file, "adamw", {"plugin": ["tinyplug", "failplug"]})
        edits.set_fields(catalog_file, "lbfgs", {"plugin": "raiseplug"})
    else:  # a plugin with knobs near the top: the walk turns them on its run screen
        edits.set_fields(catalog_file, "lbfgs", {"plugin": ["lbfgs", "rmsnorm"]})
    with FakeS2.sample(catalog_file) as s2:  # the Related tab and N fetch from a local Semantic Scholar
        monkeypatch.setenv("READTRACK_S2_URL", s2.url)
        monkeypatch.setenv("READTRACK_S2_RECS_URL", s2.recs_url)
        monkeypatch.setenv("READTRACK_S2_DELAY", "0")
        pressed, code = walk(catalog_file, seed)
    assert len(pressed) == LENGTH
    assert code == 0, f"seed {seed}: exit code {code} after {pressed}"


def test_replay_the_run_screen_closing_over_the_paper_view(catalog_file: Path) -> None:
    """Found by the walk (seeds 1 and 2 of this file, before the fix): p on adamw (two plugins), Enter picks
    adamw's view, Enter opens the run screen, Esc closes it: the view loaded again and died with
    DuplicateIds 'code-0'."""
    assert replay(catalog_file, ["p", "enter", "enter", "escape"]) == 0


def test_replay_esc_at_once_after_starting_a_run(
    user_dir: Path, catalog_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by a walk that may start runs (of a fake plugin): Enter, then Esc before the run's process has
    started the runner. The SIGINT met Python still importing readtrack: the run screen printed that
    process's KeyboardInterrupt traceback in its log and said the run ended without a record (killed).
    It is a run cancelled before it started, and says so. The run's Python is held at its start for 3 s (a
    sitecustomize on its PYTHONPATH), so that Esc comes first on a loaded machine too: without it, a CI run
    once heard the runner before the Esc was handled."""
    slow_start = tmp_path / "slow_start"
    slow_start.mkdir()
    (slow_start / "sitecustomize.py").write_text("import time\n\ntime.sleep(3)\n", encoding="utf-8")
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join(filter(None, [str(slow_start), os.environ.get("PYTHONPATH")]))
    )
    write_plugin(user_dir, "tinyplug")
    edits.set_fields(catalog_file, "adamw", {"plugin": "tinyplug"})

    async def steps(app: ReadtrackApp, pilot: Pilot[None]) -> str:
        await press(app, pilot, "enter")  # the run screen
        await wait_until(pilot, lambda: isinstance(app.screen, RunScreen))
        await idle(app, pilot)
        screen = app.screen
        assert isinstance(screen, RunScreen)
        await press(app, pilot, "enter")  # start, and at once
        await press(app, pilot, "escape")  # cancel
        await wait_until(pilot, lambda: not screen.running and screen._cancelling, timeout=60)
        await idle(app, pilot)
        return screen_text(app)

    text = run_app(catalog_file, steps, size=(120, 40))
    assert "Traceback" not in text and "KeyboardInterrupt" not in text
    assert "Cancelled before the run started: nothing was recorded" in text
    assert history.runs("tinyplug") == []
