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
the norms exceeds by far. Then small language models with and without QK layer norm (same weights, same
batches) are trained on Markov-chain text whose entropy rate is known, at a usual and at a high learning rate.
The targets are the mechanism: at the high rate the largest attention logit grows ≥ 100 times larger without
the norms than with them; at the usual rate both variants learn. With the norms replaced by the identity the
logit target fails (``tests/plugins/test_persimmon.py``). What the bounded logits do for the loss is reported,
not asserted, because it does not hold on every seed.

The quick run, ``readtrack run persimmon --quick`` (1 layer, 120 AdamW steps, lr 0.03 and 0.3), asserts the
same two targets: at lr 0.03 both variants end ≤ 0.8 nats above the chain, and at lr 0.3 the largest logit
without the norms is ≥ 100 times the one with them; the held-out loss at lr 0.3 without the norms minus with
them is measured. Its numbers over seeds are in the calibration at the end of this page.

The full run, ``readtrack run persimmon --only train --seeds 0-2`` (2 layers, 200 steps, lr 0.01, 0.03, 0.1,
0.3): without the norms the largest logit grows with the rate, 59, 64, 7.7e3, 4.5e5 (seed 0; seeds 1 and 2
alike, up to 1.0e6 at lr 0.3) against 19, 43, 80, 332 with them. Held-out loss above the chain at lr 0.01,
0.03, 0.1 is 0.20-0.33 for both, the two within 0.08 nats of each other, either ahead. At lr 0.3 it is 1.53,
1.57, 1.54 without the norms and 0.87, 1.59, 1.11 with them (seeds 0-2): on seed 1 the model with the norms
collapses to a unigram model too, though its largest logit is only 19.9 (against 1.0e6 without). The norms
remove one cause of divergence, the growth of attention logits, not every one: less harm on two seeds of
three, not learning against collapsing. Both targets (at lr 0.01 both learn; the logit ratio at lr 0.3 ≥ 100)
pass on seeds 0-2.

A fair echo of the small-scale proxy of Wortsman et al.: the logit growth appears in small models at high
learning rates, with the same cause, and QK layer norm stops it.
"""

from readtrack.paper_plugin import Exercise, declare

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
