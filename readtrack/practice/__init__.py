"""Practice: implement the core of a paper yourself, graded by its plugin's check and by the paper's claim.

A plugin declares exercises (``declare(..., exercises=[Exercise(...)])``, see
:class:`readtrack.plugins.declaration.Exercise`): functions or methods of its ``model.py``. ``readtrack
practice NAME`` writes the learner's workspace (:mod:`readtrack.practice.workspace`), :func:`check` grades it
with the plugin's own ``check`` stage (and ``train`` stage: the claim) through the runner
(:mod:`readtrack.practice.grading`), in a worker process (:mod:`readtrack.practice.isolation`), and records
the attempt in the run history as ``practice:NAME``. For a notebook::

    from readtrack import practice
    practice.check("rmsnorm", "model.py")        # or practice.check("rmsnorm", forward), in this process

Listing the exercises and their statuses (:func:`statuses`) never imports torch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from readtrack.plugins.declaration import Exercise
from readtrack.practice.declared import PracticePlugin, practice_plugin, practice_plugins
from readtrack.practice.workspace import workspace_file

if TYPE_CHECKING:  # the list of exercises imports none of these: it must be as fast as `readtrack list`
    import threading

    from readtrack.plugins.records import Emit, RunRecord
    from readtrack.practice.result import PracticeResult
    from readtrack.practice.workspace import Workspace

__all__ = [
    "PRACTICE_PREFIX",
    "Exercise",
    "ExerciseStatus",
    "PracticePlugin",
    "PracticeResult",
    "Workspace",
    "check",
    "mistake",
    "model_namespace",
    "open_workspace",
    "practice_plugin",
    "practice_plugins",
    "record_attempt",
    "statuses",
    "workspace_file",
]

#: Practice attempts are history runs of the plugin ``practice:NAME``: listed by ``readtrack history``, kept
#: apart from the plugin's own runs (a learner's failing attempt is not the plugin failing).
PRACTICE_PREFIX = "practice:"

Status = Literal["not started", "failing", "checks pass", "claim reproduced"]
_STATUSES: tuple[Status, ...] = ("not started", "failing", "checks pass", "claim reproduced")


def check(
    name: str,
    solution: object = None,
    *,
    train: bool = False,
    quick: bool = False,
    train_quick: bool | None = None,
    seed: int = 0,
    timeout: float | None = None,
    device: str = "auto",
    isolated: bool | None = None,
    record: bool = True,
    emit: Emit | None = None,
    cancel: threading.Event | None = None,
    settings: dict[str, Any] | None = None,
    first_failure: bool = False,
) -> PracticeResult:
    """Grade a solution of plugin ``name``'s exercises and record the attempt in history.

    ``solution``: the learner's ``model.py`` (default: the workspace, ``<data dir>/practice/NAME/model.py``),
    or the function itself (``check("rmsnorm", forward)``), or ``{"RMSNorm.forward": forward}``. A file is
    graded in a worker process (``isolated``; a function can only be graded in this one). ``train`` runs the
    train stage too when the check passed, at ``quick`` sizes unless ``train_quick`` says otherwise;
    ``timeout`` bounds each stage (seconds; None: from the model solution's recorded time, see
    ``readtrack.practice.timing``). ``settings`` turn the train stage's knobs (``{"lr": 0.01}``, checked as
    ``--set`` checks them; the check stage grades at the defaults). The result renders in Jupyter and as text
    (``print(result)``); setting ``cancel`` stops a worker process. ``first_failure`` ends the check at its
    first failing comparison, the rest not run (judging a known-wrong solution, `readtrack.practice.mistakes`;
    in this process only)."""
    plugin = practice_plugin(name)
    if solution is None:
        solution = workspace_file(plugin)
    is_file = isinstance(solution, (str, Path))
    if isolated is None:
        isolated = is_file
    options = {
        "train": train,
        "quick": quick,
        "train_quick": quick if train_quick is None else train_quick,
        "seed": seed,
        "timeout": timeout,
        "device": device,
        "emit": emit,
        "settings": dict(settings or {}),
    }
    if isolated:
        from readtrack.base.errors import UsageError

        if not is_file:
            raise UsageError(
                "only a file can be graded in a worker process: pass its path, or isolated=False"
            )
        if first_failure:
            raise UsageError("first_failure grades in this process: pass isolated=False")
        from readtrack.practice.isolation import grade_isolated

        result = grade_isolated(plugin, Path(str(solution)), cancel=cancel, **options)  # type: ignore[arg-type]
    else:
        from readtrack.practice.grading import grade_here

        result = grade_here(plugin, solution, first_failure=first_failure, **options)  # type: ignore[arg-type]
    if record:
        record_attempt(result, seed=seed, quick=quick)
    return result


def record_attempt(result: PracticeResult, *, seed: int = 0, quick: bool = False) -> RunRecord:
    """Store the attempt in history as a run of ``practice:NAME`` (one that died without a record too), and
    the plugin's status in the practice list (``<data dir>/practice/attempts.json``)."""
    from datetime import datetime, timezone
    from uuid import uuid4

    from readtrack.history import runs as history
    from readtrack.plugins.records import RunInfo, RunRecord, RunStatus, StageResult

    record = result.record
    if record is None:
        stage = StageResult("check", "timeout" if result.status == "timeout" else "error", error=result.error)
        info = RunInfo(
            run_id=uuid4().hex,
            plugin=result.plugin,
            paper_id=result.plugin,
            device="cpu",
            stages=["check"],
            quick=quick,
            seed=seed,
            started_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        )
        status: RunStatus = stage.status  # type: ignore[assignment]
        record = RunRecord(info, status, 0.0, [stage])
    record.info.plugin = PRACTICE_PREFIX + result.plugin
    record.info.options = {**record.info.options, "practice": result.solution}
    history.record_finished(record)
    _remember(result.plugin, attempt_status(record), record.info.started_at)
    return record


