"""T5 at toy scale: the bucketed relative position bias exact against a separately written bucket function,
attention with the bias exact against SDPA, span corruption invertible and at its rates, and one model that
does three tasks chosen by a text prefix, which it can only do for order-dependent tasks with the bias.

check: ``relative_position_bucket`` equals a reference written from the paper's description with integer
       arithmetic only (bucket edges compared as powers of integers, no logarithm) on every offset in
       [−300, 300], for four (num_buckets, max_distance) pairs, bidirectional and causal; the buckets are
       monotone in |j − i| per sign, the two signs mirror each other half the buckets apart, small offsets
       get a bucket each, offsets beyond max_distance share the last, and the causal future is bucket 0.
       The model's encoder and decoder biases equal tables looked up with that reference, entry by entry,
       and are Toeplitz (a function of j − i only). ``attention`` with the bias equals
       ``F.scaled_dot_product_attention`` with the bias as a float mask (scale 1), causal or not, N = 1, 7,
       33, forward and gradients (q, k, v and the bias), float64 and float32; T5's layer norm equals
       ``nn.RMSNorm``. Through the whole model: decoder outputs never depend on later decoder inputs, do
       depend on every source token, and without the bias they are exactly invariant to permuting the
       source. Span corruption: a separately written inverse rebuilds every original sequence from inputs
       and targets; sentinels come in order and never touch; the corrupted fraction and the mean span length
       over many sequences of varied lengths are the requested 0.15 and 3.
train: one model, three tasks chosen by a prefix token (``copy:``, ``reverse:``, ``sort:`` on strings of
       digits), trained on a mix of all three; exact-match accuracy per task by greedy decoding of new
       strings. The same model without any position information (no bias), same seed and batches: its
       encoder sees a bag of tokens, so copy and reverse stay at the ceiling of guessing an order while sort,
       which needs only the bag, is learnt.
bench: one attention call's forward and backward without a position bias (the baseline) and with the T5
       bias (buckets, table look-up, add), at growing lengths; the full run adds SDPA with the same bias as
       a float mask.
"""

from __future__ import annotations

import itertools
import math
from functools import partial

import torch
import torch.nn.functional as F
from torch import nn

from readtrack.api import RunContext, dtype_name, plural
from readtrack.plugin_kit.checks import compare_modules

from .config import Config
from .model import (
    T5,
    LayerNorm,
    RelativePositionBias,
    T5Config,
    attention,
    greedy_decode,
    relative_position_bucket,
    span_corrupt,
)

DIGITS = 10  # tokens 0 … 9
PREFIXES = {"copy:": 10, "reverse:": 11, "sort:": 12}  # one token per task prefix
START = 13  # the decoder's first input (T5 starts from its pad token)
VOCAB = 14
BUCKET_SETTINGS = ((32, 128), (16, 32), (64, 256), (8, 20))  # (num_buckets, max_distance); the paper's first


def bucket_reference(r: int, bidirectional: bool, num_buckets: int, max_distance: int) -> int:
    """The bucket of offset r = j − i from section 2.1, in integers only. Bucket k ≥ n_exact starts at the
    offset n_exact · (max_distance / n_exact)^((k − n_exact) / (N − n_exact)); n lies in the last bucket
    whose start is ≤ n, and n ≤ start ⟺ n^(N − n_exact) · n_exact^a ≥ max_distance^a · n_exact^(N − n_exact)
    with a = k − n_exact: exact, no rounding at the edges."""
    half = num_buckets // 2 if bidirectional else num_buckets
    n = abs(r) if bidirectional else max(-r, 0)
    offset = half if bidirectional and r > 0 else 0
    n_exact = half // 2
    if n < n_exact:
        return offset + n
    steps = half - n_exact
    k = n_exact
    while k + 1 < half and max_distance ** (k + 1 - n_exact) * n_exact**steps <= n**steps * n_exact ** (
        k + 1 - n_exact
    ):
        k += 1
    return offset + k


def uncorrupt(inputs: list[int], targets: list[int], first_sentinel: int) -> list[int]:
    """The inverse of span corruption, written apart from it: cut the targets at sentinels into spans, then
    put span k back where sentinel k stands in the inputs."""
    spans: dict[int, list[int]] = {}
    current = -1
    for token in targets:
        if token >= first_sentinel:
            current = token
            spans[current] = []
        else:
            spans[current].append(token)
    out: list[int] = []
    for token in inputs:
        out.extend(spans[token] if token >= first_sentinel else [token])
    return out


def check(ctx: RunContext) -> None:
    _check_buckets(ctx)
    _check_attention(ctx)
    _check_model(ctx)
    _check_span_corruption(ctx)


