"""Re-stamp the calibration records that the kit-less fingerprint left stale, where they ran today's code.

``python benchmarks/restamp_kit.py [--write]``

From fa1b81f to 5bb39e9, ``fingerprint`` looked for ``readtrack.plugin_kit`` at a path that no longer existed
and silently hashed a plugin's own files only, so the records stamped then carry that kit-less hash. For a
plugin that imports the kit, the hash no longer equals ``fingerprint(folder)``. This script re-stamps such a
record only when it proves that the code the record ran (the plugin's files and the kit modules they import)
is today's code:

1. The record's commits: C, the oldest commit that put the record's ``code`` into its calibration.json
   (``git log -S``), and every later commit that rewrote this record (same mode and torch release) with the
   same ``code``, such as a re-run on other CPU kernels or added seeds.
2. Sanity check. At each of those commits, the record's ``code`` must be the kit-less fingerprint of the
   plugin folder as it was there. If it is not, this script's premise does not hold: the record is reported
   and left as it is.
3. Proof. At each of those commits, today's fingerprint algorithm runs on the plugin folder and the kit as
   they were there. It runs in a subprocess whose ``sys.path`` starts with a temporary root that holds a copy
   of today's ``readtrack/`` with its ``plugin_kit/`` replaced by that commit's. The result must equal the
   fingerprint of the plugin folder and kit today. If it does, the record ran today's code, and ``--write``
   replaces its ``code`` with today's fingerprint (that hash string only; every other byte of the file stays
   the same). If not, the record is REALLY CHANGED: the kit modules that differ are named, and the record is
   left for a recalibration.

Without ``--write``, the script only prints the table: plugin, mode, torch, record commit, verdict. With
``--write``, it then checks that every record's ``code`` equals today's fingerprint, except the records it
reported. The calibration module is imported only in the subprocesses, from a copy of ``readtrack/`` taken
when the script starts. Edits made to the package while it runs do not reach it.
"""

from __future__ import annotations

import argparse
import io
import json
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
#: The module that defines ``fingerprint``, imported from the temporary root. Update it if the module moves.
CALIBRATION = "readtrack.history.calibration"
KIT = "readtrack/plugin_kit"
FILE = "calibration.json"
CODE = re.compile(r'"code":\s*"([0-9a-f]+)"')

#: Run as ``python -c CHILD ROOT MODULE FOLDERS_JSON``. Prints, for each folder, its fingerprint with the kit,
#: its kit-less fingerprint, and the kit files it used (or an error).
CHILD = """
import importlib, json, sys
from pathlib import Path

root, module, folders = Path(sys.argv[1]).resolve(), sys.argv[2], json.loads(sys.argv[3])
sys.path[:1] = [str(root)]
calibration = importlib.import_module(module)
assert Path(calibration.__file__).resolve().is_relative_to(root), calibration.__file__
find_kit = calibration._kit_modules
out = {}
for folder in folders:
    used = set()

    def recording(tree):
        files = find_kit(tree)
        used.update(files)
        return files

    try:
        calibration._kit_modules = recording
        fixed = calibration.fingerprint(Path(folder))
        calibration._kit_modules = lambda tree: set()
        kitless = calibration.fingerprint(Path(folder))
    except Exception as error:
        out[folder] = {"error": f"{type(error).__name__}: {error}"}
        continue
    assert all(p.is_relative_to(root) for p in used), used
    out[folder] = {"fixed": fixed, "kitless": kitless, "kit": sorted(p.name for p in used)}
print(json.dumps(out))
"""


@dataclass
class Prints:
    """A plugin folder's fingerprints, as computed in one root."""

    fixed: str = ""
    kitless: str = ""
    kit: list[str] = field(default_factory=list)  # the kit files it imports, transitively
    error: str = ""


