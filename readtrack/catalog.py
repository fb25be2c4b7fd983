"""The reading list: papers.yaml, loaded into `Catalog`, `Section` and `Paper`, validated, and queried.

papers.yaml is the user's file, edited by hand and kept in git. Loading composes it with PyYAML's C
composer (safe: no tag ever constructs an object) and builds the model straight from the node tree, so every
paper knows the line it sits on and every error names ``file:line:col``. Scalars are read as the text the
user wrote: ``arxiv: 1711.05101`` is the id, not a float, and ``added: 2024-04-12`` stays a string.
Edits never go through this model: see `readtrack.edits`, which splices only the lines it must change.

The format (version 1)::

    version: 1
    title: My reading list          # optional
    notes: free text for the list   # optional
    sections:
      - name: Development of language models
        notes: free text for the section   # optional
        papers:
          - id: transformer                # unique slug: what the CLI takes
            title: Attention Is All You Need
            label: Transformer (Attention is all you need)   # the user's own wording, optional
            status: read                   # todo | reading | read | skipped
            arxiv: "1706.03762"            # optional, new- or old-style, optional version
            related: ["2205.14135"]        # further arXiv ids for items that bundle several papers
            url: https://...               # optional: the paper's own page when not on arXiv
            code: https://github.com/...   # optional: code links, one or a list
            year: 2017
            tags: [attention]
            plugin: transformer            # the paper plugin that runs it, or a list: [adamw, schedule-free]
            added: 2024-04-12
            read: 2024-05-01
            notes: |
              free text
            papers:                        # nested items keep their nesting
              - id: ...
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import Field, dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from readtrack import arxivid
from readtrack.errors import CatalogError, UsageError

if TYPE_CHECKING:
    import yaml

FORMAT_VERSION = 1
#: A list with no papers yet: what ``readtrack init --empty``, ``import`` and ``add`` write to a new file.
NEW_CATALOG = """\
# readtrack reading list (format: see README, "The reading list: papers.yaml").
# Edit freely: readtrack only ever changes the lines of what you asked it to change.
version: 1
sections: []
"""
#: The first line of the sample list a first run writes into the data dir: how `Catalog.sample` knows it.
SAMPLE_MARK = "# readtrack's sample list"
#: What `list` (on stderr) and the TUI's header say while the sample list is the one in use.
SAMPLE_NOTICE = "the bundled sample list (its author's marks and notes): `readtrack init` starts your own"
SAMPLE_HEADER = (
    f"{SAMPLE_MARK}, bundled with readtrack: its author's reading notes and marks, to try readtrack on.\n"
    "# Start your own list with `readtrack init` (--empty, or --from LIST.md); this one is then kept aside.\n"
)
STATUSES = ("todo", "reading", "read", "skipped")
STATUS_GLYPHS = {"todo": "☐", "reading": "◐", "read": "☑", "skipped": "⊘"}
SECTION_KEYS = ("name", "notes", "papers")
TOP_KEYS = ("version", "title", "notes", "sections")
# A slug that is also a safe file name (PDFs are cached under it): dots only between other characters, never
# two in a row or at the end, so no id reads as ``..`` or a hidden or extension-only name.
ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]*(?:\.[a-z0-9_-]+)*")
ID_RULE = "a lowercase slug: letters, digits, '-', '_', and '.' between them (e.g. `flash-attention-2`)"
#: C0 and C1 control characters and DEL (NUL, ESC, newline, tab ...): never part of an id or a tag.
CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f-\x9f]")
TAG_RULE = (
    "a tag is one word of any letters, digits, symbols or emoji, without spaces, commas or control"
    " characters, not starting with '+' or '-'"
)
_TAG = re.compile(r"[^\s,+\-\x00-\x1f\x7f-\x9f][^\s,\x00-\x1f\x7f-\x9f]*")
MAX_PROBLEMS = 20  # problems reported at once; the rest are counted

_NULLS = {"", "~", "null", "Null", "NULL"}
_WEB_LINK = re.compile(r"^https?://[^\s/]+\S*$", re.IGNORECASE)

# Field metadata of `Paper`: where a paper sits is set by the loader (no key in the file); a block value
# (free text, nested papers) is written after the one-line keys; ``key`` when the file names it otherwise.
_PLACE = {"place": True}
_BLOCK = {"block": True}
#: How a paper's plugins were found (`Paper.plugin_link`): its own ``plugin:`` key, or its arXiv ids.
LINKED_BY_FILE, LINKED_BY_ARXIV = "file", "arxiv id"


@dataclass(kw_only=True)
class Paper:
    """One checklist item: the keys of papers.yaml, and where the item sits (section, parent, depth, line).

    This class is the one definition of a paper's fields: the file's keys (`PAPER_KEYS`), the JSON of
    ``list --json``, the parse cache and the lines `readtrack.edits` writes for a new paper all come from
    `dataclasses.fields`. A paper to add is a `Paper` too, whose id may be left empty (one is derived).
    """

    id: str = ""
    title: str
    label: str | None = None
    section: str = field(default="", metadata=_PLACE)
    status: str = "todo"
    arxiv: str | None = None
    related: list[str] = field(default_factory=list)
    url: str | None = None
    # links to code (``code: https://github.com/...`` or a list); `url` stays the paper's own page
    code: list[str] = field(default_factory=list, metadata={"items": "links"})
    year: int | None = None
    tags: list[str] = field(default_factory=list)
    notes: str | None = field(default=None, metadata=_BLOCK)
    # the paper plugins that run this paper: ``plugin: adamw`` or ``plugin: [adamw, schedule-free]``
    plugins: list[str] = field(default_factory=list, metadata={"key": "plugin"})
    # "file" when papers.yaml says ``plugin:`` (``plugin: []`` opts out of linking), "arxiv id" when the
    # plugins were found by the paper's arXiv ids (`readtrack.plugin_links`), None when it has none
    plugin_link: str | None = field(default=None, metadata={"derived": True})
    added: str | None = None
    read: str | None = None
    parent: str | None = field(default=None, metadata=_PLACE)
    depth: int = field(default=0, metadata=_PLACE)
    line: int = field(default=0, metadata=_PLACE)
    children: list[Paper] = field(default_factory=list, metadata={"key": "papers", **_BLOCK})

    @property
    def display_title(self) -> str:
        return self.title or self.label or self.id

    @property
    def untitled(self) -> bool:
        """True while the paper's title is empty or only its arXiv id (``readtrack add 2106.09685``, not
        synced yet): sync replaces such a title with the real one."""
        return untitled(self.title, self.arxiv)

    def arxiv_ids(self) -> list[str]:
        """Primary id first, then related ones, without duplicates."""
        ids = [self.arxiv] if self.arxiv else []
        return ids + [r for r in self.related if r not in ids]

    def to_dict(self) -> dict[str, Any]:
        """The flat JSON shape of ``readtrack list --json`` and ``show --json``: every field but children."""
        values = ((f.name, getattr(self, f.name)) for f in fields(self) if f.name != "children")
        return {name: list(value) if isinstance(value, list) else value for name, value in values}


def untitled(title: str, arxiv: str | None) -> bool:
    """True for no title, or a title that is only the paper's arXiv id (see `Paper.untitled`)."""
    return not title or (
        arxiv is not None and arxivid.is_valid(title) and arxivid.base_id(title) == arxivid.base_id(arxiv)
    )


