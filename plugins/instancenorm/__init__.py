"""Instance Normalization: The Missing Ingredient for Fast Stylization (Ulyanov, Vedaldi and Lempitsky,
arXiv 1607.08022).

Claim: the contrast of a stylized image should not depend on the contrast of the content image, so the
generator should discard it; replacing batch normalisation by instance normalisation, statistics per image
and per channel over the image's own pixels, applied at training and at test time alike, does that and
gives markedly better stylization.

Equations (x: a batch of T images, C channels, H × W pixels; t the image, i the channel, j, k a pixel):

    y_tijk = x_tijk / Σ_l Σ_m x_tilm                           the simplest contrast normalisation (eq. 2)
    μ_i = (1/HWT) Σ_t Σ_l Σ_m x_tilm,  σ²_i = (1/HWT) Σ_t Σ_l Σ_m (x_tilm − μ_i)²
    y_tijk = (x_tijk − μ_i) / √(σ²_i + ε)                                     batch normalisation (eq. 3)
    μ_ti = (1/HW) Σ_l Σ_m x_tilm,  σ²_ti = (1/HW) Σ_l Σ_m (x_tilm − μ_ti)²
    y_tijk = (x_tijk − μ_ti) / √(σ²_ti + ε)                                instance normalisation (eq. 4)

(eq. 1 is the generator's training objective). ``model.py`` implements ``InstanceNorm`` for (N, C, H, W)
and any other number of spatial dimensions ((N, C, L) is the 1-d case), with an optional per-channel gain
γ (``weight``) and shift β (``bias``), named as in ``torch.nn.InstanceNorm2d``; like the built-in's default
and the paper, it keeps no running statistics: training and test compute the same thing. Its statistics
are accumulated in at least float32.

The tiny experiment. The check: the module equals ``torch.nn.InstanceNorm2d`` (with and without γ, β; 1×7
and 5×3 images among others), ``nn.InstanceNorm1d`` and ``nn.GroupNorm`` with one group per channel,
forward and gradients, in float64 and float32; its output is unchanged when each image's channels get
their own contrast and brightness (x → a·x + b, a > 0), and does not depend on the rest of the batch,
where ``nn.BatchNorm2d``'s does.

The training, a stylization-like task at toy size. A fully convolutional network (3 blocks of a 3×3
convolution, the normalisation and a ReLU, then a 1×1 convolution and a sigmoid) renders each procedural
shape image (16×16, ``plugin_kit.images.shapes``) as its clean mask, at one fixed contrast, whatever the
contrast and brightness the image arrives at: during training a contrast log-uniform in ×1/2 … ×2 and a
brightness uniform in ±1, per image. Two networks, identical but for the normalisation, InstanceNorm
(with γ, β) or ``nn.BatchNorm2d`` (evaluated, as at test time, with its running statistics), start from the
same He-initialised weights and see the same batches, each at its own best Adam rate of the same grid,
chosen on a validation split at the training contrasts (never on the test numbers below); the pair is
repeated from several seeds inside one run and the numbers averaged (the run with seed s trains seeds
100·s, 100·s + 1, …). The test images are shown at contrasts inside the training range and, the same
images, far outside it: ×1/16 … ×1/4 or ×4 … ×16, brightness ±4. The quick run (``readtrack run
instancenorm --quick``) trains 2 seeds for 60 steps of 32 images, 8 channels, at the rate the grid picks
at that budget (0.1 for InstanceNorm, 0.03 for BatchNorm); the full run 4 seeds for 200 steps, 16
channels, each arm choosing from 3e-3, 1e-2, 3e-2 and 0.1.

What it shows (the numbers are in the calibration at the end of this page). When the same test images
leave the training contrasts, InstanceNorm's rendered image moves by 3·10⁻⁷ on average (at most 7·10⁻⁷ on
seeds 0-19), BatchNorm's by 0.24 ± 0.03 (every seed at least 0.186), and BatchNorm's rendering is then
nearly as wrong as a grey image: test MSE 0.21 outside the range, against 0.0002 for InstanceNorm
(rendering every pixel grey scores 0.25). Three targets are asserted: InstanceNorm's change at most 0.01
(1% of the output's range); BatchNorm's at least 0.1 (the claim's other half, "where BatchNorm's does"); and
outside the range BatchNorm's test MSE at least 0.05 above InstanceNorm's (a fifth of the grey image's), the
number the normalization lineage reads. Quick margins 4.5 and 5.3 sd on torch 2.14 (seeds 0-19), 4.9 and
6.0 sd on torch 2.13 (seeds 0-9), the first target's 10⁴ sd and more. Inside the training range
InstanceNorm is the better renderer too, 0.0002 against 0.010 (reported, not asserted): with a contrast and
brightness of its own per image, BatchNorm's network has to infer each image's level from a 7×7
neighbourhood, where InstanceNorm's is handed it. The full run (``readtrack run instancenorm``: 4 seeds of
200 steps, 16 channels, the whole grid; seeds 0-9) asserts the same three: 2.7·10⁻⁷, 0.243 ± 0.013 and 0.225
± 0.015, margins 10.7 and 11.7 sd; in range 5·10⁻⁶ against 0.0034. With BatchNorm in InstanceNorm's place
(the plugin's can-fail test, and ``--set norm=batch``) the first target fails.

What this does and does not show. The invariance is exact by construction: the first convolution pads by
replicating the border, so a contrast and brightness change reaches the first normalisation as a scale
and a shift per channel, which eq. 4 removes; with zero padding the border pixels would see the brightness
change only in part. So InstanceNorm's output moving by 10⁻⁷ or so (ε and float32 rounding are what is
left) is the mechanism, and what the experiment measures is the other half of the claim: BatchNorm's network,
trained on the same varied contrasts and fairly tuned, does not learn to discard contrast it has not seen,
and at test time its running statistics belong to the training contrasts. The paper's result is visual,
better stylized images from a generator trained with a perceptual style loss (its figures); no
generator, style loss or image quality is measured here. Not measured either: BatchNorm with batch
statistics at test time (a batch of mixed contrasts would not remove each image's), nor its ablation to
no normalisation (``--set norm=none`` puts nothing in InstanceNorm's place and reports the targets).

Calibration (generated by ``readtrack calibrate instancenorm --write`` from ``calibration.json``; mean ± sd
[min, max] over seeds, one thread each; margin: (mean − threshold) / sd, and the worst seed's (value −
threshold) / sd beside it; a target is asserted only when, on every torch, every seed passes and the mean
lies at least 3 seed standard deviations past the threshold: (mean − threshold) / sd ≥ 3 on the passing
side, a single seed may lie closer):

    quick runs, CPU (AVX512 kernels), 2026-11-29:
    target ≤ 0.01: InstanceNorm: mean change of the output when the contrast leaves the training range
      torch 2.14.1, seeds 0-19: 3.37e-07 ± 1.41e-07 [7.66e-08, 6.92e-07], margin 70772.6 sd (worst seed
        70770.0 sd)
      torch 2.13.0, seeds 0-9: 3.27e-07 ± 1.45e-07 [7.66e-08, 5.18e-07], margin 68882.4 sd (worst seed
        68881.1 sd)
    target ≥ 0.1: BatchNorm: mean change of the output when the contrast leaves the training range
      torch 2.14.1, seeds 0-19: 0.2397 ± 0.03108 [0.1860, 0.3069], margin 4.5 sd (worst seed 2.8 sd)
      torch 2.13.0, seeds 0-9: 0.2301 ± 0.02649 [0.1860, 0.2769], margin 4.9 sd (worst seed 3.2 sd)
    target ≥ 0.05: test MSE outside the training contrasts: BatchNorm − InstanceNorm, each at its best lr
      torch 2.14.1, seeds 0-19: 0.2134 ± 0.03109 [0.1657, 0.2774], margin 5.3 sd (worst seed 3.7 sd)
      torch 2.13.0, seeds 0-9: 0.2042 ± 0.02549 [0.1657, 0.2525], margin 6.0 sd (worst seed 4.5 sd)
    measured: InstanceNorm: test MSE at contrasts inside the training range (mean of 2 inits)
      torch 2.14.1, seeds 0-19: 0.000227 ± 0.000308 [4.58e-05, 0.001448]
      torch 2.13.0, seeds 0-9: 0.000188 ± 0.000145 [5.46e-05, 0.000518]
    measured: InstanceNorm: test MSE at contrasts outside the training range (mean of 2 inits)
      torch 2.14.1, seeds 0-19: 0.000227 ± 0.000308 [4.59e-05, 0.001448]
      torch 2.13.0, seeds 0-9: 0.000188 ± 0.000145 [5.46e-05, 0.000518]
    measured: BatchNorm: test MSE at contrasts inside the training range (mean of 2 inits)
      torch 2.14.1, seeds 0-19: 0.01026 ± 0.004030 [0.006229, 0.02158]
      torch 2.13.0, seeds 0-9: 0.01087 ± 0.004775 [0.006229, 0.02158]
    measured: BatchNorm: test MSE at contrasts outside the training range (mean of 2 inits)
      torch 2.14.1, seeds 0-19: 0.2137 ± 0.03098 [0.1658, 0.2775]
      torch 2.13.0, seeds 0-9: 0.2043 ± 0.02549 [0.1658, 0.2528]
    measured: test MSE inside the training contrasts: BatchNorm − InstanceNorm
      torch 2.14.1, seeds 0-19: 0.01004 ± 0.003884 [0.006054, 0.02149]
      torch 2.13.0, seeds 0-9: 0.01068 ± 0.004743 [0.006054, 0.02149]
    full runs, CPU (AVX512 kernels), 2026-11-29:
    target ≤ 0.01: InstanceNorm: mean change of the output when the contrast leaves the training range
      torch 2.14.1, seeds 0-9: 2.69e-07 ± 1.23e-07 [4.55e-08, 3.75e-07], margin 81551.8 sd (worst seed
        81550.9 sd)
    target ≥ 0.1: BatchNorm: mean change of the output when the contrast leaves the training range
      torch 2.14.1, seeds 0-9: 0.2431 ± 0.01337 [0.2296, 0.2723], margin 10.7 sd (worst seed 9.7 sd)
    target ≥ 0.05: test MSE outside the training contrasts: BatchNorm − InstanceNorm, each at its best lr
      torch 2.14.1, seeds 0-9: 0.2247 ± 0.01499 [0.2105, 0.2581], margin 11.7 sd (worst seed 10.7 sd)
    measured: InstanceNorm: test MSE at contrasts inside the training range (mean of 4 inits)
      torch 2.14.1, seeds 0-9: 5.43e-06 ± 1.34e-06 [2.94e-06, 8.43e-06]
    measured: InstanceNorm: test MSE at contrasts outside the training range (mean of 4 inits)
      torch 2.14.1, seeds 0-9: 5.44e-06 ± 1.34e-06 [2.95e-06, 8.41e-06]
    measured: BatchNorm: test MSE at contrasts inside the training range (mean of 4 inits)
      torch 2.14.1, seeds 0-9: 0.003422 ± 0.001332 [0.002305, 0.006215]
    measured: BatchNorm: test MSE at contrasts outside the training range (mean of 4 inits)
      torch 2.14.1, seeds 0-9: 0.2247 ± 0.01499 [0.2105, 0.2581]
    measured: test MSE inside the training contrasts: BatchNorm − InstanceNorm
      torch 2.14.1, seeds 0-9: 0.003416 ± 0.001333 [0.002300, 0.006212]
"""

