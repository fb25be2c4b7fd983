"""Leave No Context Behind: Efficient Infinite Context Transformers with Infini-attention (Munkhdalai,
Faruqui and Gopal, arXiv 2404.07143).

Claim: adding a compressive memory to each attention layer, a fixed-size linear-attention matrix per head
that every past segment is folded into and that the current segment reads from, lets a Transformer that
reads segment by segment use context of any length with bounded memory and compute; a learnt gate per head
mixes what the memory returns with ordinary local attention, and a model trained on short inputs finds a
passkey in far longer ones (1M tokens in the paper, after fine-tuning on 5K).

Equations (section 3.1; segment s of N tokens, σ = ELU + 1, M_0 = 0, z_0 = 0):

    A_dot = softmax(Q Kᵀ / √d_k) V, causal within the segment                          (2)
    A_mem = σ(Q) M_{s−1} / σ(Q) z_{s−1}        read before the segment is stored       (3)
    M_s = M_{s−1} + σ(K)ᵀ V,   z_s = z_{s−1} + Σ_t σ(K_t)                 linear        (4)
    M_s = M_{s−1} + σ(K)ᵀ (V − σ(K) M_{s−1} / σ(K) z_{s−1})               delta rule    (5)
    A = sigmoid(β) ⊙ A_mem + (1 − sigmoid(β)) ⊙ A_dot,   O = [A¹; …; A^H] W_O          (6), (7)

``model.py`` implements them with the same Q, K, V for memory and local attention; M is d_k × d_v and z is
d_k per head, whatever the length read. The first segment retrieves 0 (the 0/0 of an empty memory).

The tiny experiment: the memory's retrieval equals linear attention written out over every earlier segment's
keys and values, the delta rule equals a token-by-token version, local attention equals SDPA's (float64 to
2.7e-15, float32 to 9.5e-7, gradients too; ``readtrack run infini-attention --only check``), nothing depends
on a later token, and the memory's size does not grow with the segments. On a passkey task (``KEY k`` in the
first of 4 segments of 8 tokens, filler after, ``ASK`` at the end) a 1-layer model with the memory answers
held-out streams, and still does on streams of 16 segments, 4× the training length, while the same model with
the gate forced to local attention stays at chance (1/16): the quick run, ``readtrack run infini-attention
--quick``, 120 steps at lr 1e-2, whose numbers over seeds (32 segments too) are in the calibration at the end
of this page. The targets are the memory model's accuracy at 4 and 16 segments (≥ 0.95), which fail with the
memory switched off (the can-fail test); the memoryless model's accuracy is reported, not asserted, as it is
at chance by construction. From full runs (300 steps, each variant's rate from 3e-3, 1e-2 on validation
streams; ``readtrack run infini-attention --only train --seeds 0-2``): both targets pass on seeds 0-2 (1.00 at
4 and 16 segments), 32 segments 1.00 / 1.00 / 0.95; the delta-rule memory reaches 1.00 at 4 segments too, 1.00
/ 0.98 / 0.93 at 16 and 1.00 / 0.84 / 0.92 at 32, and needs more steps to start learning (seed 0's loss curves
at lr 1e-2: the delta rule still at chance at step 170, where the linear update is done by 100). A fair
small-scale echo of the paper's passkey retrieval: the answer lies only in an earlier segment, so only the
memory can carry it, and nothing but the memory is switched off. Scale differs: the paper fine-tunes an LLM;
here the passkeys are their own tokens, so no position encodings are needed to spot them. The bench shows the
cost: a training step of full causal attention grows about quadratically with the length (×7, then ×13 per 4×,
one full CPU run's bench stage; timings vary from run to run), Infini-attention's linearly (×4.3, ×4.6); what
stays constant is the state kept for decoding (M and z per head, plus one segment's keys and values), not the
training activations, which the written-out local attention here keeps as T·N scores where SDPA's fused kernel
keeps O(T).
"""

from readtrack.paper_plugin import Exercise, declare

readtrack_paper_plugins = declare(
    __name__,
    title="Leave No Context Behind: Efficient Infinite Context Transformers with Infini-attention",
    arxiv="2404.07143",
    claim="A fixed-size compressive memory per head, gated with local attention, reaches past the segment.",
    exercises=[
        Exercise(
            target="compressive_memory",
            statement="""
                The compressive memory read over a stream cut into segments of N = `segment` tokens
                (section 3.1): segment s first RETRIEVES from the memory of the segments before it, then
                STORES its own keys and values:

                    A_mem,s = σ(Q_s) M_{s−1} / σ(Q_s) z_{s−1}                            (eq. 3)
                    (M_s, z_s) = update(σ(K_s), V_s, (M_{s−1}, z_{s−1}), delta)         (eq. 4 or 5)

                σ = ELU + 1 is sigma(); retrieve(σ(Q), M, z) computes eq. 3 (0 from an empty memory);
                update(σ(K), V, (M, z), delta) returns the next (M, z); empty_memory(q, d_v) is (M_0, z_0)
                = (0, 0). q, k: (B, H, T, d_k); v: (B, H, T, d_v); T need not be a multiple of N (the last
                segment is shorter). memory: (M, z), (B, H, d_k, d_v) and (B, H, d_k), or None for an empty
                one. Return (A_mem for every position, (B, H, T, d_v); the memory after the last segment).
                The check compares with explicit linear attention over the earlier segments only.
            """,
            hints=[
                "t.split(segment, dim=-2) cuts a (B, H, T, d) tensor into segments; zip q's, k's and v's.",
                "Order matters: retrieve with the memory as it was BEFORE the segment, so that no token "
                "reads its own segment's keys through the memory (the local attention does that).",
                "In the loop: out.append(retrieve(sigma(q_s), *memory)); then memory = "
                "update(sigma(k_s), v_s, memory, delta); return torch.cat(out, dim=-2), memory.",
            ],
            lines=6,
        ),
        Exercise(
            target="update",
            statement="""
                Storing one segment in the memory (eq. 4, linear, and eq. 5, the delta rule):

                    M_s = M_{s−1} + σ(K)ᵀ V                                            (eq. 4)
                    M_s = M_{s−1} + σ(K)ᵀ (V − σ(K) M_{s−1} / σ(K) z_{s−1})            (eq. 5)
                    z_s = z_{s−1} + Σ_t σ(K_t)                                          (both)

                The delta rule stores only what the memory does not already return for these keys: the
                subtracted term is eq. 3's retrieval with σ(K) as the queries, normalised by σ(K) z.
                sk: σ(K) of the segment, (B, H, N, d_k); v: (B, H, N, d_v); memory: (M, z), (B, H, d_k,
                d_v) and (B, H, d_k); delta: which rule. Return the new (M, z), same shapes. retrieve
                (above) gives σ(K) M / σ(K) z, 0 for an empty memory.
            """,
            hints=[
                "σ(K)ᵀ V is sk.transpose(-2, -1) @ v: (B, H, d_k, d_v), summed over the N tokens.",
                "The normaliser of eq. 5 is the same as eq. 3's: v - retrieve(sk, M, z), not v - sk @ M.",
                "z gains sk.sum(dim=-2) in both rules.",
            ],
            lines=5,
        ),
    ],
)
