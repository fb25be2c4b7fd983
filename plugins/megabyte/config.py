"""The knobs of MEGABYTE's experiment (``readtrack knobs megabyte``; ``readtrack run megabyte --set K=V``).

The defaults are the calibrated experiment: Markov bytes (16 values, order 2) in sequences of 32; MEGABYTE
with patches of 4 (quick: 8), a global model 64 wide with 2 layers and a local model 32 wide, against a flat
decoder 64 wide with 2 layers, at equal training compute. Turn one and the run reports its targets without
asserting them. ``local`` is the ablation switch: the local model reads the bytes before it in its own patch
(eq. 4), or only the pad at every position, so a byte is predicted from earlier patches alone.
"""

from __future__ import annotations

from dataclasses import dataclass

from readtrack.api import knob


@dataclass(frozen=True)
class Config:
    local: str = knob(
        "bytes",
        choices=("bytes", "pad"),
        help="what the local model reads at position p: the byte before it in its patch (eq. 4), or the pad",
        paper="bytes",
    )
    patch: int = knob(
        4,
        quick=8,
        choices=(1, 2, 4, 8),
        help="P, bytes per patch",
        paper="8 for text",
    )
    steps: int = knob(
        600,
        quick=80,
        low=1,
        high=100_000,
        help="the flat model's Adam updates; MEGABYTE takes as many more as its FLOPs are fewer",
        paper="equal training compute (table 2)",
    )
    lr: float = knob(
        0.0,
        low=0.0,
        high=1.0,
        help="Adam's peak rate for both",
        means={0.0: "each its best of 3e-3, 1e-2, 3e-2 (quick: 3e-3 and 1e-2)"},
        paper="tuned per model",
    )
    batch: int = knob(32, low=1, high=4096, help="sequences per update")
    d_model: int = knob(
        64,
        choices=(16, 32, 64, 128, 256),
        help="the flat model's width and the global model's (P·D_G)",
        paper="far wider: hundreds to thousands",
    )
    local_width: int = knob(
        32, choices=(8, 16, 32, 64, 128), help="D_L, the local model's width", paper="narrower than global"
    )
    layers: int = knob(2, low=1, high=12, help="layers of the flat and of the global model (local: 1)")
    seq_len: int = knob(
        32, low=4, high=1024, help="bytes per sequence (the longer, the cheaper MEGABYTE is per byte)"
    )
