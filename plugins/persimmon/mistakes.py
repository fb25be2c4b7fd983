"""Classic mistakes in Persimmon's QK layer norm, for ``readtrack practice``: its check must catch
them (tests/practice/test_practice.py)."""

from __future__ import annotations

import torch

from readtrack.api import mistake

from .model import Attention, partial_rotary


@mistake("Attention.logits", fails="attention with QK layer norm vs F.layer_norm + SDPA")
def logits(self: Attention, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Drops the 1/√d scale, as if the layer norms made it redundant: the logits are √d times too large."""
    B, N, _ = x.shape
    q, k, v = self.W_qkv(x).view(B, N, 3, self.n_heads, self.d_head).permute(2, 0, 3, 1, 4)
    if self.q_norm is not None and self.k_norm is not None:
        q, k = self.q_norm(q), self.k_norm(k)
    q, k = partial_rotary(q), partial_rotary(k)
    return q @ k.transpose(-2, -1), v


@mistake("Attention.logits", fails="attention with QK layer norm vs F.layer_norm + SDPA")
def logits_norm_after_rotary(self: Attention, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Normalises the rotated queries and keys: the norm's scale and shift then mix the rotated pairs."""
    B, N, _ = x.shape
    q, k, v = self.W_qkv(x).view(B, N, 3, self.n_heads, self.d_head).permute(2, 0, 3, 1, 4)
    q, k = partial_rotary(q), partial_rotary(k)
    if self.q_norm is not None and self.k_norm is not None:
        q, k = self.q_norm(q), self.k_norm(k)
    return q @ k.transpose(-2, -1) / self.d_head**0.5, v


@mistake("Attention.logits", fails="logits before the causal mask vs the formula, without QK layer norm")
def logits_rotary_only_with_the_norms(self: Attention, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Rotates inside the `if` that applies the norms: right with qk_norm=True, but a block built with
    qk_norm=False loses the partial rotary too, and with it every position."""
    B, N, _ = x.shape
    q, k, v = self.W_qkv(x).view(B, N, 3, self.n_heads, self.d_head).permute(2, 0, 3, 1, 4)
    if self.q_norm is not None and self.k_norm is not None:
        q, k = partial_rotary(self.q_norm(q)), partial_rotary(self.k_norm(k))
    return q @ k.transpose(-2, -1) / self.d_head**0.5, v
