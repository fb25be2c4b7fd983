"""Reformer at toy scale: LSH attention exact against its definition, finding most of the attention mass
with a fraction of the pairs, more rounds closing the gap to full attention, and reversible layers whose
backward needs no stored activations.

check: ``lsh_attention`` against a brute-force version written from the paper's definition (hash each
       vector, sort positions by bucket in Python, chunk, build the N × N mask of pairs that share a bucket
       and a chunk or the chunk before, union over rounds, dense softmax), float64 then float32, with
       gradients, N = 1, 13, 20 (no multiple of the chunk), causal or not, 1 to 4 rounds; one bucket with a
       chunk ≥ N equals full shared-QK attention; the reversible stack equals the residual equations in
       outputs and every gradient, rebuilds its inputs from its outputs, and saves the same bytes at any
       depth while plain autograd saves more with every layer.
train: (1) on 1,024 clustered vectors, the share of each query's full-attention mass that LSH's pairs hold
       with 1, 2, 4 and 8 rounds against the share of pairs they cost; (2) the paper's duplication task
       (0 w 0 w, table 2): a 2-layer shared-QK model trained with full attention, evaluated with LSH
       attention of 1, 2, 4 and 8 rounds (quick: 1 and 8, on 512 sequences), a fresh hash per 16 sequences.
bench: forward + backward of LSH attention (2 and 8 rounds) against full attention, N = 256 to 4096; the
       reversible stack against the residual one.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial

import torch
import torch.nn.functional as F
from torch import nn

from readtrack.api import RunContext, dtype_name

from .config import Config
from .model import (
    LSHSelfAttention,
    full_attention,
    lsh_attention,
    random_rotations,
    residual,
    reversible,
)


def dense_reference(
    qk: torch.Tensor, v: torch.Tensor, rotations: torch.Tensor, chunk: int, causal: bool = False
) -> torch.Tensor:
    """LSH attention from the paper's definition, by brute force: P_i as an N × N mask, then a dense softmax
    in which every pair of P_i counts once."""
    B, H, N, d = qk.shape
    allowed = torch.zeros(B, H, N, N, dtype=torch.bool)
    for r in range(rotations.shape[0]):
        projected = (qk @ rotations[r]).cpu()  # (B, H, N, b/2)
        bucket = (
            torch.cat((projected, -projected), dim=-1).argmax(dim=-1).tolist()
            if projected.shape[-1]
            else None
        )
        for b in range(B):
            for h in range(H):
                hashed = bucket[b][h] if bucket is not None else [0] * N
                order = sorted(range(N), key=lambda i: (hashed[i], i))
                chunk_of = {position: rank // chunk for rank, position in enumerate(order)}
                for i in range(N):
                    for j in range(N):
                        if (
                            hashed[i] == hashed[j]
                            and chunk_of[j] in (chunk_of[i], chunk_of[i] - 1)
                            and (j <= i or not causal)
                        ):
                            allowed[b, h, i, j] = True
    k = qk / qk.norm(dim=-1, keepdim=True)
    scores = qk @ k.transpose(-1, -2) / math.sqrt(d)
    # A query's score for itself, written here apart from the model's constant: −1e5, the self-mask value
    # of Hugging Face's Reformer (section 2: i attends itself only when nothing else is in P_i).
    scores = scores.diagonal_scatter(
        torch.full_like(scores.diagonal(dim1=-2, dim2=-1), -1e5), dim1=-2, dim2=-1
    )
    scores = scores.masked_fill(~allowed.to(qk.device), float("-inf"))
    return scores.softmax(dim=-1) @ v


def check(ctx: RunContext) -> None:
    cases = ((1, 4, 2, 4, False), (13, 4, 3, 4, False), (20, 5, 4, 8, True), (20, 3, 1, 6, True))
    g = torch.Generator().manual_seed(ctx.seed)
    for dtype in ctx.check_dtypes:
        for n, chunk, rounds, buckets, causal in cases:
            qk, v = (torch.randn(2, 2, n, 6, generator=g, dtype=dtype).to(ctx.device) for _ in range(2))
            rotations = random_rotations(6, buckets, rounds, generator=g, like=qk)
            name = (
                f"N = {n}, chunk {chunk}, {buckets} buckets, {rounds} round{'s' * (rounds > 1)}"
                f"{', causal' if causal else ''} ({dtype_name(dtype)})"
            )
            ours, grads = ctx.value_and_grads(
                partial(lsh_attention, rotations=rotations, chunk=chunk, causal=causal), qk, v
            )
            ref, ref_grads = ctx.value_and_grads(
                partial(dense_reference, rotations=rotations, chunk=chunk, causal=causal), qk, v
            )
            ctx.check_close(f"LSH attention vs its brute-force definition, {name}", ours, ref)
            ctx.check_close(f"gradients vs the brute-force definition's, {name}", grads, ref_grads)
        qk, v = (torch.randn(2, 2, 37, 8, generator=g, dtype=dtype).to(ctx.device) for _ in range(2))
        one_bucket = random_rotations(8, 1, 2, like=qk)
        for causal in (False, True):
            ctx.check_close(
                f"one bucket, chunk ≥ N equals full shared-QK attention{', causal' if causal else ''} "
                f"({dtype_name(dtype)})",
                lsh_attention(qk, v, one_bucket, chunk=40, causal=causal),
                full_attention(qk, v, causal=causal),
            )
    _check_reversible(ctx)

    # The bucket ids themselves: LSH attention treats the rounds alike, so it cannot tell which rotation
    # hashed which round; here round r must be argmax([x R_r; −x R_r]) with R_r = rotations[r].
    from .model import lsh_buckets

    x = torch.randn(2, 3, 11, 6, generator=g, dtype=ctx.exact_dtype).to(ctx.device)
    rotations = random_rotations(6, 8, 4, generator=g, like=x)
    with torch.no_grad():
        ours = lsh_buckets(x, rotations)
        projected = torch.stack([x @ rotation for rotation in rotations], dim=2)  # (B, H, R, N, b/2)
        expected = torch.cat((projected, -projected), dim=-1).argmax(dim=-1)  # (B, H, R, N)
    detail = f"{tuple(ours.shape)}, {dtype_name(ours.dtype)}"
    if ours.shape == expected.shape:
        detail += f"; round by round alike: {(ours == expected).all(-1).all(0).all(0).tolist()}"
    ctx.check_property(
        "bucket ids (B, H, R, N), long: round r is argmax([x R_r; −x R_r]), R_r = rotations[r], 4 rounds",
        ours.shape == expected.shape and ours.dtype == torch.long and torch.equal(ours, expected),
        detail,
    )


def _layers(width: int, depth: int, dtype: torch.dtype, device: str) -> list[tuple[nn.Module, nn.Module]]:
    def mlp() -> nn.Module:
        return nn.Sequential(
            nn.LayerNorm(width), nn.Linear(width, 2 * width), nn.GELU(), nn.Linear(2 * width, width)
        )

    return [(mlp().to(device, dtype), mlp().to(device, dtype)) for _ in range(depth)]


def _check_reversible(ctx: RunContext) -> None:
    dtype = ctx.exact_dtype
    layers = _layers(16, 3, dtype, ctx.device)
    params = [p for f, g in layers for m in (f, g) for p in m.parameters()]
    x1, x2 = (torch.randn(4, 5, 16, dtype=dtype, device=ctx.device) for _ in range(2))

    def through(
        stack: Callable[..., tuple[torch.Tensor, ...]], a: torch.Tensor, b: torch.Tensor
    ) -> torch.Tensor:
        return torch.cat(stack(a, b, layers))

    ours, grads = ctx.value_and_grads(partial(through, reversible), x1, x2, params=params)
    ref, ref_grads = ctx.value_and_grads(partial(through, residual), x1, x2, params=params)
    name = f"3 layers, F and G small MLPs ({dtype_name(dtype)})"
    ctx.check_close(f"reversible stack vs the residual equations, {name}", ours, ref)
    ctx.check_close(f"gradients recomputed in backward vs autograd's stored ones, {name}", grads, ref_grads)
    with torch.no_grad():
        y1, y2 = residual(x1, x2, layers)
        for f, g in reversed(layers):  # x2 = y2 − G(y1), x1 = y1 − F(x2)
            y2 = y2 - g(y1)
            y1 = y1 - f(y2)
    ctx.check_close(f"inputs rebuilt from the outputs, {name}", torch.cat((y1, y2)), torch.cat((x1, x2)))

    saved = {depth: (_saved_bytes(reversible, depth), _saved_bytes(residual, depth)) for depth in (2, 4, 8)}
    rev, plain = [saved[d][0] for d in saved], [saved[d][1] for d in saved]
    ctx.check_property(
        "activations saved for backward: the same at depth 2, 4 and 8 for the reversible stack, "
        "growing with depth for plain autograd",
        len(set(rev)) == 1 and plain[0] < plain[1] < plain[2],
        "reversible "
        + " / ".join(f"{b / 2**10:.0f}" for b in rev)
        + " KiB; plain "
        + " / ".join(f"{b / 2**10:.0f}" for b in plain)
        + " KiB",
        value=plain[-1] / rev[-1],
    )


def _saved_bytes(stack: Callable[..., tuple[torch.Tensor, torch.Tensor]], depth: int) -> int:
    """Bytes autograd keeps for backward (parameters excluded) after a forward of ``depth`` layers."""
    layers = _layers(32, depth, torch.float32, "cpu")
    params = {p.data_ptr() for f, g in layers for m in (f, g) for p in m.parameters()}
    sizes: list[int] = []

    def pack(t: torch.Tensor) -> torch.Tensor:
        if t.data_ptr() not in params:
            sizes.append(t.nbytes)
        return t

    x1, x2 = (torch.randn(8, 64, 32, requires_grad=True) for _ in range(2))
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        stack(x1, x2, layers)
    return sum(sizes)


def clustered(n: int, d: int, clusters: int, g: torch.Generator, device: str) -> torch.Tensor:
    """(1, 1, n, d) vectors around ``clusters`` random centres (cosine ≈ 0.8 within a cluster), scaled so
    that attention is as peaked as a trained model's: most of a query's mass lies on its own cluster."""
    centres = torch.randn(clusters, d, generator=g, dtype=torch.float64)
    x = centres[torch.randint(0, clusters, (n,), generator=g)] + 0.5 * torch.randn(
        n, d, generator=g, dtype=torch.float64
    )
    return (6.0 * x)[None, None].to(device)


def attention_recall(
    ctx: RunContext, rounds: tuple[int, ...], angular: bool = True
) -> dict[int, tuple[float, float]]:
    """For each number of rounds: (share of each query's full-attention mass that falls on the pairs LSH
    attention uses, share of all pairs it uses), averaged over queries; self-pairs excluded from both.
    ``angular=False``: every rotation 0 (``--set hashing=off``), so the pairs are chunks of positions."""
    n, d = 1024, 64
    g = torch.Generator().manual_seed(ctx.seed)
    x = clustered(n, d, 32, g, ctx.device)
    eye = torch.eye(n, dtype=torch.bool, device=ctx.device)
    scores = (x @ (x / x.norm(dim=-1, keepdim=True)).transpose(-1, -2) / math.sqrt(d))[0, 0]
    mass = scores.masked_fill(eye, float("-inf")).softmax(dim=-1)  # (n, n): full attention's weights
    found = {}
    for r in rounds:
        rotations = random_rotations(d, 32, r, generator=g, like=x)
        if not angular:
            rotations = torch.zeros_like(rotations)
        probe = torch.eye(n, dtype=x.dtype, device=ctx.device)[None, None]  # v = I: the output is the weights
        used = (lsh_attention(x, probe, rotations, chunk=32)[0, 0] > 0) & ~eye
        found[r] = ((mass * used).sum(dim=-1).mean().item(), used.double().mean().item())
    return found


V, W = 16, 15  # symbols 1 … 15, words of 15: sequences 0 w 0 w of 32 tokens
N = 2 * (W + 1)


def duplication_batch(size: int, g: torch.Generator, device: str, word: int = W) -> torch.Tensor:
    """(size, 2·(word + 1)) sequences 0 w 0 w, w of ``word`` symbols uniform over 1 … 15: only copying
    predicts the second w."""
    w = torch.randint(1, V, (size, word), generator=g)
    zero = torch.zeros(size, 1, dtype=torch.long)
    return torch.cat((zero, w, zero, w), dim=1).to(device)


class Block(nn.Module):
    def __init__(self, d_model: int, n_heads: int, n_buckets: int, chunk: int, angular: bool = True) -> None:
        super().__init__()
        self.norm1, self.norm2 = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.attn = LSHSelfAttention(d_model, n_heads, n_buckets, n_rounds=1, chunk=chunk, angular=angular)
        self.mlp = nn.Sequential(nn.Linear(d_model, 4 * d_model), nn.GELU(), nn.Linear(4 * d_model, d_model))

    def forward(self, x: torch.Tensor, n_buckets: int | None, n_rounds: int | None) -> torch.Tensor:
        x = x + self.attn(self.norm1(x), n_buckets, n_rounds)
        return x + self.mlp(self.norm2(x))


class LM(nn.Module):
    """A small causal language model with shared-QK attention, full or LSH at each call."""

    def __init__(
        self,
        d_model: int = 64,
        n_heads: int = 2,
        layers: int = 2,
        chunk: int = 4,
        length: int = N,
        angular: bool = True,
    ) -> None:
        super().__init__()
        self.embed, self.position = nn.Embedding(V, d_model), nn.Embedding(length, d_model)
        self.blocks = nn.ModuleList(Block(d_model, n_heads, 1, chunk, angular) for _ in range(layers))
        self.norm, self.head = nn.LayerNorm(d_model), nn.Linear(d_model, V)

    def forward(
        self, tokens: torch.Tensor, n_buckets: int | None = None, n_rounds: int | None = None
    ) -> torch.Tensor:
        x = self.embed(tokens) + self.position(torch.arange(tokens.shape[1], device=tokens.device))
        for block in self.blocks:
            x = block(x, n_buckets, n_rounds)
        return self.head(self.norm(x))


def copy_accuracy(
    model: LM, tokens: torch.Tensor, n_buckets: int = 1, n_rounds: int = 1, batch: int = 16
) -> float:
    """Accuracy on the second w, the only part that can be predicted, over batches of ``batch`` sequences.
    Each forward draws its own hash rotations, shared by all its sequences: one batch of every sequence
    would score one draw, whose luck (± 0.04 with one round) would outweigh the model's own variation."""
    word = tokens.shape[1] // 2 - 1  # 0 w 0 w
    with torch.no_grad():
        predicted = torch.cat(
            [
                model(part[:, :-1], n_buckets, n_rounds)[:, word + 1 :].argmax(dim=-1)
                for part in tokens.split(batch)
            ]
        )
    return (predicted == tokens[:, word + 2 :]).double().mean().item()


