"""Markdown reading lists: read a checklist into sections and nested papers, and write a catalog as one.

Reading (`parse`) is meant for lists found in the wild, so it is forgiving and never fails on odd input:

- Headings (``#`` to ``######``, and ``===``/``---`` underlined ones) start sections. The first heading is the
  list's title instead when it is the only level-1 heading and no item comes before it (``# Awesome X``
  over ``## Topic`` headings). Items before any section heading go to a section named after the title, or
  "Imported". Headings without items make no section.
- Items are ``- [ ]``, ``* [x]``, ``+ [X]``, ``1. [ ]``, ``1) [x]``, nested by indentation (tabs count as
  four columns; any consistent indent works). ``[x]`` is read, ``[ ]`` todo, ``[/]`` reading, ``[-]`` or
  ``[~]`` skipped (the Obsidian task states). A document with no checkbox at all is a plain paper list:
  then every bulleted or numbered item is a paper. In a checklist, bullets without a checkbox are notes.
- In an item, ``[Title](url)`` gives the title and a link; links after the title (``[pdf](..)``,
  ``[[code](..)]``) and bare URLs are kept as links, not title words: arXiv ones (abs, pdf, html) give
  the arXiv ids, the first other ``http(s)`` URL the paper's ``url``. Bare ids (``1706.03762``,
  ``arXiv:1706.03762``) are arXiv ids too. A year in parentheses, ``(2018)`` or ``(Ilya, 2014)``, is the
  paper's year. Bold, italic, strikethrough, code and HTML markup are stripped; backslash escapes work.
- Text after ``--`` or `` # `` in an item is the paper's notes, as is, after a leading link, text after
  `` - ``, `` – ``, `` — ``, ``: `` or `` | `` (the awesome-list ``* [Title](link) - description`` style).
  Lines indented under an item are its notes too. Other lines are notes of their section, or of the
  list before the first section heading.
- Ignored: code fences, tables, HTML comments, horizontal rules, front matter (its ``title:`` is used),
  link reference definitions (their links are resolved), table-of-contents items linking to ``#anchors``,
  badge images. Windows line endings, a UTF-8 or UTF-16 byte-order mark are fine.
- A paper's title is the cleaned item text; its label is the original wording when that differs (besides
  the extracted year). An HTML comment ``<!-- id: transformer -->`` on the item line gives its id.

Writing (`render`) produces a checklist of the same shape that reads back to the same ids, titles,
statuses, sections and nesting: ``# title``, list notes, one ``## section`` per section with its notes,
then ``- [x] Title (2017) [arXiv:1706.03762](https://arxiv.org/abs/1706.03762) [host](url)
<!-- id: transformer -->`` items nested by two spaces, paper notes indented under their item. Markdown
characters in titles are backslash-escaped only as far as needed to read back unchanged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from readtrack import arxivid
from readtrack.catalog import ID_PATTERN, Catalog, Paper

if TYPE_CHECKING:
    from readtrack.edits import NewPaper

DEFAULT_SECTION = "Imported"
CHECKBOX_STATUS = {" ": "todo", "x": "read", "X": "read", "/": "reading", "-": "skipped", "~": "skipped"}
STATUS_CHECKBOX = {"todo": " ", "read": "x", "reading": "/", "skipped": "-"}


@dataclass
class ImportedSection:
    name: str
    notes: str | None = None
    papers: list[NewPaper] = field(default_factory=list)


@dataclass
class ImportedList:
    """What a markdown list holds, ready to merge into a catalog (see `readtrack.importer`)."""

    title: str | None = None
    notes: str | None = None
    sections: list[ImportedSection] = field(default_factory=list)

    def count(self) -> int:
        """How many papers, nested ones included."""

        def count(papers: list[NewPaper]) -> int:
            return sum(1 + count(p.children) for p in papers)

        return sum(count(s.papers) for s in self.sections)


# == reading ==========================================================================================

_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})")
_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_RULE = re.compile(r"^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$")
_ITEM = re.compile(r"^(?P<indent>[ \t]*)(?P<marker>[-*+]|\d{1,9}[.)])(?:[ \t]+(?P<rest>.*))?$")
_CHECKBOX = re.compile(r"^\[(?P<mark>[ xX/~-])\](?:[ \t]+(?P<text>.*))?$")
_TABLE_DELIMITER = re.compile(r"^[ \t]*\|?[ \t]*:?-+:?[ \t]*(?:\|[ \t]*:?-+:?[ \t]*)+\|?[ \t]*$")
_REFERENCE = re.compile(r"^ {0,3}\[(?P<label>[^\]]+)\]:[ \t]*<?(?P<url>[^\s>]+)>?(?:[ \t]+.*)?$")
_QUOTE = re.compile(r"^[ \t]{0,3}(?:>[ \t]?)+")
_COMMENT_OPEN = re.compile(r"(?<!\\)<!--")
_ID_COMMENT = re.compile(r"^\s*id:\s*(\S+)\s*$")
_FRONT_TITLE = re.compile(r"^title:\s*(?P<title>.+?)\s*$")
_SHORTCODE = re.compile(r"(?<![\w:]):[a-z0-9_+-]+:(?![\w:])")


@dataclass
class _Token:
    """One meaningful line: a heading, an item, a note line, or a blank."""

    kind: str  # "heading" | "item" | "note" | "blank"
    text: str = ""
    indent: int = 0
    level: int = 0  # headings
    checkbox: str | None = None  # items: the character between the brackets, None without a checkbox
    item_id: str | None = None  # from an <!-- id: ... --> comment on the line
    raw: str = ""  # items: the line as written, for bullets that turn out to be notes


def parse(text: str, *, default_section: str = DEFAULT_SECTION) -> ImportedList:
    """Read a markdown list (see the module docstring for what is understood)."""
    lines = _normalise(text).split("\n")
    front_title, lines = _front_matter(lines)
    refs: dict[str, str] = {}
    tokens = _tokenise(lines, refs)
    return _build(tokens, refs, front_title, default_section)


def decode(data: bytes) -> str:
    """Markdown file bytes as text: UTF-8 (with or without BOM) or UTF-16 with a BOM.

    Raises `UnicodeDecodeError` for anything else.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    return data.decode("utf-8-sig")


