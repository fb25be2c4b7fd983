"""The synced-metadata table: its columns are the record's fields, and `show` gets each synced key."""

from __future__ import annotations

import dataclasses

from readtrack.base.store import opened
from readtrack.catalog import metadata
from readtrack.catalog.model import Paper
from readtrack.render import details
from readtrack.render.details import synced_details


def test_the_table_has_a_column_for_every_field_of_the_record() -> None:
    with opened(metadata.SCHEMA, None) as db:
        columns = [row[1] for row in db.execute("PRAGMA table_info(arxiv_metadata)")]
    assert columns == [f.name for f in dataclasses.fields(metadata.ArxivRecord)] == list(metadata.FIELDS)


def test_a_saved_record_reads_back_whole_and_show_gets_every_synced_key() -> None:
    record = metadata.ArxivRecord(
        arxiv_id="2205.14135",
        version="v2",
        title="FlashAttention",
        authors=["Tri Dao", "Dan Fu"],
        abstract="Transformers are slow.\nSecond paragraph.",
        published="2022-05-27T17:53:09Z",
        updated="2022-06-23T17:53:09Z",
        categories=["cs.LG"],
        primary_category="cs.LG",
        doi="10.1/x",
        journal_ref="NeurIPS 2022",
        comment="10 pages",
        pdf_url="https://arxiv.org/pdf/2205.14135v2",
        fetched_at="2024-01-01T00:00:00Z",
    )
    metadata.save([record])
    assert metadata.get("2205.14135v1") == record
    synced = synced_details(Paper(id="fa", title="FlashAttention", section="S", arxiv="2205.14135"))
    assert set(synced) == set(details.SYNCED_KEYS)
    assert synced["authors"] == ["Tri Dao", "Dan Fu"] and synced["journal_ref"] == "NeurIPS 2022"
    assert synced["pdf_path"] is None