def train(ctx: RunContext) -> None:
    cfg = ctx.config(Config)
    angular = cfg.hashing == "angular"
    instead = "" if angular else "; hashing=off: every rotation 0, LSH's pairs are chunks of positions"
    rounds = (1, 2, 4, 8)
    found = attention_recall(ctx, rounds, angular)
    for r, (recall, pairs) in found.items():
        ctx.measured(
            f"attention mass on LSH's pairs, {r} round{'s' * (r > 1)}",
            recall,
            f"using {pairs:.1%} of the pairs (random pairs would hold ≈ {pairs:.1%} of the mass)",
        )
    ctx.target(
        "attention mass found: 8 rounds minus 1 round",
        found[8][0] - found[1][0],
        0.2,
        detail="1,024 vectors in 32 clusters, 32 buckets, chunks of 32" + instead,
    )
    ctx.target(
        "attention mass per share of pairs, the worst of 1 … 8 rounds (random pairs: 1)",
        min(recall / pairs for recall, pairs in found.values()),
        3.0,
        detail=instead[2:],
    )
    ctx.progress(1, 3)

    steps, word = cfg.steps, cfg.word
    torch.manual_seed(ctx.seed)
    model = LM(cfg.d_model, layers=cfg.depth, length=2 * (word + 1), angular=angular).to(ctx.device)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    g = torch.Generator().manual_seed(ctx.seed)
    for step in range(steps):
        tokens = duplication_batch(cfg.batch, g, ctx.device, word)
        logits = model(tokens[:, :-1])[:, word + 1 :]  # full attention while training
        loss = F.cross_entropy(logits.reshape(-1, V), tokens[:, word + 2 :].reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 10 == 0:
            ctx.metric("train loss (full attention)", step, loss.item())
    ctx.progress(2, 3)
    # The quick run evaluates 512 new sequences with LSH-1 and LSH-8 only (the targets); the full run 2,048
    # with 1, 2, 4 and 8 rounds; both in batches of 16, each with its own hash draw (32 and 128 draws).
    # Evaluating with 8 rounds is the costliest step of the quick run.
    test = duplication_batch(cfg.sequences, torch.Generator().manual_seed(ctx.seed + 1), ctx.device, word)
    full = copy_accuracy(model, test)
    ctx.target(
        "copy accuracy, full attention",
        full,
        0.95,
        detail=f"{steps} Adam steps, {cfg.depth} layers, {len(test)} new sequences",
    )
    lsh = {}
    for r in (1, 8) if ctx.quick else rounds:
        torch.manual_seed(ctx.seed + r)  # the hash rotations
        lsh[r] = copy_accuracy(model, test, n_buckets=cfg.buckets, n_rounds=r)
        ctx.measured(
            f"copy accuracy, evaluated with LSH-{r}",
            lsh[r],
            f"{cfg.buckets} buckets, chunks of 4, {2 * word + 1} positions; "
            f"{len(test) // 16} hash draws of 16 sequences each",
        )
    ctx.target(
        "copy accuracy with LSH-8, within 0.05 of full attention", lsh[8], full - 0.05, detail=instead[2:]
    )
    ctx.target(
        "copy accuracy: LSH-8 minus LSH-1",
        lsh[8] - lsh[1],
        0.05,
        detail="more rounds, closer to full attention" + instead,
    )
    ctx.progress(3, 3)


def bench(ctx: RunContext) -> None:
    sizes = (256, 512) if ctx.quick else (256, 1024, 4096)
    for n in sizes:
        qk, v = (torch.randn(1, 2, n, 32, device=ctx.device, requires_grad=True) for _ in range(2))
        variants: list[tuple[str, Callable[..., torch.Tensor]]] = [
            ("full shared-QK attention", full_attention)
        ]
        for r in (2,) if ctx.quick else (2, 8):
            rotations = random_rotations(32, max(2, n // 32), r, like=qk)
            variants.append(
                (f"LSH attention, {r} rounds", partial(lsh_attention, rotations=rotations, chunk=32))
            )
        for name, attend in variants:

            def step(
                attend: Callable[..., torch.Tensor] = attend, qk: torch.Tensor = qk, v: torch.Tensor = v
            ) -> None:
                torch.autograd.grad(attend(qk, v).square().mean(), (qk, v))

            ctx.bench.measure(
                f"{name}, N = {n}",
                step,
                baseline=attend is full_attention and n == sizes[0],
                tokens=n,
                shape=(1, 2, n, 32),
                dtype=torch.float32,
            )
    width, batch = (64, 4) if ctx.quick else (256, 8)
    layers = _layers(width, 8, torch.float32, ctx.device)
    x1, x2 = (torch.randn(batch, 128, width, device=ctx.device, requires_grad=True) for _ in range(2))
    for name, stack in (("residual stack, 8 layers", residual), ("reversible stack, 8 layers", reversible)):

        def run(stack: Callable[..., tuple[torch.Tensor, torch.Tensor]] = stack) -> None:
            y1, y2 = stack(x1, x2, layers)
            torch.autograd.grad((y1 + y2).square().mean(), (x1, x2))

        ctx.bench.measure(
            name,
            run,
            baseline=stack is residual,
            tokens=batch * 128,
            shape=(batch, 128, width),
            dtype=torch.float32,
        )
