"""Pixel Recurrent Neural Networks (van den Oord, Kalchbrenner and Kavukcuoglu 2016, arXiv 1601.06759) for
binary images: the PixelCNN (masked convolutions, section 3.5) and the Row LSTM (section 3.1), both giving
the Bernoulli logit of every pixel from the pixels before it in raster order (eq. 1-2, one channel).

    p(x) = Π_i p(x_i | x_1, …, x_{i−1})                                        (eq. 1, raster order)
    mask A (first layer): kernel entries at and after the centre are 0; mask B (later layers): after it
    Row LSTM, row i of the map at once (eq. 3, k = 3):
        [o_i, f_i, i_i, g_i] = σ(K^ss ⊛ h_{i−1} + K^is ⊛ x_i)    σ: sigmoid for o, f, i; tanh for g
        c_i = f_i ⊙ c_{i−1} + i_i ⊙ g_i,    h_i = o_i ⊙ tanh(c_i)
    K^is: a masked 1 × k convolution along the row (the paper's "k × 1": columns ≤ j, mask B);
    K^ss: a 1 × 3 convolution of the previous row's state (columns j − 1, j, j + 1).

Binary pixels need one logit each, not the paper's 256-way softmax; with one channel, mask B only differs
from mask A at the centre (no R, G, B split).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


def causal_mask(k_h: int, k_w: int, kind: str, device: torch.device | None = None) -> torch.Tensor:
    """The (k_h, k_w) mask of section 3.4: 1 above the centre row and left of the centre in its row; the
    centre itself is 1 for mask B and 0 for mask A (the first layer must not see the pixel it predicts)."""
    mask = torch.zeros(k_h, k_w, device=device)
    cy, cx = k_h // 2, k_w // 2
    mask[:cy] = 1.0
    mask[cy, : cx + (kind == "B")] = 1.0
    return mask


class MaskedConv2d(nn.Conv2d):
    """A 'same' convolution whose kernel is multiplied by the causal mask on every forward (section 3.4)."""

    mask: torch.Tensor

    def __init__(self, c_in: int, c_out: int, kernel: tuple[int, int], kind: str) -> None:
        super().__init__(c_in, c_out, kernel, padding=(kernel[0] // 2, kernel[1] // 2))
        self.kind = kind
        self.register_buffer("mask", causal_mask(*kernel, kind), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.weight * self.mask, self.bias, padding=self.padding)


@dataclass
class PixelConfig:
    hidden: int = 16  # h, feature maps per layer
    layers: int = 4  # mask-B layers (PixelCNN) or Row LSTM layers after the 7 × 7 mask-A convolution
    k: int = 3  # the Row LSTM's input-to-state kernel width


class PixelCNN(nn.Module):
    """x (batch, 1, H, W) in {0, 1} → logits (batch, 1, H, W): a 7 × 7 mask-A convolution, ``layers``
    residual 3 × 3 mask-B convolutions with ReLU, then two 1 × 1 convolutions (section 3.5)."""

    def __init__(self, config: PixelConfig | None = None) -> None:
        super().__init__()
        c = config or PixelConfig()
        self.first = MaskedConv2d(1, c.hidden, (7, 7), "A")
        self.convs = nn.ModuleList(MaskedConv2d(c.hidden, c.hidden, (3, 3), "B") for _ in range(c.layers))
        self.head = nn.Sequential(
            nn.ReLU(), nn.Conv2d(c.hidden, c.hidden, 1), nn.ReLU(), nn.Conv2d(c.hidden, 1, 1)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.first(x)  # (batch, h, H, W)
        for conv in self.convs:
            h = h + conv(F.relu(h))  # residual connections (section 3.3)
        return self.head(h)  # (batch, 1, H, W)


class RowLSTM(nn.Module):
    """One Row LSTM layer (eq. 3): x (batch, c_in, H, W) → h (batch, hidden, H, W), one row per step.
    Gates are stacked in the paper's order o, f, i, g along the 4·hidden output channels."""

    def __init__(self, c_in: int, hidden: int, k: int = 3) -> None:
        super().__init__()
        self.hidden = hidden
        self.input_to_state = MaskedConv2d(c_in, 4 * hidden, (1, k), "B")  # K^is, columns j − k//2 … j
        self.state_to_state = nn.Conv2d(hidden, 4 * hidden, (1, 3), padding=(0, 1))  # K^ss, on h_{i−1}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, _, H, W = x.shape
        xs = self.input_to_state(x)  # (B, 4h, H, W): K^is ⊛ x for every row at once
        h = xs.new_zeros(B, self.hidden, 1, W)  # (B, h, 1, W): h_0 = c_0 = 0 above the image
        c = torch.zeros_like(h)
        rows = []
        for i in range(H):
            gates = self.state_to_state(h) + xs[:, :, i : i + 1]  # (B, 4h, 1, W)
            o, f, i_, g = gates.chunk(4, dim=1)  # each (B, h, 1, W)
            c = torch.sigmoid(f) * c + torch.sigmoid(i_) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
            rows.append(h)
        return torch.cat(rows, dim=2)  # (B, h, H, W)


class PixelRowLSTM(nn.Module):
    """x (batch, 1, H, W) → logits: a 7 × 7 mask-A convolution, ``layers`` residual Row LSTM layers, then two
    1 × 1 convolutions (the paper's layout, residual as in section 3.3, at toy width)."""

    def __init__(self, config: PixelConfig | None = None) -> None:
        super().__init__()
        c = config or PixelConfig()
        self.first = MaskedConv2d(1, c.hidden, (7, 7), "A")
        self.rows = nn.ModuleList(RowLSTM(c.hidden, c.hidden, c.k) for _ in range(c.layers))
        self.head = nn.Sequential(
            nn.ReLU(), nn.Conv2d(c.hidden, c.hidden, 1), nn.ReLU(), nn.Conv2d(c.hidden, 1, 1)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.first(x)  # (batch, h, H, W)
        for layer in self.rows:
            h = h + layer(h)
        return self.head(h)


def nll(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """−log p(x) in nats per image (eq. 1 with Bernoulli conditionals), (batch,)."""
    return F.binary_cross_entropy_with_logits(model(x), x, reduction="none").flatten(1).sum(1)


@torch.no_grad()
def sample(
    model: nn.Module, n: int, size: int, g: torch.Generator, device: str | torch.device
) -> torch.Tensor:
    """n images (n, 1, size, size) drawn pixel by pixel in raster order: H·W forward passes (eq. 1)."""
    x = torch.zeros(n, 1, size, size, device=device)
    for i in range(size):
        for j in range(size):
            p = torch.sigmoid(model(x)[:, 0, i, j])  # (n,)
            x[:, 0, i, j] = (torch.rand(n, generator=g).to(device) < p).float()
    return x
