"""Releasing Persimmon-8B (Adept, September 2023; a release post, https://www.adept.ai/blog/persimmon-8b, no
arXiv paper).

Claim: an 8B decoder trained on 737B tokens with a 16K context, built from choices the post lists:
"squared ReLU activation", "rotary positional encodings" on part of each head (50% of the head dimensions
in the released config), and "layernorm on the queries and keys". The last one is what this plugin tests:
normalising queries and keys bounds the attention logits, the known cure (Dehghani et al. 2023, ViT-22B;
Wortsman et al. 2023, arXiv 2309.14322) for a training instability where, at a high learning rate, attention
logits grow without limit, the softmax saturates and the loss collapses.

Equations (head dimension d, LN with learned scale γ and shift β):

    MLP(x) = W₂ ReLU(W₁ x)²                                   squared ReLU (So et al. 2021)
    q̂ = LN_q(q),  k̂ = LN_k(k),  then RoPE on the first half of each of q̂ and k̂
    A = softmax(q̂ k̂ᵀ / √d + M) v                               M: the causal mask
    |q̂ · k̂| / √d ≤ (max|γ_q|·√d + ‖β_q‖)(max|γ_k|·√d + ‖β_k‖) / √d   whatever q and k are

``model.py`` implements the block (``qk_norm=False`` for the A/B) and a small language model.

The tiny experiment: squared ReLU, the partial rotary (against complex rotations of the first half, the second
half untouched), QK-normed attention (against F.layer_norm and SDPA) and the pre-LN block around them (against
its formula from the weights) are checked in float64 to ~5e-15, gradients too
(``readtrack run persimmon --only check``), and so is the bound above on inputs ×1000, which attention without
the norms exceeds by far. Then small language models with and without QK layer norm (a pair: same weights,
same batches) are trained on Markov-chain text whose entropy rate is known, at a usual and at a high learning
rate. The targets are the mechanism: at the high rate the largest attention logit grows at least 100 times
larger without the norms than with them, read on a log scale (log10 of the ratio ≥ 2) because the ratio spans
decades; at the usual rate both variants learn. With the norms replaced by the identity the logit claim misses
(the two models are one, log10 ratio 0, in the quick design and in the full one;
``tests/plugins/test_persimmon.py``). What the bounded logits do for the loss is reported, not asserted,
because it does not hold on every seed.

The quick run, ``readtrack run persimmon --quick`` (1 layer, 120 AdamW steps, lr 0.03 and 0.3, one pair at
each), asserts that at lr 0.03 both variants end ≤ 0.8 nats above the chain. The logit claim it reports, not
asserts: at quick size it is a smoke test and the full run carries the claim. Over seeds its log10 ratio sits
less than 3 seed standard deviations above 2 on torch 2.14.1, and a seed falls under it there (the calibration
at the end of this page). The model without the norms collapses to a unigram model within a few steps of
reaching lr 0.3 on every seed; what its logits do afterwards is chance: on most seeds Adam keeps growing them,
on some they soon stop while the normed model's keep growing slowly with its learned gains γ. A cosine decay
of the rate stopped that drift and lowered the ratio; two layers (the full run's model) at 120 steps moved the
failure to another seed: neither made every seed pass. The held-out loss at lr 0.3 without the norms minus
with them is measured.

The full run, ``readtrack run persimmon --only train --seeds 0-9`` (2 layers, 200 steps, lr 0.01, 0.03, 0.1,
0.3; ``repeats`` = 3 pairs at lr 0.3): with one pair at lr 0.3 (the design before, its full calibration of
2026-11-27 with code 1e47b4edd1578544) the log10 ratio over seeds 0-9 was 3.52 ± 0.54 [2.58, 4.66], every seed
passing but only 2.8 seed standard deviations above 2. The spread is per initialisation, and both arms carry
it: over seeds 100-109, three pairs each (the pairs' log ratios are in the target's detail of ``readtrack run
persimmon --only train --seeds 100-109 --jobs 1 --yes``), log10 of the largest logit without the norms varies
with sd 0.23 (5.4 to 6.3), with them with sd 0.16 (2.0 to 2.7), uncorrelated, and the ratio of one pair 3.50 ±
0.29 [2.92, 3.99]. So the full run trains ``repeats`` = 3 pairs at lr 0.3, pair r with its weights and batches
from seed + 1000·r (pair 0 is the run's own seed, the models the other rates train too), and asserts the mean
of their three log10 ratios ≥ 2: over seeds 100-109 3.50 ± 0.11 [3.28, 3.69], chosen before the calibration of
seeds 0-9 at the end of this page. The losses measured by name are pair 0's. Without the norms the largest
logit grows with the rate, and at lr 0.3 it ends far larger than with them on every seed. At lr 0.01 and 0.03
both variants learn, the two close, either ahead depending on the seed; at lr 0.1 the model with the norms is
slightly ahead on every one of seeds 0-9. At lr 0.3 the model without the norms ends at about the unigram
model's loss on every seed; the model with them ends lower on eight seeds of ten, but on seeds 1 and 6 it
collapses to a unigram model too, though its logit ratio passes the target there as on the other seeds. The
norms remove one cause of divergence, the growth of attention logits, not every one: less harm on most seeds,
not learning against collapsing. The two full targets (at lr 0.01 both learn ≤ 0.5 nats; the mean log10 logit
ratio at lr 0.3 ≥ 2) are in the calibration below: the mean log10 ratio 3.48 ± 0.27 [3.11, 4.10] over seeds
0-9, 5.5 seed standard deviations above 2.

A fair echo of the small-scale proxy of Wortsman et al.: the logit growth appears in small models at high
learning rates, with the same cause, and QK layer norm stops it.

Calibration (generated by ``readtrack calibrate persimmon --write`` from ``calibration.json``; mean ± sd
[min, max] over seeds, one thread each; margin: (mean − threshold) / sd, and the worst seed's (value −
threshold) / sd beside it; a target is asserted only when, on every torch, every seed passes and the mean
lies at least 3 seed standard deviations past the threshold: (mean − threshold) / sd ≥ 3 on the passing
side, a single seed may lie closer):

    quick runs, CPU (AVX512 kernels), 2026-11-27:
    target ≤ 0.8: at lr 0.03 both variants learn: worse held-out loss − the chain's (nats)
      torch 2.14.1, seeds 0-19: 0.4794 ± 0.07889 [0.3857, 0.6581], margin 4.1 sd (worst seed 1.8 sd)
      torch 2.13.0, seeds 0-9: 0.4816 ± 0.07313 [0.3959, 0.5875], margin 4.4 sd (worst seed 2.9 sd)
    measured: the true chain's own loss on the held-out set (nats)
      torch 2.14.1, seeds 0-19: 1.167 ± 0.04470 [1.026, 1.226]
      torch 2.13.0, seeds 0-9: 1.176 ± 0.04044 [1.089, 1.226]
    measured: held-out loss − the chain's, a unigram model (nats)
      torch 2.14.1, seeds 0-19: 1.585 ± 0.03027 [1.533, 1.661]
      torch 2.13.0, seeds 0-9: 1.580 ± 0.03925 [1.533, 1.661]
    measured: held-out loss − the chain's, lr 0.03, with QK layer norm (nats)
      torch 2.14.1, seeds 0-19: 0.3803 ± 0.04333 [0.3213, 0.5081]
      torch 2.13.0, seeds 0-9: 0.3821 ± 0.02934 [0.3429, 0.4181]
    measured: held-out loss − the chain's, lr 0.03, without QK layer norm (nats)
      torch 2.14.1, seeds 0-19: 0.4794 ± 0.07889 [0.3857, 0.6581]
      torch 2.13.0, seeds 0-9: 0.4816 ± 0.07313 [0.3959, 0.5875]
    measured: held-out loss − the chain's, lr 0.3, with QK layer norm (nats)
      torch 2.14.1, seeds 0-19: 1.073 ± 0.2318 [0.6255, 1.474]
      torch 2.13.0, seeds 0-9: 1.087 ± 0.2352 [0.6255, 1.358]
    measured: held-out loss − the chain's, lr 0.3, without QK layer norm (nats)
      torch 2.14.1, seeds 0-19: 1.563 ± 0.04130 [1.462, 1.631]
      torch 2.13.0, seeds 0-9: 1.568 ± 0.03678 [1.503, 1.631]
    measured: at lr 0.3, held-out loss without QK layer norm − with it (nats)
      torch 2.14.1, seeds 0-19: 0.4908 ± 0.2504 [0.05020, 1.005]
      torch 2.13.0, seeds 0-9: 0.4807 ± 0.2559 [0.2098, 1.005]
    reported, not asserted at quick size (the claim: ≥ 2): at lr 0.3, log10 of largest |attention logit|
      without QK layer norm / with it
      torch 2.14.1, seeds 0-19: 2.994 ± 0.4418 [1.325, 3.522], margin 2.2 sd (worst seed -1.5 sd), misses it
        on seed 14
      torch 2.13.0, seeds 0-9: 3.095 ± 0.2170 [2.790, 3.522], margin 5.0 sd (worst seed 3.6 sd)
    full runs, CPU (AVX512 kernels), 2026-11-27:
    target ≤ 0.5: at lr 0.01 both variants learn: worse held-out loss − the chain's (nats)
      torch 2.14.1, seeds 0-9: 0.2854 ± 0.05568 [0.2265, 0.4186], margin 3.9 sd (worst seed 1.5 sd)
    target ≥ 2: at lr 0.3, log10 of largest |attention logit| without QK layer norm / with it, mean of 3
      paired initialisations
      torch 2.14.1, seeds 0-9: 3.481 ± 0.2709 [3.109, 4.104], margin 5.5 sd (worst seed 4.1 sd)
    measured: the true chain's own loss on the held-out set (nats)
      torch 2.14.1, seeds 0-9: 1.176 ± 0.04044 [1.089, 1.226]
    measured: held-out loss − the chain's, a unigram model (nats)
      torch 2.14.1, seeds 0-9: 1.580 ± 0.03925 [1.533, 1.661]
    measured: held-out loss − the chain's, lr 0.01, with QK layer norm (nats)
      torch 2.14.1, seeds 0-9: 0.2586 ± 0.02886 [0.2194, 0.3073]
    measured: held-out loss − the chain's, lr 0.01, without QK layer norm (nats)
      torch 2.14.1, seeds 0-9: 0.2768 ± 0.06230 [0.2057, 0.4186]
    measured: held-out loss − the chain's, lr 0.03, with QK layer norm (nats)
      torch 2.14.1, seeds 0-9: 0.2156 ± 0.01045 [0.2021, 0.2342]
    measured: held-out loss − the chain's, lr 0.03, without QK layer norm (nats)
      torch 2.14.1, seeds 0-9: 0.2546 ± 0.04765 [0.1968, 0.3738]
    measured: held-out loss − the chain's, lr 0.1, with QK layer norm (nats)
      torch 2.14.1, seeds 0-9: 0.2752 ± 0.02065 [0.2246, 0.2954]
    measured: held-out loss − the chain's, lr 0.1, without QK layer norm (nats)
      torch 2.14.1, seeds 0-9: 0.3362 ± 0.04946 [0.2662, 0.4433]
    measured: held-out loss − the chain's, lr 0.3, with QK layer norm (nats)
      torch 2.14.1, seeds 0-9: 1.163 ± 0.3170 [0.7123, 1.637]
    measured: held-out loss − the chain's, lr 0.3, without QK layer norm (nats)
      torch 2.14.1, seeds 0-9: 1.561 ± 0.03374 [1.512, 1.620]
    measured: at lr 0.3, held-out loss without QK layer norm − with it (nats)
      torch 2.14.1, seeds 0-9: 0.3975 ± 0.3151 [-0.02062, 0.8939]
"""

