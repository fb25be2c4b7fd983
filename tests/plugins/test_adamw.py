"""The AdamW plugin: the optimiser equals torch.optim.AdamW (complex parameters too), the decay is decoupled
from the gradient, and its check fails for Adam + L2 or a missing bias correction."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest
import torch
from readtrack_plugins.adamw.model import AdamW
from torch import nn

from readtrack.testing import failures, run_stage


def _pair(dtype: torch.dtype = torch.float64) -> tuple[nn.Module, nn.Module]:
    torch.manual_seed(0)
    a = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2)).to(dtype)
    b = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2)).to(dtype)
    b.load_state_dict(a.state_dict())
    return a, b


def _loss(model: nn.Module, step: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(step)
    X = torch.randn(16, 4, generator=g, dtype=torch.float64)
    return (model(X) - X[:, :2]).square().mean()


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"lr": 0.05, "weight_decay": 0.0},
        {"lr": 0.01, "betas": (0.5, 0.9), "eps": 1e-3, "weight_decay": 0.5},
    ],
)
def test_steps_equal_torch_adamw(kwargs: dict[str, Any]) -> None:
    a, b = _pair()
    ours, ref = AdamW(a.parameters(), **kwargs), torch.optim.AdamW(b.parameters(), **kwargs)
    for step in range(25):
        for model, opt in ((a, ours), (b, ref)):
            opt.zero_grad()
            _loss(model, step).backward()
            opt.step()
        for p, q in zip(a.parameters(), b.parameters(), strict=True):
            torch.testing.assert_close(p, q, atol=1e-14, rtol=1e-12)


def test_parameters_without_gradient_are_left_alone() -> None:
    used, unused = torch.ones(3, requires_grad=True), torch.ones(3, requires_grad=True)
    opt = AdamW([used, unused], lr=0.1, weight_decay=0.5)
    used.sum().backward()
    opt.step()
    assert torch.equal(unused, torch.ones(3))  # no gradient: neither a step nor decay, as in torch
    assert (used < 1).all()


def test_checkpoint_resumes_the_same_trajectory(tmp_path: Path) -> None:
    a, b = _pair()
    opt_a = AdamW(a.parameters(), lr=0.02)
    for step in range(5):
        opt_a.zero_grad()
        _loss(a, step).backward()
        opt_a.step()
    torch.save({"model": a.state_dict(), "optimizer": opt_a.state_dict()}, tmp_path / "checkpoint.pt")
    checkpoint = torch.load(tmp_path / "checkpoint.pt")
    b.load_state_dict(checkpoint["model"])
    opt_b = AdamW(b.parameters(), lr=0.02)
    opt_b.load_state_dict(checkpoint["optimizer"])
    for step in range(5, 10):
        for model, opt in ((a, opt_a), (b, opt_b)):
            opt.zero_grad()
            _loss(model, step).backward()
            opt.step()
    for p, q in zip(a.parameters(), b.parameters(), strict=True):
        assert torch.equal(p, q)


def test_decay_is_decoupled_from_the_gradient_unlike_l2() -> None:
    finals = {}
    for name, make in (
        ("adamw", lambda p: AdamW(p, lr=0.01, weight_decay=0.1)),
        ("l2", lambda p: torch.optim.Adam(p, lr=0.01, weight_decay=0.1)),
    ):
        for w0 in (1.0, 10.0):
            w = torch.tensor([w0], dtype=torch.float64, requires_grad=True)
            opt = make([w])
            for _ in range(100):
                w.grad = torch.zeros_like(w)
                opt.step()
            finals[name, w0] = w.item() / w0
    assert finals["adamw", 1.0] == pytest.approx(0.999**100, rel=1e-12)
    assert finals["adamw", 10.0] == pytest.approx(0.999**100, rel=1e-12)
    assert finals["l2", 10.0] - finals["l2", 1.0] > 0.5


def test_the_decay_is_the_papers_eta_lambda_when_weight_decay_is_lambda_over_alpha() -> None:
    """Algorithm 2, line 12 with a zero gradient: θ_t = θ_{t−1}(1 − η_t·λ), whatever the base rate α. In
    PyTorch's convention (lr = α·η_t, decay lr·weight_decay) that is weight_decay = λ / α."""
    alpha, lam = 0.05, 0.4
    eta = [0.2, 0.6, 1.0, 1.0, 0.7, 0.3]  # the schedule multipliers η_1 … η_6
    theta = torch.tensor([3.0], dtype=torch.float64, requires_grad=True)
    opt = AdamW([theta], lr=alpha, weight_decay=lam / alpha)
    schedule = torch.optim.lr_scheduler.LambdaLR(opt, lambda t: eta[min(t, len(eta) - 1)])
    paper = 3.0
    for eta_t in eta:
        theta.grad = torch.zeros_like(theta)
        opt.step()
        schedule.step()
        paper *= 1 - eta_t * lam  # line 12
    assert theta.item() == pytest.approx(paper, rel=1e-12)


