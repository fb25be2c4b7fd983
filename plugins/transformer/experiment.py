"""The Transformer at toy scale: attention equal to PyTorch's, and an encoder-decoder that learns to reverse.

check: ``scaled_dot_product_attention`` equals ``torch.nn.functional.scaled_dot_product_attention`` with
       boolean, additive and causal masks; ``MultiHeadAttention`` equals ``nn.MultiheadAttention`` with the
       same weights (forward and gradients); the encoder and decoder layers (post-LN sub-layers, eq. 2's
       FFN, masked self-attention, cross-attention) equal ``nn.TransformerEncoderLayer`` and
       ``nn.TransformerDecoderLayer`` holding the same weights (forward and every gradient); the sinusoidal
       encodings equal sin and cos written out entry by entry; plus three properties the paper relies on:
       the decoder cannot see the future (``check_causal``: its Jacobian is block lower-triangular),
       attention without positions is permutation-equivariant, and PE(pos + k) is a fixed linear function
       of PE(pos).
train: a 2 + 2 layer encoder-decoder (d_model 64, 4 heads), trained with the paper's Adam and the warm-up
       schedule of eq. 3 (section 5.3, warm-up scaled to 50 steps), learns to reverse 10 random digits;
       greedy decoding of fresh sequences by the average of the last 5 checkpoints (section 6.1) must get
       at least 99% of the tokens right. The last weights' own accuracy is reported, not asserted.
bench: tokens/s of this MultiHeadAttention against ``nn.MultiheadAttention``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from readtrack.api import RunContext, dtype_name
from readtrack.plugin_kit.checks import check_causal
from readtrack.plugin_kit.tasks import reversal_batch

from .config import Config
from .model import (
    DecoderLayer,
    EncoderLayer,
    MultiHeadAttention,
    Transformer,
    TransformerConfig,
    scaled_dot_product_attention,
)
from .model import sinusoidal_positions as positions

BOS = 10  # digits are 0..9; the decoder starts from this extra token
CHECKPOINTS, CHECKPOINT_EVERY = 5, 10  # section 6.1 averages the last 5 checkpoints (10 minutes apart)


def check(ctx: RunContext) -> None:
    exact = ctx.exact_dtype
    for dtype in ctx.check_dtypes:
        _check_attention(ctx, dtype)
        _check_multi_head(ctx, dtype)
        _check_layers(ctx, dtype)
    _check_decoder_causality(ctx, exact)
    _check_permutation_equivariance(ctx, exact)

    # What the attention cases in _check_attention leave out: d_v ≠ d_k (they use 8 for both), a scale given
    # explicitly, and the ValueError for attn_mask and is_causal at once.
    g = torch.Generator().manual_seed(ctx.seed)
    query = torch.randn(2, 3, 13, 8, generator=g, dtype=exact)  # (B, H, L, d_k)
    key = torch.randn(2, 3, 17, 8, generator=g, dtype=exact)  # (B, H, S, d_k)
    value = torch.randn(2, 3, 17, 5, generator=g, dtype=exact)  # (B, H, S, d_v)
    scales: dict[str, dict[str, Any]] = {"d_v = 5 ≠ d_k = 8": {}, "scale = 0.3 given": {"scale": 0.3}}
    for case, kwargs in scales.items():
        qkv = (query, key, value)
        out, grads = ctx.value_and_grads(partial(scaled_dot_product_attention, **kwargs), *qkv)
        ref, ref_grads = ctx.value_and_grads(partial(F.scaled_dot_product_attention, **kwargs), *qkv)
        ctx.check_close(f"eq. 1 attention vs torch SDPA, {case} ({dtype_name(exact)})", out, ref)
        ctx.check_close(f"eq. 1 gradients vs torch SDPA, {case} ({dtype_name(exact)})", grads, ref_grads)
    query, key, value = (t.to(ctx.device) for t in (query, key, value))
    try:
        allowed = torch.ones(13, 17, dtype=torch.bool, device=ctx.device)
        scaled_dot_product_attention(query, key, value, attn_mask=allowed, is_causal=True)
        refused = "returned a tensor"
    except ValueError:
        refused = ""
    except Exception as err:  # the learner's code failing otherwise
        refused = f"raised {type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"
    ctx.check_property("attn_mask and is_causal at once raise ValueError", not refused, refused)

    # Section 3.5, written out number by number: PE(pos, 2i) = sin(pos / 10000^(2i/d)), PE(pos, 2i+1) = cos.
    pe = positions(128, 64)
    ctx.check_property(
        "sinusoidal positions are float64", pe.dtype == torch.float64, f"returned {dtype_name(pe.dtype)}"
    )
    d_odd = 15  # an odd width too: the last column is a sine without its cosine partner
    for width in (64, d_odd):
        formula = torch.tensor(
            [
                [
                    (math.sin if c % 2 == 0 else math.cos)(pos / 10000 ** ((c - c % 2) / width))
                    for c in range(width)
                ]
                for pos in range(128)
            ],
            dtype=torch.float64,
        )
        ctx.check_close(
            f"sinusoidal positions vs sin/cos written out per entry, d_model = {width}, pos 0..127",
            positions(128, width),
            formula,
        )

    # Section 3.5: "for any fixed offset k, PE_(pos+k) can be represented as a linear function of PE_pos".
    # Each (sin, cos) pair at frequency ω turns by the angle ω·k: the map is a block-diagonal rotation.
    d, k = 64, 7
    pe = positions(128, d).to(torch.float64)  # (128, d); its dtype is checked above
    omega = 1.0 / 10000 ** (torch.arange(0, d, 2, dtype=torch.float64) / d)  # (d/2,)
    c, s = torch.cos(omega * k), torch.sin(omega * k)
    M = torch.zeros(d, d, dtype=torch.float64)
    M[0::2, 0::2], M[0::2, 1::2] = torch.diag(c), torch.diag(s)  # sin(a+b) = sin a cos b + cos a sin b
    M[1::2, 0::2], M[1::2, 1::2] = torch.diag(-s), torch.diag(c)  # cos(a+b) = cos a cos b − sin a sin b
    ctx.check_close("PE(pos+7) = M·PE(pos) for one fixed matrix M, pos 0..120", pe[k:], pe[:-k] @ M.T)


def _check_attention(ctx: RunContext, dtype: torch.dtype) -> None:
    g = torch.Generator().manual_seed(ctx.seed)
    q = torch.randn(2, 3, 13, 8, generator=g, dtype=dtype)
    k, v = (torch.randn(2, 3, 17, 8, generator=g, dtype=dtype) for _ in range(2))
    allowed = torch.rand(2, 1, 13, 17, generator=g) < 0.7  # True = may attend (torch SDPA's convention)
    allowed[..., 0] = True  # every query may attend somewhere, so no row is all −∞
    additive = torch.randn(13, 17, generator=g, dtype=dtype)
    cases: dict[str, dict[str, Any]] = {
        "no mask": {},
        "boolean mask": {"attn_mask": allowed.to(ctx.device)},
        "additive mask": {"attn_mask": additive.to(ctx.device)},
        "causal, L≠S": {"is_causal": True},
    }
    for case, kwargs in cases.items():
        out, grads = ctx.value_and_grads(partial(scaled_dot_product_attention, **kwargs), q, k, v)
        ref, ref_grads = ctx.value_and_grads(partial(F.scaled_dot_product_attention, **kwargs), q, k, v)
        ctx.check_close(f"eq. 1 attention vs torch SDPA, {case} ({dtype_name(dtype)})", out, ref)
        ctx.check_close(f"eq. 1 gradients vs torch SDPA, {case} ({dtype_name(dtype)})", grads, ref_grads)


def _check_multi_head(ctx: RunContext, dtype: torch.dtype) -> None:
    d_model, heads = 32, 4
    torch.manual_seed(ctx.seed)
    ours = MultiHeadAttention(d_model, heads).to(ctx.device, dtype)
    ref = nn.MultiheadAttention(d_model, heads, batch_first=True).to(ctx.device, dtype)
    with torch.no_grad():  # nn.MultiheadAttention packs in_proj_weight = [W_q; W_k; W_v]
        ref.in_proj_weight.copy_(torch.cat([ours.W_q.weight, ours.W_k.weight, ours.W_v.weight]))
        ref.in_proj_bias.copy_(torch.cat([ours.W_q.bias, ours.W_k.bias, ours.W_v.bias]))
        ref.out_proj.weight.copy_(ours.W_o.weight)
        ref.out_proj.bias.copy_(ours.W_o.bias)
    # the same parameters in the order nn.MultiheadAttention's packing flattens them
    ours_params = [ours.W_q.weight, ours.W_k.weight, ours.W_v.weight, ours.W_q.bias, ours.W_k.bias]
    ours_params += [ours.W_v.bias, ours.W_o.weight, ours.W_o.bias]
    ref_params = [ref.in_proj_weight, ref.in_proj_bias, ref.out_proj.weight, ref.out_proj.bias]
    x = torch.randn(3, 11, d_model, dtype=dtype)
    memory = torch.randn(3, 7, d_model, dtype=dtype)
    blocked = ~torch.ones(11, 11, dtype=torch.bool, device=ctx.device).tril()
    cases: list[
        tuple[str, Callable[..., torch.Tensor], Callable[..., torch.Tensor], tuple[torch.Tensor, ...]]
    ] = [
        ("self-attention", lambda x: ours(x, x, x), lambda x: ref(x, x, x, need_weights=False)[0], (x,)),
        (
            "causal self-attention",
            lambda x: ours(x, x, x, is_causal=True),
            # the trap: nn.MultiheadAttention's boolean mask is True where attention is *blocked*
            lambda x: ref(x, x, x, attn_mask=blocked, need_weights=False)[0],
            (x,),
        ),
        (
            "cross-attention",
            lambda x, m: ours(x, m, m),
            lambda x, m: ref(x, m, m, need_weights=False)[0],
            (x, memory),
        ),
    ]
    for case, ours_fn, ref_fn, inputs in cases:
        out, grads = ctx.value_and_grads(ours_fn, *inputs, params=ours_params)
        expected, ref_grads = ctx.value_and_grads(ref_fn, *inputs, params=ref_params)
        ctx.check_close(
            f"MultiHeadAttention vs nn.MultiheadAttention, {case} ({dtype_name(dtype)})", out, expected
        )
        ctx.check_close(
            f"gradients (inputs, weights) vs nn.MultiheadAttention, {case} ({dtype_name(dtype)})",
            grads,
            ref_grads,
        )


def _check_layers(ctx: RunContext, dtype: torch.dtype) -> None:
    """The encoder and decoder layers (post-LN sub-layers, eq. 2's ReLU FFN, masked self-attention and
    cross-attention) against ``nn.TransformerEncoderLayer`` / ``nn.TransformerDecoderLayer`` holding copies
    of the same weights, forward and the gradients of the inputs and every weight."""
    d_model, heads, d_ff = 32, 4, 48
    torch.manual_seed(ctx.seed)
    common: dict[str, Any] = {"dropout": 0.0, "activation": "relu", "batch_first": True, "norm_first": False}
    encoder = EncoderLayer(d_model, heads, d_ff).to(ctx.device, dtype)
    decoder = DecoderLayer(d_model, heads, d_ff).to(ctx.device, dtype)
    ref_encoder = nn.TransformerEncoderLayer(d_model, heads, d_ff, **common).to(ctx.device, dtype)
    ref_decoder = nn.TransformerDecoderLayer(d_model, heads, d_ff, **common).to(ctx.device, dtype)
    with torch.no_grad():
        for p in [*encoder.parameters(), *decoder.parameters()]:  # away from unit gains and zero biases
            p.normal_(0.0, 0.3)
    pairs = {  # (ours, the built-in's) in the built-in's packing
        "encoder": (
            _attention_parameters(encoder.self_attn) + _sublayer_parameters(encoder, 2),
            _builtin_attention_parameters(ref_encoder.self_attn)
            + _builtin_sublayer_parameters(ref_encoder, 2),
        ),
        "decoder": (
            _attention_parameters(decoder.self_attn)
            + _attention_parameters(decoder.cross_attn)
            + _sublayer_parameters(decoder, 3),
            _builtin_attention_parameters(ref_decoder.self_attn)
            + _builtin_attention_parameters(ref_decoder.multihead_attn)
            + _builtin_sublayer_parameters(ref_decoder, 3),
        ),
    }
    with torch.no_grad():  # the built-in packs in_proj_weight = [W_q; W_k; W_v]: flattened, the same numbers
        for ours, theirs in pairs.values():
            flat = torch.cat([p.reshape(-1) for p in ours])
            torch.nn.utils.vector_to_parameters(flat, theirs)
    x = torch.randn(3, 11, d_model, dtype=dtype, device=ctx.device)
    memory = torch.randn(3, 7, d_model, dtype=dtype, device=ctx.device)
    blocked = ~torch.ones(11, 11, dtype=torch.bool, device=ctx.device).tril()  # the built-in: True = blocked
    runs: dict[
        str, tuple[Callable[..., torch.Tensor], Callable[..., torch.Tensor], tuple[torch.Tensor, ...]]
    ] = {
        "encoder": (encoder, ref_encoder, (x,)),
        "decoder": (
            decoder,
            lambda x, m: ref_decoder(x, m, tgt_mask=blocked, tgt_is_causal=True),
            (x, memory),
        ),
    }
    for name, (ours_fn, ref_fn, inputs) in runs.items():
        ours_params, ref_params = pairs[name]
        out, grads = ctx.value_and_grads(ours_fn, *inputs, params=ours_params)
        expected, ref_grads = ctx.value_and_grads(ref_fn, *inputs, params=ref_params)
        what = f"{name} layer vs nn.Transformer{name.capitalize()}Layer (post-LN, ReLU FFN)"
        ctx.check_close(f"{what} ({dtype_name(dtype)})", out, expected)
        ctx.check_close(f"gradients (inputs, every weight): {what} ({dtype_name(dtype)})", grads, ref_grads)


def _attention_parameters(attn: MultiHeadAttention) -> list[torch.Tensor]:
    """In the order nn.MultiheadAttention's packing flattens them: [W_q; W_k; W_v], their biases, W_o."""
    return [attn.W_q.weight, attn.W_k.weight, attn.W_v.weight, attn.W_q.bias, attn.W_k.bias, attn.W_v.bias]


