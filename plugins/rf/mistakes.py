"""Classic mistakes in REINFORCE, for ``readtrack practice``: its check must catch each
(tests/practice/test_practice.py)."""

from __future__ import annotations

import torch

from readtrack.api import mistake

from .model import policy


@mistake("reinforce", fails="score per trajectory vs autograd of log π(τ)")
def reinforce(
    theta: torch.Tensor,
    states: torch.Tensor,
    actions: torch.Tensor,
    R: torch.Tensor,
    baseline: torch.Tensor | None = None,
) -> torch.Tensor:
    """The score with its sign flipped, π − onehot(a) (the gradient of the loss −ln π, not of ln π): the
    update then descends the expected reward."""
    B, H = states.shape
    S, A = theta.shape[1], theta.shape[2]
    pi = policy(theta.detach())
    t = torch.arange(H, device=theta.device).expand(B, H)
    score = pi[t, states] - torch.nn.functional.one_hot(actions, A).to(theta.dtype)
    advantage = R[:, None] - (baseline[t, states] if baseline is not None else 0.0)
    g = torch.zeros(B, H, S, A, dtype=theta.dtype, device=theta.device)
    g[torch.arange(B, device=theta.device)[:, None], t, states] = score * advantage[..., None]
    return g


@mistake("reinforce", fails="score × (R − b(t, s_t)) per step vs autograd")
def reinforce_start_state_baseline(
    theta: torch.Tensor,
    states: torch.Tensor,
    actions: torch.Tensor,
    R: torch.Tensor,
    baseline: torch.Tensor | None = None,
) -> torch.Tensor:
    """Subtracts one baseline per episode, b(0, s_0), from every step's R instead of each step's own
    b(t, s_t): still unbiased (E[g] is unchanged), so every mean agrees, but it is not the estimator the
    statement defines, and its variance is not the one b*(t, s) minimises."""
    B, H = states.shape
    S, A = theta.shape[1], theta.shape[2]
    pi = policy(theta.detach())
    t = torch.arange(H, device=theta.device).expand(B, H)
    score = torch.nn.functional.one_hot(actions, A).to(theta.dtype) - pi[t, states]
    advantage = R - (baseline[0, states[:, 0]] if baseline is not None else 0.0)  # (B,)
    g = torch.zeros(B, H, S, A, dtype=theta.dtype, device=theta.device)
    g[torch.arange(B, device=theta.device)[:, None], t, states] = score * advantage[:, None, None]
    return g


@mistake("reinforce", fails="the estimate carries no graph")
def reinforce_with_a_graph(
    theta: torch.Tensor,
    states: torch.Tensor,
    actions: torch.Tensor,
    R: torch.Tensor,
    baseline: torch.Tensor | None = None,
) -> torch.Tensor:
    """Takes π from theta itself, not theta.detach(): the numbers are right, but every estimate drags the
    autograd graph of the softmax along (memory that grows with each batch kept), where the statement asks
    for a plain tensor."""
    B, H = states.shape
    S, A = theta.shape[1], theta.shape[2]
    pi = policy(theta)
    t = torch.arange(H, device=theta.device).expand(B, H)
    score = torch.nn.functional.one_hot(actions, A).to(theta.dtype) - pi[t, states]
    advantage = R[:, None] - (baseline[t, states] if baseline is not None else 0.0)
    g = torch.zeros(B, H, S, A, dtype=theta.dtype, device=theta.device)
    g[torch.arange(B, device=theta.device)[:, None], t, states] = score * advantage[..., None]
    return g
