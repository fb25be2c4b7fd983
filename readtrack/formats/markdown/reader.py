"""Reading a markdown list: its block structure (headings, lists, nesting, notes) from markdown-it-py.

The rules are in the package docstring (`readtrack.formats.markdown`); what an item's own text means (title,
links, ids, years, venues) is read by `readtrack.formats.markdown.items`.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from readtrack.formats.markdown.items import continuation_links, flatten, parse_item, protect, restore, tidy
from readtrack.formats.markdown.lists import (
    ASCII_PUNCT,
    CHECKBOX_STATUS,
    DEFAULT_SECTION,
    ESCAPED_ORDERED,
    ImportedList,
    ImportedSection,
    slug,
)

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.token import Token

    from readtrack.catalog.new_paper import NewPaper


_CHECKBOX = re.compile(r"^\[(?P<mark>[ xX/~-])\](?:[ \t]+(?P<text>.*)|$)", re.MULTILINE)
_QUOTE = re.compile(r"^[ \t]{0,3}(?:>[ \t]?)+")
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_FRONT_TITLE = re.compile(r"^title:\s*(?P<title>.+?)\s*$", re.MULTILINE)
_SHORTCODE = re.compile(r"(?<![\w:]):[a-z0-9_+-]+:(?![\w:])")
_LIST_OPEN = ("bullet_list_open", "ordered_list_open")
# The item line already has its notes (or its id): a lazy next line does not continue its title.
_HAS_NOTES = re.compile(r"--|\s#\s|<!--|^\s*[*_]*\[[^\]]*\]\([^)]*\)[*_]*\s*(?:--?|–|—|\||:)\s")


def parse(text: str, *, default_section: str = DEFAULT_SECTION) -> ImportedList:
    """Read a markdown list (see the module docstring for what is understood)."""
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n").replace("\0", "\ufffd")
    md = _parser()
    env: dict[str, Any] = {}
    tokens: list[Token] = []
    md.block.parse(text, md, env, tokens)  # inline content is parsed per item, only where it is needed
    return _Reader(md, env, text.split("\n"), default_section).read(tokens)


def decode(data: bytes) -> str:
    """Markdown file bytes as text: UTF-8 (with or without BOM) or UTF-16 with a BOM.

    Raises `UnicodeDecodeError` for anything else.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    return data.decode("utf-8-sig")


@functools.cache
def _parser() -> MarkdownIt:
    from markdown_it import MarkdownIt
    from mdit_py_plugins.front_matter import front_matter_plugin

    class Parser(MarkdownIt):
        def normalizeLink(self, url: str) -> str:  # markdown-it's name
            return url  # URLs as written, not percent-encoded

    md = Parser("commonmark", {"html": True}).enable(["table", "strikethrough"]).use(front_matter_plugin)
    md.disable("text_join")  # keeps backslash escapes as their own tokens: `\(2018\)` is no year
    return md


@dataclass
class _Block:
    """A block token with what it contains (``paragraph_open`` holds its ``inline`` token)."""

    token: Token
    children: list[_Block] = field(default_factory=list)

    @property
    def kind(self) -> str:
        return self.token.type

    def inline(self) -> str:
        return self.children[0].token.content if self.children else ""


def _tree(tokens: list[Token]) -> list[_Block]:
    root: list[_Block] = []
    stack = [root]
    for token in tokens:
        if token.nesting == -1:
            stack.pop()
            continue
        block = _Block(token)
        stack[-1].append(block)
        if token.nesting == 1:
            stack.append(block.children)
    return root


def _unquote(blocks: list[_Block]) -> list[_Block]:
    """Blocks with block quotes opened up: a quoted list or note reads as if unquoted."""
    out: list[_Block] = []
    for block in blocks:
        out += _unquote(block.children) if block.kind == "blockquote_open" else [block]
    return out


