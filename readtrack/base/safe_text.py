"""Text from a file or a server, made safe to show in a terminal or to write into an export.

papers.yaml, synced metadata, run records and plugin files can hold control characters: an escape sequence
in a title would retitle the terminal or clear the screen, a NUL or a C1 control (``\\x9b`` is CSI) confuses
it, and a bidi override (U+202E) makes a line read in another order than it is written. Every face shows
such text through `visible`, which writes each of them out as an escape a person can read, so nothing is
hidden and nothing reaches the terminal raw.
"""

from __future__ import annotations

import functools
import re

# C0 controls but \t and \n, DEL, C1, the bidi marks, embeddings, overrides and isolates, and the Unicode
# line and paragraph separators (a line break a table does not expect).
_UNSAFE = "\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"


@functools.cache
def _unsafe(multiline: bool) -> re.Pattern[str]:
    """The characters `visible` writes out; compiled on first use, as most text never needs it: `list`
    shows every title, and a printable ASCII one is known safe without it (`_plain`)."""
    return re.compile(f"[{_UNSAFE}]" if multiline else f"[\t\n{_UNSAFE}]")


def _plain(text: str) -> bool:
    """True for printable ASCII (no C0 control, no DEL): nothing of `_UNSAFE`, tab or newline in it."""
    return text.isascii() and text.isprintable()


def escape_char(char: str) -> str:
    """One unsafe character as the escape Python would write: ``\\x1b``, ``\\n``, ``\\u202e``."""
    code = ord(char)
    if char == "\n":
        return "\\n"
    if char == "\t":
        return "\\t"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str, *, multiline: bool = False) -> str:
    """``text`` with every control character written out (``\\x1b``, ``\\x00``, ``\\u202e``).

    ``multiline`` keeps line breaks and tabs, for a field shown as a block (notes, an abstract, code);
    otherwise they are written out too, so a one-line field stays on its line.
    """
    if _plain(text):
        return text
    pattern = _unsafe(multiline)
    if not pattern.search(text):
        return text
    return pattern.sub(lambda m: escape_char(m.group(0)), text)


def is_safe(text: str, *, multiline: bool = False) -> bool:
    """True when ``text`` has nothing `visible` would write out."""
    return _plain(text) or not _unsafe(multiline).search(text)


def json_safe(dumped: str) -> str:
    """JSON text (``json.dumps(..., ensure_ascii=False)``) with the characters JSON leaves raw (DEL, C1,
    bidi controls, line separators) written as ``\\uXXXX``: the same data once parsed, safe in a terminal.
    Outside strings JSON holds only ASCII punctuation, so only string contents change."""
    return _unsafe(True).sub(lambda m: f"\\u{ord(m.group(0)):04x}", dumped)
