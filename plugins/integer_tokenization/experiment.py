"""Integer tokenization at toy scale: how a BPE trained on text with numbers cuts the integers 1000-9999, and
addition learnt on those tokens against single-digit tokens, with the same small transformer and batches.

check: the BPE (``readtrack.plugin_kit.bpe``) against a naive recount-and-merge loop written here (merges
       equal, 120 merges, digit runs kept and digits split) and against Hugging Face ``tokenizers``'
       ``BpeTrainer`` with the same pre-tokenizer pattern (merges and held-out encodings equal; a test-only
       dependency: without it the stage says so); decode(encode(x)) == x on hostile strings; with digits
       split no token holds two digits. The task: the answer of every pair a, b < 100 and of 500 random
       4-digit pairs reads back as a + b in both tokenizations, the targets are the answer tokens shifted by
       one; an answer's nats in a padded batch equal its nats alone computed with log_softmax one example at
       a time (float64 and float32, forward and gradients of every weight).
train: the BPE on seeded text where 40% of words are numbers: for 1000-9999, how many distinct splittings
       (token-length patterns) occur and how many numbers are one token (targets: ≥ 4 splittings with BPE, 1
       with digits split). Then addition a + b = reversed(a + b), zero-padded to a fixed width (07+42=940),
       a, b < 100, where 2 × ``unseen`` numbers never occur as an operand in training (half pick the rates,
       half are held out): TinyTransformer (2 layers, d = 32) with the same initialisation and batches for
       both tokenizations (paired: only the tokens differ); exact match and −log p(answer) on held-out pairs
       of trained numbers and on pairs with a never-trained number. Full: 800 steps, each arm at its best of
       {3e-3, 1e-2} on validation pairs; targets: on unseen-number pairs digit tokens ahead of BPE tokens in
       exact match (> 0), digit tokens ≥ 0.95 on seen-number pairs. Quick: 200 steps at 1e-2 for both,
       before either model adds: the nearest claim, −log p(answer) of unseen-number pairs lower with digit
       tokens (< 0), reported with its threshold (too wide a spread for the rule: the page), as in the full
       run; exact match is measured only.
bench: encoding 9000 integers (cold cache) with each tokenizer, and a training step on a batch of each
       tokenization at 2-digit and (full run) 4-digit operands (the digit sequences are longer); BPE tokens
       are the baseline.
"""

from __future__ import annotations

import copy
import itertools
import random
from collections import Counter
from dataclasses import dataclass
from functools import partial
from typing import Any

import torch
import torch.nn.functional as F

from readtrack.api import RunContext, dtype_name, plural
from readtrack.plugin_kit.bpe import BPE, DIGITS_SPLIT, PATTERN, pieces
from readtrack.plugin_kit.rates import warmup_cosine
from readtrack.plugin_kit.tasks import IGNORE
from readtrack.plugin_kit.transformer import TinyTransformer

from .config import Config
from .model import AdditionFormat, answer_nats, exact_match, number_text, splittings, task_tokens

MERGES = 800  # the tokenizer's vocabulary: 256 bytes + 800 merges (both tokenizers)
HEADS, DIGITS = 4, 2  # attention heads; the operands' width: a, b < 100, zero-padded (07+42=940)
BETAS, WARMUP = (0.9, 0.98), 20  # AdamW's betas; the rate's linear warm-up steps, then a cosine decay to 0
# AdamW rates of the full run: each arm trains at every rate and keeps the one its validation pairs pick
# (1e-3 was never picked at 800 steps by either arm on seeds 0-4 before numbers were held out: dropped).
GRID = (3e-3, 1e-2)

HOSTILE = [
    "",
    " ",
    "0",
    "007 0.5 -12 1e9 1,000,000",
    "x" * 200 + "9" * 300,
    "über 数据 🙂 12€ ½ ٣",  # non-ASCII digits (Arabic-Indic three) are symbols to this pattern
    "\t\n\r 12\n\n 3",
    "a\x00b\x7f",
]


