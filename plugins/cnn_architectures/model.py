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
AlexNet, ZF Net, VGG and GoogLeNet live in ``readtrack.plugin_kit.cnns``, shared with the CNN family's bench
(``cnn-bench``); AlexNet and ZF Net get this module's LRN, the paper's equation written out below.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from readtrack.plugin_kit import cnns
from readtrack.plugin_kit.cnns import VGG, AlexNet, GoogLeNet, Inception, vgg_block
from readtrack.plugin_kit.vision import ShapesLeNet

__all__ = [
    "LRN", "VGG", "AlexNet", "GoogLeNet", "Inception", "LeNet5", "analytic_cost", "architectures",
    "conv2d_im2col", "local_response_norm", "vgg_block", "zf_net",
]  # fmt: skip

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


def alexnet(classes: int = 4, **kwargs: object) -> AlexNet:
    """AlexNet (``readtrack.plugin_kit.cnns``) with this plugin's LRN, the paper's equation written out."""
    return AlexNet(classes, lrn=LRN, **kwargs)  # type: ignore[arg-type]


def zf_net(classes: int = 4, **kwargs: object) -> AlexNet:
    """ZF Net (``readtrack.plugin_kit.cnns.zf_net``) with this plugin's LRN."""
    return cnns.zf_net(classes, lrn=LRN, **kwargs)


def architectures(classes: int = 4) -> dict[str, nn.Module]:
    """The five networks, in order, for 16×16×1 inputs."""
    return {
        "LeNet-5": LeNet5(classes),
        "AlexNet": alexnet(classes),
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
