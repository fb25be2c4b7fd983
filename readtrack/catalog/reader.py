"""Reading papers.yaml's text into a validated `Catalog`, and the rules its values follow.

`load` reads the file: from a cache in the data dir keyed by its bytes when unchanged, else from its text,
composed with PyYAML's C composer (safe: no tag ever constructs an object), the model built straight from
the node tree, so every paper knows the line it sits on and every error names ``file:line:col``: a YAML
syntax error where the user must look, an alias refused (an alias bomb), and every independent problem of
the file collected into one `CatalogError`. Scalars are read as the text the user wrote: ``arxiv:
1711.05101`` is the id, not a float. The id and tag rules live here too: `readtrack.catalog.edits` and the
markdown reader apply the same ones."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator
from dataclasses import Field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from readtrack.base import quickcache
from readtrack.base.digest import digest
from readtrack.base.errors import CatalogError
from readtrack.base.paths import SAMPLE_MARK
from readtrack.catalog import arxivid
from readtrack.catalog.model import (
    FILE_FIELDS,
    FORMAT_VERSION,
    LINKED_BY_FILE,
    PAPER_KEYS,
    SECTION_KEYS,
    STATUSES,
    TOP_KEYS,
    Catalog,
    Paper,
    Section,
    paper_key,
)

if TYPE_CHECKING:
    import yaml

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
#: A paper's ``bibtex:`` value, its BibTeX entry's first line: the type (letters) and the cite key, which
#: holds none of the characters that end a key or that biber refuses in one.
BIBTEX_HEAD = re.compile(r"@(?P<type>[A-Za-z]+)\{(?P<key>[^\s,{}\"#%'()=\\~\x00-\x1f\x7f-\x9f]+)\}")
BIBTEX_RULE = (
    'the entry\'s type and cite key, quoted: `"@article{vaswani2017attention}"`; a key holds no spaces or'
    " , { } \" # % ' ( ) = \\ ~"
)
MAX_PROBLEMS = 20  # problems reported at once; the rest are counted

_NULLS = {"", "~", "null", "Null", "NULL"}
#: What a ``code`` link must be: a web link.
WEB_LINK = re.compile(r"^https?://[^\s/]+\S*$", re.IGNORECASE)


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
    if paper.bibtex is not None and not BIBTEX_HEAD.fullmatch(paper.bibtex):
        message = f"{where}: `bibtex` must be {BIBTEX_RULE}, not {paper.bibtex!r}"
        problems.append(_error(path, nodes["bibtex"], message))
    for link in paper.code:
        if not WEB_LINK.match(link):
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


#: What fills in the plugins a paper does not name (`readtrack.plugins.links.link_plugins`), in place.
Linker = Callable[[Catalog], Catalog]


# -- loading ------------------------------------------------------------------------------------------


def load(path: str | Path, *, cache: bool = True, link: Linker | None = None) -> Catalog:
    """Read and validate papers.yaml. Raises `CatalogError` with ``file:line:col: what`` on any problem.

    ``link`` gives a paper that names no plugin the plugins that declare it (`readtrack.plugins.links.load`
    passes its `link_plugins`: the reading list knows nothing of plugins); the cache holds the file's own
    values only.

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
            cached.sample, cached.content_key = sample, key
            return _linked(cached, link)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise CatalogError(f"{path}: not UTF-8 text ({err.reason} at byte {err.start})") from None
    catalog = parse(text, path)
    catalog.sample, catalog.content_key = sample, key
    if cache:
        _write_cache(path, key, catalog)
    return _linked(catalog, link)


def _linked(catalog: Catalog, link: Linker | None) -> Catalog:
    if link is None or all(p.plugin_link is not None for p in catalog.papers()):
        return catalog  # nothing to look up
    return link(catalog)


def content_key(data: bytes) -> str:
    """A digest that tells one version of a file from another (`readtrack.base.digest`: 0.8 ms for a 2.4 MB
    list). It detects changes; it guards nothing."""
    return digest(data)


def _cache_file(path: Path) -> Path:
    from readtrack.base.paths import data_dir

    return data_dir() / "cache" / f"catalog-{digest(str(path.resolve()))}.marshal"


def _read_cache(path: Path, key: str) -> Catalog | None:
    try:
        with gc_paused():  # thousands of containers that all stay alive: a fifth of the read, collected
            raw = quickcache.read(_cache_file(path))
            if raw is None or raw.get("key") != key or raw.get("format") != _CACHE_FORMAT:
                return None
            return _catalog_from_plain(path, raw["catalog"])
    except (OSError, ValueError, KeyError, TypeError):
        return None  # a missing or stale cache is only slower


def _write_cache(path: Path, key: str, catalog: Catalog) -> None:
    payload = {"key": key, "format": _CACHE_FORMAT, "catalog": _catalog_to_plain(catalog)}
    with contextlib.suppress(OSError):  # a read-only data dir only means working uncached
        quickcache.write(_cache_file(path), payload)


# 2: fields in the order of `Paper`'s declaration; 3: plugins, a list; 4: code; 5: plugin_link; 6: bibtex
_CACHE_FORMAT = 6
_PAPER_FIELDS = tuple(f.name for f in fields(Paper) if f.name != "children")


def _catalog_to_plain(catalog: Catalog) -> dict[str, Any]:
    def paper(p: Paper) -> list[Any]:
        return [getattr(p, f) for f in _PAPER_FIELDS] + [[paper(c) for c in p.children]]

    return {
        "version": catalog.version,
        "title": catalog.title,
        "notes": catalog.notes,
        "sections": [[s.name, s.notes, s.line, [paper(p) for p in s.papers]] for s in catalog.sections],
    }


def _catalog_from_plain(path: Path, raw: dict[str, Any]) -> Catalog:
    n = len(_PAPER_FIELDS)

    def paper(row: list[Any]) -> Paper:
        # every field is in the row, as `_catalog_to_plain` wrote it: set them as unpickling does, without
        # the dataclass's __init__ and its defaults (a third of a cached `list`'s load, at 1,000 papers)
        p = object.__new__(Paper)
        p.__dict__.update(zip(_PAPER_FIELDS, row[:n], strict=True))
        p.children = [paper(c) for c in row[n]]
        return p

    sections = [
        Section(name, notes, [paper(p) for p in papers], line)
        for name, notes, line, papers in raw["sections"]
    ]
    return Catalog(
        path=path, sections=sections, version=raw["version"], title=raw["title"], notes=raw["notes"]
    )
