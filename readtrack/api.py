"""Everything a paper plugin imports from readtrack, in one module: the public API for plugin authors.

A plugin imports from two places only, ``readtrack.api`` (this module) and ``readtrack.plugin_kit`` (shared
toy tasks, models, reference checks and timing); an import-linter contract holds the built-in plugins to
them, and the modules behind these names may move without breaking a plugin. Importing this module is
cheap and never imports torch, so a plugin's page (``__init__.py``) may import from it.

The page (``__init__.py``)::

    from readtrack.api import Exercise, declare

    readtrack_paper_plugins = declare(__name__, title="...", arxiv="1710.05941", claim="...",
                                      exercises=[Exercise("swish", statement="...")])

The stages (``experiment.py``): ``check(ctx)``, ``train(ctx)`` and ``bench(ctx)`` each take a
:class:`RunContext` (``ctx.check_close``, ``ctx.target``, ``ctx.measured``, ``ctx.metric``,
``ctx.bench.measure``, ``ctx.progress``, ``ctx.seed``, ``ctx.quick``, ``ctx.device``, ``ctx.config``).

The knobs (``config.py``): a frozen dataclass ``Config`` whose fields are :func:`knob` s.

Words: :func:`plural` counts in words: ``plural(1, "init")`` is ``1 init``, ``plural(3, "init")`` ``3 inits``.

The mistakes (``mistakes.py``): wrong solutions of an exercise, each marked with :func:`mistake`, which the
plugin's check must catch (``readtrack check-plugin NAME`` and ``readtrack.testing`` prove it).

Tests: ``readtrack.testing`` (a pytest plugin installed with readtrack) runs stages in a data folder of
their own. The guide: ``docs/writing-a-plugin.md``.
"""

from __future__ import annotations

from readtrack.base.atomic import atomic_write
from readtrack.base.errors import PluginError
from readtrack.base.words import plural
from readtrack.plugins.declaration import STAGES, Exercise, PaperPlugin, declare, hookimpl
from readtrack.plugins.knobs import knob
from readtrack.plugins.lineages import Lineage, Member, lineage_members
from readtrack.plugins.records import BenchRow
from readtrack.practice import mistake
from readtrack.runner.bench import BenchHarness
from readtrack.runner.context import TOLERANCES, RunContext, dtype_name

__all__ = [
    "STAGES",
    "TOLERANCES",
    "BenchHarness",
    "BenchRow",
    "Exercise",
    "Lineage",
    "Member",
    "PaperPlugin",
    "PluginError",
    "RunContext",
    "atomic_write",
    "declare",
    "dtype_name",
    "hookimpl",
    "knob",
    "lineage_members",
    "mistake",
    "plural",
]
