"""Opening the TUI must stay fast: no torch, and `readtrack --help` must not even import textual."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

OPEN_TUI = """
import asyncio, sys
from pathlib import Path
from readtrack.tui.app import ReadtrackApp

async def main():
    app = ReadtrackApp(Path(sys.argv[1]))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.press("j", "slash", "a", "enter")  # move, filter: details and search data load too
        await pilot.pause()
        await app.workers.wait_for_complete()
    print("torch" in sys.modules or "ray" in sys.modules, "textual" in sys.modules)

asyncio.run(main())
"""


def test_opening_the_tui_imports_neither_torch_nor_ray(catalog_file: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", OPEN_TUI, str(catalog_file)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "True"]


def test_help_does_not_import_textual() -> None:
    probe = (
        "import sys; sys.argv = ['readtrack', '--help']\nfrom readtrack.cli import app as cli\n"
        "try:\n    cli.main()\n"
        "except SystemExit:\n    pass\nprint('textual' in sys.modules, 'torch' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip().splitlines()[-1] == "False False", result.stdout + result.stderr


def test_the_first_paint_needs_neither_the_practice_grader_nor_pluggy() -> None:
    """The table's practice marks come in with its side data (a worker): the app's module must not pull in
    `readtrack.practice` (the grader, the plugin declarations, pluggy) before the first paint."""
    code = (
        "import sys, readtrack.tui.app\n"
        "print([m for m in ('pluggy', 'readtrack.practice') if m in sys.modules])"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["[]"]
