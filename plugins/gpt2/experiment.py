"""GPT-2 at toy scale: a byte-level BPE that loses nothing, checked against the textbook loop and Hugging
Face's ``tokenizers``, and the pre-LN block with the 1/√N initialisation, checked against PyTorch's layers.

check: the BPE's merges equal a naive reference (recount every pair, merge the most frequent, same tie rule)
       on a small corpus with ties and runs; decode(encode(x)) == x on hostile strings (empty, NUL and
       control characters, combining marks, emoji with ZWJ, CJK, right-to-left text, long runs); the
       pieces equal the GPT-2 pre-tokenizer of ``tokenizers`` when it is installed (a test-only dependency:
       without it the stage says so). The model: a block equals ``nn.TransformerEncoderLayer`` with a causal
       mask, pre-LN (``norm_first=True``) and post-LN, forward and gradients, float64 and float32, N = 1, 7,
       33; the whole pre-LN model equals ``plugin_kit``'s TinyTransformer with copied weights, and its
       initialisation is the same draw; the scaled init is the plain one × 1/√N exactly.
train: BPE on seeded synthetic text with non-ASCII words (ü, ß, é, 数据, 🙂): bytes per token on held-out
       text after 100 merges (target ≥ 2) and at larger vocabularies, lossless on all of it, and against
       ``tokenizers``' byte-level BPE trained on the same text to the same size (reported). The model: the
       residual stream's variance at initialisation for depths 6 … 96, with and without the 1/√N scaling
       (targets: flat with it, linear growth without); the full run adds a reported A/B of GPT-2's block
       against GPT-1's post-LN block, trained at two learning rates without warm-up.
bench: BPE encoding throughput (cold cache, two text sizes; ``tokenizers`` beside it when installed) and a
       12-layer model's forward + backward, pre-LN against post-LN.
"""

from __future__ import annotations

import copy
import json
import math
import random
from functools import partial
from typing import Any

import torch
from torch import nn

from readtrack.api import RunContext, dtype_name
from readtrack.plugin_kit.checks import check_close_or_rounding
from readtrack.plugin_kit.tasks import MarkovText
from readtrack.plugin_kit.transformer import TinyTransformer

from .config import Config
from .model import GPT, Block, ByteLevelBPE, GPTConfig, pretokenize

HOSTILE = [
    "",
    " ",
    "\x00",
    "a\x00b\x01\x1f\x7f\x1c",
    "e\u0301te\u0301 n\u0303",  # combining marks after their letters
    "👩‍👩‍👧‍👦 👍🏽 🏳️‍🌈",  # ZWJ sequences, a skin-tone modifier, a variation selector
    "数据 模型的语言学习 東京",
    "مرحبا بالعالم שלום",
    "Straße über naïve café",
    "\r\n\t \u3000\u00a0\u2028x",
    "a" * 3000 + " " * 500 + "!" * 300,
    "it's I'M we'll 'd''s",
    "\ufeff\U0010ffff\ue000",
    "1234567890 3.14159 -42",
]

_ONSETS = [
    "b",
    "c",
    "d",
    "f",
    "g",
    "h",
    "k",
    "l",
    "m",
    "n",
    "p",
    "r",
    "s",
    "t",
    "v",
    "w",
    "st",
    "tr",
    "ch",
    "sh",
]
_NUCLEI = ["a", "e", "i", "o", "u", "ai", "ea", "ou", "ie"]
_CODAS = ["", "", "n", "r", "s", "t", "l", "nd", "st", "ng"]
_FOREIGN = [
    "über",
    "Müller",
    "Straße",
    "schön",
    "für",
    "café",
    "naïve",
    "élève",
    "数据",
    "模型",
    "语言",
    "🙂",
    "🚀",
]
_COMMON = ["the", "of", "and", "to", "in", "is", "don't", "it's", "we'll"]


