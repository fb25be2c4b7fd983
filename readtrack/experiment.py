"""The plugin API's former home, kept so that plugins written against it keep working.

New code imports :class:`~readtrack.context.RunContext` from ``readtrack.context`` and the records from
``readtrack.records``; this module only re-exports them.
"""

from __future__ import annotations

from readtrack.context import TOLERANCES, RunContext, dtype_name
from readtrack.errors import one_line
from readtrack.records import (
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