@dataclass
class Record:
    """One record of a plugin's calibration.json, and what this script decides about it."""

    plugin: str
    index: int  # its place in the file's "calibrations"
    mode: str
    torch: str
    code: str
    commits: list[str] = field(default_factory=list)  # C first, then the later rewrites
    verdict: str = ""
    restamp: bool = False
    changed_kit: dict[str, list[str]] = field(default_factory=dict)  # commit -> kit files that differ


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="re-stamp the records proven unchanged")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="restamp-kit-") as tmp:
        today_root = Path(tmp) / "today"
        shutil.copytree(
            REPO / "readtrack", today_root / "readtrack", ignore=shutil.ignore_patterns("__pycache__")
        )
        plugins = sorted(p.parent.name for p in (REPO / "plugins").glob(f"*/{FILE}"))
        today = fingerprints(today_root, {name: REPO / "plugins" / name for name in plugins})
        records = [r for name in plugins for r in read_records(name)]
        stale = [r for r in records if r.code != today[r.plugin].fixed]
        for r in records:
            r.commits = introduced(r.plugin, r.code)
            if r not in stale:
                r.verdict = "matches today"
        for r in stale:
            r.commits += [c for c in rewrites(r) if c not in r.commits]
        at: dict[str, dict[str, Prints]] = {}
        for commit in sorted({c for r in stale for c in r.commits}):
            names = sorted({r.plugin for r in stale if commit in r.commits})
            at[commit] = fingerprints_at(commit, names, today_root, Path(tmp) / commit)
        for r in stale:
            judge(r, today[r.plugin], at, today_root)
        print_table(records)
        print_summary(records, today)
        if args.write:
            write(records, today)
            raise SystemExit(verify(records, today))


def fingerprints(root: Path, folders: dict[str, Path]) -> dict[str, Prints]:
    """Each plugin folder's fingerprints, computed by the calibration module in ``root`` in a subprocess."""
    argv = [
        sys.executable,
        "-B",
        "-c",
        CHILD,
        str(root),
        CALIBRATION,
        json.dumps([str(f) for f in folders.values()]),
    ]
    out = subprocess.run(argv, cwd=root, capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(f"the fingerprint subprocess in {root} failed:\n{out.stderr}")
    found = json.loads(out.stdout)
    return {name: Prints(**found[str(folder)]) for name, folder in folders.items()}


def fingerprints_at(commit: str, names: list[str], today_root: Path, work: Path) -> dict[str, Prints]:
    """The fingerprints of plugin folders as they were at ``commit``, computed with today's algorithm. Today's
    readtrack is used with its kit replaced by the one at ``commit``."""
    extract(commit, [KIT, *(f"plugins/{name}" for name in names)], work / "tree")
    root = work / "root"
    shutil.copytree(today_root / "readtrack", root / "readtrack")
    shutil.rmtree(root / KIT)
    shutil.copytree(work / "tree" / KIT, root / KIT)
    return fingerprints(root, {name: work / "tree" / "plugins" / name for name in names})


def extract(commit: str, paths: list[str], into: Path) -> None:
    """``git archive commit paths`` unpacked into ``into``."""
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", commit, *paths], capture_output=True, check=True
    )
    into.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(into, filter="data")


def read_records(name: str) -> list[Record]:
    data = json.loads((REPO / "plugins" / name / FILE).read_text(encoding="utf-8"))
    return [
        Record(name, i, c["mode"], c["torch"].split("+")[0], c["code"])
        for i, c in enumerate(data["calibrations"])
    ]


def git(*argv: str) -> str:
    return subprocess.run(["git", "-C", str(REPO), *argv], capture_output=True, text=True, check=True).stdout


def introduced(plugin: str, code: str) -> list[str]:
    """[C], the oldest commit that changed how often ``"code": "<code>"`` occurs in the plugin's record, or []
    when no commit holds that code (a record re-stamped and not yet committed)."""
    pattern = f'"code":[[:space:]]*"{code}"'
    found = git(
        "log", "--format=%H", "--pickaxe-regex", "-S", pattern, "--", f"plugins/{plugin}/{FILE}"
    ).split()
    return found[-1:]


def rewrites(record: Record) -> list[str]:
    """The commits, oldest first, that wrote this record (its mode and torch release) anew with its code."""
    path = f"plugins/{record.plugin}/{FILE}"
    commits, before = [], None
    for commit in git("log", "--reverse", "--format=%H", "--", path).split():
        try:
            data = json.loads(git("show", f"{commit}:{path}"))
        except subprocess.CalledProcessError:  # the file was deleted there
            before = None
            continue
        mine = [
            c
            for c in data["calibrations"]
            if (c["mode"], c["torch"].split("+")[0]) == (record.mode, record.torch)
        ]
        now = mine[0] if mine else None
        if now is not None and now["code"] == record.code and now != before:
            commits.append(commit)
        before = now
    return commits