def valid_id(paper_id: str) -> bool:
    """True for an id papers.yaml accepts (`ID_RULE`)."""
    return ID_PATTERN.fullmatch(paper_id) is not None


def tag_problem(tag: str) -> str | None:
    """Why ``tag`` is not a tag (`TAG_RULE`), or None: one rule for papers.yaml and ``readtrack tag``."""
    if _TAG.fullmatch(tag):
        return None
    if CONTROL_CHARS.search(tag):
        return f"tag {tag!r} holds a control character"
    return f"bad tag {tag!r}: {TAG_RULE}"


def shown_path(path: Path) -> str:
    """A path as errors show it: as the user gave it, or relative to the working directory when inside it."""
    if path.is_absolute():
        with contextlib.suppress(ValueError, OSError):
            return str(path.relative_to(Path.cwd()))
    return str(path)


def paper_key(paper_field: Field[Any]) -> str:
    """The papers.yaml key of a `Paper` field."""
    return str(paper_field.metadata.get("key", paper_field.name))


# The fields papers.yaml holds, in the order a new paper's keys are written: one-line keys, then blocks.
FILE_FIELDS = tuple(
    sorted(
        (f for f in fields(Paper) if not (f.metadata.get("place") or f.metadata.get("derived"))),
        key=lambda f: bool(f.metadata.get("block")),
    )
)
PAPER_KEYS = tuple(paper_key(f) for f in FILE_FIELDS)


