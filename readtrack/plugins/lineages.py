"""Lineages: the families of the reading list, each a chain (or a small DAG) of papers in time, every step
saying how the later paper improved the earlier one, and by which number (issue 92).

A lineage is declared in two parts, both through the hook ``readtrack_lineages`` (`hookspecs`), so that a
plugin author can extend a family without touching readtrack:

- :class:`Lineage`, the family itself: its name (``readtrack lineage NAME``), a title, the question it
  answers, the list section it belongs to, and the plugin that is its family bench, if any. The built-in
  families are declared by the built-in plugins' package (``plugins/__init__.py``).
- :class:`Member`, one paper of it: a plugin, or a named arm of one (AlexNet inside ``cnn-architectures``),
  what it improved (``what``) over which earlier members (``improves``), and the number that says so: the
  name of a target or a reported claim in the newest record of its plugin (``number``), or of the family
  bench (``source="bench"``). Each plugin declares its own members (``readtrack_lineages =
  lineage_members(Member(...), ...)`` beside ``declare``), and so may a third party's, for any family.

Members are ordered by their paper's date, never by hand: the month of its arXiv id (``1706.03762`` is June
2017), else the year papers.yaml gives the paper, else the year the member declares (a paper arXiv never had:
LeNet-5, 1998). A member's paper is its plugin's, unless it names its own (``arxiv``, ``title``: an arm that
is another paper). ``improves=None`` (the default) means the member before it in time;
``()`` a member that improved none of the family's (the first, or one beside the chain: L-BFGS).

Torch-free, as everything discovery imports: :func:`collect` asks the discovered plugins' hooks and checks
what they declared (a member of no lineage, two members with one key, an ``improves`` naming nobody), each
problem one line, never an exception.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from readtrack.base.errors import one_line
from readtrack.catalog import arxivid
from readtrack.plugins.markers import hookimpl

__all__ = ["Lineage", "Member", "collect", "lineage_members"]

_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
#: Where a member's number is read: its own plugin's records, or the family bench's.
SOURCES = ("plugin", "bench")


@dataclass(frozen=True)
class Lineage:
    """A family of the list: ``name`` (a slug), ``title``, ``question`` (what its steps are about), the list
    ``section`` its papers sit in (the TUI opens the lineage from there) and its family ``bench`` plugin."""

    name: str
    title: str
    question: str = ""
    section: str = ""
    bench: str | None = None

    def __post_init__(self) -> None:
        if not _SLUG.match(self.name):
            raise ValueError(f"lineage name {self.name!r} must be a lowercase slug")


@dataclass(frozen=True)
class Member:
    """One paper of the lineage ``lineage``, run by ``plugin`` (or its ``arm``).

    ``arxiv``/``title`` name the member's own paper when it is not the plugin's (an arm that is another
    paper); ``year`` dates a paper arXiv never had, when the list does not; ``paper_id`` the item of the
    reading list whose status the member shows, when it is not the one with its arXiv id nor the plugin's.
    ``what``: what it improved, in words ("remembers across long lags"). ``number``: the name of the
    target (or the claim reported unasserted) that measures it, in the newest record of ``plugin``
    (``source="plugin"``) or of the lineage's bench (``source="bench"``); empty when nothing measures it
    yet. ``full_run``: that number is given by the plugin's full run only (``readtrack run PLUGIN``), not
    by its quick one (GQA's multi-query arm, trained only at full size)."""

    lineage: str
    plugin: str
    arm: str | None = None
    title: str = ""
    arxiv: str | None = None
    year: int | None = None
    paper_id: str | None = None
    improves: tuple[str, ...] | None = None
    what: str = ""
    number: str = ""
    source: str = "plugin"
    full_run: bool = False

    def __post_init__(self) -> None:
        if self.arm is not None and not _SLUG.match(self.arm):
            raise ValueError(f"member {self.plugin}: arm {self.arm!r} must be a lowercase slug")
        if self.arxiv is not None and arxivid.parse(self.arxiv) is None:
            raise ValueError(f"member {self.key}: {self.arxiv!r} is not an arXiv id")
        if self.source not in SOURCES:
            raise ValueError(f"member {self.key}: source {self.source!r} is not one of {', '.join(SOURCES)}")
        if isinstance(self.improves, str):  # improves="lstm": a tuple of one, not of its letters
            object.__setattr__(self, "improves", (self.improves,))
        elif self.improves is not None:
            object.__setattr__(self, "improves", tuple(self.improves))

    @property
    def key(self) -> str:
        """How the lineage names the member: its plugin, or ``plugin:arm``."""
        return self.plugin if self.arm is None else f"{self.plugin}:{self.arm}"

    @property
    def own_paper(self) -> bool:
        """Whether the member is another paper than its plugin's (it names a title or an arXiv id of its own);
        a ``year`` alone dates the plugin's paper where neither arXiv nor the list does."""
        return bool(self.arxiv or self.title)


def lineage_members(*items: Lineage | Member) -> Callable[[], list[Lineage | Member]]:
    """The ``readtrack_lineages`` hook implementation declaring ``items``; assign it to that name in the
    plugin's ``__init__.py``: ``readtrack_lineages = lineage_members(Member("recurrent", "gru", ...))``."""
    declared = list(items)

    @hookimpl
    def readtrack_lineages() -> list[Lineage | Member]:
        return list(declared)

    return readtrack_lineages


# -- the date of a paper ------------------------------------------------------------------------------
def arxiv_date(ident: str | None) -> tuple[int, int] | None:
    """(year, month) of an arXiv id: ``1706.03762`` → (2017, 6), ``cs/9901001`` → (1999, 1); None if none."""
    parsed = arxivid.parse(ident) if ident else None
    if parsed is None:
        return None
    digits = parsed.base.rpartition("/")[2][:4]
    yy, month = int(digits[:2]), int(digits[2:4])
    return (1900 + yy if yy >= 91 else 2000 + yy), month


def arxiv_serial(ident: str | None) -> int | None:
    """The number of an arXiv id within its month: ``1607.06450`` → 6450, ``cs/9901001`` → 1; None if none."""
    parsed = arxivid.parse(ident) if ident else None
    if parsed is None:
        return None
    base = parsed.base.rpartition("/")[2]
    return int(base.partition(".")[2] if "." in base else base[4:])


# -- what the plugins declared --------------------------------------------------------------------------
@dataclass
class DeclaredLineage:
    """A lineage with every member declared for it, in declaration order (`order` sorts them by date)."""

    lineage: Lineage
    members: list[Member] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.lineage.name


@dataclass
class Declared:
    """Every lineage the plugins declared, by name, and one line per declaration that could not be taken,
    each with the lineage it concerns (None: no lineage it names exists)."""

    lineages: dict[str, DeclaredLineage]
    concerns: list[tuple[str | None, str]]

    @property
    def problems(self) -> list[str]:
        return [text for _, text in self.concerns]

    def problems_of(self, name: str) -> list[str]:
        """The problems of the lineage ``name`` (its members left out, a second declaration of it)."""
        return [text for about, text in self.concerns if about == name]


def collect(results: Iterable[Any]) -> Declared:
    """The lineages in ``results`` (what each ``readtrack_lineages`` implementation returned), checked:
    a second lineage of a name, a member of a lineage nobody declared, a second member of one key and an
    ``improves`` naming no member of the family are left out, each said in one line."""
    items: list[Any] = [
        item for result in results for item in (result if isinstance(result, (list, tuple)) else [result])
    ]
    problems: list[tuple[str | None, str]] = []
    lineages: dict[str, DeclaredLineage] = {}
    for item in items:
        if isinstance(item, Lineage):
            if item.name in lineages:
                problems.append((item.name, f"lineage {item.name} is declared twice: the second is left out"))
            else:
                lineages[item.name] = DeclaredLineage(item)
        elif not isinstance(item, Member):
            problems.append((None, f"readtrack_lineages() returned {item!r:.60}, expected Lineage or Member"))
    for item in items:
        if not isinstance(item, Member):
            continue
        family = lineages.get(item.lineage)
        if family is None:
            why = f"member {item.key} names lineage {item.lineage!r}, which nobody declares"
            problems.append((None, why))
        elif any(m.key == item.key for m in family.members):
            problems.append((family.name, f"lineage {item.lineage}: member {item.key} is declared twice"))
        else:
            family.members.append(item)
    for family in lineages.values():
        keys = {m.key for m in family.members}
        for member in list(family.members):
            unknown = [k for k in member.improves or () if k not in keys]
            if unknown:
                why = (
                    f"lineage {family.name}: member {member.key} improves {', '.join(unknown)}, not a member"
                )
                problems.append((family.name, why))
                family.members.remove(member)
    return Declared(lineages, problems)


def declared(manager: Any) -> Declared:
    """What the ``readtrack_lineages`` implementations registered with ``manager`` (a discovery's plugin
    manager) declare, `collect` ed; an implementation that raises is one problem naming its module."""
    results: list[Any] = []
    problems: list[tuple[str | None, str]] = []
    for impl in manager.hook.readtrack_lineages.get_hookimpls():  # in registration order
        try:
            results.append(impl.function())
        except Exception as err:
            why = f"{impl.plugin_name}: readtrack_lineages() raised {one_line(err)}"
            problems.append((None, why))
    found = collect(results)
    found.concerns[:0] = problems
    return found


def order(
    members: Sequence[Member],
    date_of: Callable[[Member], tuple[int, int] | None],
    serial_of: Callable[[Member], int | None] = lambda member: None,
) -> tuple[list[tuple[Member, tuple[int, int]]], list[Member]]:
    """``members`` sorted by ``date_of``, and those with no date at all. Ties (one month) by ``serial_of``,
    the arXiv number, which grows with submission inside a month (LayerNorm's 1607.06450 before InstanceNorm's
    1607.08022), then in declaration order."""
    dates = [(m, date_of(m), serial_of(m)) for m in members]  # each member dated once
    dated = [(m, d, s) for m, d, s in dates if d is not None]
    dated.sort(key=lambda row: (row[1], row[2] is None, row[2] or 0))
    return [(m, d) for m, d, _ in dated], [m for m, d, _ in dates if d is None]
