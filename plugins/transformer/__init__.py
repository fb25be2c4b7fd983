"""Attention Is All You Need (Vaswani et al., arXiv 1706.03762).

Claim: a sequence-to-sequence model built from attention alone, with no recurrence or convolution, learns
to transduce sequences, relating any two positions in a constant number of operations.

Equations:

    Attention(Q, K, V) = softmax(QKᵀ / √d_k) V                                        (eq. 1)
    MultiHead(Q, K, V) = Concat(head_1, …, head_h) W^O,  head_i = Attention(QW_i^Q, KW_i^K, VW_i^V)
    FFN(x) = max(0, xW_1 + b_1) W_2 + b_2                                             (eq. 2)
    PE(pos, 2i) = sin(pos / 10000^(2i/d_model)),  PE(pos, 2i+1) = cos(pos / 10000^(2i/d_model))
    each sub-layer: LayerNorm(x + Sublayer(x))                                        (post-LN, 3.1)
    lrate = d_model^−0.5 · min(step^−0.5, step · warmup_steps^−1.5)                   (eq. 3, 5.3)

``model.py`` implements these and the encoder-decoder of Figure 1 (decoder self-attention masked so
position i sees only positions ≤ i).

The tiny experiment: eq. 1 and multi-head attention equal PyTorch's (``scaled_dot_product_attention`` with
boolean, additive and causal masks; ``nn.MultiheadAttention`` with the same weights, forward and gradients),
and so do the encoder and decoder layers (``nn.TransformerEncoderLayer`` and ``nn.TransformerDecoderLayer``,
post-LN, ReLU FFN, the same weights); the sinusoidal encodings equal sin and cos written out entry by entry;
the decoder's Jacobian proves it cannot see the future; attention without positions is
permutation-equivariant, and the sinusoidal encoding makes PE(pos+k) a rotation of PE(pos). A 2 + 2 layer
model (d_model 64, 4 heads, 0.24 M parameters) learns to reverse 10 random digits to ≥ 99% token accuracy with
greedy decoding, in 170 steps (quick) or 400 on a CPU.

What of the paper's training recipe is followed: Adam with β1 = 0.9, β2 = 0.98, ε = 1e-9 and no weight decay,
the rate of eq. 3 (section 5.3) with its 4000 warm-up steps (of 100k) scaled to 50, and, for evaluation, the
average of the last 5 checkpoints (section 6.1; here 10 steps apart). Eq. 3 ties the peak rate to warm-up:
d_model^−0.5·warmup^−0.5 = 0.018 here, 25 times the base model's 7e-4, and at that rate the post-LN model's
loss spikes now and then, so the last weights alone score below the averaged checkpoints by an amount that
depends on the seed. The full run (400 steps, ``readtrack run transformer --only train --seeds 0-2``, token
accuracy on 512 new sequences) scores 1.000 on every seed, whole sequences included (last weights
0.998 / 0.999 / 0.999): the target (≥ 0.99) passes on seeds 0-2. The quick run (170 steps) asks the same; its
numbers over seeds, the last weights' among them, are in the calibration at the end of this page. Not
followed: label smoothing (ε_ls = 0.1) and dropout (P_drop = 0.1), regularisers against overfitting a fixed
corpus, which a stream of fresh random sequences cannot be; the sharing of embedding and output weights;
batches of 25k tokens (here 640).
Reversal is a fair small echo of translation: every output token must be fetched from a distant source
position through cross-attention, and the order comes only from the positional encodings.
"""

from readtrack.paper_plugin import Exercise, declare

readtrack_paper_plugins = declare(
    __name__,
    title="Attention Is All You Need",
    arxiv="1706.03762",
    claim="An encoder-decoder built only from attention learns sequence transduction (here: reversal).",
    exercises=[
        Exercise(
            target="scaled_dot_product_attention",
            statement="""
                Eq. 1: Attention(Q, K, V) = softmax(Q Kᵀ / √d_k) V, with the masks of torch's
                F.scaled_dot_product_attention.

                q: (..., L, d_k), k: (..., S, d_k), v: (..., S, d_v); returns (..., L, d_v). The scale is
                1/√d_k, or `scale` when it is given. attn_mask broadcasts to (..., L, S): a boolean mask is
                True where a query may attend (False gets −∞ before the softmax), a float mask is added
                to the scores. is_causal=True lets query i see keys 0 … i (top-left aligned, even when
                L ≠ S); passing both attn_mask and is_causal is a ValueError. The softmax runs over the
                keys, the last dimension.
            """,
            hints=[
                "scores = q @ k.transpose(-2, -1), shape (..., L, S), times 1/√d_k with d_k = q.shape[-1].",
                "The causal mask is torch.ones(L, S, dtype=torch.bool).tril(): True on and below the "
                "diagonal; a boolean mask is applied with scores.masked_fill(~mask, float('-inf')).",
                "torch.softmax(scores, dim=-1) @ v.",
            ],
            lines=12,
            references=["torch.nn.functional.scaled_dot_product_attention"],
        ),
        Exercise(
            target="sinusoidal_positions",
            statement="""
                Section 3.5: PE(pos, 2i) = sin(pos / 10000^(2i/d_model)), PE(pos, 2i+1) = cos(pos /
                10000^(2i/d_model)).

                Returns a (max_len, d_model) float64 tensor, row pos = 0 … max_len − 1. Sine and cosine of
                the same frequency sit in adjacent columns 2i and 2i + 1 (interleaved, not one half sines
                and the other cosines): each pair then turns by a fixed angle when pos moves by k, which
                is why PE(pos + k) is a linear function of PE(pos). For an odd d_model the last column is
                a sine without its cosine partner.
            """,
            hints=[
                "The exponent is 2i/d_model for both columns of a pair: two_i = torch.arange(0, d_model, 2).",
                "angle = pos[:, None] / 10000 ** (two_i / d_model), shape (max_len, ⌈d_model/2⌉).",
                "pe[:, 0::2] = sin(angle); pe[:, 1::2] = cos(angle[:, : d_model // 2]).",
            ],
            lines=7,
        ),
    ],
)
