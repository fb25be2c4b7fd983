"""Super-Convergence: Very Fast Training of Neural Networks Using Large Learning Rates (Smith and Topin
2017, arXiv 1708.07120).

Claim: one cycle of the learning rate, up to a rate far larger than a constant schedule could use and back
down below where it started, trains networks to the same or better accuracy in far fewer iterations
("super-convergence"); the LR range test picks the cycle's peak.

Equations (section 3; the one-cycle policy in PyTorch's two-phase form, OneCycleLR with
cycle_momentum=False, anneal_strategy="cos"; step k = 0 … T−1, k* = pct_start·T − 1):

    η₀ = η_max / div,  η_min = η₀ / final_div                        (defaults div = 25, final_div = 1e4)
    η_k = cos_anneal(η₀ → η_max, k / k*)                     k ≤ k*
    η_k = cos_anneal(η_max → η_min, (k − k*) / (T − 1 − k*))   k > k*
    cos_anneal(a → b, p) = b + (a − b)(1 + cos πp) / 2
    LR range test: η_k = η_lo + (η_hi − η_lo) k / (K − 1) for K steps; η_max where the smoothed loss is lowest

``model.py`` holds ``one_cycle_lr`` (its signature and defaults are OneCycleLR's), ``lr_range_test`` and an
MLP with batch norm.

The tiny experiment: ``one_cycle_lr`` equals OneCycleLR(cycle_momentum=False) at every step (worst
difference 0 for T = 7, 11, 33, 100, 1000 and several pct_start, div, final_div; the peak falls between two
steps when pct_start·T is no whole number, and the check says so). Training: 5 classes of a random linear
teacher in 20-d (plugin_kit.tasks.teacher_classes), an MLP 128×2 with batch norm, SGD with momentum 0.9,
the same initial weights and batch order. Full run (12000 examples, 20 epochs, one seed, 4000 test
examples so a standard error near 0.3 points): one-cycle with η_max = 0.3 at B = 300 reaches 0.9685 test
accuracy, against 0.9607 for the best constant rate at B (η = 0.01, from 0.003 … 1) and 0.9665 for the best
constant rate at 4B (η = 0.1); quick run (6000 examples, 10 epochs): 0.958 against 0.9433 and 0.9553. The
range test suggests η_max ≈ 2.1 (quick 2.4), and one-cycle at that peak gives 0.9718. So the effect is
real in direction and small in size: about 1 point over a constant rate at the same batch and a fraction of
a point over the large-batch constant rate, one seed. The paper's headline, the same accuracy in a tenth of
the iterations on CIFAR-10 with ResNets, does not show at this scale and we do not claim it; the targets
are the weak form (one-cycle@B no worse than either best constant rate, less 0.5 points, 1 in quick mode).
The bench: setting the rate each step costs nothing measurable (0.98×, 1.00× of a constant-rate step).
"""

from readtrack.paper_plugin import declare

readtrack_paper_plugins = declare(
    __name__,
    title="Super-Convergence: Very Fast Training of Neural Networks Using Large Learning Rates",
    arxiv="1708.07120",
    claim="One learning-rate cycle up to a large rate trains as well as constant rates, in fewer steps.",
)
