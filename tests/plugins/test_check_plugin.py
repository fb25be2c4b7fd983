"""`readtrack check-plugin`: the plugin standard as a check, each rule able to fail, and the same rules as
plugins/README.md's. The subject is `new-plugin`'s scaffold with every mistake the issue found made at once:
no bench stage, a train stage that asserts nothing, torch imported by the page, no config.py (settings
written into the stage), a "mistake" the check cannot catch (the right answer), no calibration. A config.py
that does not load breaks the plugin itself, one line naming the file (tests/plugins/test_outside_plugins.py).
The whole journey, the CLI included, is tests/plugins/test_writing_a_plugin.py."""

from __future__ import annotations

import re
from pathlib import Path

from readtrack.plugins import discovery
from readtrack.plugins.scaffold import new_plugin
from readtrack.standard import RULES, Finding, check_plugin

REPO = Path(__file__).resolve().parents[2]


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, (path, old)
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_every_rule_fails_on_the_mistake_it_is_about(user_dir: Path, catalog_file: Path) -> None:
    new_plugin("sloppy", catalog_file)
    folder = user_dir / "sloppy"
    experiment = (folder / "experiment.py").read_text(encoding="utf-8")
    (folder / "experiment.py").write_text(experiment[: experiment.index("def bench(")], encoding="utf-8")
    _edit(folder / "experiment.py", "ctx.target(", "ctx.measured(")  # same arguments: reported, not asserted
    _edit(folder / "experiment.py", '0.1, higher_is_better=False, detail="TODO: the claim"', 'detail="TODO"')
    _edit(
        folder / "__init__.py",
        "from readtrack.api import",
        "import torch  # noqa: F401\nfrom readtrack.api import",
    )
    (folder / "config.py").unlink()  # its settings written into the stage instead: nothing to turn
    _edit(folder / "experiment.py", "from .config import Config\n", "")
    _edit(
        folder / "experiment.py",
        "cfg = ctx.config(Config)",
        "cfg = SimpleNamespace(steps=150, batch=64, hidden=32, lr=3e-3)",
    )
    _edit(folder / "experiment.py", "import torch\n", "from types import SimpleNamespace\n\nimport torch\n")
    (folder / "mistakes.py").write_text(
        (folder / "mistakes.py").read_text(encoding="utf-8")
        + '\n\n@mistake("Idea.forward", fails="Idea vs the reference")\n'
        + "def forward_that_is_right(self: Idea, x: torch.Tensor) -> torch.Tensor:\n"
        + '    """The model solution itself: no check can catch it."""\n'
        + "    return x + self.w2(F.gelu(self.w1(x)))\n",
        encoding="utf-8",
    )
    discovery.discover(refresh=True)

    found = {f.rule: f for f in check_plugin("sloppy")}
    assert list(found) == list(RULES)  # every rule judged, in the documented order
    verdicts = {rule: f.ok for rule, f in found.items()}
    assert verdicts == {
        "stages": False,
        "target": False,
        "baseline": False,
        "quick": True,
        "page": False,
        "knobs": False,
        "mistakes": False,
        "calibration": False,
    }, [f.line() for f in found.values()]
    assert found["stages"].detail.startswith("bench not defined in experiment.py")
    assert (
        found["target"].detail
        == "no target (1 number reported, none asserted): ctx.target(name, value, threshold)"
    )
    assert found["baseline"].detail == "no bench stage"
    assert re.match(
        r"finding the plugin imports (numpy and )?torch: import torch in model.py", found["page"].detail
    )
    assert found["knobs"].detail == "no config.py: declare the experiment's knobs (readtrack.api.knob)"
    assert (
        found["mistakes"].detail == "mistake forward_that_is_right was not caught: the check passed with it"
    )
    assert found["calibration"].detail.startswith("not calibrated (no calibration.json)")
    for finding in found.values():
        assert "\n" not in finding.line()


def test_plugins_readme_lists_the_rules_check_plugin_checks() -> None:
    """plugins/README.md's list under "What `readtrack check-plugin` checks" is RULES, word for word."""
    readme = (REPO / "plugins" / "README.md").read_text(encoding="utf-8")
    section = readme.split("## What `readtrack check-plugin` checks", 1)[1].split("\n## ", 1)[0]
    listed = dict(re.findall(r"^- \*\*(\w+)\*\*: (.+?)\.?$", section, flags=re.MULTILINE))
    assert listed == RULES


#: A quick train stage that waits (wall time, next to no CPU) or computes (CPU time) for ``SECONDS``.
SLEEPS = "    time.sleep(SECONDS)\n"
BURNS = (
    "    t0 = time.process_time()\n    while time.process_time() - t0 < SECONDS:\n        sum(range(1000))\n"
)


def _quick_of(user_dir: Path, folder: str, stage_body: str, seconds: float, budget: float) -> Finding:
    from outside_plugins import plugin_files, write_folder_plugin

    experiment = plugin_files(folder)["experiment.py"]
    experiment = experiment.replace("def train(ctx: RunContext) -> None:\n", "def train(ctx):\n" + stage_body)
    experiment = experiment.replace(
        "import torch\n", f"import time\n\nimport torch\n\nSECONDS = {seconds}\n", 1
    )
    write_folder_plugin(user_dir, folder, files={"experiment.py": experiment})
    discovery.discover(refresh=True)
    import torch  # noqa: F401  (imported first: the small budget then measures the stages, not the import)

    (quick,) = [f for f in check_plugin(folder, quick_budget_s=budget) if f.rule == "quick"]
    return quick


def test_the_quick_rule_counts_cpu_time_and_says_the_wall_time_beside_it(user_dir: Path) -> None:
    """A quick run that waits 3 s keeps a 2 s budget (its CPU time is small; a loaded machine stretches the
    wall time alone), saying its wall time; one that computes for 3 s breaks it."""
    waits = _quick_of(user_dir, "waits", SLEEPS, 3.0, budget=2.0)
    assert waits.ok is True, waits.line()
    said = re.fullmatch(r"(\d+\.\d) s of CPU here \(wall (\d+\.\d) s\)", waits.detail)
    assert said, waits.detail
    cpu, wall = map(float, said.groups())
    assert cpu < 2.0 <= 3.0 <= wall
    burns = _quick_of(user_dir, "burns", BURNS, 3.0, budget=2.0)
    assert burns.ok is False, burns.line()
    assert re.fullmatch(
        r"(\d+\.\d) s of CPU here \(wall \d+\.\d s\), over 2 s: make the quick run smaller", burns.detail
    )
    assert float(burns.detail.split(" s of CPU")[0]) >= 3.0


def test_a_plugin_without_exercises_breaks_the_mistakes_rule_and_every_rule_is_still_judged(
    user_dir: Path, catalog_file: Path
) -> None:
    """A plugin that declares no exercise stopped check-plugin with practice's "no practice exercise" error,
    before any rule was said; it breaks the mistakes rule alone."""
    new_plugin("bare", catalog_file)
    init = user_dir / "bare" / "__init__.py"
    text = init.read_text(encoding="utf-8")
    start = text.index("    exercises=[")
    end = text.index("\n    ],", start) + len("\n    ],\n")
    init.write_text(text[:start] + text[end:], encoding="utf-8")
    discovery.discover(refresh=True)

    found = {f.rule: f for f in check_plugin("bare")}
    assert list(found) == list(RULES)
    assert found["mistakes"] == Finding(
        "mistakes", False, "no exercise declared: declare(..., exercises=[Exercise(target=...)])"
    )
    assert found["stages"].ok and found["knobs"].ok, [f.line() for f in found.values()]
