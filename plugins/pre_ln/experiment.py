"""Pre-LN at toy scale: the blocks equal the equations, Post-LN's gradients near the output are the larger
at initialisation (Theorem 1), and a deep Post-LN transformer that fails without warm-up at a high learning
rate trains at it with the LayerNorm moved inside the residual branch.

check: one block of each kind (Post-LN, Pre-LN) equals a float64 reference written from the equations with
       the same weights (causal attention, LayerNorm and GELU written out), forward and every gradient, on
       three shapes (one a single token); Theorem 1's property at initialisation: the gradient norm of the
       last layer's W^{2,L} (fc2), on a fixed batch, mean of 8 inits, is larger for Post-LN than Pre-LN at
       L = 2, 4, 8, and Pre-LN's shrinks as L grows.
train: a decoder-only language model, 8 blocks of width 32, on text from a random 16-symbol Markov chain,
       Adam; Post-LN and Pre-LN without warm-up and Post-LN with a linear warm-up (the paper's reference),
       from the same seed, same batches. Asserted: at the high rate (1e-2) without warm-up, Post-LN's
       held-out loss is at least 0.5 nats above Pre-LN's (quick: 1 init, 50 steps, these two arms only;
       full: 3 inits averaged, 120 steps). The full run also gives each arm its best rate of the grid
       1e-3, 3e-3, 1e-2 (chosen on a validation split) and reports the losses there.
bench: one block of each kind, forward and forward+backward.
"""

from __future__ import annotations

import itertools
import math
import statistics
from functools import partial
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from readtrack.api import RunContext, dtype_name, plural
from readtrack.plugin_kit.tasks import MarkovText
from readtrack.plugin_kit.timing import bench_layers

from .config import Config
from .model import Block, NormPosition, Transformer

VOCAB, LENGTH, HEADS = 16, 16, 4  # a first-order chain over 16 symbols, sequences of 16 tokens
N_HELD_OUT = 256  # held-out sequences: the first half picks the rate (validation), the second is reported
SEED_STRIDE = 100  # run seed s trains seeds 100·s, 100·s + 1, ...: no two runs share an initialisation
LOW_RATES = (1e-3, 3e-3)  # the grid below lr_high
#: The claim: without warm-up at the high rate, Post-LN's held-out loss is at least half a nat above
#: Pre-LN's (a third of what there is to learn: a unigram model scores about 2.6 nats, the floor about 1.2).
CLAIM = 0.5
#: The paper's second claim: Pre-LN without warm-up is as good as Post-LN with it (each at its best rate),
#: read as "no more than 0.1 nats worse", under a tenth of what there is to learn.
WARMUP_MARGIN = 0.1
ARMS = ("Post-LN", "Pre-LN", "Post-LN + warm-up")
DEPTHS = (2, 4, 8)  # Theorem 1's L, for the gradient at initialisation


# -- check ----------------------------------------------------------------------------------------------
class _ReferenceBlock(nn.Module):
    """Post-LN and Pre-LN written from the equations, in the parameters' own dtype: attention as
    softmax(q kᵀ / √d + causal mask) v per head, LN(a) = γ (a − μ)/√(σ² + ε) + β, GELU with erf. The same
    parameter names as ``Block`` (the modules are only holders), so a state dict copies across."""

    def __init__(self, d_model: int, n_heads: int, position: NormPosition) -> None:
        super().__init__()
        self.position, self.n_heads = position, n_heads
        self.attn = nn.Module()
        for name in ("q_proj", "k_proj", "v_proj", "out_proj"):
            self.attn.add_module(name, nn.Linear(d_model, d_model))
        self.fc1, self.fc2 = nn.Linear(d_model, 4 * d_model), nn.Linear(4 * d_model, d_model)
        self.ln1, self.ln2 = nn.LayerNorm(d_model), nn.LayerNorm(d_model)

    @staticmethod
    def _linear(p: nn.Module, x: torch.Tensor) -> torch.Tensor:
        return x @ p.weight.T + p.bias  # type: ignore[operator]

    @staticmethod
    def _ln(p: nn.Module, a: torch.Tensor) -> torch.Tensor:
        mu = a.mean(-1, keepdim=True)
        var = ((a - mu) ** 2).mean(-1, keepdim=True)
        return p.weight * (a - mu) / torch.sqrt(var + 1e-5) + p.bias  # type: ignore[operator]

    def _attention(self, x: torch.Tensor) -> torch.Tensor:
        B, T, D = x.shape
        H, d = self.n_heads, D // self.n_heads
        q, k, v = (
            self._linear(self.attn.get_submodule(n), x).view(B, T, H, d)
            for n in ("q_proj", "k_proj", "v_proj")
        )
        scores = torch.einsum("bthd,bshd->bhts", q, k) / math.sqrt(d)  # (B, H, T, T)
        later = torch.ones(T, T, dtype=torch.bool, device=x.device).triu(1)
        weights = scores.masked_fill(later, float("-inf")).softmax(-1)
        y = torch.einsum("bhts,bshd->bthd", weights, v).reshape(B, T, D)
        return self._linear(self.attn.get_submodule("out_proj"), y)

    def _ffn(self, x: torch.Tensor) -> torch.Tensor:
        h = self._linear(self.fc1, x)
        return self._linear(self.fc2, 0.5 * h * (1 + torch.erf(h / math.sqrt(2))))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.position == "pre":  # x_{l+1} = x_l + F(LN(x_l))
            x = x + self._attention(self._ln(self.ln1, x))
            return x + self._ffn(self._ln(self.ln2, x))
        x = self._ln(self.ln1, x + self._attention(x))  # x_{l+1} = LN(x_l + F(x_l))
        return self._ln(self.ln2, x + self._ffn(x))


