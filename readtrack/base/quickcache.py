"""The caches a light command reads on every start (the list's model, its links to plugins), as `marshal`.

`marshal` is built into the interpreter: reading one needs no import (``json`` costs `readtrack list` about
a millisecond to import, more than the read itself) and loads a thousand papers faster than ``json``. Only
what this process wrote is ever read back, a cache of plain values (dicts, lists, strings, numbers, None);
anything else at the path (missing, cut short, written by another Python, not this shape) reads as no
cache, which is only slower.
"""

from __future__ import annotations

import marshal
from pathlib import Path
from typing import Any


def read(path: Path) -> dict[str, Any] | None:
    """The dict cached at ``path``; None for no file, a damaged one or another shape."""
    try:
        value = marshal.loads(path.read_bytes())
    except (OSError, EOFError, ValueError, TypeError):
        return None
    return value if isinstance(value, dict) else None


def write(path: Path, value: dict[str, Any]) -> None:
    """Cache ``value`` at ``path`` atomically (an `OSError` for a data dir that cannot be written: the
    callers go on uncached; a ValueError for a value marshal cannot write, a bug)."""
    from readtrack.base.atomic import atomic_write

    atomic_write(path, marshal.dumps(value))
