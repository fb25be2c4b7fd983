"""Deep Residual Learning for Image Recognition (He, Zhang, Ren and Sun, arXiv 1512.03385).

Claim: deeper plain networks train *worse* than shallower ones (the degradation problem, not overfitting:
the training error rises), and letting each block learn a residual F(x) added to an identity shortcut
removes the degradation, so depth helps again.

Equations (section 3):

    y = σ(F(x, {W_i}) + x),     F = BN(W_2 σ(BN(W_1 x)))                     (eq. 1, fig. 2; σ = ReLU)
    y = σ(F(x, {W_i}) + W_s x)  where the width or resolution changes        (eq. 2)

``model.py`` implements the basic block of fig. 5 (conv3×3-BN-ReLU-conv3×3-BN, + shortcut, ReLU after the
addition), the shortcut options of table 3 (A: identity with zero-padded channels; B: projections only
where dimensions change; C: projections everywhere), the CIFAR-style ResNet of section 4.2 (depth 6n + 2,
widths w/2w/4w) and the same block with fully connected layers for the degradation experiment. With
``residual=False`` every network is its plain counterpart with the same weights.

Check: the block equals an independent composition of ``F.conv2d`` and BatchNorm written out (float64 ≤
7.1e-15 and float32 ≤ 4e-6, forward and every gradient, identity / A / B / C / plain, 1×1 and odd images; the
fully connected block against BatchNorm written by hand, float64 7.5e-15). A block whose last BN has γ = β = 0
is the identity on its input (section 3.1: a deeper residual net can always copy a shallower one). Option A
costs no parameters, B and C exactly their projections. At initialisation the gradient at the input of a plain
BN MLP grows ×3.6e5 from depth 4 to 64, a residual one's ×24.

The tiny experiment (the degradation problem, fig. 1 and 4 left). MLPs of width 32 with BatchNorm, 4 or 32
weight layers, plain or residual, He-initialised, trained for 300 SGD steps (momentum 0.9, batch 128) on 2048
Gaussian points labelled by a random two-layer tanh teacher (4 classes); each variant at its best learning
rate of {0.03, 0.1, 0.3}, same seed and batches. Training accuracy
(``readtrack run resnet --only train --seeds 0-2``, seed 0): plain-4 0.842, plain-32 0.400; residual-4 0.835,
residual-32 0.847 (seeds 1 and 2: plain-4 0.867 / 0.855, plain-32 0.393 / 0.418, residual-4 0.852 / 0.837,
residual-32 0.866 / 0.864; both targets pass on seeds 0-2). The rate is picked on training accuracy, the
number the claim is about, but no pick decides it: plain-32 reaches 0.380 / 0.372 / 0.400 at the three rates,
residual-32 0.847 / 0.785 / 0.402. So, as in the paper, the deeper plain net is worse on the *training* set,
and the residual one of the same depth is not (asserted: plain-4 − plain-32 ≥ 0.2 and residual-32 − plain-32
≥ 0.3; the quick run, ``readtrack run resnet --quick``, trains plain-4, plain-32 and residual-32 for 100 steps
at the full run's best rates and asks ≥ 0.2 and ≥ 0.25, its numbers over seeds in the calibration at the end
of this page; with the identity shortcut removed from the residual nets, the idea removed, the cure target
fails, as the test file shows). It is a small echo: the paper's plain nets degrade mildly at 34 layers on
ImageNet, ours collapse more strongly because a width-32 BN MLP's gradients explode with depth at
initialisation (the check above). That is not the paper's mechanism: He et al. (section 4.1) argue their plain
nets' degradation is not a vanishing or exploding gradient, since with BatchNorm their backward gradients have
healthy norms; here BatchNorm does not prevent the explosion, so our plain-32 fails by the very failure the
paper rules out, and the shortcut cures that. Residual-32 ends only 0.01-0.03 above residual-4 here (0.847 /
0.866 / 0.864 against 0.835 / 0.852 / 0.837 on seeds 0-2): the paper's clear "gains from depth" need a task
where depth pays.

Shortcut options (table 3: B slightly better than A, C marginally better than B) are only reported, by the
full run: on the shapes images a ResNet-8 reaches test accuracy A 0.981, B 0.972, C 1.000 after 100 steps at
one learning rate (0.1), seed 0 (seeds 1 and 2: 1.000 / 1.000 / 1.000 and 1.000 / 1.000 / 0.9995): within
noise of each other, not the paper's ordering, and not asserted.
"""

from readtrack.paper_plugin import Exercise, declare

readtrack_paper_plugins = declare(
    __name__,
    title="Deep Residual Learning for Image Recognition",
    arxiv="1512.03385",
    claim="Identity shortcuts cure the degradation of deep plain nets: plain-32 0.40 vs residual-32 0.85.",
    exercises=[
        Exercise(
            target="BasicBlock.forward",
            statement="""
                The basic building block (fig. 2 and fig. 5 left, eqs. 1-2):

                    F(x) = BN_2(W_2 σ(BN_1(W_1 x))),    y = σ(F(x) + shortcut(x))

                W_1, BN_1 are self.conv1, self.bn1 (W_1 carries the block's stride), W_2, BN_2 are
                self.conv2, self.bn2, σ is the ReLU. self.shortcut is the identity, or W_s of eq. 2 (a
                1×1 convolution with BN, option B/C) or the zero-padding PadShortcut (option A) where the
                width or resolution changes: call it, whichever it is. The last ReLU comes AFTER the
                addition. With self.residual False (the paper's plain network) there is no shortcut:
                y = σ(F(x)).

                x: (B, c_in, H, W) → (B, c_out, ⌈H/s⌉, ⌈W/s⌉). The check compares it with F.conv2d and
                batch normalisation by hand, forward, gradients and in eval mode.
            """,
            hints=[
                "out = F.relu(self.bn1(self.conv1(x))), then out = self.bn2(self.conv2(out)): that is F(x).",
                "Add self.shortcut(x) to F(x) only when self.residual.",
                "One ReLU after the sum: return F.relu(out); not F.relu(F(x)) + x.",
            ],
            lines=5,
        )
    ],
)
