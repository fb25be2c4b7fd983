"""Sliding window attention at toy scale: exact against PyTorch's fused attention with a band mask, the
rolling-buffer cache equal to full decoding, and depth carrying information past the window.

check: ``sliding_window_attention`` equals ``F.scaled_dot_product_attention`` with a band mask built
       independently (``tril``/``triu``), forward and gradients, float64 and float32, for N = 1, 7, 33 and
       windows 1, 4, 16 and wider than N (then it is plain causal attention); token-by-token decoding with
       the rolling buffer of W entries equals the full masked computation at every step; the receptive
       field of L stacked layers (non-zero ∂out[N−1]/∂x) is exactly L·(W − 1) + 1 positions.
train: with W = 4, the task "output the token 6 steps back" is out of reach of one layer (it sees 3 back)
       and within reach of two (they see 6 back): one- and two-layer models, same seed and batches.
bench: the windowed attention against full causal SDPA for growing N at a fixed window.
"""

from __future__ import annotations

from functools import partial

import torch
import torch.nn.functional as F

from readtrack.api import RunContext, dtype_name
from readtrack.plugin_kit.tasks import IGNORE, accuracy, lagged_copy_batch

from .config import Config
from .model import RollingKVCache, WindowedLM, sliding_window_attention

VOCAB, WINDOW = 16, 4  # the check stage's model (train: config.py)
LAYERS = {1: "one layer", 2: "two layers", 3: "three layers"}


def band_sdpa(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, window: int) -> torch.Tensor:
    """The reference: PyTorch's fused attention with the band written as tril and triu (True = attend)."""
    n = q.shape[-2]
    band = torch.ones(n, n, dtype=torch.bool, device=q.device).tril().triu(-(window - 1))
    return F.scaled_dot_product_attention(q, k, v, attn_mask=band)


def check(ctx: RunContext) -> None:
    for dtype in ctx.check_dtypes:
        for n in (1, 7, 33):
            for window in (1, 4, 16, n + 5):
                q, k, v = (torch.randn(2, 3, n, 8, dtype=dtype, device=ctx.device) for _ in range(3))
                out, grads = ctx.value_and_grads(partial(sliding_window_attention, window=window), q, k, v)
                ref, ref_grads = ctx.value_and_grads(partial(band_sdpa, window=window), q, k, v)
                name = f"N={n}, W={window} ({dtype_name(dtype)})"
                ctx.check_close(f"windowed attention vs SDPA with a band mask, {name}", out, ref)
                ctx.check_close(f"gradients vs SDPA with a band mask, {name}", grads, ref_grads)
    _check_rolling_cache(ctx)
    _check_receptive_field(ctx)

    # q, k, v are (..., N, d): any number of leading dimensions, not just (batch, heads); and W ≥ 1.
    q, k, v = (torch.randn(5, 9, 4, dtype=ctx.exact_dtype, device=ctx.device) for _ in range(3))
    ctx.check_close(
        "windowed attention vs SDPA with a band mask, 3-D q, k, v (5, 9, 4), W=3",
        sliding_window_attention(q, k, v, 3),
        band_sdpa(q, k, v, 3),
    )
    try:
        out = sliding_window_attention(q, k, v, 0)
        refused = f"returned {'NaN' if bool(out.isnan().any()) else 'a tensor'} for W = 0"
    except ValueError:
        refused = ""
    except Exception as err:  # the learner's code failing otherwise, e.g. a ZeroDivisionError
        refused = f"raised {type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"
    ctx.check_property("a window W < 1 (0) raises ValueError", not refused, refused)


def _check_rolling_cache(ctx: RunContext) -> None:
    """Decode 40 positions one at a time through a buffer of W = 5 entries: each step's output must equal the
    full computation's row, and the buffer never grows."""
    exact, window, n = ctx.exact_dtype, 5, 40
    q, k, v = (torch.randn(2, 3, n, 8, dtype=exact, device=ctx.device) for _ in range(3))
    full = sliding_window_attention(q, k, v, window)  # (2, 3, n, 8)
    cache = RollingKVCache(2, 3, window, 8, like=q)
    steps = []
    for i in range(n):
        cache.append(k[:, :, i], v[:, :, i])
        steps.append(cache.attend(q[:, :, i]))
    ctx.check_close(
        f"rolling buffer of {window} entries, decoding {n} positions = full masked attention",
        torch.stack(steps, dim=2),
        full,
    )
    ctx.check_property(
        "the rolling buffer holds W entries whatever the length",
        cache.k.shape[2] == window and cache.filled == n,
        f"{cache.k.shape[2]} slots after {n} positions",
        value=float(cache.k.shape[2]),
    )


