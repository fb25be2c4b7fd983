"""Classic mistakes in BERT's encoder, for ``readtrack practice``: its check must catch them
(tests/practice/test_practice.py)."""

from __future__ import annotations

import math

import torch

from readtrack.api import mistake

from .model import Bert, SelfAttention


@mistake("SelfAttention.forward", fails="encoder layer vs nn.TransformerEncoderLayer, N=7")
def attention_forward(self: SelfAttention, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """A causal mask always (a left-to-right transformer, GPT's): BERT's point is that each position also
    reads its right context."""
    B, N, H = x.shape
    q, k, v = self.qkv(x).view(B, N, 3, self.A, H // self.A).permute(2, 0, 3, 1, 4)
    scores = q @ k.transpose(-2, -1) / math.sqrt(H // self.A)
    allowed = torch.ones(N, N, dtype=torch.bool, device=x.device).tril()
    if mask is not None:
        allowed = allowed & mask
    scores = scores.masked_fill(~allowed, float("-inf"))
    y = scores.softmax(dim=-1) @ v
    return self.out(y.transpose(1, 2).reshape(B, N, H))


@mistake("Bert.hidden", fails="BERT forward vs embeddings + built-in layers + MLM head")
def hidden(
    self: Bert, tokens: torch.Tensor, segments: torch.Tensor, mask: torch.Tensor | None = None
) -> torch.Tensor:
    """Leaves out the segment embeddings (token + position only): sentence A and B look alike."""
    positions = torch.arange(tokens.shape[1], device=tokens.device)
    x = self.ln_embed(self.token(tokens) + self.position(positions))
    for layer in self.layers:
        x = layer(x, mask)
    return x


@mistake("Bert.forward", fails="BERT forward vs embeddings + built-in layers + MLM head")
def forward(
    self: Bert, tokens: torch.Tensor, segments: torch.Tensor, mask: torch.Tensor | None = None
) -> torch.Tensor:
    """Decodes the encoder's output directly, without the head's transform (dense, GELU, LayerNorm)."""
    return self.hidden(tokens, segments, mask) @ self.token.weight.T + self.decoder_bias
