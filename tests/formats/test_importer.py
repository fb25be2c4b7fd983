"""Merging an imported markdown list into papers.yaml: no duplicates, the user's lines untouched."""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest

from readtrack.base.errors import UsageError
from readtrack.formats.importer import export_catalog, import_markdown
from readtrack.plugins import links

LISTS = Path(__file__).resolve().parents[1] / "data" / "lists"


def only_insertions(before: str, after: str) -> bool:
    """True when ``after`` is ``before`` with lines added and none changed or removed."""
    matcher = difflib.SequenceMatcher(None, before.splitlines(), after.splitlines(), autojunk=False)
    return all(tag in ("equal", "insert") for tag, *_ in matcher.get_opcodes())


def write(folder: Path, text: str, name: str = "list.md") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_the_original_list_adds_nothing_to_the_catalog_built_from_it(catalog_file: Path) -> None:
    before = catalog_file.read_bytes()
    report = import_markdown(catalog_file, LISTS / "seed-reading-list.md")
    assert report.added == []
    assert len(report.skipped) == 63
    assert report.notes_set == [] and report.notes_kept == []
    assert catalog_file.read_bytes() == before


def test_a_messy_list_merges_without_duplicates_and_keeps_every_existing_line(catalog_file: Path) -> None:
    before = catalog_file.read_text(encoding="utf-8")
    report = import_markdown(catalog_file, LISTS / "awesome-style.md")
    skipped = {d.title: d.existing_id for d in report.skipped}
    assert skipped == {
        "Longformer: The Long-Document Transformer": "longformer",  # 2004.05150v2: versions ignored
        "Reformer: The Efficient Transformer": "reformer",  # "(ICLR 2020)" is its venue and year
        "FlashAttention v1, and v2": "flashattention",
    }
    after = catalog_file.read_text(encoding="utf-8")
    # what the list says of listed papers is merged into them: Reformer's venue tag, Longformer's note
    assert [e.line() for e in report.enriched] == ["longformer: notes", "reformer: tags iclr"]
    reformer_tags = "            tags: [attention, efficiency]\n            plugin: reformer\n"
    assert only_insertions(
        before.replace(reformer_tags, reformer_tags.replace("efficiency]", "efficiency, iclr]")), after
    )
    catalog = links.load(catalog_file, cache=False)
    assert [s.name for s in catalog.sections][-3:] == [
        "Sparse attention",
        "🚀 Linear attention",
        "IO-aware kernels",
    ]
    assert report.new_sections == ["Sparse attention", "🚀 Linear attention", "IO-aware kernels"]
    assert len(report.added) == 7 == len(set(report.added))
    linformer = next(p for p in catalog.papers() if p.title == "Linformer")
    assert [c.title for c in linformer.children] == ["Nyströmformer"]
    assert catalog.section("Sparse attention").notes == "Papers that attend to a subset of positions."
    assert catalog.title == "Self notes for some research papers list"  # the user's title stays
    assert "kept the list's notes as they were" in report.summary()
    again = import_markdown(catalog_file, LISTS / "awesome-style.md")
    assert again.added == [] and len(again.skipped) == 10
    assert catalog_file.read_text(encoding="utf-8") == after


def test_a_new_nested_item_goes_under_the_existing_paper(catalog_file: Path, tmp_path: Path) -> None:
    source = write(
        tmp_path,
        "## Development of language models\n"
        "- [x] Transformer (Attention is all you need)\n"
        "  - [ ] Universal Transformers (2018) https://arxiv.org/abs/1807.03819\n",
    )
    report = import_markdown(catalog_file, source)
    assert [d.existing_id for d in report.skipped] == ["transformer"]
    catalog = links.load(catalog_file, cache=False)
    added = catalog.get(report.added[0])
    assert (added.parent, added.arxiv, added.year, added.status) == (
        "transformer",
        "1807.03819",
        2018,
        "todo",
    )
    assert added.added is not None  # the import date is recorded


def test_ids_from_comments_and_same_arxiv_items_within_one_file(catalog_file: Path, tmp_path: Path) -> None:
    source = write(
        tmp_path,
        "## Inbox\n"
        "- [ ] Already here under another name <!-- id: gan -->\n"
        "- [ ] Mixture of Depths 2404.02258 <!-- id: mod -->\n"
        "- [ ] Mixture-of-Depths, the same paper again (arXiv:2404.02258)\n"
        "## Efficiency\n"
        "- [ ] [Mixture-of-Depths](https://arxiv.org/abs/2404.02258v2) (ICML 2024)\n"
        "  - [ ] A follow-up nested under the repeat 2410.00001\n",
    )
    report = import_markdown(catalog_file, source)
    assert [d.existing_id for d in report.skipped] == ["gan"]
    assert report.added == ["mod", "follow-up-nested-under"]
    assert len(report.repeated) == 2
    assert "merged 2 repeated listings into the first: Mixture-of-Depths" in report.summary()
    catalog = links.load(catalog_file, cache=False)
    (mod,) = catalog.section("Inbox").papers
    assert mod.id == "mod"
    assert mod.tags == ["efficiency", "icml"]  # the later section, and what the later listing said
    assert [c.arxiv for c in mod.children] == ["2410.00001"]
    assert [s.name for s in catalog.sections if s.name == "Efficiency"] == []  # nothing left to put there


