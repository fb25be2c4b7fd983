"""The knobs of the gist tokens' experiment (``readtrack knobs gist-tokens``; ``readtrack run gist-tokens
--set KEY=VALUE``).

The defaults are the calibrated experiment: instructions of 8 words naming one of 8 tasks (each word a
keyword with probability 3/4), a 3-layer transformer from GPT-2's initialisation scaled by 3, trained by
Adam at 1e-3 on batches of 64, the gist model with k = 1 alone at d = 64 for 250 steps in the quick run, with
the controls and k = 2, 4 at d = 32 for 600 steps in the full one. Turn one and the run reports its targets
without asserting them (``--set init_scale=1`` shows GPT-2's own scale: a plateau that outlasts the quick run
on some seeds). ``mask`` is the ablation switch: the gist models train under the gist mask (the gist tokens
read the prompt, the input reads only the gist), as the paper does, or under a sealed one where the gist
tokens may not read the prompt either, so nothing of it reaches the input.
"""

from __future__ import annotations

from dataclasses import dataclass

from readtrack.api import knob


@dataclass(frozen=True)
class Config:
    mask: str = knob(
        "gist",
        choices=("gist", "sealed"),
        help="the gist models' mask: the gist mask (decoded through the gist cache) or sealed, the prompt "
        "hidden from the gist tokens too (decoded under that mask)",
        paper="gist",
    )
    steps: int = knob(600, quick=250, low=1, high=100_000, help="Adam steps per model, one fresh batch each")
    init_scale: float = knob(
        3.0,
        low=0.0,
        high=100.0,
        help="every weight matrix's initial standard deviation, in units of GPT-2's (0.02, the residual "
        "writers 0.02/√(2·layers)): at 1 the gist model's plateau outlasts the quick run on some seeds",
        paper="pretrained LLaMA-7B / FLAN-T5 (no fresh initialisation)",
    )
    lr: float = knob(1e-3, low=1e-6, high=1.0, help="Adam's learning rate", paper="1e-4 (LLaMA-7B, FLAN-T5)")
    batch: int = knob(64, low=1, high=4096, help="examples per step", paper="128")
    d_model: int = knob(
        32,
        quick=64,
        low=4,
        high=1024,
        multiple_of=4,
        help="the transformer's width (4 heads)",
        paper="LLaMA-7B, FLAN-T5-XXL",
    )
    layers: int = knob(
        3,
        low=2,
        high=24,
        help="transformer blocks (2 at least: with one, the input sees only the gist's embedding)",
        paper="32 (LLaMA-7B)",
    )
    keyword_rate: float = knob(
        0.75,
        low=0.0,
        high=1.0,
        help="the chance a prompt word is one of its task's keywords, not a filler (at least one is): the "
        "difficulty",
        paper="natural-language instructions (Alpaca+)",
    )
