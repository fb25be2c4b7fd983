"""Fuyu at toy scale: patches projected linearly into a decoder, row-end tokens, and questions about images
of sizes never seen in training.

check: the patch projection equals ``nn.Conv2d(kernel = stride = p)`` with the weights copied (forward and
       gradients, float64 then float32, square and oblong images, 1 and 3 channels); the image sequence
       (patches in raster order, a row-end after each row) equals one built patch by patch in a Python loop,
       with and without row-ends; the decoder is causal over the whole image-and-question sequence
       (Jacobian) and equals the formulas written out here (LayerNorm, GELU, rotary as a complex turn,
       masked softmax per head), forward and gradients, float64 and float32; the whole model (image,
       question, answer read at the last token) equals those parts put together; an image of any multiple
       of p is accepted and one that is not is refused.
train: full run: scenes of 1 to 3 shapes (square outline, disc, plus, triangle) in a grid of 8-pixel cells
       (2 × 2 patches), and three questions: how many shapes, is there a disc, which shape is in the
       top-right cell (or none). Trained on every height and width in {16, 24, 32} (nine sizes, so a
       sequence's length does not give its width: 16×32 and 32×16 are as long), tested on new images of
       three of them and of five sizes never seen (20×20, 28×28, 20×32, 32×28, and 40×40, longer than any
       training sequence). The same decoder, same seed and batches: with row-end tokens (Fuyu) against
       without (the rows run into each other), each at its own best learning rate of one grid, picked on
       validation images at the training sizes (never on the unseen-size tests the claim reports).
       Quick run: the question row-ends exist for, alone: noise with one bright patch, "does it end its
       row?", trained 200 steps on heights and widths in {8, 12, 16, 24} and tested at the same five unseen
       sizes, with against without row-ends, each at the grid's quick choice, with gradients clipped to
       norm 1 and β2 = 0.99 (``QUICK_CLIP``, ``QUICK_BETAS``). The full run then runs that same row-end
       A/B on a longer schedule (400 steps, 400 questions at each unseen size): the paper's headline
       comparison it asserts (with minus without ≥ 0.25), each arm at its quick rate.
bench: forward + backward of the model for growing image sizes (the sequence grows with the area), with and
       without row-ends.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import torch
import torch.nn.functional as F
from torch import nn

from readtrack.api import RunContext, dtype_name
from readtrack.plugin_kit import rates
from readtrack.plugin_kit.checks import check_causal
from readtrack.plugin_kit.images import SHAPES, shape_masks

from .config import Config
from .model import Block, Fuyu, patchify

# Vocabulary: four questions, then the answers.
Q_COUNT, Q_DISC, Q_TOP_RIGHT, Q_ROW_END = 0, 1, 2, 3
ONE, YES, NO, FIRST_SHAPE = 4, 7, 8, 9  # "1" "2" "3", "yes", "no", the four shapes, then "none"
NONE = FIRST_SHAPE + len(SHAPES)
VOCAB = NONE + 1
QUESTIONS = {  # the full run's three questions
    Q_COUNT: "how many shapes",
    Q_DISC: "is there a disc",
    Q_TOP_RIGHT: "shape in the top-right cell",
}
ROW_END_QUESTION = "does the bright patch end its row"  # the quick run's question (Q_ROW_END)
PATCH, CELL, D_MODEL, HEADS, LAYERS = 4, 8, 64, 4, 2
TRAIN_SIZES = [(h, w) for h in (16, 24, 32) for w in (16, 24, 32)]  # every height with every width
TEST_SIZES = [(20, 20), (28, 28), (20, 32), (32, 28), (40, 40)]  # never seen; 40 is longer than any
ARM_LABEL = {True: "with row-ends (Fuyu)", False: "without row-ends"}


# -- check ------------------------------------------------------------------------------------------------
def layout_by_loop(model: Fuyu, images: torch.Tensor) -> torch.Tensor:
    """The image sequence built one patch at a time: for each row r, for each column c, the projection of
    images[:, :, rp:(r+1)p, cp:(c+1)p] flattened, then the row-end."""
    B, C, H, W = images.shape
    p, tokens = model.patch, []
    for r in range(H // p):
        for c in range(W // p):
            patch = images[:, :, r * p : (r + 1) * p, c * p : (c + 1) * p].reshape(B, C * p * p)
            tokens.append(model.patch_proj(patch))
        if model.row_ends:
            tokens.append(model.row_end.expand(B, -1))
    return torch.stack(tokens, dim=1)


def _layer_norm(x: torch.Tensor, ln: nn.LayerNorm) -> torch.Tensor:
    mu = x.mean(-1, keepdim=True)
    var = ((x - mu) ** 2).mean(-1, keepdim=True)  # biased, as LayerNorm's
    return (x - mu) / torch.sqrt(var + ln.eps) * ln.weight + ln.bias


def decoder_by_formula(model: Fuyu, x: torch.Tensor) -> torch.Tensor:
    """The decoder written out without ``model.py``'s functions: LayerNorm and GELU from their formulas,
    rotary positions as complex multiplication by e^(i·n·θ_j) with θ_j = 10000^(−2j/d_head) written here,
    attention as an explicit softmax under a lower-triangular mask, one head at a time."""
    N = x.shape[1]
    keep = torch.ones(N, N, dtype=torch.bool, device=x.device).tril()  # (N, N): j ≤ i
    for block in model.blocks:
        assert isinstance(block, Block)
        a = _layer_norm(x, block.ln1)
        H = block.attn.n_heads
        d = x.shape[-1] // H
        W, b = block.attn.qkv.weight, block.attn.qkv.bias  # (3D, D): [W_q; W_k; W_v]
        D = x.shape[-1]
        heads = []
        for h in range(H):
            q, k, v = (
                a @ W[i * D + h * d : i * D + (h + 1) * d].T + b[i * D + h * d : i * D + (h + 1) * d]
                for i in range(3)
            )
            j = torch.arange(d // 2, dtype=torch.float64, device=x.device)
            n = torch.arange(N, dtype=torch.float64, device=x.device)
            turn = torch.polar(
                torch.ones(N, d // 2, dtype=torch.float64, device=x.device),
                n[:, None] / 10000.0 ** (2 * j / d),
            )
            q, k = (
                torch.view_as_real(
                    torch.view_as_complex(t.double().reshape(*t.shape[:-1], d // 2, 2).contiguous()) * turn
                )
                .flatten(-2)
                .to(x.dtype)
                for t in (q, k)
            )
            scores = (q @ k.transpose(-1, -2)) / d**0.5  # (B, N, N)
            heads.append(scores.masked_fill(~keep, float("-inf")).softmax(-1) @ v)  # (B, N, d)
        x = x + block.attn.proj(torch.cat(heads, dim=-1))
        m = _layer_norm(x, block.ln2) @ block.fc.weight.T + block.fc.bias
        m = 0.5 * m * (1 + torch.erf(m / 2**0.5))  # GELU
        x = x + m @ block.out.weight.T + block.out.bias
    return _layer_norm(x, model.ln_f)


def check(ctx: RunContext) -> None:
    for dtype in ctx.check_dtypes:
        name = dtype_name(dtype)
        for C, p, H, W in ((1, 4, 4, 4), (1, 4, 16, 24), (3, 2, 6, 10), (3, 4, 20, 8)):
            linear = nn.Linear(C * p * p, 8).to(ctx.device, dtype)
            conv = nn.Conv2d(C, 8, p, stride=p).to(ctx.device, dtype)
            assert conv.bias is not None
            with torch.no_grad():  # the same map: the conv kernel is the linear weight, (C, p, p) per output
                conv.weight.copy_(linear.weight.view(8, C, p, p)), conv.bias.copy_(linear.bias)
            x = torch.randn(2, C, H, W, dtype=dtype, device=ctx.device)

            def ours(x: torch.Tensor, linear: nn.Linear = linear, p: int = p) -> torch.Tensor:
                return linear(patchify(x, p))  # (B, h, w, 8)

            def reference(x: torch.Tensor, conv: nn.Conv2d = conv) -> torch.Tensor:
                return conv(x).permute(0, 2, 3, 1)  # (B, 8, h, w) → (B, h, w, 8)

            out, grads = ctx.value_and_grads(ours, x, params=[linear.weight, linear.bias])
            ref, ref_grads = ctx.value_and_grads(reference, x, params=[conv.weight, conv.bias])
            shape = f"{C}×{H}×{W}, p = {p} ({name})"
            ctx.check_close(f"patch projection vs strided Conv2d, {shape}", out, ref)
            # the kernel (8, C, p, p) flattens as the linear weight (8, C·p·p): the gradients line up
            ctx.check_close(
                f"patch projection gradients (image, W, b) vs Conv2d's, {shape}", grads, ref_grads
            )
    for row_ends in (True, False):
        model = Fuyu(VOCAB, row_ends=row_ends).to(ctx.device, ctx.exact_dtype)
        for H, W in ((4, 4), (16, 16), (20, 12), (8, 32)):
            images = torch.randn(2, 1, H, W, dtype=ctx.exact_dtype, device=ctx.device)
            with torch.no_grad():
                ctx.check_close(
                    f"image sequence vs a patch-by-patch loop, {H}×{W}, row-ends {['off', 'on'][row_ends]}",
                    model.image_tokens(images),
                    layout_by_loop(model, images),
                )
    model = Fuyu(VOCAB).to(ctx.device, ctx.exact_dtype)
    images = torch.randn(1, 1, 12, 8, dtype=ctx.exact_dtype, device=ctx.device)
    question = torch.tensor([[Q_COUNT]], device=ctx.device)
    sequence = torch.cat([model.image_tokens(images), model.embed(question)], dim=1)  # (1, 3·3 + 1, d)
    check_causal(
        ctx, "the decoder over image patches, row-ends and question", model.decode, sequence.detach()
    )
    for dtype in ctx.check_dtypes:
        decoder = Fuyu(VOCAB, d=32, n_heads=4, layers=2).to(ctx.device, dtype)
        with torch.no_grad():  # random values everywhere, so that no gain of 1 or bias of 0 hides a bug
            for weight in decoder.parameters():
                weight.normal_(0, 0.3)
        for N in (1, 7, 26):
            x = torch.randn(2, N, 32, dtype=dtype, device=ctx.device)
            params = list(decoder.blocks.parameters()) + list(decoder.ln_f.parameters())
            out, grads = ctx.value_and_grads(decoder.decode, x, params=params)
            ref, ref_grads = ctx.value_and_grads(partial(decoder_by_formula, decoder), x, params=params)
            label = f"decoder vs the formulas written out, N = {N} ({dtype_name(dtype)})"
            ctx.check_close(label, out, ref)
            ctx.check_close(f"gradients (input, weights): {label}", grads, ref_grads)
        images = torch.randn(2, 1, 12, 8, dtype=dtype, device=ctx.device)
        asked = torch.tensor([[Q_COUNT], [Q_ROW_END]], device=ctx.device)
        with torch.no_grad():  # patches and row-ends, then the question's embedding; the answer at its end
            hidden = decoder_by_formula(
                decoder, torch.cat([layout_by_loop(decoder, images), decoder.embed.weight[asked]], 1)
            )
            ctx.check_close(
                f"whole model (image, question, answer read at the last token) vs the parts written out "
                f"({dtype_name(dtype)})",
                decoder(images, asked),
                hidden[:, -1] @ decoder.head.weight.T + decoder.head.bias,
            )
    for H, W in ((10, 8), (8, 10)):
        try:
            model(torch.zeros(1, 1, H, W, dtype=ctx.exact_dtype, device=ctx.device), question)
            raised = "nothing"
        except NotImplementedError:  # the stub, reported as such
            raise
        except ValueError:
            raised = "ValueError"
        except Exception as err:  # the learner's code: a failure to report, not a crash of the check
            raised = type(err).__name__
        ctx.check_property(
            f"an image that is not a whole number of patches is refused with ValueError ({H}×{W}, p = 4)",
            raised == "ValueError",
            f"raised {raised}",
        )

    # image_tokens cuts patches of the model's own size self.patch (2 here), of an image of 3 channels
    model = Fuyu(VOCAB, channels=3, patch=2).to(ctx.device, ctx.exact_dtype)
    images = torch.randn(2, 3, 8, 12, dtype=ctx.exact_dtype, device=ctx.device)
    what = "image sequence vs a patch-by-patch loop, 3×8×12, p = 2 (self.patch), row-ends on"
    with torch.no_grad():
        try:
            tokens = model.image_tokens(images)
        except NotImplementedError:  # the stub, reported as such
            raise
        except (RuntimeError, ValueError) as err:  # patches of another size: the projection refuses them
            ctx.check_property(what, False, f"{type(err).__name__}: {err}")
        else:
            ctx.check_close(what, tokens, layout_by_loop(model, images))


# -- the task -----------------------------------------------------------------------------------------------
def grid_scenes(
    n: int, size: tuple[int, int], g: torch.Generator, device: str, noise: float = 0.1
) -> tuple[torch.Tensor, torch.Tensor]:
    """(images (n, 1, H, W), cell classes (n, H // 8, W // 8)) for size (H, W): a grid of 8-pixel cells in
    the top-right corner (a side of 20 keeps a 4-pixel margin on the left or at the bottom), so that a cell
    is 2 × 2 patches at every size; 1 to 3 cells hold a shape (radius 2 or 3, wholly inside its cell) drawn
    with ``images.shape_masks``. The top-right cell is filled in half of the images at every size, so
    "none" is right half the time. Cell classes are −1 when empty, else the index in ``SHAPES``."""
    (H, W), kh, kw = size, size[0] // CELL, size[1] // CELL
    count = torch.randint(1, 4, (n,), generator=g)  # (n,)
    rank = torch.rand(n, kh * kw, generator=g)
    rank[:, kw - 1] = torch.where(torch.rand(n, generator=g) < 0.5, -1.0, 2.0)  # top-right cell first or last
    order = rank.argsort(dim=1)  # (n, kh·kw): cells in the order they are filled
    used = torch.arange(kh * kw).expand(n, -1) < count[:, None]  # the first `count` of the order
    where = order[used]  # (objects,): the cells that hold a shape
    image_of = torch.arange(n).repeat_interleave(count)  # (objects,)
    labels = torch.randint(0, len(SHAPES), (len(where),), generator=g)
    r = torch.randint(2, 4, (len(where),), generator=g)
    cy = (where // kw) * CELL + r + (torch.rand(len(where), generator=g) * (CELL - 2 * r)).long()
    cx = (
        W
        - kw * CELL
        + (where % kw) * CELL
        + r
        + (torch.rand(len(where), generator=g) * (CELL - 2 * r)).long()
    )
    images = torch.zeros(n, H, W)
    images.index_put_((image_of,), shape_masks(labels, cy, cx, r, H, W).float(), accumulate=True)
    cells = torch.full((n, kh * kw), -1, dtype=torch.long)
    cells[image_of, where] = labels
    images = images + noise * torch.randn(images.shape, generator=g)
    return images.unsqueeze(1).to(device), cells.view(n, kh, kw).to(device)


def answers(cells: torch.Tensor) -> dict[int, torch.Tensor]:
    """The right answer token for each question, (n,) each."""
    flat = cells.flatten(1)
    top_right = cells[:, 0, -1]
    return {
        Q_COUNT: ONE + (flat >= 0).sum(1) - 1,
        Q_DISC: torch.where((flat == SHAPES.index("disc")).any(1), YES, NO),
        Q_TOP_RIGHT: torch.where(top_right >= 0, FIRST_SHAPE + top_right, NONE),
    }


def qa_batch(
    n: int, size: tuple[int, int], g: torch.Generator, device: str, noise: float = 0.1
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(images, questions (n, 1), answers (n,)): each image with one question drawn uniformly."""
    images, cells = grid_scenes(n, size, g, device, noise)
    q = torch.randint(0, len(QUESTIONS), (n,), generator=g).to(device)
    right = torch.stack([answers(cells)[i] for i in range(len(QUESTIONS))], dim=1)  # (n, 3)
    return images, q[:, None], right.gather(1, q[:, None]).squeeze(1)


Batch = tuple[torch.Tensor, torch.Tensor, torch.Tensor]  # images (n, 1, H, W), questions (n, 1), answers (n,)


def row_end_batch(
    n: int, size: tuple[int, int], g: torch.Generator, device: str, noise: float = 0.1
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The quick run's task, (images, questions (n, 1), answers (n,)): noise with one bright p × p patch, in
    a random row, in the last column of patches half the time (else in a random other column); the question
    is always whether the bright patch ends its row ("yes" / "no"). Where a row ends is all it asks."""
    H, W = size
    h, w = H // PATCH, W // PATCH
    last = torch.rand(n, generator=g) < 0.5  # (n,)
    row = torch.randint(0, h, (n,), generator=g)
    col = torch.where(last, w - 1, (torch.rand(n, generator=g) * (w - 1)).long())  # (n,)
    in_row = torch.arange(H) // PATCH == row[:, None]  # (n, H)
    in_col = torch.arange(W) // PATCH == col[:, None]  # (n, W)
    images = (in_row[:, :, None] & in_col[:, None, :]).float() + noise * torch.randn(n, H, W, generator=g)
    return (
        images.unsqueeze(1).to(device),
        torch.full((n, 1), Q_ROW_END, device=device),
        torch.where(last, YES, NO).to(device),
    )


# AdamW (no decay) learning rates: each variant trains every rate and keeps the best on validation (new
# images at the training sizes). Two rates, not three, to keep the full run near 2 minutes a seed: 3e-3 was
# dropped for both variants alike, as the worst of the three for both in an earlier seed-0 full run.
GRID = (3e-4, 1e-3)
# The quick run trains only the rate this grid picks for each variant at the quick budget on seeds 0-4
# (validation accuracy, mean of seeds 0-4, at 200 steps on the sixteen sizes with the quick optimiser below):
# with row-ends 0.998 at 3e-4, 1.000 at 1e-3 (every seed 1.000 at 1e-3; validation loss 0.028 against 0.0018);
# without 0.705, 0.776 (1e-3 the better on every seed). Run the whole grid with --impl grid --quick.
QUICK_LR = {True: 1e-3, False: 1e-3}
SEEN_SIZES = [(16, 16), (24, 24), (32, 16)]  # a few of the training sizes, tested on new images (full run)
# The quick run's training sizes: 2, 3, 4 or 6 patches a side, so that most lengths fit several widths (12
# patches: 2×6, 3×4, 4×3, 6×2) and a length cannot stand in for the row-ends. Trained on 2, 4 or 6 patches a
# side (the quick run up to issue 42), a model with row-ends too often learnt the lengths' widths instead and
# stayed near chance at the unseen sizes (6 of seeds 0-19, at 100 steps; still at 300 steps on seed 12).
QUICK_SIZES = [(h, w) for h in (8, 12, 16, 24) for w in (8, 12, 16, 24)]
QUICK_STEPS, QUICK_TARGET, QUICK_GAIN = 200, 0.75, 0.25
# The quick run's optimiser is better conditioned than the full run's (issue 42): gradients clipped to norm 1
# and Adam's second moment averaged over ~100 steps (beta2 0.99), not ~1000. With the full run's AdamW
# (0.9, 0.999), unclipped, the model with row-ends found the row-end circuit late on some seeds (seed 11 was
# still at 0.88 on validation after 200 steps, 0.94 after 300); clipped, it had it by step 100 there.
QUICK_CLIP, QUICK_BETAS = 1.0, (0.9, 0.99)


def fit(
    ctx: RunContext,
    cfg: Config,
    row_ends: bool,
    lr: float,
    steps: int,
    task: Callable[[int, tuple[int, int], torch.Generator, str], Batch],
    sizes: list[tuple[int, int]],
    conditioned: bool,
    prefix: str = "",
) -> Fuyu:
    """The model trained from the run's seed on ``steps`` batches of ``task``, one size after the other,
    the same batches for every variant and rate; ``conditioned``: the quick run's optimiser (clipped, β2
    0.99), else AdamW's defaults. The arm "with row-ends" has them only while the knob ``row_ends`` is on."""
    label = "with row-ends (Fuyu)" if row_ends else "without row-ends"
    torch.manual_seed(ctx.seed)
    model = Fuyu(
        VOCAB, d=cfg.d_model, n_heads=HEADS, layers=cfg.layers, row_ends=row_ends and cfg.row_ends
    ).to(ctx.device)
    betas = QUICK_BETAS if conditioned else (0.9, 0.999)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, betas=betas, weight_decay=0.0)
    g = torch.Generator().manual_seed(ctx.seed)
    for step in range(steps):
        images, q, a = task(cfg.batch, sizes[step % len(sizes)], g, ctx.device)
        loss = F.cross_entropy(model(images, q), a)
        opt.zero_grad()
        loss.backward()
        if conditioned:
            nn.utils.clip_grad_norm_(model.parameters(), QUICK_CLIP)
        opt.step()
        if step % 20 == 0:
            ctx.metric(f"{prefix}train loss, {label}, lr {lr:g}", step, loss.item())
    return model


def right_or_wrong(model: Fuyu, data: Batch) -> torch.Tensor:
    """(n,) bool: which questions the model answers right."""
    images, q, a = data
    with torch.no_grad():
        return model(images, q).argmax(-1) == a


def compare(
    ctx: RunContext,
    cfg: Config,
    task: Callable[[int, tuple[int, int], torch.Generator, str], Batch],
    questions: dict[int, str],
    sizes: list[tuple[int, int]],
    seen_sizes: list[tuple[int, int]],
    steps: int,
    n_val: int,
    n_test: int,
    conditioned: bool,
    prefix: str = "",
    grid: bool = True,
) -> tuple[dict[bool, torch.Tensor], torch.Tensor]:
    """The A/B on ``task``: the same decoder, seed and batches, with row-ends against without, each at its
    rate (``lr``, or its best of ``GRID`` on validation: the quick run's ``QUICK_LR``), tested on new images.
    Returns right or wrong at the unseen sizes for each arm and which question each was."""

    def new_data(n: int, size: tuple[int, int], offset: int) -> Batch:
        g = torch.Generator().manual_seed(ctx.seed + offset + 100 * size[0] + size[1])
        return task(n, size, g, ctx.device)

    # Validation picks each variant's rate: new images at the training sizes, from generators of their own;
    # the tests (what the claim reports) are other new images, mostly at sizes never trained on.
    validation = {size: new_data(n_val, size, 10_000) for size in sizes}
    tests = {size: new_data(n_test, size, 0) for size in seen_sizes + TEST_SIZES}
    unseen: dict[bool, torch.Tensor] = {}  # right or wrong, every question at every unseen size
    question = torch.zeros(0)
    for row_ends in (True, False):
        label = "with row-ends (Fuyu)" if row_ends else "without row-ends"
        lrs = (
            (cfg.lr,)
            if cfg.lr
            else rates.rates(ctx, GRID, QUICK_LR[row_ends])
            if grid
            else (QUICK_LR[row_ends],)
        )
        runs, val_acc = {}, {}
        for lr in lrs:
            runs[lr] = model = fit(ctx, cfg, row_ends, lr, steps, task, sizes, conditioned, prefix)
            right = torch.cat([right_or_wrong(model, data) for data in validation.values()])
            val_acc[lr] = right.double().mean().item()
            ctx.progress(len(unseen) * len(lrs) + len(runs), 2 * len(lrs))
        model = runs[rates.best(val_acc, higher_is_better=True)]
        ctx.measured(
            f"{prefix}validation accuracy (new images at the training sizes), {label}",
            max(val_acc.values()),
            rates.choice(val_acc, ".3f", higher_is_better=True),
        )
        rights, asked = [], []
        for (H, W), data in tests.items():
            right, q = right_or_wrong(model, data), data[1][:, 0]
            per_q = ", ".join(f"{questions[i]} {right[q == i].double().mean().item():.2f}" for i in questions)
            seen = "seen" if (H, W) in sizes else "unseen"
            ctx.measured(
                f"{prefix}accuracy at {H}×{W} ({seen}), {label}", right.double().mean().item(), per_q
            )
            if seen == "unseen":
                rights.append(right)
                asked.append(q)
        unseen[row_ends], question = torch.cat(rights).double(), torch.cat(asked)
    return unseen, question


def train(ctx: RunContext) -> None:
    cfg = ctx.config(Config)
    row_end_task = partial(row_end_batch, noise=cfg.noise)
    if ctx.quick:  # the row-end question alone, on small images: what row-ends are for, in 200 steps
        unseen, _ = compare(
            ctx, cfg, row_end_task, {Q_ROW_END: ROW_END_QUESTION}, QUICK_SIZES, [], cfg.steps, 50, 200, True
        )
        row_end_n = 200
    else:
        steps, n_test = cfg.qa_steps, 600
        qa, question = compare(
            ctx,
            cfg,
            partial(qa_batch, noise=cfg.noise),
            QUESTIONS,
            TRAIN_SIZES,
            SEEN_SIZES,
            steps,
            200,
            600,
            False,
        )
        spatial = {arm: qa[arm][question == Q_TOP_RIGHT] for arm in qa}
        for arm in (True, False):
            ctx.measured(
                f"top-right questions at unseen sizes, {ARM_LABEL[arm]}",
                spatial[arm].mean().item(),
                f"{len(spatial[arm])} questions; 'none' is right half the time",
            )
        detail = f"{steps} steps of {cfg.batch}, {len(TRAIN_SIZES)} training sizes, {n_test} questions"
        detail += " at each of 5 unseen sizes"
        ctx.target(
            "accuracy at unseen sizes, with row-ends",
            qa[True].mean().item(),
            0.75,
            detail=detail,
            asserted=False,  # seeds 0-9 (AVX2): 0.781 ± 0.048, below 0.75 on seeds 8, 9: reported (the page)
        )
        ctx.target(
            "top-right questions at unseen sizes, with minus without row-ends",
            spatial[True].mean().item() - spatial[False].mean().item(),
            0.15,
            detail=detail,
            asserted=False,  # held on full-run seeds 0-4, 2.2 seed sds above 0.15: reported (the page)
        )
        # The headline A/B, asserted: the row-end question alone (the quick run's task) at a longer schedule.
        row_end_n = 400
        unseen, _ = compare(
            ctx,
            cfg,
            row_end_task,
            {Q_ROW_END: ROW_END_QUESTION},
            QUICK_SIZES,
            [],
            cfg.steps,
            100,
            row_end_n,
            True,
            prefix="row-end question: ",
            grid=False,  # each arm at the quick run's rate, its best on the quick validation (QUICK_LR)
        )
    detail = (
        f"{cfg.steps} steps of {cfg.batch}, {len(QUICK_SIZES)} training sizes, {row_end_n} questions at each"
        " of 5 unseen sizes"
    )
    if ctx.quick:
        ctx.target(
            f"'{ROW_END_QUESTION}' at unseen sizes, with row-ends",
            unseen[True].mean().item(),
            QUICK_TARGET,
            detail=detail + "; 'yes' is right half the time",
        )
    ctx.target(
        f"'{ROW_END_QUESTION}' at unseen sizes, with minus without row-ends",
        unseen[True].mean().item() - unseen[False].mean().item(),
        QUICK_GAIN,
        detail=f"{unseen[True].mean().item():.3f} vs {unseen[False].mean().item():.3f}; " + detail,
    )


# -- bench ------------------------------------------------------------------------------------------------
def bench(ctx: RunContext) -> None:
    sizes = (16, 32) if ctx.quick else (16, 32, 64)
    for size in sizes:
        images = torch.randn(8, 1, size, size, device=ctx.device)
        q = torch.zeros(8, 1, dtype=torch.long, device=ctx.device)
        for row_ends in (False, True):
            torch.manual_seed(ctx.seed)
            model = Fuyu(VOCAB, row_ends=row_ends).to(ctx.device)
            params = list(model.parameters())

            def step(
                model: Fuyu = model,
                params: list[nn.Parameter] = params,
                images: torch.Tensor = images,
                q: torch.Tensor = q,
            ) -> None:
                torch.autograd.grad(model(images, q).logsumexp(-1).mean(), params, allow_unused=True)

            n = (size // PATCH) * (size // PATCH + row_ends) + 1
            ctx.bench.measure(
                f"{'with' if row_ends else 'without'} row-ends, {size}×{size} image ({n} tokens)",
                step,
                baseline=not row_ends and sizes[0] == size,
                tokens=8 * n,
                shape=(8, 1, size, size),
                dtype=torch.float32,
            )
