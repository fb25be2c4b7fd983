"""The paper view's Paper tab: the cached PDF's text page by page, headings in bold, the search term
highlighted, ``n``/``N`` stepping through its hits. The text is read in the view's worker
(`readtrack.arxiv.pdftext`); this widget only shows it."""

from __future__ import annotations

import re

from rich.console import Group
from rich.rule import Rule
from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

from readtrack.arxiv.pdftext import is_heading

_SYNTAX = {"AND", "OR", "NOT", "NEAR"}


def query_terms(query: str) -> list[str]:
    """The words of a search query to highlight in running text: field prefixes, operators and filters
    dropped, a trailing ``*`` kept as a prefix match."""
    from readtrack.search.query import FILTERS

    terms = []
    for token in re.findall(r'"[^"]*"|\S+', query):
        name, colon, value = token.partition(":")
        if colon and name.lower() in FILTERS:
            continue
        text = value if colon else token
        terms += [w for w in re.findall(r"[\w*]+", text) if w not in _SYNTAX]
    return list(dict.fromkeys(terms))


def term_pattern(terms: list[str]) -> re.Pattern[str] | None:
    """One case-insensitive pattern for the terms, each matching the words it starts (the index stems words:
    a search for "mask" finds "masking" too, and ``atten*`` is a prefix anyway)."""
    if not terms:
        return None
    parts = [re.escape(t.rstrip("*")) + r"\w*" for t in terms]
    return re.compile(r"\b(?:" + "|".join(parts) + r")", re.IGNORECASE)


class PdfPane(VerticalScroll):
    """Pages as Statics (one rule and the page's lines each), and the hits of the search term."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.pages: list[str] = []
        self.hits: list[tuple[int, int]] = []  # (page index, line index)
        self.hit_index = -1
        self.pattern: re.Pattern[str] | None = None

    def show_message(self, message: Text) -> None:
        self.pages, self.hits, self.hit_index = [], [], -1
        self.remove_children()
        self.mount(Static(message, classes="pdf-message"))

    def show_pages(self, pages: list[str], query: str | None) -> None:
        self.pages = pages
        self.pattern = term_pattern(query_terms(query or ""))
        self.hits = [
            (p, n)
            for p, text in enumerate(pages)
            for n, line in enumerate(text.split("\n"))
            if self.pattern is not None and self.pattern.search(line)
        ]
        self.hit_index = -1
        self.remove_children()
        self.mount_all(
            Static(self._page(i), id=f"pdf-page-{i}", classes="pdf-page") for i in range(len(pages))
        )

    def _page(self, index: int, current: int | None = None) -> Group:
        lines = []
        for number, line in enumerate(self.pages[index].split("\n")):
            text = Text(line, style="bold" if is_heading(line) else "")
            if self.pattern is not None:
                style = "black on yellow" if number == current else "reverse"
                text.highlight_regex(self.pattern, style=style)
            lines.append(text)
        return Group(Rule(f"p. {index + 1}", align="left", style="dim"), *lines)

    def step(self, forward: bool = True) -> str | None:
        """Move to the next (previous) hit, scroll it into view, and say where it is; None without hits."""
        if not self.hits:
            return None
        previous = self.hits[self.hit_index] if self.hit_index >= 0 else None
        self.hit_index = (self.hit_index + (1 if forward else -1)) % len(self.hits)
        page, line = self.hits[self.hit_index]
        if previous is not None and previous[0] != page:
            self.query_one(f"#pdf-page-{previous[0]}", Static).update(self._page(previous[0]))
        widget = self.query_one(f"#pdf-page-{page}", Static)
        widget.update(self._page(page, current=line))
        top = widget.virtual_region.y + 1 + line  # the rule takes the page's first row
        self.scroll_to(y=max(top - self.size.height // 3, 0), animate=False)
        return f"hit {self.hit_index + 1} of {len(self.hits)}: p. {page + 1}"
