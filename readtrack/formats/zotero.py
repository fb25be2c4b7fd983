"""A Zotero library, read from its data directory: ``readtrack import --zotero [DIR]``.

Without DIR, the data directory is the one Zotero's preferences name (``prefs.js`` of its profile, where a
moved data directory is recorded), else ``~/Zotero``, Zotero's default on every platform.

Zotero keeps ``zotero.sqlite`` open and locked while it runs, so the file (and a ``-wal`` or ``-journal``
beside it) is copied into a temporary folder and the copy is opened read-only: nothing in the data
directory is ever written. The tables read are Zotero's published schema (``resource/schema/userdata.sql``
of github.com/zotero/zotero); tests build the database from that schema for userdata versions 123 (Zotero
7.0 and 8.0) and 129 (Zotero's development line, 2026-08). A database that says it is newer than readtrack
knows (its ``compatibility`` version above `MAX_COMPATIBILITY`, the number Zotero raises when older clients
can no longer read a database) is refused, as is one older than Zotero 2.1 (userdata 76), which Zotero
itself no longer opens.

What is read, from the user's own library (group libraries are not imported):

- every regular item not in the trash (``deletedItems``): title, date (year), DOI (or a ``DOI:`` line in
  Extra), URL, abstract, publication/proceedings/book title or conference as the venue, creators, tags;
- the arXiv id from the item's ``archiveID`` (``arXiv:1706.03762``), an arXiv DOI or URL, or an
  ``arXiv:`` line in Extra;
- collections, nested, as sections named by their path (``Vision / Detection``), in Zotero's order (by
  name); an item in several collections sits in the first and gets the others' names as tags; items in
  none go to the section "Unfiled"; collections in the trash are ignored;
- child notes (HTML) as the paper's notes, in plain text;
- the PDF attachments: stored files under ``storage/<key>/`` and linked files (``attachments:`` paths
  start in the base folder set in Zotero's preferences); a standalone PDF is a paper;
- the Zotero Reading List plugin's ``Read_Status:`` line in Extra as the status; the date added as
  ``added``.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import sqlite3
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from readtrack.base.errors import UsageError
from readtrack.catalog.new_paper import NewPaper
from readtrack.formats import library as lib
from readtrack.formats import markdown

MAX_COMPATIBILITY = 9  # Zotero's own `_maxCompatibility` in the newest schema tested
OLDEST_USERDATA = 76
TESTED_USERDATA = (123, 129)
UNFILED = "Unfiled"
_SKIPPED_TYPES = ("note", "attachment", "annotation")
_VENUE_FIELDS = ("publicationTitle", "proceedingsTitle", "bookTitle", "conferenceName", "websiteTitle")
_PREF = re.compile(
    r'^user_pref\("(extensions\.zotero\.(?:dataDir|useDataDir|baseAttachmentPath))",\s*(.+?)\);\s*$',
    re.MULTILINE,
)
_EXTRA_LINE = re.compile(r"^\s*(arXiv|DOI)\s*:\s*(\S+)", re.IGNORECASE | re.MULTILINE)


def default_data_dir() -> Path | None:
    """The data directory Zotero's preferences name (``dataDir``, when ``useDataDir`` is on), else Zotero's
    default, ``~/Zotero`` on every platform; None when neither holds a database."""
    prefs = profile_prefs()
    custom = prefs.get("extensions.zotero.dataDir") if prefs.get("extensions.zotero.useDataDir") else None
    for folder in ([Path(str(custom))] if custom else []) + [Path.home() / "Zotero"]:
        if (folder / "zotero.sqlite").is_file():
            return folder
    return None


def profile_prefs() -> dict[str, object]:
    """Zotero's own preferences (its profile's ``prefs.js``) that say where things are: ``dataDir``,
    ``useDataDir`` and ``baseAttachmentPath`` (the folder ``attachments:`` paths of linked files start in)."""
    home = Path.home()
    roots = [home / ".zotero" / "zotero", home / "Library" / "Application Support" / "Zotero" / "Profiles"]
    if os.environ.get("APPDATA"):
        roots.append(Path(os.environ["APPDATA"]) / "Zotero" / "Zotero" / "Profiles")
    prefs: dict[str, object] = {}
    for root in roots:
        for file in sorted(root.glob("*/prefs.js")) if root.is_dir() else []:
            try:
                text = file.read_text(encoding="utf-8", errors="replace")
            except OSError:
                continue
            for key, value in _PREF.findall(text):
                with contextlib.suppress(ValueError):
                    prefs.setdefault(key, json.loads(value))
    return prefs


def read(folder: Path) -> lib.Library:
    """The library of the Zotero data directory ``folder`` (or of the ``zotero.sqlite`` file given)."""
    database = folder if folder.is_file() else folder / "zotero.sqlite"
    data_dir = database.parent
    if not database.exists():
        raise UsageError(f"{folder}: no zotero.sqlite there (is it Zotero's data directory?)")
    with tempfile.TemporaryDirectory(prefix="readtrack-zotero-") as scratch:
        copy = Path(scratch) / "zotero.sqlite"
        try:
            shutil.copyfile(database, copy)
            for suffix in ("-wal", "-journal"):
                if database.with_name(database.name + suffix).exists():
                    shutil.copyfile(
                        database.with_name(database.name + suffix), copy.with_name(copy.name + suffix)
                    )
        except OSError as err:
            raise UsageError(f"{database}: cannot read it ({err.strerror})") from None
        conn = sqlite3.connect(copy, isolation_level=None)
        try:
            conn.execute("PRAGMA query_only = ON")
            versions = _versions(conn, database)
            try:
                base = profile_prefs().get("extensions.zotero.baseAttachmentPath")
                return _Reader(conn, data_dir, Path(str(base)) if base else None).read()
            except sqlite3.Error as err:
                raise UsageError(
                    f"{database}: cannot read it as a Zotero database (userdata schema "
                    f"{versions.get('userdata')}): {err}"
                ) from None
        finally:
            conn.close()


def _versions(conn: sqlite3.Connection, database: Path) -> dict[str, int]:
    try:
        rows = conn.execute("SELECT schema, version FROM version").fetchall()
    except sqlite3.DatabaseError as err:
        if "no such table" in str(err):
            raise UsageError(f"{database}: not a Zotero database (it has no version table)") from None
        raise UsageError(f"{database}: not a Zotero database ({err})") from None
    versions = {str(name): int(value) for name, value in rows if str(value).lstrip("-").isdigit()}
    userdata = versions.get("userdata")
    if userdata is None:
        raise UsageError(f"{database}: not a Zotero database (no userdata schema version)")
    if userdata < OLDEST_USERDATA:
        raise UsageError(
            f"{database}: written by Zotero older than 2.1 (userdata schema {userdata}); open it in a newer "
            "Zotero once, then import again"
        )
    compatibility = versions.get("compatibility", 0)
    if compatibility > MAX_COMPATIBILITY:
        raise UsageError(
            f"{database}: written by a newer Zotero than readtrack reads (database compatibility "
            f"{compatibility}, userdata schema {userdata}; readtrack reads compatibility up to "
            f"{MAX_COMPATIBILITY}); update readtrack, or export the library as BibTeX or CSL-JSON"
        )
    return versions


@dataclass
class _Item:
    item_id: int
    key: str
    type: str
    added: str
    fields: dict[str, str] = field(default_factory=dict)
    authors: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    pdfs: list[Path] = field(default_factory=list)


@dataclass
class _Collection:
    path: str  # "Machine Learning / Vision": the section
    name: str
    depth: int
    items: list[int]


class _Reader:
    def __init__(self, conn: sqlite3.Connection, data_dir: Path, base: Path | None = None) -> None:
        self.conn, self.data_dir, self.base = conn, data_dir, base
        found = conn.execute("SELECT libraryID FROM libraries WHERE type = 'user'").fetchone()
        self.library_id = found[0] if found else 1

    def read(self) -> lib.Library:
        items = self.items()
        self.fill(items)
        sections = self.collections()
        library = lib.Library("zotero", markdown.ImportedList())
        # an item in several collections sits in the deepest (the first of those in Zotero's order)
        homes: dict[int, _Collection] = {}
        others: dict[int, list[_Collection]] = defaultdict(list)
        for collection in sections:
            for item_id in collection.items:
                if item_id in items:
                    others[item_id].append(collection)
                    if item_id not in homes or collection.depth > homes[item_id].depth:
                        homes[item_id] = collection
        unfiled = _Collection(UNFILED, UNFILED, 0, [i for i in sorted(items) if i not in homes])
        for collection in [*sections, unfiled]:
            for item_id in dict.fromkeys(collection.items):
                if item_id not in items or homes.get(item_id, unfiled) is not collection:
                    continue
                paper, extras = _paper(items[item_id])
                names = [c.name for c in others[item_id] if c is not collection]
                paper.tags = list(dict.fromkeys([*paper.tags, *lib.tags_from(names)]))
                library.add(collection.path, paper, extras)
        return library

    def items(self) -> dict[int, _Item]:
        rows = self.conn.execute(
            """
            SELECT i.itemID, i.key, i.dateAdded, t.typeName
            FROM items i JOIN itemTypesCombined t ON t.itemTypeID = i.itemTypeID
            WHERE i.libraryID = ? AND i.itemID NOT IN (SELECT itemID FROM deletedItems)
              AND (t.typeName NOT IN ('note', 'attachment', 'annotation')
                   OR (t.typeName = 'attachment' AND i.itemID IN (
                       SELECT itemID FROM itemAttachments
                       WHERE parentItemID IS NULL AND contentType = 'application/pdf')))
            ORDER BY i.itemID
            """,
            (self.library_id,),
        )
        return {r[0]: _Item(r[0], r[1], r[3], str(r[2] or "")) for r in rows}

    def fill(self, items: dict[int, _Item]) -> None:
        conn = self.conn
        for item_id, name, value in conn.execute(
            """
            SELECT d.itemID, f.fieldName, v.value FROM itemData d
            JOIN fieldsCombined f ON f.fieldID = d.fieldID JOIN itemDataValues v ON v.valueID = d.valueID
            """
        ):
            if item_id in items:
                items[item_id].fields[name] = str(value)
        creators: dict[int, list[tuple[str, str]]] = defaultdict(list)
        for item_id, first, last, mode, kind in conn.execute(
            """
            SELECT ic.itemID, c.firstName, c.lastName, c.fieldMode, ct.creatorType FROM itemCreators ic
            JOIN creators c ON c.creatorID = ic.creatorID
            JOIN creatorTypes ct ON ct.creatorTypeID = ic.creatorTypeID
            ORDER BY ic.itemID, ic.orderIndex
            """
        ):
            name = last if mode == 1 else f"{first or ''} {last or ''}".strip()
            creators[item_id].append((kind, name))
        for item_id, names in creators.items():
            if item_id in items:
                authors = [n for k, n in names if k == "author"] or [n for _, n in names]
                items[item_id].authors = [n for n in authors if n]
        for item_id, name in conn.execute(
            "SELECT it.itemID, t.name FROM itemTags it JOIN tags t ON t.tagID = it.tagID "
            "ORDER BY it.itemID, t.name"
        ):
            if item_id in items:
                items[item_id].tags.append(str(name))
        for parent, note in conn.execute(
            """
            SELECT n.parentItemID, n.note FROM itemNotes n
            WHERE n.parentItemID IS NOT NULL AND n.itemID NOT IN (SELECT itemID FROM deletedItems)
            ORDER BY n.parentItemID, n.itemID
            """
        ):
            if parent in items and (text := note_text(note or "")):
                items[parent].notes.append(text)
        for item_id, parent, mode, content_type, path, key in conn.execute(
            """
            SELECT a.itemID, a.parentItemID, a.linkMode, a.contentType, a.path, i.key FROM itemAttachments a
            JOIN items i ON i.itemID = a.itemID
            WHERE a.itemID NOT IN (SELECT itemID FROM deletedItems)
            ORDER BY a.parentItemID, a.itemID
            """
        ):
            owner = parent if parent is not None else item_id
            if owner not in items or not path:
                continue
            if content_type != "application/pdf" and not str(path).lower().endswith(".pdf"):
                continue
            items[owner].pdfs.append(self.attachment_path(str(path), str(key), mode))

    def attachment_path(self, path: str, key: str, link_mode: int | None) -> Path:
        """``storage:x.pdf`` is ``<data dir>/storage/<key>/x.pdf``; a linked file is its own path, or with
        ``attachments:`` relative to the base folder set in Zotero's preferences (`profile_prefs`)."""
        if path.startswith("storage:"):
            return self.data_dir / "storage" / key / path.removeprefix("storage:")
        if path.startswith("attachments:"):
            relative = path.removeprefix("attachments:")
            return (self.base / relative) if self.base else Path("<Zotero's base folder, not set>") / relative
        return Path(path).expanduser()

    def collections(self) -> list[_Collection]:
        """(path, item ids) of each collection not in the trash, parents before children, by name."""
        rows = self.conn.execute(
            """
            SELECT collectionID, collectionName, parentCollectionID FROM collections
            WHERE libraryID = ? AND collectionID NOT IN (SELECT collectionID FROM deletedCollections)
            """,
            (self.library_id,),
        ).fetchall()
        names = {r[0]: str(r[1]) for r in rows}
        children: dict[int | None, list[int]] = defaultdict(list)
        for collection_id, _, parent in rows:
            children[parent if parent in names else (None if parent is None else -1)].append(collection_id)
        members: dict[int, list[int]] = defaultdict(list)
        for collection_id, item_id in self.conn.execute(
            "SELECT collectionID, itemID FROM collectionItems ORDER BY collectionID, orderIndex, itemID"
        ):
            members[collection_id].append(item_id)
        out: list[_Collection] = []

        def walk(parent: int | None, prefix: str, depth: int) -> None:
            for collection_id in sorted(children.get(parent, []), key=lambda c: names[c].casefold()):
                path = f"{prefix}{names[collection_id]}"
                out.append(_Collection(path, names[collection_id], depth, members.get(collection_id, [])))
                walk(collection_id, path + " / ", depth + 1)

        walk(None, "", 1)  # collections under a trashed parent (-1) are left out with it
        return out


