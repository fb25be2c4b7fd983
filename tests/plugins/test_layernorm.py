"""The LayerNorm plugin: equal to nn.LayerNorm, invariant per example, and its check and claim can fail."""

from __future__ import annotations

import pytest
import torch
from readtrack_plugins.layernorm.model import LayerNorm
from torch import nn

from readtrack.testing import failures, run_stage


@pytest.mark.parametrize("shape", [1, 5, 64, (3, 8)])
def test_forward_and_gradients_equal_nn_layernorm(shape: int | tuple[int, int]) -> None:
    torch.manual_seed(0)
    ours, ref = LayerNorm(shape, eps=1e-3).double(), nn.LayerNorm(shape, eps=1e-3).double()
    with torch.no_grad():
        ours.weight.uniform_(-2, 2), ours.bias.normal_()
        ref.weight.copy_(ours.weight), ref.bias.copy_(ours.bias)
    trailing = (shape,) if isinstance(shape, int) else shape
    x = (5 * torch.randn(2, 6, *trailing, dtype=torch.float64) - 3).requires_grad_()
    out, expected = ours(x), ref(x)
    torch.testing.assert_close(out, expected)
    dy = torch.randn_like(out)
    grads = torch.autograd.grad(out, (x, ours.weight, ours.bias), dy)
    ref_grads = torch.autograd.grad(expected, (x, ref.weight, ref.bias), dy)
    for g, r in zip(grads, ref_grads, strict=True):
        torch.testing.assert_close(g, r)


def test_parameters_are_named_like_torch() -> None:
    assert [name for name, _ in LayerNorm(4).named_parameters()] == ["weight", "bias"]
    state = nn.LayerNorm(4).state_dict()
    LayerNorm(4).load_state_dict(state)  # a checkpoint of nn.LayerNorm loads as is


def test_each_example_is_normalised_on_its_own() -> None:
    norm = LayerNorm(16, eps=0.0).double()
    x = torch.randn(5, 16, dtype=torch.float64)
    y = norm(x * torch.arange(1, 6, dtype=torch.float64).unsqueeze(1) + 7)  # per-example scale and shift
    torch.testing.assert_close(y, norm(x))
    torch.testing.assert_close(y.mean(-1), torch.zeros(5, dtype=torch.float64))
    torch.testing.assert_close(y.var(-1, unbiased=False), torch.ones(5, dtype=torch.float64))
    torch.testing.assert_close(norm(x[2:3]), y[2:3])  # a batch of one gives the same answer


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_low_precision_statistics_are_accumulated_in_float32(dtype: torch.dtype) -> None:
    torch.manual_seed(0)
    x = 3 * torch.randn(64, 1024) + 1
    exact = LayerNorm(1024).double()(x.double())
    ours = LayerNorm(1024).to(dtype)(x.to(dtype))
    builtin = nn.LayerNorm(1024).to(dtype)(x.to(dtype))
    assert ours.dtype == dtype
    ours_error, builtin_error = ((y.double() - exact).abs().mean() for y in (ours, builtin))
    assert ours_error <= 1.1 * builtin_error


class CentredOnly(LayerNorm):
    """A broken LayerNorm: it re-centres but forgets to divide by σ."""

    def forward(self, a: torch.Tensor) -> torch.Tensor:
        return self.weight * (a - a.mean(dim=-1, keepdim=True)) + self.bias


class StatisticsInInputDtype(LayerNorm):
    """A subtly broken LayerNorm: right in float64, but its bfloat16 statistics lose their bits."""

    def forward(self, a: torch.Tensor) -> torch.Tensor:
        mu = a.mean(dim=-1, keepdim=True)
        var = (a - mu).square().mean(dim=-1, keepdim=True)
        return self.weight * (a - mu) / torch.sqrt(var + self.eps) + self.bias


@pytest.mark.parametrize(
    ("broken", "caught_by"),
    [(CentredOnly, "forward vs nn.LayerNorm"), (StatisticsInInputDtype, "bfloat16")],
)
def test_the_check_stage_catches_a_broken_layernorm(
    monkeypatch: pytest.MonkeyPatch, broken: type[LayerNorm], caught_by: str
) -> None:
    monkeypatch.setattr("readtrack_plugins.layernorm.experiment.LayerNorm", broken)
    result = run_stage("layernorm", "check")
    assert result.verdict() == "failed"
    assert any(caught_by in c.name for c in result.comparisons if not c.passed), failures(result)


def test_the_train_claim_fails_when_layernorm_does_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    # Without normalisation inside, the "with LayerNorm" network is the plain one, on the same data from the
    # same initialisation: no gain to claim, and the quick run's asserted target must fail.
    monkeypatch.setattr("readtrack_plugins.layernorm.experiment.LayerNorm", lambda width: nn.Identity())
    result = run_stage("layernorm", "train")
    assert result.verdict() == "failed"
    (claim,) = result.targets
    assert claim.name.startswith("inputs ×100: test loss without / with LayerNorm"), claim
    assert not claim.passed, claim