def _check_buckets(ctx: RunContext) -> None:
    offsets = torch.arange(-300, 301, device=ctx.device)
    for num_buckets, max_distance in BUCKET_SETTINGS:
        for bidirectional in (True, False):
            ours = relative_position_bucket(offsets, bidirectional, num_buckets, max_distance).tolist()
            ref = [bucket_reference(r, bidirectional, num_buckets, max_distance) for r in range(-300, 301)]
            wrong = [r for r, a, b in zip(range(-300, 301), ours, ref, strict=True) if a != b]
            kind = "bidirectional" if bidirectional else "causal"
            ctx.check_property(
                f"relative_position_bucket vs integer-exact reference, {num_buckets} buckets, "
                f"max distance {max_distance}, {kind}",
                not wrong,
                f"{len(wrong)} of 601 offsets differ (first: {wrong[:5]})",
            )

    # Properties, on the paper's setting: 32 buckets, max distance 128.
    n = torch.arange(0, 301, device=ctx.device)
    bi_past = relative_position_bucket(-n, True).tolist()  # keys before the query, |j − i| = n
    bi_future = relative_position_bucket(n, True).tolist()
    causal_past = relative_position_bucket(-n, False).tolist()
    causal_future = relative_position_bucket(n, False).tolist()
    monotone = all(
        all(a <= b for a, b in itertools.pairwise(seq)) for seq in (bi_past, bi_future, causal_past)
    )
    ctx.check_property("buckets never decrease with |j − i|, for each sign and both kinds", monotone)
    mirrored = all(bi_future[d] == bi_past[d] + 16 for d in range(1, 301)) and bi_future[0] == 0
    ctx.check_property("bidirectional: bucket(+d) = bucket(−d) + 16 for d ≥ 1, bucket(0) = 0", mirrored)
    ctx.check_property(
        "exact for small offsets: bucket(−d) = d for d < 8 (bidirectional) and d < 16 (causal)",
        bi_past[:8] == list(range(8)) and causal_past[:16] == list(range(16)) and bi_past[8] == 8,
    )
    # the first |j − i| in the last bucket: the logarithmic ranges end at 8·16^(7/8) and 16·8^(15/16)
    last_starts = tuple(
        next((d for d, b in enumerate(s) if b == last), -1) for s, last in ((bi_past, 15), (causal_past, 31))
    )
    ctx.check_property(
        "saturating: every |j − i| ≥ 128 shares the last bucket, which starts at ⌈8·16^(7/8)⌉ = 91 "
        "(bidirectional) and ⌈16·8^(15/16)⌉ = 113 (causal)",
        set(bi_past[128:]) == {15} and set(causal_past[128:]) == {31} and last_starts == (91, 113),
        f"last bucket from |j − i| = {last_starts}",
    )
    ctx.check_property(
        "causal: all 32 buckets used, the future all in bucket 0; bidirectional: 31, as bucket 16 "
        "(j − i = +0) is never reached",
        set(causal_past) == set(range(32))
        and set(causal_future) == {0}
        and set(bi_past) | set(bi_future) == set(range(32)) - {16},
    )


def _bias_reference(table: torch.Tensor, n: int, bidirectional: bool, max_distance: int) -> torch.Tensor:
    """(1, H, n, n) built entry by entry: B[h, i, j] = table[bucket_reference(j − i), h]."""
    num_buckets = table.shape[0]
    rows = [
        [table[bucket_reference(j - i, bidirectional, num_buckets, max_distance)] for j in range(n)]
        for i in range(n)
    ]
    return torch.stack([torch.stack(row) for row in rows]).permute(2, 0, 1).unsqueeze(0)  # (n, n, H) → …


def sdpa_with_bias(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, bias: torch.Tensor, causal: bool
) -> torch.Tensor:
    """The reference attention: PyTorch's SDPA with the bias as a float mask, −∞ on the future if causal."""
    n = q.shape[-2]
    future = torch.ones(n, n, dtype=torch.bool, device=q.device).triu(1)
    mask = bias.masked_fill(future, float("-inf")) if causal else bias
    return F.scaled_dot_product_attention(q, k, v, attn_mask=mask, scale=1.0)


