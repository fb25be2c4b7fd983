"""The rows of ``refs``, ``cites`` and ``next`` as terminal text.

One line a paper: its number (what ``next --add N`` takes), its place in the reader's list (status glyph
and id, or nothing), the title, year, citations, arXiv id (else DOI) and ▶ when a plugin runs it; under it,
dimmed, the venue and, for ``next``, why it is suggested. Titles give way to the width on a terminal and are
whole in a pipe, as in ``list``.
"""

from __future__ import annotations

import textwrap

from readtrack.base.safe_text import visible
from readtrack.catalog.model import STATUS_GLYPHS
from readtrack.related.graph import Row
from readtrack.render.papers import STATUS_STYLES, _cells, _fit, _painter


def row_lines(rows: list[Row], *, width: int = 80, color: bool = True, cut: bool = True) -> list[str]:
    """The table of ``rows`` (numbered from 1), as finished lines."""
    paint = _painter(color)
    number_width = len(str(len(rows))) if rows else 1
    places = [_place(r) for r in rows]
    place_width = max([7, *(_cells(p) for p in places)])
    idents = [_ident(r, whole=not cut) for r in rows]
    ident_width = max([5, *(len(i) for i in idents)])
    counts = [f"{r.paper.citations:,}" if r.paper.citations is not None else "" for r in rows]
    count_width = max([5, *(len(c) for c in counts)])
    fixed = number_width + 2 + place_width + 2 + 2 + 4 + 2 + count_width + 2 + ident_width
    title_width = max(width - fixed, 20)
    titles = [visible(r.paper.title) + (" ▶" if r.plugins else "") for r in rows]
    if not cut:
        title_width = max([title_width, *(_cells(t) for t in titles)])
    head = (
        f"{'#':>{number_width}}  {'in list':<{place_width}}  {'title':<{title_width}}  year  "
        f"{'cited':>{count_width}}  {'id'}"
    )
    lines = [paint(head.rstrip(), "bold")]
    indent = " " * (number_width + 2)
    for number, (row, place, ident, count, title) in enumerate(
        zip(rows, places, idents, counts, titles, strict=True), 1
    ):
        style = STATUS_STYLES[row.listed.status] if row.listed else ""
        shown = _fit(title, title_width)
        lines.append(
            f"{number:>{number_width}}  "
            + paint(place + " " * (place_width - _cells(place)), style or "dim")
            + "  "
            + paint(shown, style)
            + " " * (title_width - _cells(shown))
            + f"  {row.paper.year or '':>4}  {count:>{count_width}}  "
            + paint(ident, "dim")
        )
        detail = "; ".join(x for x in (visible(row.paper.venue), row.why) if x)
        if detail and cut:  # wrapped at words under the title: a reason is never cut off
            for part in textwrap.wrap(detail, max(width - len(indent), 20), break_on_hyphens=False):
                lines.append(indent + paint(part, "dim"))
        elif detail:
            lines.append(indent + paint(detail, "dim"))
    return [line.rstrip() for line in lines]


def _place(row: Row) -> str:
    if row.listed is None:
        return "-"
    return f"{STATUS_GLYPHS[row.listed.status]} {visible(row.listed.id)}"


def _ident(row: Row, *, whole: bool) -> str:
    """What a reader types to ask about the paper: its arXiv id, DOI, or (in a pipe, where width is no
    matter) Semantic Scholar's 40-character id."""
    p = row.paper
    if p.arxiv:
        return p.arxiv
    if p.doi:
        return f"DOI:{visible(p.doi)}"
    return f"S2:{p.s2_id}" if whole else "-"
