"""Issue 84, item 10, through Pilot: the TUI after a sweep, as a new user met it. The run screen, re-entered,
showed the defaults' knobs beside a result of turned ones; the Results tab put an older multi-seed run above a
newer run; a trend line mixed a run alone with a mean over seeds; the header said "1 passing on cpu" of a
plugin whose 18 runs passed, not saying what it counted; and offline, ``N`` and the Related tab painted their
error over an empty framed box, without the question ``readtrack sync`` asks.

The history is made by hand (tests/made_records.py) for ``knobby``, a fake plugin with knobs on disk that the
list's first paper runs; the one run made here is knobby's (a second). Semantic Scholar "offline" is a port
on 127.0.0.1 that nothing listens on any more (tests/fakes2.py)."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from fake_plugins import KNOBBY_CONFIG, write_plugin
from fakes2 import FakeS2
from made_records import make_record, store
from rich.console import Console
from textual.pilot import Pilot
from textual.widgets import Static
from tui_driver import (
    main_screen,
    open_run_screen,
    read_the_whole_pane,
    region_text,
    run_app,
    screen_text,
    settle,
    wait_until,
)

from readtrack.arxiv.http import NETWORK_HINT
from readtrack.catalog import edits
from readtrack.catalog.reader import load
from readtrack.history import runs as history
from readtrack.history.runs import SweepPlan
from readtrack.history.spread import GroupRecord
from readtrack.plugins.records import RunRecord
from readtrack.tui.app import ReadtrackApp
from readtrack.tui.screens.next_screen import NextScreen
from readtrack.tui.screens.paper_view import PaperView
from readtrack.tui.widgets.knobs_panel import TURNED, KnobsPanel
from readtrack.tui.widgets.related_pane import RelatedList

EXPERIMENT = """
from .config import Config


def check(ctx):
    ctx.check_property("always", True)


def train(ctx):
    cfg = ctx.config(Config)
    ctx.target("accuracy", 0.5 + cfg.steps / 100, 0.5)
"""
WIDE, NARROW = (120, 40), (80, 24)


@pytest.fixture(autouse=True)
def knobby(user_dir: Path, catalog_file: Path) -> None:
    """The list's first paper (adamw) runs ``knobby``: Enter and p open its screens without a choice."""
    folder = write_plugin(user_dir, "knobby", EXPERIMENT)
    (folder / "config.py").write_text(KNOBBY_CONFIG)
    edits.set_fields(catalog_file, "adamw", {"plugin": "knobby"})


def run(
    started: str, settings: dict[str, object] | None = None, *, accuracy: float = 0.95, seed: int = 3
) -> RunRecord:
    """A passed quick run of knobby on cpu that turned ``settings``, its main number ``accuracy``."""
    record = make_record("knobby", run_id=f"r{started[11:19].replace(':', '')}{seed}", started_at=started)
    record.info.settings, record.info.seed = dict(settings or {}), seed
    record.stages[1].targets[0].value = accuracy
    return record


def group(started: str, seeds: int, settings: dict[str, object] | None = None, **kw: object) -> GroupRecord:
    """A multi-seed run of ``seeds`` seeds, each seed's run `run`'s."""
    runs = [run(started, settings, seed=s, **kw) for s in range(seeds)]  # type: ignore[arg-type]
    group_id = f"g{started[11:19].replace(':', '')}"
    return GroupRecord(group_id, "knobby", list(range(seeds)), started, "passed", 2.0, runs)


def plain(renderable: object) -> str:
    console = Console(width=200, record=True, file=io.StringIO())
    console.print(renderable)
    return console.export_text()


def knob_row(app: ReadtrackApp, panel: KnobsPanel, name: str) -> list[str]:
    """The words of ``name``'s row in the knobs panel: the mark when turned, name, value, default."""
    for line in region_text(app, panel):
        words = line.strip("│ ").split()
        if name in words[:2]:
            return words[: words.index(name) + 3]
    raise AssertionError(f"no row of {name} in the knobs panel")


# -- 1. the run screen, re-entered: the knobs of the result it shows -----------------------------------------


