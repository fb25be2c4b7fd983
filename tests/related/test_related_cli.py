"""`readtrack refs`, `cites`, `next` and `add` as a reader types them: the real CLI in a subprocess against a
real HTTP server on 127.0.0.1 speaking Semantic Scholar's shapes (tests/fakes2.py), on the sample list."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fake_plugins import DECLARE, write_plugin
from fakes2 import FakeS2

from readtrack.catalog import edits
from readtrack.catalog.reader import load

Cli = Callable[..., subprocess.CompletedProcess[str]]
READ = ("bert", "gpt", "t5", "vit", "resnet", "adamw")  # gpt has no arXiv id: found by its title


@pytest.fixture
def server(catalog_file: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeS2]:
    with FakeS2.sample(catalog_file) as fake:
        monkeypatch.setenv("READTRACK_S2_URL", fake.url)
        monkeypatch.setenv("READTRACK_S2_RECS_URL", fake.recs_url)
        monkeypatch.setenv("READTRACK_S2_DELAY", "0")
        yield fake


def mark_read(*ids: str) -> None:
    """The reader's marks, made in this process (`mark` has its own tests; a subprocess each cost 0.3 s)."""
    for paper in ids:
        edits.mark(Path(os.environ["READTRACK_CATALOG"]), paper, "read")


def test_next_ranks_by_what_was_read_explains_each_row_and_asks_nothing_twice(
    cli: Cli, server: FakeS2, catalog_file: Path
) -> None:
    mark_read(*READ)
    edits.mark(catalog_file, "palm", "skipped")
    before = catalog_file.read_bytes()
    first = cli("next", "--json", "-n", "15")
    assert first.returncode == 0, first.stderr
    rows = json.loads(first.stdout)
    assert len(rows) == 15
    assert "matched by title (no arXiv id or DOI): gpt" in first.stderr
    listed = {p.arxiv for p in load(catalog_file).papers() if p.arxiv}
    assert all(row["in_list"] is None and row["arxiv"] not in listed for row in rows)
    scores = [row["score"] for row in rows]
    assert scores == sorted(scores, reverse=True) and scores[0] >= 3
    # each row's score, recomputed from the graph itself: the papers read that cite it, the papers read it
    # cites, Semantic Scholar's recommendation (seeded with the read papers, the skipped one negative)
    (recs,) = [r for r in server.requests_log if r.path.startswith("/recommendations")]
    seeds = recs.body["positivePaperIds"]
    assert server.get("list:2204.02311").paper_id in recs.body["negativePaperIds"]
    assert {server.get(f"list:{a}").paper_id for a in ("1810.04805", "2010.11929")} <= set(seeds)
    recommended = server.recommend(seeds, recs.body["negativePaperIds"], 100)
    for row in rows:
        cited_by = sum(row["s2_id"] in server.get(seed).references for seed in seeds)
        cites = sum(seed in server.get(row["s2_id"]).references for seed in seeds)
        expected = cited_by + cites + (row["s2_id"] in recommended)
        assert row["score"] == expected, row
        assert (f"cited by {cited_by} you read: " in row["why"]) == (cited_by > 0)
    assert rows[0]["why"].startswith("cited by ") and "recommended (#" in rows[0]["why"]
    made = server.count()
    assert made == int(first.stderr.split(" request")[0].rsplit("readtrack: ", 1)[1])
    # the same graph, the same list; from the cache, with its date
    again = cli("next", "--json", "-n", "15")
    assert json.loads(again.stdout) == rows
    assert server.count() == made
    assert "readtrack: 0 requests to Semantic Scholar" in again.stderr
    assert f"from the cache of {time.strftime('%Y-%m-%d', time.gmtime())}" in again.stderr
    assert catalog_file.read_bytes() == before  # asking changes nothing in the list


