"""What plugins report through: tolerances by dtype, comparisons that catch real differences, gradients."""

from __future__ import annotations

import math

import pytest
import torch

from readtrack.experiment import RunContext, Target


@pytest.fixture
def ctx() -> RunContext:
    context = RunContext(device="cpu", quick=True, seed=0)
    context.begin_stage("check")
    return context


@pytest.mark.parametrize(
    ("dtype", "error", "passes"),
    [
        (torch.float64, 1e-12, True),
        (torch.float64, 1e-7, False),  # float64 is exact to rounding: 1e-7 is a bug
        (torch.float32, 1e-6, True),
        (torch.float32, 1e-3, False),
        (torch.bfloat16, 5e-3, True),  # checked at its own resolution
        (torch.float16, 1e-2, False),
    ],
)
def test_check_close_uses_tolerances_suited_to_the_dtype(
    ctx: RunContext, dtype: torch.dtype, error: float, passes: bool
) -> None:
    expected = torch.linspace(0.5, 1.0, 16, dtype=torch.float64)
    actual = (expected + error).to(dtype)
    comparison = ctx.check_close("x", actual, expected.to(dtype) if dtype != torch.float64 else expected)
    assert comparison.passed is passes
    assert comparison.dtype == str(dtype).removeprefix("torch.")


def test_check_close_reports_errors_shapes_and_non_finite_values(ctx: RunContext) -> None:
    reference = torch.ones(3, dtype=torch.float64)
    off = ctx.check_close("off", torch.tensor([1.0, 1.5, 1.0], dtype=torch.float64), reference)
    assert (off.passed, off.max_abs, off.max_rel) == (False, 0.5, 0.5)
    assert not ctx.check_close("shape", torch.ones(4, dtype=torch.float64), reference).passed
    nan = ctx.check_close("nan", torch.tensor([1.0, math.nan, 1.0], dtype=torch.float64), reference)
    assert not nan.passed and "non-finite" in nan.detail
    assert ctx.result.verdict() == "failed"


def test_value_and_grads_flattens_the_true_gradients(ctx: RunContext) -> None:
    x = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)
    w = torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64, requires_grad=True)
    out, grads = ctx.value_and_grads(lambda t: w * t**2, x, params=[w])
    assert torch.equal(out, w.detach() * x**2)
    weights = torch.linspace(-1, 1, 3, dtype=torch.float64)  # the fixed weighting of the output
    expected = torch.cat([weights * 2 * w.detach() * x, weights * x**2])  # d/dx, then d/dw
    assert torch.allclose(grads, expected)
    assert x.grad is None  # the caller's tensors are not touched


def test_a_stage_with_nothing_recorded_fails_and_targets_decide(ctx: RunContext) -> None:
    assert ctx.result.verdict() == "failed"
    ctx.begin_stage("train")
    ctx.target("accuracy", 0.99, 0.99)
    assert ctx.result.verdict() == "passed"
    assert not Target("loss", math.nan, 1.0, higher_is_better=False).passed