def _builtin_attention_parameters(attn: nn.MultiheadAttention) -> list[torch.Tensor]:
    return [attn.in_proj_weight, attn.in_proj_bias]


def _sublayer_parameters(layer: EncoderLayer | DecoderLayer, norms: int) -> list[torch.Tensor]:
    """Each attention's W_o, eq. 2's FFN and the layer norms, in the built-in's order."""
    attns = [layer.self_attn] + ([layer.cross_attn] if isinstance(layer, DecoderLayer) else [])
    out = [p for attn in attns for p in (attn.W_o.weight, attn.W_o.bias)]
    out += [layer.ffn.W_1.weight, layer.ffn.W_1.bias, layer.ffn.W_2.weight, layer.ffn.W_2.bias]
    for i in range(1, norms + 1):
        norm = getattr(layer, f"norm{i}")
        out += [norm.weight, norm.bias]
    return out


def _builtin_sublayer_parameters(
    layer: nn.TransformerEncoderLayer | nn.TransformerDecoderLayer, norms: int
) -> list[torch.Tensor]:
    attns = [layer.self_attn] + (
        [layer.multihead_attn] if isinstance(layer, nn.TransformerDecoderLayer) else []
    )
    out = [p for attn in attns for p in (attn.out_proj.weight, attn.out_proj.bias)]
    out += [layer.linear1.weight, layer.linear1.bias, layer.linear2.weight, layer.linear2.bias]
    for i in range(1, norms + 1):
        norm = getattr(layer, f"norm{i}")
        out += [norm.weight, norm.bias]
    return out


