"""BibTeX for the reading list: one ``@misc`` entry per paper, nested ones included.

Each entry's key is the paper's id, so keys are unique within a list and stay the same from one export
to the next (``\\cite{flashattention}``). arXiv papers get the fields of arXiv's own BibTeX export
(``eprint``, ``archivePrefix = {arXiv}``, ``primaryClass`` when known, ``url``); other papers ``url`` and
``howpublished = {\\url{...}}``. Code links (``code:``) go to ``note = {Code: \\url{...}}``, after the
journal reference when there is one. Synced metadata, when given, adds authors, the publication year,
DOI, journal reference and abstract, and supplies the title arXiv knows.

Text fields escape what BibTeX and LaTeX treat specially (``{ } & % $ # _ ~ ^ \\``), and title words
with capitals are wrapped in braces so that bibliography styles do not lowercase them (``{BERT}``,
``{FlashAttention}``). URLs and DOIs are verbatim, as the ``url`` package reads them: only braces,
backslashes, spaces and control characters are percent-encoded. Control characters in text fields are
written out as `readtrack.safe_text.visible` shows them (``\x1b`` read as ``\textbackslash{}x1b``): an
export never carries a raw escape sequence, NUL or bidi override.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from readtrack.catalog import Catalog, Paper
from readtrack.safe_text import is_safe, visible

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


def render(catalog: Catalog, metadata: Mapping[str, object] | None = None) -> str:
    """Every paper of the catalog as BibTeX, in list order.

    ``metadata`` maps a paper id to its synced record: a mapping or an object with any of ``title``,
    ``authors`` (list of names, or of objects with a ``name``), ``published`` (ISO date), ``doi``,
    ``journal_ref``, ``primary_category`` and ``abstract``. Missing ids and fields are simply left out.
    """
    records = metadata or {}
    entries = [entry(paper, records.get(paper.id)) for paper in catalog.papers()]
    return "\n\n".join(entries) + "\n" if entries else ""


def entry(paper: Paper, record: object = None) -> str:
    """One ``@misc`` entry for ``paper``, using its synced ``record`` when there is one."""
    fields: list[tuple[str, str]] = []
    title = _text(_get(record, "title")) or _text(paper.title) or _text(paper.label) or paper.id
    fields.append(("title", protect_capitals(escape(title))))
    authors = _get(record, "authors")
    if isinstance(authors, list | tuple) and authors:
        names = [_text(getattr(a, "name", a)) for a in authors]
        fields.append(("author", " and ".join(escape(n) for n in names if n)))
    published = _text(_get(record, "published"))
    year = published[:4] if re.match(r"\d{4}", published) else (str(paper.year) if paper.year else "")
    if year:
        fields.append(("year", year))
    if paper.arxiv:
        fields.append(("eprint", paper.arxiv))
        fields.append(("archivePrefix", "arXiv"))
        old_style = _OLD_STYLE.match(paper.arxiv)
        category = _text(_get(record, "primary_category")) or (
            old_style.group("archive") if old_style else ""
        )
        if category:
            fields.append(("primaryClass", escape(category)))
    doi = _text(_get(record, "doi"))
    if doi:
        fields.append(("doi", verbatim(doi)))
    journal = _text(_get(record, "journal_ref"))
    code = ", ".join(f"\\url{{{verbatim(link)}}}" for link in paper.code)
    note = [escape(journal)] if journal else []
    note += [f"Code: {code}"] if code else []
    if note:
        fields.append(("note", ". ".join(note)))
    if paper.arxiv:
        fields.append(("url", verbatim(f"https://arxiv.org/abs/{paper.arxiv}")))
    elif paper.url:
        fields.append(("url", verbatim(paper.url)))
        fields.append(("howpublished", f"\\url{{{verbatim(paper.url)}}}"))
    abstract = _text(_get(record, "abstract"))
    if abstract:
        fields.append(("abstract", escape(abstract)))
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields)
    return f"@misc{{{paper.id},\n{body}\n}}"


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
