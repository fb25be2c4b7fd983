"""The weak-to-strong plugin: the confidence loss against a float64 reference on more shapes, the hardened
targets' balance, the α schedule, and checks that fail for unbalanced hardened targets, α on the wrong term
or a PGR with its denominator swapped."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from readtrack_plugins.weak_to_strong.experiment import _reference_confidence_loss
from readtrack_plugins.weak_to_strong.model import (
    alpha_schedule,
    confidence_loss,
    hardened_targets,
    make_splits,
    performance_gap_recovered,
)

from readtrack.testing import check_catches, failures, run_stage


@pytest.mark.parametrize(
    ("n", "prior", "alpha"), [(2, 0.5, 0.3), (13, 0.2, 0.75), (100, 0.65, 0.5), (3, 1.0, 0.9)]
)
def test_confidence_loss_and_its_gradient_equal_the_reference(n: int, prior: float, alpha: float) -> None:
    logits = torch.randn(n, 2, dtype=torch.float64, requires_grad=True)
    p1 = torch.full((n,), prior, dtype=torch.float64)
    weak = torch.stack([1 - p1, p1], dim=1)
    ours, ref = confidence_loss(logits, weak, alpha), _reference_confidence_loss(logits, weak, alpha)
    torch.testing.assert_close(ours, ref)
    torch.testing.assert_close(*(torch.autograd.grad(v, logits)[0] for v in (ours, ref)))


@pytest.mark.parametrize("prior", [0.1, 0.37, 0.5, 0.9])
def test_hardened_targets_are_one_hot_and_match_the_weak_prior(prior: float) -> None:
    logits = torch.randn(200, 2, dtype=torch.float64)
    p1 = torch.full((200,), prior, dtype=torch.float64)
    hard = hardened_targets(logits, torch.stack([1 - p1, p1], dim=1))
    assert torch.equal(hard.sum(dim=1), torch.ones(200, dtype=torch.float64))
    assert abs(float(hard[:, 1].mean()) - prior) <= 1 / 200 + 1e-12
    # the most class-1-leaning examples are the ones hardened to class 1
    p0 = logits.softmax(-1)[:, 0]
    assert float(p0[hard[:, 1] == 1].max()) <= float(p0[hard[:, 1] == 0].min())


def test_alpha_warms_up_then_stays_and_pgr_is_eq_1() -> None:
    assert [alpha_schedule(f, 0.5, 0.2) for f in (0.0, 0.05, 0.2, 1.0)] == [0.0, 0.125, 0.5, 0.5]
    assert performance_gap_recovered(0.6, 0.6, 0.9) == 0.0
    assert performance_gap_recovered(0.6, 0.9, 0.9) == 1.0
    assert torch.isclose(torch.tensor(performance_gap_recovered(0.6, 0.7, 0.9)), torch.tensor(1 / 3))


def test_splits_are_seeded_and_the_student_never_sees_the_weak_noise() -> None:
    (a, _, _), (b, _, _), (c, _, _) = make_splits(3, 50), make_splits(3, 50), make_splits(4, 50)
    assert torch.equal(a.h, b.h) and torch.equal(a.x_w, b.x_w) and not torch.equal(a.h, c.h)
    # h is a linear function of z alone; x_w − z is the weak supervisor's private noise
    assert not torch.allclose(a.x_w, a.z)


def unbalanced_targets(logits: torch.Tensor, weak_probs: torch.Tensor) -> torch.Tensor:
    """Broken: hardens at p = 0.5 instead of the threshold that matches the weak prior."""
    p0 = logits.softmax(dim=-1)[:, 0]
    return torch.stack([p0 >= 0.5, p0 < 0.5], dim=1).to(logits.dtype)


def alpha_on_the_wrong_term(logits: torch.Tensor, weak_probs: torch.Tensor, alpha: float) -> torch.Tensor:
    """Broken: α weights the weak labels and 1 − α the hardened targets."""
    target = alpha * weak_probs + (1 - alpha) * hardened_targets(logits, weak_probs)
    return F.cross_entropy(logits, target)


def swapped_pgr(weak: float, w2s: float, ceiling: float) -> float:
    """Broken: the denominator is weak − ceiling."""
    return (w2s - weak) / (weak - ceiling)


@pytest.mark.parametrize(
    ("module", "name", "broken", "caught_by"),
    [
        ("model", "hardened_targets", unbalanced_targets, "hardened targets match the weak prior"),
        ("experiment", "confidence_loss", alpha_on_the_wrong_term, "confidence loss vs hand-written"),
        ("experiment", "performance_gap_recovered", swapped_pgr, "PGR ="),
    ],
)
def test_the_check_stage_catches_a_broken_loss_or_pgr(
    monkeypatch: pytest.MonkeyPatch, module: str, name: str, broken: object, caught_by: str
) -> None:
    monkeypatch.setattr(f"readtrack_plugins.weak_to_strong.{module}.{name}", broken)
    if module == "model":  # the experiment imported it by name too
        monkeypatch.setattr(f"readtrack_plugins.weak_to_strong.experiment.{name}", broken)
    check_catches("weak-to-strong", caught_by)


def test_the_train_stage_fails_without_the_confidence_loss(monkeypatch: pytest.MonkeyPatch) -> None:
    """Remove the idea: α_max = 0, so the "confidence loss" student is the plain-CE student (seeds 0 and 1:
    PGR 0.84 and 0.41), and the target that the confidence loss recovers the gap on every seed must fail."""
    monkeypatch.setattr("readtrack_plugins.weak_to_strong.experiment.ALPHA", 0.0)
    result = run_stage("weak-to-strong", "train")
    assert result.verdict() == "failed"
    failed = [t.name for t in result.targets if not t.passed]
    assert any(name.startswith("the confidence loss recovers the gap on every seed") for name in failed), (
        failures(result)
    )
