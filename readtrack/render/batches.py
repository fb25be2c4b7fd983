"""How many runs at once look in a terminal: the live progress of ``readtrack run --seeds/--all``, a
multi-seed run's per-seed table and spread, and the shelf's closing table.

Presentation only: the runs come from ``readtrack.batch.groups``, the statistics from
``readtrack.history.spread``."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from rich import box
from rich.console import Console, Group, RenderableType
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from readtrack.base.safe_text import visible
from readtrack.base.words import plural
from readtrack.batch.groups import Job, PluginOutcome, seeds_label
from readtrack.history.machines import attempts_line, ran_on_line
from readtrack.history.spread import GroupRecord, Spread, seed_dependent, spreads
from readtrack.plugins import events
from readtrack.plugins.knobs import value_text
from readtrack.plugins.records import RunRecord
from readtrack.render.cells import fmt_number, fmt_seconds, mean_sd, status_text
from readtrack.render.headline import claim_verdict, run_headline

DOTS = "·∙•●"


class BatchProgress:
    """One overall bar (runs done of all) and one line per running worker: its plugin, seed and stage.
    Use as a context manager; feed it every event of :func:`readtrack.batch.groups.run_batch`. Each finished
    run is also printed as one line above the bars, so a log (or a terminal that is not one) keeps them."""

    def __init__(self, console: Console, total: int, title: str) -> None:
        self.console = console
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(bar_width=24),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        self.overall = self.progress.add_task(title, total=total)
        self.rows: dict[Job, TaskID] = {}

    def __enter__(self) -> BatchProgress:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def __call__(self, job: Job, event: dict[str, Any]) -> None:
        kind = event.get("type")
        if events.is_job(event, "start"):
            self.rows[job] = self.progress.add_task(f"  {_who(job)} seed {job.seed}", total=None)
        elif events.is_job(event, "end"):
            row = self.rows.pop(job, None)
            if row is not None:
                self.progress.remove_task(row)
            if not event.get("retry"):  # a run whose Ray node died ends twice: once lost, once done
                self.progress.advance(self.overall)
            line = Text(f"{_who(job)} seed {job.seed}: ")
            line.append_text(status_text(str(event.get("status"))))
            line.append(f" in {fmt_seconds(event.get('wall_s'))}")
            if event.get("error"):
                line.append(f": {visible(str(event['error']), multiline=True)}", style="red")
            self.progress.console.print(line)
        elif events.is_stage(event, "start") and job in self.rows:
            self.progress.update(
                self.rows[job], description=f"  {_who(job)} seed {job.seed} {event['stage']}", total=None
            )
        elif kind == events.PROGRESS and job in self.rows and event.get("total"):
            self.progress.update(self.rows[job], completed=event.get("done", 0), total=event["total"])


# -- one plugin on several seeds -------------------------------------------------------------------
def _value(value: float, passed: bool | None) -> Text:
    cell = Text(fmt_number(value) if math.isfinite(value) else "–")
    if passed is not None:
        cell.append(" ✓" if passed else " ✗", style="green" if passed else "bold red")
    return cell


def seed_table(group: GroupRecord) -> Table:
    """One column per seed: its status, each target's value (✓/✗), each measured value, its time."""
    found = spreads(group.runs)
    by_seed = {r.info.seed: i for i, r in enumerate(group.runs)}
    table = Table(title="per seed", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("", ratio=1, min_width=20)
    for seed in group.seeds:
        table.add_column(f"seed {seed}", justify="right", no_wrap=True)
    statuses = [
        status_text(group.runs[by_seed[seed]].status) if seed in by_seed else status_text("error")
        for seed in group.seeds
    ]
    table.add_row("status", *statuses)
    for s in found:
        cells = [
            _value(s.values[by_seed[seed]], s.passed[by_seed[seed]] if s.kind == "target" else None)
            if seed in by_seed
            else Text("–")
            for seed in group.seeds
        ]
        table.add_row(s.name if s.kind == "target" else Text(f"{s.name} (measured)", style="dim"), *cells)
    times = [
        fmt_seconds(group.runs[by_seed[seed]].duration_s) if seed in by_seed else "–" for seed in group.seeds
    ]
    table.add_row(Text("time", style="dim"), *times)
    if any(run.info.environment.get("node") for run in group.runs):  # a cluster's: which machine ran each
        table.add_row(Text("ran on", style="dim"), *(_ran_on(group, by_seed, seed) for seed in group.seeds))
    return table


def _ran_on(group: GroupRecord, by_seed: dict[int, int], seed: int) -> str:
    """``vm 1a2b3c4d``: the host and Ray node that ran ``seed`` (``–`` for none)."""
    if seed not in by_seed:
        return "–"
    env = group.runs[by_seed[seed]].info.environment
    return f"{env.get('host') or '?'} {str(env.get('node') or '')[:8]}".strip()


def dot_plot(spread: Spread, width: int = 13) -> Text:
    """The seeds' values on one line from min to max, the target as ``|`` when it falls inside."""
    values = spread.finite
    if not values:
        return Text("")
    low, high = min(values), max(values)
    if spread.target is not None and math.isfinite(spread.target):
        low, high = min(low, spread.target), max(high, spread.target)
    span = high - low or 1.0
    counts = [0] * width
    for v in values:
        counts[min(width - 1, int((v - low) / span * (width - 1) + 0.5))] += 1
    cells = [DOTS[min(len(DOTS) - 1, c)] if c else " " for c in counts]
    line = Text("".join(cells))
    if spread.target is not None and math.isfinite(spread.target):
        at = min(width - 1, int((spread.target - low) / span * (width - 1) + 0.5))
        line = Text("".join(cells[:at]) + ("|" if cells[at] == " " else cells[at]) + "".join(cells[at + 1 :]))
        line.stylize("bold yellow", at, at + 1)
    return Text("[") + line + Text("]")


def _g(value: float) -> str:
    return f"{value:.3g}" if math.isfinite(value) else "–"


def spread_table(found: Sequence[Spread], width: int = 120) -> Table:
    """Per target (then per measured value): mean ± standard deviation, the 95% CI of the mean (Student
    t), min and max, how many seeds passed, and the seeds' values on one line (``|`` the target). Below
    ``width`` 120 the values' line is left out, below 100 min … max too."""
    table = Table(title="over seeds", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("target", ratio=1, min_width=20)
    columns = ["needed", "mean ± std", "95% CI", "min … max", "passed", "values"]
    shown = [
        c for c in columns if not ((c == "values" and width < 120) or (c == "min … max" and width < 100))
    ]
    for column in shown:
        table.add_column(column, justify="left" if column == "values" else "right", no_wrap=True)
    for s in found:
        spread = mean_sd(s.mean, s.std if len(s.finite) > 1 else math.nan)
        low, high = s.ci95
        needed = "" if s.target is None else f"{'≥' if s.higher_is_better else '≤'} {_g(s.target)}"
        if s.kind == "target":
            passed = Text(f"{s.n_passed}/{len(s.seeds)}", style="green" if s.holds else "bold red")
        else:
            passed = Text("–", style="dim")
        name = s.name if s.kind == "target" else Text(f"{s.name} (measured)", style="dim")
        cells: dict[str, str | Text] = {
            "needed": needed,
            "mean ± std": spread,
            "95% CI": f"{_g(low)} … {_g(high)}" if math.isfinite(low) else "–",
            "min … max": f"{_g(s.low)} … {_g(s.high)}",
            "passed": passed,
            "values": dot_plot(s),
        }
        table.add_row(name, *(cells[c] for c in shown))
    return table


def group_renderables(group: GroupRecord, width: int = 120) -> list[RenderableType]:
    """A multi-seed run: the per-seed table (and, under it, the machines when its seeds ran on more than
    one), the spread, and which targets failed on which seeds."""
    found = spreads(group.runs)
    parts: list[RenderableType] = [seed_table(group)]
    where = ran_on_line(group.runs)
    if where:
        parts.append(Text(visible(where), style="yellow"))
    for run in group.runs:  # a seed a cluster ran again: every attempt, where and how it ended
        tried = attempts_line(run)
        if tried:
            parts.append(Text(visible(f"seed {run.info.seed}: {tried}"), style="yellow"))
    if found:
        parts.append(spread_table(found, width))
    for s in found:
        if s.kind == "target" and not s.holds:
            seeds = ", ".join(str(x) for x in s.failing_seeds())
            parts.append(Text(f"✗ {s.name} failed on seed {seeds}", style="bold red"))
    for s in seed_dependent(found, group.runs):
        unrecorded = s.unrecorded_seeds()
        where = f"seed{'s' if len(unrecorded) > 1 else ''} {seeds_label(unrecorded)}"
        why = "a name that changes with the seed cannot be lined up (put what varies in the detail)"
        parts.append(
            Text(visible(f"! {s.name}: not recorded on {where}, whose run finished: {why}"), style="yellow")
        )
    for seed, why in group.missing.items():
        parts.append(Text(visible(f"! seed {seed} gave no record: {why}", multiline=True), style="red"))
    return parts


def render_group(group: GroupRecord, console: Console) -> None:
    info = group.runs[0].info if group.runs else None
    console.print()
    console.print(run_headline(group.plugin, info, group.seeds))
    for part in group_renderables(group, console.width):
        console.print(part)
    verdict = Text("result: ")
    verdict.append_text(status_text(group.status))
    verdict.append(f" in {fmt_seconds(group.duration_s)}")
    claim = claim_verdict(group.runs)
    verdict.append(f" · {claim}" if claim else "")
    console.print(verdict)


# -- the shelf -------------------------------------------------------------------------------------
_ORDER = {"error": 0, "timeout": 1, "cancelled": 2, "failed": 3, "interrupted": 4, "passed": 5}


def _stage_cell(runs: Sequence[RunRecord], stage: str) -> Text:
    statuses = [s.status for r in runs for s in r.stages if s.stage == stage]
    if not statuses:
        return Text("–", style="dim")
    passed = sum(st == "passed" for st in statuses)
    if len(statuses) == 1:
        return status_text(statuses[0])
    return Text(f"{passed}/{len(statuses)}", style="green" if passed == len(statuses) else "bold red")


def _targets_cell(outcome: PluginOutcome) -> Text:
    found = [s for s in spreads(outcome.runs) if s.kind == "target"]
    cell = Text()
    for i, s in enumerate(found):
        if i:
            cell.append("\n")
        ok = s.holds
        value = fmt_number(s.values[0]) if len(s.seeds) == 1 else mean_sd(s.mean, s.std)
        cell.append(f"{s.name} {value}")
        mark = " ✓" if ok else (f" ✗ {s.n_passed}/{len(s.seeds)}" if len(s.seeds) > 1 else " ✗")
        cell.append(mark, style="green" if ok else "bold red")
    return cell


def shelf_table(outcomes: Sequence[PluginOutcome]) -> Table:
    """Every plugin of a shelf run, failures first: check, each target, bench, seconds."""
    table = Table(
        title="the shelf, failures first", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False
    )
    for column in ("plugin", "status", "check", "targets", "bench", "seconds"):
        table.add_column(
            column, no_wrap=column != "targets", justify="right" if column == "seconds" else "left"
        )
    for o in sorted(outcomes, key=lambda o: (_ORDER.get(o.status, 0), o.plugin)):
        status = status_text(o.status)
        if o.error and o.entry is None:
            status.append(f"\n{visible(o.error, multiline=True)}", style="red")
        table.add_row(
            Text(visible(o.plugin)),
            status,
            _stage_cell(o.runs, "check"),
            _targets_cell(o),
            _stage_cell(o.runs, "bench"),
            f"{o.wall_s:.1f}",
        )
    return table


def render_shelf(outcomes: Sequence[PluginOutcome], console: Console, wall_s: float) -> None:
    console.print()
    console.print(shelf_table(outcomes))
    passed = sum(o.status == "passed" for o in outcomes)
    verdict = Text(
        f"{passed} of {plural(len(outcomes), 'plugin')} passed",
        style="green" if passed == len(outcomes) else "bold red",
    )
    verdict.append(f" in {fmt_seconds(wall_s)}", style="")
    console.print(Group(verdict))


def _who(job: Job) -> str:
    """``rmsnorm``, or in a sweep ``rmsnorm lr=0.01`` (safe for the terminal)."""
    return visible(" ".join([job.plugin, *(f"{k}={value_text(v)}" for k, v in job.settings)]))
