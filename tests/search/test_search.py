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

from readtrack.catalog import edits
from readtrack.catalog.pdfcache import arxiv_pdf_path
from readtrack.plugins.links import load
from readtrack.search import index as search_index

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
        server.sync_output = result.stdout
        yield server


def test_sync_indexes_the_pdfs_and_search_finds_text_on_its_page(synced: FakeArxiv) -> None:
    assert "indexed 4 PDF pages for `readtrack search`" in synced.sync_output
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
    out = synced.sync_output
    assert "no text in the PDF of bert: encrypted (needs a password)" in out
    assert "no text in the PDF of transformer-xl: unreadable PDF" in out
    assert "no text in the PDF of resnet: no text layer on its only page" in out
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
    kinds_in_rowids()


def kinds_in_rowids() -> None:
    """Ranking reads each document's kind from its rowid's low bits: they must say what search_docs says."""
    from readtrack.base.store import opened

    with opened(search_index.SCHEMA) as db:
        rows = db.execute("SELECT id, kind FROM search_docs").fetchall()
    assert {kind for _, kind in rows} == set(search_index.KIND_BITS)
    assert all(doc_id & 3 == search_index.KIND_BITS[kind] for doc_id, kind in rows)


def test_plugin_pages_and_code_with_file_and_line() -> None:
    found = hits("code:bucket", "section:language")
    assert found and all(h["field"] == "code" for h in found)
    repo = Path(__file__).resolve().parents[2] / "plugins"
    for hit in found:
        line = (repo / str(hit["file"])).read_text(encoding="utf-8").splitlines()[int(hit["line"]) - 1]  # type: ignore[call-overload]
        assert "bucket" in line.lower(), (hit["where"], line)
        assert hit["where"] == f"{hit['file']}:{hit['line']}"
    page = hits("page:relative", "tag:long-context")
    assert page and {h["paper_id"] for h in page} == {"transformer-xl"}
    assert page[0]["file"] == "transformer_xl/__init__.py"


def test_search_reads_a_plugin_beside_the_catalog_as_text_and_never_runs_it(catalog_file: Path) -> None:
    marker = catalog_file.parent / "imported.txt"
    folder = catalog_file.parent / "plugins" / "zeal"  # plugins/ beside papers.yaml: the user folder
    folder.mkdir(parents=True)
    (folder / "__init__.py").write_text(
        f'''"""Zeal: a page about quuxification."""

from pathlib import Path

Path({str(marker)!r}).write_text("imported")  # what a hostile or careless plugin could do on import

from readtrack.plugins.declaration import declare

readtrack_paper_plugins = declare(__name__, name="zeal-plugin", title="Zeal", arxiv=None, claim="zeal")
''',
        encoding="utf-8",
    )
    (folder / "experiment.py").write_text("def bench(ctx):\n    frobnicate_quux = 1\n", encoding="utf-8")
    text = catalog_file.read_text(encoding="utf-8")
    catalog_file.write_text(
        text.replace("            plugin: gpt\n", "            plugin: [gpt, zeal-plugin]\n")
    )
    page, code = hits("page:quuxification"), hits("code:frobnicate_quux")
    assert not marker.exists(), "searching imported a plugin"
    assert [(h["paper_id"], h["file"]) for h in page] == [("gpt", "zeal/__init__.py")]
    assert [(h["paper_id"], h["where"]) for h in code] == [("gpt", "zeal/experiment.py:2")]


def test_plugin_folders_read_as_text_are_the_folders_discovery_imports() -> None:
    import importlib.util

    from readtrack.plugins.discovery import LoadedPlugin, discover
    from readtrack.plugins.folders import folders_as_text

    imported = {}
    for plugin in discover():
        if isinstance(plugin, LoadedPlugin):
            spec = importlib.util.find_spec(plugin.info.package)
            assert spec is not None and spec.submodule_search_locations
            imported[plugin.name] = Path(next(iter(spec.submodule_search_locations))).resolve()
    read = {name: folder.resolve() for name, folder in folders_as_text().items()}
    assert len(imported) > 50 and read == imported


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


# -- the index after edits of papers.yaml: the lines an edit changed, and every fallback ---------------------

