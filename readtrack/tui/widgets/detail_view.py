"""The detail pane's content: one paper's `paper_details` and its plugin's recent runs (each named by its
setting first, a multi-seed run as one), as Rich text."""

from __future__ import annotations

from typing import Any

from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.text import Text

from readtrack.base.errors import one_line
from readtrack.base.safe_text import visible
from readtrack.catalog.model import STATUS_GLYPHS, Paper
from readtrack.history.spread import GroupRecord
from readtrack.plugins.knobs import setting_name
from readtrack.plugins.records import RunRecord
from readtrack.render.details import cut_at, size_after

RUN_STATUS_STYLES = {"passed": "green", "running": "yellow", "cancelled": "dim"}


def clipped(text: str, rest_hint: str) -> Text:
    """``text`` as it shows in the pane: whole when short, else its start, cut where `details.cut_at` cuts
    (at a line or word end, no line limit: the pane scrolls), and a dim ``… (4.9 MB more; REST_HINT)``.
    Wrapping megabytes on every paint froze the TUI (a 5 MB note: 78 s on a busy 2-core machine)."""
    end = cut_at(text, lines=None, at_word=True)
    if end is None:
        return Text(text)
    shown = Text(text[:end].rstrip())
    shown.append(f"\n… ({size_after(text, end)} more; {rest_hint})", style="dim italic")
    return shown


def run_line(entry: RunRecord | GroupRecord, *, plugin: bool = False) -> RenderableType:
    """One recorded run (a multi-seed run is one), its setting first: ``norm=none: passed`` over ``seeds 0-1
    · 2026-11-28 02:22 · cpu quick``, indented, wrapped under its indent in a narrow pane (``plugin``: the
    plugin's name first)."""
    from readtrack.base.words import seeds_label

    info = entry.info
    line = Text(f"{info.plugin} · " if plugin else "")
    line.append(visible(setting_name(info.settings)), style="bold" if info.settings else "")
    line.append(": ")
    line.append(entry.status, style=RUN_STATUS_STYLES.get(entry.status, "red"))
    seeds = f"seeds {seeds_label(entry.seeds)}" if isinstance(entry, GroupRecord) else f"seed {info.seed}"
    started = (entry.started_at if isinstance(entry, GroupRecord) else info.started_at).replace("T", " ")[:16]
    how = Text(f"{seeds} · {started} · {info.device} {'quick' if info.quick else 'full'}", style="dim")
    return Group(line, Padding(how, (0, 0, 0, 2)))


def detail_renderable(
    details: dict[str, Any], runs: list[RunRecord | GroupRecord] | None, runs_error: str | None = None
) -> RenderableType:
    """Title, authors, date, ids, tags, abstract, notes and recent runs of one paper."""
    from readtrack.render.details import shown_details

    details = shown_details(details, full=True)  # control characters written out; cut below, as the pane cuts
    parts: list[RenderableType] = [
        Text(details.get("title") or details.get("label") or details["id"], style="bold")
    ]
    if details.get("label") and details["label"] != details.get("title"):
        parts.append(Text(details["label"], style="italic"))
    status = details["status"]
    meta = Text(f"{STATUS_GLYPHS[status]} {status}", style="bold")
    meta.append(f"  ·  {details['id']}  ·  {details['section']}", style="dim")
    parts.append(meta)
    authors = details.get("authors") or []
    if authors:
        shown = ", ".join(authors[:8]) + (f" and {len(authors) - 8} more" if len(authors) > 8 else "")
        parts.append(Text(shown))
    when = details.get("published") or (str(details["year"]) if details.get("year") else None)
    facts = [f for f in (when and when[:10], details.get("arxiv") and f"arXiv:{details['arxiv']}") if f]
    if facts:
        parts.append(Text("  ·  ".join(facts), style="dim"))
    if details.get("url"):
        parts.append(Text(details["url"], style="dim underline"))
    for link in details.get("code") or []:
        parts.append(Text.assemble(("code ", "dim"), (link, "dim underline")))
    if details.get("tags"):
        parts.append(Text("  ".join(f"#{t}" for t in details["tags"]), style="cyan"))
    parts.append(Text("PDF: " + (details["pdf_path"] or "not downloaded (o fetches it)"), style="dim"))
    parts.append(_heading("Abstract"))
    if details.get("abstract"):
        parts.append(clipped(details["abstract"], f"see `readtrack show {details['id']}`"))
    else:
        parts.append(Text("Not synced yet: s syncs this paper, S the whole list.", style="dim"))
    parts.append(_heading("Notes"))
    parts.append(
        clipped(details["notes"], f"open with `readtrack note {details['id']}`")
        if details.get("notes")
        else Text("None yet: n adds some.", style="dim")
    )
    if details.get("plugins"):
        plugins = details["plugins"]
        parts.append(_heading(f"Plugin{'s' if len(plugins) > 1 else ''} {', '.join(plugins)}"))
        if runs_error:
            parts.append(Text(f"run history unavailable: {runs_error}", style="red"))
        elif runs:
            parts.extend(run_line(r, plugin=len(plugins) > 1) for r in runs)
        else:
            parts.append(Text("Never run: Enter runs it.", style="dim"))
    return Group(*parts)


def _heading(title: str) -> Text:
    return Text(f"\n{title}", style="bold underline")


def _started(entry: RunRecord | GroupRecord) -> str:
    return entry.started_at if isinstance(entry, GroupRecord) else entry.info.started_at


def paper_and_runs(
    paper: Paper,
) -> tuple[dict[str, Any], list[RunRecord | GroupRecord] | None, str | None]:
    """What the detail pane needs, read from the core (call it off the UI thread: it opens SQLite).

    A broken cache or history shows up as a message in the pane instead of taking the TUI down.
    """
    from readtrack.render.details import catalog_details, paper_details

    try:
        details = paper_details(paper)
    except Exception:  # the catalog fields still show when the sync cache is unreadable
        details = catalog_details(paper)
    runs: list[RunRecord | GroupRecord] | None = None
    error: str | None = None
    if paper.plugins:
        try:
            from readtrack.history.runs import entries

            found = [e for plugin in paper.plugins for e in entries(plugin, limit=5)]
            found = [e for e in found if isinstance(e, RunRecord) or e.runs]  # a group with a record
            runs = sorted(found, key=_started, reverse=True)[:5]
        except Exception as err:  # same: show the problem, keep the pane
            error = one_line(err)
    return details, runs, error
