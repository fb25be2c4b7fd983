"""BibTeX for the reading list: one entry per paper, nested ones included, that imports back as the same list.

Type and key. A paper imported from BibTeX keeps its entry's type and cite key, so the ``\\cite{}``s of a
LaTeX paper keep working: the import writes them into papers.yaml as the entry's first line,
``bibtex: "@inproceedings{vaswani2017attention}"``, which a person may also write or change (the list's
reader checks it). Any other paper gets a key in Better BibTeX's and Google Scholar's style,
``vaswani2017attention``: its first author's last name, its year and the first word of its title that is
not a stop word, in lowercase ASCII (``Schrödinger`` is ``schrodinger``); without an author or a year, its
id. Keys are unique in list order, compared without case as BibTeX compares them: a key already taken gets
``a``, ``b`` ... appended, as Better BibTeX does. A paper with no stored type is ``@misc``, or with a venue
``@inproceedings`` when the venue names proceedings (a conference, workshop, "Advances in ..."), else
``@article``.

Fields, from papers.yaml, the arXiv metadata sync stored and what a library import stored
(`readtrack.catalog.stored`; arXiv's comes first for title, authors, year, DOI and abstract, as
``show`` shows them): ``title``, ``author``, the venue as ``booktitle`` (in a book or proceedings) or
``journal``, ``year``, the import's other bibliographic fields (``volume``, ``pages``, ``publisher`` ...,
`KEPT_FIELDS`), arXiv's (``eprint``, ``archivePrefix = {arXiv}``, ``primaryClass`` when known), ``doi``,
``note`` (an imported entry's own ``note`` while the notes still hold it, arXiv's journal reference, then
code links: ``Code: \\url{...}``), ``url`` (the library's own link, else the arXiv abstract page, else the
paper's url unless it only repeats the DOI), ``howpublished = {\\url{...}}`` for a ``@misc`` web page, then
what only readtrack reads back: tags as ``keywords``, a status as JabRef's ``readstatus`` (read; skimmed
for reading; skipped), the rest of the notes as ``annote`` (not printed by bibliography styles), and the
abstract. `readtrack.formats.bibtex.reader` reads every one of them back, so import, export and import
again give the same papers.yaml, and exporting that gives the same text (tested on Google Scholar's,
arXiv's, Better BibTeX's, JabRef's and Mendeley's exports).

Text fields escape what BibTeX and LaTeX treat specially (``{ } & % $ # _ ~ ^ \\``), and title words with
capitals are wrapped in braces so that bibliography styles do not lowercase them (``{BERT}``,
``{FlashAttention}``). URLs and DOIs are verbatim, as the ``url`` package reads them: only braces,
backslashes, spaces and control characters are percent-encoded. Control characters in text fields are
written out as `readtrack.base.safe_text.visible` shows them (``\x1b`` read as ``\textbackslash{}x1b``): an
export never carries a raw escape sequence, NUL or bidi override.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from readtrack.base.safe_text import is_safe, visible
from readtrack.catalog.keys import ascii_letters, author_key
from readtrack.catalog.model import Catalog, Paper
from readtrack.catalog.reader import BIBTEX_HEAD

#: Bibliographic fields an import keeps as they are and the export writes back, in this order.
KEPT_FIELDS = (
    "editor",
    "volume",
    "number",
    "pages",
    "month",
    "publisher",
    "address",
    "organization",
    "institution",
    "school",
    "series",
    "edition",
    "chapter",
    "isbn",
    "issn",
)
#: A status as JabRef's ``readstatus`` writes it (``todo`` is no status); the import reads these back.
READ_STATUS = {"read": "read", "reading": "skimmed", "skipped": "skipped"}

# Braces become \textbrace*: BibTeX counts every brace when it reads a field, escaped or not.
_SPECIAL = {
    "\\": r"\textbackslash{}",
    "{": r"\textbraceleft{}",
    "}": r"\textbraceright{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}
_SPECIAL_RE = re.compile("|".join(re.escape(c) for c in _SPECIAL))
_OLD_STYLE = re.compile(r"^(?P<archive>[a-z]+(?:-[a-z]+)*(?:\.[A-Z]{2})?)/\d{7}")
# Entry types whose venue is the book or proceedings they are in (``booktitle``); other types: ``journal``.
_IN_A_BOOK = {"inproceedings", "conference", "incollection", "inbook", "inreference", "bookinbook"}
_PROCEEDINGS = re.compile(
    r"\b(?:proc\.|proceedings|conference|workshops?|symposium|congress|meeting|advances in)\b", re.IGNORECASE
)
# Words a key skips in a title (Better BibTeX's English ones): "On the Origin of ..." is keyed by "origin".
_STOP_WORD = re.compile(
    "a|an|the|of|on|in|for|and|or|to|with|without|is|are|at|by|from|via|as|into|onto|over|under|towards?"
    "|through|than|up|down|upon|about|after|before|between|beyond|during|since|until|near"
)


@dataclass
class Facts:
    """What is known of a paper for its entry: papers.yaml first for what it holds, then sync's arXiv
    record, then what a library import stored (`readtrack.catalog.stored.details`)."""

    title: str
    authors: list[str] = field(default_factory=list)
    year: str = ""
    doi: str = ""
    venue: str = ""  # an import's journal or proceedings title
    journal_ref: str = ""  # arXiv's journal reference: a whole citation, so it goes into the note
    category: str = ""
    abstract: str = ""
    url: str = ""  # the library's own link, where papers.yaml's url is the DOI's
    note: str = ""  # the imported entry's own ``note`` (its text is in the paper's notes too)
    fields: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, paper: Paper, record: object = None, imported: Mapping[str, object] | None = None) -> Facts:
        stored = imported or {}
        title = _text(_get(record, "title")) or _text(paper.title) or _text(paper.label) or paper.id
        authors = _get(record, "authors") or stored.get("authors")
        names = [_text(getattr(a, "name", a)) for a in authors] if isinstance(authors, list | tuple) else []
        published = _text(_get(record, "published"))
        year = published[:4] if re.match(r"\d{4}", published) else (str(paper.year) if paper.year else "")
        kept = stored.get("fields")
        kept = kept if isinstance(kept, Mapping) else {}
        fields = {str(k): _text(v) for k, v in kept.items() if k != "note"}
        old_style = _OLD_STYLE.match(paper.arxiv or "")
        return cls(
            title=title,
            authors=[n for n in names if n],
            year=year,
            doi=_text(_get(record, "doi")) or _text(stored.get("doi")),
            venue=_text(stored.get("venue")),
            journal_ref=_text(_get(record, "journal_ref")),
            category=_text(_get(record, "primary_category"))
            or fields.pop("primaryclass", "")
            or (old_style.group("archive") if old_style else ""),
            abstract=_text(_get(record, "abstract")) or _text(stored.get("abstract")),
            url=_text(stored.get("url")),
            note=str(kept.get("note") or "").strip(),  # its line breaks kept, as the notes keep them
            fields=fields,
        )


def render(
    catalog: Catalog,
    metadata: Mapping[str, object] | None = None,
    imported: Mapping[str, Mapping[str, object]] | None = None,
) -> str:
    """Every paper of the catalog as BibTeX, in list order.

    ``metadata`` maps a paper id to its synced record: a mapping or an object with any of ``title``,
    ``authors`` (list of names, or of objects with a ``name``), ``published`` (ISO date), ``doi``,
    ``journal_ref``, ``primary_category`` and ``abstract``. ``imported`` maps a paper id to what a library
    import stored (`readtrack.catalog.stored.for_papers`). Missing ids and fields are simply left out.
    """
    records, stored = metadata or {}, imported or {}
    papers = list(catalog.papers())
    known = {p.id: Facts.of(p, records.get(p.id), stored.get(p.id)) for p in papers}
    keys = cite_keys(papers, known)
    entries = [entry(p, known=known[p.id], key=keys[p.id]) for p in papers]
    return "\n\n".join(entries) + "\n" if entries else ""


def cite_keys(papers: list[Paper], known: Mapping[str, Facts]) -> dict[str, str]:
    """Each paper's cite key, by paper id: its stored one, else `generated_key`; unique (see the module)."""
    taken: set[str] = set()
    keys: dict[str, str] = {}
    later: list[tuple[Paper, str]] = []
    for paper in papers:  # stored keys first: a generated key never takes one of them
        stored = stored_head(paper)
        if stored is not None and stored[1].lower() not in taken:
            keys[paper.id] = stored[1]
            taken.add(stored[1].lower())
        else:
            later.append((paper, stored[1] if stored else generated_key(paper, known[paper.id])))
    for paper, base in later:
        key, n = base, 0
        while key.lower() in taken:
            key, n = base + _letters(n), n + 1
        keys[paper.id] = key
        taken.add(key.lower())
    return keys


