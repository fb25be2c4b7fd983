"""Mamba at toy scale: the scan exact against the closed form of the recurrence, S4's convolution view when
nothing is selective, the whole block against a per-position reference, causality, and selection winning
the selective-copying task a time-invariant SSM does poorly.

check: ``selective_scan`` against the recurrence's closed form (every h_t as a sum over earlier inputs with
       decays exp(S_t − S_s), written as an L × L "segment sum" in log space), float64 then float32, with
       gradients, L = 1, 7, 64, 100; with Δ, B, C constant it equals S4's convolution with the kernel
       K_k = C Ā^k B̄ (the time-invariant view); the Mamba block, selective and time-invariant, equals a
       per-position loop written from its weights (convolution taps, Δ, B, C, the recurrence, the gate) and
       is causal (``check_causal``, its Jacobian).
train: selective copying (section 4.1.1, fig. 2): 4 data tokens at random places among 24 noise tokens,
       then 4 markers at which the model must output the data tokens in order. Mamba against the same model
       with Δ, B, C learned constants (the paper's S4-style ablation), same seed and batches, each at its
       own best learning rate chosen on validation sequences; one layer, the lead asserted in both runs.
bench: the scan's forward + backward for L = 256 to 4096 (linear growth), against causal attention with
       the same width (quick: L = 64 and 256).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import torch
import torch.nn.functional as F

from readtrack.api import RunContext, dtype_name
from readtrack.plugin_kit.checks import check_causal

from .config import Config
from .model import Mamba, MambaBlock, convolution_view, selective_scan

NOISE, MARKER, DATA, K, SPAN = 0, 9, 8, 4, 24  # tokens: 0 noise, 1 … 8 data, 9 marker; 4 among cfg.span
VOCAB = 10


def closed_form(
    u: torch.Tensor, delta: torch.Tensor, A: torch.Tensor, B: torch.Tensor, C: torch.Tensor, D: torch.Tensor
) -> torch.Tensor:
    """y_t = Σ_{s ≤ t} C_t exp(S_t − S_s) Δ_s B_s u_s + D u_t with S_t = Σ_{k ≤ t} Δ_k A: the recurrence
    unrolled, all pairs (s, t) at once."""
    S = torch.cumsum(delta[:, :, None] * A[None, :, :, None], dim=-1)  # (batch, d, n, L)
    L = u.shape[-1]
    earlier = torch.ones(L, L, dtype=torch.bool, device=u.device).tril()  # (t, s): s ≤ t
    decay = (S[..., :, None] - S[..., None, :]).masked_fill(~earlier, float("-inf")).exp()  # (b, d, n, t, s)
    written = (delta * u)[:, :, None, None, :] * B[:, None, :, None, :]  # (batch, d, n, 1, s)
    h = (decay * written).sum(dim=-1)  # (batch, d, n, L)
    return torch.einsum("bdnl,bnl->bdl", h, C) + D[:, None] * u


def scan_inputs(
    batch: int, d: int, n: int, L: int, g: torch.Generator, dtype: torch.dtype, device: str
) -> list[torch.Tensor]:
    """Inputs as the block makes them: Δ > 0 (softplus), A < 0."""
    u = torch.randn(batch, d, L, generator=g, dtype=dtype)
    delta = F.softplus(torch.randn(batch, d, L, generator=g, dtype=dtype))
    A = -torch.exp(torch.randn(d, n, generator=g, dtype=dtype))
    B, C = (torch.randn(batch, n, L, generator=g, dtype=dtype) for _ in range(2))
    D = torch.randn(d, generator=g, dtype=dtype)
    return [t.to(device) for t in (u, delta, A, B, C, D)]


def check(ctx: RunContext) -> None:
    g = torch.Generator().manual_seed(ctx.seed)
    for dtype in ctx.check_dtypes:
        for batch, d, n, L in ((1, 1, 1, 1), (2, 3, 4, 7), (2, 4, 8, 64), (1, 2, 16, 100)):
            inputs = scan_inputs(batch, d, n, L, g, dtype, ctx.device)
            name = f"batch {batch}, d {d}, n {n}, L = {L} ({dtype_name(dtype)})"
            ours, grads = ctx.value_and_grads(selective_scan, *inputs)
            ref, ref_grads = ctx.value_and_grads(closed_form, *inputs)
            ctx.check_close(f"selective scan vs the closed form, {name}", ours, ref)
            if dtype == ctx.exact_dtype:
                ctx.check_close(
                    f"gradients (u, Δ, A, B, C, D) vs the closed form's, {name}", grads, ref_grads
                )
            else:  # ∂/∂A sums L·batch terms: judge both float32 gradients against the float64 ones
                _, exact = ctx.value_and_grads(closed_form, *(t.to(ctx.exact_dtype) for t in inputs))
                error, ref_error = (
                    (x.to(exact.dtype) - exact).abs().max().item() for x in (grads, ref_grads)
                )
                ctx.check_property(
                    f"gradients (u, Δ, A, B, C, D) as accurate as the closed form's, {name}",
                    error <= 2 * ref_error + 1e-6,
                    f"largest error against float64: scan {error:.2e}, closed form {ref_error:.2e}",
                    value=error,
                )
        u, delta, A, B, C, D = scan_inputs(2, 3, 4, 50, g, dtype, ctx.device)
        delta_c, B_c, C_c = delta[0, :, 0], B[0, :, 0], C[0, :, 0]  # constant in time: S4
        ours = selective_scan(
            u, delta_c[None, :, None].expand(2, 3, 50), A, B_c[None, :, None].expand(2, 4, 50),
            C_c[None, :, None].expand(2, 4, 50), D,
        )  # fmt: skip
        ctx.check_close(
            f"Δ, B, C constant: the scan is S4's convolution, K_k = C Ā^k B̄, L = 50 ({dtype_name(dtype)})",
            ours,
            convolution_view(u, delta_c, A, B_c, C_c, D),
        )
    torch.manual_seed(ctx.seed)
    x = torch.randn(1, 12, 8, dtype=ctx.exact_dtype, device=ctx.device)
    for selective in (True, False):
        block = MambaBlock(8, selective=selective).to(ctx.device, ctx.exact_dtype)
        kind = "selective" if selective else "time-invariant"
        with torch.no_grad():
            ctx.check_close(
                f"the {kind} Mamba block vs a per-position reference from its weights (fig. 3), L = 12",
                block(x),
                block_reference(block, x),
            )
        check_causal(ctx, f"the {kind} Mamba block", block, x)

    # y in u's dtype: a state accumulated in float32 for a bfloat16 input is cast back, as the paper's
    # selective_scan_ref does.
    low = [t.to(torch.bfloat16) for t in scan_inputs(2, 3, 4, 7, g, torch.float32, ctx.device)]
    with torch.no_grad():
        got = selective_scan(*low).dtype
    ctx.check_property(
        "a bfloat16 input gives a bfloat16 y (u's dtype)",
        got == torch.bfloat16,
        f"returned {dtype_name(got)}",
    )


def block_reference(block: MambaBlock, x: torch.Tensor) -> torch.Tensor:
    """The Mamba block (fig. 3, algorithm 2) written out one position at a time from its weights, without
    the block's convolution layer, scan or convolution view: x (batch, L, d_model) → (batch, L, d_model)."""
    W_x, W_z = block.in_proj.weight.chunk(2, dim=0)  # (d_inner, d_model) each
    taps = block.conv.weight[:, 0]  # (d_inner, d_conv)
    assert block.conv.bias is not None
    width = taps.shape[1]
    A = -torch.exp(block.A_log)  # (d_inner, n)
    batch, L, _ = x.shape
    xs = x @ W_x.T  # (batch, L, d_inner)
    h = x.new_zeros(batch, block.d_inner, block.d_state)
    out = []
    for t in range(L):
        conv = block.conv.bias.expand(batch, -1)
        for k in range(width):  # tap k reads x_{t − width + 1 + k}; nothing before the start
            if t - width + 1 + k >= 0:
                conv = conv + taps[:, k] * xs[:, t - width + 1 + k]
        u = F.silu(conv)  # (batch, d_inner): causal, x_{t-3} … x_t
        if block.selective:  # Δ, B, C read u_t
            dt, B, C = (u @ block.x_proj.weight.T).split(
                [block.dt_rank, block.d_state, block.d_state], dim=-1
            )
            delta = F.softplus(dt @ block.dt_proj.weight.T + block.dt_proj.bias)  # (batch, d_inner)
        else:  # learned constants
            delta = F.softplus(block.dt_proj.bias).expand(batch, -1)
            B, C = block.B.expand(batch, -1), block.C.expand(batch, -1)
        h = torch.exp(delta[..., None] * A) * h + delta[..., None] * B[:, None, :] * u[..., None]  # (b, d, n)
        y = (h * C[:, None, :]).sum(dim=-1) + block.D * u  # (batch, d_inner)
        out.append((y * F.silu(x[:, t] @ W_z.T)) @ block.out_proj.weight.T)
    return torch.stack(out, dim=1)


