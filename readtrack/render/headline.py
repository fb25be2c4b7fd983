"""The first and the last line of a run's or a multi-seed run's report: the setting the numbers belong to,
and what the runs say of the plugin's claim (no more than they tested). Shared by `readtrack.render.runs`
and `readtrack.render.batches`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.text import Text

from readtrack.base.safe_text import visible
from readtrack.base.words import seeds_label
from readtrack.plugins.knobs import settings_label
from readtrack.plugins.records import RunRecord
from readtrack.render.cells import threads_note


def run_headline(plugin: str, info: Any, seeds: Sequence[int] | None = None) -> Text:
    """The first line of a run's or a multi-seed run's report, the setting first: ``rmsnorm · norm=layer
    (off the defaults: targets reported, not asserted) · seeds 0-1 · cpu · 1 thread · quick · paper rmsnorm``.
    ``info`` is the (first) run's RunInfo, None when no run of a group gave a record."""
    head = Text(visible(plugin), style="bold")
    if info is None:
        return head.append(f" · seeds {seeds_label(seeds)}" if seeds else "")
    head.append(" · ")
    if info.settings:
        head.append(visible(settings_label(info.settings)), style="bold")
        head.append(" (off the defaults: targets reported, not asserted)", style="dim")
    else:
        head.append("defaults")
    which = f"seeds {seeds_label(seeds)}" if seeds is not None else f"seed {info.seed}"
    head.append(visible(f" · {which} · {info.device}{threads_note(info.threads)}"))
    head.append(" · quick" if info.quick else " · full")
    head.append(visible(f" · paper {info.paper_id}"), style="dim")
    return head


def claim_verdict(records: Sequence[RunRecord]) -> str:
    """What ``records`` (one run, or a multi-seed run's runs) say of the plugin's claim, and no more: held
    or not on every seed when a target was asserted; not asserted when the runs turned a knob; nothing to
    say when no run asserted a target (``--only check``, a bench)."""
    asserted = [t for r in records for s in r.stages for t in s.targets]
    reported = any(m.claim for r in records for s in r.stages for m in s.measured)
    settings = next((r.info.settings for r in records if r.info.settings), None)
    if settings and not asserted:
        return f"the claim is not asserted with {settings_label(settings)}" if reported else ""
    if not asserted:
        return ""
    failing = sorted({r.info.seed for r in records for s in r.stages for t in s.targets if not t.passed})
    one = len({r.info.seed for r in records}) == 1
    if not failing:
        return "the claim holds" if one else "the claim holds on every seed"
    return "the claim does not hold" if one else f"the claim does not hold on seed {seeds_label(failing)}"
