"""The classic mistake in Graves's mixture density output, for ``readtrack practice``: its check must catch
it (tests/practice/test_practice.py)."""

from __future__ import annotations

import math

import torch

from readtrack.api import mistake


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


@mistake("log_bivariate_normal", fails="log N at ρ = ±(1 − 3e-07")
def log_bivariate_normal_one_minus_rho_squared(
    x1: torch.Tensor,
    x2: torch.Tensor,
    mu1: torch.Tensor,
    mu2: torch.Tensor,
    sigma1: torch.Tensor,
    sigma2: torch.Tensor,
    rho: torch.Tensor,
) -> torch.Tensor:
    """1 − ρ² as written, 1 - rho**2: near |ρ| = 1 the subtraction cancels (ρ² rounded to the dtype loses
    most of the digits of the small difference), and Z / (2(1 − ρ²)) inherits the error."""
    d1 = (x1 - mu1) / sigma1
    d2 = (x2 - mu2) / sigma2
    Z = d1.square() + d2.square() - 2 * rho * d1 * d2
    r = 1 - rho**2
    return -math.log(2 * math.pi) - sigma1.log() - sigma2.log() - 0.5 * r.log() - Z / (2 * r)


@mistake("log_bivariate_normal", fails="log N is in the inputs' dtype (float32)")
def log_bivariate_normal_in_float64(
    x1: torch.Tensor,
    x2: torch.Tensor,
    mu1: torch.Tensor,
    mu2: torch.Tensor,
    sigma1: torch.Tensor,
    sigma2: torch.Tensor,
    rho: torch.Tensor,
) -> torch.Tensor:
    """Computes in float64 to be safe near |ρ| = 1 and returns that: a float32 model's NLL comes back
    float64 (the rearrangement (1 − ρ)(1 + ρ) is what makes float32 safe)."""
    x1, x2, mu1, mu2, sigma1, sigma2, rho = (t.double() for t in (x1, x2, mu1, mu2, sigma1, sigma2, rho))
    d1 = (x1 - mu1) / sigma1
    d2 = (x2 - mu2) / sigma2
    Z = d1.square() + d2.square() - 2 * rho * d1 * d2
    r = (1 - rho) * (1 + rho)
    return -math.log(2 * math.pi) - sigma1.log() - sigma2.log() - 0.5 * r.log() - Z / (2 * r)
