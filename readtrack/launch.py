"""The `readtrack` executable: the TUI straight away when no command is given, else the Typer CLI.

Opening the TUI is the common case and the one a person waits for, so ``readtrack`` (with at most
``--catalog PATH`` and ``--debug``) goes to `readtrack.tui.run_tui` without importing Typer, Click and every
command's definitions (about 50 ms of a 0.4 s start). Anything else, ``--help`` included, is the CLI's.
Both ways map `ReadtrackError` to one line and an exit code here, in one place.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence


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


def run_mapped(command: Callable[[], object], debug: bool) -> None:
    """Run ``command``, turning a `ReadtrackError` into ``readtrack: message`` and its exit code, and an
    interrupt before a command installed its own handling into exit 130. Errors of the machine (a full
    disk, a read-only folder, a corrupt database: `readtrack.errors.from_system`) are one line too."""
    from readtrack.errors import ReadtrackError, from_system
    from readtrack.safe_text import visible  # a message may quote a url or a server's words: never raw

    try:
        command()
    except ReadtrackError as err:
        if debug:
            raise
        print(f"readtrack: {visible(str(err), multiline=True)}", file=sys.stderr)
        sys.exit(err.exit_code)
    except Exception as err:  # a full disk, a read-only data dir, a corrupt database: one line too
        mapped = from_system(err)
        if mapped is None or debug:
            raise
        print(f"readtrack: {visible(str(mapped), multiline=True)}", file=sys.stderr)
        sys.exit(mapped.exit_code)
    except KeyboardInterrupt:
        print("readtrack: interrupted", file=sys.stderr)
        sys.exit(130)


def main() -> None:
    """Entry point of the ``readtrack`` script and of ``python -m readtrack``."""
    tui = tui_only(sys.argv[1:])
    if tui is None:
        from readtrack.cli import main as cli_main

        cli_main()
        return
    catalog, debug = tui
    if catalog:
        os.environ["READTRACK_CATALOG"] = catalog  # what the CLI's --catalog does
    from readtrack.tui import run_tui

    debug = debug or "--debug" in sys.argv
    run_mapped(lambda: run_tui(debug=debug), debug)
