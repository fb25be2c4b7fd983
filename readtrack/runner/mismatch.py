"""What a failed comparison's numbers say about the mistake: a hint that quantifies it.

A learner whose attention output is off told only "max error 0.31" must guess; told "your output ≈
expected × 0.125 (1/√64: 64 is a size of the output)" they look at the scaling. `describe` tries, in
order, the relations a slip in a formula leaves behind, each only when it explains the whole output (the
rest of the difference under a thousandth of it):

- a scale: ``actual ≈ c · expected`` for one number c, named when it is −1, 2, ½, n, 1/n, √n or 1/√n for a
  size n of the output's shape;
- a shift: ``actual ≈ expected + k`` everywhere;
- a transpose: the expected output with its last two axes swapped, or its values in another order (only
  when the output is far from the expected one in place: a rounding-sized error is close in any order);
- otherwise where it is wrong: in how many of the elements, and the worst one's index and both values.

Runs only when a comparison has failed, on the float64 copies `RunContext.check_close` already made.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

#: A relation explains the output when what it leaves unexplained is under this fraction of it.
EXPLAINED = 1e-3
#: Values in another order are named only when the output is this far from the expected one in place.
REORDERED = 0.1


def describe(actual: torch.Tensor, expected: torch.Tensor, wrong: torch.Tensor) -> str:
    """A one-line hint about how ``actual`` differs from ``expected`` (float64 tensors of one shape);
    ``wrong`` marks the elements out of tolerance."""
    import torch

    a, e = actual.flatten(), expected.flatten()
    if a.numel() == 0 or not bool(torch.isfinite(a).all() and torch.isfinite(e).all()):
        return ""
    a_norm, e_norm = float(a.norm()), float(e.norm())
    if e_norm > 0 and a_norm > 0:
        c = float(a @ e) / e_norm**2
        if float((a - c * e).norm()) <= EXPLAINED * a_norm and abs(c - 1) > EXPLAINED:
            return f"your output ≈ expected × {c:.4g}{_named(c, actual.shape)}"
    diff = a - e
    k = float(diff.mean())
    if abs(k) > 0 and float((diff - k).norm()) <= EXPLAINED * float(diff.norm()):
        return f"your output ≈ expected {'+' if k > 0 else '−'} {abs(k):.4g} everywhere"
    # a reordering only where the output is far from the expected one in place (a rounding-sized error is
    # close in any order)
    far = float(diff.norm()) > REORDERED * a_norm
    if far and actual.dim() >= 2 and actual.shape[-1] == actual.shape[-2]:
        swapped = expected.transpose(-1, -2)
        if float((actual - swapped).norm()) <= EXPLAINED * max(a_norm, 1e-300):
            return "your output is the expected one with its last two axes swapped"
    reordered = far and a.numel() > 1
    if reordered and float((a.sort().values - e.sort().values).norm()) <= EXPLAINED * max(a_norm, 1e-300):
        return "your output has the expected values in another order (an axis permuted or mis-indexed?)"
    return _where(actual, expected, wrong)


def _named(c: float, shape: torch.Size) -> str:
    """`` (1/√64: 64 is a size of the output)`` when ``c`` is such a simple factor, else nothing."""
    simple = {-1.0: "the sign flipped", 2.0: "twice", 0.5: "half"}
    for value, name in simple.items():
        if math.isclose(c, value, rel_tol=5e-3):
            return f" ({name})"
    for n in sorted({int(s) for s in shape if s > 2}):
        for value, name in (
            (n, f"{n}"),
            (1 / n, f"1/{n}"),
            (math.sqrt(n), f"√{n}"),
            (1 / math.sqrt(n), f"1/√{n}"),
        ):
            if math.isclose(c, value, rel_tol=5e-3):
                return f" ({name}: {n} is a size of the output)"
    return ""


def _where(actual: torch.Tensor, expected: torch.Tensor, wrong: torch.Tensor) -> str:
    """In how many elements the output is wrong, and the worst one."""
    count, total = int(wrong.sum()), wrong.numel()
    if count == 0:
        return ""
    worst = int((actual - expected).abs().flatten().argmax())
    index = tuple(int(i) for i in _unravel(worst, tuple(actual.shape)))
    at = f" at index {index}" if actual.dim() else ""
    yours, theirs = float(actual.flatten()[worst]), float(expected.flatten()[worst])
    share = f"{count} of {total} elements" if count < total else "every element"
    return f"wrong in {share}; the worst{at}: yours {yours:.4g}, expected {theirs:.4g}"


def _unravel(flat: int, shape: tuple[int, ...]) -> list[int]:
    index = []
    for size in reversed(shape):
        index.append(flat % size)
        flat //= size
    return index[::-1]
