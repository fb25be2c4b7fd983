"""The readtrack CLI through a real subprocess: output, exit codes, one-line errors, light imports."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cli_runner import run_cli


def test_list_shows_sections_glyphs_and_titles(catalog_file: Path) -> None:
    result = run_cli("list", "--section", "Normalization and Regularization")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "Normalization and Regularization  0/9" in lines[1]
    assert (
        lines[2].startswith("☐  batchnorm") and "Batch Normalization" in lines[2] and "1502.03167" in lines[2]
    )
    rms = next(line for line in lines if line.startswith("☐  rmsnorm"))
    assert "Root Mean Square Layer Normalization" in rms and "1910.07467" in rms


def test_list_json_has_every_paper_flattened(catalog_file: Path) -> None:
    result = run_cli("list", "--json")
    papers = json.loads(result.stdout)
    assert len(papers) == 70
    keys = {"id", "title", "section", "status", "arxiv", "url", "year", "tags", "plugins"}
    assert all(keys <= set(p) for p in papers)
    deepdream = next(p for p in papers if p["id"] == "deepdream")
    assert deepdream["parent"] == "visualizing-cnns" and deepdream["section"] == "Vision"


def test_list_filters(catalog_file: Path) -> None:
    ids = [
        p["id"]
        for p in json.loads(run_cli("list", "--json", "--status", "read", "--tag", "attention").stdout)
    ]
    assert ids == ["transformer", "attention"]
    ids = [p["id"] for p in json.loads(run_cli("list", "--json", "--search", "root mean square").stdout)]
    assert ids == ["rmsnorm"]


def test_show_json(catalog_file: Path) -> None:
    paper = json.loads(run_cli("show", "flashattention", "--json").stdout)
    assert paper["arxiv"] == "2205.14135"
    assert paper["related"] == ["2307.08691", "2407.08608"]
    assert paper["plugins"] == ["flashattention"]
    assert paper["pdf_path"] is None


def test_mark_note_tag_add_persist(catalog_file: Path) -> None:
    assert run_cli("mark", "transformer-xl", "read").returncode == 0
    assert run_cli("note", "transformer-xl", "segment recurrence + relative positions").returncode == 0
    assert run_cli("tag", "transformer-xl", "+memory", "-long-context").returncode == 0
    result = run_cli("add", "2103.14030", "--section", "Vision")
    assert result.returncode == 0 and "added arxiv-2103-14030" in result.stdout
    paper = json.loads(run_cli("show", "transformer-xl", "--json").stdout)
    assert (paper["status"], paper["notes"], paper["tags"]) == (
        "read",
        "segment recurrence + relative positions",
        ["memory"],
    )
    assert json.loads(run_cli("show", "arxiv-2103-14030", "--json").stdout)["section"] == "Vision"
    duplicate = run_cli("add", "https://arxiv.org/abs/2103.14030")
    assert duplicate.returncode == 1 and "already in the list as 'arxiv-2103-14030'" in duplicate.stderr


def test_add_refuses_a_paper_already_in_the_list_and_leaves_the_file(catalog_file: Path) -> None:
    before = catalog_file.read_bytes()
    result = run_cli("add", "arXiv:1711.05101v3", "--section", "Vision")
    assert result.returncode == 1
    assert result.stderr == "readtrack: arXiv 1711.05101v3 is already in the list as 'adamw'\n"
    assert catalog_file.read_bytes() == before


def test_note_without_text_opens_the_editor(catalog_file: Path, tmp_path: Path) -> None:
    editor = tmp_path / "editor.sh"
    editor.write_text("#!/bin/sh\nprintf 'written in the editor\\n' > \"$1\"\n")
    editor.chmod(0o755)
    result = run_cli("note", "bert", env={"EDITOR": str(editor), "VISUAL": ""})
    assert result.returncode == 0, result.stderr
    assert json.loads(run_cli("show", "bert", "--json").stdout)["notes"] == "written in the editor"


def test_stats(catalog_file: Path) -> None:
    result = run_cli("stats")
    assert result.returncode == 0
    assert "Optimization algorithm" in result.stdout and "4/70" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("show", "zzz"), "readtrack: no paper with id 'zzz' in papers.yaml (see `readtrack list`)"),
        (
            ("mark", "bert", "done"),
            "readtrack: unknown status 'done' (use one of todo, reading, read, skipped)",
        ),
        (("list", "--section", "Poetry"), "readtrack: no section 'Poetry' in papers.yaml (sections: "),
    ],
)
def test_user_errors_are_one_line_and_exit_2(catalog_file: Path, args: tuple[str, ...], message: str) -> None:
    result = run_cli(*args)
    assert result.returncode == 2
    assert result.stderr.startswith(message)
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_malformed_yaml_names_file_line_and_column_and_loses_nothing(catalog_file: Path) -> None:
    text = catalog_file.read_text().replace("status: todo", "status: [todo", 1)
    catalog_file.write_text(text)
    result = run_cli("mark", "bert", "read", cwd=catalog_file.parent)  # shown relative to the cwd
    assert result.returncode == 2
    assert result.stderr.startswith("readtrack: papers.yaml:")
    line, col = result.stderr.split(":")[2:4]
    assert line.isdigit() and col.isdigit()
    assert catalog_file.read_text() == text


def test_debug_shows_the_traceback(catalog_file: Path) -> None:
    result = run_cli("--debug", "show", "nope")
    assert result.returncode != 0 and "Traceback" in result.stderr


def test_catalog_option_and_default_locations(tmp_path: Path, catalog_file: Path) -> None:
    other = tmp_path / "other.yaml"
    other.write_text(
        "version: 1\nsections:\n  - name: Mine\n    papers:\n      - id: only\n        title: Only\n"
    )
    assert [p["id"] for p in json.loads(run_cli("--catalog", str(other), "list", "--json").stdout)] == [
        "only"
    ]
    # without --catalog or READTRACK_CATALOG: ./papers.yaml when present ...
    env = {k: v for k, v in os.environ.items() if k != "READTRACK_CATALOG"}
    cwd = tmp_path / "project"
    cwd.mkdir()
    (cwd / "papers.yaml").write_text(other.read_text())
    result = subprocess.run(
        [sys.executable, "-m", "readtrack", "list", "--json"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
    )
    assert [p["id"] for p in json.loads(result.stdout)] == ["only"]
    # ... else the user's copy in the data dir, created from the bundled list
    empty = tmp_path / "empty"
    empty.mkdir()
    home = tmp_path / "home2"
    result = subprocess.run(
        [sys.executable, "-m", "readtrack", "list", "--json"],
        cwd=empty,
        env={**env, "READTRACK_HOME": str(home)},
        capture_output=True,
        text=True,
    )
    assert len(json.loads(result.stdout)) == 70
    assert (home / "papers.yaml").exists()


# The readtrack modules each light command may import (issue 87: `readtrack list` had come to import the
# citation graph, the batch runner's faces and yaml before it drew a line). A module beyond its list fails
# the test below: import it inside the command that uses it, or add it here when the command needs it.


def _modules(names: str) -> set[str]:
    """``"base.paths cli"`` -> ``{"readtrack.base.paths", "readtrack.cli"}``."""
    return {f"readtrack.{name}" for name in names.split()}


# any command: the entry point, the app and its error mapping
START = {"readtrack"} | _modules(
    "base base.errors base.paths base.pyast base.safe_text base.system_errors base.version base.words "
    "catalog catalog.arxivid catalog.model cli cli.app cli.exits cli.launch cli.registry cli.replay render"
)
# a command that only reads, kept for a replay (`readtrack.cli.replay`): its inputs' stamps and the entry
KEPT = _modules("base.atomic base.digest base.quickcache plugins.folders")
# the list read (its cached model) and linked to the plugins
READ = START | _modules(
    "base.atomic base.digest base.quickcache catalog.keys catalog.reader plugins plugins.folders "
    "plugins.links render.papers"
)
# one edit of papers.yaml, in place
EDIT = START | _modules(
    "base.atomic base.digest base.quickcache base.writelock catalog.edits catalog.keys catalog.reader "
    "catalog.new_paper catalog.yamlsplice"
)
# a paper's stored metadata and PDF, beside the list
SHOW = READ | _modules("base.store catalog.metadata catalog.pdfcache catalog.stored render.details")
# the newest runs of a paper's plugins
RUNS = _modules(
    "base.store history history.run_times history.runs history.spread plugins.knobs "
    "plugins.markers plugins.records"
)
# `readtrack.cli.plugins`' commands: the module, and the batch and calibration faces it imports at the top
PLUGIN_COMMANDS = START | KEPT | _modules("cli.authoring cli.batches cli.options cli.plugins")
# the run history's entries, multi-seed runs and sweeps, as tables
HISTORY = (
    PLUGIN_COMMANDS
    | RUNS
    | _modules(
        "history.comparison history.machines history.sweeps plugins plugins.events render.cells "
        "render.headline render.runs "
        "render.tables runner runner.devices runner.precision"
    )
)
# one plugin imported, its declaration (`readtrack.api`, which a plugin's __init__ imports) and its Config
DECLARED = _modules(
    "api plugins plugins.declaration plugins.discovery plugins.events plugins.hookspecs plugins.knobs "
    "plugins.lineages plugins.markers plugins.records practice practice.declared practice.workspace runner "
    "runner.bench "
    "runner.context runner.devices runner.precision"
)
# every plugin, its calibration's state (fingerprints of its code) and its page's first line
PLUGINS = (
    HISTORY
    | DECLARED
    | _modules("history.calibration history.calibration_state history.fingerprint plugin_kit plugins.pages")
)
# the citation graph from its cache: no HTTP library until a request is made
RELATED = (
    READ
    | KEPT
    | _modules("base.store catalog.arxivid cli.related related related.cache related.graph related.s2 "
               "related.suggested catalog.new_paper render.related")
)  # fmt: skip
SEARCH = READ | _modules(
    "arxiv arxiv.pdftext base.store catalog.metadata catalog.pdfcache render.search search search.edits "
    "search.index search.query"
)
LIGHT_COMMANDS: dict[tuple[str, ...], set[str]] = {
    ("--help",): START,
    ("--version",): START,
    ("list",): READ,
    ("list", "--json"): READ,
    ("show", "coqui-tts"): SHOW,  # no plugin: no run history
    ("show", "bert"): SHOW | RUNS,
    ("mark", "bert", "reading"): EDIT,
    ("note", "bert", "x"): EDIT,
    ("tag", "bert", "+x"): EDIT,
    # was it a paper `readtrack next` suggested?
    ("add", "Some title"): EDIT
    | _modules("base.store catalog.identity related related.cache related.suggested"),
    ("stats",): READ
    | RUNS
    | _modules(
        "history.coverage plugins.declaration plugins.events practice practice.declared practice.text "
        "practice.workspace"
    ),
    # the index is built on this first search: the plugin pages too, torch-free
    ("search", "attention"): SEARCH,
    ("search", "status:read", "--json"): SEARCH,
    ("history",): HISTORY | _modules("history.resume"),
    ("compare", "rmsnorm"): HISTORY,
    ("knobs", "rmsnorm"): PLUGIN_COMMANDS | DECLARED | _modules("render.knobs render.tables"),
    ("plugins",): PLUGINS,
    ("feed", "--help"): START | _modules("cli.feed"),
    ("doctor",): PLUGINS
    | _modules(
        "base.processes batch batch.executor batch.groups batch.identity batch.pool batch.ray_executor "
        "batch.request catalog.keys catalog.pdfcache catalog.reader cli.doctor plugins.links related "
        "related.cache related.s2 render.papers"
    ),
}
#: the commands of `readtrack.cli.related`, each on a cache that answers all it asks
RELATED_COMMANDS = [("refs", "bert"), ("cites", "bert"), ("next",)]


def imported_by(args: tuple[str, ...]) -> list[str]:
    """The readtrack modules `readtrack ARGS` imported, in a fresh interpreter (it must exit 0 and import no
    torch, Textual, arxiv, requests or Ray)."""
    probe = (
        "import sys, runpy\n"
        f"sys.argv = ['readtrack', *{list(args)!r}]\n"
        "try:\n    runpy.run_module('readtrack', run_name='__main__')\n"
        "except SystemExit as e:\n    assert not e.code, e.code\n"
        "heavy = sorted(m for m in ('torch', 'textual', 'arxiv', 'requests', 'ray') if m in sys.modules)\n"
        "print('HEAVY', heavy, file=sys.stderr)\n"
        "ours = sorted(m for m in sys.modules if m.split('.')[0] == 'readtrack')\n"
        "print('READTRACK', *ours, file=sys.stderr)\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=os.environ)
    assert "HEAVY []" in result.stderr, result.stderr
    imported = next(line for line in result.stderr.splitlines() if line.startswith("READTRACK ")).split()[1:]
    assert "readtrack.cli.app" in imported  # the probe saw the command run
    return imported


def beyond_allowed(args: tuple[str, ...], allowed: set[str]) -> list[str]:
    """What `readtrack ARGS` imported beyond ``allowed`` (and, for a command kept for a replay, `KEPT`)."""
    from readtrack.cli import replay

    kept = KEPT if replay.command_of(list(args)) else set()
    return sorted(set(imported_by(args)) - allowed - kept)


@pytest.mark.parametrize("args", list(LIGHT_COMMANDS), ids=lambda a: " ".join(a))
def test_light_commands_import_only_what_they_use(catalog_file: Path, args: tuple[str, ...]) -> None:
    """No torch, Textual, arxiv, requests or Ray; and of readtrack, only the modules of the command's
    allow-list (`LIGHT_COMMANDS`), read from sys.modules once the command has run, on its first run (a
    second one on the same inputs is replayed: `readtrack.cli.replay`, tests/cli/test_replay.py)."""
    if args[0] in ("history", "compare"):  # two runs of rmsnorm to show and compare
        from made_records import make_record, store

        store(make_record("rmsnorm", run_id="r1"))
        store(make_record("rmsnorm", run_id="r2", started_at="2026-01-02T10:00:00+00:00"))
    beyond = beyond_allowed(args, LIGHT_COMMANDS[args])
    assert beyond == [], f"readtrack {' '.join(args)} imports modules beyond its allow-list: {beyond}"


@pytest.mark.parametrize("args", RELATED_COMMANDS, ids=lambda a: " ".join(a))
def test_the_citation_graph_from_its_cache_imports_no_http_library(
    catalog_file: Path, args: tuple[str, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`refs`, `cites` and `next` answered by the cache a first run filled (from a local Semantic Scholar,
    tests/fakes2.py): no request, so neither requests nor the session is imported; and none of `add`'s
    writing (yaml)."""
    from fakes2 import FakeS2

    from readtrack.catalog import edits

    for paper in ("bert", "t5"):
        edits.mark(catalog_file, paper, "read")
    with FakeS2.sample(catalog_file) as server:
        monkeypatch.setenv("READTRACK_S2_URL", server.url)
        monkeypatch.setenv("READTRACK_S2_RECS_URL", server.recs_url)
        monkeypatch.setenv("READTRACK_S2_DELAY", "0")
        assert run_cli(*args).returncode == 0  # fills the cache
        asked = len(server.requests_log)
        monkeypatch.setenv("READTRACK_S2_PROBE", "a new situation: not a replay")
        beyond = beyond_allowed(args, RELATED)
        assert len(server.requests_log) == asked  # all from the cache
    assert beyond == [], f"readtrack {' '.join(args)} imports modules beyond its allow-list: {beyond}"
    assert "readtrack.catalog.edits" not in imported_by(args)


