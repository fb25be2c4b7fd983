"""The one exception hierarchy of readtrack.

Every error a user can cause or act on is a `ReadtrackError`; the CLI maps it to one line and an exit code
in exactly one place (`readtrack.launch.run_mapped`), the TUI shows its message. Anything else is a bug and
keeps its traceback.
"""

from __future__ import annotations


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
    `readtrack.paper_identity.already_listed`). Nothing was written; ``existing_id`` is the paper that has
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


def from_system(err: BaseException) -> ReadtrackError | None:
    """What an error of the machine means for the user, as a `ReadtrackError`: a full disk, a read-only or
    unwritable file or folder, a corrupt database. None for anything else, which is a bug and keeps its
    traceback. Called where errors become messages: `readtrack.launch.run_mapped` and the edits."""
    import errno
    import sys

    if isinstance(err, ReadtrackError):
        return err
    if isinstance(err, OSError) and err.errno is not None:
        where = f" {err.filename}" if err.filename else ""
        if err.errno in (errno.ENOSPC, errno.EDQUOT):
            return DiskFullError(
                f"cannot write{where}: no space left on the device; nothing was changed, "
                "free some space and try again"
            )
        if err.errno in (errno.EPERM, errno.EACCES, errno.EROFS):
            reason = "the file system is read-only" if err.errno == errno.EROFS else "permission denied"
            return StorageError(
                f"cannot use{where}: {reason}; make it writable, or set READTRACK_HOME to a writable "
                "folder when it is in the data dir"
            )
        if err.errno == errno.EIO:
            return StorageError(f"cannot read or write{where}: input/output error (a failing disk?)")
        return None
    sqlite3 = sys.modules.get("sqlite3")  # not imported: not a database error
    if sqlite3 is None or not isinstance(err, sqlite3.Error):
        return None
    from readtrack.paths import database_path

    try:
        db: object = database_path()
    except OSError:  # the data dir is gone meanwhile
        db = "readtrack.db"
    text = str(err)
    if "disk is full" in text or ("disk I/O error" in text and _disk_full(db)):
        return DiskFullError(
            f"the database {db} cannot grow: no space left on the device; nothing was changed, "
            "free some space and try again"
        )
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        return StorageError(
            f"the database {db} is corrupt ({text}); `readtrack doctor --repair` moves it aside, keeps "
            "what can still be read and rebuilds the rest"
        )
    if "readonly" in text or "read-only" in text or "unable to open" in text:
        return StorageError(
            f"cannot use the database {db} ({text}): make it and its folder writable, or set "
            "READTRACK_HOME to a writable folder"
        )
    return None


def _disk_full(path: object) -> bool:
    import os
    import shutil

    try:
        return shutil.disk_usage(os.path.dirname(str(path))).free < 64 * 1024
    except OSError:
        return False


def one_line(err: BaseException) -> str:
    """An exception as the one line a user sees: ``ValueError: shapes do not match``."""
    lines = str(err).strip().splitlines()
    return f"{type(err).__name__}: {lines[0]}" if lines else type(err).__name__
