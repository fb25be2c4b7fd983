"""L-BFGS checked against torch.optim.LBFGS and a dense BFGS matrix, then raced against Adam.

check: the optimizer against ``torch.optim.LBFGS`` step for step (every point the closure is evaluated at,
       the losses, the evaluation and iteration counts, the kept pairs, H⁰'s scale and the last direction)
       on Rosenbrock, a random quadratic with condition number 1e4 and a small logistic regression (two
       parameter tensors, one 0-d), history sizes 1, 3 and 100, with and without the strong-Wolfe line
       search, float64 then float32; the two-loop recursion against −H g with H built explicitly by the
       BFGS update (2.6) from the same pairs (m = 0, 1, 3, 8); and the secant condition H y = s of the
       implied matrix.
train: evaluations of f needed to reach a tolerance, L-BFGS (history 10, strong Wolfe) against Adam at
       its best learning rate from a grid, on Rosenbrock from (−1.5, 2) and on a quadratic with κ = 1e4.
bench: one two-loop recursion (the direction's cost) against the history size m and the dimension n.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from readtrack.api import RunContext, dtype_name

from .config import Config
from .model import LBFGS, dense_inverse_hessian, two_loop

Problem = tuple[list[Tensor], Callable[[list[Tensor]], Tensor]]  # (starting parameters, f)


def rosenbrock(x: Tensor) -> Tensor:
    return (1 - x[..., 0]) ** 2 + 100 * (x[..., 1] - x[..., 0] ** 2) ** 2


def _quadratic(n: int, kappa: float, seed: int, dtype: torch.dtype, device: str) -> tuple[Tensor, Tensor]:
    """A (n, n) = Q diag(λ) Qᵀ with λ log-spaced from 1 to κ, b (n,): f(x) = ½ xᵀAx − bᵀx."""
    g = torch.Generator().manual_seed(seed)
    Q, _ = torch.linalg.qr(torch.randn(n, n, generator=g, dtype=torch.float64))
    A = Q @ torch.diag(torch.logspace(0, math.log10(kappa), n, dtype=torch.float64)) @ Q.T
    b = torch.randn(n, generator=g, dtype=torch.float64)
    return A.to(device, dtype), b.to(device, dtype)


def _problems(dtype: torch.dtype, device: str, seed: int) -> dict[str, Problem]:
    A, b = _quadratic(17, 1e4, seed, dtype, device)
    g = torch.Generator().manual_seed(seed + 1)
    X = torch.randn(40, 7, generator=g, dtype=torch.float64).to(device, dtype)  # (40, 7)
    labels = (torch.rand(40, generator=g) < 0.5).to(device, dtype)  # (40,)
    return {
        "Rosenbrock": ([torch.tensor([-1.5, 2.0], dtype=dtype, device=device)], lambda p: rosenbrock(p[0])),
        "quadratic κ = 1e4, n = 17": (
            [torch.zeros(17, dtype=dtype, device=device)],
            lambda p: 0.5 * p[0] @ A @ p[0] - b @ p[0],
        ),
        "logistic regression, w (7,) and b ()": (
            [torch.zeros(7, dtype=dtype, device=device), torch.zeros((), dtype=dtype, device=device)],
            lambda p: torch.nn.functional.binary_cross_entropy_with_logits(X @ p[0] + p[1], labels),
        ),
    }


def _run(optimizer_class: type, problem: Problem, steps: int, **options: Any) -> dict[str, Any]:
    """``steps`` calls of ``step(closure)``: every evaluated point and loss, and the state at the end."""
    start, f = problem
    params = [p.clone().requires_grad_() for p in start]
    opt = optimizer_class(params, **options)
    points, losses = [], []

    def closure() -> Tensor:
        opt.zero_grad()
        loss = f(params)
        loss.backward()
        points.append(torch.cat([p.detach().reshape(-1) for p in params]))
        losses.append(loss.detach())
        return loss

    for _ in range(steps):
        opt.step(closure)
    return {"points": torch.stack(points), "losses": torch.stack(losses), "state": opt.state[params[0]]}


def check(ctx: RunContext) -> None:
    steps = 2 if ctx.quick else 3  # calls of step(closure), each up to 15 iterations
    for dtype in ctx.check_dtypes:
        name = dtype_name(dtype)
        _check_two_loop(ctx, dtype)
        # No pairs yet: d = −γ g, γ as a float or a 0-dim tensor (the dense check above has γ = 1 there).
        g = torch.randn(9, dtype=dtype, device=ctx.device)
        for gamma in (0.37, torch.tensor(2.5, dtype=dtype, device=ctx.device)):
            kind = "a float" if isinstance(gamma, float) else "a 0-dim tensor"
            ctx.check_close(
                f"two-loop recursion with no pairs (m = 0) is −γ g, γ = {float(gamma):g} as {kind} ({name})",
                two_loop(g, [], [], [], gamma),
                -gamma * g,
            )
        for label, problem in _problems(dtype, ctx.device, ctx.seed).items():
            for line_search in (None, "strong_wolfe"):
                for m in (1, 3, 100):
                    options = dict(history_size=m, line_search_fn=line_search, max_iter=15)
                    ours = _run(LBFGS, problem, steps, **options)
                    ref = _run(torch.optim.LBFGS, problem, steps, **options)
                    case = f"{label}, m = {m}, {line_search or 'fixed step'} ({name})"
                    ctx.check_close(
                        f"L-BFGS vs torch.optim.LBFGS: every evaluated point, {case}",
                        ours["points"],
                        ref["points"],
                    )
                    ctx.check_close(
                        f"L-BFGS vs torch.optim.LBFGS: every loss, {case}", ours["losses"], ref["losses"]
                    )
                    _check_state(ctx, case, ours["state"], ref["state"])


def _check_state(ctx: RunContext, case: str, ours: dict[str, Any], ref: dict[str, Any]) -> None:
    counts = (ours["func_evals"], ours["n_iter"], len(ours["S"]))
    expected = (ref["func_evals"], ref["n_iter"], len(ref["old_stps"]))
    ctx.check_property(
        f"L-BFGS vs torch.optim.LBFGS: evaluations, iterations, pairs kept, {case}",
        counts == expected,
        f"{counts} vs {expected}",
    )
    if counts == expected:
        # γ and t are Python floats, the rest tensors on the run's device: one device for the comparison
        flat = lambda *xs: torch.cat([torch.as_tensor(x, device=ctx.device).reshape(-1) for x in xs])  # noqa: E731
        ctx.check_close(
            f"L-BFGS vs torch.optim.LBFGS: pairs s, y, ρ, H⁰ scale, d, t, {case}",
            flat(*ours["S"], *ours["Y"], *ours["rho"], ours["gamma"], ours["d"], ours["t"]),
            flat(*ref["old_stps"], *ref["old_dirs"], *ref["ro"], ref["H_diag"], ref["d"], ref["t"]),
        )


def _check_two_loop(ctx: RunContext, dtype: torch.dtype) -> None:
    """Pairs with positive curvature (y = A s for an SPD A, n = 9): −H g from the recursion and from H."""
    name = dtype_name(dtype)
    n = 9
    A, _ = _quadratic(n, 1e2, ctx.seed, dtype, ctx.device)
    for m in (0, 1, 3, 8):
        S = [torch.randn(n, dtype=dtype, device=ctx.device) for _ in range(m)]
        Y = [A @ s for s in S]
        rho = [1.0 / y.dot(s) for s, y in zip(S, Y, strict=True)]
        gamma = float(S[-1].dot(Y[-1]) / Y[-1].dot(Y[-1])) if m else 1.0
        g = torch.randn(n, dtype=dtype, device=ctx.device)
        H = dense_inverse_hessian(S, Y, gamma) if m else gamma * torch.eye(n, dtype=dtype, device=ctx.device)
        ctx.check_close(
            f"two-loop recursion vs −H g, H built densely by the BFGS update (2.6), m = {m} ({name})",
            two_loop(g, S, Y, rho, gamma),
            -H @ g,
        )
        if m:
            ctx.check_close(
                f"two-loop recursion satisfies the secant condition H y_k = s_k, m = {m} ({name})",
                two_loop(Y[-1], S, Y, rho, gamma),
                -S[-1],
            )
            sym = (H - H.T).abs().max().item()
            positive = torch.linalg.eigvalsh(H.double()).min().item()
            ctx.check_property(
                f"the implied H is symmetric positive definite, m = {m} ({name})",
                sym <= 1e-4 * H.abs().max().item() and positive > 0,
                f"asymmetry {sym:.2g}, smallest eigenvalue {positive:.3g}",
                value=positive,
            )


def _evals_to(values: list[float], tol: float) -> float:
    """1-based index of the first evaluation with a value below tol, or inf."""
    return next((i + 1 for i, v in enumerate(values) if v < tol), math.inf)


def _lbfgs_trace(x0: Tensor, f: Callable[[Tensor], Tensor], budget: int, history: int = 10) -> list[float]:
    x = x0.clone().requires_grad_()
    opt = LBFGS(
        [x],
        history_size=history,
        line_search_fn="strong_wolfe",
        max_iter=budget,
        max_eval=budget,
        tolerance_grad=0.0,
        tolerance_change=0.0,
    )
    values: list[float] = []

    def closure() -> Tensor:
        opt.zero_grad()
        loss = f(x)
        loss.backward()
        values.append(loss.item())
        return loss

    opt.step(closure)
    return values


def _adam_trace(x0: Tensor, f: Callable[[Tensor], Tensor], lr: float, steps: int) -> list[float]:
    x = x0.clone().requires_grad_()
    opt = torch.optim.Adam([x], lr=lr)
    values = []
    for _ in range(steps):
        opt.zero_grad()
        loss = f(x)
        loss.backward()
        values.append(loss.item())
        opt.step()
    return values


def _power_of_ten(x: float) -> str:
    """κ as the page writes it: 1e4 for a power of ten from 1e3 up, else x as %g."""
    e = round(math.log10(x))
    return f"1e{e}" if e >= 3 and 10.0**e == x else f"{x:g}"


def train(ctx: RunContext) -> None:
    cfg = ctx.config(Config)
    steps, m = cfg.steps, cfg.m
    grid = (1e-3, 1e-2, 1e-1) if ctx.quick else (1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1)
    rates = grid if cfg.lr == 0 else (cfg.lr,)
    A, b = _quadratic(cfg.n, cfg.kappa, ctx.seed, torch.float64, ctx.device)
    x_star = torch.linalg.solve(A, b)
    f_star = float(-0.5 * b @ x_star)
    # (start, f, f*, tolerance on f − f*, L-BFGS's budget, the least Adam/L-BFGS evaluation ratio asked)
    tasks: dict[str, tuple[Tensor, Callable[[Tensor], Tensor], float, float, int, float]] = {
        "Rosenbrock from (−1.5, 2)": (
            torch.tensor([-1.5, 2.0], dtype=torch.float64, device=ctx.device),
            rosenbrock,
            0.0,
            1e-10,
            100,
            10.0,
        ),
        f"quadratic, κ = {_power_of_ten(cfg.kappa)}, n = {cfg.n}": (
            torch.zeros(cfg.n, dtype=torch.float64, device=ctx.device),
            lambda x: 0.5 * x @ A @ x - b @ x,
            f_star,
            1e-6,
            500,
            3.0,
        ),
    }
    for i, (label, (x0, f, floor, tol, budget, ratio)) in enumerate(tasks.items()):
        lbfgs = [v - floor for v in _lbfgs_trace(x0, f, budget, history=m)]
        for k, v in enumerate(lbfgs):
            ctx.metric(f"f − f*, L-BFGS ({label})", k + 1, max(v, 1e-300))
        n_lbfgs = _evals_to(lbfgs, tol)
        if label.startswith("quadratic"):  # how far do m pairs get against n, one per dimension?
            at = 200
            wide = [v - floor for v in _lbfgs_trace(x0, f, at, history=cfg.n)]
            ctx.measured(
                f"L-BFGS m = {cfg.n} against m = {m}: f − f* after {at} evaluations ({label})",
                wide[min(at, len(wide)) - 1],
                f"m = {m}: {lbfgs[min(at, len(lbfgs)) - 1]:.2g}"
                + (f"; {m} pairs are a poor model of {cfg.n} spread eigenvalues" if m < cfg.n else ""),
            )
        best = (math.inf, math.inf, 0.0)  # (evaluations to tol, final gap, lr)
        for lr in rates:
            adam = [v - floor for v in _adam_trace(x0, f, lr, steps)]
            ctx.measured(
                f"Adam lr {lr:g}: evaluations to f − f* < {tol:g} ({label})",
                _evals_to(adam, tol),
                f"f − f* after {steps}: {adam[-1]:.3g}",
            )
            best = min(best, (_evals_to(adam, tol), adam[-1], lr))
            if lr == 1e-2:
                for k in range(0, steps, 10):
                    ctx.metric(f"f − f*, Adam lr 0.01 ({label})", k + 1, max(adam[k], 1e-300))
        n_adam, gap_adam, lr_adam = best
        ctx.target(
            f"L-BFGS (m = {m}, strong Wolfe): evaluations of f to f − f* < {tol:g} ({label})",
            n_lbfgs,
            budget,
            higher_is_better=False,
            detail=f"of a budget of {budget}",
        )
        # Where Adam never gets there in its steps at any rate of the grid, the ratio is at least steps / n
        # (a finite lower bound: an infinite ratio cannot be recorded).
        adam_evals = n_adam
        detail = f"Adam lr {lr_adam:g} of {rates}: {n_adam} evaluations against {n_lbfgs}"
        if math.isinf(n_adam):
            adam_evals = steps
            detail = (
                f"Adam not there in {steps} steps at any rate of {rates} (closest: lr {lr_adam:g}, "
                f"f − f* = {gap_adam:.2g}): at least {steps} evaluations against {n_lbfgs}"
            )
        ctx.target(
            f"Adam at its best lr / L-BFGS: evaluations to f − f* < {tol:g} ({label})",
            adam_evals / n_lbfgs,
            ratio,
            detail=detail,
        )
        ctx.progress(i + 1, len(tasks))


def bench(ctx: RunContext) -> None:
    sizes = (10_000,) if ctx.quick else (10_000, 1_000_000)
    for n in sizes:
        for m in (1, 10, 100) if n <= 100_000 else (1, 10):
            S = [torch.randn(n, device=ctx.device) for _ in range(m)]
            Y = [s + 0.1 * torch.randn(n, device=ctx.device) for s in S]
            rho = [1.0 / y.dot(s) for s, y in zip(S, Y, strict=True)]
            g = torch.randn(n, device=ctx.device)

            def direction(
                g: Tensor = g, S: list[Tensor] = S, Y: list[Tensor] = Y, rho: list[Tensor] = rho
            ) -> None:
                two_loop(g, S, Y, rho, 1.0)

            ctx.bench.measure(
                f"two-loop recursion, m = {m}, n = {n}",
                direction,
                baseline=m == 1 and n == sizes[0],
                flops=4 * m * n * 2 + n,
                flop_formula="8·m·n + n (two dots and two axpys per pair)",
                shape=(m, n),
                dtype=torch.float32,
            )
