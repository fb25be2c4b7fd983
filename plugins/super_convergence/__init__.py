"""Super-Convergence: Very Fast Training of Neural Networks Using Large Learning Rates (Smith and Topin
2017, arXiv 1708.07120).

Claim: one cycle of the learning rate, up to a rate far larger than a constant schedule could use and back
down below where it started, trains networks to the same or better accuracy in far fewer iterations
("super-convergence"); the LR range test picks the cycle's peak.

The paper's cycle (section 3) is linear: the rate rises linearly from a low bound to a high one and falls
linearly back, and a last stretch "annihilates" it far below the low bound. This plugin implements instead
the form most code uses, PyTorch's two-phase OneCycleLR (cycle_momentum=False, anneal_strategy="cos"),
whose phases follow cosines and whose fall ends at the annihilated rate; the check compares with that
built-in, so a linear schedule fails the check by design (the test says so; it is not wrong, only not what
the check compares with). Equations (step k = 0 … T−1, k* = pct_start·T − 1):

    η₀ = η_max / div,  η_min = η₀ / final_div                        (defaults div = 25, final_div = 1e4)
    η_k = cos_anneal(η₀ → η_max, k / k*)                     k ≤ k*
    η_k = cos_anneal(η_max → η_min, (k − k*) / (T − 1 − k*))   k > k*
    cos_anneal(a → b, p) = b + (a − b)(1 + cos πp) / 2
    LR range test: η_k = η_lo + (η_hi − η_lo) k / (K − 1) for K steps; η_max where the smoothed loss is lowest

``model.py`` holds ``one_cycle_lr`` (its signature and defaults are OneCycleLR's), ``lr_range_test`` and an
MLP with batch norm.

The tiny experiment: ``one_cycle_lr`` equals OneCycleLR(cycle_momentum=False) at every step (worst difference
0 for T = 7, 11, 33, 100, 1000 and several pct_start, div, final_div; the peak falls between two steps when
pct_start·T is no whole number, and the check says so). Training: 5 classes of a random linear teacher in 20-d
(plugin_kit.tasks.teacher_classes), an MLP 128×2 with batch norm, SGD with momentum 0.9, the same initial
weights and batch order. Three arms, each at its own best rate of the same grid (quick 0.01 / 0.03 / 0.1 /
0.3, full 0.003 … 1) chosen on 2,000 validation examples, reported on 4,000 test examples (a standard error
near 0.3 points): one-cycle at B = 300 (the grid gives its peak η_max), the constant rate at B and the
constant rate at 4B. The targets: one-cycle beats the constant rate at the same batch by ≥ 0.5 point (with
the cycle replaced by its constant peak the target fails, the plugin's test) and is no more than 1 point
(quick) or 0.5 (full) below the large-batch constant rate (the weak claim); the range test's η_max is
reported. The quick run (``readtrack run super-convergence --quick``: 6,000 examples, 8 epochs) asserts both;
its numbers over seeds are in the calibration at the end of this page. The full run (12,000 examples, 20
epochs; ``readtrack run super-convergence --only train --seeds 0-2``): one-cycle@B 0.969 / 0.971
/ 0.972 (η_max 1 on every seed), constant@B 0.955 / 0.951 / 0.960, constant@4B 0.958 / 0.961 / 0.966:
one-cycle ahead by 1.4 / 2.0 / 1.2 points at B and 1.1 / 1.0 / 0.6 at 4B, every target passing on seeds 0-2;
the range test suggests 1.8 / 2.3 / 2.8, and one-cycle at that peak reaches 0.968 / 0.977 / 0.979 (reported).
The paper's headline, the same accuracy in a tenth of the iterations on CIFAR-10 with ResNets, does not show
at this scale and we do not claim it.
The bench: setting the rate each step costs nothing measurable against a constant-rate step.
"""

from readtrack.paper_plugin import Exercise, declare

readtrack_paper_plugins = declare(
    __name__,
    title="Super-Convergence: Very Fast Training of Neural Networks Using Large Learning Rates",
    arxiv="1708.07120",
    claim="One learning-rate cycle up to a large rate trains as well as constant rates, in fewer steps.",
    exercises=[
        Exercise(
            target="one_cycle_lr",
            statement="""
                The one-cycle policy (section 3) in PyTorch's two-phase cosine form (OneCycleLR with
                cycle_momentum=False, anneal_strategy="cos"), for step k = 0 … T − 1:

                    η₀ = η_max / div,   η_min = η₀ / final_div,   k* = pct_start · T − 1
                    k ≤ k*:  η_k = cos_anneal(η₀, η_max, k / k*)
                    k > k*:  η_k = cos_anneal(η_max, η_min, (k − k*) / (T − 1 − k*))

                step: k; total_steps: T; max_lr: η_max; pct_start, div_factor, final_div_factor: as named.
                cos_anneal(start, end, pct) (in model.py) goes from start at pct = 0 to end at pct = 1 along
                half a cosine. k* is a float (not rounded): the peak falls on a whole step only when
                pct_start · T is whole. Returns a Python float; the check compares every step with
                PyTorch's scheduler to 1e-12.
            """,
            hints=[
                "η_min divides η₀, not η_max: η_min = max_lr / div_factor / final_div_factor.",
                "The peak is at step pct_start · T − 1 (0-based steps): with T = 100 and pct 0.3 the 30th "
                "step, k = 29, has η_max.",
                "if step <= peak: return cos_anneal(initial, max_lr, step / peak); else anneal from max_lr "
                "to final over (step - peak) / (total_steps - 1 - peak).",
            ],
            lines=6,
        )
    ],
)
