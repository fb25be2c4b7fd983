"""The REINFORCE plugin: the estimator's score against autograd on more MDP shapes, the score-function
identity by enumeration, unbiasedness of any state baseline, value iteration against brute force, and checks
that fail for a flipped log-probability sign or a baseline that depends on the action."""

from __future__ import annotations

import itertools

import pytest
import torch
from plugin_stages import check_catches, failures, run_stage
from readtrack_plugins.rf.experiment import enumerate_trajectories, exact_moments
from readtrack_plugins.rf.model import (
    MDP,
    exact_return,
    optimal_return,
    policy,
    reinforce,
    rollout,
    variance_minimising_baseline,
)


@pytest.mark.parametrize(("S", "A", "H"), [(1, 2, 1), (2, 3, 2), (4, 2, 2), (2, 2, 4)])
def test_expectation_equals_the_exact_gradient_by_enumeration(S: int, A: int, H: int) -> None:
    gen = torch.Generator().manual_seed(S * 100 + A * 10 + H)
    mdp = MDP.random(S, A, H, gen)
    theta = torch.randn(H, S, A, generator=gen, dtype=torch.float64, requires_grad=True)
    (grad_J,) = torch.autograd.grad(exact_return(theta, mdp), theta)
    mean, var, p = exact_moments(theta, mdp, None)
    torch.testing.assert_close(p.sum(), torch.tensor(1.0, dtype=torch.float64))
    torch.testing.assert_close(mean, grad_J, rtol=1e-10, atol=1e-12)
    b = torch.randn(H, S, generator=gen, dtype=torch.float64)
    torch.testing.assert_close(exact_moments(theta, mdp, b)[0], grad_J, rtol=1e-10, atol=1e-12)
    states, actions, _ = enumerate_trajectories(mdp)
    R = mdp.r[states, actions].sum(1)
    b_star = variance_minimising_baseline(theta, states, actions, R, weights=p)
    assert exact_moments(theta, mdp, b_star)[1] <= var + 1e-12


def test_exact_return_equals_brute_force_and_value_iteration_is_the_best_deterministic_policy() -> None:
    gen = torch.Generator().manual_seed(3)
    mdp = MDP.random(2, 2, 3, gen)
    theta = torch.randn(3, 2, 2, generator=gen, dtype=torch.float64)
    states, actions, log_env = enumerate_trajectories(mdp)
    t = torch.arange(3)
    p = (log_env + policy(theta).log()[t, states, actions].sum(1)).exp()
    torch.testing.assert_close(exact_return(theta, mdp), (p * mdp.r[states, actions].sum(1)).sum())
    best = max(  # every deterministic time-dependent policy, as a near-one-hot softmax
        exact_return(60.0 * torch.nn.functional.one_hot(torch.tensor(c).view(3, 2), 2).double(), mdp).item()
        for c in itertools.product(range(2), repeat=6)
    )
    assert optimal_return(mdp) == pytest.approx(best, abs=1e-9)


def test_rollouts_follow_the_policy_and_the_chain() -> None:
    mdp = MDP.chain()
    theta = torch.zeros(8, 6, 2, dtype=torch.float64)
    theta[..., 1] = 50.0  # always right
    s, a, R = rollout(theta, mdp, 4000, torch.Generator().manual_seed(0))
    assert (a == 1).all() and (s[:, 0] == 1).all()
    assert R.mean().item() == pytest.approx(exact_return(theta, mdp).item(), abs=0.05)


def flipped_sign(
    theta: torch.Tensor,
    states: torch.Tensor,
    actions: torch.Tensor,
    R: torch.Tensor,
    baseline: torch.Tensor | None = None,
) -> torch.Tensor:
    """Broken: ∇(−log π) · R, the estimator descending the return."""
    return -reinforce(theta, states, actions, R, baseline)


def action_baseline(
    theta: torch.Tensor,
    states: torch.Tensor,
    actions: torch.Tensor,
    R: torch.Tensor,
    baseline: torch.Tensor | None = None,
) -> torch.Tensor:
    """Broken: the baseline also depends on the action taken, b(t, s_t) + 0.5·a_t, which biases g."""
    if baseline is None:
        return reinforce(theta, states, actions, R)
    (B, H), A = states.shape, theta.shape[2]
    t = torch.arange(H).expand(B, H)
    score = torch.nn.functional.one_hot(actions, A).to(theta.dtype) - policy(theta.detach())[t, states]
    advantage = R[:, None] - baseline[t, states] - 0.5 * actions.to(theta.dtype)
    g = torch.zeros(B, *theta.shape, dtype=theta.dtype)
    g[torch.arange(B)[:, None], t, states] = score * advantage[..., None]
    return g


@pytest.mark.parametrize(
    ("broken", "caught_by"),
    [
        (flipped_sign, "E[REINFORCE] vs exact ∇J"),
        (action_baseline, "baseline leaves E[g] unchanged (random b(t, s))"),
    ],
)
def test_the_check_stage_catches_a_flipped_sign_or_an_action_dependent_baseline(
    monkeypatch: pytest.MonkeyPatch, broken: object, caught_by: str
) -> None:
    monkeypatch.setattr("readtrack_plugins.rf.experiment.reinforce", broken)
    check_catches("rf", caught_by)


def test_the_train_stage_fails_when_the_baseline_is_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    """Remove the idea (the baseline b): an estimator that drops it, (R − 0)·∇log π, and the variance
    targets must fail."""
    from readtrack_plugins.rf.model import reinforce

    def no_baseline(theta: torch.Tensor, s: torch.Tensor, a: torch.Tensor, R: torch.Tensor, baseline=None):  # type: ignore[no-untyped-def]
        return reinforce(theta, s, a, R, None)

    monkeypatch.setattr("readtrack_plugins.rf.experiment.reinforce", no_baseline)
    result = run_stage("rf", "train")
    assert result.verdict() == "failed"
    failed = [t.name for t in result.targets if not t.passed]
    assert any(name.startswith("gradient variance, b*(t, s) / no baseline") for name in failed), failures(
        result
    )
