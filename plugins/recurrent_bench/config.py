"""The knobs of the recurrent family bench (``readtrack knobs recurrent-bench``; ``--set K=V``).

The defaults are the calibrated bench: turn one and the run reports its targets without asserting them.
``gates`` is the ablation switch: off puts a plain tanh RNN (of the same width) in the LSTM's and the GRU's
places, so the gated members' lead over the RNN is gone.
"""

from __future__ import annotations

from dataclasses import dataclass

from readtrack.api import knob


@dataclass(frozen=True)
class Config:
    steps: int = knob(
        600,
        quick=150,
        low=10,
        high=100_000,
        help="Adam steps per member, lag and rate at most, each run stopped once it has solved the task",
    )
    lr: float = knob(
        0.0,
        low=0.0,
        high=1.0,
        help="Adam's rate for every member",
        means={0.0: "each member its best of its grid, on validation sequences (quick: the grid's pick)"},
    )
    batch: int = knob(64, low=1, high=4096, help="sequences of the adding problem per step")
    hidden: int = knob(
        16,
        low=2,
        high=256,
        help="the LSTM's hidden units; every other member gets the width whose parameter count is nearest",
    )
    lags: str = knob(
        "4,16",
        quick="16",
        choices=("16", "4,16", "4,16,40"),
        help="the sequence lengths T of the adding problem the members train at (the far mark lies T/2 to "
        "T − 1 steps back)",
    )
    gates: str = knob(
        "on",
        choices=("on", "off"),
        help="off: the LSTM and the GRU replaced by plain tanh RNNs of their widths (no gates)",
    )
