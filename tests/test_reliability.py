"""Faults of issue 46 (a reliability audit), each reproduced with real processes, files and databases:
concurrent writers, kill -9 in the middle of a write, a full disk, a corrupt or read-only database, an
unusable data dir, and the modes of the files readtrack writes."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_runner import run_cli

from readtrack.base.writelock import locked
from readtrack.history import runs as history
from readtrack.plugins import links
from readtrack.plugins.records import RunInfo, RunRecord

IDS = ["adamw", "lbfgs", "transformer", "attention", "gpt", "bert", "t5", "roberta"]


def _one_line_error(result: subprocess.CompletedProcess[str], code: int, *words: str) -> str:
    """The CLI failed with ``code`` and said so in one line (no traceback) containing ``words``."""
    assert result.returncode == code, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("readtrack: "), result.stderr
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


# -- 1. concurrent writers ----------------------------------------------------------------------------

# Each writer imports readtrack, says it is ready, waits for the go file, then tags, notes and marks its
# own papers: every change must be on disk at the end, whatever the interleaving.
WRITER = """
import pathlib, sys, time
from readtrack.catalog import edits
path, k, ids, go, rounds = pathlib.Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3].split(","), \\
    pathlib.Path(sys.argv[4]), int(sys.argv[5])
print("ready", flush=True)
while not go.exists():
    time.sleep(0.001)
for i in range(rounds):
    paper = ids[i % len(ids)]
    edits.tag(path, paper, [f"+w{k}r{i}"])
    edits.note(path, paper, f"writer {k} round {i}")
    edits.mark(path, paper, ("reading", "read")[i % 2])
"""


def test_four_concurrent_writers_lose_no_update(catalog_file: Path, tmp_path: Path) -> None:
    writers, rounds = 4, 12
    go = tmp_path / "go"
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                WRITER,
                str(catalog_file),
                str(k),
                ",".join(IDS[k::writers]),
                str(go),
                str(rounds),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for k in range(writers)
    ]
    for proc in procs:
        assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
    go.touch()
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    cat = links.load(catalog_file)
    for k in range(writers):
        ids = IDS[k::writers]
        for i in range(rounds):
            assert f"w{k}r{i}" in cat.get(ids[i % len(ids)]).tags, (k, i)
        for j, paper in enumerate(ids):
            last = max(i for i in range(rounds) if i % len(ids) == j)
            assert cat.get(paper).notes == f"writer {k} round {last}"
            assert cat.get(paper).status == ("reading", "read")[last % 2]


def test_cli_edits_wait_for_the_lock_and_name_its_holder(catalog_file: Path) -> None:
    before = catalog_file.read_bytes()
    with locked(catalog_file):
        result = run_cli("mark", "bert", "read", env={"READTRACK_LOCK_TIMEOUT": "0.3"})
    _one_line_error(result, 1, "papers.yaml is locked by another readtrack", f"(pid {os.getpid()})", "0.3 s")
    assert catalog_file.read_bytes() == before
    # and once it is free, the same command goes through
    assert run_cli("mark", "bert", "read").returncode == 0
    assert links.load(catalog_file).get("bert").status == "read"


def test_concurrent_cli_commands_keep_every_tag(catalog_file: Path) -> None:
    loop = " && ".join(f"{sys.executable} -m readtrack tag {{id}} +c{i} >/dev/null" for i in range(2))
    procs = [subprocess.Popen(["sh", "-c", loop.format(id=paper)]) for paper in IDS[:4]]
    assert [p.wait(timeout=120) for p in procs] == [0] * 4
    cat = links.load(catalog_file)
    for paper in IDS[:4]:
        assert {"c0", "c1"} <= set(cat.get(paper).tags), paper


# -- 3. kill -9 in the middle of writes ---------------------------------------------------------------

KILLED_WRITER = """
import pathlib, sys
from readtrack.catalog import edits
path = pathlib.Path(sys.argv[1])
print("ready", flush=True)
i = 0
while True:
    i += 1
    edits.note(path, "bert", f"round {i} " + "x" * 400_000)
