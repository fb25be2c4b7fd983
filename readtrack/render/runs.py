"""How runs look in a terminal: the live progress lines and the rich tables of ``readtrack run``,
``history``, ``compare`` and ``plugins``.

Only presentation lives here; the numbers come from ``readtrack.runner.run``, ``readtrack.history.runs`` and
``readtrack.plugins.discovery``. Importing this module is light (rich only), so the listing commands stay
fast."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from rich.console import Console, RenderableType
from rich.measure import Measurement
from rich.text import Text

from readtrack.base.safe_text import visible
from readtrack.base.words import seeds_label
from readtrack.history.comparison import Delta, RunComparison, value_meanings
from readtrack.history.machines import attempts_line, ran_on_line, runs_of
from readtrack.history.spread import GroupRecord, at_round_off
from readtrack.history.sweeps import Listed, SweepRecord
from readtrack.plugins import events
from readtrack.plugins.knobs import setting_name, value_text
from readtrack.plugins.records import NOISE_LIMIT, Emit, RunRecord, StageResult
from readtrack.render import tables
from readtrack.render.cells import (
    STAGE_GLYPHS,
    STATUS_STYLE,
    fmt_bytes,
    fmt_number,
    fmt_seconds,
    fmt_si,
    sparkline,
    status_text,
    when,
)
from readtrack.render.headline import claim_verdict, run_headline
from readtrack.render.tables import Fitted
from readtrack.runner.devices import environment_line


def _mark(passed: bool | None) -> Text:
    if passed is None:
        return Text("")
    return Text("✓", style="green") if passed else Text("✗", style="bold red")


# -- a run -----------------------------------------------------------------------------------------
def live_printer(console: Console) -> Emit:
    """An ``emit`` for ``run_plugin`` that prints stage starts, ends and log lines as they happen."""

    def show(event: dict[str, Any]) -> None:
        kind = event.get("type")
        if events.is_stage(event, "start"):
            console.print(f"[bold]▶ {event['stage']}[/bold]", highlight=False)
        elif events.is_stage(event, "end"):
            status = event.get("status", "?")
            line = Text(f"  {event['stage']} ")
            line.append_text(status_text(status))
            if event.get("duration_s"):
                line.append(f" in {fmt_seconds(event['duration_s'])}")
            if event.get("error"):
                line.append(f": {visible(str(event['error']), multiline=True)}")
            console.print(line)
        elif kind == events.LOG:
            console.print(Text(f"  {visible(str(event.get('message', '')), multiline=True)}", style="dim"))

    return show


def render_record(record: RunRecord, console: Console) -> None:
    """The report after a run: its setting, check table, training summary, bench, environment, verdict."""
    from readtrack.render import what_ran

    info = record.info
    console.print()
    console.print(run_headline(info.plugin, info))
    ran = what_ran.swapped(what_ran.switches(info.plugin), info.settings) if info.settings else {}
    for stage in record.stages:
        results, bench = stage_tables(what_ran.renamed_stage(stage, ran))  # "LayerNorm (norm=layer): ..."
        for renderable in (*results, *bench):
            console.print(renderable)
        if stage.status in ("error", "timeout", "cancelled") and stage.error:
            line = Text(f"{stage.stage}: ")
            line.append_text(status_text(stage.status))
            line.append(f": {visible(stage.error, multiline=True)}")
            console.print(line)
            if stage.traceback:
                console.print(Text(visible(stage.traceback.rstrip(), multiline=True), style="dim"))
    console.print(Text(visible(environment_line(info.environment)), style="dim"))
    tried = attempts_line(record)
    if tried:  # a cluster ran it again: every attempt, where and how it ended
        console.print(Text(visible(tried), style="yellow"))
    verdict = Text("result: ")
    verdict.append_text(status_text(record.status))
    verdict.append(f" in {fmt_seconds(record.duration_s)} · ")
    verdict.append(" ".join(f"{s.stage} {s.status}" for s in record.stages))
    claim = claim_verdict([record])
    verdict.append(f" · {claim}" if claim else "")
    console.print(verdict)


def stage_tables(
    stage: StageResult, *, curves: bool = True
) -> tuple[list[RenderableType], list[RenderableType]]:
    """What one stage recorded, as (results, benchmark) renderables, whatever the stage: its comparisons
    and properties, targets, measured values and (with ``curves``) curves; then its bench table and
    footnotes. A bench stage's own checks (flashattention's memory bound) show like a check stage's."""
    results: list[RenderableType] = []
    if stage.comparisons:
        results.append(_check_table(stage))
        if any(c.kind == "close" for c in stage.comparisons):
            results.append(Text(CHECK_LEGEND, style="dim"))
    if stage.targets or stage.measured or (curves and stage.curves):
        shown = (
            stage
            if curves
            else StageResult(stage.stage, stage.status, targets=stage.targets, measured=stage.measured)
        )
        results.extend(_train_tables(shown))
    bench: list[RenderableType] = []
    if stage.bench:
        table, notes = _bench_table(stage)
        bench = [table, *notes]
    return results, bench


