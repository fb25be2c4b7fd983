"""What an exercise's call changed in place (practice's grading).

Practice gives an exercise copies of its tensor arguments (`readtrack.practice.grading`), so a change made
in place to an argument that is not returned (``param.sub_(...)``, returning nothing) never reaches the
caller. The copies' ``_version`` counters, read before (`versions`) and after (`changed`) the call, say which
arguments such a change touched, and `note` is what the learner is told: the model solution's fault
(``EXERCISE:``, the exercise must return its new value) or the learner's code's.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Callable
from typing import Any

#: How a note on the model solution's own in-place edit starts: the plugin's exercise is at fault, not the
#: learner (``readtrack check-plugin``'s mistakes rule says it).
EXERCISE_NOTE = "EXERCISE: "


def note(target: str, arguments: list[str], *, model: bool) -> str:
    """The note on ``target`` changing ``arguments`` (their names) in place: the model solution's, the
    exercise's fault (``EXERCISE:``), or the learner's code's."""
    names = " and ".join(", ".join(arguments).rsplit(", ", 1))
    what = f"argument{'s' if len(arguments) > 1 else ''} {names}"
    note = (
        f"{target} changes its {what} in place; exercises get copies of their arguments (the caller never "
        "sees such a change), so return the new value instead"
    )
    return EXERCISE_NOTE + note if model else note


def same_code(mine: Callable[..., Any], solution: Callable[..., Any]) -> bool:
    """Whether ``mine`` is the model solution: the same function, or the same code of the same file executed
    again (the plugin's own ``model.py`` graded as a learner's)."""
    if mine is solution:
        return True
    a, b = getattr(mine, "__code__", None), getattr(solution, "__code__", None)
    return (
        a is not None
        and b is not None
        and (a.co_filename, a.co_firstlineno, a.co_code) == (b.co_filename, b.co_firstlineno, b.co_code)
    )


def signature_of(function: Callable[..., Any]) -> inspect.Signature | None:
    try:
        return inspect.signature(function)
    except (TypeError, ValueError):  # a builtin without one
        return None


def versions(
    signature: inspect.Signature | None, args: tuple[Any, ...], kwargs: dict[str, Any], *, is_method: bool
) -> list[tuple[str, Any, int]]:
    """(the argument's name, a tensor in it, the tensor's version counter now) for each tensor among the
    arguments of a call (``self`` left out: it is the caller's own, never a copy). An argument is named as
    the function's ``signature`` names it, else by its position."""
    bound: dict[str, Any] | None = None
    if signature is not None:
        with contextlib.suppress(TypeError):  # arguments it cannot take: the call itself will say so
            bound = dict(signature.bind_partial(*args, **kwargs).arguments)
    if bound is None:
        bound = {f"{i + 1}": a for i, a in enumerate(args)} | dict(kwargs)
    found = []
    for at, (name, value) in enumerate(bound.items()):
        if is_method and at == 0:
            continue
        label = name if not name.isdigit() else f"number {name}"
        found += [(label, t, _version(t)) for t in _tensors(value)]
    return found


def _tensors(value: Any) -> list[Any]:
    """The tensors in ``value`` (an argument, or the tuples, lists and dicts `_cloned` rebuilds)."""
    import torch

    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, (tuple, list)):
        return [t for v in value for t in _tensors(v)]
    if isinstance(value, dict):
        return [t for v in value.values() for t in _tensors(v)]
    return []


def _version(tensor: Any) -> int:
    """A tensor's version counter (each in-place edit adds one); -1 where it keeps none (an inference
    tensor)."""
    try:
        return int(tensor._version)
    except (RuntimeError, AttributeError):
        return -1


def changed(versions_before: list[tuple[str, Any, int]], out: Any) -> list[str]:
    """The names of the arguments whose tensors the call changed in place (their version counters moved,
    `versions`) and did not return: changes the caller never sees. In order, once each."""
    returned = {id(t) for t in _tensors(out)}
    return list(
        dict.fromkeys(
            name
            for name, tensor, version in versions_before
            if _version(tensor) != version and id(tensor) not in returned
        )
    )
