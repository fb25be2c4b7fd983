"""Randomisation tests (section 2) and the finite-sample expressivity construction (section 4, Theorem 1)."""

from __future__ import annotations

import itertools
import math

import torch
import torch.nn as nn


def gaussian_clusters(
    n: int, d: int, classes: int, seed: int, *, spread: float = 1.0, centre_seed: int | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` points (n, d) around ``classes`` random centres and their true class (n,): balanced classes
    (i mod classes, then shuffled), x = μ_y + spread · ε. The centres come from ``centre_seed`` (default
    ``seed``) so a test set drawn with another ``seed`` shares them. CPU tensors; move them to a device."""
    centres = torch.randn(
        classes, d, generator=torch.Generator().manual_seed(seed if centre_seed is None else centre_seed)
    )
    g = torch.Generator().manual_seed(seed + 100_003)
    y = (torch.arange(n) % classes)[torch.randperm(n, generator=g)]  # (n,)
    X = centres[y] + spread * torch.randn(n, d, generator=g)  # (n, d)
    return X, y


def corrupt_labels(
    y: torch.Tensor, p: float, classes: int, g: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """Section 2: "independently with probability p, the label of each image is corrupted as a uniform
    random class". Returns the new labels and which ones were redrawn (a redrawn label keeps its class with
    probability 1/K, so the share that changes is p·(1 − 1/K)). Draws on the CPU generator ``g``."""
    n = len(y)
    redrawn = torch.rand(n, generator=g) < p  # (n,) bool
    fresh = torch.randint(0, classes, (n,), generator=g)  # (n,) uniform over the K classes
    return torch.where(redrawn, fresh, y.cpu()).to(y.device), redrawn.to(y.device)


def shuffle_labels(y: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """Random labels that keep the class counts: the label vector under a random permutation."""
    return y[torch.randperm(len(y), generator=g).to(y.device)]


class MLP(nn.Module):
    """x (B, d) → logits (B, K) through ``depth`` hidden layers h = ReLU(W h + b) of ``width`` units,
    He-initialised; the network the paper's randomisation tests use at its smallest (an MLP 1×512)."""

    def __init__(self, d: int, width: int, classes: int, depth: int = 2) -> None:
        super().__init__()
        sizes = [d] + [width] * depth + [classes]
        self.W = nn.ParameterList(
            nn.Parameter(torch.randn(m, k) * math.sqrt(2.0 / k)) for k, m in itertools.pairwise(sizes)
        )
        self.b = nn.ParameterList(nn.Parameter(torch.zeros(m)) for m in sizes[1:])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        *hidden, last = range(len(self.W))
        for i in hidden:
            x = torch.clamp_min(x @ self.W[i].T + self.b[i], 0.0)  # (B, width)
        return x @ self.W[last].T + self.b[last]  # (B, K)


class TwoLayerInterpolator(nn.Module):
    """Theorem 1: c(x) = Σ_j w_j · max(⟨a, x⟩ − b_j, 0), with a ∈ ℝ^d, b, w ∈ ℝ^n: 2n + d weights."""

    def __init__(self, a: torch.Tensor, b: torch.Tensor, w: torch.Tensor) -> None:
        super().__init__()
        self.a, self.b, self.w = nn.Parameter(a), nn.Parameter(b), nn.Parameter(w)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = x @ self.a  # (n_points,) the one-dimensional projection
        return torch.clamp_min(z[:, None] - self.b[None, :], 0.0) @ self.w  # (n_points,)

    @classmethod
    def fit(cls, X: torch.Tensor, y: torch.Tensor, g: torch.Generator) -> TwoLayerInterpolator:
        """The network of Theorem 1 that interpolates the labels y (n,) of the points X (n, d)."""
        return cls(*interpolating_weights(X, y, g))


def interpolating_weights(
    X: torch.Tensor, y: torch.Tensor, g: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The proof of Lemma 1 (appendix): a random a makes z_i = ⟨a, x_i⟩ distinct; sort them and put
    b_1 < z_(1) < b_2 < z_(2) < … < b_n < z_(n). Then A_ij = max(z_(i) − b_j, 0) is lower triangular with a
    positive diagonal, so A w = y has a solution: the network interpolates any labels y. Returns a (d,),
    b (n,), w (n,)."""
    a = torch.randn(X.shape[1], generator=g).to(X)  # (d,)
    z = X @ a  # (n,)
    order = z.argsort()
    zs = z[order]  # (n,) ascending
    b = torch.cat((zs[:1] - 1.0, (zs[1:] + zs[:-1]) / 2))  # (n,) b_j just below z_(j)
    A = torch.clamp_min(zs[:, None] - b[None, :], 0.0)  # (n, n) lower triangular
    w = torch.linalg.solve_triangular(A, y[order].to(X)[:, None], upper=False)[:, 0]  # (n,)
    return a, b, w
