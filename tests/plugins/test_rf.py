"""The REINFORCE plugin: the estimator's score against autograd on more MDP shapes, the score-function
identity by enumeration, unbiasedness of any state baseline, value iteration against brute force, and checks
that fail for a flipped log-probability sign or a baseline that depends on the action."""

from __future__ import annotations

import itertools

import pytest
import torch
from readtrack_plugins.rf.experiment import enumerate_trajectories, exact_moments, variance_ratios
from readtrack_plugins.rf.model import (
    MDP,
    exact_return,
    optimal_return,
    policy,
    reinforce,
    rollout,
    variance_minimising_baseline,
)

from readtrack.testing import check_catches, failures, run_stage


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


def test_the_chain_enumeration_keeps_every_possible_trajectory_and_no_other() -> None:
    """The train stage's variances sum over enumerate_trajectories(chain): against the brute-force product
    of all (s, a) sequences on a small chain, it keeps exactly those of nonzero probability, in order."""
    mdp = MDP.chain(3, 3, 0.1)
    states, actions, log_env = enumerate_trajectories(mdp)
    rows = torch.tensor(list(itertools.product(*([range(3), range(2)] * 3))))
    s_all, a_all = rows[:, 0::2], rows[:, 1::2]
    p_env = (
        mdp.s0[s_all[:, 0]]
        * mdp.P[s_all[:, 0], a_all[:, 0], s_all[:, 1]]
        * mdp.P[s_all[:, 1], a_all[:, 1], s_all[:, 2]]
    )
    keep = p_env > 0
    assert torch.equal(states, s_all[keep]) and torch.equal(actions, a_all[keep])
    torch.testing.assert_close(log_env.exp(), p_env[keep])
    chain = MDP.chain()  # the default: 2 actions × 2 next states a step, 2^15 trajectories
    states, actions, log_env = enumerate_trajectories(chain)
    assert len(states) == 2**15
    theta = torch.randn(8, 6, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    _, _, p = exact_moments(theta, chain, None, (states, actions, log_env))
    torch.testing.assert_close(p.sum(), torch.tensor(1.0, dtype=torch.float64))


def test_the_exact_variance_matches_sampled_episodes_and_b_star_is_its_minimum() -> None:
    """tr Cov[g] by enumeration (in chunks) against the sample variance of 40,000 episodes, without a
    baseline and with b*; b* fitted from the trajectories' probabilities beats b* moved either way, and the
    ratios variance_ratios reports are those variances' quotients."""
    mdp = MDP.chain()
    gen = torch.Generator().manual_seed(1)
    theta = 0.7 * torch.randn(8, 6, 2, generator=gen, dtype=torch.float64)
    traj = enumerate_trajectories(mdp)
    states, actions, _ = traj
    mean, none, p = exact_moments(theta, mdp, None, traj, chunk=1000)
    torch.testing.assert_close(mean, torch.autograd.grad(exact_return(theta.requires_grad_(), mdp), theta)[0])
    theta = theta.detach()
    R = mdp.r[states, actions].sum(1)
    b_star = variance_minimising_baseline(theta, states, actions, R, weights=p)
    _, best, _ = exact_moments(theta, mdp, b_star, traj)
    s, a, R_mc = rollout(theta, mdp, 40_000, gen)
    for b, exact in ((None, none), (b_star, best)):
        sampled = reinforce(theta, s, a, R_mc, b).var(0).sum()
        assert sampled.item() == pytest.approx(exact.item(), rel=0.05)
    for shift in (-0.1, 0.1):
        assert exact_moments(theta, mdp, b_star + shift, traj)[1] > best
    b_J = exact_return(theta, mdp).expand(8, 6)
    ratio_J, ratio_star = variance_ratios(theta, mdp, traj)
    assert ratio_J == pytest.approx((exact_moments(theta, mdp, b_J, traj)[1] / none).item(), rel=1e-12)
    assert ratio_star == pytest.approx((best / none).item(), rel=1e-12)
    assert variance_ratios(theta, mdp, traj, subtract=False) == (1.0, 1.0)


def test_the_variance_minimising_baseline_is_the_score_weighted_mean_return() -> None:
    """b*(t, s) = Σ w|∇log π|² R / Σ w|∇log π|² over the episodes at (t, s), the squared score read off
    the estimator itself (R = 1), against the direct form the plugin computes."""
    gen = torch.Generator().manual_seed(2)
    B, H, S, A = 50, 3, 4, 3
    theta = torch.randn(H, S, A, generator=gen, dtype=torch.float64)
    states = torch.randint(0, S, (B, H), generator=gen)
    actions = torch.randint(0, A, (B, H), generator=gen)
    R, w = (
        torch.randn(B, generator=gen, dtype=torch.float64),
        torch.rand(B, generator=gen, dtype=torch.float64),
    )
    score_sq = reinforce(theta, states, actions, torch.ones_like(R)).pow(2).sum(-1)  # (B, H, S)
    num, den = torch.einsum("b,bhs->hs", w * R, score_sq), torch.einsum("b,bhs->hs", w, score_sq)
    expected = torch.where(den > 0, num / den.clamp_min(1e-300), torch.zeros_like(den))
    torch.testing.assert_close(variance_minimising_baseline(theta, states, actions, R, weights=w), expected)


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
    """Remove the idea (the baseline b): an estimator that drops it, (R − 0)·∇log π, and both asserted
    variance targets must fail (their exact ratios are then 1)."""
    from readtrack_plugins.rf.model import reinforce

    def no_baseline(theta: torch.Tensor, s: torch.Tensor, a: torch.Tensor, R: torch.Tensor, baseline=None):  # type: ignore[no-untyped-def]
        return reinforce(theta, s, a, R, None)

    monkeypatch.setattr("readtrack_plugins.rf.experiment.reinforce", no_baseline)
    result = run_stage("rf", "train")
    assert result.verdict() == "failed"
    failed = {t.name: t.value for t in result.targets if not t.passed}
    for where in ("halfway", "the learnt policy"):
        name = f"gradient variance, b*(t, s) / no baseline, at {where}"
        assert name in failed, failures(result)
        assert failed[name] == pytest.approx(1.0)
