"""Classic mistakes in GPT, for ``readtrack practice``: the check must catch them
(tests/practice/test_practice.py)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from readtrack.api import mistake

from .model import GPT, CausalSelfAttention, lm_loss


@mistake("CausalSelfAttention.forward", fails="block vs nn.TransformerEncoderLayer (post-LN, causal), N=7")
def forward(self: CausalSelfAttention, x: torch.Tensor) -> torch.Tensor:
    """The causal mask off by one (triu(2)): each position also sees the next one, a leak of the token it
    is trained to predict. Invisible at N = 1."""
    B, N, D = x.shape
    H, d = self.n_heads, D // self.n_heads
    q, k, v = self.c_attn(x).view(B, N, 3, H, d).permute(2, 0, 3, 1, 4)
    scores = q @ k.transpose(-2, -1) / math.sqrt(d)
    future = torch.ones(N, N, dtype=torch.bool, device=x.device).triu(2)
    y = scores.masked_fill(future, float("-inf")).softmax(dim=-1) @ v
    return self.c_proj(y.transpose(1, 2).reshape(B, N, D))


@mistake("fine_tuning_loss", fails="fine-tuning loss −L_3 = −L_2 − λ·L_1 (eq. 5) vs its terms apart")
def fine_tuning_loss(
    model: GPT, tokens: torch.Tensor, labels: torch.Tensor, lam: float = 0.5
) -> torch.Tensor:
    """Classifies from the first token's state (BERT's [CLS] habit), which a causal model computes from the
    first token alone: eq. 3 reads the last one, h_l^m."""
    h = model.hidden(tokens)
    assert model.W_y is not None
    loss = F.cross_entropy(model.W_y(h[:, 0]), labels)
    if lam:
        loss = loss + lam * lm_loss(h @ model.W_e.weight.T, tokens)
    return loss


@mistake("fine_tuning_loss", fails="fine-tuning loss with λ = 0")
def fine_tuning_loss_with_the_papers_lambda(
    model: GPT, tokens: torch.Tensor, labels: torch.Tensor, lam: float = 0.5
) -> torch.Tensor:
    """Weights the language-model term by the paper's λ = 0.5 whatever `lam` says: lam = 0 (fine-tuning
    without the auxiliary objective, the paper's ablation) still trains the language model."""
    h = model.hidden(tokens)
    assert model.W_y is not None
    return F.cross_entropy(model.W_y(h[:, -1]), labels) + 0.5 * lm_loss(h @ model.W_e.weight.T, tokens)


@mistake("fine_tuning_loss", fails="fine-tuning loss runs the transformer once")
def fine_tuning_loss_in_two_passes(
    model: GPT, tokens: torch.Tensor, labels: torch.Tensor, lam: float = 0.5
) -> torch.Tensor:
    """model.classify for −L_2 and model(tokens) for −L_1: the right number, but the transformer runs twice
    on the same tokens, twice the compute of every fine-tuning step."""
    loss = F.cross_entropy(model.classify(tokens), labels)
    if lam:
        loss = loss + lam * lm_loss(model(tokens), tokens)
    return loss
