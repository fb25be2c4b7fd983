"""arXiv identifiers: recognise, normalise and compare them.

Two schemes exist: new-style ``YYMM.NNNN`` (4 digits after the dot until 2014, 5 since 2015) and old-style
``archive[.SUBJ]/YYMMNNN`` (``hep-th/9901001``, ``math.GT/0309136``); both take an optional ``vN``. Ids are
found bare, behind ``arXiv:``, or inside abs/pdf URLs.
"""

from __future__ import annotations

import re
from typing import NamedTuple

_NEW = r"\d{4}\.\d{4,5}"
_OLD = r"[a-z]+(?:-[a-z]+)*(?:\.[A-Z]{2})?/\d{7}"
_ID = rf"(?P<id>{_NEW}|{_OLD})(?P<version>v\d+)?"

# Compiled on first use (`re`'s own cache), not at import: every `readtrack list` imports this module, and
# most never match an id. All three ignore case.
_BARE = rf"^(?:arxiv:\s*)?{_ID}$"
_IN_URL = rf"arxiv\.org/(?:abs|pdf|html|format)/{_ID}(?:\.pdf)?(?=$|[/?#\s)\]>\"'])"
_IN_TEXT = rf"(?<![\w./])(?:arxiv:\s*)?{_NEW}(?:v\d+)?(?![\w.])"


class ArxivId(NamedTuple):
    """An arXiv id split into its base (``2205.14135``) and optional version (``v2``).

    A named tuple, not a frozen dataclass: as immutable and comparable, and a tenth of the time to define
    (every `readtrack list` imports this module)."""

    base: str
    version: str = ""

    def __str__(self) -> str:
        return self.base + self.version


def _fix_case(ident: str) -> str:
    # archive names are lowercase and subject classes uppercase: "HEP-TH/9901001" -> "hep-th/9901001"
    if "/" not in ident:
        return ident
    archive, number = ident.split("/", 1)
    if "." in archive:
        name, subj = archive.split(".", 1)
        archive = f"{name.lower()}.{subj.upper()}"
    else:
        archive = archive.lower()
    return f"{archive}/{number}"


def parse(text: str) -> ArxivId | None:
    """Parse an id given on its own (``2205.14135v2``, ``arXiv:hep-th/9901001``) or as an arxiv.org URL."""
    value = text.strip()
    match = re.match(_BARE, value, re.IGNORECASE) or re.search(_IN_URL, value, re.IGNORECASE)
    if not match:
        return None
    return ArxivId(_fix_case(match.group("id")), (match.group("version") or "").lower())


def implausible(ident: ArxivId) -> str | None:
    """Why no paper can have ``ident`` (None when one can): a month that does not exist, a new-style id
    before April 2007 (``0704``), or the wrong count of digits for its month (4 until 1412, 5 since 1501).
    ``readtrack add 9999.99999`` was accepted; the shape alone says nothing of this."""
    if "/" in ident.base:  # old style: archive/YYMMNNN, March 1991 to March 2007
        month = int(ident.base.rsplit("/", 1)[1][2:4])
        return None if 1 <= month <= 12 else f"month {month:02d} does not exist (old-style ids are YYMMNNN)"
    yymm, number = ident.base.split(".")
    year, month = int(yymm[:2]), int(yymm[2:])
    if not 1 <= month <= 12:
        return f"month {month:02d} does not exist (ids are YYMM.NNNNN)"
    if (year, month) < (7, 4):
        return "new-style ids begin in April 2007 (0704.NNNN); older ones read like hep-th/9901001"
    digits = 4 if (year, month) <= (14, 12) else 5
    if len(number) != digits:
        return f"ids of {yymm} have {digits} digits after the dot"
    return None


def is_valid(text: str) -> bool:
    """True when ``text`` is exactly an arXiv id (with or without version), no URL, no prefix."""
    value = text.strip()
    return re.match(_BARE, value, re.IGNORECASE) is not None and not value.lower().startswith("arxiv:")


def base_id(text: str) -> str:
    """The id without version, for matching API replies to papers; ``text`` unchanged when unparsable."""
    parsed = parse(text)
    return parsed.base if parsed else text


def find_in_text(text: str) -> list[ArxivId]:
    """Every arXiv id in free text: arxiv.org links first, then bare new-style ids, in order, deduplicated."""
    found: list[ArxivId] = []
    for match in re.finditer(_IN_URL, text, re.IGNORECASE):
        found.append(ArxivId(_fix_case(match.group("id")), (match.group("version") or "").lower()))
    for match in re.finditer(_IN_TEXT, text, re.IGNORECASE):
        parsed = parse(match.group(0))
        if parsed:
            found.append(parsed)
    unique: list[ArxivId] = []
    seen: set[str] = set()
    for ident in found:
        if ident.base not in seen:
            seen.add(ident.base)
            unique.append(ident)
    return unique


def abs_url(ident: str) -> str:
    return f"https://arxiv.org/abs/{ident}"
