"""The tokenization family on one bench: every member a language model of the same text, seeds and compute.

check: the kit's BPE learns the merges of the textbook loop (integer tokenization's naive recount, digit
       runs kept and digits split) and decodes every chunk back, noised ones too; the digit-split BPE holds no
       token of two digits; the byte reader's ids are ByT5's (section 3.1) without its specials; the bench's
       MEGABYTE is eqs. 1-6 (the megabyte plugin's loop-and-built-in reference), forward; the FLOP formulas
       equal torch's counter for every member's model; a chunk's nats in a padded batch equal its nats alone;
       every reader finds the same bytes in number pieces; every member starts from the same weights for one
       seed.
train: lines of words and numbers (integer tokenization's corpus), cut into chunks of 64 bytes; each BPE
       learns its merges on the training lines only. The flat byte model trains ``steps`` Adam steps, every
       other member as many more as its forward FLOPs per byte are fewer (equal training compute, MEGABYTE's
       comparison), on batches drawn from one seeded stream, each at its best rate of a grid on validation
       text. Per member: held-out bits per byte, clean and on a copy noised by add/drop/mutate (ByT5's
       section 6), bits per byte of the numbers, tokens per byte, forward FLOPs per byte, steps, time per
       step, parameters, and the distinct splittings of the corpus's 4-digit numbers. Targets: each step's
       claim, in bits per byte or counted.
bench: a training step of each member on the same batch of chunks.
"""

from __future__ import annotations

import math
import random
import time
from collections import Counter
from dataclasses import dataclass
from functools import partial

import torch
from readtrack_plugins.byt5.model import EOS, OFFSET, add_drop_mutate, encode_bytes
from readtrack_plugins.integer_tokenization.experiment import naive_bpe_merges
from readtrack_plugins.integer_tokenization.model import number_text, splitting
from readtrack_plugins.megabyte.experiment import ReferenceStack, counted_flops, reference_megabyte
from readtrack_plugins.megabyte.model import Megabyte
from torch import nn

from readtrack.api import RunContext
from readtrack.plugin_kit import rates
from readtrack.plugin_kit.bpe import BPE

from .config import Config
from .model import (
    BPE_ARM,
    BYTES,
    DIGITS,
    MEGABYTE,
    MEMBERS,
    NAMES,
    PAD,
    Reader,
    forward_flops,
    network,
    parameters,
    token_nats,
)

CHUNK = 64  # bytes of text per sequence (the corpus is ASCII: a character is a byte)
MAX_LEN = 2 * CHUNK  # the longest noised chunk fits: add/drop/mutate at most doubles a chunk
WIDTH, LAYERS, HEADS = 32, 2, 4  # the flat decoder, and MEGABYTE's global model (P·D_G = WIDTH)
HELD_OUT = {True: 120, False: 600}  # lines of validation and of test text, quick and full
GRID = (1e-3, 3e-3, 1e-2)  # Adam's peak rates, the same grid for every member
#: The rate each member's grid picks at the quick budget on seeds 0-4
#: (`readtrack run tokenization-bench --quick --impl grid --seeds 0-4 --only train`): 1e-2, the grid's
#: highest, for the flat byte model and MEGABYTE on every seed, for BPE on four, for the digit-split BPE on
#: three (3e-3 on the other two, within 0.07 bits per byte).
QUICK_RATE = {BPE_ARM: 1e-2, BYTES: 1e-2, DIGITS: 1e-2, MEGABYTE: 1e-2}
WARMUP = 0.05  # of the steps: linear warm-up from 0, then cosine decay to 0, for every member
LN2 = math.log(2)


@dataclass
class Encoded:
    """Chunks of text as one reader's ids: ``ids`` (N, L) padded with PAD, ``lengths`` (N,), ``numeric``
    (N, L) the ids in number pieces, and the chunks' bytes, in all and in number pieces."""

    ids: torch.Tensor
    lengths: torch.Tensor
    numeric: torch.Tensor
    bytes: int
    number_bytes: int


