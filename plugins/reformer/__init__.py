"""Reformer: The Efficient Transformer (Kitaev, Kaiser and Levskaya, arXiv 2001.04451).

Claim: attention needs only the keys close to each query, which locality-sensitive hashing finds in
O(N log N) instead of comparing all N² pairs; and reversible residual layers make activation memory
independent of depth. Together they let a transformer read very long sequences on one accelerator.

Equations (section 2, shared QK: k_j = q_j / ‖q_j‖; section 3):

    hash            h(x) = argmax([xR; −xR]),  R a random d × b/2 rotation
    LSH attention   o_i = Σ_{j ∈ P_i} exp(q_i·k_j/√d − log c_ij − z_i) v_j
                    P_i = keys of i's bucket in its chunk or the chunk before, in any of n_rounds hashes;
                    c_ij the number of rounds that bring i and j together; i attends itself only if alone
    reversible      y1 = x1 + F(x2),  y2 = x2 + G(y1);   x2 = y2 − G(y1),  x1 = y1 − F(x2)

``model.py`` implements ``lsh_attention(qk, v, rotations, chunk, causal=False)`` (each round sorted by
bucket, m × 2m score blocks, rounds merged by their log-sum-exps), ``full_attention`` (every pair, the
same self-masking), ``LSHSelfAttention`` and the reversible stack ``reversible(x1, x2, layers)``, whose
backward rebuilds each layer's inputs from its outputs instead of storing them.

The tiny experiment: LSH attention equals a brute-force version of the paper's definition (float64 to
~1e-15, gradients too; lengths that are no multiple of the chunk, causal or not, 1 to 4 rounds), and with
one bucket and a chunk ≥ N it is full attention (``readtrack run reformer --only check``). Measured with
``readtrack run reformer --only train --seeds 0-2`` (seed 0; seeds 1 and 2 at the end of the second item):

- On 1,024 clustered vectors with peaked attention (32 buckets, chunks of 32), the pairs LSH attention
  compares hold 0.24 / 0.41 / 0.57 / 0.72 of each query's full-attention mass with 1 / 2 / 4 / 8 rounds,
  while they are 3.4 / 5.8 / 10.8 / 18.7 % of all pairs (random pairs would hold that share of the mass).
- The paper's duplication task (0 w 0 w, its table 2), 32 tokens: a 2-layer model trained with full attention
  copies the second w perfectly (1.00); evaluated with LSH attention (8 buckets, chunks of 4) it gets 0.77
  with one round, 0.99 with two, 1.00 with four and eight, the paper's "full attention, evaluated with LSH-n"
  row in small. The quick run (``readtrack run reformer --quick``, 120 training steps) evaluates 256 sequences
  with LSH-1 and LSH-8 only; its numbers over seeds, the clustered vectors' too, are in the calibration at the
  end of this page. The full run on seeds 1 and 2: copying 1.00 with full attention, 0.77 / 0.88 with LSH-1,
  0.97 / 0.98 with LSH-2, 1.00 with LSH-8; 0.22 / 0.22 of the mass with 1 round, 0.75 / 0.71 with 8; every
  target passes on seeds 0-2. The targets fail when hashing ignores the vectors (every rotation 0: the
  can-fail test).
- The reversible stack equals the residual equations in outputs and every gradient, rebuilds its inputs
  from its outputs, and stores 128 KiB for backward at depth 2, 4 and 8, where plain autograd stores
  1.5, 3.0 and 6.1 MiB (the check stage). The price is the recomputation: backward runs each layer again.

What did not show at this scale: speed from LSH with many rounds. On 2 CPU cores at N = 4096, two rounds
are about 5× faster than full attention and use a quarter of its memory, but eight rounds are slower than
full attention; the sorting, gathers and duplicate counting (which grows with rounds²) cost more than the
N² dot products they avoid until N is much longer.
"""

from readtrack.paper_plugin import Exercise, declare

readtrack_paper_plugins = declare(
    __name__,
    title="Reformer: The Efficient Transformer",
    arxiv="2001.04451",
    claim="LSH attention finds a query's near keys in O(N log N); reversible layers free memory from depth.",
    exercises=[
        Exercise(
            target="lsh_buckets",
            statement="""
                Section 2, angular LSH: a random rotation R of shape (d, b/2) hashes a vector x into one
                of b buckets, h(x) = argmax([xR; −xR]): the b/2 projections and their negations
                concatenated (bucket k < b/2 when projection k is the largest positive one, b/2 + k when
                −projection k is the largest), so that nearby directions tend to share a bucket.

                x: (B, H, N, d), the shared queries/keys; rotations: (R, d, b/2), one rotation per hash
                round. Returns long bucket ids (B, H, R, N) in 0 … b − 1, round r hashed with
                rotations[r]. With one bucket (b/2 = 0, rotations (R, d, 0)) every position is in bucket
                0. lsh_attention sorts by these buckets; the check compares it with a brute-force
                definition that hashes on its own.
            """,
            hints=[
                "torch.einsum('bhnd,rdk->bhrnk', x, rotations) projects every round at once: "
                "(B, H, R, N, b/2).",
                "Concatenate the projections with their negations along the last dim before the argmax: "
                "b values, not b/2.",
                "One bucket (rotations.shape[-1] == 0): "
                "torch.zeros(B, H, R, N, dtype=torch.long, device=x.device).",
            ],
            lines=6,
        )
    ],
)
