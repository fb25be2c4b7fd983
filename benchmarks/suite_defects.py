"""Ten hand-made defects, one per layer of readtrack, each of which the test suite must catch (issue 91).

Issue 91 makes the suite faster; a faster suite must still prove what the slower one proved. Coverage
(``benchmarks/suite_coverage.sh``) says which lines the tests run, not whether they would notice a line gone
wrong, so this script plants small realistic bugs, one at a time, one per layer of ARCHITECTURE.md (a paging
off-by-one, a non-atomic write, a verdict rule flipped, a lost job event...), runs the few tests meant to
catch each, and puts the file back. Run it on the tree before a change to the suite and on the tree after it:
every defect must be caught in both.

Usage, from anywhere (``TREE`` is a checkout with its own ``.venv``, readtrack installed in it, editable)::

    python benchmarks/suite_defects.py TREE             # all ten
    python benchmarks/suite_defects.py TREE --only 3 7  # the third and the seventh
    python benchmarks/suite_defects.py TREE --show      # and the end of each pytest's output (what failed)

For each defect: its ``old`` text must occur exactly once in ``TREE/FILE``; it is replaced by ``new``, then
``TREE/.venv/bin/python -m pytest -q -x -p no:cacheprovider -n 0 -o addopts="" -m "not shelf" SELECTION`` runs
in ``TREE``; exit 1 means the defect was caught, exit 0 that it was missed (any other code: the run broke,
reported as such). The file's original text is always written back, whatever happened. A table follows;
the script exits 1 when any defect was missed (or its run broke), 2 on a usage error or a tree where an
``old`` text is not there exactly once.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from textwrap import indent


@dataclass(frozen=True)
class Defect:
    """One planted bug: ``old`` (exactly once in ``file``) becomes ``new``; ``selection`` must then fail."""

    layer: str
    description: str
    file: str  # relative to the tree's root, under readtrack/
    old: str
    new: str
    selection: tuple[str, ...]  # test files or node ids under tests/
    #: (old, new, selection): the same bug where a change moved ``old`` (pool.py's job start, issue 91)
    later: tuple[str, str, tuple[str, ...]] | None = None

    def in_tree(self, tree: Path) -> Defect:
        """This defect as ``tree``'s code reads: itself, or its ``later`` form where ``old`` is not there."""
        path = tree / self.file
        text = path.read_text(encoding="utf-8") if path.is_file() else ""
        if self.later is None or text.count(self.old) == 1:
            return self
        old, new, selection = self.later
        return replace(self, old=old, new=new, selection=selection, later=None)


