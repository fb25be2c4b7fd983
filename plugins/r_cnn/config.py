"""The knobs of r-cnn's experiment (``readtrack knobs r-cnn``; ``readtrack run r-cnn --set KEY=VALUE``).

The defaults are the calibrated experiment: two detectors of backbone width 32, the two-stage one (RPN +
Fast R-CNN head) and the same network's head on sliding windows, each trained with 400 Adam steps (120 quick)
of 8 on 1000 scenes (200 quick) of 32 × 32 pixels with 1-3 shapes, at its better rate of 3e-3 and 1e-2
(quick: the rate seed 0's validation scenes chose), then scored by AP50 on 200 new scenes (100 quick). Turn
one and the run reports its targets without asserting them. ``proposals`` is the ablation switch: the
two-stage detector's 16 regions at test time are its RPN's best proposals (the paper) or 16 anchors drawn at
random (no learned proposals).
"""

from __future__ import annotations

from dataclasses import dataclass

from readtrack.api import knob


@dataclass(frozen=True)
class Config:
    proposals: str = knob(
        "rpn",
        choices=("rpn", "random"),
        help="the two-stage detector's 16 regions per test image: its RPN's best, or 16 anchors at random",
        paper="rpn (Faster R-CNN: 300 RPN proposals against ~2000 selective-search windows)",
    )
    steps: int = knob(400, quick=120, low=1, high=20_000, help="Adam steps of each detector")
    lr: float = knob(
        0.0,
        low=0.0,
        high=1.0,
        help="Adam's rate for both detectors",
        means={0.0: "each its better of 3e-3, 1e-2 (quick: seed 0's choice)"},
        paper="not stated for Adam (the papers: SGD at 1e-3)",
    )
    batch: int = knob(
        8,
        low=1,
        high=256,
        help="scenes per step, drawn at random from the training scenes",
        paper="2 images (Fast R-CNN), 1 (Faster R-CNN)",
    )
    scenes: int = knob(1000, quick=200, low=1, high=20_000, help="training scenes (the data pool)")
    test_scenes: int = knob(200, quick=100, low=1, high=5000, help="new scenes AP50 is measured on")
    width: int = knob(32, low=2, high=256, help="channels of the detectors' backbone and RPN")
    objects: int = knob(
        3,
        low=1,
        high=6,
        help="most shapes in a scene, 1 to this many (the difficulty; one that does not fit is dropped)",
    )
