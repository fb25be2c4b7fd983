"""Edits to papers.yaml change only their own lines, never clobber concurrent changes, and fail safely."""

from __future__ import annotations

import dataclasses
import difflib
import os
import threading
from pathlib import Path

import pytest

from readtrack.base.errors import AlreadyListed, CatalogError, UsageError
from readtrack.catalog import edits
from readtrack.catalog import model as catalog
from readtrack.catalog import reader as catalog_reader
from readtrack.catalog.new_paper import NewPaper
from readtrack.plugins import links


def changed_lines(before: str, after: str) -> list[str]:
    diff = difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
    return [line for line in diff if line[:1] in "+-" and not line.startswith(("+++", "---"))]


def test_mark_changes_exactly_one_line(catalog_file: Path) -> None:
    before = catalog_file.read_text()
    edits.mark(catalog_file, "transformer-xl", "read")
    assert changed_lines(before, catalog_file.read_text()) == [
        "-            status: todo",
        "+            status: read",
    ]


def test_a_list_field_is_removed_with_none_and_only_its_line_goes(catalog_file: Path) -> None:
    before = catalog_file.read_text(encoding="utf-8")
    edits.set_fields(catalog_file, "rope", {"plugin": None})  # read back as [], once refused as a mismatch
    edits.set_fields(catalog_file, "lbfgs", {"tags": None})
    assert sorted(changed_lines(before, catalog_file.read_text())) == [
        "-        plugin: rope",
        "-        tags: [optimization]",
    ]
    assert catalog_reader.load(catalog_file).get("rope").plugins == []
    linked = links.load(catalog_file).get("rope")  # without `plugin:`, found again by its arXiv id
    assert (linked.plugins, linked.plugin_link) == (["rope"], "arxiv id")


def test_mark_with_date_adds_the_read_line_after_status(catalog_file: Path) -> None:
    before = catalog_file.read_text()
    edits.mark(catalog_file, "layernorm", "read", record_date=True)
    diff = changed_lines(before, catalog_file.read_text())
    assert diff[0:2] == ["-        status: todo", "+        status: read"]
    assert diff[2] == f"+        read: {edits.today()}"
    assert links.load(catalog_file).get("layernorm").read == edits.today()


def test_notes_single_and_multi_line_round_trip(catalog_file: Path) -> None:
    original = catalog_file.read_text()
    edits.note(catalog_file, "bert", "masked LM: 15% of tokens # not a comment")
    assert links.load(catalog_file).get("bert").notes == "masked LM: 15% of tokens # not a comment"
    text = "first line\n\n  indented: second\nthird"
    edits.note(catalog_file, "bert", text)
    assert links.load(catalog_file).get("bert").notes == text
    edits.note(catalog_file, "bert", "short again")
    assert links.load(catalog_file).get("bert").notes == "short again"
    edits.note(catalog_file, "bert", "")
    assert links.load(catalog_file).get("bert").notes is None
    assert catalog_file.read_text() == original


def test_tags_add_and_remove_in_place(catalog_file: Path) -> None:
    before = catalog_file.read_text()
    edits.tag(catalog_file, "flashattention", ["+gpu", "-efficiency", "attention"])
    assert links.load(catalog_file).get("flashattention").tags == ["attention", "gpu"]
    assert changed_lines(before, catalog_file.read_text()) == [
        "-            tags: [attention, efficiency]",
        "+            tags: [attention, gpu]",
    ]
    with pytest.raises(UsageError, match="bad tag"):
        edits.tag(catalog_file, "bert", ["+two words"])


def test_block_style_tags_stay_block_style(tmp_path: Path) -> None:
    path = tmp_path / "papers.yaml"
    path.write_text(
        "version: 1\nsections:\n- name: A\n  papers:\n  - id: a\n    tags:\n    - x\n    - y\n    notes: n\n"
    )
    edits.tag(path, "a", ["+z"])
    assert path.read_text() == (
        "version: 1\nsections:\n- name: A\n  papers:\n  - id: a\n"
        "    tags:\n    - x\n    - y\n    - z\n    notes: n\n"
    )


def test_add_papers_to_existing_new_and_nested_places(catalog_file: Path) -> None:
    before = catalog_file.read_text()
    edits.add_papers(catalog_file, "Vision", [NewPaper(title="Swin Transformer", arxiv="2103.14030")])
    edits.add_papers(catalog_file, "Brand: new", [NewPaper(title="A: tricky # title"), NewPaper(title="B")])
    edits.add_papers(catalog_file, "ignored", [NewPaper(title="Elman nets")], parent="rnn")
    cat = links.load(catalog_file)
    assert cat.get("swin-transformer").section == "Vision"
    assert [p.title for p in cat.section("Brand: new").papers] == ["A: tricky # title", "B"]
    assert cat.get("elman-nets").parent == "rnn"
    # nothing that existed before changed: every old line is still there, in order
    removed = [line for line in changed_lines(before, catalog_file.read_text()) if line.startswith("-")]
    assert removed == []


