"""Classic mistakes in the randomisation tests and Theorem 1's construction, for ``readtrack
practice``: its check must catch them (tests/practice/test_practice.py)."""

from __future__ import annotations

import torch

from readtrack.api import mistake


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


@mistake("corrupt_labels", fails="corrupt_labels returns labels int64 and redrawn bool")
def corrupt_labels_blended_as_floats(
    y: torch.Tensor, p: float, classes: int, g: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """Blends the old and the fresh label with the mask as a float, keep·y + (1 − keep)·fresh: the right
    classes, but float32 labels, which F.cross_entropy does not take as class indices."""
    n = len(y)
    keep = (torch.rand(n, generator=g) >= p).float()
    fresh = torch.randint(0, classes, (n,), generator=g)
    labels = keep * y.cpu() + (1 - keep) * fresh
    return labels.to(y.device), (keep == 0).to(y.device)


@mistake("interpolating_weights", fails="Theorem 1: a = torch.randn(d, generator=g)")
def interpolating_weights_from_the_global_generator(
    X: torch.Tensor, y: torch.Tensor, g: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Draws a from torch's global generator, torch.randn(d), instead of g: the network still fits, but the
    construction no longer follows g, so the same g does not give the same network."""
    a = torch.randn(X.shape[1]).to(X)
    z = X @ a
    order = z.argsort()
    zs = z[order]
    b = torch.cat((zs[:1] - 1.0, (zs[1:] + zs[:-1]) / 2))
    A = torch.clamp_min(zs[:, None] - b[None, :], 0.0)
    w = torch.linalg.solve_triangular(A, y[order].to(X)[:, None], upper=False)[:, 0]
    return a, b, w


@mistake("interpolating_weights", fails="Theorem 1: b_1 = z_(1) − 1, then b_j halfway")
def interpolating_weights_thresholds_on_the_points(
    X: torch.Tensor, y: torch.Tensor, g: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Puts b_j on the previous point, b_j = z_(j−1), instead of halfway to z_(j): A is still lower
    triangular with a positive diagonal and the network fits, but the thresholds no longer lie strictly
    between the points (unit j is exactly 0 at z_(j−1)), not the construction the statement asks for."""
    a = torch.randn(X.shape[1], generator=g).to(X)
    z = X @ a
    order = z.argsort()
    zs = z[order]
    b = torch.cat((zs[:1] - 1.0, zs[:-1]))
    A = torch.clamp_min(zs[:, None] - b[None, :], 0.0)
    w = torch.linalg.solve_triangular(A, y[order].to(X)[:, None], upper=False)[:, 0]
    return a, b, w
