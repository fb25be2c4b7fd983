"""An exclusive lock on a file for the whole of an edit: read, change, write.

Two readtrack processes (two shells, the TUI and a script) editing one papers.yaml each re-read the file
before writing, but without a lock both may read the same version and the second write drops the first's
change. `locked` makes the read-modify-write of `readtrack.catalog.edits.apply_edit` one step for every
writer.

The lock is ``flock`` on a sidecar file, ``.papers.yaml.lock`` beside the list (papers.yaml itself is
replaced on every write, so a lock on it would lock a file that is gone). readtrack runs on Linux and
macOS, which both have ``flock`` (stdlib ``fcntl``), so no library is needed; the kernel drops the lock
when its process dies, kill -9 included, so a crash never leaves the list locked. The holder writes its
pid into the file, only to name it in the message of a writer that gave up waiting.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Iterator
from pathlib import Path

from readtrack.base.errors import LockedError

#: Seconds a writer waits for another before giving up (``READTRACK_LOCK_TIMEOUT`` overrides).
DEFAULT_TIMEOUT = 30.0


def lock_path(path: Path) -> Path:
    """The sidecar file locked while ``path`` is edited."""
    return path.with_name(f".{path.name}.lock")


def timeout_from_env() -> float:
    try:
        return max(0.0, float(os.environ.get("READTRACK_LOCK_TIMEOUT", DEFAULT_TIMEOUT)))
    except ValueError:
        return DEFAULT_TIMEOUT


@contextlib.contextmanager
def locked(path: Path, timeout: float | None = None) -> Iterator[None]:
    """Hold the exclusive lock of ``path`` for the block; wait at most ``timeout`` seconds for it (default
    `timeout_from_env`), then raise `LockedError` naming the holder. An `OSError` (a read-only folder, a
    full disk) propagates, naming the lock file."""
    wait = timeout_from_env() if timeout is None else timeout
    sidecar = lock_path(path)
    fd = os.open(sidecar, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o666)
    try:
        _acquire(fd, path, wait)
        with contextlib.suppress(OSError):  # only for the message of a waiting writer (and a full disk)
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock


def _acquire(fd: int, path: Path, wait: float) -> None:
    deadline = time.monotonic() + wait
    delay = 0.0005
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            pass
        if time.monotonic() >= deadline:
            raise LockedError(
                f"{path.name} is locked by another readtrack ({_holder(fd)}) for {wait:g} s; nothing was "
                "changed: try again when it is done"
            )
        time.sleep(delay)
        delay = min(delay * 2, 0.01)


def _holder(fd: int) -> str:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        text = ""
    return f"pid {text}" if text.isdigit() else "pid unknown"


@contextlib.contextmanager
def held_now(path: Path) -> Iterator[None]:
    """Hold the exclusive lock of ``path`` (its sidecar) for the block, or raise `LockedError` at once, its
    message the holder (``pid 1234``): for work that must not run twice at once, where waiting is wrong
    (``run --resume ID``)."""
    fd = os.open(lock_path(path), os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o666)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LockedError(_holder(fd)) from None
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)
