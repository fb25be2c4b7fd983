"""Grading a learner's code in this process: their module stands in for the plugin's ``model``.

The learner's ``model.py`` is loaded as ``<plugin package>.model`` in ``sys.modules`` before the plugin's
experiments module is imported afresh, so its ``from .model import RMSNorm`` gets the learner's class; then
the plugin's stages run through :func:`readtrack.runner.run.run_plugin`, as ``readtrack run`` runs them
(seeded, one thread, stage timeouts). Everything is put back afterwards.

While the stages run, each exercise target of the learner's module is wrapped (:class:`_Guard`):

- tensor arguments are cloned before the learner's code sees them, so an in-place edit cannot change what
  the reference is computed from afterwards; a list or dict argument the code fills (``cache[:] = new``)
  is filled for the caller too. An edit in place of a tensor argument that is not returned
  (``param.sub_(...)``, returning nothing) never reaches the caller, so when the attempt fails, the function
  that made one (the model solution run beside it included) is named with the argument (`in_place.note`,
  from the copies' ``_version`` counters): an exercise must return its new value;
- during the check stage the model solution runs on the same arguments and a deep copy of ``self`` (its
  random numbers forked, explicit ``torch.Generator`` states put back, no gradient), and an output of
  another shape, dtype or device is reported as expected vs got, in one line;
- each library function the exercise names as its reference (``torch.nn.functional.rms_norm``) is wrapped
  too, and a call of it from inside the learner's code is reported (the check then tests the library).

This process is not protected from the learner's code: an endless loop is stopped by the stage timeout, but
``os._exit`` ends it. :func:`readtrack.practice.check` runs this in a worker process (``readtrack.practice
.isolation``) unless asked not to.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import sys
import types
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from readtrack.base.errors import UsageError, one_line
from readtrack.plugins import events
from readtrack.plugins.records import Emit, RunRecord
from readtrack.practice import in_place
from readtrack.practice.declared import PracticePlugin
from readtrack.practice.result import AttemptStatus, PracticeResult, trim_traceback

#: A learner's solution: their ``model.py``, or the function(s) themselves (``{"RMSNorm.forward": fn}``, or
#: one function for a plugin with one exercise).
Solution = Path | str | Callable[..., Any] | Mapping[str, Callable[..., Any]]


def grade_here(
    plugin: PracticePlugin,
    solution: Solution,
    *,
    train: bool = False,
    quick: bool = False,
    train_quick: bool | None = None,
    seed: int = 0,
    timeout: float | None = None,
    device: str = "auto",
    emit: Emit | None = None,
    settings: dict[str, Any] | None = None,
    first_failure: bool = False,
) -> PracticeResult:
    """Run ``plugin``'s check stage (and train with ``train``) with ``solution`` standing in for the model
    solution, in this process; the attempt is not recorded (see ``readtrack.practice.check``)."""
    from readtrack.plugins import discovery as plugins
    from readtrack.practice.timing import stage_limits, timeout_advice
    from readtrack.runner import run as runner

    loaded = plugins.load_plugin(plugin.name)
    package = loaded.info.package
    model_name = f"{package}.model"
    experiment_name = f"{package}.{loaded.info.experiments}"
    solution_module = importlib.import_module(model_name)  # the plugin's own: the shapes to expect
    label, files = _label(solution)
    saved = {name: sys.modules.get(name) for name in (model_name, experiment_name)}
    # an import binds the module on its package too (``package.experiment``): what a test's
    # monkeypatch.setattr("package.experiment.X", ...) reaches, so that is put back as well
    parent = sys.modules.get(package)
    saved_attributes = {name: getattr(parent, name.rpartition(".")[2], None) for name in saved}
    saved_experiments = loaded._experiments
    guard = _Guard(plugin, solution_module)
    try:
        with guard.references():
            try:
                learner = _learner_module(plugin, model_name, solution)
            except (UsageError, KeyboardInterrupt):
                raise
            except BaseException as err:  # a syntax error, an import that fails, sys.exit: theirs to fix
                return _failed_import(plugin, label, files, err)
            guard.wrap(learner)
            sys.modules[model_name] = learner
            sys.modules.pop(experiment_name, None)
            loaded._experiments = None

            def send(event: dict[str, Any]) -> None:
                if events.is_stage(event, "start"):
                    guard.compare_shapes = event.get("stage") == "check"
                if emit is not None:
                    emit(event)

            records: list[RunRecord] = []
            sizes = {"check": quick, "train": quick if train_quick is None else train_quick}
            limits = stage_limits(
                plugin.name,
                quick=sizes["check"],
                train_quick=sizes["train"],
                timeout=timeout,
                declared=loaded.info.stage_timeout,
            )
            for stage in ("check", "train") if train else ("check",):  # train only on a passing check
                if records and records[-1].status != "passed":
                    break
                sized = sizes[stage]
                record = runner.run_plugin(
                    plugin.name,
                    device=device,
                    quick=sized,
                    seed=seed,
                    only=stage,
                    timeout=limits[stage],
                    options={"practice": label},
                    emit=send,
                    keep_history=False,
                    settings=(settings or {}) if stage == "train" else {},
                    first_failure=first_failure,
                )
                for ran in record.stages:
                    if ran.status == "timeout":
                        ran.error = (
                            f"{ran.error}: an endless loop? {timeout_advice(plugin.name, stage, sized)}"
                        )
                records.append(record)
    finally:
        guard.unwrap()
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module
            attribute = name.rpartition(".")[2]
            if parent is not None and saved_attributes[name] is not None:
                setattr(parent, attribute, saved_attributes[name])
            elif parent is not None and hasattr(parent, attribute):
                delattr(parent, attribute)
        loaded._experiments = saved_experiments
    joined = _joined(records)
    return result_of(plugin, label, files, joined, guard.notes(in_place=joined.status != "passed"))


def _joined(records: list[RunRecord]) -> RunRecord:
    """One record for the attempt: the check's, with the train stage's appended when it ran."""
    first = records[0]
    if len(records) == 1:
        return first
    from readtrack.plugins.records import worst_status

    stages = [s for r in records for s in r.stages]
    first.info.stages = [s.stage for s in stages]
    first.info.settings = records[-1].info.settings  # the train stage's knobs (``--set``), if turned
    status = worst_status([r.status for r in records])
    return RunRecord(first.info, status, sum(r.duration_s for r in records), stages)


def result_of(
    plugin: PracticePlugin, label: str, files: set[str], record: RunRecord, notes: list[str]
) -> PracticeResult:
    """The attempt as the learner reads it, from the run's record."""
    status: AttemptStatus = "passed" if record.status == "passed" else "failed"
    error = traceback = None
    for stage in record.stages:
        if stage.status == "timeout":
            status, error = "timeout", stage.error
            break
        if stage.status == "error":
            status, error = "error", stage.error
            traceback = trim_traceback(stage.traceback, files)
            break
    return PracticeResult(
        plugin=plugin.name,
        targets=plugin.targets,
        solution=label,
        status=status,
        record=record,
        notes=notes,
        error=error,
        traceback=traceback,
    )


