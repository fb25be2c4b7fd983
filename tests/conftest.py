"""Shared fixtures: every test gets its own data dir and catalog; the CLI runs as the script runs it
(`tests/cli_runner.py`: in this process for the commands that only read and write files, else a subprocess);
the suite's workers and order (issue 91)."""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cli_runner import run_cli

from readtrack.batch.ray_executor import LOOPBACK

# Every Ray process of the tests listens on 127.0.0.1 alone, and Ray leaves 127.0.0.1 as it is (else it
# rewrites it to this machine's address): set before any test imports Ray, which reads it as it loads, and
# inherited by every process a test starts (tests/ray_lab.py's cluster, the CLI's drivers).
os.environ.update(LOOPBACK)
# The fork servers the tests start run toy plugins that build no optimizer: importing torch._dynamo for
# them (~1 s a server, a quarter of test_batch's time) is left out; test_times_announced.py turns it on.
os.environ["READTRACK_FORKSERVER_DYNAMO"] = "0"
# A batch that names no --jobs runs one worker (issue 91): each worker is a fork server that imports torch
# (~1.4 CPU-s), and the suite's own workers already keep both cores busy, so a second one per batch was paid
# for nothing. A test about running in parallel says --jobs 2 (test_batch, the executor contract, Ray).
os.environ["READTRACK_JOBS"] = "1"

REPO = Path(__file__).resolve().parents[1]
SEED_CATALOG = REPO / "papers.yaml"


#: The seconds of the suite's long items, from its profile (`benchmarks/bench_suite.py --write-durations`):
#: each test over a second, and each xdist group's whole chain. Only the order of the tests reads it.
DURATIONS = Path(__file__).with_name("durations.json")


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    """``-n auto``: a worker per core and one more (issue 91). The ``ray`` group's worker spends most of its
    chain waiting: on its cluster's sockets, on CLI drivers connecting, on runs paused on purpose (17 % of a
    core over its 254 s, `benchmarks/bench_suite.py`; Ray's own processes meanwhile use most of a core, which
    only the whole machine's count shows), and Pilot's TUI tests wait on screens at about 45 %; with a worker
    per core the core such a worker holds sat idle, and a fourth worker gained nothing (docs/development.md).
    ``PYTEST_XDIST_AUTO_NUM_WORKERS`` still says how many, as xdist documents."""
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return None  # xdist's own hook reads it
    return len(os.sched_getaffinity(0)) + 1


