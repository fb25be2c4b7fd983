"""RoBERTa's dynamic masking at toy scale: the two masking schedules checked, and the held-out masked-LM loss
of the same model trained for many epochs on a small fixed set with static or with dynamic masks.

check: the encoder (``TinyTransformer`` with full attention) against a naive float64 re-implementation
       written here (per-head loops, softmax, LayerNorm and GELU from their formulas), forward and the
       gradients of every weight, N = 1, 7, 17, float64 then float32, with full and with key-padding
       attention. The schedules: static masks are the same at epoch e and e + 10 and its 10 copies differ
       from each other; dynamic masks are fresh at every epoch (the share of sequences masked exactly as in
       the epoch before is that of chance, and below 5%); both follow the 80/10/10 rule within 4.5 binomial
       standard deviations; unselected positions are never changed.
train: a fixed set of 64 sequences from ``plugin_kit.mlm.right_copy_batch`` (every odd position copies its
       right neighbour), one full batch per epoch for hundreds of epochs: static (10 masks per sequence, as
       the paper's baseline) against dynamic masking, a paired design (the same data, initial weights and
       first mask for both arms, the difference taken per seed), each arm at its own best learning rate of
       3e-3 and 1e-2 (picked on a validation set; quick: 1e-2, the rate both pick on most seeds). The claim:
       static − dynamic held-out masked-LM loss (the paper's perplexity, in nats) ≥ 0.01, i.e. dynamic's
       held-out perplexity at least 1% lower; held-out masked accuracy beside it, reported. The full run
       averages five initialisations (each with its own data), asserts the smallest of their gaps too, and
       adds a 4× larger training set, where the gap should shrink. Knobs: ``config.py``.
bench: masking one epoch (static lookup vs a fresh draw) at two sizes of the training set, and in the full
       run a forward + backward of the model beside it.
"""

from __future__ import annotations

import math
from functools import partial

import torch

from readtrack.api import RunContext, dtype_name, plural
from readtrack.plugin_kit.mlm import IGNORE, ceiling, mask_tokens, masked_accuracy, mlm_loss, right_copy_batch
from readtrack.plugin_kit.transformer import Block, TinyTransformer

from .config import Config
from .model import DynamicMasks, StaticMasks

VOCAB, N, D_MODEL, HEADS, LAYERS = 16, 17, 32, 4, 2  # 16 real tokens, then [MASK]
MASK_ID, COPIES = VOCAB, 10
LR_GRID, QUICK_LR = (3e-3, 1e-2), 1e-2  # quick: the rate both schedules pick on most full-run seeds
#: The claims' thresholds: dynamic's held-out perplexity at least 1% below static's (ln 1.01 ≈ 0.01 nats), and
#: its held-out masked accuracy ahead by half a point, the size of the paper's own gains (table 1).
LOSS_GAIN, ACCURACY_GAIN = 0.01, 0.005
Run = dict[str, float]  # one trained model's numbers
HeldOut = dict[str, tuple[torch.Tensor, torch.Tensor]]  # split → (inputs, labels)


