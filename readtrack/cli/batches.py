"""How ``readtrack run`` runs more than one thing: a sweep (its plan said first, asked above 20 runs, the
tables at the end), several seeds or plugins in worker processes, ``--dry-run``, and the picture saved after.
`readtrack.cli.plugins` parses the arguments and calls these; the work is `readtrack.batch`'s."""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from readtrack.base.words import plural
from readtrack.cli.authoring import say_calibration
from readtrack.render import new_console

if TYPE_CHECKING:
    from readtrack.batch.estimate import Estimate
    from readtrack.batch.executor import Executor
    from readtrack.batch.groups import Job, OnEvent
    from readtrack.batch.sweep import Sweep


def check_plot(paths: Sequence[Path], names: list[str], run_all: bool) -> None:
    """``--plot FILE`` (repeated: each file): one plugin, SVG or PNG files (checked before anything runs)."""
    from readtrack.base.errors import UsageError
    from readtrack.render.pictures import checked_path

    if run_all or len(names) != 1:
        raise UsageError("--plot draws the runs of one plugin: give one NAME")
    for path in paths:
        checked_path(path)


def save_newest_plot(paths: Sequence[Path], plugin: str) -> None:
    """``--plot`` after a JSON batch: the newest runs of ``plugin`` in history (the sweep's, the group)."""
    if paths:
        from readtrack.render.pictures import chosen

        save_plot(paths, list(chosen(plugin, [])))


def save_plot(paths: Sequence[Path], entries: list[object]) -> None:
    """The picture of ``entries`` drawn once and saved as each of ``paths`` (its format by its suffix)."""
    if not paths or not entries:
        return
    from readtrack.render.pictures import figure, save

    drawn = figure(entries)  # type: ignore[arg-type]
    for path in paths:
        print(f"saved {save(drawn, path)}", file=sys.stderr)


def knob_values_of(names: list[str], run_all: bool, pairs: list[str]) -> dict[str, list[object]]:
    """``--set`` values (several make a sweep) checked against the plugin's knobs, before torch is imported
    (exit 2 otherwise)."""
    if not pairs:
        return {}
    from readtrack.base.errors import UsageError
    from readtrack.plugins import knobs
    from readtrack.plugins.discovery import plugin_config

    if run_all or len(names) != 1:
        raise UsageError("--set turns the knobs of one plugin: give one NAME")
    return knobs.parse_settings(plugin_config(names[0]), pairs, names[0])


def sweep_plan(
    name: str, values: dict[str, list[object]], seeds: str, only: str | None, quick: bool, jobs: int | None
) -> Sweep:
    """What ``readtrack run NAME --set KEY=A,B ...`` will run (`readtrack.batch.sweep.Sweep`): every
    combination on every seed, a stage that reads no knob at the defaults only."""
    from readtrack.base.errors import UsageError
    from readtrack.batch import groups as batch
    from readtrack.batch import sweep
    from readtrack.plugins import discovery as plugins
    from readtrack.plugins import knobs

    if jobs is not None and jobs < 1:
        raise UsageError(f"--jobs must be at least 1, not {jobs}")
    plugin = plugins.load_plugin(name)
    config = knobs.config_class(plugin.info.package)
    arms = sweep.plan(plugin.name, config, quick, values)
    readers = sweep.plugin_knob_readers(plugin.info.package, plugin.info.experiments)
    return sweep.sweep_of(plugin.name, arms, batch.parse_seeds(seeds), only, readers)


@dataclass(frozen=True)
class Where:
    """Where a batch's runs run (``--executor``, ``--address``): `readtrack.batch.groups.executor_for`."""

    executor: str | None = None
    address: str | None = None

    @property
    def elsewhere(self) -> bool:
        """Whether runs leave this process's pool: a single run then goes as a batch of one."""
        return (self.executor or "local").strip().lower() != "local" or bool(self.address)

    def of(self, workers: int) -> Executor:
        from readtrack.batch import groups as batch

        return batch.executor_for(self.executor, workers, self.address)


