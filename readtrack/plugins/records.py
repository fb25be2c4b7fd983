"""The records a plugin run produces: comparisons, targets, measurements, bench rows, stage results and
the whole run, as plain dataclasses that history, the CLI and the TUI read without importing torch.

:class:`RunRecord` round-trips through JSON (``to_dict``/``from_dict``; :func:`jsonable` makes NaN and
infinities strict-JSON ``null``), which is how history stores runs and ``readtrack run --json`` streams them.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal, TextIO, TypeVar, get_args

Emit = Callable[[dict[str, Any]], None]

#: What a stage ends as ("running" while it runs); a run's status is its worst stage's (see the runner).
StageStatus = Literal["running", "passed", "failed", "error", "skipped", "timeout", "cancelled"]
RunStatus = Literal["running", "passed", "failed", "error", "timeout", "cancelled", "interrupted"]
STAGE_STATUSES: tuple[StageStatus, ...] = get_args(StageStatus)
RUN_STATUSES: tuple[RunStatus, ...] = get_args(RunStatus)

#: A bench row whose interquartile range exceeds this share of its median is too noisy for its ratio to mean
#: anything: it is flagged as noisy wherever it is shown (CLI, TUI, history) instead of read as a finding.
NOISE_LIMIT = 0.2


@dataclass
class Comparison:
    """One implementation-vs-reference comparison (or a property check when ``kind == 'property'``).

    ``worst`` explains the verdict: the largest |actual − expected| / (atol + rtol·|expected|) over the
    elements, so a close comparison passes exactly when ``worst <= 1`` (and every value is finite).
    ``max_rel`` is max |actual − expected| / |expected| over elements larger than atol, for reading only.
    """

    name: str
    passed: bool
    kind: str = "close"  # close | property
    max_abs: float | None = None
    max_rel: float | None = None
    atol: float | None = None
    rtol: float | None = None
    dtype: str | None = None
    detail: str = ""
    worst: float | None = None


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
        # A target is a finite number. An infinite one (a ratio over a baseline that never got there) fails
        # like NaN: JSON stores both as null, and a run read back from history or from a worker process must
        # get the verdict the run itself gave. Report such a bound as a finite number instead.
        if not math.isfinite(self.value):
            return False
        return self.value >= self.target if self.higher_is_better else self.value <= self.target


@dataclass
class Measured:
    """A number reported with the run but not asserted (a real but small or noisy effect)."""

    name: str
    value: float
    detail: str = ""

    @property
    def claim(self) -> tuple[float, bool] | None:
        """(threshold, higher is better) of a target reported instead of asserted (``RunContext.target(...,
        asserted=False)`` ends the detail with :func:`claim_note`); None for a plain measured value."""
        found = re.search(r"\(the claim: ([≥≤]) (\S+)\)$", self.detail)
        return (float(found[2]), found[1] == "≥") if found else None


def claim_note(target: float, higher_is_better: bool, *, calibrated: bool = True) -> str:
    """How a measured value's detail names the threshold a run of another size (or, with ``calibrated``
    false, a run of the default settings: knobs were turned) asserts it against."""
    why = "at this size" if calibrated else NOT_CALIBRATED
    return f"reported, not asserted {why} (the claim: {'≥' if higher_is_better else '≤'} {target:g})"


#: Why a target of a run with knobs turned (``--set``) is reported, not asserted.
NOT_CALIBRATED = "with these settings, not calibrated for them"


@dataclass
class BenchRow:
    """One timed variant. Times in seconds, memory in bytes; ``ratio`` is relative to the baseline's time.

    ``noisy`` is set when the IQR exceeds ``NOISE_LIMIT`` of the median (see :attr:`spread`): the row's
    time and ratio are shown, but marked as not reliable.
    """

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
    noisy: bool = False

    @property
    def spread(self) -> float:
        """The IQR as a share of the median (NaN when either is unknown)."""
        if not (math.isfinite(self.iqr_s) and math.isfinite(self.median_s)) or self.median_s <= 0:
            return math.nan
        return self.iqr_s / self.median_s


@dataclass
class StageResult:
    """The outcome of one stage: ``status`` is passed | failed | error | skipped | timeout | cancelled."""

    stage: str
    status: StageStatus
    duration_s: float = 0.0
    comparisons: list[Comparison] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    measured: list[Measured] = field(default_factory=list)
    curves: dict[str, list[tuple[int, float]]] = field(default_factory=dict)
    bench: list[BenchRow] = field(default_factory=list)
    #: one line for an error, timeout or cancellation; ``traceback`` keeps the whole story for errors.
    error: str | None = None
    traceback: str | None = None

    def verdict(self) -> StageStatus:
        """passed when everything recorded passed and something was recorded, else failed (a stage that
        only reports measured numbers, a quick run too small to assert its claim on every seed, passes)."""
        checks = [c.passed for c in self.comparisons] + [t.passed for t in self.targets]
        if self.stage == "bench":
            ok = bool(self.bench) and all(r.error is None for r in self.bench)
            return "passed" if ok and all(checks) else "failed"
        if not checks:  # numbers reported, nothing asserted: a smoke test that ran (issue 42); else nothing
            return "passed" if self.measured else "failed"
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
    #: torch's CPU intra-op thread count during the run (0: recorded before readtrack stored it)
    threads: int = 0
    #: the multi-seed or shelf run this run is part of (``readtrack run --seeds/--all``), else None
    group_id: str | None = None
    #: the knobs turned off their defaults (``--set``, `readtrack.plugins.knobs`); empty for a run of the
    # defaults
    settings: dict[str, Any] = field(default_factory=dict)
    #: the sweep this run is part of (``--set lr=A,B``: one group per setting, `readtrack.batch.sweep`),
    # else None
    sweep_id: str | None = None
    #: each attempt at the run, in order, when it took more than one (a Ray node lost mid-run, the run
    # started again elsewhere: `readtrack.batch.ray_executor`): ``{"attempt", "node", "host", "status",
    # "error", "wall_s"}``, the lost ones ``retried``, the last the one recorded; empty for a run made once
    # (and in records made before readtrack kept them)
    attempts: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class RunRecord:
    """A finished run: what history stores and ``readtrack run --json`` reports last."""

    info: RunInfo
    status: RunStatus
    duration_s: float
    stages: list[StageResult] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The record as JSON, its setting first (the knobs turned off the defaults, ``{}`` for the
        defaults; the same as ``info.settings``), so that a reader of ``--json`` sees what the numbers
        belong to before the numbers."""
        return {"settings": self.info.settings, **asdict(self)}

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
                name: [(int(step), float_or_nan(value)) for step, value in points]
                for name, points in raw.get("curves", {}).items()
            }
            stage.bench = [
                _build(BenchRow, _nan_for_none(b, "median_s", "iqr_s")) for b in raw.get("bench", [])
            ]
            stages.append(stage)
        return cls(
            info=_build(RunInfo, data["info"]),
            status=data["status"],
            duration_s=float_or_nan(data.get("duration_s")),
            stages=stages,
        )


