"""The one exception hierarchy of readtrack.

Every error a user can cause or act on is a `ReadtrackError`; the CLI maps it to one line and an exit code
in exactly one place (`readtrack.cli.exits.run_mapped`), the TUI shows its message. Anything else is a bug
and keeps its traceback.
"""

from __future__ import annotations

import os

#: The exit of a command whose reader went away (``readtrack list | head``, ``run --json | head``): what a
#: process that SIGPIPE ended exits with, 128 + 13.
EXIT_PIPE_CLOSED = 141


class ReadtrackError(Exception):
    """Base class: `str(err)` is the whole message a user sees; `exit_code` is what the CLI returns."""

    exit_code = 1


class UsageError(ReadtrackError):
    """Bad input from the user: an unknown id, a bad status, a malformed argument."""

    exit_code = 2


class CatalogError(ReadtrackError):
    """papers.yaml is missing, malformed or invalid. The message starts with `file:line:col:` when known."""

    exit_code = 2


class AlreadyListed(ReadtrackError):
    """A paper to add, or an arXiv id to write, is one the list already has (import's identity rule:
    `readtrack.catalog.identity.already_listed`). Nothing was written; ``existing_id`` is the paper that has
    it."""

    exit_code = 1

    def __init__(self, message: str, existing_id: str) -> None:
        super().__init__(message)
        self.existing_id = existing_id


class SyncError(ReadtrackError):
    """Talking to arXiv or another host failed in a way that stops the work."""

    exit_code = 1


class PluginError(ReadtrackError):
    """A paper plugin is unknown, broken, or failed while running."""

    exit_code = 1


class DeviceError(ReadtrackError):
    """The requested device (cuda, cuda:N, mps) is not available here."""

    exit_code = 2


class StorageError(ReadtrackError):
    """The setup cannot be used: a corrupt or read-only database, a data dir or folder that cannot be
    created or written. Fixing it is the user's move (`readtrack doctor --repair`, permissions)."""

    exit_code = 2


class DiskFullError(StorageError):
    """A write failed for want of space: nothing was changed, and the same command works given room."""

    exit_code = 1


class LockedError(ReadtrackError):
    """Another readtrack held the file being edited for longer than we wait."""

    exit_code = 1


def one_line(err: BaseException) -> str:
    """An exception as the one line a user sees: ``ValueError: shapes do not match``."""
    lines = str(err).strip().splitlines()
    return f"{type(err).__name__}: {lines[0]}" if lines else type(err).__name__


def located(err: BaseException, within: str | os.PathLike[str] | None = None) -> str | None:
    """An error in someone's code as the one line a user sees, naming the file and line:
    ``/home/me/swish/config.py:12: NameError: name 'knb' is not defined``; None when it cannot be placed.

    A SyntaxError is placed where Python found it. Any other error at the innermost line of its traceback
    that lies in ``within`` (a plugin's folder, or a single module's file), so that an error raised deep in
    a library is placed at the plugin's line that called it. An error with no such line (or no ``within``)
    is None: the caller says in words where it happened.
    """
    if isinstance(err, SyntaxError) and err.filename and err.lineno and not err.filename.startswith("<"):
        return f"{err.filename}:{err.lineno}: {type(err).__name__}: {err.msg}"
    if within is None:
        return None
    root = os.path.abspath(within)
    place = None
    tb = err.__traceback__
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename == root or filename.startswith(root + os.sep):
            place = f"{filename}:{tb.tb_lineno}"
        tb = tb.tb_next
    return f"{place}: {one_line(err)}" if place else None


class ClusterError(ReadtrackError):
    """The cluster runs were sent to (``--executor ray``) cannot be reached, or refuses them: a worker whose
    readtrack or plugin code differs from the driver's."""

    exit_code = 2
