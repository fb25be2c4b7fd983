"""The runner: stages in order, seeds, failures, errors, timeouts, cancellation, devices, the JSON stream,
and lifecycle hooks (history among them) — with real plugin packages in tmp folders."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path
from typing import Any

import pytest
import torch
from cli_runner import interruptible, run_cli
from fake_plugins import FAILING, HANGING, RAISING_STAGE, write_plugin

from readtrack.base.errors import DeviceError, PluginError, UsageError
from readtrack.history import runs as history
from readtrack.plugins import discovery as plugins
from readtrack.runner import devices
from readtrack.runner.run import exit_code, run_plugin, set_deterministic

NO_CUDA = pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message of a machine without CUDA")


def collect() -> tuple[list[dict[str, Any]], Any]:
    events: list[dict[str, Any]] = []
    return events, events.append


def test_passing_plugin_runs_all_stages_streams_events_and_lands_in_history(user_dir: Path) -> None:
    write_plugin(user_dir, "good")
    events, emit = collect()
    record = run_plugin("good", device="cpu", quick=True, emit=emit)

    assert record.status == "passed" and exit_code(record) == 0
    assert [s.stage for s in record.stages] == ["check", "train", "bench"]
    assert all(s.status == "passed" for s in record.stages)
    check, train, bench = record.stages
    assert [c.name for c in check.comparisons] == ["double vs x + x", "linear"]
    assert len(train.curves["loss"]) == 20 and train.targets[0].passed
    fast, slow = bench.bench
    assert fast.baseline and fast.ratio == 1.0 and slow.ratio is not None and slow.ratio > 1.5
    assert record.info.environment["torch"] == torch.__version__

    assert events[0]["type"] == "start" and events[0]["run"]["plugin"] == "good"
    assert events[-1]["type"] == "record" and events[-1]["record"]["status"] == "passed"
    stage_events = [(e["stage"], e["event"]) for e in events if e["type"] == "stage"]
    assert stage_events == [(s, edge) for s in ("check", "train", "bench") for edge in ("start", "end")]
    kinds = {e["type"] for e in events}
    assert {"log", "progress", "metric", "result"} <= kinds

    (stored,) = history.runs("good")
    assert stored.status == "passed" and stored.info.run_id == record.info.run_id
    assert json.dumps(stored.to_dict()) == json.dumps(record.to_dict())


def test_same_seed_repeats_exactly_and_only_train_matches_the_full_run(user_dir: Path) -> None:
    write_plugin(user_dir, "seeded")
    full = run_plugin("seeded", device="cpu", quick=True, seed=7)
    again = run_plugin("seeded", device="cpu", quick=True, seed=7, only="train")
    other = run_plugin("seeded", device="cpu", quick=True, seed=8, only="train")
    train = full.stages[1]
    assert [s.stage for s in again.stages] == ["train"]
    assert again.stages[0].curves == train.curves
    assert [m.value for m in again.stages[0].measured] == [m.value for m in train.measured]
    assert other.stages[0].curves != train.curves


def test_failed_check_and_missed_target_give_failed_and_exit_1(user_dir: Path) -> None:
    write_plugin(user_dir, "bad", FAILING)
    record = run_plugin("bad", device="cpu", quick=True)
    check, train, bench = record.stages
    assert (check.status, train.status, bench.status) == ("failed", "failed", "skipped")
    assert check.comparisons[0].max_abs == pytest.approx(1e-3)
    assert record.status == "failed" and exit_code(record) == 1


def test_exception_in_a_stage_is_recorded_as_error_and_later_stages_still_run(user_dir: Path) -> None:
    write_plugin(user_dir, "raiser", RAISING_STAGE)
    record = run_plugin("raiser", device="cpu", quick=True)
    check, train, bench = record.stages
    assert train.status == "error"
    assert train.error == "ValueError: shapes (3, 4) and (5, 6) do not match"
    assert train.traceback is not None and 'raise ValueError("shapes' in train.traceback
    assert check.status == "passed" and bench.status == "passed"
    assert record.status == "error" and exit_code(record) == 1
    assert history.last_run("raiser").stages[1].traceback == train.traceback  # type: ignore[union-attr]


def test_hung_stage_is_stopped_at_its_timeout_in_the_main_thread(user_dir: Path) -> None:
    write_plugin(user_dir, "hang", HANGING)
    start = time.monotonic()
    record = run_plugin("hang", device="cpu", timeout=0.5)
    assert time.monotonic() - start < 30
    assert [s.status for s in record.stages] == ["timeout", "skipped", "skipped"]
    assert record.stages[0].error == "stage check ran past its 0.5 s timeout and was stopped"
    assert record.status == "timeout" and exit_code(record) == 1
    assert history.last_run("hang").status == "timeout"  # type: ignore[union-attr]


def test_declared_stage_timeout_applies_and_a_run_in_a_worker_thread_is_stopped_too(user_dir: Path) -> None:
    write_plugin(user_dir, "hang", HANGING, stage_timeout=0.5)
    done: dict[str, Any] = {}
    worker = threading.Thread(target=lambda: done.setdefault("record", run_plugin("hang", device="cpu")))
    worker.start()
    worker.join(60)
    assert not worker.is_alive()
    assert done["record"].stages[0].status == "timeout"


def test_cancel_event_stops_a_run_in_a_worker_thread(user_dir: Path) -> None:
    write_plugin(user_dir, "hang", HANGING)
    cancel = threading.Event()
    done: dict[str, Any] = {}
    events, emit = collect()

    def work() -> None:
        done["record"] = run_plugin("hang", device="cpu", timeout=0, emit=emit, cancel=cancel)

    worker = threading.Thread(target=work)
    worker.start()
    deadline = time.monotonic() + 60
    while not any(e["type"] == "log" for e in events) and time.monotonic() < deadline:
        time.sleep(0.02)
    cancel.set()
    worker.join(60)
    record = done["record"]
    assert [s.status for s in record.stages] == ["cancelled", "skipped", "skipped"]
    assert record.status == "cancelled" and exit_code(record) == 130
    assert history.last_run("hang").status == "cancelled"  # type: ignore[union-attr]


def test_lifecycle_hooks_of_a_user_plugin_see_the_run_and_a_raising_observer_is_harmless(
    user_dir: Path, tmp_path: Path
) -> None:
    log = tmp_path / "observed.jsonl"
    observer = f"""