def _named(name: str, detail: str | None) -> Text:
    """A table cell: the name, and a dim second line with its detail when there is one."""
    cell = Text(visible(name))
    if detail:
        cell.append(f"\n{visible(detail, multiline=True)}", style="dim")
    return cell


def _check_table(stage: StageResult) -> Fitted:
    title = "check: implementation vs reference" if stage.stage == "check" else f"{stage.stage}: checks"
    table = tables.table(title)
    table.add_column("check")  # text: a word wider than what the numbers leave folds, not cut
    for column in ("max abs", "worst err/tol", "atol / rtol"):
        table.add_column(column, kind="number", justify="right")
    table.add_column("ok", kind="verdict")
    for c in stage.comparisons:
        if c.kind == "close":
            tolerance = f"{c.atol:g} / {c.rtol:g}" if c.atol is not None and c.rtol is not None else ""
            row = [fmt_number(c.max_abs), fmt_number(c.worst), tolerance]
        else:
            row = [fmt_number(c.max_abs) if c.max_abs is not None else "", "", "property"]
        table.add_row(_named(c.name, c.detail), *row, _mark(c.passed))
    return table


#: Under the check table: what the "worst err/tol" column means, so the verdict can be read off it.
CHECK_LEGEND = "worst err/tol: the largest |ours − reference| / (atol + rtol·|reference|); ✓ when ≤ 1"


def _train_tables(stage: StageResult) -> list[Fitted]:
    made = []
    if stage.targets:
        title = "train: the claim at toy scale" if stage.stage == "train" else f"{stage.stage}: targets"
        table = tables.table(title)
        table.add_column("target")
        for column in ("measured", "needed"):
            table.add_column(column, kind="number", justify="right")
        table.add_column("ok", kind="verdict")
        for t in stage.targets:
            needed = f"{'≥' if t.higher_is_better else '≤'} {fmt_number(t.target)}"
            table.add_row(_named(t.name, t.detail), fmt_number(t.value), needed, _mark(t.passed))
        made.append(table)
    if stage.measured:
        table = tables.table("measured (not asserted)")
        table.add_column("name")
        table.add_column("value", kind="number", justify="right")
        for m in stage.measured:
            table.add_row(_named(m.name, m.detail), fmt_number(m.value))
        made.append(table)
    if stage.curves:
        table = tables.table("curves")
        table.add_column("metric")
        for column in ("curve", "first", "last", "points"):
            table.add_column(column, kind="number")
        for name, points in stage.curves.items():
            values = [v for _, v in points]
            first = fmt_number(values[0]) if values else "–"
            last = fmt_number(values[-1]) if values else "–"
            table.add_row(name, sparkline(values), first, last, str(len(values)))
        made.append(table)
    return made


