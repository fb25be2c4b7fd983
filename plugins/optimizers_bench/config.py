"""The knobs of the optimizer family bench (``readtrack knobs optimizers-bench``; ``--set K=V``).

The defaults are the calibrated bench: turn one and the run reports its targets without asserting them.
"""

from __future__ import annotations

from dataclasses import dataclass

from readtrack.api import knob


@dataclass(frozen=True)
class Config:
    steps: int = knob(
        600, quick=200, low=10, high=100_000, help="optimizer steps for every member, batches of `batch`"
    )
    lr: float = knob(
        0.0,
        low=0.0,
        high=10.0,
        help="one learning rate for every member",
        means={0.0: "each member its best of its own grid, on validation text (quick: the grid's pick)"},
    )
    batch: int = knob(32, low=1, high=4096, help="sequences per step")
    momentum: float = knob(0.9, low=0.0, high=0.999, help="SGD's momentum μ (0: plain SGD)")
    decay: float = knob(
        0.1, low=0.0, high=1.0, help="decoupled weight decay λ of AdamW and Schedule-Free AdamW (Adam: none)"
    )
    warmup: float = knob(0.05, low=0.0, high=0.5, help="share of the steps spent warming the rate up")
    reach: float = knob(
        1.2,
        low=0.0,
        high=3.0,
        help="the loss, nats above the chain's entropy rate, that 'steps to reach' waits for",
    )
    d_model: int = knob(32, choices=(16, 32, 64, 128), help="the transformer's width (2 heads)")
    layers: int = knob(2, low=1, high=12, help="transformer blocks")
