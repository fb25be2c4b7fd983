"""REINFORCE at toy scale: Williams's estimator is the exact policy gradient in expectation, a baseline keeps
the expectation and cuts the variance, and both learn a chain MDP to near its exact optimum.

check: on a random 3-state, 2-action MDP with horizon 3, every one of the 216 trajectories is enumerated:
       each episode's score Σ_t ∇log π(a_t | t, s_t) (the estimator with R = 1) equals autograd's gradient
       of its log-probability; the score-function identity E[∇log p(τ) · R(τ)] = ∇E[R] holds exactly
       (REINFORCE's mean, and autograd through Σ p(τ) log p(τ) R(τ), against autograd through the exact
       return J(θ) computed by dynamic programming), float64 then float32; a random state-dependent baseline
       leaves the expectation exactly unchanged and the variance-minimising one lowers the exact variance.
       Then by Monte Carlo on the chain MDP (20,000 episodes, 5,000 quick): the sample mean of the estimator,
       with and without a baseline, is within 4.5 standard errors of the exact ∇J in every component (96
       components: for a Gaussian mean error, all 96 stay inside 4.5 s.e. with probability 0.9993).
train: the 6-state chain (trap paying 0.2 at the left end, 1 at the right end, 10% slips, horizon 8),
       tabular softmax policy from θ = 0, batches of 16 episodes, plain gradient ascent, 300 updates (150
       quick); REINFORCE without a baseline and with Williams's reinforcement-comparison baseline (a running
       mean of past returns), each at its best lr from the same grid (0.3, 1, 3, 10; quick 0.3, 1) chosen
       on validation seeds (10 000 + seed …), then trained on the run's own seeds (4; quick 2); the exact
       return of the final policy against the optimum J* from value iteration (target ≥ 0.9 J*). Then the
       per-episode gradient variance (trace of the covariance), exact: every one of the chain's 32,768
       trajectories weighted by its probability, no episodes sampled; with b = J(θ) and with the
       variance-minimising state baseline b*(t, s) (exact too) against none, at θ = 0 and, halfway and at
       the end, at each of the run's learnt policies (4; quick 2), their ratios averaged; target b* ≤ 0.5 ×
       none halfway and at the end; at θ = 0 it is 0.538 and reported, not asserted; b = J(θ) is reported
       only (it raises the variance once the policy is good).
bench: episodes sampled and turned into gradient estimates per second at batch sizes 16, 256 and 4096.
"""

from __future__ import annotations

import math

import torch

from readtrack.api import RunContext, dtype_name, plural

from .config import Config
from .model import MDP, exact_return, optimal_return, policy, reinforce, rollout, variance_minimising_baseline


