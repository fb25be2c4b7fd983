"""Understanding deep learning requires rethinking generalization (Zhang, Bengio, Hardt, Recht and Vinyals,
arXiv 1611.03530).

Claim: a network that generalises well on true labels fits the same inputs with random labels just as
completely (training accuracy 1.0), at test accuracy no better than chance, and only a constant factor
slower; so what the network can represent, or the usual regularisers, cannot explain why it generalises.

What the code implements:

    random labels:    every label replaced (here a random permutation of the label vector, which keeps
                      the class counts; p = 1 below draws them uniformly)                     (section 2)
    corrupted labels: independently with probability p, y_i ← r_i ~ Uniform{1 … K};
                      so a share p · (1 − 1/K) of labels actually changes                    (section 2)
    Theorem 1:        c(x) = Σ_j w_j · max(⟨a, x⟩ − b_j, 0), 2n + d weights, fits any y on n points
                      in ℝ^d: sort z_i = ⟨a, x_i⟩, b_1 < z_(1) < b_2 < … < b_n < z_(n), then
                      A_ij = max(z_(i) − b_j, 0) is lower triangular with a positive diagonal and
                      A w = y has a solution                                          (section 4, appendix)

``model.py`` holds the seeded Gaussian-cluster data, ``corrupt_labels``, ``shuffle_labels``, an MLP and the
explicit Theorem 1 construction ``TwoLayerInterpolator.fit``.

The tiny experiment: 10 Gaussian clusters in 32 dimensions, 1000 training points, an MLP 512×2 trained with
Adam until every training point is classified as its label. With true labels it fits in a few epochs and
classifies a held-out set at 0.95 or better; with permuted labels the same network, same seed and same
batches, also reaches training accuracy 1.0, in at least 3 times as many epochs, and tests at 0.2 or below
(chance 0.1). Those are the targets of both runs; the quick run
(``readtrack run rethinking-generalization --quick``) asserts only them, and its numbers over seeds are in the
calibration at the end of this page. With the labels left unpermuted (the idea removed) the random-label
targets fail: the test file shows it. The full run adds the paper's corruption curve, p = 0.2 … 1.0: test
accuracy falls steadily with p (seed 0: 0.925, 0.833, 0.611, 0.374, 0.084; seeds 1 and 2 fall the same way,
from 0.954 and 0.900 to 0.137 and 0.119; ``readtrack run rethinking-generalization --seeds 0-2``), above the
1 − p·(1 − 1/K) share of clean labels for p ≤ 0.8 (at p = 1.0 that share is chance, 0.1, and the test accuracy
0.084-0.137 sits around it), and every level is still fitted. One thing does not echo the paper's figure 1b:
there the time to fit grows smoothly with p; here any corruption already costs the whole slow-down (seed 0:
11–13 epochs for every p ≥ 0.2, against 2; seeds 0-2: 11–17 against 2-3): memorising the points whose label
disagrees with their cluster is what takes the time, and for 1000 points it is about as long for 200 of them
as for all. The check builds Theorem 1's network explicitly and shows it interpolates random labels of random
points (to 1e-7 in float64: the triangular solve is ill-conditioned where projections nearly coincide). A fair
echo: the paper's point is that the same architecture and optimiser memorise noise completely while
generalising on true labels, which does not depend on the data's size.
"""

from readtrack.paper_plugin import Exercise, declare

readtrack_paper_plugins = declare(
    __name__,
    title="Understanding deep learning requires rethinking generalization",
    arxiv="1611.03530",
    claim="The same network fits true and random labels completely; only the true ones generalise.",
    exercises=[
        Exercise(
            target="corrupt_labels",
            statement="""
                Section 2's partially corrupted labels: "independently with probability p, the label of
                each image is corrupted as a uniform random class". A redrawn label is uniform over ALL K
                classes, its own included, so it keeps its class with probability 1/K: a share p of the
                labels is redrawn and a share p·(1 − 1/K) changes.

                y: (n,) long labels on any device; p: the probability; classes: K; g: a CPU
                torch.Generator. Draw, in this order, u = torch.rand(n, generator=g) (example i is
                redrawn when u_i < p) and then the n fresh labels torch.randint(0, K, (n,), generator=g),
                all n of them whether used or not: the check replays these draws one example at a time.
                Return (labels (n,) long on y's device, redrawn (n,) bool on y's device); every label
                not redrawn is untouched.
            """,
            hints=[
                "Both draws for all n examples, on the CPU generator: the uniform numbers first.",
                "torch.where(redrawn, fresh, y.cpu()) picks the fresh label where redrawn.",
                "Do not exclude the true class from the fresh draw: the paper's rule can redraw a label "
                "into itself.",
            ],
            lines=4,
        ),
        Exercise(
            target="interpolating_weights",
            statement="""
                Theorem 1 (proof of Lemma 1 in the appendix): a two-layer ReLU network with 2n + d weights,
                c(x) = Σ_j w_j · max(⟨a, x⟩ − b_j, 0), fits ANY n labels y of n distinct points exactly.
                Draw a random direction a ∈ ℝ^d, so that the projections z_i = ⟨a, x_i⟩ are distinct; sort
                them, z_(1) < … < z_(n), and interleave the thresholds b_1 < z_(1) < b_2 < z_(2) < … <
                b_n < z_(n) (b_1 = z_(1) − 1, b_j halfway between z_(j−1) and z_(j)). Then A_ij =
                max(z_(i) − b_j, 0) is lower triangular with a positive diagonal, and w solves A w = y
                with y in the same sorted order.

                X: (n, d) points; y: (n,) labels (any real values); g: a CPU torch.Generator: draw a as
                torch.randn(d, generator=g), then cast it to X's dtype and device. Returns (a (d,), b (n,),
                w (n,)) in X's dtype; TwoLayerInterpolator.fit builds the network from them, and the check
                asks it to reproduce y to 1e-6.
            """,
            hints=[
                "z = X @ a; order = z.argsort(); zs = z[order].",
                "b = torch.cat((zs[:1] - 1.0, (zs[1:] + zs[:-1]) / 2)); "
                "A = torch.clamp_min(zs[:, None] - b[None, :], 0.0).",
                "The rows of A are in sorted order, so the right-hand side is y[order]: "
                "torch.linalg.solve_triangular(A, y[order].to(X)[:, None], upper=False)[:, 0].",
            ],
            lines=8,
        ),
    ],
)