def encode(reader: Reader, chunks: list[str], device: torch.device | str) -> Encoded:
    rows = [reader.ids(c) for c in chunks]
    ids = torch.full((len(rows), max(map(len, rows))), PAD, dtype=torch.long)
    numeric = torch.zeros_like(ids, dtype=torch.bool)
    for i, (row, chunk) in enumerate(zip(rows, chunks, strict=True)):
        ids[i, : len(row)] = torch.tensor(row)
        numeric[i, : len(row)] = torch.tensor(reader.numeric(chunk))
    number_bytes = sum(Reader(None).numeric(c).count(True) for c in chunks)
    lengths = torch.tensor([len(r) for r in rows])
    total = sum(len(c.encode("utf-8")) for c in chunks)
    return Encoded(ids.to(device), lengths.to(device), numeric.to(device), total, number_bytes)


def chunks(lines: list[str]) -> list[str]:
    """The lines as one text, cut into chunks of CHUNK bytes (the last, shorter one dropped)."""
    text = "\n".join(lines)
    return [text[i : i + CHUNK] for i in range(0, len(text) - CHUNK + 1, CHUNK)]


def readers(train_lines: list[str], merges: int) -> dict[str, Reader]:
    """Each member's reader; both BPEs learn ``merges`` merges (fewer once every piece is one token) from the
    training lines only."""
    bpe = BPE.train(train_lines, 256 + merges)
    digits = BPE.train(train_lines, 256 + merges, split_digits=True)
    return {BPE_ARM: Reader(bpe), BYTES: Reader(None), DIGITS: Reader(digits), MEGABYTE: Reader(None)}


def _network(cfg: Config, member: str, vocab: int, seed: int, device: torch.device | str) -> nn.Module:
    """``member``'s model at these knobs (read here, so a sweep knows which stage reads which knob)."""
    return network(
        member, vocab, seed, width=WIDTH, layers=LAYERS, heads=HEADS, patch=cfg.patch, max_len=MAX_LEN
    ).to(device)


def _flops(cfg: Config, member: str, vocab: int, tokens: int) -> int:
    return forward_flops(
        member, vocab, tokens, width=WIDTH, layers=LAYERS, heads=HEADS, patch=cfg.patch, max_len=MAX_LEN
    )


def _readers(cfg: Config, train_lines: list[str]) -> dict[str, Reader]:
    return readers(train_lines, cfg.merges)


