"""Conformer: Convolution-augmented Transformer for Speech Recognition (Gulati et al. 2020, arXiv 2005.08100).

Claim: self-attention captures global context and convolution local patterns; a block that puts a
convolution module after the attention, between two half-step feed-forward modules, models frame sequences
better than a Transformer of the same size.

Equations (section 2; eq. 1 and figures 2-4), implemented in ``model.py``:

    x̃   = x + ½ FFN(x)            FFN = LayerNorm, Linear(d, 4d), Swish, Linear(4d, d)
    x'  = x̃ + MHSA(x̃)             MHSA = LayerNorm, self-attention with relative positions
    x'' = x' + Conv(x')           Conv = LayerNorm, pointwise (d → 2d), GLU, depthwise (k),
    y   = LayerNorm(x'' + ½ FFN(x''))         BatchNorm, Swish, pointwise (d → d)        (eq. 1)

    relative attention (Transformer-XL, as the paper says; bidirectional, distances −(L−1) … L−1):
    A_ij = (q_i + u)ᵀ k_j + (q_i + v)ᵀ W_r R_{i−j},   R the sinusoid, the (i, j) order by the relative shift

The paper's dropouts are left out (every batch is new data).

The tiny experiment. Check: each module against an independent reference (attention without position terms
against ``nn.MultiheadAttention`` with copied weights; relative attention against a version that gathers
R_{i−j} for every pair, with the sinusoid written out apart from ``model.sinusoid``; the convolution module
against a per-tap loop with its norms, GLU and Swish written from their formulas; the block against eq. 1
written functionally), forward and gradients, float64 at lengths 1, 2, 7 and 16 and float32 at 7 and 16
(BatchNorm's statistics over the 3 or 6 frames of lengths 1 and 2 are ill-conditioned in float32: module and
loop alike missed float64 there); float32 gradients are compared normwise (the absolute tolerance is 1e-4 of
the largest gradient), since the loop adds in another order and a gradient near 0 carries the rounding of
its large terms. Properties: the depthwise convolution's receptive field is exactly k frames; attention logits
are unchanged by frames put before the sequence; the read-out's logit of class (s, a) is its speaker head's
score plus its agreement head's, written out class by class.

Train: frame labelling that needs both kinds of context, as speech recognition does: frames are one-hot
"phones" plus N(0, 0.1²) noise, one frame somewhere carries a "speaker" code, and each frame's label is
(speaker, whether its two neighbours hold the same phone). A 2-layer Conformer (d 24, 4 heads, kernel 7)
against a 2-layer Transformer with the same relative attention and a wider FFN (10·d) so that the parameter
counts agree (29,886 vs 30,270, 1.3 %), same seed and batches, each at its own best Adam learning rate of the
same grid (1e-3 / 3e-3 / 1e-2; 3e-3 / 1e-2 in the quick run), chosen by frame accuracy on a validation split,
never on the test split whose accuracy is reported. Both models read the 8 classes out as a speaker score plus
an agreement score, so that the cross-entropy is the sum of the two facts'. Why: with a joint 8-way read-out
the agreement feature must be learnt once per speaker, and in trials with that read-out the Conformer did not
learn the local pattern in 600 steps at any rate of the grid on one seed and needed half of them on another
(with one speaker it learns it far sooner); with the earlier noise σ 0.2 finding the speaker also took a large
share of the steps. Both changes apply to both arms. A fair small echo of the paper's ablation (table 3 takes
away the convolution block, then the macaron FFN, each costing word error rate): the Transformer is the same
block minus the convolution module and the macaron split, at equal size and its own best learning rate. After
training, BatchNorm's inference statistics are re-estimated on 8 fresh training batches ("precise BN", Wu &
Johnson 2021) before any model is scored: the running averages (momentum 0.1) lag a model that changed in its
last steps, and in the quick run the Conformer learns the local pattern late in its 60 steps (in a trial, the
running averages left one seed's Conformer little above the Transformer, where the same weights with fresh
statistics labelled almost every frame right). The Transformer has no BatchNorm.

Quick run (``readtrack run conformer --quick``, one thread; 60 steps of 32 sequences of 24 frames): one
speaker only, so the labels are the local pattern alone, what the convolution module adds. Targets: the
Conformer's held-out frame accuracy ≥ 0.9 and its gap over the Transformer ≥ 0.1; the numbers over seeds
are in the calibration at the end of this page.

Full run (``readtrack run conformer --seeds 0-4``, one thread; 400 steps, 4 speakers): the Conformer labels
almost every held-out frame right on every seed, the Transformer about three frames in four. Both find the
speaker; only the Conformer learns the neighbour pattern, while the Transformer's best rate still answers
"disagree", the majority. Targets: Conformer ≥ 0.9 and a gap ≥ 0.1, met on all five seeds by a wide margin;
the full run's numbers over seeds 0-4 are in the calibration at the end of this page. With the convolution
module taken out, both targets fail, quick and full (the plugin's can-fail test runs the quick stage; a full
run on one seed, a trial, left both models at about the Transformer's accuracy in the calibration). One task,
a clear effect at toy scale; the Transformer might learn the local pattern with many more steps, which this
budget does not test.

Calibration (generated by ``readtrack calibrate conformer --write`` from ``calibration.json``; mean ± sd
[min, max] over seeds, one thread each; margin: (mean − threshold) / sd, and the worst seed's (value −
threshold) / sd beside it; a target is asserted only when, on every torch, every seed passes and the mean
lies at least 3 seed standard deviations past the threshold: (mean − threshold) / sd ≥ 3 on the passing
side, a single seed may lie closer):

    quick runs, CPU (AVX512 kernels), 2026-11-25:
    target ≤ 0.03: parameter counts agree: |Transformer / Conformer − 1|
      torch 2.14.1, seeds 0-19: 0.01285 on every seed
      torch 2.13.0, seeds 0-9: 0.01285 on every seed
    target ≥ 0.9: frame accuracy, Conformer
      torch 2.14.1, seeds 0-19: 0.9987 ± 0.001794 [0.9938, 1.000], margin 55.0 sd (worst seed 52.3 sd)
      torch 2.13.0, seeds 0-9: 0.9986 ± 0.002312 [0.9938, 1.000], margin 42.6 sd (worst seed 40.6 sd)
    target ≥ 0.1: frame accuracy, Conformer minus Transformer
      torch 2.14.1, seeds 0-19: 0.2282 ± 0.002920 [0.2228, 0.2321], margin 43.9 sd (worst seed 42.1 sd)
      torch 2.13.0, seeds 0-9: 0.2280 ± 0.003182 [0.2228, 0.2314], margin 40.2 sd (worst seed 38.6 sd)
    measured: held-out frame accuracy, Conformer
      torch 2.14.1, seeds 0-19: 0.9987 ± 0.001794 [0.9938, 1.000]
      torch 2.13.0, seeds 0-9: 0.9986 ± 0.002312 [0.9938, 1.000]
    measured: held-out frame accuracy, Transformer
      torch 2.14.1, seeds 0-19: 0.7704 ± 0.002057 [0.7670, 0.7758]
      torch 2.13.0, seeds 0-9: 0.7706 ± 0.002147 [0.7686, 0.7758]
    full runs, CPU (AVX512 kernels), 2026-11-27:
    target ≤ 0.03: parameter counts agree: |Transformer / Conformer − 1|
      torch 2.14.1, seeds 0-9: 0.01285 on every seed
    target ≥ 0.9: frame accuracy, Conformer
      torch 2.14.1, seeds 0-9: 0.9999 ± 9.01e-05 [0.9997, 1.000], margin 1109.6 sd (worst seed 1107.1 sd)
    target ≥ 0.1: frame accuracy, Conformer minus Transformer
      torch 2.14.1, seeds 0-9: 0.2294 ± 0.002122 [0.2242, 0.2314], margin 61.0 sd (worst seed 58.5 sd)
    measured: held-out frame accuracy, Conformer
      torch 2.14.1, seeds 0-9: 0.9999 ± 9.01e-05 [0.9997, 1.000]
    measured: held-out frame accuracy, Transformer
      torch 2.14.1, seeds 0-9: 0.7706 ± 0.002146 [0.7686, 0.7758]
"""

