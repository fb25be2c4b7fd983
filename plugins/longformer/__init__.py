"""Longformer: The Long-Document Transformer (Beltagy, Peters and Cohan, arXiv 2004.05150).

Claim: attention that is local (a sliding window of ±w around each token) plus global (a few task-chosen
positions, such as [CLS] for classification, that attend and are attended by all) scales linearly with the
sequence length, yet lets a model use the whole document; global attention uses its own projections.

Equations (section 3.1; window ±w, global positions G, head dimension d):

    local row i:    Attn_i = softmax_j∈W(i)∪G (q_i k_jᵀ / √d) v_j,  W(i) = {j : |i − j| ≤ w}  (Q_s, K_s, V_s)
    global row i:   Attn_i = softmax_j (q^g_i k^g_jᵀ / √d) v^g_j    over every j         (Q_g, K_g, V_g)
    cost:           O(N·(2w + 1 + |G|)) scores instead of N²

``model.py`` implements ``longformer_attention(q, k, v, window, global_mask=None, global_qkv=None)``,
computed by unfolding each query's window of keys (never the N×N matrix), the global keys as a small extra
block and the global rows as |G| dense rows; and a small classifier whose [CLS] is global.

The tiny experiment: the chunked attention equals SDPA given the dense band-plus-global mask (float64 to
2.2e-15, gradients too, ``readtrack run longformer --only check``; lengths that are no multiple of the window,
a window wider than the sequence, rows with several, one or no global positions), an output depends exactly on
its window and the global positions (its Jacobian), and the saved activations grow ×4.0 from N = 512 to 2048
against ×14.6 for the dense mask. On 64-token sequences whose label is "does token 7 occur anywhere", read out
at [CLS], two layers with a window of ±4 let [CLS] see 8 positions. Measured (``readtrack run longformer
--device cpu``, seed 0, 400 steps): with global attention on [CLS] the model gets all 1,024 held-out sequences
right; with the window only it gets 0.55, and 0.00 of the positives whose 7 lies beyond its reach: it cannot
do better than knowing the first 8 positions (≈ 0.56); seeds 1 and 2 give 1.00 against 0.49 and 0.58
(``readtrack run longformer --only train --seeds 0-2``; 0.58 is above 0.56 by about 1.6 standard errors of
1,024 sequences, and seed 1's window-only model answers "yes" to almost everything, so it gets the far
positives right and 0.49 overall); both targets pass on seeds 0-2. The quick run (80 steps; ``readtrack run
longformer --quick``) has its numbers over seeds in the calibration at the end of this page. The targets are
the global model's accuracy (≥ 0.95) and its accuracy on those far positives (≥ 0.9): both fail with [CLS]
local (the can-fail test); the window-only accuracy is reported, not asserted, as its bound holds by
construction. This is the paper's reason for global [CLS] on classification, at the scale where the reach is
exactly countable.
"""

from readtrack.paper_plugin import Exercise, declare

readtrack_paper_plugins = declare(
    __name__,
    title="Longformer: The Long-Document Transformer",
    arxiv="2004.05150",
    claim="Windowed attention plus a few global positions costs O(N·w) yet lets [CLS] read the whole input.",
    exercises=[
        Exercise(
            target="chunk_window_mask",
            statement="""
                The sliding window in "sliding chunks" form (section 3.1): position i attends key j when
                |i − j| ≤ w (both ends included, w = `window`). The N queries are cut into n_chunks chunks
                of c ≥ w positions (the last one padded); chunk b's queries are scored only against the 3c
                keys of chunks b − 1, b and b + 1, which hold every key within ±w of them, so memory is
                O(N·3c), never N × N.

                Query r of chunk b is position i = b·c + r; key t of its three chunks is position
                j = (b − 1)·c + t, t = 0 … 3c − 1 (chunk b − 1 first). Return an (n_chunks, c, 3c) bool
                tensor on `device`, True where query r of chunk b may attend key t: within the window AND a
                real position, 0 ≤ j < N (keys before the first chunk and after the last are zero padding,
                and so are padded positions of the last chunk). longformer_attention fills the scores with
                −∞ where it is False; the check compares with SDPA under the dense band mask.
            """,
            hints=[
                "Build i as (n_chunks, c, 1) and j as (n_chunks, 1, 3c) and let them broadcast.",
                "i = torch.arange(n_chunks * c).view(n_chunks, c, 1); "
                "j = (torch.arange(n_chunks) * c - c).view(n_chunks, 1, 1) + torch.arange(3 * c).",
                "((i - j).abs() <= window) & (j >= 0) & (j < N): ≤, not <, and the padding masked.",
            ],
            lines=3,
        )
    ],
)
