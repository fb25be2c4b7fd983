"""Mamba's selective state space model (Gu and Dao 2023, arXiv 2312.00752), like nanoGPT.

A diagonal state space model per channel, discretised with step Δ (section 2, eq. 4; zero-order hold for A,
Euler for B, as the paper's reference code does):

    h_t = exp(Δ_t A) h_{t−1} + Δ_t B_t u_t          (eq. 2a with Ā = exp(ΔA), B̄ ≈ ΔB)
    y_t = C_t h_t + D u_t                            (eq. 2b, D the skip connection)

S4 (arXiv 2111.00396) keeps Δ, B, C fixed, so the model is linear and time-invariant: a convolution with the
kernel K_k = C Ā^k B̄. Mamba makes them functions of the input (algorithm 2, "selection"): the model can
decide per token what to write into its state and what to ignore. That breaks the convolution view, so
Mamba computes a scan: one step per token, linear in L (the paper's CUDA kernel fuses it and keeps the state
in fast memory; here it is the plain recurrence, the same as the paper's ``selective_scan_ref``).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def selective_scan(
    u: torch.Tensor, delta: torch.Tensor, A: torch.Tensor, B: torch.Tensor, C: torch.Tensor, D: torch.Tensor
) -> torch.Tensor:
    """u, delta (batch, d, L); A (d, n); B, C (batch, n, L); D (d,) → y (batch, d, L)."""
    # time first, so that each step reads one contiguous block
    dA = torch.exp(delta.permute(2, 0, 1)[..., None] * A)  # (L, batch, d, n): Ā_t = exp(Δ_t A)
    dBu = (delta * u).permute(2, 0, 1)[..., None] * B.permute(2, 0, 1)[
        :, :, None
    ]  # (L, batch, d, n): Δ_t B_t u_t
    h = u.new_zeros(dA.shape[1:])  # (batch, d, n)
    states = []
    # one step per token, linear in L; unbind once (indexing [..., t] would make backward write L full-size
    # gradients, quadratic in L)
    for dA_t, dBu_t in zip(dA.unbind(), dBu.unbind(), strict=True):
        h = dA_t * h + dBu_t  # eq. 2a
        states.append(h)
    hs = torch.stack(states)  # (L, batch, d, n)
    y = torch.einsum("lbdn,bnl->bdl", hs, C)  # eq. 2b: C_t h_t
    return y + D[:, None] * u


def convolution_view(
    u: torch.Tensor, delta: torch.Tensor, A: torch.Tensor, B: torch.Tensor, C: torch.Tensor, D: torch.Tensor
) -> torch.Tensor:
    """S4 with constant Δ (d,), B, C (n,): y = K * u + D u, K_k = Σ_n C_n exp(k Δ A_n) Δ B_n (causal; eq. 3).
    A time-invariant SSM is a convolution with one kernel per channel, computed for all t at once: what
    made S4 fast, and what selection gives up (Δ, B, C change with t, so there is no single kernel)."""
    L = u.shape[-1]
    k = torch.arange(L, device=u.device, dtype=u.dtype)
    K = (C * torch.exp(k[:, None, None] * delta[:, None] * A) * delta[:, None] * B).sum(-1)  # (L, d)
    padded = F.pad(u, (L - 1, 0))  # causal: y_t sees u_0 … u_t
    y = F.conv1d(padded, K.T.flip(-1)[:, None], groups=u.shape[1])  # (batch, d, L)
    return y + D[:, None] * u


class MambaBlock(nn.Module):
    """The Mamba block (fig. 3): in-projection to x and a gate z, a causal depthwise convolution and SiLU on
    x, the selective SSM, the gate SiLU(z), out-projection. ``selective=False`` is the same block with Δ, B,
    C learned constants (an S4D-like time-invariant SSM): the paper's ablation."""

    def __init__(
        self, d_model: int, d_state: int = 16, expand: int = 2, d_conv: int = 4, selective: bool = True
    ):
        super().__init__()
        d_inner = expand * d_model
        self.d_inner, self.d_state, self.selective = d_inner, d_state, selective
        self.dt_rank = math.ceil(d_model / 16)
        self.in_proj = nn.Linear(d_model, 2 * d_inner, bias=False)
        self.conv = nn.Conv1d(d_inner, d_inner, d_conv, groups=d_inner, padding=d_conv - 1)
        if selective:
            self.x_proj = nn.Linear(d_inner, self.dt_rank + 2 * d_state, bias=False)  # Δ, B, C from x
            self.dt_proj = nn.Linear(self.dt_rank, d_inner)
        else:
            self.dt_proj = nn.Linear(1, d_inner)  # only its bias is used: a constant Δ per channel
            self.B = nn.Parameter(torch.randn(d_state) / math.sqrt(d_state))
            self.C = nn.Parameter(torch.randn(d_state) / math.sqrt(d_state))
        # S4D-Real initialisation: A = −(1, 2, …, n) per channel; Δ log-uniform in [1e-3, 1e-1]
        self.A_log = nn.Parameter(
            torch.log(torch.arange(1, d_state + 1, dtype=torch.float32)).repeat(d_inner, 1)
        )
        self.D = nn.Parameter(torch.ones(d_inner))
        dt = torch.exp(torch.rand(d_inner) * (math.log(0.1) - math.log(1e-3)) + math.log(1e-3))
        with torch.no_grad():
            self.dt_proj.bias.copy_(dt + torch.log(-torch.expm1(-dt)))  # softplus⁻¹(dt)
        self.out_proj = nn.Linear(d_inner, d_model, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (batch, L, d_model) → (batch, L, d_model)
        L = x.shape[1]
        x, z = self.in_proj(x).chunk(2, dim=-1)  # (batch, L, d_inner) each
        u = F.silu(self.conv(x.transpose(1, 2))[..., :L])  # (batch, d_inner, L): causal convolution
        A = -torch.exp(self.A_log)  # (d_inner, n)
        if self.selective:
            dt, B, C = self.x_proj(u.transpose(1, 2)).split(
                [self.dt_rank, self.d_state, self.d_state], dim=-1
            )
            delta = F.softplus(self.dt_proj(dt)).transpose(1, 2)  # (batch, d_inner, L); B, C (batch, L, n)
            y = selective_scan(u, delta, A, B.transpose(1, 2), C.transpose(1, 2), self.D)  # (batch, d, L)
        else:  # time-invariant: the same SSM, computed as S4 does, by its convolution (equal to the scan)
            y = convolution_view(u, F.softplus(self.dt_proj.bias), A, self.B, self.C, self.D)
        return self.out_proj(y.transpose(1, 2) * F.silu(z))


class Mamba(nn.Module):
    """Token embedding, residual pre-norm Mamba blocks, a linear read-out at every position."""

    def __init__(
        self, vocab: int, d_model: int, layers: int, selective: bool = True, d_state: int = 16
    ) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, d_model)
        self.norms = nn.ModuleList(nn.LayerNorm(d_model) for _ in range(layers))
        self.blocks = nn.ModuleList(
            MambaBlock(d_model, d_state=d_state, selective=selective) for _ in range(layers)
        )
        self.norm, self.head = nn.LayerNorm(d_model), nn.Linear(d_model, vocab)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:  # (batch, L) → (batch, L, vocab)
        x = self.embed(tokens)
        for norm, block in zip(self.norms, self.blocks, strict=True):
            x = x + block(norm(x))
        return self.head(self.norm(x))
