"""Visualizing and Understanding Convolutional Networks (Zeiler and Fergus, arXiv 1311.2901), read as the CNN
case study it belongs to: LeNet-5 (LeCun et al. 1998), AlexNet (Krizhevsky et al. 2012), ZF Net (1311.2901),
VGG (Simonyan and Zisserman, arXiv 1409.1556) and GoogLeNet (Szegedy et al., arXiv 1409.4842), at toy scale.

Claim: each generation changed one thing. AlexNet: ReLU trains faster than tanh, with local response
normalisation, overlapping pooling and dropout; ZF Net: a smaller, denser first layer (7×7/2 for 11×11/4);
VGG: only 3×3 convolutions, two of which see a 5×5 region with 18C² weights instead of 25C²; GoogLeNet: 1×1
convolutions that reduce the channels before the 3×3 and 5×5 ones make a wide module cheap.

Equations the code implements:

    convolution     y[o, i, j] = b[o] + Σ_{c,u,v} W[o, c, u, v] x[c, i·s + u, j·s + v]
                    (im2col: Y = W · cols(X), one matrix product)
    LRN             b^i = a^i / (k + α Σ_{j=i−n/2}^{i+n/2} (a^j)²)^β, k = 2, n = 5, α = 1e-4, β = 0.75
                                                                                     (AlexNet eq. 1)
    receptive field n stacked 3×3 (stride 1): (2n + 1)²; weights 2·3²C² = 18C² vs 5²C² = 25C²  (VGG 2.3)
    inception       concat(1×1, 1×1→3×3, 1×1→5×5, pool→1×1)                          (GoogLeNet fig. 2b)
    cost            FLOPs = 2·C_out·H'·W'·C_in·k² per conv, 2·in·out per linear layer

``model.py`` holds the five networks for 16×16×1 images (strides shrink with the image: AlexNet's 11×11/4
becomes 5×5/2, ZF's 7×7/2 becomes 3×3/1), ``conv2d_im2col``, ``local_response_norm``, the inception module
with and without reductions, and ``analytic_cost`` (parameters and FLOPs from the shapes, compared with
PyTorch's count by the check: ``AlexNet: forward FLOPs counted from the shapes vs FlopCounterMode (batch 3)``
and its like for the other four networks).

What is checked (``readtrack run cnn-architectures --only check``, one thread): im2col equals ``F.conv2d`` and
a naive loop (largest error float64 1.4e-14, gradients 3.6e-14; float32 against the float64 references on the
same inputs: 2.9e-6, gradients 2.3e-5, within float32's tolerance at one thread and at two; two float32
results compared with each other failed at two threads, where a bias gradient whose exact value is 0 came out
of ``F.conv2d``'s backward as 6.1e-5); LRN equals ``nn.LocalResponseNorm`` once its α is the paper's α·n
(8.9e-16); the counted FLOPs equal ``FlopCounterMode`` exactly
(``LeNet-5: forward FLOPs counted from the shapes vs FlopCounterMode (batch 3)`` and the same row for each
network) and the counted parameters equal ``numel`` for all five networks (per 16×16 image, forward: LeNet-5
20,876 parameters and 0.19 MFLOPs; AlexNet 87,108 and 1.81 M; ZF Net 183,972 and 4.45 M, 2.5× AlexNet, almost
all of it (2.58 M of the 2.64 M more) from its wider third to fifth convolutions (64, 96, 64 channels against
48, 48, 32), only 23 k from the denser first layer; VGG 105,204 and 4.86 M; GoogLeNet 5,348 and 0.70 M, the
fewest parameters, as in the papers); the receptive field of 1, 2, 3 stacked 3×3 convolutions, read off the
support of ∂ output / ∂ input, is 3×3, 5×5, 7×7, and two 3×3 layers see what one 5×5 sees with 1152 vs 1600
weights at C = 8 (0.72); inception (3a) of the paper's table 1 (192 channels in at 28×28) has 163,328 weights
and 128M multiply-adds with its 1×1 reductions, as the table says, against 387,072 weights and 303M (2.4×),
and 416 instead of 256 output channels, without them.

The tiny experiment, on the shapes (four classes, 4000 training and 2000 test images): LeNet-5 trained for 400
Adam steps of 64 (target ≥ 0.97 test accuracy; at 150-300 steps a few seeds were still on the plateau where
discs and triangles, both filled, are confused: seed 6 reached 0.87 at 150); AlexNet, ZF Net, VGG and
GoogLeNet trained briefly (200 steps of 32, quick 30) and measured, not asserted: they are here to be counted
and run. The full run's numbers (``readtrack run cnn-architectures --only train --seeds 0-4``), both targets
and every measured number over seeds 0-4, are in the calibration at the end of this page; both targets pass on
every seed.

Did not reproduce: the paper's figure 1 (AlexNet: a four-layer CNN with ReLU reaches 25 % training error on
CIFAR-10 six times faster than with tanh). The same A/B on LeNet-5, each activation at its best Adam learning
rate of 1e-3 / 3e-3 / 1e-2 chosen by steps to 0.97 accuracy on a validation split, over the full run's seeds
0-4 (steps to 0.97 test accuracy and their ratio, tanh / ReLU, are in the calibration): tanh was faster on
seed 0, ReLU on seed 1, and they tied on seeds 2-4, far from the paper's 6×. At this scale the pre-activations
stay small (a few per cent of the trained tanh network's units beyond |x| = 3, a row of the calibration) and
tanh is nearly linear where it works. The mechanism holds and is the target, measured at initialisation with
every weight scaled ×8 (the share of tanh units then beyond |x| = 3 is reported too): the mean derivative over
the hidden units, the factor by which backprop through a layer of units scales the gradient on average, falls
for tanh on every seed, well within the target (≤ 0.75 × its ×1 value), while ReLU's, the share of active
units, cannot saturate: it rose on four of seeds 0-4 (the unscaled biases matter less) and fell on seed 3
(reported). With a non-saturating unit in tanh's place the target fails (the test file shows it). What the ×8
networks' gradient norms do is not the point and is not asserted: both grow with the weights (ReLU's far
faster). tanh'(x) = 1 − tanh²(x) < 0.01 for |x| ≥ 3 is checked, and the trained tanh network's few saturated
units pass a mean tanh' far below 0.0099 on every seed (reported: below 0.0099 by arithmetic). Dropout was
within noise in planning (PLUGINS.md) and is not ablated.

Quick mode (``readtrack run cnn-architectures --quick``) trains LeNet-5 for the same 400 steps at the
learning rates the full run chose on seed 0 (ReLU 3e-3, tanh 1e-2), watches 500 validation and 500 test
images every 25 steps instead of all, and trains the other four nets 30 steps; both targets, and every number
it measures, over seeds, are in the calibration at the end of this page.

Calibration (generated by ``readtrack calibrate cnn-architectures --write`` from ``calibration.json``; mean
± sd [min, max] over seeds, one thread each; margin: (mean − threshold) / sd, and the worst seed's (value −
threshold) / sd beside it; a target is asserted only when, on every torch, every seed passes and the mean
lies at least 3 seed standard deviations past the threshold: (mean − threshold) / sd ≥ 3 on the passing
side, a single seed may lie closer):

    quick runs, CPU (AVX512 kernels), 2026-11-25:
    target ≥ 0.97: LeNet-5 (ReLU) test accuracy on shapes
      torch 2.14.1, seeds 0-19: 0.9993 ± 0.001070 [0.9955, 1.000], margin 27.4 sd (worst seed 23.8 sd)
      torch 2.13.0, seeds 0-9: 0.9995 ± 0.000745 [0.9980, 1.000], margin 39.6 sd (worst seed 37.6 sd)
    target ≤ 0.75: weights ×8 at init: tanh's mean derivative φ' falls to ≤ 0.75 × its value at ×1
      (saturation)
      torch 2.14.1, seeds 0-19: 0.5470 ± 0.008877 [0.5350, 0.5657], margin 22.9 sd (worst seed 20.8 sd)
      torch 2.13.0, seeds 0-9: 0.5491 ± 0.008476 [0.5391, 0.5657], margin 23.7 sd (worst seed 21.7 sd)
    measured: LeNet-5 relu: steps to 0.97 test accuracy
      torch 2.14.1, seeds 0-19: 123.8 ± 32.92 [75.00, 225.0]
      torch 2.13.0, seeds 0-9: 127.5 ± 41.58 [75.00, 225.0]
    measured: LeNet-5 tanh: steps to 0.97 test accuracy
      torch 2.14.1, seeds 0-19: 92.50 ± 31.52 [50.00, 175.0]
      torch 2.13.0, seeds 0-9: 87.50 ± 27.00 [50.00, 150.0]
    measured: ReLU speed-up over tanh (steps to 0.97, tanh / ReLU; AlexNet fig. 1: 6× to 25% error,
      CIFAR-10)
      torch 2.14.1, seeds 0-19: 0.8000 ± 0.3521 [0.3333, 1.750]
      torch 2.13.0, seeds 0-9: 0.7450 ± 0.2940 [0.3333, 1.200]
    measured: trained tanh LeNet: share of hidden units saturated (|x| > 3) on test images
      torch 2.14.1, seeds 0-19: 0.03875 ± 0.008198 [0.02809, 0.05349]
      torch 2.13.0, seeds 0-9: 0.03735 ± 0.01007 [0.02809, 0.05349]
    measured: trained tanh LeNet: mean tanh' of its saturated units
      torch 2.14.1, seeds 0-19: 0.001543 ± 0.000244 [0.001205, 0.001964]
      torch 2.13.0, seeds 0-9: 0.001660 ± 0.00023 [0.001307, 0.001964]
    measured: relu: mean φ' over hidden units, weights ×1 and ×8 at init
      torch 2.14.1, seeds 0-19: 0.4989 ± 0.03888 [0.4306, 0.5711]
      torch 2.13.0, seeds 0-9: 0.4928 ± 0.04244 [0.4370, 0.5711]
    measured: tanh: mean φ' over hidden units, weights ×1 and ×8 at init
      torch 2.14.1, seeds 0-19: 0.5243 ± 0.01053 [0.5111, 0.5467]
      torch 2.13.0, seeds 0-9: 0.5269 ± 0.01023 [0.5129, 0.5467]
    measured: weights ×8 at init: share of tanh units saturated
      torch 2.14.1, seeds 0-19: 0.1625 ± 0.01306 [0.1393, 0.1911]
      torch 2.13.0, seeds 0-9: 0.1601 ± 0.01215 [0.1393, 0.1765]
    measured: weights ×8 at init: ReLU's mean derivative φ' (share of active units), ×8 / ×1
      torch 2.14.1, seeds 0-19: 1.054 ± 0.1533 [0.8557, 1.341]
      torch 2.13.0, seeds 0-9: 1.097 ± 0.1547 [0.8781, 1.317]
    measured: test accuracy, LeNet-5
      torch 2.14.1, seeds 0-19: 0.9993 ± 0.001070 [0.9955, 1.000]
      torch 2.13.0, seeds 0-9: 0.9995 ± 0.000745 [0.9980, 1.000]
    measured: test accuracy, AlexNet
      torch 2.14.1, seeds 0-19: 0.4310 ± 0.09603 [0.2415, 0.5400]
      torch 2.13.0, seeds 0-9: 0.4552 ± 0.07744 [0.2480, 0.5095]
    measured: test accuracy, ZF Net
      torch 2.14.1, seeds 0-19: 0.3883 ± 0.1239 [0.2345, 0.5485]
      torch 2.13.0, seeds 0-9: 0.4081 ± 0.1336 [0.2470, 0.5485]
    measured: test accuracy, VGG
      torch 2.14.1, seeds 0-19: 0.4719 ± 0.1255 [0.1925, 0.5880]
      torch 2.13.0, seeds 0-9: 0.5035 ± 0.1136 [0.1925, 0.5880]
    measured: test accuracy, GoogLeNet
      torch 2.14.1, seeds 0-19: 0.4699 ± 0.07543 [0.3245, 0.6410]
      torch 2.13.0, seeds 0-9: 0.4780 ± 0.08626 [0.3245, 0.6410]
    full runs, CPU (AVX512 kernels), 2026-11-27:
    target ≥ 0.97: LeNet-5 (ReLU) test accuracy on shapes
      torch 2.14.1, seeds 0-9: 0.9998 ± 0.000635 [0.9980, 1.000], margin 46.9 sd (worst seed 44.1 sd)
    target ≤ 0.75: weights ×8 at init: tanh's mean derivative φ' falls to ≤ 0.75 × its value at ×1
      (saturation)
      torch 2.14.1, seeds 0-9: 0.5491 ± 0.008476 [0.5391, 0.5657], margin 23.7 sd (worst seed 21.7 sd)
    measured: LeNet-5 relu: steps to 0.97 test accuracy
      torch 2.14.1, seeds 0-9: 90.00 ± 33.75 [50.00, 150.0]
    measured: LeNet-5 tanh: steps to 0.97 test accuracy
      torch 2.14.1, seeds 0-9: 90.00 ± 33.75 [50.00, 175.0]
    measured: ReLU speed-up over tanh (steps to 0.97, tanh / ReLU; AlexNet fig. 1: 6× to 25% error,
      CIFAR-10)
      torch 2.14.1, seeds 0-9: 1.067 ± 0.3510 [0.6000, 1.500]
    measured: trained tanh LeNet: share of hidden units saturated (|x| > 3) on test images
      torch 2.14.1, seeds 0-9: 0.03117 ± 0.01700 [0.007339, 0.05355]
    measured: trained tanh LeNet: mean tanh' of its saturated units
      torch 2.14.1, seeds 0-9: 0.001974 ± 0.000642 [0.001307, 0.003256]
    measured: relu: mean φ' over hidden units, weights ×1 and ×8 at init
      torch 2.14.1, seeds 0-9: 0.4928 ± 0.04244 [0.4370, 0.5711]
    measured: tanh: mean φ' over hidden units, weights ×1 and ×8 at init
      torch 2.14.1, seeds 0-9: 0.5269 ± 0.01023 [0.5129, 0.5467]
    measured: weights ×8 at init: share of tanh units saturated
      torch 2.14.1, seeds 0-9: 0.1601 ± 0.01215 [0.1393, 0.1765]
    measured: weights ×8 at init: ReLU's mean derivative φ' (share of active units), ×8 / ×1
      torch 2.14.1, seeds 0-9: 1.097 ± 0.1547 [0.8781, 1.317]
    measured: test accuracy, LeNet-5
      torch 2.14.1, seeds 0-9: 0.9998 ± 0.000635 [0.9980, 1.000]
    measured: test accuracy, AlexNet
      torch 2.14.1, seeds 0-9: 0.8077 ± 0.1083 [0.5950, 0.9435]
    measured: test accuracy, ZF Net
      torch 2.14.1, seeds 0-9: 0.8139 ± 0.1160 [0.6730, 0.9875]
    measured: test accuracy, VGG
      torch 2.14.1, seeds 0-9: 0.9107 ± 0.1181 [0.7360, 1.000]
    measured: test accuracy, GoogLeNet
      torch 2.14.1, seeds 0-9: 0.9361 ± 0.03472 [0.8895, 0.9845]
"""

