"""The knobs of GPT-2's experiment (``readtrack knobs gpt2``; ``readtrack run gpt2 --set KEY=VALUE``).

The defaults are the calibrated experiment: byte-level BPEs of 356, 1000 and 2000 ids (quick: 356 and 1000)
on seeded synthetic text; the residual stream's variance at initialisation at depths 6, 24 and 96 (quick:
48); the full run's A/B of GPT-2's block against GPT-1's, 8 layers of d = 32 on Markov-chain text, 250 Adam
steps of 32 sequences at each of 3e-3, 1e-2, 3e-2 (the quick run trains no A/B: ``steps`` 0). Turn one and
the run reports its targets without asserting them. ``scaled_init`` is the ablation switch: the arm under
test (the one "with 1/√N scaling", and GPT-2's block in the A/B) scales the residual projections by 1/√N at
initialisation as GPT-2 does, or is initialised plainly, as the other arm.
"""

from __future__ import annotations

from dataclasses import dataclass

from readtrack.api import knob


@dataclass(frozen=True)
class Config:
    scaled_init: bool = knob(
        True,
        help="the arm under test scales its residual projections by 1/√N at initialisation (section 2.3)",
        paper="true",
    )
    depth: int = knob(
        96, quick=48, low=1, high=400, help="the deepest model whose stream variance is measured (with 6, 24)"
    )
    bpe_vocab: int = knob(
        2000,
        quick=1000,
        low=257,
        high=5000,
        help="the largest BPE vocabulary trained (after 356 and 1000 below it)",
        paper="50,257",
    )
    steps: int = knob(
        250,
        quick=0,
        low=0,
        high=100_000,
        help="Adam steps per A/B model and rate",
        means={0: "no A/B (the quick run)"},
    )
    lr: float = knob(
        0.0,
        low=0.0,
        high=1.0,
        help="Adam's rate in the A/B",
        means={0.0: "each block its best of 3e-3, 1e-2, 3e-2"},
        paper="tuned per model size",
    )
    batch: int = knob(32, low=1, high=4096, help="sequences per A/B step", paper="512")
    layers: int = knob(8, low=1, high=96, help="layers of the A/B models", paper="12 to 48")
    d_model: int = knob(
        32, choices=(8, 16, 32, 64, 128, 256), help="width of the A/B models (4 heads)", paper="768 to 1600"
    )