def _check_attention(ctx: RunContext) -> None:
    for dtype in ctx.check_dtypes:
        for n, causal in ((1, False), (7, True), (33, False), (33, True)):
            q, k, v = (torch.randn(2, 4, n, 8, dtype=dtype, device=ctx.device) for _ in range(3))
            bias = torch.randn(1, 4, n, n, dtype=dtype, device=ctx.device)
            ours, grads = ctx.value_and_grads(partial(attention, causal=causal), q, k, v, bias)

            ref, ref_grads = ctx.value_and_grads(partial(sdpa_with_bias, causal=causal), q, k, v, bias)
            name = f"N={n}{', causal' if causal else ''} ({dtype_name(dtype)})"
            ctx.check_close(f"attention with bias vs SDPA float mask, {name}", ours, ref)
            ctx.check_close(f"gradients (q, k, v, bias) vs SDPA float mask, {name}", grads, ref_grads)

    compare_modules(
        ctx,
        "nn.RMSNorm(eps=1e-6)",
        lambda: LayerNorm(24),
        lambda: nn.RMSNorm(24, eps=1e-6),
        lambda dtype: torch.randn(3, 5, 24, dtype=dtype),
    )


def _check_model(ctx: RunContext) -> None:
    exact = ctx.exact_dtype
    model = T5(T5Config(VOCAB, d_model=32, n_heads=4, d_ff=64, n_layers=2)).to(ctx.device, exact)
    assert model.encoder_bias is not None and model.decoder_bias is not None
    for stack, module, bidirectional in (
        ("encoder", model.encoder_bias, True),
        ("decoder", model.decoder_bias, False),
    ):
        kind = "bidirectional" if bidirectional else "causal"
        for n in (1, 7, 33, 150):
            with torch.no_grad():
                bias = module(n, n)  # (1, H, n, n)
                ref = _bias_reference(module.table.weight, n, bidirectional, module.max_distance)
            ctx.check_close(f"{stack} position bias vs table[reference bucket], {kind}, N={n}", bias, ref)
        with torch.no_grad():
            bias = module(150, 150)
        toeplitz = torch.equal(bias[..., 1:, 1:], bias[..., :-1, :-1])
        ctx.check_property(f"{stack} bias depends only on j − i (Toeplitz), N=150", toeplitz)

    g = torch.Generator().manual_seed(ctx.seed)
    src = torch.randint(0, DIGITS, (3, 9), generator=g).to(ctx.device)
    tgt = torch.randint(0, DIGITS, (3, 6), generator=g).to(ctx.device)
    with torch.no_grad():
        logits = model(src, tgt)
        later, earlier_changed = [], []
        for s in range(6):  # change decoder input s: outputs before s must not move, from s on they must
            changed = tgt.clone()
            changed[:, s] = (changed[:, s] + 1) % DIGITS
            diff = (model(src, changed) - logits).abs().amax(dim=(0, 2))  # (6,)
            later.append(float(diff[:s].max()) if s else 0.0)
            earlier_changed.append(float(diff[s:].min()))
        ctx.check_property(
            "decoder is causal: changing input s leaves every output before s unchanged",
            max(later) == 0.0,
            f"largest change before s: {max(later):.2e}",
            value=max(later),
        )
        ctx.check_property(
            "… and changes every output from s on", min(earlier_changed) > 1e-6, value=min(earlier_changed)
        )
        sees_all = []
        for s in range(9):
            changed = src.clone()
            changed[:, s] = (changed[:, s] + 1) % DIGITS
            sees_all.append(float((model(changed, tgt) - logits).abs().amax(dim=(0, 2)).min()))
        ctx.check_property(
            "encoder is bidirectional: every source token reaches every output", min(sees_all) > 1e-6
        )

        permutation = torch.randperm(9, generator=g).to(ctx.device)
        moved = float((model(src[:, permutation], tgt) - logits).abs().max())
        bag = T5(T5Config(VOCAB, d_model=32, n_heads=4, d_ff=64, n_layers=2, relative_bias=False))
        bag = bag.to(ctx.device, exact)
        ctx.check_close(
            f"without the bias the source is a bag: outputs unchanged by permuting it ({dtype_name(exact)})",
            bag(src[:, permutation], tgt),
            bag(src, tgt),
        )
        ctx.check_property(
            "with the bias, permuting the source changes the outputs", moved > 1e-3, f"{moved:.3f}", moved
        )


