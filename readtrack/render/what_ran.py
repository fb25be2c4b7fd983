"""Names that say what ran (issue 94, item 12). A plugin's numbers and curves name its arms ("RMSNorm: test
loss", "training loss: RMSNorm (its best lr)"), and an ablation switch declared with ``arm=`` puts another
method in one arm's place (rmsnorm's ``norm=layer`` runs LayerNorm there). Tables and pictures name what
ran, not the arm's default:

- one setting (a run's report): the arm's name is replaced by the method that ran, ``LayerNorm (norm=layer):
  test loss``;
- several settings side by side (a sweep's tables and pictures): by the switch, ``the norm arm: test loss``,
  and `roles` says in one line what that arm ran at each setting.

The knobs come from the plugin's ``config.py`` (torch-free); a plugin that cannot be found or read renames
nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from readtrack.plugins.knobs import Knob, knobs_of, settings_label, value_text
from readtrack.plugins.records import StageResult


def switches(plugin: str) -> list[Knob]:
    """The plugin's knobs that swap an arm's method (declared with ``arm=``); none when it has no config."""
    from readtrack.plugins import discovery

    try:
        config = discovery.plugin_config(plugin)
        return [k for k in knobs_of(config) if k.arm] if config is not None else []
    except Exception:  # an unknown, removed or broken plugin: its names stay as recorded
        return []


def ran_in(knob: Knob, value: Any) -> str:
    """What ran in ``knob``'s arm at ``value``: its ``means`` (else the value), then ``(norm=layer)``."""
    return f"{knob.meaning(value) or value_text(value)} ({knob.name}={value_text(value)})"


def swapped(knobs: Sequence[Knob], settings: Mapping[str, Any]) -> dict[str, str]:
    """``{arm: what ran in its place}`` for each switch whose value in ``settings`` is off its default."""
    return {
        k.arm: ran_in(k, settings[k.name])
        for k in knobs
        if k.arm and k.name in settings and settings[k.name] != k.full
    }


def roles(
    knobs: Sequence[Knob], settings: Sequence[Mapping[str, Any]], labels: Sequence[str] = ()
) -> tuple[dict[str, str], list[str]]:
    """For several settings side by side: ``{arm: "the norm arm"}`` for each switch some setting turns, and a
    line per such arm saying what it ran at which settings: ``the norm arm: RMSNorm (the defaults, steps=5),
    LayerNorm (norm=layer)``. ``labels`` name the settings (default: each one's ``KEY=VALUE`` words)."""
    names: dict[str, str] = {}
    lines: list[str] = []
    for k in knobs:
        if not k.arm or all(s.get(k.name, k.full) == k.full for s in settings):
            continue
        names[k.arm] = f"the {k.name} arm"
        where: dict[str, list[str]] = {}
        for n, one in enumerate(settings):
            value = one.get(k.name, k.full)
            said = k.meaning(value) or (k.arm if value == k.full else value_text(value))
            label = labels[n] if labels else settings_label(one)
            where.setdefault(said, []).append(label or "the defaults")
        ran = ", ".join(f"{said} ({', '.join(dict.fromkeys(at))})" for said, at in where.items())
        lines.append(f"the {k.name} arm: {ran}")
    return names, lines


def settings_of(label: str, knobs: Sequence[Knob]) -> dict[str, Any]:
    """The switches' values in a setting's label (``norm=layer steps=5``; "" for the defaults)."""
    by_name = {k.name: k for k in knobs}
    found: dict[str, Any] = {}
    for part in label.split():
        key, _, text = part.partition("=")
        if key in by_name:
            try:
                found[key] = by_name[key].parse(text)
            except Exception:  # a value this release's knob refuses: shown as recorded
                continue
    return found


def renamed(name: str, names: Mapping[str, str]) -> str:
    """``name`` with each arm named in ``names`` replaced (a whole word: ``nn.RMSNorm`` is not the arm)."""
    for arm, said in names.items():
        name = re.sub(rf"(?<![\w.]){re.escape(arm)}(?!\w)", said.replace("\\", "\\\\"), name)
    return name


def renamed_stage(stage: StageResult, names: Mapping[str, str]) -> StageResult:
    """A copy of ``stage`` whose targets, measured values and curves are named by what ran."""
    if not names:
        return stage
    return replace(
        stage,
        targets=[replace(t, name=renamed(t.name, names)) for t in stage.targets],
        measured=[replace(m, name=renamed(m.name, names)) for m in stage.measured],
        curves={renamed(n, names): points for n, points in stage.curves.items()},
    )
