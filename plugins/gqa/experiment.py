"""Grouped-query attention at toy scale: exact against PyTorch's SDPA with ``enable_gqa``, the KV cache
shrunk by H/G exactly, and language-model quality next to multi-head attention's.

check: ``grouped_query_attention`` equals ``F.scaled_dot_product_attention(..., enable_gqa=True)`` for 8 query
       heads over 8, 4, 2 and 1 KV heads, causal or not, N = 1, 7, 33, forward and gradients, float64 and
       float32; the cache holds G/H of multi-head attention's numbers; the mean-pooling conversion is exact
       when the heads of a group are equal and is the identity for G = H.
train: small causal LMs on Markov-chain text whose entropy rate H is known exactly: multi-head (8 KV
       heads) against GQA (2 KV heads), same seed and batches, held-out loss in nats; the full run adds
       multi-query (1 KV head) and the paper's uptraining: the trained MHA model mean-pooled to GQA-2,
       before and after 5% more steps.
bench: one attention layer's forward with G = 8, 2 and 1 against SDPA, and the cache size of each.
"""

from __future__ import annotations

import copy
from functools import partial

import torch
import torch.nn.functional as F

from readtrack.context import RunContext, dtype_name
from readtrack.plugin_kit.tasks import MarkovText

from .model import Block, GroupedQueryAttention, LanguageModel, grouped_query_attention, mean_pool_kv_heads

VOCAB, N, D_MODEL, HEADS, LR = 16, 32, 64, 8, 1e-2


def check(ctx: RunContext) -> None:
    for dtype in ctx.check_dtypes:
        for kv_heads in (8, 4, 2, 1):
            for n, causal in ((1, True), (7, False), (33, True)):
                q = torch.randn(2, HEADS, n, 16, dtype=dtype, device=ctx.device)
                k, v = (torch.randn(2, kv_heads, n, 16, dtype=dtype, device=ctx.device) for _ in range(2))
                ours, grads = ctx.value_and_grads(partial(grouped_query_attention, causal=causal), q, k, v)
                sdpa = partial(F.scaled_dot_product_attention, is_causal=causal, enable_gqa=True)
                ref, ref_grads = ctx.value_and_grads(sdpa, q, k, v)
                name = f"{HEADS} query heads / {kv_heads} KV heads, N={n}{', causal' if causal else ''}"
                ctx.check_close(f"GQA vs SDPA enable_gqa, {name} ({dtype_name(dtype)})", ours, ref)
                ctx.check_close(
                    f"gradients vs SDPA enable_gqa, {name} ({dtype_name(dtype)})", grads, ref_grads
                )

    layers = {g: GroupedQueryAttention(D_MODEL, HEADS, g) for g in (8, 2, 1)}
    sizes = {g: layer.kv_cache_elements(4, 1024) for g, layer in layers.items()}
    ctx.check_property(
        "KV cache of G heads = G/H of multi-head attention's (H = 8; G = 2, 1)",
        sizes[2] * 4 == sizes[8] and sizes[1] * 8 == sizes[8],
        f"numbers per layer for 4 × 1024 tokens: MHA {sizes[8]:,}, GQA-2 {sizes[2]:,}, MQA {sizes[1]:,}",
        value=sizes[2] / sizes[8],
    )

    exact = ctx.exact_dtype
    x = torch.randn(3, 11, D_MODEL, dtype=exact, device=ctx.device)
    mha = GroupedQueryAttention(D_MODEL, HEADS, HEADS).to(ctx.device, exact)
    with torch.no_grad():
        ctx.check_close("mean-pooling to G = H changes nothing", mean_pool_kv_heads(mha, HEADS)(x), mha(x))
        d = mha.d_head  # make the 4 heads of each of 2 groups equal: pooling them must then be exact
        for W in (mha.W_k.weight, mha.W_v.weight):
            grouped = W.view(2, 4, d, D_MODEL)
            grouped.copy_(grouped[:, :1].expand_as(grouped).clone())
        ctx.check_close("mean-pooling equal heads of a group is exact", mean_pool_kv_heads(mha, 2)(x), mha(x))


