"""The BatchNorm plugin: equal to nn.BatchNorm1d/2d/3d in training and eval mode, its running statistics
torch's, and its check and claim can fail."""

from __future__ import annotations

import pytest
import torch
from readtrack_plugins.batchnorm.model import BatchNorm
from torch import nn

from readtrack.testing import failures, run_stage

REFERENCES: dict[int, type[nn.Module]] = {
    2: nn.BatchNorm1d,
    3: nn.BatchNorm1d,
    4: nn.BatchNorm2d,
    5: nn.BatchNorm3d,
}


def _pair(channels: int, dims: int, **kwargs: float) -> tuple[BatchNorm, nn.Module]:
    ours, ref = BatchNorm(channels, **kwargs).double(), REFERENCES[dims](channels, **kwargs).double()
    with torch.no_grad():
        ours.weight.uniform_(-2, 2), ours.bias.normal_()
    ref.load_state_dict(ours.state_dict())
    return ours, ref


def _same_forward_and_gradients(ours: nn.Module, ref: nn.Module, x: torch.Tensor) -> None:
    x = x.detach().requires_grad_()
    out, expected = ours(x), ref(x)
    torch.testing.assert_close(out, expected)
    dy = torch.randn_like(out)
    grads = torch.autograd.grad(out, (x, *ours.parameters()), dy)
    ref_grads = torch.autograd.grad(expected, (x, *ref.parameters()), dy)
    for g, r in zip(grads, ref_grads, strict=True):
        torch.testing.assert_close(g, r)


@pytest.mark.parametrize(
    "shape", [(2, 1), (3, 16), (5, 4, 1), (2, 3, 7), (1, 2, 3, 3), (6, 3, 2, 5), (2, 2, 2, 3, 2)]
)
def test_training_then_eval_equal_torch(shape: tuple[int, ...]) -> None:
    torch.manual_seed(0)
    ours, ref = _pair(shape[1], len(shape), eps=1e-3, momentum=0.3)
    for _ in range(4):  # training mode: batch statistics, running averages updated alike
        _same_forward_and_gradients(ours, ref, 4 * torch.randn(shape, dtype=torch.float64) - 3)
    for name in ("running_mean", "running_var", "num_batches_tracked"):
        torch.testing.assert_close(ours.get_buffer(name), ref.get_buffer(name))
    ours.eval(), ref.eval()
    _same_forward_and_gradients(ours, ref, torch.randn(shape, dtype=torch.float64))
    assert int(ours.num_batches_tracked) == 4  # eval mode updates nothing


def test_running_variance_uses_the_unbiased_batch_variance() -> None:
    norm = BatchNorm(1, momentum=1.0).double()  # momentum 1: the running statistics are the last batch's
    x = torch.tensor([[1.0], [2.0], [6.0]], dtype=torch.float64)
    norm(x)
    torch.testing.assert_close(norm.running_mean, torch.tensor([3.0], dtype=torch.float64))
    torch.testing.assert_close(norm.running_var, x.var(0, unbiased=True))  # 7, not the biased 14/3


def test_state_dicts_load_both_ways() -> None:
    names = ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    assert list(BatchNorm(4).state_dict()) == names == list(nn.BatchNorm2d(4).state_dict())
    BatchNorm(4).load_state_dict(nn.BatchNorm1d(4).state_dict())
    nn.BatchNorm2d(4).load_state_dict(BatchNorm(4).state_dict())


def test_one_value_per_feature_is_refused_in_training_as_torch_does() -> None:
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        BatchNorm(3)(torch.randn(1, 3))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nn.BatchNorm1d(3)(torch.randn(1, 3))
    assert BatchNorm(3).eval()(torch.randn(1, 3)).shape == (1, 3)  # inference needs no batch


def test_each_feature_comes_out_standardised_and_depends_on_the_batch() -> None:
    norm = BatchNorm(5, eps=0.0).double()
    x = 7 * torch.randn(10, 5, 4, 4, dtype=torch.float64) + 3
    y = norm(x)
    torch.testing.assert_close(y.mean((0, 2, 3)), torch.zeros(5, dtype=torch.float64))
    torch.testing.assert_close(y.var((0, 2, 3), unbiased=False), torch.ones(5, dtype=torch.float64))
    torch.testing.assert_close(norm(2 * x - 1), y)  # invariant to an affine map of each feature (a > 0)
    assert not torch.allclose(norm(x[:5])[0], y[0])  # half the batch: other statistics, another output


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_low_precision_in_low_precision_out(dtype: torch.dtype) -> None:
    torch.manual_seed(0)
    x = 3 * torch.randn(64, 32) + 1
    exact = BatchNorm(32).double()(x.double())
    out = BatchNorm(32).to(dtype)(x.to(dtype))
    assert out.dtype == dtype
    torch.testing.assert_close(out.double(), exact, atol=0.05, rtol=0.02)


class UnbiasedNormalisation(BatchNorm):
    """A broken BatchNorm: it divides by the unbiased standard deviation (1/(m − 1)), not Algorithm 1's."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        dims, shape = (0, *range(2, x.dim())), (1, -1) + (1,) * (x.dim() - 2)
        x_hat = (x - x.mean(dims).view(shape)) / torch.sqrt(x.var(dims).view(shape) + self.eps)
        return self.weight.view(shape) * x_hat + self.bias.view(shape)


class PerPosition(BatchNorm):
    """A broken BatchNorm: statistics over the batch only, one pair per position, not over (N, H, W)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shape = (1, -1) + (1,) * (x.dim() - 2)
        mu, var = x.mean(0, keepdim=True), x.var(0, unbiased=False, keepdim=True)
        return self.weight.view(shape) * (x - mu) / torch.sqrt(var + self.eps) + self.bias.view(shape)


class FrozenRunningStatistics(BatchNorm):
    """A broken BatchNorm: right in training mode, but it never updates its running statistics."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        running = self.running_mean.clone(), self.running_var.clone(), self.num_batches_tracked.clone()
        y = super().forward(x)
        with torch.no_grad():
            for buffer, old in zip(
                (self.running_mean, self.running_var, self.num_batches_tracked), running, strict=True
            ):
                buffer.copy_(old)
        return y


@pytest.mark.parametrize(
    ("broken", "caught_by"),
    [
        (UnbiasedNormalisation, "forward vs nn.BatchNorm1d"),
        (PerPosition, "forward vs nn.BatchNorm1d, input (4, 3, 5)"),
        (FrozenRunningStatistics, "running_mean after 3 steps"),
    ],
)
def test_the_check_stage_catches_a_broken_batchnorm(
    monkeypatch: pytest.MonkeyPatch, broken: type[BatchNorm], caught_by: str
) -> None:
    monkeypatch.setattr("readtrack_plugins.batchnorm.experiment.BatchNorm", broken)
    result = run_stage("batchnorm", "check")
    assert result.verdict() == "failed"
    assert any(caught_by in c.name for c in result.comparisons if not c.passed), failures(result)


def test_the_train_claim_fails_when_batchnorm_does_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    # Without normalisation inside, the "with BatchNorm" network is the plain one, on the same data from the
    # same initialisation: at 10× the plain network's best rate both stall, and the asserted target must fail.
    monkeypatch.setattr("readtrack_plugins.batchnorm.experiment.BatchNorm", lambda width: nn.Identity())
    result = run_stage("batchnorm", "train")
    assert result.verdict() == "failed"
    (claim,) = result.targets
    assert claim.name.startswith("at 10× the plain network's best lr: test accuracy with BN − without"), claim
    assert not claim.passed, claim