def naive_encoder(model: TinyTransformer, tokens: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """TinyTransformer's forward from the formulas, one head and one query at a time: pre-LN blocks,
    softmax(q·k/√d) over the keys where ``mask`` (B, N, N) is True, GELU(x) = x·Φ(x), a tied read-out."""

    def layer_norm(x: torch.Tensor, ln: torch.nn.LayerNorm) -> torch.Tensor:
        mu = x.mean(-1, keepdim=True)
        var = ((x - mu) ** 2).mean(-1, keepdim=True)
        return (x - mu) / torch.sqrt(var + ln.eps) * ln.weight + ln.bias

    n = tokens.shape[1]
    x = model.embed.weight[tokens] + model.position.weight[:n]  # (B, n, D)
    D = x.shape[-1]
    for block in model.blocks:
        assert isinstance(block, Block)
        h = layer_norm(x, block.ln1)
        qkv = h @ block.attn.qkv.weight.T + block.attn.qkv.bias
        q, k, v = qkv[..., :D], qkv[..., D : 2 * D], qkv[..., 2 * D :]
        A, d = block.attn.n_heads, D // block.attn.n_heads
        heads = []
        for a in range(A):
            qa, ka, va = (t[..., a * d : (a + 1) * d] for t in (q, k, v))
            rows = []
            for i in range(n):
                s = (qa[:, i : i + 1] * ka).sum(-1) / math.sqrt(d)  # (B, n)
                w = torch.exp(s - s.max(-1, keepdim=True).values) * mask[:, i]
                rows.append(((w / w.sum(-1, keepdim=True))[..., None] * va).sum(1))  # (B, d)
            heads.append(torch.stack(rows, 1))  # (B, n, d)
        x = x + torch.cat(heads, -1) @ block.attn.proj.weight.T + block.attn.proj.bias
        h = layer_norm(x, block.ln2) @ block.fc.weight.T + block.fc.bias
        h = h * 0.5 * (1 + torch.erf(h / math.sqrt(2)))
        x = x + h @ block.proj.weight.T + block.proj.bias
    return layer_norm(x, model.ln_f) @ model.embed.weight.T


def check(ctx: RunContext) -> None:
    dev = ctx.device
    for dtype in ctx.check_dtypes:
        for n in (1, 7, 17):
            model = TinyTransformer(VOCAB + 1, N, D_MODEL, HEADS, LAYERS).to(dev, dtype)
            with torch.no_grad():
                for p in model.parameters():
                    p.add_(0.1 * torch.randn_like(p))  # no gain of one or bias of zero can hide a bug
            tokens = torch.randint(0, VOCAB + 1, (2, n), device=dev)
            keys = torch.ones(2, n, dtype=torch.bool, device=dev)
            keys[1, n - n // 3 :] = False  # the second sequence's last n // 3 keys are padding
            variants = [("full attention", torch.ones_like(keys))]
            variants += [(f"padding {n // 3}", keys)] if n // 3 else []
            for what, allowed in variants:
                mask = allowed[:, None, :].expand(2, n, n)  # (B, query, key)
                params = list(model.parameters())
                ours = model(tokens, mask[:, None])
                ref = naive_encoder(model, tokens, mask)
                w = torch.linspace(-1, 1, ours.numel(), dtype=dtype, device=dev).view_as(ours)
                g_ours = torch.autograd.grad((ours * w).sum(), params)
                g_ref = torch.autograd.grad((ref * w).sum(), params)
                name = f"N={n}, {what} ({dtype_name(dtype)})"
                ctx.check_close(f"encoder vs naive attention, {name}", ours, ref)
                ctx.check_close(
                    f"gradients (every weight) vs naive attention, {name}",
                    torch.cat([g.flatten() for g in g_ours]),
                    torch.cat([g.flatten() for g in g_ref]),
                )
    _check_schedules(ctx)

    # Dynamic masks come from self.g alone and each call draws anew: the same seed gives the same masks,
    # another seed other masks (not a generator seeded with the epoch), and a second call with the same e
    # other masks again (not one mask kept per epoch); the labels are the tokens as they were.
    tokens = right_copy_batch(512, N, torch.Generator().manual_seed(ctx.seed), vocab=VOCAB, device=dev)

    def draw(seed: int, calls: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
        masks = DynamicMasks(tokens, torch.Generator().manual_seed(seed), mask_id=MASK_ID, vocab=VOCAB)
        return [masks.epoch(0) for _ in range(calls)][-1]

    first, again, other = draw(1), draw(1), draw(2)
    alike = float(_same(first, again).float().mean())
    ctx.check_property(
        "dynamic: every draw comes from self.g (generators seeded alike give the same masks)",
        alike == 1.0,
        f"{alike:.1%} of the sequences masked alike: the masks do not follow self.g",
        value=alike,
    )
    pairs = {"seeded apart": (first, other), "a second call of epoch(0)": (first, draw(1, calls=2))}
    for what, (a, b) in pairs.items():
        alike = float(_same(a, b).float().mean())
        ctx.check_property(
            f"dynamic: {what} masks anew (share masked alike ≤ 5%)",
            alike <= 0.05,
            f"{alike:.1%} of the sequences masked alike",
            value=alike,
        )
    selected = first[1] != IGNORE
    ctx.check_property(
        "dynamic: labels hold the original token at every selected position",
        bool((first[1][selected] == tokens[selected]).all()),
        f"{int((first[1][selected] != tokens[selected]).sum())} of {int(selected.sum())} labels differ",
    )


def _same(a: tuple[torch.Tensor, torch.Tensor], b: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
    """(S,) True where a sequence is masked identically (same inputs, same labels) in ``a`` and ``b``."""
    return ((a[0] == b[0]) & (a[1] == b[1])).all(-1)


def _check_schedules(ctx: RunContext) -> None:
    dev = ctx.device
    g = torch.Generator().manual_seed(ctx.seed)
    tokens = right_copy_batch(4096, N, g, vocab=VOCAB, device=dev)
    static = StaticMasks(tokens, g, mask_id=MASK_ID, vocab=VOCAB, copies=COPIES)
    dynamic = DynamicMasks(tokens, g, mask_id=MASK_ID, vocab=VOCAB)

    fixed = all(bool(_same(static.epoch(e), static.epoch(e + COPIES)).all()) for e in range(COPIES))
    ctx.check_property(f"static: epoch e and e + {COPIES} use exactly the same masks", fixed)
    pairs = [_same(static.epoch(a), static.epoch(b)).float().mean() for a in range(COPIES) for b in range(a)]
    repeated = float(torch.stack(pairs).max())
    # Two independent masks of N positions coincide with probability below (0.85² + 0.15²)^N ≈ 0.7%.
    chance = (0.85**2 + 0.15**2) ** N
    ctx.check_property(
        f"static: its {COPIES} copies are masked differently (share of equal pairs ≤ 5%)",
        repeated <= 0.05,
        f"at most {repeated:.4f} of the sequences masked alike in two copies; chance ≈ {chance:.4f}",
        value=repeated,
    )
    epochs = [dynamic.epoch(e) for e in range(COPIES + 1)]
    alike = max(float(_same(epochs[e], epochs[e + 1]).float().mean()) for e in range(COPIES))
    alike = max(alike, float(_same(epochs[0], epochs[COPIES]).float().mean()))
    ctx.check_property(
        "dynamic: a fresh mask every epoch (share masked as in the epoch before, or 10 before, ≤ 5%)",
        alike <= 0.05,
        f"at most {alike:.4f} of the sequences; chance ≈ {chance:.4f}",
        value=alike,
    )

    for label, (inputs, labels) in (
        ("static", (static.inputs.flatten(0, 1), static.labels.flatten(0, 1))),
        ("dynamic", (torch.cat([i for i, _ in epochs]), torch.cat([lab for _, lab in epochs]))),
    ):
        original = tokens.repeat(len(inputs) // len(tokens), 1)
        selected = labels != IGNORE
        n_sel, picked = int(selected.sum()), inputs[selected]
        shares = {
            "selected": (n_sel, labels.numel(), 0.15),
            "[MASK] among selected": (int((picked == MASK_ID).sum()), n_sel, 0.8),
            "unchanged among selected": (int((picked == original[selected]).sum()), n_sel, 0.1 + 0.1 / VOCAB),
        }
        for what, (count, trials, p) in shares.items():
            z = (count - trials * p) / math.sqrt(trials * p * (1 - p))
            ctx.check_property(
                f"{label}: share {what} = {p:.4f} within 4.5 binomial σ",
                abs(z) <= 4.5,
                f"{count:,} of {trials:,} = {count / trials:.4f} (z = {z:+.2f})",
                value=count / trials,
            )
        kept = bool((inputs[~selected] == original[~selected]).all())
        ctx.check_property(f"{label}: positions not selected are never changed", kept)


def _train_one(
    ctx: RunContext, cfg: Config, kind: str, data: torch.Tensor, lr: float, seed: int, held_out: HeldOut
) -> Run:
    """One model trained with ``kind`` masking on the fixed set ``data``, one full batch per epoch."""
    dev = ctx.device
    g = torch.Generator().manual_seed(seed + 1)  # the masks: static draws its copies from the same stream
    masks: StaticMasks | DynamicMasks
    if kind == "dynamic" and cfg.masking == "dynamic":
        masks = DynamicMasks(data, g, mask_id=MASK_ID, vocab=VOCAB)
    else:  # the static arm, or the arm under test with the idea removed: the same masks as the static arm
        masks = StaticMasks(data, g, mask_id=MASK_ID, vocab=VOCAB, copies=cfg.copies)
    torch.manual_seed(seed)  # the same initial weights for both schedules
    model = TinyTransformer(VOCAB + 1, N, cfg.hidden, HEADS, cfg.layers).to(dev)
    full = torch.ones(N, N, dtype=torch.bool, device=dev)  # bidirectional
    opt = torch.optim.Adam(model.parameters(), lr=lr, fused=model.embed.weight.device.type == "cpu" or None)
    for e in range(cfg.steps):
        inputs, labels = masks.epoch(e)
        loss = mlm_loss(model(inputs, full), labels)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if e % 25 == 0:
            label = f"train MLM loss ({kind}, {len(data)} sequences, lr {lr:g}, seed {seed})"
            ctx.metric(label, e, loss.item())
    with torch.no_grad():
        out = {"train loss": loss.item()}
        for split, (inputs, labels) in held_out.items():
            logits = model(inputs, full)
            out[split] = masked_accuracy(logits, labels)
            out[f"{split} loss"] = mlm_loss(logits, labels).item()
    return out


def _compare(
    ctx: RunContext, cfg: Config, size: int, init_seeds: list[int], grid: tuple[float, ...], held_out: HeldOut
) -> dict[str, tuple[float, list[Run]]]:
    """Static and dynamic on a fixed set of ``size`` sequences per seed (the same data and initial weights for
    both); for each schedule, the learning rate of the grid with the lowest mean validation loss, and its
    runs, one per seed."""
    best = {}
    for kind in ("static", "dynamic"):
        runs: dict[float, list[Run]] = {}
        for lr in grid:
            for seed in init_seeds:
                data = right_copy_batch(
                    size, N, torch.Generator().manual_seed(seed), vocab=VOCAB, device=ctx.device
                )
                runs.setdefault(lr, []).append(_train_one(ctx, cfg, kind, data, lr, seed, held_out))
        lr = min(grid, key=lambda lr: sum(r["validation loss"] for r in runs[lr]))
        best[kind] = (lr, runs[lr])
    return best


def _mean(values: list[float]) -> float:
    return sum(values) / len(values)


def train(ctx: RunContext) -> None:
    cfg = ctx.config(Config)
    init_seeds = [ctx.seed + i for i in range(cfg.inits)]
    grid = (QUICK_LR,) if ctx.quick else LR_GRID
    grid = grid if cfg.lr == 0 else (cfg.lr,)
    held_out = {}
    for i, split in enumerate(("validation", "test")):  # new sequences, masked once
        g = torch.Generator().manual_seed(ctx.seed + 1000 + i)
        held_out[split] = mask_tokens(
            right_copy_batch(2048, N, g, vocab=VOCAB, device=ctx.device), g, mask_id=MASK_ID, vocab=VOCAB
        )
    ctx.measured(
        "exact ceiling of held-out masked accuracy (odd and paired even positions)",
        ceiling(VOCAB, sees_partner=True),
        f"position 0 has no partner: {ceiling(VOCAB, sees_partner=False):.4f} there",
    )
    best = _compare(ctx, cfg, cfg.train_set, init_seeds, grid, held_out)
    ctx.progress(1, 1 if ctx.quick else 2)
    setup = f"{cfg.train_set} sequences, {cfg.steps} epochs, {plural(len(init_seeds), 'init')}"
    setup += "" if cfg.masking == "dynamic" else ", masking=static in dynamic's place"
    for kind, (lr, runs) in best.items():
        ctx.measured(
            f"{kind}: held-out masked-LM loss ({setup})",
            _mean([r["test loss"] for r in runs]),
            f"lr {lr:g}; held-out masked accuracy {_mean([r['test'] for r in runs]):.3f}, "
            f"final train loss on its own masks {_mean([r['train loss'] for r in runs]):.3f}",
        )
    static, dynamic = best["static"][1], best["dynamic"][1]
    loss_gaps = [s["test loss"] - d["test loss"] for s, d in zip(static, dynamic, strict=True)]
    accuracy_gaps = [d["test"] - s["test"] for s, d in zip(static, dynamic, strict=True)]
    per_init = "per init: " + ", ".join(f"{gap:+.3f}" for gap in loss_gaps)
    # 0.01 nats: dynamic's held-out perplexity at least 1% below static's; two identical arms give exactly 0
    ctx.target(
        f"static − dynamic held-out masked-LM loss (nats), mean of {plural(len(init_seeds), 'init')}",
        _mean(loss_gaps),
        LOSS_GAIN,
        detail=per_init,
    )
    ctx.target(
        f"dynamic − static held-out masked accuracy, mean of {plural(len(init_seeds), 'init')}",
        _mean(accuracy_gaps),
        ACCURACY_GAIN,
        detail="per init: " + ", ".join(f"{gap:+.3f}" for gap in accuracy_gaps),
        asserted=False,  # a static arm at its best rate is close in accuracy: too wide a spread (the page)
    )
    if ctx.quick:
        return
    ctx.target("dynamic ahead in held-out loss on every init (smallest gap, nats)", min(loss_gaps), LOSS_GAIN)
    rate = grid[-1]
    larger = _compare(ctx, cfg, 4 * cfg.train_set, init_seeds[:1], (rate,), held_out)
    ctx.progress(2, 2)
    (s_run,), (d_run,) = larger["static"][1], larger["dynamic"][1]
    ctx.measured(
        f"static − dynamic held-out loss with {4 * cfg.train_set} training sequences (one init, lr {rate:g})",
        s_run["test loss"] - d_run["test loss"],
        f"static {s_run['test loss']:.3f}, dynamic {d_run['test loss']:.3f} nats; held-out masked accuracy "
        f"static {s_run['test']:.3f}, dynamic {d_run['test']:.3f}: more data, less to gain",
    )


def bench(ctx: RunContext) -> None:
    for i, size in enumerate((64, 256) if ctx.quick else (256, 2048)):
        data = right_copy_batch(
            size, N, torch.Generator().manual_seed(ctx.seed), vocab=VOCAB, device=ctx.device
        )
        g = torch.Generator().manual_seed(ctx.seed)
        static = StaticMasks(data, g, mask_id=MASK_ID, vocab=VOCAB, copies=COPIES)
        dynamic = DynamicMasks(data, g, mask_id=MASK_ID, vocab=VOCAB)
        schedules: tuple[tuple[str, StaticMasks | DynamicMasks], ...] = (
            ("static (10 copies, lookup)", static),
            ("dynamic (fresh draw)", dynamic),
        )
        for j, (label, masks) in enumerate(schedules):
            ctx.bench.measure(
                f"masking one epoch, {label}, {size} sequences",
                partial(masks.epoch, 3),
                baseline=i == 0 and j == 0,
                tokens=size * N,
                shape=(size, N),
                dtype=torch.int64,
            )
        model = TinyTransformer(VOCAB + 1, N, D_MODEL, HEADS, LAYERS).to(ctx.device)
        full = torch.ones(N, N, dtype=torch.bool, device=ctx.device)
        inputs, labels = dynamic.epoch(0)

        def step(
            model: TinyTransformer = model, inputs: torch.Tensor = inputs, labels: torch.Tensor = labels
        ) -> object:
            loss = mlm_loss(model(inputs, full), labels)  # noqa: B023 (full is the same for every size)
            return torch.autograd.grad(loss, list(model.parameters()))

        if ctx.quick:
            continue  # the quick run times the masking only
        ctx.bench.measure(
            f"model forward + backward (one training step), {size} sequences",
            step,
            baseline=i == 0,  # the smaller epoch's step: a training step against a training step
            group="training",
            tokens=size * N,
            shape=(size, N),
            dtype=torch.float32,
        )
