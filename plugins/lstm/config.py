"""The knobs of lstm's experiment (``readtrack knobs lstm``; ``readtrack run lstm --set KEY=VALUE``).

The defaults are the calibrated experiment: turn one and the run reports its targets without asserting
them. ``cell`` is the ablation switch: the unit in the LSTM's arm, our LSTM (the paper) or a plain tanh RNN
in its place, which makes the two arms alike.
"""

from __future__ import annotations

from dataclasses import dataclass

from readtrack.api import knob


@dataclass(frozen=True)
class Config:
    cell: str = knob(
        "lstm",
        choices=("lstm", "rnn"),
        help="the unit in the LSTM's arm: our LSTM, or nn.RNN (tanh) in its place",
        paper="lstm",
    )
    steps: int = knob(800, low=1, high=100_000, help="Adam steps per network (quick: each stops once solved)")
    lr: float = knob(
        0.0,
        low=0.0,
        high=1.0,
        help="Adam's rate of both",
        means={0.0: "LSTM 2e-2 and RNN 1e-2 (quick), or each its grid's best (full)"},
    )
    batch: int = knob(64, low=1, high=4096, help="sequences of the adding problem per step")
    hidden: int = knob(32, low=1, high=1024, help="hidden units of each network")
    length: int = knob(
        30,
        low=2,
        high=1000,
        help="sequence length T of the adding problem, the lag to bridge (the difficulty)",
        paper="T = 100 and more (experiment 4)",
    )
    forget_bias: float = knob(
        1.0,
        low=-10.0,
        high=10.0,
        help="the LSTM's forget-gate bias at initialisation (the full run's A/B sets it to 0 against this)",
        paper="no forget gate in 1997; 1 from Gers et al. (2000)",
    )