# -- check ---------------------------------------------------------------------------------------------
def check(ctx: RunContext) -> None:
    cfg = Config()  # the bench's models at its defaults: no knob changes what is checked
    device, exact = ctx.device, ctx.exact_dtype
    lines = number_text(ctx.seed, 30)
    for split in (False, True):
        arm = NAMES[DIGITS] if split else NAMES[BPE_ARM]
        learnt = BPE.train(lines, 256 + 40, split_digits=split).merges
        naive = naive_bpe_merges(lines, 40, split)
        ctx.check_property(
            f"{arm}: the kit's BPE learns the textbook loop's merges (40, on 30 lines)",
            learnt == naive,
            f"{len(learnt)} merges against {len(naive)}",
        )
    found = _readers(cfg, number_text(ctx.seed, 150))
    text = chunks(number_text(ctx.seed + 2, 20))
    noised = [add_drop_mutate(c, random.Random(ctx.seed), 0.3) for c in text]
    for member in (BPE_ARM, DIGITS):
        bpe = found[member].bpe
        assert bpe is not None
        ctx.check_property(
            f"{NAMES[member]}: decode(encode(x)) == x for every chunk, clean and noised",
            all(bpe.decode(bpe.encode(c)) == c for c in text + noised),
            f"{len(text)} chunks of {CHUNK} bytes and their noised copies",
        )
    digit_bpe = found[DIGITS].bpe
    assert digit_bpe is not None
    held = [t for t in digit_bpe.vocab if sum(b in b"0123456789" for b in t) > 1]
    ctx.check_property(
        f"{NAMES[DIGITS]}: no token holds two digits (every digit its own piece)",
        not held,
        f"{len(held)} tokens with two digits or more",
    )
    for member in (BYTES, MEGABYTE):
        want = [[i - OFFSET for i in encode_bytes(c) if i != EOS] for c in text + noised]
        ctx.check_property(
            f"{NAMES[member]}: the ids are ByT5's byte ids (section 3.1), less its 3 specials and </s>",
            [found[member].ids(c) for c in text + noised] == want,
            "byte b is id b; the decoder's start vector stands where </s> and <pad> would",
        )
    counts = {m: encode(found[m], text, "cpu") for m in MEMBERS}
    numbers = {m: int(e.numeric.sum()) for m, e in counts.items()}
    bytes_in = {
        m: sum(len(found[m].token_bytes(i)) for i in e.ids[e.numeric].tolist()) for m, e in counts.items()
    }
    ctx.check_property(
        "every reader finds the same bytes in number pieces (its ids there hold exactly those bytes)",
        len(set(bytes_in.values())) == 1 and bytes_in[BYTES] == counts[BYTES].number_bytes,
        ", ".join(f"{NAMES[m]} {n} bytes in {numbers[m]} ids" for m, n in bytes_in.items()),
    )
    _check_models(ctx, cfg, found, text + noised, device, exact)


def _check_models(
    ctx: RunContext,
    cfg: Config,
    found: dict[str, Reader],
    text: list[str],
    device: torch.device | str,
    exact: torch.dtype,
) -> None:
    model = _network(cfg, MEGABYTE, found[MEGABYTE].vocab, ctx.seed, device).to(exact)
    assert isinstance(model, nn.Module)
    with torch.no_grad():
        for p in model.parameters():  # random values everywhere, so that no pad or gain hides a term
            p.normal_(0.0, 0.3 if p.dim() == 2 else 1.0)
    assert isinstance(model, Megabyte)
    stacks = (ReferenceStack(model.global_model), ReferenceStack(model.local_model))
    for T in (13, CHUNK):
        x = encode(found[MEGABYTE], [c[:T] for c in text[:3]], device).ids
        with torch.no_grad():
            ctx.check_close(
                f"{NAMES[MEGABYTE]}: the bench's model (P = {cfg.patch}, 256 byte values) vs eqs. 1-6 with "
                f"loops and built-in layers, T = {T}",
                model(x),
                reference_megabyte(model, stacks, x),
            )
    for member in MEMBERS:
        reader = found[member]
        batch = encode(reader, [text[0], text[-1], text[1], text[-2]], device)  # clean and noised lengths
        net = _network(cfg, member, reader.vocab, ctx.seed, device)
        ctx.check_close(
            f"{NAMES[member]}: forward FLOPs, formula vs FlopCounterMode, {int(batch.lengths[0])} ids",
            float(_flops(cfg, member, reader.vocab, int(batch.lengths[0]))),
            float(counted_flops(net, batch.ids[:1, : int(batch.lengths[0])])),
            atol=0.0,
            rtol=0.0,
        )
        net = net.to(exact)
        with torch.no_grad():
            padded = token_nats(net, batch.ids, batch.lengths).sum(dim=1)
            alone = torch.stack(
                [token_nats(net, batch.ids[i : i + 1, :n], batch.lengths[i : i + 1]).sum() for i, n in
                 enumerate(batch.lengths.tolist())]
            )  # fmt: skip
        ctx.check_close(f"{NAMES[member]}: a chunk's nats in a padded batch = alone", padded, alone)
        twin = _network(cfg, member, reader.vocab, ctx.seed, device)
        again = _network(cfg, member, reader.vocab, ctx.seed, device)
        same = all(torch.equal(a, b) for a, b in zip(twin.parameters(), again.parameters(), strict=True))
        ctx.check_property(f"{NAMES[member]}: the same weights for one seed", same, "two models of one seed")