def test_next_add_puts_the_row_in_to_read_with_its_reason_and_nothing_else_changes(
    cli: Cli, server: FakeS2, catalog_file: Path
) -> None:
    mark_read(*READ)
    shown = cli("next", "-n", "5")
    assert shown.returncode == 0, shown.stderr
    rows = json.loads(cli("next", "--json", "-n", "5").stdout)
    before = catalog_file.read_text()
    added = cli("next", "--add", "2")
    assert added.returncode == 0, added.stderr
    assert "to To read:" in added.stdout and rows[1]["title"] in added.stdout
    after = catalog_file.read_text()
    assert after.startswith(before.rstrip("\n"))  # appended: every line before it kept as it was
    paper = next(p for p in load(catalog_file).papers() if p.title == rows[1]["title"])
    assert paper.section == "To read" and paper.year == rows[1]["year"] and paper.status == "todo"
    assert paper.arxiv == rows[1]["arxiv"]
    assert paper.notes is not None and paper.notes.startswith("Suggested by `readtrack next` on ")
    assert rows[1]["why"] in paper.notes
    # gone from the suggestions, shown with its status under --all
    later = json.loads(cli("next", "--json", "-n", "50").stdout)
    assert rows[1]["s2_id"] not in [r["s2_id"] for r in later]
    everything = json.loads(cli("next", "--json", "--all", "-n", "2000").stdout)
    mine = next(r for r in everything if r["s2_id"] == rows[1]["s2_id"])
    assert mine["in_list"] == paper.id and mine["status"] == "todo"
    refused = cli("next", "--add", "999999")
    assert refused.returncode == 2 and "numbered 1 to" in refused.stderr


def test_add_of_a_suggested_id_carries_the_reason(cli: Cli, server: FakeS2, catalog_file: Path) -> None:
    mark_read(*READ)
    rows = json.loads(cli("next", "--json", "-n", "10").stdout)
    row = next(r for r in rows if r["arxiv"])
    added = cli("add", row["arxiv"])
    assert added.returncode == 0, added.stderr
    assert "to To read (suggested by `readtrack next`" in added.stdout
    paper = next(p for p in load(catalog_file).papers() if p.arxiv == row["arxiv"])
    assert paper.title == row["title"] and paper.notes and row["why"] in paper.notes
    plain = cli("add", "2212.09999")  # not suggested: the offline add, as before
    assert plain.returncode == 0 and "added arxiv-2212-09999 to Inbox" in plain.stdout


def test_a_plugin_that_runs_a_suggestion_raises_it(
    cli: Cli, server: FakeS2, user_dir: Path, catalog_file: Path
) -> None:
    mark_read(*READ)
    rows = json.loads(cli("next", "--json", "-n", "40").stdout)
    target = next(r for r in rows[5:] if r["arxiv"])
    init = DECLARE.replace("arxiv=None", f"arxiv={target['arxiv']!r}").format(
        name="runs-it", paper_id="runs-it", title=target["title"], devices=("cpu",), stage_timeout=60.0
    )
    write_plugin(user_dir, "runs_it", name="runs-it", init=init)
    raised = json.loads(cli("next", "--json", "-n", "40").stdout)
    mine = next(r for r in raised if r["s2_id"] == target["s2_id"])
    assert mine["plugins"] == ["runs-it"] and "a plugin runs it (runs-it)" in mine["why"]
    assert mine["score"] == target["score"] + 1
    assert raised.index(mine) < rows.index(target)
    table = cli("next", "-n", "40")
    assert "▶" in next(line for line in table.stdout.splitlines() if target["title"] in line)


def test_refs_and_cites_show_each_rows_place_in_the_list(cli: Cli, server: FakeS2) -> None:
    mark_read("resnet")
    refs = cli("refs", "bert", "--json")
    assert refs.returncode == 0, refs.stderr
    rows = json.loads(refs.stdout)
    bert = server.get("list:1810.04805")
    assert [r["s2_id"] for r in rows] == bert.references[:20]
    listed = [r for r in rows if r["in_list"]]
    assert listed and all(r["status"] in ("todo", "read") for r in listed)
    if any(r["in_list"] == "resnet" for r in rows):
        assert next(r for r in rows if r["in_list"] == "resnet")["status"] == "read"
    newest = json.loads(cli("cites", "1810.04805", "--sort", "newest", "--json").stdout)
    dates = [r["year"] or 0 for r in newest]
    assert dates == sorted(dates, reverse=True)
    cited = json.loads(cli("cites", "bert", "--json", "-n", "5").stdout)
    counts = [r["citations"] for r in cited]
    assert counts == sorted(counts, reverse=True) and len(cited) <= 5
    by_citations = json.loads(cli("refs", "bert", "--json", "--sort", "cited").stdout)
    assert sorted(r["s2_id"] for r in by_citations) == sorted(r["s2_id"] for r in rows)
    assert [r["citations"] for r in by_citations] == sorted((r["citations"] for r in rows), reverse=True)
    bad = cli("refs", "bert", "--sort", "best")
    assert bad.returncode == 2 and "--sort takes order, cited or newest, got 'best'" in bad.stderr
    table = cli("refs", "bert", "-n", "3")
    assert table.stdout.splitlines()[0].startswith("“BERT: Pre-training")
    assert "3 of its" in table.stdout.splitlines()[0]