def naive_bpe_merges(texts: list[str], merges: int, split_digits: bool) -> list[tuple[int, int]]:
    """The textbook loop: recount every adjacent pair in every piece, merge the most frequent (ties: the
    smallest pair), repeat; one list entry per piece occurrence, no incremental bookkeeping."""
    words = [list(p.encode("utf-8")) for t in texts for p in pieces(t, split_digits)]
    learnt: list[tuple[int, int]] = []
    for new in range(256, 256 + merges):
        counts: Counter[tuple[int, int]] = Counter()
        for w in words:
            counts.update(itertools.pairwise(w))
        if not counts:
            break
        best = min(counts, key=lambda pair: (-counts[pair], pair))
        learnt.append(best)
        for k, w in enumerate(words):
            out, i = [], 0
            while i < len(w):
                if w[i : i + 2] == list(best):
                    out.append(new)
                    i += 2
                else:
                    out.append(w[i])
                    i += 1
            words[k] = out
    return learnt


def _hf_tokenizers() -> Any:
    """Hugging Face's ``tokenizers``, or None: a test-only dependency, never needed to run the plugin."""
    try:
        import tokenizers
    except ImportError:
        return None
    return tokenizers


def hf_bpe(tokenizers: Any, texts: list[str], merges: int, split_digits: bool = False) -> Any:
    """``tokenizers``' BPE trained on ``texts`` with our pieces (its ``Split`` pre-tokenizer on the same
    pattern), on characters: on ASCII text its ids are sorted like our bytes, so its ties break alike."""
    pattern = DIGITS_SPLIT if split_digits else PATTERN
    tok = tokenizers.Tokenizer(tokenizers.models.BPE())
    tok.pre_tokenizer = tokenizers.pre_tokenizers.Split(tokenizers.Regex(pattern), behavior="isolated")
    alphabet = len(set("".join(texts)))
    trainer = tokenizers.trainers.BpeTrainer(
        vocab_size=alphabet + merges, special_tokens=[], show_progress=False
    )
    tok.train_from_iterator(texts, trainer)
    return tok


def hf_merges(tok: Any) -> list[tuple[str, str]]:
    import json

    merges = json.loads(tok.to_str())["model"]["merges"]
    return [tuple(m) if isinstance(m, list) else tuple(m.split(" ")) for m in merges]


def check(ctx: RunContext) -> None:
    _check_tokenizer(ctx)
    _check_format(ctx)
    _check_scoring(ctx)


def _check_tokenizer(ctx: RunContext) -> None:
    corpus = [*number_text(ctx.seed, 80), "1111 11 111 1000 100 10", "ab ba ab ba 12 21 12 21"]
    held_out = number_text(ctx.seed + 1, 50)
    tokenizers = _hf_tokenizers()
    if tokenizers is None:
        ctx.log("tokenizers is not installed: the BPE is not compared with Hugging Face's BpeTrainer")
    for split in (False, True):
        what = "digits split" if split else "digit runs kept"
        bpe = BPE.train(corpus, 256 + 120, split_digits=split)
        reference = naive_bpe_merges(corpus, 120, split)
        first = next((i for i, (a, b) in enumerate(zip(bpe.merges, reference, strict=False)) if a != b), None)
        ctx.check_property(
            f"BPE merges = the naive recount-and-merge loop, 120 merges, {what}",
            bpe.merges == reference,
            f"{len(bpe.merges)} vs {len(reference)} merges, first difference at {first}",
            value=len(bpe.merges),
        )
        for text in HOSTILE + held_out[:3]:
            ids = bpe.encode(text)
            ctx.check_property(
                f"decode(encode(x)) == x, {what}, x = {text[:20]!r}",
                bpe.decode(ids) == text and all(0 <= i < len(bpe.vocab) for i in ids),
                f"{len(text.encode('utf-8'))} bytes → {len(ids)} tokens",
            )
        if split:
            multi = [v for v in bpe.vocab if sum(ch in b"0123456789" for ch in v) > 1]
            ctx.check_property("digits split: no token holds two digits", not multi, f"e.g. {multi[:3]}")
        if tokenizers is None:
            continue
        hf = hf_bpe(tokenizers, corpus, 120, split)
        ours = [(bpe.vocab[a].decode(), bpe.vocab[b].decode()) for a, b in bpe.merges]
        theirs = hf_merges(hf)
        ctx.check_property(
            f"BPE merges = tokenizers' BpeTrainer (same pattern), {what}",
            ours == theirs,
            f"{sum(a == b for a, b in zip(ours, theirs, strict=False))} of {len(theirs)} alike",
        )
        alike = sum(hf.encode(t).tokens == bpe.token_strings(bpe.encode(t)) for t in held_out)
        ctx.check_property(
            f"encodings = tokenizers', {len(held_out)} held-out lines, {what}", alike == len(held_out)
        )


