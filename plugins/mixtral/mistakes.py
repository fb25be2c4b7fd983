"""The classic mistake in Mixtral's router, for ``readtrack practice``: its check must catch it
(tests/test_practice.py)."""

from __future__ import annotations

import torch

from readtrack.practice import mistake

from .model import SparseMoE


@mistake("SparseMoE.route", fails="sparse dispatch vs every expert × G(x)")
def route(self: SparseMoE, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The softmax over all n experts before the top-k (the kept weights no longer sum to 1)."""
    logits = self.router(x)
    weights, chosen = logits.softmax(dim=-1).topk(self.k, dim=-1)
    return logits, chosen, weights
