"""What an error of the machine means for the user: a full disk, a read-only or unwritable file or folder, a
corrupt database, each as the `ReadtrackError` that says what to do.

Apart from `readtrack.base.errors` because it must know where the database lives (`readtrack.base.paths`),
which the error types themselves do not.
"""

from __future__ import annotations

from readtrack.base.errors import DiskFullError, ReadtrackError, StorageError
from readtrack.base.paths import database_path


def from_system(err: BaseException) -> ReadtrackError | None:
    """What an error of the machine means for the user, as a `ReadtrackError`: a full disk, a read-only or
    unwritable file or folder, a corrupt database. None for anything else, which is a bug and keeps its
    traceback. Called where errors become messages: `readtrack.cli.exits.run_mapped` and the edits."""
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
