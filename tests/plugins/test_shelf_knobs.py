"""Every built-in plugin's knobs (issue 55, item 1), held to the same rules: a ``config.py`` that imports no
torch, knobs whose defaults are values their own ``--set`` accepts, the headline knobs present (the training
budget, the ablation switch the claim is about), and every knob read by the plugin's code (a knob nobody reads
would turn nothing). The plugins still without knobs are a ledger that only shrinks."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from readtrack.plugins import knobs

REPO = Path(__file__).resolve().parents[2]
PLUGINS = REPO / "plugins"
BUILTIN = sorted(p.parent.name for p in PLUGINS.glob("*/experiment.py"))
WITH_KNOBS = [name for name in BUILTIN if (PLUGINS / name / "config.py").exists()]

#: Plugins whose experiment has no knobs yet (issue 55): it only shrank, and is empty: every plugin has knobs.
WITHOUT_KNOBS: frozenset[str] = frozenset()

#: Plugins whose ablation switch is a number, not a choice: the knob.
NUMBER_SWITCH = {
    "sliding_window_attention": "depth",
    "mixtral": "experts",
    "transformer_xl": "memory",
    "lbfgs": "m",
    "stable_diffusion": "guidance",
    "normalization_bench": "contrast",  # 0: every image at one contrast, what batch statistics of 2 cope with
    "optimizers_bench": "momentum",  # 0: SGD without momentum, the family's member before the heavy ball
}

#: The training budget every experiment exposes, by these names.
BUDGET = ("steps", "lr")
#: Plugins whose experiment trains nothing, with why.
NO_TRAINING = {"explain_neurons": "the explainer, simulator and scorer are programs: nothing learns"}
#: Plugins whose budget is not steps and one rate, with their budget's knobs and why.
OTHER_BUDGET = {
    "normalization_bench": (
        ("images", "sequences"),
        "a family bench: the same examples at every batch size (steps: examples / batch), and each layer at "
        "each batch size its own best rate of one grid (one rate for all would favour some layers)",
    )
}


def config_of(name: str) -> type:
    config = knobs.config_class(f"readtrack_plugins.{name}")
    assert config is not None, f"plugins/{name}/config.py has no Config dataclass"
    return config


def test_the_plugins_without_knobs_are_the_ledger() -> None:
    without = {name for name in BUILTIN if name not in WITH_KNOBS}
    assert without == WITHOUT_KNOBS, (
        f"given knobs (take them out of WITHOUT_KNOBS): {sorted(WITHOUT_KNOBS - without)}; "
        f"without knobs and not in the ledger: {sorted(without - WITHOUT_KNOBS)}"
    )


def test_no_config_imports_torch() -> None:
    """``readtrack knobs`` and ``--set``'s check read ``config.py`` before torch is imported."""
    probe = "import sys\nfrom readtrack.plugins import knobs\n"
    probe += "".join(f"knobs.knobs_of(knobs.config_class('readtrack_plugins.{n}'))\n" for n in WITH_KNOBS)
    probe += "print(sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'numpy', 'matplotlib')))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("name", WITH_KNOBS)
def test_the_knobs_are_whole_and_their_defaults_are_allowed_values(name: str) -> None:
    found = knobs.knobs_of(config_of(name))
    names = [k.name for k in found]
    budget = OTHER_BUDGET[name][0] if name in OTHER_BUDGET else BUDGET
    missing = [b for b in budget if b not in names and name not in NO_TRAINING]
    assert not missing, f"{name}: no {', '.join(missing)} knob (the training budget)"
    if name in NUMBER_SWITCH:
        assert NUMBER_SWITCH[name] in names, f"{name}: no {NUMBER_SWITCH[name]} knob (its ablation switch)"
    else:
        assert any(k.choices or k.type == "bool" for k in found), (
            f"{name}: no ablation switch (a knob with choices, or a bool)"
        )
    for k in found:
        assert k.help.strip(), f"{name}.{k.name}: no help line"
        for quick in (True, False):
            default = k.default(quick)
            assert k.parse(knobs.value_text(default)) == default, f"{name}.{k.name}: default {default!r}"
        if k.choices:
            assert k.full in k.choices and k.quick in k.choices


@pytest.mark.parametrize("name", WITH_KNOBS)
def test_a_width_its_heads_must_divide_takes_only_such_widths(name: str) -> None:
    """A width knob whose help names its attention heads ("4 heads") allows only widths they divide: a
    ``--set d_model=18`` for 4 heads is refused at once (exit 2), not a reshape error minutes into a run."""
    for k in knobs.knobs_of(config_of(name)):
        heads = re.search(r"\b(\d+) heads\b", k.help)
        if k.type != "int" or heads is None or "when" in k.help or k.name in ("heads", "groups"):
            continue  # vit's ViT falls back to one head at an odd width: any width runs
        n = int(heads.group(1))
        if k.choices:
            assert all(c % n == 0 for c in k.choices), f"{name}.{k.name}: a choice {n} heads do not divide"
        else:
            assert k.multiple_of and k.multiple_of % n == 0, f"{name}.{k.name}: say multiple_of={n}"


@pytest.mark.parametrize("name", WITH_KNOBS)
def test_every_knob_is_read_by_the_plugins_code(name: str) -> None:
    """Each knob appears as ``cfg.<knob>`` in the plugin's code (``config.py`` aside)."""
    code = "\n".join(p.read_text() for p in (PLUGINS / name).glob("*.py") if p.name != "config.py")
    read = set(re.findall(r"\bcfg\.(\w+)", code))
    unread = [k.name for k in knobs.knobs_of(config_of(name)) if k.name not in read]
    assert not unread, f"{name}: knobs never read as cfg.<knob>: {', '.join(unread)}"
    assert "ctx.config(Config)" in code, f"{name}: the experiment never reads its Config"


def test_the_manual_names_the_plugins_with_knobs() -> None:
    page = (REPO / "docs" / "plugins.md").read_text()  # the manual's playground section
    text = " ".join(page.split())
    found = re.search(r"Today (\d+) of the (\d+) built-in plugins have knobs[^:]*: ([^;]+);", text)
    assert found, "the manual's playground section (docs/plugins.md) names the plugins with knobs"
    listed = [n.strip(" `") for n in found[3].split(",")]
    assert (int(found[1]), int(found[2])) == (len(WITH_KNOBS), len(BUILTIN))
    assert listed == sorted(name.replace("_", "-") for name in WITH_KNOBS)
