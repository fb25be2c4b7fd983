"""Classic mistakes in PixelRNN, for ``readtrack practice``: its check must catch them
(tests/practice/test_practice.py)."""

from __future__ import annotations

import torch

from readtrack.api import mistake

from .model import RowLSTM


@mistake("causal_mask", fails="forward vs F.conv2d with the mask from the offsets, 7×7 mask A")
def causal_mask(k_h: int, k_w: int, kind: str, device: torch.device | None = None) -> torch.Tensor:
    """Mask A with its centre open, as mask B: the first layer sees the very pixel it predicts."""
    mask = torch.zeros(k_h, k_w, device=device)
    cy, cx = k_h // 2, k_w // 2
    mask[:cy] = 1.0
    mask[cy, : cx + 1] = 1.0
    return mask


@mistake("RowLSTM.forward", fails="Row LSTM vs nn.LSTMCell row by row")
def forward(self: RowLSTM, x: torch.Tensor) -> torch.Tensor:
    """Reads the gates in torch.nn.LSTM's order (i, f, g, o), not the paper's (o, f, i, g)."""
    B, _, H, W = x.shape
    xs = self.input_to_state(x)
    h = xs.new_zeros(B, self.hidden, 1, W)
    c = torch.zeros_like(h)
    rows = []
    for i in range(H):
        gates = self.state_to_state(h) + xs[:, :, i : i + 1]
        i_, f, g, o = gates.chunk(4, dim=1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i_) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        rows.append(h)
    return torch.cat(rows, dim=2)


@mistake("causal_mask", fails="causal_mask(5, 3, 'A', device) is float32")
def causal_mask_of_integers(
    k_h: int, k_w: int, kind: str, device: torch.device | None = None
) -> torch.Tensor:
    """Builds the mask from a list of Python ints: the pattern is right and MaskedConv2d multiplies by it
    just as well, but it is an int64 tensor, not the float one in the default dtype the statement asks
    for."""
    cy, cx = k_h // 2, k_w // 2
    open_centre = kind == "B"
    rows = [[int(a < cy or (a == cy and b < cx + open_centre)) for b in range(k_w)] for a in range(k_h)]
    return torch.tensor(rows, device=device)
