"""The knobs of seq2seq's experiment (``readtrack knobs seq2seq``; ``readtrack run seq2seq --set KEY=VALUE``).

The defaults are the calibrated experiment (copying 12 tokens over 9 symbols, LSTMs of 64, batches of 64,
100 Adam steps quick and 300 full, each order at its best of two rates, 1 initialisation quick and 3 full;
a beam of 4): turn one and the run reports its targets without asserting them. ``reverse`` is the ablation
switch of the first claim: the arm it is about reads the source reversed (the paper's trick) or, turned off,
in order like the other arm. ``beam`` is the second claim's: at width 1 the beam is greedy decoding.
"""

from __future__ import annotations

from dataclasses import dataclass

from readtrack.api import knob


@dataclass(frozen=True)
class Config:
    reverse: bool = knob(
        True,
        help="whether the 'reversed' arm reads the source reversed (false: both arms read it in order)",
        paper="true (section 3.3)",
    )
    beam: int = knob(
        4, low=1, high=64, help="the beam's width against greedy decoding (1: greedy)", paper="2 and 12"
    )
    steps: int = knob(300, quick=100, low=1, high=100_000, help="Adam steps per model, one fresh batch each")
    lr: float = knob(
        0.0,
        low=0.0,
        high=1.0,
        help="Adam's rate for both orders",
        means={0.0: "each order its best of 3e-3, 1e-2 on validation pairs"},
        paper="SGD at 0.7, halved every half epoch after 5 epochs",
    )
    batch: int = knob(64, low=1, high=4096, help="source sequences per step", paper="128")
    hidden: int = knob(
        64, low=2, high=1024, help="units of the encoder's and the decoder's LSTM", paper="4 layers of 1,000"
    )
    seq_len: int = knob(12, low=1, high=200, help="tokens to copy (the difficulty: the lag in order)")
    symbols: int = knob(
        9, low=2, high=10_000, help="symbols a token is drawn from", paper="160k source, 80k target words"
    )
    inits: int = knob(
        3,
        quick=1,
        low=1,
        high=20,
        help="initialisations averaged inside one run (each its own batches): their gaps averaged",
    )