import json


@hookimpl
def readtrack_run_started(run):
    with open({str(log)!r}, "a") as out:
        out.write(json.dumps({{"hook": "started", "plugin": run.plugin}}) + "\\n")


@hookimpl
def readtrack_run_progress(run, event):
    raise RuntimeError("a buggy exporter")


@hookimpl
def readtrack_run_finished(run, record):
    with open({str(log)!r}, "a") as out:
        out.write(json.dumps({{"hook": "finished", "status": record.status}}) + "\\n")
"""
    write_plugin(user_dir, "observed", extra_init=observer)
    plugins.discover(refresh=True)
    record = run_plugin("observed", device="cpu", quick=True, only="check")
    assert record.status == "passed"
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert lines == [{"hook": "started", "plugin": "observed"}, {"hook": "finished", "status": "passed"}]
    assert history.last_run("observed").status == "passed"  # type: ignore[union-attr]


def test_unknown_broken_and_bad_stage_are_refused_before_anything_runs(user_dir: Path) -> None:
    write_plugin(user_dir, "broken", init="import readtrack_missing_dependency\n")
    write_plugin(user_dir, "good")
    where = r"\S+/broken/__init__.py:1: ModuleNotFoundError"  # the page's file and line
    with pytest.raises(PluginError, match=f"plugin broken is broken: {where}"):
        run_plugin("broken")
    with pytest.raises(UsageError, match="unknown plugin 'nope'"):
        run_plugin("nope")
    with pytest.raises(UsageError, match="unknown stage 'eval'"):
        run_plugin("good", only="eval")
    assert history.runs() == []


@NO_CUDA
def test_device_errors_are_one_line(user_dir: Path) -> None:
    write_plugin(user_dir, "cpuonly", devices=("cpu",))
    torch_label = f"torch {torch.__version__}"
    for request, message in [
        ("cuda", f"CUDA is not available here ({torch_label})"),
        ("cuda:3", f"CUDA is not available here ({torch_label})"),
        ("gpu", "unknown device 'gpu': use auto, cpu, cuda, cuda:N, mps or emu (CUDA emulated on the CPU)"),
    ]:
        with pytest.raises(DeviceError) as err:
            devices.resolve_device(request)
        assert str(err.value) == message
    if not devices.mps_available():
        with pytest.raises(DeviceError, match=r"^MPS is not available here"):
            devices.resolve_device("mps")
    with pytest.raises(DeviceError, match=r"^plugin cpuonly does not support cuda \(it supports cpu\)$"):
        run_plugin("cpuonly", device="cuda")
    assert devices.resolve_device("auto", ("cpu", "cuda")) == "cpu"


# -- the CLI, in real subprocesses ----------------------------------------------------------------------
def readtrack(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, cwd=cwd, env={"COLUMNS": "160"}, timeout=180)


@NO_CUDA
def test_cli_cuda_on_a_cpu_machine_exits_2_with_one_line(user_dir: Path, tmp_path: Path) -> None:
    write_plugin(user_dir, "good")
    result = readtrack("run", "good", "--device", "cuda", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == f"readtrack: CUDA is not available here (torch {torch.__version__})\n"
    assert result.stdout == ""


def test_cli_json_stream_is_one_object_per_line_ending_with_the_record(
    user_dir: Path, tmp_path: Path
) -> None:
    write_plugin(user_dir, "good")
    result = readtrack(
        "run", "good", "--device", "cpu", "--quick", "--json", "--impl", "triton", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]  # every line is JSON
    assert all(isinstance(e, dict) and "type" in e and "stage" in e for e in events)
    assert events[0]["type"] == "start" and events[-1]["type"] == "record"
    assert {"type": "log", "stage": "train", "message": "impl=triton"} in events
    record = events[-1]["record"]
    assert record["info"]["options"] == {"impl": "triton"}
    assert [s["status"] for s in record["stages"]] == ["passed", "passed", "passed"]
    assert "a plugin printing to stdout" in result.stderr  # moved off the stream, not lost


WARNING = """
import warnings

