"""BERT at toy scale: its post-LN encoder exact against PyTorch's, the 80/10/10 masking checked exactly and
statistically, and bidirectional against left-to-right attention on a task that needs the right context.

check: one ``Layer`` against ``nn.TransformerEncoderLayer(norm_first=False, activation="gelu")`` with the same
       weights and a key-padding mask, and the whole model (embeddings summed and layer-normalised, the
       layers, the MLM head with its tied decoder) against a reference assembled from ``F.layer_norm`` and
       those built-in layers; N = 1, 7, 33, forward and the gradients of the input and every weight, float64
       then float32. The masking (``plugin_kit.mlm.mask_tokens``): on 2²¹ seeded positions, 15% selected and
       of those 80% [MASK], 10% a random token, 10% unchanged, each within 4.5 binomial standard deviations;
       unselected positions are never changed and the loss ignores them exactly (its gradient there is
       zero). The segment embeddings change the output, and attention is bidirectional: the output at an odd
       position depends on the token to its right, and does not once a causal mask is passed.
train: tokens in which every odd position copies its right neighbour (``plugin_kit.mlm.right_copy_batch``),
       corrupted by the 80/10/10 rule; the same model, seed and batches with bidirectional attention and with
       a causal mask, each with Adam, the gradient norm clipped at 1.0 (BERT's optimiser) and its learning
       rate of the grid picked by the MLM loss on a validation split. Held-out masked accuracy at the odd
       positions against the exact Bayes ceiling of each (computed by ``plugin_kit.mlm.ceiling``); the even
       positions, whose partner is on the left, show that the causal model learns what it can see.
bench: a forward + backward through the encoder layers, ours against ``nn.TransformerEncoderLayer`` (and,
       in the full run, ours with a causal mask), at two lengths.
"""

from __future__ import annotations

from functools import partial
from typing import TypeVar

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call

from readtrack.api import RunContext, dtype_name
from readtrack.plugin_kit.mlm import IGNORE, ceiling, mask_tokens, masked_accuracy, mlm_loss, right_copy_batch

from .config import Config
from .model import Bert, Layer, causal_mask

VOCAB, N, H, A, L = 16, 17, 32, 4, 2  # the check stage's sizes: 16 real tokens, then [MASK]
LR_GRID, CLIP = (3e-3, 1e-2), 1.0
# The learning rates tried, by quick (config.py's lr = 0). The quick run trains on twice the full run's batch
# for a third of its steps (config.py), so that every seed is past the sudden jump (looking right at odd and
# left at even positions) before it ends; at 200 steps of 64 seed 15 was still on its plateau (0.22). The
# quick run trains both arms at 1e-2, the full run's validation pick for the bidirectional arm on seeds 0-2.
GRID = {True: (1e-2,), False: LR_GRID}
MASK_ID = VOCAB
M = TypeVar("M", bound=nn.Module)
ODD, EVEN = slice(1, None, 2), slice(2, None, 2)  # odd t copies t + 1; even t ≥ 2 is a copy of t − 1


