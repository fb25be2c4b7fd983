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


def test_a_copy_of_a_built_in_plugin_is_one_plugin_and_a_real_shadowing_is_one_line(
    catalog_file: Path,
) -> None:
    """After `pip install .`, the clone's plugins/ (beside its papers.yaml) was taken as the user's folder:
    every plugin listed twice, half as "shadowed", and `doctor` said nothing. A copy with the same code is
    the same plugin; a changed copy is a real shadowing, one row in `plugins` and one line in `doctor`."""
    import shutil

    import readtrack_plugins

    builtin = Path(next(iter(readtrack_plugins.__path__)))
    user = catalog_file.parent / "plugins"  # beside the active papers.yaml, as in a clone
    shutil.copytree(builtin / "rope", user / "rope", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(builtin / "rmsnorm", user / "rmsnorm", ignore=shutil.ignore_patterns("__pycache__"))
    with (user / "rmsnorm" / "model.py").open("a", encoding="utf-8") as model:
        model.write("\n# my own change\n")

    rows = json.loads(run_cli("plugins", "--json").stdout)
    names = [row["name"] for row in rows]
    assert names.count("rope") == 1 and names.count("rmsnorm") == 2 and len(names) == len(set(names)) + 1
    (shadowed,) = [row for row in rows if row["status"] != "ok"]
    assert shadowed["name"] == "rmsnorm" and shadowed["origin"] == str(user / "rmsnorm")
    assert shadowed["error"].startswith("shadowed by built-in plugin rmsnorm")

    doctor = run_cli("doctor")
    assert doctor.returncode == 1
    lines = [line for line in doctor.stdout.splitlines() if line.startswith("plugin ")]
    assert lines == [f"plugin rmsnorm (user folder, {user / 'rmsnorm'}): {shadowed['error']}"]
    shutil.rmtree(user / "rmsnorm")
    assert run_cli("doctor").returncode == 0


def test_the_plugins_table_has_no_column_blank_on_all_but_one_row() -> None:
    """The `paper` column was blank on every row but schedule-free's (its paper is adamw's): that one says
    so under its name beside its claim, and the column is gone; where the title and claim are left out (80
    columns), under the table, not on a line of the table alone (issue 84: it read as a stray row)."""
    shown = run_cli("plugins", env={"COLUMNS": "80"}).stdout.splitlines()
    header = next(line for line in shown if line.split()[:1] == ["name"])
    assert header.split() == ["name", "devices", "source", "status", "last", "run"]
    assert "schedule-free: paper adamw" in shown
    assert not any(line.split() == ["paper", "adamw"] for line in shown)
    assert all(len(line) <= 80 for line in shown)
    wide = run_cli("plugins", env={"COLUMNS": "200"}).stdout.splitlines()
    at = next(i for i, line in enumerate(wide) if line.split()[:1] == ["schedule-free"])
    assert wide[at + 1].split()[:2] == ["paper", "adamw"] and len(wide[at + 1].split()) > 2  # a claim beside


def test_show_gives_the_venue_an_import_or_arxiv_knows(catalog_file: Path, tmp_path: Path) -> None:
    bib = tmp_path / "library.bib"
    bib.write_text(
        "@article{lecun1998gradient,\n  title = {Gradient-Based Learning Applied to Document Recognition},\n"
        "  author = {LeCun, Yann and Bottou, L{\\'e}on},\n  journal = {Proceedings of the IEEE},\n"
        "  year = {1998}\n}\n",
        encoding="utf-8",
    )
    assert run_cli("import", str(bib), "--section", "Mine").returncode == 0
    (paper,) = [p for p in json.loads(run_cli("list", "--json").stdout) if p["section"] == "Mine"]
    shown = run_cli("show", paper["id"], env={"COLUMNS": "80"}).stdout
    assert "│ venue    Proceedings of the IEEE" in shown
    assert (
        json.loads(run_cli("show", paper["id"], "--json").stdout)["journal_ref"] == "Proceedings of the IEEE"
    )


def test_an_arxiv_id_no_paper_can_have_is_refused_by_add(catalog_file: Path) -> None:
    before = catalog_file.read_text(encoding="utf-8")
    for ident, why in (
        ("9999.99999", "month 99 does not exist"),
        ("https://arxiv.org/abs/2313.00001", "month 13 does not exist"),
        ("0612.0001", "new-style ids begin in April 2007"),
        ("1501.1234", "ids of 1501 have 5 digits after the dot"),
        ("hep-th/9900001", "month 00 does not exist"),
    ):
        added = run_cli("add", ident)
        assert added.returncode == 2, (ident, added.stderr)
        assert added.stderr.strip().startswith(f"readtrack: {ident} is not an arXiv id: {why}")
    assert catalog_file.read_text(encoding="utf-8") == before
    assert run_cli("add", "0704.0001").returncode == 0  # the first new-style id
    assert run_cli("add", "1412.9999").returncode == 0 and run_cli("add", "1501.00001").returncode == 0


def test_a_query_with_nothing_to_search_for_is_refused_not_answered_with_any_20_papers() -> None:
    for query in ("?", "! ?", "*"):
        found = run_cli("search", query)
        assert found.returncode == 2 and found.stdout == "", query
        assert found.stderr.strip() == (
            f'readtrack: nothing to search for in {query!r}: give a word, a "phrase" or a filter '
            "(e.g. tag:attention)"
        )
    assert run_cli("search", "tag:attention").returncode == 0  # filters alone are a query


def test_a_pipe_gets_whole_titles_from_list_and_show() -> None:
    """`readtrack list | grep -i "generative pre"` found nothing: titles were cut at 100 columns in a pipe;
    `show bert | cat` cut the panel's title. In a pipe (no COLUMNS set) nothing is cut; at a terminal's
    width (COLUMNS) titles still give way."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}

    def piped(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "readtrack", *args], capture_output=True, text=True, env=env, timeout=120
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    assert "Improving Language Understanding by Generative Pre-Training" in piped("list")
    title = "BERT: Pre-training of Deep Bidirectional Transformers for Language Understanding"
    assert f"╭─ {title} ─" in piped("show", "bert")
    narrow = run_cli("list", env={"COLUMNS": "80"}).stdout
    assert "Improving Language Understanding by Generative Pre-Training" not in narrow
    assert all(len(line) <= 80 for line in narrow.splitlines())


def test_compare_at_80_columns_shows_what_changed_in_whole_words() -> None:
    """``compare rmsnorm`` at 80 columns split names mid-word ("normalized_sha/pe=32") over 5-7 lines and
    showed every unchanged number; now names wrap between words and unchanged numbers are counted, with
    ``--all`` for them (issue 53)."""
    from made_records import make_record, store

    from readtrack.plugins.records import Comparison

    long_name = "gradients (input, weight) vs nn.RMSNorm, normalized_shape=(7, 32) (float32)"
    for run_id, day, median_s, max_abs in (
        ("aaaa1111-old", "01", 0.010, 3e-7),
        ("bbbb2222-new", "02", 0.020, 5e-7),
    ):
        record = make_record(run_id=run_id, started_at=f"2026-01-{day}T10:00:00+00:00", median_s=median_s)
        record.stages[0].comparisons.append(
            Comparison(long_name, True, "close", max_abs, 1e-7, 1e-5, 1e-4, "float32")
        )
        store(record)
    narrow = {"COLUMNS": "80"}
    shown = run_cli("compare", "toy", env=narrow)
    assert shown.returncode == 0, shown.stderr
    words = shown.stdout.split()
    assert all(word in words for word in long_name.split())  # every word whole, none folded
    assert "normalized_shape=(7," in words and "+10 ms" in shown.stdout and "2.00×" in shown.stdout
    for same in ("out vs ref", "accuracy", "speed-up", "diverged"):  # the same value in both runs
        assert same not in shown.stdout
    assert "4 numbers unchanged (same value, same verdict) not shown" in " ".join(words)
    assert max(len(line) for line in shown.stdout.splitlines()) <= 80
    every = run_cli("compare", "toy", "--all", env=narrow).stdout
    assert "out vs ref" in every and "accuracy" in every and "unchanged" not in every
    assert len(json.loads(run_cli("compare", "toy", "--json").stdout)["deltas"]) == 7
