"""MEGABYTE at toy scale: the patch embedder's offsets and the whole model exact against loop-written eqs. 2
and 4 with PyTorch's own transformer layers, causality through the Jacobian, padding, the FLOP count, and
the multiscale model against a flat transformer of the same width on Markov bytes.

check: the decoder block against ``nn.TransformerEncoderLayer(norm_first=True)`` with a causal mask and the
       same weights; the global input (eq. 2, one-patch offset and pad) and the local input (eq. 4, one-byte
       offset and pad) against loops over patches and bytes; the whole model against a reference built from
       those loops and the built-in layers, forward and every gradient, T = 1, 3, 8, 13 with P = 4 (lengths
       no multiple of P padded), float64 then float32; padding changes no real prediction; causality
       through the Jacobian (the prediction of byte t+1 depends on every byte ≤ t and on nothing later);
       the analytic matmul FLOPs of both models equal to ``FlopCounterMode``'s count.
train: an order-2 Markov chain over 16 byte values (exact entropy floor), sequences of 32: MEGABYTE (P = 4,
       quick: 8; global model 64 wide, 2 layers; local model 32 wide, 1 layer) against the flat decoder of
       the same width and depth (64, 2 layers), same seed and batches, at equal training compute (MEGABYTE
       takes 2.78 times the updates, quick: 4.14), each at its own best Adam rate on validation text
       (warm-up, cosine); held-out nats above the floor, and each model's forward FLOPs per sequence.
bench: forward + backward of both models at T = 256 and 512 (quick: 64 and 256), with their FLOPs.
"""

from __future__ import annotations

from functools import partial

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from readtrack.api import RunContext, dtype_name
from readtrack.plugin_kit import rates
from readtrack.plugin_kit.checks import check_causal
from readtrack.plugin_kit.tasks import MarkovText

from .config import Config
from .model import Block, Flat, Megabyte, MegabyteConfig, Transformer, global_input, local_offset

