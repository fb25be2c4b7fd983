"""Importing a list that names papers already in papers.yaml: what it adds to them is merged (tags, code
links, notes) in one edit that touches only those lines, and every status that differs is reported, never
applied (issue 41, C). Through the real CLI."""

from __future__ import annotations

import difflib
from pathlib import Path

from cli_runner import run_cli

from readtrack.plugins.links import load

LIST = """\
# My list

## Language

- [/] BERT: Pre-training of Deep Bidirectional Transformers for Language Understanding \
https://arxiv.org/abs/1810.04805 [[Code]](https://github.com/google-research/bert)
- Transformers
  - [x] Attention Is All You Need https://arxiv.org/abs/1706.03762
    Read it twice.
"""

REPORT = [
    "skipped 2 duplicates already in the list as: bert, transformer",
    '  list.md:5 "BERT: Pre-training of Deep Bidirectional Transfor…" is bert (papers.yaml:56): '
    "same arXiv id 1810.04805",
    '  list.md:7 "Attention Is All You Need" is transformer (papers.yaml:32): same arXiv id 1706.03762',
    "2 papers already there get what the list adds (only those lines change):",
    "  bert: code https://github.com/google-research/bert",
    "  transformer: tags transformers; notes",
    "1 status differs from papers.yaml, left as they are:",
    '  list.md:5 "BERT: Pre-training of Deep Bidirectional Transfor…" says reading; bert (papers.yaml:56) '
    "is todo (kept; `readtrack mark` changes it)",
]


def changed(before: str, after: str) -> list[str]:
    diff = difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
    return [line for line in diff if line[:1] in "+-" and not line.startswith(("+++", "---"))]


def test_import_merges_what_the_list_adds_and_reports_each_status(catalog_file: Path, tmp_path: Path) -> None:
    source = tmp_path / "list.md"
    source.write_text(LIST)
    before = catalog_file.read_text()
    dry = run_cli("import", str(source), "--dry-run", cwd=catalog_file.parent)
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.splitlines() == ["would add 0 papers to papers.yaml; dry run, nothing written", *REPORT]
    assert catalog_file.read_text() == before

    real = run_cli("import", str(source), cwd=catalog_file.parent)
    # was: 2 skipped, nothing more
    assert real.stdout.splitlines() == ["added 0 papers to papers.yaml", *REPORT]
    assert changed(before, catalog_file.read_text()) == [
        "-        tags: [attention]",
        "+        tags: [attention, transformers]",
        "+        notes: Read it twice.",
        "+            code: [https://github.com/google-research/bert]",
    ]
    catalog = load(catalog_file)
    assert catalog.get("bert").status == "todo"  # the list's [/] is reported, not applied
    assert catalog.get("bert").code == ["https://github.com/google-research/bert"]

    again = run_cli("import", str(source), cwd=catalog_file.parent).stdout
    assert "get what the list adds" not in again and "1 status differs" in again  # merged once


def test_an_item_without_a_checkbox_states_no_status(catalog_file: Path, tmp_path: Path) -> None:
    from readtrack.formats.importer import import_markdown

    source = tmp_path / "plain.md"
    source.write_text("- Attention Is All You Need https://arxiv.org/abs/1706.03762\n")  # transformer: read
    report = import_markdown(catalog_file, source, dry_run=True)
    assert [m.existing_id for m in report.skipped] == ["transformer"]
    assert report.status_differs == []
