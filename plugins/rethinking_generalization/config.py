"""The knobs of the randomisation test's train stage (issue 55): the defaults are the calibrated run, quick
and full alike but for the initialisations (quick: one, the run's seed; full: three, whose mean steps are
counted, and the corruption curve p = 0.2 … 1.0 besides): 1000 training points in 10 Gaussian clusters of
spread 1 in 32 dimensions, an MLP of 2 hidden layers of 512 trained with Adam at 1e-3 in batches of 100
until every training label is fitted, for at most 3000 steps (300 epochs).

The ablation switch is ``labels``: what the random-label arm (the "permuted labels" lines) is trained on. A
``permuted`` label vector (the calibrated run: class counts kept), ``uniform`` random labels (the paper's, as
corruption with p = 1), or ``true``: the labels left as they are, the idea removed, so the arm generalises
and fits as fast as true labels.
"""

from __future__ import annotations

from dataclasses import dataclass

from readtrack.api import knob


@dataclass(frozen=True)
class Config:
    labels: str = knob(
        "permuted",
        choices=("permuted", "uniform", "true"),
        help="the random-label arm's labels: permuted, uniform random, or the true ones: the ablation",
        paper="uniform random labels (section 2)",
    )
    steps: int = knob(
        3000, low=1, high=100_000, help="the most Adam steps per fit; it stops once every label is fitted"
    )
    lr: float = knob(
        1e-3, low=1e-6, high=1.0, help="Adam's learning rate", paper="SGD, momentum 0.9, 0.01 for the MLPs"
    )
    batch: int = knob(100, low=1, high=10_000, help="training points per Adam step")
    width: int = knob(512, low=1, high=8192, help="units per hidden layer of the MLP", paper="512")
    depth: int = knob(2, low=1, high=8, help="hidden layers of the MLP", paper="1 and 3 (MLP 1×512, 3×512)")
    points: int = knob(
        1000, low=10, high=100_000, help="training points to fit (the difficulty)", paper="50,000 (CIFAR-10)"
    )
    spread: float = knob(
        1.0,
        low=0.0,
        high=10.0,
        help="the clusters' spread around their centres (unit-normal centres): how far apart classes lie",
        paper="not stated (images)",
    )
    inits: int = knob(
        3,
        quick=1,
        low=1,
        high=10,
        help="initialisations averaged inside one run: per labelling, their steps averaged",
    )
