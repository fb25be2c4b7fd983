"""MEGABYTE (Yu, Simig, Flaherty, Aghajanyan, Zettlemoyer and Lewis 2023): a global transformer over patches
of P bytes and a local transformer within each patch, section 2.2.

    h^embed_t        = E^global-embed_(x_t) + E^pos_t                                  t ∈ [0, T)   (eq. 1)
    h^global-in_k    = E^global-pad                        if k = 0
                       h^embed_((k−1)·P : k·P)             otherwise (P embeddings concatenated)   (eq. 2)
    h^global-out_0:K = transformer^global(h^global-in_0:K)                                           (eq. 3)
    h^local-in_k,p   = w^GL h^global-out_(k, p·D_G : (p+1)·D_G)
                       + E^local-pad                       if p = 0
                       + E^local-embed_(x_(k·P+p−1))       otherwise                                 (eq. 4)
    h^local-out_k,0:P = transformer^local(h^local-in_k,0:P)                                          (eq. 5)
    p(x_t | x_0:t)   = softmax(E^local-embed h^local-out_k,p)_(x_t),   t = k·P + p                  (eq. 6)

The one-patch offset of eq. 2 and the one-byte offset of eq. 4 are what make the model causal: patch k of the
global model sees bytes of patches < k only, position p of the local model sees bytes < p of its own patch.
A sequence whose length is no multiple of P is padded at the end (section 2.3.1 pads too); padding
comes after every real byte, so by causality it changes no real prediction, and its logits are dropped.

Both transformers are the same pre-LN decoder (``Transformer``); ``Flat`` is that decoder over bytes, the
baseline. Attention is written out (softmax(QKᵀ/√d) V) so that FLOP counting sees its matmuls.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


class CausalSelfAttention(nn.Module):
    """Masked multi-head self-attention: position i attends to positions ≤ i only."""

    def __init__(self, d_model: int, n_heads: int) -> None:
        super().__init__()
        if d_model % n_heads:
            raise ValueError(f"d_model {d_model} is not a multiple of {n_heads} heads")
        self.n_heads = n_heads
        self.c_attn = nn.Linear(d_model, 3 * d_model)  # [W_Q; W_K; W_V]
        self.c_proj = nn.Linear(d_model, d_model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, N, D = x.shape
        H, d = self.n_heads, D // self.n_heads
        q, k, v = self.c_attn(x).view(B, N, 3, H, d).permute(2, 0, 3, 1, 4)  # each (B, H, N, d)
        scores = q @ k.transpose(-2, -1) / math.sqrt(d)  # (B, H, N, N)
        future = torch.ones(N, N, dtype=torch.bool, device=x.device).triu(1)  # key j > query i
        y = scores.masked_fill(future, float("-inf")).softmax(dim=-1) @ v  # (B, H, N, d)
        return self.c_proj(y.transpose(1, 2).reshape(B, N, D))  # (B, N, D)


class Block(nn.Module):
    """Pre-LN decoder block: x + Attn(LN x), then x + MLP(LN x), GELU MLP four times as wide."""

    def __init__(self, d_model: int, n_heads: int) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(d_model)
        self.attn = CausalSelfAttention(d_model, n_heads)
        self.ln_2 = nn.LayerNorm(d_model)
        self.c_fc, self.c_proj = nn.Linear(d_model, 4 * d_model), nn.Linear(4 * d_model, d_model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln_1(x))
        return x + self.c_proj(F.gelu(self.c_fc(self.ln_2(x))))


class Transformer(nn.Module):
    """A stack of blocks and a final LayerNorm: (B, N, D) → (B, N, D), causal along N."""

    def __init__(self, d_model: int, n_heads: int, layers: int) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(Block(d_model, n_heads) for _ in range(layers))
        self.ln_f = nn.LayerNorm(d_model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for block in self.blocks:
            x = block(x)
        return self.ln_f(x)


def _init(model: nn.Module) -> None:
    """GPT-2's initialisation: N(0, 0.02), zero biases (LayerNorms keep gain 1, shift 0)."""
    for name, p in model.named_parameters():
        if "ln" in name:
            continue
        if name.endswith("bias"):
            nn.init.zeros_(p)
        else:
            nn.init.normal_(p, std=0.02)


def _embed(x: torch.Tensor, table: torch.Tensor) -> torch.Tensor:
    """Bytes (B, T) int64 → table rows; or one-hot rows (B, T, V) float → x @ table, the same for one-hot
    inputs, but differentiable in x (for the Jacobian)."""
    return x @ table if x.is_floating_point() else table[x]


@dataclass
class MegabyteConfig:
    vocab: int = 16  # V: 256 for real bytes; the Markov "bytes" here have 16 values
    P: int = 4  # patch size
    max_len: int = 64  # longest sequence, in bytes (padded length)
    d_G: int = 16  # global embedding per byte: the global model is P·D_G wide
    d_L: int = 32  # local model width
    global_layers: int = 2
    local_layers: int = 1
    heads: int = 4
    local_bytes: bool = True  # False, the ablation: eq. 4's byte term replaced by the pad at every position