def stored_head(paper: Paper) -> tuple[str, str] | None:
    """(entry type, cite key) from the paper's ``bibtex:`` value, or None."""
    found = BIBTEX_HEAD.fullmatch(paper.bibtex or "")
    return (found.group("type").lower(), found.group("key")) if found else None


def generated_key(paper: Paper, known: Facts) -> str:
    """``vaswani2017attention``: first author's last name, year, first title word not a stop word; the id
    when there is no author or year (see the module docstring)."""
    last = re.sub(r"[^a-z0-9]", "", author_key(known.authors[0]) or "") if known.authors else ""
    if not last or not known.year:
        return paper.id
    words = re.findall(r"[a-z0-9]+", ascii_letters(known.title).lower().replace("'", ""))
    return last + known.year + next((w for w in words if not _STOP_WORD.fullmatch(w)), "")


def _letters(n: int) -> str:
    """0 → a, 25 → z, 26 → aa: the suffixes that make a key unique."""
    out = ""
    n += 1
    while n:
        n, rest = divmod(n - 1, 26)
        out = chr(ord("a") + rest) + out
    return out


def entry_type(paper: Paper, known: Facts) -> str:
    """The paper's stored entry type, else one guessed from its venue (see the module docstring)."""
    stored = stored_head(paper)
    if stored is not None:
        return stored[0]
    if known.venue:
        return "inproceedings" if _PROCEEDINGS.search(known.venue) else "article"
    return "misc"


