"""The `readtrack` executable: the TUI straight away when no command is given, else the Typer CLI.

Opening the TUI is the common case and the one a person waits for, so ``readtrack`` (with at most
``--catalog PATH`` and ``--debug``) goes to `readtrack.tui.run_tui` without importing Typer, Click and every
command's definitions (about 50 ms of a 0.4 s start). Anything else, ``--help`` included, is the CLI's.
Both ways map `ReadtrackError` to one line and an exit code, in one place: `readtrack.cli.exits`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from readtrack.cli.exits import run_mapped


def tui_only(args: Sequence[str]) -> tuple[str | None, bool] | None:
    """``(catalog, debug)`` when ``args`` only open the TUI, else None (the CLI parses them)."""
    catalog: str | None = None
    debug = False
    rest = list(args)
    while rest:
        arg = rest.pop(0)
        if arg == "--debug":
            debug = True
        elif arg == "--catalog" and rest and not rest[0].startswith("-"):
            catalog = rest.pop(0)
        elif arg.startswith("--catalog=") and len(arg) > len("--catalog="):
            catalog = arg.split("=", 1)[1]
        else:
            return None
    return catalog, debug


def main() -> None:
    """Entry point of the ``readtrack`` script and of ``python -m readtrack``."""
    tui = tui_only(sys.argv[1:])
    if tui is None:
        from readtrack.cli.app import main as cli_main

        try:
            cli_main()
        finally:
            spare_the_last_collection()
        return
    catalog, debug = tui
    if catalog:
        os.environ["READTRACK_CATALOG"] = catalog  # what the CLI's --catalog does
    from readtrack.tui import run_tui

    debug = debug or "--debug" in sys.argv
    run_mapped(lambda: run_tui(debug=debug), debug)


def spare_the_last_collection() -> None:
    """Move every object alive into the garbage collector's permanent generation, once a command is done.
    The interpreter's exit then runs the atexit handlers and tears the modules down as usual, freeing what
    they hold by reference counting, but skips its last full collection, a scan of every object left, whose
    only other work would be the reference cycles, memory the operating system takes back anyway (measured:
    8 of the 10 ms a `readtrack list` of 1,000 papers spent exiting; `benchmarks/bench_startup.py`, issue
    87). The TUI exits as it always did."""
    import gc

    gc.freeze()
