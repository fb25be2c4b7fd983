"""Which processes spend the test suite's CPU: a census of every Python process a run starts.

Runs the suite (``pytest -n auto`` unless other arguments follow ``--``) with a hook in this venv's
site-packages (a ``.pth`` line that imports `HOOK` when ``READTRACK_CENSUS_DIR`` is set, removed again when
the run ends) through which each Python process writes, at exit, its own CPU seconds (user and system,
``resource.getrusage``), its wall seconds, its arguments and whether it imported torch; then prints them by
kind: the xdist workers, fork servers (serving, or ``--one``), the CLI by command, nested pytest runs,
scripts.

What it cannot see: a process that ends without running its exit handlers (a fork server's forked runs end
with ``os._exit``; Ray's processes are killed). ``benchmarks/bench_suite.py`` counts the whole machine's CPU
beside this (``/proc/stat``). The hook imports only ``atexit``, ``os`` and ``time`` as a process starts (json
and resource at its exit), so the suite's tests of what a start imports pass under it.

Run:  python benchmarks/suite_census.py --out /tmp/census [-- pytest args]
      python benchmarks/suite_census.py --read /tmp/census
(docs/development.md, "The suite's time", has a census of the suite.)
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import sysconfig
from collections import defaultdict
from pathlib import Path

HOOK = "_readtrack_census"
PTH = "zz_readtrack_census.pth"
VARIABLE = "READTRACK_CENSUS_DIR"

HOOK_SOURCE = '''"""benchmarks/suite_census.py's hook: this process's CPU, written at its exit."""
import atexit
import os
import time

_started = time.time()
_pid = os.getpid()


def _write():
    if os.getpid() != _pid:  # a forked child inherits the handler: only the process that imported it writes
        return
    import json
    import resource
    import sys

    usage = resource.getrusage(resource.RUSAGE_SELF)
    record = {
        "pid": _pid,
        "ppid": os.getppid(),
        "argv": sys.argv[:6],
        "torch": "torch" in sys.modules,
        "cpu": usage.ru_utime + usage.ru_stime,
        "wall": time.time() - _started,
    }
    try:
        with open(os.path.join(os.environ["READTRACK_CENSUS_DIR"], f"{_pid}.json"), "w") as out:
            json.dump(record, out)
    except (OSError, KeyError):
        pass


atexit.register(_write)
'''


def is_pytest(record: dict) -> bool:
    argv = record["argv"]
    return bool(argv) and (
        Path(argv[0]).name in ("pytest", "py.test") or Path(argv[0]).parent.name == "pytest"
    )


def kind(record: dict, workers: set[int], pids: set[int]) -> str:
    """What a process was, from its arguments (``python -c`` leaves ``-c`` first: the workers and servers)."""
    argv = record["argv"]
    if record["pid"] in workers:
        return "xdist worker"
    if is_pytest(record):
        return "pytest, nested in a test" if record["ppid"] in pids else "pytest (the run, or nested deeper)"
    if argv[:1] == ["-c"]:
        if argv[1:2] == ["--one"]:
            return "fork server --one"
        return "fork server" if len(argv) == 1 else "python -c"
    path = Path(argv[0]) if argv else Path("?")
    if path.name == "readtrack" or (path.name == "__main__.py" and path.parent.name == "readtrack"):
        return f"cli {argv[1] if len(argv) > 1 else ''}".strip()
    if path.name == "__main__.py":
        return f"python -m {path.parent.name}"
    return path.name


def read(folder: Path) -> list[dict]:
    records = []
    for path in sorted(folder.glob("*.json")):
        try:
            records.append(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue
    return records


def table(records: list[dict]) -> str:
    """One row a kind, most CPU first."""
    pids = {r["pid"] for r in records}
    runs = {r["pid"] for r in records if is_pytest(r)}
    workers = {r["pid"] for r in records if r["argv"] == ["-c"] and r["ppid"] in runs}
    kinds: dict[str, list[dict]] = defaultdict(list)
    for record in records:
        kinds[kind(record, workers, pids)].append(record)
    total = sum(r["cpu"] for r in records)
    lines = [
        f"{len(records)} processes wrote their CPU at exit: {total:,.1f} CPU-s "
        f"({sum(r['torch'] for r in records)} imported torch: "
        f"{sum(r['cpu'] for r in records if r['torch']):,.1f} CPU-s)",
        "",
        "| kind | processes | imported torch | CPU-s | median CPU-s |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, members in sorted(kinds.items(), key=lambda item: -sum(r["cpu"] for r in item[1])):
        cpu = [r["cpu"] for r in members]
        torch = sum(r["torch"] for r in members)
        lines.append(
            f"| {name} | {len(members)} | {torch} | {sum(cpu):,.1f} | {statistics.median(cpu):.2f} |"
        )
    return "\n".join(lines)


def run(folder: Path, pytest_args: list[str]) -> int:
    """The suite, with the hook in this venv for the run's length."""
    site = Path(sysconfig.get_paths()["purelib"])
    hook, pth = site / f"{HOOK}.py", site / PTH
    folder.mkdir(parents=True, exist_ok=True)
    hook.write_text(HOOK_SOURCE, encoding="utf-8")
    pth.write_text(f"import os; exec('import {HOOK}') if os.environ.get('{VARIABLE}') else None\n", "utf-8")
    try:
        env = {**os.environ, VARIABLE: str(folder.resolve())}
        return subprocess.call([sys.executable, "-m", "pytest", *(pytest_args or ["-n", "auto"])], env=env)
    finally:
        pth.unlink(missing_ok=True)
        hook.unlink(missing_ok=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--out", type=Path, help="run the suite; each process writes its line here")
    where.add_argument("--read", type=Path, help="print the census of an earlier run")
    parser.add_argument("pytest_args", nargs="*", help="after --: pytest's arguments (default: -n auto)")
    args = parser.parse_args()
    code = 0
    if args.out is not None:
        code = run(args.out, args.pytest_args)
    print(table(read(args.out or args.read)))
    sys.exit(code)


if __name__ == "__main__":
    main()
