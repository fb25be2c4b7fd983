"""Atomic file writes: readers see the old file or the new one, never half of either.

A write goes to a temp file beside the target, ``.NAME.PID.RANDOM.tmp``, is fsynced and renamed over the
target. A writer killed on the way (kill -9, a power cut) leaves its temp file behind; the pid in the name
tells whose it was, so the next write of the same file removes it (`remove_stale_temps`) and
``readtrack doctor`` reports those it finds elsewhere (`stale_temps`).
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

from readtrack.base.words import age

#: A temp file whose writer is alive is still left alone until it is this old (no write takes a minute).
STALE_AFTER_SECONDS = 60.0

# `.papers.yaml.1234.9f3a2c1b.tmp` (ours), or `.papers.yaml.k3j_x9ab.tmp` (tempfile.mkstemp's, before pids)
_TEMP_NAME = re.compile(r"^\.(?P<name>.+?)\.(?:(?P<pid>\d+)\.[0-9a-f]{8}|[a-z0-9_]{8})\.tmp$")


def atomic_write(path: str | os.PathLike[str], data: bytes | str, *, encoding: str = "utf-8") -> None:
    """Write ``data`` to ``path`` through a temp file in the same folder, fsync, then ``os.replace``.

    A new file gets the mode a plain ``open()`` would give it (0666 less the umask); a file that exists keeps
    its mode (and its owner, where we may set it). A symlink stays a link: the file it points to is
    replaced. The folder is fsynced too, so the rename survives a crash. An `OSError` (a full disk, a
    read-only folder) names the file and leaves the target as it was.
    """
    target = Path(path)
    if target.is_symlink():
        target = Path(os.path.realpath(target))
    payload = data.encode(encoding) if isinstance(data, str) else data
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        existing: os.stat_result | None = os.stat(target)
    except FileNotFoundError:
        existing = None
    except OSError as err:
        raise _naming(err, target) from None
    remove_stale_temps(target)
    # The kernel applies the umask to this mode, so the temp file is never readable by more people than the
    # file it replaces, nor than a file made by open().
    fd, tmp = _create_temp(target, 0o666 if existing is None else existing.st_mode & 0o666)
    try:
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(payload)
                handle.flush()
                if existing is not None:
                    _keep_owner_and_mode(handle.fileno(), existing)
                os.fsync(handle.fileno())
            os.replace(tmp, target)
        except OSError as err:
            raise _naming(err, target) from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_dir(target.parent)


def _create_temp(target: Path, mode: int) -> tuple[int, Path]:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    while True:
        tmp = target.with_name(f".{target.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
        try:
            return os.open(tmp, flags, mode), tmp
        except FileExistsError:
            continue
        except OSError as err:
            raise _naming(err, target) from None


def _keep_owner_and_mode(fd: int, existing: os.stat_result) -> None:
    if (existing.st_uid, existing.st_gid) != (os.geteuid(), os.getegid()):
        with contextlib.suppress(OSError):  # only root may give a file away; then the group alone, if ours
            os.fchown(fd, existing.st_uid, existing.st_gid)
    os.fchmod(fd, existing.st_mode & 0o7777)


def _naming(err: OSError, target: Path) -> OSError:
    """``err`` with the file it concerns, for the one-line message (a failed write() names no file)."""
    if err.filename is not None:
        return err
    return type(err)(err.errno, err.strerror or os.strerror(err.errno or 0), str(target))


def fsync_dir(folder: Path) -> None:
    """Make a rename inside ``folder`` durable (a no-op where directories cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# -- temp files left by writers that died -------------------------------------------------------------


@dataclass(frozen=True)
class StaleTemp:
    """A temp file of an atomic write that will never be renamed into place."""

    path: Path
    age_s: float
    pid: int | None  # its writer, when the name says (a dead process)

    def describe(self) -> str:
        writer = f"its writer (pid {self.pid}) is gone" if self.pid is not None else "left by a writer"
        return f"temp file of an unfinished write of {self.target_name}, {writer}, {age(self.age_s)} old"

    @property
    def target_name(self) -> str:
        match = _TEMP_NAME.match(self.path.name)
        return match["name"] if match else self.path.name


def stale_temps(folder: Path, name: str | None = None, *, now: float | None = None) -> list[StaleTemp]:
    """The temp files in ``folder`` (of the file ``name`` only, when given) whose writer is dead or that are
    older than `STALE_AFTER_SECONDS`: no write will ever finish them."""
    now = time.time() if now is None else now
    found: list[StaleTemp] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return found
    for entry in entries:
        match = _TEMP_NAME.match(entry.name)
        if match is None or (name is not None and match["name"] != name):
            continue
        try:
            info = entry.stat(follow_symlinks=False)
        except OSError:
            continue  # renamed into place meanwhile
        age = now - info.st_mtime
        pid = int(match["pid"]) if match["pid"] else None
        dead = pid is not None and pid != os.getpid() and not _alive(pid)
        if dead or age > STALE_AFTER_SECONDS:
            found.append(StaleTemp(Path(entry.path), max(age, 0.0), pid if dead else None))
    return sorted(found, key=lambda t: t.path.name)


def remove_stale_temps(target: Path) -> list[StaleTemp]:
    """Remove the stale temp files of ``target`` (see `stale_temps`); return those removed."""
    removed = []
    for stale in stale_temps(target.parent, target.name):
        with contextlib.suppress(FileNotFoundError):
            try:
                stale.path.unlink()
            except OSError:
                continue  # a read-only folder: doctor reports it
            removed.append(stale)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError as err:
        return err.errno == errno.EPERM  # someone else's process: alive
    return True