def test_the_run_screen_opens_with_the_knobs_of_the_run_it_shows_and_runs_the_new_setting(
    catalog_file: Path,
) -> None:
    store(run("2026-11-28T10:00:00+00:00"))
    store(run("2026-11-28T11:00:00+00:00", {"steps": 7}))  # the newest: the result pane shows it

    async def steps(app: ReadtrackApp, pilot: Pilot[None]) -> dict[str, object]:
        screen, panel = await open_run_screen(app, pilot)
        await wait_until(pilot, lambda: screen.shown is not None)
        await settle(app, pilot)
        seen: dict[str, object] = {
            "verdict": plain(screen.query_one("#run-verdict", Static).content),
            "steps": knob_row(app, panel, "steps"),
            "settings": panel.settings(),
            "title": panel.border_title,
        }
        await pilot.press("K", "j", "j", "space")  # arm: fast → slow, beside the shown run's steps=7
        seen["turning"] = panel.border_title
        await pilot.press("enter")
        await wait_until(pilot, lambda: not screen.running and screen.record is not None, timeout=120)
        await settle(app, pilot)
        seen["after"] = plain(screen.query_one("#run-verdict", Static).content)
        seen["after_title"] = panel.border_title
        return seen

    seen = run_app(catalog_file, steps, size=WIDE)
    assert str(seen["verdict"]).startswith("steps=7 · passed")
    # was "steps 10 10" (the quick default) and "Knobs": the defaults beside a result of steps=7
    assert seen["steps"] == [TURNED, "steps", "7", "10"] and seen["settings"] == {"steps": 7}
    assert seen["title"] == "Knobs · 1 turned, as the run shown"
    assert seen["turning"] == "Knobs · 2 turned"  # no longer the shown run's
    newest = history.entries("knobby", limit=1)[0]
    assert isinstance(newest, RunRecord) and newest.info.settings == {"steps": 7, "arm": "slow"}
    assert str(seen["after"]).startswith("steps=7 arm=slow · passed")  # the new run, shown
    assert seen["after_title"] == "Knobs · 2 turned, as the run shown"


# -- 2. the Results tab: newest first ------------------------------------------------------------------------


async def results_text(app: ReadtrackApp, pilot: Pilot[None]) -> str:
    await pilot.press("p")
    await wait_until(pilot, lambda: isinstance(app.screen, PaperView))
    await settle(app, pilot)
    await pilot.press("3")
    return " ".join(line.strip("│ ") for line in await read_the_whole_pane(app, pilot, "#results-scroll"))


@pytest.mark.parametrize("size", [WIDE, NARROW])
def test_the_results_tab_shows_the_newest_run_first_a_sweeps_setting_after_it(
    catalog_file: Path, size: tuple[int, int]
) -> None:
    plan = SweepPlan("5eef1234abcd", "knobby", [{}, {"steps": 7}], [0, 1, 2], "2026-11-28T10:00:00+00:00")
    for i, turned in enumerate(plan.settings):
        swept = group(f"2026-11-28T10:0{i}:00+00:00", 3, turned)
        for member in swept.runs:
            member.info.sweep_id = plan.sweep_id
        history.record_group(swept, plan)
    history.sweep_ended(plan.sweep_id, "finished", 30.0)
    store(run("2026-11-28T12:00:00+00:00", {"arm": "slow"}))  # newer than the sweep

    text = run_app(catalog_file, results_text, size=size)
    newer, older = text.index("arm=slow · cpu: passed"), text.index("steps=7 · seeds 0-2: passed")
    assert newer < older < text.index("Recent runs")  # was the sweep's setting first


# -- 3. a trend compares like with like ----------------------------------------------------------------------


def trend_of(text: str) -> str | None:
    found = re.search(r"trend of .*?: \S+ +\S+ → \S+", text)
    return found.group(0) if found else None


def test_a_trend_follows_runs_alone_of_one_setting_not_a_mean_over_seeds_between_them(
    catalog_file: Path,
) -> None:
    store(run("2026-11-28T09:00:00+00:00", accuracy=0.91))
    history.record_group(group("2026-11-28T10:00:00+00:00", 2, accuracy=0.99))  # a 2-seed mean between
    store(run("2026-11-28T11:00:00+00:00", accuracy=0.93))

    trend = trend_of(run_app(catalog_file, results_text, size=WIDE))
    # was "trend of accuracy (defaults), oldest → newest: ▁█▄  0.91 → 0.93", the 2-seed mean in the middle
    assert trend == "trend of accuracy · 2 single runs of defaults, quick · oldest → newest: ▁█  0.91 → 0.93"


