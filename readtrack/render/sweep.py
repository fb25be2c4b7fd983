"""How a sweep looks in a terminal: its end, one table per number with one row per setting
(`readtrack.batch.sweep`); in history, its settings (``readtrack history SWEEP_ID``); and its settings side
by side, one column each (``readtrack compare``, `readtrack.history.comparison.Lineup`)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from readtrack.base.safe_text import visible
from readtrack.base.words import plural, seeds_label
from readtrack.batch.sweep import NumberTable
from readtrack.history.comparison import LinedNumber, Lineup
from readtrack.history.spread import GroupRecord
from readtrack.history.sweeps import SweepRecord
from readtrack.plugins.knobs import settings_label
from readtrack.render.cells import fmt_number, fmt_seconds, status_text, threads_note, when
from readtrack.render.runs import setting_cell, sweep_counts, swept_knobs


def render_sweep(plugin: str, found: Sequence[NumberTable], console: Console) -> None:
    """Each number's table: settings, seeds, mean ± sd, 95% interval and whether it differs from the
    defaults beyond both intervals; the defaults' row first and marked."""
    if not found:
        console.print(f"{plugin}: the sweep's runs reported no number")
        return
    for number in found:
        title = Text(visible(number.name), style="bold")
        if number.target is not None:
            sign = "≥" if number.higher_is_better else "≤"
            title.append(f"  (the claim: {sign} {number.target:g})", style="dim")
        console.print(title)
        table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
        table.add_column("settings", ratio=1)
        for column in ("n", "mean ± sd", "95% interval", "vs defaults"):
            table.add_column(column, justify="right" if column != "vs defaults" else "left", no_wrap=True)
        for row in number.rows:
            s = row.spread
            low, high = s.ci95
            spread = fmt_number(s.mean) + ("" if math.isnan(s.std) else f" ± {fmt_number(s.std)}")
            interval = "–" if math.isnan(low) else f"{fmt_number(low)} … {fmt_number(high)}"
            verdict = {
                True: Text("differs", style="bold"),
                False: Text("within"),
                None: Text("–", style="dim"),
            }
            label = Text("defaults", style="bold") if row.defaults else Text(visible(row.settings))
            table.add_row(label, str(len(s.finite)), spread, interval, verdict[row.differs])
        console.print(table)
    console.print(
        Text(
            "differs: the 95% intervals of the setting and the defaults do not overlap; – : no interval "
            "(one seed) or the defaults' row itself",
            style="dim",
        )
    )


# -- a sweep in history: its settings (`readtrack history SWEEP_ID`), lined up (`readtrack compare`) ----
def render_sweep_record(sweep: SweepRecord, console: Console) -> None:
    """What a sweep ran: one row per setting it set out to run (its status, how many seeds passed, its
    time, its group's id), those it did not run marked; then its verdict and how to line it up."""
    info = sweep.info
    head = Text(visible(sweep.plugin), style="bold")
    head.append(visible(f"  sweep {sweep.sweep_id[:8]} · {when(sweep.started_at)} UTC · {info.device}"))
    head.append(
        f"{threads_note(info.threads)} · seeds {seeds_label(sweep.seeds)}"
        + (" · quick" if info.quick else "")
    )
    console.print(head)
    size = f"{plural(len(sweep.settings), 'setting')} × {plural(len(sweep.seeds), 'seed')}"
    console.print(Text(visible(f"swept {swept_knobs(sweep)}: {size}")))
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("setting", ratio=1, overflow="fold")
    for column in ("status", "seeds passed", "time", "group id"):
        table.add_column(
            column, no_wrap=True, justify="right" if column in ("seeds passed", "time") else "left"
        )
    by_label = {settings_label(g.info.settings): g for g in sweep.groups}
    for turned in sweep.settings:
        label = settings_label(turned)
        name = Text(visible(label)) if label else Text("defaults", style="bold")
        group = by_label.get(label)
        if group is None:
            table.add_row(name, Text("not run", style="yellow"), f"0/{len(sweep.seeds)}", "–", "–")
            continue
        passed = sum(r.status == "passed" for r in group.runs)
        table.add_row(
            name, status_text(group.status), f"{passed}/{len(group.seeds)}", fmt_seconds(group.duration_s),
            group.group_id[:8],
        )  # fmt: skip
    console.print(table)
    for group in sweep.groups:
        label = settings_label(group.info.settings) or "defaults"
        for seed, why in group.missing.items():
            console.print(Text(visible(f"! {label} seed {seed}: {why}"), style="yellow"))
    verdict = Text("result: ")
    verdict.append_text(status_text(sweep.status))
    if math.isfinite(sweep.duration_s):
        verdict.append(f" in {fmt_seconds(sweep.duration_s)}")
    verdict.append(f" · {sweep_counts(sweep)}")
    console.print(verdict)
    console.print(
        Text(
            f"`readtrack compare {sweep.sweep_id[:8]}` lines its settings up, each the mean over its seeds",
            style="dim",
        )
    )


