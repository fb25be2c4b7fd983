"""What a running paper plugin talks to: the run context, and the records a run produces.

An experiments module defines ``check(ctx)``, ``train(ctx)`` and ``bench(ctx)``; each receives a
:class:`RunContext` and reports through it:

- check:  ``ctx.check_close(name, actual, expected)`` compares against an independent reference with
          tolerances suited to the dtype; ``ctx.check_property(name, passed, detail)`` records a property
          the paper relies on (causality, invariance, memory growth ...).
- train:  ``ctx.metric(name, step, value)`` builds the curve; ``ctx.target(name, value, target)`` decides
          pass/fail against the plugin's declared target; ``ctx.measured(name, value, detail)`` reports a
          number without asserting it (small, noisy effects).
- bench:  ``ctx.bench.measure(label, fn, ...)`` times ``fn`` with the harness in ``readtrack.bench``.

A stage passes when every comparison, property and target it recorded passed, and it recorded at least one.
This module imports torch only inside :meth:`RunContext.check_close`, so the records can be read without it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any, TypeVar

Emit = Callable[[dict[str, Any]], None]

# (atol, rtol) by dtype name: float64 is exact to rounding, low precision is checked at its own resolution.
TOLERANCES: dict[str, tuple[float, float]] = {
    "float64": (1e-10, 1e-8),
    "float32": (1e-5, 1e-4),
    "bfloat16": (1e-2, 1e-2),
    "float16": (2e-3, 2e-3),
}


@dataclass
class Comparison:
    """One implementation-vs-reference comparison (or a property check when ``kind == 'property'``)."""

    name: str
    passed: bool
    kind: str = "close"  # close | property
    max_abs: float | None = None
    max_rel: float | None = None
    atol: float | None = None
    rtol: float | None = None
    dtype: str | None = None
    detail: str = ""


@dataclass
class Target:
    """A claim at toy scale: ``value`` must reach ``target`` (>= when higher is better, else <=)."""

    name: str
    value: float
    target: float
    higher_is_better: bool = True
    detail: str = ""

    @property
    def passed(self) -> bool:
        if math.isnan(self.value):
            return False
        return self.value >= self.target if self.higher_is_better else self.value <= self.target


@dataclass
class Measured:
    """A number reported with the run but not asserted (a real but small or noisy effect)."""

    name: str
    value: float
    detail: str = ""


@dataclass
class BenchRow:
    """One timed variant. Times in seconds, memory in bytes; ``ratio`` is relative to the baseline's time."""

    label: str
    median_s: float
    iqr_s: float
    runs: int
    baseline: bool = False
    throughput: float | None = None
    unit: str | None = None
    flops: float | None = None
    flop_formula: str | None = None
    tflops: float | None = None
    peak_mem_bytes: int | None = None
    shape: str | None = None
    dtype: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    ratio: float | None = None
    error: str | None = None


@dataclass
class StageResult:
    """The outcome of one stage: ``status`` is passed | failed | error | skipped | timeout | cancelled."""

    stage: str
    status: str
    duration_s: float = 0.0
    comparisons: list[Comparison] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    measured: list[Measured] = field(default_factory=list)
    curves: dict[str, list[tuple[int, float]]] = field(default_factory=dict)
    bench: list[BenchRow] = field(default_factory=list)
    #: one line for an error, timeout or cancellation; ``traceback`` keeps the whole story for errors.
    error: str | None = None
    traceback: str | None = None

    def verdict(self) -> str:
        """passed when everything recorded passed and something was recorded, else failed."""
        checks = [c.passed for c in self.comparisons] + [t.passed for t in self.targets]
        if self.stage == "bench":
            ok = bool(self.bench) and all(r.error is None for r in self.bench)
            return "passed" if ok and all(checks) else "failed"
        if not checks:
            return "failed"
        return "passed" if all(checks) else "failed"


