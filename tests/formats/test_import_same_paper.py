"""One paper, however a library exports it (issue 53, item 6): arXiv's export says 2023 and has the arXiv id,
Google Scholar's says 2017 and has neither arXiv id nor DOI; both name Vaswani first and the same title, so
they are one paper, in one file or imported one after the other. Two papers of one title by different first
authors stay two. Through the real CLI, with real ``.bib`` files (tests/data/library/same-paper-*.bib)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from cli_runner import run_cli

from readtrack.catalog.keys import author_key, doi_of, title_key

LIBRARY = Path(__file__).resolve().parents[1] / "data" / "library"
ARXIV = LIBRARY / "same-paper-arxiv.bib"
SCHOLAR = LIBRARY / "same-paper-scholar.bib"


def new_list(tmp_path: Path) -> Path:
    path = tmp_path / "mine.yaml"
    assert run_cli("--catalog", str(path), "init", "--empty").returncode == 0
    return path


def imported(path: Path, *sources: Path) -> str:
    result = run_cli("--catalog", str(path), "import", *map(str, sources))
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def papers(path: Path) -> list[dict[str, object]]:
    result = run_cli("--catalog", str(path), "list", "--json")
    assert result.returncode == 0, result.stderr
    return list(json.loads(result.stdout))


def shown(path: Path, paper_id: str) -> dict[str, object]:
    result = run_cli("--catalog", str(path), "show", paper_id, "--json")
    assert result.returncode == 0, result.stderr
    return dict(json.loads(result.stdout))


def test_arxivs_and_scholars_exports_of_one_paper_in_one_file_are_one_paper(tmp_path: Path) -> None:
    both = tmp_path / "both.bib"
    both.write_text(ARXIV.read_text(encoding="utf-8") + "\n" + SCHOLAR.read_text(encoding="utf-8"))
    path = new_list(tmp_path)
    out = imported(path, both)
    attention = [p for p in papers(path) if str(p["title"]).lower() == "attention is all you need"]
    assert len(attention) == 1  # the old rule kept them apart: "years 2017 and 2023"
    paper = attention[0]
    assert (paper["year"], paper["arxiv"]) == (2023, "1706.03762")  # the first listing's
    assert "same title and first author (Vaswani, Ashish, Ashish Vaswani)" not in out
    assert "same title and first author (Ashish Vaswani)" in out
    # the value they disagree on is named with the one kept, nothing is dropped silently ...
    scholar = _line(both, "vaswani2017attention")
    assert f'both.bib:{scholar} "Attention is all you need" says year 2017; kept 2023 (both.bib:2)' in out
    # ... and what only Scholar's entry says (the venue) is the paper's too
    details = shown(path, str(paper["id"]))
    assert details["authors"][:2] == ["Ashish Vaswani", "Noam Shazeer"]  # type: ignore[index]
    assert details["journal_ref"] == "Advances in neural information processing systems"


def test_an_entry_merges_with_the_listed_paper_of_its_title_and_first_author(tmp_path: Path) -> None:
    path = new_list(tmp_path)
    imported(path, SCHOLAR)
    before = {p["id"]: p for p in papers(path)}
    out = imported(path, ARXIV)  # imported later: the listed paper's first author is what the import stored
    after = {p["id"]: p for p in papers(path)}
    assert set(after) == set(before)  # the old rule added a second "Attention Is All You Need"
    assert "added 0 papers" in out and "is attention-all-you-need" in out
    assert after["attention-all-you-need"]["arxiv"] == "1706.03762"  # what the entry adds to the paper
    assert after["attention-all-you-need"]["year"] == 2017
    assert "says year 2023; kept 2017 (mine.yaml:" in out
    assert after["attention-all-you-need"]["plugins"] == ["transformer"]  # its arXiv id links it now
    assert imported(path, ARXIV).startswith("added 0 papers")  # and a third time, nothing new


def test_a_listed_paper_with_a_doi_takes_the_entry_of_that_doi(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text(
        textwrap.dedent(
            """\
            version: 1
            sections:
              - name: Vision
                papers:
                  - id: resnet-by-hand
                    title: ResNet
                    url: https://doi.org/10.1109/cvpr.2016.90
            """
        )
    )
    out = imported(path, SCHOLAR)
    listed = {p["id"]: p for p in papers(path)}
    assert "resnet-by-hand" in listed and len(listed) == 4  # no second ResNet
    assert "same DOI 10.1109/cvpr.2016.90" in out
    assert listed["resnet-by-hand"]["year"] == 2016  # the year the paper lacked, from the entry
    # what the library knows of the paper is stored for it: the old import dropped it
    assert shown(path, "resnet-by-hand")["authors"][0] == "Kaiming He"  # type: ignore[index]


def test_papers_of_one_title_by_different_first_authors_stay_two(tmp_path: Path) -> None:
    smith = tmp_path / "smith.bib"
    smith.write_text(
        "@article{smith2021,\n  title={Attention Mechanisms: A Survey},\n"
        "  author={Smith, Jane and Doe, John},\n  journal={Journal of Surveys},\n  year={2021}\n}\n"
    )
    jones = tmp_path / "jones.bib"
    jones.write_text(
        "@inproceedings{jones2021,\n  title={Attention mechanisms: a survey},\n  author={Jones, Bob},\n"
        "  booktitle={Workshop on Reviews},\n  year={2021}\n}\n"
    )
    both = tmp_path / "both.bib"
    both.write_text(smith.read_text() + "\n" + jones.read_text())
    # in one file: the old rule made them one paper (same title, same year)
    path = new_list(tmp_path)
    out = imported(path, both)
    assert "added 2 papers" in out
    assert "same title (first authors Bob Jones and Jane Smith)" in out  # named, kept apart
    # one listed, the other imported later: added, not refused as the listed one
    other = tmp_path / "other" / "mine.yaml"
    other.parent.mkdir()
    assert run_cli("--catalog", str(other), "init", "--empty").returncode == 0
    imported(other, smith)
    out = imported(other, jones)
    assert "added 1 paper" in out, out
    assert [p["title"] for p in papers(other)] == [
        "Attention Mechanisms: A Survey",
        "Attention mechanisms: a survey",
    ]
    # ... while the same paper again, its first author written otherwise, is the listed one
    again = tmp_path / "again.bib"
    again.write_text(
        "@misc{x,\n  title={Attention {M}echanisms: a {S}urvey},\n  author={J. Smith},\n  year={2020}\n}\n"
    )
    out = imported(other, again)
    assert "added 0 papers" in out and "same title and first author (J. Smith, Jane Smith)" in out


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("Deep Residual Learning for Image Recognition", "deep residual learning for image recognition."),
        ('Sch{\\"o}n und Schön', "Schon und Schön"),  # LaTeX and accents
        (
            "{BERT}: Pre-training of Deep {Bidirectional} Transformers",
            "BERT Pre-training of deep bidirectional transformers",
        ),
        ("Attention is all you need. arXiv preprint arXiv:1706.03762", "Attention Is All You Need"),
        ("Attention is all you need, CoRR abs/1706.03762", "Attention  is\nall you need"),
        ("Deep Residual Learning (2016)", "Deep residual learning"),
    ],
)
def test_one_title_written_otherwise(one: str, other: str) -> None:
    assert title_key(one) == title_key(other)


def test_what_stays_part_of_a_title() -> None:
    assert title_key("On the Use of ArXiv as a Dataset") == "on the use of arxiv as a dataset"
    assert title_key("Long Short-Term Memory") != title_key("Long Short-Term Memory Networks")


@pytest.mark.parametrize(
    "name", ["He, Kaiming", "Kaiming He", "K. He", "HE, K.", "He, Jr., Kaiming", "Kaiming He Jr."]
)
def test_one_first_author_written_otherwise(name: str) -> None:
    assert author_key(name) == "he"


def test_last_names_with_particles_accents_and_latex() -> None:
    assert author_key("Aäron van den Oord") == author_key("van den Oord, A.") == "oord"
    assert author_key('M{\\"u}ller, Hans') == author_key("Hans Müller") == "muller"
    assert author_key("Lee-Thorp, James") == author_key("James Lee-Thorp")
    assert author_key("") is None


def test_a_doi_from_a_link_or_as_written() -> None:
    assert (
        doi_of("https://doi.org/10.1109/CVPR.2016.90")
        == doi_of("doi:10.1109/cvpr.2016.90")
        == "10.1109/cvpr.2016.90"
    )
    assert doi_of("https://dl.acm.org/doi/abs/10.1145/3292500.3330701") == "10.1145/3292500.3330701"
    assert doi_of("https://example.org/paper.pdf") is None


def _line(path: Path, text: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if text in line)
