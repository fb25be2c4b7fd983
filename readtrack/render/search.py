"""`readtrack search`'s lines: one per hit, the paper, where the hit is, and the snippet with the match
highlighted (bold yellow in a terminal, ``**word**`` without colour), cut to the terminal's width around the
first match."""

from __future__ import annotations

from readtrack.catalog import STATUS_GLYPHS
from readtrack.render.papers import _painter
from readtrack.search import Hit
from readtrack.search_index import IndexReport

MARK = "**"


def window(hit: Hit, width: int) -> tuple[str, list[tuple[int, int]]]:
    """The part of the snippet that fits ``width``, starting shortly before the first match."""
    text, spans = hit.snippet, hit.highlights
    start = max(0, spans[0][0] - width // 4) if spans and spans[0][1] > width else 0
    if start:
        text, spans = "…" + text[start:], [(a - start + 1, b - start + 1) for a, b in spans]
    if len(text) > width:
        text = text[: width - 1] + "…"
    return text, [(a, min(b, len(text))) for a, b in spans if a < len(text)]


def hit_lines(hits: list[Hit], *, width: int = 100, color: bool = False) -> list[str]:
    paint = _painter(color)
    id_width = min(max((len(h.paper_id) for h in hits), default=2), 24)
    where_width = min(max((len(h.where) for h in hits), default=5), 30)
    lines = []
    for hit in hits:
        head = (
            f"{STATUS_GLYPHS.get(hit.status, ' ')} {hit.paper_id:<{id_width}}  {hit.where:<{where_width}}  "
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
    lines = [f"search index rebuilt: {report.indexed} sources, {report.pdf_pages} PDF pages"]
    lines += [f"  no text    {paper_id}: {problem}" for paper_id, problem in sorted(problems.items())]
    return lines
