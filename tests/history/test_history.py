"""Run history in SQLite: round trip of whole records, queries, interrupted runs, compare, and the CLI."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
from cli_runner import run_cli
from made_records import make_record, store

from readtrack.base.errors import UsageError
from readtrack.history import runs as history


def test_a_whole_record_round_trips_through_sqlite() -> None:
    record = make_record()
    history.record_started(record.info)
    running = history.last_run("toy")
    assert running is not None and running.status == "running" and running.stages == []
    history.record_finished(record)
    (stored,) = history.runs()
    assert stored.info == record.info
    assert stored.status == "passed" and stored.duration_s == 3.5
    assert stored.stages[1].curves == {"loss": [(0, 2.3), (10, 0.4)]}
    assert stored.stages[2].bench == record.stages[2].bench
    assert stored.stages[0].comparisons == record.stages[0].comparisons
    nan_target = stored.stages[1].targets[1]
    assert math.isnan(nan_target.value) and not nan_target.passed  # NaN survives as NaN, not as a pass


def test_runs_are_newest_first_filtered_and_limited() -> None:
    store(make_record("a", run_id="1", started_at="2026-01-01T10:00:00+00:00"))
    store(make_record("b", run_id="2", started_at="2026-01-02T10:00:00+00:00"))
    store(make_record("a", run_id="3", started_at="2026-01-03T10:00:00+00:00", status="failed"))
    assert [r.info.run_id for r in history.runs()] == ["3", "2", "1"]
    assert [r.info.run_id for r in history.runs("a")] == ["3", "1"]
    assert [r.info.run_id for r in history.runs(limit=1)] == ["3"]
    assert history.last_run("a").info.run_id == "3"  # type: ignore[union-attr]
    assert history.last_run("zzz") is None
    statuses = history.last_statuses()
    assert statuses["a"].status == "failed" and statuses["b"].status == "passed"


def test_a_running_row_whose_process_died_reads_as_interrupted() -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    record = make_record(run_id="lost")
    history.record_started(record.info)
    from readtrack.base.store import connect

    conn = connect()
    conn.execute("UPDATE runs SET pid = ? WHERE run_id = 'lost'", (dead.pid,))
    conn.close()
    assert history.last_run("toy").status == history.INTERRUPTED  # type: ignore[union-attr]
    history.record_started(make_record(run_id="live", started_at="2026-02-01T00:00:00+00:00").info)
    assert history.last_run("toy").status == "running"  # type: ignore[union-attr]  # this process is alive


def test_compare_lines_up_the_numbers_of_the_last_two_finished_runs() -> None:
    store(make_record(run_id="old", started_at="2026-01-01T10:00:00+00:00", accuracy=0.92, median_s=0.010))
    store(
        make_record(
            run_id="new", started_at="2026-01-02T10:00:00+00:00", accuracy=0.97, max_abs=3e-7, median_s=0.005
        )
    )
    history.record_started(make_record(run_id="running", started_at="2026-01-03T10:00:00+00:00").info)
    comparison = history.compare("toy")
    assert (comparison.older.info.run_id, comparison.newer.info.run_id) == ("old", "new")
    deltas = {(d.section, d.name): d for d in comparison.deltas}
    assert deltas[("check", "out vs ref")].change == pytest.approx(2e-7)
    assert deltas[("target", "accuracy")].change == pytest.approx(0.05)
    assert deltas[("measured", "speed-up")].change == 0
    assert deltas[("bench", "base")].ratio == pytest.approx(0.5)
    assert deltas[("bench", "fast")].new == pytest.approx(0.0025)
    assert deltas[("target", "diverged loss")].change is None  # NaN on both sides: no number to subtract
    as_json = json.loads(json.dumps(comparison.to_dict(), allow_nan=False))  # strict JSON
    assert as_json["newer"]["run_id"] == "new"


def test_compare_with_fewer_than_two_runs_says_so() -> None:
    with pytest.raises(UsageError, match="unknown plugin 'toy': no plugin has a name like it"):
        history.compare("toy")  # neither in history nor a plugin
    with pytest.raises(
        UsageError, match=r"cannot compare gan: it was never run; run it twice \(`readtrack run gan"
    ):
        history.compare("gan")
    store(make_record())
    with pytest.raises(UsageError, match="history has only one finished run of it"):
        history.compare("toy")


def test_unknown_and_never_run_plugins_in_history_compare_and_run_are_one_line_with_the_closest_names() -> (
    None
):
    from readtrack.plugins.discovery import discover

    every = f"`readtrack plugins` lists all {len({p.name for p in discover() if p.status == 'ok'})}"
    unknown = run_cli("history", "nosuch")
    assert (unknown.returncode, unknown.stdout) == (2, "")
    assert unknown.stderr.splitlines() == [
        f"readtrack: unknown plugin 'nosuch': no plugin has a name like it; {every}"
    ]
    typo = run_cli("history", "gann")
    assert typo.returncode == 2 and f"did you mean gan? ({every})" in typo.stderr
    never = run_cli("history", "gan")
    assert never.returncode == 0
    assert never.stdout.strip() == "no runs of gan recorded yet: try `readtrack run gan --quick`"
    compared = run_cli("compare", "gan")
    assert compared.returncode == 2 and "again" not in compared.stderr
    assert compared.stderr.startswith("readtrack: cannot compare gan: it was never run; run it twice")
    run = run_cli("run", "transfomer")
    assert run.returncode == 2
    assert run.stderr.splitlines() == [
        "readtrack: unknown plugin 'transfomer': did you mean transformer, transformer-xl or reformer? "
        f"({every})"
    ]


def readtrack(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, cwd=cwd, env={"COLUMNS": "160"}, timeout=120)


def test_cli_history_and_compare(tmp_path: Path) -> None:
    single = readtrack("compare", "toy", cwd=tmp_path)
    assert single.returncode == 2
    assert single.stderr.startswith("readtrack: unknown plugin 'toy'")
    store(make_record(run_id="old-run-id", started_at="2026-01-01T10:00:00+00:00", median_s=0.010))
    store(make_record(run_id="new-run-id", started_at="2026-01-02T10:00:00+00:00", median_s=0.020))

    listed = readtrack("history", "--json", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    records = json.loads(listed.stdout)
    assert [r["info"]["run_id"] for r in records] == ["new-run-id", "old-run-id"]
    assert records[0]["stages"][1]["targets"][1]["value"] is None  # NaN as strict-JSON null
    table = readtrack("history", "toy", "--limit", "1", cwd=tmp_path)
    assert table.returncode == 0 and "new-run-" in table.stdout and "old-run-" not in table.stdout

    compared = readtrack("compare", "toy", cwd=tmp_path)
    assert compared.returncode == 0, compared.stderr
    assert "old-run-" in compared.stdout and "new-run-" in compared.stdout
    assert "2.00×" in compared.stdout  # bench median doubled
    as_json = json.loads(readtrack("compare", "toy", "--json", cwd=tmp_path).stdout)
    base = next(d for d in as_json["deltas"] if d["name"] == "base")
    assert base["ratio"] == pytest.approx(2.0)
