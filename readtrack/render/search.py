"""`readtrack search`'s lines: one per hit, the paper, where the hit is, and the snippet with the match
highlighted (bold yellow in a terminal, ``**word**`` without colour), cut to the terminal's width around the
first match."""

from __future__ import annotations

from itertools import pairwise

from readtrack.base.safe_text import visible
from readtrack.base.words import plural
from readtrack.catalog.model import STATUS_GLYPHS
from readtrack.render.papers import _cells, _painter
from readtrack.search.index import IndexReport
from readtrack.search.query import Hit

MARK = "**"


def visible_snippet(snippet: str, spans: list[tuple[int, int]]) -> tuple[str, list[tuple[int, int]]]:
    """The snippet `visible` (control characters written out), its match spans moved to match."""
    if snippet == visible(snippet):
        return snippet, spans
    bounds = sorted({0, len(snippet), *(i for span in spans for i in span)})
    moved = {0: 0}
    out = []
    for a, b in pairwise(bounds):
        out.append(visible(snippet[a:b]))
        moved[b] = moved[a] + len(out[-1])
    return "".join(out), [(moved[a], moved[b]) for a, b in spans]


def window(hit: Hit, width: int) -> tuple[str, list[tuple[int, int]]]:
    """The part of the snippet that fits ``width``, starting shortly before the first match."""
    text, spans = visible_snippet(hit.snippet, hit.highlights)
    start = max(0, spans[0][0] - width // 4) if spans and spans[0][1] > width else 0
    if start:
        text, spans = "…" + text[start:], [(a - start + 1, b - start + 1) for a, b in spans]
    if len(text) > width:
        text = text[: width - 1] + "…"
    return text, [(a, min(b, len(text))) for a, b in spans if a < len(text)]


def hit_lines(hits: list[Hit], *, width: int = 100, color: bool = False) -> list[str]:
    paint = _painter(color)
    # an id is never cut (it is what a user types next); nor is a place, a file:line to open
    id_width = max((_cells(visible(h.paper_id)) for h in hits), default=2)
    where_width = min(max((_cells(visible(h.where)) for h in hits), default=5), 30)
    lines = []
    for hit in hits:
        paper_id, where = visible(hit.paper_id), visible(hit.where)
        head = (
            f"{STATUS_GLYPHS.get(hit.status, ' ')} {paper_id}{' ' * (id_width - _cells(paper_id))}  "
            f"{where}{' ' * (where_width - _cells(where))}  "
        )
        text, spans = window(hit, max(width - len(head), 20))
        out, last = [], 0
        for a, b in spans:
            out.append(text[last:a])
            out.append(paint(text[a:b], "bold yellow") if color else f"{MARK}{text[a:b]}{MARK}")
            last = b
        out.append(text[last:])
        lines.append(paint(head, "") + "".join(out))
    return lines


def index_lines(report: IndexReport, problems: dict[str, str]) -> list[str]:
    """`readtrack doctor --reindex`'s lines: what was indexed, then each PDF without text and why."""
    lines = [
        f"search index rebuilt: {plural(report.indexed, 'source')}, {plural(report.pdf_pages, 'PDF page')}"
    ]
    lines += [f"  no text    {paper_id}: {problem}" for paper_id, problem in sorted(problems.items())]
    return lines
