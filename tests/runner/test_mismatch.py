"""A failed comparison says what the numbers suggest about the mistake (issue 53: "hints may quantify the
error seen"): the real `RunContext.check_close` on real tensors, and the grader on a wrong RMSNorm."""

from __future__ import annotations

import pytest
import torch

from readtrack import practice
from readtrack.runner.context import RunContext


@pytest.fixture
def ctx() -> RunContext:
    context = RunContext(device="cpu", quick=True, seed=0)
    context.begin_stage("check")
    return context


def detail(ctx: RunContext, actual: torch.Tensor, expected: torch.Tensor) -> str:
    comparison = ctx.check_close("out", actual, expected)
    assert not comparison.passed
    return comparison.detail


def test_a_scale_is_measured_and_named_from_the_output_shape(ctx: RunContext) -> None:
    e = torch.randn(2, 5, 64, dtype=torch.float64)
    assert detail(ctx, e / 8, e) == "your output ≈ expected × 0.125 (1/√64: 64 is a size of the output)"
    assert detail(ctx, -e, e) == "your output ≈ expected × -1 (the sign flipped)"
    assert detail(ctx, e * 5, e) == "your output ≈ expected × 5 (5: 5 is a size of the output)"
    assert detail(ctx, e * 1.37, e) == "your output ≈ expected × 1.37"


def test_a_shift_a_transpose_and_a_permutation(ctx: RunContext) -> None:
    e = torch.randn(3, 4, 4, dtype=torch.float64)
    assert detail(ctx, e + 0.5, e) == "your output ≈ expected + 0.5 everywhere"
    assert (
        detail(ctx, e.transpose(-1, -2), e)
        == "your output is the expected one with its last two axes swapped"
    )
    assert "another order" in detail(ctx, e.flip(0), e)
    close = e * (1 + 1e-4 * torch.randn_like(e))  # a rounding-sized error: close in place, not reordered
    assert "order" not in detail(ctx, close, e) and "swapped" not in detail(ctx, close, e)


def test_otherwise_where_it_is_wrong(ctx: RunContext) -> None:
    e = torch.zeros(2, 3, dtype=torch.float64)
    a = e.clone()
    a[1, 2] = 0.75
    a[0, 0] = 0.25
    assert detail(ctx, a, e) == "wrong in 2 of 6 elements; the worst at index (1, 2): yours 0.75, expected 0"
    assert ctx.check_close("same", e, e).detail == ""  # a passing comparison says nothing more


def test_the_grader_tells_a_learner_their_rmsnorm_is_off_by_a_factor() -> None:
    from plugins.rmsnorm.model import RMSNorm

    def forward(self: RMSNorm, a: torch.Tensor) -> torch.Tensor:
        dims = tuple(range(-len(self.normalized_shape), 0))
        x = a.to(torch.promote_types(a.dtype, torch.float32))
        rms = torch.sqrt(x.pow(2).mean(dim=dims, keepdim=True) + self.eps)
        return (2 * x / rms * self.weight).to(a.dtype)  # twice the normalised input

    result = practice.check("rmsnorm", {"RMSNorm.forward": forward}, isolated=False, record=False)
    first = next(line for line in result.lines() if line.startswith("✗"))
    assert "your output ≈ expected × 2 (twice)" in first, first