def synthetic_text(seed: int, sentences: int) -> list[str]:
    """Sentences of a fixed made-up language (Zipf-distributed syllable words, common English words, some
    German, French, Chinese and emoji, numbers, punctuation); ``seed`` picks the sentences, so two seeds
    give a training and a held-out text of the same language."""
    rng = random.Random(0)
    words = sorted(
        {"".join(rng.choice(s) for s in (_ONSETS, _NUCLEI, _CODAS)) * rng.randint(1, 2) for _ in range(3000)}
    )
    words += _FOREIGN + _COMMON
    rng.shuffle(words)
    weights = [1 / (rank + 1) for rank in range(len(words))]
    rng = random.Random(seed)
    text = []
    for _ in range(sentences):
        sentence = rng.choices(words, weights, k=rng.randint(4, 14))
        if rng.random() < 0.2:
            sentence.insert(rng.randrange(len(sentence)), rng.choice(["1999", "2019", "42", "3.14", "100"]))
        line = " ".join(sentence)
        text.append(
            line[0].upper() + line[1:] + rng.choice([".", ".", "!", "?", ":"]) + "\n" * (rng.random() < 0.1)
        )
    return text


def naive_bpe_merges(texts: list[str], n_merges: int) -> list[tuple[int, int]]:
    """The textbook loop, written apart from ``ByteLevelBPE.train``: every piece of every text as its own
    list of symbols, all adjacent pairs recounted each round, the most frequent merged (ties: the smallest
    (left, right) pair), left to right."""
    words = [list(piece.encode("utf-8")) for text in texts for piece in pretokenize(text)]
    merges: list[tuple[int, int]] = []
    for new in range(256, 256 + n_merges):
        counts: dict[tuple[int, int], int] = {}
        for word in words:
            for i in range(len(word) - 1):
                counts[word[i], word[i + 1]] = counts.get((word[i], word[i + 1]), 0) + 1
        if not counts:
            break
        best = max(counts, key=lambda pair: (counts[pair], -pair[0], -pair[1]))
        merges.append(best)
        for w, word in enumerate(words):
            merged, i = [], 0
            while i < len(word):
                if word[i : i + 2] == list(best):
                    merged.append(new)
                    i += 2
                else:
                    merged.append(word[i])
                    i += 1
            words[w] = merged
    return merges


def _hf_tokenizers() -> Any:
    """Hugging Face's ``tokenizers``, or None: a test-only dependency, never needed to run the plugin."""
    try:
        import tokenizers
    except ImportError:
        return None
    return tokenizers


def _gpt2_byte_table() -> dict[str, int]:
    """GPT-2's vocabulary-file alphabet, inverted: printable character (``bytes_to_unicode``) → byte."""
    printable = [
        *range(ord("!"), ord("~") + 1),
        *range(ord("¡"), ord("¬") + 1),
        *range(ord("®"), ord("ÿ") + 1),
    ]
    others = [b for b in range(256) if b not in printable]
    chars = printable + [256 + i for i in range(len(others))]
    return {chr(c): b for b, c in zip(printable + others, chars, strict=True)}


def hf_pieces(tokenizers: Any, text: str) -> list[bytes]:
    """The pieces of ``tokenizers``' GPT-2 byte-level pre-tokenizer, as UTF-8 bytes."""
    table = _gpt2_byte_table()
    pre = tokenizers.pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    return [bytes(table[ch] for ch in piece) for piece, _ in pre.pre_tokenize_str(text)]


def hf_merges(tokenizer: Any) -> set[tuple[bytes, bytes]]:
    """A trained ``tokenizers`` BPE's merges as pairs of byte strings: its byte-level alphabet (GPT-2's
    byte → printable character table) mapped back to bytes."""
    printable = [
        *range(ord("!"), ord("~") + 1),
        *range(ord("¡"), ord("¬") + 1),
        *range(ord("®"), ord("ÿ") + 1),
    ]
    extra = iter(range(256, 512))
    char = {b: chr(b) if b in printable else chr(next(extra)) for b in range(256)}
    byte = {c: b for b, c in char.items()}
    merges = json.loads(tokenizer.to_str())["model"]["merges"]
    pairs = [m.split(" ") if isinstance(m, str) else m for m in merges]
    return {(bytes(byte[c] for c in a), bytes(byte[c] for c in b)) for a, b in pairs}


def hf_bpe(tokenizers: Any, texts: list[str], vocab_size: int) -> Any:
    """``tokenizers``' byte-level BPE (GPT-2's pre-tokenizer, the 256-byte alphabet) trained on ``texts``."""
    tok = tokenizers.Tokenizer(tokenizers.models.BPE())
    tok.pre_tokenizer = tokenizers.pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = tokenizers.decoders.ByteLevel()
    trainer = tokenizers.trainers.BpeTrainer(
        vocab_size=vocab_size,
        initial_alphabet=tokenizers.pre_tokenizers.ByteLevel.alphabet(),
        special_tokens=[],
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer)
    return tok