class _Notes:
    """Notes of one owner, built from pieces of the source; a blank line between them is a paragraph break."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.end = -1

    def add(self, text: str | None, start: int, end: int) -> None:
        if not text:
            return
        if self.parts:
            self.parts.append("\n\n" if start > self.end else "\n")
        self.parts.append(text)
        self.end = end

    def text(self) -> str | None:
        return "".join(self.parts).strip("\n") or None


class _Reader:
    def __init__(self, md: MarkdownIt, env: dict[str, Any], lines: list[str], default_section: str) -> None:
        self.md, self.env, self.lines, self.default = md, env, lines, default_section
        self.result = ImportedList()
        self.list_notes = _Notes()
        self.sections: dict[str, tuple[ImportedSection, _Notes]] = {}
        self.current: tuple[ImportedSection, _Notes] | None = None
        self.checklist = False

    def inline(self, text: str) -> list[Token]:
        return self.md.parseInline(text, self.env)[0].children or []

    def read(self, tokens: list[Token]) -> ImportedList:
        self.checklist = any(
            token.type == "paragraph_open"
            and tokens[i - 1].type == "list_item_open"
            and _CHECKBOX.match(tokens[i + 1].content)
            for i, token in enumerate(tokens)
        )
        blocks = _unquote(_tree(tokens))
        front = next((b.token.content for b in blocks if b.kind == "front_matter"), "")
        front_title = (m.group("title").strip("\"'") or None) if (m := _FRONT_TITLE.search(front)) else None
        names = {id(b): self.heading(b) for b in blocks if b.kind == "heading_open"}
        headings = [b for b in blocks if names.get(id(b))]
        first_list = next((i for i, b in enumerate(blocks) if b.kind in _LIST_OPEN), len(blocks))
        title_block = None
        if (
            not front_title
            and headings
            and headings[0].token.tag == "h1"
            and sum(b.token.tag == "h1" for b in headings) == 1
            and blocks.index(headings[0]) < first_list
        ):
            title_block = headings[0]
        self.result.title = front_title or (names[id(title_block)] if title_block else None)
        for block in blocks:
            if block.kind == "heading_open" and block is not title_block and names[id(block)]:
                self.current = self.section(names[id(block)])
            elif block.kind == "paragraph_open":
                self.note_lines(block.inline().split("\n"), _span(block)[0], None)
            elif block.kind in _LIST_OPEN:
                self.items(block, None, None, [])
        for imported, notes in self.sections.values():
            imported.notes = notes.text()
        self.result.notes = self.list_notes.text()
        self.result.sections = [s for s in self.result.sections if s.papers]
        return self.result

    def section(self, name: str) -> tuple[ImportedSection, _Notes]:
        key = name.lower()
        if key not in self.sections:
            self.sections[key] = (ImportedSection(name), _Notes())
            self.result.sections.append(self.sections[key][0])
        return self.sections[key]

    def heading(self, block: _Block) -> str:
        protected, slots, _ = protect(self.inline(block.inline()))
        protected = _SHORTCODE.sub("", protected)
        return restore(tidy(flatten(protected, slots, keep_urls=True)), slots)

    def note_lines(self, lines: list[str], start: int, owner: _Notes | None) -> None:
        """Note lines (from ``start`` in the source) for a paper, or else for the section or the list."""
        for offset, line in enumerate(_COMMENT.sub("", "\n".join(lines)).split("\n")):
            line = line.strip()
            if owner is not None:
                owner.add(_unescape_line_start(line), start + offset, start + offset + 1)
            elif line and self.has_words(line):
                notes = self.current[1] if self.current else self.list_notes
                notes.add(_unescape_line_start(line), start + offset, start + offset + 1)

    def has_words(self, text: str) -> bool:
        """False for lines that are only markup: badges, HTML tags, empty links."""
        protected, slots, _ = protect(self.inline(text))
        return bool(flatten(protected, slots, keep_urls=True).strip())

    def items(self, block: _Block, parent: NewPaper | None, owner: _Notes | None, tags: list[str]) -> None:
        """The items of one list, under ``parent`` (or in the current section), tagged with ``tags``."""
        for item in block.children:
            parts = _unquote(item.children)
            head = parts[0] if parts and parts[0].kind == "paragraph_open" else None
            rest = parts[1:] if head else parts
            box = _CHECKBOX.match(head.inline()) if head else None
            if head and (box or not self.checklist):
                self.paper(item, head, rest, box, parent, owner, tags)
            elif _has_tasks(rest):  # a grouping bullet: its slug tags the items under it
                group = slug(self.heading(head)) if head else ""
                for part in rest:
                    if part.kind in _LIST_OPEN:
                        self.items(part, parent, owner, [*tags, group] if group else tags)
            else:  # a bullet without a checkbox in a checklist: a note, as written
                start, end = _span(item)
                lines = [_QUOTE.sub("", line).strip() for line in self.lines[start:end]]
                while lines and not lines[-1]:
                    lines.pop()
                self.note_lines(lines, start, owner)

    def paper(
        self,
        item: _Block,
        head: _Block,
        rest: list[_Block],
        box: re.Match[str] | None,
        parent: NewPaper | None,
        owner: _Notes | None,
        tags: list[str],
    ) -> None:
        start = _span(head)[0]
        lines = head.inline().split("\n")
        if box:
            lines[0] = box.group("text") or ""
        marker = _indent(self.lines[_span(item)[0]])
        taken = 1
        while taken < len(lines):
            text = "\n".join(lines[:taken])
            lazy = _indent(self.lines[min(start + taken, len(self.lines) - 1)]) <= marker
            if not (text.count("[") > text.count("]") or (lazy and not _HAS_NOTES.search(text))):
                break
            taken += 1
        parsed = parse_item(self.inline("\n".join(lines[:taken])))
        if parsed is None:  # a table-of-contents entry or an empty item: its children move up
            for part in rest:
                if part.kind in _LIST_OPEN:
                    self.items(part, parent, owner, tags)
            return
        paper, description = parsed
        self.result.lines[id(paper)] = start + 1
        paper.status = CHECKBOX_STATUS[box.group("mark") if box else " "]
        if box:
            self.result.stated.add(id(paper))
        paper.tags = list(dict.fromkeys([*tags, *paper.tags]))
        if parent is not None:
            parent.children.append(paper)
        else:
            if self.current is None:
                self.current = self.section(self.result.title or self.default)
            self.current[0].papers.append(paper)
        notes = _Notes()
        notes.add(description, start, start + 1)
        indented = False
        own: list[str] = []  # the item's continuation lines that are its notes
        for offset, line in enumerate(lines[taken:], start + taken):
            # lines left unindented after the item's notes began belong to what holds the item (the seed
            # list writes its section notes so, right under an item with a note; GitHub would show them in
            # the item)
            indented = indented or _indent(self.lines[min(offset, len(self.lines) - 1)]) > marker
            self.note_lines([line], offset, notes if indented else owner)
            own += [line] if indented else []
        if own:  # links on the item's own continuation lines: its arXiv id when its line had none, code
            ids, code = continuation_links(self.inline("\n".join(own)))
            if ids and not paper.arxiv:
                paper.arxiv, paper.related = ids[0], ids[1:]
            paper.code = list(dict.fromkeys([*paper.code, *code]))
        for part in rest:
            if part.kind in _LIST_OPEN:
                self.items(part, paper, notes, [])
            elif part.kind == "paragraph_open":
                self.note_lines(part.inline().split("\n"), _span(part)[0], notes)
        paper.notes = notes.text()


def _span(block: _Block) -> tuple[int, int]:
    return (block.token.map[0], block.token.map[1]) if block.token.map else (0, 0)


def _indent(line: str) -> int:
    line = _QUOTE.sub("", line)
    return len(line.expandtabs(4)) - len(line.expandtabs(4).lstrip())


def _has_tasks(blocks: list[_Block]) -> bool:
    """True when a list among ``blocks`` holds a checklist item, at any depth."""
    for block in blocks:
        if block.kind == "list_item_open":
            parts = _unquote(block.children)
            if parts and parts[0].kind == "paragraph_open" and _CHECKBOX.match(parts[0].inline()):
                return True
        if block.kind in (*_LIST_OPEN, "list_item_open", "blockquote_open") and _has_tasks(block.children):
            return True
    return False


def _unescape_line_start(line: str) -> str:
    """Undo `render`'s escape of a note line that would read as markup (``\\- x``, ``\\# x``, ``1\\. x``)."""
    ordered = ESCAPED_ORDERED.match(line)
    if ordered:
        return ordered.group(1) + line[ordered.end() - 1 :]
    return line[1:] if len(line) > 1 and line[0] == "\\" and line[1] in ASCII_PUNCT else line
