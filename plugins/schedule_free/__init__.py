"""The Road Less Scheduled (Defazio, Yang, Mehta, Mishchenko, Khaled and Cutkosky, arXiv 2405.15682):
Schedule-Free AdamW, run from the reading list's first item, "Decoupled Weight Decay Regularization" (AdamW,
arXiv 1711.05101), whose entry bundles SGD, AdamW and Schedule-Free and lists 2405.15682 as related; the
item names two plugins, ``adamw`` and this one.

Claim: replacing the learning-rate schedule by an average of the iterates, with the gradient taken at an
interpolation between the average and the base iterate, matches a cosine schedule that knows the training
horizon T, without knowing it.

Equations (Schedule-Free AdamW as the official package's default ``AdamWScheduleFree`` computes it, a
later form of the paper's Algorithm 1; γ the lr, β1, β2, ε, λ the weight decay):

    γ_t = γ · min(1, t / warmup)                                        (linear warm-up)
    v_t = β2 v_{t−1} + (1 − β2) g_t²,  v̂_t = v_t / (1 − β2^t)          (no first moment: β1 interpolates)
    d_t = g_t / (√v̂_t + ε) + λ y_t                                      (gradient and decay taken at y)
    z_{t+1} = z_t − γ_t d_t
    x_{t+1} = (1 − c_{t+1}) x_t + c_{t+1} z_{t+1},   c_{t+1} = γ_t² / Σ_{i≤t} γ_i²
    y_{t+1} = (1 − β1) z_{t+1} + β1 x_{t+1}

``model.py`` implements ``AdamWScheduleFree(params, lr, betas, eps, weight_decay, warmup_steps)`` with x,
y and z stored; ``train()`` puts y in the parameters, ``eval()`` x, the point the paper evaluates. The
package also ships ``AdamWScheduleFreePaper``, the version behind the paper's published experiments, which
differs in two places: it folds the bias correction into the rate (γ_t·√(1 − β2^t), ε added to √v_t rather
than √v̂_t) and weights the average by the largest rate so far (c = γ_max,t² / Σ γ_max,i²). The two give
different trajectories; this plugin follows, and is checked against, the default class.

The tiny experiment: the optimiser equals the official ``schedulefree`` package step for step (train- and
eval-mode parameters and state; float64 to ~2e-14; ``readtrack run schedule-free --only check``) for warm-up 0
and 7, with and without weight decay and for two β's. On streaming logistic regression (20-d → 5 classes, 10%
label noise, batches of 16, 20 warm-up steps), AdamW with a constant lr, AdamW with a cosine schedule to 0 at
T (it knows T) and Schedule-Free AdamW evaluated at x each get their own best lr of 0.005 / 0.01 / 0.02 /
0.05 / 0.1, chosen on a validation set; the test set is reported.
The quick run (``readtrack run schedule-free --quick``: T = 400, 2 seeds batched per run) asserts two targets:
Schedule-Free / cosine held-out loss ≤ 1.03 (1.02 in the full run), parity without knowing T; and the
mechanism, a held-out loss at the average x at most 0.97 times that of the base iterate z it averages (with
the average removed, c = 1, the target fails, the plugin's test). The gain over the constant lr at its own
best rate is reported, not asserted; an earlier version claimed > 7% with every optimiser at lr 0.05, where
the constant lr is far from its best (0.005-0.01). The quick run's numbers over seeds are in the calibration
at the end of this page. The full run (T = 500 and 3000, 3 seeds batched per run;
``readtrack run schedule-free --only train --seeds 0-2``): Schedule-Free / cosine 0.999 / 1.002 / 1.000 at T =
500 and 1.001 / 1.001 / 1.002 at T = 3000 (target ≤ 1.02), against the constant lr 0.991 / 0.987 / 0.992 and
0.996 / 0.993 / 0.996, x / z 0.856 / 0.846 / 0.859 and 0.939 / 0.833 / 0.670: every target passes on seeds
0-2. A fair echo: the paper's claim is parity with the tuned, horizon-aware cosine schedule on convex and deep
problems; a convex streaming problem is where its theory is exact.
"""

from readtrack.paper_plugin import Exercise, declare

readtrack_paper_plugins = declare(
    __name__,
    paper_id="adamw",
    title="The Road Less Scheduled",
    arxiv="2405.15682",
    claim="Averaging iterates (Schedule-Free) matches a cosine schedule that knows the horizon, without it.",
    exercises=[
        Exercise(
            target="schedule_free_update",
            statement="""
                One Schedule-Free AdamW step of one parameter (γ_t = lr_t, c = c_{t+1}, λ = weight_decay):

                    v_t = β2 v_{t−1} + (1 − β2) g_t²,   v̂_t = v_t / (1 − β2^t)
                    d_t = g_t / (√v̂_t + ε) + λ y_t
                    z_{t+1} = z_t − γ_t d_t
                    x_{t+1} = (1 − c) x_t + c z_{t+1}
                    y_{t+1} = (1 − β1) z_{t+1} + β1 x_{t+1}

                y, z, x, v, g: tensors of the parameter's shape (y the current parameter, where g was taken;
                z the base iterate; x the average; v the second moment); t ≥ 1 the step number; lr_t, c,
                beta1, beta2, eps, weight_decay: floats (the warm-up and c = γ_t² / Σ γ_i² are already done
                by the caller). There is no first moment: β1 only sets where the gradient is taken, between
                the average x and the base iterate z. Return the new (y, z, x, v), new tensors of the same
                shape and dtype; do not modify the inputs (the caller copies the results in).
            """,
            hints=[
                "Order matters: v first, then d (with the decay at the old y), then z, then x from the new "
                "z, then y from the new z and x.",
                "The bias correction is of the second moment only: v_hat = v / (1 - beta2**t); "
                "ε is added after the square root.",
                "y = (1 - beta1) * z + beta1 * x: with β1 = 0.9 the gradient point stays close to the "
                "average x.",
            ],
            lines=7,
        )
    ],
)
