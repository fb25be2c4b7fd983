"""The knobs of the tokenization family bench (``readtrack knobs tokenization-bench``; ``--set K=V``).

The defaults are the calibrated bench: turn one and the run reports its targets without asserting them.
``merges`` is the ablation switch: the merges each BPE learns from the training text; with none, both BPE
arms read bytes.
"""

from __future__ import annotations

from dataclasses import dataclass

from readtrack.api import knob


@dataclass(frozen=True)
class Config:
    steps: int = knob(
        300,
        quick=30,
        low=10,
        high=100_000,
        help="Adam steps of the flat byte model; every other member takes as many more as its FLOPs per byte "
        "are fewer (equal training compute)",
        paper="equal training compute (MEGABYTE's table 2)",
    )
    lr: float = knob(
        0.0,
        low=0.0,
        high=1.0,
        help="one Adam peak rate for every member",
        means={0.0: "each member its best of its own grid, on validation text (quick: the grid's pick)"},
    )
    batch: int = knob(16, low=1, high=1024, help="chunks of text per step")
    merges: int = knob(
        256,
        choices=(0, 64, 256, 1024),
        help="merges each BPE learns from the training text (0: no merge, both BPE arms read bytes)",
        paper="32k-250k subwords",
    )
    noise: float = knob(
        0.1,
        low=0.0,
        high=0.5,
        help="probability of add, drop or mutate at each character of the noised held-out copy",
        paper="0.1 (ByT5, section 6)",
    )
    patch: int = knob(4, choices=(2, 4, 8), help="MEGABYTE's patch size P, bytes", paper="8 for text")
    lines: int = knob(
        4000, quick=600, low=100, high=100_000, help="lines of training text (words and numbers)"
    )
