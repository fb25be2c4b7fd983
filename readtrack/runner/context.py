"""The plugin API: what a paper plugin's ``check``, ``train`` and ``bench`` receive and report through.

An experiments module defines ``check(ctx)``, ``train(ctx)`` and ``bench(ctx)``; each receives a
:class:`RunContext` and reports through it:

- check:  ``ctx.check_close(name, actual, expected)`` compares against an independent reference with
          tolerances suited to the dtype; ``ctx.check_property(name, passed, detail)`` records a property
          the paper relies on (causality, invariance, memory growth ...).
- train:  ``ctx.metric(name, step, value)`` builds the curve; ``ctx.target(name, value, target)`` decides
          pass/fail against the plugin's declared target; ``ctx.measured(name, value, detail)`` reports a
          number without asserting it (small, noisy effects).
- bench:  ``ctx.bench.measure(label, fn, ...)`` times ``fn`` with the harness in ``readtrack.runner.bench``.

The runner owns the setup every stage needs, so plugins never repeat it: before each stage it seeds
Python, torch and numpy with ``ctx.seed``, flushes denormals and turns on deterministic algorithms (off
for bench). ``ctx.exact_dtype`` is the most precise float the device has (float64, float32 on MPS) and
``ctx.check_dtypes`` the dtypes a check stage normally covers; :func:`dtype_name` names a dtype.

A stage passes when every comparison, property and target it recorded passed, and it recorded at least one.
This module imports torch only inside methods, so the records can be read and a context built without it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict
from typing import TYPE_CHECKING, Any, TypeVar

from readtrack.plugins import events
from readtrack.plugins.records import Comparison, Emit, Measured, StageResult, Target, claim_note

C = TypeVar("C")

if TYPE_CHECKING:
    import torch

    from readtrack.runner.bench import BenchHarness

__all__ = ["TOLERANCES", "RunContext", "dtype_name"]

# (atol, rtol) by dtype name: float64 is exact to rounding, low precision is checked at its own resolution.
TOLERANCES: dict[str, tuple[float, float]] = {
    "float64": (1e-10, 1e-8),
    "float32": (1e-5, 1e-4),
    "bfloat16": (1e-2, 1e-2),
    "float16": (2e-3, 2e-3),
}


def dtype_name(dtype: Any) -> str:
    """``torch.float64`` as ``float64``: how dtypes are named in check names, rows and tolerances."""
    return str(dtype).removeprefix("torch.")


def knobs_missed(stage: str) -> str:
    """The warning of a stage that called ``ctx.config`` though a sweep's plan judged it knob-blind."""
    return (
        f"warning: {stage} called ctx.config, but readtrack's reading of experiment.py missed it and judged "
        f"{stage} to read no knob: this sweep ran {stage} at the defaults only"
    )


class FirstFailure(BaseException):
    """Raised out of a check stage at its first failing comparison when the run asked for it
    (``first_failure``): the stage ends failed, its comparisons those made so far. A BaseException, so that
    ``except Exception`` in a plugin's check cannot eat it."""


