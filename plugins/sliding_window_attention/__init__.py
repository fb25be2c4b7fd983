"""Mistral 7B (Jiang, Sablayrolles, Mensch et al., arXiv 2310.06825): sliding window attention.

Claim: attending only the last W tokens in each layer cuts attention's cost from O(N²) to O(N·W) and lets
a fixed-size rolling buffer replace the growing KV cache, while stacked layers still carry information
from further back: after k layers a position can reach k·W tokens (Mistral: W = 4096, 32 layers).

Equations (section 2; positions i and j, window W):

    j is visible from i  ⇔  i − W < j ≤ i       (W keys; the paper's text and code: i − W ≤ j ≤ i)
    Attn(Q, K, V) = softmax(QKᵀ/√d + M) V,   M_ij = 0 if visible, −∞ otherwise
    the cache: keys and values of position i in slot i mod W of a buffer of W entries
    receptive field of L layers: L·(W − 1) + 1 positions (each layer moves information W − 1 back)

``model.py`` implements ``sliding_window_attention(q, k, v, window)``, the ``RollingKVCache`` and a small
multi-layer model. Which W: this mask keeps W keys, i − W < j ≤ i (the query's own position and W − 1 before
it), exactly what the paper's rolling buffer of W entries holds, so decoding from that buffer equals the
masked computation. The paper's text ("positions between i − W and i") and the mask of its reference code
keep W + 1 keys, i − W ≤ j ≤ i, one more than its W-entry buffer can hold; with that mask information
moves W positions per layer and L layers reach L·W + 1 positions, the paper's "k × W" up to one. Here,
with W keys, the exact receptive field is L·(W − 1) + 1, and that is what the check counts.

The tiny experiment: the attention equals PyTorch's fused attention with an independently built band mask
(float64 to ~1e-15, gradients too; ``readtrack run sliding-window-attention --only check``), decoding through
the W-entry rolling buffer equals the full masked computation, and the gradient of the last output reaches
exactly L·(W − 1) + 1 inputs for L = 1, 2, 3. Trained to output the token 6 steps back with W = 4, a one-layer
model cannot (the token is outside its window) and a two-layer model can (targets: two layers ≥ 0.9, one
layer ≤ 0.2, chance 1/16). The full run (400 steps,
``readtrack run sliding-window-attention --only train --seeds 0-2``) gives two layers 1.000 on every seed
against 0.062, 0.068, 0.066 for one layer: every target passes on seeds 0-2. The quick run (160 steps) asks
the same; its numbers over seeds are in the calibration at the end of this page. A fair echo of the paper's
argument that depth, not the window, bounds how far back the model reads.
"""

from readtrack.paper_plugin import Exercise, declare

readtrack_paper_plugins = declare(
    __name__,
    title="Mistral 7B",
    arxiv="2310.06825",
    claim="Attending a window of W per layer costs O(N·W), yet stacked layers still read L·(W − 1) + 1 back.",
    exercises=[
        Exercise(
            target="sliding_window_attention",
            statement="""
                softmax(QKᵀ/√d + M)·V where position i sees key j exactly when i − W < j ≤ i: the last W
                positions, itself included (W keys: what a W-entry rolling buffer holds; the paper's mask,
                i − W ≤ j ≤ i, keeps W + 1 and this plugin's convention is W).

                q, k, v: (..., N, d); window: W ≥ 1 (else ValueError); returns (..., N, d). Any exact
                computation passes the check; the model solution is O(N·W): queries in chunks of W, each
                chunk against the 2W keys it can see (chunks c − 1 and c), never the N×N matrix.
            """,
            hints=[
                "Start with the N×N version: i = arange(N)[:, None], j = arange(N)[None, :], "
                "visible = (j <= i) & (j > i - W).",
                "Masked scores are −inf; every row keeps its own position, so no row is all −inf.",
                "For O(N·W): pad N to a multiple of W, F.pad keys by W in front, and k.unfold(-2, 2 * W, W).",
            ],
            lines=20,
            references=["torch.nn.functional.scaled_dot_product_attention"],
        )
    ],
)