def _attempts_file() -> Path:
    from readtrack.base.paths import data_dir

    return data_dir() / "practice" / "attempts.json"


def _attempts() -> dict[str, Any]:
    """plugin -> {"status", "detail", "at"}: the newest attempt of each, as the list shows it. History holds
    every attempt; this small file spares the list from loading it (and sqlite)."""
    import json

    try:
        data = json.loads(_attempts_file().read_bytes())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _remember(plugin: str, status: tuple[Status, str], at: str) -> None:
    import json

    from readtrack.base.atomic import atomic_write

    attempts = _attempts()
    attempts[plugin] = {"status": status[0], "detail": status[1], "at": at}
    path = _attempts_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, json.dumps(attempts, indent=1, ensure_ascii=False) + "\n")


@dataclass(frozen=True)
class ExerciseStatus:
    """Where the learner stands on one plugin's exercises, from the newest attempt in history."""

    plugin: str
    title: str
    targets: list[str]
    status: Status
    detail: str
    workspace: Path | None
    last_attempt: str | None
    lines: int = 0  # roughly how many lines the model solution's bodies have, all exercises together

    def to_dict(self) -> dict[str, object]:
        return {
            "plugin": self.plugin,
            "title": self.title,
            "exercises": self.targets,
            "status": self.status,
            "detail": self.detail,
            "workspace": str(self.workspace) if self.workspace else None,
            "last_attempt": self.last_attempt,
            "lines": self.lines,
        }


def statuses() -> list[ExerciseStatus]:
    """Every plugin with exercises and the learner's status on it, from the newest attempt (torch-, sqlite-
    and rich-free: the plugins' declarations and two small files)."""
    attempts = _attempts()
    found = []
    for plugin in practice_plugins():
        path = workspace_file(plugin)
        newest = attempts.get(plugin.name) or {}
        status: Status = next((s for s in _STATUSES if s == newest.get("status")), "not started")
        found.append(
            ExerciseStatus(
                plugin.name,
                plugin.title,
                plugin.targets,
                status,
                str(newest.get("detail") or ""),
                path if path.exists() else None,
                newest.get("at"),
                sum(e.lines for e in plugin.exercises),
            )
        )
    return found


def practice_marks() -> dict[str, Status]:
    """plugin -> the learner's status on its exercises, for the paper table's practice mark: only the cached
    declarations and the attempts file (no workspace is looked at, no torch), as cheap as the list."""
    attempts = _attempts()
    marks: dict[str, Status] = {}
    for plugin in practice_plugins():
        newest = attempts.get(plugin.name) or {}
        marks[plugin.name] = next((s for s in _STATUSES if s == newest.get("status")), "not started")
    return marks


def attempt_status(record: RunRecord | None) -> tuple[Status, str]:
    """(status, detail) of an attempt: ``failing`` with "3 of 8 checks pass" or the error, and so on."""
    if record is None:
        return "not started", ""
    stages = {s.stage: s for s in record.stages}
    check_stage = stages.get("check")
    if check_stage is None:
        return "failing", record.status
    comps = check_stage.comparisons
    passing = sum(c.passed for c in comps)
    counted = f"{passing} of {len(comps)} checks pass"
    if check_stage.status != "passed":
        if check_stage.status in ("error", "timeout"):
            return "failing", f"{check_stage.status}: {check_stage.error or ''}".strip(": ")
        return "failing", counted
    train = stages.get("train")
    if train is not None and record.info.settings:  # knobs turned: a what-if, not the claim
        return "checks pass", counted
    if train is not None and train.status == "passed":
        return "claim reproduced", counted
    if train is not None:
        return "checks pass", "claim not reproduced"
    return "checks pass", counted


def open_workspace(plugin: PracticePlugin, folder: Path | None = None, *, reset: bool = False) -> Workspace:
    """The learner's ``model.py`` for ``plugin`` (see :func:`readtrack.practice.workspace.open_workspace`)."""
    from readtrack.practice import workspace

    return workspace.open_workspace(plugin, folder, reset=reset)


def model_namespace(name: str) -> dict[str, object]:
    """The names of plugin ``name``'s ``model.py`` (its imports too: torch, F, its helpers), for a notebook
    whose cells write an exercise as ``model.py`` would (``globals().update(...)``)."""
    from readtrack.plugins import discovery as plugins

    module = plugins.load_plugin(name).implementation
    return {k: v for k, v in vars(module).items() if not k.startswith("_") and k != "annotations"}


F = TypeVar("F", bound=Callable[..., object])


def mistake(target: str, *, fails: str) -> Callable[[F], F]:
    """Mark a function of a plugin's ``mistakes.py`` as a wrong solution of ``target``: the plugin's check
    must fail it, and the first failing comparison's name must start with ``fails``
    (``readtrack.testing.assert_mistakes_caught``, ``readtrack check-plugin``)."""

    def mark(function: F) -> F:
        function.__practice_mistake__ = (target, fails)  # type: ignore[attr-defined]
        return function

    return mark
