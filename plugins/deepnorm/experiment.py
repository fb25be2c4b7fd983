"""DeepNorm at toy scale: the block equals the equations, α and β are Table 1's, the initialisation scales
what the paper says, and a deep Post-LN transformer that fails at a high learning rate trains at it with
DeepNorm.

check: one block of each kind (Post-LN, Pre-LN, DeepNorm) equals a float64 reference written from the
       equations with the same weights (causal attention, LayerNorm and GELU written out), forward and every
       gradient, on three shapes (one a single token); DeepNorm with α = β = 1 is Post-LN exactly (the same
       weights, outputs and gradients, bit for bit); α and β for N = 1, 6, 18, 100 equal Table 1's formula
       worked out by hand (and the encoder-decoder row for 6L-6L); the initialisation's measured std is
       β·√(2/(fan_in + fan_out)) for the value, output and feed-forward weights and gain 1 for query and key;
       and the paper's mechanism (section 4): after one SGD step from the same weights, the 8-layer
       DeepNorm model's output moves far less than Post-LN's (‖ΔF‖/‖F‖).
train: a decoder-only language model, 8 blocks of width 32, on text from a random 16-symbol Markov chain,
       Adam without warm-up; Post-LN, DeepNorm and Pre-LN from the same seed (DeepNorm's weights are
       Post-LN's, β-scaled where the paper says), same batches. Asserted: at the high rate (1e-2) Post-LN's
       held-out loss stays at least 0.5 nats above DeepNorm's (quick: 1 init, 50 steps, these two arms
       only; full: 3 inits averaged, 120 steps). The full run also gives each arm, Pre-LN too, its best rate
       of the grid 1e-3, 3e-3, 1e-2 (chosen on a validation split) and reports the losses there.
bench: one block of each kind, forward and forward+backward; DeepNorm costs Post-LN plus one multiply.
"""

from __future__ import annotations

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
from .model import (
    SCALED,
    Block,
    DeepTransformer,
    NormPosition,
    deepnorm_constants,
    deepnorm_init_,
    xavier_std,
)

VOCAB, LENGTH, HEADS = 16, 16, 4  # a first-order chain over 16 symbols, sequences of 16 tokens
N_HELD_OUT = 256  # held-out sequences: the first half picks the rate (validation), the second is reported
SEED_STRIDE = 100  # run seed s trains seeds 100·s, 100·s + 1, ...: no two runs share an initialisation
LOW_RATES = (1e-3, 3e-3)  # the grid below lr_high; the quick run keeps 1e-3 only
#: The claim: at the high rate, Post-LN's held-out loss is at least half a nat above DeepNorm's (a third of
#: what there is to learn: a unigram model scores about 2.6 nats, the chain's floor about 1.1).
CLAIM = 0.5
ARMS = ("Post-LN", "DeepNorm", "Pre-LN")


# -- check ----------------------------------------------------------------------------------------------
class _ReferenceBlock(nn.Module):
    """The three residual forms written from the equations, in the parameters' own dtype: attention as
    softmax(q kᵀ / √d + causal mask) v per head, LN(a) = g (a − μ)/√(σ² + ε) + b, GELU with erf. The same
    parameter names as ``Block`` (the modules are only holders), so a state dict copies across."""

    def __init__(self, d_model: int, n_heads: int, position: NormPosition, alpha: float) -> None:
        super().__init__()
        self.position, self.alpha, self.n_heads = position, alpha, n_heads
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
        if self.position == "pre":  # x + G(LN(x))
            x = x + self._attention(self._ln(self.ln1, x))
            return x + self._ffn(self._ln(self.ln2, x))
        x = self._ln(self.ln1, self.alpha * x + self._attention(x))  # LN(α·x + G(x)), α = 1 for Post-LN
        return self._ln(self.ln2, self.alpha * x + self._ffn(x))


