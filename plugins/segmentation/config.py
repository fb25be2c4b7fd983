"""The knobs of FCN's experiment (``readtrack knobs segmentation``; ``readtrack run segmentation --set K=V``).

The defaults are the calibrated experiment: an FCN of width 8 trained on 32 × 32 scenes with 1-3 shapes (200
of them, 240 Adam steps of 8 in the quick run; 1,200, 600 steps of 16 in the full one), tested on unseen
64 × 64 scenes with 2-6 shapes; FCN-8s-style skips against FCN-32s-style coarse scores, each at its best
rate, the same seed's data and initial backbone for both. Both modes assert skips minus coarse mean IU
(quick ≥ 0.05, full ≥ 0.2). Turn one knob and the run reports its targets without asserting them. ``skips``
is the ablation switch: the arm under test ("FCN-8s-style skips") fuses the stride-4 and stride-2 scores as
FCN-8s does, or upsamples the coarse scores ×8 in one step, and is then the same model as the coarse arm.
"""

from __future__ import annotations

from dataclasses import dataclass

from readtrack.api import knob


@dataclass(frozen=True)
class Config:
    skips: bool = knob(
        True,
        help="the arm under test adds the finer layers' scores as FCN-8s does; false: FCN-32s's one ×8 step",
        paper="true (FCN-8s against FCN-32s, table 2)",
    )
    steps: int = knob(600, quick=240, low=1, high=100_000, help="Adam steps per network, one batch each")
    lr: float = knob(
        0.0,
        low=0.0,
        high=1.0,
        help="Adam's rate for both arms",
        means={
            0.0: "each network its best of 1e-3, 3e-3, 1e-2 on validation scenes (quick: its best in quick "
            "runs on seeds 100-107, 1e-2 for both)"
        },
        paper="SGD, 1e-4 (FCN-32s) and 1e-5 (FCN-16s, 8s), momentum 0.99",
    )
    batch: int = knob(
        16, quick=8, low=1, high=1024, help="scenes per step (random horizontal flips)", paper="20"
    )
    width: int = knob(
        8, low=1, high=256, help="channels of the first stage (then ×2, ×4)", paper="VGG16, 64 to 512"
    )
    pool: int = knob(1200, quick=200, low=1, high=100_000, help="training scenes, 32 × 32 with 1-3 shapes")
    test_size: int = knob(
        64,
        low=16,
        high=512,
        multiple_of=8,
        help="the side of the unseen test scenes, with 2-6 shapes (the difficulty: trained at 32)",
        paper="PASCAL VOC images, about 500 × 375",
    )