def _check_span_corruption(ctx: RunContext) -> None:
    g = torch.Generator().manual_seed(ctx.seed)
    first_sentinel = 1000
    rebuilt = sentinels_ok = 0
    sequences = corrupted = spans = tokens = 0
    lengths = torch.randint(2, 160, (400,), generator=g).tolist()
    for length in lengths:
        x = torch.randint(0, first_sentinel, (length,), generator=g).to(ctx.device)
        inputs, targets = span_corrupt(x, first_sentinel, g)
        ins, tgs = inputs.tolist(), targets.tolist()
        rebuilt += uncorrupt(ins, tgs, first_sentinel) == x.tolist()
        in_sentinels = [t for t in ins if t >= first_sentinel]
        tg_sentinels = [t for t in tgs if t >= first_sentinel]
        k = len(in_sentinels)
        adjacent = any(a >= first_sentinel and b >= first_sentinel for a, b in itertools.pairwise(ins))
        sentinels_ok += (
            in_sentinels == list(range(first_sentinel, first_sentinel + k))
            and tg_sentinels == list(range(first_sentinel, first_sentinel + k + 1))
            and tgs[0] == first_sentinel
            and not adjacent
        )
        sequences += 1
        spans += k
        corrupted += len(tgs) - k - 1
        tokens += length
    ctx.check_property(
        "span corruption: inputs + targets rebuild the original sequence",
        rebuilt == sequences,
        f"{rebuilt} of {sequences} sequences (lengths 2–159) rebuilt exactly",
    )
    ctx.check_property(
        "span corruption: sentinels in order, the targets open with the first and close with one more, "
        "no two sentinels adjacent in the inputs",
        sentinels_ok == sequences,
        f"{sentinels_ok} of {sequences}",
    )
    fraction, mean_span = corrupted / tokens, corrupted / spans
    ctx.check_property(
        "span corruption: corrupted fraction 0.15 ± 0.01",
        abs(fraction - 0.15) <= 0.01,
        f"{corrupted} of {tokens} tokens",
        fraction,
    )
    ctx.check_property(
        "span corruption: mean span length 3 ± 0.15",
        abs(mean_span - 3.0) <= 0.15,
        f"{corrupted} tokens in {spans} spans",
        mean_span,
    )


# -- train ----------------------------------------------------------------------------------------------