DEFECTS: list[Defect] = [
    Defect(
        layer="base",
        description="atomic_write truncates and writes the target in place, no temp file renamed over it",
        file="readtrack/base/atomic.py",
        old="fd, tmp = _create_temp(target, 0o666 if existing is None else existing.st_mode & 0o666)",
        new="fd, tmp = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666), target",
        selection=(
            "tests/catalog/test_edits.py::test_writes_are_atomic_and_keep_permissions",
            "tests/test_reliability.py::test_enospc_at_fsync_is_one_line_and_leaves_the_list_as_it_was",
        ),
    ),
    Defect(
        layer="catalog",
        description="a literal (|) block note's span runs into the lines after it: its next edit eats them",
        file="readtrack/catalog/yamlsplice.py",
        old='if node.style in ("|", ">"):',
        new='if node.style == ">":',
        selection=("tests/catalog/test_edits.py::test_notes_single_and_multi_line_round_trip",),
    ),
    Defect(
        layer="formats",
        description="BibTeX export drops an imported entry's pages (missing from KEPT_FIELDS)",
        file="readtrack/formats/bibtex/writer.py",
        old='    "number",\n    "pages",\n',
        new='    "number",\n',
        selection=("tests/formats/test_bibtex_roundtrip.py::test_what_each_style_gives_is_written_out",),
    ),
    Defect(
        layer="plugins",
        description="a knob's low bound counted out of range (<= for <): a default or means= at it refused",
        file="readtrack/plugins/knobs.py",
        old="too_low = knob.low is not None and value < knob.low",
        new="too_low = knob.low is not None and value <= knob.low",
        selection=(
            "tests/plugins/test_knob_words.py::test_means_is_checked_like_a_default_and_shown_beside_the_value",
        ),
    ),
    Defect(
        layer="related",
        description="Semantic Scholar paging off by one: a capped listing asks one more page at the cap",
        file="readtrack/related/s2.py",
        old="while not complete and (cap is None or position < cap):",
        new="while not complete and (cap is None or position <= cap):",
        selection=(
            "tests/related/test_s2_client.py::"
            "test_references_are_paged_to_the_cap_and_the_rest_fetched_later_from_where_the_cache_ends",
        ),
    ),
    Defect(
        layer="history",
        description="the calibration's 3-sd rule flipped: a margin of 3 sd or less is the one that passes",
        file="readtrack/history/calibration.py",
        old="elif not margin_sd(s) >= RULE_SD:",
        new="elif not margin_sd(s) <= RULE_SD:",
        selection=(
            "tests/history/test_calibration.py::"
            "test_a_target_is_asserted_only_when_every_seed_passes_and_the_margin_is_three_sd",
        ),
    ),
    Defect(
        layer="runner",
        description="a stage that timed out no longer skips the stages after it (only a cancel does)",
        file="readtrack/runner/run.py",
        old='if result.status in ("timeout", "cancelled"):',
        new='if result.status == "cancelled":',
        selection=(
            "tests/runner/test_runner.py::test_hung_stage_is_stopped_at_its_timeout_in_the_main_thread",
        ),
    ),
    Defect(
        layer="batch",
        description="a job handed to a reused fork server has its start lost (or told after its run)",
        file="readtrack/batch/pool.py",
        old=(
            "            _send(worker, job)  # a server that dies at once: its reader ends the job\n"
            "        busy.append(worker)\n"
            "        tell(job, events.job_start(job.plugin, job.seed, pid=worker.process.pid))\n"
        ),
        new=(
            "            _send(worker, job)  # a server that dies at once: its reader ends the job\n"
            "            tell(job, events.job_start(job.plugin, job.seed, pid=worker.process.pid))\n"
            "        busy.append(worker)\n"
        ),
        selection=(
            "tests/batch/test_executor_contract.py::"
            "test_a_passing_batch_tells_each_run_once_in_order_and_its_outcome_after_its_events[pool]",
        ),
        later=(
            "        announce(server)\n        if _send(server, job):",
            "        if _send(server, job):",
            (
                "tests/batch/test_event_order.py::"
                "test_a_job_handed_to_an_idle_fork_server_is_started_before_it_is_heard",
            ),
        ),
    ),
    Defect(
        layer="render",
        description="a table's fit forgets its columns' padding: at 100 columns a sweep's verdict is cut",
        file="readtrack/render/tables.py",
        old="return width - self._extra_width - padding",
        new="return width - self._extra_width",
        selection=(
            "tests/render/test_table_widths.py::test_a_sweeps_tables_keep_their_verdicts_and_claims_whole",
        ),
    ),
    Defect(
        layer="cli",
        description="every readtrack error exits 1: a usage error's exit 2 is lost",
        file="readtrack/cli/exits.py",
        old="sys.exit(err.exit_code)",
        new="sys.exit(1)",
        selection=("tests/cli/test_cli.py::test_user_errors_are_one_line_and_exit_2",),
    ),
]


@dataclass(frozen=True)
class Outcome:
    number: int
    defect: Defect
    verdict: str  # caught | missed | broken (pytest exit N)
    seconds: float
    tail: str  # the end of pytest's output: what failed, and why


