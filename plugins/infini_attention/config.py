"""The knobs of Infini-attention's train stage (issue 55): the defaults are the calibrated run, quick (120
Adam steps at 1e-2, the with-memory and without-memory models) and full (300 steps, each model at its best of
3e-3, 1e-2 on validation streams, and the delta-rule memory besides); both a one-layer model of width 32
(2 heads), batches of 32 passkey streams of 4 segments of 8 tokens, evaluated on 1×, 4× and 8× that many
segments.

The ablation switch is ``memory``: what the model under test (the "with memory" lines, the targets') keeps
across segments. ``linear`` is the paper's linear update (eq. 4), ``delta`` its delta rule (eq. 5), ``none``
switches the memory off (the gate forced to local attention), making it the "without memory" model: at
chance, since the passkey lies in a segment local attention never sees.
"""

from __future__ import annotations

from dataclasses import dataclass

from readtrack.api import knob


@dataclass(frozen=True)
class Config:
    memory: str = knob(
        "linear",
        choices=("linear", "delta", "none"),
        help="the model under test's compressive memory: linear (eq. 4), delta rule (eq. 5) or none",
        paper="linear and linear + delta",
    )
    steps: int = knob(300, quick=120, low=1, high=100_000, help="Adam steps per model")
    lr: float = knob(
        0.0,
        low=0.0,
        high=1.0,
        help="Adam's rate for every model",
        means={0.0: "each its best of 3e-3, 1e-2 (quick: 1e-2)"},
        paper="not stated for the passkey fine-tuning",
    )
    batch: int = knob(32, low=1, high=1024, help="passkey streams per Adam step")
    d_model: int = knob(
        32, choices=(8, 16, 32, 64, 128), help="model width (2 heads of d_model / 2)", paper="1024 (8 × 128)"
    )
    depth: int = knob(1, low=1, high=12, help="Infini-attention blocks", paper="12 (the LM experiments)")
    segment: int = knob(
        8, low=2, high=64, help="tokens per segment, what local attention sees", paper="2048 (LM experiments)"
    )
    segments: int = knob(
        4,
        low=2,
        high=16,
        help="segments per training stream, the passkey in the first (evaluated on 1×, 4× and 8× it)",
        paper="5K-token passkey fine-tuning, up to 1M tokens at test",
    )
