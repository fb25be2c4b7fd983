"""The PaLM block at toy scale: each change checked against a separate reference, parallel against serial.

check: SwiGLU against Swish written out; RoPE against the complex-number rotation x·e^{inθ}; multi-query
       attention against SDPA with ``enable_gqa`` over one key/value head (N = 1, 7, 33, forward and
       gradients); the parallel and the serial block against a reference computed from their weights with
       separate matmuls (float64, then float32); and the properties: no bias anywhere, one embedding matrix
       for input and output, the model cannot see the future (its Jacobian), the MQA cache is 1/H of
       multi-head attention's.
train: 2-layer models on Markov-chain text whose entropy rate is known exactly: parallel against serial,
       same initial weights (the serial block only adds its second layer norm), same batches; held-out
       loss in nats.
bench: one block's forward + backward, serial (the baseline) against parallel with its fused input
       projection, at two widths; and the KV cache of multi-query against multi-head attention.
"""

from __future__ import annotations

from dataclasses import replace
from functools import partial

import torch
import torch.nn.functional as F

from readtrack.api import RunContext, dtype_name
from readtrack.plugin_kit import rates
from readtrack.plugin_kit.checks import check_causal
from readtrack.plugin_kit.tasks import MarkovText

from .config import Config
from .model import PaLM, PaLMBlock, multi_query_attention, rotary, swiglu

VOCAB, D_MODEL, HEADS = 16, 64, 4  # the checks' sizes; the train stage's are config.py's knobs, but HEADS


def check(ctx: RunContext) -> None:
    for dtype in ctx.check_dtypes:
        name = dtype_name(dtype)
        x = torch.randn(3, 5, 8, dtype=dtype, device=ctx.device)
        W, V = (torch.randn(8, 12, dtype=dtype, device=ctx.device) for _ in range(2))
        a = x @ W
        ctx.check_close(
            f"SwiGLU vs x W · sigmoid(x W) ⊙ x V ({name})", swiglu(x, W, V), a * a.sigmoid() * (x @ V)
        )

        q = torch.randn(2, 3, 37, 16, dtype=dtype, device=ctx.device)
        ctx.check_close(
            f"RoPE vs the complex rotation x·e^(inθ), N = 37 ({name})", rotary(q), _rotary_complex(q)
        )

        for n in (1, 7, 33):
            q = torch.randn(2, HEADS, n, 16, dtype=dtype, device=ctx.device)
            k, v = (torch.randn(2, 1, n, 16, dtype=dtype, device=ctx.device) for _ in range(2))
            ours, grads = ctx.value_and_grads(multi_query_attention, q, k, v)
            sdpa = lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True)  # noqa: E731
            ref, ref_grads = ctx.value_and_grads(sdpa, q, k, v)
            ctx.check_close(f"multi-query attention vs SDPA enable_gqa, N = {n} ({name})", ours, ref)
            ctx.check_close(f"its gradients vs SDPA's, N = {n} ({name})", grads, ref_grads)

        for serial in (False, True):
            block = PaLMBlock(D_MODEL, HEADS, 4 * D_MODEL, serial=serial).to(ctx.device, dtype)
            with torch.no_grad():  # layer norms away from their identity initialisation
                for norm in (block.norm, block.norm_mlp):
                    if norm is not None:
                        norm.weight.uniform_(0.5, 1.5)
            x = torch.randn(2, 11, D_MODEL, dtype=dtype, device=ctx.device)
            params = list(block.parameters())
            ours, grads = ctx.value_and_grads(block, x, params=params)
            ref, ref_grads = ctx.value_and_grads(partial(_block_reference, block), x, params=params)
            kind = "serial" if serial else "parallel"
            ctx.check_close(f"{kind} block vs its weights in separate matmuls ({name})", ours, ref)
            ctx.check_close(f"{kind} block gradients, inputs and weights ({name})", grads, ref_grads)

    model = PaLM(VOCAB, D_MODEL, HEADS, layers=2).to(ctx.device, ctx.exact_dtype)
    biases = [n for n, p in model.named_parameters() if n.endswith("bias")]
    ctx.check_property("no biases in dense layers or layer norms", not biases, f"biases found: {biases}")
    matrices = [n for n, p in model.named_parameters() if p.shape[0] == VOCAB]
    ctx.check_property(
        "input and output share one embedding matrix",
        matrices == ["embed.weight"],
        f"vocab-sized: {matrices}",
    )
    _check_causal(ctx, model)
    mqa = PaLMBlock(D_MODEL, HEADS, 4 * D_MODEL).kv_cache_elements(4, 1024)
    mha = 2 * 4 * 1024 * D_MODEL  # keys and values of all H heads
    ctx.check_property(
        f"the multi-query KV cache is 1/H of multi-head attention's (H = {HEADS})",
        mqa * HEADS == mha,
        f"numbers per layer for 4 × 1024 tokens: MQA {mqa:,}, MHA {mha:,}",
        value=mqa / mha,
    )


