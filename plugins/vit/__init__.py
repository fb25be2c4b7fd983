"""An Image is Worth 16x16 Words: Transformers for Image Recognition at Scale (Dosovitskiy et al., arXiv
2010.11929).

Claim: a standard Transformer applied directly to a sequence of image patches classifies images as well
as convolutional networks when pre-trained on enough data; with little data it does worse, because it
lacks the CNN's inductive biases (locality, translation equivariance), which it must learn instead.

Equations (section 3.1; appendix A for the attention):

    z_0 = [x_class; x_p^1 E; …; x_p^N E] + E_pos        patches of P×P, E ∈ R^{(P²C)×D}     (eq. 1)
    z'_ℓ = MSA(LN(z_{ℓ−1})) + z_{ℓ−1},   z_ℓ = MLP(LN(z'_ℓ)) + z'_ℓ      pre-norm layers    (eq. 2, 3)
    y = LN(z_L^0)                         the class token's final state → linear head      (eq. 4)
    MSA: [q, k, v] = z U_qkv, A = softmax(q kᵀ / √D_h), out = [A v] U_msa                 (eq. 5-8)

``model.py`` implements ``patches`` (the reshape of eq. 1), ``Attention``, the pre-norm ``Block``, the
``ViT`` with a learned class token and learned 1-D position embeddings, and the 2-D interpolation of those
embeddings for another image size (section 3.2), written as two bilinear interpolation matrices.

Check (float64, float32; forward and every gradient): the patch embedding equals ``nn.Conv2d(k=P,
stride=P)`` with E's weights copied (float64 2e-15; the paper's "hybrid" remark: the linear projection is a
strided convolution), on one-patch and non-square images; the attention equals ``nn.MultiheadAttention``
and a whole layer ``nn.TransformerEncoderLayer(norm_first=True, activation="gelu")`` with copied weights
(float64 ≤ 9e-15); the position interpolation equals ``F.interpolate(bilinear, align_corners=False)`` for
up-, down- and non-square resampling (float64 ≤ 1.1e-15). With E_pos zeroed the output ignores the order of
the patches exactly: positions are the only spatial knowledge the model is given.

The tiny experiment: ViT (patch 4, so 16 patches + the class token, D = 32, 2 layers, 2 heads) against a
LeNet-style CNN (``plugin_kit.vision.ShapesLeNet``) on the 16×16 shapes images, trained on 250 or 4000 images
for 300 Adam steps of 64, each at its best rate of {1e-3, 3e-3} on 1000 validation images, same seed and
batches; test accuracy on 2000 held-out images. The full run's numbers over seeds 0-9
(``readtrack run vit --only train --seeds 0-9``) are in the calibration at the end of this page.

With 250 images the CNN, whose convolutions already know locality, is more accurate than the ViT: the
direction of the paper at toy scale. The full run trains both models on the 250 images from 3
initialisations (the run's seed, + 1000, + 2000; each its own initial weights and batches) and asserts the
mean gap, CNN(250) − ViT(250) ≥ 0.01 (with the ViT replaced by the CNN the gap falls below that, as the test
file shows). From one initialisation the gap was too uneven for the rule of issue 42: at 500 images it fell
below 0.01 on seed 4, at 250 it held on every one of seeds 0-4 but within 3 seed standard deviations of its
threshold; the mean of three takes most of that spread out. ViT reaches ≥ 0.95 with 4000 images on every seed
(asserted). The quick run (``readtrack run vit --quick``) looks only at the first, of 250 images and 150
steps, one initialisation and one rate each (3e-3), and reports the gap, held to ≥ 0.01, without asserting
it: every seed of 0-19 passes, but within 3 seed standard deviations (see the calibration at the end of this
page). So the quick run asserts nothing, a smoke test, and the full run carries the claim. The effect of data
is reported, not asserted: ViT(4000) − ViT(250), beside the CNN's, and how much the CNN's lead shrinks with
16× the images; at a fixed step budget the 250-image run sees each image 16× as often, so neither is a clean
measure of data hunger. The paper's regime (pre-training on 14M-300M images, where ViT overtakes ResNets) is
far out of reach here; what is shown is the small-data end of its figure 3/4: a CNN's inductive bias beats a
ViT's flexibility when data is scarce.

Why the quick run still asserts nothing (issue 54's attempts, seeds 100-104, never the calibration seeds;
torch 2.14, one thread; the gap CNN(250) − ViT(250), margin = (mean − 0.01) / sd). Today's design, 150 steps
of 64, one initialisation: 0.057 ± 0.025, margin 1.9; with 100 images 0.095 ± 0.055 (1.5), with 500 images
0.050 ± 0.028 (1.4), on 24×24 images 0.055 ± 0.041 (1.1). Longer, smaller batches from one initialisation
(ViT 300 steps of 32 at 1e-3, CNN 600 of 16 at 3e-3): 0.048 ± 0.011 (3.4), but with twice the steps for
the CNN and 6.4 s of CPU a seed, and the ViT alone on seeds 105-109 varied by 0.023 between seeds: one
initialisation is not enough. Several initialisations trained at once (a ``torch.func.vmap`` over their
stacked weights, equal steps, each network at its own rate): 4 × 200 steps of 16, 0.120 ± 0.024 (4.6) in a
first script, but 0.083 ± 0.036 (2.0) with 3 initialisations, 0.078 ± 0.050 (1.4) at 150 steps and 0.071 ±
0.058 (1.0) with 2 × 300 steps (one ViT collapsed to 0.80); the 4-initialisation run took 15.2 s of CPU for
the whole quick command (this design: 11.9 s), past the 15 s budget. At small batches the CNN is not yet
converged in the steps the budget allows (0.93 ± 0.02 after 200 steps of 16), and a converged ViT still
moves by about 0.02 from one initialisation to the next; averaging enough of both costs more than a quick
run has. The knobs reproduce the main variants (``readtrack knobs vit``; e.g. ``readtrack run vit --quick
--seeds 100-104 --set seeds=3 --set steps=300``); the full run, 3 initialisations of 300 steps at each
network's best rate, carries the claim.

Calibration (generated by ``python benchmarks/calibrate.py vit --write`` from ``calibration.json``; mean ±
sd [min, max] over seeds, one thread each; a target is asserted only when every seed passes and its margin,
(mean − threshold) / sd, is at least 3 on every torch):

    quick runs, CPU (AVX2 kernels), 2026-11-26:
    measured: ViT, 250 training images: test accuracy
      torch 2.14.1, seeds 0-19: 0.8866 ± 0.04299 [0.7950, 0.9500]
      torch 2.13.0, seeds 0-9: 0.8924 ± 0.04440 [0.7950, 0.9360]
    measured: CNN, 250 training images: test accuracy
      torch 2.14.1, seeds 0-19: 0.9670 ± 0.02122 [0.9040, 0.9905]
      torch 2.13.0, seeds 0-9: 0.9610 ± 0.02689 [0.9040, 0.9825]
    reported, not asserted at quick size (the claim: ≥ 0.01): without the inductive bias: CNN(250) −
      ViT(250) test accuracy
      torch 2.14.1, seeds 0-19: 0.08042 ± 0.04254 [0.03050, 0.1795], margin 1.7 sd
      torch 2.13.0, seeds 0-9: 0.06860 ± 0.04341 [0.03450, 0.1795], margin 1.3 sd
    full runs, CPU (AVX2 kernels), 2026-11-26:
    target ≥ 0.01: without the inductive bias: CNN(250) − ViT(250) test accuracy
      torch 2.14.1, seeds 0-9: 0.05043 ± 0.01294 [0.03667, 0.07483], margin 3.1 sd
    target ≥ 0.95: ViT trained on 4000 images: test accuracy
      torch 2.14.1, seeds 0-9: 0.9937 ± 0.002573 [0.9885, 0.9965], margin 17.0 sd
    measured: ViT, 250 training images: test accuracy
      torch 2.14.1, seeds 0-9: 0.9267 ± 0.01521 [0.8943, 0.9395]
    measured: CNN, 250 training images: test accuracy
      torch 2.14.1, seeds 0-9: 0.9772 ± 0.008663 [0.9592, 0.9880]
    measured: ViT, 4000 training images: test accuracy
      torch 2.14.1, seeds 0-9: 0.9937 ± 0.002573 [0.9885, 0.9965]
    measured: CNN, 4000 training images: test accuracy
      torch 2.14.1, seeds 0-9: 0.9986 ± 0.002096 [0.9930, 1.000]
    measured: data hunger: ViT(4000) − ViT(250) test accuracy
      torch 2.14.1, seeds 0-9: 0.06697 ± 0.01504 [0.05450, 0.1012]
    measured: the gap shrinks with data: [CNN − ViT](250) − [CNN − ViT](4000)
      torch 2.14.1, seeds 0-9: 0.04548 ± 0.01542 [0.02867, 0.07733]
"""