def worst_status(statuses: list[RunStatus]) -> RunStatus:
    """A run's or a group's status from its parts': the worst of them, ``passed`` only when all passed."""
    worst_first: tuple[RunStatus, ...] = ("cancelled", "interrupted", "timeout", "error", "failed")
    for status in worst_first:
        if status in statuses:
            return status
    return "passed" if statuses and all(s == "passed" for s in statuses) else "failed"


_Record = TypeVar("_Record")


def _build(cls: type[_Record], data: dict[str, Any]) -> _Record:
    names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    return cls(**{key: value for key, value in data.items() if key in names})


def float_or_nan(value: Any) -> float:
    """A stored number, NaN for JSON null or SQL NULL (a non-finite value, or none recorded)."""
    return math.nan if value is None else float(value)


def _nan_for_none(data: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {**data, **{key: float_or_nan(data.get(key)) for key in keys}}


def jsonable(value: Any) -> Any:
    """``value`` with every NaN or infinity replaced by ``None``, so ``json.dumps`` writes strict JSON."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(item) for item in value]
    return value


def json_lines(stream: TextIO) -> Emit:
    """An ``emit`` writing each event as one line of strict JSON (NaN becomes null), flushed at once."""

    def write(event: dict[str, Any]) -> None:
        stream.write(json.dumps(jsonable(event), ensure_ascii=False) + "\n")
        stream.flush()

    return write


class UntilClosed:
    """`json_lines` on ``stream`` until its reader goes away (a broken pipe): from then on nothing is
    written, and ``closed`` says so; the stream's descriptor then points at /dev/null, so that no flush
    (Python's own at exit) meets the broken pipe again. Called from any thread."""

    def __init__(self, stream: TextIO) -> None:
        self.write = json_lines(stream)
        self.stream = stream
        self.closed = False

    def __call__(self, event: dict[str, Any]) -> None:
        if self.closed:
            return
        try:
            self.write(event)
        except BrokenPipeError:
            self.closed = True
            try:
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, self.stream.fileno())
                os.close(devnull)
            except (OSError, ValueError):  # no descriptor of its own (a StringIO): nothing flushes it at exit
                pass
