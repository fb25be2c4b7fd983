"""The classic mistakes in the deconvnet, for ``readtrack practice``: its check must catch them
(tests/test_practice.py)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from readtrack.practice import mistake


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
