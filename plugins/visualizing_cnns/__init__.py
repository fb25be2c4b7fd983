"""Visualizing and Understanding Convolutional Networks (Zeiler and Fergus, arXiv 1311.2901), with Deep Inside
Convolutional Networks: Visualising Image Classification Models and Saliency Maps (Simonyan, Vedaldi and
Zisserman, arXiv 1312.6034).

Claim: a trained CNN's decision can be projected back onto the pixels: the deconvnet (ZF section 2.1), the
gradient of the class score (Simonyan section 3) and occluding parts of the image (ZF section 4.2) show which
pixels the network relies on, and it relies on the object, not on whatever else is in the picture.

Equations (S_c the class score, z the input of a ReLU, r the signal going down):

    saliency       w = ∂S_c/∂x,  M_ij = |w_ij|                                         (Simonyan eq. 3)
    deconvnet      unpool with the switches, r ← max(r, 0) at each ReLU, r ← Wᵀ r (transposed filters)
                   = the gradient with each ReLU's backward r·[z > 0] replaced by max(r, 0)   (ZF 2.1)
    occlusion      Δ_ij = p_c(x) − p_c(x with the 3×3 square at (i, j) set to 0)       (ZF 4.2, fig. 7)

``model.py`` writes the three projection rules (gradient, deconvnet, guided) out layer by layer for the
shared ReLU LeNet-5 (``plugin_kit.vision.ShapesLeNet``), with 2×2 unpooling through the recorded switches,
and the occlusion map with every occluded copy of an image in one batch. Zeiler and Fergus project one
feature map's activation from a convolutional layer; here the projection starts from the class score and
passes the fully connected layers by the same rules (transpose, rectify), so that all three maps answer the
same question.

Checked: the written-out gradient equals ``torch.autograd.grad`` and the deconvnet (and guided) rule equals
autograd through a ReLU whose backward is replaced (a custom ``autograd.Function``), to 0.0 in float64 and
float32 (random and trained weights, 16×16 and 24×24); the batched occlusion map equals a loop running the
network once per square (5.6e-17 in float64).

The tiny experiment: 24×24 images holding one of the four shapes (the label) and a distractor, a random 4×4
binary pattern of the same brightness placed apart from the shape, independent of the label. A ReLU LeNet-5
learns the task: 400 Adam steps at lr 3e-3 and at 6e-3, the network kept the one more accurate on 500
validation images (drawn after the test set). Either rate alone failed some seed at 400 steps: at 3e-3 seeds
12 and 14 stopped at 0.94, still confusing the filled shapes; at 6e-3 seed 13 at 0.92 after a late loss spike;
1e-2 diverged on seed 12. On 300 held-out images, the share of each map's mass inside the object's tight box
divided by that box's share of the image (1 = no preference), and the same for the distractor's box. The full
run (``readtrack run visualizing-cnns --only train --seeds 0-4``) reports test accuracy and, for the object's
box, this number for the image's brightness (the baseline), saliency |∂S_c/∂x|, the deconvnet (rectified),
occlusion (drop of p_c) and the saliency of an untrained LeNet (the A/B: the same map without training); its
numbers over seeds 0-4 are in the calibration at the end of this page.

Occlusion reproduces the claim strongly, on every seed: its map gathers far more than twice its area share on
the object's box, and per unit area far more on the object than on the distractor; every full target passes on
each of seeds 0-4 with a margin above 3 seed standard deviations. Gradient saliency does put ≥ 2× its area
share on the object, well above the untrained network's saliency on every seed, and prefers the object over
the distractor more than the image's own brightness does, but that is not "≫": raw gradients are noisy and
spread over every pixel the early filters touch; so saliency's numbers are reported with their thresholds, not
asserted (below). The deconvnet puts the least of the three trained maps on the object's box on every seed: it
ignores the ReLU masks below the top (its map depends on the input only through the switches), so it shows
what the filters respond to, not what decided the class, as later work (e.g. Springenberg et al.'s guided
backpropagation, the third rule here) pointed out.

The quick run (``readtrack run visualizing-cnns --quick``) trains the same network and computes the backward
maps on the same 300 images, occlusion (a forward pass per pixel) on 40 of them. Asserted, quick and full:
test accuracy ≥ 0.95; occlusion puts ≥ 2× its area share on the object's box; occlusion prefers the object to
the distractor at least 2 : 1 per unit area, stated as the object's share of the two boxes' mass per unit area
≥ 2/3 (the same test as the ratio ≥ 2; the ratio itself has a long tail, 4 to 57 over seeds, when a network
leaves almost nothing on the distractor, so its spread said little about how close it came to 2). Reported
with their thresholds, not asserted, in the quick and the full run alike: saliency's two claims, that it puts
≥ 2× its area share on the object's box, and that it prefers the object over the distractor more than the
image's brightness does, R_sal / (R_sal + R_bright) ≥ 1/2 (R the object / distractor ratio per unit area).
Both held on every one of seeds 0-19, but within 3 seed standard deviations of their thresholds (the
calibration below gives the margins): how sharply raw gradients gather on the object varies from one trained
network to the next (2.3 to 3.7 times the area share over seeds 0-19), and since the full run computes the
same maps of the same network, it cannot carry a claim the quick run's seeds do not support. Over the full
run's seeds 0-4 alone the two margins read higher, but those are five of the same networks, too few seeds to
assert a claim on. So here saliency is the weaker map, and occlusion carries the claim. The numbers over seeds
are in the calibration at the end of this page. For an untrained network saliency's number misses its
threshold, as the test file shows.

Calibration (generated by ``python benchmarks/calibrate.py visualizing-cnns --write`` from
``calibration.json``; mean ± sd [min, max] over seeds, one thread each; a target is asserted only when every
seed passes and its margin, (mean − threshold) / sd, is at least 3 on every torch):

    quick runs, CPU (AVX512 kernels), 2026-11-25:
    target ≥ 0.95: test accuracy with a distractor in every image
      torch 2.14.1, seeds 0-19: 0.9919 ± 0.008117 [0.9730, 1.000], margin 5.2 sd
      torch 2.13.0, seeds 0-9: 0.9946 ± 0.005797 [0.9810, 1.000], margin 7.7 sd
    target ≥ 2: occlusion (drop of p_c, ≥ 0): the object's box holds ≥ 2× its area share of the map
      torch 2.14.1, seeds 0-19: 8.075 ± 0.5774 [6.745, 9.151], margin 10.5 sd
      torch 2.13.0, seeds 0-9: 8.111 ± 0.5775 [6.929, 8.866], margin 10.6 sd
    target ≥ 0.666667: occlusion: object's share of the mass per unit area in the two boxes (2/3: twice the
      distractor's)
      torch 2.14.1, seeds 0-19: 0.9518 ± 0.03797 [0.8387, 0.9979], margin 7.5 sd
      torch 2.13.0, seeds 0-9: 0.9431 ± 0.04479 [0.8387, 0.9858], margin 6.2 sd
    measured: image brightness (baseline): mass share / area share, object box
      torch 2.14.1, seeds 0-19: 4.576 ± 0.05688 [4.481, 4.715]
      torch 2.13.0, seeds 0-9: 4.562 ± 0.05802 [4.481, 4.640]
    measured: saliency |∂S_c/∂x|: mass share / area share, object box
      torch 2.14.1, seeds 0-19: 3.154 ± 0.4263 [2.336, 3.729]
      torch 2.13.0, seeds 0-9: 3.213 ± 0.3682 [2.336, 3.598]
    measured: deconvnet (rectified): mass share / area share, object box
      torch 2.14.1, seeds 0-19: 2.238 ± 0.3171 [1.415, 2.634]
      torch 2.13.0, seeds 0-9: 2.273 ± 0.1673 [1.935, 2.482]
    measured: occlusion (drop of p_c, ≥ 0): mass share / area share, object box
      torch 2.14.1, seeds 0-19: 8.075 ± 0.5774 [6.745, 9.151]
      torch 2.13.0, seeds 0-9: 8.111 ± 0.5775 [6.929, 8.866]
    measured: saliency of the untrained network: mass share / area share, object box
      torch 2.14.1, seeds 0-19: 1.395 ± 0.1107 [1.169, 1.555]
      torch 2.13.0, seeds 0-9: 1.403 ± 0.1106 [1.217, 1.555]
    reported, not asserted at quick size (the claim: ≥ 2): saliency |∂S_c/∂x|: the object's box holds ≥ 2×
      its area share of the map
      torch 2.14.1, seeds 0-19: 3.154 ± 0.4263 [2.336, 3.729], margin 2.7 sd
      torch 2.13.0, seeds 0-9: 3.213 ± 0.3682 [2.336, 3.598], margin 3.3 sd
    reported, not asserted at quick size (the claim: ≥ 0.5): saliency vs brightness: R_sal / (R_sal +
      R_bright), R = object / distractor per unit area
      torch 2.14.1, seeds 0-19: 0.7218 ± 0.07479 [0.6090, 0.9186], margin 3.0 sd
      torch 2.13.0, seeds 0-9: 0.7167 ± 0.04427 [0.6477, 0.7733], margin 4.9 sd
    full runs, CPU (AVX512 kernels), 2026-11-25:
    target ≥ 0.95: test accuracy with a distractor in every image
      torch 2.14.1, seeds 0-4: 0.9920 ± 0.007141 [0.9810, 0.9990], margin 5.9 sd
    target ≥ 2: occlusion (drop of p_c, ≥ 0): the object's box holds ≥ 2× its area share of the map
      torch 2.14.1, seeds 0-4: 7.802 ± 0.3791 [7.208, 8.213], margin 15.3 sd
    target ≥ 0.666667: occlusion: object's share of the mass per unit area in the two boxes (2/3: twice the
      distractor's)
      torch 2.14.1, seeds 0-4: 0.8896 ± 0.02714 [0.8519, 0.9281], margin 8.2 sd
    measured: image brightness (baseline): mass share / area share, object box
      torch 2.14.1, seeds 0-4: 4.587 ± 0.04398 [4.515, 4.633]
    measured: saliency |∂S_c/∂x|: mass share / area share, object box
      torch 2.14.1, seeds 0-4: 3.352 ± 0.2266 [3.131, 3.598]
    measured: deconvnet (rectified): mass share / area share, object box
      torch 2.14.1, seeds 0-4: 2.237 ± 0.1875 [1.935, 2.393]
    measured: occlusion (drop of p_c, ≥ 0): mass share / area share, object box
      torch 2.14.1, seeds 0-4: 7.802 ± 0.3791 [7.208, 8.213]
    measured: saliency of the untrained network: mass share / area share, object box
      torch 2.14.1, seeds 0-4: 1.454 ± 0.1378 [1.217, 1.555]
    reported, not asserted at full size (the claim: ≥ 2): saliency |∂S_c/∂x|: the object's box holds ≥ 2×
      its area share of the map
      torch 2.14.1, seeds 0-4: 3.352 ± 0.2266 [3.131, 3.598], margin 6.0 sd
    reported, not asserted at full size (the claim: ≥ 0.5): saliency vs brightness: R_sal / (R_sal +
      R_bright), R = object / distractor per unit area
      torch 2.14.1, seeds 0-4: 0.7056 ± 0.05274 [0.6477, 0.7733], margin 3.9 sd
"""

