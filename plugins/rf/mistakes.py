"""The classic mistake in REINFORCE, for ``readtrack practice``: its check must catch it
(tests/test_practice.py)."""

from __future__ import annotations

import torch

from readtrack.practice import mistake

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
