"""Reformer's two ideas (Kitaev, Kaiser and Levskaya 2020, arXiv 2001.04451), like nanoGPT.

1. LSH attention (section 2). Queries and keys are shared (k_j = q_j / ‖q_j‖). A random rotation R hashes
   a vector to h(x) = argmax([xR; −xR]) (angular LSH, eq. 1 of section 2), so close directions tend to share
   a bucket. Positions are sorted by (bucket, position) and cut into chunks of m; a query attends keys of
   its own bucket in its chunk and the chunk before (fig. 2), never itself unless nothing else is there.
   With n_rounds independent hashes, P_i is the union of the rounds' sets and a pair found by c rounds has
   its score lowered by log c, so that each key counts once (section 2, "multi-round LSH attention"):

       o_i = Σ_{j ∈ P_i} exp(q_i·k_j/√d − log c_ij − z_i) v_j,   z_i = log Σ_{j ∈ P_i} exp(q_i·k_j/√d)

   Each round is computed on its own (m × 2m score blocks, never N × N) and the rounds are merged with their
   log-sum-exps: o_i = Σ_r exp(z_i^r − z_i) o_i^r.

2. Reversible residual layers (section 3, after RevNets): y1 = x1 + F(x2), y2 = x2 + G(y1), so the inputs
   follow from the outputs, x2 = y2 − G(y1), x1 = y1 − F(x2), and backward recomputes each layer's
   activations instead of storing them: memory for activations independent of depth.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

SELF_SCORE = -1e5  # a query's score for itself: attended only when nothing else is (section 2)
MASKED = -1e9  # a pair outside P_i (finite, so a padding row stays finite; exp underflows to exactly 0)


def random_rotations(
    d: int, n_buckets: int, n_rounds: int, *, generator: torch.Generator | None = None, like: torch.Tensor
) -> torch.Tensor:
    """(n_rounds, d, n_buckets / 2) Gaussian projections, one per hash round (n_buckets = 1: none)."""
    if n_buckets != 1 and n_buckets % 2:
        raise ValueError(f"n_buckets must be 1 or even, got {n_buckets}")
    r = torch.randn(n_rounds, d, n_buckets // 2, generator=generator, dtype=torch.float64)
    return r.to(device=like.device, dtype=like.dtype)


def lsh_buckets(x: torch.Tensor, rotations: torch.Tensor) -> torch.Tensor:
    """h(x) = argmax([xR; −xR]) for every round: x (B, H, N, d), rotations (R, d, b/2) → (B, H, R, N).
    One bucket (b/2 = 0) puts every position in bucket 0."""
    if rotations.shape[-1] == 0:
        return torch.zeros(
            x.shape[0], x.shape[1], rotations.shape[0], x.shape[2], dtype=torch.long, device=x.device
        )
    projected = torch.einsum("bhnd,rdk->bhrnk", x, rotations)  # (B, H, R, N, b/2)
    return torch.cat((projected, -projected), dim=-1).argmax(dim=-1)


def lsh_attention(
    qk: torch.Tensor, v: torch.Tensor, rotations: torch.Tensor, chunk: int, causal: bool = False
) -> torch.Tensor:
    """Shared-QK LSH attention. qk, v (B, H, N, d); rotations (R, d, b/2); chunk m. → (B, H, N, d)."""
    B, H, N, d = qk.shape
    R = rotations.shape[0]
    m = chunk
    n_chunks = -(-N // m)
    Np = n_chunks * m  # sorted sequence padded to whole chunks
    k = qk / qk.norm(dim=-1, keepdim=True).clamp_min(1e-12)  # shared QK: keys are the normalised queries

    buckets = lsh_buckets(qk, rotations)  # (B, H, R, N)
    position = torch.arange(N, device=qk.device)
    order = torch.argsort(buckets * N + position, dim=-1)  # (B, H, R, N): sort by bucket, then position
    rank = torch.argsort(order, dim=-1)  # (B, H, R, N): where each position sits in a round's order
    chunk_of = rank // m  # (B, H, R, N)

    # -- gather each round's sorted sequence, padded with position N (a dummy that nobody attends)
    order_p = torch.cat((order, order.new_full((B, H, R, Np - N), N)), dim=-1)  # (B, H, R, Np)
    bucket_p = torch.cat((torch.gather(buckets, 3, order), buckets.new_full((B, H, R, Np - N), -1)), dim=-1)

    def sort(x: torch.Tensor) -> torch.Tensor:  # (B, H, N, d) → (B, H, R, Np, d) in each round's order
        x = torch.cat((x, x.new_zeros(B, H, 1, x.shape[-1])), dim=2)  # row N: the padding
        return torch.gather(
            x[:, :, None].expand(B, H, R, N + 1, x.shape[-1]),
            3,
            order_p[..., None].expand(B, H, R, Np, x.shape[-1]),
        )

    def chunks(x: torch.Tensor) -> torch.Tensor:  # (B, H, R, Np, ...) → (B, H, R, nc, m, ...)
        return x.reshape(B, H, R, n_chunks, m, *x.shape[4:])

    def look_back(x: torch.Tensor, fill: float | int) -> torch.Tensor:  # each chunk with the one before
        before = torch.cat((torch.full_like(x[:, :, :, :1], fill), x[:, :, :, :-1]), dim=3)
        return torch.cat((before, x), dim=4)  # (B, H, R, nc, 2m, ...)

    q_c = chunks(sort(qk))  # (B, H, R, nc, m, d)
    k_c, v_c = look_back(chunks(sort(k)), 0.0), look_back(chunks(sort(v)), 0.0)  # (B, H, R, nc, 2m, d)
    i_pos, j_pos = chunks(order_p), look_back(chunks(order_p), N)  # (B, H, R, nc, m) / (…, 2m)
    i_bkt, j_bkt = chunks(bucket_p), look_back(chunks(bucket_p), -2)

    scores = q_c @ k_c.transpose(-1, -2) / math.sqrt(d)  # (B, H, R, nc, m, 2m)
    allowed = (i_bkt[..., :, None] == j_bkt[..., None, :]) & (j_pos[..., None, :] < N)
    if causal:
        allowed &= j_pos[..., None, :] <= i_pos[..., :, None]
    # -- duplicates: in how many rounds r' does j fall in i's set? With key = bucket·(nc + 1) + chunk, that is
    #    key_j − key_i ∈ {0, −1} in round r' (same bucket, same chunk or the one before)
    key = buckets * (n_chunks + 1) + chunk_of  # (B, H, R, N)
    i_at = i_pos.clamp_max(N - 1).reshape(B, H, 1, -1)  # (B, H, 1, R·Np): every pair's positions, flattened
    j_at = j_pos.clamp_max(N - 1).reshape(B, H, 1, -1)
    count = torch.zeros_like(scores, dtype=torch.int8 if R < 128 else torch.int32)
    for r in range(R):  # one round r' at a time: memory of one round's pairs, not R of them
        key_i = torch.gather(key[:, :, r : r + 1], 3, i_at).view(i_pos.shape)[..., :, None]
        key_j = torch.gather(key[:, :, r : r + 1], 3, j_at).view(j_pos.shape)[..., None, :]
        count += ((key_j - key_i) * 2 + 1).abs() == 1
    scores = scores - torch.log(count.clamp_min(1).to(scores.dtype))
    scores = torch.where(j_pos[..., None, :] == i_pos[..., :, None], SELF_SCORE, scores)
    scores = scores.masked_fill(~allowed, MASKED)

    z = torch.logsumexp(scores, dim=-1, keepdim=True)  # (B, H, R, nc, m, 1)
    o = torch.exp(scores - z) @ v_c  # (B, H, R, nc, m, d_v)
    # -- back to the original order, then merge the rounds by their log-sum-exps
    dv = v.shape[-1]
    o, z = o.reshape(B, H, R, Np, dv)[:, :, :, :N], z.reshape(B, H, R, Np)[:, :, :, :N]
    o = torch.gather(o, 3, rank[..., None].expand(B, H, R, N, dv))  # (B, H, R, N, d)
    z = torch.gather(z, 3, rank)  # (B, H, R, N)
    weights = torch.softmax(z, dim=2)  # exp(z^r − z)
    return (weights[..., None] * o).sum(dim=2)


def full_attention(qk: torch.Tensor, v: torch.Tensor, causal: bool = False) -> torch.Tensor:
    """Shared-QK attention over every pair (what LSH attention approximates), self-masked the same way."""
    N, d = qk.shape[-2:]
    k = qk / qk.norm(dim=-1, keepdim=True).clamp_min(1e-12)
    scores = qk @ k.transpose(-1, -2) / math.sqrt(d)  # (B, H, N, N)
    i = torch.arange(N, device=qk.device)
    scores = torch.where(i[:, None] == i[None, :], SELF_SCORE, scores)
    if causal:
        scores = scores.masked_fill(i[None, :] > i[:, None], MASKED)
    return scores.softmax(dim=-1) @ v


class LSHSelfAttention(nn.Module):
    """Multi-head shared-QK attention, LSH (``n_rounds`` fresh random hashes per call) or full."""

    def __init__(
        self, d_model: int, n_heads: int, n_buckets: int, n_rounds: int, chunk: int, angular: bool = True
    ) -> None:
        super().__init__()
        self.n_heads, self.n_buckets, self.n_rounds, self.chunk = n_heads, n_buckets, n_rounds, chunk
        self.angular = angular  # False: every rotation 0, every vector in bucket 0 (hashing blind to content)
        self.qk, self.v = nn.Linear(d_model, d_model, bias=False), nn.Linear(d_model, d_model, bias=False)
        self.out = nn.Linear(d_model, d_model, bias=False)

    def forward(
        self, x: torch.Tensor, n_buckets: int | None = None, n_rounds: int | None = None
    ) -> torch.Tensor:
        """Hash with the module's settings, or others (evaluating a model with more rounds, or with full
        attention: one bucket and a chunk as long as the sequence)."""
        B, N, D = x.shape
        qk = self.qk(x).view(B, N, self.n_heads, -1).transpose(1, 2)  # (B, H, N, d)
        v = self.v(x).view(B, N, self.n_heads, -1).transpose(1, 2)
        n_buckets, n_rounds = n_buckets or self.n_buckets, n_rounds or self.n_rounds
        if n_buckets == 1:  # one bucket: every pair, which lsh_attention gives too (checked), only slower
            y = full_attention(qk, v, causal=True)
        else:
            rotations = random_rotations(qk.shape[-1], n_buckets, n_rounds, like=qk)
            if not self.angular:
                rotations = torch.zeros_like(rotations)
            y = lsh_attention(qk, v, rotations, self.chunk, causal=True)
        return self.out(y.transpose(1, 2).reshape(B, N, D))


class _Reversible(torch.autograd.Function):
    """Forward without a graph; backward rebuilds each layer's input from its output (eqs. in section 3)."""

    @staticmethod
    def forward(
        ctx: Any,
        x1: torch.Tensor,
        x2: torch.Tensor,
        layers: Sequence[tuple[nn.Module, nn.Module]],
        *params: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        with torch.no_grad():
            for f, g in layers:
                x1 = x1 + f(x2)  # y1 = x1 + F(x2)
                x2 = x2 + g(x1)  # y2 = x2 + G(y1)
        ctx.layers = layers
        ctx.save_for_backward(x1, x2)  # the last outputs only: nothing per layer
        return x1, x2

    @staticmethod
    def backward(ctx: Any, dy1: torch.Tensor, dy2: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        y1, y2 = ctx.saved_tensors
        grads: list[torch.Tensor] = []
        for f, g in reversed(ctx.layers):
            with torch.enable_grad():
                y1 = y1.detach().requires_grad_()
                gy1 = g(y1)
                g_params = [p for p in g.parameters() if p.requires_grad]
                d_y1, *d_g = torch.autograd.grad(gy1, (y1, *g_params), dy2)
            with torch.no_grad():
                x2 = y2 - gy1  # x2 = y2 − G(y1)
                dy1 = dy1 + d_y1
            with torch.enable_grad():
                x2 = x2.detach().requires_grad_()
                fx2 = f(x2)
                f_params = [p for p in f.parameters() if p.requires_grad]
                d_x2, *d_f = torch.autograd.grad(fx2, (x2, *f_params), dy1)
            with torch.no_grad():
                x1 = y1 - fx2  # x1 = y1 − F(x2)
                dy2 = dy2 + d_x2
            y1, y2 = x1, x2
            grads = d_f + d_g + grads  # in the order of ``params``: f's then g's, layer by layer
        return (dy1, dy2, None, *grads)


def reversible(
    x1: torch.Tensor, x2: torch.Tensor, layers: Sequence[tuple[nn.Module, nn.Module]]
) -> tuple[torch.Tensor, torch.Tensor]:
    """The reversible stack: same outputs as :func:`residual`, activations recomputed in backward."""
    params = [p for f, g in layers for m in (f, g) for p in m.parameters() if p.requires_grad]
    return _Reversible.apply(x1, x2, layers, *params)


def residual(
    x1: torch.Tensor, x2: torch.Tensor, layers: Sequence[tuple[nn.Module, nn.Module]]
) -> tuple[torch.Tensor, torch.Tensor]:
    """The same equations through plain autograd, which stores every layer's activations."""
    for f, g in layers:
        x1 = x1 + f(x2)
        x2 = x2 + g(x1)
    return x1, x2