def _check_receptive_field(ctx: RunContext) -> None:
    """Stacked windowed layers (no training needed): the last output depends on exactly L·(W − 1) + 1
    inputs, counted from the gradient of the last position's output."""
    window, n = WINDOW, 24
    for layers in (1, 2, 3):
        torch.manual_seed(ctx.seed + layers)
        model = WindowedLM(VOCAB, n, window, layers).to(ctx.device, ctx.exact_dtype)
        x = torch.randn(1, n, model.embed.embedding_dim, dtype=ctx.exact_dtype, device=ctx.device)
        (grad,) = torch.autograd.grad(
            model.blocks(x.requires_grad_())[0, -1].sum(), x
        )  # ∂out[N−1]/∂x: (1, n, D)
        reach = int((grad[0].abs().sum(-1) > 0).sum())
        expected = layers * (window - 1) + 1
        ctx.check_property(
            f"{layers} layer(s), W={window}: the last output depends on L·(W − 1) + 1 = {expected} inputs",
            reach == expected,
            f"non-zero ∂out/∂x at {reach} positions",
            value=float(reach),
        )


def train(ctx: RunContext) -> None:
    cfg = ctx.config(Config)
    steps, window, lag, deep, n = cfg.steps, cfg.window, cfg.lag, cfg.depth, cfg.seq_len
    depths = tuple(dict.fromkeys((1, deep)))  # one model when depth=1
    reached = {}
    for done, layers in enumerate(depths):
        torch.manual_seed(ctx.seed)
        model = WindowedLM(cfg.vocab, n, window, layers, d_model=cfg.d_model).to(ctx.device)
        opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
        g = torch.Generator().manual_seed(ctx.seed)  # the same batches for both depths
        for step in range(steps):
            x, y = lagged_copy_batch(cfg.batch, n, lag, g, vocab=cfg.vocab, device=ctx.device)
            loss = F.cross_entropy(model(x).flatten(0, 1), y.flatten(), ignore_index=IGNORE)
            opt.zero_grad()
            loss.backward()
            opt.step()
            if step % 20 == 0:
                ctx.metric(f"loss ({layers} layer{'s' if layers > 1 else ''})", step, loss.item())
        x, y = lagged_copy_batch(
            512, n, lag, torch.Generator().manual_seed(ctx.seed + 1), vocab=cfg.vocab, device=ctx.device
        )
        with torch.no_grad():
            reached[layers] = accuracy(model(x), y)
        ctx.progress(done + 1, len(depths))
    vocab, reach = cfg.vocab, deep * (window - 1)  # how far back the deep model reads: L·(W − 1)
    detail = f"W = {window}, lag {lag}, {steps} Adam steps; chance is 1/{vocab} = {1 / vocab:.3f}"
    if lag > reach:
        detail += f"; the token {lag} back is beyond {deep} layer(s)' reach too"
    ctx.target(
        f"{LAYERS.get(deep, f'{deep} layers')} (they see {reach} back): accuracy copying the token {lag} "
        "back",
        reached[deep],
        0.9,
        detail=detail,
    )
    ctx.target(
        f"one layer (it sees {window - 1} back): accuracy on the same task",
        reached[1],
        0.2,
        higher_is_better=False,
        detail="out of its receptive field: it can only guess"
        if lag > window - 1
        else f"the token {lag} back is inside its window: it can learn the task",
    )


def bench(ctx: RunContext) -> None:
    batch, heads, d, window = 2, 4, 64, 128
    for i, n in enumerate((256, 1024) if ctx.quick else (512, 2048, 8192)):
        q, k, v = (torch.randn(batch, heads, n, d, device=ctx.device) for _ in range(3))
        ctx.bench.measure(
            f"causal SDPA N={n}",
            partial(F.scaled_dot_product_attention, q, k, v, is_causal=True),
            baseline=i == 0,
            tokens=batch * n,
            shape=(batch, heads, n, d),
            dtype=q.dtype,
        )
        ctx.bench.measure(
            f"sliding window W={window} N={n}",
            partial(sliding_window_attention, q, k, v, window),
            tokens=batch * n,
            shape=(batch, heads, n, d),
            dtype=q.dtype,
            params={"window": window},
        )
