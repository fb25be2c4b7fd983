"""The knobs of gru's experiment (``readtrack knobs gru``; ``readtrack run gru --set KEY=VALUE``).

The defaults are the calibrated experiment: turn one and the run reports its targets without asserting
them. ``unit`` is the ablation switch: the unit in the GRU's arm, PyTorch's form of the GRU, the paper's
(the reset gate before the hidden matmul), or a plain tanh RNN with neither gate.
"""

from __future__ import annotations

from dataclasses import dataclass

from readtrack.api import knob


@dataclass(frozen=True)
class Config:
    unit: str = knob(
        "gru",
        choices=("gru", "paper", "rnn"),
        help="the unit in the GRU's arm: our GRU (PyTorch's form), the paper's form, or nn.RNN (no gates)",
        paper="paper",
    )
    steps: int = knob(
        450, quick=800, low=1, high=100_000, help="Adam steps per network, each stopped once solved"
    )
    lr: float = knob(
        0.0,
        low=0.0,
        high=1.0,
        help="Adam's rate of every unit",
        means={0.0: "each its own (quick: GRU 3e-2, LSTM 2e-2, RNN 1e-2), else best"},
    )
    batch: int = knob(64, low=1, high=4096, help="sequences of the adding problem per step")
    hidden: int = knob(32, low=1, high=1024, help="hidden units of each network")
    length: int = knob(
        30,
        low=2,
        high=1000,
        help="sequence length T of the adding problem, the lag to bridge (the difficulty)",
    )
    inits: int = knob(
        3, quick=1, low=1, high=20, help="initialisations averaged inside one run (and batch streams)"
    )