from readtrack.paper_plugin import Exercise, declare

readtrack_paper_plugins = declare(
    __name__,
    title="Visualizing and Understanding Convolutional Networks",
    arxiv="1311.2901",
    doi="10.1007/978-3-319-10590-1_53",
    claim="Projecting a class score back onto the pixels shows what a CNN looks at: the object, not clutter.",
    exercises=[
        Exercise(
            target="_through_relu",
            statement="""
                The one step where the three projections differ: going back down through a ReLU whose
                forward input was z (forward f = max(z, 0)), the signal r coming from above becomes

                    gradient   r · [z > 0]             (Simonyan eq. 3: the chain rule)
                    deconvnet  max(r, 0)               (ZF section 2.1: the signal itself rectified)
                    guided     max(r, 0) · [z > 0]     (both; Springenberg et al.)

                r and z: tensors of the same shape, (B, features) or (B, C, H, W), in the model's dtype;
                rule: one of "gradient", "deconvnet", "guided", anything else a ValueError. Returns a
                tensor of r's shape and dtype. The deconvnet does not look at z at all: that is what
                makes its maps differ from the gradient's.
            """,
            hints=[
                "[z > 0] is the boolean tensor z > 0; multiplying r by it keeps r's dtype.",
                "max(r, 0) is F.relu(r) (or r.clamp_min(0)).",
                'One if per rule; raise ValueError(f"unknown rule {rule!r}") at the end.',
            ],
            lines=7,
        ),
        Exercise(
            target="unpool",
            statement="""
                2×2 max unpooling through the switches (ZF section 2.1): every value of r goes back to the
                place in the 2× larger map that its maximum came from going up; every other place is 0.

                r: (B, C, h, w); switches: (B, C, h, w) long, what F.max_pool2d(..., 2,
                return_indices=True) returned, each a flat index i·(2w) + j into its channel's (2h, 2w)
                map. Returns (B, C, 2h, 2w) in r's dtype, equal to F.max_unpool2d(r, switches, 2) for
                even sizes. Written so that autograd could go through it (no in-place scatter into a
                leaf).
            """,
            hints=[
                "Repeat each value of r and of the switches over its 2×2 block: "
                "t.repeat_interleave(2, dim=-2).repeat_interleave(2, dim=-1).",
                "The flat index of every place of the (2h, 2w) map is torch.arange(4 * h * w).view(2 * h, "
                "2 * w).",
                "Keep a repeated value only where its repeated switch equals that place's index: "
                "up(r) * (up(switches) == places).",
            ],
            lines=4,
        ),
    ],
)
