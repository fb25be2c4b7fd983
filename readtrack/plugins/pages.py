"""A plugin read as text: its page (the docstring of its ``__init__.py``), its code, and its recorded runs.

What `readtrack explain` prints and the TUI's paper view shows. Nothing here runs a plugin or imports its
model or experiments (so never torch): the package is the torch-free one discovery imported already, and
its other files are found by importlib's spec machinery and read as text.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from readtrack.plugins.discovery import load_plugin
from readtrack.plugins.records import RunRecord


@dataclass(frozen=True)
class SourceFile:
    name: str  # model.py
    path: Path
    text: str


@dataclass(frozen=True)
class PluginPage:
    """One plugin as a reader sees it."""

    name: str
    paper_id: str
    title: str
    arxiv: str | None
    claim: str
    source: str  # built-in | installed | user folder
    page: str  # the docstring, as written
    files: list[SourceFile] = field(default_factory=list)  # implementation, experiments, then the rest

    def markdown(self) -> str:
        """The page as Markdown: a heading, the arXiv link and the claim, then the docstring (its indented
        equation blocks read as code blocks, its ``literals`` as code)."""
        lines = [f"# {self.title}", ""]
        facts = [f"plugin `{self.name}` ({self.source})"]
        if self.arxiv:
            facts.insert(0, f"[arXiv {self.arxiv}](https://arxiv.org/abs/{self.arxiv})")
        lines += [" · ".join(facts), "", f"> **Claim.** {self.claim}", "", _fence_indented(self.page)]
        return "\n".join(lines).rstrip() + "\n"

    def to_dict(self, *, code: bool = False) -> dict[str, Any]:
        data: dict[str, Any] = {
            "name": self.name,
            "paper_id": self.paper_id,
            "title": self.title,
            "arxiv": self.arxiv,
            "claim": self.claim,
            "source": self.source,
            "page": self.page,
            "files": [str(f.path) for f in self.files],
        }
        if code:
            data["code"] = {f.name: f.text for f in self.files}
        return data


def read_page(name: str) -> PluginPage:
    """The page and code of plugin ``name``: a UsageError when unknown, a PluginError when broken."""
    plugin = load_plugin(name)
    info = plugin.info
    package = importlib.import_module(info.package)  # imported by discovery already: torch-free
    return PluginPage(
        name=info.name,
        paper_id=info.paper_id,
        title=info.title,
        arxiv=info.arxiv,
        claim=info.claim,
        source=plugin.source,
        page=inspect.cleandoc(package.__doc__ or ""),
        files=_source_files(info.package, [info.implementation, info.experiments]),
    )


def _fence_indented(text: str) -> str:
    """Indented blocks after a blank line (a page's equations) as ```` ```text ```` fences: the same code
    blocks, but a viewer need not guess their language (Textual's Markdown tries every Pygments lexer)."""
    lines, out, i = text.split("\n"), [], 0
    while i < len(lines):
        if lines[i].startswith("    ") and (i == 0 or not lines[i - 1].strip()):
            block = []
            while i < len(lines) and (
                lines[i].startswith("    ")
                or (not lines[i].strip() and i + 1 < len(lines) and lines[i + 1].startswith("    "))
            ):
                block.append(lines[i][4:])
                i += 1
            out += ["```text", *block, "```"]
        else:
            out.append(lines[i])
            i += 1
    return "\n".join(out)


#: A plugin's files that are not its code: the page (``__init__.py``'s docstring, shown as the page) and
#: the deliberately wrong solutions ``readtrack practice`` grades its check against (a spoiler, not code).
NOT_CODE = frozenset({"__init__.py", "mistakes.py"})


def _source_files(package: str, first: list[str]) -> list[SourceFile]:
    """The package's Python files besides ``NOT_CODE``: ``first`` in order, then the others by name."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return []
    folder = Path(next(iter(spec.submodule_search_locations)))
    files = {p.stem: p for p in folder.glob("*.py") if p.name not in NOT_CODE}
    order = [m for m in first if m in files] + sorted(set(files) - set(first))
    return [SourceFile(files[m].name, files[m], files[m].read_text(encoding="utf-8")) for m in order]


def latest_per_device(records: list[RunRecord]) -> dict[str, RunRecord]:
    """The newest finished run of each device kind (cpu, cuda, mps), from ``records`` newest first."""
    latest: dict[str, RunRecord] = {}
    for record in records:
        kind = record.info.device.split(":")[0]
        if record.status != "running" and kind not in latest:
            latest[kind] = record
    return latest
