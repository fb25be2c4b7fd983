"""Moving a paper within papers.yaml (``readtrack move``): its own lines cut and put back elsewhere, every
other byte of the file as it was.

A paper's lines are its item, from its dash to its last value (its nested papers included), and the comment
lines right above the dash (no blank line between): a comment written over a paper is that paper's and moves
with it. Blank lines and every other comment stay where they are. The lines are re-indented by the
difference between the two places' item columns (a nested paper moved to a section's top level, or the
other way), so the moved item reads as its new neighbours do. A paper goes before or after another paper
(``before=``, ``after=``: the same list as that one) or to the end of a section (``section=``). Moving the
only paper of a list leaves ``papers: []`` behind; a section with no papers yet cannot take one this way
(``readtrack add --section`` can), and a paper cannot go inside itself. Written through
`readtrack.catalog.edits.apply_edit`: under the list's lock, atomically, checked before it is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from readtrack.base.errors import UsageError
from readtrack.catalog.edits import apply_edit, section_node
from readtrack.catalog.model import Catalog
from readtrack.catalog.yamlsplice import Document, Splice


@dataclass
class _Place:
    """An item of a list of papers: its node, the mapping that owns the list, and the list."""

    node: yaml.MappingNode
    owner: yaml.MappingNode
    seq: yaml.SequenceNode


def _field(mapping: yaml.MappingNode, key: str) -> yaml.Node | None:
    return next((v for k, v in mapping.value if k.value == key), None)


def _places(owner: yaml.MappingNode) -> list[_Place]:
    seq = _field(owner, "papers")
    if not isinstance(seq, yaml.SequenceNode):
        return []
    found = []
    for item in seq.value:
        if isinstance(item, yaml.MappingNode):
            found.append(_Place(item, owner, seq))
            found += _places(item)
    return found


def _find(root: yaml.MappingNode, paper_id: str) -> _Place:
    sections = _field(root, "sections")
    for section in sections.value if isinstance(sections, yaml.SequenceNode) else []:
        for place in _places(section):
            ident = _field(place.node, "id")
            if ident is not None and ident.value == paper_id:
                return place
    raise UsageError(f"no paper with id {paper_id!r} (see `readtrack list`)")


def _dash(doc: Document, node: yaml.Node) -> int:
    """The offset of the ``-`` that starts ``node``'s item."""
    return doc.text.rfind("-", 0, doc.offset(node.start_mark))


def _span(doc: Document, node: yaml.Node) -> tuple[int, int]:
    """The item's lines: from the comment lines right above its dash to the end of its last value's line."""
    start = doc.line_start(_dash(doc, node))
    while start > 0:
        above = doc.line_start(start - 1)
        if not doc.text[above:start].strip().startswith("#"):
            break
        start = above
    return start, doc.line_end(doc.value_end(node))


def _reindent(text: str, by: int) -> str:
    """``text``'s lines shifted right by ``by`` columns (left when negative; only blanks are taken away)."""
    lines = text.split("\n")
    if by >= 0:
        return "\n".join((" " * by + line) if line.strip() else line for line in lines)
    out = []
    for line in lines:
        cut = min(-by, len(line) - len(line.lstrip(" ")))
        out.append(line[cut:])
    return "\n".join(out)


def move(
    path: Path,
    paper_id: str,
    *,
    before: str | None = None,
    after: str | None = None,
    section: str | None = None,
) -> Catalog:
    """Move paper ``paper_id`` before or after another paper, or to the end of ``section`` (one of the three;
    see the module docstring). Nothing is written when it is already there."""
    if sum(x is not None for x in (before, after, section)) != 1:
        raise UsageError("say where: --before ID, --after ID or --section NAME (one of them)")
    target = before or after

    def edit(doc: Document, root: yaml.MappingNode, catalog: Catalog) -> list[Splice]:
        moving = _find(root, paper_id)
        start, end = _span(doc, moving.node)
        if target is not None:
            if target == paper_id:
                raise UsageError(f"{paper_id} cannot go {'before' if before else 'after'} itself")
            other = _find(root, target)
            at = _span(doc, other.node)[0] if before else doc.line_end(doc.value_end(other.node))
            column = doc.column(_dash(doc, other.node))
            inside = start <= doc.offset(other.node.start_mark) < end
            if inside:
                raise UsageError(f"{target} is inside {paper_id} (one of its papers): it cannot go there")
        else:
            assert section is not None
            owner = section_node(root, section)
            if owner is None:
                names = ", ".join(s.name for s in catalog.sections)
                raise UsageError(f"no section {section!r} (the sections: {names})")
            items = [p for p in _places(owner) if p.owner is owner]
            if not items:
                raise UsageError(
                    f"section {section!r} has no papers yet: `readtrack add --section` puts a first one there"
                )
            at = doc.line_end(doc.value_end(items[-1].node))
            column = doc.column(_dash(doc, items[-1].node))
        same_list = (other.seq if target is not None else items[-1].seq) is moving.seq
        between = doc.text[at:start] if at <= start else doc.text[end:at]
        if same_list and (start <= at <= end or not between.strip()):  # where it is (blank lines aside)
            return []
        moved = _reindent(doc.text[start:end], column - doc.column(_dash(doc, moving.node)))
        if not moved.endswith("\n"):
            moved += "\n"
        if at == len(doc.text) and not doc.text.endswith("\n"):
            moved = "\n" + moved.rstrip("\n")
        if len(moving.seq.value) == 1:  # its list's only paper: the list stays, empty
            key = next(k for k, v in moving.owner.value if v is moving.seq)
            colon = doc.text.index(":", doc.offset(key.end_mark))
            empty = " []\n" if doc.text[end - 1 : end] == "\n" else " []"
            return [Splice(colon + 1, end, empty), Splice(at, at, moved)]
        return [Splice(start, end, ""), Splice(at, at, moved)]

    def placed(updated: Catalog) -> bool:
        paper = updated.get(paper_id)
        if target is not None:
            return paper.section == updated.get(target).section
        return paper.section.lower() == (section or "").lower()

    return apply_edit(path, edit, verify=placed)
