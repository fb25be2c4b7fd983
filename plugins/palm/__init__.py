"""PaLM: Scaling Language Modeling with Pathways (Chowdhery, Narang, Devlin et al., arXiv 2204.02311).

Claim (section 2, "Model Architecture"): a decoder-only Transformer trains faster and decodes cheaper with
six changes to the standard block, at no cost in quality at scale: SwiGLU MLPs, "parallel" layers (the
attention and the MLP read the same layer norm and are summed, so their input projections fuse into one
matmul: ~15% faster training at large scale, "small degradation in quality at 8B scale but no degradation
at 62B"), multi-query attention (one key/value head: "a neutral effect on model quality and training speed"
but a much smaller cache when decoding), RoPE, shared input and output embeddings, and no biases.

Equations (LN is layer norm without bias; H query heads of size d; E the embedding matrix):

    serial:     x' = x + Attention(LN(x)),  y = x' + MLP(LN(x'))   the standard pre-LN block, for the A/B
                (the paper writes y = x + MLP(LN(x + Attention(LN(x)))), leaving out the attention's
                residual; the code, like every standard block, keeps it)
    parallel:   y = x + MLP(LN(x)) + Attention(LN(x))           PaLM
    SwiGLU:     MLP(x) = (Swish(x W) ⊙ x V) W₂,  Swish(z) = z·sigmoid(z)
    MQA:        head_h = softmax(Q_h Kᵀ / √d) V,  with one K and one V for all h    (cache 1/H of MHA's)
    output:     logits = LN(h) Eᵀ

``model.py`` implements ``PaLMBlock`` (``serial=True`` for the standard block with the same weights),
``multi_query_attention``, ``swiglu``, ``rotary`` and the small ``PaLM`` model. One departure: E starts as
N(0, 1/D), not the paper's N(0, 1). With tied weights, unit-variance embeddings dominate a small model's
residual stream, so each token's own logit starts near √D, a prior a small model must first unlearn.

The tiny experiment: every change is checked against a reference written separately (SwiGLU written out, RoPE
as complex rotations, multi-query attention as SDPA over one key/value head, whole blocks from their weights
in separate matmuls; float64 to ≤ 1e-14, gradients too: ``readtrack run palm --only check``), the model has no
bias, one embedding matrix, and no path from a later token (its Jacobian), and the MQA cache is exactly 1/H of
multi-head attention's. Trained on Markov-chain text with a known entropy rate, 2-layer parallel and serial
models (same initial weights, same batches) both learn the chain, each at its own best Adam learning rate of
3e-3 / 1e-2 / 3e-2, picked on validation text (seed + 2) apart from the held-out text (seed + 1) that is
reported. Full runs (d_model 64, 600 steps, the whole grid; ``readtrack run palm --only train --seeds 0-2``):
both block types pick 3e-3 on every seed; parallel − serial held-out loss +0.003, +0.011 and +0.019 nats
(target ≤ 0.05), the worse model 0.094, 0.087 and 0.099 above the chain's own loss (target 0.15): near parity,
both targets pass. The quick run (d_model 32, 300 steps, ``readtrack run palm --quick``) trains only the rate
the grid picks there for both block types on seeds 0-4, 1e-2 (``--impl grid`` runs the whole grid), and allows
more: parallel − serial ≤ 0.1 nats, the worse model ≤ 0.3 above the chain, as the parallel block lags more
early, on a narrower model; its numbers over seeds are in the calibration at the end of this page. The paper
saw the same pattern by scale (a small degradation at 8B, none at 62B). A 1-layer parallel model is
structurally weaker (its MLP cannot read what attention gathered in the same layer), so the A/B uses 2 layers.
The bench times one block's forward + backward, serial against parallel with its fused input projection: on a
2-core CPU they cost the same (parallel 1.00× and 1.04× of serial's time at d_model 256 and 512, full run), so
the paper's ~15% is not reproduced here and not asserted: it comes from fewer, larger matmuls on accelerators
at scale. The report gives the multi-query cache against multi-head attention's.
"""

from readtrack.paper_plugin import Exercise, declare

readtrack_paper_plugins = declare(
    __name__,
    title="PaLM: Scaling Language Modeling with Pathways",
    arxiv="2204.02311",
    claim="Parallel SwiGLU blocks with multi-query attention train nearly as well as serial ones, for less.",
    exercises=[
        Exercise(
            target="PaLMBlock.forward",
            statement="""
                Section 2, "Parallel Layers": the PaLM block (self.serial False) is

                    y = x + Attention(LN(x)) + MLP(LN(x))

                one layer norm (self.norm) read by both sublayers, so their input projections are one
                fused matmul, self.W_in(LN(x)), split by self.splits into q (D), k (d_head), v (d_head),
                a (d_ff) and b (d_ff). The standard serial block (self.serial True) uses the same
                weights as two matmuls, and its second layer norm self.norm_mlp:

                    x' = x + Attention(LN(x)),   y = x' + MLP(LN_mlp(x'))

                (the paper's own formula for it, x + MLP(LN(x + Attention(LN(x)))), drops the attention
                residual: keep it). For the serial block the first D + 2·d_head rows of self.W_in.weight
                are the attention's and the last 2·d_ff the MLP's.

                x: (B, N, D) → (B, N, D). self.attention(q, k, v) (RoPE, multi-query causal attention and
                W_o) and self.mlp(a, b) (SwiGLU, W_2) are given.
            """,
            hints=[
                "Parallel: q, k, v, a, b = self.W_in(self.norm(x)).split(self.splits, dim=-1), then "
                "x + self.attention(q, k, v) + self.mlp(a, b).",
                "Serial: W_attn, W_mlp = self.W_in.weight.split((D + 2 * d_head, 2 * self.d_ff)); "
                "F.linear(h, W_attn) gives q, k, v.",
                "Serial: the MLP reads self.norm_mlp(x') where x' = x + attention, and y = x' + mlp, "
                "not x + mlp.",
            ],
            lines=10,
        )
    ],
)
