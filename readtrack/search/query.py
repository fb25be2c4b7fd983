"""Full-text search over the reading list, the synced abstracts, the PDFs and the plugins: `readtrack search`.

A query is FTS5's own syntax (``"bucketed relative"``, ``atten*``, ``AND``/``OR``/``NOT``, parentheses) plus
field filters: ``title:``, ``label:``, ``author:``, ``year:``, ``notes:``, ``abstract:``, ``pdf:``,
``page:`` (a plugin's page), ``code:`` restrict a word or phrase to one field; ``status:read``,
``tag:attention`` and ``section:vision`` keep the papers that have them. Words FTS5 would read as syntax
(``self-attention``, ``O(n)``) are searched as phrases. Hits are ranked by bm25 with the weights below: a
word in the title counts more than one in the abstract, and much more than one on page 9 of the PDF.

The index is refreshed first (`readtrack.search.index.refresh`: nothing to do unless something changed).
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from readtrack.base.errors import UsageError
from readtrack.catalog.model import STATUSES
from readtrack.search.index import COLUMNS, KIND_BITS, SCHEMA, IndexReport

if TYPE_CHECKING:
    from readtrack.catalog.model import Catalog

# bm25 weights, in the order of COLUMNS: what a hit in that field is worth against a hit in a PDF page.
WEIGHTS = {
    "title": 10.0,
    "label": 6.0,
    "authors": 4.0,
    "year": 2.0,
    "section": 2.0,
    "tags": 5.0,
    "notes": 4.0,
    "abstract": 3.0,
    "pdf": 1.0,
    "page": 2.0,
    "code": 1.0,
}
# A paper's own row (title, notes, abstract) is a shorter document than a PDF page or a code file and more
# likely what the reader means: its bm25 score counts this many times more.
# The kind is read from the rowid's low bits (`search_index.KIND_BITS`): no join for each match.
_KIND_BOOST = (
    f"(CASE search_fts.rowid & 3 WHEN {KIND_BITS['paper']} THEN 4.0 WHEN {KIND_BITS['page']} THEN 1.5 "
    "ELSE 1.0 END)"
)
FIELDS = {name: name for name in COLUMNS} | {"author": "authors", "tag": "tag", "status": "status"}
FILTERS = ("status", "tag", "section")
# Around each matched term in snippets (`Hit.highlights` has the spans): Unicode noncharacters, which no
# text holds (a note with \x02 in it moved the highlight when these were STX/ETX).
START, END = "\ufdd0", "\ufdd1"
_BAREWORD = re.compile(r"^[\w\x80-\U0010ffff]+\*?$")
_TOKEN = re.compile(r'\s*(?:(\()|(\))|("(?:[^"]|"")*"\*?)|([^\s()"]+))')


@dataclass(frozen=True)
class Query:
    """A parsed query: the FTS5 expression (empty: filters only) and the filters."""

    match: str
    status: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    sections: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Hit:
    """One matching document: which paper, which field, where in it, and a snippet."""

    paper_id: str
    title: str
    status: str
    section: str
    field: str  # title, notes, abstract, pdf, page, code, ...
    where: str  # "notes", "p. 4", "rope/model.py:42"
    snippet: str  # plain text
    highlights: list[tuple[int, int]]  # [start, end) of each matched term in snippet
    page: int | None = None
    file: str | None = None
    line: int | None = None
    score: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def parse(text: str) -> Query:
    """Split the filters off ``text`` and make the rest a valid FTS5 expression (see the module doc)."""
    parts: list[str] = []
    filters: dict[str, list[str]] = {name: [] for name in FILTERS}
    tokens = [m for m in _TOKEN.finditer(text) if m.group(0).strip()]
    i = 0
    while i < len(tokens):
        match = tokens[i]
        opening, closing, phrase, word = match.groups()
        i += 1
        if opening or closing or phrase:
            parts.append(opening or closing or phrase)
            continue
        name, colon, value = word.partition(":")
        if not colon or not name or word.startswith(("http:", "https:")):
            parts.append(_term(word))
            continue
        key = name.lower()
        if key not in FIELDS:
            known = ", ".join(sorted(FIELDS))
            raise UsageError(f"unknown field {name!r} in query {text!r} (fields: {known})")
        if not value and i < len(tokens) and tokens[i].group(3):  # title:"a phrase"
            value = tokens[i].group(3)
            i += 1
        if key in FILTERS:
            if not value:
                raise UsageError(f"{key}: needs a value in query {text!r} (e.g. {key}:{_example(key)})")
            filters[key].append(value.strip('"').lower())
            continue
        if not value:  # title:(a OR b)
            parts.append(f"{FIELDS[key]} :")
            continue
        parts.append(f"{FIELDS[key]} : {value if value.startswith(chr(34)) else _term(value)}")
    for status in filters["status"]:
        if status not in STATUSES:
            raise UsageError(f"unknown status {status!r} in query (use one of {', '.join(STATUSES)})")
    expression = " ".join(p for p in parts if p)
    if not expression and not any(filters.values()):  # `search '?'` listed 20 papers as if each matched
        raise UsageError(
            f'nothing to search for in {text!r}: give a word, a "phrase" or a filter (e.g. tag:attention)'
        )
    return Query(expression, filters["status"], filters["tag"], filters["section"])


def _example(key: str) -> str:
    return {"status": "read", "tag": "attention", "section": "vision"}[key]


def _term(word: str) -> str:
    """A bare word as FTS5 reads it; one with characters FTS5 would read as syntax as a quoted phrase."""
    if word in ("AND", "OR", "NOT") or word.startswith("NEAR") or _BAREWORD.match(word):
        return word
    star = "*" if word.endswith("*") and len(word) > 1 else ""
    core = word[: -1 if star else None]
    if not re.search(r"[\w]", core):
        return ""
    return '"' + core.replace('"', '""') + '"' + star


def search(
    catalog: Catalog, text: str, *, limit: int = 20, conn: sqlite3.Connection | None = None
) -> tuple[list[Hit], IndexReport]:
    """Refresh the index for ``catalog``, then run the query: the best ``limit`` hits, best first."""
    from readtrack.base.store import opened
    from readtrack.search import index as search_index

    query = parse(text)
    with opened(search_index.SCHEMA, conn) as db:
        report = search_index.refresh(catalog, db)
        return run(query, db, limit=limit, text=text), report


def run(query: Query, db: sqlite3.Connection, *, limit: int = 20, text: str = "") -> list[Hit]:
    """The hits of a parsed query on an up-to-date index."""
    where, params = _filters(query)
    if not query.match:
        rows = db.execute(
            f"SELECT * FROM search_papers p WHERE 1 {where} ORDER BY p.section, p.title LIMIT ?",
            (*params, limit),
        ).fetchall()
        return [
            Hit(r["paper_id"], r["title"], r["status"], r["section"], "title", "title", r["title"], [])
            for r in rows
        ]
    weights = ", ".join(str(WEIGHTS[c]) for c in COLUMNS)
    try:
        # the best `limit` rows first, from the FTS table alone (with filters, and each row's paper); the
        # rest of each hit is looked up for those rows only
        papers = (
            "JOIN search_docs d ON d.id = search_fts.rowid JOIN search_papers p ON p.paper_id = d.paper_id "
            if where
            else ""
        )
        rows = db.execute(
            "SELECT d.*, p.title, p.status, p.section, best.score FROM ("
            f"SELECT search_fts.rowid AS id, bm25(search_fts, {weights}) * {_KIND_BOOST} AS score "
            f"FROM search_fts {papers}"
            f"WHERE search_fts MATCH ? {where} ORDER BY score LIMIT ?) best "
            "JOIN search_docs d ON d.id = best.id JOIN search_papers p ON p.paper_id = d.paper_id "
            "ORDER BY best.score",
            (query.match, *params, limit),
        ).fetchall()
        texts = _texts(db, query.match, [r["id"] for r in rows])
    except sqlite3.OperationalError as err:
        raise UsageError(f"malformed query {text or query.match!r}: {_fts_message(err)}") from None
    return [_hit(row, texts[row["id"]]) for row in rows]


def _filters(query: Query) -> tuple[str, list[str]]:
    where, params = "", []
    for status in query.status:
        where += " AND p.status = ?"
        params.append(status)
    for tag in query.tags:
        where += " AND lower(p.tags) LIKE ?"
        params.append(f"% {tag} %")
    for section in query.sections:
        where += " AND lower(p.section) LIKE ?"
        params.append(f"%{section}%")
    return where, params


def _fts_message(err: sqlite3.OperationalError) -> str:
    message = str(err).removeprefix("fts5: ")
    hint = ' (the syntax: "a phrase", prefix*, a AND b, a OR b, a NOT b, (groups), field:word)'
    return message.replace("no such column", "unknown field") + hint


def _texts(db: sqlite3.Connection, match: str, ids: list[int]) -> dict[int, dict[str, str]]:
    """Each hit's fields with its matches marked: snippets of the short fields, whole text of pdf/page/code
    (the line of the first match is counted there). A field longer than `LONG_FIELD` is marked around its
    first match only (`_long_field`): FTS5's snippet() and highlight() weigh every match of a field, and a
    common word matches a 5 MB note 400,000 times (half a minute)."""
    if not ids:
        return {}
    columns = ", ".join(
        f"CASE WHEN length({name}) > {LONG_FIELD} THEN '{_LONG}' ELSE "
        + (
            f"highlight(search_fts, {i}, '{START}', '{END}')"
            if name in ("page", "code")
            else f"snippet(search_fts, {i}, '{START}', '{END}', '…', 24)"
        )
        + " END"
        for i, name in enumerate(COLUMNS)
    )
    marks = ", ".join("?" * len(ids))
    if "*" in match:
        # a prefix is expanded to its terms each time FTS5 starts a scan, and `rowid IN` starts one per
        # rowid: one scan over the rowids' range, the others skipped before any snippet is made
        where, params = f"rowid BETWEEN ? AND ? AND +rowid IN ({marks})", (min(ids), max(ids), *ids)
    else:
        where, params = f"rowid IN ({marks})", tuple(ids)
    query = f"SELECT rowid, {columns} FROM search_fts WHERE search_fts MATCH ? AND {where}"
    texts = {row[0]: dict(zip(COLUMNS, row[1:], strict=True)) for row in db.execute(query, (match, *params))}
    for rowid, fields in texts.items():
        for name, value in fields.items():
            if value == _LONG:
                fields[name] = _long_field(db, match, rowid, name)
    return texts


LONG_FIELD = 20_000  # characters
_LONG = "\x01long"
_WINDOW = 400  # characters either side of a candidate match in a long field
_TOKENIZE = re.search(r"tokenize = '[^']*'", SCHEMA)
_WINDOW_COLUMNS = ", ".join([*COLUMNS, *([_TOKENIZE.group(0)] if _TOKENIZE else [])])  # as search_fts


def _long_field(db: sqlite3.Connection, match: str, rowid: int, column: str) -> str:
    """A long field marked around its first match, as `_texts` marks a short one: the places where a query
    word might start (found by a plain text search for the word's first letters, which its stem shares) are
    cut out as windows, and FTS5 itself says which window matches, on a scratch table of those windows.
    page and code keep one line break per line before the window, so the match's line is counted."""
    (text,) = db.execute(f"SELECT {column} FROM search_fts WHERE rowid = ?", (rowid,)).fetchone()
    words = _words(match)
    if not words:
        return text[: 2 * _WINDOW]
    firsts = {w.replace('"', " ").replace("*", " ").split()[0] for w in words if w.strip('"* ')}
    found = re.compile("|".join(re.escape(w[: max(3, len(w) - 4)]) for w in sorted(firsts)), re.IGNORECASE)
    starts = [m.start() for m, _ in zip(found.finditer(text), range(2000), strict=False)]
    index = COLUMNS.index(column)
    marker = (
        f"highlight(search_window, {index}, '{START}', '{END}')"
        if column in ("page", "code")
        else f"snippet(search_window, {index}, '{START}', '{END}', '…', 24)"
    )
    db.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS temp.search_window USING fts5({_WINDOW_COLUMNS})")
    try:
        for expression in (match, " OR ".join(words)):  # a far-away AND partner is in no window
            for batch in range(0, len(starts), 64):
                windows = [(max(0, at - _WINDOW), at + _WINDOW) for at in starts[batch : batch + 64]]
                db.execute("DELETE FROM temp.search_window")
                db.executemany(
                    f"INSERT INTO temp.search_window(rowid, {column}) VALUES (?, ?)",
                    [(i, text[a:b]) for i, (a, b) in enumerate(windows)],
                )
                try:
                    hit = db.execute(
                        f"SELECT rowid, {marker} FROM temp.search_window WHERE search_window MATCH ? "
                        "ORDER BY rowid LIMIT 1",
                        (expression,),
                    ).fetchone()
                except sqlite3.OperationalError:
                    break
                if hit is not None:
                    before = text[: windows[hit[0]][0]].count("\n") if column in ("page", "code") else 0
                    return "\n" * before + hit[1]
    finally:
        db.execute("DELETE FROM temp.search_window")
    return text[: 2 * _WINDOW]


def _words(match: str) -> list[str]:
    """The words and phrases of an FTS5 expression, without operators and column names, each as FTS5
    reads it (a phrase quoted, a prefix with its star)."""
    words = []
    for found in re.finditer(r'"((?:[^"]|"")*)"(\*?)|([^\s()":*]+)(\*?)(?!\s*:)', match):
        phrase, phrase_star, word, word_star = found.groups()
        if phrase is not None and phrase.strip():
            words.append(f'"{phrase}"{phrase_star}')
        elif word and word not in ("AND", "OR", "NOT") and not word.startswith("NEAR"):
            words.append(word + word_star)
    return words


def _hit(row: sqlite3.Row, texts: dict[str, str]) -> Hit:
    kind = row["kind"]
    if kind == "paper":
        marked = [c for c in sorted(COLUMNS, key=lambda c: -WEIGHTS[c]) if START in (texts.get(c) or "")]
        column = marked[0] if marked else "title"
    else:
        column = kind
    text = texts.get(column) or ""
    line = row["line"]
    if kind in ("page", "code") and START in text:
        before = text[: text.index(START)]
        line = (line or 1) + before.count("\n")
        text = text.split("\n")[before.count("\n")]
    if kind == "pdf":
        where = f"p. {row['page']}"
    elif kind in ("page", "code"):
        where = f"{row['file']}:{line}"
    else:
        where = column
    snippet, spans = _spans(" ".join(text.split()))
    return Hit(
        row["paper_id"],
        row["title"],
        row["status"],
        row["section"],
        column,
        where,
        snippet,
        spans,
        page=row["page"],
        file=row["file"],
        line=line if kind in ("page", "code") else None,
        score=round(-float(row["score"]), 4),
    )


def _spans(marked: str) -> tuple[str, list[tuple[int, int]]]:
    """The text without markers, and the [start, end) of each marked stretch."""
    plain, spans, start, length = [], [], 0, 0
    for part in re.split(f"([{START}{END}])", marked):
        if part == START:
            start = length
        elif part == END:
            spans.append((start, length))
        else:
            plain.append(part)
            length += len(part)
    return "".join(plain), spans
