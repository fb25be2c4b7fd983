"""RoPE at toy scale: the rotation equal to an independent complex-number version, the relative property
exact, and a model that keeps working when the whole sequence is shifted, which learned absolute
positions do not.

check: ``apply_rotary`` equals the complex form x·e^{imθ} (pairs as complex numbers, ``torch.polar``) and the
       block-diagonal rotation matrix R_Θ,m of the paper (both write θ_i out themselves), forward and
       gradients, in float64 and float32, on odd shapes (one position, d = 2, N = 7); properties:
       ⟨R(q,m), R(k,n)⟩ = ⟨R(q,m+s), R(k,n+s)⟩ for m, n ≤ 1000 and shifts s ≤ 500, norms kept,
       attention maps of a RoPE layer unchanged by a shift.
train: one attention layer learns "output the token three steps back" on sequences at positions 0…31,
       once with RoPE and once with learned absolute position embeddings, same seed and batches, each at
       its best learning rate on validation sequences; both are
       then evaluated on fresh sequences at positions 0…31 and shifted to 100…131.
bench: ``apply_rotary`` against the complex-number form, for growing sequence length.
"""

from __future__ import annotations

import math
from functools import partial
from typing import Any

import torch
import torch.nn.functional as F

from readtrack.api import RunContext, dtype_name
from readtrack.plugin_kit import rates
from readtrack.plugin_kit.tasks import IGNORE, accuracy, lagged_copy_batch

from .config import Config
from .model import TinyLM, apply_rotary

VOCAB, N, SHIFT = 16, 32, 100  # the check stage's sizes (train: config.py)


