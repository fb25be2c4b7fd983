"""The classic mistakes in MEGABYTE's two offsets, for ``readtrack practice``: its check must catch them
(tests/practice/test_practice.py)."""

from __future__ import annotations

import torch

from readtrack.api import mistake


@mistake("global_input", fails="eq. 2 global input (one-patch offset, pad) vs a loop")
def global_input(h_embed: torch.Tensor, pad: torch.Tensor, P: int) -> torch.Tensor:
    """No one-patch shift: patch k is fed its own bytes, so the global model sees what it must predict."""
    B, T, D_G = h_embed.shape
    return h_embed.reshape(B, T // P, P * D_G)


@mistake("local_offset", fails="eq. 4 local input (one-byte offset, pad) vs a loop")
def local_offset(byte_embed: torch.Tensor, pad: torch.Tensor) -> torch.Tensor:
    """Shifts the flat byte sequence by one: position 0 of patch k reads the last byte of patch k − 1
    instead of the pad (right for one patch, wrong from the second)."""
    B, K, P, D_L = byte_embed.shape
    flat = byte_embed.reshape(B, K * P, D_L)
    shifted = torch.cat([pad.expand(B, 1, D_L), flat[:, :-1]], dim=1)
    return shifted.reshape(B, K, P, D_L)