def test_no_trend_from_a_run_alone_to_a_sweeps_mean_of_the_same_setting(catalog_file: Path) -> None:
    history.record_group(group("2026-11-28T10:00:00+00:00", 3, {"steps": 7}, accuracy=0.97))
    store(run("2026-11-28T11:00:00+00:00", {"steps": 7}, accuracy=0.93))

    async def steps(app: ReadtrackApp, pilot: Pilot[None]) -> str:
        screen, _ = await open_run_screen(app, pilot)
        await wait_until(
            pilot, lambda: "Recent runs" in plain(screen.query_one("#run-history", Static).content)
        )
        return " ".join(line.strip("│ ") for line in await read_the_whole_pane(app, pilot, "#run-results"))

    text = run_app(catalog_file, steps, size=NARROW)
    assert "Recent runs" in text and trend_of(text) is None  # was "▁█ 0.97 → 0.93": a mean, then one run


# -- 4. the header: what it counts, said ---------------------------------------------------------------------


def test_the_header_counts_plugins_passing_a_sweep_of_18_runs_is_one_plugin(catalog_file: Path) -> None:
    settings: list[dict[str, object]] = [{"steps": n} if n else {} for n in (0, 2, 4, 8, 16, 32)]  # 6
    plan = SweepPlan("5eef1234abcd", "adamw", settings, [0, 1, 2], "2026-11-28T10:00:00+00:00")
    for i, turned in enumerate(settings):
        swept = group(f"2026-11-28T10:0{i}:00+00:00", 3, turned)
        for member in swept.runs:
            member.info.plugin, member.info.sweep_id = "adamw", plan.sweep_id
        swept.plugin = "adamw"
        history.record_group(swept, plan)
    history.sweep_ended(plan.sweep_id, "finished", 30.0)
    edits.set_fields(catalog_file, "adamw", {"plugin": ["adamw", "schedule-free"]})  # as the shipped list
    named = {plugin for paper in load(catalog_file).papers() for plugin in paper.plugins}

    async def steps(app: ReadtrackApp, pilot: Pilot[None]) -> tuple[str, str | None]:
        return screen_text(app).splitlines()[0], main_screen(app).sub_title

    line, sub_title = run_app(catalog_file, steps, size=WIDE)
    # was "▶ 62 with a plugin, 0 passing on cpu": papers, the adamw paper's schedule-free never run
    assert f"▶ 1 of {len(named)} plugins passing on cpu" in line, line
    assert "with a plugin" not in str(sub_title)


# -- 5. offline: one line with the network question, no empty box --------------------------------------------


def test_offline_next_and_the_related_tab_say_so_in_one_line_asking_if_the_network_is_up(
    catalog_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeS2.running() as gone:  # a port nothing listens on once it stops
        monkeypatch.setenv("READTRACK_S2_URL", gone.url)
        monkeypatch.setenv("READTRACK_S2_RECS_URL", gone.recs_url)
    monkeypatch.setenv("READTRACK_S2_DELAY", "0")

    async def failure(app: ReadtrackApp, pilot: Pilot[None], status: str, fetching: str) -> dict[str, object]:
        await wait_until(pilot, lambda: fetching not in str(app.screen.query_one(status, Static).content), 10)
        await settle(app, pilot)
        widget = app.screen.query_one(status, Static)
        below = screen_text(app).splitlines()[widget.region.bottom : -1]  # down to the key bar
        return {
            "message": str(widget.content),
            "rows": widget.region.height,
            "list": app.screen.query_one(RelatedList).display,
            "below": "".join(below).strip(),
        }

    async def steps(app: ReadtrackApp, pilot: Pilot[None]) -> list[dict[str, object]]:
        await pilot.press("N")  # the seed list has papers read: it asks Semantic Scholar
        await wait_until(pilot, lambda: isinstance(app.screen, NextScreen))
        seen = [await failure(app, pilot, "#next-status", "Ranking")]
        await pilot.press("escape", "p", "6")
        await wait_until(pilot, lambda: isinstance(app.screen, PaperView))
        seen.append(await failure(app, pilot, "#related-status", "Fetching"))
        return seen

    for seen in run_app(catalog_file, steps, size=NARROW):
        message = str(seen["message"])
        assert "Semantic Scholar" in message and "connection refused" in message
        assert message.endswith(f"; {NETWORK_HINT}") and "\n" not in message, message  # was without it
        assert int(str(seen["rows"])) <= 2  # one line, wrapped at 80 columns
        assert seen["list"] is False and seen["below"] == "", seen["below"]  # was an empty framed box
