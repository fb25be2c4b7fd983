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
sit within 4.5 standard errors of ∇J in all 96 components. REINFORCE from the uniform policy reaches 0.989 of
the exact optimum J* = 2.915 in 300 updates of 16 episodes with Williams's reinforcement-comparison baseline,
and 0.995 without one (each at its best lr, 3, of 0.3–10, chosen on 4 validation seeds; 4 seeds;
``readtrack run rf --only train --seeds 0-2``, seed 0, as every full-run number here; seeds 1 and 2 give
0.991 / 0.991 with the baseline and 0.995 / 0.985 without, every target passing): at this scale the baseline
buys no return. The quick run (``readtrack run rf --quick``: 150 updates, 2 seeds, rates 0.3 and 1, 5,000
episodes per variance) asserts the same targets (the learnt policy's exact return at least 0.9 J* with the
baseline, the variance with b* at most 0.5× none halfway and at the end); its numbers over seeds are in the
calibration at the end of this page. With the baseline dropped from the estimator (the idea removed) the
variance targets fail, as the test file shows. Gradient variance in the full run: the variance-minimising
state baseline b*(t, s) cuts it to 0.20× halfway and 0.18× at the end (target ≤ 0.5), but only to 0.58× at the
uniform start (the ≤ 0.5 proposed did not hold there; reported, not asserted); the plain mean-return baseline
b = J(θ) cuts it to 0.73× at the start and *raises* it 1.5–2.5× once the policy is good, where the rare
exploratory actions (whose scores are large) lead to returns far below J(θ) (1.4-3.5× on seeds 1 and 2, where
b* gives 0.23 / 0.21 halfway and 0.19 / 0.15 at the end). A fair echo: the paper's results are unbiasedness
for any action-free baseline, which hold here exactly; the variance numbers show what a baseline does and does
not buy.
"""

from readtrack.paper_plugin import Exercise, declare

readtrack_paper_plugins = declare(
    __name__,
    title="RF",
    arxiv=None,
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
