"""Fuyu-8B: A Multimodal Architecture for AI Agents (Adept, 2023). A release post, not a paper: no arXiv
id; https://www.adept.ai/blog/fuyu-8b.

Claim: a plain decoder-only transformer reads images with no image encoder: image patches are projected
linearly straight into its first layer, with a special image-newline token at the end of each row of
patches, so it takes images of any size and aspect ratio (a bigger image is just more patches and rows).

What ``model.py`` implements (the post has no numbered equations; its figure and text):

    z_(r,c) = W · vec(patch_(r,c)) + b        one linear map of each p × p patch (p = 4), no encoder
    image   = z_(0,0) … z_(0,w−1) ⏎  z_(1,0) … z_(1,w−1) ⏎  …   raster order, ⏎ a learned row-end embedding
    input   = [image ; question tokens]  →  decoder  →  the answer, predicted after the last question token

The decoder is a small pre-LayerNorm transformer with 1-D rotary positions over the whole sequence (Fuyu's
decoder is Persimmon-8B's, which uses rotary positions), causal over everything: the released model's
mask. The post draws the image part with full attention; that prefix variant is not implemented here.

The tiny experiment. Check: the patch projection equals ``nn.Conv2d(kernel = stride = p)`` with the weights
copied, forward and gradients, float64 and float32; the patch / row-end layout equals a patch-by-patch loop;
the decoder is causal (Jacobian, ``check_causal``) and equals the formulas written out apart from
``model.py`` (LayerNorm and GELU from their definitions, rotary positions as a complex turn by n·θ_j, an
explicit masked softmax per head), forward and every gradient; the whole model (image, question, answer read
at the last token) equals those parts put together. Train, full run: procedural scenes (the shapes of
``plugin_kit.images``, drawn with ``shape_masks``) of 1 to 3 shapes in a grid of 8-pixel cells, and three
questions: how many shapes, is there a disc, which shape is in the top-right cell (or none). The model
trains on all nine sizes with height and width in {16, 24, 32} and is tested on sizes it never saw: 20×20,
28×28, 20×32, 32×28 and 40×40 (a longer sequence than any in training). The A/B is the same model without
the row-end tokens, same seed and batches; each variant trains both rates of one grid (AdamW 3e-4, 1e-3)
and keeps the one with the better accuracy on validation images (new images at the training sizes, from
generators of their own), never on the unseen-size tests the claim reports. Mixed aspect ratios matter:
trained on squares only, a model without row-ends can read a row's width off the sequence's length, and
with row-ends the top-right question did not generalise either (seen while designing this, with no command
kept to repeat it: both stayed near the "none" prior at unseen squares).

Measured (``readtrack run fuyu --only train --seeds 0-4 --jobs 1 --device cpu``; 600 AdamW steps of 32 per
rate, d 64, 2 layers, 4 heads): the full run's numbers over seeds 0-4 are in the calibration at the end of
this page; the run's report also gives each variant's picked rate and each size's score per question. With
row-ends the model reached 0.75 over the five unseen sizes on each of seeds 0-4 (not on seeds 8 and 9: below);
without row-ends it scores lower at every unseen size on every seed. The gap is
mostly the spatial question: on the top-right cell at unseen sizes the model without row-ends stays near the
"none" prior (0.5), the model with row-ends well above it. With row-ends the unseen sizes up to 32 score about
as the seen ones; at 40×40, a sequence longer than any in training, accuracy drops, with row-ends and without.
Without row-ends even the seen sizes score lower, since a length fits several widths. The second target, with
minus without row-ends on the top-right question at unseen sizes (the claim: ≥ 0.15), held on every one of
seeds 0-4 but within 3 seed standard deviations of its threshold (lowest on seed 4), short of the rule of
issue 42: the full run reports it rather than asserting it. The paper's headline comparison the full run
asserts on the quick run's task, what row-ends are for (the next paragraph), on a longer schedule: 400
clipped AdamW steps of 32 on the same sixteen sizes, each variant at 1e-3 (the quick run's pick for each on
validation), 400 questions at each of the five unseen sizes; target: with minus without row-ends ≥ 0.25 right
(chance is 0.5, so at least half of the way from chance to always right), its lines prefixed "row-end
question:" in the report. The knobs (``readtrack knobs fuyu``) turn the row-ends of the arm under test off
(``--set row_ends=false``), the steps of either task, the rate, batch, width, depth and image noise. On
seeds 0-9 (this page's calibration, AVX2 kernels) the row-end A/B holds with a wide margin, but the first
stage's accuracy with row-ends at unseen sizes (≥ 0.75), which held on seeds 0-4 (3.6 seed sds, AVX512
kernels), fell below it on seeds 8 and 9 (0.781 ± 0.048 over seeds 0-9, torch 2.14.1, ``python
benchmarks/calibrate.py fuyu --full --seeds 0-9``): it is a level, not the paper's comparison, so the full
run reports it beside its threshold and asserts the row-end A/B, the claim.

The quick run (``readtrack run fuyu --quick --jobs 1 --device cpu``) asks only what row-ends are for: an image
of noise with one bright patch, "does it end its row?" ("yes" half the time), trained 200 steps on heights and
widths of 2, 3, 4 or 6 patches (8, 12, 16, 24 pixels: sixteen sizes) and tested on new images at the same five
unseen sizes. Targets: with row-ends ≥ 0.75 right, and with minus without ≥ 0.25 (chance is 0.5). The quick
run's AdamW is better conditioned than the full run's: gradients clipped to norm 1 and β2 = 0.99 (the full
run: unclipped, 0.999). With the full run's optimiser the model with row-ends found the row-end circuit late
on some seeds (on seed 11 still 0.88 right on validation at the training sizes after 200 steps and 0.70 at the
unseen sizes, below the target; 0.94 and 0.85 after 300); clipped, it had it by step 100 there. Both variants
train at 1e-3, the grid's pick for each on validation (new images at the training sizes), seeds 0-4, with this
optimiser at this budget (``--impl grid`` runs the grid; its scores are beside ``QUICK_LR`` in
``experiment.py``). The numbers over seeds are in the calibration at the end of this page. The training sizes
are chosen so that a sequence's length rarely gives the width (12 patches are 2×6, 3×4, 4×3 or 6×2): up to
issue 42 the quick run trained 100 steps on 2, 4 or 6 patches a side, where a length nearly fixes the width,
and on 6 of seeds 0-19 the model with row-ends learnt that shortcut as the model without did and stayed near
chance at the unseen sizes (on seed 12 still so at 300 steps). Without row-ends the training sizes are still
learnt in part, as a length narrows the width; at widths never seen that guess is hardly better than chance.
The three questions are not in the quick run: trained on them for 100 steps (the quick run up to commit
2ac0746), both variants stayed at the "none" prior (0.5) on the top-right question at the unseen sizes. The
released model's scale (8B, real images, OCR) is of course not echoed, only the mechanism.
Check errors (``readtrack run fuyu --quick --only check``, seed 0): float64 ≤ 1.4e-14, float32 ≤ 5.1e-6
(the decoder's gradients; its forward ≤ 4.8e-7).

Calibration (generated by ``readtrack calibrate fuyu --write`` from ``calibration.json``; mean ± sd [min,
max] over seeds, one thread each; margin: (mean − threshold) / sd, and the worst seed's (value − threshold)
/ sd beside it; a target is asserted only when, on every torch, every seed passes and the mean lies at least
3 seed standard deviations past the threshold: (mean − threshold) / sd ≥ 3 on the passing side, a single
seed may lie closer):

    quick runs, CPU (AVX512 kernels), 2026-11-27:
    target ≥ 0.75: 'does the bright patch end its row' at unseen sizes, with row-ends
      torch 2.14.1, seeds 0-19: 0.9652 ± 0.02738 [0.9040, 1.000], margin 7.9 sd (worst seed 5.6 sd)
      torch 2.13.0, seeds 0-9: 0.9639 ± 0.02501 [0.9140, 0.9960], margin 8.6 sd (worst seed 6.6 sd)
    target ≥ 0.25: 'does the bright patch end its row' at unseen sizes, with minus without row-ends
      torch 2.14.1, seeds 0-19: 0.4478 ± 0.04419 [0.3690, 0.4970], margin 4.5 sd (worst seed 2.7 sd)
      torch 2.13.0, seeds 0-9: 0.4490 ± 0.04558 [0.3690, 0.4970], margin 4.4 sd (worst seed 2.6 sd)
    measured: validation accuracy (new images at the training sizes), with row-ends (Fuyu)
      torch 2.14.1, seeds 0-19: 1.000 on every seed
      torch 2.13.0, seeds 0-9: 1.000 on every seed
    measured: accuracy at 20×20 (unseen), with row-ends (Fuyu)
      torch 2.14.1, seeds 0-19: 1.000 on every seed
      torch 2.13.0, seeds 0-9: 1.000 on every seed
    measured: accuracy at 28×28 (unseen), with row-ends (Fuyu)
      torch 2.14.1, seeds 0-19: 0.9892 ± 0.02467 [0.8950, 1.000]
      torch 2.13.0, seeds 0-9: 0.9850 ± 0.03291 [0.8950, 1.000]
    measured: accuracy at 20×32 (unseen), with row-ends (Fuyu)
      torch 2.14.1, seeds 0-19: 1.000 on every seed
      torch 2.13.0, seeds 0-9: 1.000 on every seed
    measured: accuracy at 32×28 (unseen), with row-ends (Fuyu)
      torch 2.14.1, seeds 0-19: 0.9875 ± 0.02359 [0.9100, 1.000]
      torch 2.13.0, seeds 0-9: 0.9855 ± 0.02929 [0.9100, 1.000]
    measured: accuracy at 40×40 (unseen), with row-ends (Fuyu)
      torch 2.14.1, seeds 0-19: 0.8490 ± 0.1077 [0.6100, 1.000]
      torch 2.13.0, seeds 0-9: 0.8490 ± 0.08755 [0.7200, 0.9800]
    measured: validation accuracy (new images at the training sizes), without row-ends
      torch 2.14.1, seeds 0-19: 0.7791 ± 0.02972 [0.7063, 0.8263]
      torch 2.13.0, seeds 0-9: 0.7788 ± 0.03405 [0.7063, 0.8263]
    measured: accuracy at 20×20 (unseen), without row-ends
      torch 2.14.1, seeds 0-19: 0.5320 ± 0.06105 [0.4450, 0.6600]
      torch 2.13.0, seeds 0-9: 0.5320 ± 0.05954 [0.4700, 0.6450]
    measured: accuracy at 28×28 (unseen), without row-ends
      torch 2.14.1, seeds 0-19: 0.4715 ± 0.04434 [0.3850, 0.5600]
      torch 2.13.0, seeds 0-9: 0.4610 ± 0.04293 [0.3850, 0.5200]
    measured: accuracy at 20×32 (unseen), without row-ends
      torch 2.14.1, seeds 0-19: 0.5628 ± 0.05910 [0.4500, 0.6650]
      torch 2.13.0, seeds 0-9: 0.5510 ± 0.07055 [0.4500, 0.6650]
    measured: accuracy at 32×28 (unseen), without row-ends
      torch 2.14.1, seeds 0-19: 0.5028 ± 0.04575 [0.4300, 0.5700]
      torch 2.13.0, seeds 0-9: 0.5080 ± 0.04063 [0.4500, 0.5700]
    measured: accuracy at 40×40 (unseen), without row-ends
      torch 2.14.1, seeds 0-19: 0.5178 ± 0.04666 [0.4050, 0.6150]
      torch 2.13.0, seeds 0-9: 0.5225 ± 0.04614 [0.4450, 0.6150]
    full runs, CPU (AVX512 kernels), 2026-11-27:
    target ≥ 0.25: 'does the bright patch end its row' at unseen sizes, with minus without row-ends
      torch 2.14.1, seeds 0-9: 0.4253 ± 0.03578 [0.3760, 0.4790], margin 4.9 sd (worst seed 3.5 sd)
    measured: validation accuracy (new images at the training sizes), with row-ends (Fuyu)
      torch 2.14.1, seeds 0-9: 0.8234 ± 0.04194 [0.7178, 0.8617]
    measured: accuracy at 16×16 (seen), with row-ends (Fuyu)
      torch 2.14.1, seeds 0-9: 0.8283 ± 0.06360 [0.6867, 0.9183]
    measured: accuracy at 24×24 (seen), with row-ends (Fuyu)
      torch 2.14.1, seeds 0-9: 0.8263 ± 0.03727 [0.7633, 0.8717]
    measured: accuracy at 32×16 (seen), with row-ends (Fuyu)
      torch 2.14.1, seeds 0-9: 0.8250 ± 0.03785 [0.7350, 0.8650]
    measured: accuracy at 20×20 (unseen), with row-ends (Fuyu)
      torch 2.14.1, seeds 0-9: 0.8123 ± 0.07970 [0.6050, 0.8767]
    measured: accuracy at 28×28 (unseen), with row-ends (Fuyu)
      torch 2.14.1, seeds 0-9: 0.8050 ± 0.04871 [0.7017, 0.8533]
    measured: accuracy at 20×32 (unseen), with row-ends (Fuyu)
      torch 2.14.1, seeds 0-9: 0.7957 ± 0.05363 [0.6700, 0.8600]
    measured: accuracy at 32×28 (unseen), with row-ends (Fuyu)
      torch 2.14.1, seeds 0-9: 0.8077 ± 0.04747 [0.6950, 0.8667]
    measured: accuracy at 40×40 (unseen), with row-ends (Fuyu)
      torch 2.14.1, seeds 0-9: 0.6852 ± 0.05776 [0.6133, 0.8167]
    measured: validation accuracy (new images at the training sizes), without row-ends
      torch 2.14.1, seeds 0-9: 0.7812 ± 0.01692 [0.7517, 0.8106]
    measured: accuracy at 16×16 (seen), without row-ends
      torch 2.14.1, seeds 0-9: 0.7803 ± 0.04845 [0.7000, 0.8317]
    measured: accuracy at 24×24 (seen), without row-ends
      torch 2.14.1, seeds 0-9: 0.8117 ± 0.02731 [0.7700, 0.8600]
    measured: accuracy at 32×16 (seen), without row-ends
      torch 2.14.1, seeds 0-9: 0.7905 ± 0.02577 [0.7500, 0.8283]
    measured: accuracy at 20×20 (unseen), without row-ends
      torch 2.14.1, seeds 0-9: 0.7220 ± 0.03375 [0.6833, 0.7817]
    measured: accuracy at 28×28 (unseen), without row-ends
      torch 2.14.1, seeds 0-9: 0.7635 ± 0.02404 [0.7183, 0.7983]
    measured: accuracy at 20×32 (unseen), without row-ends
      torch 2.14.1, seeds 0-9: 0.7003 ± 0.02216 [0.6650, 0.7433]
    measured: accuracy at 32×28 (unseen), without row-ends
      torch 2.14.1, seeds 0-9: 0.7417 ± 0.02512 [0.6983, 0.7817]
    measured: accuracy at 40×40 (unseen), without row-ends
      torch 2.14.1, seeds 0-9: 0.6238 ± 0.04651 [0.5800, 0.7300]
    measured: top-right questions at unseen sizes, with row-ends (Fuyu)
      torch 2.14.1, seeds 0-9: 0.7448 ± 0.07955 [0.5654, 0.8185]
    measured: top-right questions at unseen sizes, without row-ends
      torch 2.14.1, seeds 0-9: 0.5065 ± 0.03457 [0.4603, 0.5629]
    reported, not asserted at full size (the claim: ≥ 0.75): accuracy at unseen sizes, with row-ends
      torch 2.14.1, seeds 0-9: 0.7812 ± 0.04799 [0.6600, 0.8183], margin 0.6 sd (worst seed -1.9 sd), misses
        it on seeds 8, 9
    reported, not asserted at full size (the claim: ≥ 0.15): top-right questions at unseen sizes, with minus
      without row-ends
      torch 2.14.1, seeds 0-9: 0.2384 ± 0.08498 [0.04688, 0.3464], margin 1.0 sd (worst seed -1.2 sd),
        misses it on seeds 8, 9
    measured: row-end question: validation accuracy (new images at the training sizes), with row-ends (Fuyu)
      torch 2.14.1, seeds 0-9: 1.000 on every seed
    measured: row-end question: accuracy at 20×20 (unseen), with row-ends (Fuyu)
      torch 2.14.1, seeds 0-9: 1.000 on every seed
    measured: row-end question: accuracy at 28×28 (unseen), with row-ends (Fuyu)
      torch 2.14.1, seeds 0-9: 0.9910 ± 0.02164 [0.9300, 1.000]
    measured: row-end question: accuracy at 20×32 (unseen), with row-ends (Fuyu)
      torch 2.14.1, seeds 0-9: 1.000 on every seed
    measured: row-end question: accuracy at 32×28 (unseen), with row-ends (Fuyu)
      torch 2.14.1, seeds 0-9: 0.9845 ± 0.03059 [0.9025, 1.000]
    measured: row-end question: accuracy at 40×40 (unseen), with row-ends (Fuyu)
      torch 2.14.1, seeds 0-9: 0.8512 ± 0.08804 [0.7475, 0.9775]
    measured: row-end question: validation accuracy (new images at the training sizes), without row-ends
      torch 2.14.1, seeds 0-9: 0.8073 ± 0.02242 [0.7700, 0.8419]
    measured: row-end question: accuracy at 20×20 (unseen), without row-ends
      torch 2.14.1, seeds 0-9: 0.5550 ± 0.06079 [0.4375, 0.6600]
    measured: row-end question: accuracy at 28×28 (unseen), without row-ends
      torch 2.14.1, seeds 0-9: 0.4818 ± 0.02328 [0.4425, 0.5150]
    measured: row-end question: accuracy at 20×32 (unseen), without row-ends
      torch 2.14.1, seeds 0-9: 0.6025 ± 0.03755 [0.5550, 0.6675]
    measured: row-end question: accuracy at 32×28 (unseen), without row-ends
      torch 2.14.1, seeds 0-9: 0.5202 ± 0.03913 [0.4725, 0.6100]
    measured: row-end question: accuracy at 40×40 (unseen), without row-ends
      torch 2.14.1, seeds 0-9: 0.5410 ± 0.03946 [0.4875, 0.6075]
"""

