"""The knobs of palm's experiment (``readtrack knobs palm``; ``readtrack run palm --set KEY=VALUE``).

The defaults are the calibrated experiment (2-layer models of width 32 quick and 64 full, 4 heads, on text of
32 symbols a sequence from an order-2 Markov chain over 16 symbols; 300 Adam steps quick and 600 full on
batches of 32, each block type at its best rate of the grid, quick at the grid's pick 1e-2): turn one and the
run reports its targets without asserting them. ``block`` is the ablation switch: the model the claim is
about is built of PaLM's parallel blocks (the paper) or of serial ones, like the other arm.
"""

from __future__ import annotations

from dataclasses import dataclass

from readtrack.api import knob


@dataclass(frozen=True)
class Config:
    block: str = knob(
        "parallel",
        choices=("parallel", "serial"),
        help="the block of the 'parallel' model: PaLM's parallel one, or serial (both arms alike)",
        paper="parallel",
    )
    steps: int = knob(600, quick=300, low=1, high=100_000, help="Adam steps per model, one fresh batch each")
    lr: float = knob(
        0.0,
        low=0.0,
        high=1.0,
        help="Adam's rate for both",
        means={0.0: "each its best of 3e-3, 1e-2, 3e-2 (quick: the grid's pick, 1e-2)"},
        paper="Adafactor, 1e-2 for 10k steps, then 1/√k",
    )
    batch: int = knob(32, low=1, high=4096, help="sequences per step", paper="512 → 2048 sequences")
    d_model: int = knob(
        64,
        quick=32,
        low=8,
        high=2048,
        multiple_of=8,
        help="the models' width (4 heads of an even size, for the rotary pairs)",
        paper="4096, 8192, 18432",
    )
    layers: int = knob(2, low=1, high=24, help="blocks per model", paper="32, 64, 118 (8B, 62B, 540B)")
    vocab: int = knob(16, low=2, high=64, help="the Markov chain's symbols", paper="256k SentencePiece")
    order: int = knob(
        2, low=1, high=3, help="the chain's memory in symbols (the difficulty: vocab^order contexts, ≤ 4096)"
    )
    seq_len: int = knob(32, low=4, high=2048, help="symbols per training sequence", paper="2048 tokens")