def test_bad_hyperparameters_are_refused() -> None:
    with pytest.raises(ValueError, match="invalid"):
        AdamW([torch.zeros(1, requires_grad=True)], betas=(1.0, 0.999))


@pytest.mark.parametrize("dtype", [torch.complex64, torch.complex128])
def test_complex_parameters_follow_torch_adamw(dtype: torch.dtype) -> None:
    torch.manual_seed(0)
    start, target = torch.randn(8, dtype=dtype), torch.randn(8, dtype=dtype)
    ours, ref = start.clone().requires_grad_(), start.clone().requires_grad_()
    opt_ours = AdamW([ours], lr=0.05, weight_decay=0.1)
    opt_ref = torch.optim.AdamW([ref], lr=0.05, weight_decay=0.1, foreach=False)
    for _ in range(10):
        for z, opt in ((ours, opt_ours), (ref, opt_ref)):
            opt.zero_grad()
            (z - target).abs().square().sum().backward()
            opt.step()
    tolerance = 1e-12 if dtype == torch.complex128 else 1e-5
    torch.testing.assert_close(ours, ref, atol=tolerance, rtol=tolerance)


def adam_with_l2(params: Iterable[torch.Tensor], **kwargs: Any) -> torch.optim.Optimizer:
    """A broken AdamW: the decay added to the gradient (line 6's L2), which is Adam, not AdamW."""
    return torch.optim.Adam(params, **kwargs)


class RetypedAdamW(AdamW):
    """Algorithm 2 typed again, with a switch for each classic mistake, to show that the check can fail."""

    bias_correction = True  # lines 9-10
    complex_as_real = True  # a complex number is two real parameters, each with its own v

    @torch.no_grad()
    def step(self, closure: Callable[[], float] | None = None) -> float | None:
        for group in self.param_groups:
            lr, (beta1, beta2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
            for param in group["params"]:
                if param.grad is None:
                    continue
                theta, g = param, param.grad
                if self.complex_as_real and param.is_complex():
                    theta, g = torch.view_as_real(param), torch.view_as_real(param.grad)
                state = self.state[param]
                if not state:
                    state.update(t=0, m=torch.zeros_like(theta), v=torch.zeros_like(theta))
                state["t"] += 1
                t, m, v = state["t"], state["m"], state["v"]
                theta.mul_(1 - lr * wd)
                m.mul_(beta1).add_(g, alpha=1 - beta1)
                v.mul_(beta2).addcmul_(g, g, value=1 - beta2)  # g·g: for a complex g that is g², not |g|²
                if self.bias_correction:
                    m, v = m / (1 - beta1**t), v / (1 - beta2**t)
                theta.addcdiv_(m, v.sqrt().add_(eps), value=-lr)
        return None


class NoBiasCorrection(RetypedAdamW):
    """A broken AdamW: lines 9-10 left out, so the first steps are too small."""

    bias_correction = False


class ComplexAsOneNumber(RetypedAdamW):
    """A broken AdamW for complex parameters: v accumulates g·g = g² (complex) instead of |Re g|², |Im g|²."""

    complex_as_real = False


def test_the_retyped_optimiser_without_mistakes_passes_the_check(monkeypatch: pytest.MonkeyPatch) -> None:
    """The switches below are the only thing wrong in each broken variant."""
    monkeypatch.setattr("readtrack_plugins.adamw.experiment.AdamW", RetypedAdamW)
    result = run_stage("adamw", "check")
    assert result.verdict() == "passed", failures(result)


@pytest.mark.parametrize(
    ("broken", "caught_by"),
    [
        (adam_with_l2, {"parameters after 20 steps", "complex parameters", "zero gradient"}),
        (NoBiasCorrection, {"parameters after 20 steps", "complex parameters"}),
        (ComplexAsOneNumber, {"complex parameters"}),
    ],
)
def test_the_check_stage_catches_a_broken_adamw(
    monkeypatch: pytest.MonkeyPatch, broken: object, caught_by: set[str]
) -> None:
    monkeypatch.setattr("readtrack_plugins.adamw.experiment.AdamW", broken)
    result = run_stage("adamw", "check")
    assert result.verdict() == "failed"
    failed = {c.name for c in result.comparisons if not c.passed}
    assert {prefix for prefix in caught_by if any(name.startswith(prefix) for name in failed)} == caught_by
    assert all(any(name.startswith(prefix) for prefix in caught_by) for name in failed), failures(result)


def test_the_train_claim_fails_when_the_decay_goes_through_the_gradient(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without the idea (AdamW replaced by Adam + L2, the decay inside the adaptive step), the train stage's
    AdamW targets fail: w/w0 is no longer (1 − lr·λ)^100, and the decay depends on the gradients' scale."""
    monkeypatch.setattr("readtrack_plugins.adamw.experiment.AdamW", adam_with_l2)
    result = run_stage("adamw", "train")
    assert result.verdict() == "failed"
    failed = {t.name for t in result.targets if not t.passed}
    assert {name for name in failed if name.startswith("AdamW:")} == {
        t.name for t in result.targets if t.name.startswith("AdamW:")
    }, failures(result)
