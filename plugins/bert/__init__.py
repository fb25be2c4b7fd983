"""BERT: Pre-training of Deep Bidirectional Transformers for Language Understanding (Devlin, Chang, Lee and
Toutanova, arXiv 1810.04805).

Claim: a transformer encoder pretrained with a masked language model (MLM), which predicts randomly chosen
tokens from the context on *both* sides, learns deeper representations than a left-to-right model, which
sees only the left; the bidirectional model needs the masking, since it would otherwise see the answer.

What the code implements (section 3.1, "Task #1: Masked LM", and appendix A.1):

    input:  E = LayerNorm(E_token + E_segment + E_position)                 (figure 2)
    layers: x ← LN(x + MultiHead(x)),  x ← LN(x + W₂ GELU(W₁ x))             (post-LN, as Vaswani et al.)
    MLM:    select 15% of the positions; of those, 80% → [MASK], 10% → a random token, 10% unchanged
    head:   h = LN(GELU(W_h x)),  logits = h E_tokenᵀ + b                   (decoder tied to the embeddings)
    loss:   cross-entropy of the original token at the selected positions only

``model.py`` is the encoder and its MLM head; the masking and the toy task live in ``plugin_kit.mlm`` (shared
with the ``roberta`` plugin).

The tiny experiment: the encoder layer equals PyTorch's ``nn.TransformerEncoderLayer`` (post-LN, GELU) with
copied weights, and the whole model equals a reference built from those layers, forward and every gradient in
float64 and float32, with a padding mask; the 80/10/10 rule holds within binomial bounds on 2²¹ seeded
positions, unselected positions are never changed nor scored; segment embeddings change the output. The task
needs the right context: every odd position copies its right neighbour, so a masked odd token can be read only
from the right. The exact Bayes ceiling under the 80/10/10 corruption is 0.8847 for a model that sees the
neighbour and 0.15625 for one that does not (computed by enumeration). The same model (2 layers, H = 32,
sequences of 17 tokens), seed, batches and masks, with bidirectional attention and with a causal mask, each at
its best learning rate from the same grid (3e-3, 1e-2, chosen by the MLM loss on a validation split of its own
sequences and masks, never on the test split the accuracies come from), Adam with the gradient norm clipped at
1.0 as BERT's own optimiser does (without the clip, in one-off runs no command here repeats, seed 3 at lr 1e-2
stalled well below the other seeds). Full run (600 steps; ``readtrack run bert --seeds 0-2``): bidirectional
at the odd positions 0.866 / 0.882 / 0.878 (target 0.8; lr 1e-2 picked on each seed), causal at the odd
positions 0.155 / 0.165 / 0.143 (its ceiling 0.156, up to the test set's sampling error of ≈ 0.007; lr 3e-3
picked on each seed), while at the even positions (partner on the left) both learn: bidirectional 0.872 /
0.883 / 0.868, causal 0.874 / 0.891 / 0.883 (target 0.8; every target passes on seeds 0-2). Learning to look
right at odd and left at even positions comes suddenly, after ≈ 100 to 150 steps here; with 33 tokens it came
much later, so the task uses 17.

What the ablation is, and why: not the paper's "LTR & No NSP" row (table 5), where the left-to-right model is
a next-token language model that is then fine-tuned on downstream tasks. Here it is the same masked-LM
network, objective, masks and batches under a causal attention mask, so the two arms differ only in what a
position may attend to: the gap measures exactly the information on the right, and both are scored by the
same held-out masked accuracy, each against its exact ceiling. A next-token model has no masked position to
score without a fine-tuning stage this toy leaves out, and predicting x_t from x_<t alone it could reach only
1/16 at an odd position.

Quick run (200 steps of 128 sequences, both arms at lr 1e-2, the full run's validation pick for the
bidirectional arm; ``readtrack run bert --quick``): asserted are the bidirectional model's held-out masked
accuracy at the odd positions and the causal model's at the even positions (both ≥ 0.75, 0.05 below the
full run's targets); the causal model's odd positions are reported (its ceiling 0.156 bounds them). The
jump to looking right comes at a different step on each seed: with the full run's batch of 64, seed 15 was
still on its plateau at step 200 (0.22 at the odd positions), so the quick run trains on batches twice as
large, which brings every seed past the jump well before the end (numbers over seeds 0-19 in the calibration
at the end of this page). Not reproduced here: next-sentence prediction and fine-tuning.
"""

