"""How a command ends: a `ReadtrackError`, or an error of the machine, as ``readtrack: message`` on one line
and its exit code; an interrupt as exit 130. The one place both faces' errors become messages
(`readtrack.cli.launch` for the TUI, `readtrack.cli.app` for the commands)."""

from __future__ import annotations

import sys
from collections.abc import Callable


def run_mapped(command: Callable[[], object], debug: bool) -> None:
    """Run ``command``, turning a `ReadtrackError` into ``readtrack: message`` and its exit code, and an
    interrupt before a command installed its own handling into exit 130. Errors of the machine (a full
    disk, a read-only folder, a corrupt database: `readtrack.base.system_errors.from_system`) are one line
    too."""
    from readtrack.base.errors import EXIT_PIPE_CLOSED, ReadtrackError
    from readtrack.base.safe_text import visible  # a message may quote a url or a server's words: never raw
    from readtrack.base.system_errors import from_system

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
    except KeyboardInterrupt as err:  # or SIGTERM, SIGHUP where a command takes them so (`run`): 128 + it
        print("readtrack: interrupted", file=sys.stderr)
        sys.exit(128 + int(getattr(err, "signum", 2)))
    except SystemExit as done:
        if done.code == 1 and _reader_went_away():
            sys.exit(EXIT_PIPE_CLOSED)  # as a tool that SIGPIPE ended, and as `run --json` of a batch
        raise


def _reader_went_away() -> bool:
    """Whether Click ended the command on a broken pipe: it then exits 1, its output streams wrapped so that
    the flush at exit says nothing (``PacifyFlushWrapper``)."""
    return type(sys.stdout).__name__ == "PacifyFlushWrapper"
