"""DeepNet: Scaling Transformers to 1,000 Layers (Wang, Ma, Dong, Huang, Zhang and Wei, arXiv 2203.00555).

Claim: DeepNorm, a Post-LN residual with the stream up-weighted by α and the sublayers' initialisation
down-scaled by β, bounds the model update of a deep transformer, so that Post-LN, which diverges when made
deep (or trained fast), trains stably to 1,000 layers while keeping Post-LN's performance.

Equations (``model.py``; x: (B, T, D), G a sublayer, attention or feed-forward):

    Post-LN    x_{l+1} = LN(x_l + G_l(x_l))
    Pre-LN     x_{l+1} = x_l + G_l(LN(x_l))                                 (with a final LN)
    DeepNorm   x_{l+1} = LN(α · x_l + G_l(x_l, θ_l))                          (section 3, Figure 2)

    init: Xavier-normal, gain β for the feed-forward and the value and output projections,
          gain 1 for the query and key projections                               (Figure 2)

    encoder-only (N layers) or decoder-only (M layers):  α = (2N)^{1/4},  β = (8N)^{−1/4}       (Table 1)
    encoder-decoder: encoder α = 0.81 (N⁴M)^{1/16}, β = 0.87 (N⁴M)^{−1/16}; decoder α = (3M)^{1/4},
                     β = (12M)^{−1/4}

The experiment's model is decoder-only, so it uses the first row with N its number of blocks (8 blocks:
α = 2, β = 0.354); ``deepnorm_constants`` also gives the encoder-decoder row (checked for 6L-6L).

The tiny experiment, check (``readtrack run deepnorm --only check``): one block of each kind equals a float64
reference written from the equations (attention, LayerNorm and GELU written out) with the same weights,
forward and every gradient, on three shapes, one of them a single token; DeepNorm with α = β = 1 is Post-LN
bit for bit (same seed, same weights, logits and gradients); α and β for N = 1, 6, 18, 100 are Table 1's
values worked out by hand; the measured std of a wide block's weights is β·√(2/(fan_in + fan_out)) for v,
out, fc1, fc2 and gain 1 for q and k; and the mechanism of section 4: after one SGD step from the same
weights the 8-block DeepNorm model's output moves ‖ΔF‖/‖F‖ ≈ 0.02 against Post-LN's ≈ 0.5-1 (the check
asks for at least 5× less).

Train: a decoder-only language model of 8 blocks of width 32 (4 heads) on text from a random first-order
Markov chain over 16 symbols (sequences of 16 tokens, batches of 16; the chain's own loss, its floor, is
1.13-1.24 nats; a model that ignores the context scores the unigram entropy, 2.5-2.7), Adam from step 0
without warm-up. Post-LN and DeepNorm start from the same seed: DeepNorm's weights are Post-LN's,
multiplied by β where the paper says, and see the same batches. Each run with seed s trains seeds 100·s,
100·s + 1, …, each on its own chain.

- what holds, asserted: at the high rate, 1e-2, the deep Post-LN model collapses to the unigram loss (it
  stops using the context, on every seed calibrated) while DeepNorm trains close to the chain's floor. The
  target is Post-LN's held-out loss minus DeepNorm's, at least 0.5 nats (a third of the 1.5 nats there are
  to learn: the issue's "diverges, and trains with DeepNorm" read as a gap no run that learnt could close).
  Quick (1 init, 50 steps): 1.19 ± 0.10 over seeds 0-19 (torch 2.14), 1.24 ± 0.08 over seeds 0-9 (torch
  2.13), every seed ≥ 0.95, margins 7.0 and 8.7 sd; Post-LN ends at 2.56 ± 0.07 nats, DeepNorm at 1.37 ±
  0.11. Full run, seed 0 (3 inits, 120 steps): 2.578 against 1.230, a gap of 1.35. A run whose loss turned
  NaN would stop there and score ln 16 (diverged counts as failed); none of the runs above did.
- the rate is the difficulty, not the model: the full run (``readtrack run deepnorm``, 3 inits, 120 steps)
  gives every arm, Pre-LN too, its best rate of the grid 1e-3, 3e-3, 1e-2, chosen on the first init's
  validation split. Over seeds 0-9 (torch 2.14) Post-LN ends at 2.51 ± 0.06 nats at 1e-2 and at 1.57 ± 0.25
  at its own best rate (1e-3 on seed 0; 2.07 at worst, where an init failed at the rate the first one
  chose); DeepNorm at 1.28 ± 0.06 (its best is 1e-2 on every seed), Pre-LN at 1.28 ± 0.06 as well.
- what is reported, not asserted: at each arm's own best rate DeepNorm ends 0.28 ± 0.22 [0.15, 0.74] nats
  below Post-LN after 120 steps (full runs, seeds 0-9): positive on every seed, because DeepNorm can use
  the higher rate, but too spread for the 3 sd rule at any threshold worth claiming (its mean is 1.3 sd
  above 0). In the 60-step runs the experiment was designed on the gap was about 0.57, so it shrinks as
  Post-LN's smaller rate catches up: it is no claim of better final quality, which the paper makes for
  models (its 1,000-layer, 200-language translation model) far beyond this scale.
- the paper's 1,000 layers are not tried: at 8 blocks Post-LN already fails at 1e-2; at 6 it failed at 1e-2
  on 9 of 10 seeds and trained at 3e-3 (100 steps); at 12 blocks it trained at no rate of the grid within
  100 steps (still about 2.5 nats), so there the depth, not only the rate, is the difficulty.
  The ablations ``--set residual=alpha-only`` and ``residual=init-only`` run DeepNorm with one of its two
  parts (reported, not calibrated); ``residual=post`` makes it Post-LN, a gap of exactly 0 (the can-fail
  test patches the constants to 1 and watches the asserted target fail).

DeepNorm does Post-LN's work plus one multiply by α per sublayer, and Pre-LN the same work in another
order.

Calibration (generated by ``readtrack calibrate deepnorm --write`` from ``calibration.json``; mean ± sd
[min, max] over seeds, one thread each; margin: (mean − threshold) / sd, and the worst seed's (value −
threshold) / sd beside it; a target is asserted only when, on every torch, every seed passes and the mean
lies at least 3 seed standard deviations past the threshold: (mean − threshold) / sd ≥ 3 on the passing
side, a single seed may lie closer):

    quick runs, CPU (AVX512 kernels), 2026-11-29:
    target ≥ 0.5: lr 0.01, no warm-up: test loss Post-LN − DeepNorm (nats)
      torch 2.14.1, seeds 0-19: 1.189 ± 0.09862 [0.9527, 1.355], margin 7.0 sd (worst seed 4.6 sd)
      torch 2.13.0, seeds 0-9: 1.237 ± 0.08484 [1.115, 1.355], margin 8.7 sd (worst seed 7.2 sd)
    measured: lr 0.01: Post-LN test loss (nats, mean of 1 init)
      torch 2.14.1, seeds 0-19: 2.557 ± 0.07309 [2.446, 2.702]
      torch 2.13.0, seeds 0-9: 2.560 ± 0.07535 [2.456, 2.702]
    measured: lr 0.01: DeepNorm test loss (nats, mean of 1 init)
      torch 2.14.1, seeds 0-19: 1.368 ± 0.1094 [1.146, 1.581]
      torch 2.13.0, seeds 0-9: 1.323 ± 0.08702 [1.146, 1.434]
    full runs, CPU (AVX512 kernels), 2026-11-29:
    target ≥ 0.5: lr 0.01, no warm-up: test loss Post-LN − DeepNorm (nats)
      torch 2.14.1, seeds 0-9: 1.225 ± 0.06972 [1.085, 1.348], margin 10.4 sd (worst seed 8.4 sd)
    measured: lr 0.01: Post-LN test loss (nats, mean of 3 inits)
      torch 2.14.1, seeds 0-9: 2.508 ± 0.05582 [2.420, 2.586]
    measured: each at its best lr: Post-LN test loss (nats, mean of 3 inits)
      torch 2.14.1, seeds 0-9: 1.567 ± 0.2530 [1.334, 2.069]
    measured: lr 0.01: DeepNorm test loss (nats, mean of 3 inits)
      torch 2.14.1, seeds 0-9: 1.283 ± 0.06200 [1.135, 1.335]
    measured: each at its best lr: DeepNorm test loss (nats, mean of 3 inits)
      torch 2.14.1, seeds 0-9: 1.283 ± 0.06200 [1.135, 1.335]
    measured: lr 0.01: Pre-LN test loss (nats, mean of 3 inits)
      torch 2.14.1, seeds 0-9: 1.281 ± 0.06113 [1.135, 1.339]
    measured: each at its best lr: Pre-LN test loss (nats, mean of 3 inits)
      torch 2.14.1, seeds 0-9: 1.283 ± 0.06133 [1.135, 1.339]
    measured: each at its best lr: test loss Post-LN − DeepNorm (nats)
      torch 2.14.1, seeds 0-9: 0.2835 ± 0.2222 [0.1489, 0.7398]
"""

