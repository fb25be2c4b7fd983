"""Zotero import (`readtrack.formats.zotero`) from a data directory whose ``zotero.sqlite`` is built
from Zotero's published schema (tests/zotero_db.py), for the userdata schemas of Zotero 7/8 (123) and of its
development line (129)."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest
from cli_runner import run_cli
from zotero_db import ZoteroLibrary, tiny_pdf

from readtrack.base.errors import UsageError
from readtrack.catalog import pdfcache
from readtrack.formats import import_zotero, library, zotero
from readtrack.plugins.links import load


def build(folder: Path, userdata: int = 129) -> tuple[ZoteroLibrary, dict[str, int]]:
    """A reader's library: nested collections, notes, PDFs, statuses, and things in the trash."""
    z = ZoteroLibrary(folder, userdata)
    ml = z.collection("Machine Learning")
    vision = z.collection("Vision", ml)
    detection = z.collection("Detection", vision)
    gone = z.collection("Old course")
    ids = {}
    ids["ddpm"] = z.item(
        "preprint",
        title="Denoising Diffusion Probabilistic Models",
        creators=[("Jonathan", "Ho"), ("Ajay", "Jain")],
        tags=["diffusion", "Computer Science - Machine Learning"],
        collections=[vision, ml],
        date="2020-12-16 2020-12-16",
        archiveID="arXiv:2006.11239",
        DOI="10.48550/arXiv.2006.11239",
        url="http://arxiv.org/abs/2006.11239",
        repository="arXiv",
        abstractNote="We present high quality image synthesis results using diffusion models.",
        extra="Read_Status: In Progress\nRead_Status_Date: 2024-02-11T09:12:44.000Z",
        added="2024-02-10 08:00:00",
    )
    z.note(
        ids["ddpm"],
        '<div data-schema-version="9"><h1>Summary</h1><p>Noise is added in <b>T</b> steps &amp; '
        "learned back.</p><ul><li>simple loss</li><li>U-Net</li></ul></div>",
    )
    ids["ddpm_pdf"] = z.pdf(ids["ddpm"], "Ho et al. - 2020 - Denoising Diffusion.pdf", tiny_pdf("ddpm"))
    ids["yolo"] = z.item(
        "conferencePaper",
        title="You Only Look Once: Unified, Real-Time Object Detection",
        creators=[("Joseph", "Redmon")],
        collections=[detection],
        date="2016-06 2016",
        DOI="10.1109/CVPR.2016.91",
        proceedingsTitle="2016 IEEE Conference on Computer Vision and Pattern Recognition (CVPR)",
        url="https://ieeexplore.ieee.org/document/7780460",
        extra="Read_Status: Read",
    )
    z.pdf(ids["yolo"], "missing.pdf")  # Zotero lists it, the file was never synced here
    ids["lenet"] = z.item(
        "journalArticle",
        title="Gradient-based learning applied to document recognition",
        creators=[("Y.", "Lecun"), ("", "AT&T Labs")],
        collections=[ml],
        date="1998-11-00 November 1998",
        DOI="10.1109/5.726791",
        publicationTitle="Proceedings of the IEEE",
        extra="Read_Status: Not Reading",
    )
    ids["dropout"] = z.item(
        "journalArticle",
        title="Dropout: A Simple Way to Prevent Neural Networks from Overfitting",
        date="2014 2014",
        publicationTitle="Journal of Machine Learning Research",
        extra="Read_Status: To Read",
    )
    ids["transformer"] = z.item(  # in the seed list already
        "preprint", title="Attention Is All You Need", archiveID="arXiv:1706.03762", collections=[ml]
    )
    ids["standalone"] = z.pdf(None, "notes-on-rl.pdf", tiny_pdf("rl"), title="Lecture notes on RL")
    trashed = z.item("journalArticle", title="A Paper In The Trash", date="2019", collections=[ml])
    z.trash(trashed)
    deleted_note = z.note(ids["ddpm"], "<p>deleted thought</p>")
    z.trash(deleted_note)
    in_gone = z.item("journalArticle", title="Only In A Trashed Collection", date="2012", collections=[gone])
    ids["in_gone"] = in_gone
    z.trash_collection(gone)
    z.commit()
    return z, ids