def _normalise(text: str) -> str:
    return text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def _front_matter(lines: list[str]) -> tuple[str | None, list[str]]:
    """Drop a leading ``---`` YAML block (Jekyll, Hugo, Obsidian); keep its ``title:``."""
    if not lines or lines[0].strip() != "---":
        return None, lines
    for end in range(1, len(lines)):
        if lines[end].strip() in ("---", "..."):
            title = None
            for line in lines[1:end]:
                match = _FRONT_TITLE.match(line)
                if match:
                    title = match.group("title").strip("\"'") or None
            return title, [""] * (end + 1) + lines[end + 1 :]
    return None, lines


def _strip_comments(line: str, in_comment: bool) -> tuple[str | None, str | None, bool]:
    """The line without HTML comments (None when nothing but comment), the id an ``<!-- id: x -->`` on it
    gave, and whether a comment is still open at its end."""
    kept: list[str] = []
    item_id = None
    rest = line
    while rest:
        if in_comment:
            close = rest.find("-->")
            if close < 0:
                rest = ""
                break
            in_comment, rest = False, rest[close + 3 :]
            continue
        match = _COMMENT_OPEN.search(rest)
        if match is None:
            kept.append(rest)
            break
        kept.append(rest[: match.start()])
        close = rest.find("-->", match.end())
        if close < 0:
            in_comment = True
            break
        found = _ID_COMMENT.match(rest[match.end() : close])
        if found and ID_PATTERN.match(found.group(1)):
            item_id = found.group(1)
        rest = rest[close + 3 :]
    joined = "".join(kept)
    # a line that held only a comment is no line at all, not a paragraph break
    return (joined if joined.strip() or not line.strip() else None), item_id, in_comment


