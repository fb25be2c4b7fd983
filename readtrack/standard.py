"""``readtrack check-plugin NAME``: the plugin standard (``plugins/README.md``) as a check an author runs.

Every plugin, built-in, installed or in a plugin folder, is held to the same rules; each gives one line,
passed (✓), failed (✗) or not applicable (–), and the command fails when one fails:

- **stages**: ``check``, ``train`` and ``bench`` are defined and pass, ``--quick`` on the CPU;
- **target**: the train stage asserts at least one target (``ctx.target``): a claim, not a printout;
- **baseline**: the bench measures at least one row against a baseline (``baseline=True``);
- **quick**: the quick run takes at most ``QUICK_BUDGET_S`` seconds of CPU time (what CI runs, on 2 cores),
  user + system of this process and its children while the stages run (`cpu_seconds`): a loaded machine
  stretches the wall time, not the CPU time, so the verdict is the same on a busy machine as on an idle
  one; the wall time is said beside it;
- **page**: finding the plugin (its page, ``__init__.py``) and reading its knobs imports no torch, checked
  in a fresh process: listing, marking and the TUI's start never import it;
- **knobs**: a ``config.py`` whose ``Config`` is a frozen dataclass of valid knobs (``readtrack.api.knob``);
- **mistakes**: at least one exercise declared, each with a wrong solution in ``mistakes.py``; the model
  solution passes the check and every mistake fails it, naming the comparison its ``fails=`` says;
- **calibration**: a calibration record of the plugin's code as it is (``readtrack calibrate NAME``).

Runs made here are never recorded (history is the reader's). ``plugins/README.md`` lists the same rules
(a test keeps the two in step).
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from readtrack.base.errors import ReadtrackError, one_line
from readtrack.base.processes import python_module
from readtrack.base.words import plural
from readtrack.plugins.declaration import STAGES

if TYPE_CHECKING:
    from readtrack.plugins.records import RunRecord

#: At most this many seconds of CPU time for ``readtrack run NAME --quick --device cpu`` (plugins/README.md,
#: "Budgets"): one thread, so about as many seconds of wall time on an idle machine.
QUICK_BUDGET_S = 15.0

#: The rules, in the order they are checked and printed: (name, what it asks).
RULES = {
    "stages": "check, train and bench are defined and pass (--quick, on the CPU)",
    "target": "the train stage asserts at least one target",
    "baseline": "the bench has a baseline row",
    "quick": f"the quick run takes at most {QUICK_BUDGET_S:g} s of CPU time",
    "page": "the page and config.py import no torch",
    "knobs": "config.py declares valid knobs",
    "mistakes": "every exercise has a mistake the check catches; the model solution passes",
    "calibration": "a calibration of the code as it is",
}


@dataclass(frozen=True)
class Finding:
    """One rule's verdict: ``ok`` True (kept), False (broken) or None (could not be judged: it needs a
    part that failed before it), and one line saying why."""

    rule: str
    ok: bool | None
    detail: str

    def line(self) -> str:
        mark = {True: "✓", False: "✗", None: "–"}[self.ok]
        return f"{mark} {self.rule}: {self.detail}"


def cpu_seconds() -> float:
    """The CPU time (user + system) this process and its children that ended have used so far: the run is
    this process's (`run_plugin` runs the stages in it, on the calling thread and torch's), and a process a
    stage starts and waits for counts as a child; the difference of two readings is the run's CPU time."""
    used = os.times()
    return used.user + used.system + used.children_user + used.children_system


def quick_finding(cpu_s: float, wall_s: float, budget_s: float = QUICK_BUDGET_S) -> Finding:
    """The quick rule, judged on the quick run's CPU time, its wall time said beside it."""
    over = "" if cpu_s <= budget_s else f", over {budget_s:g} s: make the quick run smaller"
    return Finding("quick", cpu_s <= budget_s, f"{cpu_s:.1f} s of CPU here (wall {wall_s:.1f} s){over}")


def check_plugin(
    name: str, *, progress: Callable[[str], None] | None = None, quick_budget_s: float = QUICK_BUDGET_S
) -> list[Finding]:
    """Judge plugin ``name`` by every rule of ``RULES``, in that order; ``progress`` hears what is being
    done; ``quick_budget_s`` is the quick rule's CPU seconds (``QUICK_BUDGET_S``). Raises UsageError for an
    unknown plugin and PluginError for one that cannot be loaded at all."""
    from readtrack.history import calibration
    from readtrack.plugins import discovery
    from readtrack.runner.run import run_plugin

    say = progress or (lambda _: None)
    plugin = discovery.load_plugin(name)
    say("running check, train and bench (--quick, cpu)")
    started, cpu_started = time.perf_counter(), cpu_seconds()
    record = run_plugin(name, device="cpu", quick=True, keep_history=False)
    cpu, took = cpu_seconds() - cpu_started, time.perf_counter() - started
    missing = [s for s in STAGES if not callable(getattr(plugin.experiments, s, None))]
    found = run_findings(record, missing, f"{plugin.info.experiments}.py")
    found.append(quick_finding(cpu, took, quick_budget_s))
    say("finding the plugin and reading its knobs in a fresh process")
    found.append(_torch_free(name))
    found.append(_knobs(plugin.info.package))
    say("grading the model solution and every mistake")
    found.append(_mistakes(name))
    found.append(_calibration(name, calibration.package_folder(plugin.info.package)))
    return found


