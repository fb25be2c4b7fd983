"""Which papers an edit of papers.yaml can have changed, found from the lines it changed (for `search_index`).

Comparing every paper of a 10,000-paper list with its indexed digest costs more than a whole update may
(about 0.15 s), and a mark, a note or a hand edit of one entry changes a few lines of one paper. So each
refresh keeps the text it indexed and the list's layout (where each paper and section starts, and a digest
of the sections' names and every paper's id and nesting) in a file in the data dir's cache, named by the
text's digest and checked by length and CRC when read back; the next refresh compares. The changed lines
are those between the common prefix and the common suffix of the two texts. When the papers are the same,
start where they did (those after the change shifted by the lines it added), and the change lies strictly
inside one paper's entry, that paper and its parents (whose keys may follow their nested papers) are all
the edit can have changed. Anything else says None, and every paper is compared: papers added, removed or
moved, a section renamed, a change on a paper's first line or outside any paper's entry, a text with
anchors (an alias shows one entry's text in another) or with line breaks other than ``\n``.
"""

from __future__ import annotations

import bisect
import contextlib
import hashlib
import json
import os
import re
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from readtrack.catalog.model import Catalog, Paper

# Line breaks YAML counts besides \n (a lone \r, NEL, LS, PS), and an anchor (``&name``): an aliased node
# shows one entry's text in another. A text with any of them is compared paper by paper.
_ODD_BREAKS = (b"\xc2\x85", b"\xe2\x80\xa8", b"\xe2\x80\xa9")
_ANCHOR = re.compile(rb"(?:\A|[\s\[{,])&[^\s\]},]")
_PREFIX = "search-catalog-"


@dataclass
class Layout:
    """Where each paper and section of papers.yaml starts, and what places each paper in the list."""

    papers: list[Paper]  # document order, nested ones right after their parent
    lines: list[int]  # each paper's first line
    sections: list[int]  # each section's first line
    structure: str  # a digest of the sections' names and every paper's id and nesting, in order

    def plugin_names(self) -> list[str]:
        return sorted({name for paper in self.papers if paper.plugins for name in paper.plugins})


def layout(catalog: Catalog) -> Layout:
    papers: list[Paper] = []
    names: list[str] = []  # section names and paper ids, nested papers in parentheses after their parent

    def add(items: list[Paper]) -> None:
        for paper in items:
            papers.append(paper)
            names.append(paper.id)
            if paper.children:
                names.append("(")
                add(paper.children)
                names.append(")")

    for section in catalog.sections:
        names.append("\x00" + section.name)
        if any(paper.children for paper in section.papers):
            add(section.papers)
        else:  # the usual flat section, in two quick passes
            papers += section.papers
            names += [paper.id for paper in section.papers]
    structure = hashlib.blake2b("\n".join(names).encode(), digest_size=16).hexdigest()
    return Layout(papers, [p.line for p in papers], [s.line for s in catalog.sections], structure)


def _saved_file(digest: str) -> Path:
    from readtrack.base.paths import data_dir

    return data_dir() / "cache" / f"{_PREFIX}{digest}"


def save(now: Layout, text: bytes, digest: str) -> list[object]:
    """Keep the layout and the text for the next refresh to compare with: a file (written without fsync,
    so its name, length and CRC, which this returns for the index's state, are checked when read back)."""
    header = json.dumps({"structure": now.structure, "lines": now.lines, "sections": now.sections})
    payload = header.encode() + b"\n" + text
    path = _saved_file(digest)
    with contextlib.suppress(OSError):  # a read-only data dir only means comparing paper by paper
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_bytes(payload)
        os.replace(tmp, path)
    return [digest, len(payload), zlib.crc32(payload)]


def forget(keep: str) -> None:
    """Remove what was saved for earlier versions of the list (a missing file only means a slower update)."""
    kept = _saved_file(keep)
    with contextlib.suppress(OSError):
        for entry in os.scandir(kept.parent):
            if entry.name.startswith(_PREFIX) and entry.name != kept.name:
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)


