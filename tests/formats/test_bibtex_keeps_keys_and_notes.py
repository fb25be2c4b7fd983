"""Importing BibTeX keeps what the reader wrote (issue 73, item 8), through `readtrack import` and `readtrack
export` in a subprocess: a `.bib` entry of a paper the list has gives that paper its cite key, so the export
gives the key the reader's ``\\cite{}``s use (it came back as the generated one), and an entry's ``note``,
which bibliography styles print, comes back as ``note`` (it came back as ``annote``, which they do not)."""

from __future__ import annotations

import difflib
import re
from pathlib import Path

from cli_runner import run_cli

DATA = Path(__file__).resolve().parents[1] / "data" / "library"
# FlashAttention-2 as Google Scholar exports it: the seed list's `flashattention` holds its arXiv id
FLASH2 = """\
@article{dao2023flashattention2,
  title={FlashAttention-2: Faster Attention with Better Parallelism and Work Partitioning},
  author={Dao, Tri},
  journal={arXiv preprint arXiv:2307.08691},
  year={2023}
}
"""
ENTRY = re.compile(r"^@(?P<type>\w+)\{(?P<key>[^,\s]+),\n(?P<body>.*?)\n\}$", re.DOTALL | re.MULTILINE)


def readtrack(*args: str, home: Path | None = None, catalog: Path | None = None) -> str:
    """`readtrack ARGS` (with its own data dir ``home`` and list ``catalog`` when given); its output."""
    env = {"READTRACK_HOME": str(home)} if home else None
    result = run_cli(*(["--catalog", str(catalog)] if catalog else []), *args, env=env)
    assert result.returncode == 0, (result.stdout, result.stderr)
    return result.stdout


def entries(text: str) -> dict[str, dict[str, str]]:
    """Cite key → {field: value} of an export (one field a line, as readtrack writes them)."""
    return {
        match.group("key"): dict(re.findall(r"^  (\w+) = \{(.*)\},?$", match.group("body"), re.MULTILINE))
        for match in ENTRY.finditer(text)
    }


def changed(before: str, after: str) -> list[str]:
    diff = difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
    return [line for line in diff if line[:1] in "+-" and not line.startswith(("+++", "---"))]


def test_a_bib_entry_of_a_listed_paper_gives_it_its_cite_key(catalog_file: Path, tmp_path: Path) -> None:
    bib = tmp_path / "flash2.bib"
    bib.write_text(FLASH2, encoding="utf-8")
    before = catalog_file.read_text(encoding="utf-8")

    report = readtrack("import", str(bib))

    assert "same arXiv id 2307.08691" in report
    assert "  flashattention: bibtex @article{dao2023flashattention2}" in report.splitlines()
    # one line added to the paper, nothing else of the hand-kept file rewritten
    after = catalog_file.read_text(encoding="utf-8")
    assert changed(before, after) == ['+            bibtex: "@article{dao2023flashattention2}"']
    exported = readtrack("export", "-f", "bibtex")
    # was: @misc{dao2022flashattention, ...
    assert entries(exported)["dao2023flashattention2"]["eprint"] == "2205.14135"
    assert exported.count("{dao2023flashattention2,") == 1
    # importing again changes nothing and reports nothing added
    again = readtrack("import", str(bib))
    assert catalog_file.read_text(encoding="utf-8") == after
    assert "get what the list adds" not in again


