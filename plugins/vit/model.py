"""The Vision Transformer (Dosovitskiy et al. 2020, arXiv 2010.11929): an image read as a sequence of
patches by a standard pre-norm Transformer encoder, with no convolution after the patch embedding.

    z_0 = [x_class; x_p^1 E; …; x_p^N E] + E_pos,   E ∈ R^{(P²·C)×D}, E_pos ∈ R^{(N+1)×D}   (eq. 1)
    z'_ℓ = MSA(LN(z_{ℓ−1})) + z_{ℓ−1}                                                   (eq. 2)
    z_ℓ = MLP(LN(z'_ℓ)) + z'_ℓ                                                           (eq. 3)
    y = LN(z_L^0)                              the class token's final state → a linear head (eq. 4)

MSA is multi-head self-attention, softmax(q kᵀ/√D_h) v per head (appendix A, eq. 5–8); the MLP has two
layers with a GELU. For another image size, the learned position embeddings of the patch grid are
interpolated in 2D (section 3.2), here bilinearly, written as two interpolation matrices.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass
class ViTConfig:
    image: int = 16
    patch: int = 4  # P
    channels: int = 1  # C
    dim: int = 64  # D
    heads: int = 4
    layers: int = 2  # L
    mlp: int = 128
    classes: int = 4


def patches(x: torch.Tensor, P: int) -> torch.Tensor:
    """(B, C, H, W) → (B, N, P²·C), N = HW/P², patches in row-major order, each flattened as (C, P, P)."""
    B, C, H, W = x.shape
    x = x.view(B, C, H // P, P, W // P, P)  # (B, C, H/P, P, W/P, P)
    x = x.permute(0, 2, 4, 1, 3, 5)  # (B, H/P, W/P, C, P, P)
    return x.reshape(B, (H // P) * (W // P), C * P * P)  # (B, N, P²·C)


class Attention(nn.Module):
    """Multi-head self-attention (appendix A): [q, k, v] = z U_qkv, A = softmax(q kᵀ/√D_h), out = [A v] U."""

    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        if dim % heads:
            raise ValueError(f"dim {dim} is not a multiple of {heads} heads")
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim)  # U_qkv (eq. 5)
        self.proj = nn.Linear(dim, dim)  # U_msa (eq. 8)

    def forward(self, z: torch.Tensor) -> torch.Tensor:  # (B, N, D)
        B, N, D = z.shape
        qkv = self.qkv(z).view(B, N, 3, self.heads, D // self.heads)  # (B, N, 3, h, D_h)
        q, k, v = qkv.permute(2, 0, 3, 1, 4)  # each (B, h, N, D_h)
        A = (q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])).softmax(dim=-1)  # (B, h, N, N)  (eq. 6)
        out = (A @ v).transpose(1, 2).reshape(B, N, D)  # (B, N, h·D_h)  (eq. 7)
        return self.proj(out)


class Block(nn.Module):
    """One pre-norm encoder layer: eq. 2 then eq. 3."""

    def __init__(self, cfg: ViTConfig) -> None:
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(cfg.dim), nn.LayerNorm(cfg.dim)
        self.attn = Attention(cfg.dim, cfg.heads)
        self.fc1, self.fc2 = nn.Linear(cfg.dim, cfg.mlp), nn.Linear(cfg.mlp, cfg.dim)

    def forward(self, z: torch.Tensor) -> torch.Tensor:  # (B, N+1, D)
        z = z + self.attn(self.ln1(z))  # eq. 2
        return z + self.fc2(F.gelu(self.fc1(self.ln2(z))))  # eq. 3


def bilinear_matrix(n_out: int, n_in: int, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    """(n_out, n_in) weights of 1-D linear interpolation between cell centres (half-pixel convention,
    sources clamped at the edges): row i mixes the two inputs around (i + ½)·n_in/n_out − ½."""
    src = ((torch.arange(n_out, device=device, dtype=dtype) + 0.5) * n_in / n_out - 0.5).clamp(min=0)
    lo = src.floor().long().clamp(max=n_in - 1)
    hi = (lo + 1).clamp(max=n_in - 1)
    w = src - lo.to(dtype)  # weight of the upper neighbour
    M = torch.zeros(n_out, n_in, device=device, dtype=dtype)
    rows = torch.arange(n_out, device=device)
    M.index_put_((rows, lo), 1 - w, accumulate=True)
    M.index_put_((rows, hi), w, accumulate=True)
    return M


def interpolate_positions(
    pos: torch.Tensor, grid: tuple[int, int], new_grid: tuple[int, int]
) -> torch.Tensor:
    """Section 3.2: E_pos (1, 1 + h·w, D) for an h×w patch grid → (1, 1 + h'·w', D) for h'×w'. The class
    token's embedding is kept; the grid's are resampled in 2D: G' = M_h G M_wᵀ per channel."""
    (h, w), (h2, w2) = grid, new_grid
    cls, G = pos[:, :1], pos[0, 1:].view(h, w, -1)  # (1, 1, D), (h, w, D)
    M_h = bilinear_matrix(h2, h, pos.device, pos.dtype)  # (h', h)
    M_w = bilinear_matrix(w2, w, pos.device, pos.dtype)  # (w', w)
    G2 = torch.einsum("ai,ijd,bj->abd", M_h, G, M_w)  # (h', w', D)
    return torch.cat([cls, G2.reshape(1, h2 * w2, -1)], dim=1)  # (1, 1 + h'·w', D)


class ViT(nn.Module):
    """Images (B, C, H, W) → logits (B, classes). H and W may differ from ``cfg.image`` (multiples of P):
    the position embeddings are then interpolated."""

    def __init__(self, cfg: ViTConfig) -> None:
        super().__init__()
        self.cfg = cfg
        P, n = cfg.patch, (cfg.image // cfg.patch) ** 2
        self.embed = nn.Linear(cfg.channels * P * P, cfg.dim)  # E (eq. 1)
        self.cls = nn.Parameter(torch.zeros(1, 1, cfg.dim))  # x_class
        self.pos = nn.Parameter(0.02 * torch.randn(1, n + 1, cfg.dim))  # E_pos, learned
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.layers))
        self.ln = nn.LayerNorm(cfg.dim)
        self.head = nn.Linear(cfg.dim, cfg.classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, C, H, W)
        B, _, H, W = x.shape
        P, g = self.cfg.patch, self.cfg.image // self.cfg.patch
        pos: torch.Tensor = self.pos
        if (g, g) != (H // P, W // P):
            pos = interpolate_positions(pos, (g, g), (H // P, W // P))
        z = self.embed(patches(x, P))  # (B, N, D)
        z = torch.cat([self.cls.expand(B, -1, -1), z], dim=1) + pos  # (B, N+1, D)  (eq. 1)
        for block in self.blocks:
            z = block(z)
        return self.head(self.ln(z[:, 0]))  # eq. 4: (B, classes)