def check(ctx: RunContext) -> None:
    from readtrack.plugin_kit import bpe  # where merge is looked up (the exercise's module)

    _check_bpe(ctx)
    # merge returns a new list and leaves the word it is given as it was (the caller may still hold it)
    word = [97, 97, 97, 98, 97, 97]
    merged = bpe.merge(word, (97, 97), 300)
    ctx.check_property(
        "merge returns a new list, the word left as it is: [a a a b a a] with (a, a) → [new a b new]",
        merged == [300, 97, 98, 300] and word == [97, 97, 97, 98, 97, 97],
        f"returned {merged}, the word is now {word}",
    )
    _check_model(ctx)


def _check_bpe(ctx: RunContext) -> None:
    corpus = [*synthetic_text(ctx.seed, 40), "aaaaaaa abab abab aaa", "ab ba ab ba", *HOSTILE[4:9]]
    bpe = ByteLevelBPE.train(corpus, 256 + 80)
    reference = naive_bpe_merges(corpus, 80)
    first = next((i for i, (a, b) in enumerate(zip(bpe.merges, reference, strict=False)) if a != b), None)
    ctx.check_property(
        "BPE merges = the naive recount-and-merge loop, 80 merges (ties: smallest pair)",
        bpe.merges == reference,
        f"{len(bpe.merges)} vs {len(reference)} merges, first difference at merge {first}",
        value=len(bpe.merges),
    )
    for text in HOSTILE:
        ids = bpe.encode(text)
        shown = repr(text if len(text) < 24 else text[:20] + "…")
        ctx.check_property(
            f"decode(encode(x)) == x, x = {shown}",
            bpe.decode(ids) == text and all(0 <= i < len(bpe.vocab) for i in ids),
            f"{len(text.encode('utf-8'))} bytes → {len(ids)} tokens",
        )
        ctx.check_property(f"the pieces join back to x, x = {shown}", "".join(pretokenize(text)) == text)

    tokenizers = _hf_tokenizers()
    if tokenizers is None:
        ctx.log("tokenizers is not installed: the pre-tokenizer is not compared with its GPT-2 pattern")
        return
    texts = HOSTILE + corpus
    differ = [t for t in texts if [p.encode("utf-8") for p in pretokenize(t)] != hf_pieces(tokenizers, t)]
    ctx.check_property(
        "pre-tokenizer pieces = tokenizers' ByteLevel (GPT-2 pattern), hostile strings and corpus",
        not differ,
        f"{len(texts) - len(differ)} of {len(texts)} texts alike; first differing: {differ[:1]!r}",
    )


def _causal_encoder_layer(
    block: Block, pre_ln: bool
) -> tuple[nn.TransformerEncoderLayer, list[torch.Tensor]]:
    """PyTorch's encoder layer holding ``block``'s weights, and its parameters in ``block.parameters()``'s
    order (so that the two flattened gradients line up)."""
    d_model, heads = block.ln1.normalized_shape[0], block.attn.n_heads
    ref = nn.TransformerEncoderLayer(
        d_model, heads, 4 * d_model, dropout=0.0, activation="gelu", batch_first=True, norm_first=pre_ln
    ).to(block.fc.weight)
    attn = ref.self_attn
    ordered = [
        ref.norm1.weight, ref.norm1.bias, ref.norm2.weight, ref.norm2.bias,
        attn.in_proj_weight, attn.in_proj_bias,  # [W_Q; W_K; W_V], as in our qkv
        attn.out_proj.weight, attn.out_proj.bias,
        ref.linear1.weight, ref.linear1.bias, ref.linear2.weight, ref.linear2.bias,
    ]  # fmt: skip
    with torch.no_grad():
        for theirs, ours in zip(ordered, block.parameters(), strict=True):
            theirs.copy_(ours)
    return ref, ordered


def _exact_gradients(
    ctx: RunContext, module: nn.Module, *inputs: torch.Tensor, tokens: torch.Tensor | None = None
) -> torch.Tensor:
    """The gradients ``ctx.value_and_grads`` gives for ``module(*inputs)`` or ``module(tokens)``, computed by
    a float64 copy of ``module`` (which the float64 pass finds equal to the reference): the truth float32
    gradients are held to. Through these N(0, 0.3²) weights a fixed float32 tolerance is missed by the
    reference as often as by us (on an AVX-512 CPU, seeds 7, 8, 11, 13 and 17 of 5-19, by up to 1.2×)."""
    exact = copy.deepcopy(module).to(ctx.exact_dtype)
    fn = exact if tokens is None else partial(exact, tokens)
    exact_inputs = [t.to(ctx.exact_dtype) for t in inputs]
    return ctx.value_and_grads(fn, *exact_inputs, params=list(exact.parameters()))[1]