def _tokenise(lines: list[str], refs: dict[str, str]) -> list[_Token]:
    tokens: list[_Token] = []
    fence: str | None = None
    in_comment = in_table = False
    for index, raw in enumerate(lines):
        fence_match = _FENCE.match(raw)
        if fence is not None:
            closes = (
                fence_match
                and fence_match.group(1)[0] == fence[0]
                and len(fence_match.group(1)) >= len(fence)
            )
            if closes and fence_match and not raw[fence_match.end() :].strip():
                fence = None
            continue
        if fence_match and not in_comment:
            fence = fence_match.group(1)
            tokens.append(_Token("blank"))
            continue
        stripped, item_id, in_comment = _strip_comments(raw, in_comment)
        if stripped is None:
            continue
        line = _QUOTE.sub("", stripped)
        if not line.strip():
            in_table = False
            tokens.append(_Token("blank"))
            continue
        if (in_table and "|" in line) or line.lstrip().startswith("|") or _TABLE_DELIMITER.match(line):
            in_table = in_table or bool(_TABLE_DELIMITER.match(line))
            continue
        in_table = False
        next_line = lines[index + 1] if index + 1 < len(lines) else ""
        if "|" in line and _TABLE_DELIMITER.match(next_line):
            continue  # a table's header row, written without a leading pipe
        reference = _REFERENCE.match(line)
        if reference:
            refs.setdefault(_ref_key(reference.group("label")), reference.group("url"))
            continue
        setext = _SETEXT.match(line)
        if setext and tokens and tokens[-1].kind == "note" and tokens[-1].indent <= 3:
            tokens[-1] = _Token("heading", tokens[-1].text, level=1 if setext.group(1)[0] == "=" else 2)
            continue
        if _RULE.match(line) or setext:
            tokens.append(_Token("blank"))
            continue
        heading = _ATX.match(line)
        if heading:
            tokens.append(_Token("heading", heading.group(2) or "", level=len(heading.group(1))))
            continue
        lead = len(line) - len(line.lstrip(" \t"))
        indent = len(line[:lead].expandtabs(4))
        item = _ITEM.match(line)
        if item and (item.group("rest") or "").strip():
            rest = item.group("rest").strip()
            box = _CHECKBOX.match(rest)
            text = (box.group("text") or "").strip() if box else rest
            mark = box.group("mark") if box else None
            tokens.append(_Token("item", text, indent, checkbox=mark, item_id=item_id, raw=line.strip()))
            continue
        tokens.append(_Token("note", line.strip(), indent))
    return tokens


@dataclass
class _Open:
    """An item still open for children and note lines."""

    indent: int
    paper: NewPaper
    notes: list[str]