def _failed_import(plugin: PracticePlugin, label: str, files: set[str], err: BaseException) -> PracticeResult:
    import traceback

    text = "".join(traceback.format_exception(err))
    trimmed = trim_traceback(text, files)
    if isinstance(err, SyntaxError) and err.filename in files:
        trimmed = "".join(traceback.format_exception_only(err)).rstrip()
    return PracticeResult(
        plugin=plugin.name,
        targets=plugin.targets,
        solution=label,
        status="error",
        error=f"{label} cannot be imported: {one_line(err)}",
        traceback=trimmed,
    )


def _label(solution: Solution) -> tuple[str, set[str]]:
    """How the attempt is named in history, and the files that are the learner's own code."""
    if isinstance(solution, (str, Path)):
        path = str(Path(solution).resolve())
        return path, {path, str(solution)}
    functions = list(solution.values()) if isinstance(solution, Mapping) else [solution]
    files = {getattr(getattr(f, "__code__", None), "co_filename", "") for f in functions}
    names = ", ".join(getattr(f, "__qualname__", repr(f)) for f in functions)
    return f"function {names}", files - {""}


def _learner_module(plugin: PracticePlugin, module_name: str, solution: Solution) -> types.ModuleType:
    """The module that stands in for the plugin's ``model``: the learner's file, or the plugin's own
    ``model.py`` with the given functions put in place of its targets."""
    path = Path(solution) if isinstance(solution, (str, Path)) else plugin.model_file
    if not path.is_file():
        raise UsageError(f"{path}: no such file (readtrack practice {plugin.name} creates it)")
    module = types.ModuleType(module_name)
    module.__file__ = str(path)
    module.__package__ = module_name.rpartition(".")[0]
    sys.modules[module_name] = module  # dataclasses look their module up while it executes
    # compile() from the text, never a cached .pyc: an edit within the same second is always seen.
    code = compile(path.read_text(encoding="utf-8"), str(path), "exec")
    exec(code, module.__dict__)
    if not isinstance(solution, (str, Path)):
        given = dict(solution) if isinstance(solution, Mapping) else _only_target(plugin, solution)
        unknown = set(given) - set(plugin.targets)
        if unknown:
            raise UsageError(
                f"{', '.join(sorted(unknown))}: not an exercise of {plugin.name} "
                f"({', '.join(plugin.targets)})"
            )
        elsewhere = {e.target for e in plugin.exercises if e.module}
        for target, function in given.items():
            if target in elsewhere:  # another module's function: in model.py, as the stub defines it
                setattr(module, target, function)
                continue
            owner, attr = _owner(module, target)
            _, decorator = _unwrapped(vars(owner).get(attr))  # a classmethod stays one
            setattr(owner, attr, function if decorator is None else decorator(function))
    return module


