"""The knobs of the Transformer's experiment (``readtrack knobs transformer``; ``readtrack run transformer
--set KEY=VALUE``).

The defaults are the calibrated experiment: a 2 + 2 layer encoder-decoder (d_model 64, 4 heads) reversing 10
digits, 170 steps quick and 400 full, with eq. 3's rate and 50 warm-up steps; turn one and the run reports its
targets without asserting them. ``positions`` is the ablation switch: the order of the digits reaches the
model only through the positional encodings (section 3.5), sinusoidal as in the paper, learned (Table 3, row
E) or none at all (attention alone is permutation-equivariant).
"""

from __future__ import annotations

from dataclasses import dataclass

from readtrack.api import knob


@dataclass(frozen=True)
class Config:
    positions: str = knob(
        "sinusoidal",
        choices=("sinusoidal", "learned", "none"),
        help="the positional encodings added to the embeddings: sin/cos of section 3.5, learned, or none",
        paper="sinusoidal; learned scored about the same (Table 3, row E)",
    )
    steps: int = knob(
        400, quick=170, low=1, high=100_000, help="Adam steps, one fresh batch each", paper="100k"
    )
    lr: float = knob(
        0.0,
        low=0.0,
        high=1.0,
        help="eq. 3's peak rate",
        means={0.0: "its own, d_model^−0.5·warmup^−0.5 (0.018 here), else eq. 3 scaled to it"},
        paper="eq. 3 (peak 7e-4 for the base model)",
    )
    warmup: int = knob(50, low=1, high=100_000, help="warm-up steps of eq. 3's rate", paper="4000")
    batch: int = knob(64, low=1, high=4096, help="sequences per step", paper="about 25k source tokens")
    d_model: int = knob(
        64,
        choices=(16, 32, 64, 128, 256, 512),
        help="the model's width; the FFN is 4 × d_model wide (eq. 2)",
        paper="512 (base), d_ff 2048",
    )
    heads: int = knob(4, choices=(1, 2, 4, 8, 16), help="attention heads (d_k = d_model / heads)", paper="8")
    layers: int = knob(2, low=1, high=12, help="encoder layers, and as many decoder layers", paper="6 + 6")
    seq_len: int = knob(
        10, low=1, high=64, help="digits to reverse (the difficulty); the encodings cover 64 positions"
    )