def _check_decoder_causality(ctx: RunContext, dtype: torch.dtype) -> None:
    """The decoder's output at position i must not depend on its inputs at positions j > i (section 3.2.3)."""
    torch.manual_seed(ctx.seed)
    config = TransformerConfig(src_vocab=10, tgt_vocab=11, d_model=16, num_heads=2, d_ff=32)
    model = Transformer(config).to(ctx.device, dtype)
    memory = model.encode(torch.randint(0, 10, (1, 5), device=ctx.device))  # (1, 5, d)

    def decoder(y: torch.Tensor) -> torch.Tensor:  # (1, T, d) embedded target -> (1, T, vocab) logits
        for layer in model.decoder:
            y = layer(y, memory)
        return model.generator(y)

    y = torch.randn(1, 6, config.d_model, dtype=dtype, device=ctx.device)
    check_causal(ctx, "the decoder (2 layers and the output projection)", decoder, y)


def _check_permutation_equivariance(ctx: RunContext, dtype: torch.dtype) -> None:
    """Attention alone ignores order: MHA(Px) = P·MHA(x). That is why the model adds positions (3.5)."""
    torch.manual_seed(ctx.seed)
    mha = MultiHeadAttention(32, 4).to(ctx.device, dtype)
    x = torch.randn(2, 9, 32, dtype=dtype, device=ctx.device)
    perm = torch.randperm(9, device=ctx.device)
    with torch.no_grad():
        ctx.check_close(
            "self-attention without positions is permutation-equivariant: MHA(Px) = P·MHA(x)",
            mha(x[:, perm], x[:, perm], x[:, perm]),
            mha(x, x, x)[:, perm],
        )
        config = TransformerConfig(src_vocab=10, tgt_vocab=11, d_model=32, num_heads=4, d_ff=64)
        model = Transformer(config).to(ctx.device, dtype)
        src = torch.randint(0, 10, (2, 9), device=ctx.device)
        gap = (model.encode(src[:, perm]) - model.encode(src)[:, perm]).abs().max().item()
    ctx.check_property(
        "with positional encodings the encoder sees order: Enc(Px) ≠ P·Enc(x)",
        gap > 1e-2,
        f"max difference {gap:.3f}",
        value=gap,
    )


