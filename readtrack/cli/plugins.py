"""The paper plugin commands of the `readtrack` CLI: run, history, compare, practice, plugins, explain and
new-plugin; `readtrack.cli.app` adds them to its app, after the reading list's commands.

Thin as the rest of the CLI: each parses its arguments, calls one core function (`readtrack.runner.run`,
`batch`, `history`, `practice`, `pages`, `scaffold`) and renders the result. torch is imported only by the
core calls that run a plugin.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from readtrack.cli.authoring import say_calibration
from readtrack.cli.batches import (
    Where,
    check_plot,
    dry_run_plan,
    knob_values_of,
    run_batch,
    run_resume,
    run_sweep,
    save_plot,
    sweep_plan,
)
from readtrack.cli.options import address_option, executor_option
from readtrack.render import new_console, print_json

if TYPE_CHECKING:
    from rich.console import Console

    from readtrack.history.sweeps import Listed, SweepRecord

commands = typer.Typer()


@commands.command()
def run(
    names: list[str] = typer.Argument(
        None, metavar="[NAME]...", help="The plugin(s) (see `readtrack plugins`); none with --all."
    ),
    device: str = typer.Option(
        "auto", "--device", "-d", help="auto | cpu | cuda | cuda:N | mps | emu (CUDA emulated on the CPU)"
    ),
    quick: bool = typer.Option(False, "--quick", help="Smaller sizes and fewer steps: seconds, not minutes."),
    seed: int = typer.Option(
        None, "--seed", help="Seed of every random generator (default 0; CPU runs repeat exactly)."
    ),
    seeds: str = typer.Option(
        None, "--seeds", help="Run on several seeds in parallel: 0-4, 0,3,7, or a count (5 = 0-4)."
    ),
    run_all: bool = typer.Option(False, "--all", help="Run every plugin (the shelf), in parallel workers."),
    only_tag: str = typer.Option(
        None, "--only-tag", help="With --all: only plugins of papers with this tag."
    ),
    section: str = typer.Option(None, "--section", "-s", help="With --all: only plugins of this section."),
    jobs: int = typer.Option(
        None, "--jobs", "-j", help="Parallel workers (default: READTRACK_JOBS, else the number of cores)."
    ),
    executor: str = executor_option(
        "Where runs run: this machine's workers (local), or a Ray cluster (ray; `readtrack[ray]`)."
    ),
    address: str = address_option(
        "With --executor ray: the cluster's head (default: RAY_ADDRESS, else a Ray started here)."
    ),
    yes: bool = typer.Option(
        False, "--yes", "-y", help="Start without asking: a sweep of over 20 runs, more seeds than --max."
    ),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Print the plan (settings × seeds = runs, the time expected) and stop."
    ),
    max_seeds: int = typer.Option(
        50, "--max", metavar="N", help="Ask (or, in a pipe, refuse without --yes) above N seeds per plugin."
    ),
    threads: int = typer.Option(
        None, "--threads", help="torch CPU threads per run (default 1, or READTRACK_THREADS)."
    ),
    only: str = typer.Option(None, "--only", help="Run one stage: check | train | bench."),
    timeout: float = typer.Option(None, "--timeout", help="Per-stage timeout in seconds (0: none)."),
    impl: str = typer.Option(None, "--impl", help="Implementation variant, passed as ctx.options['impl']."),
    knob_values: list[str] = typer.Option(
        None,
        "--set",
        metavar="KEY=VALUE",
        help="Turn a knob (`readtrack knobs NAME`); repeat for more. Comma-separated values make a sweep "
        "(--set lr=1e-3,1e-2): every combination, the defaults added, on every seed.",
    ),
    plot_to: list[Path] = typer.Option(
        None,
        "--plot",
        metavar="FILE",
        help="Then save its curves and bench as FILE.svg or FILE.png; repeat for more files.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Stream JSON-lines events, the record last."),
    resume: str = typer.Option(
        None,
        "--resume",
        metavar="ID",
        help="Run what a cancelled multi-seed run or sweep (its id in `readtrack history`) left: its seeds "
        "that did not finish, with its own settings, into it.",
    ),
    retry_failed: bool = typer.Option(
        False, "--retry-failed", help="With --resume: run its seeds that failed (or erred, timed out) too."
    ),
    no_record: bool = typer.Option(False, "--no-record", hidden=True, help="Keep the run out of history."),
    group: str = typer.Option(None, "--group", hidden=True, help="The multi-seed run this run belongs to."),
) -> None:
    """Run a paper plugin: check it against a reference, train the tiny claim, benchmark it.

    Several seeds (--seeds), several plugins or the whole shelf (--all) run in parallel worker processes.

    Comma-separated --set values make a sweep (--set norm=rms,layer,none --seeds 0-2): every combination
    of the values, the defaults added, each on every seed, ending in one table per number. A sweep says its
    size first (settings × seeds = runs, the time expected), asks above 20 runs on a terminal (--yes
    skips), and runs a stage that reads no knob at the defaults only; --dry-run prints the plan and stops.

    --resume ID runs what a cancelled multi-seed run or sweep left (seeds cancelled before they finished;
    --retry-failed: failed ones too) into the same group, as it first ran, on any --executor.
    """
    from readtrack.batch.executor import stop_like_ctrl_c

    signalled = stop_like_ctrl_c()  # SIGTERM and SIGHUP stop the runs as Ctrl+C does (exit 143, 129)
    names, plot_to = list(names or []), list(plot_to or [])
    if resume is not None or retry_failed:
        given = {
            "NAME": names, "--all": run_all, "--only-tag": only_tag, "--section": section,
            "--set": knob_values, "--no-record": no_record, "--group": group, "--seeds": seeds,
            "--seed": seed, "--quick": quick, "--device": device, "--only": only, "--timeout": timeout,
            "--impl": impl, "--threads": threads,
        }  # fmt: skip
        where = Where(executor, address)
        run_resume(resume, retry_failed, given, jobs, as_json, plot_to, dry_run, where)
        return
    if seed is not None and seeds is not None:
        from readtrack.base.errors import UsageError

        raise UsageError("--seed and --seeds: give one (--seeds 3 means seeds 0-2; --seeds 3-3 is seed 3)")
    values = knob_values_of(names, run_all, knob_values or [])  # checked before anything heavy is imported
    if plot_to:
        check_plot(plot_to, names, run_all)
    from readtrack.runner.threads import resolve_threads

    n_threads = resolve_threads(threads)  # a bad count is answered before torch loads
    from readtrack.base.errors import EXIT_PIPE_CLOSED
    from readtrack.plugins.records import UntilClosed
    from readtrack.runner import run as runner

    blind: tuple[str, ...] = ()  # the stages a sweep judged to read no knob, when it came to the defaults
    if any(len(v) > 1 for v in values.values()):
        one = seed or 0
        planned = sweep_plan(names[0], values, seeds or f"{one}-{one}", only, quick, jobs)
        sweep_args = {"device": device, "quick": quick, "only": only, "timeout": timeout, "impl": impl}
        sweep_args["threads"] = n_threads
        if planned.swept or dry_run:
            where = Where(executor, address)
            run_sweep(planned, jobs, yes, max_seeds, sweep_args, as_json, plot_to, dry_run, where)
            return
        print(f"readtrack: {planned.blind_note()}", file=sys.stderr)  # no stage asked for reads a knob
        values, blind = {}, planned.blind
    settings = {key: v[0] for key, v in values.items()}
    where = Where(executor, address)
    if dry_run:
        asked = (names, run_all, only_tag, section, seeds, seed, only, quick, jobs)
        dry_run_plan(*asked, device=device, threads=n_threads, where=where)
    if run_all or seeds is not None or len(names) != 1 or only_tag or section or where.elsewhere:
        run_batch(
            names,
            run_all=run_all,
            only_tag=only_tag,
            section=section,
            seeds=seeds,
            seed=seed or 0,
            jobs=jobs,
            confirmed=yes,
            max_seeds=max_seeds,
            settings_args={
                "device": device,
                "quick": quick,
                "only": only,
                "timeout": timeout,
                "impl": impl,
                "threads": n_threads,
                "settings": tuple(settings.items()),
                "knob_blind": blind,
            },
            as_json=as_json,
            plot_to=plot_to,
            where=where,
        )
        return
    options = {"impl": impl} if impl else {}

    def start(emit: runner.Emit) -> runner.RunRecord:
        return runner.run_plugin(
            names[0],
            device=device,
            quick=quick,
            seed=seed or 0,
            only=only,
            timeout=timeout,
            options=options,
            threads=threads,
            emit=emit,
            keep_history=not no_record,
            group_id=group,
            settings=settings,
            knob_blind=blind,
        )

    streamed = UntilClosed(sys.stdout)  # `run --json | head`: the run goes on, recorded, and exits 141
    try:
        if as_json:
            record = runner.run_streaming_json(streamed, start)
        else:
            from readtrack.render.runs import live_printer, render_record

            console = new_console()
            record = start(live_printer(console))
            render_record(record, console)
    except KeyboardInterrupt as stop:  # Ctrl-C before the run began (while torch loads): nothing to record
        from readtrack.batch.executor import exit_code_of

        print("readtrack: cancelled", file=sys.stderr)
        raise typer.Exit(exit_code_of(stop)) from None
    save_plot(plot_to, [record])
    say_calibration(names)
    code = runner.exit_code(record)
    if record.status == "cancelled" and signalled:  # stopped by SIGTERM or SIGHUP, not Ctrl+C
        code = 128 + signalled[0]
    raise typer.Exit(EXIT_PIPE_CLOSED if streamed.closed else code)


@commands.command("history")
def run_history(
    name: str = typer.Argument(
        None, metavar="[NAME]", help="Only this plugin's runs; or a sweep's id: its settings."
    ),
    limit: int = typer.Option(20, "--limit", "-n", help="At most this many runs, newest first."),
    as_json: bool = typer.Option(False, "--json", help="Print the whole run records as JSON."),
) -> None:
    """Past plugin runs, newest first; a multi-seed run or a sweep is one entry (`readtrack history
    SWEEP_ID` shows a sweep's settings)."""
    from readtrack.history import sweeps as sweeps_history
    from readtrack.plugins.records import jsonable

    found = sweeps_history.named(name, limit=limit)
    if isinstance(found, sweeps_history.SweepRecord):
        if as_json:
            print_json(jsonable(found.to_dict()))
            return
        from readtrack.render.sweep import render_sweep_record

        console = new_console()
        render_sweep_record(found, console)
        _sweep_tables(found, console)
        _resume_notes([found], console)
        return
    if as_json:
        print_json([jsonable(r.to_dict()) for r in found])
        return
    from readtrack.render.runs import render_history

    console = new_console()
    render_history(found, console, name)
    _resume_notes(found, console)


def _sweep_tables(found: SweepRecord, console: Console) -> None:
    """A sweep's tables (each number's mean ± sd, 95% interval and verdict per setting) drawn from its
    recorded runs by what drew them at the end of its run: the same tables, seen again."""
    from readtrack.batch.sweep import recorded, tables
    from readtrack.render.sweep import render_sweep

    console.print()
    render_sweep(found.plugin, tables(recorded(found)), console)


def _resume_notes(entries: Sequence[Listed], console: Console) -> None:
    """Under `history`: how to finish each group or sweep listed that was cut short (`--resume`)."""
    from rich.text import Text

    from readtrack.base.safe_text import visible
    from readtrack.history.resume import notes

    for note in notes(entries):
        text = visible(note)
        head, said, command = text.partition("; resume with ")
        if not said or len(text) <= console.width:
            console.print(Text(text))
            continue
        console.print(Text(f"{head}; resume with"))  # the command on a line of its own, whole: never cut
        console.print(Text(f"  {command.strip('`')}"), no_wrap=True, crop=False)  # in the middle (issue 94)


@commands.command()
def compare(
    name: str = typer.Argument(
        ..., metavar="NAME", help="A plugin, or an id `readtrack history` prints (a run's, a sweep's ...)."
    ),
    ids: list[str] = typer.Argument(
        None, metavar="[ID]...", help="Runs, multi-seed runs or sweeps to compare (ids or their start)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the comparison as JSON (every number)."),
    every_row: bool = typer.Option(False, "--all", help="Show the numbers that did not change too."),
) -> None:
    """Compare a plugin's last two runs: check errors, targets, measured values, bench medians (what
    changed; --all for every number), their knobs first when they differ. After a sweep, or given a
    sweep's id: its settings side by side, each the mean over its seeds. Given ids (`readtrack compare
    NAME ID ID...`, any id `readtrack history` prints): two compared, or more side by side."""
    from readtrack.history import sweeps as sweeps_history

    comparison = sweeps_history.compare(name, ids or [])
    if as_json:
        print_json(comparison.to_dict())
        return
    from readtrack.history.comparison import Lineup

    if isinstance(comparison, Lineup):
        from readtrack.render.sweep import render_lineup

        console = new_console()
        render_lineup(comparison, console, every_row=every_row)
        swept = sweeps_history.sweep(comparison.sweep_id) if comparison.sweep_id else None
        if swept is not None:  # its settings beside the defaults, as the sweep's run ended
            _sweep_tables(swept, console)
        return
    from readtrack.render.runs import render_comparison

    render_comparison(comparison, new_console(), every_row=every_row)


@commands.command()
def practice(
    name: str = typer.Argument(None, metavar="[NAME]", help="A plugin with exercises; none lists them all."),
    folder: Path = typer.Option(None, "--dir", help="Workspace folder (default <data dir>/practice/NAME)."),
    reset: bool = typer.Option(False, "--reset", help="Start again (yours is kept as model.py.N)."),
    edit: bool = typer.Option(False, "--edit", help="Open the workspace in $VISUAL or $EDITOR."),
    hint: int = typer.Option(0, "--hint", metavar="N", help="Show the first N hints."),
    exercise: str = typer.Option(None, "--exercise", metavar="TARGET", help="Show this exercise only."),
    check: bool = typer.Option(False, "--check", help="Grade your code with the plugin's check stage."),
    train: bool = typer.Option(False, "--train", help="Then train with your code: is the claim reproduced?"),
    quick: bool = typer.Option(False, "--quick", help="Smaller sizes and fewer steps, the check's too."),
    full: bool = typer.Option(False, "--full", help="Train at full size (practice trains at quick sizes)."),
    seed: int = typer.Option(0, "--seed", help="Seed of every random generator."),
    timeout: float | None = typer.Option(
        None, "--timeout", help="Per-stage timeout in seconds (default: 3x the model solution's time here)."
    ),
    notebook: bool = typer.Option(False, "--notebook", help="Write the exercise as a Jupyter notebook."),
    knob_values: list[str] = typer.Option(
        None, "--set", metavar="KEY=VALUE", help="With --train: turn a knob of the training (repeatable)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Implement a paper's core yourself: graded by its plugin's check, and by its claim with --train."""
    from readtrack import practice as core
    from readtrack.practice import text

    if name is None:
        statuses = core.statuses()
        if as_json:
            print_json([s.to_dict() for s in statuses])
        else:
            import shutil

            width = shutil.get_terminal_size().columns if sys.stdout.isatty() else None
            print("\n".join(text.status_lines(statuses, width)))
        return
    plugin = core.practice_plugin(name)
    settings = _practice_settings(name, train, knob_values or [])
    if check or train:
        path = core.workspace_file(plugin, folder)
        if not path.exists():
            from readtrack.base.errors import UsageError

            raise UsageError(f"no workspace at {path}: `readtrack practice {name}` creates it")
        if edit:
            from readtrack.base.editor import edit_file

            edit_file(path)
        emit = None if as_json else text.progress_printer(new_console())
        result = core.check(
            name,
            path,
            train=train,
            quick=quick,
            train_quick=quick or not full,
            seed=seed,
            timeout=timeout,
            emit=emit,
            settings=settings,
        )
        if as_json:
            print_json(result.to_dict())
        else:
            from readtrack.base.safe_text import visible

            for line in result.lines():
                print(visible(line, multiline=True))
        raise typer.Exit(result.exit_code)
    workspace = core.open_workspace(plugin, folder, reset=reset)
    if notebook:
        from readtrack.practice.notebook import write_notebook

        written = write_notebook(workspace, reset=reset)
        print(f"notebook: {written}", file=sys.stderr if as_json else sys.stdout)
    if as_json:
        print_json(text.exercises_json(workspace))
    else:
        print("\n".join(text.workspace_lines(workspace, hints=hint, exercise=exercise)))
    if edit:
        from readtrack.base.editor import edit_file

        edit_file(workspace.path)


def _practice_settings(name: str, train: bool, pairs: list[str]) -> dict[str, object]:
    """``practice --train --set``: one value a knob, checked before anything runs."""
    if not pairs:
        return {}
    from readtrack.base.errors import UsageError

    if not train:
        raise UsageError("--set turns the knobs of the training: add --train")
    values = knob_values_of([name], False, pairs)
    several = [key for key, v in values.items() if len(v) > 1]
    if several:
        raise UsageError(f"--set {several[0]}: one value a knob in practice (`readtrack run` sweeps)")
    return {key: v[0] for key, v in values.items()}


@commands.command("plot")
def plot(
    name: str = typer.Argument(
        ..., metavar="NAME", help="A plugin, or an id `readtrack history` prints (a run's, a sweep's ...)."
    ),
    ids: list[str] = typer.Argument(
        None,
        metavar="[ID]...",
        help="Any id `readtrack history` prints: runs, multi-seed runs, sweeps (default: the newest).",
    ),
    output: list[Path] = typer.Option(
        ..., "--output", "-o", metavar="FILE", help="FILE.svg or FILE.png; repeat for more files."
    ),
) -> None:
    """Save a picture of runs: training curves (one line per setting, a band over seeds) and bench medians;
    the newest run, multi-seed run or sweep of NAME by default, or what the ids name (`readtrack plot ID`
    takes the ids `compare` takes). Each -o FILE is written, its format by its suffix."""
    from readtrack.history import sweeps as sweeps_history
    from readtrack.plugins import discovery as plugins
    from readtrack.render import pictures

    plugin, idents = sweeps_history.plugin_or_ids(name, ids or [])
    for path in output:
        pictures.checked_path(path)
    entries = pictures.chosen(plugins.get(plugin).name if plugin else None, idents)
    drawn = pictures.figure(entries)
    for path in output:
        print(f"saved {pictures.save(drawn, path)}")


@commands.command("knobs")
def list_knobs(
    name: str = typer.Argument(..., metavar="NAME"),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON array."),
) -> None:
    """A plugin's knobs: what each means, its quick and full defaults, what it may be, what the paper used
    (turn one with `readtrack run NAME --set KEY=VALUE`)."""
    from readtrack.plugins import discovery as plugins
    from readtrack.plugins import knobs

    plugin = plugins.load_plugin(name)
    config = knobs.config_class(plugin.info.package)
    if config is None:
        print(f"readtrack: {plugin.name} declares no knobs yet (no config.py)", file=sys.stderr)
        raise typer.Exit(1)
    found = knobs.knobs_of(config)
    if as_json:
        print_json([k.to_dict() for k in found])
        return
    from readtrack.render.knobs import render_knobs

    render_knobs(plugin.name, found, new_console())


@commands.command("plugins")
def list_plugins(as_json: bool = typer.Option(False, "--json", help="Print a JSON array.")) -> None:
    """Paper plugins found (built-in, installed, user folder), broken ones with their error, and those whose
    calibration is not fresh (missing, stale, incomplete) with what to do."""
    from readtrack.history.calibration_state import plugin_states
    from readtrack.history.runs import plugin_listing as listing

    rows, calibrated = listing(), plugin_states()
    for row in rows:  # a working plugin with a folder: where its record is, and whether it is fresh
        found = calibrated.get(row["name"]) if row["status"] == "ok" else None
        row["calibration"] = found.to_dict() if found is not None else None
    if as_json:
        print_json(rows)
        return
    from readtrack.render.runs import render_plugins

    render_plugins(rows, new_console())


@commands.command("explain")
def explain(
    name: str = typer.Argument(..., help="The plugin (see `readtrack plugins`)."),
    code: bool = typer.Option(False, "--code", help="Also print the implementation, highlighted."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON object (with --code: the sources too)."),
) -> None:
    """A plugin's page beside the paper (claim, equations, the tiny experiment) and, with --code, its code.

    Paged like git when the output is a terminal ($PAGER, or less with LESS=FRX)."""
    from readtrack.plugins.pages import read_page

    page = read_page(name)
    if as_json:
        print_json(page.to_dict(code=code))
        return
    from readtrack.render.pages import render_page

    console = new_console()
    if not console.is_terminal:
        render_page(page, console, code=code)
        return
    os.environ.setdefault("LESS", "FRX")  # as git: quit when it fits, keep colours, leave the screen
    with console.pager(styles=True):
        render_page(page, console, code=code)


@commands.command("new-plugin")
def new_plugin(
    name: str = typer.Argument(..., help="The plugin's name: a slug, by convention the paper's id."),
    paper: str = typer.Option(None, "--paper", help="The paper it implements (default: the one named NAME)"),
) -> None:
    """Scaffold a plugin in your plugin folder whose check, train and bench already run; link the paper."""
    from readtrack.base.paths import catalog_path
    from readtrack.plugins.scaffold import new_plugin as scaffold

    made = scaffold(name, catalog_path(), paper_id=paper)
    print(f"created {made.folder}: {', '.join(f.name for f in made.files)}")
    if made.paper_id is None:
        print(f"no paper called {name} in the list: add `plugin: {name}` to a paper's entry to link it")
    else:
        plugins = ", ".join([*made.others, name])
        print(f"linked: {made.paper_id} now runs {name} (plugin: {plugins})")
    print(f"next: readtrack run {name} --quick, then fill in the TODOs (readtrack explain {name} --code)")
