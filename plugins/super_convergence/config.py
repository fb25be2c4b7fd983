"""The knobs of super-convergence's experiment (``readtrack knobs super-convergence``; ``readtrack run
super-convergence --set KEY=VALUE``).

The defaults are the calibrated experiment: turn one and the run reports its targets without asserting
them. ``schedule`` is the ablation switch: the arm under test follows one cycle (the paper) or holds its
rate constant, which makes it the constant arm and its gain zero.
"""

from __future__ import annotations

from dataclasses import dataclass

from readtrack.api import knob


@dataclass(frozen=True)
class Config:
    schedule: str = knob(
        "one-cycle",
        choices=("one-cycle", "constant"),
        help="the rate of the arm under test: one cycle up to η_max and down, or η_max held constant",
        paper="one-cycle",
    )
    lr: float = knob(
        0.0,
        low=0.0,
        high=10.0,
        help="every arm's rate (one-cycle's peak)",
        means={0.0: "each arm its best of the grid on the validation split"},
        paper="η_max from the LR range test (1-3 for ResNets on CIFAR-10)",
    )
    steps: int = knob(
        320, quick=160, low=1, high=100_000, help="SGD steps at B, the short budget T (8 epochs)"
    )
    batch: int = knob(300, low=2, high=10_000, help="examples per SGD step, B (the large-batch arm: 4B)")
    examples: int = knob(12_000, quick=6_000, low=8, high=1_000_000, help="training examples")
    test: int = knob(20_000, quick=4_000, low=1, high=1_000_000, help="test examples the accuracies are on")
    width: int = knob(128, low=1, high=4096, help="units per hidden layer of the MLP with batch norm")
    depth: int = knob(2, low=1, high=32, help="hidden layers (Linear → BatchNorm → ReLU)", paper="ResNet-56")
    inits: int = knob(
        3, quick=1, low=1, high=20, help="initialisations averaged inside one run (and batch orders)"
    )
