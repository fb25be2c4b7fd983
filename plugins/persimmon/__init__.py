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

The tiny experiment: squared ReLU, the partial rotary (against complex rotations of the first half, the
second half untouched) and QK-normed attention (against F.layer_norm and SDPA; float64 to ~1e-15, gradients
too) are checked, and so is the bound above on inputs ×1000, which attention without the norms exceeds by far.
Trained on Markov-chain text, models with and without QK layer norm (same weights, same batches) both learn
at usual rates. At lr 0.3 (quick: 1 layer, 150 steps, seeds 0 and 1), the largest attention logit without
the norms reaches 2.6e5 and 3.8e5 against 158 and 285 with them, and the model without them falls back to
about a unigram model (1.53 and 1.58 nats above the chain, against 1.01 and 1.17 with them). The full run
sweeps lr 0.01, 0.03, 0.1 and 0.3 with 2 layers (200 steps, seed 0): without the norms the largest logit
grows with the rate, 59, 65, 7.2e3, 1.3e6, against 19, 43, 80, 390 with them; held-out loss above the chain
0.31, 0.25, 0.34, 1.54 without and 0.24, 0.22, 0.27, 0.81 with. So at usual rates the norms help a little
(0.03–0.07 nats), at the high rate they are the difference between learning and collapsing. A fair echo of
the small-scale proxy of Wortsman et al.: the instability appears in small models at high learning rates,
with the same cause. The bench: the two layer norms cost about nothing at this size (0.98×, 0.96× of the
layer's forward + backward time in the full run).
"""

from readtrack.paper_plugin import declare

readtrack_paper_plugins = declare(
    __name__,
    title="Releasing Persimmon-8B",
    arxiv=None,
    claim="Layer-normed queries and keys bound attention logits, so a high learning rate stays stable.",
)