"""


def _temps(folder: Path) -> list[str]:
    return sorted(
        p.name for p in folder.iterdir() if p.name.startswith(".papers.yaml.") and p.name.endswith(".tmp")
    )


def test_writers_killed_mid_write_leave_a_whole_file_and_no_temp_after_the_next_edit(
    catalog_file: Path,
) -> None:
    left = 0
    for n in range(8):
        proc = subprocess.Popen(
            [sys.executable, "-c", KILLED_WRITER, str(catalog_file)], stdout=subprocess.PIPE, text=True
        )
        assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
        time.sleep(0.05 + 0.02 * n)  # a different moment of the write cycle each time
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        left = max(left, len(_temps(catalog_file.parent)))
        links.load(catalog_file)  # never half a file
    assert run_cli("mark", "bert", "read").returncode == 0
    assert _temps(catalog_file.parent) == []
    print(f"kill -9 loop: up to {left} temp files left before the next edit")


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_doctor_reports_left_over_temp_files_and_the_next_edit_removes_them(
    catalog_file: Path, readtrack_home: Path
) -> None:
    dead = _dead_pid()
    planted = [
        catalog_file.parent / f".papers.yaml.{dead}.0123abcd.tmp",  # a writer killed a moment ago
        catalog_file.parent / ".papers.yaml.k3j_x9ab.tmp",  # an old one, named before pids were
        readtrack_home / "cache" / f".catalog-0123.json.{dead}.89abcdef.tmp",
    ]
    planted[-1].parent.mkdir(exist_ok=True)
    for path in planted:
        path.write_text("half a file")
    old = time.time() - 3600
    os.utime(planted[1], (old, old))
    alive = catalog_file.parent / f".papers.yaml.{os.getpid()}.fedcba98.tmp"  # a write under way: kept
    alive.write_text("")

    result = run_cli("doctor")
    assert result.returncode == 1
    for path in planted:
        assert f"left-over  {path}: temp file of an unfinished write" in result.stdout, result.stdout
    assert f"(pid {dead}) is gone" in result.stdout
    assert str(alive) not in result.stdout

    assert run_cli("mark", "bert", "read").returncode == 0
    assert not planted[0].exists() and not planted[1].exists() and alive.exists()
    result = run_cli("doctor", "--repair")
    assert f"removed    {planted[2]}" in result.stdout and not planted[2].exists()
    alive.unlink()
    assert run_cli("doctor").returncode == 0


# -- 4. the modes of written files --------------------------------------------------------------------


@contextlib.contextmanager
def _umask(mask: int) -> Iterator[None]:
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


@pytest.mark.parametrize(("mask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_export_creates_files_with_the_mode_open_would_give(tmp_path: Path, mask: int, mode: int) -> None:
    out = tmp_path / "list.md"
    with _umask(mask):
        result = run_cli("export", "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert out.stat().st_mode & 0o777 == mode


def test_export_keeps_the_mode_of_the_file_it_replaces(tmp_path: Path) -> None:
    out = tmp_path / "list.bib"
    out.write_text("old")
    out.chmod(0o640)
    with _umask(0o022):
        assert run_cli("export", "-f", "bibtex", "-o", str(out)).returncode == 0
    assert out.stat().st_mode & 0o777 == 0o640
    assert out.read_text().startswith("@")


def test_an_edit_through_a_symlink_keeps_the_link(catalog_file: Path, tmp_path: Path) -> None:
    link = tmp_path / "papers.yaml"
    link.symlink_to(catalog_file)
    assert run_cli("--catalog", str(link), "mark", "bert", "read").returncode == 0
    assert link.is_symlink()
    assert links.load(catalog_file).get("bert").status == "read"


# -- 2. full disk, corrupt and read-only databases, unusable data dirs --------------------------------


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A small real file system of its own (tmpfs, 8 MiB), to fill or make read-only; skipped where this
    process may not mount one."""
    mount = tmp_path / "mnt"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mount)], capture_output=True, check=False
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(folder: Path) -> None:
    """Fill the file system of ``folder`` to the last byte."""
    with open(folder / "filler", "wb", buffering=0) as handle, contextlib.suppress(OSError):
        while True:
            handle.write(b"\0" * 65536)
    with open(folder / "filler", "ab", buffering=0) as handle, contextlib.suppress(OSError):
        while True:
            handle.write(b"\0" * 512)


