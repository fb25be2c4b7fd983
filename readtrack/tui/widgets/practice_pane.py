"""The paper view's Practice tab: implement the plugin's exercise yourself, check it, train with it.

It shows the statement, the hints revealed one by one (``h``), the learner's status and workspace, and the
feedback of the newest attempt. ``e`` opens the workspace in $VISUAL/$EDITOR (the app suspends and comes
back), ``c`` checks it with the plugin's check stage, ``t`` checks and then trains with it. Grading is
``readtrack.practice.check`` in a worker thread: the learner's code runs in a process of its own, whose
stage events appear here as they happen; the TUI never imports torch.
"""

from __future__ import annotations

import re
import threading
from typing import Any, ClassVar

from rich.text import Text
from textual import work
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Static

from readtrack.base.errors import ReadtrackError
from readtrack.base.safe_text import visible
from readtrack.base.words import plural
from readtrack.plugins import events

ITEM = re.compile(r"([-*•]|\d+[.)]) ")  # a list item starts a line of its own


def unwrapped(statement: str) -> str:
    """A docstring hard-wrapped at ~110 columns as paragraphs for the pane to wrap once: the lines of a
    paragraph joined with spaces; blank lines kept, and indented lines (equations, code) kept as written,
    each on its own line, as is a list item (``- …``, ``1. …``). Wrapped twice, a narrower pane broke every
    source line short ("… the trailing" / "len(self.normalized_shape) …" as half lines)."""
    lines: list[str] = []
    for line in statement.strip("\n").splitlines():
        joins = lines and lines[-1].strip() and not lines[-1][:1].isspace()
        if joins and line.strip() and not line[:1].isspace() and not ITEM.match(line):
            lines[-1] = f"{lines[-1].rstrip()} {line.strip()}"
        else:
            lines.append(line.rstrip())
    return "\n".join(lines)


class PracticePane(VerticalScroll):
    """The Practice tab's content for one plugin (see the module docstring)."""

    class Graded(Message):
        """An attempt was graded: the learner's status may have changed (the paper view reads it again)."""

    can_focus = True
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("h", "hint", "Hint", tooltip="Reveal the next hint"),
        Binding("e", "edit", "Edit", tooltip="Open your model.py in $VISUAL or $EDITOR"),
        Binding("c", "check", "Check", tooltip="Grade your code with the plugin's check"),
        Binding("t", "train", "Train", tooltip="Check, then train with your code: is the claim reproduced?"),
    ]

    def __init__(self, plugin: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.plugin = plugin
        self.hints = 0
        self.busy = False
        self.progress: list[str] = []
        self.feedback: list[str] = []
        self.cancel = threading.Event()  # set when the pane goes: the grading process is killed

    def compose(self) -> Any:
        yield Static(self._render_body(), id="practice-body")

    def on_unmount(self) -> None:
        self.cancel.set()

    def refresh_body(self) -> None:
        for body in self.query("#practice-body").results(Static):  # none once the view is being closed
            body.update(self._render_body())

    def _render_body(self) -> Text:
        from readtrack import practice

        try:
            plugin = practice.practice_plugin(self.plugin)
        except ReadtrackError:
            return Text(f"{self.plugin} has no practice exercise yet.", style="dim")
        status = next((s for s in practice.statuses() if s.plugin == self.plugin), None)
        text = Text()
        if status is not None:
            text.append(f"status: {status.status}", style="bold")
            text.append(f" ({visible(status.detail)})" if status.detail else "")
            path = practice.workspace_file(plugin)
            where = str(path) if path.exists() else "not created yet (e or c creates it)"
            text.append(f"\nworkspace: {where}\n", style="dim")
        for exercise in plugin.exercises:
            size = f", roughly {plural(exercise.lines, 'line')}" if exercise.lines else ""
            text.append(f"\n{exercise.target}{size}\n", style="bold")
            text.append(visible(unwrapped(exercise.statement), multiline=True) + "\n")
            for n, hint in enumerate(exercise.hints[: self.hints], 1):
                text.append(f"hint {n} of {len(exercise.hints)}: {visible(hint)}\n", style="cyan")
            if len(exercise.hints) > self.hints:
                text.append(f"({len(exercise.hints) - self.hints} more hints: h)\n", style="dim")
        text.append("\ne edit · c check · t check and train · h hint\n", style="dim")
        for line in self.progress:
            text.append(line + "\n", style="dim")
        for line in self.feedback:
            style = "green" if line.startswith("✓") else "red" if line.startswith(("✗", "error")) else ""
            text.append(visible(line, multiline=True) + "\n", style=style)
        return text

    # -- actions -------------------------------------------------------------------------------------------
    def action_hint(self) -> None:
        self.hints += 1
        self.refresh_body()

    def action_edit(self) -> None:
        from readtrack import practice
        from readtrack.base.editor import edit_file

        workspace = practice.open_workspace(practice.practice_plugin(self.plugin))
        try:
            with self.app.suspend():
                edit_file(workspace.path)
        except ReadtrackError as err:
            self.notify(str(err), severity="error")
        except Exception as err:  # a terminal that cannot suspend (a test's headless driver)
            self.notify(f"cannot open the editor here: {err}", severity="warning")
        self.refresh_body()

    def action_check(self) -> None:
        self._grade(train=False)

    def action_train(self) -> None:
        self._grade(train=True)

    def _grade(self, *, train: bool) -> None:
        if self.busy:
            self.notify("a check is running", severity="warning")
            return
        from readtrack import practice

        practice.open_workspace(practice.practice_plugin(self.plugin))  # the stub, on a first check
        self.busy = True
        self.progress = ["checking…"]
        self.feedback = []
        self.refresh_body()
        self._run(train)

    @work(thread=True, exclusive=True, group="practice")
    def _run(self, train: bool) -> None:
        from readtrack import practice

        def emit(event: dict[str, Any]) -> None:
            if events.is_stage(event, "start"):
                line = f"▶ {event.get('stage')} with your code"
            elif events.is_stage(event, "end"):
                line = f"  {event.get('stage')}: {event.get('status')}"
            elif event.get("type") == events.PROGRESS and event.get("total"):
                line = f"  {event.get('stage')}: {event.get('done')} of {event.get('total')}"
            else:
                return
            if not self.cancel.is_set():
                self.app.call_from_thread(self._add_progress, line)

        try:
            result = practice.check(self.plugin, train=train, quick=True, emit=emit, cancel=self.cancel)
            lines = result.lines()
        except ReadtrackError as err:
            lines = [f"error: {err}"]
        if not self.cancel.is_set():
            self.app.call_from_thread(self._show_result, lines)

    def _add_progress(self, line: str) -> None:
        self.progress.append(line)
        self.refresh_body()

    def _show_result(self, lines: list[str]) -> None:
        self.busy = False
        self.progress = []
        self.feedback = lines
        self.refresh_body()
        self.post_message(self.Graded())