def _relative(spread: float, median: float) -> str:
    """The IQR as a share of the median: noise at a glance."""
    if not (math.isfinite(spread) and math.isfinite(median)) or median <= 0:
        return "–"
    return f"±{spread / median * 100:.2g}%" if spread / median < 0.1 else f"±{spread / median * 100:.0f}%"


def _bench_table(stage: StageResult) -> tuple[Fitted, list[Text]]:
    """The bench table (columns nobody filled are left out) and its footnotes (FLOP formulas, errors)."""
    rows = stage.bench
    columns = ["median", "IQR", "ratio", "peak mem"]
    if any(r.throughput is not None for r in rows):
        columns.append("throughput")
    if any(r.tflops is not None for r in rows):
        columns.append("TFLOP/s")
    title = "bench (ratio = median / baseline median, < 1 is faster; IQR relative to the median)"
    base = next((r for r in rows if r.baseline and r.error is None), None)
    table = tables.table(title, collapse_padding=True)
    table.add_column("variant")  # text: wraps between words, "torch.optim.AdamW" whole where it fits
    for column in columns:
        table.add_column(column, kind="number", justify="right")
    notes: list[Text] = []
    for r in rows:
        variant = _named(r.label, " ".join(x for x in (r.shape, r.dtype) if x))
        if r.error:
            variant.append(" ✗", style="bold red")
            notes.append(Text(f"✗ {r.label}: {r.error}", style="red"))
        elif r.flop_formula and not any(n.plain.endswith(f": {r.flop_formula}") for n in notes):
            notes.append(Text(f"FLOPs of {r.label}: {r.flop_formula}", style="dim"))
        noisy = r.noisy or (base is not None and base.noisy and not r.baseline)
        ratio = "baseline" if r.baseline else (f"{r.ratio:.2f}×" if r.ratio is not None else "–")
        cells: dict[str, str | Text] = {
            "median": fmt_seconds(r.median_s),
            "IQR": Text(_relative(r.iqr_s, r.median_s), style="yellow" if r.noisy else ""),
            "ratio": Text(f"{ratio} ?", style="yellow") if noisy and r.error is None else ratio,
            "peak mem": fmt_bytes(r.peak_mem_bytes),
            "throughput": f"{fmt_si(r.throughput)} {r.unit or ''}".strip()
            if r.throughput is not None
            else "–",
            "TFLOP/s": f"{r.tflops:.3g}" if r.tflops is not None else "–",
        }
        table.add_row(variant, *(cells[c] for c in columns))
    if any(r.noisy for r in rows):
        notes.append(
            Text(
                f"? noisy: an IQR over {NOISE_LIMIT:.0%} of the median (was the machine busy?); "
                "these times and ratios are not reliable: run again, or without --quick",
                style="yellow",
            )
        )
    return table, notes


# -- history, compare, plugins ---------------------------------------------------------------------
#: History is a few lines an entry (`readtrack.render.stacked`) when its narrow table, the columns that never
#: wrap whole, leaves its setting fewer columns than this: the ids would go.
STACKED_BELOW = 4
#: The setting's width the full table must leave it (or its widest line), else the narrow one is drawn
SETTING_ROOM = 24


