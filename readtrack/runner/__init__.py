"""One run in this process: a plugin's check, train and bench under a seed on a device.

`run` (`run_plugin`: one run, stages, timeouts, cancellation), `context` (what a stage gets: `RunContext`),
`devices`, `precision` and `cuda_emulator`, `bench` (timing), `mismatch` (what a failed comparison's numbers
suggest). Many runs are `readtrack.batch`'s; what runs gave is kept by `readtrack.history`.

``readtrack.runner.run_plugin`` is the public name of `run.run_plugin`, imported when first asked for, so
that reading a record or the history does not load the runner.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from readtrack.runner.run import run_plugin

__all__ = ["run_plugin"]


def __getattr__(name: str) -> Any:
    if name == "run_plugin":
        from readtrack.runner.run import run_plugin

        return run_plugin
    raise AttributeError(f"module 'readtrack.runner' has no attribute {name!r}")
