"""A Zotero data directory built the way Zotero builds one (imported by the Zotero tests and the benchmark).

`ZoteroLibrary` runs Zotero's own schema files (tests/data/zotero: ``system.sql``, ``userdata-<N>.sql``,
``triggers.sql``, see the README there) through ``sqlite3.executescript``, fills the item types, fields and
creator types from Zotero's ``schema.json`` as ``Zotero.Schema._updateGlobalSchema`` does (ids given in the
order the schema names them), writes the ``version`` and ``settings`` rows Zotero writes, and then adds items
only through the schema's tables: ``items``, ``itemData``/``itemDataValues``, ``creators``/``itemCreators``,
``tags``/``itemTags``, ``collections``/``collectionItems``, ``itemNotes``, ``itemAttachments`` with the file
under ``storage/<key>/``, ``deletedItems``/``deletedCollections``. A field that the item type does not have
in Zotero's schema is refused, so a test cannot store what Zotero never would.
"""

from __future__ import annotations

import json
import random
import sqlite3
from pathlib import Path

SCHEMA_DIR = Path(__file__).resolve().parent / "data" / "zotero"
SYSTEM_VERSION = 32
TRIGGERS_VERSION = 18
COMPATIBILITY = {123: 7, 129: 9}  # Zotero's `_maxCompatibility` with each userdata schema
KEY_CHARS = "23456789ABCDEFGHIJKLMNPQRSTUVWXYZ"  # Zotero.Utilities.generateObjectKey
LINK_IMPORTED_FILE, LINK_IMPORTED_URL, LINK_LINKED_FILE = 0, 1, 2


