"""Mixtral's sparse mixture of experts at toy scale: sparse dispatch exactly equal to the dense definition,
and experts that specialise where one dense block of the same active size cannot.

check: the sparse layer (each expert runs only on its tokens) equals a separately written dense reference
       (every expert on every token, times the router's sparse weights), forward and gradients, float64 and
       float32, for 1, 7 and 64 tokens and with an expert that no token chose; each token has exactly
       k = 2 non-zero weights summing to 1; each expert equals the SwiGLU formula; the load-balancing loss
       is 1 for even routing and n/k = 4 when one expert takes every token.
train: regression where inputs come from 8 clusters, each with its own linear map: 8 SwiGLU experts with
       top-2 routing against one dense SwiGLU block with the same active parameters (hidden size 2h, as
       2 experts of h), same seed and data; the router's load and the balancing loss are reported.
bench: the MoE layer against the dense block of equal active parameters and the dense block of all
       parameters, for growing token counts.
"""

from __future__ import annotations

import statistics
from functools import partial

import torch
import torch.nn.functional as F
from torch import nn

from readtrack.api import RunContext, dtype_name
from readtrack.plugin_kit import rates

from .config import Config
from .model import SparseMoE, SwiGLU

D, HIDDEN, EXPERTS = 16, 32, 8  # the check stage's sizes (train: config.py)


def dense_reference(moe: SparseMoE, x: torch.Tensor) -> torch.Tensor:
    """Eq. 2 the slow way: every expert on every token, weighted by G(x), zero outside the top k."""
    logits = x @ moe.router.weight.T  # (T, n)
    top = logits.topk(moe.k, dim=-1)
    G = torch.zeros_like(logits).scatter(-1, top.indices, top.values.softmax(dim=-1))  # (T, n), k non-zero
    experts = [e for e in moe.experts if isinstance(e, SwiGLU)]
    outputs = torch.stack([e.w2(F.silu(e.w1(x)) * e.w3(x)) for e in experts], dim=1)  # (T, n, d)
    return (G.unsqueeze(-1) * outputs).sum(dim=1)


