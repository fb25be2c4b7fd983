"""The AdamW plugin: the optimiser equals torch.optim.AdamW (complex parameters too), the decay is decoupled
from the gradient, and its check fails for Adam + L2 or a missing bias correction."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from plugin_stages import failures, run_stage
from readtrack_plugins.adamw.model import AdamW
from torch import nn


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
def test_steps_equal_torch_adamw(kwargs: dict) -> None:  # type: ignore[type-arg]
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


def adam_with_l2(params: object, **kwargs: float) -> torch.optim.Optimizer:
    """A broken AdamW: the decay added to the gradient (line 6's L2), which is Adam, not AdamW."""
    return torch.optim.Adam(params, **kwargs)  # type: ignore[arg-type]


class NoBiasCorrection(AdamW):
    """A broken AdamW: lines 9-10 left out, so early steps are too small."""

    @torch.no_grad()
    def step(self, closure: object = None) -> None:  # type: ignore[override]
        for group in self.param_groups:
            for theta in group["params"]:
                if theta.grad is None:
                    continue
                state = self.state.setdefault(theta, {})
                m = state.setdefault("m", torch.zeros_like(theta))
                v = state.setdefault("v", torch.zeros_like(theta))
                b1, b2 = group["betas"]
                theta.mul_(1 - group["lr"] * group["weight_decay"])
                m.mul_(b1).add_(theta.grad, alpha=1 - b1)
                v.mul_(b2).addcmul_(theta.grad, theta.grad, value=1 - b2)
                theta.addcdiv_(m, v.sqrt().add_(group["eps"]), value=-group["lr"])


@pytest.mark.parametrize("broken", [adam_with_l2, NoBiasCorrection])
def test_the_check_stage_catches_a_broken_adamw(monkeypatch: pytest.MonkeyPatch, broken: object) -> None:
    monkeypatch.setattr("readtrack_plugins.adamw.experiment.AdamW", broken)
    result = run_stage("adamw", "check")
    assert result.verdict() == "failed"
    failed = [c.name for c in result.comparisons if not c.passed]
    assert any(name.startswith("parameters after 20 steps") for name in failed), failures(result)
