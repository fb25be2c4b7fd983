"""How a recorded run reads in the TUI: its tables, the plugin's recent runs, and its training curves.

The run screen shows these for the run it started or the plugin's last one, the paper view for a paper's
runs. Tables come from the same code as ``readtrack run`` (`readtrack.render.runs`); the trend follows a
plugin's main number (`main_number`); `draw_curves` draws the curves into the run screen's plot and legend.
A run of turned knobs names its settings (`settings_line`, and a column of the recent runs).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from readtrack.base.safe_text import visible
from readtrack.history.spread import GroupRecord
from readtrack.plugins.knobs import settings_label
from readtrack.plugins.records import RunRecord

if TYPE_CHECKING:
    from textual.widgets import Static
    from textual_plotext import PlotextPlot

STATUS_STYLES = {"passed": "bold green", "cancelled": "bold yellow", "running": "bold yellow"}
# The curves' colours, as 256-colour numbers both plotext and Rich draw alike (the legend is Rich text).
CURVE_COLORS = (14, 214, 10, 13, 12, 9, 11)
LOG_SPAN = 10**1.5  # a y axis goes logarithmic when the plotted values (all positive) span more than this


def main_number(record: RunRecord | GroupRecord) -> tuple[str, float] | None:
    """The number a plugin's trend follows: its first training target (in a run of turned knobs, or of a
    claim only reported, that target reported against its claim), else its baseline bench median (of a
    multi-seed run: the mean over the seeds that recorded it)."""
    if isinstance(record, GroupRecord):
        found = [n for n in (main_number(r) for r in record.runs) if n is not None]
        if not found:
            return None
        values = [value for name, value in found if name == found[0][0]]
        return found[0][0], sum(values) / len(values)
    for stage in record.stages:
        if stage.targets:
            return stage.targets[0].name, stage.targets[0].value
        reported = next((m for m in stage.measured if m.claim is not None), None)
        if reported is not None:
            return reported.name, reported.value
    for stage in record.stages:
        for row in stage.bench:
            if row.baseline and row.error is None:
                return f"{row.label} (s)", row.median_s
    return None


def history_renderable(entries: list[RunRecord | GroupRecord]) -> RenderableType:
    """Recent runs, newest first (a multi-seed run is one line: its seeds and their mean main number), and a
    sparkline of the main number from oldest to newest."""
    from readtrack.base.words import seeds_label
    from readtrack.render.cells import fmt_number, fmt_seconds, sparkline

    records = [e for e in entries if isinstance(e, RunRecord) or e.runs]
    if not records:
        return Text("No recorded runs yet.", style="dim")
    table = Table(title="Recent runs", title_justify="left", box=None, padding=(0, 1), show_header=True)
    # The last column is the plugin's main number (its first training target, else its baseline bench
    # median), headed by its name; a run whose main number is another one says which.
    numbers_of = {id(r): main_number(r) for r in records}
    headed = next((n[0] for n in numbers_of.values() if n is not None), "main number")
    for column in ("started (UTC)", "device", "seed", "status", "time"):
        table.add_column(column, no_wrap=True, style="dim" if column == "started (UTC)" else "")
    # The main number wraps (a name folds): in a narrow pane it gives up room first, and the dates stay whole.
    table.add_column(headed, overflow="fold")
    turned = any(r.info.settings for r in records)  # knobs turned: a column names them (runs of the
    if turned:  # defaults say "defaults"), as `readtrack history` does
        table.add_column("settings", overflow="fold")
    for record in records:
        number = numbers_of[id(record)]
        value = fmt_number(number[1]) + ("" if number[0] == headed else f" ({number[0]})") if number else "–"
        seed = seeds_label(record.seeds) if isinstance(record, GroupRecord) else str(record.info.seed)
        started = record.started_at if isinstance(record, GroupRecord) else record.info.started_at
        setting = Text(visible(settings_label(record.info.settings)) or "defaults", style="" if
                       record.info.settings else "dim")  # fmt: skip
        table.add_row(
            started.replace("T", " ")[:16],
            record.info.device + (" quick" if record.info.quick else ""),
            seed,
            Text(record.status, style=STATUS_STYLES.get(record.status, "bold red")),
            fmt_seconds(record.duration_s) if record.status != "running" else "",
            value,
            *([setting] if turned else []),
        )
    parts: list[RenderableType] = [table]
    numbers = [main_number(r) for r in reversed(records)]
    named = [n for n in numbers if n is not None]
    if len(named) >= 2:
        name = named[-1][0]
        values = [value for label, value in named if label == name]
        trend = Text(f"trend of {name}, oldest → newest: ")
        trend.append(sparkline(values), style="cyan")
        trend.append(f"  {fmt_number(values[0])} → {fmt_number(values[-1])}", style="dim")
        parts.append(trend)
    return Group(*parts)


def settings_line(settings: Mapping[str, Any]) -> Text | None:
    """``settings: lr=0.01 (off the defaults: targets reported, not asserted)`` for a run of turned knobs,
    as ``readtrack run`` prints it; None for a run of the defaults."""
    if not settings:
        return None
    line = Text("settings: ", style="bold")
    line.append(visible(settings_label(settings)), style="bold yellow")
    line.append(" (off the defaults: targets reported, not asserted)", style="dim")
    return line


def record_renderables(record: RunRecord, *, settings: bool = True) -> tuple[RenderableType, RenderableType]:
    """(check and train tables, bench tables) of a record, drawn by the same code as ``readtrack run``, under
    the run's settings when knobs were turned (unless ``settings`` is false: the caller shows them)."""
    from readtrack.render.runs import stage_tables

    turned = settings_line(record.info.settings) if settings else None
    checks: list[RenderableType] = [turned] if turned is not None else []
    bench: list[RenderableType] = []
    for stage in record.stages:
        results, tables = stage_tables(stage, curves=False)  # the TUI plots curves itself
        checks.extend(results)
        bench.extend(tables)
        if stage.status in ("error", "timeout", "cancelled") and stage.error:
            checks.append(Text(f"{stage.stage} {stage.status}: {stage.error}", style="red"))
    return Group(*checks), Group(*bench)


