"""What a user sees of papers.yaml's validation through the real CLI: where a problem is, every problem at
once, and lists that would cost gigabytes to read (an alias bomb) refused before anything is cached."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from cli_runner import run_cli

from readtrack.base.errors import CatalogError
from readtrack.plugins import links

HEAD = "version: 1\nsections:\n  - name: A\n    papers:\n"


def alias_bomb(aliases: int) -> str:
    """One 100 KB title anchored once and aliased ``aliases`` times (issue 46, #4)."""
    items = "".join(f"      - id: p{i}\n        title: *t\n" for i in range(aliases))
    return HEAD + f"      - id: p\n        title: &t {'x' * 100_000}\n" + items


def test_an_unclosed_quote_names_its_line_and_the_path_as_given(tmp_path: Path) -> None:
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "papers.yaml").write_text(
        HEAD + '      - id: a\n        title: T\n        notes: "never closed\n'
        "      - id: b\n        title: U\n\n\n\n"
    )
    result = run_cli("--catalog", "bad/papers.yaml", "list", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == (
        "readtrack: bad/papers.yaml:7:16: found unexpected end of stream at line 13, column 1,"
        " while scanning a quoted scalar started here\n"
    )


def test_every_problem_of_the_file_in_one_run(tmp_path: Path) -> None:
    (tmp_path / "papers.yaml").write_text(
        HEAD + "      - id: a..b\n        status: done\n      - id: c\n        tags: [ok, two words]\n"
        "      - id: c\n        arxiv: nope\n"
    )
    result = run_cli("--catalog", "papers.yaml", "list", cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert lines[0] == "readtrack: 5 problems in papers.yaml:"
    assert [line.split(": ", 1)[0] for line in lines[1:]] == [
        "papers.yaml:5:13",  # a..b: not a safe file name
        "papers.yaml:6:17",  # unknown status
        "papers.yaml:8:20",  # a tag of two words
        "papers.yaml:9:13",  # duplicate id
        "papers.yaml:10:16",  # malformed arXiv id
    ]


def test_an_alias_bomb_is_refused_at_once_and_nothing_is_cached(tmp_path: Path, readtrack_home: Path) -> None:
    path = tmp_path / "papers.yaml"
    path.write_text(alias_bomb(2_000))
    started = time.perf_counter()
    with pytest.raises(CatalogError) as err:
        links.load(path)
    assert time.perf_counter() - started < 0.5  # was 3.9 s and 813 MB
    assert f"{path}:8:16: YAML aliases (*t) are not allowed" in str(err.value)
    assert not list(readtrack_home.glob("cache/catalog-*"))


def test_twenty_thousand_aliases_are_one_line_and_exit_2(tmp_path: Path, readtrack_home: Path) -> None:
    (tmp_path / "papers.yaml").write_text(alias_bomb(20_000))
    result = run_cli("--catalog", "papers.yaml", "list", cwd=tmp_path)  # was a MemoryError traceback
    assert result.returncode == 2
    assert result.stderr.startswith("readtrack: papers.yaml:8:16: YAML aliases (*t) are not allowed")
    assert len(result.stderr.splitlines()) == 1
    assert not list(readtrack_home.glob("cache/catalog-*"))


def test_an_anchor_word_in_a_title_is_no_alias(tmp_path: Path) -> None:
    path = tmp_path / "papers.yaml"
    path.write_text(HEAD + "      - id: a\n        title: Q&A & *stars* R&D\n")
    assert links.load(path).get("a").title == "Q&A & *stars* R&D"


def test_removing_a_tag_the_paper_lacks_is_said(catalog_file: Path) -> None:
    before = catalog_file.read_text()
    result = run_cli("tag", "bert", "-foo")
    assert result.returncode == 1  # nothing changed: was exit 0 and silence
    assert result.stderr == "readtrack: bert has no tag 'foo': nothing to remove\n"
    assert catalog_file.read_text() == before
    result = run_cli("tag", "bert", "-foo", "+🚀")
    assert result.returncode == 0, result.stderr
    assert result.stderr == "readtrack: bert has no tag 'foo': nothing to remove\n"
    assert links.load(catalog_file).get("bert").tags[-1] == "🚀"  # emoji: accepted, as in the file


@pytest.mark.parametrize("bad", ["+x\x1by", "+two words", "+a,b"])
def test_the_tag_command_refuses_what_the_file_refuses(catalog_file: Path, bad: str) -> None:
    before = catalog_file.read_text()
    result = run_cli("tag", "bert", bad)
    assert result.returncode == 2
    assert result.stderr.startswith("readtrack: ")
    assert "bad tag" in result.stderr or "control character" in result.stderr
    assert catalog_file.read_text() == before


@pytest.mark.parametrize("text", ["Bad\x1b[31m title", "Two\nlines", "del\x7f", "c1\x9b2J"])
def test_add_refuses_control_characters(catalog_file: Path, text: str) -> None:
    before = catalog_file.read_bytes()
    result = run_cli("add", text)  # was added, escape sequence and all
    assert result.returncode == 2
    assert result.stderr.startswith("readtrack: the text to add holds a control character")
    assert catalog_file.read_bytes() == before
