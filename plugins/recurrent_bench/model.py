"""The bench's members, each read out at its last step on the adding problem (``LastStep``, the recurrent
kit's model): torch's ``nn.RNN`` (Elman's tanh unit), ``nn.LSTM`` (with the forget gate, its bias at 1) and
``nn.GRU`` (the layers the rnn, lstm and gru plugins check their own against), and the mamba plugin's
``MambaBlock``, time-invariant (S4: Δ, B, C learned constants, computed by its convolution) or selective
(Mamba: Δ, B, C functions of the input, computed by the scan).

``network(member, width, seed, gated=True)``: the member's model, its initial weights fixed by ``seed``.
``matched_width(member, hidden)``: the width whose parameter count is nearest the LSTM's of ``hidden`` units.
``parameters(model)``: its parameter count.
"""

from __future__ import annotations

from functools import cache

import torch
from readtrack_plugins.mamba.model import MambaBlock
from torch import nn

from readtrack.plugin_kit.recurrent import LastStep, set_forget_bias

INPUTS = 2  # the adding problem's channels: the value, and the mark
RNN, LSTM, GRU, S4, MAMBA = "rnn", "lstm", "gru", "mamba:s4", "mamba"
#: The members in their papers' order.
MEMBERS = (RNN, LSTM, GRU, S4, MAMBA)
NAMES = {RNN: "RNN (Elman)", LSTM: "LSTM", GRU: "GRU", S4: "S4 (time-invariant SSM)", MAMBA: "Mamba"}
FORGET_BIAS = 1.0  # the LSTM's forget-gate bias, as Gers et al. (2000) and the lstm plugin start it


class StateSpace(nn.Module):
    """A state space layer as the mamba plugin's language model stacks it, with a linear embedding of the two
    input channels for its token embedding: x ← W x_t; x ← x + MambaBlock(LayerNorm(x)); LayerNorm(x).
    Called as torch's recurrent layers are: returns (output (batch, T, width), None)."""

    def __init__(self, width: int, selective: bool) -> None:
        super().__init__()
        self.embed = nn.Linear(INPUTS, width)
        self.norm, self.block, self.out = (
            nn.LayerNorm(width),
            MambaBlock(width, selective=selective),
            nn.LayerNorm(width),
        )

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, None]:
        h = self.embed(x)
        return self.out(h + self.block(self.norm(h))), None


def layer(member: str, width: int, gated: bool = True) -> nn.Module:
    """The member's recurrent layer of ``width`` units (channels for a state space); ``gated=False`` puts a
    plain tanh RNN in the LSTM's and the GRU's places (the ablation)."""
    if member == RNN or (member in (LSTM, GRU) and not gated):
        return nn.RNN(INPUTS, width, batch_first=True)
    if member == LSTM:
        return set_forget_bias(nn.LSTM(INPUTS, width, batch_first=True), FORGET_BIAS)
    if member == GRU:
        return nn.GRU(INPUTS, width, batch_first=True)
    return StateSpace(width, selective=member == MAMBA)


def network(member: str, width: int, seed: int, gated: bool = True) -> LastStep:
    """The member's model: its layer read out at the last step, ŷ = w·h_T + b, initialised from ``seed``."""
    torch.manual_seed(seed)
    return LastStep(layer(member, width, gated), width)


def parameters(model: nn.Module) -> int:
    """The number of trained parameters."""
    return sum(p.numel() for p in model.parameters())


@cache
def matched_width(member: str, hidden: int) -> int:
    """The width (1 … 4·``hidden``) whose model has the parameter count nearest the LSTM's with ``hidden``
    units (the smaller width on a tie): every member gets about the same budget of weights."""
    if member == LSTM:
        return hidden
    budget = parameters(LastStep(layer(LSTM, hidden), hidden))
    counts = {w: parameters(LastStep(layer(member, w), w)) for w in range(1, 4 * hidden + 1)}
    return min(counts, key=lambda w: (abs(counts[w] - budget), w))