P, D_FLAT, LAYERS, HEADS = 4, 64, 2, 4
TRAIN_CONFIG = MegabyteConfig(vocab=16, P=P, max_len=1024, d_G=D_FLAT // P, d_L=32, global_layers=LAYERS)


# -- check ---------------------------------------------------------------------------------------------
def reference_layer(block: Block) -> nn.TransformerEncoderLayer:
    """PyTorch's pre-LN encoder layer with a copy of ``block``'s weights (causal mask → a decoder block)."""
    D = block.ln_1.normalized_shape[0]
    layer = nn.TransformerEncoderLayer(
        D, block.attn.n_heads, 4 * D, dropout=0.0, activation="gelu", batch_first=True, norm_first=True
    ).to(block.ln_1.weight.device, block.ln_1.weight.dtype)
    with torch.no_grad():
        for ref, ours in zip(reference_parameters(layer), block.parameters(), strict=True):
            ref.copy_(ours)
    return layer


def reference_parameters(layer: nn.TransformerEncoderLayer) -> list[torch.Tensor]:
    """The built-in layer's parameters in the order of ``Block.parameters()``."""
    return [
        layer.norm1.weight, layer.norm1.bias,
        layer.self_attn.in_proj_weight, layer.self_attn.in_proj_bias,  # [W_Q; W_K; W_V], as c_attn
        layer.self_attn.out_proj.weight, layer.self_attn.out_proj.bias,
        layer.norm2.weight, layer.norm2.bias,
        layer.linear1.weight, layer.linear1.bias,
        layer.linear2.weight, layer.linear2.bias,
    ]  # fmt: skip


def causal_layers(layers: list[nn.TransformerEncoderLayer], x: torch.Tensor) -> torch.Tensor:
    """x (B, N, D) through the built-in layers with a causal mask (True = may not attend)."""
    N = x.shape[1]
    future = torch.ones(N, N, dtype=torch.bool, device=x.device).triu(1)
    for layer in layers:
        x = layer(x, src_mask=future, is_causal=True)
    return x


class ReferenceStack:
    """A ``Transformer`` rebuilt from the built-in layers (copies of its blocks) and its final LayerNorm."""

    def __init__(self, stack: Transformer) -> None:
        self.layers = [reference_layer(b) for b in stack.blocks if isinstance(b, Block)]
        self.ln_f = stack.ln_f  # shared: the same parameters

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return self.ln_f(causal_layers(self.layers, x))

    def params(self) -> list[torch.Tensor]:
        """In the order of the stack's own parameters."""
        layers = [p for layer in self.layers for p in reference_parameters(layer)]
        return [*layers, self.ln_f.weight, self.ln_f.bias]


def global_input_loop(h_embed: torch.Tensor, pad: torch.Tensor, P: int) -> torch.Tensor:
    """Eq. 2 patch by patch: patch 0 is the pad, patch k the embeddings of bytes (k−1)P … kP−1 end to end."""
    K = h_embed.shape[1] // P
    rows = []
    for k in range(K):
        if k == 0:
            rows.append(pad.expand(h_embed.shape[0], -1))
        else:
            rows.append(torch.cat([h_embed[:, (k - 1) * P + j] for j in range(P)], dim=-1))
    return torch.stack(rows, dim=1)  # (B, K, P·D_G)


def local_offset_loop(byte_embed: torch.Tensor, pad: torch.Tensor) -> torch.Tensor:
    """Eq. 4's embedding term byte by byte: position p of patch k holds byte kP + p − 1, p = 0 the pad."""
    _, K, P, _ = byte_embed.shape
    out = torch.empty_like(byte_embed)
    for k in range(K):
        for p in range(P):
            out[:, k, p] = pad if p == 0 else byte_embed[:, k, p - 1]
    return out


def reference_megabyte(
    model: Megabyte, stacks: tuple[ReferenceStack, ReferenceStack], x: torch.Tensor
) -> torch.Tensor:
    """Eqs. 1-6 written again: padding, the loops above, the built-in layers for both transformers."""
    cfg = model.cfg
    B, T = x.shape
    K = -(-T // cfg.P)
    padded = torch.cat([x, x.new_zeros(B, K * cfg.P - T)], dim=1)  # (B, K·P)
    h_embed = model.E_global_embed[padded] + model.E_pos[: K * cfg.P]  # (B, K·P, D_G)
    h = global_input_loop(h_embed, model.E_global_pad, cfg.P)  # (B, K, P·D_G)
    h = stacks[0](h)  # (B, K, P·D_G)
    local = torch.stack(
        [model.w_GL(h[:, :, p * cfg.d_G : (p + 1) * cfg.d_G]) for p in range(cfg.P)], dim=2
    )  # (B, K, P, D_L): w^GL times slice p of each patch's global output
    local = local + local_offset_loop(model.E_local_embed[padded].view(B, K, cfg.P, -1), model.E_local_pad)
    out = stacks[1](local.flatten(0, 1))  # (B·K, P, D_L)
    return (out @ model.E_local_embed.T).reshape(B, K * cfg.P, -1)[:, :T]


def _randomise(module: nn.Module) -> None:
    with torch.no_grad():
        for p in module.parameters():
            p.normal_(0.0, 0.3 if p.dim() == 2 else 1.0)


def _embedding_params(model: Megabyte) -> list[torch.Tensor]:
    """The parameters outside the two transformers, shared by ours and the reference."""
    own = [model.E_global_embed, model.E_pos, model.E_global_pad, model.E_local_embed, model.E_local_pad]
    return [*own, model.w_GL.weight, model.w_GL.bias]


SMALL = MegabyteConfig(vocab=7, P=4, max_len=16, d_G=4, d_L=8, global_layers=2, local_layers=2, heads=2)


def check(ctx: RunContext) -> None:
    for dtype in ctx.check_dtypes:
        name = dtype_name(dtype)
        for n in (1, 6):
            block = Block(12, 3).to(ctx.device, dtype)
            _randomise(block)
            layer = reference_layer(block)
            x = torch.randn(2, n, 12, dtype=dtype, device=ctx.device)
            ours, grads = ctx.value_and_grads(block, x, params=list(block.parameters()))
            ref, ref_grads = ctx.value_and_grads(
                partial(causal_layers, [layer]), x, params=reference_parameters(layer)
            )
            ctx.check_close(
                f"block vs nn.TransformerEncoderLayer (pre-LN, causal), N={n} ({name})", ours, ref
            )
            ctx.check_close(f"block gradients vs the built-in, N={n} ({name})", grads, ref_grads)

        g = torch.Generator().manual_seed(ctx.seed)
        for K, P_ in ((1, 4), (3, 4), (5, 3)):
            h = torch.randn(2, K * P_, 5, generator=g, dtype=dtype).to(ctx.device)
            pad = torch.randn(P_ * 5, generator=g, dtype=dtype).to(ctx.device)
            ctx.check_close(
                f"eq. 2 global input (one-patch offset, pad) vs a loop, K={K}, P={P_} ({name})",
                global_input(h, pad, P_),
                global_input_loop(h, pad, P_),
                atol=0.0,
                rtol=0.0,
            )
            e = torch.randn(2, K, P_, 6, generator=g, dtype=dtype).to(ctx.device)
            pad_l = torch.randn(6, generator=g, dtype=dtype).to(ctx.device)
            ctx.check_close(
                f"eq. 4 local input (one-byte offset, pad) vs a loop, K={K}, P={P_} ({name})",
                local_offset(e, pad_l),
                local_offset_loop(e, pad_l),
                atol=0.0,
                rtol=0.0,
            )

        model = Megabyte(SMALL).to(ctx.device, dtype)
        _randomise(model)
        stacks = (ReferenceStack(model.global_model), ReferenceStack(model.local_model))
        ours_params = [
            *_embedding_params(model),
            *model.global_model.parameters(),
            *model.local_model.parameters(),
        ]
        ref_params = [*_embedding_params(model), *stacks[0].params(), *stacks[1].params()]
        for T in (1, 3, 8, 13):
            x = torch.randint(0, SMALL.vocab, (2, T), generator=g).to(ctx.device)
            ours, grads = ctx.value_and_grads(partial(model, x), params=ours_params)
            ref, ref_grads = ctx.value_and_grads(
                partial(reference_megabyte, model, stacks, x), params=ref_params
            )
            pad_note = "" if T % SMALL.P == 0 else ", padded"
            ctx.check_close(
                f"MEGABYTE logits vs eqs. 1-6 with loops and built-in layers, T={T}{pad_note} ({name})",
                ours,
                ref,
            )
            ctx.check_close(
                f"MEGABYTE gradients (every parameter) vs the reference, T={T}{pad_note} ({name})",
                grads,
                ref_grads,
            )

        x = torch.randint(0, SMALL.vocab, (3, 16), generator=g).to(ctx.device)
        with torch.no_grad():
            ctx.check_close(
                f"padding: logits of the first 13 bytes alone = the first 13 of 16 ({name})",
                model(x[:, :13]),
                model(x)[:, :13],
            )
    _check_causality(ctx)
    _check_flops(ctx)


def _check_causality(ctx: RunContext) -> None:
    """Row i of the function below predicts byte i + 1 from one-hot bytes 0 … i: it must depend on each of
    them (across patches through the global model, within a patch through the local one), on nothing later."""
    model = Megabyte(SMALL).to(ctx.device, ctx.exact_dtype)
    _randomise(model)
    N = 11  # 3 patches of 4, the last one padded

    def next_byte(onehot: torch.Tensor) -> torch.Tensor:  # (1, N, V) → (1, N, V)
        unknown = onehot.new_zeros(1, 1, SMALL.vocab)  # byte N is the one predicted last: not an input
        return model(torch.cat([onehot, unknown], dim=1))[:, 1:]

    x = torch.randint(0, SMALL.vocab, (1, N), device=ctx.device)
    onehot = F.one_hot(x, SMALL.vocab).to(ctx.exact_dtype)
    with torch.no_grad():
        ctx.check_close("one-hot bytes give the same logits as byte indices", model(onehot), model(x))
    check_causal(ctx, f"MEGABYTE (P={SMALL.P}, N={N})", next_byte, onehot)


def megabyte_flops(cfg: MegabyteConfig, B: int, T: int) -> int:
    """Forward matmul FLOPs (2 per multiply-add) of ``Megabyte`` on (B, T) bytes: the global model on K
    patches P·D_G wide, w^GL on every byte, the local model on K patches of P, the read-out."""
    K = -(-T // cfg.P)
    D = cfg.P * cfg.d_G
    glob = cfg.global_layers * (24 * K * D * D + 4 * K * K * D)
    local = cfg.local_layers * K * (24 * cfg.P * cfg.d_L**2 + 4 * cfg.P * cfg.P * cfg.d_L)
    return B * (glob + 2 * K * cfg.P * cfg.d_G * cfg.d_L + local + 2 * K * cfg.P * cfg.d_L * cfg.vocab)


def flat_flops(vocab: int, d: int, layers: int, B: int, T: int) -> int:
    """The flat decoder: per layer 24·T·d² (Q, K, V, output and the 4d MLP) + 4·T²·d (QKᵀ and AV),
    then the read-out 2·T·d·V."""
    return B * (layers * (24 * T * d * d + 4 * T * T * d) + 2 * T * d * vocab)


def counted_flops(model: nn.Module, x: torch.Tensor) -> int:
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(x)
    return int(counter.get_total_flops())


def _check_flops(ctx: RunContext) -> None:
    for cfg, B, T in ((SMALL, 2, 13), (TRAIN_CONFIG, 1, 32), (TRAIN_CONFIG, 2, 70)):
        x = torch.randint(0, cfg.vocab, (B, T), device=ctx.device)
        model = Megabyte(cfg).to(ctx.device)
        ctx.check_close(
            f"MEGABYTE FLOPs: formula vs FlopCounterMode, P={cfg.P}, B={B}, T={T}",
            float(megabyte_flops(cfg, B, T)),
            float(counted_flops(model, x)),
            atol=0.0,
            rtol=0.0,
        )
        flat = Flat(cfg.vocab, 128, D_FLAT, HEADS, LAYERS).to(ctx.device)
        ctx.check_close(
            f"flat FLOPs: formula vs FlopCounterMode, d={D_FLAT}, B={B}, T={T}",
            float(flat_flops(cfg.vocab, D_FLAT, LAYERS, B, T)),
            float(counted_flops(flat, x)),
            atol=0.0,
            rtol=0.0,
        )


# -- train ---------------------------------------------------------------------------------------------
GRID = (3e-3, 1e-2, 3e-2)  # Adam learning rates: each model gets its own best, picked on validation text
# The quick run trains only the rate this grid picks for each model at the quick budget (P = 8, 80 flat
# updates) on seeds 100-104, summed validation loss (run the full grid with --impl grid --quick): 3e-3 for
# the flat model, 1e-2 for MEGABYTE.
QUICK_LR = {"flat": 3e-3, "MEGABYTE": 1e-2}
WARMUP = 0.05  # of the steps: linear warm-up from 0, then cosine decay to 0, for both models


def _model(name: str, cfg: MegabyteConfig, d_flat: int) -> nn.Module:
    """MEGABYTE, or the flat decoder ``d_flat`` wide with as many layers as the global model."""
    if name == "MEGABYTE":
        return Megabyte(cfg)
    return Flat(cfg.vocab, cfg.max_len, d_flat, cfg.heads, cfg.global_layers)


def held_out_loss(model: nn.Module, held_out: torch.Tensor, order: int) -> float:
    """Mean nats on the held-out positions t ≥ order (where the chain's floor is computed)."""
    with torch.no_grad():
        logits = model(held_out)[:, order:]  # row t predicts x_t
    return F.cross_entropy(logits.flatten(0, 1), held_out[:, order:].flatten()).item()


def fit(
    ctx: RunContext, cfg: Config, model: nn.Module, name: str, lr: float, steps: int, text: MarkovText
) -> None:
    """``steps`` Adam updates of ``cfg.batch`` sequences, warm-up then cosine, on seed ``ctx.seed``'s batches
    (the same batches, in the same order, for both models)."""
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        opt, partial(rates.warmup_cosine, steps=steps, warmup=WARMUP)
    )
    g = torch.Generator().manual_seed(ctx.seed)
    for step in range(steps):
        x = text.batch(cfg.batch, g)  # (batch, T)
        loss = F.cross_entropy(model(x)[:, 1:].flatten(0, 1), x[:, 1:].flatten())  # x_1 … x_(T−1)
        opt.zero_grad()
        loss.backward()
        opt.step()
        schedule.step()
        if step % 10 == 0:
            ctx.metric(f"train loss, {name}, lr {lr:g}", step, loss.item())


def train(ctx: RunContext) -> None:
    cfg = ctx.config(Config)
    model_cfg = MegabyteConfig(
        vocab=16,
        P=cfg.patch,
        max_len=TRAIN_CONFIG.max_len,
        d_G=cfg.d_model // cfg.patch,
        d_L=cfg.local_width,
        global_layers=cfg.layers,
        local_bytes=cfg.local == "bytes",
    )
    text = MarkovText.make(ctx.seed, length=cfg.seq_len, device=ctx.device)
    order = text.chain.order
    # validation text from the same chain (seed + 2; held-out text is seed + 1) picks the learning rates
    validation = text.chain.sample(
        512, cfg.seq_len, torch.Generator().manual_seed(ctx.seed + 2), device=ctx.device
    )
    flops = {
        name: counted_flops(_model(name, model_cfg, cfg.d_model).to(ctx.device), text.held_out[:1])
        for name in ("MEGABYTE", "flat")
    }
    ratio = flops["MEGABYTE"] / flops["flat"]
    ctx.measured(
        f"MEGABYTE's FLOPs per sequence / the flat model's, T = {cfg.seq_len}",
        ratio,
        f"forward FLOPs per sequence: MEGABYTE {flops['MEGABYTE']:,}, flat {flops['flat']:,}",
    )
    # The paper compares models at equal training compute (table 2): MEGABYTE costs 0.36 of the flat
    # model's FLOPs per sequence with P = 4 (0.24 with P = 8, the quick run's), so it takes 1/0.36 = 2.78
    # times the flat model's updates (4.14).
    steps = {"flat": cfg.steps, "MEGABYTE": max(1, round(cfg.steps / ratio))}
    gap: dict[str, float] = {}
    for name in ("flat", "MEGABYTE"):
        grid = rates.rates(ctx, GRID, QUICK_LR[name]) if cfg.lr == 0 else (cfg.lr,)
        by_lr: dict[float, tuple[float, float]] = {}  # lr → (validation, held-out) nats
        for lr in grid:
            torch.manual_seed(ctx.seed)  # each rate from the same initialisation
            model = _model(name, model_cfg, cfg.d_model).to(ctx.device)
            fit(ctx, cfg, model, name, lr, steps[name], text)
            by_lr[lr] = (held_out_loss(model, validation, order), held_out_loss(model, text.held_out, order))
            ctx.progress(len(gap) * len(grid) + len(by_lr), 2 * len(grid))
        val = {lr: v for lr, (v, _) in by_lr.items()}
        gap[name] = by_lr[rates.best(val)][1] - text.floor
        ctx.measured(
            f"held-out nats above the entropy floor, {name}",
            gap[name],
            f"{steps[name]} steps; floor {text.floor:.3f} nats; {rates.choice(val, '.3f')}",
        )
    # Quick (P = 8): early in training, where MEGABYTE's 4.14 times the updates put it ahead by at least 0.1
    # nats (the claim). Full (P = 4): both near the floor, where the nearest claim that holds is that
    # MEGABYTE is at most 0.1 nats behind.
    setup = f"P = {cfg.patch}" + ("" if cfg.local == "bytes" else ", local=pad (no byte of its own patch)")
    ctx.target(
        "MEGABYTE nats above the floor minus the flat model's, at equal training compute",
        gap["MEGABYTE"] - gap["flat"],
        -0.1 if ctx.quick else 0.1,
        higher_is_better=False,
        detail=f"{setup}; flat {steps['flat']}, MEGABYTE {steps['MEGABYTE']} Adam updates of {cfg.batch} "
        f"sequences of {cfg.seq_len} bytes (warm-up, cosine), Markov order 2 over 16 values",
    )


# -- bench ---------------------------------------------------------------------------------------------
def bench(ctx: RunContext) -> None:
    sizes = (64, 256) if ctx.quick else (256, 512)
    for T in sizes:
        x = torch.randint(0, 16, (4, T), device=ctx.device)
        for name in ("MEGABYTE", "flat"):
            model = _model(name, TRAIN_CONFIG, D_FLAT).to(ctx.device)
            params: list[torch.Tensor] = list(model.parameters())

            def step(
                model: nn.Module = model, params: list[torch.Tensor] = params, x: torch.Tensor = x
            ) -> None:
                torch.autograd.grad(F.cross_entropy(model(x).flatten(0, 1), x.flatten()), params)

            flops = 3 * (
                megabyte_flops(TRAIN_CONFIG, 4, T)
                if name == "MEGABYTE"
                else flat_flops(16, D_FLAT, LAYERS, 4, T)
            )
            ctx.bench.measure(
                f"{name} forward+backward, T = {T}",
                step,
                baseline=name == "flat" and sizes[0] == T,
                flops=flops,
                flop_formula="3 × forward matmul FLOPs (megabyte_flops / flat_flops)",
                tokens=4 * T,
                shape=(4, T),
                dtype=torch.float32,
            )
