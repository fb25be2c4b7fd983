"""The AdamW plugin: the optimiser equals torch.optim.AdamW, and the decay is decoupled from the gradient."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
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


def test_declaration_does_not_import_torch(modules_loaded_by) -> None:  # type: ignore[no-untyped-def]
    loaded = modules_loaded_by("readtrack_plugins.adamw")
    assert "readtrack_plugins.adamw" in loaded and "torch" not in loaded


def test_check_stage_passes(passing_stage) -> None:  # type: ignore[no-untyped-def]
    result = passing_stage("adamw", "check")
    assert any("torch.optim.AdamW" in c.name for c in result.comparisons)


def test_train_stage_shows_decoupling(passing_stage) -> None:  # type: ignore[no-untyped-def]
    result = passing_stage("adamw", "train")
    assert len(result.targets) == 5
    curve = result.curves["w/w0, zero gradient, w0=10 (AdamW)"]
    assert len(curve) == 100 and curve[-1][1] == pytest.approx(0.999**100)


def test_bench_stage_times_every_variant(passing_stage) -> None:  # type: ignore[no-untyped-def]
    result = passing_stage("adamw", "bench")
    assert [row.label for row in result.bench if row.baseline] == ["torch.optim.AdamW foreach=False"]
    assert len(result.bench) == 4 and all(row.throughput for row in result.bench)
