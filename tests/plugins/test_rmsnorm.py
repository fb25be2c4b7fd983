"""The RMSNorm plugin: equal to nn.RMSNorm, scale- but not shift-invariant, as good as LayerNorm."""

from __future__ import annotations

import pytest
import torch
from readtrack_plugins.rmsnorm.model import RMSNorm
from torch import nn


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


def test_declaration_does_not_import_torch(modules_loaded_by) -> None:  # type: ignore[no-untyped-def]
    loaded = modules_loaded_by("readtrack_plugins.rmsnorm")
    assert "readtrack_plugins.rmsnorm" in loaded and "torch" not in loaded


def test_check_stage_passes(passing_stage) -> None:  # type: ignore[no-untyped-def]
    result = passing_stage("rmsnorm", "check")
    shift = next(c for c in result.comparisons if c.name.startswith("not invariant to a shift"))
    assert shift.max_abs is not None and shift.max_abs > 0.5


def test_train_stage_matches_layernorm_quality(passing_stage) -> None:  # type: ignore[no-untyped-def]
    result = passing_stage("rmsnorm", "train")
    gap = result.targets[0]
    assert abs(gap.value) <= 0.1
    assert {"batch loss (RMSNorm)", "batch loss (LayerNorm)"} <= result.curves.keys()


def test_bench_stage_times_rmsnorm_against_layernorm(passing_stage) -> None:  # type: ignore[no-untyped-def]
    result = passing_stage("rmsnorm", "bench")
    labels = [row.label for row in result.bench]
    assert "RMSNorm forward" in labels and "nn.LayerNorm forward" in labels and "nn.RMSNorm forward" in labels
    assert all(row.ratio is not None for row in result.bench)