# -- train ---------------------------------------------------------------------------------------------
Fit = tuple[nn.Module, float]  # the trained model, seconds per step


def _fit(ctx: RunContext, cfg: Config, member: str, data: Encoded, vocab: int, lr: float, steps: int) -> Fit:
    """``member`` trained ``steps`` Adam steps at peak rate ``lr`` (warm-up, cosine decay) on batches of
    ``cfg.batch`` chunks drawn from the run's seed: step i reads the same chunks for every member."""
    model = _network(cfg, member, vocab, ctx.seed, ctx.device)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        opt, partial(rates.warmup_cosine, steps=steps, warmup=WARMUP)
    )
    g = torch.Generator().manual_seed(ctx.seed)
    started = time.perf_counter()
    for step in range(steps):
        idx = torch.randint(0, len(data.lengths), (cfg.batch,), generator=g).to(ctx.device)
        lengths = data.lengths[idx]
        x = data.ids[idx, : int(lengths.max())]  # (batch, the batch's longest)
        loss = token_nats(model, x, lengths).sum() / lengths.sum()  # nats per token
        opt.zero_grad()
        loss.backward()
        opt.step()
        schedule.step()
        if step % 20 == 0:
            ctx.metric(f"training nats per token: {NAMES[member]}, lr {lr:g}", step, loss.item())
    return model, (time.perf_counter() - started) / steps


@torch.no_grad()
def bits(model: nn.Module, data: Encoded) -> tuple[float, float]:
    """Bits per byte of ``data``'s chunks, in all and in the number pieces."""
    nats = numbers = 0.0
    for i in range(0, len(data.lengths), 128):
        lengths = data.lengths[i : i + 128]
        x = data.ids[i : i + 128, : int(lengths.max())]
        per_token = token_nats(model, x, lengths)  # (B, N), 0 past each row's end
        nats += per_token.sum().item()
        numbers += per_token[data.numeric[i : i + 128, : x.shape[1]]].sum().item()
    return nats / LN2 / data.bytes, numbers / LN2 / max(1, data.number_bytes)