from readtrack.paper_plugin import Exercise, declare

readtrack_paper_plugins = declare(
    __name__,
    title="BERT: Pre-training of Deep Bidirectional Transformers for Language Understanding",
    arxiv="1810.04805",
    claim="A masked-LM encoder that attends both ways predicts tokens a left-to-right model cannot.",
    exercises=[
        Exercise(
            target="SelfAttention.forward",
            statement="""
                Bidirectional multi-head self-attention: every position attends to every position, left and
                right; only the mask given removes keys. For each head a = 0 … A − 1:

                    head_a = softmax(Q_a K_aᵀ / √d + M) V_a,   d = H / A,   M = −∞ where mask is False

                x: (B, N, H); mask: None (attend everywhere) or bool, broadcastable to (B, A, N, N), True
                where query i may attend to key j (padding gives (B, 1, 1, N); the left-to-right ablation
                passes a causal (N, N)). A = self.A. self.qkv maps H to 3H, laid out as [Q | K | V], each
                split into A heads of d consecutive features (head a is features a·d … (a+1)·d − 1, as
                nn.MultiheadAttention's in_proj). Concatenate the heads back in the same order and apply
                self.out; return (B, N, H).
            """,
            hints=[
                "self.qkv(x).view(B, N, 3, A, d) and a permute give q, k, v of shape (B, A, N, d).",
                "Scale the scores by 1/√d with d the head size H/A, not H; the softmax is over the keys "
                "(dim=-1).",
                "scores.masked_fill(~mask, float('-inf')) when mask is not None, and nothing else: no "
                "causal mask of your own (BERT reads the right context too).",
            ],
            lines=7,
            references=["torch.nn.functional.scaled_dot_product_attention"],
        ),
        Exercise(
            target="Bert.hidden",
            statement="""
                Figure 2, the input representation, then the encoder:

                    E = LayerNorm(E_token[tokens] + E_segment[segments] + E_position[0 … N−1]),
                    x ← layer(x, mask) for each of the L layers.

                tokens, segments: (B, N) int64 (segment 0 for sentence A, 1 for sentence B); mask as in
                SelfAttention.forward (None: bidirectional). The embeddings are self.token, self.segment and
                self.position (learned positions 0 … N − 1), the LayerNorm self.ln_embed, the layers
                self.layers in order. Return the last layer's output, (B, N, H).
            """,
            hints=[
                "Three lookups of shape (B, N, H), (B, N, H) and (N, H), summed (the positions broadcast "
                "over the batch).",
                "The positions are torch.arange(N, device=tokens.device); the LayerNorm comes after the "
                "sum, before the first layer.",
                "Every layer gets the same mask: for layer in self.layers: x = layer(x, mask).",
            ],
            lines=6,
        ),
        Exercise(
            target="Bert.forward",
            statement="""
                The masked-LM head (appendix A.1, as the released BERT): a transform, then a decoder tied to
                the token embeddings, with a bias of its own:

                    h = LayerNorm(GELU(W_h x + b_h)),   logits = h E_tokenᵀ + b

                x is self.hidden(tokens, segments, mask), (B, N, H); W_h, b_h are self.head, the LayerNorm is
                self.ln_head, E_token is self.token.weight (V, H) and b is self.decoder_bias (V). Return the
                logits for every position and every token of the vocabulary, (B, N, V) (the loss picks the
                selected positions).
            """,
            hints=[
                "The decoder has no weight of its own: multiply by the transpose of self.token.weight.",
                "The order is dense, GELU, LayerNorm: self.ln_head(F.gelu(self.head(x))).",
            ],
            lines=2,
        ),
    ],
)
