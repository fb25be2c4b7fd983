"""Classic mistakes in FCN's bilinear upsampling, for ``readtrack practice``: its check must catch each
(tests/practice/test_practice.py)."""

from __future__ import annotations

import torch

from readtrack.api import mistake


@mistake("bilinear_kernel", fails="transposed convolution vs the naive bilinear scatter")
def bilinear_kernel(
    factor: int, dtype: torch.dtype = torch.float32, device: str | torch.device = "cpu"
) -> torch.Tensor:
    """The centre of an odd kernel, c = f − 1, for the even kernel 2f: the filter is off by half an input
    pixel, so the upsampled map is shifted against the image."""
    k = torch.arange(2 * factor, dtype=dtype, device=device)
    w = 1 - (k - (factor - 1)).abs() / factor
    return w[:, None] * w[None, :]


@mistake("bilinear_kernel", fails="bilinear_kernel(2, dtype, device) returns the dtype and device asked for")
def bilinear_kernel_in_the_default_dtype(
    factor: int, dtype: torch.dtype = torch.float32, device: str | torch.device = "cpu"
) -> torch.Tensor:
    """Builds the taps with a bare torch.arange: the right numbers, but always float32 on the CPU, whatever
    dtype and device were asked for."""
    k = torch.arange(2 * factor)
    w = 1 - (k - (factor - 0.5)).abs() / factor
    return w[:, None] * w[None, :]
