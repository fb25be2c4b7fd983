"""A lineage as the reader sees it (issue 92): its members in time, each with the reader's status, what it
improved over which earlier member, and that step's number and verdict from the newest run recorded.

`view` joins three things: what the plugins declared (`readtrack.plugins.lineages`), the reading list (a
member's paper: the item with its arXiv id, else its own ``paper_id``, else its plugin's paper; that item's
status and, where arXiv gives no date, its year) and the runs database (for each step, the newest record of
the plugin named that holds the step's number: a target, asserted or reported). A step's verdict is "held"
when the number reaches its threshold, "not held" when it does not (said, never hidden: a claim that does
not hold at toy scale is a result), "not run" when no record has it yet, and None for a member whose step
nothing measures yet. `summaries` is the table of ``readtrack lineage``. Torch-free.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from readtrack.base.errors import UsageError
from readtrack.catalog.model import Catalog, Paper
from readtrack.plugins.declaration import PaperPlugin
from readtrack.plugins.knobs import setting_name
from readtrack.plugins.lineages import (
    Declared,
    DeclaredLineage,
    Lineage,
    Member,
    arxiv_date,
    arxiv_serial,
    order,
)
from readtrack.plugins.records import RunRecord

HELD, NOT_HELD, NOT_RUN = "held", "not held", "not run"
#: How many of a plugin's newest runs are searched for a step's number.
SEARCHED_RUNS = 200
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass
class Number:
    """A step's number as a record gives it: the value, the claim's threshold and side, where it came from."""

    name: str
    value: float
    threshold: float | None
    higher_is_better: bool
    asserted: bool  # a target the run asserted (else a claim it reported, or a plain measured value)
    run_id: str
    quick: bool
    seed: int
    started_at: str

    @property
    def verdict(self) -> str | None:
        if self.threshold is None:
            return None
        if not math.isfinite(self.value):
            return NOT_HELD
        met = self.value >= self.threshold if self.higher_is_better else self.value <= self.threshold
        return HELD if met else NOT_HELD

    def claim(self) -> str:
        """``0.031 (≤ 0.05)``: the value and the threshold it is judged against."""
        side = "≥" if self.higher_is_better else "≤"
        return f"{self.value:.4g}" + (f" ({side} {self.threshold:g})" if self.threshold is not None else "")


@dataclass
class Row:
    """One member of a lineage, placed in time."""

    member: Member
    title: str
    arxiv: str | None
    year: int | None
    month: int  # 0 when only the year is known
    paper: Paper | None  # the reading list's item for it, if the list has one
    improves: list[str]
    number: Number | None
    #: what the newest run of the step's plugin said, when it gave no number (an error, a timeout)
    note: str = ""

    @property
    def status(self) -> str:
        return self.paper.status if self.paper is not None else "not in the list"

    @property
    def verdict(self) -> str | None:
        if not self.member.number:
            return None
        return self.number.verdict if self.number is not None else NOT_RUN

    @property
    def when(self) -> str:
        if self.year is None:
            return "undated"
        return f"{MONTHS[self.month - 1]} {self.year}" if self.month else str(self.year)

    def to_json(self) -> dict[str, Any]:
        number = self.number
        return {
            "key": self.member.key,
            "plugin": self.member.plugin,
            "arm": self.member.arm,
            "title": self.title,
            "year": self.year,
            "arxiv": self.arxiv,
            "status": self.paper.status if self.paper is not None else None,
            "improves": list(self.improves),
            "what": self.member.what,
            "number_name": self.member.number or None,
            "number": number.value if number is not None and math.isfinite(number.value) else None,
            "threshold": number.threshold if number is not None else None,
            "verdict": self.verdict,
            "note": self.note or None,
            "run": None if number is None else {
                "run_id": number.run_id, "quick": number.quick, "seed": number.seed,
                "started_at": number.started_at,
            },
        }  # fmt: skip


@dataclass
class LineageView:
    lineage: Lineage
    rows: list[Row]
    problems: list[str] = field(default_factory=list)
    bench: list[BenchRow] = field(default_factory=list)

    @property
    def read(self) -> int:
        return sum(1 for row in self.rows if row.paper is not None and row.paper.status == "read")

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.lineage.name,
            "title": self.lineage.title,
            "question": self.lineage.question,
            "section": self.lineage.section or None,
            "members": [row.to_json() for row in self.rows],
            "bench": [row.to_json() for row in self.bench],
            "problems": list(self.problems),
        }


@dataclass
class BenchRow:
    """One member's numbers on the family bench: the quantities its newest record reported for the member
    (a number named ``"KEY: quantity"``, KEY the member's key), each with its value."""

    member: Member
    setting: str
    values: dict[str, float]
    run_id: str

    def to_json(self) -> dict[str, Any]:
        finite = {q: (v if math.isfinite(v) else None) for q, v in self.values.items()}
        return {"plugin": self.member.plugin, "arm": self.member.arm, "key": self.member.key,
                "setting": self.setting, "run_id": self.run_id, **finite}  # fmt: skip


def bench_rows(members: Sequence[Member], records: Sequence[RunRecord]) -> list[BenchRow]:
    """The family bench's table from the newest of its ``records`` (newest first) that reports any member:
    every target or measured value named ``"KEY: quantity"`` for a member's KEY, as that member's row, in
    ``members``' order (their dates')."""
    keys = {m.key: m for m in members}
    for record in records:
        found: dict[str, dict[str, float]] = {}
        for stage in record.stages:
            numbers = [
                *((t.name, t.value) for t in stage.targets),
                *((m.name, m.value) for m in stage.measured),
            ]
            for name, value in numbers:
                key, colon, quantity = name.partition(": ")
                if colon and key in keys:
                    found.setdefault(key, {}).setdefault(quantity, value)
        if found:
            setting = setting_name(record.info.settings)
            return [BenchRow(keys[k], setting, found[k], record.info.run_id) for k in keys if k in found]
    return []


def paper_of(member: Member, plugin: PaperPlugin | None, catalog: Catalog) -> Paper | None:
    """The reading list's item for ``member``: its arXiv id's, else its ``paper_id``'s, else its plugin's."""
    arxiv = member.arxiv if member.own_paper else (plugin.arxiv if plugin is not None else None)
    if arxiv:
        found = catalog.find_arxiv(arxiv)
        if found is not None:
            return found
    for ident in (member.paper_id, plugin.paper_id if plugin is not None else None):
        if ident:
            try:
                return catalog.get(ident)
            except UsageError:  # not in this list
                continue
    return None


def find_number(name: str, records: Iterable[RunRecord]) -> Number | None:
    """The newest of ``records`` (newest first) that holds a target or measured value called ``name``."""
    for record in records:
        for stage in record.stages:
            found: tuple[float, float | None, bool, bool] | None = None
            for target in stage.targets:
                if target.name == name:
                    found = (target.value, target.target, target.higher_is_better, True)
            for measured in stage.measured:
                if measured.name == name and found is None:
                    claim = measured.claim
                    threshold, higher = claim if claim is not None else (None, True)
                    found = (measured.value, threshold, higher, False)
            if found is not None:
                info = record.info
                return Number(name, *found, info.run_id, info.quick, info.seed, info.started_at)
    return None


def view(
    family: DeclaredLineage,
    plugins: dict[str, PaperPlugin],
    catalog: Catalog,
    records: Any,
) -> LineageView:
    """``family`` in time. ``plugins``: the working plugins by name; ``records(plugin)``: that plugin's runs,
    newest first (`readtrack.history.runs.runs`)."""
    problems: list[str] = []
    facts: dict[str, tuple[str, str | None, Paper | None]] = {}
    for member in family.members:
        plugin = plugins.get(member.plugin)
        if plugin is None:
            problems.append(f"member {member.key}: no working plugin {member.plugin}")
        paper = paper_of(member, plugin, catalog)
        title = member.title if member.own_paper else (plugin.title if plugin is not None else member.plugin)
        arxiv = member.arxiv if member.own_paper else (plugin.arxiv if plugin is not None else None)
        facts[member.key] = (title, arxiv, paper)

    def date_of(member: Member) -> tuple[int, int] | None:
        _, arxiv, paper = facts[member.key]
        dated = arxiv_date(arxiv)
        if dated is not None:
            return dated
        if not member.own_paper and paper is not None and paper.year:
            return paper.year, 0
        return (member.year, 0) if member.year else None

    if family.lineage.bench is None:
        problems += [
            f"member {m.key} takes its number from the family bench, which lineage {family.name} has not"
            for m in family.members
            if m.source == "bench"
        ]
    dated, undated = order(family.members, date_of, lambda member: arxiv_serial(facts[member.key][1]))
    for member in undated:
        problems.append(f"member {member.key} has no date: no arXiv id, no year in the list, none declared")
    cache: dict[str, list[RunRecord]] = {}
    rows: list[Row] = []
    for index, (member, (year, month)) in enumerate(dated):
        title, arxiv, paper = facts[member.key]
        if member.improves is None:
            improves = [dated[index - 1][0].key] if index else []
        else:
            improves = list(member.improves)
        number, note = None, ""
        if member.number:
            source = member.plugin if member.source == "plugin" else family.lineage.bench
            if source is not None:
                if source not in cache:
                    cache[source] = list(records(source))
                # a full run's number: a quick run never gives it, so only the full runs can come up short
                mine = [r for r in cache[source] if not r.info.quick] if member.full_run else cache[source]
                number = find_number(member.number, mine)
                note = _newest_without(member.number, mine)
                if member.full_run and not mine:
                    note = f"a full run's number: readtrack run {source}"
        rows.append(Row(member, title, arxiv, year, month, paper, improves, number, note))
    bench = family.lineage.bench
    table = (
        bench_rows([row.member for row in rows], cache.get(bench) or list(records(bench))) if bench else []
    )
    return LineageView(family.lineage, rows, problems, table)


def _newest_without(name: str, records: Sequence[RunRecord]) -> str:
    """Why the newest of ``records`` (newest first) gave no number ``name``, if it did not: its run id, how
    it ended and its first error; "" when it gave the number (or there is no record)."""
    if not records or find_number(name, records[:1]) is not None:
        return ""
    newest = records[0]
    errors = [f"{stage.stage}: {stage.error}" for stage in newest.stages if stage.error]
    said = f"its newest run, {newest.info.run_id[:8]}, ended {newest.status} with no such number"
    return said + (f" ({errors[0]})" if errors else "")


@dataclass
class Summary:
    name: str
    title: str
    members: list[str]
    read: int
    runs: int

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "title": self.title, "members": self.members, "read": self.read,
                "runs": self.runs}  # fmt: skip


