"""The knobs of persimmon's experiment (``readtrack knobs persimmon``; ``readtrack run persimmon --set K=V``).

The defaults are the calibrated experiment (language models of width 32, 1 layer quick and 2 full, trained
with AdamW on batches of 32 for 120 steps quick and 200 full after 20 steps of warm-up; quick at lr 0.03 and
0.3, full at 0.01, 0.03, 0.1 and 0.3, with ``repeats`` pairs at 0.3: one quick, three full, each pair from its
own initialisation, the logit target the mean of their log10 ratios): turn one and the run reports its
targets without asserting them.
``qk_norm`` is the ablation switch: the model the claim is about has layer norm on its queries and keys (the
release's choice) or, turned off, none, like the other arm. ``high_lr`` is the difficulty: the rate at which
attention logits grow without the norms.
"""

from __future__ import annotations

from dataclasses import dataclass

from readtrack.api import knob


@dataclass(frozen=True)
class Config:
    qk_norm: bool = knob(
        True,
        help="whether the 'with QK layer norm' model normalises queries and keys (false: both arms without)",
        paper="true (layernorm on the queries and keys)",
    )
    lr: float = knob(
        0.01, quick=0.03, low=1e-6, high=3.0, help="the usual rate, at which both variants must learn"
    )
    high_lr: float = knob(
        0.3,
        low=1e-6,
        high=3.0,
        help="the high rate, at which logits grow without the norms",
        paper="not stated (Wortsman et al. sweep it)",
    )
    sweep: bool = knob(
        True,
        quick=False,
        help="also train the rates of 1e-2, 3e-2, 1e-1, 3e-1 between lr and high_lr (reported)",
    )
    repeats: int = knob(
        3,
        quick=1,
        low=1,
        high=100,
        help="pairs (with, without) trained at high_lr, each from its own initialisation and batches; the "
        "logit target averages their log10 ratios",
    )
    steps: int = knob(200, quick=120, low=1, high=100_000, help="AdamW steps per model, one fresh batch each")
    warmup: int = knob(
        20, low=1, high=100_000, help="steps of linear warm-up", paper="Wortsman et al.: longer helps"
    )
    batch: int = knob(32, low=1, high=4096, help="sequences per step")
    layers: int = knob(2, quick=1, low=1, high=24, help="blocks per model", paper="36 (Persimmon-8B)")
    d_model: int = knob(
        32, low=16, high=2048, multiple_of=4, help="the models' width (4 heads)", paper="4096"
    )