def entry(
    paper: Paper,
    record: object = None,
    imported: Mapping[str, object] | None = None,
    *,
    known: Facts | None = None,
    key: str | None = None,
) -> str:
    """One entry for ``paper``, using its synced ``record`` and ``imported`` details when there are some;
    ``key`` when the caller made keys unique (`cite_keys`), else the paper's own."""
    known = known or Facts.of(paper, record, imported)
    kind = entry_type(paper, known)
    stored = stored_head(paper)
    key = key or (stored[1] if stored else generated_key(paper, known))
    fields: list[tuple[str, str]] = [("title", protect_capitals(escape(known.title)))]
    if known.authors:
        fields.append(("author", " and ".join(bibtex_name(n) for n in known.authors)))
    if known.venue:
        fields.append(("booktitle" if kind in _IN_A_BOOK else "journal", escape(known.venue)))
    if known.year:
        fields.append(("year", known.year))
    fields += [(name, escape(known.fields[name])) for name in KEPT_FIELDS if known.fields.get(name)]
    if paper.arxiv:
        fields += [("eprint", paper.arxiv), ("archivePrefix", "arXiv")]
        if known.category:
            fields.append(("primaryClass", escape(known.category)))
    if known.doi:
        fields.append(("doi", verbatim(known.doi)))
    printed, notes = split_notes(paper.notes, known.note)
    code = ", ".join(f"\\url{{{verbatim(link)}}}" for link in paper.code)
    note = [_lines(printed)] if printed else []
    note += [escape(known.journal_ref)] if known.journal_ref else []
    note += [f"Code: {code}"] if code else []
    if note:
        fields.append(("note", ". ".join(note)))
    url = _url(paper, known)
    if url:
        fields.append(("url", verbatim(url)))
        if kind == "misc" and not paper.arxiv:
            fields.append(("howpublished", f"\\url{{{verbatim(url)}}}"))
    if paper.tags:
        fields.append(("keywords", escape(", ".join(visible(t) for t in paper.tags))))
    if paper.status in READ_STATUS:
        fields.append(("readstatus", READ_STATUS[paper.status]))
    if notes:
        fields.append(("annote", _lines(notes)))
    if known.abstract:
        fields.append(("abstract", escape(known.abstract)))
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields)
    return f"@{kind}{{{key},\n{body}\n}}"