@pytest.mark.parametrize("userdata", [123, 129])
def test_a_zotero_library_comes_in_whole(tmp_path: Path, catalog_file: Path, userdata: int) -> None:
    z, ids = build(tmp_path / "Zotero", userdata)
    z.close()
    before = catalog_file.read_text(encoding="utf-8")

    report = import_zotero(catalog_file, tmp_path / "Zotero")

    catalog = load(catalog_file)
    assert catalog_file.read_text(encoding="utf-8").startswith(before.rstrip("\n"))
    sections = {s.name: [p.title for p in s.papers] for s in catalog.sections}
    # nested collections are sections named by their path; the trash stays out
    assert sections["Machine Learning"] == [
        "Gradient-based learning applied to document recognition"  # the Transformer is skipped
    ]
    assert sections["Machine Learning / Vision"] == ["Denoising Diffusion Probabilistic Models"]
    assert sections["Machine Learning / Vision / Detection"] == [
        "You Only Look Once: Unified, Real-Time Object Detection"
    ]
    unfiled = sections["Unfiled"]
    assert unfiled == [
        "Dropout: A Simple Way to Prevent Neural Networks from Overfitting",
        "Lecture notes on RL",
        "Only In A Trashed Collection",
    ]
    assert not any("Trash" in p.title and "Collection" not in p.title for p in catalog.papers())
    papers = {p.title: p for p in catalog.papers()}
    ddpm = papers["Denoising Diffusion Probabilistic Models"]
    assert (ddpm.arxiv, ddpm.year, ddpm.status, ddpm.added) == ("2006.11239", 2020, "reading", "2024-02-10")
    assert ddpm.tags == ["computer-science-machine-learning", "diffusion", "machine-learning"]
    assert ddpm.notes == "Summary\n\nNoise is added in T steps & learned back.\n\n- simple loss\n- U-Net"
    yolo = papers["You Only Look Once: Unified, Real-Time Object Detection"]
    assert (yolo.status, yolo.url) == ("read", "https://doi.org/10.1109/CVPR.2016.91")
    assert papers["Gradient-based learning applied to document recognition"].status == "skipped"
    assert papers["Dropout: A Simple Way to Prevent Neural Networks from Overfitting"].status == "todo"
    # the stored PDFs are in the cache, where sync looks; the missing one is a problem of that item
    stored = tmp_path / "Zotero" / "storage"
    assert pdfcache.arxiv_pdf_path("2006.11239").read_bytes() == tiny_pdf("ddpm")
    rl = papers["Lecture notes on RL"]
    assert pdfcache.web_pdf_path(rl.id).read_bytes() == tiny_pdf("rl")
    assert report.pdfs == 2
    assert len(report.problems) == 1 and report.problems[0].startswith(f"zotero:item {ids['yolo']}: ")
    assert "missing.pdf: missing" in report.problems[0] and str(stored) in report.problems[0]
    # the Transformer was in the list: reported with where Zotero keeps it
    assert f'zotero:item {ids["transformer"]} "Attention Is All You Need" is' in report.summary()
    details = library.details(yolo.id, None)
    assert details["authors"] == ["Joseph Redmon"]
    assert details["venue"] == "2016 IEEE Conference on Computer Vision and Pattern Recognition (CVPR)"
    assert details["url"] == "https://ieeexplore.ieee.org/document/7780460"
    lenet = papers["Gradient-based learning applied to document recognition"]
    assert library.details(lenet.id, None)["authors"] == ["Y. Lecun", "AT&T Labs"]


def test_reimport_adds_nothing_then_exactly_what_was_added_in_zotero(
    tmp_path: Path, catalog_file: Path, readtrack_home: Path
) -> None:
    z, _ = build(tmp_path / "Zotero")
    first = run_cli("import", "--zotero", str(tmp_path / "Zotero"))
    assert first.returncode == 1 and "added 6 papers" in first.stdout, first.stdout + first.stderr
    written, stamp = catalog_file.read_bytes(), catalog_file.stat().st_mtime_ns
    database = hashlib.sha256((readtrack_home / "readtrack.db").read_bytes()).hexdigest()

    again = run_cli("import", "--zotero", str(tmp_path / "Zotero"))
    assert "added 0 papers" in again.stdout
    assert catalog_file.read_bytes() == written and catalog_file.stat().st_mtime_ns == stamp
    assert hashlib.sha256((readtrack_home / "readtrack.db").read_bytes()).hexdigest() == database

    new_collection = z.collection("Policy Gradients")
    for n in range(10):
        z.item(
            "journalArticle", title=f"Policy Gradient Variant {n}", date="2021", collections=[new_collection]
        )
    z.commit()
    third = run_cli("import", "--zotero", str(tmp_path / "Zotero"))
    assert "added 10 papers to papers.yaml (new section: Policy Gradients)" in third.stdout
    assert catalog_file.read_bytes().startswith(written.rstrip(b"\n"))
    z.close()


def test_a_running_zotero_holding_its_lock_is_read_from_a_copy(tmp_path: Path, catalog_file: Path) -> None:
    z, _ = build(tmp_path / "Zotero")
    z.close()
    database = tmp_path / "Zotero" / "zotero.sqlite"
    original = hashlib.sha256(database.read_bytes()).hexdigest()
    running = sqlite3.connect(database, isolation_level=None)
    running.execute("PRAGMA locking_mode = EXCLUSIVE")  # what Zotero does while it runs
    running.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            sqlite3.connect(database, timeout=0).execute("SELECT count(*) FROM items").fetchone()
        result = run_cli("import", "--zotero", str(tmp_path / "Zotero"), "--dry-run")
    finally:
        running.execute("ROLLBACK")
        running.close()
    assert "would add 6 papers" in result.stdout, result.stdout + result.stderr
    assert hashlib.sha256(database.read_bytes()).hexdigest() == original


