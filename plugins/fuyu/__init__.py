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
explicit masked softmax per head), forward and every gradient. Train: procedural scenes (the shapes of
``plugin_kit.images``, drawn with ``shape_masks``) of 1 to 3 shapes in a grid of 8-pixel cells, and three
questions: how many shapes, is there a disc, which shape is in the top-right cell (or none). The model
trains on all nine sizes with height and width in {16, 24, 32} and is tested on sizes it never saw: 20×20,
28×28, 20×32, 32×28 and 40×40 (a longer sequence than any in training). The A/B is the same model without
the row-end tokens, same seed, batches and learning-rate grid. Mixed aspect ratios matter: trained on
squares only, a model without row-ends can read a row's width off the sequence's length, and with row-ends
the top-right question did not generalise either (measured while designing this: 0.45-0.57 at unseen
squares for both, the "none" prior being 0.5).

Measured (``readtrack run fuyu --device cpu``, seed 0, 600 AdamW steps of 32, d 64, 2 layers, 4 heads; each
at its best learning rate of 3e-4 / 1e-3 / 3e-3: 1e-3 with row-ends, 3e-4 without): over the five unseen
sizes, 0.809 of the answers right with row-ends against 0.715 without. The gap is the spatial question: the
top-right cell at unseen sizes 0.771 with row-ends against 0.514 without (the "none" prior is 0.5), and the
count at 40×40 (0.74 against 0.51); "is there a disc", which needs no layout, is 0.80-0.91 for both. With
row-ends the unseen sizes score as the seen ones (0.79-0.85 against 0.81-0.83); at 40×40, a sequence longer
than any in training, it drops a little (0.77). Without row-ends even the seen sizes lose on the top-right
question (0.58-0.67), since a length fits several widths. The quick run (100 steps) only checks that the
model beats the 0.47 of answering each question's most common answer at the unseen sizes (0.52); neither
variant has learnt the top-right question by then (0.47 each), so its A/B target is in the full run only.
One seed; the released model's scale (8B, real images, OCR) is of course not echoed, only the mechanism.
Check errors (``readtrack run fuyu --quick --only check``): float64 ≤ 1.2e-14, float32 ≤ 5.6e-6 (the
decoder's gradients; forward 6.0e-7).
"""

from readtrack.paper_plugin import declare

readtrack_paper_plugins = declare(
    __name__,
    title="Fuyu-8B: A Multimodal Architecture for AI Agents",
    arxiv=None,
    claim="Linearly projected patches with row-end tokens let one decoder read images of any size.",
)
