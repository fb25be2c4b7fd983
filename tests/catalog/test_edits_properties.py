"""Property: an edit to papers.yaml changes only the lines of what it edits (random edits on the seed list).

The ruler is independent of `readtrack.catalog.yamlsplice`: a paper's lines run from its ``- id:`` line to the
last line indented deeper than its dash; its own lines stop before its nested ``papers:``.
"""

from __future__ import annotations

import difflib
import shutil
import string
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from readtrack.base.errors import AlreadyListed
from readtrack.catalog import edits
from readtrack.catalog import identity as paper_identity
from readtrack.catalog.model import STATUSES
from readtrack.catalog.new_paper import NewPaper
from readtrack.plugins import links

SEED = Path(__file__).resolve().parents[2] / "papers.yaml"
SEED_CATALOG = links.load(SEED, cache=False)
PAPER_IDS = [p.id for p in SEED_CATALOG.papers()]
SECTIONS = [s.name for s in SEED_CATALOG.sections]


@dataclass
class Span:
    first: int  # 0-based line indexes
    own_last: int  # last line of the paper's own keys, before nested papers
    last: int  # last line including nested papers


def span(lines: list[str], first: int) -> Span:
    dash = len(lines[first]) - len(lines[first].lstrip(" -"))  # column of "id:" / "name:" after the dash
    dash_col = dash - 2
    last = first
    own_last: int | None = None
    for index in range(first + 1, len(lines)):
        text = lines[index]
        if not text.strip() or text.lstrip().startswith("#"):
            continue
        indent = len(text) - len(text.lstrip())
        if indent <= dash_col:
            break
        if own_last is None and indent == dash and text.strip().startswith("papers:"):
            own_last = last
        last = index
    return Span(first, last if own_last is None else own_last, last)


def changed_lines_stay_inside(before: str, after: str, allowed: Span, *, whole: bool) -> None:
    """Every replaced or deleted line lies in the span; every insertion is inside it or right after it."""
    old, new = before.splitlines(), after.splitlines()
    end = allowed.last if whole else allowed.own_last
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for tag, i1, i2, _, _ in matcher.get_opcodes():
        if tag == "equal":
            continue
        if tag == "insert":
            assert allowed.first <= i1 <= end + 1, (tag, i1, allowed)
        else:
            assert allowed.first <= i1 and i2 - 1 <= end, (tag, i1, i2, allowed)


NOTE_TEXT = st.text(string.ascii_letters + string.digits + " \n:#'\"-[]{}|>*&!%@`,?", max_size=40)
TAG = st.from_regex(r"\A[a-z0-9][a-z0-9-]{0,7}\Z")
TITLE = st.text(string.ascii_letters + " :#'\"-[]()", min_size=1, max_size=30).filter(lambda t: t.strip())

EDITS = st.one_of(
    st.tuples(st.just("mark"), st.sampled_from(PAPER_IDS), st.sampled_from(STATUSES)),
    st.tuples(st.just("note"), st.sampled_from(PAPER_IDS), NOTE_TEXT),
    st.tuples(
        st.just("tag"),
        st.sampled_from(PAPER_IDS),
        st.lists(
            st.tuples(st.sampled_from("+-"), TAG).map("".join),
            min_size=1,
            max_size=3,
            unique_by=lambda c: c[1:],
        ),
    ),
    st.tuples(st.just("add"), st.sampled_from(SECTIONS + PAPER_IDS), TITLE),
)


@settings(max_examples=50, deadline=None)
@given(st.lists(EDITS, min_size=1, max_size=4))
def test_an_edit_changes_only_its_own_lines(steps: list[tuple]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "papers.yaml"
        shutil.copy(SEED, path)
        for kind, target, value in steps:
            before = path.read_text(encoding="utf-8")
            catalog = links.load(path, cache=False)
            lines = before.splitlines()
            if kind == "add":
                owner = catalog.section(target) if target in SECTIONS else catalog.get(target)
                allowed = span(lines, owner.line - 1)
                section, parent = (
                    (target, None) if target in SECTIONS else (catalog.get(target).section, target)
                )
                new = NewPaper(title=value)
                twin = paper_identity.already_listed(catalog, [new])
                if twin is not None:  # the list has it (same title): refused, nothing written
                    with pytest.raises(AlreadyListed):
                        edits.add_papers(path, section, [new], parent=parent)
                    assert path.read_text(encoding="utf-8") == before
                    continue
                updated = edits.add_papers(path, section, [new], parent=parent)
                added = updated.get(new.id or "")
                assert (added.title, added.parent) == (value, parent)
                whole = True
            else:
                allowed = span(lines, catalog.get(target).line - 1)
                whole = False
                if kind == "mark":
                    assert edits.mark(path, target, value).get(target).status == value
                elif kind == "note":
                    wanted = value.strip("\n") if value.strip() else None
                    assert edits.note(path, target, value).get(target).notes == wanted
                else:
                    tags = edits.tag(path, target, value).get(target).tags
                    assert all((change[1:] in tags) == (change[0] == "+") for change in value)
            changed_lines_stay_inside(before, path.read_text(encoding="utf-8"), allowed, whole=whole)
