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
keeps it on 16-segment streams after training on 4, while the same model without memory stays at chance
(targets: with memory ≥ 0.95, without ≤ 0.15, chance 1/16). The full run (400 steps,
``readtrack run transformer-xl --only train --seeds 0-2``) gives 1.000 with memory on every seed against
0.065, 0.061, 0.061 without: both targets pass on seeds 0-2. The quick run (150 steps) asks the same; its
numbers over seeds are in the calibration at the end of this page. A fair echo: the paper's gains come from
context that crosses segment boundaries, which is all this task asks for.
"""

from readtrack.paper_plugin import Exercise, declare

readtrack_paper_plugins = declare(
    __name__,
    title="Transformer-XL: Attentive Language Models Beyond a Fixed-Length Context",
    arxiv="1901.02860",
    claim="Reusing the previous segment's states, with relative positions, extends context past the segment.",
    exercises=[
        Exercise(
            target="RelativeAttention.scores",
            statement="""
                Section 3.3's relative attention score of query i and key j, over [memory; segment]:

                    A_ij = ((q_i + u)ᵀ k_j + (q_i + v)ᵀ W_k,R R_{i−j}) / √d_head
                    h̃ = [m ∘ h],  q = h W_q,  k = h̃ W_k,E,  values = h̃ W_v

                h: the segment (B, L, D); memory: (B, M, D) or None (M = 0); P = M + L keys. Query i (of
                the segment) sits at position M + i of h̃, so its distance to key j is M + i − j, and it
                sees keys j ≤ i + M (the others get −∞). self.W_qkv projects to [q | k | v] (3D columns: q
                from h only, k and v from h̃); heads split D into self.n_heads × self.d_head. R is
                sinusoid(distances, D) cast to h.dtype, projected by self.W_r (W_k,R); self.u and self.v
                are (H, d_head). Compute the position term for the P distances P − 1 … 0 at once, a
                (B, H, L, P) matrix, and move it into (query, key) order with rel_shift (in model.py).
                Returns (the masked scores (B, H, L, P), the values (B, H, P, d_head)).
            """,
            hints=[
                "q, k, v to (B, H, ·, d_head) with .view(B, -1, H, d_head).transpose(1, 2); "
                "r = self.W_r(R).view(P, H, d_head).transpose(0, 1), (H, P, d_head).",
                "u goes with the content term, v with the position term: AC = (q + self.u[:, None]) @ kᵀ, "
                "BD = rel_shift((q + self.v[:, None]) @ rᵀ).",
                "The distances must run P − 1 … 0 (torch.arange(P - 1, -1, -1)): rel_shift expects column "
                "c to hold distance P − 1 − c. Mask with j > i + (P - L).",
            ],
            lines=15,
        ),
        Exercise(
            target="rel_shift",
            statement="""
                The relative shift: x (..., L, P) holds in row i, column c the score of query i with
                distance P − 1 − c; return (..., L, P) with out[..., i, j] = x[..., i, j + L − 1 − i]
                wherever key j is visible from query i (j ≤ i + P − L); the other entries may hold
                anything (the caller masks them). Do it without a gather: pad one column of zeros on the
                left, view the (L, P + 1) block as (P + 1, L), drop a row, view it back as (L, P).
            """,
            hints=[
                "padded = torch.cat([x.new_zeros(*lead, L, 1), x], dim=-1), shape (..., L, P + 1).",
                "padded.view(*lead, P + 1, L): the first row is the pad and part of row 0; drop it.",
                "return padded.view(*lead, P + 1, L)[..., 1:, :].reshape(*lead, L, P).",
            ],
            lines=3,
        ),
    ],
)
