"""Inceptionism: Going Deeper into Neural Networks (Mordvintsev, Olah and Tyka, Google Research blog, 2015;
no arXiv id), the DeepDream post, with the class-model visualisation it builds on (Simonyan, Vedaldi and
Zisserman, arXiv 1312.6034, eq. 1).

Claim: turn a trained classifier around: fix its weights and climb the gradient of a class score with
respect to the image, and the image becomes what the network looks for in that class; random shifts
(jitter), working from coarse to fine scales (octaves) and a prior on the image keep it from turning into
high-frequency patterns that only fool the network.

Equations the code implements (I the image, S_c the class score, λ the prior's weight):

    class model    I* = argmax_I  log p_c(I) − λ ‖I‖²          (Simonyan eq. 1, with log p_c for S_c)
    jitter         each step sees roll(I, (dy, dx)), |dy|, |dx| ≤ 2, drawn afresh            (the post)
    octaves        optimise I_s at sides 8 → 11 → 16 (×1.4), the network seeing resize(I_s, 16) (bilinear),
                   each octave starting from the last one upsampled                         (the post)
    start          I_0 = the mean training image + N(0, 0.01²) per pixel     (Simonyan: the zero image of
                   mean-subtracted data; the notebook: grey plus noise)
    step           Adam on −(log p_c − λ‖I‖²), 8 images per class in one batch

``model.py``: ``jitter``, ``octave_resize``, the ``objective`` and ``dream``. We maximise log p_c instead of
the raw score S_c: Simonyan et al. use the unnormalised score so that an image cannot win by suppressing the
other classes, but here the plus's raw score rose together with the others' and its p_c stayed below 0.12
after 200 steps (planning runs, with and without the tricks); the post does not fix this choice.

Checked: the roll equals a pixel loop with modular indices (exact), the resize equals the bilinear formula
written out (float64 4e-15, float32 1.4e-6, with gradients, up and down, 1×1 → 4×4 and identity), the
objective's gradient through resize, jitter and the network matches finite differences (gradcheck), one
dreaming step equals Adam's first step x + lr·g/(|g| + ε) on the autograd gradient (exact), and the gradient
through a jitter is the inverse roll of the upstream gradient.

The tiny experiment: a ReLU LeNet-5 trained on the shapes for 400 Adam steps (lr 3e-3, batches of 64; at 200
steps a few seeds stopped where discs and triangles, both filled, are still confused) and frozen, its test
accuracy a target (≥ 0.97); then 8 images per class dreamed, each from the mean training image plus its
own small noise (sd 0.01), for 100 steps (quick) or 200 (full), Adam lr 0.1 for both variants: with jitter,
octaves and λ = 1e-3, and plain gradient ascent (no jitter, no octaves, λ = 0) from the same starts. The
target is the mechanism, which holds on every seed: plain ascent on log p_c makes the frozen network see the
class, smallest p_c of the 32 dreams ≥ 0.99 (the test file shows it failing when the image is never climbed).
Both targets over seeds, and every number the quick run measures, are in the calibration at the end of this
page.

Why the mean image: Simonyan et al. start from the zero image of mean-subtracted data, i.e. the mean image,
and the post's notebook from grey plus noise; our images are not centred (mean pixel 0.14). The dreams used
to start from noise around 0, and on seed 10 that failed: its LeNet learnt negative biases in all six conv1
filters, so around the zero image no first-layer ReLU fires, the gradient is exactly 0 and no step count or
step rule moves the dream (p_c stayed at 0.04). From the mean image the same network's dreams climb.

What the tricks change is measured and not asserted, because it does not hold on every seed: the share of
dreams nearest their own class's mean training image (chance 0.25) with and without them, the smallest p_c
with them (some octave-dreams do not reach their class in the step budget), the share of spectral energy
above half the Nyquist frequency with them / without, and the image norm (a training image's is 6.1).

The full run (``readtrack run deepdream --seeds 0-4``, 200 dreaming steps) has not been re-run since the
LeNet's training went from 200 to 400 steps and the dreams started from the mean image; with the 200-step
LeNet and dreams from noise around 0 it gave the tricks 0.53 / 0.72 / 0.72 /
0.53 / 0.28 of dreams nearest their own class mean against 0.78 / 0.47 / 0.25 / 0.50 / 0.53 for plain ascent,
their smallest p_c 0.999 / 0.999 / 0.85 / 0.997 / 0.14, and a high-frequency ratio of 0.74 / 0.80 / 0.77 /
1.00 / 0.92. So, on that run: the tricks make the dreams smaller (the L2 prior) and usually smoother, which is
the post's point; whether they make them more class-like by the class-mean test changes sign from seed to
seed, and on some seeds a few octave-dreams do not reach their class in the step budget. On 16×16 images with
four simple classes there are few high-frequency "adversarial" solutions for plain ascent to find, and the
octaves' upsampling blurs the thin strokes that tell a disc's edge from a plus.

Calibration (generated by ``python benchmarks/calibrate.py deepdream --write`` from ``calibration.json``;
mean ± sd [min, max] over seeds, one thread each; a target is asserted only when every seed passes and its
margin, (mean − threshold) / sd, is at least 3 on every torch):

    quick runs, CPU (AVX512 kernels), 2026-11-25:
    target ≥ 0.97: the frozen LeNet's test accuracy
      torch 2.14.1, seeds 0-19: 0.9992 ± 0.001251 [0.9950, 1.000], margin 23.4 sd
      torch 2.13.0, seeds 0-9: 0.9995 ± 0.00085 [0.9980, 1.000], margin 34.7 sd
    target ≥ 0.99: plain gradient ascent: dreamed p_c, smallest of the dreams
      torch 2.14.1, seeds 0-19: 0.9997 ± 0.000615 [0.9972, 1.000], margin 15.7 sd
      torch 2.13.0, seeds 0-9: 0.9998 ± 0.000322 [0.9989, 1.000], margin 30.3 sd
    measured: jitter + octaves + L2: smallest p_c of the 32 dreams
      torch 2.14.1, seeds 0-19: 0.6171 ± 0.4661 [6.77e-07, 0.9997]
      torch 2.13.0, seeds 0-9: 0.9856 ± 0.02290 [0.9230, 0.9997]
    measured: jitter + octaves + L2: share of dreams nearest their own class mean
      torch 2.14.1, seeds 0-19: 0.5969 ± 0.1989 [0.1875, 0.8750]
      torch 2.13.0, seeds 0-9: 0.6687 ± 0.1694 [0.3125, 0.8750]
    measured: jitter + octaves + L2: high-frequency share of spectral energy (mean)
      torch 2.14.1, seeds 0-19: 0.4813 ± 0.08105 [0.2926, 0.6066]
      torch 2.13.0, seeds 0-9: 0.4512 ± 0.07755 [0.2926, 0.5753]
    measured: jitter + octaves + L2: image norm ‖I‖ (mean)
      torch 2.14.1, seeds 0-19: 5.897 ± 0.8995 [4.568, 7.998]
      torch 2.13.0, seeds 0-9: 5.654 ± 0.7836 [4.568, 6.837]
    measured: plain gradient ascent: smallest p_c of the 32 dreams
      torch 2.14.1, seeds 0-19: 0.9997 ± 0.000615 [0.9972, 1.000]
      torch 2.13.0, seeds 0-9: 0.9998 ± 0.000322 [0.9989, 1.000]
    measured: plain gradient ascent: share of dreams nearest their own class mean
      torch 2.14.1, seeds 0-19: 0.7781 ± 0.1433 [0.5000, 1.000]
      torch 2.13.0, seeds 0-9: 0.8125 ± 0.1405 [0.5625, 1.000]
    measured: plain gradient ascent: high-frequency share of spectral energy (mean)
      torch 2.14.1, seeds 0-19: 0.5019 ± 0.08582 [0.3224, 0.6368]
      torch 2.13.0, seeds 0-9: 0.4859 ± 0.08518 [0.3224, 0.5978]
    measured: plain gradient ascent: image norm ‖I‖ (mean)
      torch 2.14.1, seeds 0-19: 9.821 ± 0.4666 [8.684, 10.54]
      torch 2.13.0, seeds 0-9: 9.950 ± 0.3261 [9.364, 10.44]
    measured: share of dreams nearest their own class mean, with the tricks minus without
      torch 2.14.1, seeds 0-19: -0.1812 ± 0.1536 [-0.5000, 0.06250]
      torch 2.13.0, seeds 0-9: -0.1437 ± 0.1415 [-0.3438, 0.06250]
    measured: high-frequency share, with the tricks / without
      torch 2.14.1, seeds 0-19: 0.9669 ± 0.1222 [0.7053, 1.255]
      torch 2.13.0, seeds 0-9: 0.9399 ± 0.1520 [0.7053, 1.255]
    full runs, CPU (AVX512 kernels), 2026-11-25:
    target ≥ 0.97: the frozen LeNet's test accuracy
      torch 2.14.1, seeds 0-4: 0.9994 ± 0.000894 [0.9980, 1.000], margin 32.9 sd
    target ≥ 0.99: plain gradient ascent: dreamed p_c, smallest of the dreams
      torch 2.14.1, seeds 0-4: 0.9999 ± 5.17e-05 [0.9998, 1.000], margin 192.0 sd
    measured: jitter + octaves + L2: smallest p_c of the 32 dreams
      torch 2.14.1, seeds 0-4: 0.9945 ± 0.01011 [0.9765, 0.9995]
    measured: jitter + octaves + L2: share of dreams nearest their own class mean
      torch 2.14.1, seeds 0-4: 0.5813 ± 0.2800 [0.1875, 0.8438]
    measured: jitter + octaves + L2: high-frequency share of spectral energy (mean)
      torch 2.14.1, seeds 0-4: 0.4862 ± 0.07948 [0.3970, 0.5738]
    measured: jitter + octaves + L2: image norm ‖I‖ (mean)
      torch 2.14.1, seeds 0-4: 5.565 ± 0.8770 [4.476, 6.540]
    measured: plain gradient ascent: smallest p_c of the 32 dreams
      torch 2.14.1, seeds 0-4: 0.9999 ± 5.17e-05 [0.9998, 1.000]
    measured: plain gradient ascent: share of dreams nearest their own class mean
      torch 2.14.1, seeds 0-4: 0.7500 ± 0.1380 [0.5625, 0.9062]
    measured: plain gradient ascent: high-frequency share of spectral energy (mean)
      torch 2.14.1, seeds 0-4: 0.4751 ± 0.09841 [0.3235, 0.5484]
    measured: plain gradient ascent: image norm ‖I‖ (mean)
      torch 2.14.1, seeds 0-4: 9.907 ± 0.3876 [9.366, 10.37]
    measured: share of dreams nearest their own class mean, with the tricks minus without
      torch 2.14.1, seeds 0-4: -0.1688 ± 0.2506 [-0.4062, 0.1562]
    measured: high-frequency share, with the tricks / without
      torch 2.14.1, seeds 0-4: 1.039 ± 0.1346 [0.9305, 1.263]
"""