def train(ctx: RunContext) -> None:
    cfg = ctx.config(Config)
    train_lines = number_text(ctx.seed, cfg.lines)
    held = HELD_OUT[ctx.quick]
    text = {
        "train": chunks(train_lines),
        "validation": chunks(number_text(ctx.seed + 1, held)),
        "test": chunks(number_text(ctx.seed + 2, held)),
    }
    noise = random.Random(ctx.seed + 3)
    text["noised"] = [add_drop_mutate(c, noise, cfg.noise) for c in text["test"]]
    found = _readers(cfg, train_lines)
    fours = sorted({int(w) for line in train_lines for w in line.split() if w.isdigit() and len(w) == 4})
    per_byte: dict[str, float] = {}  # forward FLOPs per byte of training text
    for member, reader in found.items():
        data = encode(reader, text["train"], "cpu")
        sizes = Counter(data.lengths.tolist())
        per_byte[member] = (
            sum(n * _flops(cfg, member, reader.vocab, t) for t, n in sizes.items()) / data.bytes
        )
    # Equal training compute (MEGABYTE's table 2): the flat byte model's steps, and for every other member as
    # many more as its FLOPs per byte are fewer; the members read the same chunks, step for step.
    steps = {m: max(1, round(cfg.steps * per_byte[BYTES] / per_byte[m])) for m in MEMBERS}
    torch.optim.Adam([torch.zeros(1, requires_grad=True)])  # torch._dynamo's import, out of every timing
    scores: dict[str, dict[str, float]] = {}
    for done, member in enumerate(MEMBERS):
        reader = found[member]
        sets = {k: encode(reader, v, ctx.device) for k, v in text.items()}
        grid = (cfg.lr,) if cfg.lr else rates.rates(ctx, GRID, QUICK_RATE[member])
        tried = {lr: _fit(ctx, cfg, member, sets["train"], reader.vocab, lr, steps[member]) for lr in grid}
        validation = {lr: bits(model, sets["validation"])[0] for lr, (model, _) in tried.items()}
        best = min(grid, key=lambda lr: (validation[lr] != validation[lr], validation[lr]))  # NaN last
        model, per_step = tried[best]
        clean, numbers = bits(model, sets["test"])
        noised = bits(model, sets["noised"])[0]
        split = (
            Counter(splitting(reader.bpe, n) for n in fours)
            if reader.bpe
            else Counter({(1,) * 4: len(fours)})
        )
        picked = f"{NAMES[member]}, {rates.choice(validation)}"
        ctx.measured(f"{member}: held-out bits per byte", clean, f"{steps[member]} steps; {picked}")
        ctx.measured(
            f"{member}: bits per byte, noised held-out text",
            noised,
            f"add/drop/mutate at {cfg.noise:g} per character (ByT5 section 6), test text only",
        )
        ctx.measured(
            f"{member}: noise's cost (bits per byte)", noised - clean, "noised held-out text's − the clean's"
        )
        ctx.measured(
            f"{member}: bits per number byte",
            numbers,
            f"the ids in number pieces (' 1987', its space included): {sets['test'].number_bytes} of "
            f"{sets['test'].bytes} held-out bytes",
        )
        positions = int(sets["test"].lengths.sum()) / (cfg.patch if member == MEGABYTE else 1)
        scores[member] = {
            "clean": clean,
            "noised": noised,
            "numbers": numbers,
            "ways": len(split),
            "positions": positions / sets["test"].bytes,
        }
        ctx.measured(
            f"{member}: sequence positions per byte",
            positions / sets["test"].bytes,
            "counted on the held-out text: tokens per byte; MEGABYTE: its global model's patches per byte",
        )
        ctx.measured(
            f"{member}: forward kFLOPs per byte",
            per_byte[member] / 1000,
            "the megabyte plugin's formulas (torch's counter in the check), on the training chunks",
        )
        ctx.measured(
            f"{member}: training steps", steps[member], f"equal compute: the flat byte model's {cfg.steps}"
        )
        ctx.measured(f"{member}: ms per step", 1000 * per_step, "wall time of a training step, noisy")
        ctx.measured(
            f"{member}: parameters (thousands)", parameters(model) / 1000, f"vocabulary {reader.vocab}"
        )
        shown = ", ".join(f"{'|'.join(map(str, k))}: {v}" for k, v in split.most_common(4))
        ctx.measured(
            f"{member}: distinct splittings of the corpus's 4-digit numbers",
            len(split),
            f"token lengths of the {len(fours)} distinct 4-digit numbers of the training text: {shown}",
        )
        ctx.progress(done + 1, len(MEMBERS))
    _targets(ctx, cfg, scores, steps)


