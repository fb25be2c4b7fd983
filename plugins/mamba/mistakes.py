"""The classic mistake in Mamba's selective scan, for ``readtrack practice``: its check must catch it
(tests/test_practice.py)."""

from __future__ import annotations

import torch

from readtrack.practice import mistake


@mistake("selective_scan", fails="selective scan vs the closed form")
def selective_scan(
    u: torch.Tensor, delta: torch.Tensor, A: torch.Tensor, B: torch.Tensor, C: torch.Tensor, D: torch.Tensor
) -> torch.Tensor:
    """Discretises A but not B: writes B_t u_t into the state instead of B̄_t u_t = Δ_t B_t u_t."""
    dA = torch.exp(delta.permute(2, 0, 1)[..., None] * A)  # (L, batch, d, n)
    Bu = u.permute(2, 0, 1)[..., None] * B.permute(2, 0, 1)[:, :, None]  # Δ forgotten here
    h = u.new_zeros(dA.shape[1:])
    states = []
    for dA_t, Bu_t in zip(dA.unbind(), Bu.unbind(), strict=True):
        h = dA_t * h + Bu_t
        states.append(h)
    y = torch.einsum("lbdn,bnl->bdl", torch.stack(states), C)
    return y + D[:, None] * u
