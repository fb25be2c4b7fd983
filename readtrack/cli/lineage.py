"""`readtrack lineage`: the families of the list, each a chain of papers in time
(`readtrack.history.lineages`).

Thin as the rest of the CLI: the plugins' declarations (`readtrack.plugins.lineages`), the reading list and
the runs database go to `readtrack.history.lineages.view`; the table or the chain is drawn by
`readtrack.render.lineages`, or written as JSON. What the declarations got wrong goes to stderr, one line
each; the rows keep stdout. Never imports torch.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from readtrack.base.errors import UsageError
from readtrack.cli.options import address_option, executor_option

if TYPE_CHECKING:
    from readtrack.plugins.lineages import DeclaredLineage

commands = typer.Typer()


@commands.command("lineage")
def lineage(
    name: str = typer.Argument(None, help="A lineage (`readtrack lineage` lists them)."),
    as_json: bool = typer.Option(
        False, "--json", help="Print JSON (with --run: the batch's JSON lines first)."
    ),
    run: bool = typer.Option(
        False, "--run", help="Run every member's claim (its plugin's train stage) as one batch, then show it."
    ),
    quick: bool = typer.Option(False, "--quick", help="With --run: the quick claims (seconds each)."),
    seeds: str = typer.Option(None, "--seeds", help="With --run: seeds, as `readtrack run --seeds` takes."),
    jobs: int = typer.Option(None, "--jobs", "-j", help="With --run: parallel workers."),
    executor: str = executor_option("With --run: where runs run (this machine's workers, or a Ray cluster)."),
    address: str = address_option("With --executor ray: the cluster's head."),
    device: str = typer.Option(
        "auto", "--device", "-d", help="With --run: the device, as `readtrack run`'s."
    ),
    yes: bool = typer.Option(False, "--yes", "-y", help="With --run: start without asking."),
    plot_to: list[Path] = typer.Option(
        None,
        "--plot",
        metavar="FILE",
        help="Save the lineage drawn in time as FILE.svg or FILE.png (repeatable).",
    ),
) -> None:
    """The families of the list, each a chain of papers in time: what each improved over which earlier one,
    with that step's number and verdict from the newest run recorded (see the manual's "Lineages").

    --run runs every member's claim and the family bench as one batch (recorded, resumable with `readtrack
    run --resume ID` as every batch is), then shows the chain with the numbers it gave."""
    if name is None and (run or plot_to):
        option = "--run" if run else "--plot FILE"
        raise UsageError(f"{option.split()[0]} takes one lineage: readtrack lineage NAME {option}")
    plot_to = list(plot_to or [])
    if plot_to:
        from readtrack.render.pictures import checked_path

        for path in plot_to:
            checked_path(path)  # before anything runs
    if not run and (quick or seeds is not None or jobs is not None or address or yes):  # (an --executor
        raise UsageError("--quick, --seeds, --jobs, --address and --yes go with --run")  # may be the env's)
    from readtrack.base.paths import catalog_path
    from readtrack.base.safe_text import visible
    from readtrack.history import lineages as view
    from readtrack.plugins.links import load
    from readtrack.render import print_json
    from readtrack.render.lineages import chain, listing

    families, plugins = view.discovered()
    for problem in families.problems if name is None else families.problems_of(name):
        print(f"readtrack: {visible(problem)}", file=sys.stderr)
    catalog = load(catalog_path())
    width = shutil.get_terminal_size((100, 24)).columns
    if name is None:
        views = [view.view(family, plugins, catalog, lambda _: []) for family in families.lineages.values()]
        members = {row.member.plugin for v in views for row in v.rows}
        benches = {v.lineage.bench for v in views if v.lineage.bench}
        summaries = view.summaries(views, view.run_counts(members | benches))
        if as_json:
            print_json([s.to_json() for s in summaries])
            return
        for line in listing(summaries, width):
            print(visible(line))
        return
    family = families.lineages.get(name)
    if family is None:
        from readtrack.plugins.discovery import closest_names

        names = sorted(families.lineages)
        close = closest_names(name, names)
        hint = f"did you mean {' or '.join(close)}? " if close else ""
        raise UsageError(f"no lineage {name!r}: {hint}`readtrack lineage` lists all {len(names)}")
    code = _run(family, quick, seeds, jobs, executor, address, device, yes, as_json) if run else 0
    shown = view.view(family, plugins, catalog, view.records_of)
    for problem in shown.problems:
        print(f"readtrack: {visible(problem)}", file=sys.stderr)
    if as_json and run:  # the batch's JSON lines, then the lineage as one more line
        import json

        from readtrack.base.safe_text import json_safe

        print(json_safe(json.dumps({"type": "lineage", "lineage": shown.to_json()}, ensure_ascii=False)))
    elif as_json:
        print_json(shown.to_json())
    else:
        for line in chain(shown, width):
            print(visible(line))
    if plot_to:
        from readtrack.render.lineage_picture import figure
        from readtrack.render.pictures import save

        drawn = figure(shown)
        for path in plot_to:
            print(f"saved {save(drawn, path)}", file=sys.stderr)
    raise typer.Exit(code)


def _run(
    family: DeclaredLineage,
    quick: bool,
    seeds: str | None,
    jobs: int | None,
    executor: str | None,
    address: str | None,
    device: str,
    yes: bool,
    as_json: bool,
) -> int:
    """Every member's plugin (each once) and the family bench as one batch of `readtrack run`, train only;
    its exit code (0 passed, 1 failed); a cancelled batch ends the command as `run`'s does."""
    from readtrack.cli.batches import Where, run_batch
    from readtrack.runner.threads import resolve_threads

    names = list(dict.fromkeys(m.plugin for m in family.members))  # every member's claim, then the bench
    if family.lineage.bench and family.lineage.bench not in names:
        names.append(family.lineage.bench)
    if not names:
        raise UsageError(f"lineage {family.name} has no member to run")
    settings = {
        "device": device, "quick": quick, "only": "train", "timeout": None, "impl": None,
        "threads": resolve_threads(None), "settings": (), "knob_blind": (),
    }  # fmt: skip
    try:
        run_batch(
            names, run_all=False, only_tag=None, section=None, seeds=seeds, seed=0, jobs=jobs, confirmed=yes,
            max_seeds=50, settings_args=settings, as_json=as_json, where=Where(executor, address),
            tables=False,
        )  # fmt: skip
    except typer.Exit as ended:
        if ended.exit_code not in (0, 1):  # cancelled (130, 143, 129), refused: nothing more to show
            raise
        code = ended.exit_code
    else:  # run_batch always ends by typer.Exit
        code = 0
    if not as_json:
        print()
    return code
