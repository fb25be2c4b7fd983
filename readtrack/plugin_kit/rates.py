"""Learning rates chosen fairly: each arm of a comparison gets its own best rate from one grid, picked on a
validation split, never on the numbers the claim reports (plugins/README.md, "A fair baseline").

A full run trains every rate of the grid for every arm. A quick run has no time for that, so it trains the
rate the grid picks at the quick budget (measured on seeds 0-4 and written beside the plugin's grid);
``--impl grid --quick`` trains the whole grid there too, to check that choice again.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

from readtrack.runner.context import RunContext


def rates(ctx: RunContext, grid: Iterable[float], quick_rate: float) -> tuple[float, ...]:
    """The rates to train: ``grid``, or in a quick run only ``quick_rate`` (all of them with --impl grid)."""
    return (quick_rate,) if ctx.quick and ctx.options.get("impl") != "grid" else tuple(grid)


def best(validation: Mapping[float, float], higher_is_better: bool = False) -> float:
    """The rate with the best validation score (the lowest loss, or the highest with ``higher_is_better``);
    the first of the grid on a tie."""
    pick = max if higher_is_better else min
    return pick(validation, key=lambda rate: validation[rate])


def choice(validation: Mapping[float, float], fmt: str = ".4f", higher_is_better: bool = False) -> str:
    """``lr 0.01, the best on validation of 0.001: 0.2310, 0.003: 0.1022, 0.01: 0.0941``: for a measured
    line's detail, so a reader sees what was compared."""
    scores = ", ".join(f"{rate:g}: {score:{fmt}}" for rate, score in validation.items())
    return f"lr {best(validation, higher_is_better):g}, the best on validation of {scores}"


def warmup_cosine(step: int, steps: int, warmup: float) -> float:
    """The learning-rate factor of update ``step`` (0-based) of ``steps``: a linear warm-up from 0 over the
    first ``warmup`` fraction of the updates (at least one), then a cosine decay to 0 at the last. For
    ``torch.optim.lr_scheduler.LambdaLR(opt, partial(warmup_cosine, steps=..., warmup=...))``, stepped after
    each ``opt.step()``."""
    warm = max(1, round(warmup * steps))
    if step < warm:
        return (step + 1) / warm
    return 0.5 * (1 + math.cos(math.pi * (step - warm) / max(1, steps - warm)))