from readtrack.api import Exercise, Member, declare, lineage_members

readtrack_paper_plugins = declare(
    __name__,
    title="Visualizing and Understanding Convolutional Networks",
    arxiv="1311.2901",
    doi="10.1007/978-3-319-10590-1_53",
    claim="Five CNN generations; stacked 3×3s and 1×1 reductions buy receptive field and width cheaply.",
    exercises=[
        Exercise(
            target="conv2d_im2col",
            statement="""
                A convolution layer as one matrix product (im2col, as cuda-convnet and Caffe computed
                AlexNet's layers). A CNN's "convolution" is a cross-correlation, the kernel is not flipped:

                    y[b, o, i, j] = bias[o] + Σ_{c,u,v} W[o, c, u, v] · x_pad[b, c, i·s + u, j·s + v]

                x: (B, C, H, W); weight: (C', C, k, k); bias: (C',) or None; stride s and zero padding p
                on every side. Return (B, C', H', W') with H' = (H + 2p − k) // s + 1 (W' alike), in x's
                dtype, differentiable in x, weight and bias. Write it as cols = the k·k·C input values under
                each output place, one column per place, then one product with the weight as a matrix.
            """,
            hints=[
                "F.unfold(x, k, padding=p, stride=s) gives (B, C·k·k, H'·W'), the values ordered (c, u, v) "
                "as in weight[o].",
                "weight.reshape(C', C·k·k) @ cols is (B, C', H'·W'); add bias[:, None] when there is one.",
                "Reshape to (B, C', H', W'). No weight.flip: F.conv2d, like every CNN library, "
                "cross-correlates.",
            ],
            lines=8,
            references=["torch.nn.functional.conv2d"],
        ),
        Exercise(
            target="local_response_norm",
            statement="""
                AlexNet eq. (1), local response normalisation across channels:

                    b^i = a^i / (k + α Σ_{j = max(0, i − n/2)}^{min(N − 1, i + n/2)} (a^j)²)^β

                a: (B, N, H, W) activations, N channels; the sum runs over the n channels around channel i
                at the same place: n // 2 before it, i itself and (n − 1) // 2 after (the paper's n is odd;
                an even n has one fewer after, as in nn.LocalResponseNorm), fewer at the edges: channels
                beyond 0 … N − 1 count as zeros. n, k, α (alpha), β (beta) are the arguments, the paper's
                values (n = 5, k = 2, α = 1e-4, β = 0.75) their defaults. α multiplies the sum itself, as
                in the paper: nn.LocalResponseNorm divides its α by n, so the check compares with
                nn.LocalResponseNorm(n, alpha=α·n). Return (B, N, H, W).
            """,
            hints=[
                "Square a and pad the channel dimension with zeros, n // 2 before and (n − 1) // 2 after: "
                "F.pad(a.square(), (0, 0, 0, 0, n // 2, (n - 1) // 2)).",
                "padded.unfold(1, n, 1).sum(-1) is the window sum for every channel, (B, N, H, W).",
                "a / (k + alpha * window).pow(beta), with no division of alpha by n.",
            ],
            lines=3,
            references=["torch.nn.functional.local_response_norm"],
        ),
    ],
)