def render_history(entries: Sequence[Listed], console: Console, plugin: str | None = None) -> None:
    """Runs made alone, multi-seed runs (how many seeds passed) and sweeps (what they swept, how many runs
    passed), one entry each, newest first."""
    if not entries and plugin:
        console.print(f"no runs of {plugin} recorded yet: try `readtrack run {plugin} --quick`")
        return
    if not entries:
        console.print("no runs recorded yet (`readtrack plugins` lists what can run)")
        return
    # The setting comes first after the plugin (what the numbers belong to); the date, the plugin, the status
    # and the run id are never cut (`readtrack.render.tables`). Where every column does not fit without
    # folding a word, the stages are left out (the status sums them up), the device sits under the setting,
    # the time under the status, and the columns sit closer; a setting wraps at a space or after a comma.
    # Narrower still (a phone's terminal, a split pane), no table fits: each entry is a few lines, its id
    # first (issue 94: at 30 columns the id column went, and the setting stood one letter a line).
    table = _history_table(entries, narrow=False)
    narrow = not table.fits(console)  # a sweep's setting was 6 lines at 100: it asks `SETTING_ROOM`
    if narrow:
        table = _history_table(entries, narrow=True)
    if narrow and table.text_room(console) < STACKED_BELOW:
        from readtrack.render.stacked import history_lines

        for line in history_lines(entries):
            console.print(line)
    else:
        console.print(table)
    # the footer explains only what the lines show: the stages' glyphs of the runs made alone, when the
    # stages column is there, and the thread count, when a device shows one
    shown = {s.status for r in entries if isinstance(r, RunRecord) for s in r.stages}
    legend = " ".join(f"{glyph} {status}" for status, glyph in STAGE_GLYPHS.items() if status in shown)
    parts = [] if narrow or not legend else [f"c/t/b: check/train/bench · {legend}"]
    if any(getattr(r.info if isinstance(r, RunRecord) or r.runs else None, "threads", None) for r in entries):
        parts.append("cpu×N: N CPU threads")
    if parts:
        console.print(Text(" · ".join(parts), style="dim"))
    if any(isinstance(r, SweepRecord) for r in entries):
        console.print(
            Text(
                "a sweep's id: `readtrack history ID` shows its settings, `readtrack compare ID` lines "
                "them up",
                style="dim",
            )
        )


def _history_table(entries: Sequence[Listed], *, narrow: bool) -> Fitted:
    """History's table: every column, or ``narrow`` (no duration, stages or device columns: the device
    under the setting, the time under the status, the columns one space apart)."""
    table = tables.table("run history, newest first", tight=narrow)
    kinds: dict[str, tables.Kind] = {
        "started (UTC)": "id",
        "plugin": "id",
        "setting": "text",
        "seeds": "number",
        "status": "verdict",
        "duration": "number",
        "stages": "words",
        "device": "text",
        "run id": "id",
    }
    columns = [c for c in kinds if not (narrow and c in ("duration", "stages", "device"))]
    for column in columns:
        table.add_column(column, kind=kinds[column], at_least=SETTING_ROOM if column == "setting" else 0)
    for r in entries:
        info = r.info if not isinstance(r, GroupRecord) or r.runs else None
        device = "" if info is None else info.device + (f"×{info.threads}" if info.threads else "")
        device += "" if info is None else " quick" if info.quick else " full"
        if isinstance(r, SweepRecord):
            # narrow: a knob a line, its values wrapping after a comma, never inside a number (each knob
            # already made visible: a line break between them is one)
            swept = swept_knobs(r, values=", ", knobs="\n" if narrow else " ")
            where = Text(f"a sweep of {len(r.settings)} settings: {swept}", style="bold")
            seed, stages, ident = seeds_label(r.seeds), sweep_counts(r), r.sweep_id[:8]
        elif isinstance(r, GroupRecord):
            setting = setting_name(info.settings) if info is not None else "defaults"
            where = Text(visible(setting), style="" if setting == "defaults" else "bold")
            passed = sum(run.status == "passed" for run in r.runs)
            seed, ident = seeds_label(r.seeds), r.group_id[:8]
            stages = f"{passed}/{len(r.seeds)} seeds passed"
        else:
            setting = setting_name(r.info.settings)
            where = Text(visible(setting), style="" if setting == "defaults" else "bold")
            seed = str(r.info.seed)
            stages = " ".join(f"{s.stage[0]}{STAGE_GLYPHS.get(s.status, '?')}" for s in r.stages)
            ident = r.info.run_id[:8]
        if narrow and device:
            where.append("\n")
            where.append(visible(device), style="dim")
        took = fmt_seconds(r.duration_s) if r.status != "running" else ""
        status = status_text(r.status) if not (narrow and isinstance(r, SweepRecord)) else sweep_status(r)
        if narrow and took:
            status.append(f"\n{took}", style="dim")
        cells: list[str | Text] = [
            when(r.info.started_at if isinstance(r, RunRecord) else r.started_at),
            r.info.plugin if isinstance(r, RunRecord) else r.plugin,
            where,
            seed,
            status,
            took,
            stages,
            device,
            ident,
        ]
        if narrow:
            del cells[5:8]
        table.add_row(*(Text(visible(c)) if isinstance(c, str) else c for c in cells))
    return table