def test_a_full_disk_is_one_line_and_leaves_the_list_as_it_was(tmpfs: Path, catalog_file: Path) -> None:
    home = tmpfs / "home"
    home.mkdir()
    listed = home / "papers.yaml"
    listed.write_bytes(catalog_file.read_bytes())
    env = {"READTRACK_HOME": str(home), "READTRACK_CATALOG": str(listed)}
    assert run_cli("note", "bert", "x" * 20_000, env=env).returncode == 0
    before = listed.read_bytes()
    _fill(tmpfs)
    result = run_cli("tag", "bert", "+more", env=env)
    _one_line_error(result, 1, "no space left on the device", str(listed), "nothing was changed")
    assert listed.read_bytes() == before
    assert [p.name for p in home.iterdir() if p.name.endswith(".tmp")] == []
    # Removing notes shrinks the list, but the new copy still needs room beside the old one: it says so.
    result = run_cli("note", "bert", "", env=env)
    _one_line_error(result, 1, "no space left on the device", "free some space")
    # The database cannot grow either (the search index is built on first search): one line, exit 1.
    result = run_cli("search", "attention", env=env)
    _one_line_error(result, 1, "no space left on the device")
    (tmpfs / "filler").unlink()
    assert run_cli("note", "bert", "", env=env).returncode == 0
    assert links.load(listed).get("bert").notes is None


# os.fsync reports ENOSPC after the write() calls went through, as on file systems that allocate late
# (ext4's delalloc, XFS, NFS): a fault of the OS injected below readtrack, not a mock of our code.
SITECUSTOMIZE = """
import errno, os
_fsync = os.fsync
def fsync(fd):
    if os.fstat(fd).st_size > 0:
        raise OSError(errno.{name}, os.strerror(errno.{name}))
    return _fsync(fd)
os.fsync = fsync
"""


def _failing_fsync(tmp_path: Path, name: str) -> dict[str, str]:
    """The environment of a readtrack whose fsync of a file with data fails with errno ``name``."""
    (tmp_path / "inject").mkdir()
    (tmp_path / "inject" / "sitecustomize.py").write_text(SITECUSTOMIZE.replace("{name}", name))
    return {"PYTHONPATH": str(tmp_path / "inject")}


def test_enospc_at_fsync_is_one_line_and_leaves_the_list_as_it_was(
    catalog_file: Path, tmp_path: Path
) -> None:
    env = _failing_fsync(tmp_path, "ENOSPC")
    before = catalog_file.read_bytes()
    result = run_cli("mark", "bert", "read", env=env)
    _one_line_error(result, 1, f"cannot write {catalog_file}: no space left on the device")
    assert catalog_file.read_bytes() == before
    assert _temps(catalog_file.parent) == []
    result = run_cli("export", "-o", str(tmp_path / "out.md"), env=env)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert not (tmp_path / "out.md").exists()


def test_an_io_error_is_one_line_and_leaves_the_list_as_it_was(catalog_file: Path, tmp_path: Path) -> None:
    env = _failing_fsync(tmp_path, "EIO")
    before = catalog_file.read_bytes()
    result = run_cli("tag", "bert", "+x", env=env)
    _one_line_error(result, 2, f"cannot read or write {catalog_file}: input/output error")
    assert catalog_file.read_bytes() == before


def _history_database(home: Path) -> Path:
    """A database with two recorded runs, then a search index, written by readtrack itself."""
    for n in range(2):
        info = RunInfo(
            run_id=f"run{n}",
            plugin="adamw",
            paper_id="adamw",
            device="cpu",
            stages=["check"],
            quick=True,
            seed=n,
            started_at=f"2026-11-2{n}T10:00:00+00:00",
            environment={"device": "cpu"},
        )
        history.record_started(info)
        history.record_finished(RunRecord(info=info, status="passed", duration_s=1.0))
    assert run_cli("search", "attention").returncode == 0  # builds the index, in pages after the runs'
    return home / "readtrack.db"


