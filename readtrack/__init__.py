"""readtrack: read machine-learning papers by running them.

Importing this package is cheap on purpose (no torch, textual or arxiv): the CLI starts from here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from readtrack.base.version import __version__

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from readtrack.plugins.discovery import LoadedPlugin
    from readtrack.plugins.records import RunRecord

__all__ = ["__version__", "hookimpl", "load_plugin", "plot", "run"]


def load_plugin(name: str) -> LoadedPlugin:
    """Find the paper plugin `name` (built-in, installed or user folder) and load it.

    `load_plugin("flashattention").implementation` is the plugin's implementation module (`model.py`).
    """
    from readtrack.plugins.discovery import load_plugin as _load

    return _load(name)


def run(
    name: str,
    *,
    set: Mapping[str, Any] | None = None,  # the CLI's --set
    seeds: Iterable[int] | None = None,
    quick: bool = True,
    device: str = "cpu",
    only: str | None = None,
    jobs: int | None = None,
) -> list[RunRecord]:
    """Run a plugin from Python (a notebook) and return its records, recorded in history as the CLI does.

    ``set`` turns knobs (``{"norm": "layer"}``); a list of values is a sweep (``{"lr": [1e-3, 1e-2]}``: every
    combination, the defaults added); ``seeds`` runs each setting on several seeds (default ``[0]``; each seed
    at most once: an empty list, or a seed given twice, is a ValueError). One run happens in this process;
    more in worker processes, ``jobs`` at a time. Values are checked as ``--set`` checks them.
    """
    from readtrack.batch import groups as batch
    from readtrack.batch import sweep
    from readtrack.plugins import discovery as plugins
    from readtrack.plugins import knobs
    from readtrack.runner import run as runner

    seed_list = list(seeds) if seeds is not None else [0]
    if not seed_list:
        raise ValueError("readtrack.run: seeds is empty: give at least one seed (the default is [0])")
    twice = sorted({seed for seed in seed_list if seed_list.count(seed) > 1})
    if twice:
        said = ", ".join(map(str, twice))
        raise ValueError(f"readtrack.run: seeds gives {said} more than once: each seed runs once")
    plugin = plugins.load_plugin(name)
    config = knobs.config_class(plugin.info.package)
    listed = {
        key: value if isinstance(value, (list, tuple)) else [value] for key, value in (set or {}).items()
    }
    pairs = [f"{key}={','.join(knobs.value_text(v) for v in value)}" for key, value in listed.items()]
    values = knobs.parse_settings(config, pairs, plugin.name)
    swept = any(len(v) > 1 for v in values.values())
    if not swept and len(seed_list) == 1:
        single = {key: v[0] for key, v in values.items()}
        return [
            runner.run_plugin(name, device=device, quick=quick, seed=seed_list[0], only=only, settings=single)
        ]
    arms = sweep.plan(plugin.name, config, quick, values)
    readers = sweep.plugin_knob_readers(plugin.info.package, plugin.info.experiments)
    planned = sweep.sweep_of(plugin.name, arms, seed_list, only, readers)  # knob-blind stages: defaults only
    settings = batch.RunSettings(device=device, quick=quick, only=only, knob_blind=planned.blind)
    outcomes = batch.run_batch(
        [], seed_list, settings, workers=jobs or batch.default_jobs(), arms=planned.arms,
        sweep_id=batch.new_group_id() if swept and planned.swept else None, arm_stages=planned.stages,
    )  # fmt: skip
    return [r for o in outcomes for r in o.runs]


def plot(name: str | None = None, *, records: Sequence[RunRecord] = (), ids: Sequence[str] = ()) -> Figure:
    """The matplotlib figure ``readtrack plot`` saves: of ``records`` (lines by setting, a band over seeds),
    else of ``name``'s runs ``ids`` (default: its newest run, group or sweep); ``fig.savefig`` keeps it."""
    from readtrack.render import pictures

    if records:
        return pictures.figure(pictures.by_setting(records))
    if name is None:
        raise TypeError("readtrack.plot: give a plugin name or records")
    return pictures.figure(pictures.chosen(name, ids))


def __getattr__(name: str) -> Any:
    # `readtrack.hookimpl` is pluggy's marker; resolved lazily so `import readtrack` stays light.
    if name == "hookimpl":
        from readtrack.plugins.markers import hookimpl

        return hookimpl
    raise AttributeError(f"module 'readtrack' has no attribute {name!r}")
