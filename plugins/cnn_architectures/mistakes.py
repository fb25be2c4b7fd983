"""Classic mistakes in the CNN case study's building blocks, for ``readtrack practice``: its check must
catch them (tests/practice/test_practice.py)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from readtrack.api import mistake


@mistake("conv2d_im2col", fails="convolution (im2col) vs F.conv2d in float64, B 2")
def conv2d_im2col(
    x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, stride: int = 1, padding: int = 0
) -> torch.Tensor:
    """The textbook convolution, the kernel flipped: CNN layers (and F.conv2d) cross-correlate. A 1×1 kernel
    hides it; the first 3×3 one shows it."""
    B, C, H, W = x.shape
    C_out, _, k, _ = weight.shape
    H_out, W_out = (H + 2 * padding - k) // stride + 1, (W + 2 * padding - k) // stride + 1
    cols = F.unfold(x, k, padding=padding, stride=stride)
    out = weight.flip(-2, -1).reshape(C_out, C * k * k) @ cols
    if bias is not None:
        out = out + bias[:, None]
    return out.reshape(B, C_out, H_out, W_out)


@mistake("local_response_norm", fails="local response normalisation (eq. 1) vs nn.LocalResponseNorm")
def local_response_norm(
    a: torch.Tensor, n: int = 5, k: float = 2.0, alpha: float = 1e-4, beta: float = 0.75
) -> torch.Tensor:
    """PyTorch's convention instead of the paper's: α divided by n (an average of the squares, not their
    sum), so the normalisation is n times weaker than eq. (1)."""
    squares = F.pad(a.square(), (0, 0, 0, 0, n // 2, (n - 1) // 2))
    window = squares.unfold(1, n, 1).sum(-1)
    return a / (k + alpha / n * window).pow(beta)


@mistake("conv2d_im2col", fails="convolution without a bias (bias=None)")
def conv2d_im2col_always_adding_the_bias(
    x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, stride: int = 1, padding: int = 0
) -> torch.Tensor:
    """Adds bias[:, None] whether or not there is a bias: a layer without one (bias=None, as a convolution
    followed by batch normalisation has) fails."""
    B, C, H, W = x.shape
    C_out, _, k, _ = weight.shape
    H_out, W_out = (H + 2 * padding - k) // stride + 1, (W + 2 * padding - k) // stride + 1
    cols = F.unfold(x, k, padding=padding, stride=stride)
    out = weight.reshape(C_out, C * k * k) @ cols + bias[:, None]  # type: ignore[index]
    return out.reshape(B, C_out, H_out, W_out)


@mistake("conv2d_im2col", fails="convolution returns x's dtype: float32 in")
def conv2d_im2col_in_float64(
    x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, stride: int = 1, padding: int = 0
) -> torch.Tensor:
    """Multiplies in float64 "for accuracy" and returns that: a float32 or bfloat16 layer hands float64
    activations (twice the memory, a dtype the next layer's weight does not have) to the rest of the net."""
    B, C, H, W = x.shape
    C_out, _, k, _ = weight.shape
    H_out, W_out = (H + 2 * padding - k) // stride + 1, (W + 2 * padding - k) // stride + 1
    cols = F.unfold(x.double(), k, padding=padding, stride=stride)
    out = weight.double().reshape(C_out, C * k * k) @ cols
    if bias is not None:
        out = out + bias.double()[:, None]
    return out.reshape(B, C_out, H_out, W_out)


@mistake("local_response_norm", fails="local response normalisation, n = 3, k = 1")
def local_response_norm_with_the_papers_constants(
    a: torch.Tensor, n: int = 5, k: float = 2.0, alpha: float = 1e-4, beta: float = 0.75
) -> torch.Tensor:
    """Writes the paper's k = 2 and β = 0.75 into the formula instead of using the arguments: right for
    AlexNet's defaults, wrong for any other setting."""
    squares = F.pad(a.square(), (0, 0, 0, 0, n // 2, (n - 1) // 2))
    window = squares.unfold(1, n, 1).sum(-1)
    return a / (2 + alpha * window) ** 0.75


@mistake("local_response_norm", fails="local response normalisation, n = 4")
def local_response_norm_symmetric_window(
    a: torch.Tensor, n: int = 5, k: float = 2.0, alpha: float = 1e-4, beta: float = 0.75
) -> torch.Tensor:
    """n // 2 channels on both sides of i: the same for the paper's odd n, but an even n sums n + 1
    channels instead of n."""
    half = n // 2
    squares = F.pad(a.square(), (0, 0, 0, 0, half, half))
    window = squares.unfold(1, 2 * half + 1, 1).sum(-1)
    return a / (k + alpha * window).pow(beta)