def _decoder_input(tgt: torch.Tensor) -> torch.Tensor:
    """Teacher forcing: the decoder reads the start token and then the target shifted right by one."""
    return torch.cat([torch.full_like(tgt[:, :1], BOS), tgt[:, :-1]], dim=1)  # (B, T)


def noam_rate(step: int, d_model: int, warmup: int) -> float:
    """Section 5.3, eq. 3: lrate = d_model^−0.5 · min(step^−0.5, step · warmup^−1.5), steps counted from 1."""
    step = max(step, 1)
    return d_model**-0.5 * min(step**-0.5, step * warmup**-1.5)


def paper_optimizer(
    params: Iterable[nn.Parameter], d_model: int, warmup: int, peak: float = 0.0
) -> tuple[torch.optim.Adam, torch.optim.lr_scheduler.LambdaLR]:
    """Section 5.3: Adam with β1 = 0.9, β2 = 0.98, ε = 1e-9, and the rate of eq. 3. Call ``schedule.step()``
    after each ``opt.step()``: the n-th update then uses noam_rate(n) (LambdaLR counts from 0). ``peak`` other
    than 0: eq. 3's shape scaled so that its highest rate, at step ``warmup``, is ``peak``."""
    opt = torch.optim.Adam(params, lr=1.0, betas=(0.9, 0.98), eps=1e-9)

    def rate(done: int) -> float:
        eq3 = noam_rate(done + 1, d_model, warmup)
        return eq3 if peak == 0 else peak * eq3 / noam_rate(warmup, d_model, warmup)

    schedule = torch.optim.lr_scheduler.LambdaLR(opt, rate)
    return opt, schedule


