"""The classic mistakes in the randomisation tests and Theorem 1's construction, for ``readtrack
practice``: its check must catch them (tests/test_practice.py)."""

from __future__ import annotations

import torch

from readtrack.practice import mistake


@mistake("interpolating_weights", fails="Theorem 1: the 2n + d network fits")
def interpolating_weights(
    X: torch.Tensor, y: torch.Tensor, g: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Solves A w = y with y in the data's order, not sorted like the rows of A."""
    a = torch.randn(X.shape[1], generator=g).to(X)
    zs = (X @ a).sort().values
    b = torch.cat((zs[:1] - 1.0, (zs[1:] + zs[:-1]) / 2))
    A = torch.clamp_min(zs[:, None] - b[None, :], 0.0)
    w = torch.linalg.solve_triangular(A, y.to(X)[:, None], upper=False)[:, 0]
    return a, b, w
