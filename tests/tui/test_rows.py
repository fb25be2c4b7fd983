"""The filter behind `/`: typing narrows it incrementally, and it must agree with the core's `matches`."""

from __future__ import annotations

from pathlib import Path

from readtrack.plugins.links import load
from readtrack.tui.widgets.rows import IncrementalFilter, filter_rows


def test_incremental_filter_agrees_with_catalog_matches_while_typing_and_deleting(catalog_file: Path) -> None:
    catalog = load(catalog_file)
    papers = list(catalog.papers())
    extra = {"adamw": "Ilya Loshchilov Frank Hutter decoupled weight decay", "bert": "Jacob Devlin masked"}
    live = IncrementalFilter(papers, extra)
    typing = ["attention is"[:n] for n in range(1, 13)]  # then deleting and starting over
    for query in [*typing, "attention i", "attention", "att", "Hutter", "devlin MASK", "zzz", "", "2017"]:
        expected = [row.paper.id for row in filter_rows(papers, query, extra)]
        assert [row.paper.id for row in live.rows(query)] == expected, query
    assert [row.paper.id for row in live.rows("hutter")] == ["adamw"]  # synced authors are searched