class _Notes:
    """Note lines of one owner, with paragraph breaks where the source had blank lines."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, line: str, after_blank: bool) -> None:
        if after_blank and self.lines:
            self.lines.append("")
        self.lines.append(line)

    def text(self) -> str | None:
        return "\n".join(self.lines).strip("\n") or None


def _build(
    tokens: list[_Token], refs: dict[str, str], front_title: str | None, default_name: str
) -> ImportedList:
    headings = [(i, t) for i, t in enumerate(tokens) if t.kind == "heading" and _clean_heading(t.text, refs)]
    first_item = next((i for i, t in enumerate(tokens) if t.kind == "item"), len(tokens))
    title_token: _Token | None = None
    only_top = (
        not front_title
        and headings
        and headings[0][1].level == 1
        and sum(t.level == 1 for _, t in headings) == 1
    )
    if only_top and headings[0][0] < first_item:
        title_token = headings[0][1]
    title = front_title or (_clean_heading(title_token.text, refs) if title_token else None)
    checklist = any(t.kind == "item" and t.checkbox is not None for t in tokens)

    result = ImportedList(title=title)
    list_notes = _Notes()
    sections: dict[str, tuple[ImportedSection, _Notes]] = {}
    current: tuple[ImportedSection, _Notes] | None = None
    stack: list[_Open] = []
    paper_notes: list[_Open] = []
    after_blank = False

    def section(name: str) -> tuple[ImportedSection, _Notes]:
        key = name.lower()
        if key not in sections:
            sections[key] = (ImportedSection(name), _Notes())
            result.sections.append(sections[key][0])
        return sections[key]

    for token in tokens:
        if token.kind == "blank":
            after_blank = True
            continue
        if token.kind == "heading":
            name = _clean_heading(token.text, refs)
            if token is not title_token and name:
                current = section(name)
                stack.clear()
        elif token.kind == "item" and (token.checkbox is not None or not checklist):
            item = _parse_item(token.text, refs)
            while stack and stack[-1].indent >= token.indent:
                stack.pop()
            if item is not None:
                paper, description = item
                paper.status = CHECKBOX_STATUS[token.checkbox or " "]
                paper.id = token.item_id
                opened = _Open(token.indent, paper, [description] if description else [])
                if stack:
                    stack[-1].paper.children.append(paper)
                else:
                    if current is None:
                        current = section(title or default_name)
                    current[0].papers.append(paper)
                stack.append(opened)
                paper_notes.append(opened)
        else:  # a note line, or a bullet without checkbox inside a checklist
            text = token.text if token.kind == "note" else token.raw
            owner = next((o for o in reversed(stack) if o.indent < token.indent), None)
            if owner is not None:
                if after_blank and owner.notes:
                    owner.notes.append("")
                owner.notes.append(_unescape_line_start(text))
            elif _has_words(text, refs):
                stack.clear()
                (current[1] if current else list_notes).add(_unescape_line_start(text), after_blank)
        after_blank = False

    for opened in paper_notes:
        opened.paper.notes = "\n".join(opened.notes).strip("\n") or None
    for imported, notes in sections.values():
        imported.notes = notes.text()
    result.notes = list_notes.text()
    result.sections = [s for s in result.sections if s.papers]
    return result


def _ref_key(label: str) -> str:
    return " ".join(label.lower().split())


def _has_words(text: str, refs: dict[str, str]) -> bool:
    """False for lines that are only markup: badges, HTML tags, empty links."""
    protected, slots = _protect(text, refs)
    return bool(_flatten(protected, slots, keep_urls=True).strip())


def _unescape_line_start(line: str) -> str:
    """Undo `render`'s escape of a note line that would read as markup (``\\- x``, ``\\# x``, ``1\\. x``)."""
    ordered = _ESCAPED_ORDERED.match(line)
    if ordered:
        return ordered.group(1) + line[ordered.end() - 1 :]
    return line[1:] if len(line) > 1 and line[0] == "\\" and line[1] in _ASCII_PUNCT else line


def _clean_heading(text: str, refs: dict[str, str]) -> str:
    protected, slots = _protect(text, refs)
    protected = _SHORTCODE.sub("", protected)
    return _restore(_tidy(_strip_emphasis(_flatten(protected, slots, keep_urls=True))), slots)


# -- one item's text ----------------------------------------------------------------------------------
#
# Before reading an item, every piece whose characters must not be taken as markup is cut out and
# replaced by one placeholder character from Unicode plane 15 (private use): escaped characters, code
# spans, links, images, URLs and HTML tags. Separators, years and ids are then found in what is left.

