"""How many CPU threads a run computes with: ``--threads``, else ``READTRACK_THREADS``, else 1.

Apart from `readtrack.runner.run` (which imports torch to apply the count) so that a command, the TUI's run
screen or a batch can read and check the count first: a bad value is answered at once, not after torch loads.
"""

from __future__ import annotations

import os
from typing import Any

from readtrack.base.errors import UsageError

#: Environment variable naming the CPU thread count of runs (``--threads`` wins over it); default 1.
THREADS_ENV = "READTRACK_THREADS"


def resolve_threads(threads: int | None = None) -> int:
    """The CPU thread count a run uses: ``threads`` when given, else ``READTRACK_THREADS``, else 1.
    A count below 1 or a value that is not a whole number is a UsageError."""
    source = "--threads"
    value: Any = threads
    if value is None:
        value, source = os.environ.get(THREADS_ENV) or "1", THREADS_ENV
    try:
        count = int(value)
    except ValueError:
        raise UsageError(f"{source} must be a whole number of threads, not {value!r}") from None
    if count < 1:
        raise UsageError(f"{source} must be at least 1, not {count}")
    return count
