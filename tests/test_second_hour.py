"""Rough edges a newcomer met in their second hour (issue 53), each through the real CLI in a subprocess."""

from __future__ import annotations

import json
from pathlib import Path

from cli_runner import run_cli


def test_a_list_filter_that_matches_nothing_exits_1_as_search_does() -> None:
    human = run_cli("list", "--tag", "nosuch")
    assert human.returncode == 1 and human.stdout == ""
    assert human.stderr.strip() == "readtrack: no paper matches --tag 'nosuch'"
    as_json = run_cli("list", "--tag", "nosuch", "--status", "read", "--json")
    assert as_json.returncode == 1 and json.loads(as_json.stdout) == []
    assert as_json.stderr.strip() == "readtrack: no paper matches --status 'read' --tag 'nosuch'"
    assert run_cli("search", "nosuchthingxyz").returncode == 1
    assert run_cli("list", "--tag", "attention").returncode == 0


def test_an_id_typed_in_capitals_is_suggested_in_lowercase() -> None:
    shown = run_cli("show", "GPT")
    assert shown.returncode == 2
    assert shown.stderr.strip().startswith(
        "readtrack: no paper with id 'GPT' in papers.yaml (did you mean gpt,"
    )


def test_a_new_papers_id_keeps_its_accented_letters_as_plain_ones(catalog_file: Path) -> None:
    added = run_cli("add", "Schrödinger's Équation über Łódź")
    assert added.returncode == 0, added.stderr
    listed = {p["id"]: p["title"] for p in json.loads(run_cli("list", "--json").stdout)}
    assert listed["schrodingers-equation-uber-lodz"] == "Schrödinger's Équation über Łódź"