@dataclass
class Section:
    name: str
    notes: str | None = None
    papers: list[Paper] = field(default_factory=list)
    line: int = 0

    def walk(self) -> Iterator[Paper]:
        """Every paper of the section, nested ones right after their parent (document order)."""
        stack = list(reversed(self.papers))
        while stack:
            paper = stack.pop()
            yield paper
            stack.extend(reversed(paper.children))

    def progress(self) -> tuple[int, int]:
        """(read, total) counting nested papers; skipped papers count as done-with."""
        papers = list(self.walk())
        done = sum(p.status in ("read", "skipped") for p in papers)
        return done, len(papers)


@dataclass
class Catalog:
    path: Path
    sections: list[Section]
    version: int = FORMAT_VERSION
    title: str | None = None
    notes: str | None = None
    sample: bool = False  # the bundled sample list a first run wrote (`SAMPLE_MARK`), not the user's own
    _index: dict[str, Paper] = field(default_factory=dict, repr=False)

    def papers(self) -> Iterator[Paper]:
        """Every paper in document order, nested ones included."""
        for section in self.sections:
            yield from section.walk()

    def get(self, paper_id: str) -> Paper:
        """The paper with this id; a `UsageError` naming close ids when there is none."""
        if not self._index:
            self._index = {p.id: p for p in self.papers()}
        paper = self._index.get(paper_id)
        if paper is None:
            import difflib

            close = difflib.get_close_matches(paper_id, list(self._index), n=3)
            hint = f" (did you mean {', '.join(close)}?)" if close else " (see `readtrack list`)"
            raise UsageError(f"no paper with id {paper_id!r} in {self.path.name}{hint}")
        return paper

    def find_arxiv(self, ident: str) -> Paper | None:
        """The paper whose primary or related id is ``ident`` (versions ignored)."""
        base = arxivid.base_id(ident)
        for paper in self.papers():
            if any(arxivid.base_id(i) == base for i in paper.arxiv_ids()):
                return paper
        return None

    def section(self, name: str) -> Section:
        """A section by name, case-insensitive; a `UsageError` listing the sections when missing."""
        for section in self.sections:
            if section.name.lower() == name.lower():
                return section
        names = ", ".join(s.name for s in self.sections)
        raise UsageError(f"no section {name!r} in {self.path.name} (sections: {names})")

    def filter(
        self,
        *,
        section: str | None = None,
        status: str | None = None,
        tag: str | None = None,
        search: str | None = None,
    ) -> list[Paper]:
        """Papers matching every given criterion; ``search`` looks in title, label, id, tags and notes."""
        if status is not None and status not in STATUSES:
            raise UsageError(f"unknown status {status!r} (use one of {', '.join(STATUSES)})")
        papers = list(self.section(section).walk()) if section else list(self.papers())
        if status:
            papers = [p for p in papers if p.status == status]
        if tag:
            papers = [p for p in papers if tag in p.tags]
        if search:
            papers = [p for p in papers if matches(p, search)]
        return papers


