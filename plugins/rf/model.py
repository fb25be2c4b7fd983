"""REINFORCE (Williams 1992) on a small finite-horizon MDP written in torch: a tabular softmax policy
π_θ(a | t, s), episodes sampled in batches, the estimator with and without a baseline, and the exact
return J(θ) and optimum J* by dynamic programming (no gym)."""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class MDP:
    P: torch.Tensor  # (S, A, S) transition probabilities P(s' | s, a)
    r: torch.Tensor  # (S, A) expected reward of taking a in s
    s0: torch.Tensor  # (S,) start distribution
    horizon: int  # H steps per episode

    @staticmethod
    def chain(n_states: int = 6, horizon: int = 8, slip: float = 0.1, device: str = "cpu") -> MDP:
        """A chain 0 … S−1 starting at 1: action 0 goes left, 1 right, each slipping the other way with
        prob. `slip`. Going left at state 0 pays 0.2 (the trap); going right at S−1 pays 1."""
        S, dt = n_states, torch.float64
        P = torch.zeros(S, 2, S, dtype=dt, device=device)
        for s in range(S):
            left, right = max(s - 1, 0), min(s + 1, S - 1)
            P[s, 0, left] += 1 - slip
            P[s, 0, right] += slip
            P[s, 1, right] += 1 - slip
            P[s, 1, left] += slip
        r = torch.zeros(S, 2, dtype=dt, device=device)
        r[0, 0], r[S - 1, 1] = 0.2, 1.0
        s0 = torch.zeros(S, dtype=dt, device=device)
        s0[1] = 1.0
        return MDP(P, r, s0, horizon)

    @staticmethod
    def random(n_states: int, n_actions: int, horizon: int, gen: torch.Generator, device: str = "cpu") -> MDP:
        dt = torch.float64
        P = torch.rand(n_states, n_actions, n_states, generator=gen, dtype=dt, device=device)
        r = torch.randn(n_states, n_actions, generator=gen, dtype=dt, device=device)
        s0 = torch.rand(n_states, generator=gen, dtype=dt, device=device)
        return MDP(P / P.sum(-1, keepdim=True), r, s0 / s0.sum(), horizon)


def policy(theta: torch.Tensor) -> torch.Tensor:
    """π(a | t, s) = softmax_a θ[t, s, a]; theta (H, S, A)."""
    return theta.softmax(-1)


def exact_return(theta: torch.Tensor, mdp: MDP) -> torch.Tensor:
    """J(θ) = Σ_t Σ_s d_t(s) Σ_a π(a|t,s) r(s,a), with d_{t+1}(s') = Σ_{s,a} d_t(s) π(a|t,s) P(s'|s,a);
    differentiable, so autograd gives the exact policy gradient ∇J."""
    pi, d, J = policy(theta), mdp.s0.to(theta.dtype), theta.new_zeros(())
    for t in range(mdp.horizon):
        joint = d[:, None] * pi[t]  # (S, A) probability of (s_t, a_t)
        J = J + (joint * mdp.r.to(theta.dtype)).sum()
        d = torch.einsum("sa,sap->p", joint, mdp.P.to(theta.dtype))
    return J


def optimal_return(mdp: MDP) -> float:
    """J* by finite-horizon value iteration: V_H = 0, V_t(s) = max_a r(s,a) + Σ_s' P(s'|s,a) V_{t+1}(s')."""
    V = torch.zeros_like(mdp.s0)
    for _ in range(mdp.horizon):
        V = (mdp.r + mdp.P @ V).amax(-1)
    return float(mdp.s0 @ V)


def rollout(
    theta: torch.Tensor, mdp: MDP, batch: int, gen: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Sample `batch` episodes; returns states and actions (batch, H) and the return R (batch,)."""
    H, device = mdp.horizon, theta.device
    pi = policy(theta.detach())
    s = torch.multinomial(mdp.s0.expand(batch, -1), 1, generator=gen).squeeze(1)
    states, actions = [], []
    R = torch.zeros(batch, dtype=theta.dtype, device=device)
    for t in range(H):
        a = torch.multinomial(pi[t, s], 1, generator=gen).squeeze(1)
        states.append(s)
        actions.append(a)
        R += mdp.r[s, a].to(theta.dtype)
        s = torch.multinomial(mdp.P[s, a], 1, generator=gen).squeeze(1)
    return torch.stack(states, 1), torch.stack(actions, 1), R


def reinforce(
    theta: torch.Tensor,
    states: torch.Tensor,
    actions: torch.Tensor,
    R: torch.Tensor,
    baseline: torch.Tensor | None = None,
) -> torch.Tensor:
    """Williams's estimator, one per episode: g = Σ_t ∇_θ log π(a_t | t, s_t) · (R − b(t, s_t)).

    For the softmax, ∇_θ[t, s, :] log π(a | t, s) = onehot(a) − π(· | t, s), and zero elsewhere.
    states, actions (B, H), R (B,), baseline (H, S) or None; returns (B, H, S, A). The mean over the
    batch estimates ∇J(θ); a baseline that depends on the state but not the action leaves its mean alone.
    """
    B, H = states.shape
    S, A = theta.shape[1], theta.shape[2]
    pi = policy(theta.detach())
    t = torch.arange(H, device=theta.device).expand(B, H)
    score = torch.nn.functional.one_hot(actions, A).to(theta.dtype) - pi[t, states]  # (B, H, A)
    advantage = R[:, None] - (baseline[t, states] if baseline is not None else 0.0)  # (B, H)
    g = torch.zeros(B, H, S, A, dtype=theta.dtype, device=theta.device)
    g[torch.arange(B, device=theta.device)[:, None], t, states] = score * advantage[..., None]
    return g


def variance_minimising_baseline(
    theta: torch.Tensor,
    states: torch.Tensor,
    actions: torch.Tensor,
    R: torch.Tensor,
    weights: torch.Tensor | None = None,
) -> torch.Tensor:
    """b*(t, s) = E[|∇log π(a_t | t, s)|² R | s_t = s] / E[|∇log π(a_t | t, s)|² | s_t = s], the state
    baseline of least variance for g (each (t, s) block of g sees only its own b). From episodes (weights
    None: a sample mean; fit it on episodes other than those it is used with) or from all trajectories with
    their probabilities as weights; (H, S), zero where no episode visits (t, s)."""
    (B, H), (S, A) = states.shape, theta.shape[1:]
    w = torch.ones(B, dtype=theta.dtype, device=theta.device) if weights is None else weights
    t = torch.arange(H, device=theta.device).expand(B, H)
    score = torch.nn.functional.one_hot(actions, A).to(theta.dtype) - policy(theta.detach())[t, states]
    score_sq = score.pow(2).sum(-1)  # (B, H): |∇log π(a_t | t, s_t)|², the only block of g at step t
    num = theta.new_zeros(H, S).index_put_((t, states), (w * R)[:, None] * score_sq, accumulate=True)
    den = theta.new_zeros(H, S).index_put_((t, states), w[:, None] * score_sq, accumulate=True)
    return torch.where(den > 0, num / den.clamp_min(1e-300), torch.zeros_like(den))
