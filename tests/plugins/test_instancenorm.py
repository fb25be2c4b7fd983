"""The InstanceNorm plugin: equal to nn.InstanceNorm1d/2d and nn.GroupNorm(C, C), invariant per image and
channel, and its check and claim can fail."""

from __future__ import annotations

import pytest
import torch
from readtrack_plugins.instancenorm import experiment
from readtrack_plugins.instancenorm.model import InstanceNorm
from torch import nn

from readtrack.testing import failures, run_stage


@pytest.mark.parametrize("shape", [(1, 1, 2, 2), (3, 4, 1, 7), (2, 5, 5, 3), (2, 3, 6, 5, 4)])
@pytest.mark.parametrize("affine", [True, False])
def test_forward_and_gradients_equal_nn_instancenorm(shape: tuple[int, ...], affine: bool) -> None:
    torch.manual_seed(0)
    builtin = {4: nn.InstanceNorm2d, 5: nn.InstanceNorm3d}[len(shape)]
    ours, ref = (
        InstanceNorm(shape[1], eps=1e-3, affine=affine).double(),
        builtin(shape[1], eps=1e-3, affine=affine),
    )
    ref = ref.double()
    if affine:
        with torch.no_grad():
            ours.weight.uniform_(-2, 2), ours.bias.normal_()
        ref.load_state_dict(ours.state_dict())
    x = (5 * torch.randn(shape, dtype=torch.float64) - 3).requires_grad_()
    out, expected = ours(x), ref(x)
    torch.testing.assert_close(out, expected)
    dy = torch.randn_like(out)
    wrt = (x, *ours.parameters())
    grads = torch.autograd.grad(out, wrt, dy)
    ref_grads = torch.autograd.grad(expected, (x, *ref.parameters()), dy)
    for g, r in zip(grads, ref_grads, strict=True):
        torch.testing.assert_close(g, r)


def test_one_dimensional_inputs_equal_nn_instancenorm1d() -> None:
    torch.manual_seed(1)
    ours, ref = InstanceNorm(4, affine=True), nn.InstanceNorm1d(4, affine=True)
    with torch.no_grad():
        ours.weight.normal_(), ours.bias.normal_()
    ref.load_state_dict(ours.state_dict())
    x = torch.randn(3, 4, 11)
    torch.testing.assert_close(ours(x), ref(x))


def test_equals_groupnorm_with_one_group_per_channel() -> None:
    torch.manual_seed(2)
    ours, ref = InstanceNorm(6, affine=True).double(), nn.GroupNorm(6, 6).double()
    with torch.no_grad():
        ours.weight.normal_(), ours.bias.normal_()
    ref.load_state_dict(ours.state_dict())
    x = 4 * torch.randn(5, 6, 3, 7, dtype=torch.float64) + 2
    torch.testing.assert_close(ours(x), ref(x))


def test_parameters_are_named_like_torch() -> None:
    assert [name for name, _ in InstanceNorm(4, affine=True).named_parameters()] == ["weight", "bias"]
    assert list(InstanceNorm(4).parameters()) == [] and list(InstanceNorm(4).buffers()) == []
    InstanceNorm(4, affine=True).load_state_dict(nn.InstanceNorm2d(4, affine=True).state_dict())


def test_each_image_and_channel_is_normalised_on_its_own() -> None:
    norm = InstanceNorm(3, eps=0.0).double()
    x = torch.randn(4, 3, 5, 6, dtype=torch.float64)
    a = torch.rand(4, 3, 1, 1, dtype=torch.float64) * 20 + 0.05  # a contrast per image and channel
    b = 10 * torch.randn(4, 3, 1, 1, dtype=torch.float64)  # and a brightness
    y = norm(a * x + b)
    torch.testing.assert_close(y, norm(x))
    zeros = torch.zeros(4, 3, dtype=torch.float64)
    torch.testing.assert_close(y.mean(dim=(2, 3)), zeros)
    torch.testing.assert_close(y.var(dim=(2, 3), unbiased=False), zeros + 1)
    torch.testing.assert_close(norm(x[2:3]), norm(x)[2:3])  # a batch of one gives the same answer
    torch.testing.assert_close(norm.eval()(x), norm.train()(x))  # no running statistics


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_low_precision_keeps_the_dtype_and_is_no_worse_than_the_builtin(dtype: torch.dtype) -> None:
    torch.manual_seed(0)
    x = 3 * torch.randn(8, 4, 32, 32) + 1
    exact = InstanceNorm(4).double()(x.double())
    ours, builtin = InstanceNorm(4)(x.to(dtype)), nn.InstanceNorm2d(4)(x.to(dtype))
    assert ours.dtype == dtype
    ours_error, builtin_error = ((y.double() - exact).abs().mean() for y in (ours, builtin))
    assert ours_error <= 1.1 * builtin_error


def _affine(norm: InstanceNorm, y: torch.Tensor) -> torch.Tensor:
    if norm.weight is None or norm.bias is None:
        return y
    shape = (1, -1) + (1,) * (y.dim() - 2)
    return norm.weight.view(shape) * y + norm.bias.view(shape)


class BatchStatistics(InstanceNorm):
    """A broken InstanceNorm: batch normalisation's statistics, over the batch and the positions."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        dims = (0, *range(2, x.dim()))
        mu = x.mean(dim=dims, keepdim=True)
        var = (x - mu).square().mean(dim=dims, keepdim=True)
        return _affine(self, (x - mu) / torch.sqrt(var + self.eps))


class NoDivision(InstanceNorm):
    """A broken InstanceNorm: it re-centres each image's channels but forgets to divide by σ."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _affine(self, x - x.mean(dim=tuple(range(2, x.dim())), keepdim=True))


class StatisticsInInputDtype(InstanceNorm):
    """A subtly broken InstanceNorm: right in float64, but its bfloat16 statistics lose their bits."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        dims = tuple(range(2, x.dim()))
        mu = x.mean(dim=dims, keepdim=True)
        var = (x - mu).square().mean(dim=dims, keepdim=True)
        return _affine(self, (x - mu) / torch.sqrt(var + self.eps))


@pytest.mark.parametrize(
    ("broken", "caught_by"),
    [
        (BatchStatistics, "forward vs nn.InstanceNorm2d"),
        (NoDivision, "forward vs nn.InstanceNorm2d"),
        (StatisticsInInputDtype, "bfloat16"),
    ],
)
def test_the_check_stage_catches_a_broken_instancenorm(
    monkeypatch: pytest.MonkeyPatch, broken: type[InstanceNorm], caught_by: str
) -> None:
    monkeypatch.setattr("readtrack_plugins.instancenorm.experiment.InstanceNorm", broken)
    result = run_stage("instancenorm", "check")
    assert result.verdict() == "failed"
    assert any(caught_by in c.name for c in result.comparisons if not c.passed), failures(result)


def test_the_train_claim_fails_when_instancenorm_is_batchnorm(monkeypatch: pytest.MonkeyPatch) -> None:
    # With batch statistics in InstanceNorm's place, the "InstanceNorm" network is the BatchNorm one, trained
    # on the same data from the same initialisation: its output moves with the contrast, and the quick run's
    # asserted targets about it must fail.
    monkeypatch.setitem(experiment.NORMS, "instance", nn.BatchNorm2d)
    result = run_stage("instancenorm", "train")
    assert result.verdict() == "failed"
    failed = {t.name for t in result.targets if not t.passed}
    assert "InstanceNorm: mean change of the output when the contrast leaves the training range" in failed, (
        failed
    )
