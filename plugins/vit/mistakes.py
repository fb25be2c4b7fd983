"""The classic mistakes in the Vision Transformer, for ``readtrack practice``: its check must catch them
(tests/practice/test_practice.py)."""

from __future__ import annotations

import math

import torch

from readtrack.api import mistake

from .model import Attention


@mistake("patches", fails="patch embedding vs Conv2d")
def patches(x: torch.Tensor, P: int) -> torch.Tensor:
    """One reshape, no permute: each "patch" is P²·C consecutive numbers of x's memory (strips of image
    rows), not a P×P square."""
    B, C, H, W = x.shape
    return x.reshape(B, (H // P) * (W // P), C * P * P)


@mistake("Attention.forward", fails="attention vs nn.MultiheadAttention")
def forward(self: Attention, z: torch.Tensor) -> torch.Tensor:
    """The heads merged without moving them next to their features: (A v) (B, h, N, D_h) reshaped straight
    to (B, N, D) mixes tokens and heads."""
    B, N, D = z.shape
    qkv = self.qkv(z).view(B, N, 3, self.heads, D // self.heads)
    q, k, v = qkv.permute(2, 0, 3, 1, 4)
    A = (q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])).softmax(dim=-1)
    return self.proj((A @ v).reshape(B, N, D))
