"""RoFormer: Enhanced Transformer with Rotary Position Embedding (Su, Lu, Pan, Murtadha, Wen and Liu, arXiv
2104.09864).

Claim: encode a token's absolute position by rotating its query and key, and attention scores come out
depending only on relative positions, with no position added to the content and nothing to learn.

Equations (d even, i = 0 … d/2 − 1, positions m and n):

    θ_i = 10000^(−2i/d)                                            the pair frequencies (eq. 15)
    R(x, m) = x ⊗ cos(mθ) + rotate(x) ⊗ sin(mθ),
              rotate(x) = (−x_1, x_0, −x_3, x_2, …)                the efficient form (eq. 34)
    ⟨R(q, m), R(k, n)⟩ = ⟨q, R(k, n − m)⟩                          the relative property (eq. 16)

``model.py`` implements ``apply_rotary(x, positions, base=10000.0)`` for x (..., N, d) and a causal attention
layer with RoPE or, for comparison, learned absolute position embeddings.

The tiny experiment: the rotation equals the complex-number form x·e^{imθ} and the paper's block-diagonal
rotation matrix (float64 to 3e-13 at worst, ``readtrack run rope --only check``), the relative property holds
to rounding for positions up to 1000 and shifts up to 500, and a RoPE attention layer gives the same logits
when the whole sequence is shifted. Trained on "output the token three steps back" at positions 0…31, a
one-layer RoPE model and the same model with learned absolute positions, each at its own best Adam learning
rate of 3e-3 / 1e-2 / 3e-2 (picked on validation sequences, seed + 2; the quick run trains only the rates the
grid picks there, 3e-2 and 1e-2), both solve the task; shifted to positions 100…131 the RoPE model is
unchanged while the learned-position model falls towards chance, since those table rows never trained. The
quick run (``readtrack run rope --quick``, 300 steps) asserts RoPE's accuracy ≥ 0.95 at both places and a drop
of at least 0.5 for learned positions when shifted; its numbers over seeds are in the calibration at the end
of this page. The full run (600 steps, the whole grid; ``readtrack run rope --only train --seeds 0-2``): both
schemes pick 3e-2 on every seed; RoPE 1.000 at both places, learned positions 1.000 → 0.133, 0.096, 0.077;
every target passes.
A fair echo: the paper's gains on long texts come from exactly this dependence on relative position only.
"""

from readtrack.paper_plugin import Exercise, declare

readtrack_paper_plugins = declare(
    __name__,
    title="RoFormer: Enhanced Transformer with Rotary Position Embedding",
    arxiv="2104.09864",
    claim="Rotating queries and keys by their position makes attention depend on relative position only.",
    exercises=[
        Exercise(
            target="apply_rotary",
            statement="""
                Eq. 34: rotate each pair of coordinates (x_2i, x_2i+1) of x by the angle m·θ_i,
                θ_i = base^(−2i/d), i = 0 … d/2 − 1:

                    R(x, m) = x ⊗ (cos mθ_0, cos mθ_0, cos mθ_1, cos mθ_1, …)
                            + (−x_1, x_0, −x_3, x_2, …) ⊗ (sin mθ_0, sin mθ_0, sin mθ_1, sin mθ_1, …)

                x: (..., N, d) with d even; positions: (N,) or (..., N), the m of each row; returns
                (..., N, d) in x's dtype. The pairs are ADJACENT coordinates (the paper's convention, and
                the complex number x_2i + i·x_2i+1), not the first and second halves of x. rotary_angles
                (above) gives the angles m·θ_i, (..., N, d/2), in float64: cast cos and sin to x's dtype.
                A d that is odd is an error (ValueError).
            """,
            hints=[
                "angles = rotary_angles(positions, d, base); cos and sin of it are (..., N, d/2).",
                "Each angle serves two coordinates: angles.cos().repeat_interleave(2, dim=-1) "
                "is (..., N, d).",
                "x.unflatten(-1, (d // 2, 2)) is (..., N, d/2, 2): the pairs; "
                "stack (−x_1, x_0) and flatten back.",
            ],
            lines=8,
        )
    ],
)