def _train(
    ctx: RunContext, model: LanguageModel, text: MarkovText, steps: int, label: str, seed: int
) -> LanguageModel:
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    text.fit(
        model, opt, steps, seed, log=partial(ctx.metric, f"train loss ({label})")
    )  # same batches for all
    return model


def train(ctx: RunContext) -> None:
    steps, layers = (200, 1) if ctx.quick else (600, 2)
    text = MarkovText.make(ctx.seed, vocab=VOCAB, length=N, device=ctx.device)
    chain, floor = text.chain, text.floor
    ctx.measured(
        "entropy rate H of the chain (nats per symbol)", chain.entropy_rate, "the floor for any model"
    )
    ctx.measured("the true chain's own loss on the held-out set", floor, "H on exactly these sequences")

    kv_options = (8, 2) if ctx.quick else (8, 2, 1)
    models, losses = {}, {}
    for g in kv_options:
        torch.manual_seed(ctx.seed)  # the same start for every variant, as far as shapes allow
        model = LanguageModel(VOCAB, N, D_MODEL, HEADS, g, layers).to(ctx.device)
        models[g] = _train(ctx, model, text, steps, f"{g} KV heads", ctx.seed)
        losses[g] = text.held_out_loss(model)
        ctx.measured(
            f"held-out loss, {HEADS} query heads over {g} KV heads (nats)",
            losses[g],
            f"{losses[g] - floor:+.3f} above the chain's own loss",
        )
        ctx.progress(len(losses), len(kv_options) + (0 if ctx.quick else 1))
    ctx.target(
        "multi-head model learnt the chain: held-out loss − the chain's own (nats)",
        losses[8] - floor,
        0.3 if ctx.quick else 0.15,
        higher_is_better=False,
        detail="parity below means something only if both models learnt: a unigram model is ≈ 1.4 above",
    )
    ctx.target(
        "GQA-2 held-out loss − multi-head's (nats)",
        losses[2] - losses[8],
        0.05,
        higher_is_better=False,
        detail=f"{layers} layer(s), {steps} Adam steps; the KV cache is 4× smaller; unigram loss would be "
        f"≈ {torch.log(torch.tensor(float(VOCAB))).item():.2f}",
    )
    if ctx.quick:
        return
    ctx.measured(
        "MQA held-out loss − multi-head's (nats)", losses[1] - losses[8], "the KV cache is 8× smaller"
    )

    # Uptraining (section 2.1): pool the trained MHA model's KV heads to 2 per layer, then train 5% more.
    pooled = copy.deepcopy(models[8])
    for block in pooled.blocks:
        assert isinstance(block, Block) and isinstance(block.attn, GroupedQueryAttention)
        block.attn = mean_pool_kv_heads(block.attn, 2)
    before = text.held_out_loss(pooled)
    uptrained = _train(ctx, pooled, text, steps // 20, "uptrained GQA-2", ctx.seed + 7)
    after = text.held_out_loss(uptrained)
    ctx.measured("MHA mean-pooled to GQA-2, before uptraining (nats)", before, "no further training")
    ctx.target(
        "MHA mean-pooled to GQA-2 and uptrained 5%: held-out loss − multi-head's (nats)",
        after - losses[8],
        0.05,
        higher_is_better=False,
        detail=f"{before:.3f} → {after:.3f} after {steps // 20} steps; GQA-2 from scratch: {losses[2]:.3f}",
    )
    ctx.progress(1, 1)


def bench(ctx: RunContext) -> None:
    batch, n = (4, 256) if ctx.quick else (8, 1024)
    x = torch.randn(batch, n, 512, device=ctx.device)
    for i, g in enumerate((8, 2, 1)):
        layer = GroupedQueryAttention(512, 8, g).to(ctx.device)
        with torch.no_grad():
            ctx.bench.measure(
                f"attention layer, 8 query / {g} KV heads",
                partial(layer, x),
                baseline=i == 0,
                tokens=batch * n,
                shape=(batch, n, 512),
                dtype=x.dtype,
                params={"kv_cache_numbers": layer.kv_cache_elements(batch, n)},
            )
