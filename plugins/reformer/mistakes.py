"""The classic mistake in Reformer's angular LSH, for ``readtrack practice``: its check must catch it
(tests/test_practice.py)."""

from __future__ import annotations

import torch

from readtrack.practice import mistake


@mistake("lsh_buckets", fails="LSH attention vs its brute-force definition")
def lsh_buckets(x: torch.Tensor, rotations: torch.Tensor) -> torch.Tensor:
    """argmax(xR) without the negated half [xR; −xR]: only b/2 buckets, and a direction and its opposite
    hash by the same projection."""
    if rotations.shape[-1] == 0:
        return torch.zeros(
            x.shape[0], x.shape[1], rotations.shape[0], x.shape[2], dtype=torch.long, device=x.device
        )
    return torch.einsum("bhnd,rdk->bhrnk", x, rotations).argmax(dim=-1)