def run_sweep(
    planned: Sweep,
    jobs: int | None,
    confirmed: bool,
    max_seeds: int,
    settings_args: dict[str, object],
    as_json: bool,
    plot_to: Sequence[Path],
    dry_run: bool,
    where: Where | None = None,
) -> None:
    """``readtrack run NAME --set KEY=A,B ...``: the plan said first (on stderr; with ``dry_run`` on stdout,
    and nothing run), asked above `RUNS_WITHOUT_ASKING` runs on a terminal, then every setting on every
    seed in worker processes, one table per number at the end."""
    from readtrack.batch import groups as batch
    from readtrack.batch import json_lines, sweep
    from readtrack.batch.estimate import announce

    workers = jobs or batch.default_jobs()
    executor = (where or Where()).of(workers)
    settings = batch.RunSettings(**settings_args, knob_blind=planned.blind)  # type: ignore[arg-type]
    shapes = planned.shapes(settings.quick, settings.device, settings.threads)
    expected = announce(shapes, workers, batch.executor_kind(executor))
    line = planned.summary(expected)
    if dry_run:
        print("\n".join([line, *planned.lines(), "nothing run (--dry-run)"]))
        raise typer.Exit(0)
    print(f"readtrack: {line}", file=sys.stderr)
    question = batch.size_question([planned.plugin], planned.seeds, max_seeds)
    if question and not confirmed:
        confirm_or_refuse(question, f"{question}: pass --yes to start them (or --max N to allow N seeds)")
    elif sweep.asks(planned.runs, confirmed, sys.stdin.isatty()) and not typer.confirm(
        f"readtrack: {plural(planned.runs, 'run')}. Start them?", err=True
    ):
        print("readtrack: nothing started", file=sys.stderr)
        raise typer.Exit(1)
    sweep_id = batch.new_group_id()
    watch = _knobs_missed_warning()
    if as_json:
        code = json_lines.run_batch_json(
            sys.stdout,
            [],
            planned.seeds,
            settings,
            workers=workers,
            arms=planned.arms,
            sweep_id=sweep_id,
            tables=sweep.tables,
            arm_stages=planned.stages,
            watch=watch,
            executor=executor,
            announced=expected,
        )
        save_newest_plot(plot_to, planned.plugin)
        raise typer.Exit(code)
    from readtrack.render.batches import BatchProgress
    from readtrack.render.sweep import render_sweep

    console = new_console()
    title = f"{planned.plugin}: {plural(len(planned.arms), 'setting')} × {plural(len(planned.seeds), 'seed')}"
    began = time.perf_counter()
    try:
        with BatchProgress(console, planned.runs, title) as progress:
            outcomes = batch.run_batch(
                [],
                planned.seeds,
                settings,
                workers=workers,
                on_event=_also(progress, watch),
                arms=planned.arms,
                sweep_id=sweep_id,
                arm_stages=planned.stages,
                executor=executor,
            )
    except batch.BatchCancelled as stop:
        print(f"readtrack: {stop.summary()}", file=sys.stderr)
        raise typer.Exit(stop.exit_code) from None  # 130 for Ctrl+C, 143 for SIGTERM, 129 for SIGHUP
    render_sweep(planned.plugin, sweep.tables(outcomes), console)
    print(f"readtrack: {expected.took(time.perf_counter() - began)}", file=sys.stderr)
    save_plot(plot_to, [o.entry for o in outcomes if o.entry is not None])
    raise typer.Exit(batch.exit_code(outcomes))


def run_resume(
    ident: str | None,
    retry_failed: bool,
    given: dict[str, object],
    jobs: int | None,
    as_json: bool,
    plot_to: Sequence[Path],
    dry_run: bool,
    where: Where,
) -> None:
    """``readtrack run --resume ID``: what the group or sweep left (its plan said first, on stderr; with
    ``dry_run`` on stdout, and nothing run), run into it on ``where``'s executor, then the whole group (or
    the sweep's tables) shown. Nothing left: said, exit 0. The group is held while it runs: a second resume
    of it is refused in one line (`readtrack.batch.resume.holding`)."""
    from readtrack.base.errors import UsageError
    from readtrack.batch import resume

    if ident is None:
        raise UsageError("--retry-failed goes with --resume ID (a group's or a sweep's id)")
    if jobs is not None and jobs < 1:
        raise UsageError(f"--jobs must be at least 1, not {jobs}")
    planned = resume.plan(ident, retry_failed=retry_failed)
    resume.contradictions(planned, given)
    if plot_to:
        check_plot(plot_to, [planned.found.plugin], False)
    if dry_run:
        _say_resume(planned, retry_failed, dry_run=True)
    with resume.holding(planned):  # a second resume of it meanwhile is refused in one line (issue 94)
        planned = resume.plan(ident, retry_failed=retry_failed)  # what is left now, under the hold
        _say_resume(planned, retry_failed, dry_run=False)
        _run_resumed(planned, jobs, as_json, plot_to, where)


def _say_resume(planned: Any, retry_failed: bool, *, dry_run: bool) -> None:
    """Nothing left: said, exit 0; ``dry_run``: the plan on stdout, exit 0; else the plan on stderr."""
    from readtrack.batch import resume

    if not planned.resumed.jobs:
        print(f"readtrack: {resume.nothing_left(planned, retry_failed)}", file=sys.stderr)
        raise typer.Exit(0)
    line = planned.summary()
    if dry_run:
        print("\n".join([line, "nothing run (--dry-run)"]))
        raise typer.Exit(0)
    print(f"readtrack: {line}", file=sys.stderr)