def check(ctx: RunContext) -> None:
    d, alpha6 = 16, deepnorm_constants(6)[0]  # a 6-layer model's α = 12^(1/4)
    blocks: tuple[tuple[NormPosition, float], ...] = (("post", 1.0), ("pre", 1.0), ("deepnorm", alpha6))
    for position, alpha in blocks:
        for shape in ((2, 5, d), (1, 1, d), (3, 7, d)):
            _compare_block(ctx, position, alpha, shape)
    _check_reduces_to_post_ln(ctx)
    _check_constants(ctx)
    _check_init(ctx)
    _check_model_update(ctx)


def _compare_block(
    ctx: RunContext, position: NormPosition, alpha: float, shape: tuple[int, int, int]
) -> None:
    """``Block`` against ``_ReferenceBlock`` with the same random parameters (weights N(0, 1/fan_in), biases
    and LN gains and shifts random too, so that no 1 or 0 hides a bug), forward and every gradient, in each
    of the run's check dtypes."""
    d = shape[-1]
    for dtype in ctx.check_dtypes:
        ours = Block(d, 2, position, alpha).to(ctx.device, dtype)
        with torch.no_grad():
            for name, p in ours.named_parameters():
                p.normal_(1.0 if name.startswith("ln") and name.endswith("weight") else 0.0, 0.5)
                if p.dim() == 2:
                    p.mul_(2 / math.sqrt(p.shape[1]))  # std 1/√fan_in
        ref = _ReferenceBlock(d, 2, position, alpha).to(ctx.device, dtype)
        ref.load_state_dict(ours.state_dict())
        x = torch.randn(*shape, dtype=dtype, device=ctx.device)
        out, grads = ctx.value_and_grads(ours, x, params=list(ours.parameters()))
        expected, ref_grads = ctx.value_and_grads(ref, x, params=list(ref.parameters()))
        label = f"{position}, α={alpha:.4g}, x {tuple(shape)} ({dtype_name(dtype)})"
        ctx.check_close(f"forward vs the equations, {label}", out, expected)
        ctx.check_close(
            f"gradients (input and all 16 parameters) vs the equations, {label}", grads, ref_grads
        )


def _check_reduces_to_post_ln(ctx: RunContext) -> None:
    """α = β = 1: the same weights from the same seed, the same outputs and gradients, bit for bit."""
    tokens = torch.randint(0, VOCAB, (4, LENGTH), device=ctx.device)
    models = []
    pair: tuple[tuple[NormPosition, float | None], ...] = (("post", None), ("deepnorm", 1.0))
    for position, scale in pair:
        torch.manual_seed(ctx.seed)
        models.append(
            DeepTransformer(VOCAB, LENGTH, 32, HEADS, 4, position, alpha=scale, beta=scale).to(ctx.device)
        )
    outs, grads = [], []
    for model in models:
        out = model(tokens)
        outs.append(out)
        grads.append(torch.autograd.grad(out.square().sum(), list(model.parameters())))
    same_weights = all(
        torch.equal(p, q) for p, q in zip(models[0].parameters(), models[1].parameters(), strict=True)
    )
    same = torch.equal(outs[0], outs[1]) and all(torch.equal(a, b) for a, b in zip(*grads, strict=True))
    ctx.check_property(
        "DeepNorm with α = β = 1 is Post-LN exactly (same seed: weights, logits, gradients bit for bit)",
        same_weights and same,
        f"weights equal: {same_weights}; max |Δ logits| {(outs[0] - outs[1]).abs().max().item():.2g}",
    )


# Table 1, worked out by hand: (2N)^(1/4) and (8N)^(−1/4) for the encoder-only / decoder-only rows.
TABLE = {
    1: (1.189207115002721, 0.5946035575013605),  # 2^(1/4), 8^(−1/4)
    6: (1.861209718204199, 0.3799178428257963),  # 12^(1/4), 48^(−1/4)
    18: (2.449489742783178, 0.2886751345948129),  # √6, 1/√12
    100: (3.760603093086394, 0.1880301546543197),  # 200^(1/4), 800^(−1/4)
}
# The encoder-decoder row for 6 encoder and 6 decoder layers: 0.81·(6⁴·6)^(1/16), 0.87·(6⁵)^(−1/16);
# the decoder's (3·6)^(1/4), (12·6)^(−1/4).
ENCODER_DECODER_6_6 = ((1.417938140685523, 0.4969892407713235), (2.059767143907118, 0.3432945239845196))


