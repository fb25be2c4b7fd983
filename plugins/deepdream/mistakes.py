"""Classic mistakes in DeepDream's jitter and octaves, for ``readtrack practice``: its check must catch them
(tests/practice/test_practice.py)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from readtrack.api import mistake


@mistake("jitter", fails="jitter (torch.roll) vs a naive loop, (1, 1, 1, 1)")
def jitter(x: torch.Tensor, dy: int, dx: int) -> torch.Tensor:
    """A shift that fills with zeros instead of wrapping around (np.roll): the image loses its edges at
    every step, and a shift larger than the image blanks it."""
    H, W = x.shape[-2:]
    dy, dx = max(-H, min(H, dy)), max(-W, min(W, dx))
    out = torch.zeros_like(x)
    rows_out, rows_in = slice(max(dy, 0), H + min(dy, 0)), slice(max(-dy, 0), H - max(dy, 0))
    cols_out, cols_in = slice(max(dx, 0), W + min(dx, 0)), slice(max(-dx, 0), W - max(dx, 0))
    out[..., rows_out, cols_out] = x[..., rows_in, cols_in]
    return out


@mistake("jitter", fails="jitter (torch.roll) vs a naive loop, (2, 1, 16, 16)")
def jitter_backwards(x: torch.Tensor, dy: int, dx: int) -> torch.Tensor:
    """Rolls the wrong way (out[i] = x[i + dy]): a 1×1 image hides it, the first real image shows it."""
    return torch.roll(x, shifts=(-dy, -dx), dims=(-2, -1))


@mistake("octave_resize", fails="octave resize vs the bilinear formula, 8×8 → 11×11")
def octave_resize(x: torch.Tensor, size: int) -> torch.Tensor:
    """align_corners=True: the corner pixels mapped onto each other, not the pixel centres aligned."""
    return F.interpolate(x, size=(size, size), mode="bilinear", align_corners=True)


@mistake("octave_resize", fails="octave resize returns x's dtype: float32 in")
def octave_resize_float64_weights(x: torch.Tensor, size: int) -> torch.Tensor:
    """The formula written out with float64 source coordinates (exact for any size): the weights 1 − f and
    f are float64, so a float32 image comes back float64, and every octave after it with it."""
    h, w = x.shape[-2:]

    def axis(n: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        s = ((torch.arange(size, dtype=torch.float64, device=x.device) + 0.5) * n / size - 0.5).clamp(min=0)
        low = s.floor().long()
        return low, (low + 1).clamp(max=n - 1), s - low

    top, bottom, fy = axis(h)
    left, right, fx = axis(w)
    rows = x[..., top, :] * (1 - fy)[:, None] + x[..., bottom, :] * fy[:, None]  # (B, C, size, w)
    return rows[..., left] * (1 - fx) + rows[..., right] * fx
