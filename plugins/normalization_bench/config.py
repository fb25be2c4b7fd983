"""The knobs of the normalization family bench (``readtrack knobs normalization-bench``; ``--set K=V``).

The defaults are the calibrated bench: turn one and the run reports its targets without asserting them.
"""

from __future__ import annotations

from dataclasses import dataclass

from readtrack.api import knob


@dataclass(frozen=True)
class Config:
    networks: str = knob(
        "both",
        choices=("both", "convnet", "transformer"),
        help="which half of the family to train: the image layers' convnet, the token layers' transformer",
    )
    images: int = knob(
        2048,
        quick=1024,
        low=32,
        high=1_000_000,
        help="images the convnet trains on at each batch size (steps: images / batch)",
    )
    sequences: int = knob(
        960,
        quick=480,
        low=32,
        high=1_000_000,
        help="sequences the transformer trains on at each batch size (steps: sequences / batch)",
    )
    small_batch: int = knob(2, low=1, high=64, help="the small batch: examples per step")
    large_batch: int = knob(32, low=1, high=1024, help="the large batch")
    inits: int = knob(1, quick=1, low=1, high=16, help="initialisations averaged per layer and batch size")
    contrast: float = knob(
        1.0,
        low=0.0,
        high=10.0,
        help="how far each image's contrast and brightness vary (0: none), as photographs' do",
    )
    width: int = knob(8, low=4, high=256, multiple_of=4, help="the convnet's first channels (then 2×, 2×)")
    layers: int = knob(2, low=1, high=64, help="transformer blocks")