from readtrack.api import Exercise, Member, declare, lineage_members

readtrack_paper_plugins = declare(
    __name__,
    title="DeepNet: Scaling Transformers to 1,000 Layers",
    arxiv="2203.00555",
    claim="DeepNorm (LN(α·x + G(x)), β-scaled init) trains a deep Post-LN model at a rate where it fails.",
    exercises=[
        Exercise(
            target="Block.forward",
            statement="""
                One transformer layer, x: (B, T, D) → (B, T, D), two sublayers G in turn: self.attn (causal
                self-attention) then self.ffn (the feed-forward), with the LayerNorms self.ln1 (around the
                attention) and self.ln2 (around the feed-forward). self.norm_position says where they go:

                    "pre"       x ← x + G(LN(x))                   (Pre-LN; self.alpha is ignored)
                    "post"      x ← LN(x + G(x))                   (Post-LN, α = 1)
                    "deepnorm"  x ← LN(α · x + G(x))               (DeepNorm, section 3; α = self.alpha)

                Post-LN is DeepNorm with α = 1, so one branch serves both. Each sublayer reads the stream as
                the previous one left it. Return the stream after both sublayers.
            """,
            hints=[
                "The residual weight α multiplies the stream x, never the sublayer's output G(x).",
                "In DeepNorm the sublayer sees the un-normalised x; the LN comes after the sum.",
                "x = self.ln1(self.alpha * x + self.attn(x)); then the same with ln2 and ffn.",
            ],
            lines=5,
            references=["torch.nn.TransformerEncoderLayer"],
        )
    ],
)

readtrack_lineages = lineage_members(
    Member(
        "normalization",
        "deepnorm",
        improves=("layernorm",),
        what="Post-LN with the residual up-weighted (α) and the init down-scaled (β): a deep Post-LN model "
        "trains at a high learning rate without warm-up",
        number="lr 0.01, no warm-up: test loss Post-LN − DeepNorm (nats)",
    ),
)
