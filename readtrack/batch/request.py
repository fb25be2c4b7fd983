"""What one run is asked to be, said once: a `RunRequest`, the unit every executor runs.

The CLI's ``run --seeds/--all/--set``, the TUI, the Python API, practice and ``benchmarks/calibrate.py`` all
describe a run this way, and the child process that runs it (`readtrack.batch.forkserver`) reads it back and
calls :func:`readtrack.runner.run_plugin` with it: no command line is spelled in between. A request travels as
one JSON object (``to_json``/``from_json``). Torch-free.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from typing import Any, TypeVar

_R = TypeVar("_R", bound="RunRequest")


@dataclass(frozen=True)
class RunRequest:
    """One run: a plugin at a seed, in the group that collects its seeds, with the knobs it turns
    (``settings``, already checked: one value each) and how it runs (device, quick, one stage or a few, a
    stage timeout, an implementation, torch's CPU threads, and in a sweep the stages its plan judged to read
    no knob, ``knob_blind``: `readtrack.batch.sweep`)."""

    plugin: str
    seed: int = 0
    group_id: str = ""
    settings: tuple[tuple[str, Any], ...] = ()
    device: str = "auto"
    quick: bool = False
    only: str | tuple[str, ...] | None = None
    timeout: float | None = None
    impl: str | None = None
    threads: int = 1
    knob_blind: tuple[str, ...] = ()

    def to_json(self) -> str:
        return json.dumps({**asdict(self), "settings": [list(pair) for pair in self.settings]})

    @classmethod
    def from_json(cls: type[_R], text: str) -> _R:
        data = json.loads(text)
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown run request field(s): {', '.join(unknown)}")
        data["settings"] = tuple((str(k), v) for k, v in data.get("settings", ()))
        if isinstance(data.get("only"), list):  # a few stages: a tuple again, so that the request hashes
            data["only"] = tuple(data["only"])
        data["knob_blind"] = tuple(data.get("knob_blind", ()))
        return cls(**data)

    @property
    def label(self) -> str:
        """``rmsnorm seed 3`` (``rmsnorm lr=0.01 seed 3`` with knobs turned), for messages."""
        from readtrack.plugins.knobs import value_text

        turned = " ".join(f"{k}={value_text(v)}" for k, v in self.settings)
        return " ".join(part for part in (self.plugin, turned, f"seed {self.seed}") if part)

    def run_kwargs(self) -> dict[str, Any]:
        """The keyword arguments of :func:`readtrack.runner.run_plugin` that run this request (a batch's
        run: out of history, which the driver writes)."""
        return {
            "device": self.device,
            "quick": self.quick,
            "seed": self.seed,
            "only": self.only,
            "timeout": self.timeout,
            "options": {"impl": self.impl} if self.impl else {},
            "threads": self.threads,
            "keep_history": False,
            "group_id": self.group_id or None,
            "settings": dict(self.settings),
            "knob_blind": self.knob_blind,
        }
