"""The knobs of transformer-xl's experiment (``readtrack knobs transformer-xl``;
``readtrack run transformer-xl --set KEY=VALUE``).

The defaults are the calibrated experiment (segments of 8 tokens over 16 symbols, the target one segment
back; a 1-layer model of width 32 trained with Adam at 3e-3 on 32 streams of 4 segments a step, 150 steps
quick and 400 full, evaluated on streams of 16 segments): turn one and the run reports its targets without
asserting them. ``memory`` is the ablation switch: the states the model under test caches from the previous
segment (8, one whole segment: the paper's recurrence; 0: none, like the other arm; between: part of it).
"""

from __future__ import annotations

from dataclasses import dataclass

from readtrack.api import knob


@dataclass(frozen=True)
class Config:
    memory: int = knob(
        8,
        low=0,
        high=1024,
        help="states the 'with memory' model caches from the previous segment",
        means={0: "none; < segment: part"},
        paper="150 in training on WikiText-103 (the segment's length), 1,600 at evaluation",
    )
    steps: int = knob(400, quick=150, low=1, high=100_000, help="Adam steps, one fresh batch of streams each")
    lr: float = knob(3e-3, low=1e-6, high=1.0, help="Adam's learning rate", paper="2.5e-4, cosine decay")
    batch: int = knob(32, low=1, high=4096, help="streams per step", paper="60 (WikiText-103, base)")
    d_model: int = knob(
        32, low=2, high=1024, multiple_of=2, help="the model's width (2 heads)", paper="410 (base)"
    )
    layers: int = knob(1, low=1, high=24, help="Transformer-XL layers", paper="16 (WikiText-103, base)")
    segment: int = knob(
        8, low=1, high=512, help="tokens a segment; the target is the token one segment back", paper="150"
    )
    vocab: int = knob(16, low=2, high=100_000, help="symbols a token is drawn from (chance is 1/vocab)")
    eval_segments: int = knob(
        16, low=1, high=1024, help="segments of an evaluation stream (training streams have 4)"
    )
