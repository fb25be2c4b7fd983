"""The Recurrent Temporal Restricted Boltzmann Machine (Sutskever, Hinton and Taylor, NIPS 2008; no arXiv id).

Claim: an RBM whose hidden biases at each frame are set by the previous frame's expected hidden state,
r_{t−1}, models sequences (videos of bouncing balls, motion capture) with exact, cheap inference, and its
log-likelihood gradient is almost tractable: contrastive divergence for each frame's RBM, then
backpropagation through time into the recurrent weights.

Equations (written by their content: the paper's own equation numbers could not be checked here):

    RBM               P(v, h) = exp(hᵀ W v + b_Vᵀ v + b_Hᵀ h) / Z
                      P(h = 1 | v) = σ(W v + b_H),  P(v = 1 | h) = σ(Wᵀ h + b_V)
                      F(v) = −b_Vᵀ v − Σ_j log(1 + exp((W v + b_H)_j)),  P(v) = exp(−F(v)) / Z
    CD-k              ∂ log P(v)/∂θ ≈ −∂F(v)/∂θ + ∂F(ṽ)/∂θ,  ṽ after k Gibbs steps v → h → v
    RTRBM             frame t is an RBM with hidden bias b_H + W′ r_{t−1} (b_init at t = 1)
                      r_t = σ(W v_t + b_H + W′ r_{t−1}),   log P(v_1 … v_T) = Σ_t log P(v_t | r_{t−1})

``model.py`` has ``RBM`` (conditionals, free energy, Gibbs chain, CD-k loss) and ``RTRBM`` (the recurrence,
the training loss, next-frame prediction; ``temporal=False`` is the ablation with W′ = 0). Training is the
paper's procedure: the loss Σ_t F(v_t | r_{t−1}) − F(ṽ_t | r_{t−1}) with ṽ_t from CD-1 held fixed has, by
autograd, the CD estimate for each frame's RBM backpropagated through the r's. A simplification: Adam
instead of the paper's gradient steps, and CD-1.

The tiny experiment. On a 6 × 4 RBM whose 1024 joint states are enumerated (exact partition function),
P(h | v), P(v | h) and the free energy with its gradients agree with the sums over states (float64 to 2e-15,
float32 to 5e-7; ``readtrack run rtrbm --only check``), and the exact likelihood gradient by autograd through
log Z equals ⟨hvᵀ⟩_data − ⟨hvᵀ⟩_model. CD-k's bias, measured exactly (the data pushed through the 64 × 64
Gibbs transition matrix): relative error 0.12 for k = 1, 0.014 for k = 2, 2e-5 for k = 5, 6e-10 for k = 10,
rounding after; sampled CD-1 over 20,000 chains agrees with that expectation within 5 standard errors. The
recurrence matches numbers worked by hand (W = [1, −1], W′ = 2, b_init = 0.5: biases 0.5, 1.635, 1.307) and a
scalar loop, and with an exact negative phase the training gradient equals the gradient of the exact sequence
log-likelihood (float64 1e-15).

Training uses 8 × 8 binary videos of one bouncing ball (radius 1.5, 1 pixel a frame, 10 frames;
``plugin_kit.images.bouncing_balls``): the next frame follows from the last two, so a model must carry the
velocity over time. The RTRBM against the same RBM with no temporal connection (W′ = 0), a paired design: both
arms start from the same weights (W ~ N(0, 0.1²), b_V = log p / (1 − p) of the training pixels, as Hinton's
practical guide sets the visible biases: the common 0.01 start sat on a plateau for the first 150 steps) and
see the same videos and the same CD-1 noise; Adam, its rate decayed linearly to 0. Both predict frame t + 1 by
10 mean-field iterations in the RBM of that frame started from frame t; the error is the squared error summed
over the 64 pixels, on 500 held-out test videos, frames 3 … 10. The full run (``readtrack run rtrbm --only
train``: 256 hidden units, 400 steps of 32 videos, the A/B repeated from 2 initialisations and averaged, about
a minute of one core a seed) gives each arm its best rate of 5e-3 / 1e-2 / 2e-2, chosen on 500 separate
validation videos (2e-3 was far worse for the RBM: 5.9 against 4.1 at 400 steps on development seeds 100-101):
the RTRBM's error is 0.57 of the RBM's (2.47 against 4.35; copying the last frame 5.64), asserted ≤ 0.8. The
quick run (``readtrack run rtrbm --quick``: 128 hidden units, 150 steps, one initialisation, rate 2e-2 for
both) asserts ≤ 0.95 and gives 0.72 (3.03 against 4.23). Both thresholds come from before this design and were
kept; the design was developed on seeds 100-104 (quick 0.690-0.752, full 0.562-0.591 on 100-102), and seeds
0-19 were run once, for the calibration at the end of this page. What was tried (development seeds 100-104,
150 steps): the previous design (64 hidden, W ~ N(0, 0.01²), a constant rate 3e-2) gave 0.877 ± 0.033 over
seeds 0-19, too wide a spread for the rule (margin 2.3 sd); decaying its rate to 0 gave about 1.0 (the RTRBM
still on its plateau); the larger start with 64 hidden 0.88 ± 0.02; 128 hidden units made the effect large
(0.71), 256 larger still (0.62) with twice the weights to train. A faster ball (2 pixels a frame) showed no
effect at 150 steps (1.03). Longer mean-field prediction (30 iterations) drives the RBM's prediction off the
ball (error 6.5, worse than copying the last frame): a statistic that would flatter the RTRBM, not used. The
paper compares the RTRBM with the TRBM (the same model with sampled instead of expected hidden states), not
with a plain RBM; the ablation here isolates the temporal connection itself. ``--set temporal=false`` makes
the RTRBM arm the plain RBM: both arms are then the same computation and the ratio is exactly 1
(``readtrack knobs rtrbm`` lists the other knobs).

Calibration (generated by ``readtrack calibrate rtrbm --write`` from ``calibration.json``; mean ± sd [min,
max] over seeds, one thread each; margin: (mean − threshold) / sd, and the worst seed's (value − threshold)
/ sd beside it; a target is asserted only when, on every torch, every seed passes and the mean lies at least
3 seed standard deviations past the threshold: (mean − threshold) / sd ≥ 3 on the passing side, a single
seed may lie closer):

    quick runs, CPU (AVX512 kernels), 2026-11-27:
    target ≤ 0.95: next-frame error, RTRBM / RBM
      torch 2.14.1, seeds 0-19: 0.7165 ± 0.02211 [0.6743, 0.7485], margin 10.6 sd (worst seed 9.1 sd)
      torch 2.13.0, seeds 0-9: 0.7192 ± 0.01998 [0.6743, 0.7485], margin 11.6 sd (worst seed 10.1 sd)
    measured: next-frame error of copying the last frame
      torch 2.14.1, seeds 0-19: 5.633 ± 0.01307 [5.613, 5.662]
      torch 2.13.0, seeds 0-9: 5.637 ± 0.01409 [5.613, 5.662]
    measured: next-frame error, RTRBM
      torch 2.14.1, seeds 0-19: 3.030 ± 0.1017 [2.832, 3.175]
      torch 2.13.0, seeds 0-9: 3.049 ± 0.08595 [2.840, 3.173]
    measured: next-frame error, RBM (no temporal connection)
      torch 2.14.1, seeds 0-19: 4.229 ± 0.04211 [4.138, 4.318]
      torch 2.13.0, seeds 0-9: 4.239 ± 0.02740 [4.185, 4.274]
    full runs, CPU (AVX512 kernels), 2026-11-27:
    target ≤ 0.8: next-frame error, RTRBM / RBM
      torch 2.14.1, seeds 0-9: 0.5671 ± 0.004848 [0.5585, 0.5735], margin 48.0 sd (worst seed 46.7 sd)
    measured: next-frame error of copying the last frame
      torch 2.14.1, seeds 0-9: 5.637 ± 0.01409 [5.613, 5.662]
    measured: next-frame error, RTRBM
      torch 2.14.1, seeds 0-9: 2.470 ± 0.03365 [2.398, 2.506]
    measured: next-frame error, RBM (no temporal connection)
      torch 2.14.1, seeds 0-9: 4.354 ± 0.02447 [4.294, 4.376]
"""

