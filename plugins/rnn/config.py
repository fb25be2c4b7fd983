"""The knobs of rnn's experiment (``readtrack knobs rnn``; ``readtrack run rnn --set KEY=VALUE``).

The defaults are the calibrated experiment: turn one and the run reports its targets without asserting
them. ``context`` is the ablation switch: Elman's context units, the hidden state fed back with the next
input; off, the recurrent matrix is held at zero and each step sees its own input alone.
"""

from __future__ import annotations

from dataclasses import dataclass

from readtrack.api import knob


@dataclass(frozen=True)
class Config:
    context: bool = knob(
        True,
        help="Elman's context units (h_(t−1) fed back); off: W_hh held at 0 in the RNN, XOR and adding alike",
        paper="on",
    )
    xor_steps: int = knob(
        600, quick=450, low=1, high=100_000, help="Adam steps on the temporal XOR", paper="600 passes"
    )
    steps: int = knob(
        1000,
        quick=600,
        low=1,
        high=100_000,
        help="adding problem: Adam steps per network (quick: each stops once solved)",
    )
    lr: float = knob(
        0.0,
        low=0.0,
        high=1.0,
        help="adding problem: Adam's rate of both",
        means={0.0: "nn.LSTM 2e-2, the RNN 1e-2 (quick) or its grid's best"},
    )
    batch: int = knob(64, low=1, high=4096, help="adding problem: sequences per step")
    hidden: int = knob(32, low=1, high=1024, help="adding problem: hidden units of each network")
    length: int = knob(
        30,
        low=2,
        high=1000,
        help="adding problem: sequence length T, the lag to bridge (the difficulty)",
        paper="T = 100 and more (Hochreiter and Schmidhuber 1997, experiment 4)",
    )
