"""Fuyu-8B (Adept 2023): a decoder-only transformer that reads images without an image encoder.

An image (C, H, W) is cut into p × p patches in raster order; each patch, flattened to p²·C numbers, goes
through one linear map straight into the decoder's first layer, in place of a token embedding. A learned
row-end token (the post's "image-newline") follows every row of patches, so the decoder can tell where a
row ends at any width; then come the text tokens (a question), and the decoder predicts the answer:

    z_(r,c) = W_patch · vec(patch_(r,c)) + b                 (one linear projection, no encoder)
    sequence = z_(0,0) … z_(0,w−1) ⏎  z_(1,0) … ⏎  …  z_(h−1,w−1) ⏎  q_1 … q_m  →  answer

Positions are 1-D rotary over the whole sequence (Persimmon, Fuyu's decoder; here on all head dims), so a
bigger image is just a longer sequence: nothing is tied to one resolution. Attention is causal over
everything (the released model's mask; the post's prefix attention over the image is not used here).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def patchify(images: torch.Tensor, p: int) -> torch.Tensor:
    """(B, C, H, W) → (B, H/p, W/p, p·p·C): patch (r, c) flattened in (channel, row, column) order, the
    order of a Conv2d kernel."""
    B, C, H, W = images.shape
    if H % p or W % p:
        raise ValueError(f"image {H}×{W} is not a whole number of {p}×{p} patches")
    x = images.view(B, C, H // p, p, W // p, p)  # (B, C, h, p, w, p)
    return x.permute(0, 2, 4, 1, 3, 5).reshape(B, H // p, W // p, C * p * p)  # (B, h, w, C·p·p)


def rotate(x: torch.Tensor) -> torch.Tensor:
    """RoPE (Su et al. 2021) on x (B, H, N, d): pairs (x_2i, x_2i+1) turned by n·θ_i, θ_i = 10000^(−2i/d)."""
    N, d = x.shape[-2], x.shape[-1]
    theta = 10000.0 ** (-torch.arange(0, d, 2, device=x.device, dtype=torch.float64) / d)  # (d/2,)
    angle = torch.arange(N, device=x.device, dtype=torch.float64)[:, None] * theta  # (N, d/2)
    cos, sin = angle.cos().to(x.dtype), angle.sin().to(x.dtype)
    x1, x2 = x[..., 0::2], x[..., 1::2]  # (B, H, N, d/2)
    return torch.stack([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1).flatten(-2)  # (B, H, N, d)


class CausalSelfAttention(nn.Module):
    def __init__(self, d: int, n_heads: int) -> None:
        super().__init__()
        self.n_heads = n_heads
        self.qkv, self.proj = nn.Linear(d, 3 * d), nn.Linear(d, d)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, N, D = x.shape
        q, k, v = (
            self.qkv(x).view(B, N, 3, self.n_heads, D // self.n_heads).permute(2, 0, 3, 1, 4)
        )  # (B, H, N, d)
        y = F.scaled_dot_product_attention(rotate(q), rotate(k), v, is_causal=True)  # (B, H, N, d)
        return self.proj(y.transpose(1, 2).reshape(B, N, D))


class Block(nn.Module):
    def __init__(self, d: int, n_heads: int) -> None:
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.attn = CausalSelfAttention(d, n_heads)
        self.fc, self.out = nn.Linear(d, 4 * d), nn.Linear(4 * d, d)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln1(x))
        return x + self.out(F.gelu(self.fc(self.ln2(x))))


class Fuyu(nn.Module):
    """Images (B, C, H, W) of any size that is a multiple of ``patch`` and questions (B, m) int64 → logits
    (B, vocab) for the answer, read at the last question token. ``row_ends=False`` is the ablation: the
    same model with the row-end tokens left out of the sequence."""

    def __init__(
        self, vocab: int, channels: int = 1, patch: int = 4, d: int = 64, n_heads: int = 4, layers: int = 2,
        row_ends: bool = True,
    ) -> None:  # fmt: skip
        super().__init__()
        self.patch, self.row_ends = patch, row_ends
        self.patch_proj = nn.Linear(channels * patch * patch, d)  # the whole "image encoder"
        self.row_end = nn.Parameter(torch.randn(d) * 0.02)  # the image-newline token's embedding
        self.embed = nn.Embedding(vocab, d)
        self.blocks = nn.ModuleList(Block(d, n_heads) for _ in range(layers))
        self.ln_f = nn.LayerNorm(d)
        self.head = nn.Linear(d, vocab)

    def image_tokens(self, images: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) → (B, h·(w + 1), d): each row's w patch embeddings then a row-end, row after row
        ((B, h·w, d) without row-ends)."""
        z = self.patch_proj(patchify(images, self.patch))  # (B, h, w, d)
        B, h, _, d = z.shape
        if self.row_ends:
            z = torch.cat([z, self.row_end.expand(B, h, 1, d)], dim=2)  # (B, h, w + 1, d)
        return z.reshape(B, -1, d)  # raster order

    def decode(self, x: torch.Tensor) -> torch.Tensor:
        """The decoder on a sequence of embeddings (B, N, d) → hidden states (B, N, d), causal."""
        for block in self.blocks:
            x = block(x)
        return self.ln_f(x)

    def forward(self, images: torch.Tensor, question: torch.Tensor) -> torch.Tensor:
        x = torch.cat([self.image_tokens(images), self.embed(question)], dim=1)  # (B, N, d)
        return self.head(self.decode(x)[:, -1])  # (B, vocab): the answer, predicted after the question
