"""`readtrack sync`, `open` and `doctor` as a user runs them: the real CLI in a subprocess, the fake arXiv on
127.0.0.1, the seed list from the conftest copy (its web links pointed at a fake web host)."""

from __future__ import annotations

import difflib
import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_runner import interruptible, run_cli
from fakearxiv import FakeArxiv, FakePaper, point_urls_at, serving

from readtrack.base.paths import pdf_cache_dir
from readtrack.catalog import pdfcache
from readtrack.plugins.links import load


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeArxiv]:
    with serving(monkeypatch) as fake:
        yield fake


@pytest.fixture(autouse=True)
def web(catalog_file: Path) -> Iterator[FakeArxiv]:
    """Every test's seed list links to this fake web host instead of the live sites it names."""
    with FakeArxiv.running() as fake:
        point_urls_at(catalog_file, fake)
        yield fake


def imported_modules(stderr: str) -> set[str]:
    """Top-level module names from ``python -X importtime`` output."""
    names = set()
    for line in stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip().split(".")[0])
    return names


def test_sync_on_the_seed_list_fills_everything_and_a_second_run_asks_nothing(
    server: FakeArxiv, web: FakeArxiv, catalog_file: Path
) -> None:
    urls = load(catalog_file).filter()
    assert all(p.url.startswith(web.base_url) for p in urls if p.url)

    result = run_cli("sync")
    assert result.returncode == 0, result.stdout + result.stderr
    catalog = load(catalog_file)
    arxiv_papers = [p for p in catalog.papers() if p.arxiv_ids()]
    assert len(arxiv_papers) > 40
    for paper in arxiv_papers:
        assert f"synced  {paper.id}" in result.stdout
        for ident in paper.arxiv_ids():
            assert pdfcache.pdf_problem(pdfcache.arxiv_pdf_path(ident)) is None
    assert "failed" not in result.stdout.replace("0 failed", "")
    assert "kept as links" in result.stdout  # blogs and landing pages of the seed list
    assert "Traceback" not in result.stderr

    server.reset_counters()
    web.reset_counters()
    again = run_cli("sync")
    assert again.returncode == 0, again.stdout + again.stderr
    assert server.total_requests == 0 and web.total_requests == 0
    assert "0 synced" in again.stdout and "(0 requests)" in again.stdout

    shown = run_cli("show", "flashattention", "--json")
    details = json.loads(shown.stdout)
    assert details["abstract"] and details["authors"] and details["published"] and details["categories"]
    assert details["pdf_path"] == str(pdfcache.arxiv_pdf_path("2205.14135"))
    assert server.total_requests == 0  # show reads the cache only


def test_show_json_has_null_pdf_path_before_any_sync() -> None:
    details = json.loads(run_cli("show", "flashattention", "--json").stdout)
    assert details["pdf_path"] is None and details["abstract"] is None


def test_sync_never_imports_torch_or_textual_and_show_not_even_arxiv(server: FakeArxiv) -> None:
    result = run_cli("sync", "flashattention", env={"PYTHONPROFILEIMPORTTIME": "1"})
    assert result.returncode == 0, result.stdout + result.stderr
    modules = imported_modules(result.stderr)
    assert "arxiv" in modules and "requests" in modules  # the check sees imports at all
    assert not modules & {"torch", "textual"}
    shown = run_cli("show", "flashattention", "--json", env={"PYTHONPROFILEIMPORTTIME": "1"})
    assert not imported_modules(shown.stderr) & {"torch", "textual", "arxiv", "requests"}


def test_a_failed_paper_makes_exit_status_1_with_the_reason(server: FakeArxiv) -> None:
    server.drop("2307.08691", times=None)
    result = run_cli("sync", "flashattention", "--no-pdf")
    assert result.returncode == 1
    assert "failed  flashattention" in result.stdout
    assert "failed flashattention: metadata 2307.08691: arXiv's reply has no entry" in result.stdout


# the default patience (READTRACK_BACKOFF 2 s, 4 attempts), which a refused connection must not wait out
NETWORK_DOWN = {"READTRACK_ARXIV_API": "http://127.0.0.1:9/api/query", "READTRACK_ARXIV_DELAY": "0"}


def test_network_down_prints_one_line_at_once_and_writes_nothing(catalog_file: Path) -> None:
    point_urls_at(catalog_file, "http://127.0.0.1:9")  # every host down, not just arXiv
    started = time.monotonic()
    result = run_cli("sync", env=NETWORK_DOWN)
    took = time.monotonic() - started
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "readtrack: cannot reach 127.0.0.1:9: connection refused, 2 attempts; is the network up? "
        "Nothing was changed"
    ]
    assert [p for p in pdf_cache_dir().rglob("*") if p.is_file()] == []
    assert took < 6, f"{took:.1f} s to say the network is down"  # backing off 3 times: 7 s or more


def test_open_with_the_network_down_fails_at_once_and_says_so_once(catalog_file: Path) -> None:
    point_urls_at(catalog_file, "http://no-such-host.invalid")  # a name that never resolves (RFC 2606)
    started = time.monotonic()
    result = run_cli("open", "gpt", env={**NETWORK_DOWN, "READTRACK_OPENER": "true"})
    took = time.monotonic() - started
    assert result.returncode == 1
    output = result.stdout + result.stderr
    assert output.count("unknown host (DNS lookup failed)") == 1, output
    assert result.stderr.startswith(
        "readtrack: could not fetch the PDF of gpt: url http://no-such-host.invalid/"
    )
    assert took < 6, f"{took:.1f} s to say the network is down"