from readtrack.api import Exercise, declare

readtrack_paper_plugins = declare(
    __name__,
    title="Conformer: Convolution-augmented Transformer for Speech Recognition",
    arxiv="2005.08100",
    doi="10.21437/Interspeech.2020-3015",
    claim="Convolution between half-step FFNs around attention beats a same-size Transformer on frames.",
    exercises=[
        Exercise(
            target="ConformerBlock.forward",
            statement="""
                Eq. 1, the macaron block: two half-step feed-forward modules around attention and
                convolution, each module a residual branch, then a final LayerNorm:

                    x̃ = x + ½ FFN₁(x),   x' = x̃ + MHSA(x̃),   x'' = x' + Conv(x'),
                    y = LayerNorm(x'' + ½ FFN₂(x''))

                x: (B, L, d) frames. The modules are self.ffn1, self.mhsa, self.conv, self.ffn2 (each
                brings its own pre-LayerNorm) and the final LayerNorm self.norm. Return y, (B, L, d).
            """,
            hints=[
                "Four residual additions in this order: FFN, MHSA, Conv, FFN.",
                "Only the feed-forward branches are halved (the paper's half-step residual weights); "
                "attention and convolution are added whole.",
                "The final self.norm wraps the last residual sum: self.norm(x + 0.5 * self.ffn2(x)).",
            ],
            lines=4,
        ),
        Exercise(
            target="ConvModule.forward",
            statement="""
                Figure 2, the convolution module (without its residual, which ConformerBlock adds):

                    LayerNorm → pointwise conv (d → 2d) → GLU → depthwise conv (kernel k, 'same')
                    → BatchNorm → Swish → pointwise conv (d → d)

                GLU(a, b) = a ⊗ σ(b), where a is the first d channels of the pointwise output and b the
                last d (the gate); Swish(z) = z·σ(z). x: (B, L, d); the layers are self.norm,
                self.pointwise1, self.depthwise, self.batch_norm, self.pointwise2 (the convolutions and
                BatchNorm1d want channels first, (B, d, L)). Return (B, L, d).
            """,
            hints=[
                "Transpose after the LayerNorm (it normalises the last dimension, d) and back at the end: "
                "self.norm(x).transpose(1, 2) is (B, d, L).",
                "a, gate = h.chunk(2, dim=1) splits the 2d channels; the first half is gated by the second.",
                "F.silu(self.batch_norm(self.depthwise(a * torch.sigmoid(gate)))), then self.pointwise2.",
            ],
            lines=5,
        ),
    ],
)