def swept_knobs(sweep: SweepRecord, *, values: str = ",", knobs: str = " ") -> str:
    """``lr=0.001,0.003 steps=20,40``: each knob a sweep turned, with its values (joined by ``values``, the
    knobs by ``knobs``), each control character written out."""
    return knobs.join(visible(f"{k}={values.join(map(value_text, v))}") for k, v in sweep.knobs.items())


def sweep_status(sweep: SweepRecord) -> Text:
    """A sweep's status over how many of its runs passed (and are missing), for a narrow history."""
    counts = sweep.counts()
    cell = status_text(sweep.status)
    cell.append(f"\n{counts['passed']}/{counts['runs']} passed")
    cell.append(f"\n{counts['missing']} missing" if counts["missing"] else "")
    return cell


def sweep_counts(sweep: SweepRecord) -> str:
    """``4/6 passed, 1 failed, 1 missing``: how a sweep's runs ended."""
    counts = sweep.counts()
    parts = [f"{counts['passed']}/{counts['runs']} passed"]
    return ", ".join(parts + [f"{counts[k]} {k}" for k in ("failed", "missing") if counts[k]])


def render_comparison(comparison: RunComparison, console: Console, *, every_row: bool = False) -> None:
    """The two runs, each named by its setting first when either turned knobs, then one row per number under
    its stage's heading; numbers that did not move (same value, same verdict) are counted, not shown, unless
    ``every_row``; a claim's number a run with knobs turned reported without asserting it is marked †."""
    from readtrack.history.comparison import NOT_ASSERTED

    old, new = comparison.older, comparison.newer
    turned_any = bool(old.info.settings or new.info.settings)

    def label(record: RunRecord | GroupRecord) -> str:
        info = record.info
        setting = f"{setting_name(info.settings)}: " if turned_any else ""
        if isinstance(record, GroupRecord):
            seeds = f"seeds {seeds_label(record.seeds)}, mean of {len(record.runs)}"
            ident = f"multi-seed run {record.group_id[:8]}"
            return f"{setting}{ident} ({record.started_at}, {seeds}, {record.status})"
        return f"{setting}run {info.run_id[:8]} ({info.started_at}, {info.device}, {record.status})"

    head = Text(visible(comparison.plugin), style="bold")
    head.append(visible(f": {label(old)} → {label(new)}"))
    console.print(head)
    where = ran_on_line(runs_of([old, new]))
    if where:  # numbers of two machines need not agree to the bit
        console.print(Text(visible(where), style="yellow"))
    shown = [d for d in comparison.deltas if every_row or not _unchanged(d)]
    # The name takes the squeeze, wrapping between words; the numbers and the verdicts stay whole
    # (`readtrack.render.tables`).
    table = tables.table()
    for column in ("name", "older", "newer", "change", "ratio", "pass"):
        kind: tables.Kind = "text" if column == "name" else "verdict" if column == "pass" else "number"
        table.add_column(column, kind=kind, justify="left" if kind != "number" else "right")
    section, noted = None, False
    if comparison.settings:  # the knobs first, when the two were run with other settings
        section = "settings"
        table.add_row(Text(section, style="bold"))
        for row in comparison.settings:
            old_value, new_value = (setting_cell(v, d) for v, d in zip(row.values, row.defaults, strict=True))
            table.add_row(Text(visible(row.knob)), old_value, new_value, "≠" if row.differs else "", "", "")
    for d in shown:
        if d.section != section:
            if section is not None:
                table.add_section()
            section = d.section
            table.add_row(Text(section, style="bold"))
        fmt = fmt_seconds if d.section == "bench" else fmt_number
        change = d.change
        change_text = "–" if change is None else (("+" if change > 0 else "") + fmt(change))
        if change and d.same:  # a difference below what the table prints of either number
            change_text = "≈ 0"
        ratio: str | Text = ratio_text(d.old, d.new, d.ratio)
        if d.noisy:
            ratio = Text(f"{ratio} ?", style="yellow")
        marks = [
            Text("†") if ok is None and d.section == "target" and entry.info.settings else _mark(ok)
            for ok, entry in ((d.old_passed, old), (d.new_passed, new))
        ]
        passed = Text("")
        passed.append_text(marks[0])
        passed.append(" → " if marks[0].plain or marks[1].plain else "")
        passed.append_text(marks[1])
        noted = noted or "†" in passed.plain
        table.add_row(Text(visible(d.name)), fmt(d.old), fmt(d.new), change_text, ratio, passed)
    if shown or comparison.settings:
        console.print(table)
    if comparison.settings:
        console.print(Text(SETTINGS_LEGEND, style="dim"))
        for line in value_meanings(comparison.plugin, comparison.settings):
            console.print(Text(visible(line), style="dim"))
    if noted:
        console.print(Text(f"† {NOT_ASSERTED}", style="dim"))
    hidden = len(comparison.deltas) - len(shown)
    if hidden:
        what = "number" if hidden == 1 else "numbers"
        asked = " ".join([comparison.plugin, *comparison.ids])
        console.print(
            Text(
                f"{hidden} {what} unchanged (same value, same verdict) not shown: "
                f"`readtrack compare {visible(asked)} --all` shows every number",
                style="dim",
            )
        )
    if any(d.noisy for d in shown):
        note = f"? a bench median with an IQR over {NOISE_LIMIT:.0%} of it in either run: change not reliable"
        console.print(Text(note, style="yellow"))
    for which, entry in (("older", old), ("newer", new)):
        if isinstance(entry, GroupRecord) and entry.runs:
            from readtrack.history.spread import spreads
            from readtrack.render.batches import spread_table

            console.print(Text(f"{which}: seeds {seeds_label(entry.seeds)}", style="bold"))
            console.print(spread_table(spreads(entry.runs), console.width))
    if old.info.environment != new.info.environment:
        console.print(Text("environments differ:", style="yellow"))
        console.print(Text(f"  older {environment_line(old.info.environment)}", style="dim"))
        console.print(Text(f"  newer {environment_line(new.info.environment)}", style="dim"))


