"""Classic mistakes in the LSTM cell, for ``readtrack practice``: the check must catch them
(tests/practice/test_practice.py)."""

from __future__ import annotations

import torch

from readtrack.api import mistake


@mistake("lstm_cell", fails="output, h_n, c_n vs nn.LSTM")
def lstm_cell(
    x_t: torch.Tensor, h: torch.Tensor, c: torch.Tensor, W_hh: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Shows the cell state without squashing it (h' = o ⊙ c' instead of o ⊙ tanh(c')): the output is
    unbounded and no longer the 1997 cell's y_c = out · h(s_c)."""
    i, f, g, o = (x_t + h @ W_hh.T).chunk(4, dim=-1)
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * c, c


@mistake("lstm_cell", fails="output, h_n, c_n vs nn.LSTM")
def lstm_cell_gates_in_another_order(
    x_t: torch.Tensor, h: torch.Tensor, c: torch.Tensor, W_hh: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Reads the stacked gates as i | g | f | o instead of PyTorch's i | f | g | o: the forget gate gets the
    cell input's weights, so loading nn.LSTM's state_dict gives another network."""
    i, g, f, o = (x_t + h @ W_hh.T).chunk(4, dim=-1)
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c), c
