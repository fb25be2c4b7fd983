"""The Transformer of "Attention Is All You Need" (Vaswani et al. 2017, arXiv 1706.03762), small and plain.

Scaled dot-product attention (eq. 1), multi-head attention (section 3.2.2), the position-wise feed-forward
network (eq. 2), sinusoidal positional encodings (section 3.5) and the encoder-decoder stack with residual
connections followed by layer normalisation, LayerNorm(x + Sublayer(x)) (section 3.1, "post-LN").
Left out, because the toy task needs none of it: dropout, label smoothing and the sharing of embedding
and output weights. The optimiser, its warm-up schedule (section 5.3) and checkpoint averaging (6.1) are in
``experiment.py``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


def scaled_dot_product_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    attn_mask: torch.Tensor | None = None,
    is_causal: bool = False,
    scale: float | None = None,
) -> torch.Tensor:
    """Eq. 1: Attention(Q, K, V) = softmax(QKᵀ / √d_k) V, with the masks of ``torch``'s function.

    q: (..., L, d_k), k: (..., S, d_k), v: (..., S, d_v). ``attn_mask`` broadcasts to (..., L, S): a boolean
    mask is True where a query may attend (False entries get −∞ before the softmax), a float mask is added
    to the scores. ``is_causal`` lets query i see keys 0..i (top-left aligned, as torch does).
    """
    if is_causal and attn_mask is not None:
        raise ValueError("scaled_dot_product_attention: pass either attn_mask or is_causal, not both")
    d_k = q.shape[-1]
    scores = q @ k.transpose(-2, -1) * (1.0 / math.sqrt(d_k) if scale is None else scale)  # (..., L, S)
    if is_causal:
        L, S = scores.shape[-2], scores.shape[-1]
        attn_mask = torch.ones(L, S, dtype=torch.bool, device=q.device).tril()  # (L, S), True = may attend
    if attn_mask is not None:
        if attn_mask.dtype == torch.bool:
            scores = scores.masked_fill(~attn_mask, float("-inf"))
        else:
            scores = scores + attn_mask
    return torch.softmax(scores, dim=-1) @ v  # (..., L, d_v)


class MultiHeadAttention(nn.Module):
    """Section 3.2.2: MultiHead(Q, K, V) = Concat(head_1, …, head_h) W^O,
    head_i = Attention(QW_i^Q, KW_i^K, VW_i^V).

    The h projections W_i^Q (d_model × d_k) are stored side by side as one d_model × d_model linear layer
    (and likewise for K and V), with d_k = d_v = d_model / h. Inputs are (batch, length, d_model).
    """

    def __init__(self, d_model: int, num_heads: int, bias: bool = True) -> None:
        super().__init__()
        if d_model % num_heads:
            raise ValueError(f"d_model {d_model} is not divisible by num_heads {num_heads}")
        self.num_heads, self.d_k = num_heads, d_model // num_heads
        self.W_q = nn.Linear(d_model, d_model, bias=bias)
        self.W_k = nn.Linear(d_model, d_model, bias=bias)
        self.W_v = nn.Linear(d_model, d_model, bias=bias)
        self.W_o = nn.Linear(d_model, d_model, bias=bias)

    def forward(
        self,
        query: torch.Tensor,
        key: torch.Tensor,
        value: torch.Tensor,
        attn_mask: torch.Tensor | None = None,
        is_causal: bool = False,
    ) -> torch.Tensor:
        B, L, d_model = query.shape
        S = key.shape[1]
        q = self.W_q(query).view(B, L, self.num_heads, self.d_k).transpose(1, 2)  # (B, h, L, d_k)
        k = self.W_k(key).view(B, S, self.num_heads, self.d_k).transpose(1, 2)  # (B, h, S, d_k)
        v = self.W_v(value).view(B, S, self.num_heads, self.d_k).transpose(1, 2)  # (B, h, S, d_v)
        heads = scaled_dot_product_attention(q, k, v, attn_mask, is_causal)  # (B, h, L, d_v)
        concat = heads.transpose(1, 2).reshape(B, L, d_model)  # (B, L, h·d_v)
        return self.W_o(concat)  # (B, L, d_model)


class FeedForward(nn.Module):
    """Eq. 2: FFN(x) = max(0, xW_1 + b_1) W_2 + b_2, applied to each position separately."""

    def __init__(self, d_model: int, d_ff: int) -> None:
        super().__init__()
        self.W_1 = nn.Linear(d_model, d_ff)
        self.W_2 = nn.Linear(d_ff, d_model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.W_2(F.relu(self.W_1(x)))


def sinusoidal_positions(max_len: int, d_model: int) -> torch.Tensor:
    """Section 3.5: PE(pos, 2i) = sin(pos / 10000^(2i/d_model)), PE(pos, 2i+1) = cos(the same angle).

    For an odd d_model the last column is a sine without its cosine partner."""
    pos = torch.arange(max_len, dtype=torch.float64).unsqueeze(1)  # (max_len, 1)
    two_i = torch.arange(0, d_model, 2, dtype=torch.float64)  # (⌈d_model/2⌉,)
    angle = pos / 10000 ** (two_i / d_model)  # (max_len, ⌈d_model/2⌉)
    pe = torch.zeros(max_len, d_model, dtype=torch.float64)
    pe[:, 0::2] = torch.sin(angle)  # ⌈d_model/2⌉ even columns
    pe[:, 1::2] = torch.cos(angle[:, : d_model // 2])  # ⌊d_model/2⌋ odd columns
    return pe  # (max_len, d_model)


class EncoderLayer(nn.Module):
    """Self-attention, then the feed-forward network; each as LayerNorm(x + Sublayer(x))."""

    def __init__(self, d_model: int, num_heads: int, d_ff: int) -> None:
        super().__init__()
        self.self_attn = MultiHeadAttention(d_model, num_heads)
        self.ffn = FeedForward(d_model, d_ff)
        self.norm1, self.norm2 = nn.LayerNorm(d_model), nn.LayerNorm(d_model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.norm1(x + self.self_attn(x, x, x))
        return self.norm2(x + self.ffn(x))


class DecoderLayer(nn.Module):
    """Masked self-attention, attention over the encoder output ("memory"), then the feed-forward network."""

    def __init__(self, d_model: int, num_heads: int, d_ff: int) -> None:
        super().__init__()
        self.self_attn = MultiHeadAttention(d_model, num_heads)
        self.cross_attn = MultiHeadAttention(d_model, num_heads)
        self.ffn = FeedForward(d_model, d_ff)
        self.norm1, self.norm2, self.norm3 = (nn.LayerNorm(d_model) for _ in range(3))

    def forward(self, x: torch.Tensor, memory: torch.Tensor) -> torch.Tensor:
        # the mask keeps predictions for position i dependent only on outputs at positions < i (3.2.3)
        x = self.norm1(x + self.self_attn(x, x, x, is_causal=True))
        x = self.norm2(x + self.cross_attn(x, memory, memory))
        return self.norm3(x + self.ffn(x))


@dataclass
class TransformerConfig:
    """Sizes; the paper's base model is d_model=512, num_heads=8, d_ff=2048, 6 + 6 layers."""

    src_vocab: int
    tgt_vocab: int
    d_model: int = 64
    num_heads: int = 4
    d_ff: int = 256
    num_encoder_layers: int = 2
    num_decoder_layers: int = 2
    max_len: int = 64
    positions: str = "sinusoidal"  # section 3.5's encodings; "learned" (Table 3, row E) or "none"