def average_checkpoints(model: nn.Module, checkpoints: list[list[torch.Tensor]]) -> None:
    """Section 6.1: the model evaluated is the average of the last checkpoints' parameters."""
    with torch.no_grad():
        for i, p in enumerate(model.parameters()):
            p.copy_(torch.stack([checkpoint[i] for checkpoint in checkpoints]).mean(dim=0))


def train(ctx: RunContext) -> None:
    cfg = ctx.config(Config)
    steps, batch, length = cfg.steps, cfg.batch, cfg.seq_len
    config = TransformerConfig(
        src_vocab=10,
        tgt_vocab=11,
        d_model=cfg.d_model,
        num_heads=cfg.heads,
        d_ff=4 * cfg.d_model,
        num_encoder_layers=cfg.layers,
        num_decoder_layers=cfg.layers,
        positions=cfg.positions,
    )
    model = Transformer(config).to(ctx.device)
    opt, schedule = paper_optimizer(model.parameters(), config.d_model, cfg.warmup, cfg.lr)
    g = torch.Generator().manual_seed(ctx.seed)
    checkpoints: list[list[torch.Tensor]] = []  # the last CHECKPOINTS, one every CHECKPOINT_EVERY steps
    for step in range(steps):
        src, tgt = reversal_batch(batch, length, g, vocab=10, device=ctx.device)  # (B, T) each
        logits = model(src, _decoder_input(tgt))  # (B, T, vocab)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt.reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        schedule.step()
        if (steps - step - 1) % CHECKPOINT_EVERY == 0:
            checkpoints = [*checkpoints, [p.detach().clone() for p in model.parameters()]][-CHECKPOINTS:]
        ctx.metric("loss", step, loss.item())
        if step % 20 == 0:
            ctx.progress(step, steps)
    model.eval()
    src, tgt = reversal_batch(512, length, g, vocab=10, device=ctx.device)
    # greedy decoding: each token from the model's own earlier ones, (512, T)
    last_weights_acc = (model.greedy_decode(src, BOS, length) == tgt).float().mean().item()
    average_checkpoints(model, checkpoints)
    pred = model.greedy_decode(src, BOS, length)
    token_acc = (pred == tgt).float().mean().item()
    sequence_acc = (pred == tgt).all(dim=-1).float().mean().item()
    ctx.metric("token accuracy (greedy, held out)", steps, token_acc)
    rate = "eq. 3" if cfg.lr == 0 else f"eq. 3 scaled to a peak of {cfg.lr:g}"
    setup = f"{steps} steps, Adam (0.9, 0.98, 1e-9) with {rate} and {cfg.warmup} warm-up steps, batch {batch}"
    if cfg.positions != "sinusoidal":
        setup += f", positions={cfg.positions} in place of the sinusoidal encodings"
    ctx.target(
        f"token accuracy reversing {length} digits (greedy decoding, 512 new sequences)",
        token_acc,
        0.99,
        detail=f"{setup}, average of the last {CHECKPOINTS} checkpoints; chance is 0.10",
    )
    ctx.measured("exact-sequence accuracy", sequence_acc, f"all {length} tokens right")
    ctx.measured(
        "token accuracy of the last weights alone (no checkpoint averaging)",
        last_weights_acc,
        "the high rate of eq. 3 at d_model 64 makes the loss spike now and then; averaging smooths it out",
    )


