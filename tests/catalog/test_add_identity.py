"""`add` (and the TUI's `a`, and import) never lists a paper twice: import's identity rule, by arXiv id,
DOI or title, lives in the core (issue 41, B); `sync --resolve` never writes an id another entry has."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_runner import run_cli
from fakearxiv import FakeArxiv, FakePaper, serving

from readtrack.arxiv.sync import SyncOptions, sync
from readtrack.base.errors import AlreadyListed
from readtrack.catalog import edits, metadata
from readtrack.catalog.new_paper import NewPaper
from readtrack.plugins.links import load

LORA = "LoRA: Low-Rank Adaptation of Large Language Models"


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeArxiv]:
    with serving(monkeypatch) as fake:
        yield fake


@pytest.mark.parametrize(
    ("what", "owner"),
    [
        ("Attention Is All You Need", "transformer"),
        ("deep residual learning for image recognition.", "resnet"),  # case and punctuation aside
    ],
)
def test_add_by_title_refuses_a_paper_the_list_has(catalog_file: Path, what: str, owner: str) -> None:
    before = catalog_file.read_bytes()
    result = run_cli("add", what)
    assert result.returncode == 1  # was 0, and a second entry
    assert result.stderr == f'readtrack: "{what}" is already in the list as {owner!r} (same title)\n'
    assert catalog_file.read_bytes() == before


def test_add_by_id_refuses_a_listed_id_with_exit_1(catalog_file: Path) -> None:
    before = catalog_file.read_bytes()
    result = run_cli("add", "arXiv:1711.05101v3", "--section", "Vision")
    assert (result.returncode, result.stderr) == (
        1,
        "readtrack: arXiv 1711.05101v3 is already in the list as 'adamw'\n",
    )
    assert catalog_file.read_bytes() == before


def test_an_id_is_its_title_until_sync_and_a_synced_title_is_known(catalog_file: Path) -> None:
    assert run_cli("add", "2106.09685").returncode == 0
    paper = json.loads(run_cli("show", "arxiv-2106-09685", "--json").stdout)
    assert paper["title"] == "2106.09685"  # was "": an empty title in the list and the TUI
    # once synced, LoRA's title is known offline: adding it by title is adding it again
    metadata.save([metadata.ArxivRecord("2106.09685", "v2", LORA)])
    before = catalog_file.read_bytes()
    result = run_cli("add", LORA)
    assert result.returncode == 1
    assert (
        result.stderr == f"readtrack: \"{LORA}\" is already in the list as 'arxiv-2106-09685' (same title)\n"
    )
    assert catalog_file.read_bytes() == before


def test_the_rule_is_the_cores_so_every_face_gets_it(catalog_file: Path) -> None:
    with pytest.raises(AlreadyListed) as err:  # what the TUI's `a` calls
        edits.add_papers(
            catalog_file, "Inbox", [edits.parse_entry("Deep Residual Learning for Image Recognition")]
        )
    assert err.value.existing_id == "resnet"
    # a paper of the same title but another year is another paper
    edits.add_papers(catalog_file, "Inbox", [NewPaper(title="Attention Is All You Need", year=1999)])


def test_sync_fills_the_title_of_a_paper_added_by_id(server: FakeArxiv, catalog_file: Path) -> None:
    server.add(FakePaper("2106.09685", title=LORA, published="2021-06-17T17:37:18Z"))
    assert run_cli("add", "2106.09685").returncode == 0
    result = run_cli("sync", "arxiv-2106-09685", "--no-pdf")
    assert result.returncode == 0, result.stdout + result.stderr
    paper = load(catalog_file).get("arxiv-2106-09685")
    assert (paper.title, paper.year) == (LORA, 2021)


def test_resolve_never_writes_an_id_another_entry_has(server: FakeArxiv, tmp_path: Path) -> None:
    server.add(FakePaper("2106.09685", title=LORA))
    path = tmp_path / "papers.yaml"
    path.write_text(
        "version: 1\nsections:\n  - name: A\n    papers:\n"
        '      - id: by-id\n        title: "2106.09685"\n        arxiv: "2106.09685"\n'
        f'      - id: by-title\n        title: "{LORA}"\n'
    )
    before = path.read_text()
    report = sync(load(path), ["by-title"], options=SyncOptions.from_env(resolve=True, pdf=False))
    assert path.read_text() == before  # was: by-title got arxiv 2106.09685 too
    assert [(r.target, r.outcome) for r in report.resolved] == [("by-title", "unresolved")]
    assert "arXiv 2106.09685 is already in the list as 'by-id'" in report.resolved[0].detail
