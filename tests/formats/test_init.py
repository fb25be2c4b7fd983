"""A first run opens the bundled sample list and says so; `readtrack init` creates the user's own list
(empty, from a file, or from the sample) and never overwrites one (issue 41, F). Real subprocesses on a
fresh READTRACK_HOME, and the TUI through Pilot."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_runner import run_cli

from readtrack.base.paths import SAMPLE_HEADER, SAMPLE_NOTICE
from readtrack.plugins.links import load


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


def test_init_makes_the_sample_you_have_been_editing_your_own(fresh_home: Path) -> None:
    """Issue 53: marks, notes and papers added to the sample were set aside by ``init``, which made a fresh
    copy of the bundled sample; now the edited sample becomes the user's list in place, every edit kept."""
    assert cli("mark", "gpt", "read")[0] == 0
    assert cli("note", "bert", "masked LM: read section 3 again")[0] == 0
    assert cli("add", "Some Paper Of Mine")[0] == 0
    before = (fresh_home / "papers.yaml").read_text()
    assert before.startswith(SAMPLE_HEADER)

    code, out, err = cli("init")
    assert code == 0, err
    assert out == (
        f"made {fresh_home / 'papers.yaml'} your own list: 71 papers (3 you marked, noted or added), "
        "no longer the sample\n"
    )
    assert (fresh_home / "papers.yaml").read_text() == before[len(SAMPLE_HEADER) :]  # only the header went
    assert not (fresh_home / "sample-papers.yaml").exists()
    mine = load(fresh_home / "papers.yaml")
    assert not mine.sample and cli("list")[2] == ""
    papers = {p.id: p for p in mine.papers()}
    assert papers["gpt"].status == "read" and "section 3" in (papers["bert"].notes or "")
    assert "some-paper-mine" in papers
    code, _, err = cli("init")
    assert code == 2 and "already exists: init never overwrites a list" in err


def test_init_empty_says_the_sample_it_keeps_aside_holds_your_edits(fresh_home: Path) -> None:
    cli("mark", "gpt", "read")
    code, out, _ = cli("init", "--empty")
    assert code == 0
    assert out.splitlines()[0] == (
        f"kept the sample list, with your 1 paper edited, as {fresh_home / 'sample-papers.yaml'}"
    )
    kept = {p.id: p for p in load(fresh_home / "sample-papers.yaml").papers()}
    assert kept["gpt"].status == "read"


def test_init_copies_the_papers_yaml_of_the_working_folder_and_says_which_file_is_used(
    fresh_home: Path,
) -> None:
    """A ./papers.yaml is the list a person edits in that folder: ``init`` starts from it, and says that
    readtrack still uses it there."""
    Path("papers.yaml").write_text(
        "version: 1\nsections:\n  - name: Mine\n    papers:\n"
        "      - id: a\n        title: A\n        status: read\n"
    )
    code, out, err = cli("init")
    assert code == 0, err
    here = Path.cwd() / "papers.yaml"
    assert out.splitlines() == [
        f"created {fresh_home / 'papers.yaml'} from {here}: 1 paper",
        f"in this folder readtrack still uses {here} (a ./papers.yaml wins; --catalog chooses)",
    ]
    assert (fresh_home / "papers.yaml").read_text() == here.read_text()


def test_in_the_clone_readtrack_uses_the_top_level_papers_yaml(fresh_home: Path, tmp_path: Path) -> None:
    """The clone is the reader's lab kept in git: run there, readtrack works on the root papers.yaml (one
    changed line for a ``mark``), creates no copy in the data dir, and ``init`` starts the data dir's list
    from the list as edited (a copy of the clone's root, so the test leaves the real one alone)."""
    repo = Path(__file__).resolve().parents[2]
    clone = tmp_path / "clone"
    clone.mkdir()
    before = (repo / "papers.yaml").read_text(encoding="utf-8")
    (clone / "papers.yaml").write_text(before, encoding="utf-8")
    result = run_cli("mark", "gpt", "read", cwd=clone)
    assert result.returncode == 0, result.stderr
    after = (clone / "papers.yaml").read_text(encoding="utf-8")
    changed = [(a, b) for a, b in zip(before.splitlines(), after.splitlines(), strict=True) if a != b]
    assert len(changed) == 1 and changed[0][1].strip() == "status: read", changed
    assert not (fresh_home / "papers.yaml").exists()
    result = run_cli("init", cwd=clone)
    assert result.returncode == 0, result.stderr
    assert (fresh_home / "papers.yaml").read_text(encoding="utf-8") == after