class RunContext:
    """The object a plugin's ``check``/``train``/``bench`` receives. See the module docstring."""

    def __init__(
        self,
        *,
        device: str,
        quick: bool,
        seed: int,
        emit: Emit | None = None,
        bench: BenchHarness | None = None,
        options: dict[str, Any] | None = None,
        settings: dict[str, Any] | None = None,
        knob_blind: Sequence[str] = (),
        first_failure: bool = False,
    ) -> None:
        self.device = device
        self.quick = quick
        self.seed = seed
        #: plugin-specific options from the command line (e.g. ``--impl triton``), never required.
        self.options: dict[str, Any] = dict(options or {})
        #: the knobs the reader turned (``--set``; `readtrack.plugins.knobs`): while any is set, targets are
        #: reported against their thresholds but assert nothing (they were calibrated on the defaults).
        self.settings: dict[str, Any] = dict(settings or {})
        #: the stages a sweep's plan judged to read no knob (`readtrack.batch.sweep.knob_readers`), run at
        #: the defaults only: one that calls `config` all the same says so (`knobs_missed`)
        self.knob_blind = tuple(knob_blind)
        self._missed: set[str] = set()
        #: end the check stage at its first failing comparison (`FirstFailure`): judging a wrong solution
        #: reads that one only (`readtrack.practice.mistakes.judged`)
        self.first_failure = first_failure
        self._bench = bench
        self._emit = emit or (lambda event: None)
        self.result = StageResult(stage="", status="running")

    def config(self, config: type[C]) -> C:
        """The run's settings of the plugin's ``Config`` (its ``config.py``): each knob's default for this
        run's size (``quick``), with the reader's ``--set`` values applied."""
        from readtrack.plugins.knobs import resolve

        stage = self.result.stage
        if stage in self.knob_blind and stage not in self._missed:  # the plan's reading of it was wrong
            self._missed.add(stage)
            self._event(events.LOG, message=knobs_missed(stage), knobs_missed=stage)
        return resolve(config, self.quick, self.settings)

    @property
    def bench(self) -> BenchHarness:
        """The timing harness (``ctx.bench.measure(label, fn, ...)``), made on first use if none was given."""
        if self._bench is None:
            from readtrack.runner.bench import BenchHarness

            self._bench = BenchHarness(self.device, quick=self.quick)
            self._bench.attach(self.result, self._emit)
        return self._bench

    @property
    def exact_dtype(self) -> torch.dtype:
        """float64, the reference precision of every check, or float32 on MPS, which has no float64."""
        import torch

        return torch.float32 if self.device.startswith("mps") else torch.float64

    @property
    def check_dtypes(self) -> list[torch.dtype]:
        """The dtypes a check covers: ``exact_dtype`` (exactness), then float32 (what people train in)."""
        import torch

        return list(dict.fromkeys([self.exact_dtype, torch.float32]))

    # -- plumbing used by the runner ------------------------------------------------------------
    def begin_stage(self, stage: str) -> StageResult:
        self.result = StageResult(stage=stage, status="running")
        if self._bench is not None:
            self._bench.attach(self.result, self._emit)
        return self.result

    def _event(self, type_: str, **payload: Any) -> None:
        self._emit({"type": type_, "stage": self.result.stage, **payload})

    # -- reporting ------------------------------------------------------------------------------
    def log(self, message: str) -> None:
        """A line for the live log (TUI, ``--json`` stream)."""
        self._event(events.LOG, message=message)

    def progress(self, done: float, total: float | None = None, message: str = "") -> None:
        """Progress within the stage: ``done`` of ``total`` units (steps, shapes ...)."""
        self._event(events.PROGRESS, done=done, total=total, message=message)

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
        """Compare two tensors elementwise, as ``torch.allclose`` does: every element must satisfy
        ``|a − e| <= atol + rtol·|e|``, and every value must be finite.

        Default tolerances come from the lower-precision dtype of the two (see ``TOLERANCES``). The record's
        ``worst`` is the largest ``|a − e| / (atol + rtol·|e|)``: the comparison passes when it is ≤ 1.
        """
        import torch

        a = torch.as_tensor(actual).detach()
        e = torch.as_tensor(expected).detach()
        if a.shape != e.shape:
            comp = Comparison(name, False, detail=f"shape {tuple(a.shape)} != reference {tuple(e.shape)}")
            return self._record(comp)
        precision = min(a.dtype, e.dtype, key=lambda d: torch.finfo(d).bits if d.is_floating_point else 64)
        dtype = dtype_name(precision)
        d_atol, d_rtol = TOLERANCES.get(dtype, TOLERANCES["float32"])
        atol = d_atol if atol is None else atol
        rtol = d_rtol if rtol is None else rtol
        a64, e64 = a.to("cpu", torch.float64), e.to("cpu", torch.float64)
        diff = (a64 - e64).abs()
        max_abs = float(diff.max()) if diff.numel() else 0.0
        large = e64.abs() > atol
        max_rel = float((diff[large] / e64.abs()[large]).max()) if bool(large.any()) else 0.0
        # An exact match passes at any tolerance, zero included (0/0 would otherwise read as a failure).
        ratio = torch.where(diff == 0, 0.0, diff / (atol + rtol * e64.abs()))
        worst = float(ratio.nan_to_num(nan=torch.inf).max()) if ratio.numel() else 0.0
        finite = bool(torch.isfinite(a64).all())
        passed = finite and worst <= 1.0
        detail = "" if finite else "non-finite values in the implementation's output"
        if finite and not passed:  # a hint that quantifies the mistake (``readtrack.runner.mismatch``)
            from readtrack.runner.mismatch import describe

            detail = describe(a64, e64, ratio.nan_to_num(nan=torch.inf) > 1.0)
        comp = Comparison(name, passed, "close", max_abs, max_rel, atol, rtol, dtype, detail, worst)
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
        # A parameter the forward did not use (an expert no token chose) has a zero gradient, not None.
        grads = torch.autograd.grad((out * weights).sum(), [*leaves, *params], materialize_grads=True)
        return out.detach(), torch.cat([g.flatten() for g in grads])

    def check_property(
        self, name: str, passed: bool, detail: str = "", value: float | None = None
    ) -> Comparison:
        """Record a property the paper relies on; ``value`` is an optional measured number behind it."""
        comp = Comparison(name, bool(passed), "property", max_abs=value, detail=detail)
        return self._record(comp)

    def _record(self, comp: Comparison) -> Comparison:
        self.result.comparisons.append(comp)
        self._event(events.RESULT, kind="comparison", data=asdict(comp))
        if self.first_failure and not comp.passed and self.result.stage == "check":
            raise FirstFailure(comp.name)
        return comp

    # -- train ----------------------------------------------------------------------------------
    def metric(self, name: str, step: int, value: float) -> None:
        """One point of a metric's curve (loss, accuracy ...)."""
        self.result.curves.setdefault(name, []).append((int(step), float(value)))
        self._event(events.METRIC, name=name, step=int(step), value=float(value))

    def target(
        self,
        name: str,
        value: float,
        target: float,
        *,
        higher_is_better: bool = True,
        detail: str = "",
        asserted: bool = True,
    ) -> Target | Measured:
        """The claim at toy scale: pass when ``value`` reaches ``target``. With ``asserted=False`` (typically
        ``not ctx.quick``: a quick run whose seed-to-seed spread is too wide for the calibration rule, see
        ``readtrack.history.calibration``) the number is reported with the threshold it is held to elsewhere,
        and asserts nothing."""
        if not asserted or self.settings:
            claim = claim_note(target, higher_is_better, calibrated=not self.settings)
            return self.measured(name, value, f"{detail}; {claim}" if detail else claim)
        t = Target(name, float(value), float(target), higher_is_better, detail)
        self.result.targets.append(t)
        self._event(events.RESULT, kind="target", data={**asdict(t), "passed": t.passed})
        return t

    def measured(self, name: str, value: float, detail: str = "") -> Measured:
        """Report a number without asserting it."""
        m = Measured(name, float(value), detail)
        self.result.measured.append(m)
        self._event(events.RESULT, kind="measured", data=asdict(m))
        return m