readtrack_lineages = lineage_members(
    Member(
        "cnn",
        "cnn-architectures",
        arm="lenet",
        title="Gradient-Based Learning Applied to Document Recognition",
        year=1998,
        what="convolutions and pooling trained end to end by backpropagation",
        number="LeNet-5 (ReLU) test accuracy on shapes",
    ),
    Member(
        "cnn",
        "cnn-architectures",
        arm="alexnet",
        title="ImageNet Classification with Deep Convolutional Neural Networks",
        year=2012,
        what="ReLU for tanh, which saturates: tanh's mean derivative falls when the weights grow (AlexNet's "
        "figure 1, ReLU six times faster, did not reproduce here: see the plugin's page)",
        number="weights ×8 at init: tanh's mean derivative φ' falls to ≤ 0.75 × its value at ×1 (saturation)",
    ),
    Member(
        "cnn",
        "cnn-architectures",
        arm="zfnet",
        what="a smaller, denser first layer, found by looking at what the first layers learnt: test accuracy "
        "on the family bench",
        number="cnn-architectures:zfnet: test accuracy, ZF Net's − AlexNet's",
        source="bench",
    ),
    Member(
        "cnn",
        "cnn-architectures",
        arm="vgg",
        title="Very Deep Convolutional Networks for Large-Scale Image Recognition",
        arxiv="1409.1556",
        what="only 3×3 convolutions: two see what one 5×5 sees with 18C² weights for 25C²: test accuracy on "
        "the family bench",
        number="cnn-architectures:vgg: test accuracy, VGG's − ZF Net's",
        source="bench",
    ),
    Member(
        "cnn",
        "cnn-architectures",
        arm="googlenet",
        title="Going Deeper with Convolutions",
        arxiv="1409.4842",
        improves=("cnn-architectures:alexnet",),
        what="1×1 reductions and average pooling make a wide network cheap: 12 times fewer parameters than "
        "AlexNet, the paper says (the family bench counts them and measures the accuracy beside)",
        number="cnn-architectures:googlenet: parameters, AlexNet's / GoogLeNet's",
        source="bench",
    ),
)