def test_feed_on_its_cached_window_imports_no_http_library_and_no_yaml(
    catalog_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`feed` within the hour of its window: ranked from the cache (its ranking's library, scikit-learn, is
    what it uses), no arxiv, requests or yaml (`add`'s writing is imported when a paper is added)."""
    from fakearxiv import serving

    from readtrack.catalog import metadata
    from tests.feed.test_feed_cli import HAND, LIST, SYNCED, real_entries

    catalog_file.write_text(LIST, encoding="utf-8")
    metadata.save(SYNCED)
    with serving(monkeypatch, auto=False) as server:
        server.add(*HAND, *real_entries())
        assert run_cli("feed", "--json").returncode == 0  # fetches the window
        asked = server.total_requests
        imported = imported_by(("feed", "--all", "--json"))
        assert server.total_requests == asked  # the cached window
    feed = READ | _modules(
        "base.store base.writelock catalog.metadata catalog.new_paper cli.feed feed feed.categories "
        "feed.core feed.rank feed.reads feed.state"
    )
    assert sorted(set(imported) - feed) == []


def test_a_warm_list_imports_no_json_and_defines_no_dataclass_it_does_not_draw(catalog_file: Path) -> None:
    """The second `list` of an unchanged list reads its caches with `marshal` (built in): ``json``, which
    costs about a millisecond to import, stays out, and so do the dataclasses of adding a paper and of
    stale temp files (issue 87: each a fraction of a millisecond on every start)."""
    probe = (
        "import sys, runpy, dataclasses\n"
        "made = []\n"
        "real = dataclasses._process_class\n"
        "def spy(cls, *a, **k):\n    made.append(cls.__qualname__)\n    return real(cls, *a, **k)\n"
        "dataclasses._process_class = spy\n"
        "sys.argv = ['readtrack', 'list']\n"
        "try:\n    runpy.run_module('readtrack', run_name='__main__')\n"
        "except SystemExit as e:\n    assert not e.code, e.code\n"
        "print('JSON', 'json' in sys.modules, file=sys.stderr)\n"
        "print('DATACLASSES', *sorted(made), file=sys.stderr)\n"
    )
    for _ in range(2):  # the first fills the caches (for this sys.path: the plugins' stamp reads it)
        result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=os.environ)
    assert "JSON False" in result.stderr, result.stderr
    made = next(line for line in result.stderr.splitlines() if line.startswith("DATACLASSES")).split()[1:]
    assert made == ["Catalog", "Paper", "PluginKeys", "Section"], made


def test_version_prints_the_installed_packages_version() -> None:
    import importlib.metadata

    result = run_cli("--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"readtrack {importlib.metadata.version('readtrack')}\n"
    assert result.stderr == ""


def test_a_paper_with_several_plugins_in_list_and_show(catalog_file: Path) -> None:
    from readtrack.catalog import edits

    edits.set_fields(catalog_file, "lbfgs", {"plugin": ["adamw", "rope"]})
    assert "        plugin: [adamw, rope]\n" in catalog_file.read_text(encoding="utf-8")
    listed = run_cli("list", "--section", "Optimization algorithm").stdout
    assert "▶" in next(line for line in listed.splitlines() if "lbfgs" in line)
    shown = json.loads(run_cli("show", "lbfgs", "--json").stdout)
    assert shown["plugins"] == ["adamw", "rope"]
    assert "│ plugins  adamw, rope " in run_cli("show", "lbfgs").stdout


def test_doctor_counts_a_cluster_it_cannot_use_in_its_summary(catalog_file: Path) -> None:
    """It used to say "cannot use the Ray cluster ..." (exit 1), then "no problems"."""
    import socket

    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = run_cli("doctor", "--address", f"127.0.0.1:{port}")
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert any(line.startswith("cluster: ") and f"127.0.0.1:{port}" in line for line in lines), lines
    assert lines[-1] == "1 problem"


def test_list_into_a_reader_that_goes_away_exits_141_and_says_nothing(catalog_file: Path) -> None:
    """``readtrack list | head -1`` on a list longer than a pipe holds: Click ended it with exit 1 (an error
    to ``set -o pipefail``, and unlike `run --json`); now 141, as a tool that SIGPIPE ended."""
    lines = ["version: 1", "sections:", "  - name: Long", "    papers:"]
    lines += [
        f"      - id: p{i}\n        title: A paper with a title long enough to fill a row {i}"
        for i in range(3000)
    ]
    catalog_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    process = subprocess.Popen(
        [sys.executable, "-m", "readtrack", "list"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert process.stdout is not None and process.stderr is not None
    assert "title" in process.stdout.readline()
    process.stdout.close()  # as `head -1` does
    err = process.stderr.read()
    assert process.wait(timeout=120) == 141, err
    assert err == ""


def test_a_command_leaves_the_last_collection_out_of_its_exit(catalog_file: Path) -> None:
    """After `list` (any command), the objects alive are frozen (`gc.freeze`): the exit skips a full
    collection of them, 8 of the 10 ms `list` spent exiting; the atexit handlers still run."""
    probe = (
        "import atexit, gc, sys\n"
        "atexit.register(lambda: print('ATEXIT', gc.get_freeze_count() > 1000, file=sys.stderr))\n"
        "sys.argv = ['readtrack', 'list']\n"
        "from readtrack.cli.launch import main\n"
        "main()\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=os.environ)
    assert result.returncode == 0, result.stderr
    assert "ATEXIT True" in result.stderr, result.stderr