def check(ctx: RunContext) -> None:
    for dtype in ctx.check_dtypes:
        for tokens in (1, 7, 64):
            moe = SparseMoE(D, HIDDEN, EXPERTS).to(ctx.device, dtype)
            if tokens == 64:
                with torch.no_grad():
                    moe.router.weight[3] = -100.0 * moe.router.weight[3].abs().sum()  # expert 3: never chosen
            x = torch.randn(tokens, D, dtype=dtype, device=ctx.device)
            params = list(moe.parameters())
            ours, grads = ctx.value_and_grads(moe, x, params=params)
            ref, ref_grads = ctx.value_and_grads(partial(dense_reference, moe), x, params=params)
            name = f"{tokens} token(s){', expert 3 unused' if tokens == 64 else ''} ({dtype_name(dtype)})"
            ctx.check_close(f"sparse dispatch vs every expert × G(x), {name}", ours, ref)
            ctx.check_close(f"gradients (input, router, experts) vs the dense form, {name}", grads, ref_grads)

    exact = ctx.exact_dtype
    moe = SparseMoE(D, HIDDEN, EXPERTS).to(ctx.device, exact)
    x = torch.randn(256, D, dtype=exact, device=ctx.device)
    _, chosen, weights = moe.route(x)
    ctx.check_property(
        "top-2 routing: two distinct experts per token, weights positive and summing to 1",
        bool((chosen[:, 0] != chosen[:, 1]).all() and (weights > 0).all())
        and bool(torch.allclose(weights.sum(-1), torch.ones(256, dtype=exact, device=ctx.device))),
        f"largest |Σ weights − 1| {(weights.sum(-1) - 1).abs().max().item():.1e}",
    )
    expert = moe.experts[0]
    assert isinstance(expert, SwiGLU)
    formula = (F.silu(x @ expert.w1.weight.T) * (x @ expert.w3.weight.T)) @ expert.w2.weight.T
    with torch.no_grad():
        ctx.check_close("an expert is (SiLU(x W1) ⊙ x W3) W2", expert(x), formula)
        nn.init.zeros_(moe.router.weight)  # all logits equal: P uniform, so L = n · Σ f_i / n = 1
        even = moe.load_balancing_loss(x).item()
        moe.router.weight[0] = 50 * x.mean(0) / x.mean(0).norm()  # expert 0 wins every token, P_0 → 1
        x_biased = x + 10 * x.mean(0) / x.mean(0).norm()
        collapsed = moe.load_balancing_loss(x_biased).item()
    ctx.check_property(
        "load-balancing loss n·Σ f_i·P_i: 1 when P is uniform, n/k = 4 when one expert takes every token",
        abs(even - 1) < 1e-9 and abs(collapsed - EXPERTS / 2) < 0.05,
        f"uniform router {even:.4f}; collapsed router {collapsed:.3f}",
        value=collapsed,
    )

    # route's outputs against eq. 1 written with topk: the forward pass cannot tell the order of the K slots
    # (any order of chosen with its weights sums alike), nor a K fixed at 2 from self.k.
    for k in (2, 3):
        moe = SparseMoE(D, HIDDEN, EXPERTS, k=k).to(ctx.device, exact)
        x = torch.randn(16, D, dtype=exact, device=ctx.device)
        with torch.no_grad():
            logits, chosen, weights = moe.route(x)
            expected = x @ moe.router.weight.T  # (T, n)
            top, top_index = expected.topk(k, dim=-1)  # (T, K), largest first
        shapes = f"{tuple(chosen.shape)}, {dtype_name(chosen.dtype)}"
        ctx.check_property(
            f"chosen (T, K = self.k = {k}) long: the K largest logits' experts, largest first",
            chosen.dtype == torch.long and chosen.shape == top_index.shape and torch.equal(chosen, top_index),
            f"chosen {shapes}; expected {tuple(top_index.shape)}, int64"
            + (f"; first token {chosen[0].tolist()} vs {top_index[0].tolist()}" if chosen.dim() == 2 else ""),
        )
        ctx.check_close(f"router logits = self.router(x), K = {k}", logits, expected)
        ctx.check_close(f"weights: softmax over the K chosen logits, K = {k}", weights, top.softmax(dim=-1))


