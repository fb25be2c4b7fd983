"""``ast.parse`` behind one lock.

CPython 3.11 keeps the recursion depth of turning a parsed tree into Python objects per interpreter, not per
thread, so two threads parsing at once can fail with ``SystemError: AST constructor recursion depth mismatch``
(python/cpython#106905). readtrack parses plugin code off the UI thread (the search index, calibration
fingerprints, knob declarations) while the TUI parses too: every parse goes through here.
"""

from __future__ import annotations

import ast
import threading

_LOCK = threading.Lock()


def parse(source: str | bytes, filename: str | None = None) -> ast.Module:
    """``ast.parse(source, filename)``, one thread at a time."""
    with _LOCK:
        return ast.parse(source, filename or "<unknown>")
