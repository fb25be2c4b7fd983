"""Pictures a reader keeps: a run's or a sweep's training curves and bench medians, saved as SVG or PNG
(issue 55). ``readtrack plot NAME [RUN_ID ...] -o FILE.svg``, ``readtrack run NAME --plot FILE.png``.

One panel per curve the train stage recorded (``ctx.metric``): a line per setting (a run alone, each group
of a multi-seed run or each setting of a sweep), its mean over seeds with a band from the lowest to the
highest seed, the y axis logarithmic where the values are positive and span more than two decades. A run
that benchmarked adds a panel of bench medians as horizontal bars, the baseline's bar marked. The title
names the plugin, the settings, the device and the date. On matplotlib (the field's library for saved
figures), imported only here, with no GUI backend: a `matplotlib.figure.Figure` drawn and saved directly.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from readtrack.base.errors import UsageError
from readtrack.history.spread import GroupRecord
from readtrack.plugins.knobs import settings_label
from readtrack.plugins.records import RunRecord

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

Entry = RunRecord | GroupRecord
FORMATS = (".svg", ".png")


def figure(entries: Sequence[Entry]) -> Figure:
    """The figure of ``entries`` (one plugin's runs or groups; a sweep's groups), as described above."""
    from matplotlib.figure import Figure

    if not entries:
        raise UsageError("nothing to plot: no recorded run")
    curve_names = list(dict.fromkeys(name for e in entries for r in _runs(e) for name in _curves(r)))
    benched = [e for e in entries if any(s.bench for r in _runs(e) for s in r.stages)]
    panels = len(curve_names) + (1 if benched else 0)
    if panels == 0:
        raise UsageError("nothing to plot: the runs recorded no training curve and no benchmark")
    fig = Figure(figsize=(7.0, 2.8 * panels + 0.6), layout="constrained")
    axes = fig.subplots(panels, 1, squeeze=False)[:, 0]
    for i, (ax, name) in enumerate(zip(axes, curve_names, strict=False)):
        _draw_curve(ax, name, entries, i)
    if benched:
        _draw_bench(axes[-1], benched[0])
    fig.suptitle(_title(entries), fontsize=10)
    return fig


def checked_path(path: Path) -> Path:
    """``path`` when it names an SVG or a PNG file, else a UsageError (before anything is drawn)."""
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise UsageError(f"{path}: a plot is saved as .svg or .png, not {suffix or 'a file without suffix'}")
    return path


def save(fig: Figure, path: Path) -> Path:
    """Write ``fig`` to ``path`` (``.svg`` or ``.png``, atomically); a UsageError for another suffix."""
    import io

    import matplotlib

    from readtrack.base.atomic import atomic_write

    buffer = io.BytesIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "readtrack"}):  # text stays text
        fig.savefig(buffer, format=checked_path(path).suffix.lower()[1:], dpi=150)
    atomic_write(path, buffer.getvalue())
    return path


def chosen(plugin: str, ids: Sequence[str]) -> list[Entry]:
    """What ``readtrack plot`` draws: the runs or groups whose ids start with ``ids``, else the newest entry
    of ``plugin`` (with every setting of its sweep when it was one); a UsageError naming what is missing."""
    from readtrack.history import runs as history

    found = history.entries(plugin, finished=True)
    if not found:
        raise UsageError(f"no finished run of {plugin} to plot: try `readtrack run {plugin} --quick`")
    if not ids:
        sweep = _runs(found[0])[0].info.sweep_id if _runs(found[0]) else None
        if sweep is None:
            return found[:1]
        return [e for e in reversed(found) if _runs(e) and _runs(e)[0].info.sweep_id == sweep]
    picked = []
    for ident in ids:
        matches = [e for e in found if _ident(e).startswith(ident.lower())]
        if len(matches) != 1:
            why = "no run" if not matches else f"{len(matches)} runs"
            raise UsageError(
                f"{ident}: {why} of {plugin} with such an id (`readtrack history {plugin}` lists them)"
            )
        picked.append(matches[0])
    return picked


def by_setting(records: Sequence[RunRecord]) -> list[Entry]:
    """``records`` as one entry per setting (a group of its seeds), in the order first seen."""
    found: dict[str, list[RunRecord]] = {}
    for record in records:
        found.setdefault(settings_label(record.info.settings), []).append(record)
    entries: list[Entry] = []
    for runs in found.values():
        if len(runs) == 1:
            entries.append(runs[0])
        else:
            first = runs[0]
            seeds = [r.info.seed for r in runs]
            entries.append(
                GroupRecord("", first.info.plugin, seeds, first.info.started_at, first.status, 0.0, runs)
            )
    return entries


def _ident(entry: Entry) -> str:
    return entry.group_id if isinstance(entry, GroupRecord) else entry.info.run_id


def _runs(entry: Entry) -> list[RunRecord]:
    return entry.runs if isinstance(entry, GroupRecord) else [entry]


def _curves(run: RunRecord) -> dict[str, list[tuple[int, float]]]:
    return next((s.curves for s in run.stages if s.stage == "train" and s.curves), {})


def _label(entry: Entry) -> str:
    runs = _runs(entry)
    turned = settings_label(runs[0].info.settings) if runs else ""
    seeds = f"{len(runs)} seeds" if len(runs) > 1 else f"seed {runs[0].info.seed}" if runs else ""
    return f"{turned or 'defaults'} ({seeds})"


def _draw_curve(ax: Axes, name: str, entries: Sequence[Entry], panel: int) -> None:
    """One line per entry (its mean over seeds) in a band (lowest to highest seed); each line's SVG id is
    ``curve-PANEL-N``, so that a saved picture can be checked line by line."""
    positive, lows, highs = True, [], []
    for n, entry in enumerate(entries):
        series = [_curves(r).get(name, []) for r in _runs(entry)]
        series = [s for s in series if s]
        if not series:
            continue
        steps = sorted({step for s in series for step, _ in s})
        by_step = [[v for s in series for st, v in s if st == step and math.isfinite(v)] for step in steps]
        kept = [(st, vs) for st, vs in zip(steps, by_step, strict=True) if vs]
        xs = [st for st, _ in kept]
        mean = [statistics.fmean(vs) for _, vs in kept]
        (line,) = ax.plot(xs, mean, label=_label(entry), linewidth=1.4, gid=f"curve-{panel}-{n}")
        if len(series) > 1:
            ax.fill_between(xs, [min(vs) for _, vs in kept], [max(vs) for _, vs in kept],
                            color=line.get_color(), alpha=0.2, linewidth=0)  # fmt: skip
        values = [v for _, vs in kept for v in vs]
        positive = positive and all(v > 0 for v in values)
        lows.append(min(values, default=math.nan))
        highs.append(max(values, default=math.nan))
    finite = [v for v in lows + highs if math.isfinite(v)]
    if positive and finite and min(finite) > 0 and max(finite) / min(finite) > 100:
        ax.set_yscale("log")
    ax.set_title(name, fontsize=9, loc="left")
    ax.set_xlabel("step")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7)


def _draw_bench(ax: Axes, entry: Entry) -> None:
    run = _runs(entry)[0]
    rows = [r for s in run.stages if s.stage == "bench" for r in s.bench if math.isfinite(r.median_s)]
    labels = [r.label + (" (baseline)" if r.baseline else "") for r in rows]
    times = [r.median_s * 1e3 for r in rows]
    bars = ax.barh(labels, times, color=["#888888" if r.baseline else "#3b75af" for r in rows])
    for bar, row in zip(bars, rows, strict=True):
        if row.baseline:
            bar.set_hatch("//")
    ax.invert_yaxis()
    ax.set_xlabel("median time (ms)")
    ax.set_title(f"bench, {_label(entry)}", fontsize=9, loc="left")
    ax.tick_params(axis="y", labelsize=7)
    ax.grid(True, axis="x", alpha=0.3)


def _title(entries: Sequence[Entry]) -> str:
    first = _runs(entries[0])[0].info
    when = first.started_at[:10]
    size = "quick" if first.quick else "full"
    turned = {settings_label(_runs(e)[0].info.settings) for e in entries}
    settings = "a sweep" if len(turned) > 1 else (turned.pop() or "defaults")
    return f"{first.plugin} · {settings} · {first.device} · {size} · {when}"
