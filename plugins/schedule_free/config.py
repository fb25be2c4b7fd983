"""The knobs of schedule-free's experiment (``readtrack knobs schedule-free``; ``readtrack run schedule-free
--set KEY=VALUE``).

The defaults are the calibrated experiment: streaming logistic regression, 20-d inputs, 10% label noise,
batches of 16, each optimiser at its best lr of 0.005 to 0.1; full: T = 500 and 3000, 3 seeds; quick: T = 400,
2 seeds. Turn one and the run reports its targets without asserting them. ``optimizer`` is the ablation
switch: what trains the arm under test (the "Schedule-Free" one, compared with cosine and evaluated at x and
at z): Schedule-Free AdamW (the paper), or AdamW with a cosine or a constant schedule in its place.
"""

from __future__ import annotations

from dataclasses import dataclass

from readtrack.api import knob


@dataclass(frozen=True)
class Config:
    optimizer: str = knob(
        "schedule-free",
        choices=("schedule-free", "cosine", "constant"),
        help="what trains the arm under test: Schedule-Free AdamW, or AdamW with a cosine or constant lr",
        paper="schedule-free",
    )
    beta: float = knob(
        0.9,
        low=0.0,
        high=1.0,
        help="Schedule-Free's β1: the gradient is taken at y = (1 − β1) z + β1 x (1: at the average x)",
        paper="0.9",
    )
    steps: int = knob(
        3000, quick=400, low=1, high=100_000, help="the horizon T: steps of every optimiser, one batch each"
    )
    short_steps: int = knob(
        500,
        quick=0,
        low=0,
        high=100_000,
        help="a shorter horizon also run, first",
        means={0: "none (the quick run)"},
    )
    lr: float = knob(
        0.0,
        low=0.0,
        high=1.0,
        help="every optimiser's peak lr",
        means={0.0: "each its best of 0.005, 0.01, 0.02, 0.05, 0.1 on validation"},
        paper="tuned per method",
    )
    batch: int = knob(16, low=1, high=4096, help="fresh examples per step (a stream: none repeats)")
    features: int = knob(
        20, low=1, high=1000, help="input dimensions of the linear 5-class model (the model's size)"
    )
    noise: float = knob(
        0.1, low=0.0, high=1.0, help="the fraction of labels replaced by random ones (the task's difficulty)"
    )
    inits: int = knob(
        3,
        quick=2,
        low=1,
        high=20,
        help="initialisations averaged inside one run: initialisations and teachers, batched",
    )