def _check_format(ctx: RunContext) -> None:
    corpus = number_text(ctx.seed, 400)
    rng = random.Random(ctx.seed)
    cases: list[tuple[str, list[tuple[int, int]]]] = [
        ("every a, b < 100", list(itertools.product(range(100), range(100)))),
        ("500 random 4-digit pairs", [(rng.randrange(10**4), rng.randrange(10**4)) for _ in range(500)]),
    ]
    for split in (False, True):
        bpe = BPE.train(corpus, 256 + 300, split_digits=split)
        fmt = AdditionFormat(bpe, len(task_tokens(bpe)) + 2)
        name = "digit tokens" if split else "BPE tokens"
        for what, pairs in cases:
            readback = all(fmt.read_answer(fmt.example(a, b)[1]) == a + b for a, b in pairs)
            ctx.check_property(f"the answer reads back as a + b, {name}, {what}", readback)
            x, y = fmt.batch(pairs[:200], "cpu")
            prompts = [len(fmt.example(a, b)[0]) for a, b in pairs[:200]]
            answers = [len(fmt.example(a, b)[1]) for a, b in pairs[:200]]
            shifted = all(
                y[i, p - 1 : p - 1 + n].tolist() == x[i, p : p + n].tolist()
                and int((y[i] != IGNORE).sum()) == n
                for i, (p, n) in enumerate(zip(prompts, answers, strict=True))
            )
            ctx.check_property(f"targets = the answer tokens shifted by one, {name}, {what}", shifted)


def _naive_answer_nats(
    model: TinyTransformer, fmt: AdditionFormat, pairs: list[tuple[int, int]]
) -> torch.Tensor:
    """One example at a time, no padding: −Σ log_softmax(logits)[answer token] over the answer's tokens."""
    device = next(model.parameters()).device
    out = []
    for a, b in pairs:
        prompt, answer = fmt.example(a, b)
        x = torch.tensor([prompt + answer], device=device)
        logp = model(x)[0].log_softmax(dim=-1)  # (N, V)
        out.append(-sum(logp[len(prompt) - 1 + t, tok] for t, tok in enumerate(answer)))
    return torch.stack(out)


