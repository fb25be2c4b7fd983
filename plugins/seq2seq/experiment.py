"""Seq2seq at toy scale: decoding consistent with training, beam search exact where it can be, and the
paper's source-reversal trick on a copy task.

check: in float64 (then float32): the log-probability of a target from incremental decoding equals teacher
       forcing's; beam search of width 1 is greedy decoding; beam search wide enough to keep every
       hypothesis finds the same best sequence and score as enumerating all V^T targets; a beam's score is
       its sequence's log-probability.
train: copy 12-token sequences over 9 symbols (the target is the source). The same model, seed and batches
       with the source fed in order and reversed (section 3.3), each order at its own Adam learning rate (the
       better of 3e-3 and 1e-2 by loss on validation pairs); token accuracy by greedy decoding on new test
       sequences; then greedy against beam search (width 4) on the reversed model: how often the beam finds
       an output the model finds more probable than greedy's, and whole sequences right.
bench: greedy decoding against beam search of width 2 and 8 (quick: 4) on a batch of 256 sources of 12 tokens.
"""

from __future__ import annotations

import itertools

import torch
import torch.nn.functional as F

from readtrack.api import RunContext, dtype_name

from .config import Config
from .model import BOS, Seq2Seq, beam_search, greedy_decode, sequence_logprob


def copy_batch(
    size: int, g: torch.Generator, device: str, seq_len: int = Config.seq_len, symbols: int = Config.symbols
) -> torch.Tensor:
    """(size, seq_len) sources over the symbols 1 … symbols (token 0 is BOS); the target is the source."""
    return torch.randint(1, symbols + 1, (size, seq_len), generator=g).to(device)


