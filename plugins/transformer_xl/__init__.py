"""Transformer-XL: Attentive Language Models Beyond a Fixed-Length Context (Dai, Yang, Yang, Carbonell,
Le and Salakhutdinov, arXiv 1901.02860).

Claim: caching each layer's hidden states from the previous segment (segment-level recurrence) lets a
Transformer use context beyond its segment length, and it only works with relative positional encodings,
which stay coherent when states are reused; evaluation can then run on longer contexts than training. (The
plugin has relative encodings only: it does not test the second part, absolute encodings with memory.)

Equations (section 3.2 and 3.3; segment τ, memory m, SG = stop gradient, ∘ = concatenation in length):

    h̃^{n−1}_τ = [SG(h^{n−1}_{τ−1}) ∘ h^{n−1}_τ]
    q = h^{n−1}_τ W_q,   k = h̃^{n−1}_τ W_k,E,   v = h̃^{n−1}_τ W_v
    A^rel_ij = q_iᵀ k_j + q_iᵀ W_k,R R_{i−j} + uᵀ k_j + vᵀ W_k,R R_{i−j}          terms (a), (b), (c), (d)

``model.py`` computes (a) + (c) as (q_i + u)ᵀ k_j and (b) + (d) as (q_i + v)ᵀ W_k,R R_{i−j}, the latter for
every distance at once and put in (query, key) order by the relative shift, as the paper's code does.

The tiny experiment: the relative shift equals gathering each pair's distance, the attention layer equals a
per-pair version written separately, its sinusoid R_{i−j} too (float64 to ~2e-16, gradients to ~2e-15:
``readtrack run transformer-xl --only check``; R is built in float64, so a float64 layer gets float64
positions), and reading two segments with memory equals one causal pass over both. Each target is the token
one segment back, so it always lies in the previous segment: a 1-layer model with memory learns the task and
keeps it on 16-segment streams after training on 4, while the same model without memory stays at chance:
``readtrack run transformer-xl --quick --seeds 0-4`` (150 steps) gives 1.000 with memory on every seed against
0.066, 0.064, 0.063, 0.062, 0.061 without (chance 1/16), and the full run (400 steps,
``readtrack run transformer-xl --only train --seeds 0-2``) 1.000 against 0.065, 0.061, 0.061: both targets
pass on every seed. A fair echo: the paper's gains come from context that crosses segment boundaries, which is
all this task asks for.
"""

from readtrack.paper_plugin import declare

readtrack_paper_plugins = declare(
    __name__,
    title="Transformer-XL: Attentive Language Models Beyond a Fixed-Length Context",
    arxiv="1901.02860",
    claim="Reusing the previous segment's states, with relative positions, extends context past the segment.",
)
