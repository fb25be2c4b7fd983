"""DeepDream's activation maximisation ("Inceptionism", Mordvintsev, Olah and Tyka 2015), like nanoGPT.

Freeze a trained classifier and climb the gradient of a class score with respect to the *image*, as
Simonyan et al. (arXiv 1312.6034, eq. 1) visualise a class model, with the log-probability log p_c in place
of their unnormalised score S_c (the page says why):

    I* = argmax_I  log p_c(I) − λ ‖I‖²                  (Simonyan eq. 1 with log p_c for S_c; λ: the L2 prior)

The post's three tricks that make the images look natural instead of like high-frequency noise:

    jitter     each step sees the image rolled by a random (dy, dx): I_shift = roll(I, (dy, dx)); details
               that only work at one alignment cancel out (the post's "random shifts", the notebook's roll)
    octaves    optimise a small image first and upsample it: I_16 = resize(I_s, 16) with s growing by a
               factor ~1.4 (the post's "octaves"); coarse structure first, detail last
    prior      a penalty on the image (here the L2 term above) keeps its statistics near natural ones

The step is Adam on −(log p_c − λ‖I‖²) (PLUGINS.md: Adam, L2, jitter) for every class at once, one image each.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


def jitter(x: torch.Tensor, dy: int, dx: int) -> torch.Tensor:
    """Roll images x (B, C, H, W) by dy rows and dx columns, wrapping around (``np.roll`` in the notebook)."""
    return torch.roll(x, shifts=(dy, dx), dims=(-2, -1))


def octave_resize(x: torch.Tensor, size: int) -> torch.Tensor:
    """Bilinear resize of x (B, C, h, w) to (B, C, size, size), pixel centres aligned (align_corners off)."""
    return F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)


@dataclass
class DreamConfig:
    steps: int = 200
    lr: float = 0.05
    l2: float = 1e-2  # λ
    max_jitter: int = 2  # |dy|, |dx| ≤ max_jitter
    octaves: tuple[int, ...] = (8, 11, 16)  # image sides, ×1.4 each; the last is the network's input size


def objective(net: nn.Module, image: torch.Tensor, c: torch.Tensor, l2: float) -> torch.Tensor:
    """Σ_b log p_{c_b}(image_b) − λ ‖image_b‖²: what gradient ascent climbs (one image per class)."""
    scores = F.log_softmax(net(image), dim=-1).gather(1, c[:, None]).squeeze(1)  # (B,): log p_c
    return (scores - l2 * image.square().sum(dim=(1, 2, 3))).sum()


def dream(
    net: nn.Module,
    c: torch.Tensor,
    config: DreamConfig,
    g: torch.Generator,
    size: int = 16,
    start: torch.Tensor | None = None,
) -> torch.Tensor:
    """One dreamed image per class index in c (B,), (B, 1, size, size), from ``start`` (1 or B, 1, size,
    size; None: the zero image) plus small noise. Simonyan et al. start from the zero image of mean-subtracted
    data, i.e. the mean image, the post's notebook from grey plus noise. ``config.octaves`` = (size,) and
    ``max_jitter`` = 0 and ``l2`` = 0 give plain gradient ascent. ``g`` draws the noise and the shifts (a
    CPU generator, so every device dreams the same)."""
    for p in net.parameters():
        p.requires_grad_(False)  # the network is frozen: only the image moves
    weight = next(net.parameters())
    octaves = config.octaves
    x = (0.01 * torch.randn(len(c), 1, octaves[0], octaves[0], generator=g)).to(weight.device, weight.dtype)
    if start is not None:
        x = x + octave_resize(start.to(weight.device, weight.dtype), octaves[0])  # (B, 1, side, side)
    per_octave = [config.steps // len(octaves)] * len(octaves)
    per_octave[-1] += config.steps - sum(per_octave)
    for side, steps in zip(octaves, per_octave, strict=True):
        x = octave_resize(x, side).detach().requires_grad_()  # (B, 1, side, side): upsample, then refine
        opt = torch.optim.Adam([x], lr=config.lr)
        for _ in range(steps):
            dy, dx = (
                int(v) for v in torch.randint(-config.max_jitter, config.max_jitter + 1, (2,), generator=g)
            )
            image = jitter(octave_resize(x, size) if side != size else x, dy, dx)  # (B, 1, size, size)
            loss = -objective(net, image, c, config.l2)
            opt.zero_grad()
            loss.backward()
            opt.step()
    return x.detach()
