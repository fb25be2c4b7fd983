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
    step           Adam on −(log p_c − λ‖I‖²), one image per class in one batch

``model.py``: ``jitter``, ``octave_resize``, the ``objective`` and ``dream``. We maximise log p_c instead of
the raw score S_c: Simonyan et al. use the unnormalised score so that an image cannot win by suppressing the
other classes, but here the plus's raw score rose together with the others' and its p_c stayed below 0.12
after 200 steps (planning runs, with and without the tricks); the post does not fix this choice.

Checked: the roll equals a pixel loop with modular indices (exact), the resize equals the bilinear formula
written out (float64 4e-15, float32 1.4e-6, with gradients, up and down, 1×1 → 4×4 and identity), the
objective's gradient through resize, jitter and the network matches finite differences (gradcheck), one
dreaming step equals Adam's first step x + lr·g/(|g| + ε) on the autograd gradient (exact), and the gradient
through a jitter is the inverse roll of the upstream gradient.

The tiny experiment: a ReLU LeNet-5 trained on the shapes (1.00 test accuracy after 200 steps), frozen, and
one image per class dreamed from small noise for 200 steps (full run; quick: 100, same outcome), Adam lr 0.1
for both variants. With jitter, octaves and λ = 1e-3: p_c ≥ 0.9995 for every class (target ≥ 0.99) and 3 of 4
dreams nearest their own class's mean training image (target ≥ 3; the disc's dream is nearest the plus's
mean), high-frequency share of spectral energy (above half Nyquist) 0.44 on average (0.41 / 0.15 / 0.86 / 0.35
for square / disc / plus / triangle), image norm 4.0 (a training image: 6.1). Plain gradient ascent (no
jitter, no octaves, λ = 0), same start, steps and learning rate: p_c ≥ 0.99999, all 4 nearest their own
class mean, high-frequency share 0.62 (0.72 / 0.45 / 0.80 / 0.50), norm 10.0.

What the tricks change at this scale, honestly: they make the dreams smoother (high-frequency share × 0.71,
lower for three of the four classes) and smaller (the L2 prior), which is the post's point; they do not make
the dreams more class-like by the class-mean test: plain ascent scores 4/4 to their 3/4. On 16×16 images with
four simple classes there are few high-frequency "adversarial" solutions for plain ascent to find, and the
octaves' upsampling blurs the thin strokes that tell a disc's edge from a plus.
"""

from readtrack.paper_plugin import declare

readtrack_paper_plugins = declare(
    __name__,
    title="Inceptionism: Going Deeper into Neural Networks",
    arxiv=None,
    claim="Gradient ascent on the image turns a trained classifier into a generator of what it looks for.",
)
