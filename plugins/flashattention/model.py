"""FlashAttention in plain PyTorch: tiled exact attention with an online softmax, forward and backward.

Notation follows Dao et al. 2022 (arXiv 2205.14135): Q, K, V are N×d, S = τ·QKᵀ, P = softmax(S), O = PV,
with τ = 1/√d. The forward pass is Algorithm 1 (with the causal mask of Algorithm 2); it never forms the
N×N matrices S or P, only one B_r×B_c tile of them at a time, and keeps per row the running maximum m and
the running sum ℓ of the softmax. It saves O and the log-sum-exp L = m + log ℓ (one number per row), and the
backward pass (Algorithm 4) recomputes each tile of P from Q, K and L instead of reading a stored P. So
the memory besides the inputs and outputs is O(N) instead of O(N²); the arithmetic is the same softmax.

On a GPU the tiles live in on-chip SRAM; here they are ordinary tensors, so this file shows the algorithm
and its memory behaviour, not the GPU speed-up (a Triton kernel, ``backend="triton"``, is the fast one).
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch.autograd.function import once_differentiable


def standard_attention(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, causal: bool = False, scale: float | None = None
) -> torch.Tensor:
    """Algorithm 0 of the paper: materialise S and P (N×N each), then multiply: what FlashAttention avoids."""
    tau = 1.0 / math.sqrt(q.shape[-1]) if scale is None else scale
    S = tau * q @ k.transpose(-2, -1)  # (..., N_q, N_k)
    if causal:
        S = S.masked_fill(_causal_mask(q.shape[-2], k.shape[-2], 0, 0, q.device), float("-inf"))
    P = torch.softmax(S, dim=-1)  # (..., N_q, N_k)
    return P @ v  # (..., N_q, d)


def flash_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    causal: bool = False,
    scale: float | None = None,
    backend: str = "torch",
    *,
    block_r: int = 128,
    block_c: int = 128,
    kernel: str = "fa2",
) -> torch.Tensor:
    """Exact attention softmax(τ·QKᵀ)V without materialising the N×N matrix.

    q: (..., N_q, d); k, v: (..., N_k, d), usually (batch, heads, seq, head_dim). Equals
    ``torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=causal, scale=scale)``,
    including its top-left alignment of the causal mask when N_q != N_k. ``block_r`` and ``block_c`` are
    the tile sizes B_r (rows of Q) and B_c (rows of K and V); any N works, the last tile may be short.
    ``backend="triton"`` runs the fused GPU kernel from ``triton_kernel.py`` instead of the PyTorch tiles;
    ``kernel`` then names its forward pass, a rung of the FlashAttention-3 ladder of ``hopper_kernels.py``
    (``fa2``: the FlashAttention-2 kernel itself).
    """
    if backend == "triton":
        try:
            from .triton_kernel import flash_attention_triton
        except ImportError as exc:
            from readtrack.api import PluginError

            raise PluginError(
                "flashattention: backend 'triton' needs plugins/flashattention/triton_kernel.py and the "
                f"triton package (pip install 'readtrack[triton]') on a GPU: {exc}"
            ) from exc
        if kernel != "fa2":
            from .hopper_kernels import flash_attention_rung

            return flash_attention_rung(q, k, v, causal, scale, kernel=kernel)
        return flash_attention_triton(q, k, v, causal, scale)
    if backend != "torch":
        raise ValueError(f"flash_attention: unknown backend {backend!r}; use 'torch' or 'triton'")
    if q.dim() < 2 or q.shape[-1] != k.shape[-1] or k.shape[-2] != v.shape[-2]:
        raise ValueError(
            f"flash_attention: expected q (..., N_q, d), k (..., N_k, d), v (..., N_k, d_v); "
            f"got {tuple(q.shape)}, {tuple(k.shape)}, {tuple(v.shape)}"
        )
    if block_r < 1 or block_c < 1:
        raise ValueError(f"flash_attention: block sizes must be positive, got {block_r}, {block_c}")
    tau = 1.0 / math.sqrt(q.shape[-1]) if scale is None else float(scale)
    out: torch.Tensor = FlashAttention.apply(q, k, v, causal, tau, block_r, block_c)
    return out


class FlashAttention(torch.autograd.Function):
    """The autograd wrapper: saves only Q, K, V, O and L, so backward must recompute P tile by tile."""

    @staticmethod
    def forward(
        ctx: Any,
        q: torch.Tensor,
        k: torch.Tensor,
        v: torch.Tensor,
        causal: bool,
        tau: float,
        block_r: int,
        block_c: int,
    ) -> torch.Tensor:
        O, L = flash_forward(q, k, v, causal, tau, block_r, block_c)
        ctx.save_for_backward(q, k, v, O, L)
        ctx.causal, ctx.tau, ctx.block_r, ctx.block_c = causal, tau, block_r, block_c
        return O

    @staticmethod
    @once_differentiable
    def backward(ctx: Any, dO: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        q, k, v, O, L = ctx.saved_tensors
        dQ, dK, dV = flash_backward(dO, q, k, v, O, L, ctx.causal, ctx.tau, ctx.block_r, ctx.block_c)
        return dQ, dK, dV, None, None, None, None  # no gradients for causal, tau and the block sizes


def flash_forward(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, causal: bool, tau: float, block_r: int, block_c: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Algorithm 1 (+ the causal mask of Algorithm 2). Returns O (..., N_q, d_v) and L (..., N_q, 1)."""
    *batch, n_q, _ = q.shape
    n_k, d_v = v.shape[-2], v.shape[-1]
    acc = _accumulator_dtype(q.dtype)
    # line 2: O = 0, ℓ = 0, m = −∞ (the only state that grows with N: linear, not quadratic)
    O = torch.zeros(*batch, n_q, d_v, dtype=acc, device=q.device)  # (..., N_q, d_v)
    l = torch.zeros(*batch, n_q, 1, dtype=acc, device=q.device)  # (..., N_q, 1)
    m = torch.full((*batch, n_q, 1), float("-inf"), dtype=acc, device=q.device)  # (..., N_q, 1)
    for j0 in range(0, n_k, block_c):  # line 5: for each block K_j, V_j
        j1 = min(j0 + block_c, n_k)
        K_j, V_j = k[..., j0:j1, :].to(acc), v[..., j0:j1, :].to(acc)  # (..., B_c, d), (..., B_c, d_v)
        for i0 in range(0, n_q, block_r):  # line 7: for each block Q_i
            i1 = min(i0 + block_r, n_q)
            if causal and j0 > i1 - 1:
                continue  # the whole tile is above the diagonal: fully masked, skipped (Algorithm 2)
            Q_i = q[..., i0:i1, :].to(acc)  # (..., B_r, d)
            S_ij = tau * Q_i @ K_j.transpose(-2, -1)  # line 9: (..., B_r, B_c)
            if causal:
                S_ij = S_ij.masked_fill(_causal_mask(i1 - i0, j1 - j0, i0, j0, q.device), float("-inf"))
            m_i, l_i = m[..., i0:i1, :], l[..., i0:i1, :]  # (..., B_r, 1)
            # lines 10-11: m_new = max(m_i, rowmax(S_ij)). Taking P̃ relative to m_new rather than to the
            # tile's own max folds the factor e^(m̃_ij − m_new) of lines 11-12 into P̃; same numbers, and a
            # row the mask hides in this tile gives P̃ = 0 instead of exp(−∞ + ∞) = NaN.
            m_new = torch.maximum(m_i, S_ij.amax(dim=-1, keepdim=True))  # (..., B_r, 1)
            P_ij = torch.exp(S_ij - m_new)  # (..., B_r, B_c)
            alpha = torch.exp(m_i - m_new)  # rescales what was summed under the old maximum
            l_new = alpha * l_i + P_ij.sum(dim=-1, keepdim=True)  # line 11
            # line 12: O_i ← diag(ℓ_new)⁻¹ (diag(ℓ_i) e^(m_i − m_new) O_i + P̃_ij V_j)
            O[..., i0:i1, :] = (alpha * l_i * O[..., i0:i1, :] + P_ij @ V_j) / l_new
            l[..., i0:i1, :], m[..., i0:i1, :] = l_new, m_new  # line 13
    L = m + torch.log(l)  # the log-sum-exp of each row of S: all the backward needs to rebuild P
    return O.to(q.dtype), L


