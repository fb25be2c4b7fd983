"""BibTeX and BibLaTeX libraries: ``readtrack import library.bib``.

The file is split into entries by bibtexparser 2 (a maintained parser; loaded on the first `read`, never
at import time: listing and marking never load it). Its middlewares are not used: the field values are
taken raw and this module resolves them, because the general LaTeX decoding middleware took 17 s for a
5,000-entry file where `readtrack.catalog.latex` takes well under one. What an entry gives:

- the entry's type and cite key, kept in papers.yaml as ``bibtex: "@inproceedings{vaswani2017attention}"``
  for the export (`readtrack.formats.bibtex.writer`) to write again;
- ``title`` (LaTeX decoded, protective braces removed: ``{Sch{\\"o}n}`` is ``Schön``); ``author`` (``Last,
  First`` or ``First Last``, joined by ``and``) as authors; ``year`` or BibLaTeX's ``date`` as the year;
  ``journal``, ``journaltitle`` or ``booktitle`` as the venue; ``doi``; ``url``; ``abstract``;
- the arXiv id from ``eprint`` with ``archivePrefix = {arXiv}`` (or ``eprinttype``), an arXiv DOI
  (``10.48550/arXiv.1706.03762``), an arXiv link, a ``journal = {arXiv preprint arXiv:...}`` or Zotero's
  ``note = {arXiv:1706.03762 [cs]}``;
- ``keywords``, Mendeley's ``mendeley-tags`` and the groups JabRef and Mendeley file an entry under
  (``groups``, ``mendeley-groups``) as tags; Mendeley's ``arxivId`` as the arXiv id; ``note``, ``annote``,
  ``annotation`` and JabRef's ``comment`` as notes, but for the code links readtrack's export writes at
  the end of a ``note`` (``Code: \\url{...}``); a reading status from JabRef's ``readstatus`` (and
  readtrack's ``skipped``) or a Zotero Reading List ``Read_Status:`` line. ``note`` is part of the
  reference (bibliography styles print it: "Oral presentation", "To appear"), so its text is also kept
  with the bibliographic fields, and the export writes it back as ``note`` while it is still in the notes;
- the other bibliographic fields the export writes back as they were
  (`readtrack.formats.bibtex.writer.KEPT_FIELDS`: ``volume``, ``pages``, ``publisher`` ...) and
  ``primaryClass`` (or ``eprintclass``);
- ``file`` as the paper's PDFs: Zotero's and Better BibTeX's ``Description:/path/x.pdf:application/pdf``,
  JabRef's ``:relative/x.pdf:PDF`` (``\\:`` and ``\\\\`` escaped), Mendeley's ``:home/u/x.pdf:pdf`` (its
  leading slash dropped, ``$\\backslash$`` for backslashes); several files separated by ``;``; relative
  paths are relative to the ``.bib`` file's folder.

``@string`` macros and ``#`` concatenation are resolved, ``@comment`` and ``@preamble`` ignored, and an entry
with a ``crossref`` takes the fields it lacks from the entry it names (a ``@proceedings`` title becomes its
venue); such container entries are not papers themselves. An entry the parser cannot read is reported with
its line and skipped; the rest is imported.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from readtrack.base.errors import UsageError
from readtrack.catalog.latex import to_text
from readtrack.catalog.new_paper import NewPaper
from readtrack.catalog.reader import BIBTEX_HEAD, WEB_LINK
from readtrack.formats import library as lib
from readtrack.formats import markdown
from readtrack.formats.bibtex.writer import (  # the export: it reads back here the same
    KEPT_FIELDS,
    READ_STATUS,
    render,
)
from readtrack.formats.importer import read_source

__all__ = ["authors", "parse", "pdf_files", "read", "render"]

DEFAULT_SECTION = markdown.DEFAULT_SECTION
MONTHS = {
    m: str(i)
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1
    )
}
_CONTAINERS = {"proceedings", "mvproceedings", "book", "mvbook", "collection", "mvcollection", "periodical"}
_NOTE_FIELDS = ("note", "annote", "annotation", "comment")
_ARXIV_NOTE = re.compile(r"^\s*arXiv:\s*\S+(\s*\[[^\]\n]*\])?\s*$", re.IGNORECASE | re.MULTILINE)
_JABREF_STATUS = {written: status for status, written in READ_STATUS.items()}  # and readtrack's "skipped"
# readtrack's export writes code links into ``note`` as its last sentence: "... Code: \url{a}, \url{b}"
_CODE_NOTE = re.compile(r"(?:^|\.\s+)Code:\s*(?P<links>\\url\{[^{}]*\}(?:\s*,\s*\\url\{[^{}]*\})*)\s*$")


def read(path: Path) -> lib.Library:
    """The library in the BibTeX file at ``path``; a `UsageError` when it cannot be read as one."""
    text = _read_text(path)
    library = parse(text, source=path.name, folder=path.parent)
    if not library.imported.count() and not library.problems:
        raise UsageError(f"{path}: no BibTeX entries found (expected entries like `@article{{key, ...}}`)")
    return library


def _read_text(path: Path) -> str:
    data = read_source(path, "a BibTeX file")
    if b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise UsageError(f"{path}: not a BibTeX file (binary data)")
    try:
        return markdown.decode(data)
    except UnicodeDecodeError:
        return data.decode("latin-1")  # old .bib files are often Latin-1; every byte is a character


def parse(text: str, *, source: str = "library.bib", folder: Path | None = None) -> lib.Library:
    """The library a BibTeX text holds (see the module docstring)."""
    import logging

    import bibtexparser
    from bibtexparser.model import DuplicateBlockKeyBlock, Entry

    log = logging.getLogger("bibtexparser")
    log.addHandler(logging.NullHandler())
    log.propagate = False  # its warnings about a bad block are our report's problems
    parsed = bibtexparser.parse_string(text, parse_stack=[])
    strings: dict[str, str] = dict(MONTHS)
    for string in parsed.strings:
        strings[string.key.lower()] = _value(string.value, strings)
    library = lib.Library(source, markdown.ImportedList())
    entries = list(parsed.entries)
    for block in parsed.failed_blocks:
        line = (block.start_line or 0) + 1
        if isinstance(block, DuplicateBlockKeyBlock) and isinstance(block.ignore_error_block, Entry):
            entries.append(block.ignore_error_block)  # a second entry with the same key: still a paper
            continue
        error = block.error
        reason = getattr(error, "abort_reason", None) or getattr(error, "message", None) or str(error)
        reason = " ".join(str(reason).split()) or "the parser could not read it"
        library.problems.append(f"{source}:{line}: malformed entry skipped ({reason})")
    entries.sort(key=lambda e: e.start_line or 0)
    by_key = {e.key.lower(): e for e in entries}
    referenced = {
        _value(e.fields_dict["crossref"].value, strings).lower()
        for e in entries
        if "crossref" in e.fields_dict
    }
    for entry in entries:
        if entry.entry_type.lower() in _CONTAINERS and entry.key.lower() in referenced:
            continue
        run_on = next(filter(None, (_run_on(source, entry.key, f) for f in entry.fields)), None)
        if run_on is not None:  # the parser took the next field into this one's value
            library.problems.append(run_on)
            continue
        fields = {f.key.lower(): _value(f.value, strings) for f in entry.fields}
        parent = by_key.get(fields.get("crossref", "").lower())
        if parent is not None:
            inherited = {f.key.lower(): _value(f.value, strings) for f in parent.fields}
            if parent.entry_type.lower() in _CONTAINERS and "title" in inherited:
                inherited.setdefault("booktitle", inherited.pop("title"))
            fields = {**inherited, **fields}
        line = (entry.start_line or 0) + 1
        paper, extras = _paper(entry.entry_type, entry.key, fields, f"{source}:{line}", folder)
        library.add(DEFAULT_SECTION, paper, extras, line)
    return library


def _paper(
    kind: str, key: str, fields: dict[str, str], where: str, folder: Path | None
) -> tuple[NewPaper, lib.Extras]:
    text = {
        name: to_text(fields[name])
        for name in ("title", "journal", "journaltitle", "booktitle")
        if name in fields
    }
    named = [(n, fields[n]) for n in fields if n in _NOTE_FIELDS or n.startswith("comment-")]
    code = [link for _, raw in named for link in _code_links(raw)]
    named = [(n, _CODE_NOTE.sub("", raw.strip()) if _code_links(raw) else raw) for n, raw in named]
    notes_raw = [raw for _, raw in named]
    doi = lib.clean_doi(_verbatim(fields.get("doi")))
    url = _verbatim(fields.get("url")) or None
    prefix = (fields.get("archiveprefix") or fields.get("eprinttype") or "").strip().lower()
    eprint = _verbatim(fields.get("eprint")) if prefix == "arxiv" else None
    venue = text.get("journal") or text.get("journaltitle") or text.get("booktitle")
    arxiv = lib.arxiv_from(
        eprint,
        _verbatim(fields.get("arxivid")),  # Mendeley's
        fields.get("doi"),
        url,
        venue if venue and "arxiv" in venue.lower() else None,
        *notes_raw,
    )
    if venue and (re.search(r"arxiv", venue, re.IGNORECASE) or venue.lower() == "corr"):
        venue = None  # a preprint server, not a venue
    notes_text = [to_text_lines(n) for n in notes_raw]
    status = next(filter(None, (lib.read_status(n) for n in notes_text)), None)
    status = status or _JABREF_STATUS.get(fields.get("readstatus", "").strip().lower())
    notes = [_ARXIV_NOTE.sub("", lib.without_status_line(n) or "").strip() for n in notes_text]
    printed = next((text for (name, _), text in zip(named, notes, strict=True) if name == "note"), "")
    # keywords, and the groups JabRef and Mendeley file an entry under (their collections), are tags
    words = ("keywords", "mendeley-tags", "groups", "mendeley-groups")
    keywords = re.split(r"[,;]", ",".join(to_text(fields.get(name, "")) for name in words))
    link, source_url = lib.paper_url(doi, url, arxiv)
    kept = {name: to_text(fields[name]) for name in KEPT_FIELDS if fields.get(name, "").strip()}
    category = fields.get("primaryclass") or fields.get("eprintclass")
    if category and category.strip():
        kept["primaryclass"] = to_text(category)
    if printed:  # the notes hold it too; the export writes it back as `note`, the rest as `annote`
        kept["note"] = printed
    head = f"@{kind.lower()}{{{key}}}"
    paper = NewPaper(
        title=text.get("title") or key,
        arxiv=arxiv,
        url=link,
        year=lib.year_from(fields.get("year") or fields.get("date")),
        status=status or "todo",
        code=list(dict.fromkeys(code)),
        tags=lib.tags_from(keywords),
        notes="\n\n".join(n for n in notes if n) or None,
        bibtex=head if BIBTEX_HEAD.fullmatch(head) else None,
    )
    extras = lib.Extras(
        where,
        authors=authors(fields.get("author", "")),
        abstract=to_text(fields["abstract"]) if fields.get("abstract") else None,
        doi=doi,
        venue=venue,
        url=source_url,
        pdfs=pdf_files(fields.get("file", ""), folder),
        fields=kept,
    )
    return paper, extras


def _code_links(note: str) -> list[str]:
    """The links of a note's last sentence ``Code: \\url{...}, \\url{...}`` (as readtrack's export writes
    code links); none unless every one is a web link (what papers.yaml's ``code`` holds)."""
    found = _CODE_NOTE.search(note.strip())
    if found is None:
        return []
    links = [_verbatim(link) for link in re.findall(r"\\url\{[^{}]*\}", found.group("links"))]
    return links if all(WEB_LINK.match(link) for link in links) else []


# One piece of a field's value other than {...}: "..." (braces inside balanced two deep) or a bare word.
_PIECE = re.compile(r'"(?:[^"{}]|\{[^{}]*(?:\{[^{}]*\}[^{}]*)*\})*"|[^\s#,{}"=]+')


def _run_on(source: str, key: str, field: Any) -> str | None:
    """Where a field's value runs on past its end, the problem in one line (``library.bib:9:3: ...``): a
    missing comma between two fields makes bibtexparser read ``title = {A}`` and the next line's
    ``author = {B}`` as one title, "A author = B"."""
    raw = field.value
    end = _value_end(raw)
    rest = raw[end:].lstrip() if end is not None else ""
    if not rest:
        return None
    before = raw[: len(raw) - len(rest)]  # the value and the space after it
    where = f"{source}:{(field.start_line or 0) + 1 + before.count(chr(10))}"
    if "\n" in before:  # the run-on text starts a line of its own: its column is known
        where += f":{len(before.rsplit(chr(10), 1)[1]) + 1}"
    text = rest.splitlines()[0][:60]
    return f"{where}: entry {key!r} skipped: field {field.key!r} runs on into `{text}` (a missing comma?)"


def _value_end(raw: str) -> int | None:
    """Where the well-formed value at the start of ``raw`` ends: pieces joined by ``#``, each ``{...}``,
    ``"..."`` or a bare word (a number, an ``@string`` name). None when a brace is never closed (the
    parser reports that block itself)."""
    index = 0
    while True:
        start = len(raw) - len(raw[index:].lstrip())
        if raw.startswith("{", start):
            close = _closing(raw, start)
            if close < 0:
                return None
            index = close + 1
        else:
            match = _PIECE.match(raw, start)
            if match is None:
                return index
            index = match.end()
        after = len(raw) - len(raw[index:].lstrip())
        if not raw.startswith("#", after):
            return index
        index = after + 1


def _value(raw: str, strings: dict[str, str]) -> str:
    """A field's raw text resolved: ``{x}`` and ``"x"`` are x, a macro is its ``@string``, ``#`` joins."""
    raw = raw.strip()
    if raw.startswith("{") and raw.endswith("}") and ("#" not in raw or _closing(raw, 0) == len(raw) - 1):
        return raw[1:-1]  # without a #, a field that starts with { and ends with } is one braced value
    parts, depth, start, quoted = [], 0, 0, False
    for index, char in enumerate(raw):
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        elif char == '"' and depth == 0:
            quoted = not quoted
        elif char == "#" and depth == 0 and not quoted:
            parts.append(raw[start:index])
            start = index + 1
    parts.append(raw[start:])
    out = []
    for part in (p.strip() for p in parts):
        if len(part) >= 2 and part[0] + part[-1] in ("{}", '""'):
            out.append(part[1:-1])
        else:
            out.append(strings.get(part.lower(), part))
    return "".join(out)


def _closing(text: str, start: int) -> int:
    depth = 0
    for index in range(start, len(text)):
        if text[index] == "{":
            depth += 1
        elif text[index] == "}":
            depth -= 1
            if depth == 0:
                return index
    return -1


def _verbatim(value: str | None) -> str:
    """A URL, DOI or eprint: braces and ``\\url{}`` dropped, escaped characters kept literal."""
    if not value:
        return ""
    value = re.sub(r"\\url\s*\{([^{}]*)\}", r"\1", value.strip())
    return re.sub(r"\\([_%&#~$])", r"\1", value).replace("{", "").replace("}", "").strip()


def to_text_lines(value: str) -> str:
    """A notes field as text, its line breaks kept (each line decoded)."""
    return "\n".join(to_text(line) for line in value.strip().splitlines()).strip()


def authors(value: str) -> list[str]:
    """Names as written: ``Müller, Hans and {Google DeepMind}`` gives ``Hans Müller``, ``Google DeepMind``."""
    names = []
    for name in _split_top(value, r"\s+and\s+"):
        parts = [to_text(p) for p in _split_top(name, r"\s*,\s*")]
        if not parts or not parts[0] or parts[0].lower() == "others":
            continue
        if len(parts) == 1:
            names.append(parts[0])
        elif len(parts) == 2:
            names.append(f"{parts[1]} {parts[0]}".strip())
        else:  # von Last, Jr, First
            names.append(f"{parts[2]} {parts[0]}, {parts[1]}".strip())
    return names


def _split_top(text: str, separator: str) -> list[str]:
    """``text`` split where ``separator`` matches outside braces."""
    if "{" not in text:
        return [p.strip() for p in re.split(separator, text, flags=re.IGNORECASE) if p.strip()]
    pieces, depth, start = [], 0, 0
    for found in re.finditer(r"[{}]|" + separator, text, re.IGNORECASE):  # only braces and separators
        token = found.group(0)
        if token == "{":
            depth += 1
        elif token == "}":
            depth -= 1
        elif depth == 0:
            pieces.append(text[start : found.start()])
            start = found.end()
    pieces.append(text[start:])
    return [p.strip() for p in pieces if p.strip()]


def pdf_files(value: str, folder: Path | None) -> list[Path]:
    """The PDFs a ``file`` field names, in order (see the module docstring for the forms read)."""
    value = value.replace("$\\backslash$", "\\").strip()
    found: list[Path] = []
    for item in _split_escaped(value, ";"):
        parts = _split_escaped(item, ":")
        if len(parts) >= 3:
            path, kind = ":".join(parts[1:-1]), parts[-1]
        elif len(parts) == 2:
            path, kind = parts[0], parts[1]
        else:
            path, kind = (parts[0] if parts else ""), ""
        path = _unescape(path).strip()
        if not path or not ("pdf" in kind.lower() or path.lower().endswith(".pdf")):
            continue
        found.append(_resolve(path, folder))
    return found


def _split_escaped(text: str, separator: str) -> list[str]:
    """Split on ``separator`` unless escaped with a backslash (the escape stays for `_unescape`)."""
    parts, current, index = [], [], 0
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text):
            current.append(text[index : index + 2])
            index += 2
            continue
        if char == separator:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
        index += 1
    parts.append("".join(current))
    return parts


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def _resolve(path: str, folder: Path | None) -> Path:
    candidate = Path(path).expanduser()
    if candidate.is_absolute() or re.match(r"^[A-Za-z]:[\\/]", path):  # C:\ is absolute, on any system
        return candidate
    base = folder or Path.cwd()
    if not (base / candidate).exists() and Path("/" + path).exists():
        return Path("/" + path)  # Mendeley drops the leading slash of absolute paths
    return base / candidate
