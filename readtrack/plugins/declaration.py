"""What a paper plugin declares about itself: the light part, read while listing plugins.

A plugin's ``__init__.py`` is its page (the docstring) and one declaration::

    from readtrack.api import declare  # the public name of this module's declare

    readtrack_paper_plugins = declare(
        __name__,
        title="Layer Normalization",
        arxiv="1607.06450",
        claim="Normalising each layer's summed inputs per example makes a deep network train faster.",
    )

:func:`declare` builds the :class:`PaperPlugin` (named after the plugin's folder unless told otherwise) and
returns the ``readtrack_paper_plugins`` hook implementation pluggy finds. A paper id with hyphens lives in
a folder with underscores (``plugins/sliding_window_attention``). Everything heavy (torch, the
implementation, the experiments) is named by module and imported only when the plugin runs.

A plugin may declare practice exercises (``readtrack practice``): ``exercises=[Exercise(...)]``, each naming
a function or method of ``model.py`` a reader writes themselves. They are written as literals (strings,
numbers, lists of strings): ``readtrack practice`` reads them from this file's text without importing it.

A paper published with a DOI declares it too (``doi="10.1109/CVPR.2016.90"``): a paper in a list runs the
plugins declared with its arXiv id, its DOI, or its title and first author (`readtrack.plugins.links`, which
reads the first author from the docstring's first line, ``Title (He, Zhang, Ren and Sun, arXiv ...)``).
"""

from __future__ import annotations

import importlib
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from readtrack.plugins.markers import hookimpl

__all__ = ["STAGES", "Exercise", "PaperPlugin", "declare", "hookimpl"]

#: The stages of a run, in order. An experiments module defines any of ``check``, ``train``, ``bench``.
STAGES = ("check", "train", "bench")
DEVICE_KINDS = ("cpu", "cuda", "mps")
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_DOI = re.compile(r"^10\.\d{4,9}/\S+$")


@dataclass(frozen=True)
class Exercise:
    """One function or method of a plugin's ``model.py`` that a reader implements themselves.

    target: ``"apply_rotary"`` (a function) or ``"RMSNorm.forward"`` (a method) of ``model.py``; the plugin's
        own code is the model solution, its ``check`` stage the grader, its ``train`` stage the claim.
    statement: the equation with its symbols mapped to the arguments, the shapes, the paper's convention.
    hints: revealed one at a time, the last one nearly the answer.
    lines: roughly how many lines the model solution's body has.
    references: dotted names of the library functions the check compares with
        (``"torch.nn.functional.rms_norm"``): calling one passes, but the learner is told so.
    module: where the target lives when it is not in ``model.py`` (``"readtrack.plugin_kit.detection"``
        for r_cnn's ``nms``, which ``model.py`` imports from there): the workspace holds a copy of it, and
        while the learner's code is graded theirs stands in for it on that module too.
    """

    target: str
    statement: str
    hints: Sequence[str] = ()  # kept as a tuple
    lines: int = 0
    references: Sequence[str] = ()  # kept as a tuple
    module: str = ""

    def __post_init__(self) -> None:
        # Lists are welcome in a declaration; frozen records keep tuples.
        object.__setattr__(self, "hints", tuple(self.hints))
        object.__setattr__(self, "references", tuple(self.references))
        if not re.fullmatch(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)?", self.target):
            raise ValueError(
                f"exercise target {self.target!r} must be a function or Class.method of model.py"
            )
        if self.module and not re.fullmatch(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*", self.module):
            raise ValueError(f"exercise module {self.module!r} must be a dotted module name")


@dataclass(frozen=True)
class PaperPlugin:
    """One runnable paper.

    name: what ``readtrack run NAME`` takes; by convention the paper's id in papers.yaml.
    paper_id: the id of the paper in papers.yaml this plugin implements.
    title, arxiv: the paper's canonical title and arXiv id (for a built-in plugin, a test checks that they
        agree with papers.yaml).
    doi: the DOI of the paper's published version (``10.1109/CVPR.2016.90``), or None: a paper in the list
        with that DOI runs this plugin, as one with its arXiv id does (`readtrack.plugins.links`).
    claim: the one sentence the tiny experiment demonstrates (shown by ``readtrack plugins`` and the report).
    package: the plugin's own package (pass ``__name__``): the modules below are imported relative to it.
    implementation: module with the readable implementation (``load_plugin(name).implementation``).
    experiments: module defining ``check(ctx)``, ``train(ctx)`` and ``bench(ctx)`` (each optional).
    devices: device kinds the plugin supports, from ``cpu``, ``cuda``, ``mps``.
    exercises: what a reader can implement themselves (``readtrack practice``), see :class:`Exercise`.
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
    #: per-stage timeout in seconds (a hung plugin is stopped); quick runs use the same bound.
    stage_timeout: float = 600.0
    exercises: tuple[Exercise, ...] = ()
    doi: str | None = None

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ValueError(f"plugin name {self.name!r} must be a lowercase slug")
        if self.doi is not None and not _DOI.match(self.doi):
            raise ValueError(f"plugin {self.name}: DOI {self.doi!r} is not one (a DOI reads 10.NNNN/...)")
        unknown = set(self.devices) - set(DEVICE_KINDS)
        if unknown:
            raise ValueError(f"plugin {self.name}: unknown device kinds {sorted(unknown)}")

    def import_implementation(self) -> ModuleType:
        """Import the implementation module (this imports torch)."""
        return importlib.import_module(f"{self.package}.{self.implementation}")

    def import_experiments(self) -> ModuleType:
        """Import the experiments module (this imports torch)."""
        return importlib.import_module(f"{self.package}.{self.experiments}")


def declare(
    package: str,
    *,
    title: str,
    arxiv: str | None,
    claim: str,
    doi: str | None = None,
    name: str | None = None,
    paper_id: str | None = None,
    devices: tuple[str, ...] = DEVICE_KINDS,
    stage_timeout: float = 600.0,
    exercises: Sequence[Exercise] = (),
) -> Callable[[], list[PaperPlugin]]:
    """The ``readtrack_paper_plugins`` hook implementation for one plugin; assign it to that name.

    ``package`` is the plugin's ``__name__``. ``name`` defaults to the plugin's folder name with underscores
    read as hyphens (``plugins/rope`` → ``rope``, ``plugins/sliding_window_attention`` →
    ``sliding-window-attention``: paper ids are slugs, package names cannot hold a hyphen) and ``paper_id``
    to ``name``; the rest is as in :class:`PaperPlugin`. Errors in the
    declaration (a name that is not a slug, an unknown device) surface when the plugin is imported, so
    discovery lists the plugin as broken with that error.
    """
    if name is None:
        module = sys.modules.get(package)
        where = getattr(module, "__file__", None)
        if where is None:
            raise ValueError(f"declare({package!r}): pass name=..., the package's folder is unknown")
        name = Path(where).parent.name.replace("_", "-")
    plugin = PaperPlugin(
        name=name,
        paper_id=paper_id or name,
        title=title,
        arxiv=arxiv,
        doi=doi,
        claim=claim,
        package=package,
        devices=tuple(devices),
        stage_timeout=stage_timeout,
        exercises=tuple(exercises),
    )

    @hookimpl
    def readtrack_paper_plugins() -> list[PaperPlugin]:
        return [plugin]

    return readtrack_paper_plugins