def matches(paper: Paper, query: str, extra: str = "") -> bool:
    """True when every word of ``query`` occurs (case-insensitive) in the paper's searchable text.

    ``extra`` is more text to search (the TUI passes synced authors and abstract).
    """
    haystack = search_text(paper, extra)
    return all(word in haystack for word in query.lower().split())


def search_text(paper: Paper, extra: str = "") -> str:
    """The lowercase text `matches` looks in: id, title, label, notes, tags, arXiv id and ``extra``.

    The TUI builds it once per paper so that filtering as you type only scans strings.
    """
    parts = [paper.id, paper.title, paper.label, paper.notes, " ".join(paper.tags), paper.arxiv, extra]
    return " ".join(filter(None, parts)).lower()


# -- loading ------------------------------------------------------------------------------------------


def load(path: str | Path, *, cache: bool = True, link: bool = True) -> Catalog:
    """Read and validate papers.yaml. Raises `CatalogError` with ``file:line:col: what`` on any problem.

    With ``link``, a paper that names no plugin gets the plugins declared with its arXiv ids
    (`readtrack.plugin_links`); the cache holds the file's own values only.

    The validated model is cached in the data dir, keyed by a hash of the file's bytes, so that reading
    an unchanged list (every ``readtrack list``) skips YAML entirely; any change to the file misses.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise CatalogError(
            f"{path}: no such file (create one with `readtrack import LIST.md` or pass --catalog)"
        ) from None
    key = content_key(data)
    sample = data.startswith(SAMPLE_MARK.encode())
    if cache:
        cached = _read_cache(path, key)
        if cached is not None:
            cached.sample = sample
            return _linked(cached, link)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise CatalogError(f"{path}: not UTF-8 text ({err.reason} at byte {err.start})") from None
    catalog = parse(text, path)
    catalog.sample = sample
    if cache:
        _write_cache(path, key, catalog)
    return _linked(catalog, link)


def _linked(catalog: Catalog, link: bool) -> Catalog:
    if not link or not any(p.plugin_link is None and (p.arxiv or p.related) for p in catalog.papers()):
        return catalog  # nothing to look up: the lookup's module is not even imported
    from readtrack.plugin_links import link_plugins

    return link_plugins(catalog)


def content_key(data: bytes) -> str:
    """A digest that tells one version of a file from another: SHA-1, the fastest of hashlib's digests here
    (a 2.4 MB list in 1.5 ms, where BLAKE2b takes 5). It detects changes; it guards nothing."""
    return hashlib.sha1(data, usedforsecurity=False).hexdigest()


def _cache_file(path: Path) -> Path:
    from readtrack.paths import data_dir

    name = hashlib.blake2b(str(path.resolve()).encode(), digest_size=8).hexdigest()
    return data_dir() / "cache" / f"catalog-{name}.json"


def _read_cache(path: Path, key: str) -> Catalog | None:
    try:
        raw = json.loads(_cache_file(path).read_bytes())
        if raw.get("key") != key or raw.get("format") != _CACHE_FORMAT:
            return None
        return _catalog_from_json(path, raw["catalog"])
    except (OSError, ValueError, KeyError, TypeError):
        return None  # a missing or stale cache is only slower


def _write_cache(path: Path, key: str, catalog: Catalog) -> None:
    from readtrack.atomic import atomic_write

    payload = {"key": key, "format": _CACHE_FORMAT, "catalog": _catalog_to_json(catalog)}
    with contextlib.suppress(OSError):  # a read-only data dir only means working uncached
        atomic_write(_cache_file(path), json.dumps(payload, ensure_ascii=False, separators=(",", ":")))


# 2: fields in the order of `Paper`'s declaration; 3: plugins, a list; 4: code; 5: plugin_link
_CACHE_FORMAT = 5
_PAPER_FIELDS = tuple(f.name for f in fields(Paper) if f.name != "children")


def _catalog_to_json(catalog: Catalog) -> dict[str, Any]:
    def paper(p: Paper) -> list[Any]:
        return [getattr(p, f) for f in _PAPER_FIELDS] + [[paper(c) for c in p.children]]

    return {
        "version": catalog.version,
        "title": catalog.title,
        "notes": catalog.notes,
        "sections": [[s.name, s.notes, s.line, [paper(p) for p in s.papers]] for s in catalog.sections],
    }


def _catalog_from_json(path: Path, raw: dict[str, Any]) -> Catalog:
    n = len(_PAPER_FIELDS)

    def paper(row: list[Any]) -> Paper:
        p = Paper(**dict(zip(_PAPER_FIELDS, row[:n], strict=True)))
        p.children = [paper(c) for c in row[n]]
        return p

    sections = [
        Section(name, notes, [paper(p) for p in papers], line)
        for name, notes, line, papers in raw["sections"]
    ]
    return Catalog(
        path=path, sections=sections, version=raw["version"], title=raw["title"], notes=raw["notes"]
    )


def compose(text: str, path: Path) -> yaml.MappingNode:
    """The YAML node tree of papers.yaml (no objects constructed); syntax errors become `CatalogError`."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        root = yaml.compose(text, Loader=loader)
    except yaml.MarkedYAMLError as err:
        raise CatalogError(_syntax_message(err, path)) from None
    except yaml.YAMLError as err:
        raise CatalogError(f"{shown_path(path)}: {err}") from None
    if root is None:
        raise CatalogError(
            f"{shown_path(path)}:1:1: the file is empty (expected `version: 1` and `sections:`)"
        )
    _refuse_aliases(text, root, path)
    if not isinstance(root, yaml.MappingNode):
        raise _error(path, root, "expected a mapping with `version` and `sections` at the top level")
    return root


