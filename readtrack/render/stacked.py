"""`readtrack history` for a terminal no table fits (a phone's, a split pane): a few lines an entry, its id
first, so that no id is ever cut or left out (issue 94: at 30 columns the id column went and each setting
stood one letter a line). `readtrack.render.runs.render_history` chooses it; it imports nothing of that
module (no import circle)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.text import Text

from readtrack.base.safe_text import visible
from readtrack.base.words import fmt_seconds, seeds_label
from readtrack.history.sweeps import Listed, SweepRecord
from readtrack.plugins.knobs import setting_name, value_text
from readtrack.plugins.records import RunRecord
from readtrack.render.cells import status_text, when


def info_of(r: Listed) -> Any:
    """The run's info, or a group's first run's; None for a group or sweep without a run."""
    if isinstance(r, RunRecord):
        return r.info
    return r.info if r.runs else None


def history_lines(entries: Sequence[Listed]) -> list[Text]:
    """History as a few lines an entry, for a terminal no table fits: the id, status and plugin, then when,
    then the setting and the seeds, then the device and the time."""
    lines: list[Text] = []
    for r in entries:
        info = info_of(r)
        plugin = r.info.plugin if isinstance(r, RunRecord) else r.plugin
        if isinstance(r, SweepRecord):
            swept = " ".join(visible(f"{k}={','.join(map(value_text, v))}") for k, v in r.knobs.items())
            ident, setting, seeds = r.sweep_id[:8], f"a sweep: {swept}", seeds_label(r.seeds)
            status = status_text(r.status)
        else:
            ident = r.info.run_id[:8] if isinstance(r, RunRecord) else r.group_id[:8]
            setting = setting_name(info.settings) if info is not None else "defaults"
            seeds = str(r.info.seed) if isinstance(r, RunRecord) else seeds_label(r.seeds)
            status = status_text(r.status)
        head = Text(ident, style="bold")
        head.append("  ")
        head.append(status)
        head.append(f"  {visible(plugin)}")
        started = r.info.started_at if isinstance(r, RunRecord) else r.started_at
        lines.append(head)
        lines.append(Text(f"  {when(started)}"))
        lines.append(Text(visible(f"  {setting} · seeds {seeds}")))
        device = "" if info is None else info.device + (f"×{info.threads}" if info.threads else "")
        device += "" if info is None else " quick" if info.quick else " full"
        took = fmt_seconds(r.duration_s) if r.status != "running" else ""
        rest = " · ".join(part for part in (visible(device.strip()), took) if part)
        if rest:
            lines.append(Text(f"  {rest}", style="dim"))
    return lines
