"""How a sweep looks in a terminal: its end, one table per number with one row per setting
(`readtrack.batch.sweep`); in history, its settings (``readtrack history SWEEP_ID``); and its settings side
by side, one column each (``readtrack compare``, `readtrack.history.comparison.Lineup`)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from rich.console import Console
from rich.text import Text

from readtrack.base.safe_text import visible
from readtrack.base.words import plural, seeds_label
from readtrack.batch.sweep import NumberTable, Row
from readtrack.history.comparison import NOT_ASSERTED, LinedNumber, Lineup, value_meanings
from readtrack.history.machines import ran_on_line, runs_of
from readtrack.history.spread import MIN_RUNS, GroupRecord
from readtrack.history.sweeps import SweepRecord
from readtrack.plugins.knobs import setting_name, settings_label
from readtrack.render import tables, what_ran
from readtrack.render.cells import fmt_number, fmt_seconds, mean_sd, status_text, threads_note, when
from readtrack.render.runs import setting_cell, sweep_counts, swept_knobs


def render_sweep(plugin: str, found: Sequence[NumberTable], console: Console) -> None:
    """Each number's table: one row per setting (named first, the defaults' row first), how many runs
    recorded it, mean ± sd, 95% interval, how it stands beside the defaults and, for a claim, whether it was
    asserted; a legend that says what each word means."""
    if not found:
        console.print(f"{plugin}: the sweep's runs reported no number")
        return
    # a switch that swaps an arm's method (rmsnorm's norm): its arm named by the switch, "the norm arm", and
    # what it ran where said once (`readtrack.render.what_ran`)
    knobs = what_ran.switches(plugin)
    labels = list(dict.fromkeys(row.settings for n in found for row in n.rows))
    names, lines = what_ran.roles(knobs, [what_ran.settings_of(label, knobs) for label in labels], labels)
    for line in lines:
        console.print(Text(visible(line), style="dim"))
    for number in found:
        console.print(_title(number, what_ran.renamed(number.name, names)))
        claims = number.target is not None
        # the setting takes the squeeze; the numbers, the verdict and the claim stay whole, one space apart
        # below 100 columns (`readtrack.render.tables`)
        table = tables.table(tight=console.width < 100)
        table.add_column("setting")
        for column in ("runs", "mean ± sd", "95% interval"):
            table.add_column(column, kind="number", justify="right")
        for column in ("vs defaults", *(["claim"] if claims else [])):
            table.add_column(column, kind="verdict")
        logs = {row.spread.log_scale for row in number.rows}
        for row in number.rows:
            s = row.spread
            low, high = s.ci95
            spread = mean_sd(s.mean, s.std)
            interval = "–" if math.isnan(low) else f"{fmt_number(low)} … {fmt_number(high)}"
            if len(logs) > 1 and not math.isnan(low):  # a ratio with a value ≤ 0 in some row: say which
                interval += " log" if s.log_scale else " lin"
            label = Text("defaults", style="bold") if row.defaults else Text(visible(row.settings))
            cells: list[str | Text] = [label, str(row.runs), spread, interval, _verdict(row)]
            table.add_row(*cells, *([_claim(row)] if claims else []))
        console.print(table)
    console.print(Text(SWEEP_LEGEND, style="dim"))
    if any(row.claim == "not asserted with these settings" for number in found for row in number.rows):
        console.print(Text(CLAIM_LEGEND, style="dim"))


#: Under a sweep's tables: what its columns and words mean.
SWEEP_LEGEND = (
    "runs: how many runs (one per seed) recorded the number; 95% interval: Student's t over them (a "
    'ratio\'s, a name with " / " or "ratio", on the log scale: never negative); vs defaults: same when '
    "the two means print the same (or are both ≈ 0, at round-off), else differs when the setting's and "
    "the defaults' intervals do not overlap, within when they do; too few (N): "
    f"only N runs on a side, below {MIN_RUNS}: no verdict (more seeds: --seeds 0-4)"
)
#: Under a sweep's tables when a setting reported a claim's number: why it was not asserted.
CLAIM_LEGEND = (
    "claim: not asserted with these settings: a claim's threshold is calibrated on the defaults, so a "
    "setting with knobs turned reports the number without asserting it"
)


def _title(number: NumberTable, name: str) -> Text:
    """The number's ``name``, its claim (``the claim: ≥ 2``) and, for a ratio, that its interval is on the
    log scale."""
    title = Text(visible(name), style="bold")
    notes = []
    if number.target is not None:
        notes.append(f"the claim: {'≥' if number.higher_is_better else '≤'} {number.target:g}")
    if all(row.spread.log_scale for row in number.rows):
        notes.append("a ratio: intervals on the log scale")
    if notes:
        title.append(f"  ({'; '.join(notes)})", style="dim")
    return title


def _verdict(row: Row) -> Text:
    if row.verdict == "defaults":
        return Text("–", style="dim")
    if row.verdict == "too few runs":
        return Text(f"too few ({row.fewest})", style="yellow")
    if row.verdict == "no interval":
        return Text("no interval", style="dim")
    return Text(row.verdict, style="bold" if row.verdict == "differs" else "")


def _claim(row: Row) -> Text:
    """The claim's cell: ``held 3/3`` or ``missed 1/3`` where asserted, else that it was not."""
    if row.claim == "asserted":
        passed, runs = row.spread.n_passed, len(row.spread.seeds)
        return (
            Text(f"held {passed}/{runs}", style="green")
            if passed == runs
            else Text(f"missed {runs - passed}/{runs}", style="red")
        )
    if row.claim == "not asserted at this size":
        return Text("reported (quick)", style="dim")
    return Text("not asserted" if row.claim else "", style="dim")


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
    table = tables.table()
    table.add_column("setting")
    table.add_column("status", kind="verdict")
    for column in ("seeds passed", "time"):
        table.add_column(column, kind="number", justify="right")
    table.add_column("group id", kind="id")
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
        label = setting_name(group.info.settings)
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
    """Settings or runs side by side (``readtrack compare SWEEP_ID``, ``compare NAME ID ID ID``): their
    knobs, then each number that is not the same in every column (``every_row``: every number), one column
    each (a multi-seed run's mean over its seeds, ✓/✗ its verdict, † a claim not asserted with that
    setting); each column headed by its setting (a sweep's) or its id, as many tables as the width needs."""
    head = Text(visible(lineup.plugin), style="bold")
    head.append(visible(f": {_lineup_about(lineup)}"))
    console.print(head)
    where = ran_on_line(runs_of(lineup.columns))
    if where:  # numbers of two machines need not agree to the bit
        console.print(Text(visible(where), style="yellow"))
    headers = _headers(lineup)
    for header, label, column in zip(headers, lineup.labels, _column_notes(lineup), strict=True):
        if header != label:  # what a header that is not the setting itself stands for
            console.print(Text(visible(f"  {header}: {label}{column}"), style="dim"))
    shown = [n for n in lineup.numbers if every_row or not n.same]
    rows: list[tuple[str, str, list[str]]] = [
        ("settings", s.knob, [setting_cell(v, d) for v, d in zip(s.values, s.defaults, strict=True)])
        for s in lineup.settings
    ]
    turned = [bool(c.info.settings) for c in lineup.columns]
    rows += [(n.section, n.name, [_lined(n, i, turned[i]) for i in range(len(headers))]) for n in shown]
    longest = max((len(w) for _, name, _ in rows for w in visible(name).split()), default=4)
    name_width = min(max(longest, 8), 28)
    widths = [max([len(h), *(len(cells[i]) for _, _, cells in rows)]) for i, h in enumerate(headers)]
    for chunk in _chunks(widths, console.width - name_width - 1):
        table = tables.table()
        table.add_column("name", min_width=name_width)
        for i in chunk:  # a value with its verdict (✓, ✗, †): whole
            table.add_column(visible(headers[i]), kind="verdict", justify="right")
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
        asked = lineup.sweep_id[:8] if lineup.sweep_id else " ".join([lineup.plugin, *lineup.ids])
        console.print(
            Text(
                f"{hidden} {'number' if hidden == 1 else 'numbers'} the same in every column not shown: "
                f"`readtrack compare {visible(asked)} --all` shows every number",
                style="dim",
            )
        )
    console.print(Text("settings: * the plugin's default (the column did not turn the knob)", style="dim"))
    for line in value_meanings(lineup.plugin, lineup.settings):
        console.print(Text(visible(line), style="dim"))
    if any("†" in cell for _, _, cells in rows for cell in cells):
        console.print(Text(f"† {NOT_ASSERTED}", style="dim"))