_ASCII_PUNCT = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
_SLOT_BASE = 0xF0000
_SLOT_CHAR = "[\U000f0000-\U000ffffd]"
_DEST = r"(?:<(?P<angle>[^<>\n]*)>|(?P<plain>[^\s()]*(?:\([^\s()]*\)[^\s()]*)*))"
_LINK_TEXT = r"(?:[^\[\]]|\[[^\[\]]*\])*"  # one level of nested brackets: [[paper]][ref]
_LINK = re.compile(
    r"(?P<bang>!?)\[(?P<text>" + _LINK_TEXT + r")\]\(\s*" + _DEST + r"(?:\s+(?:\"[^\"]*\"|'[^']*'))?\s*\)"
)
_IMAGE = re.compile(r"!\[[^\[\]]*\]\(\s*" + _DEST + r"(?:\s+(?:\"[^\"]*\"|'[^']*'))?\s*\)")
_REF_LINK = re.compile(r"(?P<bang>!?)\[(?P<text>" + _LINK_TEXT + r")\](?:\[(?P<ref>[^\[\]]*)\])?")
_AUTOLINK = re.compile(r"<(?P<url>https?://[^\s<>]+)>", re.IGNORECASE)
_ANCHOR = re.compile(
    r"<a\s[^>]*?href\s*=\s*[\"'](?P<url>[^\"']+)[\"'][^>]*>(?P<text>.*?)</a\s*>", re.IGNORECASE
)
_HTML_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>")
_BARE_URL = re.compile(r"https?://[^\s<>\U000f0000-\U000ffffd]+", re.IGNORECASE)
_BARE_ARXIV = re.compile(
    r"(?<![\w./])(?:arxiv:\s*(?:[a-z]+(?:-[a-z]+)*(?:\.[A-Z]{2})?/\d{7}(?:v\d+)?|\d{4}\.\d{4,5}(?:v\d+)?)"
    r"|\d{4}\.\d{4,5}(?:v\d+)?)(?![\w.])",
    re.IGNORECASE,
)
_PURE_YEAR = re.compile(r"\(\s*((?:19|20)\d{2})\s*\)")
_ANY_YEAR = re.compile(r"\([^()]*?(?<!\d)((?:19|20)\d{2})(?!\d)[^()]*\)")
_EMPTY_BRACKETS = re.compile(r"\(\s*\)|\[\s*\]|\{\s*\}")
_EDGE_SEPARATORS = " \t-:,;|/"
_SPACE_BEFORE_PUNCTUATION = re.compile(r" ([,;.!?])(?=\s|$)")
# A link after one of these words is part of the sentence ("see the [blog post](url)"), not an attachment.
_LEADS_INTO_LINK = frozenset(
    ["a", "an", "the", "see", "in", "on", "at", "of", "for", "by", "with", "to", "from", "and", "or", "via"]
)
_NOTE_SEPARATOR = re.compile(r"\s*--\s*|\s+#\s+")
_AFTER_LEADING = re.compile(r"^\s*(?:--?|–|—|\|)\s+|^\s*:\s+")
_EMPHASIS = (
    re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*"),
    re.compile(r"(?<![\w_])__(?=\S)(.+?)(?<=\S)__(?![\w_])"),
    re.compile(r"~~(?=\S)(.+?)(?<=\S)~~"),
    re.compile(r"(?<![\w*])\*(?=[^\s*])(.+?)(?<=[^\s*])\*(?![\w*])"),
    re.compile(r"(?<![\w_])_(?=[^\s_])(.+?)(?<=[^\s_])_(?![\w_])"),
)


@dataclass
class _Slot:
    kind: str  # "literal" (escaped character, code) | "link" | "url" | "drop" (image, HTML tag)
    source: str  # the markdown as written
    text: str = ""  # literal text, or a link's text (itself protected)
    url: str = ""


def _slot(slots: list[_Slot], slot: _Slot) -> str:
    slots.append(slot)
    return chr(_SLOT_BASE + len(slots) - 1)


def _slot_of(char: str, slots: list[_Slot]) -> _Slot | None:
    index = ord(char) - _SLOT_BASE
    return slots[index] if 0 <= index < len(slots) else None


def _protect(text: str, refs: dict[str, str]) -> tuple[str, list[_Slot]]:
    """The text with escapes, code, links, images, URLs and HTML cut out into slots."""
    slots: list[_Slot] = []
    out: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text) and text[i + 1] in _ASCII_PUNCT:
            out.append(_slot(slots, _Slot("literal", text[i : i + 2], text[i + 1])))
            i += 2
            continue
        if char == "`":
            run = len(text[i:]) - len(text[i:].lstrip("`"))
            close = re.compile(rf"(?<!`){'`' * run}(?!`)").search(text, i + run)
            if close:
                code = text[i + run : close.start()]
                if code.startswith(" ") and code.endswith(" ") and code.strip():
                    code = code[1:-1]
                out.append(_slot(slots, _Slot("literal", text[i : close.end()], code)))
                i = close.end()
                continue
            out.append(text[i : i + run])
            i += run
            continue
        out.append(char)
        i += 1
    protected = "".join(out)

    def link(match: re.Match[str]) -> str:
        url = match.group("angle") if match.group("angle") is not None else match.group("plain")
        kind = "drop" if match.group("bang") else "link"
        return _slot(
            slots, _Slot(kind, _restore_source(match.group(0), slots), match.group("text"), url or "")
        )

    def ref_link(match: re.Match[str]) -> str:
        ref = match.group("ref")
        key = _ref_key(ref if ref else match.group("text"))
        if key not in refs or (ref is None and not match.group("text").strip()):
            return match.group(0)
        kind = "drop" if match.group("bang") else "link"
        return _slot(
            slots, _Slot(kind, _restore_source(match.group(0), slots), match.group("text"), refs[key])
        )

    def anchor(match: re.Match[str]) -> str:
        return _slot(
            slots,
            _Slot("link", _restore_source(match.group(0), slots), match.group("text"), match.group("url")),
        )

    def url(match: re.Match[str]) -> str:
        found = match.group("url") if "url" in match.groupdict() else match.group(0)
        trailing = ""
        if match.re is _BARE_URL:
            found, trailing = _trim_url(found)
            return _slot(slots, _Slot("url", found, url=found)) + trailing
        return _slot(slots, _Slot("url", match.group(0), url=found))

    def drop(match: re.Match[str]) -> str:
        return _slot(slots, _Slot("drop", _restore_source(match.group(0), slots)))

    previous = None
    while previous != protected:  # links inside brackets: [[pdf](url)]
        previous = protected
        protected = _LINK.sub(link, _IMAGE.sub(drop, protected))
    protected = _REF_LINK.sub(ref_link, protected)
    protected = _ANCHOR.sub(anchor, protected)
    protected = _AUTOLINK.sub(url, protected)
    protected = _HTML_TAG.sub(drop, protected)
    protected = _BARE_URL.sub(url, protected)
    return protected, slots