def _run_resumed(
    planned: Any, jobs: int | None, as_json: bool, plot_to: Sequence[Path], where: Where
) -> None:
    from readtrack.batch import groups as batch
    from readtrack.batch import json_lines, resume

    device = planned.resumed.jobs[0].device
    if device.strip().lower() not in ("auto", "cpu") and not where.elsewhere:  # a cluster's are its own
        from readtrack.runner.devices import resolve_device

        resolve_device(device)  # one line and exit 2 here, not one failed worker per seed
    workers = jobs or batch.default_jobs()
    executor = where.of(workers)
    plugin, sweep_id = planned.found.plugin, planned.sweep_id
    watch = _knobs_missed_warning()

    def whole_sweep(outcomes: object) -> list[Any]:
        from readtrack.batch.sweep import tables

        return tables(resume.sweep_outcomes(sweep_id)) if sweep_id else []

    if as_json:
        code = json_lines.run_batch_json(
            sys.stdout, [], [], batch.RunSettings(), workers=workers, sweep_id=sweep_id, tables=whole_sweep,
            watch=watch, executor=executor, resume=planned.resumed,
        )  # fmt: skip
        save_newest_plot(plot_to, plugin)
        raise typer.Exit(code)
    from readtrack.render.batches import BatchProgress, render_group

    console = new_console()
    title = f"{plugin}: resuming {plural(len(planned.resumed.jobs), 'run')}"
    try:
        with BatchProgress(console, len(planned.resumed.jobs), title) as progress:
            outcomes = batch.run_batch(
                [], [], batch.RunSettings(), workers=workers, on_event=_also(progress, watch),
                executor=executor, resume=planned.resumed,
            )  # fmt: skip
    except batch.BatchCancelled as stop:
        print(f"readtrack: {stop.summary()}", file=sys.stderr)
        raise typer.Exit(stop.exit_code) from None  # 130 for Ctrl+C, 143 for SIGTERM, 129 for SIGHUP
    if sweep_id:
        from readtrack.batch.sweep import tables
        from readtrack.render.sweep import render_sweep

        outcomes = resume.sweep_outcomes(sweep_id)
        render_sweep(plugin, tables(outcomes), console)
    elif isinstance(outcomes[0].entry, batch.GroupRecord):
        render_group(outcomes[0].entry, console)
    save_plot(plot_to, [o.entry for o in outcomes if o.entry is not None])
    raise typer.Exit(batch.exit_code(outcomes))


def _also(first: OnEvent, then: OnEvent) -> OnEvent:
    """An event watcher that hands each event to ``first``, then to ``then``."""

    def both(job: Job, event: dict[str, Any]) -> None:
        first(job, event)
        then(job, event)

    return both


def _knobs_missed_warning() -> OnEvent:
    """An event watcher that prints, once per stage on stderr, that a stage judged knob-blind called
    ``ctx.config`` after all (`readtrack.runner.context.knobs_missed`)."""
    said: set[object] = set()

    def watch(job: Job, event: dict[str, Any]) -> None:
        stage = event.get("knobs_missed")
        if stage and stage not in said:
            said.add(stage)
            print(f"readtrack: {event.get('message')}", file=sys.stderr)

    return watch


def dry_run_plan(
    names: list[str],
    run_all: bool,
    only_tag: str | None,
    section: str | None,
    seeds: str | None,
    seed: int | None,
    only: str | None,
    quick: bool,
    jobs: int | None,
    device: str = "auto",
    threads: int = 1,
    where: Where | None = None,
) -> None:
    """``readtrack run ... --dry-run`` of one run or a batch: plugins × seeds = runs and the time expected
    (`batch_plan`), on stdout; nothing runs (exit 0)."""
    from readtrack.batch import groups as batch

    plugins = batch.select_plugins(names, run_all=run_all, tag=only_tag, section=section)
    seed_list = batch.parse_seeds(seeds) if seeds is not None else [seed or 0]
    alone = len(plugins) * len(seed_list) == 1 and not (where and where.elsewhere)
    workers = 1 if alone else jobs or batch.default_jobs()
    # a run alone runs in the command's own process: it pays its start as a process of its own does
    kind = "process" if alone else batch.executor_kind((where or Where()).of(workers))
    print(batch_plan(plugins, seed_list, only, quick, device, threads, workers, kind)[0])
    print("nothing run (--dry-run)")
    raise typer.Exit(0)


def batch_plan(
    plugins: Sequence[str],
    seeds: Sequence[int],
    only: str | None,
    quick: bool,
    device: str,
    threads: int,
    workers: int,
    kind: str,
) -> tuple[str, Estimate]:
    """The plan of a batch in one line (plugins × seeds = runs, the time expected from like runs,
    `readtrack.batch.estimate`) and the estimate, to set beside the time taken at the end."""
    from readtrack.batch.estimate import announce
    from readtrack.batch.sweep import batch_shapes, batch_summary

    expected = announce(batch_shapes(plugins, seeds, only, quick, device, threads), workers, kind)
    return batch_summary(plugins, seeds, expected), expected