def test_a_huge_citation_list_is_capped_and_said_and_fetch_all_gets_every_one(
    cli: Cli, server: FakeS2
) -> None:
    total = server.get("list:1706.03762").citation_count
    capped = cli("cites", "attention", "-n", "3")
    assert capped.returncode == 0, capped.stderr
    assert f"fetched the first 1,000 of {total:,} citations" in capped.stderr
    assert len([line for line in capped.stdout.splitlines() if line[:1].isdigit()]) == 3
    assert server.count("/graph/v1/paper/" + server.get("list:1706.03762").paper_id + "/citations") == 1
    more = cli("cites", "attention", "--json", "-n", "1500")  # -n past the default cap raises it
    assert len(json.loads(more.stdout)) == 1500 and "fetched the first 1,500 of" in more.stderr
    every = cli("cites", "attention", "--fetch", "all", "--json", "-n", "5000")
    assert len(json.loads(every.stdout)) == total and "fetched the first" not in every.stderr
    small = cli("cites", "attention", "--fetch", "10", "--json", "--refresh")
    assert len(json.loads(small.stdout)) == 10
    assert server.requests_log[-1].query["limit"] == "10"
    bad = cli("cites", "attention", "--fetch", "lots")
    assert bad.returncode == 2 and "--fetch takes a number" in bad.stderr


def test_ids_semantic_scholar_does_not_know_and_text_that_is_no_id(cli: Cli, server: FakeS2) -> None:
    unknown = cli("refs", "2212.99999")
    assert unknown.returncode == 1
    assert unknown.stderr.strip() == "readtrack: Semantic Scholar does not know ARXIV:2212.99999"
    typo = cli("refs", "bertt")
    assert typo.returncode == 2 and "did you mean bert" in typo.stderr and len(typo.stderr.splitlines()) == 1
    doi = cli("refs", "DOI:10.1020/nothing.here")
    assert doi.returncode == 1 and "does not know DOI:10.1020/nothing.here" in doi.stderr


