"""GPT (Radford, Narasimhan, Salimans and Sutskever 2018): a decoder-only transformer, pretrained as a
language model, then fine-tuned with a linear head on the last token's state.

    h_0 = U W_e + W_p                                                       (eq. 2)
    h_l = transformer_block(h_(l−1)),  l = 1 … n                            (eq. 2)
    P(u) = softmax(h_n W_eᵀ)                                                (eq. 2)
    L_1(U) = Σ_i log P(u_i | u_(i−k), …, u_(i−1); Θ)                        (eq. 1)
    P(y | x^1, …, x^m) = softmax(h_l^m W_y)                                  (eq. 3)
    L_2(C) = Σ_(x, y) log P(y | x^1, …, x^m)                                 (eq. 4)
    L_3(C) = L_2(C) + λ · L_1(C),  λ = 0.5                                   (eq. 5)

transformer_block is the 2017 decoder block without cross-attention, layer norm after each residual sum
(post-LN), a GELU MLP four times as wide, learned positions and N(0, 0.02) initialisation (section 4.1).
The losses below are the negatives of L_1, L_2, L_3, averaged instead of summed.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

LAMBDA = 0.5  # weight of the auxiliary language-modelling objective in eq. 5 (section 4.1)


class CausalSelfAttention(nn.Module):
    """Masked multi-head self-attention: position i attends to positions ≤ i only."""

    def __init__(self, d_model: int, n_heads: int) -> None:
        super().__init__()
        if d_model % n_heads:
            raise ValueError(f"d_model {d_model} is not a multiple of {n_heads} heads")
        self.n_heads = n_heads
        self.c_attn = nn.Linear(d_model, 3 * d_model)  # W_Q, W_K, W_V stacked
        self.c_proj = nn.Linear(d_model, d_model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, N, D = x.shape
        H, d = self.n_heads, D // self.n_heads
        q, k, v = self.c_attn(x).view(B, N, 3, H, d).permute(2, 0, 3, 1, 4)  # each (B, H, N, d)
        scores = q @ k.transpose(-2, -1) / math.sqrt(d)  # (B, H, N, N)
        future = torch.ones(N, N, dtype=torch.bool, device=x.device).triu(1)  # key j > query i
        att = scores.masked_fill(future, float("-inf")).softmax(dim=-1)
        y = att @ v  # (B, H, N, d)
        return self.c_proj(y.transpose(1, 2).reshape(B, N, D))  # (B, N, D)


class Block(nn.Module):
    """transformer_block of eq. 2: post-LN, each sub-layer's output added to its input, then normalised."""

    def __init__(self, d_model: int, n_heads: int) -> None:
        super().__init__()
        self.attn = CausalSelfAttention(d_model, n_heads)
        self.ln_1 = nn.LayerNorm(d_model)
        self.c_fc, self.c_proj = nn.Linear(d_model, 4 * d_model), nn.Linear(4 * d_model, d_model)
        self.ln_2 = nn.LayerNorm(d_model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.ln_1(x + self.attn(x))  # LayerNorm(x + MaskedSelfAttention(x))
        return self.ln_2(x + self.c_proj(F.gelu(self.c_fc(x))))  # LayerNorm(x + MLP(x))


class GPT(nn.Module):
    """Tokens (B, N) int64 → next-token logits (B, N, vocab) (eq. 2), or class logits (B, classes) read
    from the last token's state (eq. 3). ``n_classes = 0`` leaves out the task head W_y."""

    def __init__(
        self, vocab: int, n_ctx: int, d_model: int, n_heads: int, layers: int, n_classes: int = 0
    ) -> None:
        super().__init__()
        self.n_ctx = n_ctx
        self.W_e = nn.Embedding(vocab, d_model)  # token embeddings, shared with the read-out
        self.W_p = nn.Embedding(n_ctx, d_model)  # learned positions
        self.blocks = nn.ModuleList(Block(d_model, n_heads) for _ in range(layers))
        self.W_y = nn.Linear(d_model, n_classes, bias=False) if n_classes else None
        for module in self.modules():  # section 4.1: N(0, 0.02) suffices, thanks to layer norm
            if isinstance(module, (nn.Linear, nn.Embedding)):
                nn.init.normal_(module.weight, std=0.02)
            if isinstance(module, nn.Linear) and module.bias is not None:
                nn.init.zeros_(module.bias)

    def hidden(self, tokens: torch.Tensor) -> torch.Tensor:
        """h_n (B, N, d_model) for tokens U (B, N)."""
        N = tokens.shape[1]
        if self.n_ctx < N:
            raise ValueError(f"sequence of {N} tokens is longer than the context of {self.n_ctx}")
        h = self.W_e(tokens) + self.W_p(torch.arange(N, device=tokens.device))  # h_0 = U W_e + W_p
        for block in self.blocks:
            h = block(h)  # h_l = transformer_block(h_(l−1))
        return h

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.hidden(tokens) @ self.W_e.weight.T  # h_n W_eᵀ: logits of P(u), (B, N, vocab)

    def classify(self, tokens: torch.Tensor) -> torch.Tensor:
        """Logits of P(y | x^1 … x^m) = softmax(h_l^m W_y) (eq. 3): (B, classes)."""
        if self.W_y is None:
            raise ValueError("this GPT has no task head: build it with n_classes > 0")
        return self.W_y(self.hidden(tokens)[:, -1])  # the last token's final state h_l^m


def lm_loss(logits: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
    """−L_1 (eq. 1) per predicted token: each u_i from u_<i, logits (B, N, vocab) of tokens (B, N)."""
    return F.cross_entropy(logits[:, :-1].flatten(0, 1), tokens[:, 1:].flatten())


def fine_tuning_loss(
    model: GPT, tokens: torch.Tensor, labels: torch.Tensor, lam: float = LAMBDA
) -> torch.Tensor:
    """−L_3 = −L_2 − λ·L_1 on the labelled set (eqs. 4-5); ``lam = 0`` is −L_2 alone."""
    h = model.hidden(tokens)  # (B, N, D): one pass serves both objectives
    assert model.W_y is not None
    loss = F.cross_entropy(model.W_y(h[:, -1]), labels)  # −L_2 (eq. 4)
    if lam:
        loss = loss + lam * lm_loss(h @ model.W_e.weight.T, tokens)  # + λ·(−L_1(C)) (eq. 5)
    return loss