def summaries(views: Sequence[LineageView], run_counts: dict[str, int]) -> list[Summary]:
    """The table of ``readtrack lineage``: each lineage's members in time, how many the reader has read,
    and how many runs are recorded of its plugins (its bench's included)."""
    found = []
    for lineage in views:
        plugins = {row.member.plugin for row in lineage.rows} | (
            {lineage.lineage.bench} if lineage.lineage.bench else set()
        )
        runs = sum(run_counts.get(plugin, 0) for plugin in plugins)
        members = [row.member.key for row in lineage.rows]
        found.append(Summary(lineage.lineage.name, lineage.lineage.title, members, lineage.read, runs))
    return found


def run_counts(plugins: Iterable[str]) -> dict[str, int]:
    """How many runs history holds of each of ``plugins`` (those with none left out)."""
    from readtrack.history.runs import connection

    names = sorted(set(plugins))
    if not names:
        return {}
    marks = ", ".join("?" * len(names))
    with connection() as conn:
        rows = conn.execute(
            f"SELECT plugin, COUNT(*) FROM runs WHERE plugin IN ({marks}) GROUP BY plugin", names
        ).fetchall()
    return {plugin: count for plugin, count in rows}


def discovered() -> tuple[Declared, dict[str, PaperPlugin]]:
    """The lineages the discovered plugins declare (the user's folder included), and the working plugins."""
    from readtrack.plugins import discovery
    from readtrack.plugins.lineages import declared

    found = discovery.discovery()
    plugins = {p.name: p.info for p in found.plugins if isinstance(p, discovery.LoadedPlugin)}
    return declared(found.hooks), plugins


def records_of(plugin: str) -> list[RunRecord]:
    """The runs a step's number is looked for in: ``plugin``'s newest `SEARCHED_RUNS`, newest first."""
    from readtrack.history.runs import runs

    return runs(plugin, limit=SEARCHED_RUNS)
