"""The CNN case study's networks at toy scale (16×16×1 images, a few classes), shared by the plugins that
train them side by side (cnn-architectures, and the family bench cnn-bench): AlexNet (Krizhevsky et al. 2012)
and ZF Net (Zeiler and Fergus, arXiv 1311.2901) as one network with a different first layer, VGG (Simonyan
and Zisserman, arXiv 1409.1556) and GoogLeNet (Szegedy et al., arXiv 1409.4842) with its inception module.
LeNet-5 is :class:`readtrack.plugin_kit.vision.ShapesLeNet`.

At 16×16 the strides shrink with the image: AlexNet's 11×11/4 becomes 5×5/2 and ZF's 7×7/2 becomes 3×3/1.
AlexNet's local response normalisation is a layer given by the caller (``lrn``): cnn-architectures writes
its own from the paper's equation and checks it; torch's ``nn.LocalResponseNorm`` with the paper's constants
(its α is the paper's α·n) is the default.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["VGG", "AlexNet", "GoogLeNet", "Inception", "paper_lrn", "vgg_block", "zf_net"]


def paper_lrn() -> nn.Module:
    """AlexNet's LRN with the paper's n = 5, k = 2, α = 1e-4, β = 0.75 (torch divides α by n: α·n here)."""
    return nn.LocalResponseNorm(5, alpha=1e-4 * 5, beta=0.75, k=2.0)


class AlexNet(nn.Module):
    """Five convolutions and three fully connected layers (AlexNet fig. 2, one GPU's half, scaled down):

    conv1 5×5/2 (16) → act → LRN → overlapping maxpool 3/2   (B, 16, 4, 4)
    conv2 3×3 (32) → act → LRN                               (B, 32, 4, 4)
    conv3, conv4 3×3 (48) → act; conv5 3×3 (32) → act → maxpool 3/2   (B, 32, 2, 2)
    dropout → fc 128 → act → dropout → fc 128 → act → fc classes

    ``first=(kernel, stride)`` of conv1; ZF Net is this network with a smaller, denser first layer. ``lrn``
    makes each LRN layer."""

    def __init__(
        self,
        classes: int = 4,
        *,
        activation: str = "relu",
        dropout: float = 0.5,
        first: tuple[int, int] = (5, 2),
        widths: tuple[int, int, int, int, int] = (16, 32, 48, 48, 32),
        lrn: Callable[[], nn.Module] = paper_lrn,
    ) -> None:
        super().__init__()
        act = {"relu": nn.ReLU, "tanh": nn.Tanh}[activation]
        k, s = first
        c1, c2, c3, c4, c5 = widths
        self.features = nn.Sequential(
            nn.Conv2d(1, c1, k, stride=s, padding=k // 2), act(), lrn(),  # (B, c1, 16/s, 16/s)
            nn.MaxPool2d(3, 2, padding=1),  # overlapping pooling, section 3.4: (B, c1, 16/2s, 16/2s)
            nn.Conv2d(c1, c2, 3, stride=2 if s == 1 else 1, padding=1), act(), lrn(),  # (B, c2, 4, 4)
            nn.Conv2d(c2, c3, 3, padding=1), act(),
            nn.Conv2d(c3, c4, 3, padding=1), act(),
            nn.Conv2d(c4, c5, 3, padding=1), act(),
            nn.MaxPool2d(3, 2, padding=1),  # (B, c5, 2, 2)
        )  # fmt: skip
        self.classifier = nn.Sequential(
            nn.Flatten(),  # (B, c5·2·2)
            nn.Dropout(dropout), nn.Linear(c5 * 4, 128), act(),
            nn.Dropout(dropout), nn.Linear(128, 128), act(),
            nn.Linear(128, classes),
        )  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


def zf_net(classes: int = 4, **kwargs: object) -> AlexNet:
    """ZF Net (section 4.2): AlexNet's first layer 11×11/4 → 7×7/2, here 5×5/2 → 3×3/1 (its second layer
    takes over the stride), and wider middle layers (384, 384, 256 → 512, 1024, 512; here 48, 48, 32 →
    64, 96, 64)."""
    return AlexNet(classes, first=(3, 1), widths=(16, 32, 64, 96, 64), **kwargs)  # type: ignore[arg-type]


def vgg_block(c_in: int, c_out: int, convs: int) -> nn.Sequential:
    """``convs`` 3×3 convolutions (padding 1, each followed by ReLU), then a 2×2 max pool (VGG table 1)."""
    layers: list[nn.Module] = []
    for i in range(convs):
        layers += [nn.Conv2d(c_in if i == 0 else c_out, c_out, 3, padding=1), nn.ReLU()]
    return nn.Sequential(*layers, nn.MaxPool2d(2))


class VGG(nn.Module):
    """Three blocks of two 3×3 convolutions (16, 32, 64 channels), 16 → 8 → 4 → 2, then fc 128 → classes."""

    def __init__(self, classes: int = 4, widths: tuple[int, ...] = (16, 32, 64)) -> None:
        super().__init__()
        blocks, c_in = [], 1
        for c in widths:
            blocks.append(vgg_block(c_in, c, 2))
            c_in = c
        self.features = nn.Sequential(*blocks)  # (B, 64, 2, 2)
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(c_in * 4, 128), nn.ReLU(), nn.Dropout(0.5), nn.Linear(128, classes)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


class Inception(nn.Module):
    """GoogLeNet's inception module (fig. 2b; with ``reduce=False`` the naive module of fig. 2a):

    branch 1: 1×1 conv (c1)
    branch 2: 1×1 conv (r3) → ReLU → 3×3 conv (c3)        naive: 3×3 conv straight from c_in
    branch 3: 1×1 conv (r5) → ReLU → 5×5 conv (c5)        naive: 5×5 conv straight from c_in
    branch 4: 3×3 max pool (stride 1) → 1×1 conv (cp)     naive: the pooled c_in channels themselves
    out = ReLU(concat over channels): (B, c1 + c3 + c5 + cp, H, W), naive (B, c1 + c3 + c5 + c_in, H, W)."""

    def __init__(
        self, c_in: int, c1: int, r3: int, c3: int, r5: int, c5: int, cp: int, *, reduce: bool = True
    ) -> None:
        super().__init__()
        self.reduce = reduce
        self.b1 = nn.Conv2d(c_in, c1, 1)
        if reduce:
            self.b2 = nn.Sequential(nn.Conv2d(c_in, r3, 1), nn.ReLU(), nn.Conv2d(r3, c3, 3, padding=1))
            self.b3 = nn.Sequential(nn.Conv2d(c_in, r5, 1), nn.ReLU(), nn.Conv2d(r5, c5, 5, padding=2))
            self.b4 = nn.Sequential(nn.MaxPool2d(3, 1, padding=1), nn.Conv2d(c_in, cp, 1))
        else:
            self.b2 = nn.Sequential(nn.Conv2d(c_in, c3, 3, padding=1))
            self.b3 = nn.Sequential(nn.Conv2d(c_in, c5, 5, padding=2))
            self.b4 = nn.Sequential(nn.MaxPool2d(3, 1, padding=1))
        self.out_channels = c1 + c3 + c5 + (cp if reduce else c_in)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branches = [self.b1(x), self.b2(x), self.b3(x), self.b4(x)]  # each (B, c_i, H, W)
        return F.relu(torch.cat(branches, dim=1))  # (B, out_channels, H, W)


class GoogLeNet(nn.Module):
    """stem 3×3 conv (16) → maxpool 2   (B, 16, 8, 8)
    inception (16 → 8 + 12 + 4 + 4 = 28) → inception (28 → 12 + 16 + 6 + 6 = 40) → maxpool 2   (B, 40, 4, 4)
    global average pool (B, 40) → fc classes (section 5: average pooling, not fully connected layers)."""

    def __init__(self, classes: int = 4, *, reduce: bool = True) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
        self.inc1 = Inception(16, 8, 8, 12, 4, 4, 4, reduce=reduce)
        self.inc2 = Inception(self.inc1.out_channels, 12, 12, 16, 4, 6, 6, reduce=reduce)
        self.fc = nn.Linear(self.inc2.out_channels, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.inc2(self.inc1(self.stem(x)))  # (B, 40, 8, 8)
        h = F.max_pool2d(h, 2).mean(dim=(2, 3))  # (B, 40): global average pooling
        return self.fc(h)
