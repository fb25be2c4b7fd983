"""The classic mistakes in the deconvnet, for ``readtrack practice``: its check must catch them
(tests/practice/test_practice.py)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from readtrack.api import mistake


@mistake("_through_relu", fails="deconvnet projection vs autograd with ReLU backward = max(g, 0)")
def through_relu(r: torch.Tensor, z: torch.Tensor, rule: str) -> torch.Tensor:
    """The deconvnet's ReLU taken as the gradient's, by the forward mask [z > 0]: the deconvnet's maps are
    then the plain saliency maps, which is the very difference ZF's rectification makes."""
    if rule in ("gradient", "deconvnet"):
        return r * (z > 0)
    if rule == "guided":
        return F.relu(r) * (z > 0)
    raise ValueError(f"unknown rule {rule!r}")


@mistake("unpool", fails="gradient projection vs torch.autograd.grad")
def unpool(r: torch.Tensor, switches: torch.Tensor) -> torch.Tensor:
    """The switches ignored: each value copied to all four places of its 2×2 block (nearest-neighbour
    upsampling), so the signal goes back to places that never won the max."""
    return r.repeat_interleave(2, dim=-2).repeat_interleave(2, dim=-1)


@mistake("_through_relu", fails='_through_relu with an unknown rule ("saliency") raises ValueError')
def through_relu_guided_by_default(r: torch.Tensor, z: torch.Tensor, rule: str) -> torch.Tensor:
    """Any rule that is not "gradient" or "deconvnet" falls through to guided backpropagation: a misspelt
    rule gives a map instead of an error."""
    if rule == "gradient":
        return r * (z > 0)
    if rule == "deconvnet":
        return F.relu(r)
    return F.relu(r) * (z > 0)


@mistake("unpool", fails="unpool vs F.max_unpool2d, maps of 3×5 (h ≠ w)")
def unpool_rows_of_2h(r: torch.Tensor, switches: torch.Tensor) -> torch.Tensor:
    """The flat index of place (i, j) taken as i·(2h) + j instead of i·(2w) + j: right for square maps
    only."""
    h, w = r.shape[-2:]
    up = lambda t: t.repeat_interleave(2, dim=-2).repeat_interleave(2, dim=-1)  # noqa: E731
    places = torch.arange(2 * h, device=r.device)[:, None] * (2 * h) + torch.arange(2 * w, device=r.device)
    return up(r) * (up(switches) == places)


@mistake("unpool", fails="autograd goes through unpool")
@torch.no_grad()
def unpool_without_autograd(r: torch.Tensor, switches: torch.Tensor) -> torch.Tensor:
    """Decorated with torch.no_grad() (the projections need no autograd): the right map, but nothing can
    differentiate through it."""
    h, w = r.shape[-2:]
    up = lambda t: t.repeat_interleave(2, dim=-2).repeat_interleave(2, dim=-1)  # noqa: E731
    places = torch.arange(4 * h * w, device=r.device).view(2 * h, 2 * w)
    return up(r) * (up(switches) == places)
