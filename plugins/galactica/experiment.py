"""Galactica's ``<work>`` token at toy scale: multi-digit addition answered directly against answered after
a written trace of digit sums and carries, with the same small transformer, steps and batches.

check: the data is exact: for every pair a, b < 100 (D = 2) and 2000 random pairs of 6 digits, in both
       formats, the parser inverts the formatter, the work trace recomputes the sum (each step keeps
       a_i + b_i + c_i = s_i + 10·c_(i+1), its digits rebuild a and b, its sum digits and last carry rebuild
       a + b) and the vectorised formatter equals the per-example one; the loss mask covers exactly the
       generated tokens. The model: decoding with a key/value cache equals TinyTransformer's full forward
       (float64 and float32, lengths 1, 7, 26), greedy decoding equals a brute-force loop that re-runs the
       whole prefix and takes the arg-max of each example alone, and no output depends on a later input
       (the Jacobian through the blocks is zero above the diagonal).
train: two TinyTransformers from the same initialisation, trained on the same pairs with the same steps and
       the same optimiser: one on ``a+b=answer`` (loss on the answer), one on ``a+b=<work> … </work>answer``
       (loss on the work and the answer); exact-match accuracy of greedy answers on held-out pairs
       (excluded from training). The optimiser, for both formats: AdamW with β2 = 0.98, gradients clipped to
       norm 1, the rate warmed up over the first 10% of the steps, held, and decayed linearly to 0 over the
       last 25% (``rate``); with AdamW's defaults at a constant rate the scratchpad model stalled on some
       seeds. The settings are ``config.py``'s knobs (``work`` off trains the second arm on the direct format
       too). Full: 5 digits, 500 steps, each format at its own best peak rate of ``GRID``, chosen on 500
       validation pairs (also excluded from training), never on the reported pairs, with the held-out
       accuracy every quarter of training as a curve; quick: 4 digits, 400 steps, both formats at ``lr`` =
       3e-3 (``--set lr=0`` runs the grid). Target, both sizes: the scratchpad model beats the direct one by
       a margin in exact match (quick ≥ 0.2, full ≥ 0.5).
bench: greedy decoding of a batch of held-out prompts in each format with the key/value cache, and without
       it (the whole prefix re-run per token): time and tokens per answer; the scratchpad's token ratio.
"""

from __future__ import annotations

from functools import partial

import torch
import torch.nn.functional as F

from readtrack.api import RunContext, dtype_name
from readtrack.plugin_kit.checks import check_causal
from readtrack.plugin_kit.transformer import TinyTransformer

from .config import Config
from .model import (
    VOCAB,
    decode_step,
    format_batch,
    format_example,
    greedy,
    loss_mask,
    parse,
    prompt,
    sequence_length,
)

D_MODEL, HEADS, LAYERS = 64, 4, 2  # the check's and the bench's model; train's is the knobs'
GRID = (1e-3, 3e-3)  # AdamW rates (lr = 0): each format gets its own best, chosen on validation pairs
WARMUP, DECAY = 0.1, 0.25  # the "wsd" schedule's shares of the steps: linear warmup, linear decay to 0


def trace_recomputes_sum(tokens: list[int], D: int) -> bool:
    """The arithmetic of a written trace, read from the tokens alone: every step keeps a_i + b_i + c_i =
    s_i + 10·c_(i+1) with c_0 = 0, the copied digits rebuild a and b, and Σ s_i·10^i + c_D·10^D is a + b, the
    answer written after ``</work>``."""
    parsed = parse(tokens, D)
    if len(parsed.work) != D:
        return False
    carry = 0
    for a_i, b_i, s_i, c_next in parsed.work:
        if a_i + b_i + carry != s_i + 10 * c_next or s_i > 9 or c_next > 1:
            return False
        carry = c_next
    a = sum(step[0] * 10**i for i, step in enumerate(parsed.work))
    b = sum(step[1] * 10**i for i, step in enumerate(parsed.work))
    total = sum(step[2] * 10**i for i, step in enumerate(parsed.work)) + carry * 10**D
    return (a, b) == (parsed.a, parsed.b) and total == a + b == parsed.answer