def _batched(model: TinyTransformer, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return answer_nats(model(x), y)


def _check_scoring(ctx: RunContext) -> None:
    corpus = number_text(ctx.seed, 400)
    bpe = BPE.train(corpus, 256 + 300)
    fmt = AdditionFormat(bpe, len(task_tokens(bpe)) + 2)
    rng = random.Random(ctx.seed)
    for dtype in ctx.check_dtypes:
        torch.manual_seed(ctx.seed)
        model = TinyTransformer(fmt.vocab, 24, 32, 4, 2).to(ctx.device, dtype)
        params = list(model.parameters())
        for digits in (1, 3, 5):  # answers of different lengths in one padded batch
            pairs = [(rng.randrange(10**digits), rng.randrange(10**d)) for d in (1, digits, 2, 4)]
            x, y = fmt.batch(pairs, ctx.device)
            ours, grads = ctx.value_and_grads(partial(_batched, model, x, y), params=params)
            ref, ref_grads = ctx.value_and_grads(
                partial(_naive_answer_nats, model, fmt, pairs), params=params
            )
            label = (
                f"answer nats, padded batch vs one example at a time, a < 10^{digits} ({dtype_name(dtype)})"
            )
            ctx.check_close(label, ours, ref)
            ctx.check_close(f"gradients, every weight: {label}", grads, ref_grads)


def _pairs(digits: int, count: int, rng: random.Random, skip: set[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    while len(out) < count:
        pair = (rng.randrange(10**digits), rng.randrange(10**digits))
        if pair not in skip:
            out.append(pair)
    return out


@dataclass
class Split:
    """Which pairs a + b (a, b < 100) are trained on, and which are held out. ``test_numbers`` and the
    validation numbers never occur as an operand in training: a pair with one is an unseen-number pair."""

    train: list[tuple[int, int]]
    valid: list[tuple[int, int]]  # picks each arm's rate: seen-number pairs and valid_numbers' pairs
    held_out: list[tuple[int, int]]  # the reported seen-number pairs, never trained on
    unseen: list[tuple[int, int]]  # the reported pairs with an operand in test_numbers
    test_numbers: list[int]


def split_pairs(seed: int, unseen: int) -> Split:
    rng = random.Random(seed)
    numbers = rng.sample(range(10**DIGITS), 2 * unseen)
    test_numbers, valid_numbers = set(numbers[:unseen]), set(numbers[unseen:])
    pairs = [(a, b) for a in range(10**DIGITS) for b in range(10**DIGITS)]
    seen = [p for p in pairs if not (set(p) & (test_numbers | valid_numbers))]
    rng.shuffle(seen)
    held_out, valid_seen, train = seen[:1000], seen[1000:1500], seen[1500:]
    valid = valid_seen + [p for p in pairs if set(p) & valid_numbers and not set(p) & test_numbers]
    unseen_pairs = [p for p in pairs if set(p) & test_numbers and not set(p) & valid_numbers]
    return Split(train, valid, held_out, unseen_pairs, sorted(test_numbers))


def fit_addition(
    ctx: RunContext,
    cfg: Config,
    fmt: AdditionFormat,
    train: list[tuple[int, int]],
    lr: float,
    seed: int,
    label: str,
) -> TinyTransformer:
    """TinyTransformer learning ``a+b=`` → reversed sum; the same initialisation and the same batches (seeded
    by ``seed``) for every tokenization and rate, drawn from ``train`` only."""
    torch.manual_seed(seed)
    model = TinyTransformer(fmt.vocab, 4 * DIGITS + 8, cfg.d_model, HEADS, cfg.layers).to(ctx.device)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, betas=BETAS, weight_decay=0.0, foreach=True)
    # a linear warm-up over WARMUP steps, then a cosine decay to 0 at the last step: a constant rate left
    # some seeds' digit model still short of adding at the last step (0.90 on seen numbers, seed 3)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        opt, partial(warmup_cosine, steps=cfg.steps, warmup=min(1.0, WARMUP / cfg.steps))
    )
    rng = random.Random(seed)
    # every training pair's tokens once, padded to the longest (pads after the answer change nothing,
    # attention being causal and pads unscored); a batch is then rows of this table: (len(train), N) each
    table_x, table_y = fmt.batch(train, ctx.device)
    for step in range(cfg.steps):
        rows = torch.tensor(rng.choices(range(len(train)), k=cfg.batch), device=ctx.device)
        x, y = table_x[rows], table_y[rows]  # (batch, N)
        loss = F.cross_entropy(model(x).flatten(0, 1), y.flatten(), ignore_index=IGNORE)
        opt.zero_grad()
        loss.backward()
        opt.step()
        schedule.step()
        if step % 20 == 0:
            ctx.metric(f"train loss per answer token ({label})", step, loss.item())
    return model


@torch.no_grad()
def evaluate(
    model: TinyTransformer, fmt: AdditionFormat, pairs: list[tuple[int, int]]
) -> tuple[float, float]:
    """Held-out exact match and mean −log p(answer) in nats."""
    x, y = fmt.batch(pairs, next(model.parameters()).device)
    logits = model(x)
    return exact_match(logits, y).float().mean().item(), answer_nats(logits, y).mean().item()


@torch.no_grad()
def greedy_answers(
    model: TinyTransformer, fmt: AdditionFormat, pairs: list[tuple[int, int]], most: int
) -> list[list[int]]:
    """Each pair's answer tokens by greedy decoding after ``a+b=`` (the whole prefix re-run per token), up to
    and including <eos>, at most ``most`` tokens."""
    device = next(model.parameters()).device
    answers = []
    for a, b in pairs:
        prompt = fmt.example(a, b)[0]
        sequence = list(prompt)
        for _ in range(most):
            sequence.append(int(model(torch.tensor([sequence], device=device))[0, -1].argmax()))
            if sequence[-1] == fmt.eos:
                break
        answers.append(sequence[len(prompt) :])
    return answers


def train(ctx: RunContext) -> None:
    cfg = ctx.config(Config)
    corpus = number_text(ctx.seed, 1000 if ctx.quick else 4000)
    tokenizers = {split: BPE.train(corpus, 256 + MERGES, split_digits=split) for split in (False, True)}
    _tokenizer_statistics(ctx, tokenizers)
    if not cfg.split_digits:  # the switch off: the "digit tokens" arm keeps digit runs, as the BPE arm
        tokenizers[True] = tokenizers[False]
    vocab = max(len(task_tokens(t)) for t in tokenizers.values()) + 2  # the same model size for both
    formats = {split: AdditionFormat(tok, vocab, width=DIGITS) for split, tok in tokenizers.items()}
    _addition(ctx, cfg, formats)


def _tokenizer_statistics(ctx: RunContext, tokenizers: dict[bool, BPE]) -> None:
    numbers = range(1000, 10000)
    for split, bpe in tokenizers.items():
        name = "digits split" if split else "BPE"
        counts = splittings(bpe, numbers)
        shown = ", ".join(f"{'|'.join(map(str, k))}: {v}" for k, v in counts.most_common(6))
        ctx.target(
            f"distinct splittings (token lengths) of 1000-9999, {name}",
            len(counts),
            4 if not split else 1,
            higher_is_better=not split,
            detail=shown,
        )
        ctx.measured(f"numbers in 1000-9999 that are one token, {name}", counts.get((4,), 0), "of 9000")
    bpe = tokenizers[False]
    examples = [1987, 2000, 1234, 5306, 3141, 7777]
    ctx.log("BPE splittings: " + ", ".join("|".join(bpe.token_strings(bpe.encode(str(n)))) for n in examples))


def _addition(ctx: RunContext, cfg: Config, formats: dict[bool, AdditionFormat]) -> None:
    split = split_pairs(ctx.seed + 1, cfg.unseen)
    init_seeds = [ctx.seed + i for i in range(cfg.inits)]
    rates = GRID if cfg.lr == 0 else (cfg.lr,)
    ctx.log(
        f"numbers never trained on (held out): {split.test_numbers}; {len(split.train)} training pairs, "
        f"{len(split.held_out)} held-out seen-number pairs, {len(split.unseen)} unseen-number pairs"
    )
    result: dict[bool, dict[str, float]] = {}  # arm → its numbers at the rate its validation pairs pick
    runs, done = len(formats) * len(rates) * len(init_seeds), 0
    for arm, fmt in formats.items():
        name = "digit tokens" if arm else "BPE tokens"
        picked: tuple[float, dict[str, float], TinyTransformer] | None = None
        for lr in rates:
            scores: list[dict[str, float]] = []
            first: TinyTransformer | None = None
            for seed in init_seeds:
                model = fit_addition(ctx, cfg, fmt, split.train, lr, seed, f"{name}, lr {lr:g}, seed {seed}")
                scores.append(
                    {
                        "valid": evaluate(model, fmt, split.valid)[0],
                        **dict(zip(("seen", "seen nats"), evaluate(model, fmt, split.held_out), strict=True)),
                        **dict(
                            zip(("unseen", "unseen nats"), evaluate(model, fmt, split.unseen), strict=True)
                        ),
                    }
                )
                if first is None:  # the first initialisation's model: greedy decoding's check
                    first = model
                done += 1
                ctx.progress(done, runs)
            mean = {k: sum(s[k] for s in scores) / len(scores) for k in scores[0]}
            ctx.measured(
                f"held-out exact match, {name}, unseen numbers, lr {lr:g}",
                mean["unseen"],
                f"seen numbers {mean['seen']:.3f}; −log p(answer) {mean['unseen nats']:.3f} (unseen), "
                f"{mean['seen nats']:.3f} (seen) nats; validation exact match {mean['valid']:.3f}",
            )
            assert first is not None
            if picked is None or mean["valid"] > picked[1]["valid"]:  # chosen on validation, never held_out
                picked = (lr, mean, first)
        assert picked is not None
        lr, result[arm], best = picked
        result[arm]["lr"] = lr
        _greedy_is_teacher_forced(ctx, best, fmt, split.held_out[: 20 if ctx.quick else 50], name)
    bpe, dig = result[False], result[True]
    inits = plural(len(init_seeds), "init")
    setup = f"{cfg.steps} steps, {inits}; lr {dig['lr']:g} (digits), {bpe['lr']:g} (BPE)"
    ctx.measured(
        "held-out exact match, digit tokens − BPE tokens, seen numbers",
        dig["seen"] - bpe["seen"],
        f"{dig['seen']:.3f} vs {bpe['seen']:.3f}, {setup}",
    )
    ctx.measured(
        "held-out −log p(answer), digit tokens − BPE tokens, seen numbers (nats)",
        dig["seen nats"] - bpe["seen nats"],
        f"{dig['seen nats']:.3f} vs {bpe['seen nats']:.3f}",
    )
    # the nearest claim the quick budget shows (the page): an unseen number's tokens carry its value only
    # when they are digits, so the answer is likelier with digit tokens long before either model adds. It
    # held on every calibration seed, but its spread across seeds is wide (the BPE model's confidence on
    # never-trained tokens varies): short of the rule, so it is reported (the page has the numbers)
    ctx.target(
        "held-out −log p(answer), digit tokens − BPE tokens, unseen numbers (nats)",
        dig["unseen nats"] - bpe["unseen nats"],
        0.0,
        higher_is_better=False,
        detail=f"{dig['unseen nats']:.3f} vs {bpe['unseen nats']:.3f}, {setup}",
        asserted=False,
    )
    name = "held-out exact match, digit tokens − BPE tokens, unseen numbers"
    detail = f"{dig['unseen']:.3f} vs {bpe['unseen']:.3f}, {setup}"
    if ctx.quick:  # at 200 steps neither model adds yet (the page): measured only
        ctx.measured(name, dig["unseen"] - bpe["unseen"], detail + "; not asserted: neither adds this early")
    else:  # the post's claim: digit tokens make the arithmetic learnable, BPE tokens do not
        ctx.target(name, dig["unseen"] - bpe["unseen"], 0.0, detail=detail)
        ctx.target("held-out exact match, digit tokens, seen numbers", dig["seen"], 0.95)


def _greedy_is_teacher_forced(
    ctx: RunContext, model: TinyTransformer, fmt: AdditionFormat, sample: list[tuple[int, int]], name: str
) -> None:
    """Teacher-forced exact match is what greedy decoding gets: every arg-max right ⇔ greedy writes the
    answer's tokens. An identity, so compared on a float64 copy of the model, where the two computations (one
    sequence re-run per token, a padded batch) cannot round a near-tie apart.

    Greedy decoding can also write the right sum in other tokens than the tokenizer's (9|80 for 98|0): the
    same digits, another spelling, which teacher forcing counts wrong. That is the post's point seen from the
    model's side (a number has many spellings in BPE tokens, one in digit tokens), and it is reported."""
    exact = copy.deepcopy(model).double()
    answers = greedy_answers(exact, fmt, sample, 4 * DIGITS)
    tokens = sum(answer == fmt.example(a, b)[1] for answer, (a, b) in zip(answers, sample, strict=True))
    sums = sum(fmt.read_answer(answer) == a + b for answer, (a, b) in zip(answers, sample, strict=True))
    with torch.no_grad():
        x, y = fmt.batch(sample, ctx.device)
        forced = int(exact_match(exact(x), y).sum())
    ctx.target(
        f"greedy's tokens exact − teacher-forced exact match, {len(sample)} held-out pairs, {name}, "
        f"{DIGITS} digits",
        abs(tokens - forced),
        0,
        higher_is_better=False,
        detail=f"{tokens} vs {forced} of {len(sample)} right (float64)",
    )
    ctx.measured(
        f"greedy: right sums in other tokens than the tokenizer's, {len(sample)} held-out pairs, {name}",
        sums - tokens,
        f"{sums} right sums, {tokens} of them in the tokenizer's own tokens",
    )


def bench(ctx: RunContext) -> None:
    cfg = ctx.config(Config)
    corpus = number_text(ctx.seed, 1000)
    numbers = [str(n) for n in range(1000, 10000)]
    rng = random.Random(ctx.seed)
    tokenizers = {split: BPE.train(corpus, 256 + 300, split_digits=split) for split in (False, True)}
    vocab = max(len(task_tokens(t)) for t in tokenizers.values()) + 2
    for split, bpe in tokenizers.items():
        name = "digit tokens" if split else "BPE tokens"

        def encode(bpe: BPE = bpe) -> None:
            bpe._cache.clear()  # cold: every number goes through the merges again
            for n in numbers:
                bpe.encode(n)

        ctx.bench.measure(
            f"encode 1000-9999, {name} (cold cache)",
            encode,
            baseline=not split,
            tokens=len(numbers),
            unit="numbers/s",
        )
        for digits in (2,) if ctx.quick else (2, 4):  # quick: the cost per step of the trained size only
            fmt = AdditionFormat(bpe, vocab, width=digits)
            x, y = fmt.batch(_pairs(digits, cfg.batch, rng, set()), ctx.device)
            torch.manual_seed(ctx.seed)
            model = TinyTransformer(vocab, x.shape[1], cfg.d_model, HEADS, cfg.layers).to(ctx.device)

            def step(model: TinyTransformer = model, x: torch.Tensor = x, y: torch.Tensor = y) -> None:
                loss = F.cross_entropy(model(x).flatten(0, 1), y.flatten(), ignore_index=IGNORE)
                torch.autograd.grad(loss, list(model.parameters()))

            ctx.bench.measure(
                f"training step, {digits}-digit addition, {name} ({x.shape[1]} tokens per padded example)",
                step,
                baseline=not split,  # digit tokens' step against BPE's, on the same sums: not against encode
                group=f"training step, {digits} digits",
                tokens=int((x != fmt.pad).sum()),
                shape=tuple(x.shape),
                dtype=torch.float32,
            )
