"""RF, read as REINFORCE: Williams (1992), "Simple statistical gradient-following algorithms for
connectionist reinforcement learning", Machine Learning 8, 229–256 (no arXiv id).

The reading list's entry is only "RF" in its reinforcement-learning section, with no arXiv id and no link;
this plugin reads it as REINFORCE, Williams's policy-gradient estimator. That reading is ours, not the list's.

Claim: for a stochastic policy π_θ, the REward Increment = Nonnegative Factor × Offset Reinforcement ×
Characteristic Eligibility, Δθ = α (r − b) ∇_θ ln π_θ(a), follows the gradient of the expected reward in
expectation, for any baseline b that does not depend on the action (Theorem 1); episodic version: the
eligibility summed over the episode (section 6).

Equations (finite horizon H, tabular softmax policy π(a | t, s) = softmax_a θ[t, s, a]):

    J(θ) = E_τ[R(τ)],  R(τ) = Σ_t r(s_t, a_t)
    ∇J(θ) = E_τ[∇ log p_θ(τ) · R(τ)],  ∇ log p_θ(τ) = Σ_t ∇ log π(a_t | t, s_t)     (score-function identity)
    g(τ) = Σ_t ∇ log π(a_t | t, s_t) · (R(τ) − b(t, s_t)),  E[g] = ∇J for b free of a_t    (Williams's Thm 1)
    ∇_θ[t, s, ·] log π(a | t, s) = onehot(a) − π(· | t, s)                                 (softmax)

``model.py`` holds the environment (a chain MDP and random tiny MDPs, written in torch: no gym), the exact
return J(θ) by dynamic programming (autograd of it is the exact policy gradient), the optimum J* by value
iteration, batched rollouts and the estimator with and without a baseline.

The tiny experiment: by enumerating all 216 trajectories of a tiny random MDP, the estimator's expectation
equals autograd's exact gradient to float64 round-off (~1e-16), a state baseline changes the mean not at all,
and the variance-minimising one lowers the exact variance; on a 6-state chain with a trap, Monte Carlo means
sit within 4.5 standard errors of ∇J in all 96 components. REINFORCE from the uniform policy comes close to
the exact optimum J* (value iteration) in 300 updates of 16 episodes, with Williams's reinforcement-comparison
baseline and without one (each at its best rate of 0.3, 1, 3 and 10, chosen on 4 validation seeds and named in
the run's details; the return is the mean over 4 seeds): at this scale the baseline buys no return, the
return with it being the higher on 4 of the full run's seeds 0-9 and the lower on 6 (``python
benchmarks/calibrate.py rf --full --seeds 0-9``; 0.984 ± 0.011 with it, 0.991 ± 0.004 without).

Gradient variance, the paper's point about the baseline: the trace of the per-episode covariance of g, with
the variance-minimising state baseline b*(t, s) over none, computed exactly: the chain can produce 32,768
trajectories (2 actions and 2 next states a step), each weighted by its probability, b* fitted from the same
weights; no episode is sampled, so the ratio is a property of the policy, not an estimate. It is taken at each
of the run's 4 learnt policies (quick 2; the "with a baseline" arm's), halfway and at the end, and averaged.
Target: b* at most 0.5× none halfway and at the end, on every seed. At the uniform start θ = 0 it is 0.5375,
on every seed (the ≤ 0.5 proposed does not hold there; reported, not asserted). The plain mean-return baseline
b = J(θ) cuts it at the start (0.68) and *raises* it once the policy is good, halfway and at the end (2.5 to
3.5 times none, in the means over seeds), where the rare exploratory actions (whose scores are large) lead to
returns far below J(θ). With the baseline dropped from the estimator (the idea removed) every ratio is 1 and
both variance targets fail, as the test file shows.

Why exact: the earlier design estimated each variance from 20,000 sampled episodes (5,000 quick) at one learnt
policy, the baseline b* fitted on other sampled episodes. At a nearly deterministic learnt policy the variance
lives in rare exploratory actions, and the ratio's estimate was noisy: the full run on seeds 0-9 gave 0.207 ±
0.101 at the learnt policy, seed 5 at 0.480, a margin of 2.9 sd under the rule's 3 (the calibration that
``python benchmarks/calibrate.py rf --full --seeds 0-9`` recorded with that code). On the exploration seeds
100-109 (``python benchmarks/calibrate.py rf --full --seeds 100-109``), the exact ratio at the first policy
only (a temporary edit) gave 0.180 ± 0.029 at the learnt policy (11.0 sd); averaged over the run's 4 policies,
as now, 0.182 ± 0.021 (14.9 sd). The quick runs (seeds 0-19 on torch 2.14.1, 0-9 on 2.13.0) and the full run
(seeds 0-9) now assert all three targets, every seed passing, with margins of 7.7 sd or more (the calibration
below).

The quick run (``readtrack run rf --quick``: 150 updates, 2 seeds, rates 0.3 and 1, the variances at 2
policies) asserts the same targets (the learnt policy's exact return at least 0.9 J* with the baseline, the
variance with b* at most 0.5× none halfway and at the end). A fair echo: the paper's results are
unbiasedness for any action-free baseline, which hold here exactly; the variance numbers show what a
baseline does and does not buy.

Calibration (generated by ``readtrack calibrate rf --write`` from ``calibration.json``; mean ± sd [min, max]
over seeds, one thread each; margin: (mean − threshold) / sd, and the worst seed's (value − threshold) / sd
beside it; a target is asserted only when, on every torch, every seed passes and the mean lies at least 3
seed standard deviations past the threshold: (mean − threshold) / sd ≥ 3 on the passing side, a single seed
may lie closer):

    quick runs, CPU (AVX512 kernels), 2026-11-27:
    target ≥ 0.9: REINFORCE with a baseline: exact return of the learnt policy / optimum
      torch 2.14.1, seeds 0-19: 0.9694 ± 0.003272 [0.9637, 0.9742], margin 21.2 sd (worst seed 19.5 sd)
      torch 2.13.0, seeds 0-9: 0.9696 ± 0.003021 [0.9650, 0.9742], margin 23.0 sd (worst seed 21.5 sd)
    target ≤ 0.5: gradient variance, b*(t, s) / no baseline, at halfway
      torch 2.14.1, seeds 0-19: 0.2575 ± 0.01213 [0.2360, 0.2804], margin 20.0 sd (worst seed 18.1 sd)
      torch 2.13.0, seeds 0-9: 0.2601 ± 0.01535 [0.2360, 0.2804], margin 15.6 sd (worst seed 14.3 sd)
    target ≤ 0.5: gradient variance, b*(t, s) / no baseline, at the learnt policy
      torch 2.14.1, seeds 0-19: 0.2370 ± 0.01871 [0.2024, 0.2632], margin 14.1 sd (worst seed 12.7 sd)
      torch 2.13.0, seeds 0-9: 0.2438 ± 0.01624 [0.2176, 0.2632], margin 15.8 sd (worst seed 14.6 sd)
    measured: optimal return J* (value iteration)
      torch 2.14.1, seeds 0-19: 2.915 on every seed
      torch 2.13.0, seeds 0-9: 2.915 on every seed
    measured: return of the uniform policy θ = 0
      torch 2.14.1, seeds 0-19: 0.3445 on every seed
      torch 2.13.0, seeds 0-9: 0.3445 on every seed
    measured: return / J* after 150 updates of 16 episodes, no baseline
      torch 2.14.1, seeds 0-19: 0.9684 ± 0.003568 [0.9624, 0.9733]
      torch 2.13.0, seeds 0-9: 0.9681 ± 0.003637 [0.9624, 0.9719]
    measured: return / J* after 150 updates of 16 episodes, with baseline
      torch 2.14.1, seeds 0-19: 0.9694 ± 0.003272 [0.9637, 0.9742]
      torch 2.13.0, seeds 0-9: 0.9696 ± 0.003021 [0.9650, 0.9742]
    measured: gradient variance, b = J(θ) / no baseline, at θ = 0
      torch 2.14.1, seeds 0-19: 0.6798 on every seed
      torch 2.13.0, seeds 0-9: 0.6798 on every seed
    measured: gradient variance, b*(t, s) / no baseline, at θ = 0
      torch 2.14.1, seeds 0-19: 0.5375 on every seed
      torch 2.13.0, seeds 0-9: 0.5375 on every seed
    measured: gradient variance, b = J(θ) / no baseline, at halfway
      torch 2.14.1, seeds 0-19: 2.497 ± 0.2315 [2.096, 2.949]
      torch 2.13.0, seeds 0-9: 2.562 ± 0.1910 [2.258, 2.800]
    measured: gradient variance, b = J(θ) / no baseline, at the learnt policy
      torch 2.14.1, seeds 0-19: 2.589 ± 0.2197 [2.230, 3.043]
      torch 2.13.0, seeds 0-9: 2.605 ± 0.2281 [2.230, 3.043]
    full runs, CPU (AVX512 kernels), 2026-11-27:
    target ≥ 0.9: REINFORCE with a baseline: exact return of the learnt policy / optimum
      torch 2.14.1, seeds 0-9: 0.9841 ± 0.01093 [0.9666, 0.9938], margin 7.7 sd (worst seed 6.1 sd)
    target ≤ 0.5: gradient variance, b*(t, s) / no baseline, at halfway
      torch 2.14.1, seeds 0-9: 0.1951 ± 0.01697 [0.1635, 0.2145], margin 18.0 sd (worst seed 16.8 sd)
    target ≤ 0.5: gradient variance, b*(t, s) / no baseline, at the learnt policy
      torch 2.14.1, seeds 0-9: 0.1751 ± 0.01910 [0.1485, 0.2017], margin 17.0 sd (worst seed 15.6 sd)
    measured: optimal return J* (value iteration)
      torch 2.14.1, seeds 0-9: 2.915 on every seed
    measured: return of the uniform policy θ = 0
      torch 2.14.1, seeds 0-9: 0.3445 on every seed
    measured: return / J* after 300 updates of 16 episodes, no baseline
      torch 2.14.1, seeds 0-9: 0.9905 ± 0.004405 [0.9850, 0.9948]
    measured: return / J* after 300 updates of 16 episodes, with baseline
      torch 2.14.1, seeds 0-9: 0.9841 ± 0.01093 [0.9666, 0.9938]
    measured: gradient variance, b = J(θ) / no baseline, at θ = 0
      torch 2.14.1, seeds 0-9: 0.6798 on every seed
    measured: gradient variance, b*(t, s) / no baseline, at θ = 0
      torch 2.14.1, seeds 0-9: 0.5375 on every seed
    measured: gradient variance, b = J(θ) / no baseline, at halfway
      torch 2.14.1, seeds 0-9: 3.451 ± 1.409 [1.526, 5.468]
    measured: gradient variance, b = J(θ) / no baseline, at the learnt policy
      torch 2.14.1, seeds 0-9: 3.112 ± 0.4336 [2.403, 3.727]
"""

