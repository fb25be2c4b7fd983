"""Longformer attention (Beltagy, Peters and Cohan 2020, arXiv 2004.05150, section 3.1), like nanoGPT.

Each position i attends a window of keys j with |i − j| ≤ w (sliding-window attention), plus every global
position; a global position attends, and is attended by, every position. Global attention has its own
projections Q_g, K_g, V_g ("we use two sets of projections, Q_s, K_s, V_s to compute attention scores of
sliding window attention, and Q_g, K_g, V_g to compute attention scores for the global attention"):

    local row i:   softmax over {j : |i − j| ≤ w} ∪ G of  q_i·k_j / √d,   values v_j      (Q_s, K_s, V_s)
    global row i:  softmax over all j of  q^g_i·k^g_j / √d,  values v^g_j               (Q_g, K_g, V_g)

The window is computed in chunks of c = w queries against the 3c keys of their chunk and its two neighbours
(memory O(N·3w), never the N×N matrix; the paper's "sliding chunks" form), the
global keys as a small extra block (memory O(N·|G|)), the global rows as |G| dense rows.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def _global_index(global_mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(indices (B, G) of each row's global positions, padded; valid (B, G)), G the most any row has."""
    count = int(global_mask.sum(dim=1).max().item()) if global_mask.numel() else 0
    order = torch.argsort((~global_mask).to(torch.int8), dim=1, stable=True)  # global positions first
    index = order[:, :count]  # (B, G)
    return index, torch.gather(global_mask, 1, index)


