"""The RMSNorm plugin: equal to nn.RMSNorm, scale- but not shift-invariant, as good as LayerNorm, and the
train stage fails with the normaliser removed."""

from __future__ import annotations

import pytest
import torch
from readtrack_plugins.rmsnorm import experiment
from readtrack_plugins.rmsnorm.model import RMSNorm
from torch import nn

from readtrack.testing import failures, reported_claim, run_stage


@pytest.mark.parametrize("shape", [1, 5, 64, (3, 8)])
def test_forward_and_gradients_equal_nn_rmsnorm(shape: int | tuple[int, int]) -> None:
    torch.manual_seed(0)
    ours, ref = RMSNorm(shape).double(), nn.RMSNorm(shape, eps=1e-6).double()
    with torch.no_grad():
        ours.weight.uniform_(-2, 2)
        ref.weight.copy_(ours.weight)
    trailing = (shape,) if isinstance(shape, int) else shape
    x = (5 * torch.randn(2, 6, *trailing, dtype=torch.float64) - 3).requires_grad_()
    out, expected = ours(x), ref(x)
    torch.testing.assert_close(out, expected)
    dy = torch.randn_like(out)
    grads = torch.autograd.grad(out, (x, ours.weight), dy)
    ref_grads = torch.autograd.grad(expected, (x, ref.weight), dy)
    for g, r in zip(grads, ref_grads, strict=True):
        torch.testing.assert_close(g, r)


def test_default_eps_is_1e_6_not_torchs_machine_epsilon() -> None:
    assert RMSNorm(4).eps == 1e-6
    x = torch.full((1, 4), 1e-3)  # mean square 1e-6: ε matters here
    expected = x / torch.sqrt(torch.tensor(2e-6))
    torch.testing.assert_close(RMSNorm(4)(x), expected)
    assert not torch.allclose(nn.RMSNorm(4)(x), expected)  # torch's eps=None is finfo.eps ≈ 1.2e-7


def test_scale_invariant_but_not_shift_invariant() -> None:
    norm = RMSNorm(16, eps=0.0).double()
    x = torch.randn(4, 16, dtype=torch.float64)
    torch.testing.assert_close(norm(3.5 * x), norm(x))
    assert (norm(x + 1.0) - norm(x)).abs().max() > 0.5
    rms = norm(x).square().mean(-1).sqrt()
    torch.testing.assert_close(rms, torch.ones(4, dtype=torch.float64))  # unit root mean square out


def test_parameters_are_named_like_torch() -> None:
    RMSNorm(4).load_state_dict(nn.RMSNorm(4).state_dict())


def test_low_precision_statistics_are_accumulated_in_float32() -> None:
    torch.manual_seed(0)
    x = 3 * torch.randn(64, 1024) + 1
    exact = RMSNorm(1024).double()(x.double())
    ours = RMSNorm(1024).bfloat16()(x.bfloat16())
    builtin = nn.RMSNorm(1024, eps=1e-6).bfloat16()(x.bfloat16())
    ours_error, builtin_error = ((y.double() - exact).abs().mean() for y in (ours, builtin))
    assert ours.dtype == torch.bfloat16 and ours_error <= 1.1 * builtin_error


class MeanNotMeanSquare(RMSNorm):
    """A broken RMSNorm: divides by the root of the mean of |a| instead of the mean of a²."""

    def forward(self, a: torch.Tensor) -> torch.Tensor:
        return a / torch.sqrt(a.abs().mean(dim=-1, keepdim=True) + self.eps) * self.weight


class ReCentring(RMSNorm):
    """A broken RMSNorm that subtracts the mean: it is LayerNorm without bias, not RMSNorm."""

    def forward(self, a: torch.Tensor) -> torch.Tensor:
        return super().forward(a - a.mean(dim=-1, keepdim=True))


@pytest.mark.parametrize(
    ("broken", "caught_by"),
    [(MeanNotMeanSquare, "forward vs nn.RMSNorm"), (ReCentring, "not invariant to a shift")],
)
def test_the_check_stage_catches_a_broken_rmsnorm(
    monkeypatch: pytest.MonkeyPatch, broken: type[RMSNorm], caught_by: str
) -> None:
    monkeypatch.setattr("readtrack_plugins.rmsnorm.experiment.RMSNorm", broken)
    result = run_stage("rmsnorm", "check")
    assert result.verdict() == "failed"
    assert any(caught_by in c.name for c in result.comparisons if not c.passed), failures(result)


def test_the_train_stage_fails_without_the_normaliser(monkeypatch: pytest.MonkeyPatch) -> None:
    """With RMSNorm replaced by the identity, the network is the unnormalised one: both claims must fail
    (its loss is no better than the arm without normalisation: the target fails; and far from LayerNorm's:
    the parity number, reported, not asserted, at quick size, lands above its threshold)."""
    monkeypatch.setitem(experiment.UNDER_TEST, "rms", lambda n: nn.Identity())  # the network under test
    result = run_stage("rmsnorm", "train")
    assert result.verdict() == "failed"
    assert result.targets and all(not t.passed for t in result.targets), failures(result)
    parity = reported_claim(result, "test loss RMSNorm − nn.LayerNorm (parity)")
    assert not parity.passed, parity


def test_the_norm_knob_removes_the_idea_and_the_claim_goes_with_it() -> None:
    """``--set norm=none`` (the ablation switch of config.py) trains the network under test without a
    normaliser: the claim's number falls to the unnormalised arm's (reported against its threshold, not
    asserted: the knob is off its calibrated default), and ``norm=layer`` reaches parity by construction."""
    from readtrack_plugins.rmsnorm.config import Config

    from readtrack.plugins.knobs import knobs_of
    from readtrack.runner import run_plugin

    assert {k.name for k in knobs_of(Config)} >= {"norm", "steps", "lr", "width"}
    none = run_plugin("rmsnorm", device="cpu", quick=True, only="train", settings={"norm": "none"})
    assert none.info.settings == {"norm": "none"} and none.status == "passed"  # nothing asserted
    (stage,) = none.stages
    ratio = next(m for m in stage.measured if m.name.startswith("test loss without normalisation / with"))
    assert ratio.claim == (2.0, True) and ratio.value < 1.2, ratio  # the same network twice: about 1
