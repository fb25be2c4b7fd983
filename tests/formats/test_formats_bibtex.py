"""BibTeX import (`readtrack.formats.bibtex.reader`) on files written the way Better BibTeX, JabRef and
Mendeley write them (tests/data/library), through `readtrack import` as a user runs it."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from cli_runner import run_cli
from zotero_db import tiny_pdf

from readtrack.catalog import pdfcache
from readtrack.catalog.latex import to_text
from readtrack.catalog.new_paper import NewPaper
from readtrack.formats import import_file, library
from readtrack.formats.bibtex import reader as bibtex
from readtrack.plugins.links import load

DATA = Path(__file__).resolve().parents[1] / "data" / "library"


def place(tmp_path: Path, name: str, home: str = "/home/ada") -> Path:
    """The sample file copied into ``tmp_path``, its absolute paths moved under ``tmp_path/home``."""
    text = (DATA / name).read_text(encoding="utf-8")
    root = tmp_path / "home"
    text = text.replace(home, str(root)).replace(home.lstrip("/"), str(root).lstrip("/"))
    target = tmp_path / name
    target.write_text(text, encoding="utf-8")
    return target


def only_appended_and_tags(before: str, after: str) -> bool:
    """True when ``after`` is ``before`` with lines added, and at most the ``tags:`` line of papers the
    import matched changed (the markdown import's merge adds a matched listing's tags to the paper)."""
    import difflib

    removed = [
        line for line in difflib.ndiff(before.splitlines(), after.splitlines()) if line.startswith("- ")
    ]
    return all(line[2:].strip().startswith("tags: ") for line in removed)


def pdf_at(path: Path, text: str = "a paper") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(tiny_pdf(text))
    return path


@pytest.fixture
def jabref(tmp_path: Path, catalog_file: Path) -> Path:
    """JabRef's library with the PDFs its ``file`` fields name beside it (one of Ioffe's two missing), to
    import into the seed list as the reader wrote it (the frozen copy: the shipped list has BatchNorm now)."""
    frozen = Path(__file__).resolve().parents[1] / "data" / "papers-frozen.yaml"
    catalog_file.write_text(frozen.read_text(encoding="utf-8"), encoding="utf-8")
    bib = place(tmp_path, "jabref.bib")
    pdf_at(tmp_path / "papers" / "kingma2015adam.pdf", "adam")
    pdf_at(tmp_path / "papers" / "ioffe15.pdf", "batch norm")
    (tmp_path / "papers" / "srivastava14a.pdf").write_text("<html>Not Found</html>")  # a corrupt download
    return bib


def test_better_bibtex_export_keeps_ids_titles_tags_notes_pdfs_and_metadata(
    tmp_path: Path, catalog_file: Path
) -> None:
    bib = place(tmp_path, "better-bibtex.bib", home="/home/ada/Zotero")
    storage = tmp_path / "home" / "storage"
    pdf_at(storage / "9GQTXN7D" / "Vaswani et al. - 2017 - Attention Is All You Need.pdf")
    ddpm_pdf = pdf_at(
        storage / "K2QZ8W4N" / "Ho et al. - 2020 - Denoising Diffusion Probabilistic Models.pdf"
    )
    before = catalog_file.read_text(encoding="utf-8")

    report = import_file(catalog_file, bib)
    assert isinstance(report, library.LibraryReport)

    catalog = load(catalog_file)
    # the Transformer is in the seed list already (same arXiv id): skipped, named with both places
    assert "better-bibtex.bib:1" in report.summary() and "same arXiv id 1706.03762" in report.summary()
    added = {p.title: p for p in catalog.papers() if p.id in report.merged.added}
    assert set(added) == {
        "Denoising Diffusion Probabilistic Models",
        "Gradient-Based Learning Applied to Document Recognition",
        "An Undulatory Theory of the Mechanics of Atoms and Molecules: Schrödinger's Equation, "
        "Étude & Naïve Bounds",
    }
    ddpm = added["Denoising Diffusion Probabilistic Models"]
    assert (ddpm.arxiv, ddpm.year) == ("2006.11239", 2020)
    assert ddpm.tags == ["computer-science-machine-learning", "diffusion", "statistics-machine-learning"]
    lenet = added["Gradient-Based Learning Applied to Document Recognition"]
    assert lenet.url == "https://doi.org/10.1109/5.726791"  # the DOI: what makes a later import match it
    assert lenet.notes == "The LeNet-5 paper: convolutions, subsampling & a graph transformer network."
    # papers.yaml is appended to (and the Transformer, matched, gets the entry's keywords as tags)
    assert only_appended_and_tags(before, catalog_file.read_text(encoding="utf-8"))
    # the PDF sits where sync looks for it, byte for byte, and is recorded; the HTML snapshot is not taken
    cached = pdfcache.arxiv_pdf_path("2006.11239")
    assert cached.read_bytes() == ddpm_pdf.read_bytes()
    assert report.pdfs == 1  # the Transformer's PDF stays out: that paper was not added
    # what papers.yaml has no key for is in the database
    details = library.details(lenet.id, None)
    assert details["authors"] == ["Y. Lecun", "L. Bottou", "Y. Bengio", "P. Haffner"]
    assert details["venue"] == "Proceedings of the IEEE"
    assert details["url"] == "https://ieeexplore.ieee.org/document/726791"
    abstract = library.details(ddpm.id, ddpm.arxiv)["abstract"]
    assert isinstance(abstract, str) and abstract.startswith("We present high quality image")


def test_jabref_file_strings_crossref_groups_status_and_a_malformed_entry(
    jabref: Path, catalog_file: Path
) -> None:
    before = catalog_file.read_text(encoding="utf-8")
    result = run_cli("import", str(jabref), "--section", "From JabRef")

    # a malformed entry and a corrupt PDF are problems of one item each: the rest is imported, exit 1
    assert result.returncode == 1, result.stderr
    assert result.stderr.strip() == "readtrack: 2 items had problems (listed above)"
    assert (
        "jabref.bib:29: malformed entry skipped (Expected comma after entry key, but found =)"
        in result.stdout
    )
    assert "srivastava14a.pdf: not a PDF" in result.stdout
    catalog = load(catalog_file)
    section = catalog.section("From JabRef")
    titles = {p.title: p for p in section.papers}
    # Adam is the seed list's Adam-family paper (related 1412.6980): never added twice
    assert "Adam: A Method for Stochastic Optimization" not in titles
    assert "jabref.bib:5" in result.stdout and "same arXiv id 1412.6980" in result.stdout
    batchnorm = titles[
        "Batch Normalization: Accelerating Deep Network Training by Reducing Internal Covariate Shift"
    ]
    assert (batchnorm.arxiv, batchnorm.status, batchnorm.year) == ("1502.03167", "reading", 2015)  # crossref
    assert batchnorm.notes == "Reduces internal covariate shift; see also layer norm."
    assert batchnorm.tags == ["normalization"]  # its JabRef group
    dropout = titles["Dropout: A Simple Way to Prevent Neural Networks from Overfitting"]
    assert dropout.tags == ["regularization", "neural-networks"] and dropout.arxiv is None
    # the second of Ioffe's two files is the one there: it is the paper's PDF
    assert (
        pdfcache.arxiv_pdf_path("1502.03167").read_bytes()
        == (jabref.parent / "papers/ioffe15.pdf").read_bytes()
    )
    assert library.details(batchnorm.id, batchnorm.arxiv)["venue"] == (
        "Proceedings of the 32nd International Conference on Machine Learning"
    )
    bahdanau = next(p for p in section.papers if p.arxiv == "1409.0473")
    assert library.details(bahdanau.id, bahdanau.arxiv)["venue"] == (
        "Advances in Neural Information Processing Systems (workshop)"  # @string and #
    )
    assert not any(p.title.startswith("Proceedings of the 32nd") for p in catalog.papers())  # a container
    assert only_appended_and_tags(before, catalog_file.read_text(encoding="utf-8"))


def test_mendeley_export_paths_without_their_leading_slash(tmp_path: Path, catalog_file: Path) -> None:
    bib = place(tmp_path, "mendeley.bib")
    downloaded = tmp_path / "home/.local/share/data/Mendeley Ltd./Mendeley Desktop/Downloaded"
    lora_pdf = pdf_at(downloaded / "Hu et al. - 2021 - LoRA Low-Rank Adaptation of Large Language Models.pdf")

    report = import_file(catalog_file, bib)
    assert isinstance(report, library.LibraryReport)

    assert not report.problems, report.summary()
    lora = next(p for p in load(catalog_file).papers() if p.arxiv == "2106.09685")
    assert lora.title == "LoRA: Low-Rank Adaptation of Large Language Models"
    assert lora.tags == ["fine-tuning", "llm", "efficient-fine-tuning"]  # keywords, then its Mendeley group
    assert pdfcache.arxiv_pdf_path("2106.09685").read_bytes() == lora_pdf.read_bytes()
    # ResNet is in the seed list (arXiv 1512.03385): skipped, and its PDF is not copied for it
    assert "same arXiv id 1512.03385" in report.summary()
    assert not pdfcache.arxiv_pdf_path("1512.03385").exists()


def test_importing_twice_adds_and_writes_nothing_and_new_entries_are_added(
    jabref: Path, catalog_file: Path, readtrack_home: Path
) -> None:
    first = run_cli("import", str(jabref))
    assert first.returncode == 1 and "added 3 papers" in first.stdout, first.stdout
    written = catalog_file.read_bytes()
    stamp = catalog_file.stat().st_mtime_ns
    database = hashlib.sha256((readtrack_home / "readtrack.db").read_bytes()).hexdigest()

    again = run_cli("import", str(jabref))

    assert "added 0 papers" in again.stdout
    assert "jabref.bib:46" in again.stdout and "same arXiv id 1409.0473" in again.stdout
    assert catalog_file.read_bytes() == written and catalog_file.stat().st_mtime_ns == stamp
    assert hashlib.sha256((readtrack_home / "readtrack.db").read_bytes()).hexdigest() == database

    # two entries added to the library since: exactly those two come in, below everything already there
    with jabref.open("a", encoding="utf-8") as handle:
        handle.write(
            "\n@Article{Ba2016,\n  author = {Jimmy Lei Ba and Jamie Ryan Kiros and Geoffrey E. Hinton},\n"
            "  title = {Layer Normalization Revisited},\n  year = {2016},\n}\n"
            "\n@Misc{Graves2014,\n  title = {Neural {T}uring Machines},\n  eprint = {1410.5401},\n"
            "  archiveprefix = {arXiv},\n}\n"
        )
    third = run_cli("import", str(jabref))
    assert "added 2 papers" in third.stdout, third.stdout
    assert catalog_file.read_bytes().startswith(written.rstrip(b"\n"))
    assert {p.title for p in load(catalog_file).papers()} >= {
        "Layer Normalization Revisited",
        "Neural Turing Machines",
    }


def test_dry_run_writes_nothing(jabref: Path, catalog_file: Path, readtrack_home: Path) -> None:
    before = catalog_file.read_bytes()
    result = run_cli("import", str(jabref), "--dry-run")
    assert "would add 3 papers" in result.stdout and "dry run, nothing written" in result.stdout
    assert "would copy 1 PDF into the PDF cache" in result.stdout
    assert catalog_file.read_bytes() == before
    assert not list(readtrack_home.glob("pdfs/**/*.pdf"))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("Just some notes about papers I like.\n", "no BibTeX entries found"),
        ("\x00\x01binary\x00" * 10, "not a BibTeX file (binary data)"),
    ],
)
def test_a_file_that_is_not_bibtex_is_one_line_and_exit_2(
    tmp_path: Path, catalog_file: Path, content: str, message: str
) -> None:
    bib = tmp_path / "library.bib"
    bib.write_text(content, encoding="latin-1")
    before = catalog_file.read_bytes()
    result = run_cli("import", str(bib))
    assert result.returncode == 2
    assert result.stderr.strip() == f"readtrack: {bib}: {message}" + (
        " (expected entries like `@article{key, ...}`)" if "no BibTeX" in message else ""
    )
    assert catalog_file.read_bytes() == before


def test_file_fields_of_each_tool() -> None:
    folder = Path("/lib")
    assert bibtex.pdf_files(
        "Full Text PDF:/z/storage/AB/x.pdf:application/pdf;Snapshot:/z/a.html:text/html", folder
    ) == [Path("/z/storage/AB/x.pdf")]
    assert bibtex.pdf_files(":papers/x.pdf:PDF", folder) == [Path("/lib/papers/x.pdf")]
    assert bibtex.pdf_files("Paper:C\\:\\\\Users\\\\ada\\\\x.pdf:PDF", folder) == [
        Path("C:\\Users\\ada\\x.pdf")
    ]
    assert bibtex.pdf_files(":C$\\backslash$:/Users/ada/x.pdf:pdf", folder) == [Path("C:/Users/ada/x.pdf")]
    assert bibtex.pdf_files("/z/a.pdf;/z/b.pdf", folder) == [Path("/z/a.pdf"), Path("/z/b.pdf")]  # BibLaTeX


@pytest.mark.parametrize(
    ("latex", "text"),
    [
        ('{Sch{\\"o}n} and {BERT}', "Schön and BERT"),
        (
            "\\'{E}tude, Na\\\"{\\i}ve, \\c{c}a, \\v Skoda, {\\L}ukasz, Stra{\\ss}e",
            "Étude, Naïve, ça, Škoda, Łukasz, Straße",
        ),
        ("A \\& B, 100\\%, \\$5, \\#1, x\\_y", "A & B, 100%, $5, #1, x_y"),
        # what readtrack's own BibTeX export writes for braces, backslashes, tildes and carets
        (
            "\\textbraceleft{}x\\textbraceright{} \\textbackslash{}n "
            "\\textasciitilde{}1 2\\textasciicircum{}3",
            "{x} \\n ~1 2^3",
        ),
        ("\\emph{Deep} \\textbf{nets} -- pages 1--2", "Deep nets -- pages 1--2"),
        ("$O(n^2)$ memory", "O(n^2) memory"),
    ],
)
def test_latex_in_fields_is_decoded(latex: str, text: str) -> None:
    assert to_text(latex) == text


def test_copy_of_a_sample_with_a_missing_pdf_reports_it(tmp_path: Path, catalog_file: Path) -> None:
    bib = place(tmp_path, "better-bibtex.bib", home="/home/ada/Zotero")
    report = import_file(catalog_file, bib)
    assert isinstance(report, library.LibraryReport)
    assert any("no usable PDF" in p and "Ho et al. - 2020" in p for p in report.problems)
    assert any(p.arxiv == "2006.11239" for p in load(catalog_file).papers())  # imported without its PDF


def test_export_then_import_gives_back_the_same_papers(tmp_path: Path, catalog_file: Path) -> None:
    """readtrack's own BibTeX export reads back through this importer: titles (LaTeX escapes and protected
    capitals included), arXiv ids, years and links of every paper of the seed list and of awkward titles."""
    from readtrack.catalog import edits
    from readtrack.formats.importer import export_catalog

    awkward = [
        "Costs of 100% & $5 #1 a_b ~x ^y \\z {braces}",
        "Schrödinger's Étude of {BERT}-style FlashAttention",
        "Low-Rank -- and -- Dashes: Wait ``Quoted''",
    ]
    edits.add_papers(
        catalog_file,
        "Awkward",
        [NewPaper(title=t, url=f"https://example.org/{n}") for n, t in enumerate(awkward)],
    )
    exported = tmp_path / "export.bib"
    export_catalog(catalog_file, "bibtex", exported)
    fresh = tmp_path / "fresh.yaml"

    report = import_file(fresh, exported)
    assert isinstance(report, library.LibraryReport)

    def key(p: object) -> tuple[object, ...]:
        return (p.title or p.label, p.arxiv, p.year, None if p.arxiv else p.url)  # type: ignore[attr-defined]

    originals = set(map(key, load(catalog_file).papers()))
    back = set(map(key, load(fresh).papers()))
    assert not report.problems
    assert back == originals  # a set: the seed list nests a second listing of one paper, imported once


@pytest.mark.parametrize("kind", ["list", "bib", "zotero"])
def test_library_import_loads_nothing_heavy_and_listing_no_bibtex_parser(
    tmp_path: Path, catalog_file: Path, kind: str
) -> None:
    import subprocess
    import sys

    from zotero_db import ZoteroLibrary

    ZoteroLibrary(tmp_path / "Zotero").close()
    args = {
        "list": ["list"],
        "bib": ["import", str(DATA / "mendeley.bib"), "--dry-run"],
        "zotero": ["import", "--zotero", str(tmp_path / "Zotero"), "--dry-run"],
    }[kind]
    probe = (
        "import sys, runpy\n"
        f"sys.argv = ['readtrack', *{args!r}]\n"
        "try:\n    runpy.run_module('readtrack', run_name='__main__')\n"
        "except SystemExit as e:\n    pass\n"
        "heavy = ('torch', 'textual', 'arxiv', 'requests')\n"
        "heavy += ('bibtexparser', 'pylatexenc') if sys.argv[1] == 'list' else ()\n"
        "print('HEAVY', sorted(m for m in heavy if m in sys.modules), file=sys.stderr)\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=False)
    assert "HEAVY []" in result.stderr, result.stderr


def test_a_missing_comma_between_fields_is_reported_where_it_is_and_the_rest_imported(
    tmp_path: Path, catalog_file: Path
) -> None:
    """bibtexparser reads `title = {A Broken Entry}` followed by `author = ...` on the next line, no comma
    between, as the title "A Broken Entry author = Nobody, Some": it was imported so, exit 0."""
    bib = tmp_path / "library.bib"
    bib.write_text(
        "@article{good,\n"
        "  title = {A Good Entry},\n"
        "  author = {Doe, Jane} # { and } # {Roe, Richard},\n"
        '  journal = "Journal of {Things}",\n'
        "  year = 2019, month = jan,\n"
        "}\n"
        "\n"
        "@article{broken,\n"
        "  title = {A Broken Entry}\n"
        "  author = {Nobody, Some},\n"
        "  year = {2020}\n"
        "}\n",
        encoding="utf-8",
    )
    result = run_cli("import", str(bib), "--section", "Mine")
    assert result.returncode == 1
    assert result.stderr.strip() == "readtrack: 1 item had problems (listed above)"
    assert (
        "library.bib:10:3: entry 'broken' skipped: field 'title' runs on into `author = {Nobody, Some}` "
        "(a missing comma?)" in result.stdout
    )
    titles = [p.title for p in load(catalog_file).section("Mine").papers]
    assert titles == ["A Good Entry"]