def check(ctx: RunContext) -> None:
    positions: tuple[NormPosition, ...] = ("post", "pre")
    for position in positions:
        for shape in ((2, 5, 16), (1, 1, 16), (3, 7, 16)):
            _compare_block(ctx, position, shape)
    _check_gradient_at_init(ctx)


def _compare_block(ctx: RunContext, position: NormPosition, shape: tuple[int, int, int]) -> None:
    """``Block`` against ``_ReferenceBlock`` with the same random parameters (weights N(0, 1/fan_in), biases
    and LN gains and shifts random too, so that no 1 or 0 hides a bug), forward and every gradient, in each
    of the run's check dtypes."""
    d = shape[-1]
    for dtype in ctx.check_dtypes:
        ours = Block(d, 2, position).to(ctx.device, dtype)
        with torch.no_grad():
            for name, p in ours.named_parameters():
                p.normal_(1.0 if name.startswith("ln") and name.endswith("weight") else 0.0, 0.5)
                if p.dim() == 2:
                    p.mul_(2 / math.sqrt(p.shape[1]))  # std 1/√fan_in
        ref = _ReferenceBlock(d, 2, position).to(ctx.device, dtype)
        ref.load_state_dict(ours.state_dict())
        x = torch.randn(*shape, dtype=dtype, device=ctx.device)
        out, grads = ctx.value_and_grads(ours, x, params=list(ours.parameters()))
        expected, ref_grads = ctx.value_and_grads(ref, x, params=list(ref.parameters()))
        label = f"{position}, x {tuple(shape)} ({dtype_name(dtype)})"
        ctx.check_close(f"forward vs the equations, {label}", out, expected)
        ctx.check_close(
            f"gradients (input and all 16 parameters) vs the equations, {label}", grads, ref_grads
        )


def _last_w2_gradient(ctx: RunContext, position: NormPosition, layers: int, tokens: torch.Tensor) -> float:
    """‖∂L/∂W^{2,L}‖_F at initialisation (the last block's fc2), cross-entropy on ``tokens``, float64; the
    mean over 8 initialisations (the same 8 seeds for both positions)."""
    norms = []
    for i in range(8):
        torch.manual_seed(SEED_STRIDE * ctx.seed + i)
        model = Transformer(VOCAB, LENGTH, 32, HEADS, layers, position).to(ctx.device, ctx.exact_dtype)
        loss = F.cross_entropy(model(tokens)[:, :-1].flatten(0, 1), tokens[:, 1:].flatten())
        last = model.blocks[-1]
        assert isinstance(last, Block)
        (grad,) = torch.autograd.grad(loss, [last.fc2.weight])
        norms.append(grad.norm().item())
    return statistics.mean(norms)