def _targets(ctx: RunContext, cfg: Config, s: dict[str, dict[str, float]], steps: dict[str, int]) -> None:
    budget = f"equal training compute: {', '.join(f'{NAMES[m]} {n}' for m, n in steps.items())} steps"
    cost = {m: s[m]["noised"] - s[m]["clean"] for m in MEMBERS}
    # What each run can assert (calibrated over seeds): the counts in both; the losses in the full run only,
    # where every member has learnt the words (quick: the flat byte model's 30 steps leave it at the bytes'
    # frequencies, so it has little for noise to spoil and MEGABYTE's lead over it varies from seed to seed).
    ctx.target(
        f"{BYTES}: noise's cost per byte, BPE's − bytes' (bits)",
        cost[BPE_ARM] - cost[BYTES],
        0.0,
        detail=f"add/drop/mutate {cfg.noise:g}: BPE {cost[BPE_ARM]:+.3f}, bytes {cost[BYTES]:+.3f} bits/byte",
        asserted=not ctx.quick,
    )
    ctx.measured(
        f"{MEGABYTE}: noise's cost per byte, BPE's − MEGABYTE's (bits)",
        cost[BPE_ARM] - cost[MEGABYTE],
        f"a byte model trained as far as BPE on clean text: MEGABYTE {cost[MEGABYTE]:+.3f} bits/byte",
    )
    ctx.target(
        f"{BYTES}: held-out bits per byte, bytes' − BPE's",
        s[BYTES]["clean"] - s[BPE_ARM]["clean"],
        0.1,
        higher_is_better=False,
        detail=f"{budget}; bytes {s[BYTES]['clean']:.3f}, BPE {s[BPE_ARM]['clean']:.3f}",
        asserted=False,
    )
    ctx.target(
        f"{BPE_ARM}: tokens per byte of the held-out text (bytes: 1)",
        s[BPE_ARM]["positions"],
        1.0,
        higher_is_better=False,
        detail=f"counted: shorter than the bytes' sequence (digits split: {s[DIGITS]['positions']:.3f})",
    )
    ctx.target(
        f"{DIGITS}: distinct splittings of the corpus's 4-digit numbers, BPE",
        s[BPE_ARM]["ways"],
        2,
        detail="the learnt BPE cuts them in several ways; digits split, one",
    )
    ctx.target(
        f"{DIGITS}: distinct splittings of the corpus's 4-digit numbers, digits split",
        s[DIGITS]["ways"],
        1,
        higher_is_better=False,
        detail="every digit its own token: 1|1|1|1",
    )
    ctx.target(
        f"{DIGITS}: bits per number byte, BPE's − digits split's",
        s[BPE_ARM]["numbers"] - s[DIGITS]["numbers"],
        0.0,
        detail=f"{budget}; BPE {s[BPE_ARM]['numbers']:.3f}, digits split {s[DIGITS]['numbers']:.3f}",
        asserted=False,
    )
    ctx.target(
        f"{MEGABYTE}: held-out bits per byte, MEGABYTE's − the flat byte model's",
        s[MEGABYTE]["clean"] - s[BYTES]["clean"],
        0.0,
        higher_is_better=False,
        detail=f"{budget}; P = {cfg.patch}; MEGABYTE {s[MEGABYTE]['clean']:.3f}, bytes "
        f"{s[BYTES]['clean']:.3f} bits per byte",
        asserted=not ctx.quick,
    )


# -- bench ---------------------------------------------------------------------------------------------
def bench(ctx: RunContext) -> None:
    cfg = Config()  # a step's time, at the bench's defaults: no knob changes what it times
    lines = number_text(ctx.seed, 150)
    found = _readers(cfg, lines)
    text = chunks(lines)[: cfg.batch]
    for i, member in enumerate(MEMBERS):
        reader = found[member]
        data = encode(reader, text, ctx.device)
        model = _network(cfg, member, reader.vocab, ctx.seed, ctx.device)
        params = list(model.parameters())

        def step(model: nn.Module = model, params: list[nn.Parameter] = params, data: Encoded = data) -> None:
            torch.autograd.grad(token_nats(model, data.ids, data.lengths).sum(), params)

        flops = sum(_flops(cfg, member, reader.vocab, n) for n in data.lengths.tolist())
        ctx.bench.measure(
            f"{NAMES[member]}, forward+backward, {len(text)} chunks of {CHUNK} bytes",
            step,
            baseline=i == 0,
            flops=3 * flops,
            flop_formula="3 × forward matmul FLOPs (the megabyte plugin's formulas)",
            tokens=len(text) * CHUNK,
            unit="bytes/s",
            shape=tuple(data.ids.shape),
            dtype=torch.float32,
        )