def _check_constants(ctx: RunContext) -> None:
    for n, (alpha, beta) in TABLE.items():
        for kind in ("encoder", "decoder"):
            got = deepnorm_constants(n, kind)
            ctx.check_property(
                f"Table 1, {kind}-only N={n}: α = (2N)^¼ = {alpha:.6f}, β = (8N)^−¼ = {beta:.6f}",
                math.isclose(got[0], alpha, rel_tol=1e-12) and math.isclose(got[1], beta, rel_tol=1e-12),
                f"got α {got[0]:.15g}, β {got[1]:.15g}",
            )
    enc = deepnorm_constants(6, "encoder-decoder encoder", other_layers=6)
    dec = deepnorm_constants(6, "encoder-decoder decoder")
    expected = ENCODER_DECODER_6_6
    ctx.check_property(
        "Table 1, encoder-decoder 6L-6L: encoder α = 0.81(N⁴M)^(1/16), β = 0.87(N⁴M)^(−1/16); "
        "decoder α = (3M)^¼, β = (12M)^−¼",
        all(
            math.isclose(g, e, rel_tol=1e-12)
            for g, e in zip((*enc, *dec), (*expected[0], *expected[1]), strict=True)
        ),
        f"encoder α {enc[0]:.6f}, β {enc[1]:.6f}; decoder α {dec[0]:.6f}, β {dec[1]:.6f}",
    )


def _check_init(ctx: RunContext) -> None:
    """A wide block's weights: std β·√(2/(fan_in + fan_out)) where the paper scales, gain 1 for q and k."""
    d, beta = 256, deepnorm_constants(18)[1]  # (256·1024 = 262,144 draws in fc1: the std to ±0.3%)
    block = Block(d, 4, "deepnorm", deepnorm_constants(18)[0]).to(ctx.device, ctx.exact_dtype)
    deepnorm_init_(block, beta)
    for name in ("q_proj", "k_proj", *SCALED):
        linear = block.get_submodule(("attn." if name.endswith("proj") else "") + name)
        assert isinstance(linear, nn.Linear)
        gain = beta if name in SCALED else 1.0
        expected, measured = xavier_std(linear, gain), linear.weight.std().item()
        ctx.check_property(
            f"init, N=18: std of {name}.weight = {'β' if gain != 1 else '1'}·√(2/(fan_in + fan_out)) (±2%)",
            abs(measured / expected - 1) < 0.02 and bool((linear.bias == 0).all()),
            f"measured {measured:.5f}, expected {expected:.5f} (β = {beta:.4f}); bias zero",
            value=measured / expected,
        )


def _model_update(ctx: RunContext, position: NormPosition, layers: int, tokens: torch.Tensor) -> float:
    """‖F(θ − η∇L) − F(θ)‖ / ‖F(θ)‖ for the final hidden states F, after one SGD step (η = 0.1)."""
    torch.manual_seed(ctx.seed)
    model = DeepTransformer(VOCAB, LENGTH, 32, HEADS, layers, position).to(ctx.device, ctx.exact_dtype)

    def hidden() -> torch.Tensor:
        x = model.embed(tokens) + model.position(torch.arange(tokens.shape[1], device=tokens.device))
        for block in model.blocks:
            x = block(x)
        return model.ln_f(x)

    with torch.no_grad():
        before = hidden()
    loss = F.cross_entropy(model(tokens)[:, :-1].flatten(0, 1), tokens[:, 1:].flatten())
    grads = torch.autograd.grad(loss, list(model.parameters()))
    with torch.no_grad():
        for p, g in zip(model.parameters(), grads, strict=True):
            p.sub_(0.1 * g)
        return ((hidden() - before).norm() / before.norm()).item()


