"""CSL-JSON libraries (what Zotero, Better BibTeX and pandoc export): ``readtrack import library.json``.

A CSL-JSON file is a list of items (an object with an ``items`` list is read too). What an item gives:
``title``; ``author`` (``family``/``given`` or ``literal``) as authors; ``issued`` (``date-parts``, ``raw``
or ``literal``) as the year; ``container-title`` as the venue; ``DOI``; ``URL``; ``abstract``; ``keyword``
(comma-separated) as tags; ``note`` as notes. Zotero writes an item's Extra field into ``note``: its
``arXiv:`` line is the arXiv id (as are an arXiv DOI, an arXiv ``URL`` and ``number: arXiv:...``), and a
Zotero Reading List ``Read_Status:`` line the status; both leave the notes. CSL's ``note`` is BibTeX's
``note`` (styles print both; Zotero writes Extra into each), so the BibTeX export writes it back as
``note``, not ``annote`` (`readtrack.formats.bibtex.writer.split_notes`). CSL-JSON names no files, so no
PDFs come with it. Each item's line in the file is found as it is decoded, for the report.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from readtrack.base.errors import UsageError
from readtrack.catalog.new_paper import NewPaper
from readtrack.formats import library as lib
from readtrack.formats import markdown
from readtrack.formats.importer import read_source

DEFAULT_SECTION = markdown.DEFAULT_SECTION
_EXTRA_ID_LINE = re.compile(
    r"^\s*(?:arXiv|DOI)\s*:\s*\S+(?:\s*\[[^\]\n]*\])?\s*$", re.IGNORECASE | re.MULTILINE
)


def read(path: Path) -> lib.Library:
    """The library in the CSL-JSON file at ``path``; a `UsageError` naming file, line and column when it is
    not JSON, or is JSON but not CSL-JSON."""
    data = read_source(path, "a CSL-JSON file")
    try:
        text = markdown.decode(data)
    except UnicodeDecodeError as err:
        raise UsageError(f"{path}: not UTF-8 text (byte {err.start}); not a CSL-JSON file") from None
    return parse(text, source=path.name, path=path)


def parse(text: str, *, source: str = "library.json", path: Path | None = None) -> lib.Library:
    name = str(path) if path is not None else source
    items, lines = _items(text, name)
    library = lib.Library(source, markdown.ImportedList())
    for index, (item, line) in enumerate(zip(items, lines, strict=True)):
        if not isinstance(item, dict) or not (item.get("title") or item.get("id")):
            library.problems.append(
                f"{source}:{line}: item {index + 1} is not a CSL item (no title), skipped"
            )
            continue
        paper, extras = _paper(item, f"{source}:{line}")
        library.add(DEFAULT_SECTION, paper, extras, line)
    return library


def _items(text: str, name: str) -> tuple[list[Any], list[int]]:
    """The file's items and the line each starts on."""
    decoder = json.JSONDecoder()
    start = len(text) - len(text.lstrip())
    try:
        if text[start : start + 1] == "{":
            whole, _ = decoder.raw_decode(text, start)
            if isinstance(whole, dict) and isinstance(whole.get("items"), list):
                start = text.index("[", text.index('"items"'))
            elif isinstance(whole, dict) and ("title" in whole or "type" in whole):
                return [whole], [text.count("\n", 0, start) + 1]
            else:
                raise UsageError(f"{name}: not CSL-JSON (expected a list of items, found an object)")
        if text[start : start + 1] != "[":
            raise UsageError(f"{name}: not CSL-JSON (expected a list of items starting with `[`)")
        items, lines = [], []
        position = start + 1
        while True:
            position = _skip(text, position)
            if text[position : position + 1] == "]":
                break
            lines.append(text.count("\n", 0, position) + 1)
            item, position = decoder.raw_decode(text, position)
            items.append(item)
            position = _skip(text, position)
            if text[position : position + 1] == ",":
                position += 1
            elif text[position : position + 1] != "]":
                raise json.JSONDecodeError("Expecting ',' delimiter", text, position)
        if text[position + 1 :].strip() and not text.lstrip().startswith("{"):
            raise json.JSONDecodeError("Extra data", text, _skip(text, position + 1))
    except json.JSONDecodeError as err:
        raise UsageError(f"{name}:{err.lineno}:{err.colno}: not valid JSON ({err.msg})") from None
    return items, lines


def _skip(text: str, position: int) -> int:
    while position < len(text) and text[position] in " \t\r\n":
        position += 1
    return position


def _paper(item: dict[str, Any], where: str) -> tuple[NewPaper, lib.Extras]:
    note = _text(item.get("note"))
    doi = lib.clean_doi(_text(item.get("DOI")))
    url = _text(item.get("URL")) or None
    arxiv = lib.arxiv_from(_text(item.get("DOI")), _text(item.get("number")), url, *note.splitlines())
    venue = _text(item.get("container-title")) or None
    if venue and "arxiv" in venue.lower():
        venue = None
    link, source_url = lib.paper_url(doi, url, arxiv)
    notes = _EXTRA_ID_LINE.sub("", lib.without_status_line(note) or "").strip()
    title = " ".join(_text(item.get("title")).split()) or str(item.get("id"))
    paper = NewPaper(
        title=title,
        arxiv=arxiv,
        url=link,
        year=_year(item.get("issued")),
        status=lib.read_status(note) or "todo",
        tags=lib.tags_from(re.split(r"[,;]", _text(item.get("keyword")))),
        notes=notes or None,
    )
    extras = lib.Extras(
        where,
        authors=[n for n in (_name(a) for a in item.get("author") or [] if isinstance(a, dict)) if n],
        abstract=_text(item.get("abstract")) or None,
        doi=doi,
        venue=venue,
        url=source_url,
        fields={"note": notes} if notes else {},  # BibTeX's `note`: the export prints it there again
    )
    return paper, extras


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(_text(v) for v in value)
    return str(value).strip()


def _name(author: dict[str, Any]) -> str:
    if author.get("literal"):
        return _text(author["literal"])
    parts = [
        author.get("given"),
        author.get("non-dropping-particle"),
        author.get("family"),
        author.get("suffix"),
    ]
    return " ".join(_text(p) for p in parts if p)


def _year(issued: Any) -> int | None:
    if not isinstance(issued, dict):
        return None
    parts = issued.get("date-parts")
    if isinstance(parts, list) and parts and isinstance(parts[0], list) and parts[0]:
        try:
            return int(parts[0][0])
        except (TypeError, ValueError):
            pass
    return lib.year_from(_text(issued.get("raw") or issued.get("literal")))