def bench(ctx: RunContext) -> None:
    batch, length, d_model, heads = (8, 64, 128, 4) if ctx.quick else (16, 256, 512, 8)
    ours = MultiHeadAttention(d_model, heads).to(ctx.device).eval()
    ref = nn.MultiheadAttention(d_model, heads, batch_first=True).to(ctx.device).eval()
    x = torch.randn(batch, length, d_model, device=ctx.device)
    # projections 4·(2·B·L·d²) + QKᵀ and PV 2·(2·B·L²·d)
    flops = 8 * batch * length * d_model**2 + 4 * batch * length**2 * d_model
    common: dict[str, Any] = {
        "flops": flops,
        "flop_formula": "8·B·L·d² + 4·B·L²·d",
        "tokens": batch * length,
        "shape": (batch, length, d_model),
        "dtype": x.dtype,
        "params": {"heads": heads},
    }

    def forward(module: nn.Module, **kwargs: Any) -> Callable[[], object]:
        def run() -> object:
            with torch.no_grad():
                return module(x, x, x, **kwargs)

        return run

    def forward_backward(module: nn.Module, **kwargs: Any) -> Callable[[], None]:
        def run() -> None:
            out = module(x, x, x, **kwargs)
            out = out[0] if isinstance(out, tuple) else out
            out.sum().backward()

        return run

    # each pass against torch's own module in the same pass (group=): a training step's ratio is never
    # taken against a forward's time
    ref_forward, ours_forward = forward(ref, need_weights=False), forward(ours)
    ctx.bench.measure("nn.MultiheadAttention forward", ref_forward, baseline=True, group="forward", **common)
    ctx.bench.measure("MultiHeadAttention forward", ours_forward, group="forward", **common)
    ctx.progress(1, 2)
    train: dict[str, Any] = {**common, "flops": 3 * flops, "flop_formula": "3 × forward", "group": "training"}
    ref_step = forward_backward(ref, need_weights=False)
    ctx.bench.measure("nn.MultiheadAttention forward+backward", ref_step, baseline=True, **train)
    ctx.bench.measure("MultiHeadAttention forward+backward", forward_backward(ours), **train)
    ctx.progress(2, 2)
