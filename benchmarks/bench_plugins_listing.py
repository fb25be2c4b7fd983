"""How fast plugins are listed: `readtrack plugins` (table and --json) against a bare interpreter start.

Target (issue 4): `readtrack plugins` at most 0.5 s (median of N runs, a fresh process each time), with the
built-in plugins, 20 extra user-folder plugins and a run history of 200 runs; and listing never imports
torch (checked from `python -X importtime`).

Run: python benchmarks/bench_plugins_listing.py [--runs 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_S = 0.5

USER_PLUGIN = """
from readtrack.plugins.declaration import PaperPlugin, hookimpl


@hookimpl
def readtrack_paper_plugins():
    return [PaperPlugin(name={name!r}, paper_id={name!r}, title="A user plugin", arxiv=None, claim="-",
                        package=__name__)]
"""


def make_user_plugins(folder: Path, count: int) -> None:
    for i in range(count):
        package = folder / f"userplugin{i}"
        package.mkdir(parents=True)
        (package / "__init__.py").write_text(USER_PLUGIN.format(name=f"userplugin{i}"))
        (package / "model.py").write_text("import torch\n")
        (package / "experiment.py").write_text("import torch\n")


def fill_history(env: dict[str, str], runs: int) -> None:
    code = f"""
from readtrack.plugins.records import RunInfo, RunRecord, StageResult
from readtrack.history import runs as history
for i in range({runs}):
    when = f"2026-01-01T00:{{i // 60:02d}}:{{i % 60:02d}}+00:00"
    info = RunInfo(run_id=f"run{{i}}", plugin=f"userplugin{{i % 20}}", paper_id="p", device="cpu",
                   stages=["check"], quick=True, seed=0, started_at=when)
    history.record_started(info)
    history.record_finished(RunRecord(info, "passed", 1.0, [StageResult("check", "passed")]))
"""
    subprocess.run([sys.executable, "-c", code], env=env, check=True)


def timed(cmd: list[str], env: dict[str, str], runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)
        samples.append(time.perf_counter() - start)
    return samples


def imports_torch(env: dict[str, str]) -> bool:
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "readtrack", "plugins", "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return any(line.rsplit("|", 1)[-1].strip() == "torch" for line in result.stderr.splitlines())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    readtrack = [sys.executable, "-m", "readtrack"]
    with tempfile.TemporaryDirectory() as tmp:
        # Bytecode caches on, as in any installed environment (a warm-up run writes them first).
        env = {
            **{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
            "READTRACK_HOME": tmp,
            "READTRACK_CATALOG": str(Path(tmp) / "papers.yaml"),
            "READTRACK_PLUGINS_DIR": str(Path(tmp) / "plugins"),
            "COLUMNS": "120",
        }
        make_user_plugins(Path(tmp) / "plugins", 20)
        fill_history(env, 200)
        subprocess.run([*readtrack, "plugins"], env=env, check=True, stdout=subprocess.DEVNULL)
        rows = [
            ("python -c pass", timed([sys.executable, "-c", "pass"], env, args.runs)),
            (
                "python -c 'import typer, rich, pluggy'",
                timed([sys.executable, "-c", "import typer, rich, pluggy"], env, args.runs),
            ),
            ("readtrack plugins", timed([*readtrack, "plugins"], env, args.runs)),
            ("readtrack plugins --json", timed([*readtrack, "plugins", "--json"], env, args.runs)),
        ]
        torch_loaded = imports_torch(env)
    print(f"{'command':<42} {'median':>8} {'min':>8} {'max':>8}   (s, {args.runs} runs, fresh process each)")
    for label, samples in rows:
        print(f"{label:<42} {statistics.median(samples):8.3f} {min(samples):8.3f} {max(samples):8.3f}")
    listing = statistics.median(rows[2][1])
    verdict = "met" if listing <= TARGET_S else "MISSED"
    print(f"\ntarget: `readtrack plugins` <= {TARGET_S} s median: {verdict} ({listing:.3f} s)")
    print(f"torch imported while listing: {'YES (bug)' if torch_loaded else 'no'}")
    print(f"load average while measuring: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