def selective_copying(
    size: int, g: torch.Generator, device: str, span: int = SPAN
) -> tuple[torch.Tensor, torch.Tensor]:
    """(tokens (size, span + 4), data (size, 4)): 4 data tokens at random sorted places among ``span``
    positions (the rest noise), then 4 markers; at the markers the model must output the data in order."""
    tokens = torch.full((size, span + K), NOISE, dtype=torch.long)
    where = torch.rand(size, span, generator=g).argsort(dim=1)[:, :K].sort(dim=1).values
    data = torch.randint(1, DATA + 1, (size, K), generator=g)
    tokens.scatter_(1, where, data)
    tokens[:, span:] = MARKER
    return tokens.to(device), data.to(device)


GRID = (3e-3, 1e-2, 3e-2)  # Adam learning rates: each variant gets its own best, picked on validation
# The budget (config.py's layers, steps, batch): one layer in both runs. A time-invariant layer has no way to
# locate the data tokens (its state is one fixed convolution of the input: it cannot count how many came
# before), so its accuracy stays near 0.45 on every seed, while one selective layer learns the task; the
# lead is then the selection's, steady enough to assert (quick: ≥ 0.2 on 1,200 steps of 8; full: ≥ 0.15
# and the selective accuracy ≥ 0.9 on 2,400 steps of 16). Many small batches, not a few large ones: a
# step of 8 costs under half a step of 32, and for the same sequences seen the selective layer learns more
# from more steps (300 steps of 32, the earlier quick run: 0.75 ± 0.10 over seeds 0-19). Two layers were
# the earlier full run: there the time-invariant model learned 0.58 to 0.84 of the task depending on the
# seed, and the lead missed 0.15 on seed 3 (the page).
# Each variant's rate (cfg.lr 0), the best of GRID by token accuracy on validation sequences (seed + 2, never
# the reported test sequences), averaged over seeds; `--impl grid` trains the whole grid in the run and
# picks on validation. Quick (`readtrack run mamba --quick --impl grid --seeds 0-4 --only train`, then
# `--seeds 5-9`; mean validation accuracy at 3e-3 / 1e-2 / 3e-2): selective 0.812 / 0.856 / 0.566 (1e-2
# the best on 6 of the 10 seeds), time-invariant 0.215 / 0.384 / 0.424 (3e-2 on 7). Full (`readtrack run
# mamba --impl grid --seeds 0-2 --only train`): selective 0.950 / 0.985 / 0.966, time-invariant 0.438 /
# 0.458 / 0.353.
LR = {
    (True, True): 1e-2,
    (True, False): 3e-2,
    (False, True): 1e-2,
    (False, False): 1e-2,
}  # (quick, selective)


