"""The knobs of the detection family bench (``readtrack knobs detection-bench``; ``--set K=V``).

The defaults are the calibrated bench: turn one and the run reports its targets without asserting them.
``proposals`` is the ablation switch: the hand-made regions R-CNN and Fast R-CNN are given.
"""

from __future__ import annotations

from dataclasses import dataclass

from readtrack.api import knob


@dataclass(frozen=True)
class Config:
    proposals: str = knob(
        "grouping",
        choices=("grouping", "windows"),
        help="R-CNN's and Fast R-CNN's regions: a bottom-up grouping of the image's components (jittered), "
        "or every sliding window",
        paper="grouping (selective search, about 2000 regions an image)",
    )
    steps: int = knob(200, quick=30, low=1, high=20_000, help="Adam steps of every member")
    lr: float = knob(
        0.0,
        low=0.0,
        high=1.0,
        help="Adam's rate for every member",
        means={0.0: "each member its better rate of its grid, on validation scenes (quick: the grid's pick)"},
        paper="not stated for Adam (the papers: SGD at 1e-3)",
    )
    batch: int = knob(
        8, quick=4, low=1, high=256, help="scenes per step, drawn at random from the training scenes"
    )
    scenes: int = knob(400, quick=100, low=1, high=20_000, help="training scenes (the data pool)")
    test_scenes: int = knob(
        100, quick=24, low=1, high=5000, help="new scenes AP50 and the costs are measured on"
    )
    width: int = knob(32, low=2, high=256, help="channels of the members' backbone")
