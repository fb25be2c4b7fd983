"""What a training step keeps in memory for its backward pass, counted exactly rather than read from an
allocator: the family benches report it per member (an activation-hungry layer or network shows), on any
device, the same on every run.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

__all__ = ["backward_memory"]


def backward_memory(model: nn.Module, step: Callable[[], object]) -> int:
    """Bytes autograd keeps for the backward pass while ``step()`` runs one training step of ``model``: every
    distinct storage the forward saves (activations, and the statistics a layer keeps), counted once, the
    model's own parameters left out (every member has them, whatever its design). A saved view counts its
    whole storage, which it keeps alive: give the step a batch of its own (indexed or cloned), not a slice of
    the dataset, or the dataset is counted too."""
    own = {p.untyped_storage().data_ptr() for p in model.parameters()}
    seen: dict[int, int] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        storage = t.untyped_storage()
        if storage.data_ptr() not in own:
            seen[storage.data_ptr()] = storage.nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        step()
    return sum(seen.values())