def _paper(item: _Item) -> tuple[NewPaper, lib.Extras]:
    fields = item.fields
    extra = fields.get("extra", "")
    extra_ids = {k.lower(): v for k, v in _EXTRA_LINE.findall(extra)}
    doi = lib.clean_doi(fields.get("DOI") or extra_ids.get("doi"))
    url = fields.get("url") or None
    arxiv = lib.arxiv_from(
        fields.get("archiveID"),
        fields.get("DOI"),
        url,
        extra_ids.get("arxiv") and f"arXiv:{extra_ids['arxiv']}",
    )
    venue = next((fields[f] for f in _VENUE_FIELDS if fields.get(f)), None)
    if venue and (venue.lower() in ("arxiv", "corr") or "arxiv" in venue.lower()):
        venue = None
    link, source_url = lib.paper_url(doi, url, arxiv)
    title = fields.get("title") or (item.pdfs[0].stem if item.pdfs else "") or f"Zotero item {item.key}"
    paper = NewPaper(
        title=" ".join(title.split()),
        arxiv=arxiv,
        url=link,
        year=lib.year_from(fields.get("date")),
        status=lib.read_status(extra) or "todo",
        tags=lib.tags_from(item.tags),
        notes="\n\n".join(item.notes) or None,
        added=item.added[:10] if re.match(r"\d{4}-\d{2}-\d{2}", item.added) else None,
    )
    extras = lib.Extras(
        f"zotero:item {item.item_id}",
        authors=item.authors,
        abstract=fields.get("abstractNote") or None,
        doi=doi,
        venue=venue,
        url=source_url,
        pdfs=item.pdfs,
    )
    return paper, extras


class _NoteText(HTMLParser):
    """A Zotero note's HTML as text: paragraphs and headings apart, list items as ``- item``."""

    _BLOCKS = frozenset(
        ["p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "ul", "ol", "table", "tr"]
    )

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._BLOCKS:
            self.parts.append("\n\n")
        elif tag == "li":
            self.parts.append("\n- ")
        elif tag == "br":
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._BLOCKS:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(re.sub(r"\s+", " ", data))


def note_text(html: str) -> str:
    """A note's HTML (``<div data-schema-version="9"><p>..</p></div>``) as plain text."""
    if "<" not in html:
        return html.strip()
    parser = _NoteText()
    parser.feed(html)
    parser.close()
    lines = [line.strip() for line in "".join(parser.parts).split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
