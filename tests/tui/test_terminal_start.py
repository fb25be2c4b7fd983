"""`readtrack` in a real terminal (a pseudo-terminal): it opens the list, quits on q, and never imports the
CLI's Typer or torch on the way (the launcher goes straight to the TUI)."""

from __future__ import annotations

import sys
from pathlib import Path

from terminal import Terminal

from readtrack.cli.launch import tui_only

PROBE = """
import atexit, sys
OUT = sys.argv[1]
def report():
    with open(OUT, "w") as out:
        out.write(" ".join(sorted({m.split(".")[0] for m in sys.modules} & {"typer", "click", "torch"})))
atexit.register(report)
sys.argv = ["readtrack", "--catalog", sys.argv[2]]
from readtrack.cli.launch import main
main()
"""


def test_readtrack_opens_the_list_in_a_terminal_and_quits_on_q(catalog_file: Path, tmp_path: Path) -> None:
    imported = tmp_path / "imported.txt"
    term = Terminal([sys.executable, "-c", PROBE, str(imported), str(catalog_file)], columns=120, lines=30)
    try:
        term.wait_for("Decoupled Weight Decay", timeout=60)
        term.type("q")
    finally:
        code = term.close(timeout=30)
    assert code == 0, term.output[-600:]
    assert imported.read_text() == ""  # none of typer, click, torch


def test_only_catalog_and_debug_go_straight_to_the_tui() -> None:
    assert tui_only([]) == (None, False)
    assert tui_only(["--catalog", "x.yaml"]) == ("x.yaml", False)
    assert tui_only(["--catalog=x.yaml", "--debug"]) == ("x.yaml", True)
    for args in (["list"], ["--help"], ["--catalog"], ["--catalog", "--debug"], ["--catalog="], ["x.yaml"]):
        assert tui_only(args) is None, args  # the CLI parses (and reports) these
