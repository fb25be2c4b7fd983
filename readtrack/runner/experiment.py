"""The plugin API's former home, kept so that plugins written against it keep working.

New code imports :class:`~readtrack.runner.context.RunContext` from ``readtrack.runner.context`` and the
records from ``readtrack.plugins.records``; this module only re-exports them.
"""

from __future__ import annotations

from readtrack.base.errors import one_line
from readtrack.plugins.records import (
    BenchRow,
    Comparison,
    Emit,
    Measured,
    RunInfo,
    RunRecord,
    StageResult,
    Target,
    jsonable,
)
from readtrack.runner.context import TOLERANCES, RunContext, dtype_name

__all__ = [
    "TOLERANCES",
    "BenchRow",
    "Comparison",
    "Emit",
    "Measured",
    "RunContext",
    "RunInfo",
    "RunRecord",
    "StageResult",
    "Target",
    "dtype_name",
    "jsonable",
    "one_line",
]
