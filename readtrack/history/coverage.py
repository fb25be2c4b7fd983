"""How much of the reading list runs: per section, the papers with a plugin, run, and passing per device.

What ``readtrack stats`` and the TUI show beside reading progress. A paper counts as *run* when any of its
plugins has a recorded run, and as *passing on a device* when every one of its plugins' newest run on that
device passed. Reads papers.yaml and the history (SQLite) only: no plugin is imported.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from readtrack.catalog.model import Catalog, Paper


@dataclass
class Coverage:
    name: str  # the section, or "all"
    papers: int = 0
    with_plugin: int = 0
    run: int = 0
    passing: dict[str, int] = field(default_factory=dict)  # device kind -> papers passing there


Newest = Mapping[str, Mapping[str, str]]  # plugin -> device kind -> the status of its newest run there


def coverage(catalog: Catalog, newest: Newest) -> list[Coverage]:
    """One `Coverage` per section, then the whole list as ``all``."""
    devices = sorted({kind for per_device in newest.values() for kind in per_device} | {"cpu"})
    total = Coverage("all", passing=dict.fromkeys(devices, 0))
    sections = []
    for section in catalog.sections:
        row = Coverage(section.name, passing=dict.fromkeys(devices, 0))
        for paper in section.walk():
            for counted in (row, total):
                _count(counted, paper, newest, devices)
        sections.append(row)
    return [*sections, total]


def _count(row: Coverage, paper: Paper, newest: Newest, devices: list[str]) -> None:
    row.papers += 1
    if not paper.plugins:
        return
    row.with_plugin += 1
    runs = [newest.get(plugin, {}) for plugin in paper.plugins]
    row.run += any(runs)
    for device in devices:
        row.passing[device] += all(r.get(device) == "passed" for r in runs)


def newest_statuses() -> tuple[dict[str, dict[str, str]], str | None]:
    """`Newest` from the history database, and why it is empty when the database cannot be read."""
    from readtrack.base.errors import one_line

    try:
        from readtrack.history.runs import last_by_device

        return {p: {k: s.status for k, s in d.items()} for p, d in last_by_device().items()}, None
    except Exception as err:  # coverage is a summary: reading progress still shows
        return {}, f"run history unavailable: {one_line(err)}"
