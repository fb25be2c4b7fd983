"""An exercise's function gets copies of its tensor arguments (`readtrack.practice.grading`): one that
changes an argument in place, as an optimizer's step is often written, changes a copy the caller never sees.
When the model solution does it, the exercise is at fault: practice and ``check-plugin`` name the function
and the argument (``EXERCISE: sgd_step changes its argument param in place ...``) instead of a bare failing
comparison; when the learner's code does it, the learner is told the same. A plugin whose step returns the
new value is graded as before, with nothing said, and so is an edit in place whose tensor is returned. The
subjects are small plugins of the user's folder."""

from __future__ import annotations

import json
from pathlib import Path

import torch
from cli_runner import run_cli
from outside_plugins import plugin_files, write_folder_plugin

from readtrack import practice
from readtrack.plugins import discovery
from readtrack.practice.mistakes import judged

INIT = '''
"""An overview of gradient descent optimization algorithms (Ruder, arXiv 1609.04747): its plainest step.

Claim: repeated steps p ← p − lr·∇ reach the minimum of a quadratic.
"""

from readtrack.api import Exercise, declare

readtrack_paper_plugins = declare(
    __name__,
    name={name!r},
    title="An overview of gradient descent optimization algorithms",
    arxiv="1609.04747",
    claim="repeated steps reach the minimum of a quadratic",
    devices=("cpu",),
    stage_timeout=120.0,
    exercises=[
        Exercise(
            target="sgd_step",
            statement="{statement}",
            hints=["p - lr * grad"],
            lines=1,
        )
    ],
)
'''

#: The step written as optimizers write it: in place, returning nothing.
IN_PLACE = {
    "model.py": '''
"""One gradient descent step."""

import torch


def sgd_step(param: torch.Tensor, grad: torch.Tensor, lr: float) -> None:
    """param ← param − lr·grad, in place."""
    param.sub_(lr * grad)
''',
    "experiment.py": '''
"""check: one step against p − lr·g; train: steps reach the minimum of |w − t|²; bench: a step."""

import torch

from readtrack.api import RunContext

from .config import Config
from .model import sgd_step


def check(ctx: RunContext) -> None:
    p, g = torch.ones(4, dtype=torch.float64), torch.arange(4.0, dtype=torch.float64)
    sgd_step(p, g, 0.5)
    ctx.check_close("sgd_step vs p - lr g", p, 1 - 0.5 * torch.arange(4.0, dtype=torch.float64))


def train(ctx: RunContext) -> None:
    cfg = ctx.config(Config)
    w, t = torch.zeros(2, dtype=torch.float64), torch.tensor([1.0, -2.0], dtype=torch.float64)
    for _ in range(cfg.steps):
        sgd_step(w, 2 * (w - t), cfg.lr)
    ctx.target("distance to the minimum", float((w - t).norm()), 0.01, higher_is_better=False)


def bench(ctx: RunContext) -> None:
    p, g = torch.randn(4096), torch.randn(4096)
    ctx.bench.measure("p - lr g", lambda: p - 0.1 * g, baseline=True)
    ctx.bench.measure("sgd_step", lambda: sgd_step(p, g, 0.0))
''',
    "mistakes.py": '''
"""A wrong step: its check must catch it."""

from readtrack.api import mistake


@mistake("sgd_step", fails="sgd_step vs")
def ascent(param, grad, lr):
    """Climbs instead of descending."""
    param.add_(lr * grad)
''',
}

#: The same step as an exercise takes it: the new value returned.
RETURNED = {
    "model.py": '''
"""One gradient descent step."""

import torch


def sgd_step(param: torch.Tensor, grad: torch.Tensor, lr: float) -> torch.Tensor:
    """param − lr·grad, a new tensor."""
    return param - lr * grad
''',
    "experiment.py": IN_PLACE["experiment.py"]
    .replace("    sgd_step(p, g, 0.5)\n", "    p = sgd_step(p, g, 0.5)\n")
    .replace("        sgd_step(w, 2 * (w - t), cfg.lr)\n", "        w = sgd_step(w, 2 * (w - t), cfg.lr)\n"),
    "mistakes.py": '''
"""A wrong step: its check must catch it."""

from readtrack.api import mistake


@mistake("sgd_step", fails="sgd_step vs")
def ascent(param, grad, lr):
    """Climbs instead of descending."""
    return param + lr * grad
''',
}


def write(user_dir: Path, name: str, files: dict[str, str], statement: str) -> Path:
    init = INIT.format(name=name, statement=statement)
    texts = {file: text.lstrip() for file, text in {"__init__.py": init, **files}.items()}
    folder = write_folder_plugin(user_dir, name, files={"config.py": plugin_files()["config.py"], **texts})
    discovery.discover(refresh=True)
    return folder


NOTE = (
    "sgd_step changes its argument param in place; exercises get copies of their arguments (the caller "
    "never sees such a change), so return the new value instead"
)


def test_a_model_solution_that_changes_its_argument_in_place_is_named_as_the_exercises_fault(
    user_dir: Path,
) -> None:
    folder = write(user_dir, "descent", IN_PLACE, "sgd_step(param, grad, lr): param - lr * grad, in place.")
    solved = practice.check("descent", folder / "model.py", isolated=False, record=False)
    assert solved.status == "failed" and solved.notes == [f"EXERCISE: {NOTE}"], solved.lines()
    assert str(solved).splitlines()[1] == f"note: EXERCISE: {NOTE}"  # first after the verdict
    _, problems = judged("descent")
    assert problems[0].startswith(f"EXERCISE: {NOTE} (the model solution fails its own check: ")


def test_check_plugin_names_the_in_place_exercise(user_dir: Path) -> None:
    write(user_dir, "descent", IN_PLACE, "sgd_step(param, grad, lr): param - lr * grad, in place.")
    done = run_cli("check-plugin", "descent", "--json")
    assert done.returncode == 1, done.stderr
    (mistakes,) = [f for f in json.loads(done.stdout) if f["rule"] == "mistakes"]
    assert mistakes["ok"] is False and mistakes["detail"].startswith(f"EXERCISE: {NOTE}"), mistakes


def test_a_learners_step_in_place_is_named_and_a_returned_one_says_nothing(user_dir: Path) -> None:
    write(user_dir, "descent", RETURNED, "sgd_step(param, grad, lr) returns param - lr * grad.")
    solved = practice.check("descent", user_dir / "descent" / "model.py", isolated=False, record=False)
    assert solved.passed and solved.notes == [], solved.lines()
    assert judged("descent")[1] == []

    def in_place(param: torch.Tensor, grad: torch.Tensor, lr: float) -> torch.Tensor | None:
        param.sub_(lr * grad)
        return None

    mine = practice.check("descent", in_place, isolated=False, record=False)
    assert not mine.passed and mine.notes[0] == NOTE, mine.lines()

    def in_place_returned(param: torch.Tensor, grad: torch.Tensor, lr: float) -> torch.Tensor:
        return param.sub_(lr * grad)  # the edit reaches the caller as the value returned: nothing lost

    returned = practice.check("descent", in_place_returned, isolated=False, record=False)
    assert returned.passed and returned.notes == [], returned.lines()


def test_the_note_reaches_the_learner_from_the_worker_process(user_dir: Path) -> None:
    """``readtrack practice NAME --check`` grades in a process of its own: the note comes back with it."""
    folder = write(user_dir, "descent", IN_PLACE, "sgd_step(param, grad, lr): param - lr * grad, in place.")
    solved = practice.check("descent", folder / "model.py", record=False)
    assert solved.notes == [f"EXERCISE: {NOTE}"], solved.lines()
