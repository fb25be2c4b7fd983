"""A pytest plugin that writes, per test process, one JSON line per test: when it started and ended (wall
clock), its setup, call and teardown seconds, and the CPU seconds the process and the children it waited for
spent on it. `benchmarks/bench_suite.py` loads it (``-p suite_timeline``) and reads the files back.

Written by the process that runs the test (each xdist worker, or the single process without xdist) into
``$READTRACK_SUITE_TIMELINE/<worker>.jsonl``; nothing is written when that variable is unset.
"""

from __future__ import annotations

import json
import os
import resource
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pytest

_OUT: dict[str, Any] = {}


def _cpu() -> tuple[float, float]:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


def _write(row: dict[str, Any]) -> None:
    stream: IO[str] | None = _OUT.get("stream")
    if stream is not None:
        stream.write(json.dumps(row) + "\n")
        stream.flush()


def pytest_configure(config: pytest.Config) -> None:
    folder = os.environ.get("READTRACK_SUITE_TIMELINE")
    if not folder:
        return
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    if worker == "main" and getattr(config.option, "numprocesses", None):
        return  # the xdist controller runs no test: its workers write
    Path(folder).mkdir(parents=True, exist_ok=True)
    _OUT["stream"] = open(Path(folder) / f"{worker}.jsonl", "w", encoding="utf-8")  # noqa: SIM115
    _OUT["worker"] = worker
    _write({"event": "start", "worker": worker, "time": time.time()})


def pytest_collection_finish(session: pytest.Session) -> None:
    _write({"event": "collected", "worker": _OUT.get("worker"), "time": time.time()})


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Iterator[None]:
    if "stream" not in _OUT:
        yield
        return
    _OUT["phases"] = {}
    start, (own0, kids0) = time.time(), _cpu()
    yield
    end, (own1, kids1) = time.time(), _cpu()
    marker = item.get_closest_marker("xdist_group")
    _write(
        {
            "event": "test",
            "worker": _OUT["worker"],
            "nodeid": item.nodeid,
            "group": marker.args[0] if marker is not None and marker.args else None,
            "start": start,
            "end": end,
            "cpu": own1 - own0,
            "children_cpu": kids1 - kids0,
            **_OUT["phases"],
        }
    )


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    phases = _OUT.get("phases")
    if phases is not None:
        phases[report.when] = report.duration
        if report.when == "call" or report.outcome != "passed":
            phases.setdefault("outcome", report.outcome)


def pytest_sessionfinish(session: pytest.Session) -> None:
    _write({"event": "finish", "worker": _OUT.get("worker"), "time": time.time()})
    stream = _OUT.pop("stream", None)
    if stream is not None:
        stream.close()