#: A setting this long or longer is a header ``#N``, explained above the table.
_LONGEST_HEADER = 16


def _headers(lineup: Lineup) -> list[str]:
    """Each column's header: a sweep's setting (``#N`` when long), else the run's id, which tells two runs
    of one setting apart."""
    if lineup.sweep_id is None:
        return lineup.idents
    return [label if len(label) < _LONGEST_HEADER else f"#{i}" for i, label in enumerate(lineup.labels, 1)]


def _column_notes(lineup: Lineup) -> list[str]:
    """What a header line says of each column beyond its setting: its seeds and when it ran."""
    if lineup.sweep_id is not None:
        return [""] * len(lineup.columns)
    seeds = [c.seeds if isinstance(c, GroupRecord) else [c.info.seed] for c in lineup.columns]
    notes = []
    for column, mine in zip(lineup.columns, seeds, strict=True):
        started = column.started_at if isinstance(column, GroupRecord) else column.info.started_at
        which = f", seeds {seeds_label(mine)}" if any(s != seeds[0] for s in seeds) else ""
        notes.append(f"{which}, {when(started)} UTC, {column.status}")
    return notes


def _lineup_about(lineup: Lineup) -> str:
    """``sweep 1a2b3c4d of 3 settings (date, cpu, quick, seeds 0-1, passed); each column the mean over its
    seeds``, or of runs lined up, ``3 runs side by side (cpu, quick)``."""
    seeds = {tuple(c.seeds) if isinstance(c, GroupRecord) else (c.info.seed,) for c in lineup.columns}
    about = [f"{when(lineup.started_at)} UTC"] if lineup.started_at else []
    about += list(dict.fromkeys(c.info.device for c in lineup.columns))
    about += ["quick"] if all(c.info.quick for c in lineup.columns) else []
    about += [f"seeds {seeds_label(list(seeds.pop()))}"] if len(seeds) == 1 else []
    about += [lineup.status] if lineup.status else []
    what = (
        f"sweep {lineup.sweep_id[:8]} of {plural(len(lineup.columns), 'setting')}"
        if lineup.sweep_id
        else f"{plural(len(lineup.columns), 'run')} side by side"
    )
    groups = any(isinstance(c, GroupRecord) for c in lineup.columns)
    mean = "; a multi-seed column the mean over its seeds" if groups else ""
    return f"{what} ({', '.join(about)}){mean}"


def _lined(number: LinedNumber, i: int, turned: bool) -> str:
    """One column's value of a number (a bench median in seconds), ✓/✗ when it has a verdict, † for a
    claim's number a column with knobs turned reported without asserting it."""
    value, passed = number.values[i], number.passed[i]
    text = (fmt_seconds if number.section == "bench" else fmt_number)(value)
    if passed is None and number.section == "target" and turned and value is not None:
        return text + " †"
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