def test_a_corrupt_database_is_one_line_everywhere(readtrack_home: Path) -> None:
    db = readtrack_home / "readtrack.db"
    db.write_bytes(os.urandom(8192))
    for command in (["show", "bert"], ["search", "attention"], ["history"], ["export", "-f", "bibtex"]):
        _one_line_error(run_cli(*command), 2, f"the database {db} is corrupt", "readtrack doctor --repair")
    assert run_cli("mark", "bert", "read").returncode == 0  # the list needs no database
    result = run_cli("doctor")
    assert result.returncode == 1 and "file is not a database" in result.stdout


def test_doctor_repair_moves_a_damaged_database_aside_and_keeps_the_run_history(
    readtrack_home: Path,
) -> None:
    db = _history_database(readtrack_home)
    conn = sqlite3.connect(db)
    try:
        pages = [
            n for (n,) in conn.execute("SELECT pageno FROM dbstat WHERE name LIKE 'search%' ORDER BY pageno")
        ]
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    except sqlite3.OperationalError as err:
        pytest.skip(f"this SQLite has no dbstat table to find the index's pages: {err}")
    finally:
        conn.close()
    with open(db, "r+b") as handle:  # garbage over the search index's pages; the runs' pages stay whole
        for page in pages[: len(pages) // 2]:
            handle.seek((page - 1) * page_size)
            handle.write(os.urandom(page_size))
    _one_line_error(run_cli("search", "attention"), 2, "is corrupt")

    result = run_cli("doctor", "--repair")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "moved aside to readtrack.db.corrupt-" in result.stdout
    assert "kept       runs: 2 rows" in result.stdout
    assert "search index rebuilt" in result.stdout
    assert len(list(readtrack_home.glob("readtrack.db.corrupt-*"))) == 1
    listed = run_cli("history", "--json")
    assert listed.returncode == 0, listed.stderr
    assert [r["info"]["run_id"] for r in json.loads(listed.stdout)] == ["run1", "run0"]
    assert run_cli("search", "attention").returncode == 0
    assert run_cli("doctor").returncode == 0


def test_a_read_only_database_is_one_line(tmpfs: Path, catalog_file: Path) -> None:
    env = {"READTRACK_HOME": str(tmpfs), "READTRACK_CATALOG": str(catalog_file)}
    assert run_cli("search", "attention", env=env).returncode == 0  # makes the database
    subprocess.run(["mount", "-o", "remount,ro", str(tmpfs)], check=True)
    # A search that has nothing to index reads the database alone (and works); one whose list changed must
    # write its index there: that is the one line.
    catalog_file.write_text(catalog_file.read_text(encoding="utf-8") + "\n# a comment: the list changed\n")
    result = run_cli("search", "transformer", env=env)
    _one_line_error(result, 2, str(tmpfs / "readtrack.db"), "writable")
    assert run_cli("list", env=env).returncode == 0  # what needs no database still works


def test_a_list_on_a_read_only_file_system_is_one_line(tmpfs: Path, catalog_file: Path) -> None:
    listed = tmpfs / "papers.yaml"
    listed.write_bytes(catalog_file.read_bytes())
    subprocess.run(["mount", "-o", "remount,ro", str(tmpfs)], check=True)
    result = run_cli("--catalog", str(listed), "mark", "bert", "read")
    _one_line_error(result, 2, "read-only")
    assert links.load(listed).get("bert").status != "read"


def test_a_data_dir_that_cannot_be_created_is_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    env = {"READTRACK_HOME": str(blocker / "readtrack")}
    for command in (["show", "bert"], ["history"], ["doctor"]):
        _one_line_error(run_cli(*command, env=env), 2, "cannot create the data dir", "READTRACK_HOME")
    assert run_cli("list", env=env).returncode == 0  # the list itself needs no data dir
