"""Five classic convolutional networks at toy scale (16×16×1 inputs, 4 classes), like nanoGPT.

The ideas each one added, in the order they came:

- LeNet-5 (LeCun et al. 1998): convolution → squashing → subsampling, twice, then fully connected layers
  (``readtrack.plugin_kit.vision.ShapesLeNet``, shared with the other CNN plugins);
- AlexNet (Krizhevsky et al. 2012): ReLU instead of tanh (section 3.1), local response normalisation
  (section 3.3, eq. 1 below), overlapping max pooling (3×3, stride 2; section 3.4), dropout in the fully
  connected layers (section 4.2), and a large stride-4 first layer;
- ZF Net (Zeiler and Fergus 2013, arXiv 1311.2901, section 4.2): AlexNet with a smaller first-layer filter
  and stride (7×7 stride 2 instead of 11×11 stride 4), which their visualisations showed removes aliasing
  and dead filters;
- VGG (Simonyan and Zisserman 2014, arXiv 1409.1556, section 2.3): only 3×3 convolutions, stacked; two have
  the receptive field of one 5×5 with 2·(3²C²) = 18C² weights instead of 25C², and a non-linearity between;
- GoogLeNet (Szegedy et al. 2014, arXiv 1409.4842, section 4): inception modules, parallel 1×1, 3×3, 5×5
  convolutions and a pooled branch, concatenated, with 1×1 convolutions reducing the channels before the
  expensive 3×3 and 5×5 ("dimension reduction", fig. 2b), and global average pooling instead of big fully
  connected layers.

At 16×16 the strides shrink with the image: AlexNet's 11×11/4 becomes 5×5/2 and ZF's 7×7/2 becomes 3×3/1.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from readtrack.plugin_kit.vision import ShapesLeNet

LeNet5 = ShapesLeNet  # conv5 (6) → pool → conv5 (16) → pool → 120 → 84 → classes


def local_response_norm(
    a: torch.Tensor, n: int = 5, k: float = 2.0, alpha: float = 1e-4, beta: float = 0.75
) -> torch.Tensor:
    """AlexNet eq. (1): b^i = a^i / (k + α Σ_{j = max(0, i − n/2)}^{min(N − 1, i + n/2)} (a^j)²)^β,
    the sum over n neighbouring channels at the same place. a (B, N, H, W) → b (B, N, H, W).
    (``nn.LocalResponseNorm`` divides α by n: the paper's α is torch's α / n.)"""
    squares = F.pad(a.square(), (0, 0, 0, 0, n // 2, (n - 1) // 2))  # (B, N + n − 1, H, W), zeros beyond
    window = squares.unfold(1, n, 1).sum(-1)  # (B, N, H, W): Σ over the n channels around i
    return a / (k + alpha * window).pow(beta)


def conv2d_im2col(
    x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, stride: int = 1, padding: int = 0
) -> torch.Tensor:
    """A convolution as one matrix product (im2col, as cuda-convnet and Caffe computed AlexNet's layers):
    x (B, C, H, W), weight (C', C, k, k) → (B, C', H', W'), H' = (H + 2p − k) // s + 1."""
    B, C, H, W = x.shape
    C_out, _, k, _ = weight.shape
    H_out, W_out = (H + 2 * padding - k) // stride + 1, (W + 2 * padding - k) // stride + 1
    cols = F.unfold(x, k, padding=padding, stride=stride)  # (B, C·k·k, H'·W'): one column per place
    out = weight.reshape(C_out, C * k * k) @ cols  # (B, C', H'·W')
    if bias is not None:
        out = out + bias[:, None]
    return out.reshape(B, C_out, H_out, W_out)  # (B, C', H', W')


class LRN(nn.Module):
    def __init__(self, n: int = 5, k: float = 2.0, alpha: float = 1e-4, beta: float = 0.75) -> None:
        super().__init__()
        self.n, self.k, self.alpha, self.beta = n, k, alpha, beta

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return local_response_norm(x, self.n, self.k, self.alpha, self.beta)


class AlexNet(nn.Module):
    """Five convolutions and three fully connected layers (AlexNet fig. 2, one GPU's half, scaled down):

    conv1 5×5/2 (16) → act → LRN → overlapping maxpool 3/2   (B, 16, 4, 4)
    conv2 3×3 (32) → act → LRN                               (B, 32, 4, 4)
    conv3, conv4 3×3 (48) → act; conv5 3×3 (32) → act → maxpool 3/2   (B, 32, 2, 2)
    dropout → fc 128 → act → dropout → fc 128 → act → fc classes

    ``first=(kernel, stride)`` of conv1; ZF Net is this network with a smaller, denser first layer."""

    def __init__(
        self,
        classes: int = 4,
        *,
        activation: str = "relu",
        dropout: float = 0.5,
        first: tuple[int, int] = (5, 2),
        widths: tuple[int, int, int, int, int] = (16, 32, 48, 48, 32),
    ) -> None:
        super().__init__()
        act = {"relu": nn.ReLU, "tanh": nn.Tanh}[activation]
        k, s = first
        c1, c2, c3, c4, c5 = widths
        self.features = nn.Sequential(
            nn.Conv2d(1, c1, k, stride=s, padding=k // 2), act(), LRN(),  # (B, c1, 16/s, 16/s)
            nn.MaxPool2d(3, 2, padding=1),  # overlapping pooling, section 3.4: (B, c1, 16/2s, 16/2s)
            nn.Conv2d(c1, c2, 3, stride=2 if s == 1 else 1, padding=1), act(), LRN(),  # (B, c2, 4, 4)
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


def architectures(classes: int = 4) -> dict[str, nn.Module]:
    """The five networks, in order, for 16×16×1 inputs."""
    return {
        "LeNet-5": LeNet5(classes),
        "AlexNet": AlexNet(classes),
        "ZF Net": zf_net(classes),
        "VGG": VGG(classes),
        "GoogLeNet": GoogLeNet(classes),
    }


def analytic_cost(model: nn.Module, x: torch.Tensor) -> tuple[int, int]:
    """(parameters, forward FLOPs) counted layer by layer from the shapes: a convolution costs
    2 · C_out·H'·W' · (C_in/groups)·k_h·k_w per image (a multiply and an add per weight per output place),
    a linear layer 2 · in · out; biases, activations, pooling and normalisation are not counted (as
    ``torch.utils.flop_counter`` does not). Parameters: C_out·(C_in·k·k + 1) and out·(in + 1)."""
    flops, params = [0], 0
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            params += m.out_channels * (m.in_channels // m.groups * m.kernel_size[0] * m.kernel_size[1] + 1)
        elif isinstance(m, nn.Linear):
            params += m.out_features * (m.in_features + 1)

    def count(m: nn.Module, inputs: tuple[torch.Tensor, ...], out: torch.Tensor) -> None:
        if isinstance(m, nn.Conv2d):
            k_h, k_w = m.kernel_size
            flops[0] += 2 * out.numel() * (m.in_channels // m.groups) * k_h * k_w
        elif isinstance(m, nn.Linear):
            flops[0] += 2 * out.numel() * m.in_features

    hooks = [m.register_forward_hook(count) for m in model.modules() if isinstance(m, nn.Conv2d | nn.Linear)]
    with torch.no_grad():
        model(x)
    for h in hooks:
        h.remove()
    return params, flops[0]