def check(ctx: RunContext) -> None:
    _check_data(ctx)
    _check_decoding(ctx)


def _check_data(ctx: RunContext) -> None:
    g = torch.Generator().manual_seed(ctx.seed)
    grid = torch.cartesian_prod(torch.arange(100), torch.arange(100))  # every pair a, b < 100
    cases = [(2, grid), (6, torch.randint(0, 10**6, (2000, 2), generator=g))]
    for D, pairs in cases:
        a, b = pairs[:, 0], pairs[:, 1]
        what = "every a, b < 100" if D == 2 else f"{len(pairs)} random pairs"
        for scratchpad in (False, True):
            fmt = "scratchpad" if scratchpad else "direct"
            sequences = [format_example(x, y, D, scratchpad) for x, y in pairs.tolist()]
            inverted = all(
                (p.a, p.b, p.answer) == (x, y, x + y)
                for p, (x, y) in zip((parse(s, D) for s in sequences), pairs.tolist(), strict=True)
            )
            ctx.check_property(f"parser inverts the formatter, {fmt}, D = {D}, {what}", inverted)
            batched = format_batch(a.to(ctx.device), b.to(ctx.device), D, scratchpad).tolist()
            ctx.check_property(
                f"vectorised formatter = per-example formatter, {fmt}, D = {D}, {what}", batched == sequences
            )
            mask = loss_mask(D, scratchpad)
            generated = len(prompt(0, 0, D, scratchpad))
            ctx.check_property(
                f"the loss mask trains exactly the generated tokens, {fmt}, D = {D}",
                mask.tolist() == [t >= generated for t in range(1, sequence_length(D, scratchpad))]
                and len(sequences[0]) == sequence_length(D, scratchpad),
            )
        bad = [s for s in sequences if not trace_recomputes_sum(s, D)]
        ctx.check_property(
            f"the work trace recomputes the sum: digits, a_i + b_i + c_i = s_i + 10·c_(i+1), D = {D}, {what}",
            not bad,
            f"{len(bad)} of {len(sequences)} traces wrong" + (f", first: {parse(bad[0], D)}" if bad else ""),
        )


def _check_decoding(ctx: RunContext) -> None:
    for dtype in ctx.check_dtypes:
        torch.manual_seed(ctx.seed)
        model = TinyTransformer(VOCAB, 26, D_MODEL, HEADS, LAYERS).to(ctx.device, dtype)
        with torch.no_grad():  # weights well away from initialisation: a sharp, informative attention
            for p in model.parameters():
                p.normal_(0, 0.3)
        for n in (1, 7, 26):
            tokens = torch.randint(0, VOCAB, (3, n), device=ctx.device)
            cache: list[tuple[torch.Tensor, torch.Tensor]] = []
            with torch.no_grad():
                steps = [decode_step(model, tokens[:, t], t, cache) for t in range(n)]
                full = model(tokens)
            ctx.check_close(
                f"decoding with a key/value cache vs the full forward, N = {n} ({dtype_name(dtype)})",
                torch.stack(steps, dim=1),
                full,
            )

    exact = ctx.exact_dtype
    torch.manual_seed(ctx.seed)
    model = TinyTransformer(VOCAB, 26, D_MODEL, HEADS, LAYERS).to(ctx.device, exact)
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0, 0.3)
    prompts = torch.randint(0, VOCAB, (8, 8), device=ctx.device)
    ours = greedy(model, prompts, 18).tolist()
    ctx.check_property(
        "greedy with the cache = re-running the whole prefix, arg-max of each example alone (18 tokens)",
        ours == [_brute_force_greedy(model, row, 18) for row in prompts],
    )

    x = torch.randn(1, 12, D_MODEL, dtype=exact, device=ctx.device)

    def through_blocks(x: torch.Tensor) -> torch.Tensor:
        for block in model.blocks:
            x = block(x, None)
        return model.ln_f(x)

    check_causal(ctx, "the blocks", through_blocks, x)


def _brute_force_greedy(model: TinyTransformer, prompt_row: torch.Tensor, new_tokens: int) -> list[int]:
    """One example, the whole sequence re-run for every new token, the arg-max taken over a Python list."""
    sequence = prompt_row.tolist()
    with torch.no_grad():
        for _ in range(new_tokens):
            logits = model(torch.tensor([sequence], device=prompt_row.device))[0, -1].tolist()
            sequence.append(max(range(len(logits)), key=logits.__getitem__))
    return sequence[len(prompt_row) :]