from readtrack.plugins.declaration import Exercise, declare

readtrack_paper_plugins = declare(
    __name__,
    title="An Image is Worth 16x16 Words: Transformers for Image Recognition at Scale",
    arxiv="2010.11929",
    claim="Patches + a plain Transformer, no convolution bias: behind a CNN on 250 images (0.927 vs 0.977).",
    exercises=[
        Exercise(
            target="patches",
            statement="""
                Eq. 1's x_p: the image x ∈ R^{H×W×C} reshaped into a sequence of N = HW/P² flattened 2D
                patches x_p ∈ R^{N×(P²·C)}.

                x: (B, C, H, W), H and W multiples of P; returns (B, N, P²·C). Patches in row-major order
                (patch (r, c) of the (H/P) × (W/P) grid is token r·(W/P) + c), each flattened as (C, P, P):
                channel first, then the patch's rows, then its columns. With that layout, the linear
                patch embedding E equals a Conv2d(C, D, kernel P, stride P) whose kernel is E reshaped to
                (D, C, P, P), which is what the check compares with.
            """,
            hints=[
                "A single reshape of x to (B, N, P²·C) mixes pixels of different patches: the memory order "
                "of x is rows of the whole image, not patches.",
                "Split each spatial axis in two first: x.view(B, C, H // P, P, W // P, P).",
                "Permute to (B, H/P, W/P, C, P, P) with .permute(0, 2, 4, 1, 3, 5), then "
                ".reshape(B, (H // P) * (W // P), C * P * P).",
            ],
            lines=4,
        ),
        Exercise(
            target="Attention.forward",
            statement="""
                Multi-head self-attention (appendix A, eq. 5-8):

                    [q, k, v] = z U_qkv,   A = softmax(q kᵀ / √D_h),   SA(z) = A v,
                    MSA(z) = [SA_1(z); …; SA_h(z)] U_msa

                z: (B, N, D); returns (B, N, D). self.qkv is U_qkv, a Linear(D, 3D) whose output is laid
                out as [q | k | v], each D wide and split into self.heads heads of D_h = D / heads
                consecutive columns (the layout of nn.MultiheadAttention's in_proj). self.proj is U_msa.
                The heads' outputs are concatenated back along the feature dimension, head 0 first.
            """,
            hints=[
                "self.qkv(z).view(B, N, 3, heads, D_h), then .permute(2, 0, 3, 1, 4) gives q, k, v, each "
                "(B, heads, N, D_h).",
                "A = (q @ k.transpose(-2, -1) / math.sqrt(D_h)).softmax(dim=-1), (B, heads, N, N).",
                "Bring the heads next to their features before merging: "
                "(A @ v).transpose(1, 2).reshape(B, N, D), then self.proj.",
            ],
            lines=6,
        ),
    ],
)