def render_lineup(lineup: Lineup, console: Console, *, every_row: bool = False) -> None:
    """Settings side by side (``readtrack compare SWEEP_ID``): their knobs, then each number that is not
    the same in every column (``every_row``: every number), one column per setting (the mean over its
    seeds, ✓/✗ its verdict); as many tables as the width needs, each with the names."""
    first = lineup.columns[0]
    seeds = first.seeds if isinstance(first, GroupRecord) else [first.info.seed]
    what = f"sweep {lineup.sweep_id[:8]}" if lineup.sweep_id else "runs"
    head = Text(visible(lineup.plugin), style="bold")
    about = [f"{when(lineup.started_at)} UTC"] if lineup.started_at else []
    about += [first.info.device, *(["quick"] if first.info.quick else []), f"seeds {seeds_label(seeds)}"]
    about += [lineup.status] if lineup.status else []
    head.append(visible(f": {what} of {plural(len(lineup.columns), 'setting')} ({', '.join(about)})"))
    head.append("; each column the mean over its seeds")
    console.print(head)
    headers = ["defaults" if not c.info.settings else f"#{i}" for i, c in enumerate(lineup.columns, start=1)]
    shown = [n for n in lineup.numbers if every_row or not n.same]
    rows: list[tuple[str, str, list[str]]] = [
        ("settings", s.knob, [setting_cell(v, d) for v, d in zip(s.values, s.defaults, strict=True)])
        for s in lineup.settings
    ]
    rows += [(n.section, n.name, [_lined(n, i) for i in range(len(headers))]) for n in shown]
    longest = max((len(w) for _, name, _ in rows for w in visible(name).split()), default=4)
    name_width = min(max(longest, 8), 28)
    widths = [max([len(h), *(len(cells[i]) for _, _, cells in rows)]) for i, h in enumerate(headers)]
    for chunk in _chunks(widths, console.width - name_width - 1):
        table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
        table.add_column("name", ratio=1, overflow="fold", min_width=name_width)
        for i in chunk:
            table.add_column(headers[i], justify="right", no_wrap=True)
        section = None
        for where, name, cells in rows:
            if where != section:
                if section is not None:
                    table.add_section()
                section = where
                table.add_row(Text(where, style="bold"))
            table.add_row(Text(visible(name)), *(cells[i] for i in chunk))
        console.print(table)
    hidden = len(lineup.numbers) - len(shown)
    if hidden:
        ident = lineup.sweep_id[:8] if lineup.sweep_id else lineup.plugin
        console.print(
            Text(
                f"{hidden} {'number' if hidden == 1 else 'numbers'} the same in every setting not shown: "
                f"`readtrack compare {visible(ident)} --all` shows every number",
                style="dim",
            )
        )
    console.print(Text("settings: * the plugin's default (the setting did not turn the knob)", style="dim"))


def _lined(number: LinedNumber, i: int) -> str:
    """One column's value of a number (a bench median in seconds), ✓/✗ when it has a verdict."""
    value, passed = number.values[i], number.passed[i]
    text = (fmt_seconds if number.section == "bench" else fmt_number)(value)
    return text + ("" if passed is None else " ✓" if passed else " ✗")


def _chunks(widths: Sequence[int], room: int) -> list[list[int]]:
    """The columns (by index) in groups that fit ``room`` characters, each column with its gap."""
    chunks: list[list[int]] = [[]]
    used = 0
    for i, width in enumerate(widths):
        if chunks[-1] and used + width + 2 > room:
            chunks.append([])
            used = 0
        chunks[-1].append(i)
        used += width + 2
    return chunks
