"""What the paper table's rows tell apart: papers titled alike, and a paper's plugins passing or not."""

from __future__ import annotations

import re
from pathlib import Path

from textual.pilot import Pilot
from tui_driver import main_screen, run_app, screen_text, settle

from readtrack.catalog import edits
from readtrack.catalog.model import STATUS_GLYPHS
from readtrack.history import runs as history
from readtrack.plugins.records import RunInfo, RunRecord, StageResult
from readtrack.tui.app import ReadtrackApp


def finished_run(plugin: str, status: str, started: str) -> RunRecord:
    info = RunInfo(
        run_id=f"{plugin}-{started}",
        plugin=plugin,
        paper_id="adamw",
        device="cpu",
        stages=["check"],
        quick=True,
        seed=0,
        started_at=started,
    )
    return RunRecord(info, status, 0.5, [StageResult("check", status, 0.5)])  # type: ignore[arg-type]


def rows_with(text: str, needle: str) -> list[str]:
    """The table's rows (a status glyph, then the title) showing ``needle``."""
    glyphs = tuple(f"{glyph} {needle}" for glyph in STATUS_GLYPHS.values())
    return [line for line in text.splitlines() if any(g in line for g in glyphs)]


def test_two_rows_titled_alike_show_what_tells_them_apart(catalog_file: Path) -> None:
    edits.set_fields(catalog_file, "lbfgs", {"title": "Decoupled Weight Decay Regularization"})

    async def steps(app: ReadtrackApp, pilot: Pilot[None]) -> str:
        return screen_text(app)

    twins = rows_with(run_app(catalog_file, steps), "Decoupled Weight Decay")
    assert len(twins) == 2
    assert "· SGD - Ada" in twins[0]  # each one's label, after the title
    assert "· Hessian" in twins[1]


def test_a_paper_with_two_plugins_shows_how_many_passed_as_coverage_counts(catalog_file: Path) -> None:
    # adamw has two plugins (adamw, schedule-free): one passed, one failed.
    history.record_finished(finished_run("adamw", "passed", "2026-01-01T00:00:00+00:00"))
    history.record_finished(finished_run("schedule-free", "failed", "2026-01-01T00:01:00+00:00"))

    async def steps(app: ReadtrackApp, pilot: Pilot[None]) -> tuple[str, str, str, str]:
        screen = main_screen(app)
        one_failed = screen_text(app), screen.sub_title
        history.record_finished(finished_run("schedule-free", "passed", "2026-01-01T00:02:00+00:00"))
        screen._load_side_data()  # what going back from a run screen does
        await settle(app, pilot)
        return *one_failed, screen_text(app), screen.sub_title

    one_failed, header_before, both_passed, header_after = run_app(catalog_file, steps)
    (row,) = rows_with(one_failed, "Decoupled Weight Decay")
    assert "✗ 1/2 adam" in row  # not ✓: a paper passes only when all its plugins pass
    assert re.search(r"▶ 1 of \d+ plugins passing on cpu", header_before)  # adamw, not schedule-free
    (row,) = rows_with(both_passed, "Decoupled Weight Decay")
    assert "✓ 2/2 adam" in row
    assert re.search(r"▶ 2 of \d+ plugins passing on cpu", header_after)


def test_a_paper_whose_plugin_has_exercises_shows_the_learners_practice_status(catalog_file: Path) -> None:
    from readtrack import practice

    practice._remember("rmsnorm", ("checks pass", "3 of 3 checks pass"), "2026-01-01T00:00:00+00:00")
    practice._remember("layernorm", ("failing", "5 of 13 checks pass"), "2026-01-01T00:01:00+00:00")

    async def steps(app: ReadtrackApp, pilot: Pilot[None]) -> tuple[str, str]:
        first = screen_text(app)
        await pilot.press("slash", *"normalization")
        await settle(app, pilot)
        return first, screen_text(app)

    text, filtered = run_app(catalog_file, steps)
    bfgs = rows_with(text, "On the limited memory BFGS")[0]
    rms = rows_with(filtered, "Root Mean Square Layer Norm")[0]
    layer = rows_with(filtered, "Layer Normalization")[0]
    assert rms.rstrip(" │").endswith("· rmsnorm   ◑"), rms  # checks pass
    assert layer.rstrip(" │").endswith("· layernorm ◔"), layer  # failing
    assert bfgs.rstrip(" │").endswith("· lbfgs     ○"), bfgs  # lbfgs has exercises, not started
    header = next(line for line in text.splitlines() if " Plugin" in line)
    assert " Plugin" in header and header.rstrip(" │").endswith("✎")
