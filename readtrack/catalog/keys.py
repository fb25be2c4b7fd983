"""The forms two listings of a paper are compared in: its title, its first author's last name and its DOI.

"Deep Residual Learning for Image Recognition", ``{D}eep residual learning for image recognition. arXiv
preprint arXiv:1512.03385`` and "Deep residual learning for image recognition (2016)" have one title key;
"He, Kaiming", "Kaiming He" and "K. He" one author key; ``https://doi.org/10.1109/CVPR.2016.90`` and
``10.1109/cvpr.2016.90`` one DOI. `readtrack.catalog.identity` compares listings with them (``import``,
``add``), `readtrack.plugins.links` papers with the plugins that declare them, on every ``list``: so this
module is light (``re`` and ``unicodedata``; LaTeX is decoded only in a title that holds some).
"""

from __future__ import annotations

import re
import unicodedata

# Letters NFKD does not take apart into an ASCII letter and accents.
_LETTERS = str.maketrans(
    {"ß": "ss", "æ": "ae", "Æ": "Ae", "œ": "oe", "Œ": "Oe", "ø": "o", "Ø": "O", "ł": "l", "Ł": "L"}
    | {"đ": "d", "Đ": "D", "ð": "d", "þ": "th", "Þ": "Th", "ı": "i"}
)
# Patterns as strings: `re` compiles each on its first use (a ``list`` whose titles need none pays none).
_YEAR_IN_BRACKETS = r"\(\s*(?:19|20)\d{2}\s*\)"
_ARXIV_ID = r"(?:\d{4}\.\d{4,5}|[a-z-]+(?:\.[a-z]{2})?/\d{7})(?:v\d+)?"
# What a citation appends to a title: "arXiv preprint arXiv:1512.03385", "arXiv:1512.03385", "CoRR abs/...".
_TRAILER = (
    rf"\b(?:arxiv\s+preprint(?:\s*(?:arxiv\s*)?:?\s*{_ARXIV_ID})?"
    rf"|(?:arxiv|corr)\s*:?\s*(?:abs/)?{_ARXIV_ID})[\s.,;]*$"
)
_WORD, _ASCII_WORD = r"[^\W_]+", r"[a-z0-9]+"  # letters (of any script) and digits
_SUFFIXES = {"jr", "sr", "ii", "iii", "iv"}  # "John Smith Jr." is a Smith
_DOI_LINK = r"(?:doi\.org/|/doi/(?:abs/|full/|pdf/|epdf/)?)(10\.\d{4,9}/[^\s?#]+)"  # in lowercase text
_DOI = r"(?:doi:\s*)?(10\.\d{4,9}/\S+)"
#: The short name in brackets that starts an item's text: ``GCN`` in ``[GCN] Large Kernel Matters``.
SHORT_NAME = re.compile(r"^\s*\[(?![xX ]\])(?P<name>[^\[\]\n]{1,30})\]\s+(?=\S)")


def ascii_letters(text: str) -> str:
    """``text`` with accented Latin letters as their plain letters: "Schrödinger" → "Schrodinger"."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_LETTERS))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def title_key(text: str) -> str:
    """A title for comparing: its words in lowercase ASCII, without LaTeX braces and escapes, punctuation,
    a bracketed year or a trailing "arXiv preprint arXiv:1512.03385" (what a citation appends)."""
    if "\\" in text or "{" in text:
        from readtrack.catalog.latex import to_text  # light, and a title seldom needs it

        text = to_text(text)
    text = (text if text.isascii() else ascii_letters(text)).lower()
    if "(" in text:
        text = re.sub(_YEAR_IN_BRACKETS, " ", text)
    word = _ASCII_WORD if text.isascii() else _WORD  # `list` asks for every title: the plain ones are quick
    words = re.findall(word, text)
    if "arxiv" in text or "corr" in text:
        words = re.findall(word, re.sub(_TRAILER, "", text)) or words
    return " ".join(words)


def author_key(name: str | None) -> str | None:
    """A person's last name for comparing, from their name as a list writes it: "He, Kaiming", "Kaiming He"
    and "K. He" are ``he``, "Aäron van den Oord" and "van den Oord, A." ``oord``, "Smith, Jr., John" and
    "John Smith Jr." ``smith``. None for an empty name."""
    if not name:
        return None
    if "\\" in name or "{" in name:
        from readtrack.catalog.latex import to_text

        name = to_text(name)
    # "Last, First", "Last, Jr, First" and "First Last, Jr": the last name ends the first part
    words = [w for w in _words(name.split(",", 1)[0]) if w not in _SUFFIXES]
    return words[-1] if words else None


def _words(text: str) -> list[str]:
    return re.findall(_WORD, ascii_letters(text).lower().replace("'", "").replace("-", ""))


def doi_of(text: str | None) -> str | None:
    """The DOI a link names (``https://doi.org/10.1145/3292500.3330701``, ``.../doi/abs/10...``) or a bare
    DOI (``10.1109/CVPR.2016.90``, ``doi:10.1109/...``), lowercase; None when there is none."""
    text = (text or "").strip().lower()
    if "10." not in text:
        return None
    found = re.search(_DOI_LINK, text) or re.fullmatch(_DOI, text)
    return found.group(1).rstrip("/.") if found else None


def short_name(text: str) -> str | None:
    """The short name in brackets that starts an item's text (``GCN`` in ``[GCN] Large Kernel Matters``)."""
    found = SHORT_NAME.match(text)
    return found.group("name").strip() if found else None
