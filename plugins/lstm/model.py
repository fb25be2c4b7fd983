"""Long Short-Term Memory (Hochreiter and Schmidhuber 1997), in PyTorch's ``nn.LSTM`` form.

The cell state c is a "constant error carousel": it is carried from step to step by an elementwise
product with a gate, never by a matrix multiply or a squashing function, so an error signal flows back
along it without vanishing. Multiplicative gates decide what enters it, what it keeps and what it shows:

    i_t = σ(W_ii x_t + b_ii + W_hi h_(t−1) + b_hi)        input gate        (1997: in_j, eq. 3 and 7)
    f_t = σ(W_if x_t + b_if + W_hf h_(t−1) + b_hf)        forget gate       (Gers et al. 2000; 1997: f = 1)
    g_t = tanh(W_ig x_t + b_ig + W_hg h_(t−1) + b_hg)     cell input        (1997: g(net_c))
    o_t = σ(W_io x_t + b_io + W_ho h_(t−1) + b_ho)        output gate       (1997: out_j)
    c_t = f_t ⊙ c_(t−1) + i_t ⊙ g_t                       the carousel      (1997: s_c = s_c + in·g, eq. 8)
    h_t = o_t ⊙ tanh(c_t)                                                  (1997: y_c = out·h(s_c), eq. 7)

The 1997 cell has no forget gate (f_t = 1: the state only accumulates); every LSTM in use, ``nn.LSTM``
included, has the forget gate of Gers, Schmidhuber and Cummins (2000), and so does this one. The four gates'
weights are stacked in PyTorch's order i, f, g, o: weight_ih_l0 is (4H, input_size), weight_hh_l0 (4H, H),
with two biases (4H) each; ``LSTM`` names its parameters as ``nn.LSTM`` does and loads its state_dict.
"""

from __future__ import annotations

import math

import torch
from torch import nn


def lstm_cell(
    x_t: torch.Tensor, h: torch.Tensor, c: torch.Tensor, W_hh: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """One step of one layer: x_t (B, 4H) = W_ih x_t + b_ih + b_hh for i | f | g | o, the previous h and c
    (B, H), W_hh (4H, H) → (h_t, c_t), each (B, H)."""
    i, f, g, o = (x_t + h @ W_hh.T).chunk(4, dim=-1)  # (B, H) each, PyTorch's order
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)  # c_t = f ⊙ c_(t−1) + i ⊙ g
    h = torch.sigmoid(o) * torch.tanh(c)  # h_t = o ⊙ tanh(c_t)
    return h, c


class LSTM(nn.Module):
    """A stack of LSTM layers: (batch, T, input_size) → output (batch, T, H) (the last layer's h_1 … h_T) and
    (h_n, c_n), each (num_layers, batch, H). ``batch_first=False`` takes and gives (T, batch, ·) as
    ``nn.LSTM`` does. Inputs must be batched (3-D); no projection or dropout."""

    def __init__(
        self, input_size: int, hidden_size: int, num_layers: int = 1, batch_first: bool = True
    ) -> None:
        super().__init__()
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.batch_first = batch_first
        H = hidden_size
        for layer in range(num_layers):
            fan_in = input_size if layer == 0 else H
            self.register_parameter(f"weight_ih_l{layer}", nn.Parameter(torch.empty(4 * H, fan_in)))
            self.register_parameter(f"weight_hh_l{layer}", nn.Parameter(torch.empty(4 * H, H)))
            self.register_parameter(f"bias_ih_l{layer}", nn.Parameter(torch.empty(4 * H)))
            self.register_parameter(f"bias_hh_l{layer}", nn.Parameter(torch.empty(4 * H)))
        bound = 1 / math.sqrt(H)  # nn.LSTM's initialisation: every parameter uniform in ±1/√H
        for p in self.parameters():
            nn.init.uniform_(p, -bound, bound)

    def forward(
        self, x: torch.Tensor, hc0: tuple[torch.Tensor, torch.Tensor] | None = None
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        if x.dim() != 3:
            raise ValueError(f"LSTM expects a batched 3-D input, got shape {tuple(x.shape)}")
        if not self.batch_first:
            x = x.transpose(0, 1)  # (T, B, I) → (B, T, I)
        B = x.shape[0]
        if hc0 is None:
            zeros = x.new_zeros(self.num_layers, B, self.hidden_size)
            hc0 = (zeros, zeros)
        h_n, c_n = [], []
        for layer in range(self.num_layers):
            W_ih, W_hh = getattr(self, f"weight_ih_l{layer}"), getattr(self, f"weight_hh_l{layer}")
            b = getattr(self, f"bias_ih_l{layer}") + getattr(self, f"bias_hh_l{layer}")
            xw = x @ W_ih.T + b  # (B, T, 4H): the input's share of all four gates, every step at once
            h, c = hc0[0][layer], hc0[1][layer]  # (B, H) each
            hs = []
            for x_t in xw.unbind(dim=1):  # (B, 4H) per step; unbind: one backward node, not T
                h, c = lstm_cell(x_t, h, c, W_hh)
                hs.append(h)
            x = torch.stack(hs, dim=1)  # (B, T, H): this layer's outputs, the next layer's inputs
            h_n.append(h)
            c_n.append(c)
        output = x if self.batch_first else x.transpose(0, 1)
        return output, (torch.stack(h_n), torch.stack(c_n))  # (B, T, H) or (T, B, H); (L, B, H) twice
