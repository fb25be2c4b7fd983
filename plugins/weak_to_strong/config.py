"""The knobs of weak-to-strong's experiment (``readtrack knobs weak-to-strong``; ``--set KEY=VALUE``).

The defaults are the calibrated experiment: turn one and the run reports its targets without asserting
them. ``loss`` is the ablation switch: the second student trains with the auxiliary confidence loss (the
paper's, α_max = 0.75) or with plain CE, the idea removed, so that both students are the same. ``salience``
and ``weak_noise`` are the assumptions the gain rests on (see the page): how salient the concept is in the
student's representation, and how noisy the weak supervisor's view is.
"""

from __future__ import annotations

from dataclasses import dataclass

from readtrack.api import knob


@dataclass(frozen=True)
class Config:
    loss: str = knob(
        "confidence",
        choices=("confidence", "plain"),
        help="the second student's loss: the auxiliary confidence loss (α_max = 0.75) or plain CE",
        paper="confidence (α_max = 0.75)",
    )
    salience: float = knob(
        4.0,
        low=0.0,
        high=100.0,
        help="λ, the concept direction's scale in the student's representation (1: not salient)",
        paper="a pretrained model's representation",
    )
    weak_noise: float = knob(
        2.0, low=0.0, high=100.0, help="sd of the noise on the weak supervisor's view of z (the difficulty)"
    )
    steps: int = knob(
        200, low=1, high=100_000, help="SGD steps of every linear model (weak, ceiling, students)"
    )
    lr: float = knob(
        0.0,
        low=0.0,
        high=10.0,
        help="the students' SGD rate",
        means={0.0: "each its best of 0.03, 0.1, 0.3 on the validation half"},
    )
    batch: int = knob(256, low=1, high=65_536, help="examples per SGD step, drawn with replacement")
    examples: int = knob(4000, low=10, high=200_000, help="examples per split (weak's train, held-out, test)")
    dim: int = knob(32, low=1, high=1024, help="the latent z's dimension, seen (noisily) by the weak model")
    inits: int = knob(
        6,
        quick=2,
        low=1,
        high=20,
        help="initialisations averaged inside one run: tasks, each with its own seed",
    )
