"""The attention family on one bench: every member the attention of the same small causal decoder.

check: each member's attention is its paper's: multi-head, multi-query and grouped-query attention (the gqa
       plugin's layer, with 8, 1 and 2 key-value heads) equal PyTorch's SDPA with ``enable_gqa``, and the
       windowed one SDPA with a band mask, forward, float64; decoding token by token through each layer's
       cache equals the whole sequence at once; the caches hold G/H of multi-head attention's bytes, the
       window's W entries a layer; the FLOPs a decoded token's attention adds per cached token are the
       equation's (torch's counter); every member starts from multi-head attention's weights.
train: every member learns Markov text followed by itself (a recall ``lag`` tokens back) from the same
       weights and batches, each at its own best rate of a grid chosen on validation text; per member the
       held-out loss above the source's own, the recall's accuracy, the KV cache per token and at a long
       context, the attention FLOPs and the time of a decoded token there, the parameters; the targets:
       multi-query's cache against its loss, grouped-query's loss between, and what a window keeps.
bench: decoding one token at a long context through each member's cache.
"""

from __future__ import annotations

import time
from dataclasses import replace
from functools import partial

import torch
import torch.nn.functional as F
from readtrack_plugins.gqa.model import GroupedQueryAttention, LanguageModel
from torch.utils.flop_counter import FlopCounterMode

from readtrack.api import RunContext
from readtrack.plugin_kit import rates
from readtrack.plugin_kit.tasks import MarkovText

from .config import Config
from .model import (
    GQA,
    HEADS,
    MEMBERS,
    MHA,
    MQA,
    NAMES,
    SWA,
    Cache,
    WindowedAttention,
    cache_bytes,
    decode,
    decode_one,
    network,
    parameters,
)

VOCAB, ORDER = 16, 2  # the order-2 Markov chain of 16 symbols (the text's short-range statistics)
CONTEXT = 256  # the long context at which the decoding costs are counted
GQA_HEADS = 2  # the grouped-query member's key-value heads (GQA-2, as the gqa plugin trains)
TOLERANCE = 0.05  # nats: "about multi-head's quality", the gqa plugin's parity tolerance
RECALLED = 0.9  # recall accuracy: the window that reaches the lag keeps the recall
GUESS = 0.05  # accuracy above the chain's own best guess: beyond its reach the window recalls nothing
GRID = (1e-2, 3e-2)  # Adam's rates, the same grid for every member
NARROW = f"{SWA}:narrow"  # the window member whose window falls short of the lag (its own rows)
LABELS = {**NAMES, NARROW: "sliding window, narrow"}
#: The rate each model's grid picks at the quick budget on seeds 0-4, by validation loss
#: (`readtrack run attention-bench --quick --impl grid --seeds 0-4 --only train`): multi-query and the
#: narrow window 3e-2 on every seed, grouped-query on four, multi-head on three (1e-2 on two); the window
#: that reaches the lag 1e-2 on three (3e-2 on two).
QUICK_RATE = {MHA: 3e-2, MQA: 3e-2, GQA: 3e-2, SWA: 1e-2, NARROW: 3e-2}


def _attention(cfg: Config) -> dict[str, tuple[int, int | None]]:
    """Each trained model's key-value heads and window (None: none), read from the knobs."""
    return {
        MHA: (HEADS, None),
        MQA: (cfg.mqa_heads, None),
        GQA: (GQA_HEADS, None),
        SWA: (HEADS, cfg.window),
        NARROW: (HEADS, cfg.narrow),
    }


def _network(cfg: Config, which: str, max_len: int, seed: int) -> LanguageModel:
    """``which`` model's decoder at these knobs (read here, so a sweep knows which stage reads which knob)."""
    kv_heads, window = _attention(cfg)[which]
    return network(VOCAB, max_len, cfg.d_model, cfg.depth, kv_heads, window, seed)


def sdpa_reference(layer: GroupedQueryAttention, x: torch.Tensor, window: int | None) -> torch.Tensor:
    """The layer's causal self-attention over x (B, N, D) written with PyTorch's SDPA: ``enable_gqa`` for
    shared key-value heads, and for a window the band i − W < j ≤ i given as a mask (tril and triu)."""
    B, N, D = x.shape
    q = (x @ layer.W_q.weight.T).view(B, N, HEADS, -1).transpose(1, 2)  # (B, H, N, d)
    k, v = ((x @ W.weight.T).view(B, N, layer.n_kv_heads, -1).transpose(1, 2) for W in (layer.W_k, layer.W_v))
    if window is None:
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True)
    else:
        band = torch.ones(N, N, dtype=torch.bool, device=x.device).tril().triu(-(window - 1))
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=band)
    return y.transpose(1, 2).reshape(B, N, D) @ layer.W_o.weight.T