def _syntax_message(err: yaml.MarkedYAMLError, path: Path) -> str:
    """``file:line:col: what`` for a YAML syntax error, pointing where the problem starts.

    PyYAML gives two places: where it noticed the problem (problem_mark: often the end of the file, for an
    unclosed quote or bracket) and what it was reading then (context_mark). A token being scanned (a
    quoted scalar) or a flow collection (``[``, ``{``) starts where the user must look; a block mapping's
    start is only the top of its list, so there the place noticed is the better one. Both are named."""
    problem, context = err.problem or "invalid YAML", err.context
    noticed, started = err.problem_mark, err.context_mark
    starts_there = context is not None and context.startswith(("while scanning", "while parsing a flow"))
    mark = started if starts_there and started is not None else noticed or started
    where = f"{shown_path(path)}:{mark.line + 1}:{mark.column + 1}" if mark else shown_path(path)
    if context and started is not None and noticed is not None and mark is started:
        at = f"line {noticed.line + 1}, column {noticed.column + 1}"
        return f"{where}: {problem} at {at}, {context} started here"
    if context and started is not None and mark is not started:
        return f"{where}: {problem} ({context} started at line {started.line + 1})"
    return f"{where}: {problem}"


# An anchor (``&name``) where a YAML token starts: "Q&A" or "R & D" in a title is none.
_ANCHOR = re.compile(r"(?:^|[\s\[{,])&[^\s\[\]{},]+")


def _refuse_aliases(text: str, root: yaml.Node, path: Path) -> None:
    """Refuse aliases (``*name``): a few KB of them expand to gigabytes when read (an alias bomb), and a
    hand-kept list has no use for them. Only a file with an anchor is walked: an alias is a node met twice."""
    import yaml

    if not _ANCHOR.search(text):
        return
    seen: set[int] = set()
    stack: list[yaml.Node] = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            raise _alias_error(text, node, path)
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            stack.extend(item for pair in node.value for item in pair)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)


