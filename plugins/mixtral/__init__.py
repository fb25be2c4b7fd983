"""Mixtral of Experts (Jiang, Sablayrolles, Roux et al., arXiv 2401.04088).

Claim: replacing each feed-forward block by 8 experts of which a router picks 2 per token gives a model
with the quality of a much larger dense one at the inference cost of its active parameters only
(Mixtral: 47B parameters, 13B active per token).

Equations (section 2.1; n experts, K = 2):

    G(x) = Softmax(TopK(x · W_g))                                                   (eq. 1)
    y = Σ_{i=0}^{n−1} G(x)_i · E_i(x),   E_i = SwiGLU_i(x) = (SiLU(x W1_i) ⊙ x W3_i) W2_i    (eq. 2)
    load balancing: L_aux = n · Σ_i f_i · P_i   (Switch Transformer's; f_i the share of routing slots,
                                                 P_i the mean router probability of expert i)

``model.py`` implements ``SparseMoE`` (sparse dispatch: each expert runs on its own tokens only, an unused
expert costs nothing) and ``SwiGLU``.

The tiny experiment: sparse dispatch equals the dense definition of eq. 2 written separately (float64 to
~1e-15, gradients of input, router and experts too: ``readtrack run mixtral --only check``), routing gives
exactly 2 weights summing to 1 per token, and the balancing loss is 1 for uniform routing and n/2 when one
expert takes every token. On a regression whose inputs come from 8 clusters with their own linear maps, 8
experts with top-2 routing reach a far lower test error than one dense SwiGLU with the same active parameters,
from the same seed and data, each at its best Adam learning rate of 1e-3 / 3e-3 / 1e-2 on a validation split
(both pick 1e-2, the grid's top; the quick run trains only that rate); the experts' load is reported. The
target is MoE / dense test MSE ≤ 0.5. The quick run (``readtrack run mixtral --quick``, 300 steps) has its
numbers over seeds in the calibration at the end of this page. The full run (1000 steps, the whole grid;
``readtrack run mixtral --only train --seeds 0-2``): MoE / dense test MSE 0.151, 0.150, 0.128 on seeds 0-2,
both models again picking 1e-2 on every seed. A fair echo: the paper's claim is capacity at constant active
compute, and a problem made of distinct regimes is where that capacity pays.
"""

from readtrack.paper_plugin import Exercise, declare

readtrack_paper_plugins = declare(
    __name__,
    title="Mixtral of Experts",
    arxiv="2401.04088",
    claim="Top-2 routing over 8 experts buys the capacity of all experts at the compute of two.",
    exercises=[
        Exercise(
            target="SparseMoE.route",
            statement="""
                Eq. 1: G(x) = Softmax(TopK(x · W_g)): the router's logits for every expert, the K largest
                kept, and a softmax over those K logits only (the other experts get 0): each token's K
                weights are positive and sum to 1.

                x: tokens (T, d). Return (logits, chosen, weights): logits = self.router(x), (T, n);
                chosen, (T, K) long, the indices of the K largest logits (K = self.k), largest first;
                weights, (T, K), the softmax over those K logits. forward() sends each token to its
                chosen experts and weighs their outputs by weights.
            """,
            hints=[
                "logits.topk(self.k, dim=-1) gives the K largest values and their indices.",
                "The softmax comes after the top-k, over the K kept logits, not over all n experts.",
            ],
            lines=3,
        )
    ],
)
