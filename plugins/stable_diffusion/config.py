"""The knobs of stable-diffusion's experiment (``readtrack knobs stable-diffusion``; ``readtrack run
stable-diffusion --set KEY=VALUE``).

The defaults are the calibrated experiment: turn one and the run reports its targets without asserting
them. ``guidance`` is the switch the guidance claim is about: the weight w of classifier-free guidance
compared with w = 0 (set it to 0 and both arms are the unguided sampler).
"""

from __future__ import annotations

from dataclasses import dataclass

from readtrack.api import knob


@dataclass(frozen=True)
class Config:
    guidance: float = knob(
        2.0,
        low=0.0,
        high=20.0,
        help="classifier-free guidance weight w of the guided arm, ε̃ = (1 + w) ε(z, c) − w ε(z, ∅)",
        paper="1.5 to 10 (scale s = 1 + w)",
    )
    steps: int = knob(3000, quick=1000, low=1, high=100_000, help="Adam steps of each denoiser")
    lr: float = knob(
        0.0,
        low=0.0,
        high=1.0,
        help="Adam's rate of both denoisers",
        means={0.0: "each its tuned rate (latent 1e-2, pixel 3e-3)"},
    )
    batch: int = knob(256, low=1, high=8192, help="examples per denoiser and autoencoder step")
    width: int = knob(128, low=2, high=2048, help="hidden units of the denoiser's three layers")
    d_latent: int = knob(8, low=1, high=64, help="size of the autoencoder's latent", paper="f = 4 to 16")
    drop: float = knob(
        0.1, low=0.0, high=1.0, help="condition dropout: share of training examples with c = ∅", paper="0.1"
    )
    samples: int = knob(1000, low=1, high=100_000, help="samples drawn per class and guidance weight")
