"""A newcomer's first hour with the CLI, in real subprocesses on a fresh READTRACK_HOME.

list → show → plugins → explain, then mark → note → tag, then add → search → history, and the mistakes a
newcomer makes on the way: each step's output and exit code as the user sees them, and papers.yaml changed
only where the user asked. The papers are read from `list --json`, so the journeys hold whatever sample list
the first run writes.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from cli_runner import run_cli

from readtrack.catalog.model import Paper
from readtrack.plugins.links import load


@pytest.fixture
def fresh_home(readtrack_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty READTRACK_HOME and no --catalog: the working directory (a new folder) has no papers.yaml."""
    (readtrack_home / "papers.yaml").unlink()
    monkeypatch.delenv("READTRACK_CATALOG")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return readtrack_home


def cli(*args: str, code: int = 0) -> str:
    """Run ``readtrack ARGS`` in the current folder; its stdout, once the exit code is ``code``."""
    result = run_cli(*args, cwd=Path.cwd(), process=True)  # a newcomer's hour: every command its own process
    assert result.returncode == code, f"readtrack {' '.join(args)}: {result.returncode}\n{result.stderr}"
    return result.stdout if code == 0 else result.stderr


def first_papers(home: Path) -> tuple[list[dict[str, object]], Path]:
    """`list --json` on the fresh home: every paper, and the papers.yaml the first run wrote."""
    papers = json.loads(cli("list", "--json"))
    catalog = home / "papers.yaml"
    assert catalog.exists(), "the first run writes the sample list into the data dir"
    return papers, catalog


def block(text: str, paper_id: str) -> tuple[str, str]:
    """(the paper's entry in papers.yaml, the rest of the file) to check that an edit stayed inside it."""
    lines = text.splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if re.match(rf"\s*- id: {re.escape(paper_id)}\s*$", line))
    indent = len(lines[start]) - len(lines[start].lstrip())

    def inside(line: str) -> bool:  # blank, or indented deeper than the entry's "- id:"
        return not line.strip() or len(line) - len(line.lstrip()) > indent

    end = start + 1
    while end < len(lines) and inside(lines[end]):
        end += 1
    while end > start + 1 and not lines[end - 1].strip():  # a blank line before the next section is not ours
        end -= 1
    return "".join(lines[start:end]), "".join(lines[:start] + lines[end:])


def test_first_look_list_show_plugins_explain(fresh_home: Path) -> None:
    papers, catalog = first_papers(fresh_home)
    assert papers and all({"id", "title", "section", "status"} <= set(p) for p in papers)
    first = next(p for p in papers if p.get("plugins"))
    listed = cli("list")
    assert str(first["title"])[:30] in listed and str(first["section"]) in listed

    shown = cli("show", str(first["id"]))
    assert str(first["title"])[:40] in shown and f"id       {first['id']}" in shown

    plugin = str(first["plugins"][0])  # type: ignore[index]
    plugins = cli("plugins")
    assert re.search(rf"^\s*{re.escape(plugin)}\s.*built-in\s+ok", plugins, re.M), plugins

    explained = cli("explain", plugin)
    assert "Claim." in explained and f"plugin {plugin} (built-in)" in explained
    assert load(catalog).get(str(first["id"])).title == first["title"]  # looking changed nothing


def test_marking_notes_and_tags_change_only_that_papers_entry(fresh_home: Path) -> None:
    papers, catalog = first_papers(fresh_home)
    todo = next(p for p in papers if p["status"] == "todo")
    paper_id = str(todo["id"])
    before = catalog.read_text()

    assert cli("mark", paper_id, "reading").strip() == f"◐ {paper_id}: reading"
    assert cli("note", paper_id, "Read section 3 twice: the proof of Lemma 2").strip() == (
        f"notes of {paper_id} saved"
    )
    assert cli("tag", paper_id, "+later").strip().endswith("later")

    after = catalog.read_text()
    entry_before, rest_before = block(before, paper_id)
    entry_after, rest_after = block(after, paper_id)
    assert rest_after == rest_before  # nothing else in the file moved
    assert entry_after != entry_before
    paper: Paper = load(catalog).get(paper_id)
    assert paper.status == "reading"
    assert paper.notes == "Read section 3 twice: the proof of Lemma 2"
    assert paper.tags == [*todo.get("tags", []), "later"]  # type: ignore[misc]


def test_add_search_history_and_a_newcomers_mistakes(fresh_home: Path) -> None:
    papers, catalog = first_papers(fresh_home)
    before = catalog.read_text()

    said = cli("add", "Quorbix Networks for Tiny Tables").strip()
    added = re.fullmatch(r"added (quorbix\S*) to Inbox", said)
    assert added, "add says what it added, and where (Inbox by default)"
    new_id = added.group(1)
    after = catalog.read_text()
    assert after.startswith(before.rstrip("\n"))  # appended: the old list is untouched
    assert "Quorbix Networks for Tiny Tables" in after[len(before.rstrip("\n")) :]

    found = cli("search", "quorbix")
    assert new_id in found and "title" in found

    assert "no runs recorded yet" in cli("history")

    # The mistakes: one line each, exit 2, and the file as it was.
    assert cli("mark", "no-such-paper", "read", code=2).strip() == (
        "readtrack: no paper with id 'no-such-paper' in papers.yaml (see `readtrack list`)"
    )
    said = cli("mark", new_id, "done", code=2).strip()
    assert said.startswith("readtrack: unknown status 'done'") and "\n" not in said
    assert catalog.read_text() == after
    assert load(catalog).get(new_id).status == "todo"
    assert len(list(load(catalog).papers())) == len(papers) + 1