def test_a_403_stops_arxiv_with_a_clear_message(server: FakeArxiv) -> None:
    server.fail("/api/query", "403")
    result = run_cli("sync", "--section", "Development of language models")
    assert result.returncode == 1
    assert "arXiv refused access (HTTP 403" in result.stdout
    assert server.total_requests == 1


def test_one_paper_one_id_and_one_request_are_said_in_the_singular(server: FakeArxiv) -> None:
    result = run_cli("sync", "resnet", "--no-pdf")
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "syncing 1 paper: metadata for 1 arXiv id, 0 downloads"
    assert lines[-1] == "1 synced, 0 already cached, 0 failed (1 request)"


def test_bad_settings_are_one_line_usage_errors(server: FakeArxiv) -> None:
    result = run_cli("sync", env={"READTRACK_TIMEOUT": "fast"})
    assert result.returncode == 2
    assert result.stderr.startswith("readtrack: READTRACK_TIMEOUT must be seconds")


def test_ctrl_c_leaves_only_part_files_and_the_next_sync_resumes(
    server: FakeArxiv, catalog_file: Path
) -> None:
    server.add(FakePaper("1706.03762", pdf_size=2_000_000))
    server.fail("/pdf/", "trickle", delay=0.02, times=1)
    env = {**os.environ, "NO_COLOR": "1"}
    process = subprocess.Popen(
        interruptible("sync", "transformer"),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    part = pdfcache.part_path(pdfcache.arxiv_pdf_path("1706.03762"))
    deadline = time.monotonic() + 30
    while not (part.exists() and part.stat().st_size > 200_000) and time.monotonic() < deadline:
        time.sleep(0.02)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode != 0
    assert "Traceback" not in stderr
    files = sorted(p.name for p in pdf_cache_dir().rglob("*") if p.is_file())
    assert files == ["1706.03762.pdf.part"]
    held = part.stat().st_size

    server.reset_counters()
    result = run_cli("sync", "transformer")
    assert result.returncode == 0, result.stdout + result.stderr
    ranges = [e["headers"].get("Range") for e in server.log if str(e["path"]).startswith("/pdf/")]
    assert ranges == [f"bytes={held}-"]
    assert pdfcache.arxiv_pdf_path("1706.03762").read_bytes() == server.pdf_of("1706.03762")


def test_open_syncs_a_missing_pdf_then_hands_it_to_the_opener(server: FakeArxiv, tmp_path: Path) -> None:
    record = tmp_path / "opened.txt"
    opener = tmp_path / "opener.sh"
    opener.write_text(f'#!/bin/sh\nprintf "%s" "$1" > "{record}"\n')
    opener.chmod(0o755)
    result = run_cli("open", "resnet", env={"READTRACK_OPENER": str(opener)})
    assert result.returncode == 0, result.stdout + result.stderr
    assert record.read_text() == str(pdfcache.arxiv_pdf_path("1512.03385"))
    assert pdfcache.pdf_problem(pdfcache.arxiv_pdf_path("1512.03385")) is None

    server.reset_counters()
    record.unlink()
    assert run_cli("open", "resnet", env={"READTRACK_OPENER": str(opener)}).returncode == 0
    assert record.exists() and server.total_requests == 0


def test_open_a_paper_with_nothing_to_open_is_a_usage_error(server: FakeArxiv) -> None:
    result = run_cli("open", "rf", env={"READTRACK_OPENER": "true"})
    assert result.returncode == 2
    assert "rf has no arXiv id and no url" in result.stderr


def test_open_reports_a_failing_opener(server: FakeArxiv) -> None:
    result = run_cli("open", "resnet", env={"READTRACK_OPENER": "false"})
    assert result.returncode == 1
    assert "could not open" in result.stderr and "READTRACK_OPENER" in result.stderr


def test_doctor_is_clean_after_a_sync_and_flags_damage(server: FakeArxiv) -> None:
    assert run_cli("sync", "flashattention").returncode == 0
    clean = run_cli("doctor")
    assert clean.returncode == 0 and "no problems" in clean.stdout
    damaged = pdfcache.arxiv_pdf_path("2307.08691")
    damaged.write_bytes(damaged.read_bytes()[:1000])
    (pdf_cache_dir() / "notes.txt").write_text("stray")
    result = run_cli("doctor")
    assert result.returncode == 1
    assert "corrupt    2307.08691.pdf" in result.stdout
    assert "orphaned   notes.txt" in result.stdout
    assert "2 problems" in result.stdout


def test_sync_fills_in_the_title_and_year_of_a_paper_added_by_id_and_nothing_else(
    server: FakeArxiv, catalog_file: Path
) -> None:
    server.add(
        FakePaper(
            "2103.14030",
            title="Swin Transformer: Hierarchical Vision Transformer",
            published="2021-03-25T17:59:31Z",
        )
    )
    assert run_cli("add", "2103.14030", "--section", "Vision").returncode == 0
    before = catalog_file.read_text()
    result = run_cli("sync", "arxiv-2103-14030", "--no-pdf")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "filled in the title or year of 1 paper in papers.yaml" in result.stdout
    paper = load(catalog_file).get("arxiv-2103-14030")
    assert (paper.title, paper.year) == ("Swin Transformer: Hierarchical Vision Transformer", 2021)
    diff = difflib.unified_diff(before.splitlines(), catalog_file.read_text().splitlines(), lineterm="", n=0)
    changed = [line for line in diff if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    assert changed == [
        '-        title: "2103.14030"',  # the id was its title until now
        '+        title: "Swin Transformer: Hierarchical Vision Transformer"',
        "+        year: 2021",
    ]
    # a title the user wrote is never replaced
    run_cli("note", "bert", "x")
    assert "filled" not in run_cli("sync", "bert", "--no-pdf").stdout
