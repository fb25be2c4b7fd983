"""Carry a plugin's calibration over a refactor that must not change its numbers (knobs, issue 55).

``python benchmarks/restamp.py NAME [NAME ...] --base REV [--seeds 0-1] [--full-seeds 0-0] [--jobs 2]
[--rename PATTERN REPLACEMENT ...] [--write]``

A calibration holds for the code it ran (``readtrack.history.calibration.fingerprint``). Moving a plugin's
literals into its ``config.py`` changes that code but, done right, not one number it computes. This script
proves it the only way that counts, by running both: the plugin as it was at ``REV`` (a git worktree of it,
the readtrack of that commit too) and as it is now, on the same seeds, quick and full, one thread a run, on
this machine; every number the calibration records (the train stage's targets and measured values, with their
details) must be equal bit for bit (curves are not calibrated: a refactor may add one), but for a measured
value that differs between two runs of the base itself (a wall-time ratio), left out and named.

Only then, with ``--write``, each of the plugin's calibration records whose code is ``REV``'s fingerprint
gets today's fingerprint instead; its numbers stay as they were measured. A record of other code than
``REV``'s, or any number that differs, and nothing is written (exit 1). The closing note of the change names
the command, the seeds and the result.

A refactor that renames numbers (``(mean of 3 seed(s))`` → ``(mean of 3 inits)``, issue 84) gives the map
as ``--rename PATTERN REPLACEMENT`` (a Python regular expression and its replacement, ``re.sub``; repeatable,
applied in order): the base's names and details are renamed before they are compared with today's, so the
same numbers must come out under the new names, and ``--write`` renames the records' numbers too. A name the
map changes in a record must be one today's code recorded in that mode on these seeds, else nothing is
written: the map renames only what the runs proved.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="+", help="built-in plugins")
    parser.add_argument("--base", required=True, help="the commit whose code the calibration ran")
    parser.add_argument("--seeds", default="0-1", help="quick runs' seeds ('' for none)")
    parser.add_argument("--full-seeds", default="0-0", help="full runs' seeds ('' for none)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument(
        "--rename",
        nargs=2,
        action="append",
        default=[],
        metavar=("PATTERN", "REPLACEMENT"),
        help="rename the base's numbers (re.sub, in order) before comparing, and the records' with --write",
    )
    parser.add_argument("--write", action="store_true", help="re-stamp the records when all numbers agree")
    args = parser.parse_args()
    try:
        rules = [(re.compile(pattern), replacement) for pattern, replacement in args.rename]
    except re.error as error:
        parser.error(f"--rename: {error}")
    os.environ.setdefault("READTRACK_HOME", tempfile.mkdtemp(prefix="restamp-"))
    from readtrack.batch.groups import parse_seeds
    from readtrack.history import calibration

    runs = [(True, s) for s in (parse_seeds(args.seeds) if args.seeds else [])]
    runs += [(False, s) for s in (parse_seeds(args.full_seeds) if args.full_seeds else [])]
    failed = False
    with worktree(args.base) as base:
        for name in args.names:
            folder = REPO / "plugins" / name.replace("-", "_")
            old_code = fingerprint_at(base, folder.name)
            new_code = calibration.fingerprint(folder)
            stale = [c for c in calibration.load(folder) if c.code not in (old_code, new_code)]
            if stale:
                print(
                    f"{name}: a calibration of other code than {args.base}'s ({stale[0].code}): recalibrate"
                )
                failed = True
                continue
            jobs = [(tree, name, quick, seed) for quick, seed in runs for tree in (base, REPO)]
            with ThreadPoolExecutor(args.jobs) as pool:
                numbers = list(pool.map(lambda job: train_numbers(*job), jobs))
            differ = []
            produced: dict[str, set[str]] = {}  # mode -> the names today's code recorded
            for i, (quick, seed) in enumerate(runs):
                before, after = renamed(numbers[2 * i], rules), numbers[2 * i + 1]
                produced.setdefault("quick" if quick else "full", set()).update(names_of(after))
                if not same(before, after):  # a wall-time ratio differs run to run: the base again tells
                    again = renamed(train_numbers(base, name, quick, seed), rules)
                    if [m[0] for m in again["measured"]] != [m[0] for m in before["measured"]]:
                        # a stage that failed once (its status says so), or one that measures what it meets
                        differ.append(
                            f"{'quick' if quick else 'full'} seed {seed}: {args.base} itself measured "
                            f"different things twice ({before['status']}, then {again['status']})"
                        )
                        continue
                    noise = {
                        m[0]
                        for m, n in zip(before["measured"], again["measured"], strict=True)
                        if not same(m, n)
                    }
                    before, after = (without(x, noise) for x in (before, after))
                    if noise:
                        print(f"{name}: not reproducible run to run, left out: {', '.join(sorted(noise))}")
                if not same(before, after):
                    differ.append(f"{'quick' if quick else 'full'} seed {seed}: {diff(before, after)}")
            what = ", ".join(f"{'quick' if q else 'full'} {s}" for q, s in runs)
            if differ:
                print(f"{name}: numbers differ from {args.base}'s: " + "; ".join(differ))
                failed = True
                continue
            print(f"{name}: the same numbers as {args.base} ({what}); code {old_code} → {new_code}")
            if args.write and (old_code != new_code or rules):
                path = folder / calibration.FILE
                try:
                    text = restamped(path.read_text(encoding="utf-8"), old_code, new_code, rules, produced)
                except ValueError as error:
                    print(f"{name}: nothing written: {error}")
                    failed = True
                    continue
                path.write_text(text, encoding="utf-8")
    raise SystemExit(1 if failed else 0)


Rules = list[tuple[re.Pattern[str], str]]


def rename(text: str, rules: Rules) -> str:
    """``text`` with each rule applied in turn (``re.sub``)."""
    for pattern, replacement in rules:
        text = pattern.sub(replacement, text)
    return text


def renamed(numbers: dict[str, Any], rules: Rules) -> dict[str, Any]:
    """A run's numbers with their names (and the measured values' details) renamed by ``rules``."""
    return {
        **numbers,
        "targets": [(rename(n, rules), *rest) for n, *rest in numbers["targets"]],
        "measured": [(rename(n, rules), v, rename(d, rules)) for n, v, d in numbers["measured"]],
    }


def names_of(numbers: dict[str, Any]) -> set[str]:
    return {t[0] for t in numbers["targets"]} | {m[0] for m in numbers["measured"]}


def restamped(text: str, old_code: str, new_code: str, rules: Rules, produced: dict[str, set[str]]) -> str:
    """A calibration.json's ``text`` with each record of ``old_code`` stamped ``new_code`` and its numbers
    renamed by ``rules``. A ValueError, and nothing changed, when a name the rules change is not one of
    ``produced`` (the names today's code recorded, by mode), or when the file is not as readtrack writes
    it."""
    data = json.loads(text)
    if _dumped(data) != text:
        raise ValueError("the file is not as readtrack writes it (json, indent 1): re-save it first")
    for record in data["calibrations"]:
        if record["code"] != old_code:
            continue
        record["code"] = new_code
        for number in record["numbers"]:
            new = rename(number["name"], rules)
            if new != number["name"] and new not in produced.get(record["mode"], set()):
                raise ValueError(
                    f"{number['name']!r} would be renamed {new!r}, a name today's code did not record "
                    f"in a {record['mode']} run here"
                )
            number["name"] = new
    return _dumped(data)


def _dumped(data: Any) -> str:
    """JSON as ``readtrack.history.calibration.save`` writes it."""
    return json.dumps(data, indent=1, ensure_ascii=False) + "\n"


@contextmanager
def worktree(rev: str) -> Iterator[Path]:
    """A detached git worktree of ``rev``, removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="restamp-base-")) / "tree"
    subprocess.run(
        ["git", "-C", str(REPO), "worktree", "add", "-q", "--detach", str(folder), rev], check=True
    )
    # readtrack finds its built-in plugins as the package readtrack_plugins (installed from plugins/): on
    # PYTHONPATH, the worktree's comes before the installed one
    (folder / "readtrack_plugins").symlink_to("plugins", target_is_directory=True)
    try:
        yield folder
    finally:
        subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(folder)], check=False)