def _trim_url(url: str) -> tuple[str, str]:
    """A bare URL without the punctuation that ends its sentence or closes a surrounding bracket."""
    end = len(url)
    while end > 0 and url[end - 1] in ".,;:!?'\"*_)]":
        closing = url[end - 1]
        opening = {")": "(", "]": "["}.get(closing)
        if opening and url[:end].count(opening) >= url[:end].count(closing):
            break  # balanced: part of the URL, as in wikipedia's /Foo_(bar)
        end -= 1
    return url[:end], url[end:]


def _restore_source(text: str, slots: list[_Slot]) -> str:
    """Protected text back to the markdown it was cut from."""
    return "".join(s.source if (s := _slot_of(c, slots)) else c for c in text)


def _restore(text: str, slots: list[_Slot]) -> str:
    """Protected text to plain text: escaped characters and code as their literal text."""
    out = []
    for char in text:
        slot = _slot_of(char, slots)
        out.append(char if slot is None else slot.text if slot.kind == "literal" else "")
    return "".join(out)


def _distinct_ids(ids: list[str]) -> list[str]:
    """arXiv ids in order, one per paper (``1706.03762`` and ``1706.03762v5`` are the same paper)."""
    seen: set[str] = set()
    distinct = []
    for ident in ids:
        if arxivid.base_id(ident) not in seen:
            seen.add(arxivid.base_id(ident))
            distinct.append(ident)
    return distinct


def _strip_emphasis(text: str) -> str:
    previous = None
    while previous != text:
        previous = text
        for pattern in _EMPHASIS:
            text = pattern.sub(r"\1", text)
    return text


def _flatten(text: str, slots: list[_Slot], *, keep_urls: bool) -> str:
    """Links replaced by their (protected) text, URLs kept as text or dropped, images and HTML dropped."""
    out = []
    for char in text:
        slot = _slot_of(char, slots)
        if slot is None or slot.kind == "literal":
            out.append(char)
        elif slot.kind == "link":
            out.append(_flatten(slot.text, slots, keep_urls=keep_urls))
        elif slot.kind == "url" and keep_urls:
            out.append(slot.url)
    return "".join(out)


def _tidy(text: str) -> str:
    """Whitespace collapsed; brackets and separators left empty by what was taken out, removed."""
    previous = None
    while previous != text:
        previous = text
        text = _EMPTY_BRACKETS.sub("", text)
    text = _SPACE_BEFORE_PUNCTUATION.sub(r"\1", " ".join(text.split()))
    return text.strip(_EDGE_SEPARATORS)


def _links_in(text: str, slots: list[_Slot]) -> list[_Slot]:
    found: list[_Slot] = []
    for char in text:
        slot = _slot_of(char, slots)
        if slot is not None and slot.kind in ("link", "url"):
            found.append(slot)
            if slot.kind == "link":
                found.extend(_links_in(slot.text, slots))
    return found


