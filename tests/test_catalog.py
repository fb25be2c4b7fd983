"""Loading papers.yaml: the shipped seed list, validation messages, safety, and the parse cache."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from readtrack import arxivid, catalog
from readtrack.errors import CatalogError, UsageError

REPO = Path(__file__).resolve().parents[1]
SEED_TSV = REPO.parent / "shared" / "reference" / "seed-papers.tsv"


def test_seed_list_is_complete_and_matches_the_reference(catalog_file: Path) -> None:
    cat = catalog.load(catalog_file)
    papers = list(cat.papers())
    assert len(papers) == 63
    assert len(cat.sections) == 11
    assert [s.name for s in cat.sections][:3] == [
        "Optimization algorithm",
        "Development of language models",
        "Models",
    ]
    assert sorted(p.id for p in papers if p.status == "read") == [
        "adamw",
        "attention",
        "rethinking-generalization",
        "transformer",
    ]
    assert all(p.status == "todo" for p in papers if p.status != "read")
    assert cat.notes == "protip, use  perplexity.ai as a resource scrapper"
    assert cat.section("Normalization and Regularization").notes.startswith("(TODO: add more recently used")
    # nesting kept: 20 sub-items under the Transformer, one each under two Vision topics
    assert [c.id for c in cat.get("transformer").children][:3] == ["attention", "gpt", "bert"]
    assert len(cat.get("transformer").children) == 20
    assert [c.id for c in cat.get("cnn-case-study").children] == ["cnn-architectures"]
    assert [c.id for c in cat.get("visualizing-cnns").children] == ["deepdream"]
    for name in ("flashattention", "transformer", "resnet", "layernorm", "rmsnorm", "adamw"):
        cat.get(name)


@pytest.mark.skipif(not SEED_TSV.exists(), reason="shared/reference is not beside this checkout")
def test_every_item_carries_the_checked_facts(catalog_file: Path) -> None:
    rows = list(
        csv.DictReader((line for line in SEED_TSV.open() if not line.startswith("#")), delimiter="\t")
    )
    papers = list(catalog.load(catalog_file).papers())
    assert len(rows) == len(papers)
    for row, paper in zip(rows, papers, strict=True):
        ids = [i for i in row["arxiv"].split(";") if i]
        assert paper.arxiv_ids() == ids, paper.id
        if row["title"]:
            assert paper.title == row["title"], paper.id
        assert paper.year == (int(row["year"]) if row["year"] else None), paper.id
        if row["url"] and not ids:
            assert paper.url == row["url"], paper.id


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "papers.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "version: 1\nsections:\n  - name: A\n    papers:\n      - id: x\n        title: [unclosed\n",
            "papers.yaml:7:1:",
        ),
        (
            "version: 1\nsections:\n  - name: A\n    papers:\n      - id: a\n      - id: a\n",
            "papers.yaml:6:13: paper 'a': duplicate id (first used on line 5)",
        ),
        (
            "version: 1\nsections:\n  - name: A\n    papers:\n      - id: a\n        status: done\n",
            "papers.yaml:6:17: paper 'a': unknown status 'done'",
        ),
        (
            "version: 1\nsections:\n  - name: A\n    papers:\n      - id: a\n        arxiv: '12.3'\n",
            "papers.yaml:6:16: paper 'a': malformed arXiv id '12.3'",
        ),
        (
            "version: 1\nsections:\n  - name: A\n    papers:\n      - id: a\n"
            "        code: [https://github.com/u/r, github.com/u/r]\n",
            "papers.yaml:6:40: paper 'a': `code` must be web links (https://...), not 'github.com/u/r'",
        ),
        (
            "version: 1\nsections:\n  - name: A\n    papers:\n      - id: a\n        code: {pytorch: x}\n",
            "papers.yaml:6:15: paper 'a': `code` must be a list of links",
        ),
        ("version: 2\nsections: []\n", "papers.yaml:1:10: unsupported format version 2"),
        (
            "version: 1\nsections:\n  - name: A\n    papers:\n      - id: a\n        colour: red\n",
            "papers.yaml:6:9: unknown key `colour` in a paper",
        ),
        (
            "version: 1\nsections:\n  - name: A\n    papers:\n      - title: no id\n",
            "papers.yaml:5:9: a paper needs an `id`",
        ),
        ("", "papers.yaml:1:1: the file is empty"),
    ],
)
def test_invalid_files_name_file_line_and_column(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(CatalogError) as err:
        catalog.load(write(tmp_path, text))
    assert str(err.value).startswith(message)


def test_no_yaml_tag_constructs_objects(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    path = write(
        tmp_path, "version: 1\nsections:\n  - name: !!python/object/apply:os.system ['touch pwned']\n"
    )
    with pytest.raises(CatalogError, match=r"papers\.yaml:3:11"):
        catalog.load(path)  # composed, never constructed: the tag is inert
    assert not (tmp_path / "pwned").exists()
    path.write_text("version: 1\nsections:\n  - name: !!python/name:os.system x\n")
    assert catalog.load(path).sections[0].name == "x"


def test_scalars_are_read_as_written(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "version: 1\nsections:\n  - name: A\n    papers:\n      - id: a\n"
        "        arxiv: 1412.6980\n        added: 2024-04-12\n        title: yes\n",
    )
    paper = catalog.load(path).get("a")
    assert paper.arxiv == "1412.6980"  # not the float 1412.698
    assert paper.added == "2024-04-12"
    assert paper.title == "yes"


def test_cache_is_used_until_the_file_changes(tmp_path: Path) -> None:
    path = write(
        tmp_path, "version: 1\nsections:\n  - name: A\n    papers:\n      - id: a\n        title: One\n"
    )
    assert catalog.load(path).get("a").title == "One"
    assert catalog._read_cache(path, catalog.content_key(path.read_bytes()))
    path.write_text(path.read_text().replace("One", "Two"))
    assert catalog.load(path).get("a").title == "Two"
    assert [p.to_dict() for p in catalog.load(path).papers()] == [
        p.to_dict() for p in catalog.load(path, cache=False).papers()
    ]


def test_unknown_id_suggests_close_ones(catalog_file: Path) -> None:
    with pytest.raises(UsageError, match="did you mean flashattention"):
        catalog.load(catalog_file).get("flashatention")


def test_filter_by_section_status_tag_and_search(catalog_file: Path) -> None:
    cat = catalog.load(catalog_file)
    assert [p.id for p in cat.filter(section="models")] == ["rnn", "lstm", "gru", "seq2seq"]
    assert {p.id for p in cat.filter(status="read")} == {
        "adamw",
        "transformer",
        "attention",
        "rethinking-generalization",
    }
    assert {p.id for p in cat.filter(tag="normalization")} == {"rmsnorm", "layernorm"}
    assert [p.id for p in cat.filter(search="memory efficient attention")] == ["flashattention"]
    with pytest.raises(UsageError):
        cat.filter(status="done")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2205.14135", "2205.14135"),
        ("2205.14135v2", "2205.14135v2"),
        ("arXiv:1706.03762", "1706.03762"),
        ("hep-th/9901001", "hep-th/9901001"),
        ("math.GT/0309136v1", "math.GT/0309136v1"),
        ("https://arxiv.org/pdf/2207.14255.pdf", "2207.14255"),
        ("https://arxiv.org/abs/1706.03762v7", "1706.03762v7"),
        ("1234.5", None),
        ("https://example.org/2205.14135", None),
    ],
)
def test_arxiv_ids(text: str, expected: str | None) -> None:
    parsed = arxivid.parse(text)
    assert (str(parsed) if parsed else None) == expected


def test_the_packaged_seed_list_is_the_repository_list() -> None:
    """`readtrack` installed from a wheel starts from readtrack/data/papers.yaml; the repository's own
    papers.yaml is the same list. An edit to one of them (a new `plugin:` line) must go to both."""
    assert (REPO / "readtrack" / "data" / "papers.yaml").read_bytes() == (
        REPO / "papers.yaml"
    ).read_bytes(), (
        "papers.yaml and readtrack/data/papers.yaml differ: copy the one you edited over the other"
    )


def test_the_file_keys_come_from_the_paper_dataclass(tmp_path: Path) -> None:
    keys = ("id", "title", "label", "status", "arxiv", "related", "url", "code", "year", "tags", "plugin")
    keys = (*keys, "added")
    expected = (*keys, "read", "notes", "papers")  # free text and nesting after the one-line keys
    assert expected == catalog.PAPER_KEYS
    path = write(tmp_path, "version: 1\nsections:\n  - name: A\n    papers:\n      - id: a\n        x: 1\n")
    with pytest.raises(CatalogError, match=r"allowed: id, title, label, status, .*, notes, papers\)"):
        catalog.load(path)


def test_every_key_is_read_and_survives_the_cache(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "version: 1\nsections:\n  - name: A\n    papers:\n      - id: a\n        title: T\n"
        "        label: L\n        status: reading\n        arxiv: '2205.14135'\n"
        "        related: [1706.03762]\n"
        "        url: https://example.org\n        code: https://github.com/u/r\n"
        "        year: 2022\n        tags: [x]\n        plugin: p\n"
        "        added: 2024-01-02\n        read: 2024-02-03\n        notes: |\n          n\n"
        "        papers:\n          - id: b\n",
    )
    paper = catalog.load(path).get("a")
    assert paper.to_dict() == {
        **{"id": "a", "title": "T", "label": "L", "section": "A", "status": "reading"},
        **{"arxiv": "2205.14135", "related": ["1706.03762"], "url": "https://example.org", "year": 2022},
        "code": ["https://github.com/u/r"],
        **{"tags": ["x"], "notes": "n", "plugins": ["p"], "added": "2024-01-02", "read": "2024-02-03"},
        **{"parent": None, "depth": 0, "line": 5},
    }
    cached = catalog.load(path)  # the second load comes from the parse cache
    assert cached.get("a") == paper and cached.get("b").parent == "a"