def _three_chunks(x: torch.Tensor, c: int, pad: int) -> torch.Tensor:
    """(B, H, N, d) → (B, H, N/c, 3c, d): for each chunk of c positions, the chunk before it, itself and the
    chunk after it (zeros beyond the ends)."""
    B, H, _, d = x.shape
    x = F.pad(x, (0, 0, c, c + pad))
    x = x.view(B, H, x.shape[2] // c, c, d)  # (B, H, N/c + 2, c, d)
    return torch.cat((x[:, :, :-2], x[:, :, 1:-1], x[:, :, 2:]), dim=3)


def chunk_window_mask(n_chunks: int, c: int, window: int, N: int, device: torch.device) -> torch.Tensor:
    """(N/c, c, 3c) bool: whether query r of chunk b (position b·c + r) may attend key t of its three chunks
    b − 1, b, b + 1 (position (b − 1)·c + t): within ±``window`` and a real position, 0 ≤ j < N."""
    i = torch.arange(n_chunks * c, device=device).view(n_chunks, c, 1)  # query position
    j = (torch.arange(n_chunks, device=device) * c - c).view(n_chunks, 1, 1) + torch.arange(
        3 * c, device=device
    )
    return ((i - j).abs() <= window) & (j >= 0) & (j < N)  # (N/c, c, 3c)


def longformer_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    window: int,
    global_mask: torch.Tensor | None = None,
    global_qkv: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None = None,
) -> torch.Tensor:
    """q, k, v (B, H, N, d); position i attends j when |i − j| ≤ ``window``, and every global position
    (``global_mask`` (B, N) bool) attends and is attended by all. ``global_qkv`` are the global rows'
    own projections (default: q, k, v)."""
    B, H, N, d = q.shape
    scale = 1 / math.sqrt(d)
    # -- the window, in chunks of c ≥ w queries: chunk b's keys are chunks b − 1, b, b + 1 (3c keys), which
    #    hold every key within ±w of its queries; the scores are (N/c) small c × 3c blocks, never N × N
    c = max(window, 1)
    n_chunks = -(-N // c)
    pad = n_chunks * c - N
    q_chunks = F.pad(q, (0, 0, 0, pad)).view(B, H, n_chunks, c, d)  # (B, H, N/c, c, d)
    k_span, v_span = _three_chunks(k, c, pad), _three_chunks(v, c, pad)  # (B, H, N/c, 3c, d)
    allowed = chunk_window_mask(n_chunks, c, window, N, q.device)  # (N/c, c, 3c)
    local = (q_chunks @ k_span.transpose(-1, -2) * scale).masked_fill(
        ~allowed, float("-inf")
    )  # (B, H, N/c, c, 3c)
    if global_mask is None or not bool(global_mask.any()):
        out = local.softmax(dim=-1) @ v_span  # (B, H, N/c, c, d)
        return out.view(B, H, n_chunks * c, d)[:, :, :N]

    # -- every row also attends the global keys (those inside its window are there already)
    index, valid = _global_index(global_mask)  # (B, G)
    G = index.shape[1]
    at = index[:, None, :, None].expand(B, H, G, d)
    k_glob, v_glob = torch.gather(k, 2, at), torch.gather(v, 2, at)  # (B, H, G, d)
    extra = (q @ k_glob.transpose(-2, -1)) * scale  # (B, H, N, G)
    in_window = (index[:, None, :] - torch.arange(N, device=q.device)[None, :, None]).abs() <= window
    extra = extra.masked_fill((in_window | ~valid[:, None, :])[:, None], float("-inf"))  # (B, H, N, G)
    extra = F.pad(extra, (0, 0, 0, pad), value=float("-inf")).view(B, H, n_chunks, c, G)
    weights = torch.cat((local, extra), dim=-1).softmax(dim=-1)  # (B, H, N/c, c, 3c + G)
    out = weights[..., : 3 * c] @ v_span + weights[..., 3 * c :] @ v_glob[:, :, None]  # (B, H, N/c, c, d)
    out = out.view(B, H, n_chunks * c, d)[:, :, :N]

    # -- the global rows attend everything, with their own projections
    qg, kg, vg = global_qkv if global_qkv is not None else (q, k, v)
    q_rows = torch.gather(qg, 2, at)  # (B, H, G, d)
    rows = F.softmax((q_rows @ kg.transpose(-2, -1)) * scale, dim=-1) @ vg  # (B, H, G, d): |G| dense rows
    keep = valid[:, None, :, None].expand(B, H, G, d)
    current = torch.gather(out, 2, at)
    return out.scatter(2, at, torch.where(keep, rows, current))


class LongformerSelfAttention(nn.Module):
    """Multi-head self-attention with a sliding window and global positions; biases as in BERT/RoBERTa."""

    def __init__(self, d_model: int, n_heads: int, window: int) -> None:
        super().__init__()
        self.n_heads, self.d_head, self.window = n_heads, d_model // n_heads, window
        self.qkv = nn.Linear(d_model, 3 * d_model)  # Q_s, K_s, V_s
        self.qkv_global = nn.Linear(d_model, 3 * d_model)  # Q_g, K_g, V_g
        self.out = nn.Linear(d_model, d_model)

    def _heads(
        self, x: torch.Tensor, projection: nn.Linear
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        B, N, _ = x.shape
        q, k, v = projection(x).view(B, N, 3, self.n_heads, self.d_head).permute(2, 0, 3, 1, 4)
        return q, k, v  # (B, H, N, d) each

    def forward(self, x: torch.Tensor, global_mask: torch.Tensor | None = None) -> torch.Tensor:
        B, N, D = x.shape
        q, k, v = self._heads(x, self.qkv)
        global_qkv = self._heads(x, self.qkv_global) if global_mask is not None else None
        y = longformer_attention(q, k, v, self.window, global_mask, global_qkv)  # (B, H, N, d)
        return self.out(y.transpose(1, 2).reshape(B, N, D))


class Block(nn.Module):
    def __init__(self, d_model: int, n_heads: int, window: int) -> None:
        super().__init__()
        self.norm1, self.norm2 = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.attn = LongformerSelfAttention(d_model, n_heads, window)
        self.mlp = nn.Sequential(nn.Linear(d_model, 4 * d_model), nn.GELU(), nn.Linear(4 * d_model, d_model))

    def forward(self, x: torch.Tensor, global_mask: torch.Tensor | None) -> torch.Tensor:
        x = x + self.attn(self.norm1(x), global_mask)
        return x + self.mlp(self.norm2(x))


class Classifier(nn.Module):
    """Token and position embeddings, Longformer blocks, a yes/no read-out at position 0 ([CLS])."""

    def __init__(self, vocab: int, length: int, d_model: int, n_heads: int, window: int, layers: int) -> None:
        super().__init__()
        self.embed, self.position = nn.Embedding(vocab, d_model), nn.Embedding(length, d_model)
        self.blocks = nn.ModuleList(Block(d_model, n_heads, window) for _ in range(layers))
        self.norm, self.head = nn.LayerNorm(d_model), nn.Linear(d_model, 2)

    def forward(self, tokens: torch.Tensor, global_cls: bool = True) -> torch.Tensor:  # (B, N) → (B, 2)
        B, N = tokens.shape
        x = self.embed(tokens) + self.position(torch.arange(N, device=tokens.device))
        global_mask = None
        if global_cls:  # the paper's choice for classification: global attention on [CLS]
            global_mask = torch.zeros(B, N, dtype=torch.bool, device=tokens.device)
            global_mask[:, 0] = True
        for block in self.blocks:
            x = block(x, global_mask)
        return self.head(self.norm(x[:, 0]))