def segments_of(tokens: torch.Tensor) -> torch.Tensor:
    """Sentence A (segment 0) for the first half of each sequence, sentence B (segment 1) for the rest."""
    n = tokens.shape[1]
    return (torch.arange(n, device=tokens.device) >= (n + 1) // 2).long().expand_as(tokens)


REFERENCE_NAMES = [  # the built-in layer's parameters in the order of ``Layer.parameters()``
    "self_attn.in_proj_weight",  # [W_Q; W_K; W_V], as qkv
    "self_attn.in_proj_bias",
    "self_attn.out_proj.weight",
    "self_attn.out_proj.bias",
    "norm1.weight",
    "norm1.bias",
    "linear1.weight",
    "linear1.bias",
    "linear2.weight",
    "linear2.bias",
    "norm2.weight",
    "norm2.bias",
]


def reference_layer(layer: Layer) -> nn.TransformerEncoderLayer:
    """PyTorch's post-LN encoder layer holding a copy of ``layer``'s weights."""
    H, A = layer.ln_1.normalized_shape[0], layer.attn.A
    ref = nn.TransformerEncoderLayer(
        H, A, 4 * H, dropout=0.0, activation="gelu", layer_norm_eps=1e-12, batch_first=True, norm_first=False
    ).to(layer.ln_1.weight.device, layer.ln_1.weight.dtype)
    with torch.no_grad():
        for theirs, ours in zip(reference_parameters(ref), layer.parameters(), strict=True):
            theirs.copy_(ours)
    return ref


def reference_parameters(ref: nn.TransformerEncoderLayer) -> list[torch.Tensor]:
    """The built-in layer's parameters in the order of ``Layer.parameters()``."""
    params = dict(ref.named_parameters())
    return [params[name] for name in REFERENCE_NAMES]


def reference_bert(
    model: Bert, tokens: torch.Tensor, segments: torch.Tensor, pad: torch.Tensor
) -> torch.Tensor:
    """BERT's forward assembled from embedding lookups by indexing, ``F.layer_norm`` and PyTorch's own encoder
    layers; ``pad`` (B, N) True at padding keys."""
    n = tokens.shape[1]
    x = model.token.weight[tokens] + model.segment.weight[segments] + model.position.weight[:n]
    x = F.layer_norm(x, x.shape[-1:], model.ln_embed.weight, model.ln_embed.bias, eps=1e-12)
    for layer in model.layers:
        assert isinstance(layer, Layer)
        weights: dict[str, torch.Tensor] = dict(
            zip(REFERENCE_NAMES, layer.parameters(), strict=True)
        )  # ours, so gradients reach them
        x = functional_call(reference_layer(layer), weights, (x,), {"src_key_padding_mask": pad})
    h = F.gelu(x @ model.head.weight.T + model.head.bias)
    h = F.layer_norm(h, h.shape[-1:], model.ln_head.weight, model.ln_head.bias, eps=1e-12)
    return h @ model.token.weight.T + model.decoder_bias


def randomised(module: M, std: float = 0.3) -> M:
    """Random parameters everywhere (LayerNorm gains 1 + noise, biases too), so no zero or one hides a bug."""
    with torch.no_grad():
        for name, p in module.named_parameters():
            p.normal_(0.0, std).add_(1.0 if name.endswith("weight") and p.dim() == 1 else 0.0)
    return module


def padding(n: int, device: torch.device | str) -> torch.Tensor:
    """(2, n) True at padding: the first sequence has none, the second loses its last n // 3 positions."""
    pad = torch.zeros(2, n, dtype=torch.bool, device=device)
    pad[1, n - n // 3 :] = True
    return pad


def check(ctx: RunContext) -> None:
    dev = ctx.device
    for dtype in ctx.check_dtypes:
        name = dtype_name(dtype)
        for n in (1, 7, 33):
            layer = randomised(Layer(H, A)).to(dev, dtype)
            ref = reference_layer(layer)
            pad = padding(n, dev)
            x = torch.randn(2, n, H, dtype=dtype, device=dev)
            ours, grads = ctx.value_and_grads(
                partial(layer, mask=~pad[:, None, None, :]), x, params=list(layer.parameters())
            )
            theirs, ref_grads = ctx.value_and_grads(
                partial(ref, src_key_padding_mask=pad), x, params=reference_parameters(ref)
            )
            what = f"N={n}, padding {n // 3}"
            ctx.check_close(f"encoder layer vs nn.TransformerEncoderLayer, {what} ({name})", ours, theirs)
            ctx.check_close(
                f"layer gradients (input, every weight) vs the built-in, {what} ({name})", grads, ref_grads
            )

            model = randomised(Bert(VOCAB + 1, 40, H, A, L), std=0.1).to(dev, dtype)
            tokens = torch.randint(0, VOCAB + 1, (2, n), device=dev)
            segments = segments_of(tokens)
            params = list(model.parameters())
            mask = ~pad[:, None, None, :]
            out = model(tokens, segments, mask)
            expected = reference_bert(model, tokens, segments, pad)
            ctx.check_close(
                f"BERT forward vs embeddings + built-in layers + MLM head, {what} ({name})", out, expected
            )
            w = torch.linspace(-1, 1, out.numel(), dtype=dtype, device=dev).view_as(out)
            g_ours = torch.autograd.grad((out * w).sum(), params, materialize_grads=True)
            g_ref = torch.autograd.grad((expected * w).sum(), params, materialize_grads=True)
            ctx.check_close(
                f"BERT gradients (every weight) vs the reference, {what} ({name})",
                torch.cat([g.flatten() for g in g_ours]),
                torch.cat([g.flatten() for g in g_ref]),
            )

    _check_masking(ctx)
    _check_segments_and_direction(ctx)


def _check_masking(ctx: RunContext) -> None:
    dev = ctx.device
    g = torch.Generator().manual_seed(ctx.seed)
    tokens = torch.randint(0, VOCAB, (1 << 16, 32), generator=g).to(dev)  # 2²¹ positions
    inputs, labels = mask_tokens(tokens, g, mask_id=MASK_ID, vocab=VOCAB)
    selected = labels != IGNORE
    n_sel = int(selected.sum())
    picked = inputs[selected]
    shares = {  # observed count, trials, expected probability
        "selected": (n_sel, tokens.numel(), 0.15),
        "[MASK] among selected": (int((picked == MASK_ID).sum()), n_sel, 0.8),
        "a different random token among selected": (
            int(((picked != MASK_ID) & (picked != tokens[selected])).sum()),
            n_sel,
            0.1 * (1 - 1 / VOCAB),  # a random draw equal to the original counts as unchanged
        ),
        "unchanged among selected": (int((picked == tokens[selected]).sum()), n_sel, 0.1 + 0.1 / VOCAB),
    }
    for what, (count, trials, p) in shares.items():
        sigma = (trials * p * (1 - p)) ** 0.5
        z = (count - trials * p) / sigma
        ctx.check_property(
            f"80/10/10 rule: share {what} = {p:.4f} within 4.5 binomial σ",
            abs(z) <= 4.5,
            f"{count:,} of {trials:,} = {count / trials:.4f} (z = {z:+.2f})",
            value=count / trials,
        )
    unchanged = bool((inputs[~selected] == tokens[~selected]).all())
    ctx.check_property(
        "positions not selected are never changed", unchanged, f"{int((~selected).sum()):,} positions"
    )
    labelled = bool((labels[selected] == tokens[selected]).all())
    ctx.check_property("labels hold the original token at every selected position", labelled)

    logits = torch.randn(*tokens[:64].shape, VOCAB + 1, dtype=ctx.exact_dtype, device=dev, requires_grad=True)
    lab = labels[:64]
    loss = mlm_loss(logits, lab)
    sel = lab != IGNORE
    by_hand = -logits.log_softmax(-1)[sel].gather(-1, lab[sel][:, None]).mean()
    ctx.check_close("MLM loss = mean −log p(original token) over the selected positions", loss, by_hand)
    (grad,) = torch.autograd.grad(loss, logits)
    leak = float(grad[~sel].abs().max()) if bool((~sel).any()) else 0.0
    ctx.check_property(
        "the loss ignores unselected positions (its gradient there is 0)", leak == 0.0, value=leak
    )


def _check_segments_and_direction(ctx: RunContext) -> None:
    dev, dtype = ctx.device, ctx.exact_dtype
    model = randomised(Bert(VOCAB + 1, N, H, A, L)).to(dev, dtype)
    tokens = right_copy_batch(2, N, torch.Generator().manual_seed(ctx.seed), vocab=VOCAB, device=dev)
    segments = segments_of(tokens)
    with torch.no_grad():
        change = (model(tokens, segments) - model(tokens, torch.zeros_like(segments))).abs().max().item()
    ctx.check_property(
        "segment embeddings change the output (A/B halves vs all A)",
        change > 1e-3,
        f"max |Δ logit| {change:.3g}",
        value=change,
    )

    t = N // 2 if (N // 2) % 2 else N // 2 + 1  # an odd position: its partner is t + 1
    flipped = tokens.clone()
    flipped[:, t + 1] = (flipped[:, t + 1] + 1) % VOCAB
    with torch.no_grad():
        both = (model(flipped, segments)[:, t] - model(tokens, segments)[:, t]).abs().max().item()
        mask = causal_mask(N, dev)
        left = (model(flipped, segments, mask)[:, : t + 1] - model(tokens, segments, mask)[:, : t + 1]).abs()
    ctx.check_property(
        f"bidirectional: the output at position {t} depends on the token at {t + 1}",
        both > 1e-3,
        f"max |Δ logit| {both:.3g}",
        value=both,
    )
    ctx.check_property(
        f"with a causal mask, no output at positions ≤ {t} depends on the token at {t + 1}",
        float(left.max()) == 0.0,
        value=float(left.max()),
    )


def _train_one(
    ctx: RunContext,
    causal: bool,
    lr: float,
    cfg: Config,
    held_out: dict[str, tuple[torch.Tensor, torch.Tensor]],
) -> dict[str, float]:
    """Train one variant; its held-out masked accuracy at odd and even positions, and its validation loss."""
    dev, n = ctx.device, 2 * cfg.pairs + 1
    torch.manual_seed(ctx.seed)  # the same initial weights for both variants
    model = Bert(cfg.vocab + 1, n, cfg.hidden, cfg.heads, cfg.layers).to(dev)
    mask = causal_mask(n, dev) if causal else None
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    g = torch.Generator().manual_seed(ctx.seed + 1)  # the same batches and masks for both variants
    label = f"{'causal' if causal else 'bidirectional'}, lr {lr:g}"
    for step in range(cfg.steps):
        tokens = right_copy_batch(cfg.batch, n, g, vocab=cfg.vocab, device=dev)
        inputs, labels = mask_tokens(tokens, g, mask_id=cfg.vocab, vocab=cfg.vocab)
        loss = mlm_loss(model(inputs, segments_of(inputs), mask), labels)
        opt.zero_grad()
        loss.backward()
        # BERT's optimiser clips the global gradient norm at 1.0 (its optimization.py); without it, seed 3
        # at lr 1e-2 plateaued at 0.74 where the others reach 0.83-0.88 (one-off quick runs, not a command).
        nn.utils.clip_grad_norm_(model.parameters(), CLIP)
        opt.step()
        if step % 10 == 0:
            ctx.metric(f"train MLM loss ({label})", step, loss.item())
    with torch.no_grad():
        inputs, labels = held_out["validation"]
        val = mlm_loss(model(inputs, segments_of(inputs), mask), labels).item()
        inputs, labels = held_out["test"]
        logits = model(inputs, segments_of(inputs), mask)
    return {
        "odd": masked_accuracy(logits, labels, ODD),
        "even": masked_accuracy(logits, labels, EVEN),
        "val": val,
    }


def train(ctx: RunContext) -> None:
    cfg = ctx.config(Config)
    steps, batch, grid = cfg.steps, cfg.batch, GRID[ctx.quick] if cfg.lr == 0 else (cfg.lr,)
    n, vocab = 2 * cfg.pairs + 1, cfg.vocab
    held_out = {}
    for i, split in enumerate(("validation", "test")):  # sequences and masks no training batch holds
        g = torch.Generator().manual_seed(ctx.seed + 1000 + i)
        held_out[split] = mask_tokens(
            right_copy_batch(2048, n, g, vocab=vocab, device=ctx.device), g, mask_id=vocab, vocab=vocab
        )
    top, blind = ceiling(vocab, sees_partner=True), ceiling(vocab, sees_partner=False)
    ctx.measured(
        "exact ceiling at a masked odd position, seeing its right neighbour", top, "80/10/10, p = 0.15"
    )
    ctx.measured(
        "exact ceiling at a masked odd position, seeing only itself (causal)",
        blind,
        f"= 0.8/{vocab} + 0.1 + 0.1/{vocab}",
    )
    # the arm under test is bidirectional but for --set attention=causal; the baseline arm is causal
    best: dict[bool, dict[str, float]] = {}
    runs = [(baseline, lr) for baseline in (False, True) for lr in grid]
    for done, (baseline, lr) in enumerate(runs, 1):
        causal = baseline or cfg.attention == "causal"
        result = _train_one(ctx, causal, lr, cfg, held_out)
        if baseline not in best or result["val"] < best[baseline]["val"]:
            best[baseline] = {**result, "lr": lr}
        ctx.progress(done, len(runs))
    bi, lr_ = best[False], best[True]
    picked = "" if ctx.quick else f"; learning rate {{:g}} picked from {grid} by validation MLM loss"
    if cfg.lr != 0:
        picked = "; learning rate {:g}, set by --set lr"
    if cfg.attention == "causal":
        picked += "; attention=causal: the 'bidirectional' arm is causal too, the same model as the baseline"
    for label, acc in (("bidirectional", bi), ("causal", lr_)):
        ctx.measured(
            f"held-out masked accuracy at even positions (partner on the left), {label}",
            acc["even"],
            f"ceiling {top:.4f} for both" + picked.format(acc["lr"]),
        )
    ctx.target(
        "bidirectional: held-out masked accuracy at odd positions (partner on the right)",
        bi["odd"],
        0.75 if ctx.quick else 0.8,
        detail=f"exact ceiling {top:.4f}; {steps} Adam steps of {batch} sequences; quick target 0.05 lower"
        + picked.format(bi["lr"]),
    )
    # Reported, not asserted: below its exact ceiling by construction (the check holds the mask causal).
    ctx.measured(
        "causal: held-out masked accuracy at odd positions",
        lr_["odd"],
        f"it cannot see the right neighbour: exact ceiling {blind:.4f}; same seed, batches and masks"
        + picked.format(lr_["lr"]),
    )
    ctx.target(
        "causal learns what it can see: held-out masked accuracy at even positions",
        lr_["even"],
        0.75 if ctx.quick else 0.8,
        detail=f"a fair baseline, not a broken one: its even positions see their partner (ceiling {top:.4f})",
    )


def bench(ctx: RunContext) -> None:
    batch, sizes = (8, (16, 64)) if ctx.quick else (32, (64, 256))
    for n in sizes:
        x = torch.randn(batch, n, H, device=ctx.device)
        torch.manual_seed(ctx.seed)
        layers = [Layer(H, A).to(ctx.device) for _ in range(L)]
        refs = [reference_layer(layer) for layer in layers]
        mask = causal_mask(n, ctx.device)

        def ours(
            x: torch.Tensor, mask: torch.Tensor | None = None, layers: list[Layer] = layers
        ) -> torch.Tensor:
            for layer in layers:
                x = layer(x, mask)
            return x

        def theirs(x: torch.Tensor, refs: list[nn.TransformerEncoderLayer] = refs) -> torch.Tensor:
            for ref in refs:
                x = ref(x)
            return x

        variants: tuple[tuple[str, object, list[torch.Tensor]], ...] = (
            (f"nn.TransformerEncoderLayer × {L}", theirs, [p for r in refs for p in r.parameters()]),
            (f"BERT Layer × {L} (this plugin)", ours, [p for layer in layers for p in layer.parameters()]),
            (
                f"BERT Layer × {L}, causal mask",
                partial(ours, mask=mask),
                [p for la in layers for p in la.parameters()],
            ),
        )
        for i, (label, fn, params) in enumerate(variants[:2] if ctx.quick else variants):

            def step(fn: object = fn, params: list[torch.Tensor] = params, x: torch.Tensor = x) -> object:
                assert callable(fn)
                return torch.autograd.grad(fn(x).square().mean(), params)

            ctx.bench.measure(
                f"{label}, forward + backward, N = {n}",
                step,
                baseline=i == 0 and n == sizes[0],
                tokens=batch * n,
                shape=(batch, n, H),
                dtype=x.dtype,
            )
