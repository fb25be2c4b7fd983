"""The classic mistakes in latent diffusion, for ``readtrack practice``: its check must catch them
(tests/practice/test_practice.py)."""

from __future__ import annotations

import torch

from readtrack.api import mistake

from .model import Denoiser, Schedule


@mistake("posterior", fails="posterior mean μ̃_t vs conditioning the joint Gaussian")
def posterior(z0: torch.Tensor, zt: torch.Tensor, t: int, s: Schedule) -> tuple[torch.Tensor, torch.Tensor]:
    """Off by one step: ᾱ_{t−1} read as s.alpha_bar[t − 1], which is ᾱ_t (1-based steps, 0-based tensors)."""
    a_bar, a_bar_prev, beta = s.alpha_bar[t - 1], s.alpha_bar[t - 1], s.beta[t - 1]
    mean = (a_bar_prev.sqrt() * beta / (1 - a_bar)) * z0 + (
        (1 - beta).sqrt() * (1 - a_bar_prev) / (1 - a_bar)
    ) * zt
    return mean, (1 - a_bar_prev) / (1 - a_bar) * beta


@mistake("guided_eps", fails="guidance at w = 0 is the conditional model")
def guided_eps(model: Denoiser, zt: torch.Tensor, t: torch.Tensor, c: torch.Tensor, w: float) -> torch.Tensor:
    """The other paper's convention, ε_∅ + w (ε_c − ε_∅), with this one's w: w = 0 gives the unconditional
    model and every w is one less than intended."""
    cond = model(zt, t, c)
    uncond = model(zt, t, torch.full_like(c, model.null))
    return uncond + w * (cond - uncond)


@mistake("posterior", fails="posterior returns μ̃_t (batch, d) and β̃_t a 0-d tensor")
def posterior_from_floats(
    z0: torch.Tensor, zt: torch.Tensor, t: int, s: Schedule
) -> tuple[torch.Tensor, torch.Tensor]:
    """Reads the schedule into Python floats: the mean is right, but β̃_t comes back a float, not a 0-d
    tensor of the schedule's dtype (its .sqrt() in a sampler fails)."""
    a_bar, a_bar_prev, beta = float(s.alpha_bar[t - 1]), float(s.alpha_bar[t - 2]), float(s.beta[t - 1])
    to_z0, to_zt = a_bar_prev**0.5 * beta / (1 - a_bar), (1 - beta) ** 0.5 * (1 - a_bar_prev) / (1 - a_bar)
    mean = to_z0 * z0 + to_zt * zt
    return mean, (1 - a_bar_prev) / (1 - a_bar) * beta  # type: ignore[return-value]
