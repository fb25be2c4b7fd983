"""The rethinking-generalization plugin: label corruption exact and unbiased, the MLP against nn.Linear,
Theorem 1's construction on more sizes, and checks that fail for a corruption that always changes the class,
one that redraws the wrong number of labels, or a Theorem 1 construction with a sign error."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import torch
import torch.nn as nn
from readtrack_plugins.rethinking_generalization.model import (
    MLP,
    TwoLayerInterpolator,
    corrupt_labels,
    gaussian_clusters,
    shuffle_labels,
)

from readtrack.testing import check_catches, failures, reported_claim, run_stage


@pytest.mark.parametrize(("n", "d"), [(1, 4), (2, 1), (13, 2), (64, 64), (300, 10)])
def test_theorem_1_interpolates_any_labels(n: int, d: int) -> None:
    g = torch.Generator().manual_seed(n * 31 + d)
    X = torch.randn(n, d, generator=g, dtype=torch.float64)
    y = torch.randn(n, generator=g, dtype=torch.float64) * 5
    net = TwoLayerInterpolator.fit(X, y, g)
    with torch.no_grad():
        torch.testing.assert_close(net(X), y, atol=1e-6, rtol=0)
    assert sum(p.numel() for p in net.parameters()) == 2 * n + d
    assert bool((net.b[1:] > net.b[:-1]).all())  # the thresholds interleave the sorted projections


def test_corruption_changes_p_times_one_minus_one_over_k_of_labels() -> None:
    y = torch.randint(0, 4, (400_000,))
    for p in (0.1, 0.7):
        new, redrawn = corrupt_labels(y, p, 4, torch.Generator().manual_seed(1))
        assert torch.equal(new[~redrawn], y[~redrawn])
        assert abs(redrawn.float().mean().item() - p) < 0.005
        assert abs((new != y).float().mean().item() - p * 0.75) < 0.005
        # the redrawn labels are uniform over the K classes, the old class included
        counts = torch.bincount(new[redrawn], minlength=4).float() / redrawn.sum()
        assert (counts - 0.25).abs().max().item() < 0.01
    assert torch.equal(corrupt_labels(y, 0.0, 4, torch.Generator().manual_seed(1))[0], y)


def test_shuffled_labels_keep_class_counts_and_data_is_deterministic() -> None:
    X, y = gaussian_clusters(250, 7, 5, seed=3)
    X2, y2 = gaussian_clusters(250, 7, 5, seed=3)
    assert torch.equal(X, X2) and torch.equal(y, y2)
    s = shuffle_labels(y, torch.Generator().manual_seed(0))
    assert torch.equal(torch.bincount(s), torch.bincount(y)) and not torch.equal(s, y)


@pytest.mark.parametrize(("width", "depth"), [(1, 1), (5, 2), (9, 4)])
def test_mlp_equals_linear_relu_stack(width: int, depth: int) -> None:
    mlp = MLP(3, width, 2, depth).double()
    layers: list[nn.Module] = []
    for W, b in zip(mlp.W, mlp.b, strict=True):
        linear = nn.Linear(W.shape[1], W.shape[0]).double()
        with torch.no_grad():
            linear.weight.copy_(W), linear.bias.copy_(torch.randn_like(b))
            b.copy_(linear.bias)
        layers += [linear, nn.ReLU()]
    x = torch.randn(6, 3, dtype=torch.float64)
    torch.testing.assert_close(mlp(x), nn.Sequential(*layers[:-1])(x))


def always_a_new_class(
    y: torch.Tensor, p: float, classes: int, g: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """Broken: a redrawn label always moves to another class, so p (not p·(1 − 1/K)) of labels change."""
    redrawn = torch.rand(len(y), generator=g) < p
    shift = torch.randint(1, classes, (len(y),), generator=g) if classes > 1 else torch.zeros_like(y)
    return torch.where(redrawn, (y + shift) % classes, y), redrawn


def wrong_count(
    y: torch.Tensor, p: float, classes: int, g: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """Broken: redraws with probability p/2 (the (1 − p)/2 … mix-up of a two-sided threshold)."""
    return corrupt_labels(y, p / 2, classes, g)


_fit = TwoLayerInterpolator.fit


def sign_error_fit(X: torch.Tensor, y: torch.Tensor, g: torch.Generator) -> TwoLayerInterpolator:
    """Broken: Theorem 1's construction with the thresholds' sign flipped, max(⟨a, x⟩ + b_j, 0)."""
    net = _fit(X, y, g)
    with torch.no_grad():
        net.b.neg_()
    return net


@pytest.mark.parametrize(
    ("target", "broken", "caught_by"),
    [
        ("corrupt_labels", always_a_new_class, "share of labels changed"),
        ("corrupt_labels", wrong_count, "share of labels redrawn"),
        ("TwoLayerInterpolator.fit", sign_error_fit, "Theorem 1: the 2n + d network fits"),
    ],
)
def test_the_check_stage_catches_a_broken_corruption_or_construction(
    monkeypatch: pytest.MonkeyPatch, target: str, broken: Callable[..., Any], caught_by: str
) -> None:
    if target == "corrupt_labels":
        monkeypatch.setattr("readtrack_plugins.rethinking_generalization.experiment.corrupt_labels", broken)
    else:
        monkeypatch.setattr(TwoLayerInterpolator, "fit", staticmethod(broken))
    check_catches("rethinking-generalization", caught_by)


def test_the_train_stage_fails_when_the_labels_are_not_randomised(monkeypatch: pytest.MonkeyPatch) -> None:
    """Remove the idea (random labels): "permuted" labels that are the true ones generalise and fit as fast,
    so the random-label target must fail, and the ratio of steps to fit (reported, not asserted, at quick
    size) must land below its threshold."""
    monkeypatch.setattr(
        "readtrack_plugins.rethinking_generalization.experiment.shuffle_labels", lambda y, g: y.clone()
    )
    result = run_stage("rethinking-generalization", "train")
    assert result.verdict() == "failed"
    failed = [t.name for t in result.targets if not t.passed]
    assert any(name.startswith("test accuracy after fitting permuted labels") for name in failed), failures(
        result
    )
    ratio = reported_claim(result, "steps to fit permuted labels / true labels")
    assert not ratio.passed, ratio
