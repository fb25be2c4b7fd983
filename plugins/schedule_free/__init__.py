"""The Road Less Scheduled (Defazio, Yang, Mehta, Mishchenko, Khaled and Cutkosky, arXiv 2405.15682):
Schedule-Free AdamW, run from the reading list's first item, "Decoupled Weight Decay Regularization" (AdamW,
arXiv 1711.05101), whose entry bundles SGD, AdamW and Schedule-Free and lists 2405.15682 as related; the
item names two plugins, ``adamw`` and this one.

Claim: replacing the learning-rate schedule by an average of the iterates, with the gradient taken at an
interpolation between the average and the base iterate, matches a cosine schedule that knows the training
horizon T, without knowing it.

Equations (Algorithm 1, Schedule-Free AdamW; γ the lr, β1, β2, ε, λ the weight decay):

    γ_t = γ · min(1, t / warmup)                                        (linear warm-up)
    v_t = β2 v_{t−1} + (1 − β2) g_t²,  v̂_t = v_t / (1 − β2^t)          (no first moment: β1 interpolates)
    d_t = g_t / (√v̂_t + ε) + λ y_t                                      (gradient and decay taken at y)
    z_{t+1} = z_t − γ_t d_t
    x_{t+1} = (1 − c_{t+1}) x_t + c_{t+1} z_{t+1},   c_{t+1} = γ_t² / Σ_{i≤t} γ_i²
    y_{t+1} = (1 − β1) z_{t+1} + β1 x_{t+1}

``model.py`` implements ``AdamWScheduleFree(params, lr, betas, eps, weight_decay, warmup_steps)`` with x,
y and z stored; ``train()`` puts y in the parameters, ``eval()`` x, the point the paper evaluates.

The tiny experiment: the optimiser equals the official ``schedulefree`` package step for step (train- and
eval-mode parameters and state; float64 to ~1e-14) for warm-up 0 and 7, with and without weight decay and
for two β's. On streaming logistic regression (20-d → 5 classes, 10% label noise, batches of 16, lr 0.05,
20 warm-up steps), the held-out loss of Schedule-Free AdamW at x matches AdamW with a cosine schedule to
0 at T (within 2% in the full run, at T = 500 and 3000) and beats a constant lr by more than 7%. Measured
(held-out nats, 3 seeds; constant / cosine-to-T / Schedule-Free): T = 500: 0.743 / 0.677 / 0.683;
T = 3000: 0.744 / 0.665 / 0.664. A fair echo: the paper's claim is parity with the tuned, horizon-aware
cosine schedule on convex and deep problems; a convex streaming problem is where its theory is exact, and
each method gets the same lr and batches.
"""

from readtrack.paper_plugin import declare

readtrack_paper_plugins = declare(
    __name__,
    paper_id="adamw",
    title="The Road Less Scheduled",
    arxiv="2405.15682",
    claim="Averaging iterates (Schedule-Free) matches a cosine schedule that knows the horizon, without it.",
)