from readtrack.api import Exercise, declare

readtrack_paper_plugins = declare(
    __name__,
    title="Fuyu-8B: A Multimodal Architecture for AI Agents",
    arxiv=None,
    claim="Linearly projected patches with row-end tokens let one decoder read images of any size.",
    exercises=[
        Exercise(
            target="patchify",
            statement="""
                No image encoder: the image is cut into p × p patches in raster order and each patch is
                flattened, to be projected by one linear map, z_(r,c) = W · vec(patch_(r,c)) + b. vec must
                flatten a patch in (channel, row, column) order, the order of a Conv2d kernel (C, p, p):
                so the projection equals nn.Conv2d(C, d, kernel_size=p, stride=p) with the same weights.

                images: (B, C, H, W) with H and W multiples of p (else ValueError). Return
                (B, H/p, W/p, C·p·p): entry [b, r, c] is images[b, :, r·p:(r+1)·p, c·p:(c+1)·p] flattened.
            """,
            hints=[
                "images.view(B, C, h, p, w, p) splits each spatial axis into (patch index, pixel in "
                "the patch).",
                "A plain reshape to (B, h, w, C·p·p) mixes pixels of different patches: move the patch "
                "indices (h, w) in front of (C, p, p) first, with permute(0, 2, 4, 1, 3, 5).",
                "After the permute the tensor is not contiguous: .reshape(B, h, w, C * p * p), not .view.",
            ],
            lines=5,
        ),
        Exercise(
            target="Fuyu.image_tokens",
            statement="""
                The image part of the decoder's input: each row's w patch embeddings, then the learned
                row-end token (the post's image-newline), row after row, so that the decoder can tell where
                a row ends at any width:

                    z_(0,0) … z_(0,w−1) ⏎  z_(1,0) … z_(1,w−1) ⏎  …  z_(h−1,w−1) ⏎

                images: (B, C, H, W). z = self.patch_proj(patchify(images, self.patch)) is (B, h, w, d);
                ⏎ is self.row_end, (d,). Return (B, h·(w + 1), d); with self.row_ends False (the ablation)
                the patches alone, (B, h·w, d).
            """,
            hints=[
                "Append the row-end to every row before flattening: concatenate along the w axis, giving "
                "(B, h, w + 1, d).",
                "self.row_end.expand(B, h, 1, d) is one row-end per row; torch.cat([z, it], dim=2), then "
                "reshape(B, -1, d) reads row after row.",
            ],
            lines=5,
        ),
    ],
)