def test_a_network_that_is_down_is_one_line_within_three_seconds_and_writes_nothing(
    cli: Cli, catalog_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("READTRACK_S2_URL", f"http://127.0.0.1:{port}/graph/v1")
    monkeypatch.setenv("READTRACK_S2_RECS_URL", f"http://127.0.0.1:{port}/recommendations/v1")
    mark_read("bert")
    before = catalog_file.read_bytes()
    started = time.monotonic()
    down = cli("next", "--add", "1")
    assert time.monotonic() - started < 3 + 2  # the command's own start-up on a loaded machine, beside 3 s
    assert down.returncode == 1
    (line,) = down.stderr.splitlines()
    assert line.startswith("readtrack: Semantic Scholar's paper batch: cannot reach 127.0.0.1")
    assert line.endswith("; is the network up?")  # what `sync` asks when no host answers
    assert catalog_file.read_bytes() == before


def test_a_429_storm_and_a_malformed_reply_are_one_line_each(
    cli: Cli, server: FakeS2, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.fail("/graph/v1/paper/batch", "429", times=None, retry_after=1)
    stormy = cli("refs", "bert", env={"READTRACK_RETRIES": "3"})
    assert stormy.returncode == 1
    waits = [line for line in stormy.stderr.splitlines() if "answered HTTP 429; waiting 1 s" in line]
    assert len(waits) == 2  # each wait said while it happens
    assert stormy.stderr.splitlines()[-1].startswith(
        "readtrack: Semantic Scholar kept refusing paper batch as too many requests"
    )
    server.faults.clear()
    server.fail("/graph/v1/paper/", "malformed", times=None)
    broken = cli("refs", "bert")
    assert broken.returncode == 1
    assert broken.stderr.strip() == (
        "readtrack: Semantic Scholar's paper batch sent a reply that is not JSON: '{\"data\": ['"
    )


def test_the_key_is_sent_but_never_lands_anywhere_a_reader_shares(
    cli: Cli, server: FakeS2, catalog_file: Path, readtrack_home: Path
) -> None:
    secret = "Zq8s2-KEY-never-shown-71"
    env = {"S2_API_KEY": secret}
    mark_read(*READ)
    outputs = [cli("next", "-n", "3", env=env), cli("next", "--add", "1", env=env)]
    outputs.append(cli("refs", "bert", env=env))
    server.fail("/graph/v1/paper/", "503", times=None)
    outputs.append(cli("refs", "gpt", "--refresh", env={**env, "READTRACK_RETRIES": "1"}))
    outputs.append(cli("doctor", env=env))
    assert {r.headers.get("x-api-key") for r in server.requests_log} == {secret}
    assert "S2_API_KEY set (24 characters, not shown)" in outputs[-1].stdout
    for result in outputs:
        assert secret not in result.stdout + result.stderr
    for path in [catalog_file, *readtrack_home.rglob("*")]:
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path


def test_a_paper_without_an_arxiv_id_or_doi_is_matched_by_title_and_said(cli: Cli, server: FakeS2) -> None:
    refs = cli("refs", "gpt", "-n", "3")
    assert refs.returncode == 0, refs.stderr
    assert (
        "readtrack: gpt has no arXiv id or DOI: matched by title to “Improving Language Understanding by "
        "Generative Pre-Training” (2018)" in refs.stderr
    )
    assert server.count("/graph/v1/paper/search/match") == 1 and server.count("/graph/v1/paper/batch") == 0


def test_at_80_columns_titles_give_way_and_reasons_wrap_at_words(cli: Cli, server: FakeS2) -> None:
    mark_read(*READ)
    rows = json.loads(cli("next", "--json", "-n", "8").stdout)
    table = cli("next", "-n", "8", env={"COLUMNS": "80"})
    lines = table.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    for number, row in enumerate(rows, 1):
        start = next(i for i, line in enumerate(lines) if line.startswith(f"{number}  "))
        assert lines[start].endswith(row["arxiv"] or row["doi"] or "-")  # the id is never cut
        under = []
        for line in lines[start + 1 :]:
            if not line.startswith("   "):
                break
            under.append(line.strip())
        assert " ".join(under).endswith(row["why"])  # whole, wrapped at spaces
    piped = cli("next", "-n", "8", env={"COLUMNS": ""})
    assert all(row["why"] in piped.stdout and row["title"] in piped.stdout for row in rows)


def test_add_of_a_suggestion_by_its_doi_as_next_shows_it_or_its_link_carries_the_reason(
    cli: Cli, server: FakeS2, catalog_file: Path
) -> None:
    mark_read(*READ)
    table = cli("next", "-n", "60").stdout.splitlines()
    rows = json.loads(cli("next", "--json", "-n", "60").stdout)
    by_doi = [r for r in rows if r["doi"] and not r["arxiv"]]
    assert len(by_doi) >= 2
    shown = [line.rsplit(" ", 1)[-1] for line in table if line.endswith(f"DOI:{by_doi[0]['doi']}")]
    assert shown == [f"DOI:{by_doi[0]['doi']}"]  # what a reader copies from the table
    for typed, row in ((shown[0], by_doi[0]), (f"https://doi.org/{by_doi[1]['doi']}", by_doi[1])):
        added = cli("add", typed)
        assert added.returncode == 0, added.stderr
        assert "to To read (suggested by `readtrack next`" in added.stdout
        paper = next(p for p in load(catalog_file).papers() if p.title == row["title"])
        assert paper.section == "To read" and paper.year == row["year"]
        assert paper.url == f"https://doi.org/{row['doi']}" and paper.notes and row["why"] in paper.notes
    again = cli("add", shown[0].lower())
    assert again.returncode == 1 and "already" in again.stderr
    plain = cli("add", "DOI:10.9999/Not.Suggested")  # not suggested: the offline add of its doi.org link
    assert plain.returncode == 0 and "to Inbox" in plain.stdout
    assert any(p.url == "https://doi.org/10.9999/Not.Suggested" for p in load(catalog_file).papers())


def record_references(server: FakeS2) -> str:
    """A paper whose references are the real recorded ones (tests/data/s2), served in pages of 50 as they
    were recorded: 67 items, 23 unresolved, the 37th among them. Its paperId."""
    from fakes2 import recorded

    items = [
        item
        for name in ("00", "01")
        for item in recorded(f"rec__test_get_paper_references__{name}.json")["body"]["data"]
    ]
    paper = server.add_paper(
        "ssrn", "Microfinance and the Recorded Paper", year=2013, doi="10.2139/ssrn.2250500"
    )
    server.record("ssrn", "references", items)
    server.page_max = 50
    return paper


def test_refs_of_real_replies_page_by_next_ask_no_page_twice_and_say_what_is_unresolved(
    cli: Cli, server: FakeS2
) -> None:
    path = f"/graph/v1/paper/{record_references(server)}/references"
    shown = cli("refs", "DOI:10.2139/ssrn.2250500", "-n", "100", timeout=120)
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[0] == "“Microfinance and the Recorded Paper” (2013): 44 of its 67 references (23 unresolved)"
    assert shown.stdout.count("The Economics of Microfinance, Second Edition") == 1
    assert [(r.query["offset"], r.query["limit"]) for r in server.requests_log if r.path == path] == [
        ("0", "1000"),
        ("50", "950"),  # where the first reply's `next` said, up to the default 1,000 items
    ]
    as_json = cli("refs", "DOI:10.2139/ssrn.2250500", "-n", "100", "--json", timeout=120)
    rows = json.loads(as_json.stdout)
    assert len(rows) == 44 == len({r["s2_id"] for r in rows})
    assert "readtrack: 67 references fetched (23 unresolved)" in as_json.stderr
    server.clear_log()
    capped = cli(
        "refs", "DOI:10.2139/ssrn.2250500", "--fetch", "37", "--refresh", "--sort", "cited", timeout=120
    )
    assert capped.returncode == 0, capped.stderr
    assert [(r.query["offset"], r.query["limit"]) for r in server.requests_log if r.path == path] == [
        ("0", "37")
    ]
    assert "fetched the first 37 references (--fetch N or --fetch all for more)" in capped.stderr
    narrow = cli(
        "refs", "DOI:10.2139/ssrn.2250500", "--fetch", "37", "--sort", "cited", env={"COLUMNS": "80"}
    )
    lines = narrow.stdout.splitlines()
    heading = lines[: next(i for i, line in enumerate(lines) if line.lstrip().startswith("#  in list"))]
    assert all(len(line) <= 80 for line in narrow.stdout.splitlines())
    assert heading == [  # too long for 80 columns: the counts on a line of their own
        "“Microfinance and the Recorded Paper” (2013):",
        "20 of its 37 references (1 unresolved), the most cited first",
    ]


def test_cites_fetch_all_over_an_unresolved_citation_asks_each_page_once_and_keeps_each_paper_once(
    cli: Cli, server: FakeS2
) -> None:
    from fakes2 import PAPER_FIELDS

    attention = server.get("list:1706.03762")
    items: list[object] = [
        {"citingPaper": server.papers[p].to_json(PAPER_FIELDS)} for p in server.citations_of(attention)
    ]
    items.insert(
        500, {"citingPaper": {"paperId": None, "title": "A citation Semantic Scholar could not resolve"}}
    )
    server.record("list:1706.03762", "citations", items)
    path = f"/graph/v1/paper/{attention.paper_id}/citations"
    every = cli("cites", "attention", "--fetch", "all", "--json", "-n", "5000", timeout=120)
    assert every.returncode == 0, every.stderr
    rows = json.loads(every.stdout)
    assert len(rows) == len(items) - 1 == len({r["s2_id"] for r in rows})
    assert [r.query["offset"] for r in server.requests_log if r.path == path] == ["0", "1000", "2000"]
    assert f"{len(items):,} citations fetched (1 unresolved)" in every.stderr
    cached = cli("cites", "attention", "--fetch", "all", "-n", "3", timeout=120)  # from the cache, as stored
    assert f"is cited by {len(items):,} (1 unresolved): the 3 most cited first" in cached.stdout
    assert "readtrack: 0 requests to Semantic Scholar" in cached.stderr
