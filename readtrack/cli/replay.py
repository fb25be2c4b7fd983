"""A light command run again on unchanged inputs prints what it printed last time, from the data dir
(issue 96): `show`, `knobs`, `plugins`, `history`, `compare`, `search`, `refs`, `cites` and `next` then start
as fast as `list`, without importing rich, the run history or a plugin.

What a command prints depends on its command line and on the world it reads. Both are kept with the output:

- the situation, digested into the entry's file name: the arguments, the working folder, the environment
  (every variable but a shell's own bookkeeping), the terminal's width and which streams are terminals, the
  interpreter and the day;
- the inputs, each with its size and times: the source file of every module the command imported (readtrack,
  a plugin, a library), every file under each plugin folder and each folder of readtrack's own (a plugin's
  code is read as text for its fingerprint and page), the folders on ``sys.path`` (an install or an
  uninstall changes their times), the list, and the data dir's own files (the database and its
  write-ahead log, the PDF folder).

A later run with the same situation whose every input still has its size and times is answered from the
entry; any difference, a missing or damaged entry (any error reading it, a wrong shape, an input of the
wrong type), and the command runs as always. Only a run that ended with exit 0, printed at most
`MAX_BYTES`, and left the data dir's files as it found them is kept (a `refs` that fetched wrote the
database: the next one runs, then is kept). Options that write or fetch (``--add``, ``--fetch``,
``--refresh``) and help are never replayed. The entries live in ``<data dir>/cache/replay``, at most
`MAX_ENTRIES`, the oldest removed first.

A size and two times tell a change: the modification time, and the change time, which a copy that keeps the
first (``cp -p``) still moves.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from pathlib import Path
from typing import Any

#: The commands that read and print, and only read: the same inputs print the same output.
REPLAYED = frozenset({"show", "knobs", "plugins", "history", "compare", "search", "refs", "cites", "next"})
#: Options that write, fetch or ask for help: a command line with one is always run.
NEVER = frozenset({"--add", "--fetch", "--refresh", "--help", "-h"})
MAX_BYTES = 1 << 20  # a bigger output is printed, never kept
MAX_ENTRIES = 256
#: Environment variables a shell changes on its own, which no command reads.
_VOLATILE = frozenset({"_", "OLDPWD", "SHLVL", "PYTEST_CURRENT_TEST"})
_FORMAT = 2  # 2: change times

#: (path, size, mtime_ns, ctime_ns) of one input; (path, -1, -1, -1) for one that did not exist. The change
#: time tells a copy that kept the modification time (``cp -p``) of a file of the same size.
Stat = tuple[str, int, int, int]


def command_of(args: list[str]) -> str | None:
    """The replayed command ``args`` run, or None (another command, a writing option, help)."""
    command = None
    rest = iter(args)
    for arg in rest:
        if arg == "--catalog":
            next(rest, None)
        elif arg.split("=", 1)[0] in NEVER:
            return None
        elif command is None and not arg.startswith("-"):
            command = arg
    return command if command in REPLAYED else None


def replay(args: list[str]) -> bool:
    """Print the kept output of ``args`` and return True when its situation and inputs are unchanged;
    False (nothing printed) otherwise."""
    if command_of(args) is None:
        return False
    try:
        entry = _read(_entry_file(args))
        if entry is None or not _unchanged(entry["inputs"]):
            return False
        out, err = entry["out"], entry["err"]
        if not (isinstance(out, str) and isinstance(err, str)):
            return False
    except Exception:  # a damaged entry, an unreadable data dir: the command runs
        return False
    try:
        sys.stdout.write(out)
        sys.stdout.flush()
    except BrokenPipeError:  # `readtrack history | head -1`: as a tool that SIGPIPE ended, quietly
        from readtrack.base.errors import EXIT_PIPE_CLOSED

        with contextlib.suppress(OSError, ValueError):  # nothing left for the interpreter's flush at exit
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(EXIT_PIPE_CLOSED)
    sys.stderr.write(err)
    return True


class Recording:
    """What a command prints while it runs (its streams teed), kept by `finish` when it may be."""

    def __init__(self, args: list[str]) -> None:
        self.args = args
        self.before = _data_files()
        self.out = _Tee(sys.stdout)
        self.err = _Tee(sys.stderr)
        sys.stdout, sys.stderr = self.out, self.err

    def finish(self, code: object) -> None:
        """Put the streams back; keep the output when the command ended with exit 0, printed at most
        `MAX_BYTES` and changed none of the data dir's files."""
        if sys.stdout is self.out:  # (Click puts its own wrapper on a pipe the reader closed: left so)
            sys.stdout = self.out.stream
        if sys.stderr is self.err:
            sys.stderr = self.err.stream
        if code not in (0, None) or self.out.broken or self.err.broken:
            return
        with contextlib.suppress(Exception):  # keeping it is only a speed-up: never a failure
            out, err = "".join(self.out.parts), "".join(self.err.parts)
            if len(out) + len(err) > MAX_BYTES or _data_files() != self.before:
                return
            entry = {"format": _FORMAT, "inputs": _inputs(), "out": out, "err": err}
            from readtrack.base import quickcache

            path = _entry_file(self.args)
            quickcache.write(path, entry)
            _prune(path.parent)


