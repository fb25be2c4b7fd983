"""Calibrate the shelf's numbers on many seeds (issue 42): ``readtrack calibrate`` over every built-in plugin,
and the table of every record in ``benchmarks/RESULTS.md``.

``python benchmarks/calibrate.py [NAME ...] [--seeds 0-19] [--full] [--jobs 2] [--home DIR ...] [--no-run]
[--extend] [--write]``

A face of `readtrack.batch.calibrate`, as ``readtrack calibrate NAME`` is:

1. Runs ``readtrack run NAME... --device cpu --quick --only train --seeds S --jobs J --yes --timeout 0``
   (``--full``: without ``--quick``; one thread per run) into a data dir of its own (the first ``--home``,
   else a new temporary one, kept), never the reader's history. ``--no-run`` runs nothing and reads what is
   already in the ``--home`` dirs.
2. Reads each plugin's runs of that mode back from every ``--home`` (the newest run of each seed), and prints
   the table of its targets: mean ± sd, min … max, margin in sd, failing seeds.
3. ``--write`` records them in ``plugins/NAME/calibration.json`` (in place of that mode's calibration on the
   same torch release, beside the others), rewrites the generated end of each page from the record and, what
   only this script does, the table in ``benchmarks/RESULTS.md`` from every plugin's record. Then it lists
   the targets that break the rule (``readtrack.history.calibration.problems``), which
   ``tests/history/test_calibration.py`` fails on.
4. ``--summary`` runs nothing and prints, from the records, a row per plugin: the quick target with the
   smallest margin, and each record's smallest margin over its asserted targets (how many, on how many seeds).
5. ``--extend`` adds the seeds run to the record of that mode and torch instead of replacing it (``--full
   --seeds 5-9 --extend`` beside a record of seeds 0-4): only a record of the same torch build, CPU kernels
   and code fingerprint is extended (``calibration.extended``), else the plugin is left out, saying why.

Run it on each torch the README promises, e.g. ``--seeds 0-19`` with the torch pip installs today and
``--seeds 0-9`` from a second venv with ``pip install torch==2.13.0``.
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="plugins (default: every built-in plugin)")
    parser.add_argument("--seeds", default="0-19")
    parser.add_argument("--full", action="store_true", help="full runs instead of --quick")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument(
        "--executor", choices=["local", "ray"], default=None, help="default: READTRACK_EXECUTOR"
    )
    parser.add_argument("--address", help="with --executor ray: the cluster's head (default: RAY_ADDRESS)")
    parser.add_argument("--home", action="append", default=[], help="data dir(s) of the runs (repeatable)")
    parser.add_argument("--no-run", action="store_true", help="read the runs in --home, run nothing")
    parser.add_argument("--extend", action="store_true", help="add these seeds to the recorded ones")
    parser.add_argument("--write", action="store_true", help="record beside each plugin, rewrite pages")
    parser.add_argument("--results", type=Path, default=RESULTS, help="the Markdown file with the table")
    parser.add_argument("--summary", action="store_true", help="each plugin's smallest margins; run nothing")
    args = parser.parse_args()
    homes = args.home or [tempfile.mkdtemp(prefix="calibrate-")]
    from readtrack.batch import calibrate as core
    from readtrack.batch.groups import BatchCancelled, executor_for, parse_seeds
    from readtrack.history import calibration
    from readtrack.plugins.discovery import discover

    builtin = [p.name for p in discover() if p.status == "ok" and p.source == "built-in"]
    names = args.names or builtin
    if args.summary:
        print(summary({name: calibration.load(core.plugin_folder(name)) for name in names}))
        return
    seeds = parse_seeds(args.seeds)
    if not args.no_run:
        try:
            executor = executor_for(args.executor, args.jobs, args.address)
            core.run_seeds(names, seeds, full=args.full, jobs=args.jobs, home=homes[0], executor=executor)
        except BatchCancelled as stop:
            print(stop.summary(), file=sys.stderr)
            raise SystemExit(130) from None
    print(f"{'full' if args.full else 'quick'} runs, seeds {args.seeds}, history in {', '.join(homes)}\n")
    made = core.calibrate(names, homes, seeds, full=args.full, extend=args.extend)
    for line in made.said:
        print(line, file=sys.stderr)
    print(calibration.results_table(made.found))
    if not args.write:
        return
    core.write(made.found)
    everything = {n: calibration.load(core.plugin_folder(n)) for n in dict.fromkeys(builtin + names)}
    args.results.write_text(
        calibration.with_table(
            args.results.read_text(encoding="utf-8"),
            calibration.results_table({n: c for n, c in everything.items() if c}),
        ),
        encoding="utf-8",
    )
    broken = [f"{n}: {p}" for n, c in everything.items() for p in calibration.all_problems(c)]
    print(f"\nrecorded {len(made.found)} plugin(s); {len(broken)} target(s) break the rule", file=sys.stderr)
    for line in broken:
        print("  " + line, file=sys.stderr)


def summary(records: dict[str, list[Any]]) -> str:
    """A Markdown row per plugin: its quick target (newest torch) with the smallest margin, and for each
    record (quick on each torch, newest first, then full) the smallest margin over its asserted targets."""
    from readtrack.history import calibration

    def smallest(c: Any) -> tuple[float, str, int]:
        targets = [s for s in c.numbers if s.kind == "target"]
        if not targets:
            return math.nan, "none asserted", 0
        worst = min(targets, key=calibration.margin_sd)
        return calibration.margin_sd(worst), worst.name, len(targets)

    def cell(c: Any) -> str:
        margin, _, n = smallest(c)
        text = "exact" if margin == math.inf else f"{margin:.1f}"
        return f"{text} ({n}; {calibration.torch_release(c.torch)}, {len(c.seeds)} seeds, {c.cpu_kernels})"

    lines = [
        "| plugin | quick target with the smallest margin | quick, newest torch: margin in sd (targets; "
        "torch, seeds, CPU) | quick, older torch | full |",
        "|---|---|---:|---:|---:|",
    ]
    for name, record in records.items():
        quick = calibration.newest_first(record, "quick")[:2]
        full = calibration.newest_first(record, "full")[:1]
        cells = [cell(c) for c in quick] + ["–"] * (2 - len(quick)) + ([cell(c) for c in full] or ["–"])
        lines.append(f"| {name} | {smallest(quick[0])[1] if quick else '–'} | {' | '.join(cells)} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