from readtrack.api import Exercise, declare

readtrack_paper_plugins = declare(
    __name__,
    title="RF",
    arxiv=None,
    doi="10.1007/BF00992696",
    claim="REINFORCE, Δθ = α(r − b)∇ln π, is the reward gradient in expectation, for any action-free b.",
    exercises=[
        Exercise(
            target="reinforce",
            statement="""
                Williams's REINFORCE estimator, one per episode (a tabular softmax policy,
                π(a | t, s) = softmax_a θ[t, s, a]):

                    g = Σ_t ∇_θ ln π(a_t | t, s_t) · (R − b(t, s_t))

                For the softmax, ∇ ln π(a | t, s) with respect to the row θ[t, s, :] is onehot(a) − π(· | t,
                s), and zero for every other (t, s). The baseline b may depend on t and the state, never on
                the action: then it leaves E[g] = ∇J(θ) unchanged.

                theta: (H, S, A); states, actions: (B, H) long, episode i's s_t and a_t; R: (B,), each
                episode's return; baseline: (H, S) or None (no baseline, b = 0). Returns g per episode,
                (B, H, S, A) in theta's dtype, with no graph (use policy(theta.detach())). The check compares
                it with autograd of ln π(τ) and its mean over every trajectory with the exact ∇J.
            """,
            hints=[
                "pi = policy(theta.detach()); pi[t, states] with t = torch.arange(H).expand(B, H) is "
                "π(· | t, s_t), (B, H, A).",
                "score = one_hot(actions, A) − pi[t, states]; advantage = R[:, None] − baseline[t, states] "
                "(or R[:, None]).",
                "Start from zeros (B, H, S, A) and write score · advantage[..., None] at "
                "g[arange(B)[:, None], t, states].",
            ],
            lines=8,
        )
    ],
)
