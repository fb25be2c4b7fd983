"""Writing a catalog as a markdown checklist that `readtrack.formats.markdown.parse` reads back unchanged.

Control characters (an escape sequence, a NUL, a bidi override) are the one exception: they are written out
as `readtrack.base.safe_text.visible` shows them (``\x1b``), so the file never carries them raw.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from readtrack.base.safe_text import visible
from readtrack.catalog import arxivid
from readtrack.catalog.model import Catalog, Paper
from readtrack.formats.markdown.items import TAG_WORD, distinct_ids
from readtrack.formats.markdown.lists import ASCII_PUNCT, STATUS_CHECKBOX
from readtrack.formats.markdown.reader import parse

_ESCAPE_LEVELS = ("", "\\`*_[]<>~#|!", "".join(sorted(ASCII_PUNCT)))
_NOTE_LINE_MARKUP = re.compile(r"^(?:[-*+>#|=`~\[<\\]|\d{1,9}[.)](?:\s|$))")
_ORDERED_START = re.compile(r"^(\d{1,9})([.)])")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_RULE = re.compile(r"^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$")
_WEB_LINK = re.compile(r"https?://", re.IGNORECASE)


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
    return visible("\n".join(out).rstrip("\n") + "\n", multiline=True)


def _paper_lines(paper: Paper, depth: int) -> list[str]:
    pad = "  " * depth
    lines = [f"{pad}- [{STATUS_CHECKBOX[paper.status]}] {_item_text(paper)}"]
    if paper.notes:
        if _WEB_LINK.search(paper.notes):
            # a paragraph of its own: a link on the item's continuation lines would read back as its
            # arXiv id or code
            lines.append("")
        lines += _note_lines(paper.notes, pad + "  ")
    for child in paper.children:
        lines += _paper_lines(child, depth + 1)
    return lines


@dataclass(frozen=True)
class _Form:
    """One way to write an item: its ``text`` (the title or the label), escaped as one of ``escapes`` and
    passed to ``shown``, then ``suffix`` (year, links, the id comment); ``keeps_label`` when it reads back
    to the paper's label."""

    text: str
    suffix: str
    keeps_label: bool
    shown: Callable[[str], str] = str
    escapes: tuple[str, ...] = _ESCAPE_LEVELS


def _item_text(paper: Paper) -> str:
    """The item's text after its checkbox: the first of `_forms` that reads back to the paper, with its
    text escaped only as far as needed."""
    line = ""
    for form in _forms(paper):
        for escapes in form.escapes:
            line = f"{form.shown(_escape(form.text, escapes))} {form.suffix}"
            if _reads_back(line, paper, with_label=form.keeps_label):
                return line
    return line  # none reads back (a title of markup alone): the last, most escaped one


def _forms(paper: Paper) -> list[_Form]:
    """How the item may be written, in order of preference.

    The reader's own wording, the label (``Long Short-Term Memory (Hochreiter and Schmidhuber, 1997)``,
    ``Transformer (Attention is all you need)``), is the item's text where it reads back as it is, with the
    title in the id comment where the label does not give it (``<!-- id: transformer title: Attention Is
    All You Need -->``); else (a label that needs escapes, or holds a year the reader would take out of it:
    ``BERT (2018)``) the title is the text and the label goes into the comment; else (a label that a
    comment cannot hold, ``-->``) the label escaped. Last the title alone: what a label and title that
    neither reads back as come to.
    """
    title = paper.title or paper.label or paper.id
    year = [f"({paper.year})"] if paper.year else []
    links = [f"[arXiv:{ident}]({arxivid.abs_url(ident)})" for ident in paper.arxiv_ids()]
    url_link = f"[{_link_text(paper.url)}]({_link_destination(paper.url)})" if paper.url else ""
    code = [f"[code]({_link_destination(link)})" for link in paper.code]
    tags = [t for t in paper.tags if TAG_WORD.match(t)]  # a tag with spaces or markup cannot be carried
    comment = f"<!-- id: {paper.id} tags: {', '.join(tags)}" if tags else f"<!-- id: {paper.id}"
    after = " ".join(filter(None, [*links, url_link, *code]))
    forms: list[_Form] = []
    if paper.label and paper.label != title:
        label = paper.label
        # the forms that may read back (each try parses the item): the label gives the title only when it
        # holds it, its year only when it holds it ("(Ilya, 2014)"), a comment holds no "-->"
        known = [""] if title in label else []
        known += [f" title: {title}"] if "-->" not in title else []
        dates = [""] if not paper.year or str(paper.year) in label else []
        suffixes = [
            " ".join(filter(None, [when, after, f"{comment}{given} -->"]))
            for given in known
            for when in [*dates, *year]
        ]
        forms += [_Form(label, suffix, keeps_label=True, escapes=("",)) for suffix in suffixes]
        if "-->" not in label:
            suffix = " ".join(filter(None, [*year, after, f"{comment} label: {label} -->"]))
            forms.append(_Form(title, suffix, keeps_label=True))
        # a label a comment cannot hold, escaped as the text
        escaped = _ESCAPE_LEVELS[1:]
        forms += [_Form(label, suffix, keeps_label=True, escapes=escaped) for suffix in suffixes]
    # The url as a link after the title, or, where that would read as part of the title ("A [host](url)"
    # reads like "see [this](url)"), as the title's own link.
    forms.append(_Form(title, " ".join(filter(None, [*year, after, f"{comment} -->"])), keeps_label=False))
    if paper.url:
        destination = _link_destination(paper.url)
        suffix = " ".join([*year, *links, *code, f"{comment} -->"])
        forms.append(_Form(title, suffix, keeps_label=False, shown=lambda text: f"[{text}]({destination})"))
    return forms


def _reads_back(text: str, paper: Paper, *, with_label: bool) -> bool:
    """True when the item ``text`` alone parses to this title, id, year, arXiv ids, url, code and tags (none
    taken from the title), and, ``with_label``, this label."""
    parsed = parse(f"- [ ] {text}")
    if len(parsed.sections) != 1 or len(parsed.sections[0].papers) != 1:
        return False
    got = parsed.sections[0].papers[0]
    return (
        got.title == (paper.title or paper.label or paper.id)
        and (got.label == paper.label or not with_label)
        and got.id == paper.id
        and got.url == paper.url
        and got.code == paper.code
        and got.tags == [t for t in paper.tags if TAG_WORD.match(t)]
        and got.year == paper.year
        and ([got.arxiv, *got.related] if got.arxiv else []) == distinct_ids(paper.arxiv_ids())
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