def _only_target(plugin: PracticePlugin, function: Callable[..., Any]) -> dict[str, Callable[..., Any]]:
    if len(plugin.targets) != 1:
        raise UsageError(f"{plugin.name} has {len(plugin.targets)} exercises: pass {{target: function}}")
    return {plugin.targets[0]: function}


def _owner(module: types.ModuleType, target: str) -> tuple[Any, str]:
    """(the object holding ``target``, the attribute's name): the module, or the class of a method."""
    *path, attr = target.split(".")
    owner: Any = module
    for part in path:
        owner = getattr(owner, part, None)
        if owner is None:
            raise UsageError(f"{module.__file__}: no {part} for the exercise {target} (keep its name)")
    if not callable(getattr(owner, attr, None)):
        raise UsageError(f"{module.__file__}: no {target} (keep the exercise's name and signature)")
    return owner, attr


class _Guard:
    """The wrappers of one grading (see the module docstring)."""

    def __init__(self, plugin: PracticePlugin, solution_module: types.ModuleType) -> None:
        self.plugin = plugin
        self.solution_module = solution_module
        self.depth = 0  # > 0 while the learner's code runs
        self.compare_shapes = True
        self.used: dict[str, str] = {}  # reference -> the target that called it
        self.shapes: list[str] = []
        self.in_place: list[str] = []  # `in_place.note`s: a function that changed an argument's copy
        self._running: list[str] = []
        self._swapped: list[tuple[Any, str, Any]] = []  # (module or class, name, the original)

    def notes(self, *, in_place: bool = False) -> list[str]:
        """What the learner is told besides the comparisons; with ``in_place`` (the attempt failed), first
        the functions that changed an argument in place, the likely cause."""
        notes = (self.in_place if in_place else []) + self.shapes
        for reference, target in self.used.items():
            notes.append(
                f"{target} calls {reference}, the reference it is compared with: the check passes, "
                "but it tests the library, not your code"
            )
        return notes

    @contextlib.contextmanager
    def references(self) -> Iterator[None]:
        """Wrap each exercise's reference functions for the duration (before the learner's module is
        loaded, so that a ``from torch.nn.functional import rms_norm`` in it gets the wrapper too)."""
        patched: list[tuple[Any, str, Any]] = []
        try:
            for exercise in self.plugin.exercises:
                for dotted in exercise.references:
                    owner, attr = _resolve(dotted)
                    original = getattr(owner, attr)
                    setattr(owner, attr, self._watching(dotted, original))
                    patched.append((owner, attr, original))
            yield
        finally:
            for owner, attr, original in reversed(patched):
                setattr(owner, attr, original)

    def _watching(self, dotted: str, original: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(original)
        def watched(*args: Any, **kwargs: Any) -> Any:
            if self.depth > 0:
                self.used.setdefault(dotted, self._running[-1])
            return original(*args, **kwargs)

        return watched

    def wrap(self, learner: types.ModuleType) -> None:
        own = Path(str(learner.__file__)).resolve() == self.plugin.model_file.resolve()
        for exercise in self.plugin.exercises:
            home = importlib.import_module(exercise.module) if exercise.module else self.solution_module
            solution_owner, attr = _owner(home, exercise.target)
            solution, _ = _unwrapped(vars(solution_owner).get(attr, getattr(solution_owner, attr)))
            mine_owner: Any = learner
            missing = exercise.module and getattr(learner, attr, None) in (None, solution)
            if missing and own:  # the model solution: the module's own function
                mine_owner = solution_owner
            elif missing:
                raise UsageError(
                    f"{learner.__file__}: no def {exercise.target} (the copy of {exercise.module}'s): "
                    f"`readtrack practice {self.plugin.name} --reset` writes it (yours is kept)"
                )
            owner, _ = _owner(mine_owner, exercise.target) if mine_owner is learner else (mine_owner, attr)
            # a method as the class holds it (a plain function, or a classmethod/staticmethod object), not
            # bound to the class: the wrapper is put back with the same decorator
            mine, decorator = _unwrapped(vars(owner).get(attr, getattr(owner, attr)))
            is_method = isinstance(owner, type) and decorator is None
            model = in_place.same_code(
                mine, solution
            )  # the plugin's own model.py graded: the exercise's code
            guarded = self._guarded(exercise.target, mine, solution, is_method=is_method, model=model)
            wrapped = guarded if decorator is None else decorator(guarded)
            if exercise.module:  # where the plugin's other code (detect() ...) looks the name up
                self._swapped.append((solution_owner, attr, vars(solution_owner)[attr]))
                setattr(solution_owner, attr, wrapped)
            if owner is not solution_owner:
                setattr(owner, attr, wrapped)

    def unwrap(self) -> None:
        """Put back what :meth:`wrap` swapped in other modules."""
        while self._swapped:
            owner, attr, original = self._swapped.pop()
            setattr(owner, attr, original)

    def _guarded(
        self,
        target: str,
        mine: Callable[..., Any],
        solution: Callable[..., Any],
        *,
        is_method: bool,
        model: bool = False,
    ) -> Callable[..., Any]:
        """``mine`` wrapped (see the module docstring); ``model``: it is the model solution's code."""
        signature = in_place.signature_of(mine)

        @functools.wraps(mine)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            expected = None
            if self.compare_shapes:
                expected = self._solution_output(target, solution, args, kwargs, is_method=is_method)
            given_args, given_kwargs = args, kwargs
            origin: dict[int, Any] = {}
            args, kwargs = _cloned(args, origin), _cloned(kwargs, origin)
            if is_method:
                args = (given_args[0], *args[1:])  # the learner's own self, not a copy
            versions = in_place.versions(signature, args, kwargs, is_method=is_method)
            self.depth += 1
            self._running.append(target)
            out = None
            try:
                out = mine(*args, **kwargs)
            finally:
                self.depth -= 1
                self._running.pop()
                self._note_in_place(target, versions, out, model=model)
                # a list or dict argument the code fills (``cache[:] = ...``) is filled for the caller too
                _write_back(given_args, args, origin)
                _write_back(given_kwargs, kwargs, origin)
            if expected is not None:
                self._compare(target, expected, out)
            return out

        return guarded

    def _solution_output(
        self,
        target: str,
        solution: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        *,
        is_method: bool,
    ) -> Any:
        """The model solution's output on a copy of the arguments (and of ``self``), leaving the random
        state of the learner's call untouched: global generators forked, explicit ones saved and restored."""
        import copy

        import torch

        if len(self.shapes) >= 3:
            return None
        shadow_args = _cloned(args)
        if is_method and args:
            try:
                shadow_args = (copy.deepcopy(args[0]), *shadow_args[1:])
            except Exception as err:  # a self holding a lock or a file: its state cannot be shadowed
                note = (
                    f"{target}: the model solution was not run beside yours ({type(args[0]).__name__} "
                    f"cannot be copied: {one_line(err)}), so shapes and dtypes were not compared"
                )
                if note not in self.shapes:
                    self.shapes.append(note)
                return None
        held = getattr(args[0], "__dict__", {}) if is_method and args else {}  # a __slots__ class has none
        generators = _generators((args, kwargs, held))
        states = [g.get_state() for g in generators]
        shadow_kwargs = _cloned(kwargs)
        versions = in_place.versions(
            in_place.signature_of(solution), shadow_args, shadow_kwargs, is_method=is_method
        )
        out = None
        try:
            with torch.no_grad(), torch.random.fork_rng():
                out = solution(*shadow_args, **shadow_kwargs)
        except Exception:  # arguments the model solution refuses: nothing to compare with
            return None
        finally:
            for generator, state in zip(generators, states, strict=True):
                generator.set_state(state)
            self._note_in_place(target, versions, out, model=True)
        return out

    def _note_in_place(
        self, target: str, versions: list[tuple[str, Any, int]], out: Any, *, model: bool
    ) -> None:
        """Note each argument whose copy the call changed in place and did not return: a change lost."""
        changed = in_place.changed(versions, out)
        if changed:
            note = in_place.note(target, changed, model=model)
            if note not in self.in_place:
                self.in_place.append(note)

    def _compare(self, target: str, expected: Any, got: Any) -> None:
        want, have = _describe(expected), _describe(got)
        if want != have:
            note = f"{target} returned {have}; the model solution returns {want}"
            if note not in self.shapes:
                self.shapes.append(note)


def _describe(value: Any) -> str:
    """``a tensor of shape (4, 7, 32), float64, on cpu``; tuples element by element."""
    import torch

    if isinstance(value, torch.Tensor):
        dtype = str(value.dtype).removeprefix("torch.")
        return f"a tensor of shape {tuple(value.shape)}, {dtype}, on {value.device.type}"
    if isinstance(value, (tuple, list)):
        inner = "; ".join(_describe(v) for v in value)
        return f"a {type(value).__name__} of {len(value)} ({inner})"
    return f"a {type(value).__name__}"


def _unwrapped(attribute: Any) -> tuple[Callable[..., Any], Callable[[Any], Any] | None]:
    """(the function, ``classmethod``/``staticmethod`` or None) of a class attribute or module function."""
    if isinstance(attribute, (classmethod, staticmethod)):
        return attribute.__func__, type(attribute)
    return attribute, None


def _generators(value: Any) -> list[Any]:
    """The ``torch.Generator`` objects in ``value`` (arguments, containers, an instance's ``vars``)."""
    import torch

    found: list[Any] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, torch.Generator):
            if not any(item is g for g in found):
                found.append(item)
        elif isinstance(item, (tuple, list)):
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
    return found