def enumerate_trajectories(mdp: MDP) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Every (s_0, a_0, …, s_{H−1}, a_{H−1}) the environment can produce (transitions of probability 0 left
    out: 32,768 on the default chain, (S·A)^H on a random MDP), in lexicographic order; states, actions
    (N, H) and the log-probability of the environment's part of each, log s0(s_0) + Σ log P(s_{t+1} | s_t,
    a_t) (N,)."""
    A = mdp.r.shape[1]
    states = torch.nonzero(mdp.s0 > 0)  # (N, 1) the prefixes so far
    actions = states.new_zeros(len(states), 0)
    log_env = mdp.s0[states[:, 0]].log()
    for t in range(mdp.horizon):
        a = torch.arange(A, device=states.device).repeat(len(states))
        states, log_env = states.repeat_interleave(A, 0), log_env.repeat_interleave(A)
        actions = torch.cat([actions.repeat_interleave(A, 0), a[:, None]], 1)
        if t == mdp.horizon - 1:
            break
        P = mdp.P[states[:, -1], a]  # (N, S) where each prefix goes next
        prefix, nxt = torch.nonzero(P > 0).unbind(1)
        states, actions = torch.cat([states[prefix], nxt[:, None]], 1), actions[prefix]
        log_env = log_env[prefix] + P[prefix, nxt].log()
    return states, actions, log_env


Trajectories = tuple[torch.Tensor, torch.Tensor, torch.Tensor]


def exact_moments(
    theta: torch.Tensor,
    mdp: MDP,
    baseline: torch.Tensor | None,
    trajectories: Trajectories | None = None,
    chunk: int = 1 << 13,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """By enumeration (`trajectories`: enumerate_trajectories(mdp), computed when None): E[g], tr Cov[g] =
    E|g|² − |E[g]|² of the estimator, no sampling in either, and the trajectories' probabilities; g is
    formed `chunk` trajectories at a time."""
    states, actions, log_env = enumerate_trajectories(mdp) if trajectories is None else trajectories
    t = torch.arange(mdp.horizon, device=theta.device)
    log_pi = policy(theta).log()[t, states, actions].sum(1)  # (N,)
    p = (log_env.to(theta.dtype) + log_pi).exp().detach()
    R = mdp.r.to(theta.dtype)[states, actions].sum(1)
    mean, square = torch.zeros_like(theta.detach()), theta.new_zeros(()).detach()
    for i in range(0, len(p), chunk):
        part = slice(i, i + chunk)
        g = reinforce(theta, states[part], actions[part], R[part], baseline)  # (chunk, H, S, A)
        mean += torch.einsum("n,nhsa->hsa", p[part], g)
        square += (p[part] * g.pow(2).sum((1, 2, 3))).sum()
    return mean, square - mean.pow(2).sum(), p


def check(ctx: RunContext) -> None:
    gen = torch.Generator(device=ctx.device).manual_seed(ctx.seed)
    tiny = MDP.random(3, 2, 3, gen, device=ctx.device)
    states, actions, log_env = enumerate_trajectories(tiny)
    t = torch.arange(tiny.horizon, device=ctx.device)
    for dtype in ctx.check_dtypes:
        name = f"({dtype_name(dtype)}, {len(states)} trajectories)"
        theta = torch.randn(3, 3, 2, generator=gen, dtype=torch.float64, device=ctx.device).to(dtype)
        theta.requires_grad_()
        (grad_J,) = torch.autograd.grad(exact_return(theta, tiny), theta)

        def log_p(th: torch.Tensor) -> torch.Tensor:
            return policy(th).log()[t, states, actions].sum(1)

        jac = torch.autograd.functional.jacobian(log_p, theta)  # (N, H, S, A)
        ones = torch.ones(len(states), dtype=dtype, device=ctx.device)
        ctx.check_close(
            f"score per trajectory vs autograd of log π(τ) {name}",
            reinforce(theta, states, actions, ones),
            jac,
        )

        p = (log_env.to(dtype) + log_p(theta)).exp().detach()
        R = tiny.r.to(dtype)[states, actions].sum(1)
        (identity,) = torch.autograd.grad((p * log_p(theta) * R).sum(), theta)
        ctx.check_close(f"score-function identity: autograd of E[log p(τ)·R] vs ∇J {name}", identity, grad_J)
        mean, var, _ = exact_moments(theta, tiny, None)
        ctx.check_close(f"E[REINFORCE] vs exact ∇J by enumeration {name}", mean, grad_J)

        b = torch.randn(3, 3, generator=gen, dtype=torch.float64, device=ctx.device).to(dtype)
        mean_b, _, _ = exact_moments(theta, tiny, b)
        ctx.check_close(f"baseline leaves E[g] unchanged (random b(t, s)) {name}", mean_b, mean)
        # the variance-minimising b*(t, s), exact: the trajectories weighted by their probabilities
        b_star = variance_minimising_baseline(theta, states, actions, R, weights=p)
        mean_star, var_star, _ = exact_moments(theta, tiny, b_star)
        ctx.check_close(f"baseline leaves E[g] unchanged (variance-minimising b) {name}", mean_star, mean)
        ctx.check_property(
            f"the best state baseline lowers the exact variance {name}",
            bool(var_star < var),
            f"tr Cov: {var.item():.4g} without, {var_star.item():.4g} with b*",
            value=(var_star / var).item(),
        )

    # Monte Carlo on the chain: the estimator's sample mean against the exact gradient.
    chain = MDP.chain(device=ctx.device)
    n = 5_000 if ctx.quick else 20_000
    theta = (
        0.5 * torch.randn(8, 6, 2, generator=gen, dtype=torch.float64, device=ctx.device)
    ).requires_grad_()
    J = exact_return(theta, chain)
    (grad_J,) = torch.autograd.grad(J, theta)
    s, a, R = rollout(theta, chain, n, gen)
    baselines: list[tuple[str, torch.Tensor | None]] = [
        ("no baseline", None),
        ("baseline b = J(θ)", torch.full((8, 6), J.item(), device=ctx.device, dtype=torch.float64)),
    ]
    for label, base in baselines:
        g_mc = reinforce(theta, s, a, R, base)
        se = g_mc.std(0) / n**0.5
        z = (g_mc.mean(0) - grad_J).abs() / se.clamp_min(1e-300)
        z = torch.where(se > 0, z, (g_mc.mean(0) - grad_J).abs() * 1e300)  # no spread: must be exact
        ctx.check_property(
            f"Monte Carlo: REINFORCE mean within 4.5 s.e. of exact ∇J, {label} ({n} episodes)",
            bool(z.max() <= 4.5),
            f"largest |mean − ∇J| / s.e. over 96 components: {z.max().item():.2f}",
            value=z.max().item(),
        )

    # One episode's estimate with a baseline, each step weighted by its own R − b(t, s_t) (the means above
    # cannot tell: any b of the state alone leaves E[g] unchanged), B, H, S, A all different; and no graph.
    exact = ctx.exact_dtype
    B, H, S, A = 5, 3, 4, 2
    theta = torch.randn(H, S, A, generator=gen, dtype=torch.float64, device=ctx.device).to(exact)
    theta.requires_grad_()
    states = torch.randint(0, S, (B, H), generator=gen, device=ctx.device)
    actions = torch.randint(0, A, (B, H), generator=gen, device=ctx.device)
    R = torch.randn(B, generator=gen, dtype=torch.float64, device=ctx.device).to(exact)
    b = torch.randn(H, S, generator=gen, dtype=torch.float64, device=ctx.device).to(exact)
    t = torch.arange(H, device=ctx.device)
    g = reinforce(theta, states, actions, R, b)

    def weighted_log_p(th: torch.Tensor) -> torch.Tensor:  # Σ_t ln π(a_t | t, s_t) · (R − b(t, s_t)), (B,)
        return (policy(th).log()[t, states, actions] * (R[:, None] - b[t, states])).sum(1)

    ctx.check_close(
        f"score × (R − b(t, s_t)) per step vs autograd, one baseline per (t, s), B={B} H={H} S={S} A={A}",
        g,
        torch.autograd.functional.jacobian(weighted_log_p, theta.detach()),
    )
    ctx.check_property(
        "the estimate carries no graph (policy(theta.detach())), though theta requires grad",
        not g.requires_grad,
        f"requires_grad {g.requires_grad}, grad_fn {type(g.grad_fn).__name__ if g.grad_fn else None}",
    )


def variance_ratios(
    theta: torch.Tensor, mdp: MDP, trajectories: Trajectories, subtract: bool = True
) -> tuple[float, float]:
    """tr Cov[g] with b = J(θ) and with the variance-minimising b*(t, s), each over tr Cov[g] without a
    baseline, at one policy, all three exact: every trajectory weighted by its probability, b* fitted so
    too (no episodes sampled, no estimation noise). subtract=False drops both baselines (every ratio 1)."""
    states, actions, _ = trajectories
    _, none, p = exact_moments(theta, mdp, None, trajectories)
    R = mdp.r.to(theta.dtype)[states, actions].sum(1)
    b_J = exact_return(theta, mdp).detach().expand(mdp.horizon, mdp.r.shape[0])  # b = J(θ) everywhere
    b_star = variance_minimising_baseline(theta, states, actions, R, weights=p)
    ratios = []
    for b in (b_J, b_star):
        _, var, _ = exact_moments(theta, mdp, b if subtract else None, trajectories)
        ratios.append((var / none).item() if none > 0 else math.nan)  # none = 0: a deterministic policy
    return ratios[0], ratios[1]


def _learn(
    ctx: RunContext, mdp: MDP, lr: float, use_baseline: bool, seed: int, updates: int, batch: int = 16
) -> tuple[torch.Tensor, torch.Tensor]:
    """Gradient ascent with REINFORCE; returns the final θ and the one halfway."""
    theta = torch.zeros(mdp.horizon, *mdp.r.shape, dtype=torch.float64, device=ctx.device)
    gen = torch.Generator(device=ctx.device).manual_seed(seed)
    running, halfway = 0.0, theta
    for k in range(updates):
        s, a, R = rollout(theta, mdp, batch, gen)
        b = torch.full((mdp.horizon, mdp.r.shape[0]), running, dtype=theta.dtype, device=ctx.device)
        theta = theta + lr * reinforce(theta, s, a, R, b if use_baseline else None).mean(0)
        running = (
            R.mean().item() if k == 0 else 0.9 * running + 0.1 * R.mean().item()
        )  # uses past batches only
        if k == updates // 2:
            halfway = theta
    return theta, halfway


VALIDATION_SEED = 10_000  # learning rates are chosen on seeds 10 000 + seed …, never on the reported ones


def train(ctx: RunContext) -> None:
    cfg = ctx.config(Config)
    mdp = MDP.chain(cfg.states, cfg.horizon, cfg.slip, device=ctx.device)
    J_star = optimal_return(mdp)
    ctx.measured(
        "optimal return J* (value iteration)",
        J_star,
        f"{cfg.states}-state chain, horizon {cfg.horizon}, {cfg.slip:.0%} slips",
    )
    uniform = torch.zeros(cfg.horizon, cfg.states, 2, dtype=torch.float64, device=ctx.device)
    ctx.measured("return of the uniform policy θ = 0", exact_return(uniform, mdp).item(), "exact")
    updates, inits = cfg.steps, cfg.inits
    lrs = ((0.3, 1.0) if ctx.quick else (0.3, 1.0, 3.0, 10.0)) if cfg.lr == 0 else (cfg.lr,)
    dropped = "" if cfg.baseline else "; baseline=false: every baseline dropped from the estimator"
    best: dict[bool, tuple[float, float, list[torch.Tensor], list[torch.Tensor]]] = {}
    for use_baseline in (False, True):
        subtract = use_baseline and cfg.baseline
        # the rate is chosen on validation seeds (other episodes), the return reported on the run's own
        validation = {
            lr: sum(
                exact_return(
                    _learn(ctx, mdp, lr, subtract, VALIDATION_SEED + ctx.seed + i, updates, cfg.batch)[0], mdp
                ).item()
                for i in range(inits)
            )
            / inits
            / J_star
            for lr in lrs
        }
        lr = max(lrs, key=lambda r: validation[r])
        arm = "with" if use_baseline else "without"
        ctx.log(
            f"{arm} baseline, validation seeds: "
            + ", ".join(f"lr {r}: {v:.3f} of J*" for r, v in validation.items())
        )
        runs = [_learn(ctx, mdp, lr, subtract, ctx.seed + i, updates, cfg.batch) for i in range(inits)]
        frac = sum(exact_return(th, mdp).item() for th, _ in runs) / inits / J_star
        best[use_baseline] = (lr, frac, [h for _, h in runs], [th for th, _ in runs])
    for use_baseline, (lr, frac, _, _) in best.items():
        ctx.measured(
            f"return / J* after {updates} updates of {cfg.batch} episodes, "
            f"{'with' if use_baseline else 'no'} baseline",
            frac,
            f"lr {lr}, the best of {lrs} on {plural(inits, 'validation seed')}; "
            f"mean of {plural(inits, 'init')}",
        )
    ctx.target(
        "REINFORCE with a baseline: exact return of the learnt policy / optimum",
        best[True][1],
        0.9,
        detail=f"without a baseline (its own best lr): {best[False][1]:.3f}" + dropped,
    )

    # The gradient variance, exact (every trajectory of the chain enumerated: at a nearly deterministic
    # policy, 20,000 sampled episodes left the ratio noisy), at θ = 0 and at each of the run's learnt
    # policies (the "with a baseline" arm's) halfway and at the end; a point's ratio is their mean.
    trajectories = enumerate_trajectories(mdp)
    exact = f"exact trace of the per-episode covariance, all {len(trajectories[0])} trajectories"
    points = (("θ = 0", [uniform]), ("halfway", best[True][2]), ("the learnt policy", best[True][3]))
    for where, thetas in points:
        ratios = [variance_ratios(th, mdp, trajectories, cfg.baseline) for th in thetas]
        J = ", ".join(f"{exact_return(th, mdp).item():.3f}" for th in thetas)
        for i, label in enumerate(("b = J(θ)", "b*(t, s)")):
            values = [r[i] for r in ratios]
            each = ", ".join(f"{v:.3f}" for v in values)
            of = f"; mean of {len(values)} policies' ratios, {each}" if len(values) > 1 else ""
            name = f"gradient variance, {label} / no baseline, at {where}"
            detail = f"{exact}{of}; J(θ) = {J}" + dropped
            if i == 0 or where == "θ = 0":  # b* at θ = 0: not 0.5 there, reported (see the page)
                ctx.measured(name, sum(values) / len(values), detail)
            else:
                ctx.target(name, sum(values) / len(values), 0.5, higher_is_better=False, detail=detail)


def bench(ctx: RunContext) -> None:
    mdp = MDP.chain(device=ctx.device)
    theta = torch.zeros(8, 6, 2, dtype=torch.float64, device=ctx.device)
    gen = torch.Generator(device=ctx.device).manual_seed(ctx.seed)
    for i, batch in enumerate((16, 256, 4096)):

        def step(batch: int = batch) -> torch.Tensor:
            s, a, R = rollout(theta, mdp, batch, gen)
            return reinforce(theta, s, a, R).mean(0)

        ctx.bench.measure(
            f"sample {batch} episodes + REINFORCE estimate",
            step,
            baseline=i == 0,
            unit="episodes/s",
            tokens=batch,
            shape=(batch, 8),
            dtype=theta.dtype,
        )
