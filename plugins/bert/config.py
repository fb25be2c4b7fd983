"""The knobs of BERT's experiment (``readtrack knobs bert``; ``readtrack run bert --set KEY=VALUE``).

The defaults are the calibrated experiment: 2 layers, H = 32, 4 heads, sequences of 17 tokens (8 copy pairs)
over 16 symbols, 200 Adam steps of 128 sequences at lr 1e-2 quick, 600 steps of 64 at the best of 3e-3 and
1e-2 full; turn one and the run reports its targets without asserting them. ``attention`` is the ablation
switch: what the arm under test (the "bidirectional" one) may attend to, both sides as BERT or only the left,
which makes it the same causal model as the baseline arm.
"""

from __future__ import annotations

from dataclasses import dataclass

from readtrack.api import knob


@dataclass(frozen=True)
class Config:
    attention: str = knob(
        "bidirectional",
        choices=("bidirectional", "causal"),
        help="what the arm under test attends to: both sides (BERT), or only the left (as the baseline arm)",
        paper="bidirectional",
    )
    steps: int = knob(600, quick=200, low=1, high=100_000, help="Adam steps per arm and rate", paper="1M")
    batch: int = knob(64, quick=128, low=1, high=4096, help="sequences per step", paper="256 sequences")
    lr: float = knob(
        0.0,
        low=0.0,
        high=1.0,
        help="Adam's rate for both arms",
        means={0.0: "each its best of 3e-3, 1e-2 by validation loss (quick: 1e-2)"},
        paper="1e-4 with warm-up and linear decay",
    )
    hidden: int = knob(
        32, choices=(8, 16, 32, 64, 128, 256), help="the hidden size H (the FFN is 4H)", paper="768 (base)"
    )
    heads: int = knob(4, choices=(1, 2, 4, 8), help="attention heads A", paper="12 (base)")
    layers: int = knob(2, low=1, high=12, help="encoder layers L", paper="12 (base)")
    pairs: int = knob(
        8,
        low=1,
        high=64,
        help="copy pairs per sequence: 2·pairs + 1 tokens, each odd one a copy of its right neighbour",
        paper="sequences of 512 tokens",
    )
    vocab: int = knob(
        16, low=2, high=128, help="real tokens (then [MASK]); the exact ceilings depend on it", paper="30k"
    )
