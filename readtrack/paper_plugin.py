"""What a paper plugin declares about itself: the light part, read while listing plugins.

A plugin's ``__init__.py`` builds one :class:`PaperPlugin` and returns it from the
``readtrack_paper_plugins`` hook. Everything heavy (torch, the implementation, the experiments) is named
here by module and imported only when the plugin runs.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass, field
from types import ModuleType

from readtrack.hookspecs import hookimpl

__all__ = ["STAGES", "PaperPlugin", "hookimpl"]

#: The stages of a run, in order. An experiments module defines any of ``check``, ``train``, ``bench``.
STAGES = ("check", "train", "bench")
DEVICE_KINDS = ("cpu", "cuda", "mps")
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


@dataclass(frozen=True)
class PaperPlugin:
    """One runnable paper.

    name: what ``readtrack run NAME`` takes; by convention the paper's id in papers.yaml.
    paper_id: the id of the paper in papers.yaml this plugin implements.
    title, arxiv: the paper's canonical title and arXiv id.
    claim: the one sentence the tiny experiment demonstrates.
    package: the plugin's own package (pass ``__name__``): the modules below are imported relative to it.
    implementation: module with the readable implementation (``load_plugin(name).implementation``).
    experiments: module defining ``check(ctx)``, ``train(ctx)`` and ``bench(ctx)`` (each optional).
    devices: device kinds the plugin supports, from ``cpu``, ``cuda``, ``mps``.
    """

    name: str
    paper_id: str
    title: str
    arxiv: str | None
    claim: str
    package: str
    implementation: str = "model"
    experiments: str = "experiment"
    devices: tuple[str, ...] = ("cpu", "cuda", "mps")
    tags: tuple[str, ...] = field(default_factory=tuple)
    #: per-stage timeout in seconds (a hung plugin is stopped); quick runs use the same bound.
    stage_timeout: float = 600.0

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ValueError(f"plugin name {self.name!r} must be a lowercase slug")
        unknown = set(self.devices) - set(DEVICE_KINDS)
        if unknown:
            raise ValueError(f"plugin {self.name}: unknown device kinds {sorted(unknown)}")

    def import_implementation(self) -> ModuleType:
        """Import the implementation module (this imports torch)."""
        return importlib.import_module(f"{self.package}.{self.implementation}")

    def import_experiments(self) -> ModuleType:
        """Import the experiments module (this imports torch)."""
        return importlib.import_module(f"{self.package}.{self.experiments}")
