"""The knobs of gan's experiment (``readtrack knobs gan``; ``readtrack run gan --set KEY=VALUE``).

The defaults are the calibrated experiment: the ring of 8 Gaussians, G and D ReLU MLPs 128×2 with z of 2
dimensions, batch 128, one D step per G step (the paper's k = 1), 2000 steps (400 quick) on 3 training seeds
(1 quick), each loss at its own best learning rate. Turn one and the run reports its targets without asserting
them. ``loss`` is the ablation switch: what G minimises in the arm the claim is about, section 3's
non-saturating loss (the paper) or eq. 1's saturating loss in its place (the idea removed).
"""

from __future__ import annotations

from dataclasses import dataclass

from readtrack.api import knob


@dataclass(frozen=True)
class Config:
    loss: str = knob(
        "non-saturating",
        choices=("non-saturating", "saturating"),
        help="G's loss in the arm under test (the 'non-saturating' arm): −E log D(G(z)) or eq. 1's",
        paper="non-saturating (section 3)",
    )
    steps: int = knob(2000, quick=400, low=1, high=100_000, help="training steps: k D steps, then one G step")
    d_steps: int = knob(1, low=1, high=20, help="D steps per G step (the paper's k)", paper="k = 1")
    lr: float = knob(
        0.0,
        low=0.0,
        high=1.0,
        help="Adam's rate (β1 0.5) of G and D in both arms",
        means={0.0: "each loss its best of the grid, 1e-3 non-saturating, 5e-4 saturating"},
        paper="not stated (momentum SGD)",
    )
    batch: int = knob(128, low=1, high=8192, help="data points and G samples per step", paper="not stated")
    width: int = knob(128, low=2, high=2048, help="units per hidden layer of G and D (2 hidden layers each)")
    d_z: int = knob(2, low=1, high=256, help="dimensions of G's noise z ~ N(0, I)", paper="not stated")
    modes: int = knob(
        8, low=1, high=64, help="Gaussians on the ring of radius 2 (σ 0.02): the modes G must cover"
    )
    inits: int = knob(
        3,
        quick=1,
        low=1,
        high=20,
        help="initialisations averaged inside one run: trainings, both arms on each",
    )
