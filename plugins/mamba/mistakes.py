"""Classic mistakes in Mamba's selective scan, for ``readtrack practice``: its check must catch each
(tests/practice/test_practice.py)."""

from __future__ import annotations

import torch

from readtrack.api import mistake


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


@mistake("selective_scan", fails="a bfloat16 input gives a bfloat16 y")
def selective_scan_in_float32_not_cast_back(
    u: torch.Tensor, delta: torch.Tensor, A: torch.Tensor, B: torch.Tensor, C: torch.Tensor, D: torch.Tensor
) -> torch.Tensor:
    """Runs the recurrence in at least float32, as the paper's selective_scan_ref does, but never casts y
    back: a bfloat16 input comes out float32, where the statement asks for u's dtype."""
    wide = torch.promote_types(u.dtype, torch.float32)
    u, delta, A, B, C, D = (t.to(wide) for t in (u, delta, A, B, C, D))
    dA = torch.exp(delta.permute(2, 0, 1)[..., None] * A)  # (L, batch, d, n)
    dBu = (delta * u).permute(2, 0, 1)[..., None] * B.permute(2, 0, 1)[:, :, None]
    h = u.new_zeros(dA.shape[1:])
    states = []
    for dA_t, dBu_t in zip(dA.unbind(), dBu.unbind(), strict=True):
        h = dA_t * h + dBu_t
        states.append(h)
    y = torch.einsum("lbdn,bnl->bdl", torch.stack(states), C)
    return y + D[:, None] * u
