"""Exploring the Limits of Transfer Learning with a Unified Text-to-Text Transformer (Raffel, Shazeer,
Roberts, Lee, Narang, Matena, Zhou, Li and Liu, arXiv 1910.10683): T5.

Claim: every text problem can be cast as text in, text out, so that one encoder-decoder Transformer, one
maximum-likelihood objective and one decoding procedure serve them all, the task named by a prefix of the
input ("translate English to German: …", "summarize: …"); pretrained on C4 with a span-corruption
objective, the same model transfers to every task.

Equations (section 2.1; ``model.py`` follows the public code where the paper is silent, and says where):

    LayerNorm(x) = w ⊙ x / √(mean(x²) + ε)              rescale only: no mean subtracted, no bias
    A_h = softmax(Q_h K_hᵀ + B_h) V_h,  B_h[i, j] = b_h(bucket(j − i))          no absolute positions
    bucket(j − i), with M = N/2 buckets per sign (bidirectional, encoder) or M = N (causal, decoder):
        n = |j − i| (bidirectional) or max(i − j, 0) (causal: every future offset in bucket 0)
        n                                                          if n < M/2      (one offset each)
        min(M − 1, M/2 + ⌊log(2n/M) / log(2·max_distance/M) · M/2⌋)    otherwise  (log-wide, saturating)
        + M when bidirectional and j > i                                           (the sign's own half)
    N = 32, max_distance = 128; one table b per stack, shared by its layers, one scalar per head
    span corruption (section 3.3.4): 15% of the tokens in spans of mean length 3; each span → one sentinel
        "Thank you <X> me to your party <Y> week." → "<X> for inviting <Y> last <Z>"

From the public code, not the paper: no 1/√d_k on the logits (folded into W_q's initialisation), the tied
read-out rescaled by d_model^−½, spans that alternate kept/corrupted starting with a kept one (the first token
is never corrupted, the last always is), and bucket 16 (offset +0 in the upper half) never used.

The tiny experiment. The bucket function equals a reference written from the description above in integer
arithmetic only (no logarithm; the test file adds a plain-Python ``math.log`` version) on every offset in
[−300, 300] for several settings; the model's biases are Toeplitz; its attention equals PyTorch's SDPA with
the bias as a float mask (forward and gradients, float64 and float32, identical to the last bit here); its
decoder is causal. Span corruption is inverted exactly by a separately written decoder and hits 15% and spans
of 3 on 400 sequences.
Training: one model reads ``copy:``, ``reverse:`` or ``sort:`` then digits and writes the answer (a mix of the
three tasks in every batch). With the relative bias the full run (8 digits, 1000 steps;
``readtrack run t5 --only train --seeds 0-2``) gets 1.00 exact match on every task and seed but copy on seeds
0 and 2, 0.998. The same model with no position information at all, same seed and batches, gets
0.00 / 0.00 / 1.00 on copy / reverse / sort (full, seeds 0-2; copy 0.002 on seed 2): its encoder is exactly
permutation-invariant (checked), so for copy and reverse it can only guess an order, and it sits at that
ceiling (0.0003 for 8 digits); sort needs only the bag of digits and is learnt, the decoder's causal mask
telling it how far it has written. In T5 the bucketed bias is the only source of order, and enough of one for
the tasks that need it. The quick run (4 digits, 300 steps) asks the same; its numbers over seeds, the
guessing ceiling among them, are in the calibration at the end of this page. The targets are the model with
the bias on every task (the quick target, 0.85, is looser than the full 0.9) and sort learnt without it; built
without the bias, the copy and reverse targets fail (the can-fail test). The blind model's copy and reverse
scores are reported, not asserted: the ceiling bounds their expectation, and a test set of a few hundred
strings can land above it. Every full-run target passes on seeds 0-2.

A fair echo in kind, not in scale: T5's text-to-text interface and relative positions at the smallest size
where they matter (one layer each side, d_model 32, Adam instead of Adafactor, no dropout). The paper's other
central result, that span-corruption pretraining transfers, is not tested: in a trial here (pretraining on
Markov-chain digit text, then fine-tuning on these tasks) it hurt fine-tuning at this size rather than helped.
"""

from readtrack.paper_plugin import Exercise, declare

readtrack_paper_plugins = declare(
    __name__,
    title="Exploring the Limits of Transfer Learning with a Unified Text-to-Text Transformer",
    arxiv="1910.10683",
    claim="One encoder-decoder, trained text to text with task prefixes, does every task.",
    exercises=[
        Exercise(
            target="relative_position_bucket",
            statement="""
                T5's relative position buckets (section 2.1), for r = j − i (key position minus query
                position):

                    bidirectional: N = num_buckets / 2, n = |r|, and r > 0 (a key after the query) adds N
                    causal:        N = num_buckets,     n = max(−r, 0)  (every future key shares bucket 0)
                    n_exact = N / 2
                    bucket(n) = n                                                       if n < n_exact
                              = min(N − 1, n_exact + ⌊log(n / n_exact) / log(max_distance / n_exact)
                                                      · (N − n_exact)⌋)                 otherwise

                relative_position: a long tensor of offsets r, any shape; returns the bucket ids, a long
                tensor of the same shape, in [0, num_buckets). Half of the N buckets are exact, one per
                offset; the other half cover logarithmically wider ranges up to max_distance, and every
                offset beyond lands in the last one. Take the logarithm in float64 (float32 on mps), so
                offsets exactly on a range's edge (16, 32, 64 with the paper's 32 buckets and 128) land on
                the upper side, as the integer-exact reference puts them.
            """,
            hints=[
                "Work out n and the half-offset first: if bidirectional, halve num_buckets, add "
                "(r > 0).long() * num_buckets, and use n = r.abs(); else n = (-r).clamp_min(0).",
                "Compute the logarithmic bucket for every n (clamp n at 1 so that log(0) never happens) "
                "and choose with torch.where(n < max_exact, n, large).",
                "large = (max_exact + (log(n / max_exact) / math.log(max_distance / max_exact) * "
                "(num_buckets - max_exact)).long()).clamp_max(num_buckets - 1).",
            ],
            lines=12,
        )
    ],
)
