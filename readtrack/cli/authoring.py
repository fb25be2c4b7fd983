"""The commands of the `readtrack` CLI for writing a plugin: calibrate, check-plugin; `readtrack.cli.app` adds
them to its app, after the plugin commands. Also `calibration_notes`, the one line per plugin whose
calibration is not fresh that ``run``, ``plugins`` and ``doctor`` say.

Thin as the rest of the CLI: ``calibrate`` parses its arguments, calls `readtrack.batch.calibrate` (run the
seeds in a data dir of their own, make the record, write it beside the plugin) and prints what the record
holds against the rule (`readtrack.history.calibration_state`). torch is imported only by the runs' workers.
"""

from __future__ import annotations

import sys
from collections.abc import Collection
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from readtrack.base.words import plural, seeds_label
from readtrack.render import new_console

if TYPE_CHECKING:
    from readtrack.batch.calibrate import Calibrations

commands = typer.Typer()


@commands.command()
def calibrate(
    names: list[str] = typer.Argument(
        ..., metavar="NAME...", help="The plugin(s) (see `readtrack plugins`)."
    ),
    seeds: str = typer.Option("0-19", "--seeds", help="The seeds: 0-19, 0,3,7, or a count (20 = 0-19)."),
    full: bool = typer.Option(False, "--full", help="Full runs instead of quick ones."),
    jobs: int = typer.Option(
        None, "--jobs", "-j", help="Parallel workers (default: READTRACK_JOBS, else the number of cores)."
    ),
    executor: str = typer.Option(
        None, "--executor", metavar="local|ray", envvar="READTRACK_EXECUTOR", help="Where the runs run."
    ),
    address: str = typer.Option(
        None, "--address", metavar="HOST:PORT", help="With --executor ray: the cluster's head."
    ),
    extend: bool = typer.Option(
        False,
        "--extend",
        help="Add these seeds to the record of this mode and torch release (same code, torch build and CPU "
        "kernels) instead of replacing it.",
    ),
    write: bool = typer.Option(
        False, "--write", help="Record it in the plugin's folder: calibration.json and the end of its page."
    ),
    home: Path = typer.Option(
        None,
        "--home",
        metavar="DIR",
        help="Keep the runs' history in DIR (default: a temporary folder, removed afterwards), not yours.",
    ),
    pages: bool = typer.Option(
        False,
        "--pages",
        help="Run nothing: make the end of each plugin's page again from its calibration.json as it stands.",
    ),
) -> None:
    """Run plugins' train stage on many seeds and record each number's spread beside the plugin: a target is
    asserted only when every seed passes and the mean lies at least 3 seed standard deviations past the
    threshold: (mean − threshold) / sd ≥ 3 on the passing side, a single seed may lie closer; on two torch
    releases (one on 20 seeds, the other on 10). Your own run history is left as it is; exit 1 when a plugin
    got no calibration."""
    import contextlib
    import tempfile

    from readtrack.base.errors import UsageError
    from readtrack.base.paths import data_dir
    from readtrack.batch import calibrate as core
    from readtrack.batch import groups as batch

    seed_list = batch.parse_seeds(seeds)
    if len(seed_list) < 2:
        raise UsageError(f"--seeds {seeds}: a calibration needs 2 seeds or more (a spread over seeds)")
    if jobs is not None and jobs < 1:
        raise UsageError(f"--jobs must be at least 1, not {jobs}")
    plugins = list(dict.fromkeys(names))
    for name in plugins:
        core.plugin_folder(name)  # an unknown name says the names it may have meant, before anything runs
    if pages:
        rewritten = core.rewrite_pages(plugins)
        for name in plugins:
            done = "its page's end made from calibration.json" if name in rewritten else None
            print(f"{name}: {done or 'no calibration.json: its page left as it is'}")
        raise typer.Exit(0 if len(rewritten) == len(plugins) else 1)
    if home is not None and home.expanduser().resolve() == data_dir().resolve():
        raise UsageError(f"--home {home} is your own data dir: give the runs a folder of their own")
    mode = "full" if full else "quick"
    workers = jobs or batch.default_jobs()
    pool = batch.executor_for(executor, workers, address)
    console = new_console()
    with contextlib.ExitStack() as stack:
        where = (
            str(home.expanduser())
            if home is not None
            else stack.enter_context(tempfile.TemporaryDirectory(prefix="readtrack-calibrate-"))
        )
        kept = f"in {where}" if home is not None else "in a temporary folder"
        runs = f"{mode} runs of {', '.join(plugins)} on seeds {seeds_label(seed_list)}, {workers} at a time"
        print(f"{runs}, their history {kept} (yours is left as it is)")
        from readtrack.render.batches import BatchProgress

        title = f"{plural(len(plugins), 'plugin')} × {plural(len(seed_list), 'seed')}"
        try:
            with BatchProgress(console, len(plugins) * len(seed_list), title) as progress:
                core.run_seeds(
                    plugins, seed_list, full=full, jobs=workers, home=where, on_event=progress, executor=pool
                )
        except batch.BatchCancelled as stop:
            print(f"readtrack: {stop.summary()}", file=sys.stderr)
            raise typer.Exit(130) from None
        made = core.calibrate(plugins, [where], seed_list, full=full, extend=extend)
    _report(made, plugins, mode, write)
    raise typer.Exit(0 if all(name in made.found for name in plugins) else 1)


