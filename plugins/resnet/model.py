"""Deep residual learning (He, Zhang, Ren and Sun 2015, arXiv 1512.03385): the building block and the
small networks the plugin trains, plain and residual alike.

A block learns a residual F(x, {W_i}) and adds it to its input through a shortcut (eq. 1):

    y = F(x, {W_i}) + x                          F = W_2 σ(W_1 x) (BN after each weight layer)    (eq. 1)
    y = F(x, {W_i}) + W_s x                      when dimensions change (eq. 2)

with the ReLU σ applied after the addition (fig. 2). The paper's basic block (fig. 5 left) is
conv3×3 → BN → ReLU → conv3×3 → BN, + shortcut, → ReLU. The "plain" network is the same stack without the
shortcut (section 4.1). Shortcuts across a change of width (section 3.3, table 3):

    A  identity, the extra channels zero-padded, subsampled by the stride (no parameters)
    B  a projection W_s (1×1 conv with stride, then BN) where dimensions change, identity elsewhere
    C  projections on every shortcut
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

Shortcut = Literal["A", "B", "C"]


def conv3x3(c_in: int, c_out: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False)  # BN supplies the bias


class PadShortcut(nn.Module):
    """Option A: x subsampled by ``stride`` and zero-padded from c_in to c_out channels; no parameters."""

    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.extra, self.stride = c_out - c_in, stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x[:, :, :: self.stride, :: self.stride]  # (B, c_in, ⌈H/s⌉, ⌈W/s⌉)
        return F.pad(x, (0, 0, 0, 0, 0, self.extra))  # (B, c_out, ⌈H/s⌉, ⌈W/s⌉)


class BasicBlock(nn.Module):
    """Fig. 5 (left): y = σ(BN(W_2 σ(BN(W_1 x))) + shortcut(x)); with ``residual=False`` the plain block
    σ(BN(W_2 σ(BN(W_1 x)))) of the same weights."""

    def __init__(
        self, c_in: int, c_out: int, stride: int = 1, residual: bool = True, shortcut: Shortcut = "B"
    ) -> None:
        super().__init__()
        self.residual = residual
        self.conv1, self.bn1 = conv3x3(c_in, c_out, stride), nn.BatchNorm2d(c_out)
        self.conv2, self.bn2 = conv3x3(c_out, c_out), nn.BatchNorm2d(c_out)
        changes = stride != 1 or c_in != c_out
        self.shortcut: nn.Module = nn.Identity()
        if residual and (shortcut == "C" or (shortcut == "B" and changes)):
            self.shortcut = nn.Sequential(  # W_s of eq. 2
                nn.Conv2d(c_in, c_out, 1, stride=stride, bias=False), nn.BatchNorm2d(c_out)
            )
        elif residual and changes:
            self.shortcut = PadShortcut(c_in, c_out, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, c_in, H, W)
        out = F.relu(self.bn1(self.conv1(x)))  # (B, c_out, H/s, W/s)
        out = self.bn2(self.conv2(out))  # F(x): (B, c_out, H/s, W/s)
        if self.residual:
            out = out + self.shortcut(x)  # eq. 1 / eq. 2
        return F.relu(out)  # σ after the addition (fig. 2)


@dataclass
class ResNetConfig:
    n: int = 1  # blocks per stage: depth 6n + 2 (section 4.2)
    width: int = 8  # channels of the first stage; doubled at each of the two later ones
    classes: int = 4
    residual: bool = True
    shortcut: Shortcut = "B"


class ResNet(nn.Module):
    """The CIFAR-style network of section 4.2 at toy width: a 3×3 stem, three stages of n blocks with widths
    {w, 2w, 4w} (the last two start with stride 2), global average pooling and a linear read-out."""

    def __init__(self, cfg: ResNetConfig) -> None:
        super().__init__()
        w = cfg.width
        self.stem = nn.Sequential(conv3x3(1, w), nn.BatchNorm2d(w), nn.ReLU())
        blocks: list[nn.Module] = []
        for stage, c_out in enumerate((w, 2 * w, 4 * w)):
            for i in range(cfg.n):
                c_in = c_out if i else (w if stage == 0 else c_out // 2)
                stride = 2 if stage and not i else 1
                blocks.append(BasicBlock(c_in, c_out, stride, cfg.residual, cfg.shortcut))
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(4 * w, cfg.classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")  # as the paper's [13]

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, 1, H, W)
        h = self.blocks(self.stem(x))  # (B, 4w, H/4, W/4)
        return self.fc(h.mean(dim=(2, 3)))  # (B, classes)


class MLPBlock(nn.Module):
    """The block with fully connected layers (eq. 1 with matrices W_1, W_2): σ(BN(W_2 σ(BN(W_1 x))) + x)."""

    def __init__(self, width: int, residual: bool = True) -> None:
        super().__init__()
        self.residual = residual
        self.fc1, self.bn1 = nn.Linear(width, width, bias=False), nn.BatchNorm1d(width)
        self.fc2, self.bn2 = nn.Linear(width, width, bias=False), nn.BatchNorm1d(width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, width)
        out = self.bn2(self.fc2(F.relu(self.bn1(self.fc1(x)))))  # F(x): (B, width)
        return F.relu(out + x if self.residual else out)


class DeepMLP(nn.Module):
    """``depth`` weight layers: one input layer, (depth − 2) / 2 blocks of two, one read-out; He-initialised.
    With ``residual=False`` it is the paper's plain network of the same depth."""

    def __init__(self, depth: int, d_in: int, width: int, classes: int, residual: bool) -> None:
        super().__init__()
        if depth < 2 or depth % 2:
            raise ValueError(
                f"depth must be even and ≥ 2 (input layer, blocks of two, read-out), got {depth}"
            )
        self.inp = nn.Sequential(nn.Linear(d_in, width, bias=False), nn.BatchNorm1d(width), nn.ReLU())
        self.blocks = nn.Sequential(*(MLPBlock(width, residual) for _ in range((depth - 2) // 2)))
        self.out = nn.Linear(width, classes)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.kaiming_normal_(m.weight, nonlinearity="relu")

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, d_in)
        return self.out(self.blocks(self.inp(x)))  # (B, classes)
