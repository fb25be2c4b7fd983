"""Elman's simple recurrent network (Elman 1990, "Finding Structure in Time"), in PyTorch's ``nn.RNN`` form.

Elman copies the hidden units into "context units" after every step and feeds them back with the next
input, so the hidden state is a function of the whole past:

    h_t = tanh(W_ih x_t + b_ih + W_hh h_(t−1) + b_hh)                                   (Elman, figure 2)

(Elman's units were logistic; ``nn.RNN`` uses tanh or ReLU, with two biases that only ever appear summed.)
Stacked layers feed each layer's h_1 … h_T to the next as its inputs. ``RNN`` names its parameters as
``nn.RNN`` does (weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0, then _l1 …), so either loads the
other's state_dict, and returns (output, h_n) with the same shapes.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn


def elman_layer(
    x: torch.Tensor,
    h0: torch.Tensor,
    W_ih: torch.Tensor,
    W_hh: torch.Tensor,
    b: torch.Tensor,
    act: Callable[[torch.Tensor], torch.Tensor],
) -> torch.Tensor:
    """One Elman layer over a sequence: x (B, T, I), h0 (B, H) → h_1 … h_T (B, T, H)."""
    xw = x @ W_ih.T + b  # (B, T, H): the input's share for every step at once
    h = h0  # (B, H)
    hs = []
    for x_t in xw.unbind(dim=1):  # (B, H) per step; unbind: one backward node, not T
        h = act(x_t + h @ W_hh.T)  # h_t = f(W_ih x_t + b_ih + W_hh h_(t−1) + b_hh)
        hs.append(h)
    return torch.stack(hs, dim=1)  # (B, T, H)


class RNN(nn.Module):
    """A stack of Elman layers: (batch, T, input_size) → output (batch, T, hidden_size) (the last layer's
    h_1 … h_T) and h_n (num_layers, batch, hidden_size) (every layer's h_T). ``batch_first=False`` takes and
    gives (T, batch, ·) as ``nn.RNN`` does. Inputs must be batched (3-D)."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        nonlinearity: str = "tanh",
        batch_first: bool = True,
    ) -> None:
        super().__init__()
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.nonlinearity, self.batch_first = nonlinearity, batch_first
        H = hidden_size
        for layer in range(num_layers):
            fan_in = input_size if layer == 0 else H
            self.register_parameter(f"weight_ih_l{layer}", nn.Parameter(torch.empty(H, fan_in)))
            self.register_parameter(f"weight_hh_l{layer}", nn.Parameter(torch.empty(H, H)))
            self.register_parameter(f"bias_ih_l{layer}", nn.Parameter(torch.empty(H)))
            self.register_parameter(f"bias_hh_l{layer}", nn.Parameter(torch.empty(H)))
        bound = 1 / math.sqrt(H)  # nn.RNN's initialisation: every parameter uniform in ±1/√H
        for p in self.parameters():
            nn.init.uniform_(p, -bound, bound)

    def forward(self, x: torch.Tensor, h0: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        if x.dim() != 3:
            raise ValueError(f"RNN expects a batched 3-D input, got shape {tuple(x.shape)}")
        if not self.batch_first:
            x = x.transpose(0, 1)  # (T, B, I) → (B, T, I)
        B = x.shape[0]
        if h0 is None:
            h0 = x.new_zeros(self.num_layers, B, self.hidden_size)
        act = torch.tanh if self.nonlinearity == "tanh" else torch.relu
        h_n = []
        for layer in range(self.num_layers):
            W_ih, W_hh = getattr(self, f"weight_ih_l{layer}"), getattr(self, f"weight_hh_l{layer}")
            b = getattr(self, f"bias_ih_l{layer}") + getattr(self, f"bias_hh_l{layer}")
            x = elman_layer(x, h0[layer], W_ih, W_hh, b, act)  # (B, T, H): the next layer's inputs
            h_n.append(x[:, -1])  # h_T
        output = x if self.batch_first else x.transpose(0, 1)
        return output, torch.stack(h_n)  # (B, T, H) or (T, B, H); (num_layers, B, H)