def confirm_or_refuse(question: str, refusal: str) -> None:
    """Many runs start only when the user says so: asked on a terminal, refused in a pipe (``refusal``,
    exit 2), "nothing started" and exit 1 when the answer is no."""
    from readtrack.base.errors import UsageError

    if not (sys.stdin.isatty() and sys.stderr.isatty()):
        raise UsageError(refusal)
    if not typer.confirm(f"readtrack: {question}. Start them?", err=True):
        print("readtrack: nothing started", file=sys.stderr)
        raise typer.Exit(1)


def run_batch(
    names: list[str],
    *,
    run_all: bool,
    only_tag: str | None,
    section: str | None,
    seeds: str | None,
    seed: int,
    jobs: int | None,
    confirmed: bool,
    max_seeds: int,
    settings_args: dict[str, object],
    as_json: bool,
    plot_to: Sequence[Path] = (),
    where: Where | None = None,
    tables: bool = True,
) -> None:
    """``readtrack run`` on several seeds, several plugins or the shelf (see readtrack.batch.groups), here
    or on a Ray cluster (``where``); ``tables=False`` draws the progress only, not the results (a command
    that shows them its own way after: ``readtrack lineage --run``)."""
    from readtrack.base.errors import UsageError
    from readtrack.batch import groups as batch
    from readtrack.batch import json_lines

    plugins = batch.select_plugins(names, run_all=run_all, tag=only_tag, section=section)
    seed_list = batch.parse_seeds(seeds) if seeds is not None else [seed]
    if jobs is not None and jobs < 1:
        raise UsageError(f"--jobs must be at least 1, not {jobs}")
    question = batch.size_question(plugins, seed_list, max_seeds)
    if question and not confirmed:
        confirm_or_refuse(question, f"{question}: pass --yes to start them (or --max N to allow N seeds)")
    settings = batch.RunSettings(**settings_args)  # type: ignore[arg-type]
    where = where or Where()
    if (
        settings.device.strip().lower() not in ("auto", "cpu") and not where.elsewhere
    ):  # a cluster's are its own
        from readtrack.runner.devices import resolve_device

        resolve_device(settings.device)  # one line and exit 2 here, not one failed worker per plugin
    workers = jobs or batch.default_jobs()
    executor = where.of(workers)
    alone = len(plugins) * len(seed_list) == 1  # a run alone (on a cluster) says no plan, as a run does
    expected: Estimate | None = None
    if not alone:
        line, expected = batch_plan(
            plugins, seed_list, settings.only, settings.quick, settings.device, settings.threads, workers,
            batch.executor_kind(executor),
        )  # fmt: skip
        print(f"readtrack: {line}", file=sys.stderr)
    if as_json:
        watch = _knobs_missed_warning()
        code = json_lines.run_batch_json(
            sys.stdout, plugins, seed_list, settings, workers=workers, watch=watch, executor=executor,
            announced=expected,
        )  # fmt: skip
        save_newest_plot(plot_to, plugins[0])
        say_calibration(names)
        raise typer.Exit(code)
    from readtrack.render.batches import BatchProgress, render_group, render_shelf

    console = new_console()
    title = f"{plural(len(plugins), 'plugin')} × {plural(len(seed_list), 'seed')}"
    shelf = len(plugins) > 1
    started = time.perf_counter()
    try:
        with BatchProgress(console, len(plugins) * len(seed_list), title) as progress:
            outcomes = batch.run_batch(
                plugins,
                seed_list,
                settings,
                workers=workers,
                on_event=_also(progress, _knobs_missed_warning()),
                executor=executor,
            )
    except batch.BatchCancelled as stop:
        print(f"readtrack: {stop.summary()}", file=sys.stderr)
        raise typer.Exit(stop.exit_code) from None  # 130 for Ctrl+C, 143 for SIGTERM, 129 for SIGHUP
    if not tables:
        pass
    elif not shelf and isinstance(outcomes[0].entry, batch.GroupRecord):
        render_group(outcomes[0].entry, console)
    elif not shelf and isinstance(outcomes[0].entry, batch.RunRecord):
        from readtrack.render.runs import render_record

        render_record(outcomes[0].entry, console)
    else:
        render_shelf(outcomes, console, time.perf_counter() - started)
    if expected is not None:
        print(f"readtrack: {expected.took(time.perf_counter() - started)}", file=sys.stderr)
    save_plot(plot_to, [o.entry for o in outcomes if o.entry is not None])
    say_calibration(names)  # the plugins named (none with --all: the shelf's are `doctor`'s to say)
    raise typer.Exit(batch.exit_code(outcomes))