class Transformer(nn.Module):
    """The encoder-decoder of Figure 1: embeddings · √d_model + positions, N encoder and N decoder layers."""

    pe: torch.Tensor  # the positional encodings, a buffer (max_len, d_model)

    def __init__(self, config: TransformerConfig) -> None:
        super().__init__()
        self.config = config
        d = config.d_model
        self.src_embed = nn.Embedding(config.src_vocab, d)
        self.tgt_embed = nn.Embedding(config.tgt_vocab, d)
        pe = sinusoidal_positions(config.max_len, d).float()  # (max_len, d_model)
        if config.positions != "learned":  # "none": zeros, and attention alone cannot tell order
            self.register_buffer("pe", pe if config.positions == "sinusoidal" else 0 * pe, persistent=False)
        self.encoder = nn.ModuleList(
            EncoderLayer(d, config.num_heads, config.d_ff) for _ in range(config.num_encoder_layers)
        )
        self.decoder = nn.ModuleList(
            DecoderLayer(d, config.num_heads, config.d_ff) for _ in range(config.num_decoder_layers)
        )
        self.generator = nn.Linear(d, config.tgt_vocab)  # the pre-softmax linear transformation
        # Embeddings start at scale 1/√d_model, so that after the ×√d_model of section 3.4 tokens and the
        # positional encodings (values in [−1, 1]) have the same size (as in the authors' tensor2tensor).
        for embedding in (self.src_embed, self.tgt_embed):
            nn.init.normal_(embedding.weight, std=d**-0.5)
        if config.positions == "learned":  # drawn last: the other weights are those of the sinusoidal model
            self.pe = nn.Parameter(torch.randn(config.max_len, d))  # std 1, as the embedded tokens

    def embed(self, embedding: nn.Embedding, tokens: torch.Tensor) -> torch.Tensor:
        """Section 3.4: embedding weights multiplied by √d_model, plus the positional encoding (3.5)."""
        T = tokens.shape[1]
        return embedding(tokens) * math.sqrt(self.config.d_model) + self.pe[:T]  # (B, T, d_model)

    def encode(self, src: torch.Tensor) -> torch.Tensor:
        x = self.embed(self.src_embed, src)  # (B, S, d_model)
        for layer in self.encoder:
            x = layer(x)
        return x  # the memory the decoder attends to

    def decode(self, tgt: torch.Tensor, memory: torch.Tensor) -> torch.Tensor:
        y = self.embed(self.tgt_embed, tgt)  # (B, T, d_model)
        for layer in self.decoder:
            y = layer(y, memory)
        return self.generator(y)  # (B, T, tgt_vocab) logits

    def forward(self, src: torch.Tensor, tgt: torch.Tensor) -> torch.Tensor:
        return self.decode(tgt, self.encode(src))

    @torch.no_grad()
    def greedy_decode(self, src: torch.Tensor, bos: int, length: int) -> torch.Tensor:
        """Generate ``length`` tokens one at a time, each the most probable next one given those before."""
        memory = self.encode(src)
        out = torch.full((src.shape[0], 1), bos, dtype=torch.long, device=src.device)  # (B, 1)
        for _ in range(length):
            next_token = self.decode(out, memory)[:, -1].argmax(-1, keepdim=True)  # (B, 1)
            out = torch.cat([out, next_token], dim=1)
        return out[:, 1:]  # (B, length), without the start token
