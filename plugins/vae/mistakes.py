"""The classic mistakes in the VAE, for ``readtrack practice``: its check must catch them
(tests/practice/test_practice.py)."""

from __future__ import annotations

import torch

from readtrack.api import mistake


@mistake("reparameterise", fails="reparameterised gradient of E[z²] is unbiased")
def reparameterise(mu: torch.Tensor, logvar: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
    """σ taken as exp(log σ²), the variance, instead of exp(½ log σ²): z ~ N(μ, σ⁴)."""
    return mu + torch.exp(logvar) * eps


@mistake("gaussian_kl", fails="KL term of eq. 10 vs torch.distributions.kl_divergence")
def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """The mean over the latent dimensions instead of the sum: the KL is d_z times too small against the
    reconstruction's sum over pixels."""
    return -0.5 * (1 + logvar - mu.square() - logvar.exp()).mean(dim=-1)


@mistake("reparameterise", fails="gradients reach μ and log σ² through z")
def reparameterise_with_a_detached_sigma(
    mu: torch.Tensor, logvar: torch.Tensor, eps: torch.Tensor
) -> torch.Tensor:
    """σ detached from the graph: the samples are right, but no gradient reaches the encoder's log σ², so it
    never learns the posterior's width."""
    return mu + torch.exp(0.5 * logvar).detach() * eps
