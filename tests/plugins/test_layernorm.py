"""The LayerNorm plugin: equal to nn.LayerNorm, invariant per example, and it speeds up a deep network."""

from __future__ import annotations

import pytest
import torch
from readtrack_plugins.layernorm.model import LayerNorm
from torch import nn


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


def test_declaration_does_not_import_torch(modules_loaded_by) -> None:  # type: ignore[no-untyped-def]
    loaded = modules_loaded_by("readtrack_plugins.layernorm")
    assert "readtrack_plugins.layernorm" in loaded and "torch" not in loaded


def test_check_stage_passes(passing_stage) -> None:  # type: ignore[no-untyped-def]
    result = passing_stage("layernorm", "check")
    assert any("shift" in c.name for c in result.comparisons)
    assert any("BatchNorm" in c.detail for c in result.comparisons)


def test_train_stage_normalised_network_learns_faster(passing_stage) -> None:  # type: ignore[no-untyped-def]
    result = passing_stage("layernorm", "train")
    normalised = dict(result.curves["loss (LayerNorm)"])
    plain = dict(result.curves["loss (no normalisation)"])
    assert normalised.keys() == plain.keys()
    assert normalised[150] < 0.5 < plain[150]


def test_bench_stage_compares_against_nn_layernorm(passing_stage) -> None:  # type: ignore[no-untyped-def]
    result = passing_stage("layernorm", "bench")
    assert [row.label for row in result.bench if row.baseline] == ["nn.LayerNorm forward"]
    assert len(result.bench) == 4
