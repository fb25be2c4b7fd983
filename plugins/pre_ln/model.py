"""On Layer Normalization in the Transformer Architecture (Xiong et al. 2020, arXiv 2002.04745): where the
LayerNorm sits in a residual block, x: (B, T, D), F a sublayer (attention or feed-forward):

    Post-LN    x_{l+1} = LN(x_l + F(x_l))                    (the original Transformer; Figure 1 (a))
    Pre-LN     x_{l+1} = x_l + F(LN(x_l))                    (Figure 1 (b))
               read-out: W_out · LN(x_L)                     (Pre-LN's final LayerNorm)

One layer l of the paper (Table 1) is two residual sublayers, attention then the feed-forward
FFN(x) = W^{2,l} ReLU(W^{1,l} x) (GELU here, as in the decoder-only models since). Theorem 1: at
initialisation the gradient of the last layer's W^{2,L} is O(d √(ln d)) for Post-LN and O(d √(ln d / L))
for Pre-LN, so Post-LN's near-output gradients are large (and need a warm-up) while Pre-LN's shrink with
the depth L. Every weight matrix is Xavier-normal, biases zero, as in the paper's analysis.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

NormPosition = Literal["post", "pre"]


class Attention(nn.Module):
    """Causal multi-head self-attention: q, k, v and output projections, each D → D."""

    def __init__(self, d_model: int, n_heads: int) -> None:
        super().__init__()
        if d_model % n_heads:
            raise ValueError(f"d_model {d_model} is not a multiple of {n_heads} heads")
        self.n_heads = n_heads
        self.q_proj, self.k_proj = nn.Linear(d_model, d_model), nn.Linear(d_model, d_model)
        self.v_proj, self.out_proj = nn.Linear(d_model, d_model), nn.Linear(d_model, d_model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, D = x.shape
        q, k, v = (
            p(x).view(B, T, self.n_heads, D // self.n_heads).transpose(1, 2)
            for p in (self.q_proj, self.k_proj, self.v_proj)
        )  # each (B, H, T, D/H)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)  # (B, H, T, D/H)
        return self.out_proj(y.transpose(1, 2).reshape(B, T, D))  # (B, T, D)


class Block(nn.Module):
    """One layer: attention then a GELU feed-forward (W^1: D → 4D, W^2 = fc2: 4D → D), each a residual
    sublayer with its LayerNorm after the sum ("post") or inside the branch ("pre")."""

    def __init__(self, d_model: int, n_heads: int, norm_position: NormPosition) -> None:
        super().__init__()
        if norm_position not in ("post", "pre"):
            raise ValueError(f"norm_position must be post or pre, not {norm_position!r}")
        self.norm_position = norm_position
        self.attn = Attention(d_model, n_heads)
        self.fc1, self.fc2 = nn.Linear(d_model, 4 * d_model), nn.Linear(4 * d_model, d_model)
        self.ln1, self.ln2 = nn.LayerNorm(d_model), nn.LayerNorm(d_model)

    def ffn(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(F.gelu(self.fc1(x)))  # (B, T, D) → (B, T, 4D) → (B, T, D)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.norm_position == "pre":  # x + F(LN(x)): the stream itself is never normalised
            x = x + self.attn(self.ln1(x))
            return x + self.ffn(self.ln2(x))
        x = self.ln1(x + self.attn(x))  # LN(x + F(x))
        return self.ln2(x + self.ffn(x))

    def extra_repr(self) -> str:
        return f"norm_position={self.norm_position!r}"


def xavier_init_(block: nn.Module) -> None:
    """Every weight matrix Xavier-normal (std √(2/(fan_in + fan_out))), every bias zero (LN: γ = 1, β = 0
    by its own default)."""
    for module in block.modules():
        if isinstance(module, nn.Linear):
            nn.init.xavier_normal_(module.weight)
            nn.init.zeros_(module.bias)


class Transformer(nn.Module):
    """A decoder-only language model of ``layers`` blocks: tokens (B, T) int64 → logits (B, T, vocab).

    Pre-LN ends with a final LayerNorm before the read-out (its stream is never normalised otherwise);
    Post-LN ends on a block's LN already. Embeddings N(0, 1), positions learned."""

    def __init__(
        self, vocab: int, max_len: int, d_model: int, n_heads: int, layers: int, norm_position: NormPosition
    ) -> None:
        super().__init__()
        self.embed, self.position = nn.Embedding(vocab, d_model), nn.Embedding(max_len, d_model)
        self.blocks = nn.ModuleList(Block(d_model, n_heads, norm_position) for _ in range(layers))
        for block in self.blocks:
            xavier_init_(block)
        self.ln_f = nn.LayerNorm(d_model) if norm_position == "pre" else nn.Identity()
        self.head = nn.Linear(d_model, vocab)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        T = tokens.shape[1]
        x = self.embed(tokens) + self.position(torch.arange(T, device=tokens.device))  # (B, T, D)
        for block in self.blocks:
            x = block(x)
        return self.head(self.ln_f(x))  # (B, T, vocab)
