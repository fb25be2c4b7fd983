"""BibTeX in, BibTeX out, BibTeX in again, through `readtrack import` and `readtrack export` in a subprocess:
the second list is the first, byte for byte, and its export the first export (issue 53: the export lost the
authors, DOI and venue the import read, made every entry @misc and replaced the cite keys).

The files are real exports: Google Scholar's "Cite → BibTeX" and arXiv's "Export BibTeX Citation" (each
entry copied as the site writes it, pasted one after another), Better BibTeX's, JabRef's and Mendeley's
(tests/data/library). Scholar's and arXiv's exports carry no DOIs; Better BibTeX's and Mendeley's do.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest
from cli_runner import run_cli

DATA = Path(__file__).resolve().parents[1] / "data" / "library"
ENTRY = re.compile(r"^@(?P<type>\w+)\{(?P<key>[^,\s]+),\n(?P<body>.*?)\n\}$", re.DOTALL | re.MULTILINE)


def readtrack(home: Path, catalog: Path, *args: str, codes: tuple[int, ...] = (0,)) -> str:
    """`readtrack --catalog CATALOG ARGS` with its own data dir ``home``; its output."""
    result = run_cli("--catalog", str(catalog), *args, env={"READTRACK_HOME": str(home)})
    assert result.returncode in codes, (result.stdout, result.stderr)
    return result.stdout


def entries(text: str) -> dict[str, tuple[str, dict[str, str]]]:
    """Cite key → (entry type, {field: value}) of an export (one field a line, as readtrack writes them)."""
    found = {}
    for match in ENTRY.finditer(text):
        fields = dict(re.findall(r"^  (\w+) = \{(.*)\},?$", match.group("body"), re.MULTILINE))
        found[match.group("key")] = (match.group("type"), fields)
    return found


def round_trip(tmp_path: Path, source: Path) -> tuple[str, str, str, str]:
    """Import ``source`` into an empty list, export it, import the export into another empty list (with
    another data dir, so nothing of the first reaches it but the file) and export that: (first list,
    first export, second list, second export)."""
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir(parents=True)
    second.mkdir(parents=True)
    readtrack(first, first / "papers.yaml", "import", str(source), codes=(0, 1))  # 1: a PDF or entry problem
    exported = first / "export.bib"
    readtrack(first, first / "papers.yaml", "export", "-f", "bibtex", "-o", str(exported))
    again = readtrack(second, second / "papers.yaml", "import", str(exported))  # no problem of its own
    assert again.startswith("added "), again
    text = readtrack(second, second / "papers.yaml", "export", "-f", "bibtex")
    return (
        (first / "papers.yaml").read_text(encoding="utf-8"),
        exported.read_text(encoding="utf-8"),
        (second / "papers.yaml").read_text(encoding="utf-8"),
        text,
    )


# Each export's papers (malformed entries and crossref'd proceedings are none) as type and key, in order.
HEADS = {
    "google-scholar.bib": [
        ("inproceedings", "vaswani2017attention"),
        ("article", "lecun1998gradient"),
        ("article", "kingma2014adam"),
        ("article", "cho2014learning"),
        ("inproceedings", "he2016deep"),
        ("article", "hochreiter1997long"),
        ("book", "scholkopf2002learning"),
    ],
    "arxiv.bib": [
        ("misc", "vaswani2023attention"),
        ("misc", "dao2022flashattentionfastmemoryefficient"),
        ("misc", "ramirez2024explainabletestcaseprioritisation"),
        ("misc", "jalil2023chatgptsoftwaretestingeducation"),
        ("misc", "rabe2022selfattentionneedon2memory"),
        ("misc", "maldacena1998largenlimitsuperconformal"),
    ],
    "better-bibtex.bib": [
        ("inproceedings", "vaswaniAttentionAllYou2017"),
        ("online", "hoDenoisingDiffusionProbabilistic2020"),
        ("article", "lecunGradientbasedLearningApplied1998"),
        ("article", "schrodingerUndulatoryTheoryMechanics1926"),
    ],
    "jabref.bib": [
        ("inproceedings", "Kingma2015"),
        ("inproceedings", "Ioffe2015"),
        ("article", "Srivastava2014dropout"),
        ("inproceedings", "Bahdanau2015"),
    ],
    "mendeley.bib": [("article", "Hu2021"), ("inproceedings", "He2016")],
}


@pytest.mark.parametrize("name", list(HEADS))
def test_import_export_import_is_a_fixed_point_with_the_keys_and_types_kept(
    tmp_path: Path, name: str
) -> None:
    first_list, first_export, second_list, second_export = round_trip(tmp_path, DATA / name)

    assert second_list == first_list
    assert second_export == first_export
    assert [(kind, key) for key, (kind, _) in entries(first_export).items()] == HEADS[name]
    assert first_export.count("\n@") + 1 == len(HEADS[name])  # every entry read by `entries`


def test_what_each_style_gives_is_written_out(tmp_path: Path) -> None:
    """Authors, venue, year, pages, DOI and the arXiv fields of an entry of each style, as a bibliography
    needs them (the old export wrote none of authors, venue, pages or an imported DOI)."""
    scholar = entries(round_trip(tmp_path / "scholar", DATA / "google-scholar.bib")[1])
    _, lecun = scholar["lecun1998gradient"]
    assert lecun == {
        "title": "Gradient-based learning applied to document recognition",
        "author": "Yann LeCun and Léon Bottou and Yoshua Bengio and Patrick Haffner",
        "journal": "Proceedings of the IEEE",
        "year": "1998",
        "volume": "86",
        "number": "11",
        "pages": "2278--2324",
        "publisher": "Ieee",
    }
    _, vaswani = scholar["vaswani2017attention"]
    assert vaswani["booktitle"] == "Advances in neural information processing systems"
    assert vaswani["author"].endswith("Aidan N Gomez and Łukasz Kaiser and Illia Polosukhin")
    _, adam = scholar["kingma2014adam"]  # "arXiv preprint arXiv:1412.6980" is no venue: the arXiv id
    assert (adam.get("journal"), adam["eprint"], adam["archivePrefix"]) == (None, "1412.6980", "arXiv")

    arxiv = entries(round_trip(tmp_path / "arxiv", DATA / "arxiv.bib")[1])
    _, flash = arxiv["dao2022flashattentionfastmemoryefficient"]
    assert flash["author"] == "Tri Dao and Daniel Y. Fu and Stefano Ermon and Atri Rudra and Christopher Ré"
    assert (flash["year"], flash["eprint"], flash["primaryClass"]) == ("2022", "2205.14135", "cs.LG")
    assert flash["url"] == "https://arxiv.org/abs/2205.14135"
    _, chatgpt = arxiv["jalil2023chatgptsoftwaretestingeducation"]
    assert chatgpt["title"] == r"{ChatGPT} and {Software} {Testing} {Education:} {Promises} \& {Perils}"

    zotero = entries(round_trip(tmp_path / "zotero", DATA / "better-bibtex.bib")[1])
    _, lenet = zotero["lecunGradientbasedLearningApplied1998"]
    assert (lenet["doi"], lenet["journal"], lenet["issn"]) == (
        "10.1109/5.726791",
        "Proceedings of the IEEE",
        "1558-2256",
    )
    assert lenet["url"] == "https://ieeexplore.ieee.org/document/726791"  # Zotero's link, not the DOI's
    assert lenet["annote"] == r"The LeNet-5 paper: convolutions, subsampling \& a graph transformer network."

    jabref = entries(round_trip(tmp_path / "jabref", DATA / "jabref.bib")[1])
    _, ioffe = jabref["Ioffe2015"]  # its venue, editor and publisher come from the @proceedings it names
    assert ioffe["booktitle"] == "Proceedings of the 32nd International Conference on Machine Learning"
    assert (ioffe["editor"], ioffe["publisher"], ioffe["readstatus"]) == (
        "Francis Bach and David Blei",
        "PMLR",
        "skimmed",
    )


def test_a_list_of_ones_own_papers_reads_back_with_code_links_notes_and_statuses(tmp_path: Path) -> None:
    """A hand-kept papers.yaml exported and imported: code links (in the note), notes (annote), statuses
    (readstatus) and tags (keywords) come back, and the keys are stored, so the export is the same."""
    home, catalog = tmp_path / "home", tmp_path / "mine.yaml"
    home.mkdir()
    catalog.write_text(
        "version: 1\nsections:\n  - name: Reading\n    papers:\n"
        "      - id: flashattention\n        title: FlashAttention\n        status: reading\n"
        '        arxiv: "2205.14135"\n        code: [https://github.com/Dao-AILab/flash-attention]\n'
        "        tags: [attention, gpu]\n        notes: |\n"
        "          Tiling: 100% on-chip.\n\n          Read §3.\n"
        "      - id: lstm\n        title: Long Short-Term Memory\n        status: skipped\n"
        "        url: https://doi.org/10.1162/neco.1997.9.8.1735\n        year: 1997\n",
        encoding="utf-8",
    )
    first = readtrack(home, catalog, "export", "-f", "bibtex")
    assert first.startswith("@misc{flashattention,\n")  # nothing known of its authors: the key is its id
    exported = tmp_path / "mine.bib"
    exported.write_text(first, encoding="utf-8")
    back = tmp_path / "back.yaml"
    readtrack(home, back, "import", str(exported))
    assert readtrack(home, back, "export", "-f", "bibtex") == first
    listed = readtrack(home, back, "list", "--json")
    assert '"code": [\n      "https://github.com/Dao-AILab/flash-attention"\n    ]' in listed
    assert '"notes": "Tiling: 100% on-chip.\\n\\nRead §3."' in listed
    assert '"status": "skipped"' in listed and '"bibtex": "@misc{lstm}"' in listed


def test_an_older_database_gains_the_fields_column(tmp_path: Path) -> None:
    """A data dir whose library_metadata table an older readtrack made (no `fields` column): the import
    adds the column and stores the pages; the export writes them."""
    home = tmp_path / "home"
    home.mkdir()
    with sqlite3.connect(home / "readtrack.db") as db:
        db.execute(
            "CREATE TABLE library_metadata (key TEXT PRIMARY KEY, paper_id TEXT NOT NULL,"
            " source TEXT NOT NULL, authors TEXT NOT NULL, abstract TEXT, doi TEXT, venue TEXT, url TEXT,"
            " imported_at TEXT NOT NULL)"
        )
    catalog = tmp_path / "papers.yaml"
    readtrack(home, catalog, "import", str(DATA / "google-scholar.bib"))
    assert "  pages = {2278--2324},\n" in readtrack(home, catalog, "export", "-f", "bibtex")


def test_show_gives_the_type_and_key_an_import_kept(tmp_path: Path) -> None:
    home, catalog = tmp_path / "home", tmp_path / "papers.yaml"
    home.mkdir()
    readtrack(home, catalog, "import", str(DATA / "google-scholar.bib"))
    assert '        bibtex: "@article{lecun1998gradient}"\n' in catalog.read_text(encoding="utf-8")
    shown = readtrack(home, catalog, "show", "gradient-based-learning-applied")
    assert "│ bibtex   @article{lecun1998gradient}" in shown
