"""The bench's members, each the attention of one small causal decoder: the gqa plugin's ``LanguageModel``
(token and learned position embeddings, pre-norm blocks, a read-out) with 8 query heads over G key-value
heads (the gqa plugin's ``GroupedQueryAttention``: G = 8 is multi-head attention, G = 1 multi-query, G = 2
grouped-query), or with the 8 heads of multi-head attention each seeing a window of W keys (the sliding
window plugin's ``sliding_window_attention`` and its rolling buffer ``RollingKVCache`` for decoding).

``network(vocab, max_len, d_model, layers, kv_heads, window, seed)``: a member's decoder; every member
starts from multi-head attention's weights for ``seed`` (its G key-value heads are the first G of them).
``decode(model, tokens)``: the logits of decoding ``tokens`` one at a time through the layers' caches, and
the caches. ``cache_bytes(caches)``: the bytes those caches' tensors hold.
"""

from __future__ import annotations

from typing import TypeAlias

import torch
from readtrack_plugins.gqa.model import GroupedQueryAttention, KVCache, LanguageModel
from readtrack_plugins.sliding_window_attention.model import RollingKVCache, sliding_window_attention
from torch import nn

HEADS = 8  # query heads of every member
MHA, MQA, GQA, SWA = "transformer", "gqa:mqa", "gqa", "sliding-window-attention"
#: The members in their papers' order.
MEMBERS = (MHA, MQA, GQA, SWA)
NAMES = {MHA: "multi-head", MQA: "multi-query", GQA: "grouped-query", SWA: "sliding window"}

Cache: TypeAlias = KVCache | RollingKVCache


class WindowedAttention(GroupedQueryAttention):
    """Multi-head attention (G = H) in which each query sees the last ``window`` keys, itself included:
    Mistral's sliding window, computed by the sliding window plugin's ``sliding_window_attention`` and decoded
    through its rolling buffer of ``window`` entries."""

    def __init__(self, d_model: int, n_heads: int, window: int) -> None:
        super().__init__(d_model, n_heads, n_heads)
        self.window = window

    def _heads(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        B, N, _ = x.shape
        q, k, v = (
            W(x).view(B, N, self.n_heads, self.d_head).transpose(1, 2) for W in (self.W_q, self.W_k, self.W_v)
        )
        return q, k, v  # (B, H, N, d) each

    def forward(self, x: torch.Tensor, causal: bool = True) -> torch.Tensor:
        B, N, _ = x.shape
        q, k, v = self._heads(x)
        y = sliding_window_attention(q, k, v, self.window)  # (B, H, N, d)
        return self.W_o(y.transpose(1, 2).reshape(B, N, -1))

    def decode_step(
        self, x_t: torch.Tensor, cache: RollingKVCache | None = None
    ) -> tuple[torch.Tensor, RollingKVCache]:
        """One step of decoding: the newest token's key and value overwrite the oldest of ``window`` slots."""
        B = x_t.shape[0]
        q, k, v = self._heads(x_t)  # (B, H, 1, d)
        if cache is None:
            cache = RollingKVCache(B, self.n_heads, self.window, self.d_head, like=k)
        cache.append(k[:, :, 0], v[:, :, 0])
        y = cache.attend(q[:, :, 0])  # (B, H, d)
        return self.W_o(y.reshape(B, 1, -1)), cache


def network(
    vocab: int, max_len: int, d_model: int, layers: int, kv_heads: int, window: int | None, seed: int
) -> LanguageModel:
    """A member's decoder: ``kv_heads`` key-value heads for the 8 query heads, or (``window``) multi-head
    attention with a window. Its weights are multi-head attention's for ``seed``: the same embeddings,
    queries, outputs, MLPs and read-out for every member; G key-value heads are the first G of its 8."""
    torch.manual_seed(seed)
    mha = LanguageModel(vocab, max_len, d_model, HEADS, HEADS, layers)
    if window is not None:
        for block in mha.blocks:
            windowed = WindowedAttention(d_model, HEADS, window)
            windowed.load_state_dict(block.attn.state_dict())
            block.attn = windowed
        return mha
    if kv_heads == HEADS:
        return mha
    model = LanguageModel(vocab, max_len, d_model, HEADS, kv_heads, layers)
    kept = kv_heads * (d_model // HEADS)  # rows of the first G heads of W_k and W_v
    state = {
        name: weight[:kept] if name.endswith(("W_k.weight", "W_v.weight")) else weight
        for name, weight in mha.state_dict().items()
    }
    model.load_state_dict(state)
    return model


def decode(model: LanguageModel, tokens: torch.Tensor) -> tuple[torch.Tensor, list[Cache]]:
    """Incremental decoding of ``tokens`` (B, N): each token embedded at its position and passed through the
    blocks, each block's attention reading its cache (``decode_step``) instead of the sequence. Returns the
    logits (B, N, vocab) and each layer's cache after the last token."""
    caches: list[Cache | None] = [None] * len(model.blocks)
    logits = []
    for t in range(tokens.shape[1]):
        logit, caches = decode_one(model, tokens[:, t : t + 1], t, caches)
        logits.append(logit)
    return torch.cat(logits, dim=1), [c for c in caches if c is not None]


def decode_one(
    model: LanguageModel, token: torch.Tensor, position: int, caches: list[Cache | None]
) -> tuple[torch.Tensor, list[Cache | None]]:
    """A decoding step: ``token`` (B, 1) at ``position``, each layer's cache in and out; logits (B, 1, V)."""
    x = model.embed(token) + model.position.weight[position]  # (B, 1, D)
    out: list[Cache | None] = []
    for block, cache in zip(model.blocks, caches, strict=True):
        y, cache = block.attn.decode_step(block.norm1(x), cache)
        x = x + y
        x = x + block.mlp(block.norm2(x))
        out.append(cache)
    return model.head(model.norm(x)), out


def cache_bytes(caches: list[Cache]) -> int:
    """Bytes the caches' key and value tensors hold in memory (their storage: an expanded view of fewer heads
    would count the fewer)."""
    return sum(t.untyped_storage().nbytes() for c in caches for t in (c.k, c.v))


def parameters(model: nn.Module) -> int:
    """The number of trained parameters."""
    return sum(p.numel() for p in model.parameters())
