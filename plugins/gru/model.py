"""The gated recurrent unit (Cho et al. 2014, arXiv 1406.1078, section 2.3; compared with the LSTM by Chung
et al. 2014, arXiv 1412.3555), in PyTorch's form by default and in the paper's as an option.

A reset gate r lets the unit drop the previous state when it computes a candidate ñ; an update gate z
interpolates between the previous state and the candidate (z → 1 keeps the state: a leaky integrator
whose leak is learnt, per unit and per step):

    r_t = σ(W_ir x_t + b_ir + W_hr h_(t−1) + b_hr)                     reset gate     (Cho eq. 5)
    z_t = σ(W_iz x_t + b_iz + W_hz h_(t−1) + b_hz)                     update gate    (Cho eq. 6)
    n_t = tanh(W_in x_t + b_in + r_t ⊙ (W_hn h_(t−1) + b_hn))          PyTorch, cuDNN (reset_after=True)
    n_t = tanh(W_in x_t + b_in + W_hn (r_t ⊙ h_(t−1)) + b_hn)          Cho eq. 8      (reset_after=False)
    h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h_(t−1)                                             (Cho eq. 7)

The two candidates differ in where r applies: after the hidden matmul (PyTorch: W_hn h is computed once per
step together with the gates' matmul) or before it (the paper: U(r ⊙ h)). They are different functions of
the same parameters; ``reset_after=True`` (the default) equals ``nn.GRU``. Cho et al. write no biases;
both forms here keep PyTorch's two. Gates are stacked in PyTorch's order r, z, n: weight_ih_l0 is
(3H, input_size), weight_hh_l0 (3H, H); ``GRU`` names its parameters as ``nn.GRU`` does and loads its
state_dict.
"""

from __future__ import annotations

import math

import torch
from torch import nn


def gru_cell(
    x_t: torch.Tensor, h: torch.Tensor, W_hh: torch.Tensor, b_hh: torch.Tensor, reset_after: bool = True
) -> torch.Tensor:
    """One step of one layer: x_t (B, 3H) = W_ih x_t + b_ih for r | z | n, the previous state h (B, H),
    W_hh (3H, H) and b_hh (3H,) stacked r | z | n → h_t (B, H) (eq. 5-8)."""
    H = h.shape[-1]
    x_r, x_z, x_n = x_t.chunk(3, dim=-1)  # (B, H) each
    if reset_after:
        h_r, h_z, h_n = (h @ W_hh.T + b_hh).chunk(3, dim=-1)  # one matmul for all three
        r, z = torch.sigmoid(x_r + h_r), torch.sigmoid(x_z + h_z)  # eq. 5, 6
        n = torch.tanh(x_n + r * h_n)  # r ⊙ (W_hn h + b_hn)
    else:
        h_r, h_z = (h @ W_hh[: 2 * H].T + b_hh[: 2 * H]).chunk(2, dim=-1)
        r, z = torch.sigmoid(x_r + h_r), torch.sigmoid(x_z + h_z)  # eq. 5, 6
        n = torch.tanh(x_n + (r * h) @ W_hh[2 * H :].T + b_hh[2 * H :])  # W_hn (r ⊙ h), eq. 8
    return (1 - z) * n + z * h  # eq. 7


class GRU(nn.Module):
    """A stack of GRU layers: (batch, T, input_size) → output (batch, T, H) (the last layer's h_1 … h_T) and
    h_n (num_layers, batch, H). ``batch_first=False`` takes and gives (T, batch, ·) as ``nn.GRU`` does;
    ``reset_after=False`` computes the candidate as Cho et al. (eq. 8). Inputs must be batched (3-D)."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        batch_first: bool = True,
        reset_after: bool = True,
    ) -> None:
        super().__init__()
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.batch_first, self.reset_after = batch_first, reset_after
        H = hidden_size
        for layer in range(num_layers):
            fan_in = input_size if layer == 0 else H
            self.register_parameter(f"weight_ih_l{layer}", nn.Parameter(torch.empty(3 * H, fan_in)))
            self.register_parameter(f"weight_hh_l{layer}", nn.Parameter(torch.empty(3 * H, H)))
            self.register_parameter(f"bias_ih_l{layer}", nn.Parameter(torch.empty(3 * H)))
            self.register_parameter(f"bias_hh_l{layer}", nn.Parameter(torch.empty(3 * H)))
        bound = 1 / math.sqrt(H)  # nn.GRU's initialisation: every parameter uniform in ±1/√H
        for p in self.parameters():
            nn.init.uniform_(p, -bound, bound)

    def forward(self, x: torch.Tensor, h0: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        if x.dim() != 3:
            raise ValueError(f"GRU expects a batched 3-D input, got shape {tuple(x.shape)}")
        if not self.batch_first:
            x = x.transpose(0, 1)  # (T, B, I) → (B, T, I)
        B, H = x.shape[0], self.hidden_size
        if h0 is None:
            h0 = x.new_zeros(self.num_layers, B, H)
        h_n = []
        for layer in range(self.num_layers):
            W_ih, W_hh = getattr(self, f"weight_ih_l{layer}"), getattr(self, f"weight_hh_l{layer}")
            b_ih, b_hh = getattr(self, f"bias_ih_l{layer}"), getattr(self, f"bias_hh_l{layer}")
            xw = x @ W_ih.T + b_ih  # (B, T, 3H): W_ir x + b_ir | W_iz x + b_iz | W_in x + b_in, every step
            h = h0[layer]  # (B, H)
            hs = []
            for x_t in xw.unbind(dim=1):  # (B, 3H) per step; unbind: one backward node, not T
                h = gru_cell(x_t, h, W_hh, b_hh, self.reset_after)
                hs.append(h)
            x = torch.stack(hs, dim=1)  # (B, T, H): this layer's outputs, the next layer's inputs
            h_n.append(h)
        output = x if self.batch_first else x.transpose(0, 1)
        return output, torch.stack(h_n)  # (B, T, H) or (T, B, H); (num_layers, B, H)
