"""What the main screen's header says, whole at any width: the sample list's title, the sub-title's parts
dropped from the end where there is no room (never cut mid-word), how many plugins pass, the file's path from
the home folder."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text

from readtrack.base.words import plural
from readtrack.catalog.model import Catalog
from readtrack.history.coverage import Coverage, Newest

#: The sample list's title, short enough to leave the progress and coverage room at 120 columns.
SAMPLE_TITLE = "the sample list: `readtrack init` starts your own"
HEADER_SIDES = 4  # the header's icon and right margin, in columns (narrowed in app.tcss)


def fitted(parts: list[str], room: int) -> str:
    """``parts`` joined by `` · ``, leaving out from the end those that would take the line past ``room``
    columns (the first always stays)."""
    kept = parts[:1]
    for part in parts[1:]:
        if Text(" · ".join([*kept, part])).cell_len > room:
            break
        kept.append(part)
    return " · ".join(kept)


def short_path(path: Path) -> str:
    """``~/notes/papers.yaml`` rather than the full home path, for the header."""
    try:
        return "~/" + str(path.resolve().relative_to(Path.home()))
    except ValueError:
        return str(path)


def coverage_line(row: Coverage) -> str:
    """``▶ 2 with a plugin · 1 run · ✓ 1 cpu``: a section's plugin coverage, for its pane's border."""
    passing = " ".join(f"{n} {device}" for device, n in row.passing.items() if n)
    return f"▶ {row.with_plugin} with a plugin · {row.run} run" + (f" · ✓ {passing}" if passing else "")


def plugins_passing(catalog: Catalog, newest: Newest, device: str = "cpu") -> str:
    """``▶ 1 of 64 plugins passing on cpu``: of the plugins the list's papers name, those whose newest run on
    ``device`` passed (a multi-seed run or a sweep's setting by its verdict), for the header. Plugins, not
    papers or runs: an adamw sweep of 18 passing runs is one plugin passing, and a paper of two plugins
    passes only when both do (its row's ``✗ 1/2``), which the section's border counts."""
    named = {plugin for paper in catalog.papers() for plugin in paper.plugins}
    passing = sum(newest.get(plugin, {}).get(device) == "passed" for plugin in named)
    return f"▶ {passing} of {plural(len(named), 'plugin')} passing on {device}"
