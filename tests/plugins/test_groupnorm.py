"""The GroupNorm plugin: equal to nn.GroupNorm, LayerNorm and InstanceNorm at its two ends, independent of the
batch, and its check and claim can fail."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from readtrack_plugins.groupnorm.model import ConvNet, GroupNorm
from torch import nn

from readtrack.testing import failures, run_stage


@pytest.mark.parametrize(
    ("G", "C", "shape"),
    [
        (2, 4, (3, 4, 6, 6)),
        (4, 4, (2, 4, 3, 5)),  # G = C
        (1, 6, (2, 6, 7, 1)),  # G = 1
        (3, 6, (5, 6, 1, 1)),  # a 1×1 map: two values per group
        (2, 4, (1, 4, 11)),  # 1-D, a batch of one
        (2, 4, (2, 4)),  # no spatial dimension at all
        (5, 10, (2, 10, 2, 3, 3)),  # 3-D
    ],
)
@pytest.mark.parametrize("affine", [True, False])
def test_forward_and_gradients_equal_nn_groupnorm(
    G: int, C: int, shape: tuple[int, ...], affine: bool
) -> None:
    torch.manual_seed(0)
    ours = GroupNorm(G, C, eps=1e-3, affine=affine).double()
    ref = nn.GroupNorm(G, C, eps=1e-3, affine=affine).double()
    if affine:
        with torch.no_grad():
            ours.weight.uniform_(-2, 2), ours.bias.normal_()
        ref.load_state_dict(ours.state_dict())
    x = (5 * torch.randn(shape, dtype=torch.float64) - 3).requires_grad_()
    out, expected = ours(x), ref(x)
    torch.testing.assert_close(out, expected)
    dy = torch.randn_like(out)
    grads = torch.autograd.grad(out, (x, *ours.parameters()), dy)
    ref_grads = torch.autograd.grad(expected, (x, *ref.parameters()), dy)
    for g, r in zip(grads, ref_grads, strict=True):
        torch.testing.assert_close(g, r)


def test_parameters_are_named_like_torch() -> None:
    assert [name for name, _ in GroupNorm(2, 4).named_parameters()] == ["weight", "bias"]
    assert list(GroupNorm(2, 4, affine=False).parameters()) == []
    GroupNorm(2, 4).load_state_dict(nn.GroupNorm(2, 4).state_dict())  # a checkpoint of nn.GroupNorm loads
    with pytest.raises(ValueError, match="divisible"):
        GroupNorm(3, 4)


def test_each_group_of_each_example_is_normalised_on_its_own() -> None:
    norm = GroupNorm(3, 6, eps=0.0, affine=False).double()
    x = torch.randn(4, 6, 5, 5, dtype=torch.float64)
    y = norm(x * torch.arange(1, 5, dtype=torch.float64).view(4, 1, 1, 1) + 7)  # per-example scale and shift
    torch.testing.assert_close(y, norm(x))
    groups = y.reshape(4, 3, -1)  # channels 0-1, 2-3, 4-5 of each example
    torch.testing.assert_close(groups.mean(-1), torch.zeros(4, 3, dtype=torch.float64))
    torch.testing.assert_close(groups.var(-1, unbiased=False), torch.ones(4, 3, dtype=torch.float64))
    torch.testing.assert_close(norm(x[2:3]), norm(x)[2:3])  # a batch of one gives the same answer


def test_the_two_ends_are_instance_and_layer_norm() -> None:
    x = torch.randn(3, 4, 5, 6, dtype=torch.float64)
    torch.testing.assert_close(GroupNorm(4, 4, affine=False).double()(x), F.instance_norm(x))
    torch.testing.assert_close(GroupNorm(1, 4, affine=False).double()(x), F.layer_norm(x, (4, 5, 6)))


def test_the_convnet_takes_either_norm() -> None:
    x = torch.randn(2, 1, 16, 16)
    for norm in (lambda c: GroupNorm(4, c), nn.BatchNorm2d):
        assert ConvNet(norm, 8)(x).shape == (2, 4)


class InterleavedGroups(GroupNorm):
    """A broken GroupNorm: channel c in group c % G instead of c // (C/G)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        C, G = x.shape[1], self.num_groups
        perm = torch.arange(C).view(G, C // G).t().reshape(-1)  # channels 0, G, 2G, ... first
        return super().forward(x[:, perm])[:, perm.argsort()]


class StatisticsInInputDtype(GroupNorm):
    """A subtly broken GroupNorm: right in float64, but in float16 its squared deviations overflow."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x.reshape(x.shape[0], self.num_groups, -1)
        mu = h.mean(dim=-1, keepdim=True)
        var = (h - mu).square().mean(dim=-1, keepdim=True)
        h = ((h - mu) / torch.sqrt(var + self.eps)).reshape(x.shape)
        view = (1, x.shape[1]) + (1,) * (x.dim() - 2)
        return h * self.weight.view(view) + self.bias.view(view) if self.weight is not None else h


@pytest.mark.parametrize(
    ("broken", "caught_by"),
    [(InterleavedGroups, "forward vs nn.GroupNorm(3, 6)"), (StatisticsInInputDtype, "float16")],
)
def test_the_check_stage_catches_a_broken_groupnorm(
    monkeypatch: pytest.MonkeyPatch, broken: type[GroupNorm], caught_by: str
) -> None:
    monkeypatch.setattr("readtrack_plugins.groupnorm.experiment.GroupNorm", broken)
    result = run_stage("groupnorm", "check")
    assert result.verdict() == "failed"
    assert any(caught_by in c.name for c in result.comparisons if not c.passed), failures(result)


def test_the_train_claim_fails_with_batch_statistics_in_gns_place(monkeypatch: pytest.MonkeyPatch) -> None:
    # BatchNorm in the GN network: the same network as the baseline, whose deployed predictions (running
    # statistics) differ from its training-mode ones at 2 examples per batch: the asserted target must fail.
    monkeypatch.setattr(
        "readtrack_plugins.groupnorm.experiment.GroupNorm", lambda groups, channels: nn.BatchNorm2d(channels)
    )
    result = run_stage("groupnorm", "train")
    assert result.verdict() == "failed"
    (claim,) = result.targets
    assert claim.name == "batch 2: test predictions GN's network changes when deployed", claim
    assert not claim.passed, claim
