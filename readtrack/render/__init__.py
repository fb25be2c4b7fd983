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
    """The console every command draws on (no guessing of numbers and paths to highlight)."""
    from rich.console import Console

    return Console(highlight=False)


def print_json(data: object) -> None:
    """``data`` as indented JSON on stdout, C1 and bidi controls as ``\\uXXXX`` (same data, safe to show)."""
    import json  # here: `readtrack list` imports this package and never prints JSON unasked

    from readtrack.base.safe_text import json_safe

    print(json_safe(json.dumps(data, ensure_ascii=False, indent=2)))