def tiny_pdf(text: str = "a paper") -> bytes:
    """A small, well-formed one-page PDF."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


class ZoteroLibrary:
    """A Zotero data directory at ``folder`` (``zotero.sqlite``, ``storage/``), userdata schema 123 or 129."""

    def __init__(self, folder: Path, userdata: int = 129, *, seed: int = 0) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / "zotero.sqlite"
        self.conn = sqlite3.connect(self.path, isolation_level=None)
        self.random = random.Random(seed)
        self.keys: set[str] = set()
        self.conn.execute("PRAGMA page_size = 4096")
        self.conn.execute("PRAGMA encoding = 'UTF-8'")
        # one transaction, as Zotero's `_initializeSchema` (executescript would commit each statement)
        scripts = [
            (SCHEMA_DIR / n).read_text(encoding="utf-8")
            for n in ("system.sql", f"userdata-{userdata}.sql", "triggers.sql")
        ]
        self.conn.executescript("BEGIN;\n" + "\n".join(scripts) + "\nCOMMIT;")
        self.conn.execute("BEGIN")
        self._global_schema()
        versions = {
            "system": SYSTEM_VERSION,
            "userdata": userdata,
            "triggers": TRIGGERS_VERSION,
            "compatibility": COMPATIBILITY[userdata],
        }
        self.conn.executemany("REPLACE INTO version (schema, version) VALUES (?, ?)", versions.items())
        self.conn.execute(
            "INSERT INTO libraries (libraryID, type, editable, filesEditable) VALUES (1, 'user', 1, 1)"
        )
        self.conn.execute("REPLACE INTO settings VALUES ('client', 'lastVersion', '7.0.9')")
        self.conn.execute("REPLACE INTO settings VALUES ('client', 'lastCompatibleVersion', '7.0.9')")
        self.conn.execute("COMMIT")
        self.conn.execute("BEGIN")

    def _global_schema(self) -> None:
        """Item types, fields and creator types from schema.json, as `_updateGlobalSchema` writes them."""
        schema = json.loads((SCHEMA_DIR / "schema-itemtypes.json").read_text(encoding="utf-8"))
        self.conn.execute(
            "REPLACE INTO version (schema, version) VALUES ('globalSchema', ?)", (schema["version"],)
        )
        fields: dict[str, int] = {}
        creator_types: dict[str, int] = {}
        for item_type in schema["itemTypes"]:
            for entry in item_type["fields"]:
                for name in (entry["field"], entry.get("baseField")):
                    if name and name not in fields:
                        fields[name] = len(fields) + 1
            for entry in item_type["creatorTypes"]:
                creator_types.setdefault(entry["creatorType"], len(creator_types) + 1)
        self.conn.executemany("INSERT INTO fields VALUES (?, ?, NULL)", [(i, n) for n, i in fields.items()])
        self.conn.executemany(
            "INSERT INTO creatorTypes VALUES (?, ?)", [(i, n) for n, i in creator_types.items()]
        )
        self.item_types: dict[str, int] = {}
        self.type_fields: dict[str, set[str]] = {}
        for type_id, item_type in enumerate(schema["itemTypes"], 1):
            name = item_type["itemType"]
            self.item_types[name] = type_id
            self.type_fields[name] = {f["field"] for f in item_type["fields"]}
            self.conn.execute("INSERT INTO itemTypes VALUES (?, ?, NULL, 1)", (type_id, name))
            for index, entry in enumerate(item_type["fields"]):
                self.conn.execute(
                    "INSERT INTO itemTypeFields VALUES (?, ?, 0, ?)", (type_id, fields[entry["field"]], index)
                )
                if entry.get("baseField"):
                    self.conn.execute(
                        "INSERT INTO baseFieldMappings VALUES (?, ?, ?)",
                        (type_id, fields[entry["baseField"]], fields[entry["field"]]),
                    )
            for entry in item_type["creatorTypes"]:
                self.conn.execute(
                    "INSERT INTO itemTypeCreatorTypes VALUES (?, ?, ?)",
                    (type_id, creator_types[entry["creatorType"]], 1 if entry.get("primary") else 0),
                )
        # Zotero.Schema._updateCustomTables: the *Combined tables hold the built-in rows (and custom ones)
        self.conn.execute(
            "INSERT INTO itemTypesCombined SELECT itemTypeID, typeName, display, 0 FROM itemTypes"
        )
        self.conn.execute(
            "INSERT INTO fieldsCombined SELECT fieldID, fieldName, NULL, fieldFormatID, 0 FROM fields"
        )
        self.conn.execute(
            "INSERT INTO itemTypeFieldsCombined "
            "SELECT itemTypeID, fieldID, hide, orderIndex FROM itemTypeFields"
        )
        self.conn.execute("INSERT INTO baseFieldMappingsCombined SELECT * FROM baseFieldMappings")
        self.fields = fields
        self.creator_types = creator_types

    # -- adding things ------------------------------------------------------------------------------

    def key(self) -> str:
        while True:
            key = "".join(self.random.choice(KEY_CHARS) for _ in range(8))
            if key not in self.keys:
                self.keys.add(key)
                return key

    def _new_item(self, item_type: str, added: str) -> int:
        cursor = self.conn.execute(
            "INSERT INTO items (itemTypeID, dateAdded, dateModified, clientDateModified, libraryID, key) "
            "VALUES (?, ?, ?, ?, 1, ?)",
            (self.item_types[item_type], added, added, added, self.key()),
        )
        return int(cursor.lastrowid or 0)

    def _set_fields(self, item_id: int, item_type: str, values: dict[str, str]) -> None:
        for name, value in values.items():
            if name not in self.type_fields[item_type]:
                raise ValueError(f"Zotero's {item_type} has no field {name!r}")
            self.conn.execute("INSERT OR IGNORE INTO itemDataValues (value) VALUES (?)", (value,))
            (value_id,) = self.conn.execute(
                "SELECT valueID FROM itemDataValues WHERE value = ?", (value,)
            ).fetchone()
            self.conn.execute("INSERT INTO itemData VALUES (?, ?, ?)", (item_id, self.fields[name], value_id))

    def item(
        self,
        item_type: str = "journalArticle",
        *,
        title: str,
        creators: list[tuple[str, str]] | None = None,
        tags: list[str] | None = None,
        collections: list[int] | None = None,
        added: str = "2024-03-01 09:30:00",
        **values: str,
    ) -> int:
        """A regular item; ``values`` are Zotero field names (``date``, ``DOI``, ``url``, ``extra`` ...);
        creators are (first, last) authors, or ("", "Organisation") for a one-field name."""
        item_id = self._new_item(item_type, added)
        self._set_fields(item_id, item_type, {"title": title, **values})
        for index, (first, last) in enumerate(creators or []):
            mode = 1 if not first else 0
            self.conn.execute(
                "INSERT OR IGNORE INTO creators (firstName, lastName, fieldMode) VALUES (?, ?, ?)",
                (first, last, mode),
            )
            (creator_id,) = self.conn.execute(
                "SELECT creatorID FROM creators WHERE firstName = ? AND lastName = ? AND fieldMode = ?",
                (first, last, mode),
            ).fetchone()
            self.conn.execute(
                "INSERT INTO itemCreators VALUES (?, ?, ?, ?)",
                (item_id, creator_id, self.creator_types["author"], index),
            )
        for tag in tags or []:
            self.conn.execute("INSERT OR IGNORE INTO tags (name) VALUES (?)", (tag,))
            (tag_id,) = self.conn.execute("SELECT tagID FROM tags WHERE name = ?", (tag,)).fetchone()
            self.conn.execute("INSERT INTO itemTags VALUES (?, ?, 0)", (item_id, tag_id))
        for index, collection_id in enumerate(collections or []):
            self.conn.execute("INSERT INTO collectionItems VALUES (?, ?, ?)", (collection_id, item_id, index))
        return item_id

    def collection(self, name: str, parent: int | None = None) -> int:
        cursor = self.conn.execute(
            "INSERT INTO collections (collectionName, parentCollectionID, libraryID, key) "
            "VALUES (?, ?, 1, ?)",
            (name, parent, self.key()),
        )
        return int(cursor.lastrowid or 0)

    def note(self, parent: int, html: str) -> int:
        item_id = self._new_item("note", "2024-03-02 10:00:00")
        self.conn.execute("INSERT INTO itemNotes VALUES (?, ?, ?, ?)", (item_id, parent, html, html[:40]))
        return item_id

    def pdf(
        self,
        parent: int | None,
        name: str = "paper.pdf",
        content: bytes | None = None,
        *,
        linked: Path | str | None = None,
        title: str = "Full Text PDF",
    ) -> int:
        """A PDF attachment: stored under ``storage/<key>/name`` (``content``, or none written: a missing
        file), or a linked file at ``linked`` (a path, or ``attachments:`` and a path relative to the base
        folder set in Zotero's preferences)."""
        item_id = self._new_item("attachment", "2024-03-02 10:00:00")
        self._set_fields(item_id, "attachment", {"title": title})
        (key,) = self.conn.execute("SELECT key FROM items WHERE itemID = ?", (item_id,)).fetchone()
        if linked is not None:
            mode, path = LINK_LINKED_FILE, str(linked)
        else:
            mode, path = LINK_IMPORTED_URL, f"storage:{name}"
            if content is not None:
                (self.folder / "storage" / key).mkdir(parents=True, exist_ok=True)
                (self.folder / "storage" / key / name).write_bytes(content)
        self.conn.execute(
            "INSERT INTO itemAttachments (itemID, parentItemID, linkMode, contentType, path) "
            "VALUES (?, ?, ?, ?, ?)",
            (item_id, parent, mode, "application/pdf", path),
        )
        return item_id

    def trash(self, item_id: int) -> None:
        self.conn.execute("INSERT INTO deletedItems (itemID) VALUES (?)", (item_id,))

    def trash_collection(self, collection_id: int) -> None:
        self.conn.execute("INSERT INTO deletedCollections (collectionID) VALUES (?)", (collection_id,))

    def set_version(self, schema: str, version: int) -> None:
        self.conn.execute("REPLACE INTO version (schema, version) VALUES (?, ?)", (schema, version))

    def commit(self) -> None:
        self.conn.execute("COMMIT")
        self.conn.execute("BEGIN")

    def close(self) -> None:
        self.conn.execute("COMMIT")
        self.conn.close()