from readtrack.api import Exercise, declare

readtrack_paper_plugins = declare(
    __name__,
    title="The Recurrent Temporal Restricted Boltzmann Machine",
    arxiv=None,
    claim="Hidden biases set by the previous frame's expected hidden state let an RBM model video: "
    "next-frame prediction better than the same RBM without the temporal connection.",
    exercises=[
        Exercise(
            target="RTRBM.biases",
            statement="""
                The RTRBM's recurrence: frame t's RBM has the hidden bias b_H + W′ r_{t−1}, where r is the
                EXPECTED hidden state (a deterministic real vector, not a sample), computed with that
                frame's own bias:

                    r_1 = σ(W v_1 + b_init),   r_t = σ(W v_t + b_H + W′ r_{t−1})   (t ≥ 2)

                so frame 1's hidden bias is b_init and frame t's (t ≥ 2) is b_H + W′ r_{t−1}.

                v: (B, T, visible). Return the SHIFTS of the hidden bias, (B, T, hidden): the amount added
                to self.rbm.b_H for each frame, i.e. b_init − b_H for frame 1 and W′ r_{t−1} after.
                self.rbm.p_h(v_t, shift) is σ(v_t Wᵀ + b_H + shift), so r_t = self.rbm.p_h(v[:, t],
                shift_t). self.W_prime is W′ (hidden, hidden), W′ r as r @ self.W_prime.T for a row r;
                self.b_init is b_init. With self.temporal False (the ablation) every shift is 0. The result
                must stay differentiable (the gradient flows back through time via the r's).
            """,
            hints=[
                "Frame 1: shift = (self.b_init − self.rbm.b_H).expand(B, −1).",
                "Loop over t: record the shift, then r = self.rbm.p_h(v[:, t], shift) with THIS frame's "
                "shift, then the next frame's shift is r @ self.W_prime.T.",
                "torch.stack the T shifts along dim 1; the ablation returns v.new_zeros(B, T, hidden).",
            ],
            lines=10,
        )
    ],
)
