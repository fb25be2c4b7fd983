"""The knobs of GPT-3's experiment (``readtrack knobs gpt3``; ``readtrack run gpt3 --set KEY=VALUE``).

The defaults are the calibrated experiment: a 1-layer TinyTransformer of width 64 trained as a language
model on prompts of up to 8 shots of a map from 8 query symbols to 8 answers, 300 Adam steps of 64 prompts at
3e-3 quick, 600 at the better of 3e-3 and 1e-2 on validation full; turn one and the run reports its targets
without asserting them. ``maps`` is the ablation switch: the model under test is trained on a fresh map per
prompt (many tasks, the paper's meta-learning reading) or on one fixed map, which it can memorise instead of
learning to read the prompt.
"""

from __future__ import annotations

from dataclasses import dataclass

from readtrack.api import knob


@dataclass(frozen=True)
class Config:
    maps: str = knob(
        "fresh",
        choices=("fresh", "fixed"),
        help="the model under test trains on a fresh random map per prompt, or on one fixed map",
        paper="fresh: a broad distribution of tasks in natural text",
    )
    steps: int = knob(600, quick=300, low=1, high=100_000, help="Adam steps per model", paper="300B tokens")
    lr: float = knob(
        0.0,
        low=0.0,
        high=1.0,
        help="Adam's rate",
        means={0.0: "the better of 3e-3, 1e-2 on validation prompts (quick: 3e-3, that grid's pick)"},
        paper="6e-4 to 0.6e-4 by size, cosine decay",
    )
    batch: int = knob(64, low=1, high=4096, help="prompts per step", paper="0.5M to 3.2M tokens")
    d_model: int = knob(
        64, choices=(8, 16, 32, 64, 128, 256), help="the transformer's width (4 heads)", paper="768 to 12288"
    )
    layers: int = knob(1, low=1, high=12, help="transformer blocks", paper="12 to 96")
    shots: int = knob(
        8,
        low=1,
        high=64,
        help="demonstrations per training prompt; accuracy is read for k = 0 … shots",
        paper="0, 1 and 10 to 100 (as many as fit in 2048 tokens)",
    )
    n_x: int = knob(
        8, low=1, high=64, help="query symbols |X| (the difficulty: more to be shown)", paper="not stated"
    )
    n_y: int = knob(8, low=2, high=64, help="answers |Y| (chance is 1/|Y|)", paper="not stated")
