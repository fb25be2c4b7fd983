"""The classic mistake in Graves's mixture density output, for ``readtrack practice``: its check must catch
it (tests/test_practice.py)."""

from __future__ import annotations

import math

import torch

from readtrack.practice import mistake


@mistake("log_bivariate_normal", fails="MDN NLL (eq. 23-26) vs torch.distributions, M = 1")
def log_bivariate_normal(
    x1: torch.Tensor,
    x2: torch.Tensor,
    mu1: torch.Tensor,
    mu2: torch.Tensor,
    sigma1: torch.Tensor,
    sigma2: torch.Tensor,
    rho: torch.Tensor,
) -> torch.Tensor:
    """Leaves √(1 − ρ²) out of the normaliser (right only for ρ = 0): correlated components no longer
    integrate to 1."""
    d1 = (x1 - mu1) / sigma1
    d2 = (x2 - mu2) / sigma2
    Z = d1.square() + d2.square() - 2 * rho * d1 * d2
    r = (1 - rho) * (1 + rho)
    return -math.log(2 * math.pi) - sigma1.log() - sigma2.log() - Z / (2 * r)