from readtrack.api import Exercise, declare

readtrack_paper_plugins = declare(
    __name__,
    title="Releasing Persimmon-8B",
    arxiv=None,
    claim="Layer-normed queries and keys bound attention logits: at a high learning rate they stop the "
    "logits' growth and limit, not remove, the damage.",
    exercises=[
        Exercise(
            target="Attention.logits",
            statement="""
                QK layer norm: logits = q̂ k̂ᵀ / √d with q̂ = RoPE(LN_q(q)), k̂ = RoPE(LN_k(k)), each a
                LayerNorm over ONE HEAD's d = self.d_head dimensions (learned scale and shift), applied
                before the partial rotary.

                x: (B, N, D). self.W_qkv(x) is (B, N, 3·D): q, k, v in that order, each split into
                self.n_heads heads of self.d_head (head h is dimensions h·d … (h+1)·d − 1 of its third).
                self.q_norm, self.k_norm are nn.LayerNorm(d), or None when the block is built with
                qk_norm=False (then no norm). partial_rotary(t) rotates the first half of a head's
                dimensions at positions 0 … N−1. Return (logits (B, H, N, N) before the causal mask,
                v (B, H, N, d)); forward() masks, softmaxes and projects.
            """,
            hints=[
                "self.W_qkv(x).view(B, N, 3, H, d).permute(2, 0, 3, 1, 4) gives q, k, v, each (B, H, N, d).",
                "Norm first, rotate second: q, k = self.q_norm(q), self.k_norm(k), then partial_rotary.",
                "The layer norms bound q̂ and k̂, but the logits are still divided by √d: "
                "q @ k.transpose(-2, -1) / math.sqrt(self.d_head).",
            ],
            lines=6,
        )
    ],
)
