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
R_{i−j} for every pair; the convolution module against a per-tap loop with its norms written from their
formulas; the block against eq. 1 written functionally), forward and gradients, float64 and float32, lengths 1
to 16; the depthwise convolution's receptive field is exactly k frames; attention logits are unchanged by
frames put before the sequence. Train: frame labelling that needs both kinds of context, as speech recognition
does: frames are noisy one-hot "phones", one frame somewhere carries a "speaker" code, and each frame's label
is (speaker, whether its two neighbours hold the same phone). A 2-layer Conformer (d 24, 4 heads, kernel 7)
against a 2-layer Transformer with the same relative attention and a wider FFN (10·d) so that the parameter
counts agree (29,936 vs 30,320, 1.3 %), same seed and batches, each at its best Adam learning rate of 1e-3 /
3e-3 / 1e-2 (3e-3 for both). A fair small echo of the paper's ablation (table 3 takes away the convolution
block, then the macaron FFN, each costing word error rate): the Transformer is the same block minus the
convolution module and the macaron split, at equal size and its own best learning rate.

Measured (``readtrack run conformer --device cpu``, seed 0, 300 steps of 32 sequences of 24 frames, chance
1/8): Conformer 0.960 held-out frame accuracy (speaker right 0.978, neighbour agreement right 0.982) against
Transformer 0.753 (speaker 0.979, neighbours 0.769, i.e. it never learns the local pattern and predicts
"disagree", the majority). Both find the speaker; only the convolution picks up the neighbour pattern within
the budget. The quick run (60 steps) catches an earlier stage, when the Conformer has found the speaker and
the Transformer not yet: 0.708 against 0.430; its targets are looser (Conformer ≥ 0.6 and a gap ≥ 0.05,
instead of ≥ 0.9 and ≥ 0.1). One seed and one task: a clear effect but a toy one; the Transformer might
learn the local pattern with many more steps, which this budget does not test. Check errors: float64 ≤ 1.1e-14
(forward ≤ 1.3e-15), float32 ≤ 8e-6 (gradients; forward ≤ 7e-7).
"""

from readtrack.paper_plugin import declare

readtrack_paper_plugins = declare(
    __name__,
    title="Conformer: Convolution-augmented Transformer for Speech Recognition",
    arxiv="2005.08100",
    claim="Convolution between half-step FFNs around attention beats a same-size Transformer on frames.",
)