def _split_trailing_links(head: str, slots: list[_Slot]) -> tuple[str, str]:
    """(title part, trailing links): links at the end of an item, after its words, are not title words.

    Brackets around trailing links go with them (``[[pdf](url)]``, ``(https://...)``); a bracket the
    title opened stays with the title (``Title (cs231n) [blog](url)``).
    """
    boundary = position = len(head)
    depth = 0
    while position > 0:
        char = head[position - 1]
        slot = _slot_of(char, slots)
        if (slot is not None and slot.kind in ("link", "url", "drop")) or char in " \t,;|·/":
            pass
        elif char in ")]":
            depth += 1
        elif char in "([" and depth > 0:
            depth -= 1
        else:
            break
        position -= 1
        if depth == 0:
            boundary = position
    tail = head[boundary:]
    words = _restore(_tidy(_flatten(head[:boundary], slots, keep_urls=False)), slots).split()
    if not _links_in(tail, slots) or not words:
        return head, ""
    if words[-1].lower() in _LEADS_INTO_LINK and _slot_of(tail.lstrip()[:1] or " ", slots):
        return head, ""
    return head[:boundary], tail


def _parse_item(text: str, refs: dict[str, str]) -> tuple[NewPaper, str | None] | None:
    """A paper from one item's text plus its description (notes); None for items that are no paper."""
    from readtrack.edits import NewPaper  # edits loads YAML, which exporting to markdown does not need

    protected, slots = _protect(text, refs)
    body = protected
    leading = re.match(rf"\s*[*_~]*({_SLOT_CHAR})[*_~]*", body)
    leading_link = _slot_of(leading.group(1), slots) if leading else None
    if leading_link is not None and leading_link.kind != "link":
        leading_link = None
    if leading_link is not None and leading_link.url.startswith("#"):
        return None  # a table-of-contents entry
    description: str | None = None
    head = body
    if leading_link is not None and leading:
        rest = body[leading.end() :]
        separator = _AFTER_LEADING.match(rest)
        if separator:
            head, description = body[: leading.end()], rest[separator.end() :]
    if description is None:
        separator = _NOTE_SEPARATOR.search(head)
        if separator and _tidy(_flatten(head[: separator.start()], slots, keep_urls=True)):
            head, description = head[: separator.start()], head[separator.end() :]
    head, tail = _split_trailing_links(head, slots)

    links = _links_in(head, slots) + _links_in(tail, slots)
    ids: list[str] = []
    url: str | None = None
    for link in links:
        parsed = arxivid.parse(link.url)
        if parsed is not None:
            ids.append(str(parsed))
        elif url is None and re.match(r"https?://", link.url, re.IGNORECASE):
            url = link.url
    flat = _flatten(head, slots, keep_urls=False)
    for match in _BARE_ARXIV.finditer(flat):
        parsed = arxivid.parse(match.group(0))
        if parsed is not None:
            ids.append(str(parsed))
    flat = _BARE_ARXIV.sub("", flat)

    year: int | None = None
    pure = _PURE_YEAR.search(flat)
    if pure:
        year = int(pure.group(1))
        flat = flat[: pure.start()] + flat[pure.end() :]
    else:
        mentioned = _ANY_YEAR.search(flat)
        if mentioned:
            year = int(mentioned.group(1))
    # tidy before restoring: an escaped "\:" or "\(" at the edge is the user's, not a separator to trim
    title = _restore(_tidy(_strip_emphasis(flat)), slots)
    wording = _flatten(head, slots, keep_urls=True)
    wording = _restore(
        _tidy(_strip_emphasis(_PURE_YEAR.sub("", wording, count=1) if pure else wording)), slots
    )
    if not title:
        texts = (
            _restore(_tidy(_flatten(s.text, slots, keep_urls=True)), slots) for s in links if s.kind == "link"
        )
        title = next(texts, "") or (links[0].url if links else "") or (f"arXiv:{ids[0]}" if ids else "")
    if not title:
        return None
    arxiv_ids = _distinct_ids(ids)
    paper = NewPaper(
        title=title,
        label=wording if wording and wording not in (title, _tidy(title)) else None,
        arxiv=arxiv_ids[0] if arxiv_ids else None,
        related=arxiv_ids[1:],
        url=url,
        year=year,
    )
    notes = _restore_source(description, slots).strip() if description else None
    return paper, notes or None