def _write_back(given: Any, passed: Any, origin: dict[int, Any]) -> None:
    """Put the contents of each list/dict the learner's code got (a rebuilt copy) into the caller's own:
    what the code put there, or the caller's own tensor where the copy of it was left in its place."""
    if isinstance(given, tuple) and isinstance(passed, tuple):
        for old, new in zip(given, passed, strict=False):
            _write_back(old, new, origin)
    elif isinstance(given, dict) and isinstance(passed, dict) and given is not passed:
        for key, new in passed.items():
            _write_back(given.get(key), new, origin)
        contents = {key: origin.get(id(new), new) for key, new in passed.items()}
        given.clear()
        given.update(contents)
    elif isinstance(given, list) and isinstance(passed, list) and given is not passed:
        for old, new in zip(given, passed, strict=False):
            _write_back(old, new, origin)
        given[:] = [origin.get(id(new), new) for new in passed]


def _cloned(value: Any, origin: dict[int, Any] | None = None) -> Any:
    """Tensors copied (gradients still flow back through the copy; ``origin`` maps each copy's id to the
    caller's tensor), containers rebuilt (a NamedTuple as its own type), the rest as is."""
    import torch

    if isinstance(value, torch.Tensor):
        copy = value.clone()
        if origin is not None:
            origin[id(copy)] = value
        return copy
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return type(value)(*(_cloned(v, origin) for v in value))
    if isinstance(value, tuple):
        return tuple(_cloned(v, origin) for v in value)
    if isinstance(value, list):
        return [_cloned(v, origin) for v in value]
    if isinstance(value, dict):
        return {k: _cloned(v, origin) for k, v in value.items()}
    return value


def _resolve(dotted: str) -> tuple[Any, str]:
    """``torch.nn.functional.rms_norm`` -> (the module ``torch.nn.functional``, ``"rms_norm"``)."""
    parts = dotted.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        try:
            owner: Any = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for part in parts[cut:-1]:
            owner = getattr(owner, part)
        if hasattr(owner, parts[-1]):
            return owner, parts[-1]
        break
    raise UsageError(f"exercise reference {dotted!r} names nothing importable")
