"""The classic mistake in FlashAttention's tiled forward (Algorithm 1), for ``readtrack practice``: its
check must catch it (tests/test_practice.py)."""

from __future__ import annotations

import torch

from readtrack.practice import mistake

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
