"""One item's text: its title, links, arXiv ids, url, code links, year, venues, id comment and description.

An item's inline tokens become one string in which every piece whose characters must not be read as text
is one placeholder character from Unicode plane 15 (private use): escaped characters, code spans, links,
URLs, images, HTML and emphasis markers (`protect`). Separators, years, venues and ids are then found in
it, and `restore` and `flatten` turn what is left back into text.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from readtrack.catalog import arxivid
from readtrack.catalog.keys import SHORT_NAME
from readtrack.catalog.reader import valid_id
from readtrack.formats.markdown.lists import slug
from readtrack.formats.markdown.venues import PREPRINTS, VENUE_ALIASES, VENUES

if TYPE_CHECKING:
    from markdown_it.token import Token

    from readtrack.catalog.new_paper import NewPaper

# what `render` writes after each item: <!-- id: transformer -->, <!-- id: vit tags: vision, iclr -->, and
# the title or label the item's text does not give: <!-- id: transformer title: Attention Is All You Need -->
_ID_COMMENT = re.compile(
    r"^<!--\s*id:\s*(?P<id>\S+?)(?:\s+tags:\s*(?P<tags>[^<>]*?))?"
    r"(?:\s+(?P<key>title|label):\s*(?P<text>.*?))?\s*-->$",
    re.DOTALL,
)
TAG_WORD = re.compile(r"^[\w.+-]+$")  # tags a comment can carry
# Hashtags that end an item's text, Obsidian's and GitHub's tags: "Mamba #ssm #long-context" (one letter at
# least: "#1" is a number; "C#" no tag, since a hashtag follows a space)
_LAST_HASHTAG = re.compile(r"(?<!\S)#(?P<tag>[\w-]*[^\W\d_][\w-]*)\s*$")
_SLOT_BASE = 0xF0000
_SLOT_CHAR = re.compile("[\U000f0000-\U000ffffd]")
_ANCHOR_OPEN = re.compile(r"<a\s[^>]*?href\s*=\s*[\"'](?P<url>[^\"']+)[\"']", re.IGNORECASE)
_ANCHOR_CLOSE = re.compile(r"</a\s*>", re.IGNORECASE)
_BARE_URL = re.compile(r"https?://[^\s<>\U000f0000-\U000ffffd]+", re.IGNORECASE)
_WEB_URL = re.compile(r"https?://", re.IGNORECASE)
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)
_BARE_ARXIV = re.compile(
    r"(?<![\w./])(?:arxiv(?::\s*|\s+)(?:[a-z]+(?:-[a-z]+)*(?:\.[A-Z]{2})?/\d{7}(?:v\d+)?|\d{4}\.\d{4,5}(?:v\d+)?)"
    r"|\d{4}\.\d{4,5}(?:v\d+)?)(?![\w.])",
    re.IGNORECASE,
)
_EMPTY_BRACKETS = re.compile(r"\(\s*\)|\[\s*\]|\{\s*\}")
_EDGE_SEPARATORS = " \t-:,;|/"
_SPACE_BEFORE_PUNCTUATION = re.compile(r" ([,;:.!?])(?=\s|$)")
# A link after one of these words is part of the sentence ("see the [blog post](url)"), not an attachment.
_LEADS_INTO_LINK = frozenset(
    ["a", "an", "the", "see", "in", "on", "at", "of", "for", "by", "with", "to", "from", "and", "or", "via"]
)
_NOTE_SEPARATOR = re.compile(r"\s*--\s*|\s+#\s+")
# "[GCN] Large Kernel Matters": a short name in brackets before the title (the label keeps it)
_STRAY_CHECKBOX = re.compile(r"(?<!\S)\[[xX]\](?=\s|$)")  # "Title -- [x] Subtitle": a checkbox typed twice
# a repository on a code host: github.com/OWNER/REPO (a profile page alone is not code)
_REPO_URL = re.compile(
    r"^https?://(?:www\.)?(?:github\.com|gitlab\.com|bitbucket\.org|codeberg\.org)/[^/?#\s]+/[^/?#\s]+",
    re.IGNORECASE,
)
_AFTER_LEADING = re.compile(r"^\s*(?:--?|–|—|\|)\s+|^\s*:\s+")

# A link labelled with one of these words is the paper's code: it goes to `code`.
# fmt: off
_CODE_WORDS = frozenset([
    "code", "codes", "github", "gitlab", "bitbucket", "repo", "repository", "implementation",
    "reimplementation", "pytorch", "torch", "tensorflow", "tf", "keras", "mxnet", "gluon", "caffe",
    "chainer", "theano", "jax", "flax", "matlab", "paddle", "paddlepaddle", "lasagne", "darknet",
])
# A link labelled with one of these words (or a code word) is about the paper, not the paper: it goes to
# the notes (code links to `code`).
_EXTRA_WORDS = _CODE_WORDS | frozenset([
    "notes", "note", "slides", "slide", "video", "talk", "youtube", "blog", "post", "poster", "website",
    "homepage", "project", "page", "demo", "dataset", "data", "summary", "review", "explained", "tweet",
    "thread", "colab", "notebook", "bibtex", "bib", "huggingface", "weights", "checkpoint", "podcast",
    "medium", "zhihu",
])
# fmt: on
_PAPER_WORDS = frozenset(
    ["paper", "pdf", "arxiv", "abs", "abstract", "doi", "publication", "openreview", "proceedings", "link"]
)
_DOMAIN = re.compile(r"^[\w-]+(?:\.[\w-]+)+$")  # `render` labels a url by its host: `[github.com](url)`

# Years and venues, in brackets: (2018), (2017.03), [OSDI'22], (NeurIPS 2020), (Vaswani et al., 2017)
_BRACKETED_YEAR = re.compile(
    r"(?P<open>[\[(])\s*(?:(?P<pure>(?:19|20)\d{2})(?:[./-](?:0?[1-9]|1[0-2]))?"
    r"|(?P<name>[^\[\]()\d\s\U000f0000-\U000ffffd]"
    r"[^\[\]()\U000f0000-\U000ffffd]*?)(?P<comma>\s*,)?\s*(?:['’](?P<yy>\d{2})|(?<=[\s,])(?P<year>(?:19|20)\d{2})))"
    r"\s*(?P<close>[\])])"
)
# A link labelled with a venue and year, "[CVPR 2016](https://doi.org/...)" or "[OSDI'22](...)"
_VENUE_LINK = re.compile(
    r"^\s*(?P<name>[A-Za-z][\w&.+-]*(?:\s+[A-Za-z][\w&.+-]*){0,2})"
    r"(?:\s*['’](?P<yy>\d{2})|\s+(?P<year>(?:19|20)\d{2}))\s*$"
)
_TRAILING_VENUE = re.compile(
    r",\s*(?P<name>[A-Za-z][\w&.+-]*(?:\s+[A-Za-z][\w&.+-]*){0,2})\s+(?P<year>(?:19|20)\d{2})"
    r"(?=[\s,;.|\[\]()\U000f0000-\U000ffffd]*$)"
)
_ANY_YEAR = re.compile(r"\([^()]*?(?<!\d)((?:19|20)\d{2})(?!\d)[^()]*\)")
_CITATION = re.compile(r"\bet\.?\s*al\b|&|\band\b", re.IGNORECASE)
_AUTHOR = re.compile(r"[A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*)?")


@dataclass
class _Slot:
    kind: str  # "literal" (escaped character, code) | "link" | "url" | "drop" (image, HTML, emphasis)
    source: str  # the markdown it stands for
    text: str = ""  # literal text, or a link's text (itself protected)
    url: str = ""


def _slot(slots: list[_Slot], slot: _Slot) -> str:
    slots.append(slot)
    return chr(_SLOT_BASE + len(slots) - 1)


def slot_of(char: str, slots: list[_Slot]) -> _Slot | None:
    index = ord(char) - _SLOT_BASE
    return slots[index] if 0 <= index < len(slots) else None


def protect(children: list[Token]) -> tuple[str, list[_Slot], re.Match[str] | None]:
    """Inline tokens as protected text, its slots, and the ``<!-- id: x tags: a, b -->`` comment found."""
    slots: list[_Slot] = []
    id_comment = None
    texts: list[list[str]] = [[]]  # the innermost open link collects its text
    opened: list[tuple[str, str]] = []  # (url, "link" | "autolink" | "a")

    def close() -> None:
        url, how = opened.pop()
        text = "".join(texts.pop())
        if how == "autolink":
            texts[-1].append(_slot(slots, _Slot("url", f"<{url}>", url=url)))
        else:
            source = f"[{restore_source(text, slots)}]({url})"
            texts[-1].append(_slot(slots, _Slot("link", source, text, url)))

    for token in children:
        kind, out = token.type, texts[-1]
        if kind == "text":
            out.append(token.content)
        elif kind in ("softbreak", "hardbreak"):
            out.append(" ")
        elif kind == "text_special":
            out.append(_slot(slots, _Slot("literal", token.markup, token.content)))
        elif kind == "code_inline":
            out.append(
                _slot(slots, _Slot("literal", token.markup + token.content + token.markup, token.content))
            )
        elif kind == "link_open":
            opened.append(
                (str(token.attrs.get("href", "")), "autolink" if token.markup == "autolink" else "link")
            )
            texts.append([])
        elif kind == "link_close" and opened and opened[-1][1] != "a":
            close()
        elif kind == "html_inline" and (anchor := _ANCHOR_OPEN.match(token.content)):
            opened.append((anchor.group("url"), "a"))
            texts.append([])
        elif kind == "html_inline" and _ANCHOR_CLOSE.match(token.content) and opened and opened[-1][1] == "a":
            close()
        else:  # images, other HTML, emphasis markers: kept only in the source
            if kind == "html_inline" and (found := _ID_COMMENT.match(token.content.strip())):
                id_comment = found if valid_id(found.group("id")) else id_comment
            source = f"![{token.content}]({token.attrs.get('src', '')})" if kind == "image" else token.markup
            out.append(_slot(slots, _Slot("drop", token.content if kind == "html_inline" else source)))
    while opened:  # an <a href> never closed: its text stays text
        opened.pop()
        text = texts.pop()
        texts[-1] += text

    def bare_url(match: re.Match[str]) -> str:
        found, trailing = _trim_url(match.group(0))
        return _slot(slots, _Slot("url", found, url=found)) + trailing

    return _BARE_URL.sub(bare_url, "".join(texts[0])), slots, id_comment


def _trim_url(url: str) -> tuple[str, str]:
    """A bare URL without the punctuation that ends its sentence or closes a surrounding bracket."""
    end = len(url)
    while end > 0 and url[end - 1] in ".,;:!?'\"*_)]":
        closing = url[end - 1]
        opening = {")": "(", "]": "["}.get(closing)
        if opening and url[:end].count(opening) >= url[:end].count(closing):
            break  # balanced: part of the URL, as in wikipedia's /Foo_(bar)
        end -= 1
    return url[:end], url[end:]


def _each_slot(text: str, slots: list[_Slot], replace: Callable[[_Slot, str], str]) -> str:
    """``text`` with each slot character replaced by ``replace(slot)`` (the loops below, at regex speed)."""

    def one(match: re.Match[str]) -> str:
        slot = slot_of(match.group(0), slots)
        return match.group(0) if slot is None else replace(slot, match.group(0))

    return _SLOT_CHAR.sub(one, text)


def restore_source(text: str, slots: list[_Slot]) -> str:
    """Protected text back to markdown."""
    return _each_slot(text, slots, lambda slot, _: slot.source)


def restore(text: str, slots: list[_Slot]) -> str:
    """Protected text to plain text: escaped characters and code as their literal text."""
    return _each_slot(text, slots, lambda slot, _: slot.text if slot.kind == "literal" else "")


def distinct_ids(ids: list[str]) -> list[str]:
    """arXiv ids in order, one per paper (``1706.03762`` and ``1706.03762v5`` are the same paper)."""
    seen: set[str] = set()
    distinct = []
    for ident in ids:
        if arxivid.base_id(ident) not in seen:
            seen.add(arxivid.base_id(ident))
            distinct.append(ident)
    return distinct


def flatten(text: str, slots: list[_Slot], *, keep_urls: bool) -> str:
    """Links replaced by their (protected) text, URLs kept as text or dropped, images and HTML dropped."""

    def flat(slot: _Slot, char: str) -> str:
        if slot.kind == "literal":
            return char
        if slot.kind == "link":
            return flatten(slot.text, slots, keep_urls=keep_urls)
        return slot.url if slot.kind == "url" and keep_urls else ""

    return _each_slot(text, slots, flat)


def tidy(text: str) -> str:
    """Whitespace collapsed; brackets and separators left empty by what was taken out, removed."""
    previous = None
    while previous != text:
        previous = text
        text = _EMPTY_BRACKETS.sub("", text)
    text = _SPACE_BEFORE_PUNCTUATION.sub(r"\1", " ".join(text.split()))
    return text.strip(_EDGE_SEPARATORS)


def _links_in(text: str, slots: list[_Slot]) -> list[_Slot]:
    found: list[_Slot] = []
    for match in _SLOT_CHAR.finditer(text):
        slot = slot_of(match.group(0), slots)
        if slot is not None and slot.kind in ("link", "url"):
            found.append(slot)
            if slot.kind == "link":
                found.extend(_links_in(slot.text, slots))
    return found


def _split_trailing_links(head: str, slots: list[_Slot], floor: int = 0) -> tuple[str, str]:
    """(title part, trailing links): links at the end of an item, after its words, are not title words.

    Brackets around trailing links go with them (``[[pdf](url)]``, ``(https://...)``); a bracket the
    title opened stays with the title (``Title (cs231n) [blog](url)``). A leading title link, ending at
    ``floor``, stays with the title.
    """
    boundary = position = len(head)
    depth = 0
    while position > floor:
        char = head[position - 1]
        slot = slot_of(char, slots)
        if (slot is not None and slot.kind in ("link", "url", "drop")) or char in " \t,;|·/":
            pass
        elif char in ")]":
            depth += 1
        elif char in "([" and depth > 0:
            depth -= 1
        else:
            break
        position -= 1
        if depth == 0:
            boundary = position
    tail = head[boundary:]
    words = restore(tidy(flatten(head[:boundary], slots, keep_urls=False)), slots).split()
    if not _links_in(tail, slots) or not words:
        return head, ""
    first = slot_of(tail.lstrip()[:1] or " ", slots)  # "see [the post](url)", not "A [code](repo)" or arXiv
    if words[-1].lower() in _LEADS_INTO_LINK and first and _link_role(first, slots) not in ("code", "paper"):
        return head, ""
    return head[:boundary], tail


@dataclass
class _Dates:
    """The year and venue tags found in an item so far (the first year found wins)."""

    year: int | None = None
    tags: list[str] = field(default_factory=list)

    def take(self, text: str, *, citations: bool = False) -> str:
        """``text`` without the years and venues it states; with ``citations`` also without citations."""
        return _TRAILING_VENUE.sub(
            self._trailing, _BRACKETED_YEAR.sub(lambda m: self._bracketed(m, citations), text)
        )

    def found(self, year: int, venue: str | None = None) -> str:
        self.year = self.year or year
        venue = VENUE_ALIASES.get(venue or "", venue)
        if venue and venue.split("-")[0] not in PREPRINTS and venue not in self.tags:
            self.tags.append(venue)
        return " "

    def _bracketed(self, match: re.Match[str], citations: bool) -> str:
        if {match.group("open"), match.group("close")} not in ({"(", ")"}, {"[", "]"}):
            return match.group(0)
        if match.group("pure"):
            return self.found(int(match.group("pure")))
        name = match.group("name").strip()
        year = int(match.group("year")) if match.group("year") else _full_year(int(match.group("yy")))
        if _CITATION.search(name) or (match.group("comma") and _AUTHOR.fullmatch(name)):
            if citations:
                return self.found(year)
            return match.group(0)
        if name.split()[0].lower() in VENUES or (match.group("open") == "[" and match.group("yy")):
            return self.found(year, slug(name))
        return match.group(0)

    def _trailing(self, match: re.Match[str]) -> str:
        name = match.group("name")
        if name.split()[0].lower() not in VENUES:
            return match.group(0)
        return self.found(int(match.group("year")), slug(name))

    def take_link(self, label: str) -> bool:
        """Take the year and venue of a link labelled with them (``[CVPR 2016](doi link)``); True if so."""
        match = _VENUE_LINK.match(label)
        if match is None or match.group("name").split()[0].lower() not in VENUES:
            return False
        yy = match.group("yy")
        self.found(_full_year(int(yy)) if yy else int(match.group("year")), slug(match.group("name")))
        return True


def _full_year(two_digits: int) -> int:
    """'22 is 2022; a two-digit year after next year is last century's ('98 is 1998)."""
    year = 2000 + two_digits
    return year if year <= dt.date.today().year + 1 else year - 100


def _take_hashtags(text: str, slots: list[_Slot]) -> tuple[str, list[str]]:
    """(``text`` without the hashtags that end it, their tags in order, lowercase): ``Mamba #ssm
    #long-context`` gives ``ssm`` and ``long-context``. Markup between them (an HTML comment) goes with
    them; hashtags that would leave no title are the title."""
    tags: list[str] = []
    rest = text
    while found := _LAST_HASHTAG.search(_without_trailing_drops(rest, slots)):
        tags.insert(0, found.group("tag").lower())
        rest = found.string[: found.start()]
    if not tags or not tidy(flatten(rest, slots, keep_urls=True)):
        return text, []
    return rest, list(dict.fromkeys(tags))


def _without_trailing_drops(text: str, slots: list[_Slot]) -> str:
    end = len(text)
    while end and (text[end - 1].isspace() or getattr(slot_of(text[end - 1], slots), "kind", "") == "drop"):
        end -= 1
    return text[:end]


def _split_leading_labels(body: str, slots: list[_Slot]) -> tuple[str, str]:
    """(leading links, the rest) for items that start with labelled links, ``[[Paper](url)] [[Code](url)]
    Title``: links whose labels are only paper or extra words (`_PAPER_WORDS`, `_EXTRA_WORDS`), with the
    brackets around them, are links and not title words when words follow them."""
    position = boundary = depth = 0
    while position < len(body):
        char, slot = body[position], slot_of(body[position], slots)
        if slot is not None and slot.kind == "link":
            label = re.findall(r"[a-z]+", restore(flatten(slot.text, slots, keep_urls=True), slots).lower())
            if not label or not all(w in _PAPER_WORDS or w in _EXTRA_WORDS for w in label):
                break
        elif slot is None and char in "([":
            depth += 1
        elif slot is None and char in ")]" and depth > 0:
            depth -= 1
        elif not ((slot is not None and slot.kind == "drop") or char in " \t,;|·/"):
            break
        position += 1
        if depth == 0:
            boundary = position
    if not _links_in(body[:boundary], slots) or not tidy(flatten(body[boundary:], slots, keep_urls=True)):
        return "", body
    return body[:boundary], body[boundary:]


def _link_role(link: _Slot, slots: list[_Slot], *, titled: bool = False) -> str:
    """What a web link is to its item: "code" (labelled as code, `_CODE_WORDS`, or a repository on a code
    host), "paper" (labelled as the paper), "extra" (notes, slides, a video...: `_EXTRA_WORDS`) or "" (no
    label says; the url when it is the first). The label decides, except for the title's own link
    (``titled``: its label is the title) and `render`'s host labels (``[github.com](url)`` is the url)."""
    label = restore(flatten(link.text, slots, keep_urls=True), slots).strip().lower()
    if link.kind == "link" and _DOMAIN.match(label):
        return ""
    if link.kind == "link" and not titled:
        for word in re.findall(r"[a-z]+", label):
            if word in _CODE_WORDS:
                return "code"
            if word in _PAPER_WORDS:
                return "paper"
            if word in _EXTRA_WORDS:
                return "extra"
    return "code" if _REPO_URL.match(link.url) else ""


def _paper_link_in(text: str, slots: list[_Slot]) -> bool:
    """True when ``text`` holds a link to the paper itself: an arXiv link or one labelled as the paper."""
    return any(
        arxivid.parse(link.url) is not None or (link.kind == "link" and _link_role(link, slots) == "paper")
        for link in _links_in(text, slots)
    )


def _note_separator(head: str, slots: list[_Slot]) -> re.Match[str] | None:
    """Where an item's notes begin: the first `` -- `` or `` # `` with words before it that is not inside
    the title. The item's text up to its links is its title, so a separator followed by the paper's link,
    with none before it, is part of the title (``Large Kernel Matters -- Improve ... [[Paper]](arXiv)``)."""
    for separator in _NOTE_SEPARATOR.finditer(head):
        before, after = head[: separator.start()], head[separator.end() :]
        if not tidy(flatten(before, slots, keep_urls=True)):
            continue
        if _paper_link_in(before, slots) or not _paper_link_in(after, slots):
            return separator
    return None


def continuation_links(children: list[Token]) -> tuple[list[str], list[str]]:
    """(arXiv ids, code links) of the links in inline tokens (an item's continuation lines), in order."""
    text, slots, _ = protect(children)
    ids: list[str] = []
    code: list[str] = []
    for link in _links_in(text, slots):
        parsed = arxivid.parse(link.url)
        if parsed is not None:
            ids.append(str(parsed))
        elif _WEB_URL.match(link.url) and _link_role(link, slots) == "code":
            code.append(link.url)
    return distinct_ids(ids), code


def parse_item(children: list[Token]) -> tuple[NewPaper, str | None] | None:
    """A paper from an item's inline tokens, and its description (notes); None for items that are no paper."""
    from readtrack.catalog.new_paper import NewPaper

    body, slots, id_comment = protect(children)
    lead, body = _split_leading_labels(body, slots)
    position = 0
    while position < len(body) and (
        body[position].isspace() or getattr(slot_of(body[position], slots), "kind", "") == "drop"
    ):
        position += 1
    leading_link = slot_of(body[position], slots) if position < len(body) else None
    if leading_link is not None and leading_link.kind != "link":
        leading_link = None
    if leading_link is not None and leading_link.url.startswith("#"):
        return None  # a table-of-contents entry
    description: str | None = None
    head = body
    floor = 0
    if leading_link is not None:
        end = floor = position + 1
        while end < len(body) and getattr(slot_of(body[end], slots), "kind", "") == "drop":
            end += 1
        separator = _AFTER_LEADING.match(body[end:])
        if separator:
            head, description = body[:end], body[end + separator.end() :]
    if description is None:
        separator = _note_separator(head, slots)
        if separator:
            head, description = head[: separator.start()], head[separator.end() :]
    dates = _Dates()
    head, hashtags = _take_hashtags(head, slots)
    head, tail = _split_trailing_links(dates.take(head), slots, floor)
    if not hashtags:  # "Title #ssm [code](url)": the hashtags end the title
        head, hashtags = _take_hashtags(head, slots)

    ids: list[str] = []
    url: str | None = None
    code: list[str] = []
    extras: list[_Slot] = []
    for link in _links_in(lead, slots) + _links_in(head, slots) + _links_in(tail, slots):
        if link.kind == "link" and link is not leading_link:
            dates.take_link(restore(flatten(link.text, slots, keep_urls=False), slots))
        parsed = arxivid.parse(link.url)
        role = _link_role(link, slots, titled=link is leading_link) if _WEB_URL.match(link.url) else ""
        if parsed is not None:
            ids.append(str(parsed))
        elif not _WEB_URL.match(link.url):
            if not link.url.startswith("#") and not _SCHEME.match(link.url):
                extras.append(link)  # a file beside the list: text, never a URL
        elif role == "code":
            code.append(link.url)
        elif url is None and (link is leading_link or role != "extra"):
            url = link.url
        else:
            extras.append(link)
    flat = _STRAY_CHECKBOX.sub(" ", flatten(head, slots, keep_urls=False))
    for match in _BARE_ARXIV.finditer(flat):
        parsed = arxivid.parse(re.sub(r"^arxiv\s+", "", match.group(0), flags=re.IGNORECASE))
        if parsed is not None:
            ids.append(str(parsed))
    flat = dates.take(_BARE_ARXIV.sub("", flat))
    # the label is the list's wording less the arXiv id its `arxiv` holds: "(arXiv:2006.11239)" and all
    wording = _BARE_ARXIV.sub("", _STRAY_CHECKBOX.sub(" ", flatten(head, slots, keep_urls=True)))
    wording = dates.take(_EMPTY_BRACKETS.sub("", wording))
    flat = dates.take(flat, citations=True)
    if leading_link is None and (short := SHORT_NAME.match(flat)):
        flat = flat[short.end() :]  # the label keeps it
    if dates.year is None and (mentioned := _ANY_YEAR.search(flat)):
        dates.year = int(mentioned.group(1))
    # tidy before restoring: an escaped "\:" or "\(" at the edge is the user's, not a separator to trim
    title = restore(tidy(flat), slots)
    wording = restore(tidy(wording), slots)
    links = _links_in(lead, slots) + _links_in(head, slots) + _links_in(tail, slots)
    if not title:
        texts = (
            restore(tidy(flatten(s.text, slots, keep_urls=True)), slots) for s in links if s.kind == "link"
        )
        title = next(texts, "") or (links[0].url if links else "") or (f"arXiv:{ids[0]}" if ids else "")
    if not title:
        return None
    if (
        url is None
        and not ids
        and not code
        and (web := next((s for s in extras if _WEB_URL.match(s.url)), None))
    ):
        url = web.url  # nothing but extras: the first one is what the item is about
        extras.remove(web)
    arxiv_ids = distinct_ids(ids)
    given = id_comment.group("key") if id_comment else None  # what the comment gives: "title" or "label"
    if id_comment and given == "title" and id_comment.group("text").strip():
        title = id_comment.group("text").strip()
    paper = NewPaper(
        title=title,
        id=id_comment.group("id") if id_comment else None,
        label=wording if wording and wording not in (title, tidy(title)) else None,
        arxiv=arxiv_ids[0] if arxiv_ids else None,
        related=arxiv_ids[1:],
        url=url,
        code=list(dict.fromkeys(code)),
        year=dates.year,
        tags=list(dict.fromkeys([*dates.tags, *hashtags])),
    )
    if id_comment and given == "label":
        paper.label = id_comment.group("text").strip() or None
    if id_comment and id_comment.group("tags"):
        written = [t.strip() for t in id_comment.group("tags").split(",")]
        paper.tags = list(dict.fromkeys([*paper.tags, *(t for t in written if TAG_WORD.match(t))]))
    notes = [restore_source(description, slots).strip() if description else ""]
    notes.append(
        " ".join(
            f"[{restore(flatten(s.text, slots, keep_urls=True), slots) or s.url}]({s.url})" for s in extras
        )
    )
    return paper, "\n".join(n for n in notes if n) or None
