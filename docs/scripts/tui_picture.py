"""Regenerate the README's picture of the TUI, ``docs/images/tui.svg``, from the real app.

    python docs/scripts/tui_picture.py [-o docs/images/tui.svg] [--no-runs]

The app is started the way a person starts it, ``python -m readtrack`` with no command, on a fresh copy of
the bundled reading list in a temporary data dir (``READTRACK_HOME``), so nothing of yours is read or
changed. First the CLI marks a few papers and notes one (``readtrack mark``, ``readtrack note``) and runs
the check stage of the plugins on screen (``readtrack run ... --quick --only check``, about 10 s;
``--no-runs`` leaves their badges at "never run"). Textual does the rest through its own environment
variables: a headless driver of a fixed size, its auto-pilot (``TEXTUAL_PRESS``: a `textual.pilot.Pilot`
presses the keys in order) and its own screenshot (``TEXTUAL_SCREENSHOT``: `App.save_screenshot` after a
delay, then the app exits). No module of readtrack is imported here, whatever the package's layout.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PICTURE = REPO / "docs" / "images" / "tui.svg"
SIZE = (120, 34)  # columns, lines: at 120 columns the details get a column of their own
NOTE = "Tiled attention with an online softmax: exact, memory linear in N. Try --device cuda."
# What the CLI does to the fresh list before the TUI opens: a reader a few papers in.
EDITS = [
    ("mark", "gpt", "read"),
    ("mark", "bert", "read"),
    ("mark", "transformer-xl", "reading"),
    ("mark", "flashattention", "reading"),
    ("mark", "reformer", "skipped"),
    ("note", "flashattention", NOTE),
]
# The plugins whose check stage runs, so that their badges and the details show a run.
RUNS = ("run", "transformer", "gpt", "bert", "flashattention", "--quick", "--only", "check")
# The keys: from the table to the section list (Tab, Tab), down to "Development of language models", back to
# the table and down to FlashAttention, whose details fill the right-hand column.
KEYS = ["tab", "tab", "j", "tab"] + ["j"] * 8
DELAY = 3  # seconds from the app being ready to the screenshot: the keys and the details' worker are done


def environment(home: Path) -> dict[str, str]:
    """The caller's environment without READTRACK_*, TEXTUAL_* or NO_COLOR, and a data dir of our own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("READTRACK_", "TEXTUAL_"))}
    env.pop("NO_COLOR", None)  # Textual would grey every colour out
    env.update(READTRACK_HOME=str(home))
    return env


def picture(out: Path, runs: bool = True) -> Path:
    """Start the TUI headless on a fresh sample list, press ``KEYS`` and save its screenshot as ``out``."""
    with tempfile.TemporaryDirectory(prefix="readtrack-picture-") as tmp:
        work, home, shots = Path(tmp) / "work", Path(tmp) / "home", Path(tmp) / "shots"
        for folder in (work, home, shots):
            folder.mkdir()
        env = environment(home)
        readtrack = [sys.executable, "-m", "readtrack"]
        for command in [*EDITS, RUNS] if runs else EDITS:
            done = subprocess.run([*readtrack, *command], cwd=work, env=env, capture_output=True, text=True)
            if done.returncode != 0:
                raise SystemExit(f"readtrack {' '.join(command)}: exit {done.returncode}\n{done.stderr}")
        columns, lines = SIZE
        env.update(
            COLUMNS=str(columns),
            LINES=str(lines),
            TEXTUAL_DRIVER="textual.drivers.headless_driver:HeadlessDriver",
            TEXTUAL_COLOR_SYSTEM="truecolor",
            TEXTUAL_PRESS=",".join(KEYS),
            TEXTUAL_SCREENSHOT=str(DELAY),
            TEXTUAL_SCREENSHOT_LOCATION=str(shots),
            TEXTUAL_SCREENSHOT_FILENAME="tui.svg",
        )
        done = subprocess.run(readtrack, cwd=work, env=env, capture_output=True, text=True, timeout=60)
        shot = shots / "tui.svg"
        if done.returncode != 0 or not shot.is_file():
            output = done.stdout + done.stderr
            raise SystemExit(f"the TUI saved no screenshot (exit {done.returncode}):\n{output}")
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, out)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("-o", "--output", type=Path, default=PICTURE, help="the SVG (default: %(default)s)")
    parser.add_argument("--no-runs", action="store_true", help="run no plugin: quicker, badges never run")
    args = parser.parse_args()
    print(f"wrote {picture(args.output, runs=not args.no_runs)}")


if __name__ == "__main__":
    main()