def run_findings(
    record: RunRecord, missing: Sequence[str] = (), where: str = "experiment.py"
) -> list[Finding]:
    """The stages, target and baseline rules, judged from a quick run's ``record`` (``missing``: the stages
    ``where`` does not define). ``tests/plugins/test_plugins_contract.py`` holds the built-ins to them."""
    ran = {s.stage: s for s in record.stages if s.verdict() != "skipped"}
    bad = [
        f"{s.stage} {s.verdict()}" + (f" ({first_line(s.error)})" if s.error else "")
        for s in ran.values()
        if s.verdict() != "passed"
    ]
    if missing:
        stages = Finding("stages", False, f"{' and '.join(missing)} not defined in {where}")
    else:
        stages = Finding("stages", not bad, "; ".join(bad) or "check, train and bench pass")

    train, bench = (None if stage in missing else ran.get(stage) for stage in ("train", "bench"))
    if train is None:
        target = Finding("target", False, "no train stage")
    elif train.targets:
        target = Finding("target", True, f"{plural(len(train.targets), 'target')} asserted")
    else:
        only = f" ({plural(len(train.measured), 'number')} reported, none asserted)" if train.measured else ""
        target = Finding("target", False, f"no target{only}: ctx.target(name, value, threshold)")
    if bench is None:
        baseline = Finding("baseline", False, "no bench stage")
    else:
        rows, baselines = len(bench.bench), sum(r.baseline for r in bench.bench)
        detail = f"{plural(rows, 'row')}, {plural(baselines, 'baseline')}" + (
            "" if baselines else ": measure(..., baseline=True)"
        )
        baseline = Finding("baseline", baselines > 0, detail)
    return [stages, target, baseline]


def _torch_free(name: str) -> Finding:
    probe = subprocess.run(  # a fresh process, importing this process's readtrack whatever the cwd holds
        python_module("readtrack.plugins.page_probe", name), capture_output=True, text=True, timeout=120
    )
    if probe.returncode != 0:
        return Finding("page", False, first_line(probe.stderr.strip().splitlines()[-1:] or ["it failed"]))
    heavy = json.loads(probe.stdout.strip().splitlines()[-1])
    if heavy:
        return Finding(
            "page", False, f"finding the plugin imports {' and '.join(heavy)}: import torch in model.py and "
            "experiment.py only, never in __init__.py or config.py"
        )  # fmt: skip
    return Finding("page", True, "finding the plugin and its knobs imports no torch")


def _knobs(package: str) -> Finding:
    from readtrack.plugins import knobs

    try:
        config = knobs.config_class(package)
        if config is None:
            return Finding(
                "knobs", False, "no config.py: declare the experiment's knobs (readtrack.api.knob)"
            )
        found = knobs.knobs_of(config)
    except (ReadtrackError, TypeError, ValueError) as err:
        return Finding("knobs", False, str(err) if isinstance(err, ReadtrackError) else one_line(err))
    return Finding("knobs", True, f"{plural(len(found), 'knob')}: {', '.join(k.name for k in found)}")


def _mistakes(name: str) -> Finding:
    from readtrack.practice.mistakes import judged

    wrong, problems = judged(name)
    if problems:
        return Finding("mistakes", False, "; ".join(problems))
    return Finding("mistakes", True, f"{plural(len(wrong), 'mistake')} caught, the model solution passes")


def _calibration(name: str, folder: Path | None) -> Finding:
    from readtrack.history import calibration_state

    if folder is None:
        return Finding("calibration", False, "the plugin has no folder to keep a record in")
    state = calibration_state.state(name, folder)
    return Finding("calibration", state.kind == "fresh", state.line().removeprefix(f"{name}: "))


def first_line(text: str | list[str]) -> str:
    """The first non-empty line of ``text`` (or of the lines given)."""
    lines = text if isinstance(text, list) else text.strip().splitlines()
    return next((line.strip() for line in lines if line.strip()), "")


def as_json(findings: list[Finding]) -> list[dict[str, Any]]:
    """What ``check-plugin --json`` prints: one object per rule."""
    return [asdict(f) for f in findings]