from readtrack.api import Exercise, Member, declare, lineage_members

readtrack_paper_plugins = declare(
    __name__,
    title="Instance Normalization: The Missing Ingredient for Fast Stylization",
    arxiv="1607.08022",
    claim="Normalising each image's channels by their own statistics makes a network's output independent of "
    "the image's contrast, at training and test time alike, where batch normalisation's is not.",
    exercises=[
        Exercise(
            target="InstanceNorm.forward",
            statement="""
                Eq. 4, per image t and channel i, over that image's own spatial positions:
                μ_ti = (1/HW) Σ_l Σ_m x_tilm,  σ²_ti = (1/HW) Σ_l Σ_m (x_tilm − μ_ti)²,
                y_tijk = (x_tijk − μ_ti) / √(σ²_ti + ε), then, if self.affine, γ_i · y + β_i.

                x: the input, (N, C, *spatial), one or more spatial dimensions (H, W for images, L for
                sequences). γ is self.weight and β self.bias, each of shape (C,), or None when not
                self.affine; ε is self.eps, inside the square root. The variance divides by the number of
                positions (the biased estimate, as the paper and nn.InstanceNorm2d do), not by one less.
                Nothing is taken over the batch or over the channels. Compute the statistics in at least
                float32 (torch.promote_types(x.dtype, torch.float32)) and return a tensor of x's shape and
                dtype.
            """,
            hints=[
                "The dimensions to reduce are tuple(range(2, x.dim())): everything after N and C.",
                "mu = z.mean(dim=dims, keepdim=True); the variance is ((z - mu) ** 2).mean(...), with "
                "keepdim too: both (N, C, 1, 1) for images.",
                "γ and β are (C,): view them as (1, C, 1, 1) (one 1 per spatial dimension) to broadcast.",
            ],
            lines=7,
            references=["torch.nn.functional.instance_norm", "torch.nn.InstanceNorm2d"],
        )
    ],
)

readtrack_lineages = lineage_members(
    Member(
        "normalization",
        "instancenorm",
        improves=("batchnorm",),
        what="statistics per image and channel, also at test time: the output ignores each image's contrast",
        number="test MSE outside the training contrasts: BatchNorm − InstanceNorm, each at its best lr",
    ),
)
