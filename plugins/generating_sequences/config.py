"""The knobs of the handwriting experiment (``readtrack knobs generating-sequences``; ``readtrack run
generating-sequences --set KEY=VALUE``).

The defaults are the calibrated experiment: Manhattan strokes of 40 points, offsets with noise 0.1 around
the unit steps; one LSTM layer of 64 cells, 600 Adam steps of 32 sequences (quick: 150) at each model's best
of 1e-2, 3e-2, 1e-1 on validation sequences (quick: 3e-2 for both, the grid's pick on seed 0); the full run
repeats the A/B on two more seeds. Turn one and the run reports its targets without asserting them.
``mixture`` is the ablation switch: the components M of the model under test, against the single Gaussian
(M = 1); at ``mixture=1`` both are the same model and the gap is 0.
"""

from __future__ import annotations

from dataclasses import dataclass

from readtrack.api import knob


@dataclass(frozen=True)
class Config:
    mixture: int = knob(
        20,
        choices=(1, 2, 4, 8, 20, 40),
        help="Gaussians M in the mixture under test (the baseline is M = 1)",
        paper="20",
    )
    steps: int = knob(600, quick=150, low=1, high=20_000, help="Adam steps per model and rate")
    lr: float = knob(
        0.0,
        low=0.0,
        high=1.0,
        help="Adam's rate for both models",
        means={0.0: "each its best of 1e-2, 3e-2, 1e-1 (quick: 3e-2, the grid's)"},
        paper="1e-4 (RMSProp, momentum 0.9)",
    )
    batch: int = knob(32, low=1, high=1024, help="sequences per step, each step a fresh batch")
    hidden: int = knob(64, low=1, high=1024, help="LSTM cells per layer", paper="400")
    layers: int = knob(1, low=1, high=4, help="stacked LSTM layers", paper="3, with skip connections")
    seq_len: int = knob(
        40, low=3, high=1000, help="points per sequence (training, testing, sampling)", paper="whole lines"
    )
    noise: float = knob(
        0.1,
        low=1e-3,
        high=1.0,
        help="standard deviation of each offset around its unit step (the difficulty: the modes' overlap)",
        paper="real pens (IAM-OnDB)",
    )
    inits: int = knob(
        3,
        quick=1,
        low=1,
        high=10,
        help="initialisations inside one run: the A/B from the run's seed, then the next",
    )
