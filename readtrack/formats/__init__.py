"""Reading lists in and out of papers.yaml, one module per format.

- `readtrack.formats.bibtex.reader`: BibTeX and BibLaTeX files (Zotero, Better BibTeX, JabRef, Mendeley) in,
  and out through `readtrack.formats.bibtex.writer.render` (``readtrack export -f bibtex``), which it names as
  `bibtex.render`;
- `readtrack.formats.csljson`: CSL-JSON (Zotero, Better BibTeX, pandoc);
- `readtrack.formats.zotero`: a Zotero data directory (``zotero.sqlite`` and ``storage/``);
- `readtrack.formats.markdown`: markdown checklists (`readtrack.formats.markdown` and
`readtrack.formats.importer`, whose
  identity rule and report every format shares);
- `readtrack.formats.library`: what the formats share: the `Library` a reader returns,
`import_library`
  (merge, metadata, PDFs) and its report.

A new format is one module with a ``read(path) -> Library``, and a line in `reader_for`. Nothing here is
imported by listing or marking: the CLI imports a format only for ``readtrack import``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from readtrack.base.errors import UsageError

if TYPE_CHECKING:
    from readtrack.formats.importer import ImportReport
    from readtrack.formats.library import LibraryReport

BIBTEX_SUFFIXES = (".bib", ".bibtex", ".biblatex")
JSON_SUFFIXES = (".json", ".csljson", ".csl")
MARKDOWN_SUFFIXES = (".md", ".markdown", ".txt", ".mdown")


def kind_of(path: Path) -> str:
    """``bibtex``, ``csljson`` or ``markdown``: by the file's suffix, else by its first characters."""
    suffix = path.suffix.lower()
    if suffix in BIBTEX_SUFFIXES:
        return "bibtex"
    if suffix in JSON_SUFFIXES:
        return "csljson"
    if suffix in MARKDOWN_SUFFIXES:
        return "markdown"
    try:
        with path.open("rb") as handle:
            head = handle.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
    except OSError:
        return "markdown"  # the markdown reader names the file and why it cannot be read
    if head[:1] in (b"[", b"{"):
        return "csljson"
    if head[:1] == b"@" or b"\n@" in head or b"\r\n@" in head:
        return "bibtex"
    if head[:1] == b"%" and b"@" in head:
        return "bibtex"
    return "markdown"


def import_file(
    catalog_path: Path, source: Path, *, section: str | None = None, dry_run: bool = False
) -> ImportReport | LibraryReport:
    """Import ``source`` (markdown, BibTeX or CSL-JSON, see `kind_of`) into the catalog: the report."""
    kind = kind_of(source)
    if kind == "markdown":
        from readtrack.formats.importer import import_markdown

        return import_markdown(catalog_path, source, section=section, dry_run=dry_run)
    from readtrack.formats.library import import_library

    if kind == "bibtex":
        from readtrack.formats.bibtex import reader as bibtex

        library = bibtex.read(source)
    else:
        from readtrack.formats import csljson

        library = csljson.read(source)
    return import_library(catalog_path, library, section=section, dry_run=dry_run)


def import_path(
    catalog_path: Path, source: Path, *, section: str | None = None, dry_run: bool = False
) -> ImportReport | LibraryReport:
    """Import whatever ``source`` is: a Zotero data directory (or its ``zotero.sqlite``), else a file."""
    if source.is_dir() or source.name == "zotero.sqlite":
        return import_zotero(catalog_path, source, section=section, dry_run=dry_run)
    return import_file(catalog_path, source, section=section, dry_run=dry_run)


def import_zotero(
    catalog_path: Path, data_dir: Path | None = None, *, section: str | None = None, dry_run: bool = False
) -> LibraryReport:
    """Import a Zotero data directory (default: `zotero.default_data_dir`) into the catalog: the report."""
    from readtrack.formats import zotero
    from readtrack.formats.library import import_library

    folder = data_dir if data_dir is not None else zotero.default_data_dir()
    if folder is None:
        raise UsageError("no Zotero data directory found; give its path: readtrack import --zotero DIR")
    return import_library(catalog_path, zotero.read(folder), section=section, dry_run=dry_run)
