"""On the limited memory BFGS method for large scale optimization (Liu and Nocedal 1989, Mathematical
Programming 45; no arXiv id, https://doi.org/10.1007/BF01589116).

Claim: BFGS needs only the last m pairs of steps and gradient changes, not an n × n matrix; with a few of
them (m = 3 to 20) the method converges in far fewer function evaluations than first-order methods, at
O(mn) memory and work per iteration.

Equations (section 2; Nocedal and Wright alg. 7.4 for the recursion):

    s_k = x_{k+1} − x_k,  y_k = g_{k+1} − g_k,  ρ_k = 1 / y_kᵀs_k
    H_{k+1} = V_kᵀ H_k V_k + ρ_k s_k s_kᵀ,  V_k = I − ρ_k y_k s_kᵀ               the BFGS update (2.6)
    H_k⁰ = γ_k I,  γ_k = s_{k−1}ᵀy_{k−1} / y_{k−1}ᵀy_{k−1}                      the scaling of section 2
    two-loop:  q = g;  for i = k−1 … k−m:  α_i = ρ_i s_iᵀq,  q −= α_i y_i
               r = H_k⁰ q;  for i = k−m … k−1:  β = ρ_i y_iᵀr,  r += (α_i − β) s_i      r = H_k g
    x_{k+1} = x_k − t_k H_k g_k, t_k satisfying the strong Wolfe conditions
        f(x + t d) ≤ f(x) + c₁ t gᵀd,  |∇f(x + t d)ᵀd| ≤ c₂ |gᵀd|                  c₁ = 1e-4, c₂ = 0.9

``model.py`` writes the recursion out, the dense H from (2.6) as a reference, a bracketing-and-zoom
strong-Wolfe search with cubic interpolation, and ``LBFGS``, a closure-based optimizer with the signature,
defaults and choices of ``torch.optim.LBFGS`` (pairs kept only when yᵀs > 1e-10, a first step of
min(1, 1/‖g‖₁)·lr, the same stopping tests).

The tiny experiment: the optimizer equals ``torch.optim.LBFGS`` bit for bit (every evaluated point, the
evaluation counts, the stored pairs) on Rosenbrock, a κ = 1e4 quadratic and a logistic regression with two
parameter tensors, m = 1, 3, 100, with and without the line search, in float64 and float32 (worst difference
0); the recursion equals −H g with H built densely by (2.6) (float64 to 1.0e-16, ``readtrack run lbfgs --only
check``) and satisfies the secant condition H y = s. Raced against Adam (each Adam run at its best rate of a
grid, counting one evaluation per step; choosing that rate on the very problem it is scored on favours Adam,
so the ratios below are if anything too small): from (−1.5, 2), L-BFGS (m = 10, strong Wolfe) must reach f <
1e-10 within 100 evaluations, and Adam, at each rate of its grid for at most 2000 steps, must need at least
10× as many. On the quadratic (κ = 1e4, eigenvalues log-spaced, n = 50, a new rotation per seed) the gain is
smaller, and so is what is asked: f − f* < 1e-6 within 500 evaluations, Adam at least 3× as many; where Adam
does not get there in 2000 steps at any rate of the grid, the ratio is reported as its lower bound, 2000 over
L-BFGS's evaluations. 10 pairs are a poor model of 50 spread eigenvalues (the run reports f − f* after 200
evaluations with m = 50 against m = 10), hence the looser tolerance on this problem. The quick run
(``readtrack run lbfgs --quick``, Adam's grid 1e-3, 1e-2, 0.1) has its numbers over seeds in the calibration
at the end of this page; Rosenbrock draws nothing random, so its numbers are the same on every seed. The full
run (``readtrack run lbfgs --only train --seeds 0-2``) adds 3e-3, 3e-2 and 0.3 to Adam's grid: on Rosenbrock
lr 0.3 needs 1268 evaluations, 24.9× L-BFGS's 51; on the quadratic lr 0.01 stays best (ratios 4.48 / 5.05 /
4.62 on seeds 0-2); every target passes on seeds 0-2. A fair echo: the paper's claim is fewer evaluations than
first-order methods on smooth deterministic problems, which is exactly this measurement. The bench times one
two-loop recursion against m and n: its cost grows as O(mn).
"""

from readtrack.paper_plugin import Exercise, declare

readtrack_paper_plugins = declare(
    __name__,
    title="On the limited memory BFGS method for large scale optimization",
    arxiv=None,
    claim="BFGS from the last m curvature pairs needs far fewer evaluations than first-order methods.",
    exercises=[
        Exercise(
            target="two_loop",
            statement="""
                The two-loop recursion: the direction d = −H_k g without forming H_k (n × n), where H_k is
                the BFGS update (2.6) applied to H_k⁰ = γ I over the last m pairs, oldest first:

                    H ← V_iᵀ H V_i + ρ_i s_i s_iᵀ,   V_i = I − ρ_i y_i s_iᵀ,   ρ_i = 1 / (y_iᵀ s_i)

                Nocedal and Wright alg. 7.4, on q = −g:
                    for i = m−1 … 0 (newest to oldest):  α_i = ρ_i s_iᵀ q;  q ← q − α_i y_i
                    r = γ q
                    for i = 0 … m−1 (oldest to newest):  β = ρ_i y_iᵀ r;  r ← r + (α_i − β) s_i
                    d = r

                g: (n,), the flat gradient; S, Y: lists of m tensors (n,), s_i and y_i, OLDEST FIRST;
                rho: the m scalars ρ_i (0-dim tensors); gamma: the scale γ of H_k⁰ (a float or a 0-dim
                tensor). m may be 0 (then d = −γ g). Return d, (n,). Do not modify g or the lists' tensors
                in place (g is the caller's gradient). The check compares with −H g from the dense update
                and runs the optimizer against torch.optim.LBFGS.
            """,
            hints=[
                "Keep every α_i: the second loop needs them, in the opposite order.",
                "The first loop walks the pairs from the newest (index m − 1) down to the oldest (0); the "
                "second from the oldest up. Swapping them is a different matrix.",
                "q = g.neg() is a fresh tensor, safe to update in place: q.add_(Y[i], alpha=-alpha[i]); "
                "r = q * gamma; r.add_(S[i], alpha=alpha[i] - beta).",
            ],
            lines=10,
        )
    ],
)
