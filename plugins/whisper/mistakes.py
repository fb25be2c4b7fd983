"""The classic mistakes in Whisper's log-Mel front end, for ``readtrack practice``: its check must catch
them (tests/practice/test_practice.py)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from readtrack.api import mistake

from .model import stft_power


@mistake("stft_power", fails="framed-DFT power spectrum vs torch.stft")
def stft_power_symmetric(x: torch.Tensor, N: int, hop: int) -> torch.Tensor:
    """The symmetric Hann window ½(1 − cos(2πn/(N − 1))), the textbook one, instead of the periodic one
    the STFT (and Whisper) uses."""
    padded = F.pad(x[:, None], (N // 2, N // 2), mode="reflect")[:, 0]
    n = torch.arange(N, device=x.device)
    window = 0.5 - 0.5 * torch.cos(2 * math.pi * n.to(x.dtype) / (N - 1))
    frames = padded.unfold(-1, N, hop) * window
    f = torch.arange(N // 2 + 1, device=x.device)
    angle = (2 * math.pi / N) * (torch.outer(n, f) % N).to(x.dtype)
    real, imag = frames @ torch.cos(angle), -(frames @ torch.sin(angle))
    return (real.square() + imag.square()).transpose(1, 2)


@mistake("log_mel", fails="log-Mel (clamp at 1e-10, 8 below the max, (L + 4)/4) vs written out")
def log_mel(x: torch.Tensor, filters: torch.Tensor, N: int, hop: int) -> torch.Tensor:
    """The floor 8 below the whole batch's maximum, not each example's: a quiet recording in a batch with a
    loud one is flattened to the floor."""
    power = stft_power(x, N, hop)[..., :-1]
    L = torch.clamp(filters.to(x.dtype) @ power, min=1e-10).log10()
    L = torch.maximum(L, L.amax() - 8.0)
    return (L + 4.0) / 4.0


@mistake("log_mel", fails="log_mel casts the (float64) filters to x's dtype")
def log_mel_without_the_cast(x: torch.Tensor, filters: torch.Tensor, N: int, hop: int) -> torch.Tensor:
    """The filter bank used in whatever dtype it came: mel_filters gives float64, and a float64 bank times
    float32 power is a dtype error (the check above passes filters already in x's dtype)."""
    power = stft_power(x, N, hop)[..., :-1]
    L = torch.clamp(filters @ power, min=1e-10).log10()
    L = torch.maximum(L, L.amax(dim=(1, 2), keepdim=True) - 8.0)
    return (L + 4.0) / 4.0