def pytest_configure(config: pytest.Config) -> None:
    """Once, in the process that starts the workers: readtrack's and the built-in plugins' bytecode written
    beside them (``__pycache__``, as any first import writes it unless ``PYTHONDONTWRITEBYTECODE`` is set,
    which CI's environment sets). Without it every process the suite starts (about 500 CLI commands, fork
    servers, grading workers) compiled the modules it imported again: 0.07 CPU-s a `run`'s imports, half of
    them (issue 91). Python checks each file against its source's size and time, so an edit is never stale."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        return
    import compileall

    for folder in ("readtrack", "plugins"):
        compileall.compile_dir(REPO / folder, quiet=1)
    if config.getoption("numprocesses", None):
        _rewrite_tests_once(config)


def _rewrite_tests_once(config: pytest.Config) -> None:
    """The test modules' assertions rewritten once, here, into pytest's own cache beside them, which every
    worker then reads: with ``PYTHONDONTWRITEBYTECODE`` (CI's) pytest writes none, and each worker rewrote
    all ~210 modules as it collected them, 4.4 CPU-s a worker (issue 91). pytest checks each against its
    source's size and time, as Python does. Uses pytest's own rewriting and cache format (private names): a
    pytest without them leaves each worker to rewrite, as before."""
    try:
        from _pytest.assertion.rewrite import PYC_TAIL, _rewrite_test, _write_pyc_fp, get_cache_dir
    except ImportError:
        return
    patterns = config.getini("python_files") or ["test_*.py"]
    for path in sorted(Path(__file__).parent.rglob("*.py")):
        if path.name != "conftest.py" and not any(path.match(pattern) for pattern in patterns):
            continue
        cache = get_cache_dir(path)
        pyc = cache / (path.name[:-3] + PYC_TAIL)
        try:
            stat, code = _rewrite_test(path, config)
            cache.mkdir(exist_ok=True)
            partial = pyc.with_name(f"{pyc.name}.{os.getpid()}")
            with open(partial, "wb") as out:
                _write_pyc_fp(out, stat, code)
            os.replace(partial, pyc)
        except (OSError, SyntaxError):
            continue  # the worker rewrites it, and reports a syntax error as it collects


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The longest items first, so that the workers finish together (issue 91: longest processing time
    first): an xdist group's chain is one unit of work, placed by its whole length, and each other test by
    its own, as `DURATIONS` recorded them; the rest keep their order, after them. Sorting is stable, and the
    same on every worker, as xdist requires."""
    seconds = json.loads(DURATIONS.read_text(encoding="utf-8")) if DURATIONS.exists() else {}
    groups, tests = seconds.get("groups", {}), seconds.get("tests", {})

    def cost(item: pytest.Item) -> float:
        marker = item.get_closest_marker("xdist_group")
        if marker is not None and marker.args:
            return float(groups.get(marker.args[0], 0.0))
        return float(tests.get(item.nodeid, 0.0))

    items.sort(key=lambda item: -cost(item))


def pytest_collection_finish(session: pytest.Session) -> None:
    """Freeze what collection built (every test module, torch, hypothesis, Textual: about 470,000 objects)
    out of the cyclic garbage collector's sight. They live as long as the test process, yet every full
    collection scanned them all again, 0.3-0.5 s each: a CPU bench row's ``gc.collect()``
    (``readtrack.runner.bench``, for a fair starting RSS) and the automatic ones (a quick run of 6 plugins
    spent 15 of its 96 s in them, 1 s once frozen). Objects the tests make are collected as before."""
    import gc

    gc.collect()
    gc.freeze()


@pytest.fixture(scope="session")
def fingerprints(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The built-in plugins' code fingerprints, computed once per test process into a data dir's cache
    (``readtrack.history.calibration_state``; 1.5 s of parsing): every test's home starts with a copy, which
    the cache checks against the files' sizes and times as it does for a reader, so it stays correct."""
    from readtrack.history.calibration_state import CACHE, plugin_states

    home = tmp_path_factory.mktemp("fingerprints")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("READTRACK_HOME", str(home))
        env.setenv("READTRACK_CATALOG", str(SEED_CATALOG))
        env.delenv("READTRACK_PLUGINS_DIR", raising=False)
        plugin_states()
    return home / "cache" / CACHE


@pytest.fixture(autouse=True)
def readtrack_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch, fingerprints: Path
) -> Iterator[Path]:
    """A fresh READTRACK_HOME per test; READTRACK_CATALOG points into it (a copy of the seed list)."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("READTRACK_HOME", str(home))
    monkeypatch.setenv("READTRACK_CATALOG", str(home / "papers.yaml"))
    monkeypatch.delenv("READTRACK_PLUGINS_DIR", raising=False)
    shutil.copy(SEED_CATALOG, home / "papers.yaml")
    if fingerprints.exists():
        (home / "cache").mkdir()
        shutil.copy(fingerprints, home / "cache" / fingerprints.name)
    yield home


@pytest.fixture(autouse=True)
def one_torch_thread() -> Iterator[None]:
    """One intra-op thread per test process (torch's own default is one per core). The suite runs a process
    per core (``-n auto``), and the tiny models here are dominated by per-op overhead: a second OpenMP thread
    waiting at every op barrier beside the other process slowed a kit test 2.4x (9 s to 22 s), and speeds
    nothing up. Runs through the runner set their own threads (one, or ``--threads``); tests that never
    import torch do not import it for this."""
    torch = sys.modules.get("torch")
    if torch is None:
        yield
        return
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def user_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty user plugin folder (READTRACK_PLUGINS_DIR) for the test plugins of tests/fake_plugins.py."""
    folder = tmp_path / "user-plugins"
    folder.mkdir()
    monkeypatch.setenv("READTRACK_PLUGINS_DIR", str(folder))
    return folder


@pytest.fixture
def catalog_file(readtrack_home: Path) -> Path:
    """The test's own copy of the shipped seed list."""
    return readtrack_home / "papers.yaml"


@pytest.fixture
def cli() -> object:
    """`cli("list", "--json")` runs the real CLI (`cli_runner.run_cli`) and returns the CompletedProcess."""
    return run_cli


_RAY_LAB: list[Any] = []  # the test process's Ray cluster while it runs (`ray_lab`)


@pytest.fixture
def ray_lab(tmp_path_factory: pytest.TempPathFactory) -> object:
    """A real Ray cluster of two nodes on 127.0.0.1 (`tests/ray_lab.py`), one per test process, shared by
    the tests of the ``ray`` xdist group; Ray is imported only by the tests that ask for it. Shut down as
    soon as the next test of this process is not of the group (`pytest_runtest_teardown`): an idle cluster
    of two nodes keeps ~5 % of a core busy, which the rest of the suite would pay for."""
    if not _RAY_LAB:
        from ray_lab import start

        _RAY_LAB.append(start(tmp_path_factory.mktemp("ray-lab")))
    return _RAY_LAB[0]


def _stop_ray_lab() -> None:
    if not _RAY_LAB:
        return
    import ray

    if ray.is_initialized():  # a test drove the cluster from this process (the TUI's shelf)
        ray.shutdown()
    _RAY_LAB.pop().cluster.shutdown()


def in_ray_group(item: pytest.Item | None) -> bool:
    marker = item.get_closest_marker("xdist_group") if item is not None else None
    return marker is not None and marker.args[:1] == ("ray",)


def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    if in_ray_group(item) and not in_ray_group(nextitem):  # the group's tests run one after another
        _stop_ray_lab()


def pytest_sessionfinish(session: pytest.Session) -> None:
    _stop_ray_lab()
