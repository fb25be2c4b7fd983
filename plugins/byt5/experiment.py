"""ByT5 at toy scale: a byte-level classifier against a subword (BPE) classifier of the same size on a
keyword-topic task, both trained on clean text and tested under the paper's character noise.

check: decode(encode(x)) == x for hostile strings (non-ASCII, emoji with ZWJ, NUL, combining marks, CJK,
       right-to-left), every id a byte + 3 or </s>; the encoder block equals ``nn.TransformerEncoderLayer``
       (pre-LN, GELU) with copied weights and a key padding mask, forward and gradients, float64 and float32,
       N = 1, 7, 33 with padded rows; a sentence's logits in a padded batch equal its logits alone; the
       byte model's parameter count is within 1% of the subword model's (the re-allocation rule); the noise
       functions do what the paper says (uppercase = str.upper, random case keeps the letters, the rate of
       repetitions).
train: seeded sentences of 2-4 made-up words, one of which is a keyword naming one of 8 topics; a BPE (the
       shared ``plugin_kit.bpe``) trained on the clean training text makes every word a token. Both
       classifiers (parameters matched within 1%) see the same sentences in the same batches from the same
       seed for 1000 AdamW steps (quick: 600; 10% linear warm-up, cosine decay to 0), each at its rate
       ``LR`` (the grid {1e-3, 3e-3, 1e-2}'s pick on validation sentences; ``--impl grid`` runs the grid);
       test accuracy on clean sentences and on the same sentences under add/drop/mutate (p = 0.1),
       repetitions, uppercase and random case. The full run repeats this paired A/B on 5 replicates, each
       with its own lexicon, sentences, noise, batches and initialisation, and averages them (quick: one
       replicate, half the test sentences). Targets: both learn the clean task, and the byte model loses
       less accuracy than the subword model, averaged over the four noises (quick: that difference measured
       only, a smoke test; see the page).
bench: a training step of each model on the same sentences (the byte sequences are ~5× longer), at two
       sentence lengths (quick: one); the subword model is the baseline.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from functools import partial

import torch
import torch.nn.functional as F
from torch import nn

from readtrack.api import RunContext, dtype_name
from readtrack.plugin_kit import rates
from readtrack.plugin_kit.bpe import BPE

from .config import Config
from .model import (
    BYTE_VOCAB,
    EOS,
    OFFSET,
    PAD,
    Block,
    Classifier,
    EncoderConfig,
    add_drop_mutate,
    decode_bytes,
    encode_bytes,
    matched_bytes,
    parameters,
    random_case,
    repetitions,
    uppercase,
)

HOSTILE = [
    "",
    "\x00",
    "a\x00b\x01\x7f",
    "e\u0301te\u0301 n\u0303",  # combining marks
    "👩‍👩‍👧‍👦 👍🏽 🏳️‍🌈",  # ZWJ sequences, a skin-tone modifier, a variation selector
    "数据 模型的语言学习 東京",
    "مرحبا بالعالم שלום",
    "Straße über naïve café ǅ ﬁ",
    "\ufeff\U0010ffff\ue000",
    "x" * 1000,
]

CLASSES, KEYWORDS, FILLERS = 8, 4, 40
KEYWORD_SYLLABLES = ["ba", "ko", "ri", "te", "lu", "ma", "si", "no", "pe", "da", "gu", "vi"]
FILLER_SYLLABLES = ["ze", "fo", "ha", "ju", "wy", "xe", "qo", "cy"]
MAX_LEN = 160  # learned positions: the longest noisy byte sequence of the test set fits
D_MODEL, HEADS, SUBWORD_LAYERS, BATCH = 32, 4, 2, 32  # the check's and the bench's sizes (train: config.py)
SUBWORD_VOCAB = 256 + 1000  # BPE's size limit; it stops sooner, when every word is one token
GRID = (1e-3, 3e-3, 1e-2)  # AdamW learning rates the validation sentences chose from (``--impl grid``)
LR = {"bytes": 3e-3, "subwords": 1e-3}
WARMUP = 0.1  # of the steps, then cosine decay to 0, for both models
REPLICATE_STRIDE = 1000  # replicate r of seed s draws everything from seed s + 1000·r
# Both runs train at LR: each model's best of GRID on the validation sentences by the best mean over seeds,
# at 600 steps (quick, seeds 0-4) and at 1000 (full, seeds 0-9: bytes 3e-3 0.998, 1e-3 0.993, 1e-2 0.987;
# subwords 1.000 at every rate, the tie to the smallest); ``--impl grid`` runs the grid in every replicate.


def lexicon(seed: int, classes: int = CLASSES) -> tuple[list[list[str]], list[str]]:
    """8 topics (``classes``) of 4 keywords each and 40 filler words, all distinct made-up words of 2-3
    syllables; keywords and fillers are spelt from different syllables (as content words and function words
    differ)."""
    rng = random.Random(seed)

    def words(syllables: list[str], count: int) -> list[str]:
        out: list[str] = []
        while len(out) < count:
            word = "".join(rng.choice(syllables) for _ in range(rng.randint(2, 3)))
            if word not in out:
                out.append(word)
        return out

    keywords = words(KEYWORD_SYLLABLES, classes * KEYWORDS)
    return [keywords[c * KEYWORDS : (c + 1) * KEYWORDS] for c in range(classes)], words(
        FILLER_SYLLABLES, FILLERS
    )


def sentences(
    seed: int, count: int, lexicon_seed: int, classes: int = CLASSES
) -> tuple[list[str], list[int]]:
    """``count`` sentences of 2-4 words: fillers and one keyword, whose topic is the label; the first word
    capitalised (so both models meet capital letters in training), a full stop at the end."""
    keywords, fillers = lexicon(lexicon_seed, classes)
    rng = random.Random(seed)
    texts, labels = [], []
    for _ in range(count):
        label = rng.randrange(classes)
        words = [rng.choice(fillers) for _ in range(rng.randint(1, 3))]
        words.insert(rng.randint(0, len(words)), rng.choice(keywords[label]))
        words[0] = words[0].capitalize()
        texts.append(" ".join(words) + ".")
        labels.append(label)
    return texts, labels


NOISES: dict[str, Callable[[str, random.Random], str]] = {
    "add/drop/mutate 0.1": partial(add_drop_mutate, p=0.1),
    "repetitions 0.2": partial(repetitions, p=0.2),
    "uppercase": uppercase,
    "random case": random_case,
}


def noisy(texts: list[str], noise: str, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [NOISES[noise](t, rng) for t in texts]


def model_configs(
    bpe: BPE, d_model: int = D_MODEL, layers: int = SUBWORD_LAYERS, classes: int = CLASSES
) -> tuple[EncoderConfig, EncoderConfig]:
    """The subword classifier (2 layers, d = 32, d_ff = 4d, BPE ids + <pad>) and the byte classifier of the
    same size (``matched_bytes``)."""
    subword = EncoderConfig(len(bpe.vocab) + 1, MAX_LEN, classes, d_model, HEADS, layers, 4 * d_model)
    return subword, matched_bytes(subword)


class Tokens:
    """Text → padded ids (B, N) for one model: bytes (ByT5's ids) or subwords (BPE id + 1, 0 = <pad>)."""

    def __init__(self, bpe: BPE | None) -> None:
        self.bpe = bpe
        self.vocab = BYTE_VOCAB if bpe is None else len(bpe.vocab) + 1

    def ids(self, text: str) -> list[int]:
        if self.bpe is None:
            return encode_bytes(text)
        return [i + 1 for i in self.bpe.encode(text)]

    def batch(self, texts: list[str], device: str | torch.device) -> torch.Tensor:
        rows = [self.ids(t)[:MAX_LEN] for t in texts]
        x = torch.full((len(rows), max(map(len, rows))), PAD, dtype=torch.long)
        for i, row in enumerate(rows):
            x[i, : len(row)] = torch.tensor(row)
        return x.to(device)


def check(ctx: RunContext) -> None:
    from dataclasses import asdict

    _check_bytes(ctx)
    text = "añ€😀"
    ids = encode_bytes(text)
    ctx.check_property(
        f"encode_bytes returns a list of Python ints, x = {text!r}",
        type(ids) is list and all(type(i) is int for i in ids),
        f"a {type(ids).__name__} of {', '.join(sorted({type(i).__name__ for i in ids}))}",
    )

    def decoded(ids: list[int]) -> object:
        try:
            return decode_bytes(ids)
        except ValueError as err:  # UnicodeDecodeError, or bytes() of an id below OFFSET
            return err

    utf8 = [b + OFFSET for b in text.encode("utf-8")]  # a, ñ: 3 bytes, then € and 😀
    specials = list(range(OFFSET))  # PAD, EOS, UNK
    for what, ids, expected in (
        (
            "decode drops every id below OFFSET (PAD, EOS, UNK), wherever it stands",
            [*specials, *utf8[:3], *specials, *utf8[3:], EOS, PAD, PAD],
            text,
        ),
        (  # a lone 0xff, a lead byte without its continuation, a stray continuation, € cut short
            "decode drops invalid UTF-8 (a model can emit it) rather than fail or replace it",
            [0xFF + OFFSET, *utf8[:1], 0xC3 + OFFSET, 98 + OFFSET, 0x80 + OFFSET, *utf8[3:5], EOS],
            "ab",
        ),
    ):
        got = decoded(ids)
        ctx.check_property(what, got == expected, f"expected {expected!r}, got {got!r}")

    _check_encoder(ctx)
    _check_model(ctx)

    # matched_bytes' rule, beyond the parameter count: whole layers first (the nearest number, never fewer
    # than the subword model's), then d_ff to the nearest unit; every other field kept.
    for subword in (
        EncoderConfig(484, 160, 8, 32, 4, 2, 128),  # the experiment's: saved/block = 0.57, one layer more
        EncoderConfig(5000, 64, 8, 32, 4, 2, 128),  # 11.94 blocks, then d_ff − 0.81
        EncoderConfig(50, 64, 8, 16, 2, 3, 64),  # fewer ids than 259: −1.02 blocks, no layer taken away
    ):
        byte = matched_bytes(subword)
        case = f"V = {subword.vocab}, d = {subword.d_model}, {subword.layers} layers, d_ff {subword.d_ff}"
        kept = {k: v for k, v in asdict(subword).items() if k not in ("vocab", "layers", "d_ff")}
        changed = {k: v for k, v in asdict(byte).items() if k in kept and v != kept[k]}
        ctx.check_property(
            f"matched_bytes keeps every field but vocab, layers and d_ff; vocab = BYTE_VOCAB ({case})",
            byte.vocab == BYTE_VOCAB and not changed,
            f"vocab {byte.vocab}, changed {changed}",
        )
        d = subword.d_model
        blocks = (subword.vocab - BYTE_VOCAB) * d / parameters(Block(d, subword.n_heads, subword.d_ff))
        added = byte.layers - subword.layers
        ctx.check_property(
            f"matched_bytes buys whole layers first: the nearest number, never fewer ({case})",
            added >= 0 and abs(added - max(0.0, blocks)) <= 0.5,
            f"saved embedding = {blocks:.2f} blocks; {added:+d} layers",
        )
        gap = parameters(Classifier(byte)) - parameters(Classifier(subword))
        unit = byte.layers * (2 * d + 1)  # one more unit of d_ff in every layer
        ctx.check_property(
            f"matched_bytes spends the rest on d_ff, to the nearest unit ({case})",
            abs(gap) <= unit / 2,
            f"d_ff {byte.d_ff}: byte − subword parameters = {gap:+d}; one unit of d_ff is {unit}",
        )
    _check_noise(ctx)


def _check_bytes(ctx: RunContext) -> None:
    for text in HOSTILE:
        ids = encode_bytes(text)
        ctx.check_property(
            f"decode(encode(x)) == x, x = {text[:16]!r}",
            decode_bytes(ids) == text
            and ids[-1] == EOS
            and all(OFFSET <= i < BYTE_VOCAB for i in ids[:-1])
            and len(ids) == len(text.encode("utf-8")) + 1,
            f"{len(text)} characters → {len(ids)} ids",
        )


def _reference_layer(block: Block) -> tuple[nn.TransformerEncoderLayer, list[torch.Tensor]]:
    """PyTorch's pre-LN encoder layer holding ``block``'s weights, and its parameters in
    ``block.parameters()``'s order (so that the flattened gradients line up)."""
    d = block.ln1.normalized_shape[0]
    ref = nn.TransformerEncoderLayer(
        d,
        block.attn.n_heads,
        block.fc1.out_features,
        dropout=0.0,
        activation="gelu",
        batch_first=True,
        norm_first=True,
    ).to(block.fc1.weight)
    attn = ref.self_attn
    ordered = [
        ref.norm1.weight, ref.norm1.bias, ref.norm2.weight, ref.norm2.bias,
        attn.in_proj_weight, attn.in_proj_bias, attn.out_proj.weight, attn.out_proj.bias,
        ref.linear1.weight, ref.linear1.bias, ref.linear2.weight, ref.linear2.bias,
    ]  # fmt: skip
    with torch.no_grad():
        for theirs, ours in zip(ordered, block.parameters(), strict=True):
            theirs.copy_(ours)
    return ref, ordered


def _check_encoder(ctx: RunContext) -> None:
    for dtype in ctx.check_dtypes:
        block = Block(32, 4, 128).to(ctx.device, dtype)
        with torch.no_grad():  # random values everywhere, so that no gain of 1 or bias of 0 hides a bug
            for p in block.parameters():
                p.normal_(0, 0.2)
        ref, ref_params = _reference_layer(block)
        for n in (1, 7, 33):
            x = torch.randn(3, n, 32, dtype=dtype, device=ctx.device)
            lengths = torch.tensor([n, max(1, n - 3), max(1, n // 2)], device=ctx.device)
            keep = torch.arange(n, device=ctx.device) < lengths[:, None]  # (3, n): rows 2 and 3 padded
            ours, grads = ctx.value_and_grads(partial(block, keep=keep), x, params=list(block.parameters()))
            theirs, ref_grads = ctx.value_and_grads(
                partial(ref, src_key_padding_mask=~keep), x, params=ref_params
            )
            label = (
                f"encoder block vs nn.TransformerEncoderLayer, padding mask, N = {n} ({dtype_name(dtype)})"
            )
            ctx.check_close(label, ours, theirs)
            ctx.check_close(f"gradients (input, weights): {label}", grads, ref_grads)


def _check_model(ctx: RunContext) -> None:
    texts, _ = sentences(ctx.seed, 200, ctx.seed)
    bpe = BPE.train(texts, SUBWORD_VOCAB)
    subword, byte = model_configs(bpe)
    layers = byte.layers
    counts = {name: parameters(Classifier(c)) for name, c in (("bytes", byte), ("subwords", subword))}
    ctx.check_property(
        "parameters: byte model within 1% of the subword model (saved embedding → encoder layers, d_ff)",
        abs(counts["bytes"] / counts["subwords"] - 1) <= 0.01,
        f"bytes {counts['bytes']} ({layers} layers, d_ff {byte.d_ff}, vocabulary {BYTE_VOCAB}) vs subwords "
        f"{counts['subwords']} ({SUBWORD_LAYERS} layers, d_ff {subword.d_ff}, vocabulary {subword.vocab})",
        value=counts["bytes"] / counts["subwords"],
    )
    exact = ctx.exact_dtype
    sample = [texts[0][:1], texts[1], *texts[2:6], "x"]
    for name, tokens, config in (("bytes", Tokens(None), byte), ("subwords", Tokens(bpe), subword)):
        torch.manual_seed(ctx.seed)
        model = Classifier(config).to(ctx.device, exact)
        with torch.no_grad():
            for p in model.parameters():
                p.normal_(0, 0.3)
        batched = model(tokens.batch(sample, ctx.device))
        alone = torch.cat([model(tokens.batch([t], ctx.device)) for t in sample])
        ctx.check_close(
            f"{name} model: logits in a padded batch = each sentence alone ({dtype_name(exact)})",
            batched,
            alone,
        )


def _check_noise(ctx: RunContext) -> None:
    texts, _ = sentences(ctx.seed, 500, ctx.seed)
    rng = random.Random(ctx.seed)
    ctx.check_property(
        "uppercase noise = str.upper; random case changes only case",
        noisy(texts, "uppercase", 0) == [t.upper() for t in texts]
        and [t.lower() for t in noisy(texts, "random case", 0)] == [t.lower() for t in texts],
    )
    ctx.check_property(
        "add/drop/mutate and repetitions at rate 0 change nothing",
        all(add_drop_mutate(t, rng, 0.0) == t and repetitions(t, rng, 0.0) == t for t in texts),
    )
    chars = sum(map(len, texts))
    lengths = sum(map(len, noisy(texts, "repetitions 0.2", 0))) - chars  # each pick adds 1-3, mean 2
    ctx.check_property(
        "repetitions: 0.2 · 2 extra characters per character on average (within 4 standard errors)",
        abs(lengths / chars - 0.4) < 4 * (0.2 * 4.67 - 0.16) ** 0.5 / chars**0.5,
        f"{lengths / chars:.4f} extra per character",
        value=lengths / chars,
    )


def fit(
    ctx: RunContext,
    model: Classifier,
    tokens: Tokens,
    texts: list[str],
    labels: list[int],
    cfg: Config,
    lr: float,
    label: str,
    seed: int,
) -> Classifier:
    """AdamW on ``cfg.steps`` batches of ``cfg.batch`` training sentences, drawn in the same order for every
    model (``seed``), with a linear warm-up over the first ``WARMUP`` of the steps and a cosine decay to 0."""
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0, foreach=True)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        opt, partial(rates.warmup_cosine, steps=cfg.steps, warmup=WARMUP)
    )
    x_all, y_all = tokens.batch(texts, ctx.device), torch.tensor(labels, device=ctx.device)
    g = torch.Generator().manual_seed(seed)
    for step in range(cfg.steps):
        idx = torch.randint(0, len(texts), (cfg.batch,), generator=g).to(ctx.device)
        x = x_all[idx]
        x = x[:, : int((x != PAD).sum(dim=1).max())]  # the batch's own length
        loss = F.cross_entropy(model(x), y_all[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        schedule.step()
        if step % 20 == 0:
            ctx.metric(f"train loss ({label})", step, loss.item())
    return model


@torch.no_grad()
def accuracy(model: Classifier, tokens: Tokens, texts: list[str], labels: list[int], device: str) -> float:
    logits = torch.cat([model(tokens.batch(texts[i : i + 250], device)) for i in range(0, len(texts), 250)])
    return (logits.argmax(-1).cpu() == torch.tensor(labels)).float().mean().item()


def replicate_seed(seed: int, r: int) -> int:
    """Replicate r of a run's seed: its own lexicon, sentences, noise, batches and initialisation. Replicate 0
    is the seed itself (so the quick run, one replicate, is unchanged); the others lie 1000 apart."""
    return seed + REPLICATE_STRIDE * r


def replicate(ctx: RunContext, cfg: Config, seed: int, tag: str) -> dict[str, float]:
    """One paired A/B: a lexicon and its sentences (``seed``), both models trained on the same batches from
    the same seed, each at its rate (or its best of ``GRID`` on validation with ``--impl grid``), tested clean
    and under each noise on the same noisy text. Returns every number the run reports, by name."""
    texts, labels = sentences(seed, cfg.sentences, seed, cfg.classes)
    valid, valid_labels = sentences(seed + 1, 300, seed, cfg.classes)  # picks each rate with --impl grid
    test, test_labels = sentences(seed + 2, cfg.test_sentences, seed, cfg.classes)
    bpe = BPE.train(texts, SUBWORD_VOCAB)
    subword, byte = model_configs(bpe, cfg.d_model, cfg.layers, cfg.classes)
    if cfg.reads == "subwords":  # the idea removed: the arm under test is the subword model again
        byte = subword
    reader = Tokens(None) if cfg.reads == "bytes" else Tokens(bpe)
    configs, models = {"bytes": byte, "subwords": subword}, {"bytes": reader, "subwords": Tokens(bpe)}
    per_text = {n: sum(len(t.ids(s)) for s in test) / len(test) for n, t in models.items()}
    out = {"ids per test sentence, bytes / subwords": per_text["bytes"] / per_text["subwords"]}
    own_lr = {"bytes": LR[cfg.reads], "subwords": LR["subwords"]}  # each reads its own rate
    grid = (
        {n: GRID for n in models}
        if ctx.options.get("impl") == "grid"
        else {n: (r,) for n, r in own_lr.items()}
    )
    if cfg.lr != 0:
        grid = {n: (cfg.lr,) for n in models}
    sets = {noise: noisy(test, noise, seed + 3) for noise in NOISES}  # the same noisy text for both
    for name, tokens in models.items():
        best: tuple[float, Classifier] | None = None
        for lr in grid[name]:
            torch.manual_seed(seed)
            model = Classifier(configs[name]).to(ctx.device)
            fit(ctx, model, tokens, texts, labels, cfg, lr, f"{name}, lr {lr:g}{tag}", seed)
            if len(grid[name]) == 1:
                best = (0.0, model)
                break
            score = accuracy(model, tokens, valid, valid_labels, ctx.device)
            out[f"validation accuracy, {name}, lr {lr:g}"] = score
            if best is None or score > best[0]:
                best = (score, model)
        assert best is not None
        model = best[1]
        clean = out[f"clean test accuracy, {name}"] = accuracy(model, tokens, test, test_labels, ctx.device)
        losses = []
        for noise in NOISES:
            acc = out[f"test accuracy under {noise}, {name}"] = accuracy(
                model, tokens, sets[noise], test_labels, ctx.device
            )
            losses.append(clean - acc)
        out[f"accuracy lost to noise (mean of the four), {name}"] = sum(losses) / len(losses)
    return out


def train(ctx: RunContext) -> None:
    cfg = ctx.config(Config)
    runs = []
    for r in range(cfg.replicates):
        tag = f", replicate {r}" if cfg.replicates > 1 else ""
        runs.append(replicate(ctx, cfg, replicate_seed(ctx.seed, r), tag))
        ctx.progress(r + 1, cfg.replicates)
    mean = {k: sum(run[k] for run in runs) / len(runs) for k in runs[0]}  # over the replicates
    of = f"the mean of {cfg.replicates} replicates" if cfg.replicates > 1 else "one replicate"
    drops = {n: mean.pop(f"accuracy lost to noise (mean of the four), {n}") for n in ("bytes", "subwords")}
    for key, value in mean.items():
        ctx.measured(key, value, f"{cfg.steps} steps of {cfg.batch}; {of}")
    for name in ("bytes", "subwords"):  # a drop means something only for a model that learnt the clean task
        ctx.target(
            f"clean test accuracy, {name}", mean[f"clean test accuracy, {name}"], 0.85 if ctx.quick else 0.95
        )
    name = "accuracy lost to noise (mean of the four): subwords − bytes"
    lost = "accuracy lost to noise (mean of the four), "
    per = [f"{run[lost + 'subwords'] - run[lost + 'bytes']:.3f}" for run in runs]
    detail = (
        f"bytes lose {drops['bytes']:.3f} of {mean['clean test accuracy, bytes']:.3f}, subwords "
        f"{drops['subwords']:.3f} of {mean['clean test accuracy, subwords']:.3f} ({of}; per replicate "
        f"{', '.join(per)})"
    )
    if cfg.reads == "subwords":
        detail += "; reads=subwords: the 'bytes' arm reads subwords, the same model as the subword arm"
    if ctx.quick:  # a smoke test at this size: over 20 seeds its margin was under 3 sd (see the page)
        ctx.measured(name, drops["subwords"] - drops["bytes"], detail)
    else:
        ctx.target(name, drops["subwords"] - drops["bytes"], 0.2, detail=detail)


def bench(ctx: RunContext) -> None:
    texts, _ = sentences(ctx.seed, BATCH, ctx.seed)
    bpe = BPE.train(texts, SUBWORD_VOCAB)
    subword, byte = model_configs(bpe)
    labels = torch.zeros(BATCH, dtype=torch.long, device=ctx.device)
    for sentences_per_row in (1,) if ctx.quick else (1, 3):  # quick: one length, within its budget
        joined = [" ".join(texts[(i + k) % BATCH] for k in range(sentences_per_row)) for i in range(BATCH)]
        for name, tokens, config in (("subwords", Tokens(bpe), subword), ("bytes", Tokens(None), byte)):
            torch.manual_seed(ctx.seed)
            model = Classifier(config).to(ctx.device)
            x = tokens.batch(joined, ctx.device)

            def step(model: Classifier = model, x: torch.Tensor = x) -> None:
                torch.autograd.grad(F.cross_entropy(model(x), labels), list(model.parameters()))

            ctx.bench.measure(
                f"training step, {name}, {sentences_per_row} sentence(s) per row ({x.shape[1]} ids)",
                step,
                baseline=name == "subwords" and sentences_per_row == 1,
                tokens=int((x != PAD).sum()),
                shape=tuple(x.shape),
                dtype=torch.float32,
            )
