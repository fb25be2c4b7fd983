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
three tasks in every batch), against the same model with no position information at all, paired: the same
initial weights (less the two bias tables), the same batches and the same 1500 test strings, so the two are
compared seed by seed. The blind model's encoder is exactly permutation-invariant (checked), so for copy and
reverse it can only guess an order; sort needs only the bag of digits and is learnt, the decoder's causal
mask telling it how far it has written. The quick run (4 digits, 400 Adam steps) and the full run (8 digits,
1000 steps; ``readtrack run t5 --only train --seeds 0-9``) assert the same three claims. Text to text: T5
with the bias gets at least 0.9 of each task's strings exactly right, one model for three tasks named by a
prefix. Relative position: its exact match on copy and reverse, less the blind model's on the same strings,
is above 0.5 (the bias alone turns most order-dependent strings right). And the blind model still learns
sort (≥ 0.9: what it lacks is order, not capacity). Built without the bias, the copy, reverse and paired
targets fail (the can-fail test). The blind model's copy and reverse scores are reported, not asserted: the
ceiling of guessing an order (measured on the test strings) bounds their expectation, so a bound on them
could not fail. Both models train at Adam's rate 1e-2 decayed linearly to 0: for the model with the bias
the best of 3e-3, 1e-2 and 2e-2 on seeds 100-104, outside the calibration's (the blind model's copy and
reverse cannot pass the ceiling at any rate). The quick run was 300 steps with a looser 0.85, which copy met
on torch 2.13's seeds 0-9 by only 3.0 sd (lowest seed 0.855); on seeds 100-104 at 300 steps copy ranged 0.92
to 1.0, at 400 steps with the update fused into one kernel 1.0 on every seed, the lowest task 0.986. Warm-up,
rates 3e-3 and 2e-2, and 200 steps of 256 strings were each worse than 300 steps of 128 at 1e-2. The numbers
over seeds, the guessing ceilings among them, are in the calibration below.

A fair echo in kind, not in scale: T5's text-to-text interface and relative positions at the smallest size
where they matter (one layer each side, d_model 32, Adam instead of Adafactor, no dropout). The paper's other
central result, that span-corruption pretraining transfers, is not tested: in a trial here (pretraining on
Markov-chain digit text, then fine-tuning on these tasks) it hurt fine-tuning at this size rather than helped.

