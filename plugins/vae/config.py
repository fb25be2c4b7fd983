"""The knobs of vae's experiment (``readtrack knobs vae``; ``readtrack run vae --set KEY=VALUE``).

The defaults are the calibrated experiment: 8×8 bars images (each of the 16 bars on with p = 0.2), a VAE with
an 8-d latent and tanh MLPs of 256, 2000 Adam steps of 128 (300 quick), each arm at its best learning rate of
1e-3, 3e-3, 1e-2 on a validation split. Turn one and the run reports its targets without asserting them.
``estimator`` is the ablation switch: the encoder's gradient in the arm the claim is about, the
reparameterised one of section 2.4 (the paper) or section 2.3's score-function estimator in its place (the
idea removed: both arms the same).
"""

from __future__ import annotations

from dataclasses import dataclass

from readtrack.api import knob


@dataclass(frozen=True)
class Config:
    estimator: str = knob(
        "reparameterised",
        choices=("reparameterised", "score-function"),
        help="the encoder's gradient in the arm under test (the 'reparameterised' arm)",
        paper="reparameterised (section 2.4)",
    )
    steps: int = knob(2000, quick=300, low=1, high=100_000, help="Adam steps per network, a fresh batch each")
    lr: float = knob(
        0.0,
        low=0.0,
        high=1.0,
        help="Adam's rate for both arms",
        means={0.0: "each its best of 1e-3, 3e-3, 1e-2 on the validation split"},
        paper="Adagrad, 0.01-0.1",
    )
    batch: int = knob(128, low=1, high=8192, help="images per step", paper="M = 100")
    d_z: int = knob(8, low=1, high=64, help="latent dimensions", paper="2-200")
    width: int = knob(
        256, low=2, high=4096, help="tanh units of the encoder's and the decoder's hidden layer", paper="500"
    )
    bar_p: float = knob(
        0.2,
        low=0.01,
        high=0.99,
        help="the chance each of the 16 bars is on: the images' density (the task's difficulty)",
    )