def pytest_command(tree: Path, selection: tuple[str, ...]) -> list[str]:
    """The tree's own pytest on ``selection``: one process (no xdist), no cache, none of the project's
    addopts (its --durations and --dist) but its ``-m "not shelf"``, stopping at the first failure."""
    python = tree / ".venv" / "bin" / "python"
    return [str(python), "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", "-n", "0", "-o", "addopts=",
            "-m", "not shelf", *selection]  # fmt: skip


def check_tree(tree: Path, defects: list[tuple[int, Defect]]) -> list[str]:
    """Why ``tree`` cannot take ``defects``: an ``old`` text not there once, a file or the venv missing."""
    problems = []
    if not (tree / ".venv" / "bin" / "python").exists():
        problems.append(f"{tree}: no .venv/bin/python")
    for number, defect in defects:
        defect = defect.in_tree(tree)
        path = tree / defect.file
        if not path.is_file():
            problems.append(f"defect {number}: no file {path}")
            continue
        count = path.read_text(encoding="utf-8").count(defect.old)
        if count != 1:
            problems.append(f"defect {number}: its old text occurs {count} times in {defect.file}, not once")
    return problems


def plant_and_test(tree: Path, number: int, defect: Defect) -> Outcome:
    """Plant ``defect``, run its selection, and always put the file back as it was (its bytes)."""
    defect = defect.in_tree(tree)
    path = tree / defect.file
    original = path.read_bytes()
    text = original.decode("utf-8")
    assert text.count(defect.old) == 1, defect.file
    start = time.perf_counter()
    try:
        path.write_text(text.replace(defect.old, defect.new, 1), encoding="utf-8")
        done = subprocess.run(
            pytest_command(tree, defect.selection), cwd=tree, capture_output=True, text=True, check=False
        )
    finally:
        path.write_bytes(original)
    seconds = time.perf_counter() - start
    verdict = {1: "caught", 0: "missed"}.get(done.returncode, f"broken (pytest exit {done.returncode})")
    tail = "\n".join((done.stdout + done.stderr).splitlines()[-15:])
    return Outcome(number, defect, verdict, seconds, tail)


def table(outcomes: list[Outcome]) -> str:
    """The outcomes as a plain-text table, one defect a row."""
    head = ("#", "layer", "defect", "selection", "result", "s")
    rows = [
        (
            str(o.number),
            o.defect.layer,
            o.defect.description,
            " ".join(s.removeprefix("tests/") for s in o.defect.selection),
            o.verdict,
            f"{o.seconds:.1f}",
        )
        for o in outcomes
    ]
    widths = [max(len(row[i]) for row in [head, *rows]) for i in range(len(head))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
             for row in [head, *rows]]  # fmt: skip
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("tree", type=Path, help="the checkout to plant the defects in (with its own .venv)")
    parser.add_argument("--show", action="store_true", help="print the end of each pytest run's output")
    parser.add_argument(
        "--only", type=int, nargs="+", metavar="N", help=f"run only these defects (1 to {len(DEFECTS)})"
    )
    args = parser.parse_args(argv)
    tree: Path = args.tree.resolve()
    wanted = args.only or list(range(1, len(DEFECTS) + 1))
    if any(not 1 <= n <= len(DEFECTS) for n in wanted):
        parser.error(f"--only takes numbers from 1 to {len(DEFECTS)}")
    chosen = [(n, DEFECTS[n - 1]) for n in dict.fromkeys(wanted)]
    problems = check_tree(tree, chosen)
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 2
    outcomes = []
    for number, defect in chosen:
        outcome = plant_and_test(tree, number, defect)
        print(
            f"{number}/{len(DEFECTS)} {defect.layer}: {outcome.verdict} in {outcome.seconds:.1f} s",
            flush=True,
        )
        if args.show or outcome.verdict.startswith("broken"):
            print(indent(outcome.tail, "    "), flush=True)
        outcomes.append(outcome)
    print()
    print(table(outcomes))
    missed = [o for o in outcomes if o.verdict != "caught"]
    total = sum(o.seconds for o in outcomes)
    print(f"\n{len(outcomes) - len(missed)} of {len(outcomes)} caught in {total:.0f} s ({tree})")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