def test_a_paper_listed_twice_with_two_ids_stays_two_papers(tmp_path: Path) -> None:
    """An exported list names every paper with its id; two ids are two entries the user kept apart."""
    source = write(
        tmp_path,
        "## A\n- [ ] Infini-attention 2404.07143 <!-- id: infini -->\n"
        "## B\n- [ ] Leave No Context Behind 2404.07143 <!-- id: leave -->\n",
    )
    report = import_markdown(tmp_path / "new.yaml", source)
    assert (report.added, report.repeated) == (["infini", "leave"], [])


def test_repeats_are_found_by_title_and_a_shared_url_only_looks_similar(tmp_path: Path) -> None:
    source = write(
        tmp_path,
        "## Vision\n- [ ] [ViT](https://example.org/vit) -- first\n- [ ] Deep Residual Learning (2015)\n"
        "## Surveys\n- [ ] [An image is worth 16x16 words](https://example.org/vit/) -- second\n"
        "- [x] deep residual learning\n",
    )
    report = import_markdown(tmp_path / "new.yaml", source)
    catalog = links.load(tmp_path / "new.yaml", cache=False)
    (vit, resnet), (worth,) = catalog.section("Vision").papers, catalog.section("Surveys").papers
    assert (vit.tags, vit.notes, worth.notes) == ([], "first", "second")  # a shared URL: two papers
    assert (resnet.tags, resnet.status) == (["surveys"], "todo")  # the first listing's status stands
    assert len(report.added) == 3
    assert [(m.listing.where, m.first.where, m.key) for m in report.repeated] == [
        ("list.md:6", "list.md:3", "same title")
    ]
    assert [(s.listing.where, s.other.where, s.shared) for s in report.similar] == [
        ("list.md:5", "list.md:2", "same URL example.org/vit")
    ]


def test_section_option_and_section_notes(catalog_file: Path, tmp_path: Path) -> None:
    source = write(tmp_path, "## A\nnotes of A\n- [ ] Paper one\n## B\n- [ ] Paper two\n")
    report = import_markdown(catalog_file, source, section="Models")
    catalog = links.load(catalog_file, cache=False)
    assert [p.title for p in catalog.section("Models").papers][-2:] == ["Paper one", "Paper two"]
    assert catalog.section("Models").notes == "notes of A"  # the section had none
    assert report.notes_set == ["the notes of section 'Models'"]
    kept = import_markdown(catalog_file, write(tmp_path, "## Models\nother notes\n- [ ] Paper three\n"))
    assert kept.notes_kept == ["the notes of section 'Models'"]
    assert links.load(catalog_file, cache=False).section("Models").notes == "notes of A"


def test_importing_into_a_missing_catalog_creates_it(tmp_path: Path) -> None:
    target = tmp_path / "new" / "papers.yaml"
    target.parent.mkdir()
    report = import_markdown(target, LISTS / "numbered.md")
    catalog = links.load(target, cache=False)
    assert catalog.notes == "Papers for the reading group, in the order we read them."
    assert [s.name for s in catalog.sections] == ["Week 1: Foundations", "Week 2: Scaling"]
    assert len(report.added) == 8
    assert [p.status for p in catalog.section("Week 1: Foundations").papers] == ["read", "read", "todo"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file"),
        (b"", "no list items found"),
        (b"# Only a heading\n\nSome prose.\n", "no list items found"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xd8", "not UTF-8 text"),
        (b"- [ ] caf\xe9\n", "not UTF-8 text"),
    ],
)
def test_bad_files_are_one_clear_error(
    catalog_file: Path, tmp_path: Path, content: bytes | None, message: str
) -> None:
    source = tmp_path / "list.md"
    if content is not None:
        source.write_bytes(content)
    before = catalog_file.read_bytes()
    with pytest.raises(UsageError, match=message):
        import_markdown(catalog_file, source)
    assert catalog_file.read_bytes() == before


def test_export_refuses_unknown_formats_and_folders(catalog_file: Path, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="unknown export format 'pdf'"):
        export_catalog(catalog_file, "pdf")
    with pytest.raises(UsageError, match="is a folder"):
        export_catalog(catalog_file, "md", tmp_path)


def test_a_new_sections_notes_are_written_with_it_in_the_same_edit(tmp_path: Path) -> None:
    source = write(
        tmp_path, "## Vision\nFirst line of notes.\nSecond: with a colon.\n\n- [ ] ViT\n## Other\n- [ ] X\n"
    )
    target = tmp_path / "new.yaml"
    report = import_markdown(target, source)
    assert report.notes_set == ["the notes of section 'Vision'"]
    text = target.read_text(encoding="utf-8")
    written = "  - name: Vision\n    notes: |-\n      First line of notes.\n      Second: with a colon.\n"
    assert written + "    papers:" in text
    loaded = links.load(target, cache=False)
    assert loaded.section("Vision").notes == "First line of notes.\nSecond: with a colon."
    assert loaded.section("Other").notes is None