Calibration (generated by ``readtrack calibrate t5 --write`` from ``calibration.json``; mean ± sd [min, max]
over seeds, one thread each; margin: (mean − threshold) / sd, and the worst seed's (value − threshold) / sd
beside it; a target is asserted only when, on every torch, every seed passes and the mean lies at least 3
seed standard deviations past the threshold: (mean − threshold) / sd ≥ 3 on the passing side, a single seed
may lie closer):

    quick runs, CPU (AVX512 kernels), 2026-11-27:
    target ≥ 0.9: T5 with relative bias: exact match on copy:
      torch 2.14.1, seeds 0-19: 0.9982 ± 0.006480 [0.9710, 1.000], margin 15.2 sd (worst seed 11.0 sd)
      torch 2.13.0, seeds 0-9: 0.9967 ± 0.009105 [0.9710, 1.000], margin 10.6 sd (worst seed 7.8 sd)
    target ≥ 0.9: T5 with relative bias: exact match on reverse:
      torch 2.14.1, seeds 0-19: 0.9996 ± 0.001400 [0.9940, 1.000], margin 71.1 sd (worst seed 67.1 sd)
      torch 2.13.0, seeds 0-9: 0.9992 ± 0.001945 [0.9940, 1.000], margin 51.0 sd (worst seed 48.3 sd)
    target ≥ 0.9: T5 with relative bias: exact match on sort:
      torch 2.14.1, seeds 0-19: 0.9956 ± 0.007795 [0.9671, 1.000], margin 12.3 sd (worst seed 8.6 sd)
      torch 2.13.0, seeds 0-9: 0.9955 ± 0.01016 [0.9671, 1.000], margin 9.4 sd (worst seed 6.6 sd)
    target ≥ 0.5: relative bias − no position information: exact match on copy: and reverse: (paired)
      torch 2.14.1, seeds 0-19: 0.9308 ± 0.007938 [0.9174, 0.9453], margin 54.3 sd (worst seed 52.6 sd)
      torch 2.13.0, seeds 0-9: 0.9309 ± 0.007994 [0.9174, 0.9393], margin 53.9 sd (worst seed 52.2 sd)
    target ≥ 0.9: no position information still learns sort: (needs only the bag of digits)
      torch 2.14.1, seeds 0-19: 0.9930 ± 0.005732 [0.9774, 1.000], margin 16.2 sd (worst seed 13.5 sd)
      torch 2.13.0, seeds 0-9: 0.9924 ± 0.006519 [0.9774, 0.9981], margin 14.2 sd (worst seed 11.9 sd)
    measured: exact match, copy: (relative bias)
      torch 2.14.1, seeds 0-19: 0.9982 ± 0.006480 [0.9710, 1.000]
      torch 2.13.0, seeds 0-9: 0.9967 ± 0.009105 [0.9710, 1.000]
    measured: exact match, reverse: (relative bias)
      torch 2.14.1, seeds 0-19: 0.9996 ± 0.001400 [0.9940, 1.000]
      torch 2.13.0, seeds 0-9: 0.9992 ± 0.001945 [0.9940, 1.000]
    measured: exact match, sort: (relative bias)
      torch 2.14.1, seeds 0-19: 0.9956 ± 0.007795 [0.9671, 1.000]
      torch 2.13.0, seeds 0-9: 0.9955 ± 0.01016 [0.9671, 1.000]
    measured: exact match, copy: (no position information)
      torch 2.14.1, seeds 0-19: 0.06760 ± 0.01084 [0.04832, 0.08515]
      torch 2.13.0, seeds 0-9: 0.06638 ± 0.01079 [0.05210, 0.08515]
    measured: exact match, reverse: (no position information)
      torch 2.14.1, seeds 0-19: 0.06862 ± 0.01055 [0.05222, 0.08932]
      torch 2.13.0, seeds 0-9: 0.06766 ± 0.01191 [0.05222, 0.08932]
    measured: exact match, sort: (no position information)
      torch 2.14.1, seeds 0-19: 0.9930 ± 0.005732 [0.9774, 1.000]
      torch 2.13.0, seeds 0-9: 0.9924 ± 0.006519 [0.9774, 0.9981]
    measured: best exact match on copy: or reverse: for a model blind to order
      torch 2.14.1, seeds 0-19: 0.07148 ± 0.001178 [0.06883, 0.07439]
      torch 2.13.0, seeds 0-9: 0.07123 ± 0.000941 [0.06989, 0.07278]
    measured: no position information: exact match on copy: (at most guessing the order)
      torch 2.14.1, seeds 0-19: 0.06760 ± 0.01084 [0.04832, 0.08515]
      torch 2.13.0, seeds 0-9: 0.06638 ± 0.01079 [0.05210, 0.08515]
    measured: no position information: exact match on reverse: (at most guessing the order)
      torch 2.14.1, seeds 0-19: 0.06862 ± 0.01055 [0.05222, 0.08932]
      torch 2.13.0, seeds 0-9: 0.06766 ± 0.01191 [0.05222, 0.08932]
    full runs, CPU (AVX512 kernels), 2026-11-27:
    target ≥ 0.9: T5 with relative bias: exact match on copy:
      torch 2.14.1, seeds 0-9: 0.9998 ± 0.000616 [0.9981, 1.000], margin 161.9 sd (worst seed 159.1 sd)
    target ≥ 0.9: T5 with relative bias: exact match on reverse:
      torch 2.14.1, seeds 0-9: 0.9996 ± 0.000843 [0.9980, 1.000], margin 118.1 sd (worst seed 116.2 sd)
    target ≥ 0.9: T5 with relative bias: exact match on sort:
      torch 2.14.1, seeds 0-9: 0.9990 ± 0.001051 [0.9980, 1.000], margin 94.2 sd (worst seed 93.2 sd)
    target ≥ 0.5: relative bias − no position information: exact match on copy: and reverse: (paired)
      torch 2.14.1, seeds 0-9: 0.9996 ± 0.000518 [0.9990, 1.000], margin 964.2 sd (worst seed 962.9 sd)
    target ≥ 0.9: no position information still learns sort: (needs only the bag of digits)
      torch 2.14.1, seeds 0-9: 0.9998 ± 0.000631 [0.9980, 1.000], margin 158.1 sd (worst seed 155.3 sd)
    measured: exact match, copy: (relative bias)
      torch 2.14.1, seeds 0-9: 0.9998 ± 0.000616 [0.9981, 1.000]
    measured: exact match, reverse: (relative bias)
      torch 2.14.1, seeds 0-9: 0.9996 ± 0.000843 [0.9980, 1.000]
    measured: exact match, sort: (relative bias)
      torch 2.14.1, seeds 0-9: 0.9990 ± 0.001051 [0.9980, 1.000]
    measured: exact match, copy: (no position information)
      torch 2.14.1, seeds 0-9: 0.000207 ± 0.000656 [0, 0.002075]
    measured: exact match, reverse: (no position information)
      torch 2.14.1, seeds 0-9: 0 on every seed
    measured: exact match, sort: (no position information)
      torch 2.14.1, seeds 0-9: 0.9998 ± 0.000631 [0.9980, 1.000]
    measured: best exact match on copy: or reverse: for a model blind to order
      torch 2.14.1, seeds 0-9: 0.000242 ± 1.4e-05 [0.000222, 0.000262]
    measured: no position information: exact match on copy: (at most guessing the order)
      torch 2.14.1, seeds 0-9: 0.000207 ± 0.000656 [0, 0.002075]
    measured: no position information: exact match on reverse: (at most guessing the order)
      torch 2.14.1, seeds 0-9: 0 on every seed
"""

from readtrack.api import Exercise, declare

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
                offset beyond lands in the last one. Offsets exactly on a range's edge (16, 32, 64 with
                the paper's 32 buckets and 128) belong to the upper range, as the integer-exact reference
                puts them; a device's log may come out an ulp low there (CUDA's does), so take the product
                in float64 (float32 on mps) and add 1e-9 (1e-4 on mps) before rounding down.
            """,
            hints=[
                "Work out n and the half-offset first: if bidirectional, halve num_buckets, add "
                "(r > 0).long() * num_buckets, and use n = r.abs(); else n = (-r).clamp_min(0).",
                "Compute the logarithmic bucket for every n (clamp n at 1 so that log(0) never happens) "
                "and choose with torch.where(n < max_exact, n, large).",
                "large = (max_exact + (log(n / max_exact) / math.log(max_distance / max_exact) * "
                "(num_buckets - max_exact) + 1e-9).long()).clamp_max(num_buckets - 1), n in float64.",
            ],
            lines=12,
        )
    ],
)
