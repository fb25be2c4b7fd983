"""Decoupled Weight Decay Regularization (Loshchilov and Hutter, arXiv 1711.05101).

Claim: for Adam, L2 regularisation and weight decay are not the same thing. Adding λθ to the gradient
(L2) lets Adam's per-weight normalisation undo it, so weights with large gradients are hardly
regularised; decaying the weights directly, outside the adaptive step (AdamW), restores weight decay.

Equations (Algorithm 2; base rate α, schedule multiplier η_t):

    m_t = β₁ m_{t−1} + (1 − β₁) g_t,    v_t = β₂ v_{t−1} + (1 − β₂) g_t²              lines 7-8
    m̂_t = m_t / (1 − β₁ᵗ),              v̂_t = v_t / (1 − β₂ᵗ)                         lines 9-10
    θ_t = θ_{t−1} − η_t (α m̂_t / (√v̂_t + ε) + λ θ_{t−1})       line 12: λ never enters g_t

``model.py`` implements ``AdamW`` as a ``torch.optim.Optimizer`` in PyTorch's convention: one scheduled rate
lr = α·η_t, and a decay of lr·λ per step, θ ← θ(1 − lr·λ) − lr·m̂/(√v̂ + ε). Line 12 decays by η_t·λ, without
α, so PyTorch's lr·λ equals the paper's η_t·λ when PyTorch's λ is the paper's divided by α. Both decays follow
the schedule η_t; PyTorch's also scales with the base rate α, the paper's does not. Complex parameters are
optimised as pairs of real numbers, as PyTorch does.

The tiny experiment: the optimiser equals ``torch.optim.AdamW`` step for step (float64, within 1e-15;
complex parameters too); then, in settings where only the regulariser acts, AdamW shrinks every weight by
exactly (1 − lr·λ) per step, whatever the weight's size or its gradients' scale, while Adam with L2 shrinks
a weight of 1 to 0.22 but one of 10 only to 0.90, and leaves weights with large (noisy) gradients
undecayed while it shrinks those with small ones. This is the mechanism behind the paper's
results (better generalisation; a best λ that, in the paper's convention, does not move with α), isolated
so that it shows in a second of CPU time. The train stage is the same in quick and full runs. In the full
run (``readtrack run adamw --only train --seeds 0-2``) Adam + L2 gives w/w0 = 0.224 from w0 = 1 and 0.902
from w0 = 10 on every seed (no random numbers are drawn there). With noisy gradients at scales 0.01, 1 and
100, the mean w/w0 of both optimisers, against (1 − lr·λ)^100 = 0.9048 for AdamW, is in the calibration at
the end of this page (quick run, over seeds). The float64 equality with ``torch.optim.AdamW`` is
``readtrack run adamw --only check`` (largest difference 2.3e-16).
"""

from readtrack.paper_plugin import Exercise, declare

readtrack_paper_plugins = declare(
    __name__,
    title="Decoupled Weight Decay Regularization",
    arxiv="1711.05101",
    claim="In Adam, L2 regularisation is not weight decay; decaying weights outside the gradient step is.",
    exercises=[
        Exercise(
            target="adamw_update",
            statement="""
                Algorithm 2, lines 7-12, for one parameter at step t (t = 1 on the first step), in PyTorch's
                convention (one scheduled rate lr = α·η_t, a decay of lr·λ per step):

                    m_t = β₁ m_{t−1} + (1 − β₁) g_t,      v_t = β₂ v_{t−1} + (1 − β₂) g_t²
                    m̂_t = m_t / (1 − β₁ᵗ),                v̂_t = v_t / (1 − β₂ᵗ)
                    θ_t = θ_{t−1} (1 − lr·λ) − lr · m̂_t / (√v̂_t + ε)

                theta is θ_{t−1}, g the gradient g_t (the loss's only: λ never enters it), m and v the
                moments m_{t−1}, v_{t−1} (zeros before the first step), t the step number; lr,
                betas = (β₁, β₂), eps = ε and weight_decay = λ are floats. All tensors have one shape (a
                complex parameter arrives as real pairs, so g² is element-wise). Return the new
                (θ_t, m_t, v_t) as new tensors, without changing the inputs: AdamW.step copies them into
                the parameter and its state.
            """,
            hints=[
                "Adam with L2 regularisation adds λθ to g, where Adam's division by √v̂ undoes it for weights "
                "with large gradients. AdamW shrinks θ itself, outside the adaptive step.",
                "Both moments start at 0, so early m_t and v_t are too small: divide by 1 − β₁ᵗ and 1 − β₂ᵗ "
                "(the powers of the step number t, not of t − 1).",
                "ε is added to √v̂_t, not under the root: theta * (1 - lr * weight_decay) - lr * m_hat / "
                "(v_hat.sqrt() + eps).",
            ],
            lines=7,
            references=["torch.optim.adamw.adamw", "torch.optim.adam.adam"],
        )
    ],
)
