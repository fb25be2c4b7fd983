"""The caches a light command reads on every start (the list's model, its links to plugins), as `marshal`.

`marshal` is built into the interpreter: reading one needs no import (``json`` costs `readtrack list` about
a millisecond to import, more than the read itself) and loads a thousand papers faster than ``json``. Only
what this process wrote is ever read back, a cache of plain values (dicts, lists, strings, numbers, None),
behind a mark and the digest of its bytes; anything else at the path (missing, cut short, damaged, written
by another Python, not this shape) reads as no cache, which is only slower.
"""

from __future__ import annotations

import marshal
from importlib.util import source_hash
from pathlib import Path
from typing import Any

#: What opens every cache file: a mark and the digest of the marshal bytes after it, so that a file damaged
#: in any way reads as no cache before marshal sees it (marshal trusts its input: five bytes saying "a tuple
#: of 2**31 items" make it allocate 16 GB, issue 94).
_MARK = b"rtq1"
_HEAD = len(_MARK) + 8


def read(path: Path) -> dict[str, Any] | None:
    """The dict cached at ``path``; None for no file, a damaged one or another shape."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    body = data[_HEAD:]
    if data[: len(_MARK)] != _MARK or data[len(_MARK) : _HEAD] != source_hash(body):
        return None
    try:
        value = marshal.loads(body)
    except (EOFError, ValueError, TypeError, MemoryError):
        return None
    return value if isinstance(value, dict) else None


def write(path: Path, value: dict[str, Any]) -> None:
    """Cache ``value`` at ``path`` atomically (an `OSError` for a data dir that cannot be written: the
    callers go on uncached; a ValueError for a value marshal cannot write, a bug)."""
    from readtrack.base.atomic import atomic_write

    body = marshal.dumps(value)
    atomic_write(path, _MARK + source_hash(body) + body)