def test_default_data_dir_is_zotero_in_home(tmp_path: Path, catalog_file: Path) -> None:
    build(tmp_path / "Zotero")[0].close()
    result = run_cli(
        "import", "--zotero", "--dry-run", env={"HOME": str(tmp_path), "USERPROFILE": str(tmp_path)}
    )
    assert "would add 6 papers" in result.stdout, result.stdout + result.stderr
    nowhere = run_cli("import", "--zotero", env={"HOME": str(tmp_path / "empty")})
    assert nowhere.returncode == 2
    assert nowhere.stderr.strip() == (
        "readtrack: no Zotero data directory found; give its path: readtrack import --zotero DIR"
    )


@pytest.mark.parametrize(
    ("prepare", "message"),
    [
        (lambda z: z.set_version("compatibility", 10), "written by a newer Zotero than readtrack reads"),
        (lambda z: z.set_version("userdata", 60), "written by Zotero older than 2.1 (userdata schema 60)"),
    ],
)
def test_a_database_of_another_zotero_is_refused_in_one_line(
    tmp_path: Path, catalog_file: Path, prepare: object, message: str
) -> None:
    z = ZoteroLibrary(tmp_path / "Zotero")
    z.item("journalArticle", title="Anything")
    prepare(z)  # type: ignore[operator]
    z.close()
    before = catalog_file.read_bytes()
    result = run_cli("import", "--zotero", str(tmp_path / "Zotero"))
    assert result.returncode == 2
    assert result.stderr.startswith(f"readtrack: {tmp_path / 'Zotero' / 'zotero.sqlite'}: {message}")
    assert len(result.stderr.strip().splitlines()) == 1
    assert catalog_file.read_bytes() == before


def test_not_a_zotero_database(tmp_path: Path, catalog_file: Path) -> None:
    folder = tmp_path / "Zotero"
    folder.mkdir()
    (folder / "zotero.sqlite").write_bytes(b"this is not SQLite at all" * 100)
    garbage = run_cli("import", "--zotero", str(folder))
    assert garbage.returncode == 2
    assert garbage.stderr.strip() == (
        f"readtrack: {folder / 'zotero.sqlite'}: not a Zotero database (file is not a database)"
    )
    plain = tmp_path / "plain" / "zotero.sqlite"  # SQLite, but not Zotero's
    plain.parent.mkdir()
    sqlite3.connect(plain).execute("CREATE TABLE notes (x)").connection.close()
    with pytest.raises(UsageError, match="not a Zotero database \\(it has no version table\\)"):
        zotero.read(plain.parent)
    empty = tmp_path / "elsewhere"
    empty.mkdir()
    result = run_cli("import", "--zotero", str(empty))
    assert result.returncode == 2
    assert (
        result.stderr.strip()
        == f"readtrack: {empty}: no zotero.sqlite there (is it Zotero's data directory?)"
    )


def test_note_html_to_text() -> None:
    html = (
        '<div data-schema-version="9"><p>First&nbsp;line<br/>second</p>'
        "<ol><li>one</li><li>two</li></ol><p>Caf&eacute; &lt;b&gt;</p></div>"
    )
    assert zotero.note_text(html) == "First line\nsecond\n\n- one\n- two\n\nCafé <b>"


def test_zotero_preferences_name_the_data_dir_and_the_base_of_linked_files(
    tmp_path: Path, catalog_file: Path
) -> None:
    """A data directory moved in Zotero's settings, and PDFs linked relative to its base folder: both are in
    the profile's prefs.js, which Zotero writes as below."""
    profile = tmp_path / ".zotero" / "zotero" / "x8kq2m4d.default"
    profile.mkdir(parents=True)
    data_dir, papers = tmp_path / "Documents" / "Zotero Library", tmp_path / "Papers"
    (profile / "prefs.js").write_text(
        "// Mozilla User Preferences\n\n"
        f'user_pref("extensions.zotero.baseAttachmentPath", "{papers}");\n'
        f'user_pref("extensions.zotero.dataDir", "{data_dir}");\n'
        'user_pref("extensions.zotero.firstRunGuidance", false);\n'
        'user_pref("extensions.zotero.useDataDir", true);\n',
        encoding="utf-8",
    )
    z = ZoteroLibrary(data_dir)
    item = z.item("journalArticle", title="Linked Relative To The Base Folder", date="2019")
    z.pdf(item, linked="attachments:ml/linked.pdf", title="linked.pdf")
    z.close()
    (papers / "ml").mkdir(parents=True)
    (papers / "ml" / "linked.pdf").write_bytes(tiny_pdf("linked"))

    result = run_cli("import", "--zotero", env={"HOME": str(tmp_path)})

    assert result.returncode == 0, result.stdout + result.stderr
    assert "added 1 paper" in result.stdout and "copied 1 PDF" in result.stdout
    paper = next(p for p in load(catalog_file).papers() if p.title == "Linked Relative To The Base Folder")
    assert pdfcache.web_pdf_path(paper.id).read_bytes() == tiny_pdf("linked")
