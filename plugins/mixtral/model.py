"""Sparse mixture of experts as in Mixtral (Jiang et al. 2024, arXiv 2401.04088, section 2.1).

Each token x is sent to the top K = 2 of n experts chosen by a linear router, and the output is the
router-weighted sum of those experts' outputs (eq. 1 and 2 of the paper):

    G(x) = Softmax(TopK(x · W_g))             the softmax over the K largest logits only; others are 0
    y    = Σ_i G(x)_i · SwiGLU_i(x)            computed only for the K experts whose G(x)_i ≠ 0
    SwiGLU_i(x) = (SiLU(x W1_i) ⊙ x W3_i) W2_i  each expert is a Mistral feed-forward block

Only K of the n experts run per token, so a layer holds n experts' parameters but costs K experts' compute
("active parameters"). Training adds a load-balancing loss so the router spreads tokens (Switch
Transformer's, which Mixtral's paper does not spell out): L_aux = n · Σ_i f_i · P_i, with f_i the share of
routing slots that went to expert i and P_i the mean router probability of expert i; it is 1 when both
are uniform.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class SwiGLU(nn.Module):
    """The feed-forward block of Mistral and Llama: (SiLU(x W1) ⊙ x W3) W2, no biases."""

    def __init__(self, d_model: int, d_hidden: int) -> None:
        super().__init__()
        self.w1 = nn.Linear(d_model, d_hidden, bias=False)
        self.w3 = nn.Linear(d_model, d_hidden, bias=False)
        self.w2 = nn.Linear(d_hidden, d_model, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.w2(F.silu(self.w1(x)) * self.w3(x))


class SparseMoE(nn.Module):
    """n SwiGLU experts and a router; each token runs through its top-k experts only."""

    def __init__(self, d_model: int, d_hidden: int, n_experts: int = 8, k: int = 2) -> None:
        super().__init__()
        self.k = k
        self.router = nn.Linear(d_model, n_experts, bias=False)  # W_g
        self.experts = nn.ModuleList(SwiGLU(d_model, d_hidden) for _ in range(n_experts))

    def route(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """For tokens x (T, d): the router logits (T, n), the chosen experts (T, k) and their weights (T, k),
        a softmax over the k chosen logits (eq. 1)."""
        logits = self.router(x)  # (T, n)
        top_logits, chosen = logits.topk(self.k, dim=-1)  # (T, k)
        return logits, chosen, top_logits.softmax(dim=-1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shape = x.shape
        x = x.reshape(-1, shape[-1])  # (T, d): every token on its own
        _, chosen, weights = self.route(x)
        y = torch.zeros_like(x)
        for i, expert in enumerate(self.experts):
            token, slot = (chosen == i).nonzero(as_tuple=True)  # the tokens that chose expert i, and where
            if token.numel():  # an expert nobody chose costs nothing
                y.index_add_(0, token, weights[token, slot, None] * expert(x[token]))  # eq. 2, sparse
        return y.reshape(shape)

    def load_balancing_loss(self, x: torch.Tensor) -> torch.Tensor:
        """n · Σ_i f_i · P_i over the tokens x (..., d): 1 for perfectly even routing, n/k (n/2 for top-2)
        when one expert takes every token with certainty, since it fills only one of each token's k slots."""
        logits, chosen, _ = self.route(x.reshape(-1, x.shape[-1]))
        n = logits.shape[-1]
        f = torch.bincount(chosen.flatten(), minlength=n).to(x.dtype) / chosen.numel()  # share of slots
        P = logits.softmax(dim=-1).mean(dim=0)  # mean router probability
        return n * (f * P).sum()
