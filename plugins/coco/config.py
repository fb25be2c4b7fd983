"""The knobs of coco's experiment (``readtrack knobs coco``; ``readtrack run coco --set KEY=VALUE``).

The defaults are the calibrated experiment: the shared two-stage detector (backbone width 32) trained with
400 Adam steps (200 quick) of 8 at 3e-3 on 1000 scenes (500 quick) of 32 × 32 pixels with 1-3 shapes, then
evaluated on 200 new scenes (100 quick). Turn one and the run reports its targets without asserting them.
``metric`` is the ablation switch: the targets read COCO's AP averaged over IoU .50:.05:.95 (the paper), or
PASCAL's AP at IoU 0.5 alone in its place, the metric COCO's averaging was made to improve on.
"""

from __future__ import annotations

from dataclasses import dataclass

from readtrack.api import knob


@dataclass(frozen=True)
class Config:
    metric: str = knob(
        "coco",
        choices=("coco", "pascal"),
        help="what the targets read as AP: COCO's mean over IoU .50:.05:.95, or PASCAL's at IoU 0.5 (AP50)",
        paper="coco (IoU .50:.05:.95)",
    )
    steps: int = knob(400, quick=200, low=1, high=20_000, help="Adam steps of the detector")
    lr: float = knob(
        3e-3,
        low=1e-6,
        high=1.0,
        help="Adam's rate (the better of 3e-3 and 1e-2 at 150 steps, in a one-off comparison)",
        paper="not stated (the paper evaluates DPMv5 detectors)",
    )
    batch: int = knob(8, low=1, high=256, help="scenes per step, drawn at random from the training scenes")
    scenes: int = knob(1000, quick=500, low=1, high=20_000, help="training scenes (the data pool)")
    test_scenes: int = knob(200, quick=100, low=1, high=5000, help="new scenes the metric is computed on")
    width: int = knob(32, low=2, high=256, help="channels of the detector's backbone and RPN")
    objects: int = knob(
        3,
        low=1,
        high=6,
        help="most shapes in a scene, 1 to this many (the difficulty; one that does not fit is dropped)",
        paper="7.7 objects per image on average",
    )
