"""CSL-JSON import (`readtrack.formats.csljson`) on a file exported by Zotero (tests/data/library)."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_runner import run_cli

from readtrack.formats import import_file, library
from readtrack.plugins.links import load

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "library" / "zotero-csl.json"


def test_zotero_csl_json_keeps_ids_status_tags_notes_and_metadata(catalog_file: Path) -> None:
    report = import_file(catalog_file, SAMPLE, section="From Zotero")

    # the Transformer is in the seed list: skipped with the line the item starts on
    assert 'zotero-csl.json:2 "Attention Is All You Need" is' in report.summary()
    papers = {p.title: p for p in load(catalog_file).section("From Zotero").papers}
    assert set(papers) == {
        "Denoising Diffusion Probabilistic Models",
        "Gradient-based learning applied to document recognition",
        "Dropout: A Simple Way to Prevent Neural Networks from Overfitting",
    }
    ddpm = papers["Denoising Diffusion Probabilistic Models"]
    # Zotero writes Extra into note: its arXiv line is the id, its Read_Status the status, neither a note
    assert (ddpm.arxiv, ddpm.status, ddpm.year, ddpm.notes) == ("2006.11239", "reading", 2020, None)
    lenet = papers["Gradient-based learning applied to document recognition"]
    assert (lenet.status, lenet.notes, lenet.url) == (
        "read",
        "The LeNet-5 paper.",
        "https://doi.org/10.1109/5.726791",
    )
    assert lenet.tags == ["character-recognition", "feature-extraction", "neural-networks"]
    assert papers["Dropout: A Simple Way to Prevent Neural Networks from Overfitting"].status == "skipped"
    assert library.details(lenet.id, None)["authors"] == ["Y. Lecun", "AT&T Labs"]
    abstract = library.details(ddpm.id, ddpm.arxiv)["abstract"]
    assert isinstance(abstract, str) and abstract.startswith("We present high quality")


def test_reimport_adds_nothing(catalog_file: Path) -> None:
    import_file(catalog_file, SAMPLE)
    written = catalog_file.read_bytes()
    again = import_file(catalog_file, SAMPLE)
    assert isinstance(again, library.LibraryReport)
    assert again.merged.added == [] and catalog_file.read_bytes() == written
    # the BibTeX of the same library adds nothing either: one identity rule for every format
    bib = Path(__file__).resolve().parents[1] / "data" / "library" / "better-bibtex.bib"
    from_bib = import_file(catalog_file, bib)
    assert isinstance(from_bib, library.LibraryReport)
    assert from_bib.merged.added == [
        p.id for p in load(catalog_file).papers() if p.title.startswith("An Undulatory Theory")
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('[{"title": "A"},\n {"title": ]', "2:12: not valid JSON (Expecting value)"),
        ('{"papers": []}', "not CSL-JSON (expected a list of items, found an object)"),
        ("title,year\nA,2020\n", "not CSL-JSON (expected a list of items starting with `[`)"),
    ],
)
def test_a_file_that_is_not_csl_json_is_one_line_and_exit_2(
    tmp_path: Path, catalog_file: Path, content: str, message: str
) -> None:
    path = tmp_path / "library.json"
    path.write_text(content, encoding="utf-8")
    before = catalog_file.read_bytes()
    result = run_cli("import", str(path))
    assert result.returncode == 2
    separator = "" if message[0].isdigit() else " "
    assert result.stderr.strip() == f"readtrack: {path}:{separator}{message}"
    assert catalog_file.read_bytes() == before


def test_an_item_without_a_title_is_a_problem_of_that_item(tmp_path: Path, catalog_file: Path) -> None:
    path = tmp_path / "library.json"
    path.write_text('[\n  {"type": "book"},\n  {"id": "x", "title": "Bayesian Data Analysis"}\n]\n')
    result = run_cli("import", str(path))
    assert result.returncode == 1
    assert "library.json:2: item 1 is not a CSL item (no title), skipped" in result.stdout
    assert any(p.title == "Bayesian Data Analysis" for p in load(catalog_file).papers())


def test_show_has_the_imported_authors_abstract_doi_and_venue(catalog_file: Path) -> None:
    import json

    import_file(catalog_file, SAMPLE)
    lenet = next(p for p in load(catalog_file).papers() if p.title.startswith("Gradient-based learning"))
    shown = json.loads(run_cli("show", lenet.id, "--json").stdout)
    assert shown["authors"] == ["Y. Lecun", "AT&T Labs"]
    assert (shown["doi"], shown["journal_ref"]) == ("10.1109/5.726791", "Proceedings of the IEEE")
    text = run_cli("show", lenet.id).stdout
    assert "Y. Lecun, AT&T Labs" in text and "10.1109/5.726791" in text


def test_the_format_is_told_by_suffix_else_by_content(tmp_path: Path, catalog_file: Path) -> None:
    from readtrack.formats import kind_of

    samples = {
        "refs": "% exported\n@article{k, title = {T}}\n",
        "export": '\ufeff[{"title": "T"}]',
        "notes": "# Reading\n- [ ] A paper\n",
        "x.bib": "",
        "x.json": "",
        "x.md": "",
    }
    kinds = {}
    for name, text in samples.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
        kinds[name] = kind_of(tmp_path / name)
    assert kinds == {
        "refs": "bibtex",
        "export": "csljson",
        "notes": "markdown",
        "x.bib": "bibtex",
        "x.json": "csljson",
        "x.md": "markdown",
    }
    nothing = run_cli("import")
    assert nothing.returncode == 2
    assert nothing.stderr.strip() == (
        "readtrack: give a file to import (FILE.md, FILE.bib or FILE.json), or --zotero [DIR]"
    )