def split_notes(notes: str | None, note: str) -> tuple[str, str]:
    """(the entry's ``note``, the rest of the notes for ``annote``): ``note``, the imported entry's own, is
    printed again while the notes still hold it as a paragraph (or whole); once the reader rewrote it, all
    the notes are theirs, and go to ``annote``."""
    text = (notes or "").strip()
    if not note or not text:
        return "", text
    start = text.find(note)
    while start >= 0:
        before, after = text[:start], text[start + len(note) :]
        if (not before or before.endswith("\n\n")) and (not after or after.startswith("\n\n")):
            return note, (before + after).strip()
        start = text.find(note, start + 1)
    return "", text


def _url(paper: Paper, known: Facts) -> str:
    """The library's own link, else the arXiv abstract page, else papers.yaml's url unless it is the link
    of the DOI the entry gives."""
    if known.url:
        return known.url
    if paper.arxiv:
        return f"https://arxiv.org/abs/{paper.arxiv}"
    if paper.url and known.doi and paper.url.lower() == f"https://doi.org/{known.doi}".lower():
        return ""
    return paper.url or ""


def bibtex_name(name: str) -> str:
    """A name, escaped, in a form BibTeX and the import read back as the same name: ``First Last`` as it
    is, ``First Last, Jr`` as ``Last, Jr, First``; braced when it holds an ``and`` or another comma."""
    head, comma, tail = name.partition(",")
    words = head.split()
    if re.search(r"\sand\s", name, re.IGNORECASE) or (comma and (len(words) < 2 or "," in tail)):
        return "{" + escape(name) + "}"
    if comma:
        return f"{escape(words[-1])}, {escape(tail.strip())}, {escape(' '.join(words[:-1]))}"
    return escape(name)


def escape(text: str) -> str:
    """``text`` with BibTeX/LaTeX special characters escaped (braces stay balanced)."""
    return _SPECIAL_RE.sub(lambda m: _SPECIAL[m.group(0)], text)


def protect_capitals(escaped: str) -> str:
    """Wrap each word holding a capital in braces, except a first word that is only capitalised."""
    words = escaped.split(" ")
    out = []
    for index, word in enumerate(words):
        letters = re.sub(
            r"\\[a-z]+\{\}", "", word
        )  # the escapes' command names hold no capitals of the title
        has_capital = any(c.isupper() for c in letters)
        only_initial = letters[:1].isupper() and not any(c.isupper() for c in letters[1:])
        if has_capital and not (index == 0 and only_initial):
            out.append("{" + word + "}")
        else:
            out.append(word)
    return " ".join(out)


def verbatim(value: str) -> str:
    """A URL or DOI for a verbatim field: braces, backslashes and whitespace percent-encoded."""
    encoded = re.sub(r"[{}\\\s]", lambda m: f"%{ord(m.group(0)):02X}", value.strip())
    if is_safe(encoded):
        return encoded
    return "".join(c if is_safe(c) else "".join(f"%{b:02X}" for b in c.encode()) for c in encoded)


def _get(record: object, name: str) -> object:
    if record is None:
        return None
    if isinstance(record, Mapping):
        return record.get(name)
    return getattr(record, name, None)


def _text(value: object) -> str:
    """A metadata value as one line of text (arXiv titles and abstracts carry line breaks)."""
    return visible(" ".join(str(value).split())) if value not in (None, "") else ""


def _lines(text: str) -> str:
    """Notes, escaped, their line breaks kept (each line as `_text` makes it) and the lines after the first
    indented: a line of notes that starts with ``@`` never reads as an entry to a tool that splits on one."""
    first, *rest = [escape(_text(line)) for line in text.strip().splitlines()]
    return "\n".join([first, *(f"    {line}" if line else "" for line in rest)])