def test_ids_are_made_unique(catalog_file: Path) -> None:
    edits.add_papers(catalog_file, "Inbox", [NewPaper(title="ResNet"), NewPaper(title="ResNet")])
    ids = [p.id for p in links.load(catalog_file).section("Inbox").papers]
    assert ids == ["resnet-2", "resnet-3"]


def test_invalid_file_is_left_untouched(catalog_file: Path) -> None:
    broken = catalog_file.read_text() + "  - name: [oops\n"
    catalog_file.write_text(broken)
    with pytest.raises(CatalogError, match=r"papers.yaml:\d+:\d+"):
        edits.mark(catalog_file, "bert", "read")
    assert catalog_file.read_text() == broken


def test_edit_is_reapplied_when_the_file_changes_meanwhile(catalog_file: Path) -> None:
    """Simulate an editor saving between our read and our write: the other change must survive."""
    original_apply = edits.Document.apply
    fired = threading.Event()

    def apply_then_someone_else_saves(self: edits.Document, splices: list[edits.Splice]) -> str:
        if not fired.is_set():
            fired.set()
            text = catalog_file.read_text().replace(
                'status: todo\n            arxiv: "1810.04805"',
                'status: reading\n            arxiv: "1810.04805"',
            )
            catalog_file.write_text(text)
        return original_apply(self, splices)

    edits.Document.apply = apply_then_someone_else_saves  # type: ignore[method-assign]
    try:
        edits.mark(catalog_file, "t5", "read")
    finally:
        edits.Document.apply = original_apply  # type: ignore[method-assign]
    cat = links.load(catalog_file)
    assert cat.get("bert").status == "reading"  # the concurrent change survived
    assert cat.get("t5").status == "read"  # and ours was applied on top


def test_writes_are_atomic_and_keep_permissions(catalog_file: Path) -> None:
    os.chmod(catalog_file, 0o640)
    inode = catalog_file.stat().st_ino
    edits.mark(catalog_file, "bert", "read")
    assert catalog_file.stat().st_ino != inode  # replaced, not rewritten in place
    assert catalog_file.stat().st_mode & 0o777 == 0o640
    assert not [p for p in catalog_file.parent.iterdir() if p.name.endswith(".tmp")]


def test_crlf_files_keep_their_line_endings(tmp_path: Path) -> None:
    path = tmp_path / "papers.yaml"
    path.write_bytes(
        b"version: 1\r\nsections:\r\n  - name: A\r\n    papers:\r\n      - id: a\r\n        status: todo\r\n"
    )
    edits.mark(path, "a", "read")
    assert (
        path.read_bytes() == b"version: 1\r\nsections:\r\n  - name: A\r\n    papers:\r\n      - id: a\r\n"
        b"        status: read\r\n"
    )


@pytest.mark.parametrize(
    ("entry", "field", "value"),
    [
        ("2205.14135", "arxiv", "2205.14135"),
        ("https://arxiv.org/abs/1706.03762v7", "arxiv", "1706.03762v7"),
        (
            "https://example.org/papers/deep-learning.pdf",
            "url",
            "https://example.org/papers/deep-learning.pdf",
        ),
        ("Deep Residual Learning", "title", "Deep Residual Learning"),
        ("DOI:10.1109/CVPR.2016.90", "url", "https://doi.org/10.1109/CVPR.2016.90"),  # as `next` shows one
        ("doi: 10.1109/CVPR.2016.90", "url", "https://doi.org/10.1109/CVPR.2016.90"),
        ("10.1109/CVPR.2016.90", "url", "https://doi.org/10.1109/CVPR.2016.90"),
    ],
)
def test_parse_entry(entry: str, field: str, value: str) -> None:
    assert getattr(edits.parse_entry(entry), field) == value


def test_flow_style_papers_and_empty_lists(tmp_path: Path) -> None:
    path = tmp_path / "papers.yaml"
    path.write_text(
        "version: 1\nsections:\n  - name: A\n    papers:\n      - {id: a, title: T, status: todo}\n"
        "  - name: B\n    papers:\n  - name: C\n    papers: []\n"
    )
    edits.note(path, "a", "x, y [z]")
    edits.tag(path, "a", ["+q"])
    edits.add_papers(path, "B", [NewPaper(title="One")])
    edits.add_papers(path, "C", [NewPaper(title="Two"), NewPaper(title="Three")])
    cat = links.load(path)
    assert (cat.get("a").notes, cat.get("a").tags) == ("x, y [z]", ["q"])
    assert [p.id for p in cat.section("B").papers] == ["one"]
    assert [p.id for p in cat.section("C").papers] == ["two", "three"]
    assert (
        path.read_text().splitlines()[4]
        == '      - {id: a, title: T, status: todo, notes: "x, y [z]", tags: [q]}'
    )


