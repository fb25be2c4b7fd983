"""A tiny fully convolutional network (Long, Shelhamer and Darrell, FCN) for per-pixel classes.

Every layer is a convolution, pooling or a transposed convolution, so the network takes an image of any size
(a multiple of its stride, 8) and returns a score map of the same size (section 3). In-network upsampling is
a transposed convolution ("backwards strided convolution", section 3.3) initialised to bilinear
interpolation; skips (section 4.2) add scores from finer, shallower layers to the upsampled coarse scores.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F


def bilinear_kernel(
    factor: int, dtype: torch.dtype = torch.float32, device: str | torch.device = "cpu"
) -> torch.Tensor:
    """The (2f, 2f) filter of bilinear upsampling by an even factor f (FCN's ``upsample_filt``):
    w[a, b] = (1 − |a − c| / f)(1 − |b − c| / f) with centre c = f − 1/2."""
    k = torch.arange(2 * factor, dtype=dtype, device=device)
    w = 1 - (k - (factor - 0.5)).abs() / factor  # (2f,), the 1-D triangle
    return w[:, None] * w[None, :]  # (2f, 2f), separable


class Upsample(nn.Module):
    """×f upsampling as a transposed convolution (kernel 2f, stride f, padding f/2: output = f × input),
    initialised to bilinear interpolation of each channel (the kernel on the diagonal, zero across channels).
    ``learn=False`` keeps it fixed, as FCN keeps its last upsampling fixed."""

    def __init__(self, channels: int, factor: int, learn: bool = True) -> None:
        super().__init__()
        assert factor % 2 == 0, "even factors only: the output then lines up with the input's pixels"
        self.factor = factor
        weight = torch.zeros(channels, channels, 2 * factor, 2 * factor)  # (C_in, C_out, 2f, 2f)
        weight[range(channels), range(channels)] = bilinear_kernel(factor)
        self.weight = nn.Parameter(weight, requires_grad=learn)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = self.factor
        return F.conv_transpose2d(x, self.weight, stride=f, padding=f // 2)  # (B, C, f·H, f·W)


def conv_block(c_in: int, c_out: int) -> nn.Sequential:
    """Two 3×3 convolutions with ReLU, then 2×2 max pooling: one VGG-style stage halving the resolution."""
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, padding=1), nn.ReLU(),
        nn.Conv2d(c_out, c_out, 3, padding=1), nn.ReLU(),
        nn.MaxPool2d(2),
    )  # fmt: skip


class FCN(nn.Module):
    """Three pooling stages (strides 2, 4, 8), a convolutionised "fully connected" layer, class scores at
    stride 8. The ReLU convolutions start from He's initialisation (normal, variance 2 / fan-in, zero
    biases) rather than PyTorch's default (a sixth of that variance): the paper starts from VGG's trained
    weights; from scratch, seven ReLU layers deep, He's scale lets the short quick run learn the shapes.
    Both variants draw the same backbone weights from the same seed (the skips' layers come after).
    ``skips=False`` is FCN-32s at this scale: the coarsest scores upsampled ×8 in one step.
    ``skips=True`` is FCN-8s at this scale: ×2, add the stride-4 scores, ×2, add the stride-2 scores, ×2."""

    def __init__(self, classes: int = 5, width: int = 16, skips: bool = True) -> None:
        super().__init__()
        self.skips = skips
        self.pool1 = conv_block(1, width)  # stride 2
        self.pool2 = conv_block(width, 2 * width)  # stride 4
        self.pool3 = conv_block(2 * width, 4 * width)  # stride 8
        self.fc = nn.Sequential(nn.Conv2d(4 * width, 4 * width, 3, padding=1), nn.ReLU())  # "fc6" as a conv
        self.score_fr = nn.Conv2d(4 * width, classes, 1)
        for layer in self.modules():  # He's initialisation for the ReLU convolutions
            if isinstance(layer, nn.Conv2d) and layer is not self.score_fr:
                nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
                nn.init.zeros_(layer.bias)  # type: ignore[arg-type]
        if skips:
            self.score_pool2 = nn.Conv2d(2 * width, classes, 1)
            self.score_pool1 = nn.Conv2d(width, classes, 1)
            for layer in (self.score_pool2, self.score_pool1):  # zero-initialised: training starts as FCN-32s
                nn.init.zeros_(layer.weight)
                nn.init.zeros_(layer.bias)  # type: ignore[arg-type]
            self.up2a, self.up2b = Upsample(classes, 2), Upsample(classes, 2)
            self.up_final = Upsample(classes, 2, learn=False)
        else:
            self.up_final = Upsample(classes, 8, learn=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (B, 1, H, W), H and W multiples of 8 → scores (B, classes, H, W)."""
        p1 = self.pool1(x)  # (B, w, H/2, W/2)
        p2 = self.pool2(p1)  # (B, 2w, H/4, W/4)
        p3 = self.pool3(p2)  # (B, 4w, H/8, W/8)
        s = self.score_fr(self.fc(p3))  # (B, classes, H/8, W/8)
        if self.skips:
            s = self.up2a(s) + self.score_pool2(p2)  # (B, classes, H/4, W/4)
            s = self.up2b(s) + self.score_pool1(p1)  # (B, classes, H/2, W/2)
        return self.up_final(s)  # (B, classes, H, W)


def confusion(pred: torch.Tensor, target: torch.Tensor, classes: int) -> torch.Tensor:
    """(classes, classes) counts n[i, j] of pixels of true class i predicted as j (section 5's n_ij)."""
    index = target.flatten() * classes + pred.flatten()
    return torch.bincount(index, minlength=classes * classes).view(classes, classes)


def mean_iou(pred: torch.Tensor, target: torch.Tensor, classes: int) -> float:
    """Mean IU (section 5): (1/n_cl) Σ_i n_ii / (t_i + Σ_j n_ji − n_ii), t_i = Σ_j n_ij, over the classes
    present in the prediction or the ground truth (a class in neither has no IU)."""
    n = confusion(pred, target, classes).double()
    t = n.sum(dim=1)  # pixels of class i
    union = t + n.sum(dim=0) - n.diag()
    present = union > 0
    return float((n.diag()[present] / union[present]).mean())
