"""The commands the CLI's app defines in other modules, named without importing them (issue 87).

Those modules import what their commands need at the top (batches, run history, the citation cache: 50 ms
before `readtrack list` drew a line), so `readtrack.cli.app` lists their commands from this table, in
`--help`'s order, each with its module and the one-line help `--help` shows (the first paragraph of the
command's docstring, whitespace collapsed). `--help` and Click's "did you mean" need nothing more; running
one imports its module, and only that one. A command added to one of these modules goes here too:
tests/cli/test_lazy_commands.py checks this table against the modules' commands, and prints the entry to
paste.
"""

from __future__ import annotations

# name: (module whose `commands` Typer holds it, its one-line help)
ELSEWHERE: dict[str, tuple[str, str]] = {
    # editing the list (readtrack.cli.move)
    "move": (
        "readtrack.cli.move",
        "Move a paper before or after another, or to the end of a section: only its own lines move (with the "
        "comment lines right above it), every other line of papers.yaml stays as it was.",
    ),
    # paper plugins (readtrack.cli.plugins)
    "run": (
        "readtrack.cli.plugins",
        "Run a paper plugin: check it against a reference, train the tiny claim, benchmark it.",
    ),
    "history": (
        "readtrack.cli.plugins",
        "Past plugin runs, newest first; a multi-seed run or a sweep is one entry (`readtrack history "
        "SWEEP_ID` shows a sweep's settings).",
    ),
    "compare": (
        "readtrack.cli.plugins",
        "Compare a plugin's last two runs: check errors, targets, measured values, bench medians (what "
        "changed; --all for every number), their knobs first when they differ. After a sweep, or given a "
        "sweep's id: its settings side by side, each the mean over its seeds. Given ids (`readtrack compare "
        "NAME ID ID...`, any id `readtrack history` prints): two compared, or more side by side.",
    ),
    "practice": (
        "readtrack.cli.plugins",
        "Implement a paper's core yourself: graded by its plugin's check, and by its claim with --train.",
    ),
    "plot": (
        "readtrack.cli.plugins",
        "Save a picture of runs: training curves (one line per setting, a band over seeds) and bench "
        "medians; the newest run, multi-seed run or sweep of NAME by default, or what the ids name "
        "(`readtrack plot ID` takes the ids `compare` takes). Each -o FILE is written, its format by its "
        "suffix.",
    ),
    "knobs": (
        "readtrack.cli.plugins",
        "A plugin's knobs: what each means, its quick and full defaults, what it may be, what the paper used "
        "(turn one with `readtrack run NAME --set KEY=VALUE`).",
    ),
    "plugins": (
        "readtrack.cli.plugins",
        "Paper plugins found (built-in, installed, user folder), broken ones with their error, and those "
        "whose calibration is not fresh (missing, stale, incomplete) with what to do.",
    ),
    "explain": (
        "readtrack.cli.plugins",
        "A plugin's page beside the paper (claim, equations, the tiny experiment) and, with --code, its "
        "code.",
    ),
    "new-plugin": (
        "readtrack.cli.plugins",
        "Scaffold a plugin in your plugin folder whose check, train and bench already run; link the paper.",
    ),
    # writing a plugin (readtrack.cli.authoring)
    "calibrate": (
        "readtrack.cli.authoring",
        "Run plugins' train stage on many seeds and record each number's spread beside the plugin: a target "
        "is asserted only when every seed passes and the mean lies at least 3 seed standard deviations past "
        "the threshold: (mean − threshold) / sd ≥ 3 on the passing side, a single seed may lie closer; on two"
        " torch releases (one on 20 seeds, the other on 10). Your own run history is left as it is; exit 1 "
        "when a plugin got no calibration.",
    ),
    "check-plugin": (
        "readtrack.cli.authoring",
        "Check a plugin against the plugin standard (plugins/README.md): its stages pass on the CPU in quick "
        "mode, the train stage asserts a target, the bench has a baseline, the quick run keeps its budget, "
        "the page and config.py import no torch, the knobs are valid, every mistake is caught, the "
        "calibration is fresh. Nothing is recorded in your history. Exit 1 when a rule is broken.",
    ),
    # the citation graph (readtrack.cli.related)
    "refs": (
        "readtrack.cli.related",
        "What a paper cites (Semantic Scholar's order, or --sort), each row's place in your list and its "
        "plugins.",
    ),
    "cites": (
        "readtrack.cli.related",
        "Who cites a paper, most cited (or newest) first among the citations fetched.",
    ),
    "next": (
        "readtrack.cli.related",
        "What to read next: papers cited by or citing the ones you read or are reading, and Semantic "
        "Scholar's recommendations, ranked (see the manual's \"What to read next\").",
    ),
    # the day's arXiv (readtrack.cli.feed)
    "feed": (
        "readtrack.cli.feed",
        "The newest arXiv submissions in your categories, ranked by what you read, each with why (see the "
        "manual's \"The day's arXiv\").",
    ),
    # the families of the list (readtrack.cli.lineage)
    "lineage": (
        "readtrack.cli.lineage",
        "The families of the list, each a chain of papers in time: what each improved over which earlier "
        "one, with that step's number and verdict from the newest run recorded (see the manual's "
        '"Lineages").',
    ),
}