SMALL = """\
version: 1
title: A small list
sections:
  - name: Alpha
    papers:
      - id: a1
        title: First alpha paper
        status: todo
        tags: [x]
      - id: a2
        title: Second alpha paper
        status: read
        notes: |
          two lines
          of notes
      - id: a3
        title: Third alpha paper
        papers:
          - id: a3-child
            title: A nested paper
            status: todo
        notes: the parent's notes, after its nested papers
  - papers:
      - id: b1
        title: First beta paper
      - id: b2
        title: Second beta paper
        year: 2020
    name: >
      Beta
      section
  - name: Gamma
    papers:
      - id: g1
        title: The last paper
        status: todo
"""


def indexed(catalog_file: Path) -> None:
    """The index says what the list says: every paper's row, digest and FTS text is the current one."""
    from readtrack.base.store import opened

    catalog = load(catalog_file)
    with opened(search_index.SCHEMA) as db:
        rows = {r[0]: tuple(r[1:]) for r in db.execute("SELECT * FROM search_papers")}
        fts = {
            r[0]: tuple(r[1:])
            for r in db.execute(
                "SELECT d.paper_id, f.title, f.section, f.notes FROM search_docs d "
                "JOIN search_fts f ON f.rowid = d.id WHERE d.kind = 'paper'"
            )
        }
    papers = list(catalog.papers())
    tags = {p.id: f" {' '.join(p.tags)} " for p in papers}
    digest = search_index._paper_digest
    assert rows == {p.id: (digest(p), p.display_title, p.status, p.section, tags[p.id]) for p in papers}
    assert fts == {p.id: (p.title, p.section, p.notes or "") for p in papers}


@pytest.fixture
def small(catalog_file: Path) -> Path:
    catalog_file.write_text(SMALL, encoding="utf-8")
    search_index.refresh(load(catalog_file))
    indexed(catalog_file)
    return catalog_file