class Megabyte(nn.Module):
    """Bytes x (B, T) → logits (B, T, V) of p(x_t | x_<t) for every t (eq. 6): row t predicts x_t itself,
    from the bytes before it (row 0 from the pads alone)."""

    def __init__(self, cfg: MegabyteConfig) -> None:
        super().__init__()
        self.cfg = cfg
        P, d_G, d_L = cfg.P, cfg.d_G, cfg.d_L
        self.E_global_embed = nn.Parameter(torch.empty(cfg.vocab, d_G))
        self.E_pos = nn.Parameter(torch.empty(cfg.max_len, d_G))
        self.E_global_pad = nn.Parameter(torch.empty(P * d_G))
        self.global_model = Transformer(P * d_G, cfg.heads, cfg.global_layers)
        self.w_GL = nn.Linear(d_G, d_L)
        self.E_local_embed = nn.Parameter(torch.empty(cfg.vocab, d_L))  # also the read-out (eq. 6)
        self.E_local_pad = nn.Parameter(torch.empty(d_L))
        self.local_model = Transformer(d_L, cfg.heads, cfg.local_layers)
        _init(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        cfg = self.cfg
        B, T = x.shape[:2]
        K = math.ceil(T / cfg.P)  # patches
        if cfg.max_len < K * cfg.P:
            raise ValueError(f"{T} bytes pad to {K * cfg.P}, more than max_len {cfg.max_len}")
        x = pad_to_patches(x, cfg.P)  # (B, K·P) or (B, K·P, V): padding after every real byte
        h_embed = _embed(x, self.E_global_embed) + self.E_pos[: K * cfg.P]  # (B, K·P, D_G)   eq. 1
        h_global_in = global_input(h_embed, self.E_global_pad, cfg.P)  # (B, K, P·D_G)        eq. 2
        h_global_out = self.global_model(h_global_in)  # (B, K, P·D_G)                           eq. 3
        slices = h_global_out.view(B, K, cfg.P, cfg.d_G)  # slice p: (k, p·D_G : (p+1)·D_G)
        byte_embed = _embed(x, self.E_local_embed).view(B, K, cfg.P, cfg.d_L)  # (B, K, P, D_L)
        own = local_offset(byte_embed, self.E_local_pad) if cfg.local_bytes else self.E_local_pad
        h_local_in = self.w_GL(slices) + own  # (B, K, P, D_L)                                    eq. 4
        h_local_out = self.local_model(h_local_in.view(B * K, cfg.P, cfg.d_L))  # patches apart    eq. 5
        logits = h_local_out @ self.E_local_embed.T  # (B·K, P, V)                               eq. 6
        return logits.view(B, K * cfg.P, -1)[:, :T]  # (B, T, V): the padding's logits dropped


def pad_to_patches(x: torch.Tensor, P: int) -> torch.Tensor:
    """Bytes (B, T) or one-hot rows (B, T, V) padded at the end to K·P, K = ⌈T / P⌉, with byte 0 (or a
    zero row)."""
    missing = -x.shape[1] % P
    if missing == 0:
        return x
    if x.is_floating_point():
        return F.pad(x, (0, 0, 0, missing))
    return F.pad(x, (0, missing), value=0)


def global_input(h_embed: torch.Tensor, pad: torch.Tensor, P: int) -> torch.Tensor:
    """Eq. 2: h_embed (B, K·P, D_G) → (B, K, P·D_G); patch k holds the embeddings of patch k − 1, patch 0
    the learned pad (P·D_G,). The last patch's own bytes reach no global position."""
    B, T, D_G = h_embed.shape
    patches = h_embed.reshape(B, T // P, P * D_G)  # (B, K, P·D_G): patch k, its bytes concatenated
    return torch.cat([pad.expand(B, 1, P * D_G), patches[:, :-1]], dim=1)  # shifted by one patch


def local_offset(byte_embed: torch.Tensor, pad: torch.Tensor) -> torch.Tensor:
    """Eq. 4's second term: byte_embed (B, K, P, D_L) → (B, K, P, D_L); position p of patch k holds the
    embedding of byte k·P + p − 1, position 0 the learned pad (D_L,), so nothing crosses a patch."""
    B, K, _, D_L = byte_embed.shape
    return torch.cat([pad.expand(B, K, 1, D_L), byte_embed[:, :, :-1]], dim=2)  # shifted by one byte


class Flat(nn.Module):
    """The baseline: the same decoder over bytes, d_model wide, learned positions, tied read-out. Bytes
    (B, T) → logits (B, T, V) where, as for ``Megabyte``, row t predicts x_t from x_<t (a learned start
    vector stands before x_0)."""

    def __init__(self, vocab: int, max_len: int, d_model: int, heads: int, layers: int) -> None:
        super().__init__()
        self.E = nn.Parameter(torch.empty(vocab, d_model))
        self.E_pos = nn.Parameter(torch.empty(max_len, d_model))
        self.start = nn.Parameter(torch.empty(d_model))
        self.model = Transformer(d_model, heads, layers)
        _init(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T = x.shape[:2]
        h = _embed(x, self.E)[:, :-1]  # (B, T − 1, D): x_0 … x_(T−2)
        h = torch.cat([self.start.expand(B, 1, -1), h], dim=1) + self.E_pos[:T]  # (B, T, D), shifted
        return self.model(h) @ self.E.T  # (B, T, V)