def rotary_complex(x: torch.Tensor, positions: torch.Tensor, base: float = 10000.0) -> torch.Tensor:
    """The reference: each pair (x_2i, x_2i+1) as the complex number x_2i + i·x_2i+1, times e^{i·mθ_i}.
    Its frequencies are written out here (θ_i = 1 / base^(2i/d)), not taken from ``rotary_angles``."""
    d = x.shape[-1]
    theta = torch.tensor([1.0 / base ** (2 * i / d) for i in range(d // 2)], dtype=torch.float64)
    angles = positions.cpu().to(torch.float64).unsqueeze(-1) * theta  # (..., N, d/2)
    turn = torch.polar(torch.ones_like(angles), angles).to(x.device)  # e^{i·mθ}
    z = torch.view_as_complex(x.to(torch.float64).unflatten(-1, (-1, 2)).contiguous())  # (..., N, d/2)
    return torch.view_as_real(z * turn).flatten(-2).to(x.dtype)


def rotation_matrix(m: float, d: int, base: float = 10000.0) -> torch.Tensor:
    """R_Θ,m: the (d, d) block-diagonal matrix of 2×2 rotations by m·θ_i, as the paper writes it."""
    R = torch.zeros(d, d, dtype=torch.float64)
    for i in range(d // 2):
        angle = m * math.pow(base, -2 * i / d)  # m·θ_i, θ_i = base^(−2(i−1)/d) in the paper's 1-based i
        c, s = math.cos(angle), math.sin(angle)
        R[2 * i : 2 * i + 2, 2 * i : 2 * i + 2] = torch.tensor([[c, -s], [s, c]], dtype=torch.float64)
    return R


def check(ctx: RunContext) -> None:
    for dtype in ctx.check_dtypes:
        for shape in ((1, 1, 2), (2, 7, 8), (3, 5, 64)):  # (batch, N, d): one position, one pair, odd N
            x = torch.randn(*shape, dtype=dtype, device=ctx.device)
            positions = torch.randint(0, 2000, (shape[1],), device=ctx.device)
            out, grads = ctx.value_and_grads(partial(apply_rotary, positions=positions), x)
            ref, ref_grads = ctx.value_and_grads(partial(rotary_complex, positions=positions), x)
            name = f"x {tuple(shape)} ({dtype_name(dtype)})"
            ctx.check_close(f"eq. 34 vs the complex form x·e^(imθ), {name}", out, ref)
            ctx.check_close(f"gradients vs the complex form, {name}", grads, ref_grads)

    exact = ctx.exact_dtype
    d = 16
    x = torch.randn(5, d, dtype=exact)
    positions = torch.tensor([0, 1, 7, 100, 999])
    by_matrix = torch.stack(
        [rotation_matrix(int(m), d).to(exact) @ row for m, row in zip(positions, x, strict=True)]
    )
    ctx.check_close("eq. 34 vs the rotation matrix R_Θ,m (d = 16)", apply_rotary(x, positions), by_matrix)

    # The relative property (eq. 16): scores depend on n − m only. Positions up to 1000, shifts up to 500.
    g = torch.Generator().manual_seed(ctx.seed)
    q, k = (torch.randn(64, 64, generator=g, dtype=exact).to(ctx.device) for _ in range(2))
    m, n = (torch.randint(0, 1001, (64,), generator=g).to(ctx.device) for _ in range(2))
    s = torch.randint(0, 501, (64,), generator=g).to(ctx.device)
    before = (
        apply_rotary(q.unsqueeze(1), m.unsqueeze(1)) * apply_rotary(k.unsqueeze(1), n.unsqueeze(1))
    ).sum(-1)
    after = (
        apply_rotary(q.unsqueeze(1), (m + s).unsqueeze(1))
        * apply_rotary(k.unsqueeze(1), (n + s).unsqueeze(1))
    ).sum(-1)
    ctx.check_close("relative: ⟨R(q,m), R(k,n)⟩ = ⟨R(q,m+s), R(k,n+s)⟩, m, n ≤ 1000, s ≤ 500", after, before)
    ctx.check_close(
        "a rotation keeps the norm: |R(q, m)| = |q|",
        apply_rotary(q.unsqueeze(1), m.unsqueeze(1)).norm(dim=-1),
        q.norm(dim=-1, keepdim=True),
    )

    # A whole RoPE attention layer: shifting every position leaves its output unchanged.
    torch.manual_seed(ctx.seed)
    model = TinyLM(VOCAB, positions="rope").to(ctx.device, exact)
    tokens = torch.randint(0, VOCAB, (4, N), device=ctx.device)
    at = torch.arange(N, device=ctx.device)
    with torch.no_grad():
        ctx.check_close(
            "RoPE model: logits at positions 0…31 = at 100…131", model(tokens, at + SHIFT), model(tokens, at)
        )
        learned = TinyLM(VOCAB, positions="learned").to(ctx.device, exact)
        moved = (learned(tokens, at + SHIFT) - learned(tokens, at)).abs().max().item()
    ctx.check_property(
        "learned absolute positions, by contrast, change the logits under a shift",
        moved > 1e-3,
        f"largest change {moved:.3f}",
        value=moved,
    )

    # What the statement asks besides eq. 34 at the default base: θ_i from the base given, x's dtype kept
    # (angles are float64, so an uncast cos turns float32 into float64), an odd d refused.
    x = torch.randn(2, 7, 8, dtype=exact, device=ctx.device)
    at = torch.randint(0, 2000, (7,), device=ctx.device)
    ctx.check_close(
        "θ_i = base^(−2i/d) with the base given (500) vs the complex form",
        apply_rotary(x, at, base=500.0),
        rotary_complex(x, at, base=500.0),
    )
    out = apply_rotary(x.float(), at)
    ctx.check_property(
        "returns x's dtype (float32 in, float32 out)",
        out.dtype == torch.float32,
        f"returned {dtype_name(out.dtype)} for float32 x: cast cos and sin to x's dtype",
    )
    try:
        apply_rotary(torch.randn(2, 7, 7, device=ctx.device), at)
        refused = "returned a tensor for d = 7"
    except ValueError:
        refused = ""
    except Exception as err:  # the learner's code failing otherwise, e.g. a RuntimeError from a reshape
        refused = f"raised {type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"
    ctx.check_property("an odd d (7) raises ValueError", not refused, refused)


GRID = (3e-3, 1e-2, 3e-2)  # Adam learning rates: each position scheme gets its own best, picked on validation
# The quick run trains only the rates this grid picks at the quick budget (validation loss, seeds 0-4:
# RoPE 3e-2 on all five; learned 1e-2 on four, 3e-2 on seed 3 where both reach a validation loss below
# 5e-4); run the whole grid with --impl grid --quick, one rate for both with --set lr=...
QUICK_LR = {"rope": 3e-2, "learned": 1e-2}


def train(ctx: RunContext) -> None:
    cfg = ctx.config(Config)
    steps, n, shift = cfg.steps, cfg.seq_len, cfg.shift
    at = torch.arange(n, device=ctx.device)
    validation, test = (
        lagged_copy_batch(
            512, n, cfg.lag, torch.Generator().manual_seed(ctx.seed + i), vocab=cfg.vocab, device=ctx.device
        )
        for i in (2, 1)
    )  # fresh sequences: validation (seed + 2) picks the learning rate, test (seed + 1) is reported
    results: dict[str, tuple[float, float]] = {}
    for kind in ("rope", "learned"):
        scheme = cfg.positions if kind == "rope" else kind  # --set positions=... turns the model under test
        # positions=none: RoPE with every token at position 0 (shifted: all at `shift`), so every query and
        # key turns by one angle and no score sees a position
        where = torch.zeros_like(at) if scheme == "none" else at
        runs: dict[float, tuple[float, TinyLM]] = {}  # lr → (validation loss in place, model)
        grid = (cfg.lr,) if cfg.lr else rates.rates(ctx, GRID, QUICK_LR[kind])
        for lr in grid:
            torch.manual_seed(ctx.seed)  # the same initial weights apart from the position table
            model = TinyLM(
                cfg.vocab, d_model=cfg.d_model, positions="rope" if scheme == "none" else scheme
            ).to(ctx.device)
            opt = torch.optim.Adam(model.parameters(), lr=lr)
            g = torch.Generator().manual_seed(ctx.seed)  # the same batches
            for step in range(steps):
                x, y = lagged_copy_batch(cfg.batch, n, cfg.lag, g, vocab=cfg.vocab, device=ctx.device)
                loss = F.cross_entropy(model(x, where).flatten(0, 1), y.flatten(), ignore_index=IGNORE)
                opt.zero_grad()
                loss.backward()
                opt.step()
                if step % 10 == 0:
                    ctx.metric(f"loss ({kind}, lr {lr:g})", step, loss.item())
            with torch.no_grad():
                x, y = validation
                runs[lr] = (
                    F.cross_entropy(model(x, where).flatten(0, 1), y.flatten(), ignore_index=IGNORE).item(),
                    model,
                )
            ctx.progress(len(results) * len(grid) + len(runs), 2 * len(grid))
        val_loss = {r: run[0] for r, run in runs.items()}
        lr = rates.best(val_loss)
        model = runs[lr][1]
        x, y = test
        with torch.no_grad():
            results[kind] = (accuracy(model(x, where), y), accuracy(model(x, where + shift), y))
        ctx.measured(f"learning rate, {kind}", lr, rates.choice(val_loss, ".2e"))
    (rope_in, rope_shifted), (learned_in, learned_shifted) = results["rope"], results["learned"]
    instead = "" if cfg.positions == "rope" else f"; positions={cfg.positions} in RoPE's place"
    ctx.target(
        f"RoPE: accuracy at the training positions 0…{n - 1}",
        rope_in,
        0.95,
        detail=f"{steps} Adam steps{instead}",
    )
    ctx.target(
        f"RoPE: accuracy with the sequence shifted to positions {shift}…{shift + n - 1}",
        rope_shifted,
        0.95,
        detail=f"never trained there: only relative positions matter{instead}",
    )
    ctx.measured(
        f"learned absolute positions: accuracy at 0…{n - 1}", learned_in, "the same task, same budget"
    )
    ctx.target(
        f"learned absolute positions: accuracy lost when shifted to {shift}…",
        learned_in - learned_shifted,
        0.5,
        detail=f"{learned_in:.3f} → {learned_shifted:.3f}: the table's rows there were never trained; "
        f"chance is 1/{cfg.vocab}",
    )


def bench(ctx: RunContext) -> None:
    batch, heads, d = 4, 8, 64
    for i, n in enumerate((256, 1024) if ctx.quick else (256, 1024, 4096)):
        x = torch.randn(batch, heads, n, d, device=ctx.device)
        positions = torch.arange(n, device=ctx.device)
        common: dict[str, Any] = {"tokens": batch * n, "shape": (batch, heads, n, d), "dtype": x.dtype}
        ctx.bench.measure(
            f"complex form N={n}", partial(rotary_complex, x, positions), baseline=i == 0, **common
        )
        ctx.bench.measure(f"apply_rotary (eq. 34) N={n}", partial(apply_rotary, x, positions), **common)
        ctx.progress(i + 1, 3)
