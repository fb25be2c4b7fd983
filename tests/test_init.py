"""A first run opens the bundled sample list and says so; `readtrack init` creates the user's own list
(empty, from a file, or from the sample) and never overwrites one (issue 41, F). Real subprocesses on a
fresh READTRACK_HOME, and the TUI through Pilot."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_runner import run_cli

from readtrack.catalog import SAMPLE_NOTICE, load


@pytest.fixture
def fresh_home(readtrack_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No papers.yaml anywhere: the data dir is empty and so is the working directory."""
    (readtrack_home / "papers.yaml").unlink()
    monkeypatch.delenv("READTRACK_CATALOG")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return readtrack_home


def cli(*args: str) -> tuple[int, str, str]:
    result = run_cli(*args, cwd=Path.cwd())
    return result.returncode, result.stdout, result.stderr


def test_a_first_run_says_the_list_is_the_sample(fresh_home: Path) -> None:
    code, out, err = cli("list")
    assert code == 0 and "Optimization algorithm" in out
    assert err == f"readtrack: {SAMPLE_NOTICE} (--empty, or --from LIST.md)\n"  # was silent
    assert load(fresh_home / "papers.yaml").sample
    assert "sample" not in cli("list", "--json")[2]  # JSON output stays data only


def test_init_empty_keeps_the_sample_aside_and_never_overwrites(fresh_home: Path) -> None:
    cli("list")  # the first run writes the sample list
    sample = (fresh_home / "papers.yaml").read_text()
    code, out, _ = cli("init", "--empty")
    assert code == 0
    assert out.splitlines() == [
        f"kept the sample list as {fresh_home / 'sample-papers.yaml'}",
        f"created {fresh_home / 'papers.yaml'} from empty: 0 papers",
    ]
    assert (fresh_home / "sample-papers.yaml").read_text() == sample
    assert list(load(fresh_home / "papers.yaml").papers()) == []
    assert cli("list")[2] == ""  # the user's own list: no sample notice
    own = (fresh_home / "papers.yaml").read_text()
    code, _, err = cli("init", "--from", str(fresh_home / "sample-papers.yaml"))
    assert code == 2 and "already exists: init never overwrites a list" in err
    assert (fresh_home / "papers.yaml").read_text() == own


def test_init_from_a_markdown_list_or_a_yaml_file_at_catalog(fresh_home: Path, tmp_path: Path) -> None:
    (tmp_path / "mine.md").write_text("- [x] Attention Is All You Need https://arxiv.org/abs/1706.03762\n")
    code, out, _ = cli("--catalog", "mine.yaml", "init", "--from", str(tmp_path / "mine.md"))
    assert (code, out) == (0, "created mine.yaml from mine.md: 1 paper\n")
    (paper,) = load(Path("mine.yaml")).papers()
    assert (paper.title, paper.status, paper.arxiv) == ("Attention Is All You Need", "read", "1706.03762")

    code, out, _ = cli("--catalog", "copy.yaml", "init", "--from", "mine.yaml")
    assert (code, out) == (0, "created copy.yaml from mine.yaml: 1 paper\n")
    Path("bad.yaml").write_text("version: 1\nsections:\n  - name: A\n    papers:\n      - id: a..b\n")
    code, _, err = cli("--catalog", "third.yaml", "init", "--from", "bad.yaml")
    assert code == 2 and err.startswith("readtrack: bad.yaml:5:13: paper 'a..b'")
    assert not Path("third.yaml").exists()
    assert not (fresh_home / "papers.yaml").exists()  # nothing written where it was not asked


def test_add_to_a_new_catalog_file_creates_it(fresh_home: Path) -> None:
    code, out, err = cli("--catalog", "new.yaml", "add", "Some Paper")  # was: "new.yaml: no such file"
    assert (code, out) == (0, "added some-paper to Inbox\n"), err
    assert [p.id for p in load(Path("new.yaml")).papers()] == ["some-paper"]