def judge(record: Record, today: Prints, at: dict[str, dict[str, Prints]], today_root: Path) -> None:
    """The verdict on a record whose code is not today's fingerprint."""
    if not record.commits:
        record.verdict = "SANITY: no commit holds this code"
        return
    for commit in record.commits:
        then = at[commit][record.plugin]
        if then.error:
            record.verdict = f"ERROR at {commit[:7]}: {then.error}"
            return
        if then.kitless != record.code:
            record.verdict = f"SANITY: code is not the kit-less fingerprint at {commit[:7]} ({then.kitless})"
            return
        if then.fixed != today.fixed:
            kit = sorted(set(then.kit) | set(today.kit))
            record.changed_kit[commit] = [
                m for m in kit if kit_file(commit, m) != kit_file_today(today_root, m)
            ]
    if record.changed_kit:
        where = "; ".join(f"{c[:7]}: {', '.join(m) or 'plugin files'}" for c, m in record.changed_kit.items())
        record.verdict = f"REALLY CHANGED ({where})"
    else:
        record.restamp = True
        record.verdict = f"re-stamp -> {today.fixed}"


def kit_file(commit: str, name: str) -> bytes | None:
    out = subprocess.run(["git", "-C", str(REPO), "show", f"{commit}:{KIT}/{name}"], capture_output=True)
    return out.stdout if out.returncode == 0 else None


def kit_file_today(today_root: Path, name: str) -> bytes | None:
    path = today_root / KIT / name
    return path.read_bytes() if path.exists() else None


def print_table(records: list[Record]) -> None:
    rows = [("plugin", "mode", "torch", "record commit", "verdict")]
    rows += [(r.plugin, r.mode, r.torch, ", ".join(c[:7] for c in r.commits), r.verdict) for r in records]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False)) + "  " + row[4])


def print_summary(records: list[Record], today: dict[str, Prints]) -> None:
    stale = [r for r in records if r.verdict != "matches today"]
    restamp = [r for r in stale if r.restamp]
    matching = len(records) - len(stale)
    print(f"\n{len(records)} records in {len(today)} plugins: {matching} match today's fingerprint,")
    print(f"{len(restamp)} ran today's code (re-stamp), {len(stale) - len(restamp)} not proven so (below)")
    kitless = sorted(name for name, p in today.items() if not p.kit)
    odd = ", ".join(sorted({r.plugin for r in stale if r.plugin in kitless})) or "none"
    print(f"{len(kitless)} plugins import no kit module; those with records not matching today: {odd}")
    for r in stale:
        if r.restamp:
            continue
        print(f"\n{r.plugin} ({r.mode}, torch {r.torch}): {r.verdict}")
        for commit, kit in r.changed_kit.items():
            if kit:
                print(git("diff", "--stat", commit, "HEAD", "--", *(f"{KIT}/{m}" for m in kit)).rstrip())


def write(records: list[Record], today: dict[str, Prints]) -> None:
    """Replace the code of each proven record in its file, that hash only, the record's own occurrence."""
    for plugin in sorted({r.plugin for r in records if r.restamp}):
        path = REPO / "plugins" / plugin / FILE
        text = path.read_text(encoding="utf-8")
        mine = [r for r in records if r.plugin == plugin]
        matches = list(CODE.finditer(text))
        if [m.group(1) for m in matches] != [r.code for r in mine]:
            raise SystemExit(f'{path}: its "code" keys do not line up with its records; nothing written')
        for r, m in reversed(list(zip(mine, matches, strict=True))):
            if r.restamp:
                text = text[: m.start(1)] + today[plugin].fixed + text[m.end(1) :]
        path.write_text(text, encoding="utf-8")
        print(f"re-stamped {sum(r.restamp for r in mine)} record(s) of {plugin}")


def verify(records: list[Record], today: dict[str, Prints]) -> int:
    """0 when every record's code is today's fingerprint, except the ones reported as not proven."""
    left = {(r.plugin, r.index) for r in records if r.verdict != "matches today" and not r.restamp}
    wrong = []
    for plugin in sorted(today):
        data: dict[str, Any] = json.loads((REPO / "plugins" / plugin / FILE).read_text(encoding="utf-8"))
        for i, c in enumerate(data["calibrations"]):
            if (c["code"] == today[plugin].fixed) == ((plugin, i) in left):
                wrong.append(f"{plugin} #{i} ({c['mode']}, torch {c['torch']}): {c['code']}")
    print(f"verified: {len(records) - len(left)} records carry today's fingerprint, {len(left)} reported")
    for line in wrong:
        print(f"  unexpected: {line}")
    return 1 if wrong else 0


if __name__ == "__main__":
    main()