def test_a_cite_key_is_one_papers_and_a_listed_key_is_kept(tmp_path: Path) -> None:
    """A key another paper holds is not given to a second one (the report says why), and a paper that has a
    key keeps it (the report names the file's); the export's keys stay unique."""
    bib = tmp_path / "flash2.bib"
    bib.write_text(FLASH2, encoding="utf-8")
    head = "version: 1\nsections:\n  - name: Attention\n    papers:\n"
    flash = '      - id: flash\n        title: FlashAttention\n        related: ["2307.08691"]\n'
    flash += "        year: 2022\n"
    holder = (
        '      - id: holder\n        title: Another paper\n        bibtex: "@misc{Dao2023FlashAttention2}"\n'
    )
    taken = tmp_path / "taken.yaml"
    taken.write_text(head + flash + holder, encoding="utf-8")
    keyed = tmp_path / "keyed.yaml"
    keyed.write_text(head + flash + '        bibtex: "@inproceedings{dao2022}"\n', encoding="utf-8")
    before = {path: path.read_text(encoding="utf-8") for path in (taken, keyed)}

    report = readtrack("import", str(bib), home=tmp_path, catalog=taken)
    assert (
        '  flash2.bib:1 "FlashAttention-2: Faster Attention with Better Pa…" says bibtex '
        "@article{dao2023flashattention2}; kept none: holder has cite key Dao2023FlashAttention2"
        " (taken.yaml:9)"
    ) in report.splitlines()
    keys = list(entries(readtrack("export", "-f", "bibtex", home=tmp_path, catalog=taken)))
    # the holder keeps its key; the other gets one of its own (BibTeX compares keys without case)
    assert keys == ["dao2022flashattention", "Dao2023FlashAttention2"]

    report = readtrack("import", str(bib), home=tmp_path, catalog=keyed)
    assert (
        "says bibtex @article{dao2023flashattention2}; kept @inproceedings{dao2022} (keyed.yaml:5)" in report
    )
    for path, text in before.items():
        assert path.read_text(encoding="utf-8") == text


def test_an_entrys_note_comes_back_as_note_and_the_readers_notes_as_annote(tmp_path: Path) -> None:
    bib = tmp_path / "resnet.bib"
    bib.write_text(
        "@inproceedings{he2016deep,\n  title={Deep Residual Learning for Image Recognition},\n"
        "  author={He, Kaiming and Zhang, Xiangyu},\n  booktitle={CVPR},\n  year={2016},\n"
        "  note={Oral presentation},\n  annote={Read section 4 on the bottleneck.}\n}\n",
        encoding="utf-8",
    )
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    readtrack("import", str(bib), home=first, catalog=first / "papers.yaml")
    # both are in the notes the list shows
    assert '"notes": "Oral presentation\\n\\nRead section 4 on the bottleneck."' in readtrack(
        "list", "--json", home=first, catalog=first / "papers.yaml"
    )
    exported = readtrack("export", "-f", "bibtex", home=first, catalog=first / "papers.yaml")
    resnet = entries(exported)["he2016deep"]
    # was: annote = {Oral presentation\n\n    Read section 4 ...}, no note
    assert (resnet["note"], resnet["annote"]) == ("Oral presentation", "Read section 4 on the bottleneck.")

    # the export imports back as the same list, and exports as the same text
    again = tmp_path / "again.bib"
    again.write_text(exported, encoding="utf-8")
    readtrack("import", str(again), home=second, catalog=second / "papers.yaml")
    assert (second / "papers.yaml").read_bytes() == (first / "papers.yaml").read_bytes()
    assert readtrack("export", "-f", "bibtex", home=second, catalog=second / "papers.yaml") == exported

    # notes the reader rewrote are theirs: all of them go to annote
    (paper_id,) = re.findall(r"^      - id: (\S+)$", (first / "papers.yaml").read_text(), re.MULTILINE)
    readtrack("note", paper_id, "Bottleneck blocks.", home=first, catalog=first / "papers.yaml")
    rewritten = entries(readtrack("export", "-f", "bibtex", home=first, catalog=first / "papers.yaml"))
    assert "note" not in rewritten["he2016deep"]
    assert rewritten["he2016deep"]["annote"] == "Bottleneck blocks."


def test_csl_json_note_comes_back_as_the_bibtex_note(tmp_path: Path) -> None:
    """CSL's ``note`` is BibTeX's (Zotero writes its Extra field into both): a Zotero CSL-JSON export's
    note comes back as ``note``, and the BibTeX export imports back as the same list."""
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    readtrack("import", str(DATA / "zotero-csl.json"), home=first, catalog=first / "papers.yaml")
    exported = readtrack("export", "-f", "bibtex", home=first, catalog=first / "papers.yaml")
    lenet = next(e for e in entries(exported).values() if e.get("doi") == "10.1109/5.726791")
    assert lenet["note"] == "The LeNet-5 paper." and "annote" not in lenet  # was: annote

    again = tmp_path / "again.bib"
    again.write_text(exported, encoding="utf-8")
    readtrack("import", str(again), home=second, catalog=second / "papers.yaml")
    assert readtrack("export", "-f", "bibtex", home=second, catalog=second / "papers.yaml") == exported