from readtrack.paper_plugin import Exercise, declare

readtrack_paper_plugins = declare(
    __name__,
    title="Inceptionism: Going Deeper into Neural Networks",
    arxiv=None,
    claim="Gradient ascent on the image turns a trained classifier into a generator of what it looks for.",
    exercises=[
        Exercise(
            target="jitter",
            statement="""
                The post's "random shifts" (its notebook's np.roll): each dreaming step sees the image
                shifted by (dy, dx) pixels with wrap-around, so that a detail which only works at one
                alignment cancels out:

                    out[..., i, j] = x[..., (i − dy) mod H, (j − dx) mod W]

                x: images (B, C, H, W); dy, dx: ints of either sign, possibly larger than H or W. Nothing
                leaves the image: what is pushed out at one edge comes back at the other. Return
                (B, C, H, W), differentiable in x (the gradient flows back through the shift).
            """,
            hints=[
                "A positive dy moves the content down: row i of the output is row i − dy of the input.",
                "torch.roll(x, shifts=(dy, dx), dims=(-2, -1)) wraps around; padding with zeros does not.",
            ],
            lines=1,
        ),
        Exercise(
            target="octave_resize",
            statement="""
                The post's octaves: the image is optimised at a small side first and resized (bilinearly)
                to the network's 16×16 input, each octave starting from the last one upsampled. Bilinear
                resampling with pixel centres aligned: output pixel i of side `size` reads the input at

                    s = (i + ½) · h / size − ½,  clamped at 0,

                between rows ⌊s⌋ and ⌊s⌋ + 1 (the latter clamped at h − 1) with weights 1 − (s − ⌊s⌋) and
                s − ⌊s⌋, and the same along the columns.

                x: (B, C, h, w); size: the output side. Return (B, C, size, size) in x's dtype,
                differentiable in x; up and down (16 → 8 is allowed), and size = h gives x back.
            """,
            hints=[
                "F.interpolate does it in one call if its options match the formula: mode='bilinear'.",
                "Pixel centres aligned is align_corners=False; align_corners=True maps the corner pixels "
                "onto each other (s = i · (h − 1)/(size − 1)), another grid.",
            ],
            lines=1,
        ),
    ],
)
