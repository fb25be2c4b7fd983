"""Looking inside a trained CNN, like nanoGPT: the deconvnet (Zeiler and Fergus 2013, arXiv 1311.2901),
gradient saliency (Simonyan, Vedaldi and Zisserman 2013, arXiv 1312.6034) and occlusion sensitivity
(Zeiler and Fergus section 4.2), for the shared LeNet-5 (``readtrack.plugin_kit.vision.ShapesLeNet``):

    conv1 → ReLU → maxpool → conv2 → ReLU → maxpool → fc1 → ReLU → fc2 → ReLU → fc3 → class scores S_c

All three maps project one class score S_c back to the input, layer by layer, each layer in reverse:

    linear / conv      r ← Wᵀ r   (a convolution's transpose: the same filters, flipped; ZF: "transposed")
    max pool           r ← unpool(r) through the switches (the argmax places recorded going up)   (ZF 2.1)
    ReLU (forward f = max(z, 0)) — the one place the three rules differ:
        gradient       r ← r · [z > 0]              (Simonyan eq. 3: saliency w = ∂S_c/∂x, M = |w|)
        deconvnet      r ← max(r, 0)                (ZF 2.1 "rectification": the signal itself rectified)
        guided         r ← max(r, 0) · [z > 0]      (both; Springenberg et al. 2014, for comparison)

Occlusion: p_c(x) − p_c(x with a k×k grey square centred at (i, j)), for every (i, j) (ZF fig. 7).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from readtrack.plugin_kit.vision import ShapesLeNet

RULES = ("gradient", "deconvnet", "guided")


def _through_relu(r: torch.Tensor, z: torch.Tensor, rule: str) -> torch.Tensor:
    """The backward step through a ReLU whose input was z, by ``rule``."""
    if rule == "gradient":
        return r * (z > 0)
    if rule == "deconvnet":
        return F.relu(r)
    if rule == "guided":
        return F.relu(r) * (z > 0)
    raise ValueError(f"unknown rule {rule!r}; one of {RULES}")


def unpool(r: torch.Tensor, switches: torch.Tensor) -> torch.Tensor:
    """2×2 max unpooling (ZF 2.1): each value of r (B, C, h, w) goes back to the place its maximum came from,
    ``switches`` (B, C, h, w) holding flat indices into the (B, C, 2h, 2w) map; zeros elsewhere."""
    h, w = r.shape[-2:]
    up = lambda t: t.repeat_interleave(2, dim=-2).repeat_interleave(2, dim=-1)  # noqa: E731  (B, C, 2h, 2w)
    places = torch.arange(4 * h * w, device=r.device).view(2 * h, 2 * w)  # flat index of every place
    return up(r) * (up(switches) == places)  # (B, C, 2h, 2w)


def project(net: ShapesLeNet, x: torch.Tensor, c: torch.Tensor, rule: str = "deconvnet") -> torch.Tensor:
    """Project class score S_c (c (B,) class indices) of the ReLU LeNet back onto the input x (B, 1, H, W)
    with ``rule``, written out layer by layer (no autograd). Returns (B, 1, H, W)."""
    # going up: keep every pre-activation z and every pooling switch
    z1 = net.conv1(x)  # (B, c1, H, W)
    h1, s1 = F.max_pool2d(F.relu(z1), 2, return_indices=True)  # (B, c1, H/2, W/2), switches
    z2 = net.conv2(h1)  # (B, c2, H/2 − 4, …)
    h2, s2 = F.max_pool2d(F.relu(z2), 2, return_indices=True)  # (B, c2, s, s)
    z3 = net.fc1(h2.flatten(1))  # (B, 120)
    z4 = net.fc2(F.relu(z3))  # (B, 84)
    # going down, from the one-hot score of class c
    r = F.one_hot(c, net.fc3.out_features).to(x.dtype)  # (B, classes)
    r = _through_relu(r @ net.fc3.weight, z4, rule)  # (B, 84)
    r = _through_relu(r @ net.fc2.weight, z3, rule)  # (B, 120)
    r = (r @ net.fc1.weight).view_as(h2)  # (B, c2·s·s) → (B, c2, s, s)
    r = unpool(r, s2)  # (B, c2, H/2 − 4, …): back to the switches
    r = F.conv_transpose2d(_through_relu(r, z2, rule), net.conv2.weight)  # (B, c1, H/2, W/2)
    r = unpool(r, s1)  # (B, c1, H, W)
    return F.conv_transpose2d(_through_relu(r, z1, rule), net.conv1.weight, padding=2)  # (B, 1, H, W)


def saliency(net: ShapesLeNet, x: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    """Simonyan eq. 3: M = |∂S_c/∂x|, (B, 1, H, W) (one channel, so no max over colours)."""
    return project(net, x, c, "gradient").abs()


def occlusion(
    net: ShapesLeNet, x: torch.Tensor, c: torch.Tensor, k: int = 3, fill: float = 0.0, chunk: int = 4096
) -> torch.Tensor:
    """ZF section 4.2: for every pixel (i, j), the drop in p_c when the k×k square centred there (clipped at
    the border) is set to ``fill``; all occluded copies of an image in one batch. Returns (B, H, W)."""
    B, _, H, W = x.shape
    p = F.softmax(net(x), dim=-1).gather(1, c[:, None])  # (B, 1)
    # square[i·W + j] is the k×k square centred at (i, j): a box filter of the one-hot centre
    centres = torch.eye(H * W, dtype=x.dtype, device=x.device).view(H * W, 1, H, W)
    square = F.max_pool2d(centres, k, stride=1, padding=k // 2) > 0  # (H·W, 1, H, W)
    drops = []
    for b in range(B):
        occluded = x[b].masked_fill(square, fill)  # (H·W, 1, H, W)
        q = torch.cat([F.softmax(net(o), dim=-1)[:, c[b]] for o in occluded.split(chunk)])  # (H·W,)
        drops.append(p[b] - q)
    return torch.stack(drops).view(B, H, W)