def _alias_error(text: str, node: yaml.Node, path: Path) -> CatalogError:
    anchor = re.match(r"&([^\s\[\]{},]+)", text[node.start_mark.index :])
    line, column = node.start_mark.line + 1, node.start_mark.column + 1
    name = anchor.group(1) if anchor else "..."
    alias = re.compile(r"\*" + re.escape(name) + r"(?![^\s\[\]{},])")
    found = alias.search(text, node.end_mark.index) if anchor else None
    if found:
        line = text.count("\n", 0, found.start()) + 1
        column = found.start() - (text.rfind("\n", 0, found.start()) + 1) + 1
    return CatalogError(
        f"{shown_path(path)}:{line}:{column}: YAML aliases (*{name}) are not allowed in a reading list:"
        f" write the value out where it is used"
    )


def parse(text: str, path: Path) -> Catalog:
    """Build the `Catalog` from papers.yaml text (see `load`)."""
    with gc_paused():
        return from_root(compose(text, path), path)


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Building a node tree allocates many small objects that all stay alive: the cyclic garbage
    collector would scan them again and again for nothing (measured: a 10,000-paper edit took 2.9 s with
    it, 1.4 s without). Paused for the build, restored after."""
    import gc

    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def from_root(root: yaml.MappingNode, path: Path) -> Catalog:
    """Build and validate the `Catalog` from an already composed node tree.

    Every independent problem is reported at once (a paper's bad status, another's duplicate id, an unknown
    key): one `CatalogError` whose lines each say ``file:line:col: what``. A problem that hides what lies
    below it (a paper that is not a mapping) stops only the checks of that part."""
    _import_yaml()
    problems: list[CatalogError] = []
    top = _mapping(path, root, TOP_KEYS, "the top level", problems)
    version = _int(path, top.get("version"), "version") if "version" in top else FORMAT_VERSION
    if version != FORMAT_VERSION:
        raise _error(
            path,
            top["version"],
            f"unsupported format version {version} (this readtrack reads {FORMAT_VERSION})",
        )
    sections_node = top.get("sections")
    if sections_node is None or _is_null(sections_node):
        sections_nodes: list[yaml.Node] = []
    elif isinstance(sections_node, yaml.SequenceNode):
        sections_nodes = sections_node.value
    else:
        raise _error(path, sections_node, "`sections` must be a list of sections")
    catalog = Catalog(path=path, sections=[], version=version)
    for key in ("title", "notes"):
        with _collected(problems):
            setattr(catalog, key, _str(path, top.get(key)))
    seen: dict[str, int] = {}
    for node in sections_nodes:
        with _collected(problems):
            nodes = _mapping(path, node, SECTION_KEYS, "a section", problems)
            name = _str(path, nodes.get("name"))
            if not name:
                raise _error(path, node, "a section needs a `name`")
            section = Section(name=name, line=node.start_mark.line + 1)
            with _collected(problems):
                section.notes = _str(path, nodes.get("notes"))
            section.papers = _papers(path, nodes.get("papers"), section.name, None, 0, seen, problems)
            catalog.sections.append(section)
    if len(problems) == 1:
        raise problems[0]
    if problems:
        problems.sort(key=_place)
        lines = [str(p) for p in problems[:MAX_PROBLEMS]]
        if len(problems) > MAX_PROBLEMS:
            lines.append(f"... and {len(problems) - MAX_PROBLEMS} more")
        raise CatalogError(f"{len(problems)} problems in {shown_path(path)}:\n" + "\n".join(lines))
    return catalog


def _place(problem: CatalogError) -> tuple[int, int]:
    """(line, column) of a ``file:line:col: what`` problem, to report them in file order."""
    found = re.search(r":(\d+):(\d+): ", str(problem))
    return (int(found.group(1)), int(found.group(2))) if found else (0, 0)


@contextlib.contextmanager
def _collected(problems: list[CatalogError]) -> Iterator[None]:
    """Record a `CatalogError` raised in the block and go on with the next part of the file."""
    try:
        yield
    except CatalogError as err:
        problems.append(err)


def _papers(
    path: Path,
    node: yaml.Node | None,
    section: str,
    parent: str | None,
    depth: int,
    seen: dict[str, int],
    problems: list[CatalogError],
) -> list[Paper]:
    if node is None or _is_null(node):
        return []
    if not isinstance(node, yaml.SequenceNode):
        raise _error(path, node, "`papers` must be a list of papers")
    papers = []
    for item in node.value:
        with _collected(problems):
            papers.append(_paper(path, item, section, parent, depth, seen, problems))
    return papers


def _paper(
    path: Path,
    node: yaml.Node,
    section: str,
    parent: str | None,
    depth: int,
    seen: dict[str, int],
    problems: list[CatalogError],
) -> Paper:
    nodes = _mapping(path, node, PAPER_KEYS, "a paper", problems)
    line = node.start_mark.line + 1
    paper_id = _str(path, nodes.get("id"))
    if not paper_id:
        raise _error(path, node, "a paper needs an `id` (a short slug such as `flashattention`)")
    where = f"paper {paper_id!r}"
    if CONTROL_CHARS.search(paper_id):
        problems.append(_error(path, nodes["id"], f"{where}: the id holds a control character"))
    elif not valid_id(paper_id):
        problems.append(_error(path, nodes["id"], f"{where}: the id must be {ID_RULE}"))
    if paper_id in seen:
        problems.append(
            _error(path, nodes["id"], f"{where}: duplicate id (first used on line {seen[paper_id]})")
        )
    else:
        seen[paper_id] = line
    values: dict[str, Any] = {"title": ""}
    for name, key, read in _READERS:
        with _collected(problems):
            values[name] = read(path, nodes.get(key), where)
    paper = Paper(id=paper_id, section=section, parent=parent, depth=depth, line=line, **values)
    if "plugin" in nodes:
        paper.plugin_link = LINKED_BY_FILE
    _check(path, nodes, paper, where, problems)
    with _collected(problems):
        paper.children = _papers(path, nodes.get("papers"), section, paper_id, depth + 1, seen, problems)
    return paper


Reader = Callable[[Path, "yaml.Node | None", str], Any]  # (path, the value's node, "paper 'x'") -> value


def _reader(paper_field: Field[Any]) -> Reader:
    """How a `Paper` field is read from its node, chosen by the field's type (once, at import)."""
    key = paper_key(paper_field)
    if paper_field.type == "list[str]":
        items = paper_field.metadata.get("items", "words")
        return lambda path, node, where: _str_list(path, node, f"{where}: `{key}`", items)
    if paper_field.type == "int | None":
        return lambda path, node, where: (
            None if node is None or _is_null(node) else _int(path, node, f"{where}: {key}")
        )
    if paper_field.type == "str":  # never empty: the field's default ("todo"), else ""
        default = paper_field.default if isinstance(paper_field.default, str) else ""
        return lambda path, node, where: _str(path, node) or default
    if paper_field.type == "str | None":
        return lambda path, node, where: _str(path, node)
    raise TypeError(f"Paper.{paper_field.name}: no reader for values of type {paper_field.type}")


