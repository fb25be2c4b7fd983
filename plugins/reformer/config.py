"""The knobs of the Reformer's train stage (issue 55): the defaults are the calibrated run, quick (120 Adam
steps, 512 test sequences evaluated with LSH-1 and LSH-8) and full (300 steps, 2,048 sequences, LSH-1, 2, 4
and 8); both a 2-layer shared-QK model of width 64 (2 heads) trained with full attention at 3e-3 on batches of
32 duplication sequences 0 w 0 w with words of 15 symbols, evaluated with 8 buckets; the attention-mass probe
before it (1,024 clustered vectors, 32 buckets) has no knobs but the switch.

The ablation switch is ``hashing``: ``angular`` is the paper's LSH, h(x) = argmax([xR; −xR]) of a random
rotation R; ``off`` makes every rotation 0, so every vector hashes to bucket 0 and LSH's pairs are chunks of
nearby positions, blind to content (the idea removed): in the probe and in the model's LSH evaluation alike.
"""

from __future__ import annotations

from dataclasses import dataclass

from readtrack.api import knob


@dataclass(frozen=True)
class Config:
    hashing: str = knob(
        "angular",
        choices=("angular", "off"),
        help="how LSH buckets vectors: angular (random rotations) or off (all in bucket 0): the ablation",
        paper="angular LSH (section 2)",
    )
    steps: int = knob(300, quick=120, low=1, high=100_000, help="Adam steps on the duplication task")
    lr: float = knob(3e-3, low=1e-6, high=1.0, help="Adam's learning rate", paper="not stated")
    batch: int = knob(32, low=1, high=1024, help="duplication sequences per Adam step")
    d_model: int = knob(
        64, choices=(16, 32, 64, 128, 256), help="model width (2 heads of d_model / 2)", paper="256"
    )
    depth: int = knob(2, low=1, high=8, help="transformer blocks", paper="1 (the duplication task)")
    word: int = knob(
        15,
        low=1,
        high=255,
        help="symbols in w of 0 w 0 w, the part to copy (the difficulty; sequences of 2·(word + 1))",
        paper="511 (sequences of 1,024)",
    )
    buckets: int = knob(
        8, choices=(2, 4, 8, 16, 32, 64), help="hash buckets of the LSH evaluation (chunks of 4 positions)"
    )
    sequences: int = knob(
        2048,
        quick=512,
        low=16,
        high=16_384,
        help="held-out sequences evaluated, in batches of 16 with a hash draw each",
    )