def _check_model(ctx: RunContext) -> None:
    for dtype in ctx.check_dtypes:
        name = dtype_name(dtype)
        for pre_ln in (True, False):
            block = Block(32, 4, pre_ln).to(ctx.device, dtype)
            with torch.no_grad():  # random values everywhere, so that no gain of 1 or bias of 0 hides a bug
                for p in block.parameters():
                    p.normal_(0, 0.3)
            ref, ref_params = _causal_encoder_layer(block, pre_ln)
            for n in (1, 7, 33):
                x = torch.randn(2, n, 32, dtype=dtype, device=ctx.device)
                future = torch.ones(n, n, dtype=torch.bool, device=ctx.device).triu(1)
                ours, grads = ctx.value_and_grads(block, x, params=list(block.parameters()))
                theirs, ref_grads = ctx.value_and_grads(
                    partial(ref, src_mask=future, is_causal=True), x, params=ref_params
                )
                label = (
                    f"{'pre' if pre_ln else 'post'}-LN block vs nn.TransformerEncoderLayer, N = {n} ({name})"
                )
                ctx.check_close(label, ours, theirs)
                truth = partial(_exact_gradients, ctx, block, x)
                check_close_or_rounding(ctx, f"gradients (input, weights): {label}", grads, ref_grads, truth)

        torch.manual_seed(ctx.seed)
        gpt = GPT(GPTConfig(vocab=50, max_len=40, d_model=32, n_heads=4, layers=3)).to(ctx.device, dtype)
        torch.manual_seed(ctx.seed)
        tiny = TinyTransformer(50, 40, 32, 4, 3).to(ctx.device, dtype)
        if dtype == ctx.exact_dtype:
            ctx.check_property(
                "GPT-2 init (N(0, 0.02²), residual projections /√(2·layers)) = TinyTransformer's, same seed",
                list(gpt.state_dict()) == list(tiny.state_dict())
                and all(map(torch.equal, gpt.state_dict().values(), tiny.state_dict().values())),
            )
        with torch.no_grad():
            for p in gpt.parameters():
                p.normal_(0, 0.3)
        tiny.load_state_dict(gpt.state_dict())
        tokens = torch.randint(0, 50, (3, 37), device=ctx.device)
        ours, grads = ctx.value_and_grads(partial(gpt, tokens), params=list(gpt.parameters()))
        theirs, ref_grads = ctx.value_and_grads(partial(tiny, tokens), params=list(tiny.parameters()))
        ctx.check_close(f"pre-LN GPT vs plugin_kit TinyTransformer, copied weights ({name})", ours, theirs)
        truth = partial(_exact_gradients, ctx, tiny, tokens=tokens)
        check_close_or_rounding(ctx, f"its gradients, every weight ({name})", grads, ref_grads, truth)

    layers = 6
    scaled, plain = (
        _init(GPTConfig(50, 40, 64, 4, layers, scaled_init=s), ctx.seed, ctx.device) for s in (True, False)
    )
    with torch.no_grad():
        ours, expected = [], []
        for (pname, a), b in zip(scaled.named_parameters(), plain.parameters(), strict=True):
            ours.append(a.flatten())
            residual = pname.endswith("proj.weight")
            expected.append(b.flatten() / math.sqrt(2 * layers) if residual else b.flatten())
    ctx.check_close(
        f"scaled init = plain init with the {2 * layers} residual projections / √N, N = 2·layers, same seed",
        torch.cat(ours),
        torch.cat(expected),
    )


def _init(config: GPTConfig, seed: int, device: str) -> GPT:
    torch.manual_seed(seed)
    return GPT(config).to(device)


def residual_variance(layers: int, scaled_init: bool, seed: int, device: str) -> list[float]:
    """Var(x_l) for l = 0 … L of a freshly initialised pre-LN model on random tokens (float64)."""
    model = _init(GPTConfig(64, 64, 64, 4, layers, scaled_init=scaled_init), seed, device).double()
    tokens = torch.randint(0, 64, (4, 64), generator=torch.Generator().manual_seed(seed)).to(device)
    with torch.no_grad():
        return [x.var().item() for x in model.residual_stream(tokens)]


