"""How a recorded run reads in the TUI: its tables, the plugin's recent runs, and its training curves.

The run screen shows these for the run it started or the plugin's last one, the paper view for a paper's
runs. Tables come from the same code as ``readtrack run`` (`readtrack.render.runs`); the trend follows a
plugin's main number (`main_number`); `draw_curves` draws the curves into the run screen's plot and legend.
Every run is named by its setting first (`setting_text`, the first column of the recent runs), and what it
says of the claim follows (`claim_text`: not asserted off the defaults).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from readtrack.base.safe_text import visible
from readtrack.base.words import plural
from readtrack.history.spread import GroupRecord
from readtrack.plugins.knobs import setting_name, settings_label
from readtrack.plugins.records import RunRecord

if TYPE_CHECKING:
    from textual.widgets import Static
    from textual_plotext import PlotextPlot

STATUS_STYLES = {"passed": "bold green", "cancelled": "bold yellow", "running": "bold yellow"}
# The curves' colours, as 256-colour numbers both plotext and Rich draw alike (the legend is Rich text).
CURVE_COLORS = (14, 214, 10, 13, 12, 9, 11)
SETTING_WIDTH = 24  # the recent runs' setting column keeps a knob whole up to this width, then ends it in "…"
LOG_SPAN = 10**1.5  # a y axis goes logarithmic when the plotted values (all positive) span more than this


def claim_numbers(record: RunRecord | GroupRecord) -> dict[str, float]:
    """The numbers of a plugin's claim a run recorded, by name, in the plugin's order: its training targets
    (asserted, in a run of the defaults) or the same numbers reported against the claim (a run of turned
    knobs); a multi-seed run's are the means over the seeds that recorded them."""
    if isinstance(record, GroupRecord):
        found: dict[str, list[float]] = {}
        for run in record.runs:
            for name, value in claim_numbers(run).items():
                found.setdefault(name, []).append(value)
        return {name: sum(values) / len(values) for name, values in found.items()}
    numbers: dict[str, float] = {}
    for stage in record.stages:
        numbers |= {t.name: t.value for t in stage.targets}
        numbers |= {m.name: m.value for m in stage.measured if m.claim is not None}
    return numbers


def main_number(record: RunRecord | GroupRecord) -> tuple[str, float] | None:
    """The number a plugin's trend follows: its claim's first number (`claim_numbers`), else its baseline
    bench median (of a multi-seed run: the mean over the seeds that recorded it)."""
    numbers = claim_numbers(record)
    if numbers:
        return next(iter(numbers.items()))
    runs = record.runs if isinstance(record, GroupRecord) else [record]
    medians = [
        (f"{row.label} (s)", row.median_s)
        for run in runs
        for stage in run.stages
        for row in stage.bench
        if row.baseline and row.error is None
    ]
    if not medians:
        return None
    values = [value for name, value in medians if name == medians[0][0]]
    return medians[0][0], sum(values) / len(values)


def headed_number(records: Sequence[RunRecord | GroupRecord]) -> str | None:
    """The name of the number the recent runs' number column shows: the claim's first number as a run of the
    defaults asserts it (a run of turned knobs lists the same numbers in another order), else the newest
    run's main number."""
    for record in records:
        runs = record.runs if isinstance(record, GroupRecord) else [record]
        asserted = [t.name for run in runs for stage in run.stages for t in stage.targets]
        if asserted:
            return asserted[0]
    return next((n[0] for n in map(main_number, records) if n is not None), None)


def number_of(record: RunRecord | GroupRecord, name: str | None) -> tuple[str, float] | None:
    """``record``'s value of the number ``name``, else its own main number (a row then says which)."""
    numbers = claim_numbers(record)
    if name is not None and name in numbers:
        return name, numbers[name]
    return main_number(record)