#: Under the knobs of a comparison: what the ``*`` after a value and the ``≠`` mean.
SETTINGS_LEGEND = "settings: * the plugin's default (the run did not turn the knob); ≠ the knob differs"


def setting_cell(value: Any, default: bool) -> str:
    """A knob's value in a column: ``0.01``, or ``0.8*`` where the run left it at the plugin's default
    (``default*`` when that default is unknown: the plugin is gone)."""
    if default and value is None:
        return "default*"
    return visible(value_text(value)) + ("*" if default else "")


def _unchanged(d: Delta) -> bool:
    """The same number with the same verdict in both runs (a value both runs lack counts as the same, and
    two that print the same, or both at round-off: `Delta.same`)."""
    return d.same and d.old_passed == d.new_passed and not d.noisy


def ratio_text(old: float | None, new: float | None, ratio: float | None) -> str:
    """``0.68×`` (new / old); of numbers at round-off what they are (``both ≈ 0``, ``from ≈ 0``, ``to ≈ 0``),
    not a ratio of two round-off errors (``1027962962962963.00×``); ``–`` for none."""
    if old is None or new is None or not (math.isfinite(old) and math.isfinite(new)):
        return "–"
    near = at_round_off(old), at_round_off(new)
    if all(near):
        return "both ≈ 0"
    if near[0]:
        return "from ≈ 0"
    if near[1]:
        return "to ≈ 0"
    if ratio is None:
        return "–"
    return f"{ratio:.2f}×" if abs(ratio) < 1000 else f"{ratio:.3g}×"


