"""BERT's encoder (section 3 and appendix A.1): token + segment + position embeddings summed and
layer-normalised, post-LN transformer blocks with GELU, and the masked-LM head (dense + GELU + LayerNorm,
then a decoder tied to the token embeddings, with a bias of its own).

B batch, N sequence length, H hidden size, A heads, d = H / A, V vocabulary. Dropout (0.1 in the paper) is
left out: the toy task has unlimited data.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


class SelfAttention(nn.Module):
    def __init__(self, H: int, A: int) -> None:
        super().__init__()
        if H % A:
            raise ValueError(f"hidden size {H} is not a multiple of {A} heads")
        self.A = A
        self.qkv = nn.Linear(H, 3 * H)  # [W_Q; W_K; W_V]
        self.out = nn.Linear(H, H)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        """x (B, N, H); mask bool, broadcastable to (B, A, N, N), True where query i may attend key j."""
        B, N, H = x.shape
        q, k, v = self.qkv(x).view(B, N, 3, self.A, H // self.A).permute(2, 0, 3, 1, 4)  # 3 × (B, A, N, d)
        scores = q @ k.transpose(-2, -1) / math.sqrt(H // self.A)  # (B, A, N, N)
        if mask is not None:
            scores = scores.masked_fill(~mask, float("-inf"))
        y = scores.softmax(dim=-1) @ v  # (B, A, N, d)
        return self.out(y.transpose(1, 2).reshape(B, N, H))


class Layer(nn.Module):
    """One post-LN block (Vaswani et al. 2017, as BERT uses it): x ← LN(x + MHA(x)); x ← LN(x + FFN(x))."""

    def __init__(self, H: int, A: int) -> None:
        super().__init__()
        self.attn = SelfAttention(H, A)
        self.ln_1 = nn.LayerNorm(H, eps=1e-12)
        self.fc, self.proj = nn.Linear(H, 4 * H), nn.Linear(4 * H, H)  # the feed-forward size is 4H
        self.ln_2 = nn.LayerNorm(H, eps=1e-12)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        x = self.ln_1(x + self.attn(x, mask))
        return self.ln_2(x + self.proj(F.gelu(self.fc(x))))


class Bert(nn.Module):
    """Tokens and segment ids (B, N) int64 → masked-LM logits (B, N, V).

    ``mask`` (True = may attend, broadcastable to (B, A, N, N)) defaults to full bidirectional attention;
    passing a causal mask turns the same model into a left-to-right one (the paper's ablation)."""

    def __init__(self, V: int, max_len: int, H: int = 64, A: int = 4, L: int = 2, segments: int = 2) -> None:
        super().__init__()
        self.token, self.segment = nn.Embedding(V, H), nn.Embedding(segments, H)
        self.position = nn.Embedding(max_len, H)  # learned positions
        self.ln_embed = nn.LayerNorm(H, eps=1e-12)
        self.layers = nn.ModuleList(Layer(H, A) for _ in range(L))
        self.head = nn.Linear(H, H)  # the MLM head's transform: dense, GELU, LayerNorm
        self.ln_head = nn.LayerNorm(H, eps=1e-12)
        self.decoder_bias = nn.Parameter(torch.zeros(V))  # the decoder's weight is the token embedding
        for name, p in self.named_parameters():  # BERT's init: N(0, 0.02), zero biases, LayerNorm (1, 0)
            if p.dim() == 2:
                nn.init.normal_(p, std=0.02)
            elif "ln" not in name:
                nn.init.zeros_(p)

    def hidden(
        self, tokens: torch.Tensor, segments: torch.Tensor, mask: torch.Tensor | None = None
    ) -> torch.Tensor:
        N = tokens.shape[1]
        positions = torch.arange(N, device=tokens.device)
        x = self.ln_embed(self.token(tokens) + self.segment(segments) + self.position(positions))  # (B, N, H)
        for layer in self.layers:
            x = layer(x, mask)
        return x

    def forward(
        self, tokens: torch.Tensor, segments: torch.Tensor, mask: torch.Tensor | None = None
    ) -> torch.Tensor:
        h = self.ln_head(F.gelu(self.head(self.hidden(tokens, segments, mask))))  # (B, N, H)
        return h @ self.token.weight.T + self.decoder_bias  # tied decoder: (B, N, V)


def causal_mask(N: int, device: torch.device | str) -> torch.Tensor:
    """(N, N) True on and below the diagonal: position i sees j ≤ i only (the left-to-right ablation)."""
    return torch.ones(N, N, dtype=torch.bool, device=device).tril()
