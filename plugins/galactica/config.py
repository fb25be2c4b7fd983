"""The knobs of galactica's experiment (``readtrack knobs galactica``; ``readtrack run galactica --set K=V``).

The defaults are the calibrated experiment: turn one and the run reports its targets without asserting
them. ``work`` is the ablation switch: the arm under test trained and decoded with the ``<work>`` trace (the
paper), or on the direct format like the other arm (the idea removed: the margin is then 0).
"""

from __future__ import annotations

from dataclasses import dataclass

from readtrack.api import knob


@dataclass(frozen=True)
class Config:
    work: bool = knob(
        True,
        help="the arm under test writes the <work> trace before its answer; off: the direct format too",
        paper="on (section 3.1.1's <work> token)",
    )
    digits: int = knob(
        5, quick=4, low=2, high=9, help="digits of each addend: the carry chain's length (the difficulty)"
    )
    steps: int = knob(500, quick=400, low=1, high=100_000, help="AdamW steps per model, one fresh batch each")
    lr: float = knob(
        0.0,
        quick=3e-3,
        low=0.0,
        high=1.0,
        help="AdamW's peak rate, both formats",
        means={0.0: "each format its best of 1e-3, 3e-3 on 500 validation pairs"},
        paper="not stated for arithmetic",
    )
    schedule: str = knob(
        "wsd",
        choices=("wsd", "constant"),
        help="the rate: wsd warms up over the first 10% of the steps, holds, decays to 0 over the last 25%",
    )
    beta2: float = knob(
        0.98,
        low=0.5,
        high=0.9999,
        help="AdamW's β2 (at its default 0.999 the scratchpad model stalls on some seeds)",
        paper="not stated for arithmetic",
    )
    clip: float = knob(
        1.0, low=0.0, high=100.0, help="gradients clipped to this norm", means={0.0: "not clipped"}
    )
    batch: int = knob(32, low=1, high=4096, help="addition pairs per step")
    d_model: int = knob(
        64,
        choices=(8, 16, 32, 64, 128, 256, 512, 1024),
        help="width of the transformer (4 heads)",
        paper="10240 (120B)",
    )
    layers: int = knob(
        2, low=1, high=24, help="transformer blocks: the fixed depth a direct answer must fit in", paper="96"
    )
