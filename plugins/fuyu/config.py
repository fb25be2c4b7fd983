"""The knobs of fuyu's experiment (``readtrack knobs fuyu``; ``readtrack run fuyu --set KEY=VALUE``).

The defaults are the calibrated experiment: turn one and the run reports its targets without asserting
them. ``row_ends`` is the ablation switch: the arm under test ("with row-ends (Fuyu)") built with a row-end
token after each row of patches (the paper), or without (then both arms are the same model).
"""

from __future__ import annotations

from dataclasses import dataclass

from readtrack.api import knob


@dataclass(frozen=True)
class Config:
    row_ends: bool = knob(
        True, help="a row-end token after each row of patches in the arm under test (Fuyu's)", paper="True"
    )
    steps: int = knob(
        400, quick=200, low=1, high=10_000, help="AdamW steps per model on the row-end question"
    )
    qa_steps: int = knob(
        600, low=1, high=10_000, help="AdamW steps per model on the scenes' three questions (full run only)"
    )
    lr: float = knob(
        0.0,
        low=0.0,
        high=1.0,
        help="AdamW's rate for every model",
        means={0.0: "each arm its best of 3e-4, 1e-3 on validation (quick: 1e-3)"},
    )
    batch: int = knob(32, low=1, high=1024, help="images per step", paper="not stated at this scale")
    d_model: int = knob(
        64, low=8, high=512, multiple_of=8, help="the decoder's width (4 heads)", paper="8B-parameter decoder"
    )
    layers: int = knob(2, low=1, high=12, help="decoder blocks", paper="Persimmon-8B's decoder")
    noise: float = knob(
        0.1, low=0.0, high=2.0, help="sd of the Gaussian noise added to every image (the difficulty)"
    )
