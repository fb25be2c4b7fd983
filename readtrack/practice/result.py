"""What a practice attempt tells the learner: one :class:`PracticeResult`, as text, JSON, Markdown or HTML.

Torch-free: the CLI, the TUI and a notebook all render the same lines. The order is what a learner acts on
first: what they must fix (a wrong shape, an exception in their own file, the first failing comparison),
then what passed.
"""

from __future__ import annotations

import html
import math
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from readtrack.plugins.records import Comparison, RunRecord, StageResult, jsonable

#: How an attempt ended: every check (and target) passed, one failed, the code raised, ran past its timeout,
#: or its process died (os._exit, a segfault).
AttemptStatus = Literal["passed", "failed", "error", "timeout", "crashed"]

_FRAME = re.compile(r'^  File "(?P<file>.+)", line (?P<line>\d+), in (?P<where>.+)$')


@dataclass
class PracticeResult:
    """One graded attempt at a plugin's exercises.

    ``record`` is the run the plugin's check (and train) stage made with the learner's code (None when the
    process died before it could report); ``notes`` say what the learner should know besides the
    comparisons (a wrong shape, a call of the very reference); ``traceback`` is trimmed to the learner's own
    file; ``output`` is what their code printed, cut to a few thousand characters.
    """

    plugin: str
    targets: list[str]
    solution: str
    status: AttemptStatus
    record: RunRecord | None = None
    notes: list[str] = field(default_factory=list)
    error: str | None = None
    traceback: str | None = None
    output: str = ""

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    @property
    def exit_code(self) -> int:
        """0 when every comparison (and target) passed, else 1 (bad usage never gets this far)."""
        return 0 if self.passed else 1

    @property
    def comparisons(self) -> list[Comparison]:
        return [c for stage in self._stages("check") for c in stage.comparisons]

    def _stages(self, name: str) -> list[StageResult]:
        return [s for s in (self.record.stages if self.record else []) if s.stage == name]

    @property
    def trained(self) -> bool:
        """The train stage ran at the calibrated settings and every target passed: the paper's claim,
        reproduced with this code (knobs turned, ``--set``, report the targets and assert none)."""
        return any(s.status == "passed" for s in self._stages("train")) and not self.settings

    @property
    def settings(self) -> dict[str, object]:
        """The train stage's knobs the learner turned (empty: the defaults)."""
        return dict(self.record.info.settings) if self.record else {}

    def summary(self) -> str:
        """One line: the verdict, with how many checks passed."""
        comps = self.comparisons
        passing = sum(c.passed for c in comps)
        targets = " ".join(self.targets)
        if self.status == "passed" and self.settings and self._stages("train"):
            from readtrack.plugins.knobs import settings_label

            verdict = (
                f"checks pass; trained with {settings_label(self.settings)} (targets reported, not asserted)"
            )
        elif self.status == "passed":
            verdict = "claim reproduced" if self.trained else f"checks pass ({passing} of {len(comps)})"
        elif self.status == "failed" and comps and passing < len(comps):
            verdict = f"failing: {passing} of {len(comps)} checks pass"
        elif self.status == "failed":
            verdict = "checks pass, claim not reproduced" if self._stages("train") else "failing"
        else:
            verdict = {
                "error": "failing: your code raised an error",
                "timeout": "failing: stopped at the timeout",
                "crashed": "failing: its process died",
            }[self.status]
        return f"{self.plugin} · {targets}: {verdict}"

    def lines(self) -> list[str]:
        """The feedback, most actionable first (see the module docstring)."""
        out = [self.summary()]
        out += [f"note: {note}" for note in self.notes]
        if self.error:
            out.append(f"error: {self.error}")
        if self.traceback:
            frames = self.traceback.splitlines()
            if self.error and frames and frames[-1] in self.error:
                frames = frames[:-1]  # the exception line is the error line already
            out += frames
        comps = self.comparisons
        out += [_comparison_line(c) for c in comps if not c.passed]
        out += [_comparison_line(c) for c in comps if c.passed]
        for stage in self._stages("train"):
            out += [
                f"{'✓' if t.passed else '✗'} claim: {t.name}: {_num(t.value)} "
                f"({'≥' if t.higher_is_better else '≤'} {_num(t.target)} needed)"
                for t in stage.targets
            ]
            # held to a claim at full size (too noisy at quick size), or at the defaults (knobs turned):
            # shown, not graded
            where = "not asserted with these settings" if self.settings else "asserted in the full run"
            out += [
                f"· reported: {m.name}: {_num(m.value)} (the claim, {where}: "
                f"{'≥' if claim[1] else '≤'} {_num(claim[0])})"
                for m in stage.measured
                if (claim := m.claim) is not None
            ]
            if stage.error and not self.error:
                out.append(f"train: {stage.error}")
        if self.output:
            out += ["your code printed:", *("  " + line for line in self.output.splitlines())]
        return out

    def __str__(self) -> str:
        return "\n".join(self.lines())

    def to_dict(self) -> dict[str, Any]:
        return jsonable(
            {
                "plugin": self.plugin,
                "targets": self.targets,
                "solution": self.solution,
                "status": self.status,
                "passed": self.passed,
                "summary": self.summary(),
                "notes": self.notes,
                "error": self.error,
                "traceback": self.traceback,
                "output": self.output,
                "comparisons": [
                    {"name": c.name, "passed": c.passed, "line": _comparison_line(c)}
                    for c in self.comparisons
                ],
                "record": self.record.to_dict() if self.record else None,
            }
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PracticeResult:
        record = data.get("record")
        return cls(
            plugin=data["plugin"],
            targets=list(data["targets"]),
            solution=data["solution"],
            status=data["status"],
            record=RunRecord.from_dict(record) if record else None,
            notes=list(data.get("notes") or []),
            error=data.get("error"),
            traceback=data.get("traceback"),
            output=data.get("output") or "",
        )

    # -- Jupyter ------------------------------------------------------------------------------------
    def _repr_markdown_(self) -> str:
        head, *rest = self.lines()
        body = "\n".join(rest)
        return f"**{head}**\n\n```text\n{body}\n```\n" if body else f"**{head}**\n"

    def _repr_html_(self) -> str:
        head, *rest = self.lines()
        colour = "green" if self.passed else "firebrick"
        body = html.escape("\n".join(rest))
        return f'<p style="color:{colour}"><b>{html.escape(head)}</b></p><pre>{body}</pre>'


def _num(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "nan" if value is not None else "?"
    return f"{value:.3g}"


def _comparison_line(c: Comparison) -> str:
    """``✗ forward vs nn.RMSNorm (float64): max error 0.31, tolerance 1e-10 + 1e-08·|expected| (3.1e+07×
    over)``; a property: its name and detail (a failing one without a detail: ``does not hold``, so that
    every failing line says what failed about the named comparison)."""
    mark = "✓" if c.passed else "✗"
    if c.kind == "property" or c.atol is None:
        detail = c.detail or ("" if c.passed else "does not hold")
        return f"{mark} {c.name}" + (f": {detail}" if detail else "")
    error = _num(c.max_abs) if c.max_abs is not None else "not finite"  # JSON keeps NaN as null
    line = f"{mark} {c.name}: max error {error}, tolerance {c.atol:g} + {c.rtol:g}·|expected|"
    if not c.passed and c.worst is not None and math.isfinite(c.worst):
        line += f" ({c.worst:.3g}× over)"
    return line + (f"; {c.detail}" if c.detail else "")


def trim_traceback(text: str | None, files: set[str]) -> str | None:
    """A Python traceback cut to the frames in ``files`` (the learner's own code) and the exception line:
    never the frames of readtrack, the plugin's experiment or torch. None when there is nothing to show."""
    if not text:
        return None
    lines = text.rstrip("\n").splitlines()
    kept: list[str] = []
    keep_block = False
    for line in lines:
        match = _FRAME.match(line)
        if match:
            keep_block = match["file"] in files
            if keep_block:
                kept.append(line)
        elif line.startswith("    "):
            if keep_block:
                kept.append(line)
        else:
            keep_block = False
    last = next((line for line in reversed(lines) if line and not line.startswith(" ")), "")
    return "\n".join([*kept, last]) if kept else None