RATES = (3e-3, 1e-2, 3e-2)  # Adam's rates of the A/B; each block its best (config.py's lr = 0)


def train(ctx: RunContext) -> None:
    cfg = ctx.config(Config)
    _train_bpe(ctx, cfg)
    _stream_variance(ctx, cfg)
    if cfg.steps > 0:  # the quick run trains no A/B
        _train_ab(ctx, cfg)


def _train_bpe(ctx: RunContext, cfg: Config) -> None:
    texts, held_out = synthetic_text(ctx.seed, 2000), synthetic_text(ctx.seed + 1, 300)
    n_bytes = sum(len(t.encode("utf-8")) for t in held_out)
    ctx.measured(
        "training text (bytes)", sum(len(t.encode("utf-8")) for t in texts), "held-out: " + str(n_bytes)
    )
    tokenizers = _hf_tokenizers()
    if tokenizers is None:
        ctx.log("tokenizers is not installed: no comparison with Hugging Face's BPE")
    sizes = (*(v for v in (256 + 100, 1000) if v < cfg.bpe_vocab), cfg.bpe_vocab)  # quick: up to 1000
    for vocab_size in sizes:
        bpe = ByteLevelBPE.train(texts, vocab_size)
        ids = [bpe.encode(t) for t in held_out]
        ratio = n_bytes / sum(map(len, ids))
        lossless = all(bpe.decode(i) == t for i, t in zip(ids, held_out, strict=True))
        label = f"{len(bpe.merges)} merges (vocabulary {len(bpe.vocab)})"
        if vocab_size == 256 + 100:
            ctx.target(f"held-out bytes per token after {label}", ratio, 2.0, detail="raw bytes: 1.0")
        else:
            ctx.measured(f"held-out bytes per token after {label}", ratio)
        ctx.target(f"held-out text decodes to itself exactly, {label} (share of lines)", float(lossless), 1.0)
        if tokenizers is not None:
            hf = hf_bpe(tokenizers, texts, vocab_size)
            hf_ratio = n_bytes / sum(len(e.ids) for e in hf.encode_batch(held_out))
            ctx.measured(
                f"tokenizers' byte-level BPE, vocabulary {hf.get_vocab_size()}: held-out bytes per token",
                hf_ratio,
                f"ours {ratio:.4f}: {ratio / hf_ratio:.4f}× theirs",
            )
            theirs = hf_merges(hf)
            ours = {(bpe.vocab[a], bpe.vocab[b]) for a, b in bpe.merges}
            ctx.measured(
                f"merges shared with tokenizers' merge list, {label}",
                len(ours & theirs),
                f"of {len(bpe.merges)} ours and {len(theirs)} theirs (count ties broken differently)",
            )


def _stream_variance(ctx: RunContext, cfg: Config) -> None:
    depths = (*(n for n in (6, 24) if n < cfg.depth), cfg.depth)  # quick: up to 48
    top: dict[tuple[int, bool], float] = {}
    for layers in depths:
        for scaled in (True, False):  # the arm "with" scales but for --set scaled_init=false
            var = residual_variance(layers, scaled and cfg.scaled_init, ctx.seed, ctx.device)
            top[layers, scaled] = var[-1] / var[0]
            ctx.measured(
                f"Var(x_L)/Var(x_0) at init, L = {layers}, {'with' if scaled else 'without'} 1/√N scaling",
                top[layers, scaled],
            )
    shallow, deep = depths[0], depths[-1]
    ctx.target(
        f"with 1/√N: Var(x_L)/Var(x_0) at L = {deep} over the same at L = {shallow} (flat in depth)",
        top[deep, True] / top[shallow, True],
        1.2,
        higher_is_better=False,
        detail=f"{top[shallow, True]:.3f} → {top[deep, True]:.3f}: N residual writes of c/N each, c/2 in all"
        + ("" if cfg.scaled_init else "; scaled_init=false: this arm is initialised without 1/√N too"),
    )
    growth = (top[deep, False] - 1) / (top[shallow, False] - 1)
    ctx.target(
        f"without it: growth of Var(x_L)/Var(x_0) − 1, L = {shallow} → {deep}, over {deep}/{shallow}",
        growth / (deep / shallow),
        0.7,
        detail=f"{top[shallow, False]:.2f} → {top[deep, False]:.2f}: each block adds about c, L·c in all",
    )


