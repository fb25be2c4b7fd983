"""The classic mistakes in the randomisation tests and Theorem 1's construction, for ``readtrack
practice``: its check must catch them (tests/test_practice.py)."""

from __future__ import annotations

import torch

from readtrack.practice import mistake


@mistake("corrupt_labels", fails="corrupted labels vs a naive per-example loop")
def corrupt_labels(
    y: torch.Tensor, p: float, classes: int, g: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """A redrawn label always becomes another class (uniform over the K − 1 others), so a share p of the
    labels changes instead of the paper's p·(1 − 1/K)."""
    n = len(y)
    redrawn = torch.rand(n, generator=g) < p
    fresh = torch.randint(0, classes, (n,), generator=g)
    other = torch.where(fresh == y.cpu(), (fresh + 1) % classes, fresh)
    return torch.where(redrawn, other, y.cpu()).to(y.device), redrawn.to(y.device)


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
