"""Plugin coverage: per section, papers with a plugin, run, passing per device; in `stats` and `plugins`."""

from __future__ import annotations

import json
from pathlib import Path

from cli_runner import run_cli

from readtrack.catalog import edits
from readtrack.catalog.model import Catalog, Paper, Section
from readtrack.history import runs as history
from readtrack.history.coverage import coverage
from readtrack.plugins.records import RunInfo, RunRecord


def paper(paper_id: str, *plugins: str, children: list[Paper] | None = None) -> Paper:
    return Paper(id=paper_id, title=paper_id, plugins=list(plugins), children=children or [])


def test_a_paper_passes_on_a_device_when_every_plugin_passed_there() -> None:
    catalog = Catalog(
        path=Path("papers.yaml"),
        sections=[
            Section("A", papers=[paper("one", "p"), paper("two", "p", "q"), paper("none")]),
            Section("B", papers=[paper("parent", children=[paper("nested", "q")])]),
        ],
    )
    newest = {"p": {"cpu": "passed", "cuda": "failed"}, "q": {"cpu": "passed"}}
    a, b, total = coverage(catalog, newest)
    assert (a.papers, a.with_plugin, a.run, a.passing) == (3, 2, 2, {"cpu": 2, "cuda": 0})
    assert (b.papers, b.with_plugin, b.run, b.passing) == (2, 1, 1, {"cpu": 1, "cuda": 0})  # nested count
    assert (total.name, total.with_plugin, total.run, total.passing) == ("all", 3, 3, {"cpu": 3, "cuda": 0})
    never = coverage(catalog, {"q": {"cpu": "failed"}})[0]
    assert (never.run, never.passing) == (1, {"cpu": 0})  # p never ran: "one" is not run, "two" is


def record(plugin: str, device: str, status: str, started: str) -> RunRecord:
    info = RunInfo(f"{plugin}-{device}-{started}", plugin, plugin, device, ["check"], True, 0, started)
    return RunRecord(info, status, 1.0)  # type: ignore[arg-type]


def test_stats_and_plugins_show_coverage_and_the_last_result_per_device(catalog_file: Path) -> None:
    edits.set_fields(catalog_file, "adamw", {"plugin": "adamw"})  # the shipped list adds schedule-free
    edits.set_fields(catalog_file, "lbfgs", {"plugin": ["adamw", "rmsnorm"]})
    history.record_finished(record("adamw", "cpu", "passed", "2026-01-01T00:00:00+00:00"))
    history.record_finished(record("adamw", "cuda:0", "failed", "2026-01-02T00:00:00+00:00"))
    history.record_finished(record("rmsnorm", "cpu", "failed", "2026-01-01T00:00:00+00:00"))
    history.record_finished(record("rmsnorm", "cpu", "passed", "2026-01-03T00:00:00+00:00"))  # newest wins

    stats = run_cli("stats", env={"COLUMNS": "160"}).stdout
    header = next(line for line in stats.splitlines() if "section" in line)
    assert header.split()[-7:] == ["▶", "plugin", "run", "✓", "cpu", "✓", "cuda"]  # cuda ran once: a column
    optimisation = next(line for line in stats.splitlines() if line.startswith(" Optimization algorithm"))
    # adamw (adamw) and lbfgs (adamw + rmsnorm): 2 with a plugin, 2 run, 2 passing on cpu, none on cuda
    assert optimisation.split()[-3:] == ["2", "2", "2"]

    rows = {r["name"]: r for r in json.loads(run_cli("plugins", "--json").stdout)}
    adamw = rows["adamw"]
    assert {k: v["status"] for k, v in adamw["last_run_by_device"].items()} == {
        "cpu": "passed",
        "cuda": "failed",
    }
    assert adamw["last_run"]["device"] == "cuda:0"  # the newest run, any device
    assert rows["rope"]["last_run_by_device"] == {}
    table = run_cli("plugins", env={"COLUMNS": "200"}).stdout
    assert "cpu ✓ cuda ✗ 01-02" in next(
        line for line in table.splitlines() if line.lstrip().startswith("adamw")
    )