def _rotary_complex(x: torch.Tensor) -> torch.Tensor:
    """RoPE as RoFormer's section 3.2 writes it: each pair (x_2i, x_2i+1) a complex number times e^(inθ_i)."""
    n, d = x.shape[-2], x.shape[-1]
    theta = 10000.0 ** (-2 * torch.arange(d // 2, dtype=torch.float64) / d)
    phase = torch.polar(torch.ones(n, d // 2, dtype=torch.float64), torch.arange(n)[:, None] * theta)
    pairs = torch.view_as_complex(x.reshape(*x.shape[:-1], d // 2, 2).contiguous())  # differentiable
    return torch.view_as_real(pairs * phase.to(x.device, pairs.dtype)).flatten(-2)


def _block_reference(block: PaLMBlock, x: torch.Tensor) -> torch.Tensor:
    """The block from its weights: each projection its own matmul, RoPE by the complex form, attention by
    SDPA over the key/value head repeated H times, LN by F.layer_norm, SwiGLU written out."""
    D, d, f = block.splits[0], block.d_head, block.d_ff
    W_q, W_k, W_v, W_a, W_b = block.W_in.weight.split((D, d, d, f, f))
    B, n, _ = x.shape

    def attention(h: torch.Tensor) -> torch.Tensor:
        q = _rotary_complex((h @ W_q.T).view(B, n, block.n_heads, d).transpose(1, 2))
        k = _rotary_complex((h @ W_k.T).view(B, n, 1, d).transpose(1, 2)).expand(B, block.n_heads, n, d)
        v = (h @ W_v.T).view(B, n, 1, d).transpose(1, 2).expand(B, block.n_heads, n, d)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return y.transpose(1, 2).reshape(B, n, D) @ block.W_o.weight.T

    def mlp(h: torch.Tensor) -> torch.Tensor:
        a = h @ W_a.T
        return (a * torch.sigmoid(a) * (h @ W_b.T)) @ block.W_2.weight.T

    h = F.layer_norm(x, (D,), block.norm.weight)
    if not block.serial:
        return x + attention(h) + mlp(h)
    assert block.norm_mlp is not None
    x = x + attention(h)
    return x + mlp(F.layer_norm(x, (D,), block.norm_mlp.weight))


def _check_causal(ctx: RunContext, model: PaLM) -> None:
    """Logits at position i must not depend on embeddings after i: the Jacobian is block lower-triangular."""
    tokens = torch.randint(0, VOCAB, (1, 9), device=ctx.device)
    embedded = model.embed(tokens).detach()

    def logits_from(e: torch.Tensor) -> torch.Tensor:
        x = e
        for block in model.blocks:
            x = block(x)
        return model.norm(x) @ model.embed.weight.T

    check_causal(ctx, "the model (logits w.r.t. embeddings)", logits_from, embedded)


GRID = (3e-3, 1e-2, 3e-2)  # Adam learning rates: each block type gets its own best, picked on validation text
# The quick run trains only the rate this grid picks for both block types at the quick budget on seeds 0-4
# (validation loss; run the full grid with --impl grid --quick): 1e-2.
QUICK_LR = 1e-2


def train(ctx: RunContext) -> None:
    cfg = ctx.config(Config)
    steps, d_model = cfg.steps, cfg.d_model
    grid = rates.rates(ctx, GRID, QUICK_LR) if cfg.lr == 0 else (cfg.lr,)
    text = MarkovText.make(ctx.seed, vocab=cfg.vocab, order=cfg.order, length=cfg.seq_len, device=ctx.device)
    floor = text.floor
    ctx.measured(
        "the true chain's own loss on the held-out set (nats)",
        floor,
        f"entropy rate {text.chain.entropy_rate:.3f}",
    )
    # validation text from the same chain (seed + 2; held-out text is seed + 1) picks the learning rates
    validation = replace(
        text,
        held_out=text.chain.sample(
            512, cfg.seq_len, torch.Generator().manual_seed(ctx.seed + 2), device=ctx.device
        ),
    )

    losses: dict[str, float] = {}
    picked: dict[str, float] = {}
    for label in ("parallel", "serial"):
        serial = label == "serial" or cfg.block == "serial"  # --set block=serial: both arms serial
        by_lr: dict[float, tuple[float, float]] = {}  # lr → (validation loss, held-out loss)
        for lr in grid:
            torch.manual_seed(ctx.seed)  # the same weights: the serial block's extra layer norm starts at 1
            model = PaLM(cfg.vocab, d_model, HEADS, layers=cfg.layers, serial=serial).to(ctx.device)
            opt = torch.optim.Adam(model.parameters(), lr=lr)
            log = partial(ctx.metric, f"train loss ({label}, lr {lr:g})")
            text.fit(model, opt, steps, ctx.seed, log=log, batch=cfg.batch)  # same batches
            by_lr[lr] = (validation.held_out_loss(model), text.held_out_loss(model))
            ctx.progress(len(losses) * len(grid) + len(by_lr), 2 * len(grid))
        val_loss = {lr: v for lr, (v, _) in by_lr.items()}
        picked[label] = rates.best(val_loss)
        losses[label] = by_lr[picked[label]][1]
        ctx.measured(
            f"held-out loss, {label} blocks (nats)",
            losses[label],
            f"{losses[label] - floor:+.3f} above the chain; {rates.choice(val_loss, '.3f')}",
        )
    ctx.target(
        "both models learnt the chain: worse held-out loss − the chain's own (nats)",
        max(losses.values()) - floor,
        0.3 if ctx.quick else 0.15,
        higher_is_better=False,
        detail=f"a unigram model is ≈ 1.4 above; {cfg.layers} layers, d_model {d_model}, {HEADS} heads, "
        f"{steps} steps, lr parallel {picked['parallel']:g}, serial {picked['serial']:g}",
    )
    ctx.target(
        "parallel − serial held-out loss (nats)",
        losses["parallel"] - losses["serial"],
        0.1 if ctx.quick else 0.05,  # quick: fewer steps on a narrower model, where parallel lags more
        higher_is_better=False,
        detail="the paper: a small degradation at 8B, none at 62B; parallel is cheaper, not better"
        + ("" if cfg.block == "parallel" else "; block=serial: the 'parallel' model is serial too"),
        asserted=not ctx.quick,
    )


def bench(ctx: RunContext) -> None:
    widths = (128, 256) if ctx.quick else (256, 512)
    for d_model in widths:
        x = torch.randn(8, 128, d_model, device=ctx.device)
        for serial in (True, False):
            block = PaLMBlock(d_model, 8, 4 * d_model, serial=serial).to(ctx.device)
            params = list(block.parameters())

            def step(
                block: PaLMBlock = block, params: list[torch.nn.Parameter] = params, x: torch.Tensor = x
            ) -> None:
                torch.autograd.grad(block(x).square().mean(), params)  # forward + backward, no .grad kept

            ctx.bench.measure(
                f"{'serial' if serial else 'parallel (fused input)'} block, d_model {d_model}",
                step,
                baseline=serial and d_model == widths[0],
                tokens=8 * 128,
                shape=(8, 128, d_model),
                dtype=torch.float32,
            )
    block = PaLMBlock(widths[-1], 8, 4 * widths[-1])
    mqa = block.kv_cache_elements(1, 2048) * 4
    ctx.measured(
        f"KV cache for 2048 tokens, one layer (d_model {widths[-1]}, 8 heads): multi-query, bytes (fp32)",
        mqa,
        f"multi-head attention: {2 * 2048 * widths[-1] * 4:,} bytes, 8× more",
    )