def _check_model_update(ctx: RunContext) -> None:
    """Section 4: Post-LN's instability is a large model update early in training; DeepNorm bounds it."""
    tokens = torch.randint(0, VOCAB, (16, LENGTH), device=ctx.device)
    post, deep = (_model_update(ctx, position, 8, tokens) for position in ("post", "deepnorm"))
    alpha, beta = deepnorm_constants(8)
    ctx.check_property(
        "one SGD step (lr 0.1), 8 layers: DeepNorm's model update ‖ΔF‖/‖F‖ ≤ Post-LN's / 5",
        deep <= post / 5,
        f"Post-LN {post:.3f}, DeepNorm {deep:.3f} (α = {alpha:.3f}, β = {beta:.3f})",
        value=post / deep,
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


def _build(cfg: Config, arm: str) -> DeepTransformer:
    make = partial(DeepTransformer, VOCAB, LENGTH, cfg.d_model, HEADS, cfg.layers)
    if arm == "Post-LN":
        return make("post")
    if arm == "Pre-LN":
        return make("pre")
    alpha, beta = deepnorm_constants(cfg.layers, "decoder")  # Table 1's decoder-only row
    alpha = 1.0 if cfg.residual in ("init-only", "post") else alpha  # --set residual=…: the ablations
    beta = 1.0 if cfg.residual in ("alpha-only", "post") else beta
    return make("deepnorm", alpha=alpha, beta=beta)


def _train_one(ctx: RunContext, cfg: Config, text: MarkovText, seed: int, arm: str, lr: float) -> _Run:
    """Adam at ``lr`` from step 0 (no warm-up) on ``text``; the same initial draws and batches for every
    arm given ``seed``. A run whose loss turns non-finite stops there and scores ln 16, a model that learnt
    nothing (diverged counts as failed)."""
    torch.manual_seed(seed)
    model = _build(cfg, arm).to(ctx.device)
    opt = torch.optim.Adam(model.parameters(), lr=lr, foreach=True)  # one kernel per step, not per tensor
    g = torch.Generator().manual_seed(seed)
    losses: list[float] = []
    for _ in range(cfg.steps):
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
    setup += "" if cfg.residual == "deepnorm" else f", residual={cfg.residual} in DeepNorm's place"
    ctx.target(
        f"lr {high:g}, no warm-up: test loss Post-LN − DeepNorm (nats)",
        at_high["Post-LN"] - at_high["DeepNorm"],
        CLAIM,
        detail=f"{setup}; {at_high['Post-LN']:.3f} vs {at_high['DeepNorm']:.3f}"
        + (f" (Pre-LN {at_high['Pre-LN']:.3f})" if "Pre-LN" in at_high else "")
        + f", floor {floor:.3f}",
    )
    if "Post-LN" in at_best and "DeepNorm" in at_best:
        (lr_post, post), (lr_deep, deep) = at_best["Post-LN"], at_best["DeepNorm"]
        ctx.measured(
            "each at its best lr: test loss Post-LN − DeepNorm (nats)",
            post - deep,
            f"Post-LN at lr {lr_post:g} {post:.3f}, DeepNorm at lr {lr_deep:g} {deep:.3f}",
        )


# -- bench ----------------------------------------------------------------------------------------------
def bench(ctx: RunContext) -> None:
    batch, length, d = (4, 32, 64) if ctx.quick else (16, 128, 256)
    x = torch.randn(batch, length, d, device=ctx.device)
    alpha = deepnorm_constants(18)[0]
    variants: list[tuple[str, nn.Module]] = [
        ("Post-LN block", Block(d, 4, "post")),
        ("Pre-LN block", Block(d, 4, "pre")),
        ("DeepNorm block", Block(d, 4, "deepnorm", alpha)),
    ]
    bench_layers(ctx, variants, x, unit="sequences/s")