def recording(args: list[str]) -> Recording | None:
    """A `Recording` of ``args`` when its command is replayed, else None."""
    if command_of(args) is None:
        return None
    try:
        return Recording(args)
    except Exception:  # no data dir: the command runs unrecorded
        return None


class _Tee:
    """A text stream that passes everything on to ``stream`` and keeps a copy (rich asks it, as it asks the
    real one, whether it is a terminal and how wide)."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.parts: list[str] = []
        self.broken = False

    def write(self, text: str) -> int:
        self.parts.append(text)
        try:
            written = self.stream.write(text)
        except (BrokenPipeError, OSError):
            self.broken = True
            raise
        return len(text) if written is None else int(written)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


def _situation(args: list[str]) -> str:
    import shutil

    env = sorted((k, v) for k, v in os.environ.items() if k not in _VOLATILE)
    size = shutil.get_terminal_size((100, 24))
    ttys = [_isatty(sys.stdout), _isatty(sys.stderr)]
    day = time.strftime("%Y-%m-%d")  # what a command dates (`next` its suggestions) is dated again daily
    python = (sys.prefix, sys.base_prefix, sys.version)  # which environment runs it
    return repr((_FORMAT, args, os.getcwd(), env, tuple(size), ttys, python, day))


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


def _entry_file(args: list[str]) -> Path:
    from readtrack.base.digest import digest
    from readtrack.base.paths import data_dir

    return data_dir() / "cache" / "replay" / f"{digest(_situation(args))}.marshal"


def _read(path: Path) -> dict[str, Any] | None:
    from readtrack.base import quickcache

    entry = quickcache.read(path)
    if entry is None or entry.get("format") != _FORMAT or not isinstance(entry.get("inputs"), list):
        return None
    return entry


def _stat(path: str) -> Stat:
    try:
        found = os.stat(path)
    except OSError:
        return (path, -1, -1, -1)
    return (path, found.st_size, found.st_mtime_ns, found.st_ctime_ns)


def _unchanged(inputs: list[Any]) -> bool:
    for item in inputs:
        if not (isinstance(item, tuple) and len(item) == 4 and isinstance(item[0], str)):
            return False
        if not all(isinstance(number, int) for number in item[1:]):
            return False
        if _stat(item[0]) != item:
            return False
    return True


def _data_files() -> list[Stat]:
    """The data dir's own files and the list: what a command that only reads leaves as it found them (the
    database's shared-memory index, which any reader touches, aside)."""
    from readtrack.base.paths import catalog_path, data_dir

    folder = data_dir()
    found = [_stat(str(catalog_path()))]
    with os.scandir(folder) as entries:
        names = sorted(e.name for e in entries if e.name != "cache" and not e.name.endswith("-shm"))
    found += [_stat(str(folder / name)) for name in names]
    return found


def _inputs() -> list[Stat]:
    """Every input of the command that just ran (see the module's docstring), each with its size and times."""
    from readtrack.base.paths import catalog_path
    from readtrack.plugins.folders import plugin_roots

    paths: set[str] = set()
    folders: set[str] = set()
    installed = tuple({sys.prefix, sys.base_prefix, sys.exec_prefix})
    for module in list(sys.modules.values()):
        file = getattr(module, "__file__", None)
        if isinstance(file, str):
            paths.add(file)
            package = getattr(module, "__path__", None)
            if package is not None and not file.startswith(installed):  # readtrack's own, a plugin's
                with contextlib.suppress(TypeError):  # a module's own kind of __path__ (torch.classes)
                    folders.update(str(p) for p in package)
    folders.update(str(root) for root in plugin_roots(catalog_path()))
    for folder in sorted(folders):
        paths.update(_files_under(folder))
    found = [_stat(path) for path in sorted(paths)]
    found += [_stat(entry or ".") for entry in sys.path]
    return found + _data_files()


def _files_under(folder: str) -> list[str]:
    """Every file and folder under ``folder`` but bytecode caches (a folder's time changes when a file is
    added or removed in it)."""
    found = [folder]
    with contextlib.suppress(OSError), os.scandir(folder) as entries:
        for entry in entries:
            if entry.name == "__pycache__" or entry.name.startswith("."):
                continue
            if entry.is_dir(follow_symlinks=False):
                found += _files_under(entry.path)
            else:
                found.append(entry.path)
    return found


def _prune(folder: Path) -> None:
    """Keep the `MAX_ENTRIES` newest entries."""
    entries = sorted(folder.iterdir(), key=lambda p: p.stat().st_mtime_ns)
    for old in entries[: max(0, len(entries) - MAX_ENTRIES)]:
        with contextlib.suppress(OSError):
            old.unlink()