def _check_gradient_at_init(ctx: RunContext) -> None:
    """Theorem 1: ‖∂L/∂W^{2,L}‖ is O(d √(ln d)) for Post-LN, O(d √(ln d / L)) for Pre-LN."""
    g = torch.Generator().manual_seed(ctx.seed)
    tokens = torch.randint(0, VOCAB, (16, LENGTH), generator=g).to(ctx.device)  # a fixed batch
    post = {L: _last_w2_gradient(ctx, "post", L, tokens) for L in DEPTHS}
    pre = {L: _last_w2_gradient(ctx, "pre", L, tokens) for L in DEPTHS}
    for L in DEPTHS:
        ctx.check_property(
            f"Theorem 1, L={L}: at init ‖∂L/∂W^(2,L)‖ is larger for Post-LN than for Pre-LN",
            post[L] > pre[L],
            f"Post-LN {post[L]:.4f}, Pre-LN {pre[L]:.4f} (mean of 8 inits)",
            value=post[L] / pre[L],
        )
    slope = math.log(pre[DEPTHS[-1]] / pre[DEPTHS[0]]) / math.log(DEPTHS[-1] / DEPTHS[0])
    ctx.check_property(
        f"Theorem 1: Pre-LN's ‖∂L/∂W^(2,L)‖ decreases with depth, L = {', '.join(map(str, DEPTHS))} "
        "(the bound goes as L^(−1/2))",
        all(pre[a] > pre[b] for a, b in itertools.pairwise(DEPTHS)),
        ", ".join(f"L={L} {pre[L]:.4f}" for L in DEPTHS) + f"; fitted exponent {slope:.2f}",
        value=slope,
    )


# -- train ----------------------------------------------------------------------------------------------
class _Run(NamedTuple):
    validation: float  # picks the rate
    test: float  # what the claims report
    losses: list[float]  # each step's training loss (until a non-finite one)
    diverged: bool  # a non-finite loss


def _held_out_loss(model: nn.Module, tokens: torch.Tensor) -> float:
    """Mean −log p of each held-out x_t given x_<t, t ≥ 1 (the chain is first-order: the context is known)."""
    with torch.no_grad():
        logits = model(tokens)[:, :-1]
        return F.cross_entropy(logits.flatten(0, 1), tokens[:, 1:].flatten()).item()


def _build(cfg: Config, arm: str) -> Transformer:
    make = partial(Transformer, VOCAB, LENGTH, cfg.d_model, HEADS, cfg.layers)
    if arm == "Pre-LN":
        return make("pre" if cfg.norm_position == "pre" else "post")  # --set norm_position=post: ablation
    return make("post")


def _train_one(ctx: RunContext, cfg: Config, text: MarkovText, seed: int, arm: str, lr: float) -> _Run:
    """Adam at ``lr`` on ``text`` (from step 0, or ramped linearly over cfg.warmup steps for the warm-up
    arm); the same initial draws and batches for every arm given ``seed``. A run whose loss turns
    non-finite stops there and scores ln 16, a model that learnt nothing (diverged counts as failed)."""
    torch.manual_seed(seed)
    model = _build(cfg, arm).to(ctx.device)
    opt = torch.optim.Adam(model.parameters(), lr=lr, foreach=True)  # one kernel per step, not per tensor
    warmup = cfg.warmup if arm.endswith("warm-up") else 0
    g = torch.Generator().manual_seed(seed)
    losses: list[float] = []
    for step in range(cfg.steps):
        if warmup:
            for group in opt.param_groups:
                group["lr"] = lr * min(1.0, (step + 1) / warmup)  # linear warm-up
        x = text.batch(cfg.batch, g)  # (batch, 16)
        loss = F.cross_entropy(model(x)[:, :-1].flatten(0, 1), x[:, 1:].flatten())
        if not torch.isfinite(loss):
            return _Run(math.log(VOCAB), math.log(VOCAB), losses, True)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    half = N_HELD_OUT // 2
    validation, test = (_held_out_loss(model, part) for part in (text.held_out[:half], text.held_out[half:]))
    if not (math.isfinite(validation) and math.isfinite(test)):
        return _Run(math.log(VOCAB), math.log(VOCAB), losses, True)
    return _Run(validation, test, losses, False)


def _rates(ctx: RunContext, cfg: Config) -> tuple[float, ...]:
    """The grid every arm chooses its best rate from (full run); the quick run trains at lr_high only."""
    if ctx.quick:
        return (cfg.lr_high,)
    return tuple(sorted({*((cfg.lr,) if cfg.lr != 0 else LOW_RATES), cfg.lr_high}))


