"""Transformer-XL at toy scale: the relative shift and relative attention exact against direct versions, the
recurrence exact against full attention over the window, and memory that reaches into the previous segment
at any length of text.

check: ``rel_shift`` equals gathering each (query, key) pair's distance directly, for memories of 0 to 8
       and segments of 1 to 8; the attention layer equals a separately written version that builds
       R_{i−j} for every pair (forward and gradients, float64 and float32); reading two segments with
       memory equals reading them as one with causal attention (2 layers); memories carry no gradient.
train: streams of segments of 8 tokens where each target is the token one segment back: a 1-layer model
       with an 8-state memory against the same model without memory, same seed and batches, trained on
       streams of 4 segments and evaluated on streams of 16 (longer than any seen in training).
bench: one segment's forward with and without memory, for growing memory length.
"""

from __future__ import annotations

import math
from functools import partial

import torch
import torch.nn.functional as F

from readtrack.api import RunContext, dtype_name
from readtrack.plugin_kit.tasks import IGNORE, accuracy, lagged_copy_batch

from .config import Config
from .model import RelativeAttention, TransformerXL, rel_shift

VOCAB, SEGMENT, D_MODEL, HEADS = 16, 8, 32, 2  # the check's sizes; the train stage's are knobs, but HEADS


def direct_attention(layer: RelativeAttention, h: torch.Tensor, memory: torch.Tensor | None) -> torch.Tensor:
    """The reference: every pair's score from its own distance, A_ij = (q_i + u)·k_j + (q_i + v)·W_r R_{i−j},
    with the positional keys gathered by distance, no shift trick."""
    B, L, D = h.shape
    full = h if memory is None else torch.cat([memory, h], dim=1)
    P, M = full.shape[1], full.shape[1] - L
    Wq, Wk, Wv = layer.W_qkv.weight.split(D)  # (D, D) each
    heads = layer.n_heads

    def split(t: torch.Tensor) -> torch.Tensor:
        return t.view(B, -1, heads, D // heads).transpose(1, 2)  # (B, H, ·, d)

    q, k, v = split(h @ Wq.T), split(full @ Wk.T), split(full @ Wv.T)
    distance = (torch.arange(L).unsqueeze(1) + M - torch.arange(P)).clamp_min(0).to(h.device)  # (L, P)
    # R_p = [sin(p ω_0), …, sin(p ω_{D/2−1}), cos(p ω_0), …], ω_k = 10000^(−2k/D), written out per entry
    R = torch.tensor(
        [
            [math.sin(p / 10000 ** (2 * k / D)) for k in range(D // 2)]
            + [math.cos(p / 10000 ** (2 * k / D)) for k in range(D // 2)]
            for p in range(P)
        ],
        dtype=torch.float64,
    )
    r = layer.W_r(R.to(h.device, h.dtype))  # row p: distance p
    r_pairs = r[distance].view(L, P, heads, D // heads).permute(2, 0, 1, 3)  # (H, L, P, d)
    content = (q + layer.u[:, None]) @ k.transpose(-2, -1)
    position = ((q + layer.v[:, None]).unsqueeze(-2) * r_pairs).sum(-1)  # (B, H, L, P)
    scores = (content + position) / math.sqrt(D // heads)
    visible = torch.arange(P, device=h.device) <= torch.arange(L, device=h.device).unsqueeze(1) + M
    y = scores.masked_fill(~visible, float("-inf")).softmax(-1) @ v
    return layer.W_o(y.transpose(1, 2).flatten(2))


def check(ctx: RunContext) -> None:
    for L, M in ((1, 0), (4, 4), (5, 3), (8, 8)):
        x = torch.randn(2, L, L + M, dtype=ctx.exact_dtype)
        shifted = rel_shift(x)
        i, j = torch.arange(L).unsqueeze(1), torch.arange(L + M)
        column = (j + L - 1 - i).clamp(0, L + M - 1)  # distance M + i − j sits in column L + M − 1 − distance
        visible = j <= i + M
        gathered = x.gather(-1, column.expand(2, L, L + M))
        ctx.check_close(
            f"relative shift = gathering by distance, segment {L}, memory {M}",
            shifted[:, visible],
            gathered[:, visible],
        )

    for dtype in ctx.check_dtypes:
        for M in (0, 5):
            layer = RelativeAttention(D_MODEL, HEADS).to(ctx.device, dtype)
            with torch.no_grad():
                layer.u.normal_(), layer.v.normal_()  # zero biases would hide a mistake in terms (c), (d)
            h = torch.randn(3, 7, D_MODEL, dtype=dtype, device=ctx.device)
            memory = torch.randn(3, M, D_MODEL, dtype=dtype, device=ctx.device) if M else None
            params = list(layer.parameters())
            ours, grads = ctx.value_and_grads(partial(layer, memory=memory), h, params=params)
            ref, ref_grads = ctx.value_and_grads(
                partial(direct_attention, layer, memory=memory), h, params=params
            )
            name = f"memory {M} ({dtype_name(dtype)})"
            ctx.check_close(f"relative attention vs per-pair R_(i−j), {name}", ours, ref)
            ctx.check_close(f"gradients vs per-pair R_(i−j), {name}", grads, ref_grads)

    exact = ctx.exact_dtype
    model = TransformerXL(VOCAB, D_MODEL, HEADS, layers=2, memory_len=SEGMENT).to(ctx.device, exact).eval()
    tokens = torch.randint(0, VOCAB, (2, 2 * SEGMENT), device=ctx.device)
    with torch.no_grad():
        _, memories = model(tokens[:, :SEGMENT])
        recurrent, _ = model(tokens[:, SEGMENT:], memories)
        whole, _ = model(tokens)  # one segment of 2L, no memory: plain causal attention
    ctx.check_close(
        "segment 2 read with segment 1's memory = the last 8 of one 16-token pass (2 layers)",
        recurrent,
        whole[:, SEGMENT:],
    )
    _, memories = model(tokens[:, :SEGMENT])
    ctx.check_property(
        "memories are cut from the graph: SG(m), no gradient into the previous segment",
        all(not m.requires_grad for m in memories),
        f"{len(memories)} memories of {memories[0].shape[1]} states",
    )


def _stream_accuracy(model: TransformerXL, x: torch.Tensor, y: torch.Tensor, segment: int) -> float:
    """Read a stream (B, S·L) segment by segment, carrying memory; accuracy on the scored targets."""
    memories: list[torch.Tensor] | None = None
    logits = []
    with torch.no_grad():
        for start in range(0, x.shape[1], segment):
            out, memories = model(x[:, start : start + segment], memories)
            logits.append(out)
    return accuracy(torch.cat(logits, dim=1), y)


def train(ctx: RunContext) -> None:
    cfg = ctx.config(Config)
    segment, vocab, train_segments = cfg.segment, cfg.vocab, 4
    result = {}
    for with_memory in (True, False):  # the arm under test (its memory the knob's) and the one without
        memory_len = cfg.memory if with_memory else 0
        label = f"memory of {memory_len}" if with_memory else "no memory"
        torch.manual_seed(ctx.seed)  # the same initial weights for both
        model = TransformerXL(vocab, cfg.d_model, HEADS, layers=cfg.layers, memory_len=memory_len)
        model = model.to(ctx.device)
        opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
        g = torch.Generator().manual_seed(ctx.seed)  # the same streams for both
        for step in range(cfg.steps):
            x, y = lagged_copy_batch(
                cfg.batch, train_segments * segment, segment, g, vocab=vocab, device=ctx.device
            )
            memories: list[torch.Tensor] | None = None
            loss = x.new_zeros((), dtype=torch.float32)
            for start in range(0, x.shape[1], segment):  # truncated backpropagation: one segment at a time
                out, memories = model(x[:, start : start + segment], memories)
                target = y[:, start : start + segment]
                if (target != IGNORE).any():
                    loss = loss + F.cross_entropy(out.flatten(0, 1), target.flatten(), ignore_index=IGNORE)
            opt.zero_grad()
            loss.backward()
            opt.step()
            if step % 10 == 0:
                ctx.metric(f"loss ({label})", step, loss.item() / (train_segments - 1))
        model.eval()
        held_out = torch.Generator().manual_seed(ctx.seed + 1)
        x, y = lagged_copy_batch(
            256, cfg.eval_segments * segment, segment, held_out, vocab=vocab, device=ctx.device
        )
        result[with_memory] = _stream_accuracy(model, x, y, segment)
        ctx.progress(len(result), 2)
    detail = f"{cfg.steps} steps on streams of {train_segments} segments, evaluated on {cfg.eval_segments}"
    detail += f"; chance is 1/{vocab}"
    if cfg.memory != segment:
        detail += f"; a memory of {cfg.memory} states for segments of {segment} tokens"
    ctx.target(
        "with memory: accuracy recalling the token one segment back", result[True], 0.95, detail=detail
    )
    ctx.target(
        "without memory: accuracy on the same task",
        result[False],
        0.15,
        higher_is_better=False,
        detail="the token lies in the previous segment, which this model never sees",
    )


def bench(ctx: RunContext) -> None:
    segment, d_model = (64, 128) if ctx.quick else (128, 256)
    model = TransformerXL(VOCAB, d_model, 4, layers=2, memory_len=4 * segment).to(ctx.device).eval()
    tokens = torch.randint(0, VOCAB, (8, segment), device=ctx.device)
    for i, memory in enumerate((0, segment, 4 * segment)):
        memories = [torch.randn(8, memory, d_model, device=ctx.device) for _ in range(2)] if memory else None
        with torch.no_grad():
            ctx.bench.measure(
                f"one segment of {segment}, memory {memory}",
                partial(model, tokens, memories),
                baseline=i == 0,
                tokens=8 * segment,
                shape=(8, segment, d_model),
                dtype=torch.float32,
                params={"memory": memory},
            )
