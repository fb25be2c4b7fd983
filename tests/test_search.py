"""`readtrack search` and its index as a user meets them: real PDFs made with fpdf2, served by the fake arXiv,
downloaded by `readtrack sync`, read by the index; the CLI in a subprocess, the index in real SQLite."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pdfgen
import pytest
from cli_runner import run_cli
from fakearxiv import FakeArxiv, serving

from readtrack import edits, search_index
from readtrack.catalog import load
from readtrack.pdfcache import arxiv_pdf_path

# flashattention's PDF: known words on known pages. Made-up words, so no plugin or abstract has them.
PAGES = [
    "# 1 Introduction\nWe propose a zorbulate method, e\ufb03cient, that de\ufb01nes a quimbly \ufb02ow.\n"
    + pdfgen.filler("p1", 120),
    "# 2 Method\nThe bucketed relative positions of the glimmertron are shared across heads.\n"
    + pdfgen.filler("p2", 120),
    "",  # the two-column page
    "# References\n[1] Vaswani et al. Attention is all you need. " + pdfgen.filler("p4", 40),
]
LEFT = (
    "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa " * 2
)
RIGHT = "uno dos tres cuatro cinco seis siete ocho nueve diez once doce trece catorce quince " * 2
SERVED = {
    "2205.14135": "article",  # flashattention
    "1901.02860": "broken",  # transformer-xl
    "1810.04805": "encrypted",  # bert
    "1512.03385": "image_only",  # resnet
}


def hits(*query: str) -> list[dict[str, object]]:
    result = run_cli("search", *query, "--json")
    assert result.returncode in (0, 1), result.stderr
    found: list[dict[str, object]] = json.loads(result.stdout)
    return found


@pytest.fixture
def synced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeArxiv]:
    """The four papers of SERVED synced from the fake arXiv, each with its generated PDF."""
    made = {
        "article": pdfgen.article(
            tmp_path / "a.pdf", PAGES, title="Glimmertron Attention", two_column={2: (LEFT, RIGHT)}
        ),
        "broken": pdfgen.broken(tmp_path / "b.pdf"),
        "encrypted": pdfgen.encrypted(tmp_path / "e.pdf", "the hidden zorbulate text"),
        "image_only": pdfgen.image_only(tmp_path / "i.pdf"),
    }
    with serving(monkeypatch) as server:
        for ident, kind in SERVED.items():
            server.serve_pdf(ident, made[kind].read_bytes())
        result = run_cli("sync", "flashattention", "transformer-xl", "bert", "resnet")
        # flashattention's related PDFs come from the same fake server: sync succeeds as a whole
        assert result.returncode == 0, result.stdout + result.stderr
        assert "Traceback" not in result.stderr
        server.sync_output = result.stdout  # type: ignore[attr-defined]
        yield server


def test_sync_indexes_the_pdfs_and_search_finds_text_on_its_page(synced: FakeArxiv) -> None:
    assert "indexed 4 PDF pages for `readtrack search`" in synced.sync_output  # type: ignore[attr-defined]
    found = hits("glimmertron")
    pages = [(h["paper_id"], h["where"]) for h in found]
    assert ("flashattention", "p. 2") in pages
    assert ("flashattention", "p. 1") in pages  # the title on the first page
    page2 = next(h for h in found if h["where"] == "p. 2")
    assert page2["field"] == "pdf" and page2["page"] == 2
    assert "bucketed relative positions of the glimmertron" in str(page2["snippet"]).lower()
    start, end = page2["highlights"][0]  # type: ignore[index]
    assert str(page2["snippet"])[start:end].lower() == "glimmertron"

    references = hits('pdf:"attention is all you need"')
    assert [(h["paper_id"], h["page"]) for h in references] == [("flashattention", 4)]

    plain = run_cli("search", "glimmertron")
    assert plain.returncode == 0
    line = next(x for x in plain.stdout.splitlines() if "p. 2" in x)
    assert line.split()[1:3] == ["flashattention", "p."] and "**glimmertron**" in line


@pytest.mark.skipif(pdfgen.unicode_font() is None, reason="no TrueType font with ligatures on this system")
def test_ligatures_read_as_letters(synced: FakeArxiv) -> None:
    for word in ("efficient", "defines", "flow"):
        found = hits(f"pdf:{word}", "quimbly")
        assert [(h["paper_id"], h["page"]) for h in found] == [("flashattention", 1)], word


def test_a_two_column_page_reads_column_by_column(synced: FakeArxiv) -> None:
    # phrases that cross line breaks inside each column: found only if the columns are not interleaved
    for phrase in ("hotel india juliet kilo lima mike november", "siete ocho nueve diez once"):
        found = hits(f'pdf:"{phrase}"')
        assert [(h["paper_id"], h["page"]) for h in found] == [("flashattention", 3)], phrase


def test_broken_encrypted_and_image_only_pdfs_are_no_text_with_a_reason(synced: FakeArxiv) -> None:
    out = synced.sync_output  # type: ignore[attr-defined]
    assert "no text in the PDF of bert: encrypted (needs a password)" in out
    assert "no text in the PDF of transformer-xl: unreadable PDF" in out
    assert "no text in the PDF of resnet: no text layer on any of its 1 pages" in out
    assert hits("pdf:hidden") == []  # the encrypted text was not read
    doctor = run_cli("doctor", "--reindex")
    assert "search index rebuilt" in doctor.stdout, doctor.stderr
    for line in ("bert: encrypted", "resnet: no text layer", "transformer-xl: unreadable"):
        assert f"  no text    {line}" in doctor.stdout
    assert [h["page"] for h in hits("glimmertron", "pdf:bucketed")] == [2]  # rebuilt, and still there


def test_edits_by_readtrack_and_by_hand_reindex_only_what_changed(
    synced: FakeArxiv, catalog_file: Path
) -> None:
    assert search_index.refresh(load(catalog_file)).changed is False  # the CLI left it up to date
    assert [h["paper_id"] for h in hits("glimmertron", "status:todo", "pdf:bucketed")] == ["flashattention"]
    assert run_cli("mark", "flashattention", "read").returncode == 0
    assert hits("glimmertron", "status:todo") == []
    assert {h["paper_id"] for h in hits("glimmertron", "status:read")} == {"flashattention"}

    text = catalog_file.read_text(encoding="utf-8")
    catalog_file.write_text(
        text.replace("label: T5 (2019)", "label: T5 (2019)\n            notes: wobblefrost")
    )
    report = search_index.refresh(load(catalog_file))
    assert (report.indexed, report.pdf_pages) == (1, 0)  # t5's row; no PDF read again
    assert [(h["paper_id"], h["field"]) for h in hits("notes:wobblefrost")] == [("t5", "notes")]

    new_pages = ["nothing here", "# 3 Results\nthe snorkelwump wins"]
    pdfgen.article(arxiv_pdf_path("2205.14135"), new_pages)  # a new version of the PDF
    report = search_index.refresh(load(catalog_file))
    assert (report.indexed, report.pdf_pages) == (1, 2)
    assert [h["page"] for h in hits("pdf:snorkelwump")] == [2]
    assert hits("pdf:glimmertron") == []


def test_plugin_pages_and_code_with_file_and_line() -> None:
    found = hits("code:bucket", "section:language")
    assert found and all(h["field"] == "code" for h in found)
    repo = Path(__file__).resolve().parents[1] / "plugins"
    for hit in found:
        line = (repo / str(hit["file"])).read_text(encoding="utf-8").splitlines()[int(hit["line"]) - 1]  # type: ignore[call-overload]
        assert "bucket" in line.lower(), (hit["where"], line)
        assert hit["where"] == f"{hit['file']}:{hit['line']}"
    page = hits("page:relative", "tag:long-context")
    assert page and {h["paper_id"] for h in page} == {"transformer-xl"}
    assert page[0]["file"] == "transformer_xl/__init__.py"


def test_filters_phrases_prefixes_and_boolean_operators(catalog_file: Path) -> None:
    edits.note(catalog_file, "bert", "zyxwv masked pretraining notes")
    assert [h["paper_id"] for h in hits("notes:zyxw*")] == ["bert"]
    assert [h["paper_id"] for h in hits('"zyxwv masked"')] == ["bert"]
    assert hits('"masked zyxwv"') == []
    assert hits("zyxwv NOT pretraining") == []
    assert [h["paper_id"] for h in hits("zyxwv OR qqqnothing")] == ["bert"]
    titles = hits("title:attention", "tag:efficiency")
    assert titles and all("efficiency" in load(catalog_file).get(str(h["paper_id"])).tags for h in titles)
    assert {h["paper_id"] for h in hits("status:read", "-n", "100")} == {
        p.id for p in load(catalog_file).papers() if p.status == "read"
    }


def test_no_match_exits_1_and_a_malformed_query_exits_2_with_one_line() -> None:
    nothing = run_cli("search", "qqqnothingzzz")
    assert nothing.returncode == 1 and nothing.stdout == ""
    assert nothing.stderr.strip() == "readtrack: nothing matches 'qqqnothingzzz'"
    for query in ("NOT attention", "attention AND", "foo:bar", "status:unread"):
        bad = run_cli("search", query)
        assert bad.returncode == 2, query
        assert len(bad.stderr.strip().splitlines()) == 1 and bad.stderr.startswith("readtrack: "), bad.stderr
        assert "Traceback" not in bad.stderr