def flash_backward(
    dO: torch.Tensor,
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    O: torch.Tensor,
    L: torch.Tensor,
    causal: bool,
    tau: float,
    block_r: int,
    block_c: int,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Algorithm 4 without dropout: gradients of Q, K, V with P recomputed per tile as exp(S_ij − L_i)."""
    n_q, n_k = q.shape[-2], k.shape[-2]
    acc = _accumulator_dtype(q.dtype)
    dO, O = dO.to(acc), O.to(acc)
    D = (dO * O).sum(dim=-1, keepdim=True)  # line 19: D_i = rowsum(dO_i ∘ O_i), (..., N_q, 1)
    dQ = torch.zeros(q.shape, dtype=acc, device=q.device)  # (..., N_q, d)
    dK = torch.zeros(k.shape, dtype=acc, device=q.device)  # (..., N_k, d)
    dV = torch.zeros(v.shape, dtype=acc, device=q.device)  # (..., N_k, d_v)
    for j0 in range(0, n_k, block_c):  # line 6
        j1 = min(j0 + block_c, n_k)
        K_j, V_j = k[..., j0:j1, :].to(acc), v[..., j0:j1, :].to(acc)
        dK_j, dV_j = dK[..., j0:j1, :], dV[..., j0:j1, :]  # views: accumulated in place (lines 8, 21-22)
        for i0 in range(0, n_q, block_r):  # line 9
            i1 = min(i0 + block_r, n_q)
            if causal and j0 > i1 - 1:
                continue
            Q_i, dO_i = q[..., i0:i1, :].to(acc), dO[..., i0:i1, :]  # (..., B_r, d), (..., B_r, d_v)
            S_ij = tau * Q_i @ K_j.transpose(-2, -1)  # line 11: (..., B_r, B_c)
            if causal:
                S_ij = S_ij.masked_fill(_causal_mask(i1 - i0, j1 - j0, i0, j0, q.device), float("-inf"))
            P_ij = torch.exp(S_ij - L[..., i0:i1, :])  # line 13: recomputed, never stored
            dV_j += P_ij.transpose(-2, -1) @ dO_i  # line 16: (..., B_c, d_v)
            dP_ij = dO_i @ V_j.transpose(-2, -1)  # line 17: (..., B_r, B_c)
            dS_ij = P_ij * (dP_ij - D[..., i0:i1, :])  # line 20: softmax backward
            dQ[..., i0:i1, :] += tau * dS_ij @ K_j  # line 21: (..., B_r, d)
            dK_j += tau * dS_ij.transpose(-2, -1) @ Q_i  # line 22: (..., B_c, d)
    return dQ.to(q.dtype), dK.to(k.dtype), dV.to(v.dtype)


def _causal_mask(rows: int, cols: int, row0: int, col0: int, device: torch.device) -> torch.Tensor:
    """True where key index > query index (hidden): the tile [row0:row0+rows, col0:col0+cols] of the mask."""
    i = torch.arange(row0, row0 + rows, device=device).unsqueeze(-1)  # (rows, 1)
    j = torch.arange(col0, col0 + cols, device=device).unsqueeze(0)  # (1, cols)
    return j > i


def _accumulator_dtype(dtype: torch.dtype) -> torch.dtype:
    """Half-precision inputs accumulate in float32, as the paper's kernel does on chip."""
    return torch.float32 if dtype in (torch.float16, torch.bfloat16) else dtype