# (field, key, reader) for every field the loader reads from a paper's keys; id and papers have their own.
_READERS = tuple((f.name, paper_key(f), _reader(f)) for f in FILE_FIELDS if f.name not in ("id", "children"))


def _check(
    path: Path, nodes: dict[str, yaml.Node], paper: Paper, where: str, problems: list[CatalogError]
) -> None:
    """The rules on a paper's values: a known status, well-formed arXiv ids, tags, web links as code."""
    if paper.status not in STATUSES:
        message = f"{where}: unknown status {paper.status!r} (use one of {', '.join(STATUSES)})"
        problems.append(_error(path, nodes["status"], message))
    if paper.arxiv and not arxivid.is_valid(paper.arxiv):
        message = f"{where}: malformed arXiv id {paper.arxiv!r} (expected e.g. 2205.14135 or hep-th/9901001)"
        problems.append(_error(path, nodes["arxiv"], message))
    for ident in paper.related:
        if not arxivid.is_valid(ident):
            node = _item_node(nodes["related"], ident)
            problems.append(_error(path, node, f"{where}: malformed arXiv id {ident!r} in `related`"))
    for tag in paper.tags:
        problem = tag_problem(tag)
        if problem:
            problems.append(_error(path, _item_node(nodes["tags"], tag), f"{where}: {problem}"))
    for link in paper.code:
        if not _WEB_LINK.match(link):
            message = f"{where}: `code` must be web links (https://...), not {link!r}"
            problems.append(_error(path, _item_node(nodes["code"], link), message))


