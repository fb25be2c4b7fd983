"""The classic mistake in the GRU, for ``readtrack practice``: its check must catch it
(tests/practice/test_practice.py)."""

from __future__ import annotations

import torch

from readtrack.api import mistake


@mistake("gru_cell", fails="output and h_n vs nn.GRU")
def gru_cell(
    x_t: torch.Tensor, h: torch.Tensor, W_hh: torch.Tensor, b_hh: torch.Tensor, reset_after: bool = True
) -> torch.Tensor:
    """The update gate's convention swapped (h' = z ⊙ n + (1 − z) ⊙ h): z → 1 now forgets the state, the
    opposite of nn.GRU's (and of Cho's eq. 7)."""
    H = h.shape[-1]
    x_r, x_z, x_n = x_t.chunk(3, dim=-1)
    if reset_after:
        h_r, h_z, h_n = (h @ W_hh.T + b_hh).chunk(3, dim=-1)
        r, z = torch.sigmoid(x_r + h_r), torch.sigmoid(x_z + h_z)
        n = torch.tanh(x_n + r * h_n)
    else:
        h_r, h_z = (h @ W_hh[: 2 * H].T + b_hh[: 2 * H]).chunk(2, dim=-1)
        r, z = torch.sigmoid(x_r + h_r), torch.sigmoid(x_z + h_z)
        n = torch.tanh(x_n + (r * h) @ W_hh[2 * H :].T + b_hh[2 * H :])
    return z * n + (1 - z) * h
