"""Conformer (Gulati et al. 2020, arXiv 2005.08100): a Transformer block with a convolution module, between
two half-step feed-forward modules (the macaron layout), for sequences of frames.

    x̃   = x + ½ FFN(x)                                                       (eq. 1)
    x'  = x̃ + MHSA(x̃)         relative sinusoidal positions (Transformer-XL)
    x'' = x' + Conv(x')
    y   = LayerNorm(x'' + ½ FFN(x''))

    FFN   = LayerNorm → Linear(d, 4d) → Swish → Linear(4d, d)                 (fig. 4)
    MHSA  = LayerNorm → multi-head self-attention with relative positions    (fig. 3)
    Conv  = LayerNorm → pointwise conv (d → 2d) → GLU → depthwise conv (k)
            → BatchNorm → Swish → pointwise conv (d → d)                      (fig. 2)

Relative attention (Transformer-XL, section 3.3, bidirectional here: distances −(L−1) … L−1):
    A_ij = (q_i + u)ᵀ k_j + (q_i + v)ᵀ W_r R_{i−j}
The paper's dropouts are left out: the toy task has fresh data every step.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def sinusoid(distances: torch.Tensor, d: int) -> torch.Tensor:
    """R for each distance (P,) → (P, d): [sin(p·ω), cos(p·ω)], ω_k = 10000^(−2k/d); p may be negative."""
    omega = 1.0 / 10000 ** (torch.arange(0, d, 2, device=distances.device, dtype=torch.float64) / d)
    angle = distances.double().unsqueeze(1) * omega  # (P, d/2)
    return torch.cat([angle.sin(), angle.cos()], dim=-1)


def rel_shift(x: torch.Tensor) -> torch.Tensor:
    """(..., L, 2L − 1) scores whose column c holds distance L − 1 − c, into (..., L, L) scores indexed by
    (query i, key j): out[..., i, j] = x[..., i, L − 1 − i + j] (pad one column, re-view, drop a row)."""
    *lead, L, P = x.shape
    padded = torch.cat([x.new_zeros(*lead, L, 1), x], dim=-1)  # (..., L, 2L)
    shifted = padded.view(*lead, P + 1, L)[..., 1:, :]  # (..., 2L − 1, L)
    return shifted.reshape(*lead, L, P)[..., :L]  # (..., L, L)


class FeedForward(nn.Module):
    """Fig. 4: LayerNorm, Linear(d, e·d), Swish, Linear(e·d, d)."""

    def __init__(self, d: int, expansion: int = 4) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(d)
        self.fc1, self.fc2 = nn.Linear(d, expansion * d), nn.Linear(expansion * d, d)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(F.silu(self.fc1(self.norm(x))))  # Swish = SiLU = x·σ(x)


class RelativeMHSA(nn.Module):
    """Fig. 3: LayerNorm, then multi-head self-attention with Transformer-XL's relative positions."""

    def __init__(self, d: int, n_heads: int) -> None:
        super().__init__()
        self.n_heads, self.d_head = n_heads, d // n_heads
        self.norm = nn.LayerNorm(d)
        self.W_qkv = nn.Linear(d, 3 * d)  # packed [W_q; W_k; W_v], as nn.MultiheadAttention's in_proj
        self.W_r = nn.Linear(d, d, bias=False)  # W_k,R: the positions' own key projection
        self.W_o = nn.Linear(d, d)
        self.u = nn.Parameter(torch.zeros(n_heads, self.d_head))  # content bias, term (c)
        self.v = nn.Parameter(torch.zeros(n_heads, self.d_head))  # position bias, term (d)

    def scores(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The logits (B, H, L, L) and values (B, H, L, d_head) of the normalised input h (B, L, D)."""
        B, L, D = h.shape
        q, k, v = (
            t.view(B, L, self.n_heads, self.d_head).transpose(1, 2) for t in self.W_qkv(h).split(D, dim=-1)
        )  # (B, H, L, d_head)
        R = sinusoid(torch.arange(L - 1, -L, -1, device=h.device), D).to(h.dtype)  # (2L − 1, D): L−1 … −(L−1)
        r = self.W_r(R).view(2 * L - 1, self.n_heads, self.d_head).transpose(0, 1)  # (H, 2L − 1, d_head)
        AC = (q + self.u[:, None]) @ k.transpose(-2, -1)  # (B, H, L, L): terms (a) + (c)
        BD = rel_shift(
            (q + self.v[:, None]) @ r.transpose(-2, -1)
        )  # (B, H, L, 2L−1) → (B, H, L, L): (b) + (d)
        return (AC + BD) / math.sqrt(self.d_head), v

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, L, D = x.shape
        scores, v = self.scores(self.norm(x))
        y = scores.softmax(dim=-1) @ v  # (B, H, L, d_head)
        return self.W_o(y.transpose(1, 2).reshape(B, L, D))  # (B, L, D)


class ConvModule(nn.Module):
    """Fig. 2: LayerNorm, pointwise conv (d → 2d), GLU, depthwise conv (kernel k, 'same' padding),
    BatchNorm, Swish, pointwise conv (d → d). Input and output (B, L, d)."""

    def __init__(self, d: int, kernel: int) -> None:
        super().__init__()
        if kernel % 2 == 0:
            raise ValueError(f"kernel {kernel} must be odd for a centred ('same') convolution")
        self.norm = nn.LayerNorm(d)
        self.pointwise1 = nn.Conv1d(d, 2 * d, 1)
        self.depthwise = nn.Conv1d(d, d, kernel, padding=kernel // 2, groups=d)  # one filter per channel
        self.batch_norm = nn.BatchNorm1d(d)
        self.pointwise2 = nn.Conv1d(d, d, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.pointwise1(self.norm(x).transpose(1, 2))  # (B, 2d, L): channels first for Conv1d
        a, gate = h.chunk(2, dim=1)  # (B, d, L) each
        h = a * torch.sigmoid(gate)  # GLU (Dauphin et al. 2017)
        h = F.silu(self.batch_norm(self.depthwise(h)))  # (B, d, L)
        return self.pointwise2(h).transpose(1, 2)  # (B, L, d)


class ConformerBlock(nn.Module):
    """Eq. 1: the macaron sandwich FFN/2, MHSA, Conv, FFN/2, then a final LayerNorm."""

    def __init__(self, d: int, n_heads: int, kernel: int) -> None:
        super().__init__()
        self.ffn1, self.ffn2 = FeedForward(d), FeedForward(d)
        self.mhsa = RelativeMHSA(d, n_heads)
        self.conv = ConvModule(d, kernel)
        self.norm = nn.LayerNorm(d)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + 0.5 * self.ffn1(x)  # x̃
        x = x + self.mhsa(x)  # x'
        x = x + self.conv(x)  # x''
        return self.norm(x + 0.5 * self.ffn2(x))  # y


class TransformerBlock(nn.Module):
    """The baseline: the same relative MHSA and FFN modules, pre-norm, one full-step FFN, no convolution."""

    def __init__(self, d: int, n_heads: int, expansion: int) -> None:
        super().__init__()
        self.mhsa = RelativeMHSA(d, n_heads)
        self.ffn = FeedForward(d, expansion)
        self.norm = nn.LayerNorm(d)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.mhsa(x)
        return self.norm(x + self.ffn(x))


class FrameTagger(nn.Module):
    """Frames (B, L, d_in) → logits (B, L, m·n) of the classes (a, b), a < m, b < n, at index a·n + b: a
    linear input projection, blocks, and a factorised read-out, logit(a, b) = s_a + t_b from two linear heads.
    The softmax over the m·n classes is then the product of the heads' softmaxes, and its cross-entropy the
    sum of theirs: each fact of a label is learnt by its own head. (A joint m·n-way read-out ties every b
    feature to a: the task's local pattern was then learnt by neither model, on seed 1 not in 600 steps.)"""

    def __init__(self, blocks: list[nn.Module], d_in: int, d: int, factors: tuple[int, int]) -> None:
        super().__init__()
        self.inp = nn.Linear(d_in, d)
        self.blocks = nn.ModuleList(blocks)
        self.out_a, self.out_b = nn.Linear(d, factors[0]), nn.Linear(d, factors[1])

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        x = self.inp(frames)  # (B, L, d)
        for block in self.blocks:
            x = block(x)
        logits = self.out_a(x).unsqueeze(-1) + self.out_b(x).unsqueeze(-2)  # (B, L, m, n)
        return logits.flatten(-2)  # (B, L, m·n): class (a, b) at a·n + b


def conformer(
    d_in: int, d: int, n_heads: int, layers: int, kernel: int, factors: tuple[int, int]
) -> FrameTagger:
    return FrameTagger([ConformerBlock(d, n_heads, kernel) for _ in range(layers)], d_in, d, factors)


def transformer(
    d_in: int, d: int, n_heads: int, layers: int, expansion: int, factors: tuple[int, int]
) -> FrameTagger:
    return FrameTagger([TransformerBlock(d, n_heads, expansion) for _ in range(layers)], d_in, d, factors)