@dataclass
class RunInfo:
    """What is known when a run starts: passed to every lifecycle hook."""

    run_id: str
    plugin: str
    paper_id: str
    device: str
    stages: list[str]
    quick: bool
    seed: int
    started_at: str
    environment: dict[str, Any] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class RunRecord:
    """A finished run: what history stores and ``readtrack run --json`` reports last."""

    info: RunInfo
    status: str  # passed | failed | error | timeout | cancelled
    duration_s: float
    stages: list[StageResult] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunRecord:
        """Rebuild a record from :meth:`to_dict` output (history, the ``--json`` stream); unknown keys are
        ignored and JSON ``null`` numbers (non-finite values) come back as NaN."""
        stages = []
        for raw in data.get("stages", []):
            stage = _build(StageResult, raw)
            stage.comparisons = [_build(Comparison, c) for c in raw.get("comparisons", [])]
            stage.targets = [
                _build(Target, _nan_for_none(t, "value", "target")) for t in raw.get("targets", [])
            ]
            stage.measured = [_build(Measured, _nan_for_none(m, "value")) for m in raw.get("measured", [])]
            stage.curves = {
                name: [(int(step), _float(value)) for step, value in points]
                for name, points in raw.get("curves", {}).items()
            }
            stage.bench = [
                _build(BenchRow, _nan_for_none(b, "median_s", "iqr_s")) for b in raw.get("bench", [])
            ]
            stages.append(stage)
        return cls(
            info=_build(RunInfo, data["info"]),
            status=data["status"],
            duration_s=_float(data.get("duration_s")),
            stages=stages,
        )


_Record = TypeVar("_Record")


def _build(cls: type[_Record], data: dict[str, Any]) -> _Record:
    names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    return cls(**{key: value for key, value in data.items() if key in names})


def _float(value: Any) -> float:
    return math.nan if value is None else float(value)


