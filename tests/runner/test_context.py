"""The plugin API (readtrack.runner.context): tolerances by dtype, comparisons whose numbers explain the
verdict, gradients."""

from __future__ import annotations

import json
import math
from typing import cast

import pytest
import torch

from readtrack.plugins.records import RunInfo, RunRecord, RunStatus, StageResult, Target, jsonable
from readtrack.runner.context import RunContext, dtype_name


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


def test_check_close_with_zero_tolerance_asks_for_equality(ctx: RunContext) -> None:
    x = torch.tensor([0.0, 1.5, -2.0], dtype=torch.float64)
    assert ctx.check_close("bit for bit", x, x.clone(), atol=0, rtol=0).passed
    off = ctx.check_close("one ulp off", x, x + torch.tensor([0.0, 2.0**-52, 0.0]), atol=0, rtol=0)
    assert not off.passed and off.worst is not None and off.worst > 1
    nan = torch.tensor([float("nan")])
    assert not ctx.check_close("NaN", nan, torch.tensor([0.0]), atol=0, rtol=0).passed


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
    ctx.measured("a smoke test's number", 0.5)  # reported, nothing asserted: the stage ran, it passes
    assert ctx.result.verdict() == "passed"
    ctx.begin_stage("train")
    ctx.target("accuracy", 0.99, 0.99)
    assert ctx.result.verdict() == "passed"
    assert not Target("loss", math.nan, 1.0, higher_is_better=False).passed


def test_a_target_not_asserted_is_reported_with_its_threshold_and_cannot_fail(ctx: RunContext) -> None:
    ctx.begin_stage("train")
    ctx.target("lead, quick size", -0.2, 0.05, detail="3 steps", asserted=False)
    ctx.target("loss", 0.7, 0.5, higher_is_better=False, asserted=False)
    assert not ctx.result.targets and ctx.result.verdict() == "passed"
    assert [(m.name, m.value, m.detail) for m in ctx.result.measured] == [
        ("lead, quick size", -0.2, "3 steps; reported, not asserted at this size (the claim: ≥ 0.05)"),
        ("loss", 0.7, "reported, not asserted at this size (the claim: ≤ 0.5)"),
    ]
    ctx.target("loss", 0.7, 0.5, higher_is_better=False)  # asserted (the default): it fails
    assert ctx.result.verdict() == "failed"


def test_an_infinite_target_value_fails_here_and_after_a_trip_through_json() -> None:
    # JSON keeps no infinity (jsonable writes null), so a worker's record and the history read an infinite
    # value back as NaN; the run itself must give the same verdict, not "passed" beside a failed spread.
    speedup = Target("ratio over a baseline that never converged", math.inf, 3.0)
    assert not speedup.passed
    assert not Target("loss", -math.inf, 1.0, higher_is_better=False).passed
    stage = StageResult("train", "passed", targets=[speedup])
    stage.status = stage.verdict()
    info = RunInfo("r", "p", "p", "cpu", ["train"], True, 0, "2026-11-23T00:00:00+00:00")
    record = RunRecord(info, cast(RunStatus, stage.status), 1.0, [stage])  # the verdict: passed | failed
    back = RunRecord.from_dict(json.loads(json.dumps(jsonable(record.to_dict()))))
    assert stage.status == "failed"
    assert [t.passed for t in back.stages[0].targets] == [False] and back.stages[0].verdict() == "failed"


def test_worst_explains_the_verdict_even_where_max_rel_would_not(ctx: RunContext) -> None:
    # Near zero the relative error is huge while the element passes on atol: max_rel alone looked like a
    # failure beside a ✓; worst = |err| / (atol + rtol·|expected|) is ≤ 1 exactly when the check passes.
    expected = torch.tensor([2e-5, 1.0, 2.0], dtype=torch.float32)
    actual = expected + torch.tensor([8e-6, 5e-5, 0.0])
    comparison = ctx.check_close("near zero", actual, expected)
    assert comparison.passed and comparison.worst is not None and comparison.worst <= 1
    assert comparison.max_rel == pytest.approx(0.4, rel=1e-3)  # 8e-6 / 2e-5: far above rtol, yet it passes
    assert comparison.worst == pytest.approx(8e-6 / (1e-5 + 1e-4 * 2e-5), rel=1e-3)  # its err/tol, 0.8
    failing = ctx.check_close("over", expected + torch.tensor([0.0, 2e-4, 0.0]), expected)
    assert not failing.passed and failing.worst is not None and 1 < failing.worst < 2


def test_the_context_names_the_exact_dtype_per_device() -> None:
    assert RunContext(device="cpu", quick=True, seed=0).exact_dtype == torch.float64
    mps = RunContext(device="mps", quick=True, seed=0)  # no MPS needed: only the choice is tested
    assert mps.exact_dtype == torch.float32 and mps.check_dtypes == [torch.float32]
    assert RunContext(device="cpu", quick=True, seed=0).check_dtypes == [torch.float64, torch.float32]
    assert dtype_name(torch.bfloat16) == "bfloat16"
