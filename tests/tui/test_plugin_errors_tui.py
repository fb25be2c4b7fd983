"""A broken plugin in the TUI (issue 72): a ``config.py`` or ``experiment.py`` that does not load is the one
line naming the file and line that ``readtrack knobs`` and ``readtrack run`` print, in the run screen's knobs
panel and where Enter runs the plugin, with no traceback; the screen still answers."""

from __future__ import annotations

import io
import re
from pathlib import Path

from outside_plugins import plugin_files, write_folder_plugin
from rich.console import Console
from textual.pilot import Pilot
from textual.widgets import RichLog, Static
from tui_driver import open_run_screen, region_text, run_app, screen_text, settle, wait_until

from readtrack.catalog import edits
from readtrack.tui.app import ReadtrackApp
from readtrack.tui.screens.run_screen import RunScreen

FILES = plugin_files()


def squashed(text: str) -> str:
    """``text`` without spaces, line breaks and box borders: a long path reads the same however it wraps."""
    return re.sub(r"[\s│╭╮╰╯─▊▎▔▁▂▃▄▅▆▇█]", "", text)


def line_of(path: Path, marker: str) -> int:
    return next(n for n, t in enumerate(path.read_text().splitlines(), 1) if marker in t)


def shown(widget: Static) -> str:
    """What ``widget`` holds, as plain text."""
    console = Console(width=300, record=True, file=io.StringIO())
    console.print(widget.content)
    return console.export_text().strip()


def log_text(screen: RunScreen) -> str:
    return "\n".join(strip.text for strip in screen.query_one(RichLog).lines)


def test_a_config_that_does_not_import_is_its_file_and_line_in_the_panel_and_on_enter(
    user_dir: Path, catalog_file: Path
) -> None:
    config = FILES["config.py"].replace("steps: int = knob(", "steps: int = knb(")
    folder = write_folder_plugin(user_dir, files={"config.py": config})
    edits.set_fields(catalog_file, "adamw", {"plugin": "swish"})  # the list's first paper
    path = folder / "config.py"
    said = f"{path}:{line_of(path, 'knb(')}: NameError: name 'knb' is not defined"

    async def steps(app: ReadtrackApp, pilot: Pilot[None]) -> dict[str, object]:
        screen, panel = await open_run_screen(app, pilot, lambda panel: bool(panel.display))
        seen: dict[str, object] = {"panel": "".join(region_text(app, panel))}
        await pilot.press("enter")  # run: refused at once, with the same line
        await wait_until(
            pilot, lambda: "Not run" in shown(screen.query_one("#run-verdict", Static)), timeout=30
        )
        await settle(app, pilot)
        seen |= {"verdict": shown(screen.query_one("#run-verdict", Static)), "log": log_text(screen)}
        seen["screen"] = screen_text(app)
        await pilot.press("escape")
        await settle(app, pilot)
        seen["back"] = not isinstance(app.screen, RunScreen)
        return seen

    seen = run_app(catalog_file, steps, size=(120, 40))
    assert squashed(f"knobs unavailable: plugin swish is broken: {said}") in squashed(str(seen["panel"]))
    assert seen["verdict"] == f"Not run: plugin swish is broken: {said}"
    assert squashed(f"plugin swish is broken: {said}") in squashed(str(seen["log"]))
    assert "Traceback" not in str(seen["screen"])
    assert seen["back"]


def test_an_experiment_that_fails_as_it_imports_is_its_file_and_line_in_the_result(
    user_dir: Path, catalog_file: Path
) -> None:
    experiment = FILES["experiment.py"].replace(
        "from .model import", "SCALE = scale_of(2)\n\nfrom .model import"
    )
    folder = write_folder_plugin(user_dir, files={"experiment.py": experiment})
    edits.set_fields(catalog_file, "adamw", {"plugin": "swish"})
    path = folder / "experiment.py"
    said = f"{path}:{line_of(path, 'scale_of')}: NameError: name 'scale_of' is not defined"

    async def steps(app: ReadtrackApp, pilot: Pilot[None]) -> dict[str, str]:
        screen, _ = await open_run_screen(app, pilot)  # config.py is fine: its knobs
        await pilot.press("enter")
        await wait_until(pilot, lambda: not screen.running and screen.record is not None, timeout=120)
        await settle(app, pilot)
        return {
            "log": log_text(screen),
            "check": shown(screen.query_one("#run-check", Static)),
            "screen": screen_text(app),
        }

    seen = run_app(catalog_file, steps, size=(120, 40))
    assert squashed(f"check error in 0.0 s: {said}") in squashed(seen["log"])
    assert squashed(f"check error: {said}") in squashed(seen["check"])
    assert "Traceback" not in seen["screen"] and "importlib" not in seen["log"]