def test_null_values_read_as_missing(tmp_path: Path) -> None:
    path = tmp_path / "papers.yaml"
    path.write_text(
        "version: 1\nsections:\n  - name: A\n    papers:\n      - id: a\n        year:\n        status: ~\n"
    )
    paper = links.load(path).get("a")
    assert (paper.year, paper.status) == (None, "todo")


# -- one shape for a paper ----------------------------------------------------------------------------


def test_a_new_paper_has_exactly_the_keys_of_a_paper() -> None:
    """NewPaper is the input form of `Paper`: the same fields as papers.yaml's keys, an optional id."""
    paper_keys = {f.name: f.type for f in catalog.FILE_FIELDS}
    new_keys = {f.name: f.type for f in dataclasses.fields(NewPaper)}
    assert new_keys.keys() == paper_keys.keys()
    assert new_keys.pop("id") == "str | None" and new_keys.pop("children") == "list[NewPaper]"
    assert all(paper_keys[name] == kind for name, kind in new_keys.items())


def test_a_new_paper_with_every_key_set_reads_back_as_written(tmp_path: Path) -> None:
    path = tmp_path / "papers.yaml"
    path.write_text("version: 1\nsections:\n  - name: A\n    papers: []\n")
    child = NewPaper(title="Child", id="child", arxiv="hep-th/9901001v2")
    new = NewPaper(
        title="Everything: a paper",
        id="everything",
        arxiv="2205.14135",
        related=["1706.03762", "1607.06450"],
        label="Every key",
        url="https://example.org/a paper.pdf",
        code=["https://github.com/u/r", "https://gitlab.com/g/p?ref=a,b#x"],
        year=2022,
        status="reading",
        tags=["x", "y-z"],
        notes="first line\nsecond line",
        added="2024-01-02",
        plugins=["flashattention"],
        read="2024-02-03",
        children=[child],
    )
    edits.add_papers(path, "A", [new])
    loaded = links.load(path, cache=False)
    paper = loaded.get("everything")
    for paper_field in catalog.FILE_FIELDS:
        if paper_field.name != "children":
            assert getattr(paper, paper_field.name) == getattr(new, paper_field.name), paper_field.name
    assert [c.id for c in paper.children] == ["child"]
    assert loaded.get("child").arxiv == "hep-th/9901001v2"
    written = path.read_text()
    assert [line.split(":")[0].strip() for line in written.splitlines()[4:18]] == [
        "- id",
        "title",
        "label",
        "status",
        "arxiv",
        "related",
        "url",
        "code",
        "year",
        "tags",
        "plugin",
        "added",
        "read",
        "notes",
    ]
    assert '        arxiv: "2205.14135"' in written and '        arxiv: "hep-th/9901001v2"' in written


# -- rules that protect the list ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("new", "owner"),
    [
        (NewPaper(title="", arxiv="1711.05101v2"), "adamw"),  # another version of a listed id
        (NewPaper(title="Some title", related=["1706.03762"]), "transformer"),  # a related id
        (  # nested under a new paper
            NewPaper(title="Parent", children=[NewPaper(title="", arxiv="2205.14135")]),
            "flashattention",
        ),
    ],
)
def test_a_paper_already_in_the_list_is_refused_and_the_file_is_unchanged(
    catalog_file: Path, new: NewPaper, owner: str
) -> None:
    before = catalog_file.read_bytes()
    with pytest.raises(AlreadyListed, match=f"is already in the list as '{owner}'"):
        edits.add_papers(catalog_file, "Inbox", [new])
    assert catalog_file.read_bytes() == before


def test_papers_that_share_an_id_with_each_other_can_still_be_added(tmp_path: Path) -> None:
    """The list may hold an item that bundles papers with one of its children: only the file is checked."""
    path = tmp_path / "papers.yaml"
    path.write_text("version: 1\nsections: []\n")
    child = NewPaper(title="Attention", arxiv="1706.03762")
    edits.add_papers(path, "A", [NewPaper(title="Transformer", arxiv="1706.03762", children=[child])])
    assert [p.arxiv for p in links.load(path).papers()] == ["1706.03762", "1706.03762"]


def test_a_paper_titled_null_gets_an_id_yaml_reads_as_a_word(tmp_path: Path) -> None:
    """Found by the edits property test: the id `null`, written plain, reads back as no id at all."""
    path = tmp_path / "papers.yaml"
    path.write_text("version: 1\nsections: []\n", encoding="utf-8")
    edits.add_papers(path, "A", [NewPaper(title="NULL")])
    assert [p.id for p in links.load(path, cache=False).papers()] == ["null-paper"]