def curves_of(record: RunRecord) -> dict[str, list[tuple[int, float]]]:
    return {name: points for stage in record.stages for name, points in stage.curves.items()}


def draw_curves(plot: PlotextPlot, legend: Static, curves: dict[str, list[tuple[int, float]]]) -> None:
    """The curves, their legend on a line under the plot (plotext's own covers the first points), and a
    log y axis when the values span decades (a loss from 5 to 0.01 is a flat line on a linear one)."""
    if not curves:
        plot.display = legend.display = False
        return
    plot.display = legend.display = True
    plt = plot.plt
    plt.clear_data()
    plt.clear_figure()
    values = [value for points in curves.values() for _, value in points if math.isfinite(value)]
    log_y = bool(values) and min(values) > 0 and max(values) / min(values) > LOG_SPAN
    key = Text()
    for i, (name, points) in enumerate(curves.items()):
        color = CURVE_COLORS[i % len(CURVE_COLORS)]
        drawn = [(step, value) for step, value in points if math.isfinite(value)]  # plotext: no inf/nan
        ys = [math.log10(value) if log_y else value for _, value in drawn]
        plt.plot([step for step, _ in drawn], ys, color=color)
        key.append(f"{'   ' if i else ''}━━ ", style=f"color({color})")
        key.append(visible(name))  # a plugin's metric name
    if log_y:  # log10 of the values on a linear axis, ticked at the decades (plotext's own log axis
        # fails to draw at some heights: "math domain error")
        decades = range(math.floor(math.log10(min(values))), math.ceil(math.log10(max(values))) + 1)
        plt.yticks(list(decades), [f"{10.0**d:g}" for d in decades])
    plt.title("training curve" + (" (log y axis)" if log_y else ""))
    plt.xlabel("step")
    legend.update(key)
    plot.refresh()