def _train_ab(ctx: RunContext, cfg: Config) -> None:
    """GPT-2's block (pre-LN, 1/√N) against GPT-1's (post-LN, plain N(0, 0.02²)), 8 layers, no warm-up."""
    text = MarkovText.make(ctx.seed, vocab=16, length=32, device=ctx.device)
    ctx.measured("the true chain's own held-out loss (nats)", text.floor, "a unigram model is ≈ 1.4 above")
    steps, layers, results = cfg.steps, cfg.layers, {}
    rates = RATES if cfg.lr == 0 else (cfg.lr,)
    for lr in rates:
        for gpt2 in (True, False):
            label = f"{'GPT-2 pre-LN + 1/√N' if gpt2 else 'GPT-1 post-LN'}, lr {lr:g}"
            config = GPTConfig(
                16, 32, cfg.d_model, 4, layers, pre_ln=gpt2, scaled_init=gpt2 and cfg.scaled_init
            )
            model = _init(config, ctx.seed, ctx.device)
            opt = torch.optim.Adam(model.parameters(), lr=lr)
            log = partial(ctx.metric, f"train loss ({label})")
            text.fit(model, opt, steps, ctx.seed, log=log, batch=cfg.batch)
            results[lr, gpt2] = text.held_out_loss(model) - text.floor
            ctx.measured(
                f"held-out loss − the chain's, {label} (nats)", results[lr, gpt2], f"{steps} Adam steps"
            )
            ctx.progress(len(results), 2 * len(rates))
    best = {g: min(v for (_, gg), v in results.items() if gg == g) for g in (True, False)}
    grid = "3e-3 … 3e-2" if cfg.lr == 0 else f"{cfg.lr:g}"
    unscaled = "" if cfg.scaled_init else "; scaled_init=false: GPT-2's block initialised without 1/√N"
    ctx.measured(
        "best of the grid: GPT-2's block − GPT-1's (nats; negative: GPT-2's is better)",
        best[True] - best[False],
        f"{layers} layers, d = {cfg.d_model}, lr {grid}, no warm-up; reported, not asserted{unscaled}",
    )


def bench(ctx: RunContext) -> None:
    texts = synthetic_text(ctx.seed, 1000)
    bpe = ByteLevelBPE.train(texts, 1000)
    tokenizers = _hf_tokenizers()
    hf = hf_bpe(tokenizers, texts, 1000) if tokenizers is not None else None
    for i, lines in enumerate((100, 1000)):
        sample = texts[:lines]
        n_bytes = sum(len(t.encode("utf-8")) for t in sample)

        def ours(sample: list[str] = sample) -> None:
            bpe._cache.clear()  # cold: every piece goes through the merges again
            for t in sample:
                bpe.encode(t)

        shape = (lines, n_bytes)
        ctx.bench.measure(
            f"our BPE encode, {lines} lines (cold cache)",
            ours,
            baseline=i == 0,
            tokens=n_bytes,
            unit="bytes/s",
            shape=shape,
        )
        if hf is not None:
            ctx.bench.measure(
                f"tokenizers encode_batch, {lines} lines",
                partial(hf.encode_batch, sample),
                tokens=n_bytes,
                unit="bytes/s",
                shape=shape,
            )
    batch, n = (4, 64) if ctx.quick else (16, 128)
    tokens = torch.randint(0, 64, (batch, n), device=ctx.device)
    for pre_ln in (True, False):
        model = GPT(GPTConfig(64, n, 64, 4, 12, pre_ln=pre_ln, scaled_init=pre_ln)).to(ctx.device)
        params = list(model.parameters())

        def step(model: GPT = model, params: list[nn.Parameter] = params) -> None:
            torch.autograd.grad(model(tokens).logsumexp(-1).mean(), params)

        ctx.bench.measure(
            f"12-layer model forward + backward, {'pre-LN (GPT-2)' if pre_ln else 'post-LN (GPT-1)'}",
            step,
            baseline=not pre_ln,  # GPT-1's post-LN block: the pre-LN one's ratio is against it, not the BPE
            group="model",
            tokens=batch * n,
            shape=(batch, n, 64),
            dtype=torch.float32,
        )
