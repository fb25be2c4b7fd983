"""MEGABYTE: Predicting Million-byte Sequences with Multiscale Transformers (Yu, Simig, Flaherty,
Aghajanyan, Zettlemoyer and Lewis, arXiv 2305.07185).

Claim: cut a byte sequence into patches of P bytes; a large global transformer runs over the patches and a
small local transformer predicts the bytes within each patch. Attention then costs O((T/P)² + T·P) instead
of O(T²), the global feedforward layers run once per patch instead of once per byte, and the model still
predicts every byte autoregressively, competitive with a flat byte-level transformer for far less compute.

Equations (section 2.2; K = T/P patches, D_G the global embedding per byte, so the global model is P·D_G
wide):

    h^embed_t = E^global-embed_(x_t) + E^pos_t                                                (eq. 1)
    h^global-in_k = E^global-pad if k = 0, else h^embed_((k−1)P : kP) concatenated             (eq. 2)
    h^global-out_0:K = transformer^global(h^global-in_0:K)                                      (eq. 3)
    h^local-in_k,p = w^GL h^global-out_(k, pD_G : (p+1)D_G) + (E^local-pad if p = 0,
                     else E^local-embed_(x_(kP+p−1)))                                           (eq. 4)
    h^local-out_k,0:P = transformer^local(h^local-in_k,0:P)                                     (eq. 5)
    p(x_t | x_0:t) = softmax(E^local-embed h^local-out_k,p)_(x_t),  t = kP + p                 (eq. 6)
    FLOPs per byte ≈ m_G·24·D²/P + m_L·24·d_L² (+ attention) for the two models (section 3), against
    m·24·d² for a flat model of width d: with D = d the global model costs 1/P of the flat one.

``model.py`` implements eqs. 1-6 (``Megabyte``; a sequence whose length is no multiple of P is padded at the
end and the padding's logits dropped) and the flat baseline (``Flat``, the same pre-LN decoder over bytes).

The tiny experiment. check: the two offsets (eq. 2's one patch, eq. 4's one byte, with their pads) equal loops
written patch by patch and byte by byte, bit for bit; the whole model equals a reference built from those
loops and PyTorch's ``nn.TransformerEncoderLayer`` with copied weights, forward and every gradient
(``readtrack run megabyte --only check``: float64 ≤ 1.2e-15 logits and 8.1e-15 gradients; float32 ≤ 3.6e-7 and
1.4e-6), T = 1, 3, 8, 13 with P = 4; padding changes no real prediction; the Jacobian shows the prediction of
byte t+1 depends on every byte ≤ t and on no later one; the analytic matmul FLOPs of both models equal
``FlopCounterMode``'s count exactly (attention is written out: the counter sees no FLOPs in SDPA on the CPU).
train: an order-2 Markov chain over 16 byte values (sequences of 32, ``plugin_kit.tasks.MarkovText``, whose
exact entropy floor is 1.192 nats); MEGABYTE with P = 4, the global model 64 wide (D_G = 16) with 2 layers,
the local model 32 wide with 1 layer, against the flat decoder 64 wide with 2 layers: the same width as the
global model. MEGABYTE costs 0.36 of the flat model's forward FLOPs per sequence (2.47 M vs 6.88 M). Each
model used its best Adam learning rate of 1e-3, 3e-3, 1e-2 at 600 steps (3e-3 for both).

Measured with ``readtrack run megabyte --device cpu`` (seed 0): the flat model, 600 steps of 32 sequences,
ends 0.104 nats above the floor; MEGABYTE, given twice the steps (1,200, the same batches first, 0.72 of the
flat model's training FLOPs) ends 0.174 above: 0.070 nats behind, within the 0.1 of the target, for less
compute. At equal steps it is not close: after 600 steps MEGABYTE is 0.317 above the floor, 0.21 behind, so
per update the multiscale model learns this chain more slowly, and it is the lower cost per step that pays for
the difference (the paper compares at equal compute, table 2). Seeds 1 and 2 (``readtrack run megabyte --only
train --seeds 1-2``): the flat model 0.103 / 0.106 above the floor, MEGABYTE 0.550 / 0.169 (0.733 / 0.293 at
equal steps), so the target (MEGABYTE at most 0.1 nats behind) passes on seeds 0 (0.070) and 2 (0.063) and
FAILS on seed 1 (0.447): there MEGABYTE's training loss was still on a plateau of about 1.8-1.9 nats at step
1,200, where seed 2's had reached 1.4. The quick run (100 flat steps, 200 MEGABYTE steps) is early in training
for both: 1.18 and 0.95 nats above the floor on seed 0, MEGABYTE ahead on every seed 0-4 (flat 1.17-1.26,
MEGABYTE 0.82-1.12; ``readtrack run megabyte --quick --seeds 0-4``). The FLOP ratio is reported, not asserted
(a ratio of two configurations is arithmetic; the check asserts both counts). The bench (forward + backward, 4
sequences; T = 256 and 512 in the run, 1024 measured once with the same code) shows the growth: flat 0.15 s at
T = 256 and 4.2 s at T = 1024 (its T² attention), MEGABYTE 0.05 s and 0.21 s, on a shared machine. A fair echo
at toy scale of the paper's mechanism, not of its results on million-byte sequences: at T = 32 the saving
comes from the global model running once per patch, the attention term being small.
"""

from readtrack.paper_plugin import declare

readtrack_paper_plugins = declare(
    __name__,
    title="MEGABYTE: Predicting Million-byte Sequences with Multiscale Transformers",
    arxiv="2305.07185",
    claim="A global model over patches and a small local model within each predict bytes for fewer FLOPs.",
)
