"""The knobs of deepdream's experiment (``readtrack knobs deepdream``; ``readtrack run deepdream --set K=V``).

The defaults are the calibrated experiment: turn one and the run reports its targets without asserting
them. The ablation switches are the post's three tricks in the dreams "with the tricks": ``jitter`` (0
turns the random shifts off), ``octaves`` (1: the image is optimised at 16×16 only) and ``l2`` (0: no prior);
with all three off both arms are plain gradient ascent. ``start`` picks where every dream starts: the mean
training image (Simonyan's zero image of centred data) or noise around the zero image (which fails on a
LeNet whose first-layer ReLUs are all off there, the page says).
"""

from __future__ import annotations

from dataclasses import dataclass

from readtrack.api import knob


@dataclass(frozen=True)
class Config:
    jitter: int = knob(
        2,
        low=0,
        high=8,
        help="the tricks' random shift: |dy|, |dx| ≤ jitter pixels each step",
        means={0: "no jitter"},
        paper="32 pixels on 224×224 images (the notebook)",
    )
    octaves: int = knob(
        3,
        low=1,
        high=5,
        help="the tricks' octaves: image sides 16/1.4^k, coarse to fine (3: 8 → 11 → 16; 1: 16 only)",
        paper="4 octaves, ×1.4 (the notebook)",
    )
    l2: float = knob(
        1e-3,
        low=0.0,
        high=1.0,
        help="λ, the tricks' L2 prior on the image",
        means={0.0: "none"},
        paper="not stated",
    )
    start: str = knob(
        "mean",
        choices=("mean", "zero"),
        help="every dream starts from the mean training image or the zero image, plus noise 0.01",
        paper="the zero image of mean-subtracted data (Simonyan)",
    )
    steps: int = knob(
        200,
        quick=100,
        low=1,
        high=5000,
        help="Adam steps per dream, split evenly over the octaves",
        paper="10 per octave (the notebook)",
    )
    lr: float = knob(
        0.1,
        low=1e-4,
        high=10.0,
        help="Adam's rate on the image, both arms",
        paper="step 1.5 on the mean-normalised gradient (the notebook)",
    )
    per_class: int = knob(8, low=1, high=64, help="dreams per class, each from its own noise")
    lenet_steps: int = knob(
        400, low=1, high=10_000, help="Adam steps (lr 3e-3, batches of 64) of the LeNet that is then frozen"
    )
    noise: float = knob(
        0.1, low=0.0, high=2.0, help="pixel noise sd of the shapes the LeNet learns (the difficulty)"
    )
