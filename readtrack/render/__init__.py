"""The CLI's terminal rendering, in one home; the commands in `readtrack.cli.app` only call it.

- `papers`: the paper table, one paper's panel, progress per section, sync progress, `doctor`'s lines.
- `runs`: the live progress lines and the tables of ``readtrack run``, ``history``, ``compare`` and
  ``plugins`` (the TUI's run screen reuses its tables and number formats).

rich is imported inside the functions that draw, so importing these modules keeps the listing commands fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console


def new_console() -> Console:
    """The console every command draws on (no guessing of numbers and paths to highlight). A reader that
    goes away (`readtrack history | head -1`) ends the command with 141, as SIGPIPE ends a tool and as
    `list` ends; rich's own answer is exit 1, an error to ``set -o pipefail``."""
    import os
    import sys

    from rich.console import Console

    from readtrack.base.errors import EXIT_PIPE_CLOSED

    class PipedConsole(Console):
        def on_broken_pipe(self) -> None:
            self.quiet = True
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise SystemExit(EXIT_PIPE_CLOSED)

    return PipedConsole(highlight=False)


def print_json(data: object) -> None:
    """``data`` as indented JSON on stdout, C1 and bidi controls as ``\\uXXXX`` (same data, safe to show)."""
    import json  # here: `readtrack list` imports this package and never prints JSON unasked

    from readtrack.base.safe_text import json_safe

    print(json_safe(json.dumps(data, ensure_ascii=False, indent=2)))