def train(ctx: RunContext) -> None:
    cfg = ctx.config(Config)
    seeds = [SEED_STRIDE * ctx.seed + i for i in range(cfg.inits)]  # disjoint between runs
    texts = [
        MarkovText.make(1000 + s, order=1, length=LENGTH, held_out=N_HELD_OUT, device=ctx.device)
        for s in seeds
    ]
    floor = statistics.mean(t.floor for t in texts)
    inits, high = plural(len(seeds), "init"), cfg.lr_high
    at_high: dict[str, float] = {}
    at_best: dict[str, tuple[float, float]] = {}
    arms = ARMS[:2] if ctx.quick else ARMS  # the quick run: the claim's two arms only
    grid = _rates(ctx, cfg)
    for done, arm in enumerate(arms):
        first = {lr: _train_one(ctx, cfg, texts[0], seeds[0], arm, lr) for lr in grid}
        best = min(first, key=lambda lr: first[lr].validation)
        ctx.log(
            f"{arm}: validation losses of seed {seeds[0]} "
            + ", ".join(
                f"lr {lr:g} {r.validation:.3f}" + (" (diverged)" if r.diverged else "")
                for lr, r in first.items()
            )
        )
        runs = {
            lr: [first[lr]]
            + [_train_one(ctx, cfg, t, s, arm, lr) for t, s in zip(texts[1:], seeds[1:], strict=True)]
            for lr in {best, high}
        }
        for lr, group in runs.items():
            for step, values in enumerate(zip(*(r.losses for r in group), strict=False)):
                ctx.metric(f"training loss: {arm} (lr {lr:g})", step, statistics.mean(values))
        at_high[arm] = statistics.mean(r.test for r in runs[high])
        diverged = sum(r.diverged for r in runs[high])
        ctx.measured(
            f"lr {high:g}: {arm} test loss (nats, mean of {inits})",
            at_high[arm],
            f"per init {', '.join(f'{r.test:.3f}' for r in runs[high])}"
            + (f"; {diverged} diverged (NaN, scored ln 16)" if diverged else "")
            + f"; the chain's floor {floor:.3f}",
        )
        if len(grid) > 1:
            at_best[arm] = best, statistics.mean(r.test for r in runs[best])
            ctx.measured(
                f"each at its best lr: {arm} test loss (nats, mean of {inits})",
                at_best[arm][1],
                f"lr {best:g}, the best of {', '.join(f'{r:g}' for r in grid)} "
                f"on seed {seeds[0]}'s validation split",
            )
        ctx.progress(done + 1, len(arms))

    setup = f"{inits}, {cfg.steps} Adam steps without warm-up, {cfg.layers} blocks of {cfg.d_model}"
    setup += "" if cfg.norm_position == "pre" else ", norm_position=post in Pre-LN's place"
    ctx.target(
        f"lr {high:g}, no warm-up: test loss Post-LN − Pre-LN (nats)",
        at_high["Post-LN"] - at_high["Pre-LN"],
        CLAIM,
        detail=f"{setup}; {at_high['Post-LN']:.3f} vs {at_high['Pre-LN']:.3f}, floor {floor:.3f}",
    )
    if len(at_best) == len(ARMS):
        (lr_pre, pre), (lr_warm, warm) = at_best["Pre-LN"], at_best["Post-LN + warm-up"]
        ctx.target(  # the full run only (3 inits, 120 steps): Pre-LN without warm-up as good
            "each at its best lr: test loss Pre-LN (no warm-up) − Post-LN with warm-up (nats)",
            pre - warm,
            WARMUP_MARGIN,
            higher_is_better=False,
            detail=f"Pre-LN at lr {lr_pre:g} {pre:.3f}, Post-LN with {cfg.warmup} warm-up steps at lr "
            f"{lr_warm:g} {warm:.3f}",
        )


# -- bench ----------------------------------------------------------------------------------------------
def bench(ctx: RunContext) -> None:
    batch, length, d = (4, 32, 64) if ctx.quick else (16, 128, 256)
    x = torch.randn(batch, length, d, device=ctx.device)
    variants: list[tuple[str, nn.Module]] = [
        ("Post-LN block", Block(d, 4, "post")),
        ("Pre-LN block", Block(d, 4, "pre")),
    ]
    bench_layers(ctx, variants, x, unit="sequences/s")
