r"""Running a paper's plugin from the TUI: choose device and mode, watch it live, read the recorded result.

The run is a batch of `RunRequest`\ s (`readtrack.batch.groups.run_batch`, what ``readtrack run --seeds``
uses) on this machine's executor, in a worker thread: each run is a process of the fork-server pool (a
crash, a hang or a CUDA abort in the plugin cannot take the TUI down), and its events come back to this
screen as they happen. One seed by default; with seeds in the seeds field (``0-4``, ``0,3,7``, ``5``) the
seeds run in parallel workers, each seed's stages show live, and the result is the per-seed table and the
spread over seeds. Escape cancels: the pool stops the runs (SIGTERM, then SIGKILL after its one grace,
`readtrack.batch.pool.CANCEL_GRACE_S`) and a single run records itself as cancelled. The batch records every
run in the history; the screen shows the record's check, training curve and benchmark tables, and the
plugin's recent runs with the trend of its main number.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any, ClassVar

from rich.console import Group
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.widgets import Header, Input, ProgressBar, RichLog, Static
from textual_plotext import PlotextPlot

from readtrack.base.errors import UsageError, one_line
from readtrack.base.safe_text import visible
from readtrack.catalog.model import Paper
from readtrack.history.spread import GroupRecord
from readtrack.plugins import events
from readtrack.plugins.records import RunRecord
from readtrack.tui.screens.dialogs import HelpScreen, HelpSection, binding_help
from readtrack.tui.widgets.key_bar import KeyBar
from readtrack.tui.widgets.knobs_panel import KnobsPanel
from readtrack.tui.widgets.panes import ScrollPane
from readtrack.tui.widgets.run_results import (
    STATUS_STYLES,
    claim_text,
    curves_of,
    draw_curves,
    history_renderable,
    record_renderables,
    setting_text,
)
from readtrack.tui.workers.handoff import hand_to
from readtrack.tui.workers.plot_saver import save_plot

DEVICES = ("auto", "cpu", "cuda", "mps")
STAGES = ("check", "train", "bench")
STAGE_GLYPHS = {
    "running": "◐",
    "passed": "✓",
    "failed": "✗",
    "error": "✗",
    "timeout": "⏱",
    "cancelled": "⊘",
    "skipped": "·",
}
RAN = ("passed", "failed", "error", "timeout")  # a stage that ended so ran; skipped and cancelled did not


def _when(started_at: str) -> str:
    """``2026-01-02 03:04 UTC`` from a record's ISO start time."""
    return f"{started_at.replace('T', ' ')[:16]} UTC"


class ScrollLog(RichLog):
    """The live log, scrolled by j/k as well as the arrows (as the result pane beside it)."""

    BINDINGS: ClassVar[list[BindingType]] = ScrollPane.BINDINGS


