"""A small GPT-2-style transformer for plugins whose idea is not the architecture but what it is trained on
(an objective, a data format, an attention mask): in-context learning, scratchpads, fill-in-the-middle,
gist tokens, masked language modelling.

Pre-LayerNorm blocks, learned positions, GELU MLP, a tied read-out, and GPT-2's initialisation: N(0, 0.02)
everywhere and the projections that write into the residual stream scaled by 1/√(2·layers). Attention goes
through ``F.scaled_dot_product_attention``; ``mask`` (True = may attend) replaces the causal mask, so a
plugin can pass a bidirectional, prefix or gist mask. A plugin whose paper *is* the architecture writes its
own ``model.py`` instead.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


class SelfAttention(nn.Module):
    def __init__(self, d_model: int, n_heads: int) -> None:
        super().__init__()
        if d_model % n_heads:
            raise ValueError(f"d_model {d_model} is not a multiple of {n_heads} heads")
        self.n_heads = n_heads
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)  # writes into the residual stream

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        B, N, D = x.shape
        q, k, v = (
            self.qkv(x).view(B, N, 3, self.n_heads, D // self.n_heads).permute(2, 0, 3, 1, 4)
        )  # (B, H, N, d)
        if mask is None:
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        return self.proj(y.transpose(1, 2).reshape(B, N, D))


KV = list[tuple[torch.Tensor, torch.Tensor]]  # per block: keys and values (B, heads, positions, d_head)


class Block(nn.Module):
    def __init__(self, d_model: int, n_heads: int) -> None:
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.attn = SelfAttention(d_model, n_heads)
        self.fc, self.proj = nn.Linear(d_model, 4 * d_model), nn.Linear(4 * d_model, d_model)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        x = x + self.attn(self.ln1(x), mask)
        return x + self.proj(F.gelu(self.fc(self.ln2(x))))


class TinyTransformer(nn.Module):
    """Tokens (B, N) int64 → logits (B, N, vocab).

    ``mask``: None for causal attention, or a bool tensor broadcastable to (B, heads, N, N), True where query
    i may attend key j (every row needs at least one True). ``hidden`` gives the final-LayerNorm states
    (B, N, d_model) for a task head of the plugin's own.
    """

    def __init__(
        self, vocab: int, max_len: int, d_model: int = 64, n_heads: int = 4, layers: int = 2
    ) -> None:
        super().__init__()
        self.max_len = max_len
        self.embed, self.position = nn.Embedding(vocab, d_model), nn.Embedding(max_len, d_model)
        self.blocks = nn.ModuleList(Block(d_model, n_heads) for _ in range(layers))
        self.ln_f = nn.LayerNorm(d_model)
        for name, p in self.named_parameters():
            if name.endswith("weight") and p.dim() == 2:
                # GPT-2: residual writers scaled so the stream's variance does not grow with depth.
                std = 0.02 / math.sqrt(2 * layers) if name.endswith("proj.weight") else 0.02
                nn.init.normal_(p, std=std)
            elif name.endswith("bias"):
                nn.init.zeros_(p)

    def hidden(self, tokens: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        N = tokens.shape[1]
        if self.max_len < N:
            raise ValueError(f"sequence of {N} tokens is longer than max_len {self.max_len}")
        x = self.embed(tokens) + self.position(torch.arange(N, device=tokens.device))  # (B, N, D)
        for block in self.blocks:
            x = block(x, mask)
        return self.ln_f(x)

    def forward(self, tokens: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        return self.hidden(tokens, mask) @ self.embed.weight.T  # tied read-out: (B, N, vocab)

    def forward_cached(
        self, tokens: torch.Tensor, start: int, past: KV | None = None, mask: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, KV]:
        """Decoding with a key/value cache: tokens (B, n) at positions start … start + n − 1, attending to
        ``past`` (the keys and values of earlier positions, per block) and to each other. ``mask`` (n, P + n)
        bool, P the cached positions: None for all of ``past`` and causal among the new tokens. Attention is
        written out (softmax(q kᵀ/√d) v), not SDPA. Returns the logits (B, n, vocab) and ``past`` extended
        by these tokens' keys and values."""
        B, n = tokens.shape
        cached = past[0][0].shape[2] if past else 0
        if mask is None:
            mask = torch.ones(n, cached + n, dtype=torch.bool, device=tokens.device)
            mask[:, cached:] = torch.ones(n, n, dtype=torch.bool, device=tokens.device).tril()
        positions = torch.arange(start, start + n, device=tokens.device)
        x = self.embed(tokens) + self.position(positions)  # (B, n, D)
        extended: KV = []
        for layer, block in enumerate(self.blocks):
            assert isinstance(block, Block)
            attn, D = block.attn, x.shape[-1]
            qkv = attn.qkv(block.ln1(x)).view(B, n, 3, attn.n_heads, D // attn.n_heads)
            q, k, v = qkv.permute(2, 0, 3, 1, 4)  # each (B, H, n, d)
            if past:
                k, v = torch.cat((past[layer][0], k), dim=2), torch.cat((past[layer][1], v), dim=2)
            extended.append((k, v))  # (B, H, P + n, d)
            scores = (q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])).masked_fill(~mask, float("-inf"))
            y = (scores.softmax(dim=-1) @ v).transpose(1, 2).reshape(B, n, D)  # (B, n, D)
            x = x + attn.proj(y)
            x = x + block.proj(F.gelu(block.fc(block.ln2(x))))
        return self.ln_f(x) @ self.embed.weight.T, extended
