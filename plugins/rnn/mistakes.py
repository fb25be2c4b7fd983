"""The classic mistake in Elman's recurrence, for ``readtrack practice``: its check must catch it
(tests/practice/test_practice.py)."""

from __future__ import annotations

from collections.abc import Callable

import torch

from readtrack.api import mistake


@mistake("elman_layer", fails="output and h_n vs nn.RNN")
def elman_layer(
    x: torch.Tensor,
    h0: torch.Tensor,
    W_ih: torch.Tensor,
    W_hh: torch.Tensor,
    b: torch.Tensor,
    act: Callable[[torch.Tensor], torch.Tensor],
) -> torch.Tensor:
    """h @ W_hh instead of h @ W_hh.T: the square recurrent matrix is used transposed, which no shape
    catches (unit i reads the weights unit i sends, not those it receives)."""
    xw = x @ W_ih.T + b
    h = h0
    hs = []
    for x_t in xw.unbind(dim=1):
        h = act(x_t + h @ W_hh)
        hs.append(h)
    return torch.stack(hs, dim=1)