def _report(made: Calibrations, plugins: list[str], mode: str, write: bool) -> None:
    """What ``calibrate`` made, written or not: each plugin's numbers of the mode over seeds, per torch
    release, as its page gives them, and the verdict against the rule."""
    from readtrack.base.safe_text import visible
    from readtrack.batch import calibrate as core
    from readtrack.history import calibration

    for line in made.said:
        print(f"readtrack: {visible(line)}", file=sys.stderr)
    written = core.write(made.found) if write else {}
    for name in plugins:
        folder = core.plugin_folder(name)
        record = calibration.load(folder) if write else core.merged(name, made.found.get(name, []))
        ours = [c for c in record if c.mode == mode]
        if ours:
            block = calibration.page_block(name, ours).split("\n")
            print()
            print(visible("\n".join(block[block.index("") + 1 :]), multiline=True))  # its head says whence
        print()
        if name in written:
            print(f"recorded in {folder / calibration.FILE} and at the end of its page, __init__.py")
        elif name in made.found:
            print(f"not recorded: `readtrack calibrate {name} ... --write` records it in {folder}")
        print(visible(core.verdict(name, record, mode, calibration.fingerprint(folder))))


@commands.command("check-plugin")
def check_plugin(
    name: str = typer.Argument(..., metavar="NAME", help="The plugin (see `readtrack plugins`)."),
    as_json: bool = typer.Option(False, "--json", help="One object per rule: rule, ok, detail."),
) -> None:
    """Check a plugin against the plugin standard (plugins/README.md): its stages pass on the CPU in quick
    mode, the train stage asserts a target, the bench has a baseline, the quick run keeps its budget, the page
    and config.py import no torch, the knobs are valid, every mistake is caught, the calibration is fresh.
    Nothing is recorded in your history. Exit 1 when a rule is broken."""
    from readtrack.base.safe_text import visible
    from readtrack.render import print_json
    from readtrack.standard import as_json as findings_json
    from readtrack.standard import check_plugin as check

    def say(step: str) -> None:
        if not as_json and sys.stderr.isatty():
            print(f"{name}: {step}…", file=sys.stderr)

    found = check(name, progress=say)
    if as_json:
        print_json(findings_json(found))
    else:
        for finding in found:
            print(visible(finding.line()))
        broken = [f.rule for f in found if f.ok is False]
        verdict = (
            f"{name} keeps the standard" if not broken else f"{name}: {plural(len(broken), 'rule')} broken"
        )
        print(f"\n{verdict}" + (f" ({', '.join(broken)})" if broken else ""))
    raise typer.Exit(1 if any(f.ok is False for f in found) else 0)


def calibration_notes(names: Collection[str] | None = None) -> list[str]:
    """One line per working plugin (those named, else every one) whose calibration is not fresh: missing,
    stale, incomplete or unreadable (`readtrack.history.calibration_state`)."""
    from readtrack.history.calibration_state import plugin_states

    return [s.line() for s in plugin_states(names).values() if s.kind != "fresh"]


def say_calibration(names: Collection[str]) -> None:
    """``run``'s line on stderr, after its report, for each plugin run whose calibration is not fresh."""
    if not names:
        return
    from readtrack.base.safe_text import visible

    for line in calibration_notes(names):
        print(f"readtrack: {visible(line)}", file=sys.stderr)