class RunScreen(Screen[None]):
    """One plugin: options, live progress and log, then the recorded result and history."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "start", "Run", tooltip="Run the plugin with the options, seeds and knobs shown"),
        Binding("d", "cycle_device", "Device", tooltip="The next device: auto, cpu, cuda, mps"),
        Binding("f", "toggle_mode", "Quick/full", tooltip="A quick run or the full one"),
        Binding("s", "seeds", "Seeds", tooltip="Type seeds to run in parallel: 0-4, 0,3,7, or a count"),
        Binding("K", "knobs", "Knobs", tooltip="Turn the plugin's knobs: the next run uses them (as --set)"),
        Binding("p", "save_plot", "Save plot", tooltip="Save the shown run's plot as PNG (readtrack plot's)"),
        Binding("tab", "switch_pane", "Other pane", tooltip="The next pane: result, live log, knobs"),
        Binding("escape", "cancel_or_back", "Cancel/back", tooltip="Cancel the run, else back to the list"),
        Binding("question_mark", "help", "Help", tooltip="These keys"),
    ]
    # The result pane has the keys (arrows, PgUp/PgDn, j/k scroll it); Tab gives them to the live log. Not
    # the seeds field: d, f and s are keys here until s focuses it.
    AUTO_FOCUS = "#run-results"
    KEY_BAR_FIRST: ClassVar[tuple[str, ...]] = (
        "start",
        "cancel_or_back",  # the way out: at 80 columns the bar still has room for all but Tab (in the border)
        "cycle_device",
        "toggle_mode",
        "seeds",
        "knobs",
        "save_plot",
        "switch_pane",
    )
    SCROLL_HINT = "↑↓ PgUp PgDn j k scroll · Tab: the other pane"
    SHORT_SCROLL_HINT = "↑↓ j k scroll · Tab: other pane"  # in a narrow pane's border (the live one)

    def __init__(self, plugin: str, paper: Paper) -> None:
        super().__init__()
        self.plugin = plugin
        self.paper = paper
        self.device = "auto"
        self.quick = True
        self.cancel: threading.Event | None = None  # the running batch's: set by Esc
        self.stage_status: dict[str, str] = {}
        self.curves: dict[str, list[tuple[int, float]]] = {}
        self.record: RunRecord | None = None
        self.group: GroupRecord | None = None
        self.seed_status: dict[int, dict[str, str]] = {}  # multi-seed runs: each seed's stages
        self.jobs = (0, 0)  # multi-seed runs: (seeds done, seeds in all)
        self.stages: list[str] = list(STAGES)  # the stages this run goes through (its start event says)
        self.stage_part = 0.0  # how far the running stage is, from its progress events (0 without any)
        self._cancelling = False
        self._refused: str | None = None  # the runner's error event: the run never started
        self._heard = False  # the run has sent an event: its runner had started
        self.shown: RunRecord | GroupRecord | None = None  # the run the result pane shows (p saves its plot)

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="run-options-row"):
            yield Static(id="run-options")
            yield Input(placeholder="s: seeds 0-4 · 0,3,7 · 5", id="run-seeds")
        with Horizontal(id="run-body"):
            with Vertical(id="run-side"):  # the knobs over the live pane (beside it in a narrow terminal)
                yield KnobsPanel(self.plugin, id="run-knobs")
                with Vertical(id="run-live"):
                    yield Static(id="run-stages")
                    yield ProgressBar(id="run-progress", show_eta=False)
                    # min_width: the default (78) clipped lines mid-word in a narrower pane, not wrapping
                    yield ScrollLog(id="run-log", wrap=True, markup=False, max_lines=5000, min_width=10)
            # The run's own result first (its setting, tables and curve), then the plugin's recent runs: a
            # short terminal shows the result without scrolling.
            with ScrollPane(id="run-results"):
                yield Static(id="run-verdict")
                yield Static(id="run-check")
                yield PlotextPlot(id="run-curve")
                yield Static(id="run-legend")
                yield Static(id="run-bench")
                yield Static(id="run-history")
        yield KeyBar()

    def on_mount(self) -> None:
        self.sub_title = visible(f"{self.plugin} · {self.paper.display_title}")
        self.query_one("#run-live").border_title = "Live"
        self.query_one("#run-results").border_title = "Result"
        self._show_options()
        self._show_stages()
        self.query_one("#run-verdict", Static).update(Text("Enter runs the plugin.", style="dim"))
        self.query_one("#run-curve").display = False
        self.query_one(ProgressBar).update(total=1, progress=0)  # idle: empty, not the animated "unknown"
        self._show_scroll_hint()
        self.query_one(KnobsPanel).locked = lambda: self.running
        self._load_history(show_last=True)

    # -- panes ---------------------------------------------------------------------------------------

    def action_switch_pane(self) -> None:
        """Tab: the result pane, the live log, then the knobs when the plugin has any, and round."""
        knobs = self.query_one(KnobsPanel)
        panes = [self.query_one("#run-results"), self.query_one("#run-log")]
        panes += [knobs.query_one("#knobs-list")] if knobs.knobs else []
        focused = self.focused
        if focused is not None and knobs in focused.ancestors_with_self:
            knobs.end_typing()
            now = len(panes) - 1
        else:
            now = next((i for i, pane in enumerate(panes) if focused is pane), 0)
        panes[(now + 1) % len(panes)].focus()

    def help_sections(self) -> list[HelpSection]:
        """The screen's keys, its knobs panel's when the plugin has knobs, and the panes' scrolling keys,
        from their bindings (`readtrack.tui.screens.dialogs.screen_help`)."""
        sections: list[HelpSection] = [("The run screen (Enter on a paper)", binding_help(self.BINDINGS))]
        if self.query(KnobsPanel) and self.query_one(KnobsPanel).knobs:
            knob_keys = [*binding_help(KnobsPanel.BINDINGS), *KnobsPanel.FIELD_KEYS]
            sections.append(("The knobs panel (K; Esc leaves it)", knob_keys))
        scroll = [("↑ ↓ PgUp PgDn", "Scroll"), *binding_help(ScrollPane.BINDINGS)]
        sections.append(("The result pane and the live log (Tab moves between them)", scroll))
        return sections

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen([], self.help_sections(), title="The run screen's keys"))

    def action_knobs(self) -> None:
        knobs = self.query_one(KnobsPanel)
        if knobs.knobs:
            knobs.query_one("#knobs-list").focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """K shows only for a plugin with knobs."""
        if action == "knobs":
            return bool(self.query(KnobsPanel) and self.query_one(KnobsPanel).knobs)
        return True

    def on_descendant_focus(self) -> None:
        self.call_after_refresh(self._show_scroll_hint)  # once laid out: the hint fits the pane's width

    def on_resize(self) -> None:
        self.call_after_refresh(self._show_scroll_hint)

    def _show_scroll_hint(self) -> None:
        """The focused pane's lower border says how to scroll it."""
        if not self.is_attached:
            return  # closed before the refresh this waited for
        for pane in (self.query_one("#run-live"), self.query_one("#run-results")):
            focused = self.focused is not None and (self.focused is pane or pane in self.focused.ancestors)
            fits = pane.size.width >= len(self.SCROLL_HINT) + 6  # the corners and the title's spaces
            pane.border_subtitle = (self.SCROLL_HINT if fits else self.SHORT_SCROLL_HINT) if focused else ""

    # -- options -------------------------------------------------------------------------------------

    def _show_options(self) -> None:
        line = Text("device ")
        for device in DEVICES:
            line.append(f" {device} ", style="reverse bold" if device == self.device else "dim")
        line.append("  mode ")
        for quick, label in ((True, "quick"), (False, "full")):
            line.append(f" {label} ", style="reverse bold" if quick == self.quick else "dim")
        self.query_one("#run-options", Static).update(line)

    def action_cycle_device(self) -> None:
        if self.running:
            return
        self.device = DEVICES[(DEVICES.index(self.device) + 1) % len(DEVICES)]
        self._show_options()

    def action_seeds(self) -> None:
        if not self.running:
            self.query_one("#run-seeds", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.set_focus(self.query_one("#run-results"))
        self.action_start()

    def action_toggle_mode(self) -> None:
        if self.running:
            return
        self.quick = not self.quick
        self._show_options()
        self.query_one(KnobsPanel).set_quick(self.quick)

    # -- running -------------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.cancel is not None

    def action_start(self) -> None:
        if self.running:
            self.notify("Already running (Esc cancels)", severity="warning")
            return
        knobs = self.query_one(KnobsPanel)
        knobs.end_typing()  # a value typed but not entered is not the run's
        settings = knobs.settings()
        seeds = self.query_one("#run-seeds", Input).value.strip()
        from readtrack.batch.groups import parse_seeds

        try:
            seed_list = parse_seeds(seeds) if seeds else [0]
        except UsageError as err:
            self._verdict(Text(str(err), style="bold red"))
            return
        count = len(seed_list)
        self.stage_status = {}
        self.seed_status = {}
        self.jobs = (0, count) if seeds else (0, 0)
        self.curves = {}
        self.record = None
        self.group = None
        self.shown = None
        self._cancelling = False
        self._refused = None
        self._heard = False
        self.stages, self.stage_part = list(STAGES), 0.0
        self.query_one(RichLog).clear()
        # Starting: 0 of the stages (or seeds) done, not the animated "--%" that says nothing.
        self.query_one(ProgressBar).update(total=count if seeds else len(self.stages), progress=0)
        self.query_one("#run-check", Static).update("")
        self.query_one("#run-bench", Static).update("")
        self.query_one("#run-curve").display = False
        mode = "quick" if self.quick else "full"
        on_seeds = f", seeds {seeds}" if seeds else ""
        self._verdict(
            Text(
                f"Running {self.plugin} on {self.device} ({mode}{on_seeds})… Esc cancels", style="bold yellow"
            ),
            settings,
        )
        self._show_stages()
        self.cancel = threading.Event()
        self._run_batch(seed_list, tuple((settings or {}).items()), self.cancel)

    @work(thread=True, group="run")
    def _run_batch(
        self, seeds: list[int], settings: tuple[tuple[str, Any], ...], cancel: threading.Event
    ) -> None:
        """The batch, in a worker thread: its events and its end handed to the UI thread."""
        from readtrack.base.errors import ReadtrackError
        from readtrack.batch.groups import BatchCancelled, RunSettings, default_jobs, run_batch
        from readtrack.runner.threads import resolve_threads

        request = RunSettings(self.device, self.quick, threads=resolve_threads(), settings=settings)
        outcomes: list[Any] = []
        try:
            outcomes = run_batch(
                [self.plugin], seeds, request, workers=min(default_jobs(), len(seeds)),
                on_event=lambda _, event: hand_to(self, self._on_event, event),
                cancel=cancel,
            )  # fmt: skip
        except BatchCancelled as stop:
            outcomes = stop.recorded
        except ReadtrackError as err:  # refused before any run started (a bad setting, no such plugin)
            hand_to(self, self._on_event, events.error(str(err), err.exit_code))
        hand_to(self, self._finished, outcomes)

    def _on_event(self, event: dict[str, Any]) -> None:
        if event.get("type") != events.JOB:  # the pool started a worker: the run itself has said nothing yet
            self._heard = True
        if "seed" in event and self.jobs[1]:
            self._on_seed_event(event)
            return
        kind = event.get("type")
        log = self.query_one(RichLog)
        stage = event.get("stage")
        if kind == events.PLUGIN_DONE and event.get("group"):
            self.group = GroupRecord.from_dict(event["group"])
        elif kind == events.PLUGIN_DONE and event.get("record"):
            self.record = RunRecord.from_dict(event["record"])
        elif kind == events.START:
            run = event.get("run") or {}
            self.stages = [str(s) for s in run.get("stages") or STAGES]
            self._show_progress()
            log.write(Text(f"started on {run.get('device', self.device)}", style="dim"))
        elif kind == events.STAGE and stage:
            if event.get("event") == "start":
                self.stage_status[stage] = "running"
                self.stage_part = 0.0
                self._show_progress()
                log.write(Text(f"▶ {stage}", style="bold"))
            else:
                status = str(event.get("status"))
                self.stage_status[stage] = status
                self.stage_part = 0.0
                self._show_progress()
                line = Text(
                    f"{STAGE_GLYPHS.get(status, '?')} {stage} {status}",
                    style=STATUS_STYLES.get(status, "bold red"),
                )
                line.append(f" in {float(event.get('duration_s') or 0):.1f} s", style="dim")
                if event.get("error"):
                    line.append(f": {event['error']}", style="red")
                log.write(line)
            self._show_stages()
        elif kind == events.PROGRESS:
            total, done = event.get("total"), float(event.get("done") or 0)
            if total:  # without a total the stage's share stays where it was: no made-up fraction
                self.stage_part = min(max(done / float(total), 0.0), 1.0)
                self._show_progress()
            if event.get("message"):
                log.write(Text(str(event["message"]), style="dim"))
        elif kind == events.LOG:
            log.write(Text(str(event.get("message", ""))))
        elif kind == events.METRIC:
            name = str(event.get("name"))
            self.curves.setdefault(name, []).append(
                (int(event.get("step") or 0), float(event.get("value") or 0))
            )
            if len(self.curves[name]) % 10 == 1:  # redraw the plot now and then, not on every point
                self._plot(self.curves)
        elif kind == events.RECORD:
            self.record = RunRecord.from_dict(event["record"])
        elif kind == events.ERROR:
            message = str(event.get("message"))
            self._refused = message
            log.write(Text(message, style="bold red"))
            self._verdict(Text(f"Not run: {message}", style="bold red"))

    def _on_seed_event(self, event: dict[str, Any]) -> None:
        """An event of one seed's worker in a multi-seed run."""
        kind, seed, stage = event.get("type"), int(event["seed"]), event.get("stage")
        log = self.query_one(RichLog)
        if events.is_job(event, "end"):
            self.jobs = (self.jobs[0] + 1, self.jobs[1])
            self.query_one(ProgressBar).update(total=self.jobs[1], progress=self.jobs[0])
            status = str(event.get("status"))
            line = Text(f"seed {seed} {status}", style=STATUS_STYLES.get(status, "bold red"))
            line.append(f" in {float(event.get('wall_s') or 0):.1f} s", style="dim")
            log.write(line)
        elif kind == events.STAGE and stage:
            status = "running" if event.get("event") == "start" else str(event.get("status"))
            self.seed_status.setdefault(seed, {})[str(stage)] = status
            if event.get("error"):
                log.write(Text(f"seed {seed} {stage}: {event['error']}", style="red"))
            self._show_stages()
        elif kind == events.LOG:
            log.write(Text(f"seed {seed}: {event.get('message', '')}"))
        elif kind == events.METRIC:
            name = f"{event.get('name')} (seed {seed})"
            self.curves.setdefault(name, []).append(
                (int(event.get("step") or 0), float(event.get("value") or 0))
            )
            if len(self.curves[name]) % 10 == 1:
                self._plot(self.curves)
        elif kind == events.ERROR:
            log.write(Text(f"seed {seed}: {event.get('message')}", style="bold red"))

    def _show_progress(self) -> None:
        """The bar: the stages that ran to an end, plus the running one's share when it reports progress.
        A stage that was skipped, cancelled or never started (a run refused before it began) adds nothing."""
        ran = sum(self.stage_status.get(stage) in RAN for stage in self.stages)
        running = any(self.stage_status.get(stage) == "running" for stage in self.stages)
        part = self.stage_part if running else 0.0
        self.query_one(ProgressBar).update(total=len(self.stages) or 1, progress=ran + part)

    def _finished(self, outcomes: list[Any]) -> None:
        """The batch ended (``outcomes``: its `PluginOutcome`, none when refused or cancelled early)."""
        self.cancel = None
        error = None
        for outcome in outcomes:
            if isinstance(outcome.entry, GroupRecord):
                self.group = outcome.entry
            elif outcome.entry is not None:
                self.record = outcome.entry
            error = outcome.error
        if not self.jobs[1]:
            self._show_progress()  # what ran; never 100% for stages that did not
        log = self.query_one(RichLog)
        record = self.record
        if self.group is not None:
            self._show_group(self.group)
        elif record is not None:
            self._show_record(record)
        elif self._cancelling and not self._heard:  # Esc before the runner had started: its SIGINT met
            # Python starting up or importing, and that traceback would tell the user nothing
            log.write(Text("cancelled before the run started: nothing was recorded", style="bold yellow"))
            self._verdict(Text("Cancelled before the run started: nothing was recorded", style="bold yellow"))
        elif self._refused is None:
            reason = error or (
                "cancelled before it finished: nothing was recorded" if self._cancelling else ""
            )
            log.write(
                Text(f"the run ended without a record: {reason or 'no reason given'}", style="bold red")
            )
            self._verdict(Text("The run ended without a record; see the log", style="bold red"))
        self._load_history(show_last=False)

    def _show_record(self, record: RunRecord) -> None:
        from readtrack.render.cells import fmt_seconds

        info = record.info
        verdict = Text(f"{record.status}", style=STATUS_STYLES.get(record.status, "bold red"))
        # The date next to the status, as the paper view's Results tab has it: a narrow pane wraps the
        # line after it, not between its day and its time.
        verdict.append(f"  {_when(info.started_at)} · ", style="dim")
        verdict.append(f"{info.device}{' quick' if info.quick else ''} · {fmt_seconds(record.duration_s)} · ")
        verdict.append(" ".join(f"{s.stage} {STAGE_GLYPHS.get(s.status, '?')}" for s in record.stages))
        self._verdict(verdict, info.settings, claim_text([record]))
        self.stage_status = {s.stage: s.status for s in record.stages}
        self.stages = [s.stage for s in record.stages] or list(STAGES)
        self._show_stages()
        self._show_progress()
        checks, bench = record_renderables(record)  # under the verdict, which names the setting
        self.query_one("#run-check", Static).update(checks)
        self.query_one("#run-bench", Static).update(bench)
        self._plot(curves_of(record))
        self._shown_run(record)

    def _show_group(self, group: GroupRecord) -> None:
        from readtrack.base.words import seeds_label
        from readtrack.render.batches import group_renderables

        verdict = Text(f"seeds {seeds_label(group.seeds)}: ")
        verdict.append(group.status, style=STATUS_STYLES.get(group.status, "bold red"))
        verdict.append(f"  {_when(group.started_at)}", style="dim")
        if group.runs:
            info = group.info
            verdict.append(f" · {info.device}{' quick' if info.quick else ''}", style="dim")
            self._verdict(verdict, info.settings, claim_text(group.runs))
        else:
            self._verdict(verdict)
        ended = sum(run.status != "cancelled" for run in group.runs)
        self.query_one(ProgressBar).update(total=len(group.seeds) or 1, progress=ended)
        # The tables drop the columns the pane has no room for (a fixed 100 cut "min … max" in a narrow one).
        width = self.query_one("#run-results").scrollable_content_region.width or 100
        self.query_one("#run-check", Static).update(Group(*group_renderables(group, width=width)))
        self.query_one("#run-bench", Static).update("")
        first = next(iter(curves_of(group.runs[0])), None) if group.runs else None
        per_seed = {
            f"{first} (seed {run.info.seed})": curves_of(run)[first]
            for run in group.runs
            if first is not None and first in curves_of(run)
        }
        self._plot(per_seed)
        self._shown_run(group)

    def _shown_run(self, shown: RunRecord | GroupRecord, take: bool = False) -> None:
        """The result pane shows ``shown``; ``take``: the knobs and mode become its (KnobsPanel.run_shown)."""
        self.shown = shown
        info = shown.info if not isinstance(shown, GroupRecord) or shown.runs else None
        if info is not None and self.query_one(KnobsPanel).run_shown(info.settings, info.quick, take=take):
            self.quick = info.quick
            self._show_options()

    def _plot(self, curves: dict[str, list[tuple[int, float]]]) -> None:
        draw_curves(self.query_one(PlotextPlot), self.query_one("#run-legend", Static), curves)

    def _verdict(
        self, text: Text, settings: Mapping[str, Any] | None = None, claim: Text | None = None
    ) -> None:
        """The result pane's first line, the run's setting first (``norm=none · seeds 0-1: passed …``, or
        ``defaults · …``; none for a run that never started), and under it what the run says of the claim."""
        line = text if settings is None else Text.assemble(setting_text(settings), " · ", text)
        self.query_one("#run-verdict", Static).update(Text("\n").join([line, claim]) if claim else line)

    def _show_stages(self) -> None:
        rows = [(None, self.stage_status)] if not self.seed_status else sorted(self.seed_status.items())
        line = Text()
        for seed, statuses in rows:
            if seed is not None:
                line.append(f"{'' if not line else chr(10)}seed {seed}: ", style="bold")
            for stage in STAGES:
                status = statuses.get(stage)
                glyph = STAGE_GLYPHS.get(status, "·") if status else "·"
                style = STATUS_STYLES.get(status or "", "dim" if not status else "red")
                line.append(f"{glyph} {stage}  ", style=style)
        self.query_one("#run-stages", Static).update(line)

    def action_save_plot(self) -> None:
        """p: the shown run's picture, as ``readtrack plot`` draws it, saved in the plots folder."""
        if self.shown is None:
            self.notify("No run shown yet to plot: Enter runs the plugin", severity="warning")
        else:
            save_plot(self, self.shown)

    @work(thread=True, exclusive=True, group="run-history")
    def _load_history(self, show_last: bool) -> None:
        try:
            from readtrack.history.runs import entries

            records = entries(self.plugin, limit=8)
        except Exception as err:  # an unreadable history is shown, never fatal
            self.app.call_from_thread(
                self._show_history, Text(f"history unavailable: {one_line(err)}", "red")
            )
            return
        self.app.call_from_thread(self._show_history, records, show_last)

    def _show_history(self, records: list[RunRecord | GroupRecord] | Text, show_last: bool = False) -> None:
        try:  # the screen may have closed while the history was read
            pane = self.query_one("#run-history", Static)
        except NoMatches:
            return
        if isinstance(records, Text):
            pane.update(records)
            return
        pane.update(history_renderable(records))
        if show_last and records and not self.running and self.record is None and self.group is None:
            last = records[0]
            if isinstance(last, GroupRecord) and last.runs:
                self._show_group(last)
            elif isinstance(last, RunRecord):
                self._show_record(last)
            if self.shown is last:  # re-entered: the knobs of the run shown, not the defaults beside it
                self._shown_run(last, take=True)

    # -- cancelling ----------------------------------------------------------------------------------

    def action_cancel_or_back(self) -> None:
        cancel = self.cancel
        if self.focused is self.query_one("#run-seeds", Input):
            self.set_focus(self.query_one("#run-results"))  # Esc leaves the seeds field, not the screen
            return
        knobs = self.query_one(KnobsPanel)
        if self.focused is not None and knobs in self.focused.ancestors_with_self:
            if not knobs.end_typing():  # Esc leaves the value field, then the knobs, then the screen
                self.set_focus(self.query_one("#run-results"))
            return
        if cancel is None:
            self.dismiss()
            return
        if self._cancelling:
            return
        self._cancelling = True
        self.query_one(RichLog).write(Text("cancelling…", style="bold yellow"))
        cancel.set()  # the pool stops the runs: SIGTERM, SIGKILL after its grace

    def on_unmount(self) -> None:
        if self.cancel is not None:
            self.cancel.set()