def _nan_for_none(data: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {**data, **{key: _float(data.get(key)) for key in keys}}


def one_line(err: BaseException) -> str:
    """An exception as the one line a user sees: ``ValueError: shapes do not match``."""
    lines = str(err).strip().splitlines()
    return f"{type(err).__name__}: {lines[0]}" if lines else type(err).__name__


def jsonable(value: Any) -> Any:
    """``value`` with every NaN or infinity replaced by ``None``, so ``json.dumps`` writes strict JSON."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(item) for item in value]
    return value


def _dtype_name(dtype: Any) -> str:
    return str(dtype).removeprefix("torch.")


class RunContext:
    """The object a plugin's ``check``/``train``/``bench`` receives. See the module docstring."""

    def __init__(
        self,
        *,
        device: str,
        quick: bool,
        seed: int,
        emit: Emit | None = None,
        bench: Any = None,
        options: dict[str, Any] | None = None,
    ) -> None:
        self.device = device
        self.quick = quick
        self.seed = seed
        #: plugin-specific options from the command line (e.g. ``--impl triton``), never required.
        self.options: dict[str, Any] = dict(options or {})
        self.bench = bench
        self._emit = emit or (lambda event: None)
        self.result = StageResult(stage="", status="running")

    # -- plumbing used by the runner ------------------------------------------------------------
    def begin_stage(self, stage: str) -> StageResult:
        self.result = StageResult(stage=stage, status="running")
        if self.bench is not None and hasattr(self.bench, "attach"):
            self.bench.attach(self.result, self._emit)
        return self.result

    def _event(self, type_: str, **payload: Any) -> None:
        self._emit({"type": type_, "stage": self.result.stage, **payload})

    # -- reporting ------------------------------------------------------------------------------
    def log(self, message: str) -> None:
        """A line for the live log (TUI, ``--json`` stream)."""
        self._event("log", message=message)

    def progress(self, done: float, total: float | None = None, message: str = "") -> None:
        """Progress within the stage: ``done`` of ``total`` units (steps, shapes ...)."""
        self._event("progress", done=done, total=total, message=message)

    # -- check ----------------------------------------------------------------------------------
    def check_close(
        self,
        name: str,
        actual: Any,
        expected: Any,
        *,
        atol: float | None = None,
        rtol: float | None = None,
    ) -> Comparison:
        """Compare two tensors elementwise: max |a-e| and max |a-e|/|e| against tolerances.

        Default tolerances come from the lower-precision dtype of the two (see ``TOLERANCES``); the check
        passes when every element satisfies ``|a-e| <= atol + rtol*|e|`` (as ``torch.allclose``).
        """
        import torch

        a = torch.as_tensor(actual).detach()
        e = torch.as_tensor(expected).detach()
        if a.shape != e.shape:
            comp = Comparison(name, False, detail=f"shape {tuple(a.shape)} != reference {tuple(e.shape)}")
            return self._record(comp)
        precision = min(a.dtype, e.dtype, key=lambda d: torch.finfo(d).bits if d.is_floating_point else 64)
        dtype = _dtype_name(precision)
        d_atol, d_rtol = TOLERANCES.get(dtype, TOLERANCES["float32"])
        atol = d_atol if atol is None else atol
        rtol = d_rtol if rtol is None else rtol
        a64, e64 = a.to("cpu", torch.float64), e.to("cpu", torch.float64)
        diff = (a64 - e64).abs()
        max_abs = float(diff.max()) if diff.numel() else 0.0
        rel = diff / e64.abs().clamp_min(1e-12)
        max_rel = float(rel[e64.abs() > atol].max()) if bool((e64.abs() > atol).any()) else 0.0
        finite = bool(torch.isfinite(a64).all())
        passed = finite and bool((diff <= atol + rtol * e64.abs()).all())
        detail = "" if finite else "non-finite values in the implementation's output"
        comp = Comparison(name, passed, "close", max_abs, max_rel, atol, rtol, dtype, detail)
        return self._record(comp)

    def value_and_grads(
        self, fn: Callable[..., Any], *inputs: Any, params: Sequence[Any] = ()
    ) -> tuple[Any, Any]:
        """``fn(*inputs)`` and the gradients of a fixed weighting of its output with respect to the inputs
        and ``params``, flattened into one tensor, so that one `check_close` covers the whole backward pass
        of an implementation against its reference. Inputs are copied to the run's device as new leaves."""
        import torch

        leaves = [t.detach().to(self.device).clone().requires_grad_() for t in inputs]
        out = fn(*leaves)
        weights = torch.linspace(-1, 1, out.numel(), dtype=out.dtype, device=out.device).view_as(out)
        grads = torch.autograd.grad((out * weights).sum(), [*leaves, *params])
        return out.detach(), torch.cat([g.flatten() for g in grads])

    def check_property(
        self, name: str, passed: bool, detail: str = "", value: float | None = None
    ) -> Comparison:
        """Record a property the paper relies on; ``value`` is an optional measured number behind it."""
        comp = Comparison(name, bool(passed), "property", max_abs=value, detail=detail)
        return self._record(comp)

    def _record(self, comp: Comparison) -> Comparison:
        self.result.comparisons.append(comp)
        self._event("result", kind="comparison", data=asdict(comp))
        return comp

    # -- train ----------------------------------------------------------------------------------
    def metric(self, name: str, step: int, value: float) -> None:
        """One point of a metric's curve (loss, accuracy ...)."""
        self.result.curves.setdefault(name, []).append((int(step), float(value)))
        self._event("metric", name=name, step=int(step), value=float(value))

    def target(
        self, name: str, value: float, target: float, *, higher_is_better: bool = True, detail: str = ""
    ) -> Target:
        """The claim at toy scale: pass when ``value`` reaches ``target``."""
        t = Target(name, float(value), float(target), higher_is_better, detail)
        self.result.targets.append(t)
        self._event("result", kind="target", data={**asdict(t), "passed": t.passed})
        return t

    def measured(self, name: str, value: float, detail: str = "") -> Measured:
        """Report a number without asserting it."""
        m = Measured(name, float(value), detail)
        self.result.measured.append(m)
        self._event("result", kind="measured", data=asdict(m))
        return m
