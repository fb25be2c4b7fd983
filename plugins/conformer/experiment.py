"""Conformer at toy scale: each module exact against an independent reference, the block's macaron order
(eq. 1) exact against a functional composition, the depthwise convolution's receptive field, relative
attention's shift invariance, and a frame-labelling task that needs local and global context.

check: ``rel_shift`` equals gathering each pair's distance directly (L = 1 … 8); the relative MHSA with its
       position terms off (u = 0, W_r = 0) equals ``nn.MultiheadAttention`` with the weights copied, and
       with them on equals a version that builds R_{i−j} for every pair from the sinusoid written out here;
       the convolution module equals a per-tap loop with LayerNorm, GLU, BatchNorm and Swish written from
       their formulas; the whole block equals a functional eq. 1 (FFN/2, MHSA, Conv, FFN/2, LayerNorm);
       forward and every gradient, float64 at lengths 1, 2, 7 and 16, float32 at 7 and 16 (gradients
       normwise). Properties: output frame t of the convolution module depends on exactly the inputs within
       k // 2 of t (Jacobian, BatchNorm in eval mode); the attention logits of a sequence do not change when
       other frames are put before it (relative positions); the read-out's logit of class 2·s + a is its
       speaker head's score s plus its agreement head's score a.
train: frames of noisy one-hot "phones", one frame somewhere also carrying a noisy one-hot speaker code;
       the label of frame t is (speaker, whether the phones at t − 1 and t + 1 agree): a global fact and a
       local pattern (the quick run: one speaker, the local pattern alone). A 2-layer Conformer against a
       2-layer Transformer with the same relative MHSA and a wider FFN so that the parameter counts agree
       within 3 %, same seed and batches, each at its best learning rate of the same grid, picked by frame
       accuracy on a validation split; BatchNorm's statistics re-estimated on fresh batches before scoring.
       Both read out the class (speaker, agreement) as a speaker score plus an agreement score (checked
       class by class), so that the cross-entropy is the sum of the two facts'.
bench: forward + backward of one Conformer block and of the parameter-matched Transformer block for
       growing sequence lengths.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TypeVar

import torch
import torch.nn.functional as F
from torch import nn

from readtrack.api import TOLERANCES, RunContext, dtype_name

from .config import Config
from .model import (
    ConformerBlock,
    ConvModule,
    FeedForward,
    FrameTagger,
    RelativeMHSA,
    TransformerBlock,
    conformer,
    rel_shift,
    transformer,
)

PHONES, SPEAKERS = 4, 4
D_IN, FACTORS = PHONES + SPEAKERS, (SPEAKERS, 2)  # class 2·s + a: (speaker s, neighbours agree a)
D_MODEL, HEADS, LAYERS, KERNEL = 24, 4, 2, 7
NOISE = 0.1
M = TypeVar("M", bound=nn.Module)


# -- independent references ----------------------------------------------------------------------------
def direct_attention(m: RelativeMHSA, x: torch.Tensor) -> torch.Tensor:
    """Fig. 3 with every pair's score from its own distance: LayerNorm, then
    A_ij = (q_i + u)·k_j + (q_i + v)·W_r R_{i−j}, positional keys gathered by distance (no shift trick)."""
    B, L, D = x.shape
    H, dh = m.n_heads, D // m.n_heads
    h = F.layer_norm(x, (D,), m.norm.weight, m.norm.bias, m.norm.eps)
    Wq, Wk, Wv = m.W_qkv.weight.split(D)
    bq, bk, bv = m.W_qkv.bias.split(D)

    def heads(t: torch.Tensor) -> torch.Tensor:
        return t.view(B, L, H, dh).transpose(1, 2)  # (B, H, L, dh)

    q, k, v = heads(h @ Wq.T + bq), heads(h @ Wk.T + bk), heads(h @ Wv.T + bv)
    distance = torch.arange(L, device=x.device).unsqueeze(1) - torch.arange(
        L, device=x.device
    )  # (L, L): i − j
    # R_(i−j) from its definition, written apart from model.sinusoid (a wrong frequency there must fail):
    # [sin(p·ω_k), cos(p·ω_k)] with ω_k = 10000^(−2k/D), k = 0 … D/2 − 1
    omega = torch.tensor(
        [10000.0 ** (-2 * k / D) for k in range(D // 2)], dtype=torch.float64, device=x.device
    )
    angle = distance.double().unsqueeze(-1) * omega  # (L, L, D/2)
    R = torch.cat([angle.sin(), angle.cos()], dim=-1).to(x.dtype)  # (L, L, D)
    r = (R @ m.W_r.weight.T).view(L, L, H, dh).permute(2, 0, 1, 3)  # (H, L, L, dh)
    content = (q + m.u[:, None]) @ k.transpose(-2, -1)  # (B, H, L, L)
    position = ((q + m.v[:, None]).unsqueeze(-2) * r).sum(-1)  # (B, H, L, L)
    y = ((content + position) / math.sqrt(dh)).softmax(-1) @ v  # (B, H, L, dh)
    return y.transpose(1, 2).reshape(B, L, D) @ m.W_o.weight.T + m.W_o.bias


def conv_by_loops(m: ConvModule, x: torch.Tensor) -> torch.Tensor:
    """Fig. 2 by hand, sharing no op with the module: the normalisations from their formulas (BatchNorm
    with batch statistics, as in training), GLU and Swish written out, the depthwise convolution by taps."""
    _, L, D = x.shape
    b_ln, b_1, b_dw, b_2 = m.norm.bias, m.pointwise1.bias, m.depthwise.bias, m.pointwise2.bias
    assert b_ln is not None and b_1 is not None and b_dw is not None and b_2 is not None
    mu, var = x.mean(-1, keepdim=True), x.var(-1, unbiased=False, keepdim=True)
    h = (x - mu) / torch.sqrt(var + m.norm.eps) * m.norm.weight + b_ln  # (B, L, D)
    h = h @ m.pointwise1.weight[:, :, 0].T + b_1  # (B, L, 2D)
    h = h[..., :D] * torch.sigmoid(h[..., D:])  # GLU
    k = m.depthwise.weight.shape[-1]
    taps = []  # out_t = b + Σ_tap w_tap · h_(t + tap − k//2), zero outside the sequence
    for t in range(L):
        acc = b_dw.expand_as(h[:, t])
        for tap in range(k):
            s = t + tap - k // 2
            if 0 <= s < L:
                acc = acc + h[:, s] * m.depthwise.weight[:, 0, tap]
        taps.append(acc)
    out = torch.stack(taps, dim=1)  # (B, L, D)
    mu, var = out.mean((0, 1)), out.var((0, 1), unbiased=False)  # batch statistics over (B, L)
    out = (out - mu) / torch.sqrt(var + m.batch_norm.eps) * m.batch_norm.weight + m.batch_norm.bias
    out = out * torch.sigmoid(out)  # Swish
    return out @ m.pointwise2.weight[:, :, 0].T + b_2


def functional_ffn(m: FeedForward, x: torch.Tensor) -> torch.Tensor:
    h = F.layer_norm(x, x.shape[-1:], m.norm.weight, m.norm.bias, m.norm.eps)
    return F.linear(F.silu(F.linear(h, m.fc1.weight, m.fc1.bias)), m.fc2.weight, m.fc2.bias)


def functional_block(m: ConformerBlock, x: torch.Tensor) -> torch.Tensor:
    """Eq. 1 written out from the references above."""
    x = x + 0.5 * functional_ffn(m.ffn1, x)
    x = x + direct_attention(m.mhsa, x)
    x = x + conv_by_loops(m.conv, x)
    x = x + 0.5 * functional_ffn(m.ffn2, x)
    return F.layer_norm(x, x.shape[-1:], m.norm.weight, m.norm.bias, m.norm.eps)


def randomise(module: M) -> M:
    """Random parameters, so that a gain of one or a zero bias (u, v start at 0) cannot hide a bug."""
    with torch.no_grad():
        for p in module.parameters():
            p.normal_(0.0, 0.3)
    return module


# -- check ------------------------------------------------------------------------------------------------
def check(ctx: RunContext) -> None:
    for L in (1, 2, 5, 8):
        x = torch.randn(2, 3, L, 2 * L - 1, dtype=ctx.exact_dtype, device=ctx.device)
        i, j = torch.arange(L, device=ctx.device).unsqueeze(1), torch.arange(L, device=ctx.device)
        column = (L - 1 - i + j).expand(2, 3, L, L)  # distance i − j sits in column L − 1 − (i − j)
        ctx.check_close(f"rel_shift vs gathering by distance, L = {L}", rel_shift(x), x.gather(-1, column))

    for dtype in ctx.check_dtypes:
        name = dtype_name(dtype)
        for L in (1, 2, 7, 16):
            x = torch.randn(3, L, D_MODEL, dtype=dtype, device=ctx.device)
            _check_attention(ctx, x, f"L = {L} ({name})")
            if dtype != torch.float64 and L < 7:
                # BatchNorm's statistics over the 3 or 6 frames of L = 1, 2 are ill-conditioned in float32:
                # there the gradients missed float32's tolerance by up to 1.4x on seeds 1, 2 and 4, the module
                # and the per-tap loop alike far from float64, so these lengths are checked in float64 only.
                continue
            conv = randomise(ConvModule(D_MODEL, KERNEL)).to(ctx.device, dtype)
            _check_against(
                ctx,
                conv,
                conv_by_loops,
                x,
                f"convolution module vs a per-tap loop, norms written out, L = {L} ({name})",
            )
            block = randomise(ConformerBlock(D_MODEL, HEADS, KERNEL)).to(ctx.device, dtype)
            _check_against(
                ctx,
                block,
                functional_block,
                x,
                f"Conformer block vs eq. 1 written functionally, L = {L} ({name})",
            )
        ctx.progress(ctx.check_dtypes.index(dtype) + 1, len(ctx.check_dtypes))
    _check_receptive_field(ctx)
    _check_shift_invariance(ctx)
    _check_readout(ctx)


def _check_against(
    ctx: RunContext,
    module: M,
    reference: Callable[[M, torch.Tensor], torch.Tensor],
    x: torch.Tensor,
    label: str,
) -> None:
    """``module`` against ``reference``: the forward, then the gradients of the input and every weight."""
    params = list(module.parameters())
    out, grads = ctx.value_and_grads(module, x, params=params)
    ref, ref_grads = ctx.value_and_grads(lambda x: reference(module, x), x, params=params)
    ctx.check_close(label, out, ref)
    # Rounding in a sum scales with its terms, not with its result: the loop adds the taps and BatchNorm's
    # statistics in another order than the module, and BatchNorm over a few frames amplifies it, so a gradient
    # near 0 may differ by more than float32's absolute 1e-5 (it did by up to 3.6x, gradients of order 1-10).
    # The absolute tolerance is therefore also the relative one times the largest gradient (normwise).
    atol_, rtol_ = TOLERANCES[dtype_name(x.dtype)]
    atol = max(atol_, rtol_ * float(ref_grads.abs().max()))
    ctx.check_close(f"gradients (input, every weight): {label}", grads, ref_grads, atol=atol)


def _check_attention(ctx: RunContext, x: torch.Tensor, name: str) -> None:
    D = x.shape[-1]
    attn = randomise(RelativeMHSA(D, HEADS)).to(x.device, x.dtype)
    params = [attn.W_qkv.weight, attn.W_qkv.bias, attn.W_o.weight, attn.W_o.bias]
    with torch.no_grad():  # position terms off: u = 0, W_r = 0 leaves softmax(q kᵀ/√d) v
        attn.u.zero_(), attn.W_r.weight.zero_()
    mha = nn.MultiheadAttention(D, HEADS, batch_first=True).to(x.device, x.dtype)
    with torch.no_grad():  # nn.MultiheadAttention packs [W_q; W_k; W_v] in in_proj, as W_qkv does
        mha.in_proj_weight.copy_(attn.W_qkv.weight), mha.in_proj_bias.copy_(attn.W_qkv.bias)
        mha.out_proj.weight.copy_(attn.W_o.weight), mha.out_proj.bias.copy_(attn.W_o.bias)

    def reference(x: torch.Tensor) -> torch.Tensor:
        h = attn.norm(x)
        return mha(h, h, h, need_weights=False)[0]

    ref_params = [mha.in_proj_weight, mha.in_proj_bias, mha.out_proj.weight, mha.out_proj.bias]
    out, grads = ctx.value_and_grads(attn, x, params=params)
    ref, ref_grads = ctx.value_and_grads(reference, x, params=ref_params)
    ctx.check_close(f"MHSA without position terms vs nn.MultiheadAttention, {name}", out, ref)
    ctx.check_close(
        f"MHSA without position terms, gradients vs nn.MultiheadAttention, {name}", grads, ref_grads
    )
    randomise(attn)
    out, grads = ctx.value_and_grads(attn, x, params=list(attn.parameters()))
    ref, ref_grads = ctx.value_and_grads(
        lambda x: direct_attention(attn, x), x, params=list(attn.parameters())
    )
    ctx.check_close(f"relative MHSA vs R_(i−j) gathered per pair, {name}", out, ref)
    ctx.check_close(f"relative MHSA gradients (input, W, u, v, W_r) vs per pair, {name}", grads, ref_grads)


def _check_receptive_field(ctx: RunContext) -> None:
    """Frame t of the convolution module sees inputs t − k//2 … t + k//2, no more, no fewer (BatchNorm in
    eval mode: in training its batch statistics couple every frame)."""
    L = 20
    conv = randomise(ConvModule(D_MODEL, KERNEL)).to(ctx.device, ctx.exact_dtype).eval()
    x = torch.randn(1, L, D_MODEL, dtype=ctx.exact_dtype, device=ctx.device)
    J = torch.autograd.functional.jacobian(conv, x)  # (1, L, D, 1, L, D)
    reach = J.abs().sum(dim=(0, 2, 3, 5)) > 0  # (t out, s in)
    t, s = torch.arange(L, device=ctx.device).unsqueeze(1), torch.arange(L, device=ctx.device)
    window = (t - s).abs() <= KERNEL // 2
    ctx.check_property(
        f"convolution module: frame t sees exactly the frames within k // 2 = {KERNEL // 2} of t, L = {L}",
        bool((reach == window).all()),
        f"{int((reach & ~window).sum())} dependencies outside the window, "
        f"{int((~reach & window).sum())} missing",
    )


def _check_shift_invariance(ctx: RunContext) -> None:
    """Relative positions: the logits of x's frames among themselves are the same when s other frames come
    first, since A_ij depends on positions only through i − j."""
    attn = randomise(RelativeMHSA(D_MODEL, HEADS)).to(ctx.device, ctx.exact_dtype)
    x = torch.randn(2, 9, D_MODEL, dtype=ctx.exact_dtype, device=ctx.device)
    before = torch.randn(2, 5, D_MODEL, dtype=ctx.exact_dtype, device=ctx.device)
    with torch.no_grad():
        alone = attn.scores(x)[0]  # (B, H, 9, 9)
        shifted = attn.scores(torch.cat([before, x], dim=1))[0][..., 5:, 5:]
    ctx.check_close(
        "relative attention logits unchanged when 5 frames come before (shift invariance)", shifted, alone
    )


def _check_readout(ctx: RunContext) -> None:
    """The factorised read-out: the logit of class 2·s + a (the labels' order) is the speaker head's s-th
    score plus the agreement head's a-th, written out class by class."""
    tagger = randomise(FrameTagger([], D_IN, D_MODEL, FACTORS)).to(ctx.device, ctx.exact_dtype)
    x = torch.randn(2, 5, D_IN, dtype=ctx.exact_dtype, device=ctx.device)
    with torch.no_grad():
        h = x @ tagger.inp.weight.T + tagger.inp.bias  # (B, L, d): no blocks
        speaker = h @ tagger.out_a.weight.T + tagger.out_a.bias  # (B, L, SPEAKERS)
        agree = h @ tagger.out_b.weight.T + tagger.out_b.bias  # (B, L, 2)
        by_class = [speaker[..., s] + agree[..., a] for s in range(SPEAKERS) for a in range(2)]
        ctx.check_close(
            "read-out: logit of class 2·s + a = speaker score s + agreement score a",
            tagger(x),
            torch.stack(by_class, dim=-1),
        )


# -- train ------------------------------------------------------------------------------------------------
def frames(
    n: int, L: int, g: torch.Generator, device: str, speakers: int = SPEAKERS, noise: float | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """(frames (n, L, D_IN), labels (n, L)). Frame t is a one-hot phone c_t plus N(0, σ²), σ = ``noise``
    (``NOISE`` unless given); one frame at a random place also carries a one-hot speaker s. Label = 2·s +
    [c_{t−1} = c_{t+1}] (false at the ends). ``speakers = 1`` leaves only the local pattern to learn (s is
    always 0)."""
    c = torch.randint(0, PHONES, (n, L), generator=g)
    s = torch.randint(0, speakers, (n,), generator=g)
    where = torch.randint(0, L, (n,), generator=g)
    x = torch.zeros(n, L, D_IN)
    x[..., :PHONES] = F.one_hot(c, PHONES).float()
    x[torch.arange(n), where, PHONES + s] = 1.0
    sigma = NOISE if noise is None else noise
    x = x + sigma * torch.randn(x.shape, generator=g)
    padded = F.pad(c, (1, 1), value=-1)  # (n, L + 2): no phone outside the sequence
    agree = (padded[:, :-2] == padded[:, 2:]).long()  # (n, L): c_{t−1} = c_{t+1}
    return x.to(device), (2 * s[:, None] + agree).to(device)


def matched_transformer_expansion(d: int = D_MODEL, layers: int = LAYERS, kernel: int = KERNEL) -> int:
    """The Transformer's FFN width (a multiple of d) whose parameter count is closest to the Conformer's."""
    target = _count(conformer(D_IN, d, HEADS, layers, kernel, FACTORS))
    return min(
        range(1, 20),
        key=lambda e: abs(_count(transformer(D_IN, d, HEADS, layers, e, FACTORS)) - target),
    )


class NoConvolution(nn.Module):
    """The convolution module taken out of a Conformer block (``--set conv=false``): x'' = x' + 0."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.zeros_like(x)


def without_convolution(model: FrameTagger) -> FrameTagger:
    """``model`` with every block's convolution module taken out, the other modules as initialised."""
    for block in model.blocks:
        block.conv = NoConvolution()
    return model


def _count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


LR_GRID = (1e-3, 3e-3, 1e-2)  # Adam; each variant gets its best, chosen on a validation split


def _fit(ctx: RunContext, cfg: Config, label: str, build: Callable[[], nn.Module], lr: float) -> nn.Module:
    """Train one variant at one learning rate: the same seed (initial weights) and batches for every run."""
    torch.manual_seed(ctx.seed)
    model = build().to(ctx.device)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    g = torch.Generator().manual_seed(ctx.seed)
    for step in range(cfg.steps):
        x, y = frames(cfg.batch, LENGTH, g, ctx.device, cfg.speakers, cfg.noise)
        loss = F.cross_entropy(model(x).flatten(0, 1), y.flatten())
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 10 == 0:
            ctx.metric(f"train loss, {label}, lr {lr:g}", step, loss.item())
    return _estimate_batch_norm(ctx, cfg, model)


def _estimate_batch_norm(ctx: RunContext, cfg: Config, model: nn.Module) -> nn.Module:
    """BatchNorm's inference statistics re-estimated on fresh training batches after training: the running
    averages (momentum 0.1) lag a model that changed in its last steps. In the quick run the Conformer learns
    the local pattern around step 40-50 of 60, and on seed 16 the running averages then gave 0.79 where the
    same weights with their own batch statistics gave 0.998 (Wu & Johnson 2021, "Rethinking 'Batch' in
    BatchNorm", call this precise BN). The Transformer has no BatchNorm: for it this is a no-op."""
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not norms:
        return model
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # a cumulative average over the batches below
    g = torch.Generator().manual_seed(ctx.seed + 3)  # batches no run trained on, the same for every run
    model.train()
    with torch.no_grad():
        for _ in range(BN_BATCHES):
            model(frames(cfg.batch, LENGTH, g, ctx.device, cfg.speakers, cfg.noise)[0])
    return model.eval()


def _score(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> tuple[float, float, float]:
    """Frame accuracy, and the share of frames whose speaker (global) and neighbour agreement (local) are
    right."""
    with torch.no_grad():
        guess = model(x).argmax(dim=-1)
    right = (guess == y).double().mean().item()
    speaker = (guess // 2 == y // 2).double().mean().item()
    local = (guess % 2 == y % 2).double().mean().item()
    return right, speaker, local


LENGTH = 24  # frames per sequence
BN_BATCHES = 8  # fresh batches for BatchNorm's inference statistics (256 sequences at the default batch)


def train(ctx: RunContext) -> None:
    # Quick: the local pattern alone (one speaker), what the convolution module adds. Full: the speaker too,
    # which both models find first (by step 50-150); the Conformer then learnt the local pattern by step
    # 150-250 on seeds 1 and 4 at lr 3e-3 and 1e-2 (validation accuracy every 50 steps), hence 400 steps.
    cfg = ctx.config(Config)
    steps, speakers, d, layers = cfg.steps, cfg.speakers, cfg.d_model, cfg.layers
    grid: tuple[float, ...] = (3e-3, 1e-2) if ctx.quick else LR_GRID
    if cfg.lr != 0:
        grid = (cfg.lr,)
    expansion = matched_transformer_expansion(d, layers, cfg.kernel)
    # conv=false (the ablation switch): the Conformer without its convolution modules
    removed = "" if cfg.conv else "; conv=false: the Conformer without its convolution modules"
    with_conv: Callable[[FrameTagger], FrameTagger] = (lambda m: m) if cfg.conv else without_convolution
    builders: dict[str, Callable[[], nn.Module]] = {
        "Conformer": lambda: with_conv(conformer(D_IN, d, HEADS, layers, cfg.kernel, FACTORS)),
        "Transformer": lambda: transformer(D_IN, d, HEADS, layers, expansion, FACTORS),
    }
    val_g, test_g = torch.Generator().manual_seed(ctx.seed + 2), torch.Generator().manual_seed(ctx.seed + 1)
    val_x, val_y = frames(1024, LENGTH, val_g, ctx.device, speakers, cfg.noise)
    test_x, test_y = frames(1024, LENGTH, test_g, ctx.device, speakers, cfg.noise)
    accuracy: dict[str, float] = {}
    counts: dict[str, int] = {}
    runs = len(builders) * len(grid)
    for label, build in builders.items():
        best: tuple[float, float, nn.Module] | None = None  # (validation accuracy, lr, model)
        for lr in grid:
            model = _fit(ctx, cfg, label, build, lr)
            val = _score(model, val_x, val_y)[0]
            if best is None or val > best[0]:
                best = (val, lr, model)
            ctx.progress(len(accuracy) * len(grid) + grid.index(lr) + 1, runs)
        assert best is not None
        val, lr, model = best
        counts[label] = _count(model)
        accuracy[label], speaker, local = _score(model, test_x, test_y)
        ctx.measured(
            f"held-out frame accuracy, {label}",
            accuracy[label],
            f"{counts[label]} parameters; lr {lr:g} of {grid} by validation accuracy ({val:.3f}); speaker "
            f"(global) right {speaker:.3f}, neighbours agree (local) right {local:.3f}",
        )
    mismatch = abs(counts["Transformer"] / counts["Conformer"] - 1)
    ctx.target(
        "parameter counts agree: |Transformer / Conformer − 1|",
        mismatch,
        0.03,
        higher_is_better=False,
        detail=f"Conformer {counts['Conformer']}, Transformer {counts['Transformer']} (FFN {expansion}·d)"
        + removed,
    )
    detail = f"{steps} Adam steps of {cfg.batch} sequences of {LENGTH} frames, 1,024 held-out sequences, " + (
        "one speaker: the local pattern alone, majority 0.77" if speakers == 1 else f"chance 1/{2 * speakers}"
    )
    detail += removed
    ctx.target("frame accuracy, Conformer", accuracy["Conformer"], 0.9, detail=detail)
    ctx.target(
        "frame accuracy, Conformer minus Transformer",
        accuracy["Conformer"] - accuracy["Transformer"],
        0.1,
        detail=detail,
    )


# -- bench ------------------------------------------------------------------------------------------------
def bench(ctx: RunContext) -> None:
    sizes = (32, 128) if ctx.quick else (32, 128, 512)
    expansion = matched_transformer_expansion()
    blocks: list[tuple[str, nn.Module]] = [
        (f"Transformer block (FFN {expansion}·d)", TransformerBlock(D_MODEL, HEADS, expansion)),
        (f"Conformer block (k = {KERNEL})", ConformerBlock(D_MODEL, HEADS, KERNEL)),
    ]
    for L in sizes:
        x = torch.randn(4, L, D_MODEL, device=ctx.device, requires_grad=True)
        for i, (label, block) in enumerate(blocks):
            block = block.to(ctx.device)
            leaves = [x, *block.parameters()]

            def step(
                block: nn.Module = block, x: torch.Tensor = x, leaves: list[torch.Tensor] = leaves
            ) -> None:
                torch.autograd.grad(block(x).square().mean(), leaves)

            ctx.bench.measure(
                f"{label}, forward + backward, L = {L}",
                step,
                baseline=i == 0 and sizes[0] == L,
                tokens=4 * L,
                shape=(4, L, D_MODEL),
                dtype=torch.float32,
            )