def fit(
    cfg: Config,
    selective: bool,
    lr: float,
    seed: int,
    device: str,
    log: Callable[[int, float], None] | None = None,
) -> Mamba:
    """The model (``cfg``'s size) trained by Adam on ``cfg.steps`` batches of selective copying drawn from
    ``seed`` (the same batches and initial weights for every variant and rate)."""
    torch.manual_seed(seed)
    model = Mamba(VOCAB, cfg.d_model, layers=cfg.layers, selective=selective, d_state=cfg.d_state).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    g = torch.Generator().manual_seed(seed)
    for step in range(cfg.steps):
        tokens, data = selective_copying(cfg.batch, g, device, cfg.span)
        loss = F.cross_entropy(model(tokens)[:, -K:].reshape(-1, VOCAB), data.reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        if log is not None and step % 10 == 0:
            log(step, loss.item())
    return model


def token_accuracy(model: Mamba, tokens: torch.Tensor, data: torch.Tensor) -> torch.Tensor:
    """(size, 4) booleans: each data token recalled at its marker (the last 4 positions)."""
    with torch.no_grad():
        return model(tokens)[:, -K:].argmax(dim=-1) == data


def train(ctx: RunContext) -> None:
    cfg = ctx.config(Config)
    layers, steps, batch = cfg.layers, cfg.steps, cfg.batch
    test = selective_copying(1024, torch.Generator().manual_seed(ctx.seed + 1), ctx.device, cfg.span)
    validation = selective_copying(512, torch.Generator().manual_seed(ctx.seed + 2), ctx.device, cfg.span)
    accuracy = {}
    for arm in (True, False):  # the arm under test, then the time-invariant one
        label = "selective (Mamba)" if arm else "time-invariant (Δ, B, C constant)"
        selective = cfg.selective if arm else False  # --set selective=false: both arms the same model
        if cfg.lr:
            grid: tuple[float, ...] = (cfg.lr,)
        else:
            grid = GRID if ctx.options.get("impl") == "grid" else (LR[ctx.quick, selective],)
        runs = {}
        for lr in grid:
            log = partial(ctx.metric, f"train loss, {label}" + (f", lr {lr:g}" if len(grid) > 1 else ""))
            model = fit(cfg, selective, lr, ctx.seed, ctx.device, log)
            runs[lr] = (token_accuracy(model, *validation).double().mean().item(), model)
        lr = max(grid, key=lambda r: runs[r][0])
        right = token_accuracy(runs[lr][1], *test)
        accuracy[arm] = right.double().mean().item()
        per_token = " / ".join(f"{a:.2f}" for a in right.double().mean(dim=0).tolist())
        whole = right.all(dim=1).double().mean().item()
        ctx.measured(
            f"held-out token accuracy, {label}",
            accuracy[arm],
            f"data tokens 1-4: {per_token}; whole sequences right: {whole:.2f}; "
            f"lr {lr:g}, validation accuracy " + ", ".join(f"{r:g}: {runs[r][0]:.3f}" for r in grid),
        )
        ctx.progress(len(accuracy), 2)
    gap = accuracy[True] - accuracy[False]
    size = f"{layers} layer{'s' * (layers > 1)}, {steps} Adam steps of {batch}"
    if not ctx.quick:
        detail = f"1,024 new sequences, {size}, d_model {cfg.d_model}, chance 1/8"
        ctx.target("accuracy, selective", accuracy[True], 0.9, detail=detail)
    # The paper's comparison, paired (same seed, initial weights and batches), asserted in both runs: the
    # quick run holds the lead to 0.2, the full run to 0.15 (the thresholds the earlier runs reported it
    # against, kept); calibrated over seeds and torch versions in the page's last block.
    ctx.target(
        "accuracy, selective minus time-invariant",
        gap,
        0.2 if ctx.quick else 0.15,
        detail=f"each at its own learning rate; {size}",
    )


def bench(ctx: RunContext) -> None:
    sizes = (64, 256) if ctx.quick else (256, 1024, 4096)
    g = torch.Generator().manual_seed(ctx.seed)
    for L in sizes:
        inputs = [t.requires_grad_() for t in scan_inputs(1, 64, 16, L, g, torch.float32, ctx.device)]
        q, k, v = (torch.randn(1, 1, L, 64, device=ctx.device, requires_grad=True) for _ in range(3))
        variants: list[tuple[str, Callable[[], torch.Tensor], tuple[torch.Tensor, ...]]] = [
            (
                "causal attention (SDPA)",
                partial(F.scaled_dot_product_attention, q, k, v, is_causal=True),
                (q, k, v),
            ),
            ("selective scan, d 64, n 16", partial(selective_scan, *inputs), tuple(inputs)),
        ]
        for name, forward, leaves in variants:

            def step(
                forward: Callable[[], torch.Tensor] = forward, leaves: tuple[torch.Tensor, ...] = leaves
            ) -> None:
                torch.autograd.grad(forward().square().mean(), leaves)

            ctx.bench.measure(
                f"{name}, L = {L}",
                step,
                baseline=name.startswith("causal") and sizes[0] == L,
                tokens=L,
                shape=(1, 64, L),
                dtype=torch.float32,
            )