def stepwise_logprob(model: Seq2Seq, source: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """log p(target | source) one decoding step at a time, as decoding computes it."""
    state = model.encode(source, reverse=True)
    token = torch.full_like(target[:, 0], BOS)
    total = torch.zeros(source.shape[0], dtype=model.head.weight.dtype, device=source.device)
    for t in range(target.shape[1]):
        logp, state = model.step(token, state)
        total = total + logp.gather(1, target[:, t : t + 1]).squeeze(1)
        token = target[:, t]
    return total


def check(ctx: RunContext) -> None:
    for dtype in ctx.check_dtypes:
        name = dtype_name(dtype)
        torch.manual_seed(ctx.seed)
        model = Seq2Seq(4, d_embed=6, d_hidden=8).to(ctx.device, dtype)
        g = torch.Generator().manual_seed(ctx.seed)
        source = torch.randint(1, 4, (5, 3), generator=g).to(ctx.device)
        target = torch.randint(1, 4, (5, 4), generator=g).to(ctx.device)
        with torch.no_grad():
            ctx.check_close(
                f"log p(target) step by step vs teacher forcing, 5 pairs ({name})",
                stepwise_logprob(model, source, target),
                sequence_logprob(model, source, target),
            )
            greedy = greedy_decode(model, source, 4)
            one, one_score = beam_search(model, source, 4, beam=1)
            ctx.check_property(
                f"beam search of width 1 is greedy decoding ({name})",
                torch.equal(one, greedy),
                f"{int((one != greedy).any(dim=1).sum())} of 5 sequences differ",
            )
            ctx.check_close(
                f"a beam's score is its sequence's log-probability ({name})",
                one_score,
                sequence_logprob(model, source, one),
            )
            # every target of length 4 over 4 tokens: 256; a beam of 64 never drops a hypothesis
            every = torch.tensor(list(itertools.product(range(4), repeat=4)), device=ctx.device)  # (256, 4)
            scores = torch.stack(
                [sequence_logprob(model, s.expand(256, -1), every) for s in source]
            )  # (5, 256)
            best, best_score = beam_search(model, source, 4, beam=64)
            ctx.check_property(
                f"exhaustive beam search finds the best of all 256 targets ({name})",
                torch.equal(best, every[scores.argmax(dim=1)]),
                f"{int((best != every[scores.argmax(dim=1)]).any(dim=1).sum())} of 5 differ",
            )
            ctx.check_close(
                f"exhaustive beam's score vs enumeration's best ({name})", best_score, scores.amax(dim=1)
            )
            # reverse is passed on to model.encode: every comparison above reads the source reversed; these
            # sources are no palindromes, so reading them in order changes every score
            unequal = torch.tensor([[1, 2, 3], [3, 3, 1], [2, 1, 1]], device=ctx.device)
            forward_order, forward_score = beam_search(model, unequal, 4, beam=2, reverse=False)
            ctx.check_close(
                f"with reverse=False, a beam's score is its sequence's log-probability, source in order "
                f"({name})",
                forward_score,
                sequence_logprob(model, unequal, forward_order, reverse=False),
            )


def train_copy(ctx: RunContext, cfg: Config, arm: str, reverse: bool, lr: float, seed: int) -> Seq2Seq:
    """The copy model of one arm ("reversed" or "in order"), reading the source reversed or not."""
    vocab = cfg.symbols + 1  # BOS and the symbols
    torch.manual_seed(seed)
    model = Seq2Seq(vocab, d_hidden=cfg.hidden).to(ctx.device)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    g = torch.Generator().manual_seed(seed)  # the same batches for both orders
    label = arm + ("" if seed == ctx.seed else f", init {seed - ctx.seed}")
    for step in range(cfg.steps):
        source = copy_batch(cfg.batch, g, ctx.device, cfg.seq_len, cfg.symbols)
        loss = F.cross_entropy(model(source, source, reverse).reshape(-1, vocab), source.reshape(-1))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if step % 20 == 0:
            ctx.metric(f"train loss, source {label}, lr {lr:g}", step, loss.item())
    return model


GRID = (3e-3, 1e-2)  # Adam learning rates: each source order gets its own best, picked on validation pairs


def train(ctx: RunContext) -> None:
    cfg = ctx.config(Config)
    length = cfg.seq_len
    rates = GRID if cfg.lr == 0 else (cfg.lr,)
    # The full run repeats the A/B from 3 initialisations (and their batches) and asserts the mean gap: at 300
    # steps how far the in-order model has got varies from one initialisation to the next, and over seeds
    # 0-4 one A/B alone sat 2.5 seed sds above 0.08 (issue 42's rule asks 3).
    inits = [ctx.seed + 1000 * k for k in range(cfg.inits)]
    test = copy_batch(1024, torch.Generator().manual_seed(ctx.seed + 1), ctx.device, length, cfg.symbols)
    validation = copy_batch(512, torch.Generator().manual_seed(ctx.seed + 2), ctx.device, length, cfg.symbols)
    accuracy: dict[bool, list[float]] = {False: [], True: []}  # by arm: True is the 'reversed' one
    models: dict[bool, Seq2Seq] = {}
    done, total = 0, len(inits) * 2 * len(rates) + 1
    for seed in inits:
        for arm in (False, True):
            label = "reversed" if arm else "in order"
            reverse = arm and cfg.reverse  # --set reverse=false: the 'reversed' arm reads in order too
            runs: dict[float, tuple[float, Seq2Seq]] = {}  # lr → (validation loss per token, model)
            for lr in rates:
                model = train_copy(ctx, cfg, label, reverse, lr, seed)
                with torch.no_grad():
                    loss = -sequence_logprob(model, validation, validation, reverse).mean().item() / length
                runs[lr] = (loss, model)
                done += 1
                ctx.progress(done, total)
            lr = min(rates, key=lambda r: runs[r][0])
            model = runs[lr][1]
            models.setdefault(arm, model)  # the first initialisation's, for the beam search below
            out = greedy_decode(model, test, length, reverse)
            accuracy[arm].append((out == test).double().mean().item())
            per_position = (out == test).double().mean(dim=0)
            ctx.measured(
                f"token accuracy, source {label}" + ("" if seed == ctx.seed else f", init {seed - ctx.seed}"),
                accuracy[arm][-1],
                f"first 3 tokens {per_position[:3].mean().item():.2f}, "
                f"last 3 {per_position[-3:].mean().item():.2f}; lr {lr:g}, the best on validation of "
                + ", ".join(f"{r:g}: {runs[r][0]:.3f} nats" for r in rates),
            )
    gaps = [r - o for r, o in zip(accuracy[True], accuracy[False], strict=True)]
    setup = f"copying {length} tokens over {cfg.symbols} symbols, {cfg.steps} Adam steps"
    setup += f", LSTMs of {cfg.hidden}" + ("" if cfg.reverse else ", reverse=false: both arms read in order")
    mean_of = "" if len(inits) == 1 else f", mean of {len(inits)} inits"
    ctx.target(
        "token accuracy, reversed minus in order" + mean_of,
        sum(gaps) / len(gaps),
        0.08,
        detail=f"{setup}, greedy decoding"
        + ("" if len(inits) == 1 else "; per init " + ", ".join(f"{gap:+.3f}" for gap in gaps)),
    )
    model = models[True]
    greedy = greedy_decode(model, test, length, cfg.reverse)
    beam, beam_logp = beam_search(model, test, length, beam=cfg.beam, reverse=cfg.reverse)
    with torch.no_grad():
        greedy_logp = sequence_logprob(model, test, greedy, cfg.reverse)
    for name, out in (("greedy", greedy), (f"beam search of width {cfg.beam}", beam)):
        right = (out == test).all(dim=1).double().mean().item()
        ctx.measured(f"whole sequences right, {name} (reversed model)", right)
    ctx.measured(
        f"mean log p of the decoded sequence, beam (width {cfg.beam}) minus greedy",
        (beam_logp - greedy_logp).mean().item(),
        f"log p per sequence: greedy {greedy_logp.mean():.2f}, beam {beam_logp.mean():.2f}",
    )
    better = (beam_logp > greedy_logp + 1e-6).double().mean().item()
    worse = (beam_logp < greedy_logp - 1e-6).double().mean().item()
    ctx.target(
        f"share of sequences where the beam (width {cfg.beam}) finds a more probable output than greedy",
        better,
        0.05,
        detail=f"a less probable one: {worse:.3f} of them; greedy keeps one hypothesis, the beam "
        + ("four" if cfg.beam == 4 else str(cfg.beam)),
    )
    ctx.progress(1, 1)


def bench(ctx: RunContext) -> None:
    cfg = ctx.config(Config)
    length = cfg.seq_len
    model = Seq2Seq(cfg.symbols + 1, d_hidden=cfg.hidden).to(ctx.device)
    source = copy_batch(256, torch.Generator().manual_seed(ctx.seed), ctx.device, length, cfg.symbols)
    ctx.bench.measure(
        "greedy decoding", lambda: greedy_decode(model, source, length), baseline=True, tokens=256 * length
    )
    for width in (4,) if ctx.quick else (2, 8):
        ctx.bench.measure(
            f"beam search, width {width}",
            lambda width=width: beam_search(model, source, length, beam=width),  # type: ignore[misc]
            tokens=256 * length,
        )
