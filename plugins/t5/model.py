"""T5 (Raffel et al. 2019, arXiv 1910.10683): an encoder-decoder Transformer for text-to-text tasks, its
bucketed relative position bias and its span-corruption objective.

Architecture (section 2.1, and the public Mesh TensorFlow / t5 code where the paper is silent):
- pre-norm residual blocks with a "simplified layer normalization": activations are only rescaled, no mean
  is subtracted and no bias added, y = w ⊙ x / √(mean(x²) + ε);
- no bias in any linear layer; a ReLU feed-forward layer; dropout is left out (nothing here overfits);
- no absolute positions: each attention head adds a learnt scalar b_h(bucket(j − i)) to the logit of query
  i and key j, one table per stack shared by all its layers (bidirectional buckets in the encoder, causal
  ones in the decoder's self-attention, none in cross-attention);
- logits q·k without the 1/√d_k scale: the public code folds it into the initialisation of W_q;
- one embedding matrix for encoder input, decoder input and read-out, the read-out rescaled by d_model^−½
  as in the public code.

Relative position buckets (section 2.1: 32 buckets, "ranges that increase in size logarithmically up to an
offset of 128"), for r = j − i; bidirectional: the sign of r takes its own half of the buckets:

    n = |r| (bidirectional) or max(−r, 0) (causal: every future offset shares bucket 0)
    bucket(n) = n                                                   if n < n_exact
              = min(N − 1, n_exact + ⌊ log(n / n_exact) / log(max_distance / n_exact) · (N − n_exact) ⌋)
    N = num_buckets (halved if bidirectional), n_exact = N / 2;  bidirectional and r > 0: + N

Span corruption (section 3.3.4, figure 2): 15% of the tokens, in spans of mean length 3, are dropped from
the input, each span replaced by one sentinel; the target lists each sentinel followed by its span, then a
final sentinel: "Thank you <X> me to your party <Y> week." → "<X> for inviting <Y> last <Z>".
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


def relative_position_bucket(
    relative_position: torch.Tensor,
    bidirectional: bool = True,
    num_buckets: int = 32,
    max_distance: int = 128,
) -> torch.Tensor:
    """Integer offsets r = j − i (key minus query), any shape → bucket ids in [0, num_buckets), same shape."""
    bucket = torch.zeros_like(relative_position)
    if bidirectional:
        num_buckets //= 2
        bucket += (relative_position > 0).long() * num_buckets  # keys after the query: the upper half
        n = relative_position.abs()
    else:
        n = (-relative_position).clamp_min(0)  # causal: the future (r > 0) all falls in bucket 0
    max_exact = num_buckets // 2  # half the buckets: one per offset 0 … max_exact − 1
    is_small = n < max_exact
    # the other half: logarithmically wider ranges up to max_distance, everything beyond in the last bucket.
    # Offsets exactly on a range's edge (16, 32 and 64 in the paper's setting) make the product an integer
    # in exact arithmetic; a device's log can come out an ulp low (CUDA's float64 log did: 64 fell to bucket
    # 13, not 14), so the product is taken in float64 (mps has none: float32) and nudged up by far less than
    # any offset off an edge lies below the next integer (6e-4 in the plugin's settings) before rounding down.
    # The public code uses float32 and no nudge: there, edges land wherever the device's log rounds.
    on_mps = relative_position.device.type == "mps"
    precise, nudge = (torch.float32, 1e-4) if on_mps else (torch.float64, 1e-9)
    log_ratio = torch.log(n.to(precise).clamp_min(1) / max_exact) / math.log(max_distance / max_exact)
    large = (max_exact + (log_ratio * (num_buckets - max_exact) + nudge).long()).clamp_max(num_buckets - 1)
    return bucket + torch.where(is_small, n, large)


class RelativePositionBias(nn.Module):
    """One learnt scalar per (bucket, head), added to the attention logits: b_h(bucket(j − i))."""

    def __init__(self, n_heads: int, bidirectional: bool, num_buckets: int = 32, max_distance: int = 128):
        super().__init__()
        self.bidirectional, self.num_buckets, self.max_distance = bidirectional, num_buckets, max_distance
        self.table = nn.Embedding(num_buckets, n_heads)

    def forward(self, q_len: int, k_len: int) -> torch.Tensor:
        """→ (1, H, q_len, k_len): a Toeplitz matrix per head, entry (i, j) a function of j − i only."""
        device = self.table.weight.device
        i = torch.arange(q_len, device=device).unsqueeze(1)
        j = torch.arange(k_len, device=device).unsqueeze(0)
        buckets = relative_position_bucket(j - i, self.bidirectional, self.num_buckets, self.max_distance)
        return self.table(buckets).permute(2, 0, 1).unsqueeze(0)  # (q, k, H) → (1, H, q, k)


def attention(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, bias: torch.Tensor | None, causal: bool = False
) -> torch.Tensor:
    """q (B, H, n_q, d), k and v (B, H, n_k, d), bias broadcastable to (B, H, n_q, n_k) or None.

    softmax(q kᵀ + bias) v: no 1/√d (T5 folds it into W_q's initialisation)."""
    scores = q @ k.transpose(-2, -1)  # (B, H, n_q, n_k)
    if bias is not None:
        scores = scores + bias
    if causal:
        n_q, n_k = scores.shape[-2:]
        future = torch.ones(n_q, n_k, dtype=torch.bool, device=q.device).triu(n_k - n_q + 1)
        scores = scores.masked_fill(future, float("-inf"))
    return scores.softmax(dim=-1) @ v  # (B, H, n_q, d)


class LayerNorm(nn.Module):
    """T5's layer norm: scale only, y = w ⊙ x / √(mean(x²) + ε), no mean subtracted, no bias."""

    def __init__(self, d_model: int, eps: float = 1e-6) -> None:
        super().__init__()
        self.weight, self.eps = nn.Parameter(torch.ones(d_model)), eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.weight * x * torch.rsqrt(x.pow(2).mean(dim=-1, keepdim=True) + self.eps)


class Attention(nn.Module):
    """Multi-head attention without biases; keys and values from ``kv`` (cross-attention) or from x."""

    def __init__(self, d_model: int, n_heads: int) -> None:
        super().__init__()
        self.n_heads, self.d_kv = n_heads, d_model // n_heads
        self.W_q, self.W_k, self.W_v, self.W_o = (nn.Linear(d_model, d_model, bias=False) for _ in range(4))
        # Mesh TensorFlow's initialisation, with the missing 1/√d_kv of the logits folded into W_q
        nn.init.normal_(self.W_q.weight, std=(d_model * self.d_kv) ** -0.5)
        for W in (self.W_k, self.W_v, self.W_o):
            nn.init.normal_(W.weight, std=d_model**-0.5)

    def forward(
        self, x: torch.Tensor, kv: torch.Tensor, bias: torch.Tensor | None, causal: bool = False
    ) -> torch.Tensor:
        B, n_q, D = x.shape
        q = self.W_q(x).view(B, n_q, self.n_heads, self.d_kv).transpose(1, 2)  # (B, H, n_q, d_kv)
        k = self.W_k(kv).view(B, -1, self.n_heads, self.d_kv).transpose(1, 2)  # (B, H, n_k, d_kv)
        v = self.W_v(kv).view(B, -1, self.n_heads, self.d_kv).transpose(1, 2)
        y = attention(q, k, v, bias, causal)  # (B, H, n_q, d_kv)
        return self.W_o(y.transpose(1, 2).reshape(B, n_q, D))


class FeedForward(nn.Module):
    """ReLU feed-forward layer without biases: W_o ReLU(W_i x)."""

    def __init__(self, d_model: int, d_ff: int) -> None:
        super().__init__()
        self.W_i, self.W_o = nn.Linear(d_model, d_ff, bias=False), nn.Linear(d_ff, d_model, bias=False)
        nn.init.normal_(self.W_i.weight, std=d_model**-0.5)
        nn.init.normal_(self.W_o.weight, std=d_ff**-0.5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.W_o(F.relu(self.W_i(x)))


class EncoderBlock(nn.Module):
    def __init__(self, d_model: int, n_heads: int, d_ff: int) -> None:
        super().__init__()
        self.norm1, self.attn = LayerNorm(d_model), Attention(d_model, n_heads)
        self.norm2, self.ff = LayerNorm(d_model), FeedForward(d_model, d_ff)

    def forward(self, x: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
        h = self.norm1(x)
        x = x + self.attn(h, h, bias)  # bidirectional self-attention
        return x + self.ff(self.norm2(x))


class DecoderBlock(nn.Module):
    def __init__(self, d_model: int, n_heads: int, d_ff: int) -> None:
        super().__init__()
        self.norm1, self.self_attn = LayerNorm(d_model), Attention(d_model, n_heads)
        self.norm2, self.cross_attn = LayerNorm(d_model), Attention(d_model, n_heads)
        self.norm3, self.ff = LayerNorm(d_model), FeedForward(d_model, d_ff)

    def forward(self, y: torch.Tensor, memory: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
        h = self.norm1(y)
        y = y + self.self_attn(h, h, bias, causal=True)
        y = y + self.cross_attn(self.norm2(y), memory, None)  # cross-attention carries no position bias
        return y + self.ff(self.norm3(y))


@dataclass
class T5Config:
    vocab: int
    d_model: int = 64
    n_heads: int = 4
    d_ff: int = 256
    n_layers: int = 2  # in the encoder and in the decoder
    num_buckets: int = 32
    max_distance: int = 128
    relative_bias: bool = True  # False: the ablation with no position information at all


class T5(nn.Module):
    """Source tokens (B, n_src) and decoder inputs (B, n_tgt) → logits (B, n_tgt, vocab)."""

    def __init__(self, cfg: T5Config) -> None:
        super().__init__()
        self.cfg = cfg
        self.embed = nn.Embedding(cfg.vocab, cfg.d_model)  # shared by encoder, decoder and read-out
        nn.init.normal_(self.embed.weight, std=1.0)
        self.encoder = nn.ModuleList(
            EncoderBlock(cfg.d_model, cfg.n_heads, cfg.d_ff) for _ in range(cfg.n_layers)
        )
        self.decoder = nn.ModuleList(
            DecoderBlock(cfg.d_model, cfg.n_heads, cfg.d_ff) for _ in range(cfg.n_layers)
        )
        self.encoder_norm, self.decoder_norm = LayerNorm(cfg.d_model), LayerNorm(cfg.d_model)
        self.encoder_bias = self.decoder_bias = None
        if cfg.relative_bias:  # one table per stack, shared by all of its layers
            self.encoder_bias = RelativePositionBias(cfg.n_heads, True, cfg.num_buckets, cfg.max_distance)
            self.decoder_bias = RelativePositionBias(cfg.n_heads, False, cfg.num_buckets, cfg.max_distance)
            for table in (self.encoder_bias.table, self.decoder_bias.table):
                nn.init.normal_(table.weight, std=cfg.d_model**-0.5)

    def encode(self, src: torch.Tensor) -> torch.Tensor:
        x = self.embed(src)  # (B, n_src, D)
        n = src.shape[1]
        bias = None if self.encoder_bias is None else self.encoder_bias(n, n)  # (1, H, n, n)
        for block in self.encoder:
            x = block(x, bias)
        return self.encoder_norm(x)

    def decode(self, memory: torch.Tensor, tgt_in: torch.Tensor) -> torch.Tensor:
        y = self.embed(tgt_in)  # (B, n_tgt, D)
        n = tgt_in.shape[1]
        bias = None if self.decoder_bias is None else self.decoder_bias(n, n)  # (1, H, n, n), causal buckets
        for block in self.decoder:
            y = block(y, memory, bias)
        y = self.decoder_norm(y) * self.cfg.d_model**-0.5  # the tied read-out's rescale (public code)
        return y @ self.embed.weight.T  # (B, n_tgt, vocab)

    def forward(self, src: torch.Tensor, tgt_in: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(src), tgt_in)


@torch.no_grad()
def greedy_decode(model: T5, src: torch.Tensor, length: int, start: int) -> torch.Tensor:
    """(B, n_src) → (B, length): the most likely token at each step, fed back in."""
    memory = model.encode(src)
    out = torch.full((src.shape[0], 1), start, dtype=torch.long, device=src.device)
    for _ in range(length):
        next_token = model.decode(memory, out)[:, -1].argmax(dim=-1, keepdim=True)  # (B, 1)
        out = torch.cat([out, next_token], dim=1)
    return out[:, 1:]


def _random_segmentation(items: int, segments: int, g: torch.Generator) -> torch.Tensor:
    """``items`` split into ``segments`` positive lengths, uniformly over all such splits."""
    cuts = torch.randperm(items - 1, generator=g)[: segments - 1].sort().values + 1  # distinct cut points
    edges = torch.cat([torch.tensor([0]), cuts, torch.tensor([items])])
    return edges.diff()  # (segments,)


def noise_mask(
    length: int, noise_density: float, mean_span_length: float, g: torch.Generator
) -> torch.Tensor:
    """(length,) bool, True on the corrupted tokens, as the public code draws them: round(length · density)
    noise tokens in round(noise / mean_span_length) spans, span lengths and the gaps between them uniform
    over all compositions; kept and noise spans alternate, starting with a kept one (so the public code never
    corrupts the first token and always the last)."""
    if length < 2:
        return torch.zeros(length, dtype=torch.bool)  # nothing to corrupt and keep
    n_noise = min(max(round(length * noise_density), 1), length - 1)
    n_spans = max(min(round(n_noise / mean_span_length), n_noise, length - n_noise), 1)
    noise = _random_segmentation(n_noise, n_spans, g)
    keep = _random_segmentation(length - n_noise, n_spans, g)
    spans = torch.stack([keep, noise], dim=1).flatten()  # keep, noise, keep, noise, … (2 · n_spans,)
    is_noise = torch.arange(2 * n_spans).remainder(2).bool()
    return is_noise.repeat_interleave(spans)


def corrupt_spans(
    tokens: torch.Tensor, mask: torch.Tensor, first_sentinel: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """tokens (length,) and a noise mask (length,) → (inputs, targets) as in figure 2: each run of masked
    tokens becomes one sentinel in the inputs (first_sentinel, first_sentinel + 1, … in order); the targets
    are each sentinel followed by its span, closed by one more sentinel."""
    starts = mask & ~F.pad(mask, (1, 0))[:-1]  # the first token of each span
    sentinel = first_sentinel + starts.cumsum(0) - 1  # at a span's first token: that span's sentinel
    # inputs: kept tokens, and each span's first token replaced by its sentinel, the rest of the span dropped
    inputs = torch.where(starts, sentinel, tokens)[~mask | starts]
    # targets, the complement: before each corrupted token its span's sentinel if it opens one, then the token
    pairs = torch.stack([sentinel, tokens], dim=1).flatten()  # (2 · length,): s_0, x_0, s_1, x_1, …
    take = torch.stack([starts, mask], dim=1).flatten()
    closing = (first_sentinel + starts.sum()).view(1)  # the final sentinel ends the targets
    return inputs, torch.cat([pairs[take], closing])


def span_corrupt(
    tokens: torch.Tensor,
    first_sentinel: int,
    g: torch.Generator,
    noise_density: float = 0.15,
    mean_span_length: float = 3.0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """T5's unsupervised objective on one sequence (length,): a random ``noise_mask``, then
    ``corrupt_spans``; the paper's defaults: 15% of the tokens, spans of mean length 3."""
    mask = noise_mask(tokens.shape[0], noise_density, mean_span_length, g).to(tokens.device)  # (length,)
    return corrupt_spans(tokens, mask, first_sentinel)
