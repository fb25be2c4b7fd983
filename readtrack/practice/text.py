"""How ``readtrack practice`` looks in a terminal: the workspace and its statement, the list of exercises.

Presentation only, plain text (rich only for the live progress of a check: the list must be as fast as
``readtrack list``); the CLI and the TUI call the same core in ``readtrack.practice``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from readtrack.base.errors import UsageError
from readtrack.base.safe_text import visible
from readtrack.base.words import fmt_seconds, plural
from readtrack.plugins import events
from readtrack.practice import ExerciseStatus
from readtrack.practice.declared import PracticePlugin

if TYPE_CHECKING:
    from rich.console import Console

    from readtrack.plugins.records import Emit
    from readtrack.practice.workspace import Workspace

STATUS_STYLE = {"not started": "dim", "failing": "red", "checks pass": "yellow", "claim reproduced": "green"}


def workspace_lines(workspace: Workspace, hints: int = 0, exercise: str | None = None) -> list[str]:
    """The path, what happened to it, each exercise's statement and the first ``hints`` hints (of the
    exercise whose target is ``exercise`` only, when given). With several exercises each hint line names
    its exercise: a long statement can push the first exercise's hints off the screen."""
    plugin = workspace.plugin
    if exercise is not None and exercise not in plugin.targets:
        raise UsageError(
            f"{exercise}: not an exercise of {plugin.name} (its exercises: {', '.join(plugin.targets)})"
        )
    state = "new, from the stub" if workspace.created else "yours, kept as it is (--reset starts again)"
    lines = [f"{plugin.name}: {visible(plugin.title)}", f"workspace: {workspace.path} ({state})"]
    if workspace.backup is not None:
        lines.append(f"your previous work is kept as {workspace.backup}")
    several = len(plugin.exercises) > 1
    for n, each in enumerate(plugin.exercises, 1):
        if exercise is not None and each.target != exercise:
            continue
        size = f", roughly {plural(each.lines, 'line')}" if each.lines else ""
        lines += ["", f"exercise {n} of {len(plugin.exercises)}: {each.target}{size}"]
        statement = visible(each.statement, multiline=True).splitlines()
        lines += ["  " + line if line else "" for line in statement]
        shown = each.hints[:hints]
        of = f" for {each.target}" if several else ""
        lines += [f"  hint {i} of {len(each.hints)}{of}: {visible(h)}" for i, h in enumerate(shown, 1)]
        if len(each.hints) > len(shown):
            only = f" --exercise {each.target}" if several else ""
            lines.append(
                f"  hints: {len(each.hints)} (readtrack practice {plugin.name}{only} --hint {len(shown) + 1})"
            )
    lines += ["", f"check it: readtrack practice {plugin.name} --check   (add --train for the paper's claim)"]
    return lines


def exercises_json(workspace: Workspace) -> dict[str, object]:
    plugin = workspace.plugin
    return {
        "plugin": plugin.name,
        "title": plugin.title,
        "path": str(workspace.path),
        "created": workspace.created,
        "backup": str(workspace.backup) if workspace.backup else None,
        "exercises": [
            {
                "target": e.target,
                "statement": e.statement,
                "hints": list(e.hints),
                "lines": e.lines,
                "references": list(e.references),
            }
            for e in plugin.exercises
        ],
    }


def status_lines(statuses: list[ExerciseStatus], width: int | None = None) -> list[str]:
    """The list of exercises as aligned plain-text columns (as fast as ``readtrack list``: no rich).

    With ``width`` (a terminal's), the exercise column wraps between targets to fit; a pipe gets whole lines.
    """
    if not statuses:
        return ["no plugin declares an exercise yet"]
    sized = any(s.lines for s in statuses)  # a column blank on every row is left out
    head = ("plugin", "exercise", "lines" if sized else "", "status", "last attempt (UTC)")
    rows = [
        (
            s.plugin,
            s.targets,
            f"~{s.lines}" if s.lines else "",
            s.status + (f" ({s.detail})" if s.detail else ""),
            (s.last_attempt or "").replace("T", " ")[:16],
        )
        for s in statuses
    ]
    plugin_w, lines_w, status_w, last_w = (max(len(r[i]) for r in [head, *rows]) for i in (0, 2, 3, 4))
    whole_w = max([len(head[1]), *(len(", ".join(r[1])) for r in rows)])
    longest = max([len(head[1]), *(len(t) + 1 for r in rows for t in r[1])])
    gaps = 8 if sized else 6
    room = whole_w if width is None else width - plugin_w - lines_w - status_w - last_w - gaps
    exercise_w = max(longest, min(whole_w, room))

    def line(plugin: str, exercise: str, size: str, status: str, last: str) -> str:
        cells = [
            plugin.ljust(plugin_w),
            exercise.ljust(exercise_w),
            size.rjust(lines_w),
            status.ljust(status_w),
        ]
        return "  ".join([*cells[:2], *cells[2 if sized else 3 :], last]).rstrip()

    rule = ["─" * w for w in (plugin_w, exercise_w, lines_w, status_w, last_w)]
    lines = [line(*head), "  ".join(rule if sized else rule[:2] + rule[3:])]
    for plugin, targets, size, status, last in rows:
        parts = [""]
        for i, target in enumerate(targets):
            piece = target + ("," if i < len(targets) - 1 else "")
            if parts[-1] and len(parts[-1]) + 1 + len(piece) > exercise_w:
                parts.append(piece)
            else:
                parts[-1] = f"{parts[-1]} {piece}".strip()
        lines.append(line(plugin, parts[0], size, status, last))
        lines += [line("", part, "", "", "") for part in parts[1:]]
    return [visible(text) for text in lines]


def progress_printer(console: Console) -> Emit:
    """An ``emit`` that shows each stage as it starts and ends, and the train stage's log lines; the
    feedback itself comes after, from the result."""

    from rich.text import Text

    def show(event: dict[str, Any]) -> None:
        kind = event.get("type")
        if events.is_stage(event, "start"):
            console.print(f"▶ {event['stage']} with your code", highlight=False)
        elif events.is_stage(event, "end") and event.get("status") != "skipped":
            console.print(
                f"  {event['stage']}: {event.get('status')} in {fmt_seconds(event.get('duration_s') or 0.0)}"
            )
        elif kind == events.LOG and event.get("stage") == "train":
            console.print(Text(f"  {visible(str(event.get('message', '')))}", style="dim"))

    return show


def summary_line(statuses: list[ExerciseStatus]) -> str | None:
    """``practice: 3 of 6 plugins' exercises attempted: 1 claim reproduced, 1 checks pass, 1 failing``, or
    None before the first attempt (``readtrack stats``)."""
    tried = [s for s in statuses if s.status != "not started"]
    if not tried:
        return None
    counts = [(n, status) for status in STATUS_STYLE if (n := sum(s.status == status for s in tried))]
    parts = ", ".join(f"{n} {status}" for n, status in counts if status != "not started")
    attempted = f"{len(tried)} of {len(statuses)} plugins' exercises attempted"
    return f"practice: {attempted}: {parts} (readtrack practice)"


def hint_count(plugin: PracticePlugin) -> int:
    return max((len(e.hints) for e in plugin.exercises), default=0)