def _pairs(n: int, D: int, g: torch.Generator) -> torch.Tensor:
    return torch.randint(0, 10**D, (n, 2), generator=g)


def rate(step: int, steps: int, lr: float, schedule: str) -> float:
    """The AdamW rate at ``step`` of ``steps``: "wsd" (warmup, stable, decay) rises linearly over the first
    ``WARMUP`` of the steps, holds ``lr`` and falls linearly to 0 over the last ``DECAY``; "constant" is
    ``lr`` throughout."""
    if schedule == "constant":
        return lr
    warmup, decay = max(1, round(WARMUP * steps)), max(1, round(DECAY * steps))
    return lr * min(1.0, (step + 1) / warmup, (steps - step) / decay)


def train_model(
    ctx: RunContext, cfg: Config, scratchpad: bool, lr: float, held_out: torch.Tensor, label: str
) -> TinyTransformer:
    """TinyTransformer on one format: next-token loss on the generated tokens only, the same initialisation
    and the same pairs for both formats and every rate (``ctx.seed``), ``held_out`` pairs (the test and
    validation pairs) never trained on; the learning curve is scored on the first 500 of them. AdamW with
    β2 = ``cfg.beta2``, gradients clipped to norm ``cfg.clip`` (0: not clipped), the rate on ``cfg.schedule``
    (``rate``): the same optimiser for both formats."""
    D, steps = cfg.digits, cfg.steps
    torch.manual_seed(ctx.seed)
    model = TinyTransformer(VOCAB, sequence_length(D, scratchpad), cfg.d_model, HEADS, cfg.layers)
    model = model.to(ctx.device)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, betas=(0.9, cfg.beta2), weight_decay=0.0)
    mask = loss_mask(D, scratchpad).to(ctx.device)
    held = set((held_out[:, 0] * 10**D + held_out[:, 1]).tolist())
    g = torch.Generator().manual_seed(ctx.seed)
    for step in range(steps):
        pairs = _pairs(2 * cfg.batch, D, g)
        keep = torch.tensor([a * 10**D + b not in held for a, b in pairs.tolist()])
        pairs = pairs[keep][: cfg.batch].to(ctx.device)
        x = format_batch(pairs[:, 0], pairs[:, 1], D, scratchpad)  # (B, length)
        logits = model(x)[:, :-1][:, mask]  # predictions of the generated tokens only
        loss = F.cross_entropy(logits.flatten(0, 1), x[:, 1:][:, mask].flatten())
        opt.zero_grad()
        loss.backward()
        if cfg.clip > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.clip)
        for group in opt.param_groups:
            group["lr"] = rate(step, steps, lr, cfg.schedule)
        opt.step()
        if step % 10 == 0:
            ctx.metric(f"train loss ({label})", step, loss.item())
        if not ctx.quick and (step + 1) % max(1, steps // 4) == 0 and step + 1 < steps:  # the learning curve
            ctx.metric(
                f"held-out exact match ({label})", step + 1, exact_match(model, held_out[:500], D, scratchpad)
            )
    return model


def exact_match(model: TinyTransformer, held_out: torch.Tensor, D: int, scratchpad: bool) -> float:
    """Share of held-out pairs whose greedy answer (after ``</work>`` for the scratchpad) is a + b exactly."""
    pairs = held_out.to(next(model.parameters()).device)
    prompts = format_batch(pairs[:, 0], pairs[:, 1], D, scratchpad)[:, : len(prompt(0, 0, D, scratchpad))]
    out = greedy(model, prompts, sequence_length(D, scratchpad) - prompts.shape[1])
    sequences = torch.cat((prompts, out), dim=1).tolist()
    right = [parse(s, D).answer == a + b for s, (a, b) in zip(sequences, held_out.tolist(), strict=True)]
    return sum(right) / len(right)


def train(ctx: RunContext) -> None:
    cfg = ctx.config(Config)
    D, steps = cfg.digits, cfg.steps
    held_out = _pairs(500, D, torch.Generator().manual_seed(ctx.seed + 1))  # the reported numbers
    valid = _pairs(500, D, torch.Generator().manual_seed(ctx.seed + 2))  # picks each format's rate
    unseen = torch.cat((held_out, valid))  # never trained on
    rates = GRID if cfg.lr == 0 else (cfg.lr,)
    accuracy, chosen = {}, {}
    for arm in (False, True):  # the direct arm, then the arm under test
        scratchpad = arm and cfg.work  # work = False: the arm under test on the direct format too
        fmt = "scratchpad <work>" if scratchpad else "direct" if not arm else "direct (work off)"
        best: tuple[float, float, TinyTransformer] | None = None
        for lr in rates:
            label = f"{fmt}, {D} digits, lr {lr:g}"
            model = train_model(ctx, cfg, scratchpad, lr, unseen, label)
            score = exact_match(model, valid, D, scratchpad) if len(rates) > 1 else 0.0
            if len(rates) > 1:
                ctx.measured(f"validation exact match, {label}", score, "500 validation pairs")
            if best is None or score > best[0]:  # chosen on validation, never on the reported pairs
                best = (score, lr, model)
        assert best is not None
        _, chosen[arm], model = best
        label = f"{fmt}, {D} digits"
        accuracy[arm] = exact_match(model, held_out, D, scratchpad)
        ctx.metric(f"held-out exact match ({label}, lr {chosen[arm]:g})", steps, accuracy[arm])
        ctx.measured(
            f"held-out exact match, {label}",
            accuracy[arm],
            f"lr {chosen[arm]:g}, {sequence_length(D, scratchpad)} tokens per example, {steps} steps "
            f"of {cfg.batch}",
        )
        ctx.progress(1 + arm, 2)
    detail = (
        f"{accuracy[True]:.3f} (lr {chosen[True]:g}) against {accuracy[False]:.3f} (lr {chosen[False]:g}); "
        f"{cfg.layers} blocks of width {cfg.d_model}; the answer most significant digit first"
    )
    name = f"held-out exact match, scratchpad − direct ({D}-digit addition)"
    ctx.target(name, accuracy[True] - accuracy[False], 0.2 if ctx.quick else 0.5, detail=detail)


def bench(ctx: RunContext) -> None:
    D, batch = (3, 16) if ctx.quick else (5, 256)
    pairs = _pairs(batch, D, torch.Generator().manual_seed(ctx.seed)).to(ctx.device)
    generated = {}
    for scratchpad in (False, True):
        torch.manual_seed(ctx.seed)
        length = sequence_length(D, scratchpad)
        model = TinyTransformer(VOCAB, length, D_MODEL, HEADS, LAYERS).to(ctx.device)
        prompts = format_batch(pairs[:, 0], pairs[:, 1], D, scratchpad)[:, : len(prompt(0, 0, D, scratchpad))]
        new = length - prompts.shape[1]
        generated[scratchpad] = new
        fmt = "scratchpad <work>" if scratchpad else "direct"
        ctx.bench.measure(
            f"greedy answers, {fmt}, key/value cache",
            partial(greedy, model, prompts, new),
            baseline=not scratchpad,
            tokens=batch * new,
            shape=(batch, length),
            dtype=torch.float32,
            params={"tokens_per_answer": new, "digits": D},
        )
        if ctx.quick and not scratchpad:
            continue
        ctx.bench.measure(
            f"greedy answers, {fmt}, whole prefix re-run per token",
            partial(_greedy_without_cache, model, prompts, new),
            tokens=batch * new,
            shape=(batch, length),
            dtype=torch.float32,
            params={"tokens_per_answer": new, "digits": D},
        )
    ctx.log(f"the scratchpad generates {generated[True] / generated[False]:.2f}× the direct format's tokens")


@torch.no_grad()
def _greedy_without_cache(model: TinyTransformer, prompts: torch.Tensor, new_tokens: int) -> torch.Tensor:
    sequence = prompts
    for _ in range(new_tokens):
        sequence = torch.cat((sequence, model(sequence)[:, -1].argmax(-1, keepdim=True)), dim=1)
    return sequence[:, prompts.shape[1] :]
