"""`readtrack move` (issue 93, item 1: the Normalization section put in date order): a paper's own lines
move, with the comments written over it, re-indented where they land; every other byte stays."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_runner import run_cli

from readtrack.base.errors import UsageError
from readtrack.catalog.moves import move
from readtrack.catalog.reader import load

LIST = """\
version: 1
# the reader's own header comment
sections:
  - name: Normalization and Regularization
    notes: "(TODO: in chronological order)"
    papers:
      # most used now, I think
      - id: rmsnorm
        title: Root Mean Square Layer Normalization
        year: 2019   # arXiv 1910.07467

      - id: layernorm
        title: Layer Normalization
        year: 2016
        papers:
          - id: layernorm-rnn
            title: LayerNorm in RNNs
  # a comment between sections
  - name: Other
    papers:
      - id: only
        title: The only paper here
"""


@pytest.fixture
def listing(tmp_path: Path) -> Path:
    path = tmp_path / "papers.yaml"
    path.write_text(LIST, encoding="utf-8")
    return path


def test_a_paper_moves_before_another_with_its_comment_and_nothing_else_changes(listing: Path) -> None:
    move(listing, "layernorm", before="rmsnorm")
    assert listing.read_text(encoding="utf-8") == LIST.replace(
        """      # most used now, I think
      - id: rmsnorm
        title: Root Mean Square Layer Normalization
        year: 2019   # arXiv 1910.07467

      - id: layernorm
        title: Layer Normalization
        year: 2016
        papers:
          - id: layernorm-rnn
            title: LayerNorm in RNNs
""",
        """      - id: layernorm
        title: Layer Normalization
        year: 2016
        papers:
          - id: layernorm-rnn
            title: LayerNorm in RNNs
      # most used now, I think
      - id: rmsnorm
        title: Root Mean Square Layer Normalization
        year: 2019   # arXiv 1910.07467

""",
    )
    ids = [p.id for p in load(listing).sections[0].papers]
    assert ids == ["layernorm", "rmsnorm"]


def test_the_comment_over_a_paper_goes_with_it(listing: Path) -> None:
    move(listing, "rmsnorm", after="layernorm")
    text = listing.read_text(encoding="utf-8")
    assert (
        text.index(
            "            title: LayerNorm in RNNs\n      # most used now, I think\n      - id: rmsnorm"
        )
        > 0
    )
    assert "    papers:\n\n      - id: layernorm" in text  # the blank line stayed where it was
    assert sorted(text.splitlines()) == sorted(LIST.splitlines())  # not a line lost or added


def test_a_nested_paper_moved_to_a_sections_top_level_is_reindented_and_its_list_left_empty(
    listing: Path,
) -> None:
    move(listing, "layernorm-rnn", section="Normalization and Regularization")
    text = listing.read_text(encoding="utf-8")
    assert "        papers: []\n      - id: layernorm-rnn\n        title: LayerNorm in RNNs\n" in text
    catalog = load(listing)
    assert [p.id for p in catalog.sections[0].papers] == ["rmsnorm", "layernorm", "layernorm-rnn"]


def test_the_only_paper_of_a_section_moves_out_and_the_section_stays(listing: Path) -> None:
    move(listing, "only", after="rmsnorm")
    catalog = load(listing)
    assert [s.name for s in catalog.sections] == ["Normalization and Regularization", "Other"]
    assert catalog.get("only").section == "Normalization and Regularization"
    assert "  - name: Other\n    papers: []\n" in listing.read_text(encoding="utf-8")


def test_where_it_already_is_nothing_is_written(listing: Path) -> None:
    before = listing.stat().st_mtime_ns
    move(listing, "layernorm", after="rmsnorm")
    assert listing.read_text(encoding="utf-8") == LIST and listing.stat().st_mtime_ns == before


@pytest.mark.parametrize(
    ("paper", "where", "said"),
    [
        ("layernorm", {"before": "layernorm-rnn"}, "layernorm-rnn is inside layernorm"),
        ("layernorm", {"before": "layernorm"}, "cannot go before itself"),
        ("nope", {"before": "rmsnorm"}, "no paper with id 'nope'"),
        ("layernorm", {"after": "nope"}, "no paper with id 'nope'"),
        ("layernorm", {"section": "Vision"}, "no section 'Vision'"),
        ("layernorm", {}, "say where"),
        ("layernorm", {"before": "rmsnorm", "section": "Other"}, "say where"),
    ],
)
def test_a_move_that_cannot_be_made_is_refused_and_writes_nothing(
    listing: Path, paper: str, where: dict[str, str], said: str
) -> None:
    with pytest.raises(UsageError, match=said):
        move(listing, paper, **where)
    assert listing.read_text(encoding="utf-8") == LIST


def test_the_cli_moves_the_seed_lists_layernorm_before_rmsnorm_and_only_its_lines(catalog_file: Path) -> None:
    """The move the shipped list went through (issue 93), on the seed as the reader wrote it (RMSNorm, 2019,
    before LayerNorm, 2016: the frozen copy the TUI's snapshots read)."""
    frozen = Path(__file__).resolve().parents[1] / "data" / "papers-frozen.yaml"
    catalog_file.write_text(frozen.read_text(encoding="utf-8"), encoding="utf-8")
    before = catalog_file.read_text(encoding="utf-8").splitlines()
    done = run_cli("move", "layernorm", "--before", "rmsnorm")
    assert (
        done.returncode == 0
        and done.stdout == "layernorm: before rmsnorm, in Normalization and Regularization\n"
    )
    after = catalog_file.read_text(encoding="utf-8").splitlines()
    rms = before.index("      - id: rmsnorm")
    layer = before.index("      - id: layernorm")
    expected = before[:rms] + before[layer : layer + 8] + before[rms:layer] + before[layer + 8 :]
    assert after == expected  # LayerNorm's 8 lines now before RMSNorm's, nothing else changed
    again = run_cli("move", "layernorm", "--before", "rmsnorm")
    assert again.returncode == 0 and "(already there: nothing written)" in again.stdout
    wrong = run_cli("move", "layernorm", "--section", "Nowhere")
    assert wrong.returncode == 2 and wrong.stderr.startswith("readtrack: no section 'Nowhere'")