def _flops(
    model: LanguageModel, token: torch.Tensor, position: int, caches: list[Cache | None]
) -> tuple[int, list[Cache | None]]:
    """FLOPs torch's counter sees in one decoding step at ``position`` with these caches, and the caches
    after it."""
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        _, caches = decode_one(model, token, position, caches)
    return counter.get_total_flops(), caches


def context_flops(model: LanguageModel, context: int) -> tuple[int, list[Cache | None], float]:
    """Decoding one sequence of ``context`` tokens: the FLOPs of its last token (the rest cached) above those
    of the first (nothing cached), what the attention over the cached keys adds, counted; the caches after
    the last token; and the seconds per token of decoding the others (wall time)."""
    tokens = torch.zeros(1, context, dtype=torch.long, device=model.head.weight.device)
    started = time.perf_counter()
    with torch.no_grad():
        _, caches = decode(model, tokens[:, :-1])
    seconds = (time.perf_counter() - started) / (context - 1)
    first, _ = _flops(model, tokens[:, :1], 0, [None] * len(model.blocks))
    last, after = _flops(model, tokens[:, -1:], context - 1, list(caches))
    return last - first, after, seconds


def check(ctx: RunContext) -> None:
    exact, device, n = ctx.exact_dtype, ctx.device, 20
    cfg = Config()
    models = {m: _network(cfg, m, n, ctx.seed).to(device, exact) for m in _attention(cfg)}
    x = torch.randn(2, n, cfg.d_model, dtype=exact, device=device)
    tokens = torch.randint(0, VOCAB, (2, n), generator=torch.Generator().manual_seed(ctx.seed)).to(device)
    held = {}
    for which, model in models.items():
        kv_heads, window = _attention(cfg)[which]
        name = f"{LABELS[which]}, {kv_heads} KV heads" + (f", W = {window}" if window else "")
        layer = model.blocks[0].attn
        assert isinstance(layer, GroupedQueryAttention)
        reference = "SDPA with a band mask" if window else "SDPA enable_gqa"
        with torch.no_grad():
            ctx.check_close(
                f"{name}: the bench's attention vs {reference}", layer(x), sdpa_reference(layer, x, window)
            )
            decoded, caches = decode(model, tokens)
            ctx.check_close(
                f"{name}: decoding token by token through its cache = the whole sequence at once, N = {n}",
                decoded,
                model(tokens),
            )
        held[which] = cache_bytes(caches)
    per_head = 2 * 2 * n * (cfg.d_model // HEADS) * x.element_size() * cfg.depth  # K and V, batch 2, a head
    # the papers' heads and windows, not the knobs': multi-query keeps one key-value head, a window W entries
    expected = {MHA: HEADS * per_head, MQA: 1 * per_head, GQA: GQA_HEADS * per_head}
    expected |= {m: HEADS * per_head * min(n, w) // n for m, w in ((SWA, cfg.window), (NARROW, cfg.narrow))}
    ctx.check_property(
        f"the caches decoding builds hold G/H of multi-head attention's bytes, the window's W of its {n} "
        "entries",
        held == expected,
        ", ".join(f"{m} {held[m]:,} (expected {expected[m]:,})" for m in held),
        value=held[MHA] / held[MQA],
    )
    d = cfg.d_model // HEADS
    for which in (MHA, MQA, SWA):
        model = _network(cfg, which, 48, ctx.seed).to(device)
        window = _attention(cfg)[which][1] or 48
        counted, _, _ = context_flops(model, 48)
        formula = cfg.depth * 2 * 2 * HEADS * d * (min(48, window) - 1)  # q·k and p·v, H heads, each key
        ctx.check_property(
            f"{NAMES[which]}: a decoded token's attention at context 48 adds 2·2·H·d FLOPs per cached key it "
            "reads, per layer (torch's counter)",
            counted == formula,
            f"counted {counted:,}, the equation {formula:,}",
            value=counted,
        )
    mha = models[MHA].state_dict()
    same = True
    for which in (MQA, GQA, SWA):
        for key, weight in models[which].state_dict().items():
            same &= torch.equal(weight, mha[key][: weight.shape[0]])
    ctx.check_property(
        "every member starts from multi-head attention's weights (its G key-value heads the first G)",
        bool(same),
        "embeddings, queries, outputs, MLPs, read-out equal; W_k, W_v the first G heads' rows",
    )
    windowed = all(isinstance(b.attn, WindowedAttention) for b in models[SWA].blocks)
    ctx.check_property("the sliding window member's layers are windowed", windowed, "WindowedAttention")


def _repeated(text: MarkovText, held_out: torch.Tensor, lag: int) -> MarkovText:
    """The text followed by itself: the same chain's sequences, each again after ``lag`` tokens. The source's
    own loss (``floor``) is the chain's on the first copy and 0 on the second, where nothing is uncertain."""
    floor = text.floor * (lag - ORDER) / (2 * lag - ORDER)
    twice = partial(torch.cat, dim=1)
    return replace(
        text, pool=twice([text.pool, text.pool]), held_out=twice([held_out, held_out]), floor=floor
    )


def recall(model: LanguageModel, text: MarkovText, lag: int) -> float:
    """Accuracy predicting the repeated tokens whose chain context is repeated too (t ≥ lag + order)."""
    x = text.held_out
    with torch.no_grad():
        logits = model(x)[:, lag + ORDER - 1 : -1]  # the predictions of x_(lag+order) … x_(2·lag−1)
    return (logits.argmax(-1) == x[:, lag + ORDER :]).float().mean().item()


def best_guess(text: MarkovText, lag: int) -> float:
    """The chain's own most likely next token, right how often on those repeated tokens: all a model that
    cannot see ``lag`` back can do there."""
    x, p = text.held_out, text.chain.transitions.to(text.held_out.device)
    context = x[:, lag : 2 * lag - 2] * VOCAB + x[:, lag + 1 : 2 * lag - 1]  # the two tokens before each
    return (p[context].argmax(-1) == x[:, lag + ORDER :]).float().mean().item()


def _fit(ctx: RunContext, cfg: Config, which: str, text: MarkovText, lr: float) -> LanguageModel:
    """``which`` model trained at ``lr``: its seed's weights, the same batches as every other member."""
    model = _network(cfg, which, 2 * cfg.lag, ctx.seed).to(ctx.device)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    log = partial(ctx.metric, f"training loss: {which}, lr {lr:g}")
    text.fit(model, opt, cfg.steps, ctx.seed, log=log, batch=cfg.batch)
    return model


def _decoding(model: LanguageModel) -> tuple[int, int, float]:
    """At context ``CONTEXT``, one sequence: the cache's bytes, the attention FLOPs of the last token, and
    seconds per decoded token (wall time)."""
    flops, caches, seconds = context_flops(model, CONTEXT)
    return cache_bytes([c for c in caches if c is not None]), flops, seconds


def train(ctx: RunContext) -> None:
    cfg = ctx.config(Config)
    lag = cfg.lag
    base = MarkovText.make(ctx.seed, vocab=VOCAB, order=ORDER, length=lag, device=ctx.device)
    text = _repeated(base, base.held_out, lag)
    # validation text from the same chain (seed + 2; the held-out text is seed + 1) picks the rates
    held = base.chain.sample(512, lag, torch.Generator().manual_seed(ctx.seed + 2), device=ctx.device)
    validation = _repeated(base, held, lag)
    loss: dict[str, float] = {}
    recalled: dict[str, float] = {}
    spent: dict[str, tuple[int, int, float]] = {}
    models = _attention(cfg)
    for done, which in enumerate(models):
        grid = (cfg.lr,) if cfg.lr else rates.rates(ctx, GRID, QUICK_RATE[which])
        tried = {lr: _fit(ctx, cfg, which, text, lr) for lr in grid}
        scores = {lr: validation.held_out_loss(m) for lr, m in tried.items()}
        best = min(grid, key=lambda lr: (scores[lr] != scores[lr], scores[lr]))  # NaN last
        model = tried[best]
        loss[which], recalled[which] = text.held_out_loss(model) - text.floor, recall(model, text, lag)
        picked = f"{LABELS[which]}, {rates.choice(scores)}"
        kv_heads, window = models[which]
        if which == NARROW:
            ctx.measured(f"{SWA}: held-out loss − the source's own, W = {window} (nats)", loss[which], picked)
            ctx.measured(f"{SWA}: recall accuracy, W = {window}", recalled[which], "its window falls short")
        else:
            ctx.measured(f"{which}: held-out loss − the source's own (nats)", loss[which], picked)
            ctx.measured(f"{which}: recall accuracy", recalled[which], f"the token {lag} back, repeated")
            spent[which] = _decoding(_network(cfg, which, CONTEXT, ctx.seed).to(ctx.device))
            cache, flops, seconds = spent[which]
            ctx.measured(
                f"{which}: KV cache bytes per token",
                cache / CONTEXT,
                f"at context {CONTEXT}: {cfg.depth} layer(s), keys and values of {kv_heads} heads, float32",
            )
            ctx.measured(f"{which}: KV cache at context {CONTEXT} (KB)", cache / 1024, "counted from storage")
            ctx.measured(
                f"{which}: attention FLOPs per decoded token at context {CONTEXT}",
                flops,
                "torch's counter: the last token's FLOPs above the first's",
            )
            ctx.measured(
                f"{which}: ms per decoded token at context {CONTEXT}",
                1000 * seconds,
                "wall time of one sequence decoded through the caches, noisy on a shared machine",
            )
            ctx.measured(f"{which}: parameters", parameters(model), "trained weights")
        ctx.progress(done + 1, len(models))
    guess = best_guess(text, lag)
    ctx.measured("the chain's own best guess at the repeated tokens (accuracy)", guess, "no recall")
    detail = f"{cfg.depth} layer(s), {cfg.steps} steps of {cfg.batch}; text of {lag} tokens, then again"
    per_token = {m: spent[m][0] for m in (MHA, MQA, GQA)}  # every member's cache at the same context
    ctx.target(
        f"{MQA}: KV cache bytes per token, multi-head's / MQA's",
        per_token[MHA] / per_token[MQA],
        HEADS,
        detail=f"counted from the caches' storage after {CONTEXT} decoded tokens; one key-value head for "
        f"{HEADS}: {HEADS}× smaller",
    )
    ctx.target(
        f"{MQA}: held-out loss − multi-head's (nats)",
        loss[MQA] - loss[MHA],
        TOLERANCE,
        higher_is_better=False,
        detail=f"{detail}; {loss[MQA]:.3f} vs {loss[MHA]:.3f} above the source's own",
        asserted=False,  # the seeds spread by a few hundredths of a nat: too wide for the rule at 0.05
    )
    ctx.target(
        f"{GQA}: held-out loss − multi-head's (nats)",
        loss[GQA] - loss[MHA],
        TOLERANCE,
        higher_is_better=False,
        detail=f"{detail}; {loss[GQA]:.3f} vs {loss[MHA]:.3f}; a {HEADS // GQA_HEADS}× smaller cache",
        asserted=not ctx.quick,  # quick: as multi-query's, too wide a spread for the rule
    )
    ctx.target(
        f"{GQA}: held-out loss, MQA's − GQA's (nats)",
        loss[MQA] - loss[GQA],
        0.0,
        detail=f"{detail}; the paper: grouped-query's quality closer to multi-head's than multi-query's",
        asserted=False,  # the paper's gain at scale: at this size the two differ by less than the seeds do
    )
    ctx.target(
        f"{SWA}: KV cache at context {CONTEXT}, multi-head's / the window's",
        spent[MHA][0] / spent[SWA][0],
        CONTEXT / cfg.window,
        detail=f"the rolling buffer keeps W = {cfg.window} of {CONTEXT} positions a layer",
    )
    ctx.target(
        f"{SWA}: recall accuracy, the token {lag} back within the window (W = {cfg.window})",
        recalled[SWA],
        RECALLED,
        detail=f"{detail}; one layer sees W − 1 = {cfg.window - 1} back",
    )
    ctx.target(
        f"{SWA}: recall accuracy beyond the window (W = {cfg.narrow}) − the chain's own best guess",
        recalled[NARROW] - guess,
        GUESS,
        higher_is_better=False,
        detail=f"{detail}; {cfg.depth} layer(s) see {cfg.depth * (cfg.narrow - 1)} back: "
        f"{recalled[NARROW]:.3f} vs the chain's guess {guess:.3f}",
    )


def bench(ctx: RunContext) -> None:
    cfg = Config()  # the bench's decoders at its default knobs: no knob changes what it times
    for i, which in enumerate(MEMBERS):
        model = _network(cfg, which, CONTEXT, 0).to(ctx.device)
        tokens = torch.zeros(1, CONTEXT, dtype=torch.long, device=ctx.device)
        with torch.no_grad():
            _, caches = decode(model, tokens[:, :-1])

        def step(
            model: LanguageModel = model, last: torch.Tensor = tokens[:, -1:], caches: list[Cache] = caches
        ) -> object:
            with torch.no_grad():
                return decode_one(model, last, CONTEXT - 1, list(caches))

        ctx.bench.measure(
            f"{NAMES[which]}: one decoded token at context {CONTEXT}",
            step,
            baseline=i == 0,
            tokens=1,
            params={"kv_cache_bytes": cache_bytes(caches)},
        )
