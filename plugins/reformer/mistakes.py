"""Classic mistakes in Reformer's angular LSH, for ``readtrack practice``: its check must catch each
(tests/practice/test_practice.py)."""

from __future__ import annotations

import torch

from readtrack.api import mistake


@mistake("lsh_buckets", fails="LSH attention vs its brute-force definition")
def lsh_buckets(x: torch.Tensor, rotations: torch.Tensor) -> torch.Tensor:
    """argmax(xR) without the negated half [xR; −xR]: only b/2 buckets, and a direction and its opposite
    hash by the same projection."""
    if rotations.shape[-1] == 0:
        return torch.zeros(
            x.shape[0], x.shape[1], rotations.shape[0], x.shape[2], dtype=torch.long, device=x.device
        )
    return torch.einsum("bhnd,rdk->bhrnk", x, rotations).argmax(dim=-1)


@mistake("lsh_buckets", fails="bucket ids (B, H, R, N), long: round r is argmax")
def lsh_buckets_rounds_counted_from_the_end(x: torch.Tensor, rotations: torch.Tensor) -> torch.Tensor:
    """Hashes round r with the rotation counted from the end, rotations[R − 1 − r]: every round is a valid
    angular hash, and LSH attention, which treats the rounds alike, gives the same output, but round r is
    not hashed with rotations[r] as the statement asks."""
    R = rotations.shape[0]
    if rotations.shape[-1] == 0:
        return torch.zeros(x.shape[0], x.shape[1], R, x.shape[2], dtype=torch.long, device=x.device)
    rounds = []
    for r in range(R):
        projected = x @ rotations[R - 1 - r]  # (B, H, N, b/2)
        rounds.append(torch.cat((projected, -projected), dim=-1).argmax(dim=-1))
    return torch.stack(rounds, dim=2)