# == writing ==========================================================================================

_ESCAPE_LEVELS = ("", "\\`*_[]<>~#|!", "".join(sorted(_ASCII_PUNCT)))
_NOTE_LINE_MARKUP = re.compile(r"^(?:[-*+>#|=`~\[<\\]|\d{1,9}[.)](?:\s|$))")
_ORDERED_START = re.compile(r"^(\d{1,9})([.)])")
_ESCAPED_ORDERED = re.compile(r"^(\d{1,9})\\[.)]")


def render(catalog: Catalog) -> str:
    """The catalog as a markdown checklist that `parse` reads back to the same list."""
    out = [
        "<!-- Exported by readtrack. `readtrack import` reads it back; the id comments keep paper ids. -->",
        "",
    ]
    if catalog.title:
        out += [f"# {_escape_heading(catalog.title, level=1)}", ""]
    if catalog.notes:
        out += [*_note_lines(catalog.notes, ""), ""]
    for section in catalog.sections:
        out += [f"## {_escape_heading(section.name, level=2)}", ""]
        if section.notes:
            out += [*_note_lines(section.notes, ""), ""]
        for paper in section.papers:
            out += _paper_lines(paper, 0)
        out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


def _paper_lines(paper: Paper, depth: int) -> list[str]:
    pad = "  " * depth
    links = [f"({paper.year})"] if paper.year else []
    links += [f"[arXiv:{ident}]({arxivid.abs_url(ident)})" for ident in paper.arxiv_ids()]
    if paper.url:
        links.append(f"[{_link_text(paper.url)}]({_link_destination(paper.url)})")
    suffix = " ".join([*links, f"<!-- id: {paper.id} -->"])
    title = paper.title or paper.label or paper.id
    box = STATUS_CHECKBOX[paper.status]
    line = ""
    for escapes in _ESCAPE_LEVELS:
        line = f"{pad}- [{box}] {_escape(title, escapes)} {suffix}"
        if _reads_back(line.strip(), paper, title):
            break
    lines = [line]
    if paper.notes:
        lines += _note_lines(paper.notes, pad + "  ")
    for child in paper.children:
        lines += _paper_lines(child, depth + 1)
    return lines


def _reads_back(line: str, paper: Paper, title: str) -> bool:
    """True when ``line`` alone parses to this title, id, year and arXiv ids (none taken from the title)."""
    parsed = parse(line)
    if len(parsed.sections) != 1 or len(parsed.sections[0].papers) != 1:
        return False
    got = parsed.sections[0].papers[0]
    return (
        got.title == title
        and got.id == paper.id
        and got.year == paper.year
        and ([got.arxiv, *got.related] if got.arxiv else []) == _distinct_ids(paper.arxiv_ids())
        and got.notes is None
    )


def _escape_heading(text: str, *, level: int) -> str:
    escaped = text
    for escapes in _ESCAPE_LEVELS:
        escaped = _escape(text, escapes)
        if level == 1:
            parsed = parse(f"# {escaped}\n\n## s\n\n- [ ] x")
            if parsed.title == text:
                break
        elif [s.name for s in parse(f"## {escaped}\n\n- [ ] x").sections] == [text]:
            break
    return escaped


def _escape(text: str, characters: str) -> str:
    return "".join("\\" + c if c in characters else c for c in text)


def _note_lines(notes: str, pad: str) -> list[str]:
    lines = []
    for line in notes.split("\n"):
        stripped = line.strip()
        if stripped and (
            _NOTE_LINE_MARKUP.match(stripped) or _SETEXT.match(stripped) or _RULE.match(stripped)
        ):
            ordered = _ORDERED_START.match(stripped)
            # "1. x" is escaped as "1\. x", as CommonMark does; other markup gets a leading backslash
            stripped = _ORDERED_START.sub(r"\1\\\2", stripped, count=1) if ordered else "\\" + stripped
        lines.append(pad + stripped if stripped else "")
    return lines


def _link_text(url: str) -> str:
    host = urlsplit(url).hostname or ""
    host = host.removeprefix("www.")
    return host.replace("[", "").replace("]", "") or "link"


def _link_destination(url: str) -> str:
    return f"<{url}>" if re.search(r"[\s()<>]", url) else url