def history_renderable(entries: list[RunRecord | GroupRecord]) -> RenderableType:
    """Recent runs, newest first, each named by its setting first (a multi-seed run is one line: its seeds
    and their mean), then its start, seeds, status, time, the plugin's main number (named in the heading:
    `headed_number`) and device; a trend of that number over the runs alike the newest (`series_kind`): its
    setting, alone or the same number of seeds, its size."""
    from readtrack.base.words import seeds_label
    from readtrack.render.cells import fmt_number, fmt_seconds, sparkline

    records = [e for e in entries if isinstance(e, RunRecord) or e.runs]
    if not records:
        return Text("No recorded runs yet.", style="dim")
    headed = headed_number(records)
    # The number's name heads the table, above it (a long one wraps there at words, at the pane's width, not
    # folded in a column's header); the setting comes first, wrapped at its spaces and never inside a knob
    # (one too long for the pane ends in "…"); the dates stay whole.
    title = Text("Recent runs", style="bold")
    if headed:
        title.append(f" · number: {visible(headed)}")
    table = Table(box=None, padding=(0, 1), pad_edge=False)
    labels = [setting_label(r) for r in records]
    knob_width = max(len(word) for label in labels for word in label.split())
    table.add_column("setting", overflow="ellipsis", min_width=min(knob_width, SETTING_WIDTH))
    for column in ("started (UTC)", "seeds", "status", "time"):
        table.add_column(column, no_wrap=True, style="dim" if column == "started (UTC)" else "")
    table.add_column("number", min_width=6)  # a row of another number says which, wrapped
    table.add_column("device", style="dim")
    for record, label in zip(records, labels, strict=True):
        number = number_of(record, headed)
        value = "–" if number is None else fmt_number(number[1])
        value += "" if number is None or number[0] == headed else f" ({visible(number[0])})"
        seed = seeds_label(record.seeds) if isinstance(record, GroupRecord) else str(record.info.seed)
        started = record.started_at if isinstance(record, GroupRecord) else record.info.started_at
        table.add_row(
            Text(visible(label), style="bold" if record.info.settings else "dim"),
            started.replace("T", " ")[:16],
            seed,
            Text(record.status, style=STATUS_STYLES.get(record.status, "bold red")),
            fmt_seconds(record.duration_s) if record.status != "running" else "",
            value,
            record.info.device + (" quick" if record.info.quick else ""),
        )
    parts: list[RenderableType] = [title, table]
    # A trend within one series (`series_kind`): across settings the number changes by design, and a run
    # alone beside a mean over seeds, or a quick run beside a full one, is not the same measurement.
    alike = [r for r in reversed(records) if series_kind(r) == series_kind(records[0])]
    values = [n[1] for n in (number_of(r, headed) for r in alike) if n is not None and n[0] == headed]
    if len(values) >= 2:
        trend = Text(f"trend of {headed} · {series_name(records[0], len(values))} · oldest → newest: ")
        trend.append(sparkline(values), style="cyan")
        trend.append(f"  {fmt_number(values[0])} → {fmt_number(values[-1])}", style="dim")
        parts.append(trend)
    return Group(*parts)


def series_kind(record: RunRecord | GroupRecord) -> tuple[dict[str, Any], int, bool]:
    """What a run's number can be lined up with in a trend: its setting, how many seeds its number is the
    mean of (1: a run alone), and its size (quick or full)."""
    seeds = len(record.runs) if isinstance(record, GroupRecord) else 1
    return dict(record.info.settings), seeds, record.info.quick


def series_name(record: RunRecord | GroupRecord, count: int) -> str:
    """``2 single runs of weight_decay=1.0, quick`` or ``3 3-seed means of defaults, full``: the series a
    trend follows (`series_kind`)."""
    _, seeds, quick = series_kind(record)
    runs = plural(count, "single run") if seeds == 1 else plural(count, f"{seeds}-seed mean")
    return f"{runs} of {setting_label(record)}, {'quick' if quick else 'full'}"


def setting_label(record: RunRecord | GroupRecord) -> str:
    """``norm=none depth=4``, the knobs a run turned, or ``defaults``."""
    return setting_name(record.info.settings)


def setting_text(settings: Mapping[str, Any]) -> Text:
    """A run's setting as the first words of its heading: the knobs it turned (bold), or ``defaults``."""
    return Text(visible(settings_label(settings)), style="bold yellow") if settings else Text("defaults")


def claim_text(records: Sequence[RunRecord]) -> Text | None:
    """What a run (or a multi-seed run's runs) says of the plugin's claim, under its heading: held or not
    where it was asserted, "not asserted" with a setting off the defaults (`claim_verdict`, as the CLI)."""
    from readtrack.render.headline import claim_verdict

    verdict = claim_verdict(records)
    if not verdict:
        return None
    turned = any(r.info.settings for r in records) and "not asserted" in verdict
    if turned:
        verdict += ": its numbers below are reported against it, not held to it"
    held = verdict.startswith("the claim holds")
    return Text(verdict, style="yellow" if turned else "green" if held else "bold red")


def record_renderables(record: RunRecord) -> tuple[RenderableType, RenderableType]:
    """(check and train tables, bench tables) of a record, drawn by the same code as ``readtrack run`` (the
    caller's heading names the run's setting)."""
    from readtrack.render.runs import stage_tables

    checks: list[RenderableType] = []
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