def fingerprint_at(tree: Path, folder: str) -> str:
    """The plugin's fingerprint as the code of ``tree`` computes it (its own readtrack)."""
    path = str(tree / "plugins" / folder)
    probe = "from pathlib import Path\nfrom readtrack.history import calibration\n"
    probe += f"print(calibration.fingerprint(Path({path!r})))"
    # run in ``tree``: ``python -c`` puts the working directory first on sys.path, and this repository's own
    # readtrack (its kit) would fingerprint the base's plugin with today's kit modules
    out = subprocess.run(
        [sys.executable, "-c", probe], env=_env(tree), capture_output=True, text=True, check=True, cwd=tree
    )
    return out.stdout.strip()


def train_numbers(tree: Path, name: str, quick: bool, seed: int) -> dict[str, Any]:
    """Every number the train stage of ``name`` records, run from ``tree`` (one thread; recorded in the
    script's temporary READTRACK_HOME, never the reader's)."""
    argv = [sys.executable, "-m", "readtrack", "run", name, "--only", "train", "--seed", str(seed)]
    argv += ["--threads", "1", "--device", "cpu", "--json", *(["--quick"] if quick else [])]
    argv += ["--timeout", "0"]  # a loaded machine may take longer than a stage's limit: numbers do not care
    out = subprocess.run(argv, env=_env(tree), capture_output=True, text=True, cwd=tempfile.gettempdir())
    records = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    record = next((r["record"] for r in reversed(records) if r.get("type") == "record"), None)
    if record is None:
        raise SystemExit(f"{name} from {tree}: no record (exit {out.returncode}): {out.stderr[-2000:]}")
    (stage,) = record["stages"]
    return {
        "status": stage["status"],
        "targets": [(t["name"], t["value"], t["target"]) for t in stage["targets"]],
        "measured": [(m["name"], m["value"], m["detail"]) for m in stage["measured"]],
    }


def without(numbers: dict[str, Any], names: set[str]) -> dict[str, Any]:
    """``numbers`` less the measured values called ``names``."""
    return {**numbers, "measured": [m for m in numbers["measured"] if m[0] not in names]}


def same(a: Any, b: Any) -> bool:
    """Equal bit for bit (NaN equal to NaN, as JSON's null is to null)."""
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return bool(a == b)


def diff(a: dict[str, Any], b: dict[str, Any]) -> str:
    """The first place two runs' numbers part."""
    for key in a:
        if not same(a[key], b.get(key)):
            return f"{key}: {str(a[key])[:160]} vs {str(b.get(key))[:160]}"
    return "?"


def _env(tree: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(tree), "OMP_NUM_THREADS": "1"}


if __name__ == "__main__":
    main()
