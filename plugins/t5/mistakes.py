"""The classic mistake in T5's relative position buckets, for ``readtrack practice``: its check must catch
it (tests/practice/test_practice.py)."""

from __future__ import annotations

import math

import torch

from readtrack.api import mistake


@mistake("relative_position_bucket", fails="relative_position_bucket vs integer-exact reference")
def relative_position_bucket(
    relative_position: torch.Tensor,
    bidirectional: bool = True,
    num_buckets: int = 32,
    max_distance: int = 128,
) -> torch.Tensor:
    """The sign of r = j − i read backwards in the causal case, n = max(r, 0): the decoder's buckets
    then measure distances to future keys, which it never sees, and every past key shares bucket 0."""
    bucket = torch.zeros_like(relative_position)
    if bidirectional:
        num_buckets //= 2
        bucket += (relative_position > 0).long() * num_buckets
        n = relative_position.abs()
    else:
        n = relative_position.clamp_min(0)
    max_exact = num_buckets // 2
    log_ratio = torch.log(n.to(torch.float64).clamp_min(1) / max_exact) / math.log(max_distance / max_exact)
    large = (max_exact + (log_ratio * (num_buckets - max_exact)).long()).clamp_max(num_buckets - 1)
    return bucket + torch.where(n < max_exact, n, large)