def clustered_regression(
    n: int, g: torch.Generator, clusters: int, d: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs (n, d) around ``clusters`` centres; each cluster maps inputs to targets with its own random
    matrix."""
    centres = 3 * torch.randn(clusters, d, generator=g)
    maps = torch.randn(clusters, d, d, generator=g) / d**0.5
    cluster = torch.randint(0, clusters, (n,), generator=g)
    x = centres[cluster] + torch.randn(n, d, generator=g)
    y = torch.einsum("nd,nde->ne", x, maps[cluster])
    return x, y


GRID = (1e-3, 3e-3, 1e-2)  # Adam learning rates: each model gets its own best, picked on validation data
# The quick run trains only the rate this grid picks for both models at the quick budget on seeds 0-4
# (validation MSE): 1e-2, the grid's top; run the whole grid with --impl grid --quick, one rate for both
# with --set lr=...
QUICK_LR = 1e-2


def train(ctx: RunContext) -> None:
    cfg = ctx.config(Config)
    steps, d, hidden, experts = cfg.steps, cfg.d_model, cfg.hidden, cfg.experts
    data = torch.Generator().manual_seed(ctx.seed)
    problem = clustered_regression(9216, data, cfg.clusters, d)  # the problem (and its maps)
    X, Y = (t.to(ctx.device) for t in problem)
    test_x, test_y = X[-1024:], Y[-1024:]
    val_x, val_y = X[-2048:-1024], Y[-2048:-1024]  # picks the learning rates
    X, Y = X[:-2048], Y[:-2048]
    moe_label = f"MoE, {experts} experts of {hidden}, top-2"
    dense_label = f"dense SwiGLU of {2 * hidden} (same active parameters)"
    build = {moe_label: lambda: SparseMoE(d, hidden, experts), dense_label: lambda: SwiGLU(d, 2 * hidden)}
    mse: dict[str, float] = {}
    models: dict[str, nn.Module] = {}
    for label, make in build.items():
        runs: dict[float, tuple[float, nn.Module]] = {}
        grid = (cfg.lr,) if cfg.lr else rates.rates(ctx, GRID, QUICK_LR)
        for lr in grid:
            torch.manual_seed(ctx.seed)
            model = make().to(ctx.device)
            opt = torch.optim.Adam(model.parameters(), lr=lr)
            batches = torch.Generator().manual_seed(ctx.seed)  # the same batches for both
            for step in range(steps):
                idx = torch.randint(0, len(X), (cfg.batch,), generator=batches).to(ctx.device)
                loss = F.mse_loss(model(X[idx]), Y[idx])
                if isinstance(model, SparseMoE):
                    loss = loss + cfg.balance * model.load_balancing_loss(X[idx])
                opt.zero_grad()
                loss.backward()
                opt.step()
                if step % 20 == 0:
                    ctx.metric(f"train loss ({label}, lr {lr:g})", step, loss.item())
            with torch.no_grad():
                runs[lr] = (F.mse_loss(model(val_x), val_y).item(), model)
            ctx.progress(len(models) * len(grid) + len(runs), 2 * len(grid))
        val_loss = {r: run[0] for r, run in runs.items()}
        models[label] = model = runs[rates.best(val_loss)][1]
        with torch.no_grad():
            mse[label] = F.mse_loss(model(test_x), test_y).item()
        ctx.measured(f"test MSE, {label}", mse[label], rates.choice(val_loss))
    moe_mse, dense_mse = mse.values()
    ctx.target(
        "test MSE of the MoE / of the dense block with equal active parameters",
        moe_mse / dense_mse,
        0.5,
        higher_is_better=False,
        detail=f"{moe_mse:.4f} vs {dense_mse:.4f}; {steps} Adam steps; targets' variance "
        f"{test_y.var().item():.2f}"
        + ("; 2 experts of 2 active: no more capacity than the dense block" if experts == 2 else ""),
    )
    moe = next(m for m in models.values() if isinstance(m, SparseMoE))
    with torch.no_grad():
        _, chosen, _ = moe.route(test_x)
        load = torch.bincount(chosen.flatten(), minlength=experts).float() / chosen.numel()
        balance = moe.load_balancing_loss(test_x).item()
    ctx.measured(
        f"expert load: largest share of routing slots (1/{experts} = {1 / experts:.3g} is even)",
        load.max().item(),
        "per expert "
        + " ".join(f"{v:.2f}" for v in load.tolist())
        + f"; stdev {statistics.pstdev(load.tolist()):.3f}",
    )
    ctx.measured("load-balancing loss on the test set (1 = even)", balance)


def bench(ctx: RunContext) -> None:
    for i, tokens in enumerate((512, 2048) if ctx.quick else (1024, 4096, 16384)):
        x = torch.randn(tokens, 256, device=ctx.device)
        variants: list[tuple[str, nn.Module]] = [
            ("dense SwiGLU, the active size (2 × 512)", SwiGLU(256, 1024)),
            ("MoE, 8 experts of 512, top-2", SparseMoE(256, 512, 8)),
            ("dense SwiGLU, all parameters (8 × 512)", SwiGLU(256, 4096)),
        ]
        for j, (label, module) in enumerate(variants):
            module.to(ctx.device)
            with torch.no_grad():
                ctx.bench.measure(
                    f"{label}, {tokens} tokens",
                    partial(module, x),
                    baseline=i == 0 and j == 0,
                    tokens=tokens,
                    shape=(tokens, 256),
                    dtype=x.dtype,
                )