def task_batch(
    size: int, length: int, g: torch.Generator, device: str
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(source (size, 1 + length), target (size, length), task (size,)): a prefix token then digits; the
    target is the digits copied, reversed or sorted, as the prefix says."""
    digits = torch.randint(0, DIGITS, (size, length), generator=g)
    task = torch.randint(0, 3, (size,), generator=g)  # 0 copy, 1 reverse, 2 sort
    answers = torch.stack([digits, digits.flip(1), digits.sort(dim=1).values])  # (3, size, length)
    target = answers[task, torch.arange(size)]
    source = torch.cat([(PREFIXES["copy:"] + task).unsqueeze(1), digits], dim=1)
    return source.to(device), target.to(device), task.to(device)


def order_guessing_ceiling(digits: torch.Tensor) -> float:
    """The best exact-match any model that sees only the bag of digits can reach on copy (or reverse):
    all orders of a multiset are equally likely, so it is right with probability Π(count!) / length!."""
    length = digits.shape[1]
    counts = F.one_hot(digits.cpu(), DIGITS).sum(dim=1).double()  # (batch, DIGITS)
    return float((torch.lgamma(counts + 1).sum(dim=1) - math.lgamma(length + 1)).exp().mean())


def _train_model(ctx: RunContext, cfg: Config, seed: int, relative_bias: bool) -> T5:
    """One model trained on the task mix; ``seed`` fixes its initial weights and its batches, the same for
    both arms (the blind model's weights are the other's, less the two bias tables)."""
    torch.manual_seed(seed)
    d = cfg.d_model
    model = T5(T5Config(VOCAB, d_model=d, n_heads=4, d_ff=4 * d, n_layers=1, relative_bias=relative_bias))
    model = model.to(ctx.device)
    # on the CPU, fused: one kernel for the whole update (a third of a step's time at this size otherwise)
    on_cpu = model.embed.weight.device.type == "cpu"
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, fused=on_cpu or None)
    decay = torch.optim.lr_scheduler.LambdaLR(opt, lambda step: 1 - step / cfg.steps)  # linear to 0
    g = torch.Generator().manual_seed(seed)
    label = "relative bias" if relative_bias else "no position information"
    for step in range(cfg.steps):
        source, target, _ = task_batch(cfg.batch, cfg.digits, g, ctx.device)
        decoder_in = torch.cat([torch.full_like(target[:, :1], START), target[:, :-1]], dim=1)
        loss = F.cross_entropy(model(source, decoder_in).flatten(0, 1), target.flatten())
        opt.zero_grad()
        loss.backward()
        opt.step()
        decay.step()
        if seed == ctx.seed and (step % 20 == 0 or step == cfg.steps - 1):
            ctx.metric(f"train loss ({label})", step, loss.item())
    return model


def train(ctx: RunContext) -> None:
    cfg = ctx.config(Config)
    length = cfg.digits
    init_seeds = [ctx.seed + 10_000 * i for i in range(cfg.inits)]  # the first is the run's own seed
    source, target, task = task_batch(1500, length, torch.Generator().manual_seed(ctx.seed + 1), ctx.device)
    ceiling = order_guessing_ceiling(source[:, 1:])
    arms = {"relative bias": cfg.position == "relative", "no position information": False}
    # exact[arm, task]: the fraction of test strings decoded exactly right, averaged over the initialisations
    exact: dict[tuple[str, str], float] = dict.fromkeys(itertools.product(arms, PREFIXES), 0.0)
    for i, seed in enumerate(init_seeds):
        for j, (label, relative_bias) in enumerate(arms.items()):
            model = _train_model(ctx, cfg, seed, relative_bias)
            right = (greedy_decode(model, source, length, START) == target).all(dim=1)
            for name, k in PREFIXES.items():
                exact[label, name] += right[task == k - PREFIXES["copy:"]].double().mean().item() / len(
                    init_seeds
                )
            ctx.progress(1 + 2 * i + j, 1 + 2 * len(init_seeds))
    for label in arms:
        for name in PREFIXES:
            ctx.measured(f"exact match, {name} ({label})", exact[label, name])
    setup = (
        f"strings of {length} digits, 1 + 1 layers, d_model {cfg.d_model}, {cfg.steps} Adam steps of "
        f"{cfg.batch} at {cfg.lr:g}, one model for 3 tasks, {plural(len(init_seeds), 'init')}"
        + ("" if cfg.position == "relative" else ", position=none: no bias in the model under test")
    )
    for name in PREFIXES:
        exact_match = exact["relative bias", name]
        ctx.target(f"T5 with relative bias: exact match on {name}", exact_match, 0.9, detail=setup)
    # The A/B, paired: same initial weights, batches and test strings; the difference per run.
    order = ("copy:", "reverse:")
    gain = sum(exact["relative bias", n] - exact["no position information", n] for n in order) / len(order)
    ctx.target(
        "relative bias − no position information: exact match on copy: and reverse: (paired)",
        gain,
        0.5,
        detail="the bias alone turns more than half of the order-dependent strings right (mean of the two)",
    )
    ctx.measured(
        "best exact match on copy: or reverse: for a model blind to order",
        ceiling,
        f"mean of Π(count!)/{length}! over the test strings",
    )
    # Reported, not asserted: without positions the encoder is exactly permutation invariant (check stage),
    # so copy and reverse cannot rise above the order-guessing ceiling; a bound on them could not fail.
    for name in order:
        ctx.measured(
            f"no position information: exact match on {name} (at most guessing the order)",
            exact["no position information", name],
            f"the encoder is permutation invariant (check stage); guessing ceiling {ceiling:.3f}",
        )
    ctx.target(
        "no position information still learns sort: (needs only the bag of digits)",
        exact["no position information", "sort:"],
        0.9,
        detail="the decoder's causal mask alone tells it how many digits it has written",
    )


# -- bench ----------------------------------------------------------------------------------------------


def _attention_step(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, position: RelativePositionBias | None, sdpa: bool
) -> None:
    """Forward and backward of one attention call, as training runs it (no ``.grad`` accumulated)."""
    n = q.shape[-2]
    bias = None if position is None else position(n, n)  # (1, H, n, n): buckets, look-up
    if sdpa:
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=bias, scale=1.0)
    else:
        out = attention(q, k, v, bias)
    leaves = [q, k, v] + ([] if position is None else [position.table.weight])
    torch.autograd.grad(out.sum(), leaves)


def bench(ctx: RunContext) -> None:
    batch, heads, d = 4, 8, 64
    lengths = (32, 128) if ctx.quick else (128, 256, 512)
    position = RelativePositionBias(heads, bidirectional=True).to(ctx.device)
    variants = [
        ("attention, no position bias", None, False),
        ("attention + T5 relative bias", position, False),
    ]
    if not ctx.quick:
        variants.append(("SDPA with the T5 bias as float mask", position, True))
    for n in lengths:
        q, k, v = (torch.randn(batch, heads, n, d, device=ctx.device, requires_grad=True) for _ in range(3))
        for label, bias, sdpa in variants:
            ctx.bench.measure(
                f"{label}, N={n}",
                partial(_attention_step, q, k, v, bias, sdpa),
                baseline=bias is None and n == lengths[0],
                tokens=batch * n,
                shape=(batch, heads, n, d),
                dtype=q.dtype,
            )