import torch


def check(ctx):
    for _ in range(3):
        warnings.warn("a library's complaint\\nsecond line", UserWarning)
    warnings.warn("another", RuntimeWarning)
    ctx.check_close("exact", torch.ones(2), torch.ones(2))
"""


def test_warnings_raised_in_a_stage_go_to_the_runs_log_once_each(user_dir: Path, tmp_path: Path) -> None:
    """On CUDA, torch warns that memory-efficient and cuDNN attention's backward are non-deterministic (the
    run's determinism is warn-only); such warnings were printed raw on stderr in the middle of the run's
    report. They are the run's log lines now, one per message."""
    write_plugin(user_dir, "warns", WARNING)
    result = readtrack("run", "warns", "--device", "cpu", "--quick", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    logs = [json.loads(line) for line in result.stdout.splitlines()]
    logs = [e["message"] for e in logs if e["type"] == "log" and e["stage"] == "check"]
    assert logs == ["warning: UserWarning: a library's complaint", "warning: RuntimeWarning: another"]
    assert "Warning" not in result.stderr
    with warnings.catch_warnings(record=True) as after:  # the filters and the printer are the caller's again
        warnings.simplefilter("always")
        run_plugin("warns", device="cpu", quick=True, emit=lambda event: None)
        warnings.warn("outside a stage", stacklevel=1)
    assert [str(w.message) for w in after] == ["outside a stage"]


def test_cli_human_report_and_exit_codes(user_dir: Path, tmp_path: Path) -> None:
    write_plugin(user_dir, "good")
    write_plugin(user_dir, "bad", FAILING)
    good = readtrack("run", "good", "--device", "cpu", "--quick", cwd=tmp_path)
    assert good.returncode == 0, good.stderr
    for text in (
        "check: implementation vs reference",
        "double vs x + x",
        "final loss",
        "sleep 4 ms",
        "baseline",
    ):
        assert text in good.stdout
    assert f"torch {torch.__version__}" in good.stdout and "result: passed" in good.stdout
    # torch.utils.benchmark (the CPU bench) imports cpp_extension, which logs "No CUDA runtime is found,
    # using CUDA_HOME=..." on a CUDA build without a GPU (this test's machine when it has one such build)
    assert "CUDA" not in good.stderr, good.stderr
    bad = readtrack("run", "bad", "--device", "cpu", "--quick", cwd=tmp_path)
    assert bad.returncode == 1
    assert "✗" in bad.stdout and "result: failed" in bad.stdout
    unknown = readtrack("run", "nosuchplugin", cwd=tmp_path)
    assert unknown.returncode == 2 and unknown.stderr.startswith("readtrack: unknown plugin 'nosuchplugin'")


@pytest.mark.parametrize(
    "sig, sigint_ignored",
    [("SIGINT", False), ("SIGINT", True), ("SIGTERM", False), ("SIGHUP", False)],
    ids=["default", "sigint-ignored", "sigterm", "sighup"],
)
def test_cli_sigint_cancels_the_run_exits_130_and_records_cancelled(
    user_dir: Path, tmp_path: Path, sig: str, sigint_ignored: bool
) -> None:
    """Also when the process starts with SIGINT ignored (a background job of a non-interactive shell, and
    so the TUI's run when readtrack was started that way): Ctrl-C is how the TUI cancels a run. SIGTERM and
    SIGHUP (issue 94) cancel it the same way, exit 143 and 129."""
    write_plugin(user_dir, "hang", HANGING)
    process = subprocess.Popen(
        interruptible("run", "hang", "--device", "cpu", "--json", sigint_ignored=sigint_ignored),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
        cwd=tmp_path,
    )
    try:
        assert process.stdout is not None
        first = json.loads(process.stdout.readline())
        assert first["type"] == "start"
        for line in process.stdout:  # wait until the stage is really running
            if json.loads(line)["type"] == "log":
                break
        process.send_signal(signal.Signals[sig])
        rest, stderr = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 128 + signal.Signals[sig], stderr
    last = json.loads(rest.splitlines()[-1])
    assert last["type"] == "record" and last["record"]["status"] == "cancelled"
    (stored,) = history.runs("hang")
    assert stored.status == "cancelled" and stored.info.run_id == first["run"]["run_id"]
    assert [s.status for s in stored.stages] == ["cancelled", "skipped", "skipped"]


DETERMINISM_PROBE = """
import torch


def check(ctx):
    ctx.check_property("deterministic while checking", torch.are_deterministic_algorithms_enabled())


def bench(ctx):
    ctx.measured("deterministic while benchmarking", float(torch.are_deterministic_algorithms_enabled()))
    ctx.bench.measure("noop", lambda: None, baseline=True)
"""


def test_checks_run_deterministic_and_benchmarks_time_what_users_get(user_dir: Path) -> None:
    write_plugin(user_dir, "probe", DETERMINISM_PROBE)
    record = run_plugin("probe", device="cpu", quick=True)
    check, bench = (next(s for s in record.stages if s.stage == name) for name in ("check", "bench"))
    assert check.status == "passed"
    assert bench.measured[0].value == 0.0
    assert not torch.are_deterministic_algorithms_enabled()  # and the caller's setting is back


def test_set_deterministic_uses_a_private_setter_that_still_exists_and_behaves_as_the_public_call() -> None:
    """A tripwire: the runner skips torch.use_deterministic_algorithms's import of torch._inductor through
    torch._C._set_deterministic_algorithms; if a torch release renames it, this says so (the runner then
    falls back to the public call, correct but 1.9 s slower)."""
    assert callable(getattr(torch._C, "_set_deterministic_algorithms", None))
    mode_before = torch.are_deterministic_algorithms_enabled()
    warn_before = torch.is_deterministic_algorithms_warn_only_enabled()
    try:
        for mode, warn_only in ((True, True), (True, False), (False, False)):
            set_deterministic(mode, warn_only=warn_only)
            assert torch.are_deterministic_algorithms_enabled() is mode
            assert torch.is_deterministic_algorithms_warn_only_enabled() is warn_only
    finally:
        torch.use_deterministic_algorithms(mode_before, warn_only=warn_before)


def test_a_run_does_not_import_torch_inductor(user_dir: Path) -> None:
    """torch.compile's compiler costs 1.9 s to import; a run that compiles nothing must not load it."""
    write_plugin(user_dir, "probe", DETERMINISM_PROBE)
    code = (
        "import sys; from readtrack.runner import run_plugin; "
        "record = run_plugin('probe', device='cpu', quick=True); "
        "print(record.status, 'torch._inductor' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["passed", "False"], out.stderr


THREE_COMPARISONS = """
def check(ctx):
    ctx.check_property("first holds", True)
    ctx.check_property("second fails", False, "on purpose")
    try:
        ctx.check_property("third fails too", False)
    except Exception:  # a plugin's own broad except cannot keep the stage going past the first failure
        pass
    ctx.check_property("fourth holds", True)


def train(ctx):
    ctx.target("unused", 1.0, 0.5)
"""


def test_first_failure_ends_the_check_at_its_first_failing_comparison(user_dir: Path) -> None:
    """What judging a known-wrong solution reads (readtrack.practice.mistakes.judged, issue 91): the check
    stops at its first failing comparison, failed, with the comparisons made so far; else the whole check."""
    write_plugin(user_dir, "three", THREE_COMPARISONS)
    whole = run_plugin("three", only="check", keep_history=False)
    cut = run_plugin("three", only="check", keep_history=False, first_failure=True)
    assert [c.name for c in whole.stages[0].comparisons] == [
        "first holds", "second fails", "third fails too", "fourth holds",
    ]  # fmt: skip
    assert [c.name for c in cut.stages[0].comparisons] == ["first holds", "second fails"]
    assert whole.stages[0].status == cut.stages[0].status == "failed" and cut.stages[0].error is None


def test_first_failure_grades_in_this_process_only(tmp_path: Path) -> None:
    from readtrack import practice

    with pytest.raises(UsageError, match="first_failure grades in this process"):
        practice.check("rmsnorm", tmp_path / "model.py", isolated=True, first_failure=True)
