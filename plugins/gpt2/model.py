"""GPT-2 (Radford et al. 2019, "Language Models are Unsupervised Multitask Learners"): the byte-level BPE
of section 2.2 (in ``bpe.py``, re-exported here) and the model changes of section 2.3 against GPT-1:

    "Layer normalization was moved to the input of each sub-block, similar to a pre-activation residual
    network and an additional layer normalization was added after the final self-attention block. A
    modified initialization which accounts for the accumulation on the residual path with model depth is
    used. We scale the weights of residual layers at initialization by a factor of 1/√N where N is the
    number of residual layers."

    GPT-1 (post-LN):  h = LN(x + Attn(x)),      x' = LN(h + MLP(h))
    GPT-2 (pre-LN):   h = x + Attn(LN(x)),      x' = h + MLP(LN(h)),     logits = LN_f(x_L) W_eᵀ
    init: every weight N(0, 0.02²); the two projections that write into the residual stream in each block
          N(0, (0.02/√N)²), N = 2 · layers (attention and MLP each add to the stream once per block)

``pre_ln`` and ``scaled_init`` switch each change off for the A/B; both off is GPT-1's block. The layout
follows nanoGPT (learned positions, a tied read-out, exact-erf GELU, dropout left out).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .bpe import ByteLevelBPE, pretokenize

__all__ = ["GPT", "Block", "ByteLevelBPE", "CausalSelfAttention", "GPTConfig", "pretokenize"]


@dataclass(frozen=True)
class GPTConfig:
    vocab: int
    max_len: int
    d_model: int = 64
    n_heads: int = 4
    layers: int = 2
    pre_ln: bool = True  # GPT-2: LN at the input of each sub-block and a final LN; False: GPT-1's post-LN
    scaled_init: bool = True  # GPT-2: residual projections N(0, 0.02²/N); False: N(0, 0.02²) like the rest


class CausalSelfAttention(nn.Module):
    def __init__(self, d_model: int, n_heads: int) -> None:
        super().__init__()
        if d_model % n_heads:
            raise ValueError(f"d_model {d_model} is not a multiple of {n_heads} heads")
        self.n_heads = n_heads
        self.qkv = nn.Linear(d_model, 3 * d_model)  # [W_Q; W_K; W_V]
        self.proj = nn.Linear(d_model, d_model)  # a residual layer: writes into the stream

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, N, D = x.shape
        q, k, v = (
            self.qkv(x).view(B, N, 3, self.n_heads, D // self.n_heads).permute(2, 0, 3, 1, 4)
        )  # (B, H, N, d)
        scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])  # (B, H, N, N)
        future = torch.ones(N, N, dtype=torch.bool, device=x.device).triu(1)
        y = scores.masked_fill(future, float("-inf")).softmax(dim=-1) @ v  # (B, H, N, d)
        return self.proj(y.transpose(1, 2).reshape(B, N, D))


class Block(nn.Module):
    def __init__(self, d_model: int, n_heads: int, pre_ln: bool = True) -> None:
        super().__init__()
        self.pre_ln = pre_ln
        self.ln1, self.ln2 = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.attn = CausalSelfAttention(d_model, n_heads)
        self.fc, self.proj = (
            nn.Linear(d_model, 4 * d_model),
            nn.Linear(4 * d_model, d_model),
        )  # proj: residual

    def mlp(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(F.gelu(self.fc(x)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, N, D) → (B, N, D)
        if self.pre_ln:  # GPT-2
            x = x + self.attn(self.ln1(x))
            return x + self.mlp(self.ln2(x))
        x = self.ln1(x + self.attn(x))  # GPT-1
        return self.ln2(x + self.mlp(x))


class GPT(nn.Module):
    """Tokens (B, N) int64 → logits (B, N, vocab). ``residual_stream`` gives x_0 … x_L for the variance
    argument behind the scaled initialisation."""

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.config = config
        self.embed = nn.Embedding(config.vocab, config.d_model)
        self.position = nn.Embedding(config.max_len, config.d_model)
        self.blocks = nn.ModuleList(
            Block(config.d_model, config.n_heads, config.pre_ln) for _ in range(config.layers)
        )
        self.ln_f = nn.LayerNorm(config.d_model) if config.pre_ln else nn.Identity()
        N = 2 * config.layers  # residual layers: one attention and one MLP projection per block
        for name, p in self.named_parameters():
            if name.endswith("bias"):
                nn.init.zeros_(p)
            elif p.dim() == 2:
                residual = name.endswith("proj.weight")
                std = 0.02 / math.sqrt(N) if residual and config.scaled_init else 0.02
                nn.init.normal_(p, std=std)

    def residual_stream(self, tokens: torch.Tensor) -> list[torch.Tensor]:
        """x_0 = token + position embedding, then the output x_l of each block l = 1 … L, each (B, N, D)."""
        N = tokens.shape[1]
        if self.config.max_len < N:
            raise ValueError(f"sequence of {N} tokens is longer than max_len {self.config.max_len}")
        xs = [self.embed(tokens) + self.position(torch.arange(N, device=tokens.device))]
        for block in self.blocks:
            xs.append(block(xs[-1]))
        return xs

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        x = self.residual_stream(tokens)[-1]
        return self.ln_f(x) @ self.embed.weight.T  # tied read-out: (B, N, vocab)