def _item_node(node: yaml.Node, value: str) -> yaml.Node:
    """The item of a list node holding ``value`` (to point at it, not at the list); the node itself else."""
    if isinstance(node, yaml.SequenceNode):
        return next((i for i in node.value if i.value == value), node)
    return node


# -- node helpers -------------------------------------------------------------------------------------


def _import_yaml() -> None:
    # The node helpers below use `yaml` as a module global; imported on first parse only, so that a
    # cached catalog loads without PyYAML.
    global yaml
    import yaml


def _error(path: Path, node: yaml.Node, message: str) -> CatalogError:
    mark = node.start_mark
    return CatalogError(f"{shown_path(path)}:{mark.line + 1}:{mark.column + 1}: {message}")


def _mapping(
    path: Path, node: yaml.Node, allowed: tuple[str, ...], what: str, problems: list[CatalogError]
) -> dict[str, yaml.Node]:
    """The keys of a mapping node; a bad key is recorded in ``problems`` and left out."""
    if not isinstance(node, yaml.MappingNode):
        raise _error(path, node, f"expected {what} as a mapping of `key: value`")
    found: dict[str, yaml.Node] = {}
    for key_node, value_node in node.value:
        if not isinstance(key_node, yaml.ScalarNode):
            problems.append(_error(path, key_node, "keys must be plain words"))
        elif key_node.value in found:
            problems.append(_error(path, key_node, f"duplicate key `{key_node.value}` in {what}"))
        elif key_node.value not in allowed:
            message = f"unknown key `{key_node.value}` in {what} (allowed: {', '.join(allowed)})"
            problems.append(_error(path, key_node, message))
        else:
            found[key_node.value] = value_node
    return found


def _is_null(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and not node.style and node.value in _NULLS


def _str(path: Path, node: yaml.Node | None) -> str | None:
    if node is None or _is_null(node):
        return None
    if not isinstance(node, yaml.ScalarNode):
        raise _error(path, node, "expected a single value here, not a list or mapping")
    value = node.value
    # plain scalars have style None (PyYAML) or "" (libyaml); block scalars keep inner, not trailing, newlines
    if not node.style:
        return value.strip()
    return value.rstrip("\n") if node.style in ("|", ">") else value


def _str_list(path: Path, node: yaml.Node | None, what: str, items: str = "words") -> list[str]:
    if node is None or _is_null(node):
        return []
    if isinstance(node, yaml.ScalarNode):
        return [node.value]
    if not isinstance(node, yaml.SequenceNode) or not all(isinstance(i, yaml.ScalarNode) for i in node.value):
        raise _error(path, node, f"{what} must be a list of {items}")
    return [item.value for item in node.value]


def _int(path: Path, node: yaml.Node | None, what: str) -> int:
    if not isinstance(node, yaml.ScalarNode) or not re.fullmatch(r"\d+", node.value.strip()):
        raise _error(path, node, f"{what} must be a whole number") if node is not None else CatalogError(what)
    return int(node.value)