@pytest.fixture
def compared(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many refreshes compared every paper (the fallback) rather than the lines the edit changed."""
    calls: list[int] = []
    every = search_index._changed_papers

    def spy(*args: object) -> object:
        calls.append(1)
        return every(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(search_index, "_changed_papers", spy)
    return calls


def edit(path: Path, old: str, new: str) -> search_index.IndexReport:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")
    return search_index.refresh(load(path))


def test_an_edit_inside_one_entry_reindexes_that_paper_from_its_lines(
    small: Path, compared: list[int]
) -> None:
    edits.mark(small, "a1", "reading")
    assert search_index.refresh(load(small)).indexed == 1
    edits.note(small, "a2", "new notes\nover three\nlines")
    assert search_index.refresh(load(small)).indexed == 1
    assert edit(small, "        year: 2020\n", "        year: 2021\n        tags: [late]\n").indexed == 1
    assert edit(small, "The last paper", "The very last paper").indexed == 1  # the end of the file
    # lines added inside one entry: a1's new notes, just before a2's first line
    assert (
        edit(small, "        tags: [x]\n", "        tags: [y]\n        notes: |\n          z\n").indexed == 1
    )
    assert edit(small, "A nested paper", "A nested, renamed paper").indexed == 1
    # a parent's notes after its nested papers: the lines sit after the child's first line, the parent changes
    assert edit(small, "the parent's notes", "the parent's new notes").indexed == 1
    assert compared == []  # none of these compared every paper
    indexed(small)
    assert [h["paper_id"] for h in hits("notes:parent's new")] == ["a3"]


@pytest.mark.parametrize(
    ("old", "new", "changed"),
    [
        ("      Beta\n      section", "      Bravo\n      section", {"b1", "b2"}),  # a section renamed
        ("  - name: Gamma\n", "  - name: Delta\n", {"g1"}),
        (
            "        year: 2020\n",
            "        year: 2020\n      - id: b3\n        title: Added by hand\n",
            {"b3"},
        ),
        ("      - id: b1\n        title: First beta paper\n", "", {"b1"}),  # a paper removed
        ("      - id: a1\n", "      - id: a1-renamed\n", {"a1", "a1-renamed"}),  # a first line
        # one write changing two entries: the end of a1 and the start of a2
        (
            "        tags: [x]\n      - id: a2\n        title: Second alpha paper\n",
            "        tags: [y]\n        notes: z\n      - id: a2\n        title: Second, edited\n",
            {"a1", "a2"},
        ),
        ("        tags: [x]\n", "        tags: &shared [x]\n", set()),  # an anchor: an alias may show it
        ("title: A small list\n", "title: A small list, renamed\n", set()),  # the top of the file
    ],
)
def test_an_edit_the_lines_cannot_place_compares_every_paper(
    small: Path, compared: list[int], old: str, new: str, changed: set[str]
) -> None:
    report = edit(small, old, new)
    assert compared == [1]
    assert report.indexed + report.removed >= len(changed)
    indexed(small)


def test_section_rename_reindexes_its_papers_section(small: Path) -> None:
    edit(small, "  - name: Gamma\n", "  - name: Delta\n")
    assert [h["paper_id"] for h in hits("section:delta")] == ["g1"]
    assert hits("section:gamma") == []


def test_a_missing_or_damaged_saved_text_compares_every_paper(
    small: Path, compared: list[int], readtrack_home: Path
) -> None:
    (saved,) = (readtrack_home / "cache").glob("search-catalog-*")
    saved.write_bytes(saved.read_bytes().replace(b"First alpha", b"First alphz"))  # same length, other CRC
    assert edit(small, "Second alpha paper", "Second alpha paper, edited").indexed == 1
    assert compared == [1]
    (saved,) = (readtrack_home / "cache").glob("search-catalog-*")  # the old one is gone, a new one saved
    saved.unlink()
    assert edit(small, "Third alpha paper", "Third alpha paper, edited").indexed == 1
    assert compared == [1, 1]
    assert edit(small, "First beta paper", "First beta paper, edited").indexed == 1  # saved again: lines
    assert compared == [1, 1]
    indexed(small)


def test_a_plugin_named_by_an_edit_is_indexed_and_an_unchanged_list_reuses_the_plugin_folders(
    small: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    edit(small, "        title: The last paper\n", "        title: The last paper\n        plugin: rope\n")
    found = hits("code:rotary", "section:gamma")
    assert found and {h["paper_id"] for h in found} == {"g1"}
    assert str(found[0]["file"]).startswith("rope/")

    def walked(*args: object) -> object:
        raise AssertionError("the plugin folders of an unchanged list are the ones the index kept")

    monkeypatch.setattr(search_index, "_plugin_folders", walked)
    assert search_index.refresh(load(small)).changed is False


def test_random_edits_never_leave_the_index_stale(small: Path, compared: list[int]) -> None:
    """Line-level mutations of a list with nesting, a section named after its papers and block notes:
    after each one that still loads, the index matches the list, whichever way the refresh went."""
    import random

    from readtrack.base.errors import CatalogError

    rng = random.Random(30)
    words = ["alpha", "beta", "notes", "x", "moved", "zz"]
    fast = 0
    for step in range(160):
        text = small.read_text(encoding="utf-8")
        lines = text.splitlines(keepends=True)
        n = rng.randrange(len(lines))
        pad = " " * (len(lines[n]) - len(lines[n].lstrip()))
        word = f"{rng.choice(words)}{step}"
        choice = rng.randrange(7)
        if choice == 0 and ": " in lines[n]:  # a value changed
            lines[n] = lines[n].split(": ", 1)[0] + f": {word}\n"
        elif choice == 1:  # a key added after this line
            lines.insert(n + 1, f"{pad}notes: {word}\n")
        elif choice == 2:
            del lines[n]
        elif choice == 3:
            lines.insert(n, lines[n])
        elif choice == 4:  # indentation changed
            lines[n] = ("  " + lines[n]) if rng.random() < 0.5 else lines[n].removeprefix("  ")
        elif choice == 5:  # a block of notes
            lines.insert(n + 1, f"{pad}notes: |\n{pad}  {word}\n{pad}  more {word}\n")
        else:
            lines[n], lines[n - 1] = lines[n - 1], lines[n]
        small.write_text("".join(lines), encoding="utf-8")
        try:
            catalog = load(small)
        except CatalogError:
            small.write_text(text, encoding="utf-8")
            continue
        before = len(compared)
        search_index.refresh(catalog)
        fast += len(compared) == before
        indexed(small)
    assert fast >= 20 and len(compared) >= 20  # both ways were taken, often
