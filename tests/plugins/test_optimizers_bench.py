"""The optimizer family bench: its members are the lineage's, each optimizer is its paper's (its check
catches one that is not), it judges Schedule-Free where the paper does, and its claim fails when Adam's arm
is plain SGD."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
import torch
from readtrack_plugins.optimizers_bench import experiment, model
from readtrack_plugins.optimizers_bench.config import Config

from readtrack.plugins import discovery
from readtrack.plugins.lineages import declared
from readtrack.testing import check_catches, failures, reported_claim, run_stage

EXPERIMENT = "readtrack_plugins.optimizers_bench.experiment"


def test_every_member_of_the_optimizers_lineage_but_l_bfgs_is_on_the_bench() -> None:
    family = declared(discovery.discovery(include_user=False).hooks).lineages["optimizers"]
    assert family.lineage.bench == "optimizers-bench"
    # L-BFGS is a full-batch method: it stands beside the family on its own problem
    assert {m.key for m in family.members} == {*model.MEMBERS, "lbfgs"}
    adam = next(m for m in family.members if m.key == model.ADAM)
    assert adam.improves == (model.SGD,) and adam.source == "bench" and adam.number.startswith(model.ADAM)


def test_the_state_each_optimizer_keeps() -> None:
    cfg = Config()
    kept = {}
    for member in model.MEMBERS:
        p = torch.zeros(1000, requires_grad=True)
        p.grad = torch.ones(1000)
        opt, _ = model.optimizer(
            member, [p], 1e-3, steps=cfg.steps, warmup=cfg.warmup, momentum=cfg.momentum, decay=cfg.decay
        )
        opt.step()
        kept[member] = model.state_bytes(opt)
    assert kept[model.SGD] == 4000  # the momentum buffer
    assert 8000 <= kept[model.ADAM] == kept[model.ADAMW] <= 8008  # two moments (and Adam's step count)
    assert kept[model.SCHEDULE_FREE] == 8000  # z and the second moment: no first moment


def _swapped(
    monkeypatch: pytest.MonkeyPatch, member: str, make: Callable[[list[torch.Tensor], float], Any]
) -> None:
    real = experiment._optimizer

    def optimizer(name: str, params: list[torch.Tensor], lr: float, cfg: Config) -> Any:
        return (make(params, lr), None) if name == member else real(name, params, lr, cfg)

    monkeypatch.setattr(f"{EXPERIMENT}._optimizer", optimizer)


@pytest.mark.parametrize(
    ("member", "make", "caught_by"),
    [
        (  # Nesterov's momentum, not the heavy ball the bench's SGD is
            model.SGD,
            lambda p, lr: torch.optim.SGD(p, lr=lr, momentum=0.9, nesterov=True),
            "SGD with momentum, step 1",
        ),
        (  # Adam given an L2 penalty: the mistake AdamW's paper is about
            model.ADAM,
            lambda p, lr: torch.optim.Adam(p, lr=lr, weight_decay=0.1),
            "Adam, step 2",  # the first step is sign(g + λθ)·lr: mostly sign(g)·lr, as Adam's own
        ),
        (  # "AdamW" as Adam + L2: the decay goes through the normalised step
            model.ADAMW,
            lambda p, lr: torch.optim.Adam(p, lr=lr, weight_decay=0.1),
            "AdamW: a zero gradient shrinks θ by exactly lr·λ",
        ),
    ],
)
def test_the_check_catches_an_optimizer_that_is_not_its_papers(
    monkeypatch: pytest.MonkeyPatch, member: str, make: Callable[..., Any], caught_by: str
) -> None:
    _swapped(monkeypatch, member, make)
    check_catches("optimizers-bench", caught_by)


def test_the_check_catches_schedule_free_judged_at_its_gradient_point(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(f"{EXPERIMENT}.at_eval_point", lambda opt: contextlib.nullcontext())
    check_catches("optimizers-bench", "Schedule-Free is judged at x")


def test_the_claim_fails_when_adams_arm_is_plain_sgd(monkeypatch: pytest.MonkeyPatch) -> None:
    # "Adam" trained as SGD without momentum, at SGD's rate and schedule: no per-weight step size, not even
    # the heavy ball, so it ends above SGD with momentum and the claim (Adam below it) must fail
    real = experiment._optimizer

    def optimizer(name: str, params: list[torch.Tensor], lr: float, cfg: Config) -> Any:
        if name == model.ADAM:
            return real(model.SGD, params, experiment.QUICK_RATE[model.SGD], replace(cfg, momentum=0.0))
        return real(name, params, lr, cfg)

    monkeypatch.setattr(f"{EXPERIMENT}._optimizer", optimizer)
    monkeypatch.setattr(f"{EXPERIMENT}.MEMBERS", (model.SGD, model.ADAM))  # the claim's two rows only
    result = run_stage("optimizers-bench", "train")
    claim = reported_claim(result, f"{model.ADAM}: held-out loss, SGD with momentum's − Adam's")
    assert claim.value < 0 and not claim.passed, failures(result)  # reported at quick size: its number
    (family,) = result.targets  # asserted: the best per-weight optimizer's, here the only one, "Adam"
    assert family.name.startswith("held-out loss, SGD with momentum's − the best per-weight optimizer's")
    assert family.value == claim.value and not family.passed and result.verdict() == "failed"