def _saved(state: Any) -> tuple[dict[str, Any], bytes] | None:
    """The layout and the text `save` kept, when the file is still the one the index's state names."""
    try:
        digest, size, crc = state
        payload = _saved_file(str(digest)).read_bytes()
    except (OSError, TypeError, ValueError):
        return None
    if len(payload) != size or zlib.crc32(payload) != crc:
        return None
    header, _, text = payload.partition(b"\n")
    return json.loads(header), text


def edited_papers(state: Any, text: bytes, now: Layout) -> list[Paper] | None:
    """The papers an edit from the saved text to ``text`` can have changed (see the module doc), or None
    when it may reach further than one paper's entry. ``state`` is what `save` returned last time."""
    saved = _saved(state)
    if saved is None:
        return None
    kept, old = saved
    old_lines, old_sections = kept.get("lines"), kept.get("sections")
    if not isinstance(old_lines, list) or kept.get("structure") != now.structure:
        return None
    if _unusual(old) or _unusual(text):
        return None
    start = _common_prefix(old, text)
    if start == len(old) == len(text):
        return []
    end = min(_common_suffix(old, text), min(len(old), len(text)) - start)
    before = text.count(b"\n", 0, start)  # lines before the one the change starts on
    last_old = before + old.count(b"\n", start, len(old) - end) + 1
    last_new = before + text.count(b"\n", start, len(text) - end) + 1
    delta = last_new - last_old
    lines = now.lines
    i = bisect.bisect_right(lines, before) - 1  # the last paper that starts before the change's first line
    if (
        i < 0
        or lines[: i + 1] != old_lines[: i + 1]
        or [x - delta for x in lines[i + 1 :]] != old_lines[i + 1 :]
    ):
        return None
    if i + 1 < len(lines) and lines[i + 1] <= last_new:  # the change reaches the next paper's first line
        return None
    at = lines[i]
    if [x if x <= at else x - delta for x in now.sections] != old_sections:
        return None
    if any(at < x <= last_new for x in now.sections):  # a section starts between the paper and the change
        return None
    found = [now.papers[i]]
    while found[-1].parent is not None:  # a parent's keys may follow its nested papers
        i -= 1
        if now.papers[i].id == found[-1].parent:
            found.append(now.papers[i])
    return found


def _unusual(text: bytes) -> bool:
    if b"\r" in text and text.count(b"\r") != text.count(b"\r\n"):
        return True
    if not text.isascii() and any(b in text for b in _ODD_BREAKS):
        return True
    return b"&" in text and _ANCHOR.search(text) is not None


_STEP = 1 << 16


def _common_prefix(a: bytes, b: bytes) -> int:
    """How many bytes ``a`` and ``b`` have in common at the start (compared 64 KiB at a time, then halved)."""
    n, lo = min(len(a), len(b)), 0
    while lo < n and a[lo : lo + _STEP] == b[lo : lo + _STEP]:
        lo += _STEP
    hi = min(n, lo + _STEP)
    while lo < hi:  # a[:lo] == b[:lo], and they differ at hi unless hi == n
        mid = (lo + hi) // 2
        if a[lo : mid + 1] == b[lo : mid + 1]:
            lo = mid + 1
        else:
            hi = mid
    return min(lo, n)


def _common_suffix(a: bytes, b: bytes) -> int:
    """How many bytes ``a`` and ``b`` have in common at the end."""
    n, la, lb, lo = min(len(a), len(b)), len(a), len(b), 0
    while lo < n:
        k = min(n, lo + _STEP)
        if a[la - k : la - lo] != b[lb - k : lb - lo]:
            break
        lo = k
    hi = min(n, lo + _STEP)
    while lo < hi:  # the last lo bytes agree; the last hi + 1 do not, unless hi == n
        mid = (lo + hi + 1) // 2
        if a[la - mid : la - lo] == b[lb - mid : lb - lo]:
            lo = mid
        else:
            hi = mid - 1
    return lo