def render_plugins(rows: Sequence[dict[str, Any]], console: Console) -> None:
    """The plugin table; a broken plugin's error is printed in full below it, then the line of each plugin
    whose calibration is not fresh (``row["calibration"]``, `readtrack.history.calibration_state`)."""
    if not rows:
        console.print("no paper plugins found")
        return
    built = [(row, _plugin_cells(row)) for row in rows]
    # The title takes what the other columns leave at their natural widths; on a narrow terminal it is left
    # out. The name is never cut; the other cells wrap before anything is cut.
    without = _plugin_table(None)
    for _, plain in built:
        without.add_row(*plain)
    natural = Measurement.get(console, console.options, without).maximum
    title_width = console.width - natural - 3  # its padding and the gap to the next column
    titled = title_width >= 16
    table = _plugin_table(title_width if titled else None)
    errors, papers = [], []
    for row, (name, *rest) in built:
        cells: list[str | Text] = [name]
        other_paper = row["paper_id"] not in (None, row["name"])
        if titled:  # its paper's id under the name, beside the claim
            claim = row.get("claim")
            cells.append(_named(visible(row["title"] or ""), visible(claim) if claim else None))
            if other_paper:
                name.append(f"\npaper {visible(row['paper_id'])}", style="dim")
        elif other_paper:  # under the table: alone on a line of its own, it read as a row
            papers.append(Text(visible(f"{row['name']}: paper {row['paper_id']}"), style="dim"))
        cells += rest
        table.add_row(*cells)
        if row["error"]:
            message = visible(f"✗ {row['name']} ({row['origin']}): {row['error']}", multiline=True)
            errors.append(Text(message, style="red"))
    console.print(table)
    for note in (*papers, *errors):
        console.print(note)
    for row in rows:  # a calibration that is not fresh: one line each, however narrow the terminal
        said = row.get("calibration")
        if said and said["state"] != "fresh":
            console.print(Text(visible(said["line"]), style="yellow"), soft_wrap=True)


def _plugin_table(title_width: int | None) -> Fitted:
    """The plugin table's columns: the title's only with a width for it. The name, the status and the last
    run's words (its verdict) are never cut; the devices and the source wrap between words."""
    table = tables.table("paper plugins")
    table.add_column("name", kind="id")
    if title_width is not None:
        table.add_column("title and claim", no_wrap=True, overflow="ellipsis", max_width=title_width)
    for column in ("devices", "source"):
        table.add_column(column)
    table.add_column("status", kind="verdict")
    table.add_column("last run", kind="words")
    return table


def _plugin_cells(row: dict[str, Any]) -> list[Text]:
    """A plugin's cells but its title: name, devices, source, status and last run (a glyph per device, then
    when the newest ran). `render_plugins` says the plugin's paper when that is another."""
    last, by_device = row["last_run"], row.get("last_run_by_device") or {}
    last_text = Text("never", style="dim")
    if len(by_device) > 1:  # a glyph per device (cpu ✓ cuda ✗), then when the newest ran
        last_text = Text()
        for kind, run in by_device.items():
            glyph = {"passed": "✓", "running": "◐"}.get(run["status"], "✗")
            last_text.append(f"{kind} ")
            last_text.append(glyph, style=STATUS_STYLE.get(run["status"], "red"))
            last_text.append(" ")
        last_text.append(when(last["started_at"])[5:], style="dim")
    elif last:
        kind = last["device"].split(":")[0]
        last_text = status_text(last["status"])
        last_text.append(f" {when(last['started_at'])}" + (f" {kind}" if kind != "cpu" else ""))
    name = Text(visible(row["name"]))
    devices = Text(visible(" ".join(row["devices"])))
    return [name, devices, Text(visible(row["source"])), status_text(row["status"]), last_text]
