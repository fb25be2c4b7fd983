"""Classic mistakes in Mixtral's router, for ``readtrack practice``: its check must catch each
(tests/practice/test_practice.py)."""

from __future__ import annotations

import torch

from readtrack.api import mistake

from .model import SparseMoE


@mistake("SparseMoE.route", fails="sparse dispatch vs every expert × G(x)")
def route(self: SparseMoE, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The softmax over all n experts before the top-k (the kept weights no longer sum to 1)."""
    logits = self.router(x)
    weights, chosen = logits.softmax(dim=-1).topk(self.k, dim=-1)
    return logits, chosen, weights


@mistake("SparseMoE.route", fails="chosen (T, K = self.k = 2) long: the K largest logits")
def route_smallest_of_the_top_first(
    self: SparseMoE, x: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Takes the last K of an ascending argsort: the right experts with the right weights, so forward()
    sums the same, but chosen lists them smallest first where the statement asks for largest first."""
    logits = self.router(x)
    chosen = logits.argsort(dim=-1)[:, -self.k :]
    return logits, chosen, logits.gather(-1, chosen).softmax(dim=-1)


@mistake("SparseMoE.route", fails="chosen (T, K = self.k = 3) long")
def route_always_top_2(self: SparseMoE, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Hard-codes Mixtral's top-2 instead of reading K from self.k: right for every SparseMoE the model
    builds, wrong for a router built with k = 3."""
    logits = self.router(x)
    top_logits, chosen = logits.topk(2, dim=-1)
    return logits, chosen, top_logits.softmax(dim=-1)
