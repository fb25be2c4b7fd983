"""`readtrack practice` as a list: each exercise named whole, wrapped between targets when narrow."""

from __future__ import annotations

import json

from readtrack.practice import ExerciseStatus
from readtrack.practice.text import status_lines


def _status(plugin: str, targets: list[str]) -> ExerciseStatus:
    return ExerciseStatus(plugin, plugin, targets, "not started", "", None, None)


STATUSES = [
    _status("bert", ["SelfAttention.forward", "Bert.hidden", "Bert.forward"]),
    _status("rmsnorm", ["RMSNorm.forward"]),
]


def test_a_pipe_gets_one_whole_line_per_plugin() -> None:
    lines = status_lines(STATUSES)
    assert lines[2].split() == [
        "bert",
        "SelfAttention.forward,",
        "Bert.hidden,",
        "Bert.forward",
        "not",
        "started",
    ]
    assert len(lines) == 4


def test_a_narrow_terminal_wraps_the_exercises_between_targets_and_cuts_none() -> None:
    lines = status_lines(STATUSES, width=70)
    assert max(len(line) for line in lines) <= 70
    bert = lines[2 : lines.index(next(line for line in lines if line.startswith("rmsnorm")))]
    assert len(bert) > 1  # wrapped
    words = " ".join(line[len("bert") :].replace("not started", "") for line in bert).split()
    assert words == ["SelfAttention.forward,", "Bert.hidden,", "Bert.forward"]  # every target whole, in order
    assert all(not line[: len("bert")].strip() for line in bert[1:])  # continuation lines leave the key blank


def test_the_list_says_how_long_each_exercise_is() -> None:
    """Issue 53: nothing told a learner a 3-line exercise from a 40-line one; a ``lines`` column sums the
    model solution's lines over the plugin's exercises (the declarations' ``lines=``), in JSON too."""
    from cli_runner import run_cli

    sized = [ExerciseStatus("rmsnorm", "RMSNorm", ["RMSNorm.forward"], "not started", "", None, None, 4)]
    head, _, row = status_lines(sized)
    assert head.split()[:3] == ["plugin", "exercise", "lines"] and row.split()[:3] == [
        "rmsnorm",
        "RMSNorm.forward",
        "~4",
    ]
    listed = run_cli("practice")
    assert listed.returncode == 0, listed.stderr
    bert = next(line for line in listed.stdout.splitlines() if line.startswith("bert "))
    declared = run_cli("practice", "--json")
    (entry,) = [e for e in json.loads(declared.stdout) if e["plugin"] == "bert"]
    assert entry["lines"] > 3 and f"~{entry['lines']}" in bert.split()
