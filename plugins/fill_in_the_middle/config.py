"""The knobs of fill-in-the-middle's experiment (``readtrack knobs fill-in-the-middle``; ``readtrack run
fill-in-the-middle --set KEY=VALUE``).

The defaults are the calibrated experiment: documents of 8 symbols from a first-order Markov chain over 16,
two TinyTransformers of 2 layers, d = 64, trained with Adam at 3e-3 on batches of 64 documents for 1500 steps
(quick: 100), one left-to-right only and one with FIM at rate 0.5, half of it SPM. Turn one and the run
reports its targets without asserting them. ``fim_rate`` is the ablation switch: the share of the FIM arm's
training documents that are rearranged; at 0 it is a second left-to-right model, the same one bit for bit.
"""

from __future__ import annotations

from dataclasses import dataclass

from readtrack.api import knob


@dataclass(frozen=True)
class Config:
    fim_rate: float = knob(
        0.5,
        low=0.0,
        high=1.0,
        help="share of the FIM arm's documents rearranged",
        means={0.0: "a left-to-right model, like the other arm"},
        paper="0.5 (FIM for free; 0.9 too)",
    )
    spm_rate: float = knob(
        0.5,
        low=0.0,
        high=1.0,
        help="share of the rearranged documents in SPM order, the rest PSM",
        paper="0.5 (joint PSM and SPM training)",
    )
    steps: int = knob(1500, quick=100, low=1, high=100_000, help="Adam steps per model, one batch each")
    lr: float = knob(
        3e-3, low=1e-5, high=1.0, help="Adam's learning rate, both models", paper="tuned per model size"
    )
    batch: int = knob(64, low=1, high=4096, help="documents per step")
    d_model: int = knob(
        64,
        choices=(8, 16, 32, 64, 128, 256),
        help="width of both models (4 heads)",
        paper="models of 50M to 6.9B parameters",
    )
    layers: int = knob(2, low=1, high=24, help="layers of both models")
    length: int = knob(
        8,
        low=3,
        high=64,
        help="symbols per document (the task's difficulty: longer middles to infill)",
        paper="2048 tokens",
    )
    vocab: int = knob(16, low=2, high=64, help="symbols of the first-order Markov chain the documents follow")
