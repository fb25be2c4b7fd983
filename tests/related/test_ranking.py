"""The ranking of `next` and how list papers are found, on a graph small enough to rank by hand: a real
HTTP server on 127.0.0.1 (tests/fakes2.py), a list of five papers, `readtrack.related.graph` itself."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fakes2 import FakeS2

from readtrack.plugins.links import load
from readtrack.related.graph import opened

LIST = """\
version: 1
sections:
  - name: Read
    papers:
      - id: a
        title: Paper A
        status: read
        arxiv: "2001.00001"
      - id: b
        title: Paper B
        status: reading
        url: https://doi.org/10.1000/b
      - id: c
        title: Paper C Without Any Identifier
        status: read
      - id: d
        title: Paper D Whose Id Is Wrong
        status: read
        arxiv: "2001.09999"
      - id: s
        title: Paper S
        status: skipped
        arxiv: "2001.00005"
"""


@pytest.fixture
def graph(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[FakeS2, Path]]:
    """A, B, C, D read (C found by title, D's arXiv id unknown, so found by title too), S skipped.

    x is cited by A, B and C (3); y is cited by A and cites D (2); z cites A (1); w is cited by S only (0:
    not a candidate); d is cited by A but is in the list."""
    catalog = tmp_path / "papers.yaml"
    catalog.write_text(LIST, encoding="utf-8")
    with FakeS2.running() as fake:
        fake.add_paper("a", "Paper A", year=2020, arxiv="2001.00001")
        fake.add_paper("b", "Paper B", year=2020, doi="10.1000/B")
        fake.add_paper("c", "Paper C Without Any Identifier", year=2019)
        fake.add_paper("d", "Paper D Whose Id Is Wrong", year=2018, arxiv="1801.00001")
        fake.add_paper("s", "Paper S", year=2020, arxiv="2001.00005")
        fake.add_paper("x", "Paper X", year=2010, arxiv="1001.00001")
        fake.add_paper("y", "Paper Y", year=2019, arxiv="1901.00001")
        fake.add_paper("z", "Paper Z", year=2021, arxiv="2101.00001")
        fake.add_paper("w", "Paper W", year=2015)
        for citing, cited in [("a", "x"), ("b", "x"), ("c", "x"), ("a", "y"), ("y", "d"), ("z", "a")]:
            fake.cite(citing, cited)
        fake.cite("s", "w")
        fake.cite("a", "d")
        monkeypatch.setenv("READTRACK_S2_URL", fake.url)
        monkeypatch.setenv("READTRACK_S2_RECS_URL", fake.recs_url)
        monkeypatch.setenv("READTRACK_S2_DELAY", "0")
        yield fake, catalog


def test_each_reason_is_one_point_and_the_why_spells_it_out(graph: tuple[FakeS2, Path]) -> None:
    fake, catalog = graph
    with opened(load(catalog, cache=False)) as rel:
        found = rel.suggest(recommendations=False)
    rows = {row.paper.title: row for row in found.rows}
    assert [row.paper.title for row in found.rows] == ["Paper X", "Paper Y", "Paper Z"]
    assert rows["Paper X"].score == 3 and rows["Paper X"].why == "cited by 3 you read: a, b, c"
    assert rows["Paper Y"].score == 2 and rows["Paper Y"].why == "cited by 1 you read: a; cites 1 you read: d"
    assert rows["Paper Z"].score == 1 and rows["Paper Z"].why == "cites 1 you read: a"
    assert "Paper W" not in rows and "Paper D Whose Id Is Wrong" not in rows  # only the skipped one; listed
    assert found.ranked_by == 4
    assert found.notes == [
        "matched by title (no arXiv id or DOI): c",
        "matched by title (their ids unknown): d",
    ]
    assert fake.count("/recommendations") == 0


def test_recommendations_and_a_plugin_add_a_point_each_and_break_ties(graph: tuple[FakeS2, Path]) -> None:
    fake, catalog = graph
    with opened(load(catalog, cache=False)) as rel:
        found = rel.suggest()
    (recs,) = [r for r in fake.requests_log if r.path.startswith("/recommendations")]
    ids = {key: fake.get(key).paper_id for key in "abcdsxyz"}
    assert sorted(recs.body["positivePaperIds"]) == sorted(ids[k] for k in "abcd")
    assert recs.body["negativePaperIds"] == [ids["s"]]
    expected = fake.recommend(recs.body["positivePaperIds"], recs.body["negativePaperIds"])
    for row in found.rows:
        recommended = row.paper.s2_id in expected
        assert ("recommended (#" in row.why) == recommended
    scores = [row.score for row in found.rows]
    assert scores == sorted(scores, reverse=True)
    with opened(load(catalog, cache=False)) as rel:  # the same graph, the same list
        assert [row.paper.s2_id for row in rel.suggest().rows] == [row.paper.s2_id for row in found.rows]


def test_a_paper_with_an_id_semantic_scholar_does_not_know_is_found_by_its_title_and_said(
    graph: tuple[FakeS2, Path],
) -> None:
    _fake, catalog = graph
    with opened(load(catalog, cache=False)) as rel:
        listing = rel.refs("d")
    assert listing.notes == ["d is unknown by its id: matched by title to “Paper D Whose Id Is Wrong” (2018)"]
    assert listing.rows == []
    with opened(load(catalog, cache=False)) as rel:
        cites = rel.cites("d")
    assert [(row.paper.title, row.listed.id if row.listed else None) for row in cites.rows] == [
        ("Paper A", "a"),
        ("Paper Y", None),
    ]
