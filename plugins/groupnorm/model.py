"""Group normalisation (Wu and He 2018, arXiv 1803.08494) as a plain module, and the small convnet its
experiment trains.

Every normaliser of the paper's family (BN, LN, IN, GN: section 3.1) computes (eq. 1, 2)

    x̂_i = (x_i − μ_i) / σ_i,   μ_i = (1/m) Σ_{k∈S_i} x_k,   σ_i = √((1/m) Σ_{k∈S_i} (x_k − μ_i)² + ε)

and differs only in the set S_i of m pixels the statistics of x_i are taken over (BN's, eq. 3, is one channel
of every example of the batch). GN's (eq. 7):

    S_i = {k | k_N = i_N, ⌊k_C / (C/G)⌋ = ⌊i_C / (C/G)⌋}

one example, one group of C/G consecutive channels, all of its spatial positions: nothing from the rest of
the batch, so training and inference compute the same thing at any batch size. Then a per-channel scale
and shift (eq. 6): y_i = γ x̂_i + β. G = 1 is LayerNorm over (C, H, W); G = C is InstanceNorm.

The paper's own code (its Figure 3) is the forward below, in three lines: reshape to (N, G, −1), normalise
each row, reshape back. Statistics are accumulated in at least float32, as ``torch.nn.GroupNorm``'s are.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import torch
from torch import nn


class GroupNorm(nn.Module):
    """GN over inputs (N, C, *) with C divisible by G; ``weight`` is γ, ``bias`` β, both (C,), as
    ``torch.nn.GroupNorm`` names them (its checkpoints load as they are)."""

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5, affine: bool = True) -> None:
        super().__init__()
        if num_channels % num_groups:
            raise ValueError(f"num_channels ({num_channels}) must be divisible by num_groups ({num_groups})")
        self.num_groups, self.num_channels, self.eps, self.affine = num_groups, num_channels, eps, affine
        if affine:
            self.weight = nn.Parameter(torch.ones(num_channels))  # γ: starts as the identity
            self.bias = nn.Parameter(torch.zeros(num_channels))  # β
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        N, C = x.shape[:2]  # x: (N, C, *), * the spatial dimensions (H, W), (L,), or none
        G = self.num_groups
        h = x.to(torch.promote_types(x.dtype, torch.float32)).reshape(N, G, -1)  # (N, G, C/G·H·W): eq. 7
        mu = h.mean(dim=-1, keepdim=True)  # eq. 2: (N, G, 1)
        var = (h - mu).square().mean(dim=-1, keepdim=True)  # eq. 2, σ² with 1/m (biased): (N, G, 1)
        h = (h - mu) / torch.sqrt(var + self.eps)  # eq. 1: x̂, (N, G, C/G · H · W)
        h = h.reshape(x.shape)  # (N, C, *)
        if self.weight is not None:  # eq. 6: γ, β per channel, broadcast over the spatial dimensions
            per_channel = (1, C) + (1,) * (x.dim() - 2)  # (1, C, 1, ...)
            h = h * self.weight.view(per_channel) + self.bias.view(per_channel)
        return h.to(x.dtype)

    def extra_repr(self) -> str:
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}"


def group_norm(groups: int) -> Callable[[int], nn.Module]:
    """A GroupNorm of ``groups`` groups for a layer of C channels (C // groups channels each)."""
    return lambda channels: GroupNorm(groups, channels)


class ConvNet(nn.Module):
    """Three 3×3 convolutions of stride 2, each followed by ``norm`` and a ReLU, for (B, 1, 16, 16) images:

    conv 1 → c,   stride 2 → norm → relu     (B, c, 8, 8)
    conv c → 2c,  stride 2 → norm → relu     (B, 2c, 4, 4)
    conv 2c → 2c, stride 2 → norm → relu     (B, 2c, 2, 2)
    mean over H, W → linear 2c → classes      (B, classes)

    The maps shrink as a ResNet's do (to 7×7 on ImageNet), so a batch-normalised layer deep in the network
    takes its statistics over few values per channel: B · 2 · 2 in the last. The convolutions have no bias
    (the norm's β is one) and He initialisation; ``norm(channels)`` makes the normalisation layer."""

    def __init__(self, norm: Callable[[int], nn.Module], channels: int = 8, classes: int = 4) -> None:
        super().__init__()
        widths = (1, channels, 2 * channels, 2 * channels)
        convs = [nn.Conv2d(a, b, 3, stride=2, padding=1, bias=False) for a, b in itertools.pairwise(widths)]
        self.convs = nn.ModuleList(convs)
        self.norms = nn.ModuleList(norm(c) for c in widths[1:])
        self.head = nn.Linear(widths[-1], classes)
        for conv in convs:  # after the head's default init: the draws keep their order
            nn.init.kaiming_normal_(conv.weight, nonlinearity="relu")

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (B, 1, S, S)
        for conv, norm in zip(self.convs, self.norms, strict=True):
            x = torch.relu(norm(conv(x)))  # (B, c_i, S/2^i, S/2^i)
        return self.head(x.mean(dim=(2, 3)))  # (B, 2c) → (B, classes)
