"""Every change readtrack makes to papers.yaml: mark, note, tag, add, set an arXiv id.

Each edit re-reads the file, splices only the lines it must (`readtrack.catalog.yamlsplice`), checks that the
result is still a valid catalog that says what was asked, and writes it atomically, holding the list's lock
(`readtrack.base.writelock`) from the read to the write, so that other readtrack processes (the TUI in another
terminal, a script) wait their turn. If the file changed on disk meanwhile all the same (an editor takes
no lock), the edit is applied again to the new content instead of overwriting it. CLI and TUI both call
these functions.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import Field, dataclass
from pathlib import Path
from typing import Any

import yaml

from readtrack.base.atomic import atomic_write
from readtrack.base.errors import AlreadyListed, CatalogError, UsageError
from readtrack.base.system_errors import from_system
from readtrack.base.writelock import locked
from readtrack.catalog import arxivid
from readtrack.catalog.keys import ascii_letters
from readtrack.catalog.model import (
    FILE_FIELDS,
    PAPER_KEYS,
    SECTION_KEYS,
    STATUSES,
    TOP_KEYS,
    Catalog,
    Paper,
    paper_key,
)
from readtrack.catalog.new_paper import NewPaper, today
from readtrack.catalog.reader import CONTROL_CHARS, compose, from_root, gc_paused, tag_problem
from readtrack.catalog.yamlsplice import Document, Splice, format_scalar, format_value

# An edit gets the document, its node tree and the validated catalog, and returns the splices to apply.
EditFn = Callable[[Document, yaml.MappingNode, Catalog], list[Splice]]

_MAX_ATTEMPTS = 5


def apply_edit(path: Path, edit: EditFn, verify: Callable[[Catalog], bool] | None = None) -> Catalog:
    """Run ``edit`` against the current file and write the result atomically; return the new catalog.

    The file is left untouched when it is invalid, when the edit fails, or when the result would not
    parse (a bug, reported as such rather than written). Every writer holds the list's exclusive lock
    (`readtrack.base.writelock`) from its read to its write, so two edits at once (two shells, the TUI and a
    script) never drop each other's change. A full disk or a read-only folder is a `StorageError`.
    """
    real = Path(os.path.realpath(path))  # a symlinked list is locked and written where it lives
    try:
        with locked(real):
            return _edit_locked(path, edit, verify)
    except OSError as err:
        if not real.parent.is_dir():
            raise CatalogError(f"{path}: no such file") from None
        mapped = from_system(err)
        if mapped is None:
            raise
        raise mapped from None


def _edit_locked(path: Path, edit: EditFn, verify: Callable[[Catalog], bool] | None) -> Catalog:
    for _ in range(_MAX_ATTEMPTS):
        try:
            before = path.read_bytes()
        except FileNotFoundError:
            raise CatalogError(f"{path}: no such file") from None
        try:
            text = before.decode("utf-8")
        except UnicodeDecodeError as err:
            raise CatalogError(f"{path}: not UTF-8 text ({err.reason} at byte {err.start})") from None
        with gc_paused():
            root = compose(text, path)
            catalog = from_root(root, path)
            doc = Document(text)
            splices = edit(doc, root, catalog)
            if not splices:
                return catalog
            new_text = doc.apply(splices)
            try:
                updated = from_root(compose(new_text, path), path)
            except CatalogError as err:
                raise CatalogError(
                    f"refusing to write {path.name}: the edit would make it invalid ({err})"
                ) from None
        if verify is not None and not verify(updated):
            raise CatalogError(f"refusing to write {path.name}: the edit did not read back as intended")
        if path.read_bytes() != before:
            continue  # changed under us (an editor saved it: it takes no lock): redo the edit on it
        atomic_write(path, new_text)  # also removes temp files its killed writers left
        return updated
    raise CatalogError(f"{path.name} keeps changing on disk; edit not applied, try again")


# -- locating nodes -----------------------------------------------------------------------------------


def _field(mapping: yaml.MappingNode, key: str) -> yaml.Node | None:
    return next((v for k, v in mapping.value if k.value == key), None)


def _paper_nodes(seq: yaml.Node | None) -> Iterator[yaml.MappingNode]:
    if not isinstance(seq, yaml.SequenceNode):
        return
    for item in seq.value:
        if isinstance(item, yaml.MappingNode):
            yield item
            yield from _paper_nodes(_field(item, "papers"))


def paper_node(root: yaml.MappingNode, paper_id: str) -> yaml.MappingNode:
    sections = _field(root, "sections")
    for section in sections.value if isinstance(sections, yaml.SequenceNode) else []:
        for node in _paper_nodes(_field(section, "papers")):
            id_node = _field(node, "id")
            if id_node is not None and id_node.value == paper_id:
                return node
    raise UsageError(f"no paper with id {paper_id!r}")


def section_node(root: yaml.MappingNode, name: str) -> yaml.MappingNode | None:
    sections = _field(root, "sections")
    for section in sections.value if isinstance(sections, yaml.SequenceNode) else []:
        name_node = _field(section, "name")
        if name_node is not None and name_node.value.lower() == name.lower():
            return section
    return None


# -- the edits ----------------------------------------------------------------------------------------


def set_fields(path: Path, paper_id: str, values: dict[str, object]) -> Catalog:
    """Set (or, with ``None``, remove) fields of one paper. Only those lines change."""
    return set_many(path, {paper_id: values})


def set_many(
    path: Path,
    changes: dict[str, dict[str, object]],
    *,
    only_empty: bool = False,
    check: Callable[[Catalog], None] | None = None,
) -> Catalog:
    """Set fields of several papers in one edit. With ``only_empty``, a field the file already fills (on
    disk now, not when the caller looked) is left alone: how sync fills in titles without overwriting (a
    title that is only the paper's arXiv id counts as empty). ``check`` may refuse the edit, given the
    catalog as it is on disk when the edit is applied."""
    for values in changes.values():
        for key in values:
            if key not in PAPER_KEYS or key in ("id", "papers"):
                raise UsageError(f"cannot set `{key}` on a paper")
    applied: dict[str, dict[str, object]] = {}

    def edit(doc: Document, root: yaml.MappingNode, catalog: Catalog) -> list[Splice]:
        applied.clear()
        if check is not None:
            check(catalog)
        splices: list[Splice] = []
        for paper_id, values in changes.items():
            catalog.get(paper_id)  # a clear error for unknown ids
            node = paper_node(root, paper_id)
            for key, value in values.items():
                current = _field(node, key)
                if (
                    only_empty
                    and current is not None
                    and (_read_back(catalog.get(paper_id), key) is not None)
                    and not (key == "title" and catalog.get(paper_id).untitled)
                ):
                    continue
                applied.setdefault(paper_id, {})[key] = value
                if value is None or (value == [] and key != "tags"):
                    if current is not None:
                        removed = doc.delete_key(node, key)
                        if removed:
                            splices.append(removed)
                elif current is None or _differs(current, value):
                    splices.append(doc.set_key(node, key, value, PAPER_KEYS))
        return splices

    def verify(updated: Catalog) -> bool:
        return all(
            _read_back(updated.get(paper_id), key) == _normal([value] if _is_list(key, value) else value)
            for paper_id, values in applied.items()
            for key, value in values.items()
        )

    return apply_edit(path, edit, verify)


def _differs(node: yaml.Node, value: object) -> bool:
    if isinstance(node, yaml.ScalarNode):
        return node.value != str(value) or isinstance(value, list)
    if isinstance(node, yaml.SequenceNode) and isinstance(value, list):
        return [getattr(i, "value", None) for i in node.value] != [str(v) for v in value]
    return True


def _read_back(paper: Paper, key: str) -> object:
    value = getattr(paper, _FIELD_OF_KEY[key])
    if isinstance(value, list):
        return [str(v) for v in value] or None  # an empty list field reads as no field, as it is written
    return None if value in ("", None) else str(value)


def _normal(value: object) -> object:
    if isinstance(value, list | tuple):
        return [str(v) for v in value] or None
    if value is None or value == "":
        return None
    return str(value).strip("\n") if isinstance(value, str) else str(value)


def mark(path: Path, paper_id: str, status: str, *, record_date: bool = False) -> Catalog:
    """Set a paper's status: one changed line. ``record_date`` also writes ``read: YYYY-MM-DD``."""
    if status not in STATUSES:
        raise UsageError(f"unknown status {status!r} (use one of {', '.join(STATUSES)})")
    values: dict[str, object] = {"status": status}
    if record_date and status == "read":
        values["read"] = today()
    return set_fields(path, paper_id, values)


def note(path: Path, paper_id: str, text: str | None) -> Catalog:
    """Replace a paper's notes (empty text removes them)."""
    cleaned = (text or "").strip("\n")
    return set_fields(path, paper_id, {"notes": cleaned if cleaned.strip() else None})


@dataclass
class TagEdit:
    """What ``readtrack tag`` did: the catalog after it, and the removals that found no such tag."""

    catalog: Catalog
    changed: bool
    absent: list[str]  # ``-name`` asked of a paper without that tag


def tag(path: Path, paper_id: str, changes: list[str]) -> Catalog:
    """Apply ``+tag`` / ``-tag`` changes (a bare word adds). Existing order is kept, new tags appended."""
    return edit_tags(path, paper_id, changes).catalog


def edit_tags(path: Path, paper_id: str, changes: list[str]) -> TagEdit:
    """`tag`, saying whether the tags changed and which removed tags the paper did not have.

    A tag follows the one rule papers.yaml's tags follow (`readtrack.catalog.reader.tag_problem`): one word,
    any script or emoji, no spaces, commas or control characters."""
    adds: list[str] = []
    removes: list[str] = []
    for change in changes:
        word = change[1:] if change[:1] in ("+", "-") else change
        problem = tag_problem(word)
        if problem:
            raise UsageError(f"{problem} (use +name to add, -name to remove)")
        (removes if change.startswith("-") else adds).append(word)
    wanted: list[str] = []
    absent: list[str] = []
    changed = [False]

    def edit(doc: Document, root: yaml.MappingNode, catalog: Catalog) -> list[Splice]:
        # computed from the tags on disk now, so a tag added meanwhile (the TUI, an editor) is kept
        current = catalog.get(paper_id).tags
        fresh = [t for t in dict.fromkeys(adds) if t not in current]
        wanted[:] = [t for t in current + fresh if t not in removes]
        absent[:] = [t for t in dict.fromkeys(removes) if t not in current and t not in adds]
        changed[0] = wanted != current
        if not changed[0]:
            return []
        return [doc.set_key(paper_node(root, paper_id), "tags", list(wanted), PAPER_KEYS)]

    catalog = apply_edit(path, edit, lambda updated: updated.get(paper_id).tags == wanted)
    return TagEdit(catalog, changed=changed[0], absent=list(absent))


def set_arxiv(path: Path, paper_id: str, ident: str) -> Catalog:
    """Record a resolved arXiv id (``sync --resolve``): one added or changed line. An id another paper
    already has (primary or related, any version) is refused with `AlreadyListed`: two entries, one paper."""
    if not arxivid.is_valid(ident):
        raise UsageError(f"malformed arXiv id {ident!r}")
    base = arxivid.base_id(ident)

    def refuse_taken(catalog: Catalog) -> None:
        for paper in catalog.papers():
            if paper.id != paper_id and base in {arxivid.base_id(i) for i in paper.arxiv_ids()}:
                message = f"arXiv {ident} is already in the list as {paper.id!r}; not written to {paper_id}"
                raise AlreadyListed(message, paper.id)

    return set_many(path, {paper_id: {"arxiv": ident}}, check=refuse_taken)


def set_section_notes(path: Path, section: str, text: str | None) -> Catalog:
    """Replace a section's notes (empty text removes them): only the section's `notes` lines change."""
    cleaned = _normal((text or "").strip("\n") or None)

    def edit(doc: Document, root: yaml.MappingNode, catalog: Catalog) -> list[Splice]:
        name = catalog.section(section).name  # a clear error for unknown sections
        node = section_node(root, name)
        if node is None:
            return []
        if cleaned is None:
            removed = doc.delete_key(node, "notes")
            return [removed] if removed else []
        return [doc.set_key(node, "notes", cleaned, SECTION_KEYS)]

    return apply_edit(path, edit, lambda updated: updated.section(section).notes == cleaned)


def set_list_field(path: Path, key: str, value: str | None) -> Catalog:
    """Set (or, with ``None``, remove) the list's own ``title`` or ``notes``: only those lines change."""
    if key not in ("title", "notes"):
        raise UsageError(f"cannot set `{key}` on the list (only title and notes)")
    cleaned = _normal((value or "").strip("\n") or None)

    def edit(doc: Document, root: yaml.MappingNode, catalog: Catalog) -> list[Splice]:
        if cleaned is None:
            removed = doc.delete_key(root, key)
            return [removed] if removed else []
        return [doc.set_key(root, key, cleaned, TOP_KEYS)]

    return apply_edit(path, edit, lambda updated: getattr(updated, key) == cleaned)


# -- adding papers ------------------------------------------------------------------------------------


def slugify(text: str, taken: set[str]) -> str:
    """A short id from a title: the first words, lowercase, hyphenated, made unique with -2, -3 ..."""
    words = re.findall(r"[a-z0-9]+", ascii_letters(text).lower().replace("'", ""))
    stop = {"a", "an", "the", "of", "for", "and", "on", "in", "to", "with", "is", "are", "via", "by"}
    keep = [w for w in words if w not in stop][:4] or words[:4] or ["paper"]
    base = "-".join(keep)[:40].strip("-") or "paper"
    if base == "null":  # a plain `id: null` reads as no id at all
        base = "null-paper"
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug


# How `paper_lines` writes a new paper's values: every key in `PAPER_KEYS` order, only when set, except these.
_ALWAYS_WRITTEN = ("id", "title", "status")
_FIELD_OF_KEY = {paper_key(f): f.name for f in FILE_FIELDS}
_LIST_KEYS = {paper_key(f) for f in FILE_FIELDS if f.type == "list[str]"}


def _is_list(key: str, value: object) -> bool:
    """True for one word given to a list field (``plugin: adamw``): it reads back as a list of one."""
    return key in _LIST_KEYS and isinstance(value, str)


_PLAIN = ("id", "status", "year", "added", "read")  # slugs, numbers and dates, written as they are


def paper_lines(paper: NewPaper) -> list[str]:
    """The YAML lines of a new paper (without the list dash or indentation), in the canonical key order.

    arXiv ids are always quoted (unquoted, other YAML tools would read a number); the label is left out
    when it repeats the title; nested papers follow under ``papers:``.
    """
    lines: list[str] = []
    for paper_field in FILE_FIELDS:
        key = paper_key(paper_field)
        value = getattr(paper, paper_field.name)
        if key == "papers":
            if value:
                lines.append("papers:")
                for child in value:
                    child_lines = paper_lines(child)
                    lines.append("  - " + child_lines[0])
                    lines.extend(("    " + line) if line else "" for line in child_lines[1:])
        elif (value or key in _ALWAYS_WRITTEN) and not (key == "label" and value == paper.title):
            lines.extend(f"{key}: {_yaml_text(paper_field, key, value)}".split("\n"))
    return lines


def _yaml_text(paper_field: Field[Any], key: str, value: Any) -> str:
    if key == "arxiv":
        return f'"{value}"'
    if key == "related":
        return "[" + ", ".join(f'"{r}"' for r in value) + "]"
    if key in _PLAIN:
        return str(value)
    if key == "plugin" and len(value) == 1:
        return str(value[0])  # one plugin is one word, the form people write
    if key == "code" and len(value) == 1:
        return format_scalar(value[0])  # one link, as people write it
    if paper_field.metadata.get("block"):
        return format_value(value, 2)
    return format_scalar(value) if isinstance(value, str) else format_value(value, 0)


def assign_ids(papers: list[NewPaper], taken: set[str]) -> None:
    """Give every new paper (and nested one) a unique id, in place."""
    for paper in papers:
        if not paper.id or paper.id in taken:
            seed = paper.id or paper.title or paper.arxiv or "paper"
            paper.id = slugify(seed, taken)
        taken.add(paper.id)
        assign_ids(paper.children, taken)


@dataclass
class Addition:
    """Papers to append to a section (created at the end when missing), or under ``parent`` when given."""

    section: str
    papers: list[NewPaper]
    parent: str | None = None
    notes: str | None = None  # the section's notes, when this addition creates the section


def add_papers(path: Path, section: str, papers: list[NewPaper], *, parent: str | None = None) -> Catalog:
    """Append papers to a section (created at the end when missing) or under a parent paper. A list file
    that does not exist yet is created, as ``import`` creates it."""
    if parent is None and not path.exists():
        from readtrack.catalog.model import NEW_CATALOG

        atomic_write(path, NEW_CATALOG)
    return add_many(path, [Addition(section, papers, parent)])


def add_many(
    path: Path, additions: list[Addition], *, authors: Mapping[int, Sequence[str]] | None = None
) -> Catalog:
    """Several additions in one read, one validation and one atomic write (what `import` uses). ``authors``:
    what a library says of the new papers' authors, by ``id(paper)`` (see `refuse_listed`)."""
    grouped: dict[tuple[str, str | None], Addition] = {}
    for addition in additions:
        key = (addition.section.lower() if addition.parent is None else "", addition.parent)
        if key in grouped:
            grouped[key].papers.extend(addition.papers)
            grouped[key].notes = grouped[key].notes or addition.notes
        elif addition.papers:
            grouped[key] = Addition(addition.section, list(addition.papers), addition.parent, addition.notes)
    additions = list(grouped.values())
    new_ids: list[NewPaper] = [p for a in additions for p in a.papers]

    def edit(doc: Document, root: yaml.MappingNode, catalog: Catalog) -> list[Splice]:
        refuse_listed(catalog, new_ids, authors)
        taken = {p.id for p in catalog.papers()}
        splices: list[Splice] = []
        new_sections: list[tuple[str, str | None, list[list[str]]]] = []
        for addition in additions:
            assign_ids(addition.papers, taken)
            items = [paper_lines(p) for p in addition.papers]
            if addition.parent is not None:
                catalog.get(addition.parent)
                splices.append(doc.append_items(paper_node(root, addition.parent), "papers", items))
            elif (owner := section_node(root, addition.section)) is not None:
                splices.append(doc.append_items(owner, "papers", items))
            else:
                new_sections.append((addition.section, addition.notes, items))
        if new_sections:
            splices.append(_new_sections(doc, root, new_sections))
        return _merge_same_place(splices)

    def verify(updated: Catalog) -> bool:
        present = {p.id for p in updated.papers()}
        return all(p.id in present for p in new_ids)

    if not additions:
        from readtrack.catalog.reader import load

        return load(path)
    return apply_edit(path, edit, verify)


def refuse_listed(
    catalog: Catalog, papers: Iterable[NewPaper], authors: Mapping[int, Sequence[str]] | None = None
) -> None:
    """The rule that keeps a paper from being added twice: a new paper, or one nested in it, that the list
    already has by import's identity rule (the same arXiv id in any version, primary or related; a DOI; the
    same title with nothing telling them apart, such as two first authors: ``authors``, by ``id(paper)``)
    is refused with `AlreadyListed`, naming the listed paper.

    Papers already in the file may share ids (an item that bundles several papers), so only additions are
    checked, against the file as it is on disk when the edit is applied.
    """
    from readtrack.catalog.identity import already_listed  # needs the markdown reader: loaded when adding

    found = already_listed(catalog, papers, authors)
    if found is None:
        return
    new, owner, why = found
    if why.startswith("same arXiv id "):
        base = why.rsplit(" ", 1)[1]
        given = next((i for i in [new.arxiv, *new.related] if i and arxivid.base_id(i) == base), base)
        raise AlreadyListed(f"arXiv {given} is already in the list as {owner!r}", owner)
    what = f'"{new.title}"' if new.title else (new.url or "this paper")
    raise AlreadyListed(f"{what} is already in the list as {owner!r} ({why})", owner)


def _merge_same_place(splices: list[Splice]) -> list[Splice]:
    """Insertions at the same offset (two new sections, one section twice) become one, in order."""
    merged: dict[tuple[int, int], Splice] = {}
    for splice in splices:
        key = (splice.start, splice.end)
        if key in merged:
            if splice.start != splice.end:
                raise CatalogError("internal error: two edits replace the same text")
            merged[key].new += splice.new
        else:
            merged[key] = Splice(splice.start, splice.end, splice.new)
    return list(merged.values())


def _new_sections(
    doc: Document, root: yaml.MappingNode, sections: list[tuple[str, str | None, list[list[str]]]]
) -> Splice:
    """Append whole sections (name, notes, papers) at the end of ``sections`` (one splice), a blank line
    before each, as in the seed list; an empty or missing ``sections`` list is created with all of them."""
    blocks = []
    for name, notes, items in sections:
        lines = [f"name: {format_scalar(name)}"]
        if notes and notes.strip():
            lines += f"notes: {format_value(notes.strip(chr(10)), 2)}".split("\n")
        lines.append("papers:")
        for item in items:
            lines.append("  - " + item[0])
            lines.extend(("    " + line) if line else "" for line in item[1:])
        blocks.append(lines)
    existing = _field(root, "sections")
    if not (isinstance(existing, yaml.SequenceNode) and existing.value and not existing.flow_style):
        return doc.append_items(root, "sections", blocks)
    parts = [doc.append_items(root, "sections", [block]) for block in blocks]
    return Splice(parts[0].start, parts[0].end, "".join("\n" + part.new for part in parts))


def parse_entry(text: str) -> NewPaper:
    """What ``readtrack add`` takes: an arXiv id or URL, a DOI (``DOI:10.1109/CVPR.2016.90``, as ``next``
    shows one, or bare: the same as its ``https://doi.org/`` link), another URL, or a title.

    Works offline: `readtrack sync` fills the metadata later.
    """
    value = text.strip()
    if not value:
        raise UsageError("nothing to add: give an arXiv id, a URL or a title")
    if found := CONTROL_CHARS.search(value):
        raise UsageError(f"the text to add holds a control character ({found.group()!r}): {value!r}")
    ident = arxivid.parse(value)
    if ident is not None:
        if problem := arxivid.implausible(ident):
            raise UsageError(f"{value} is not an arXiv id: {problem}")
        slug = "arxiv-" + re.sub(r"[^a-z0-9]+", "-", ident.base.lower())
        # the id is the title until `readtrack sync` stores the real one (it replaces a title equal to the id)
        return NewPaper(title=str(ident), id=slug, arxiv=str(ident), added=today())
    if doi := re.fullmatch(r"(?:doi:\s*)?(10\.\d{4,9}/\S+)", value, flags=re.IGNORECASE):
        value = f"https://doi.org/{doi.group(1)}"
    if re.match(r"^https?://\S+$", value):
        tail = value.rstrip("/").rsplit("/", 1)[-1]
        title = re.sub(r"\.(pdf|html?)$", "", tail, flags=re.IGNORECASE).replace("-", " ").replace("_", " ")
        return NewPaper(title=title or value, url=value, added=today())
    return NewPaper(title=value, added=today())
