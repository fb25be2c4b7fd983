"""The classic mistake in FlashAttention's tiled forward (Algorithm 1), for ``readtrack practice``: its
check must catch it (tests/practice/test_practice.py)."""

from __future__ import annotations

import torch

from readtrack.api import mistake

from .model import _accumulator_dtype, _causal_mask


@mistake("flash_forward", fails="forward vs torch SDPA (float64, causal=False")
def flash_forward(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, causal: bool, tau: float, block_r: int, block_c: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """The online softmax without rescaling the output: ℓ is corrected by e^(m_i − m_new) when a later tile
    raises the row maximum, but O, averaged under the old maximum, is not. One tile per row hides it."""
    *batch, n_q, _ = q.shape
    n_k, d_v = v.shape[-2], v.shape[-1]
    acc = _accumulator_dtype(q.dtype)
    O = torch.zeros(*batch, n_q, d_v, dtype=acc, device=q.device)
    l = torch.zeros(*batch, n_q, 1, dtype=acc, device=q.device)
    m = torch.full((*batch, n_q, 1), float("-inf"), dtype=acc, device=q.device)
    for j0 in range(0, n_k, block_c):
        j1 = min(j0 + block_c, n_k)
        K_j, V_j = k[..., j0:j1, :].to(acc), v[..., j0:j1, :].to(acc)
        for i0 in range(0, n_q, block_r):
            i1 = min(i0 + block_r, n_q)
            if causal and j0 > i1 - 1:
                continue
            Q_i = q[..., i0:i1, :].to(acc)
            S_ij = tau * Q_i @ K_j.transpose(-2, -1)
            if causal:
                S_ij = S_ij.masked_fill(_causal_mask(i1 - i0, j1 - j0, i0, j0, q.device), float("-inf"))
            m_i, l_i = m[..., i0:i1, :], l[..., i0:i1, :]
            m_new = torch.maximum(m_i, S_ij.amax(dim=-1, keepdim=True))
            P_ij = torch.exp(S_ij - m_new)
            alpha = torch.exp(m_i - m_new)
            l_new = alpha * l_i + P_ij.sum(dim=-1, keepdim=True)
            O[..., i0:i1, :] = (l_i * O[..., i0:i1, :] + P_ij @ V_j) / l_new  # alpha forgotten here
            l[..., i0:i1, :], m[..., i0:i1, :] = l_new, m_new
    return O.to(q.dtype), m + torch.log(l)


def _tiles(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    causal: bool,
    tau: float,
    block_r: int,
    block_c: int,
    *,
    out: torch.Tensor,
) -> torch.Tensor:
    """Algorithm 1's loops as the model solution runs them, accumulating into ``out`` (the caller's buffer for
    O); returns L = m + log ℓ."""
    *batch, n_q, _ = q.shape
    n_k = v.shape[-2]
    acc = out.dtype
    l = torch.zeros(*batch, n_q, 1, dtype=acc, device=q.device)
    m = torch.full((*batch, n_q, 1), float("-inf"), dtype=acc, device=q.device)
    for j0 in range(0, n_k, block_c):
        j1 = min(j0 + block_c, n_k)
        K_j, V_j = k[..., j0:j1, :].to(acc), v[..., j0:j1, :].to(acc)
        for i0 in range(0, n_q, block_r):
            i1 = min(i0 + block_r, n_q)
            if causal and j0 > i1 - 1:
                continue
            S_ij = tau * q[..., i0:i1, :].to(acc) @ K_j.transpose(-2, -1)
            if causal:
                S_ij = S_ij.masked_fill(_causal_mask(i1 - i0, j1 - j0, i0, j0, q.device), float("-inf"))
            m_i, l_i = m[..., i0:i1, :], l[..., i0:i1, :]
            m_new = torch.maximum(m_i, S_ij.amax(dim=-1, keepdim=True))
            P_ij = torch.exp(S_ij - m_new)
            alpha = torch.exp(m_i - m_new)
            l_new = alpha * l_i + P_ij.sum(dim=-1, keepdim=True)
            out[..., i0:i1, :] = (alpha * l_i * out[..., i0:i1, :] + P_ij @ V_j) / l_new
            l[..., i0:i1, :], m[..., i0:i1, :] = l_new, m_new
    return m + torch.log(l)


@mistake("flash_forward", fails="flash_forward O vs SDPA(scale=τ)")
def flash_forward_scaled_by_root_d(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, causal: bool, tau: float, block_r: int, block_c: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Scales the scores by 1/√d, the usual τ, instead of the tau it is given: right for every caller that
    keeps the default scale, wrong for one that chose another (SDPA's scale=...)."""
    O = torch.zeros(*q.shape[:-1], v.shape[-1], dtype=_accumulator_dtype(q.dtype), device=q.device)
    L = _tiles(q, k, v, causal, q.shape[-1] ** -0.5, block_r, block_c, out=O)
    return O.to(q.dtype), L


@mistake("flash_forward", fails="flash_forward returns O in q's dtype, (..., N_q, d_v)")
def flash_forward_o_shaped_like_q(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, causal: bool, tau: float, block_r: int, block_c: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """O = torch.zeros_like(q): the output takes Q's width d, not V's d_v, so attention whose values are
    narrower (or wider) than its keys fails."""
    O = torch.zeros_like(q, dtype=_accumulator_dtype(q.dtype))
    L = _tiles(q, k, v, causal, tau, block_r, block_c, out=O)
    return O.to(q.dtype), L


@mistake("flash_forward", fails="flash_forward returns O in q's dtype")
def flash_forward_o_in_float32(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, causal: bool, tau: float, block_r: int, block_c: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Returns O in the float32 accumulator, without the final O.to(q.dtype): a bfloat16 layer's output
    silently becomes float32, twice the memory for everything after it."""
    O = torch.zeros(*q.shape[:-1], v.shape[-1], dtype=_accumulator_dtype(q.dtype), device=q.device)
    L = _tiles(q, k, v, causal, tau, block_r, block_c, out=O)
    return O, L


@mistake("flash_forward", fails="flash_forward returns O in q's dtype")
def flash_forward_l_in_q_dtype(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, causal: bool, tau: float, block_r: int, block_c: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Returns L in q's dtype like O: a bfloat16 log-sum-exp (3 significant digits) then rebuilds every P_ij =
    exp(S_ij − L_i) of the backward pass from a rounded L."""
    O = torch.zeros(*q.shape[:-1], v.shape[-1], dtype=_accumulator_dtype(q.dtype), device=q.device)
    L = _tiles(q, k, v, causal, tau, block_r, block_c, out=O)
    return O.to(q.dtype), L.to(q.dtype)
