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
with and without reductions, and ``analytic_cost`` (parameters and FLOPs from the shapes).

What is checked: im2col equals ``F.conv2d`` and a naive loop (largest error float64 1.4e-14, gradients
3.6e-14; float32 7.6e-6, gradients 5.0e-5, within tolerance); LRN equals ``nn.LocalResponseNorm`` once its α
is the paper's α·n (8.9e-16); the counted FLOPs equal ``FlopCounterMode`` exactly and the counted parameters
equal ``numel`` for all five networks (per 16×16 image, forward: LeNet-5 20,876 parameters and 0.19 MFLOPs;
AlexNet 87,108 and 1.81 M; ZF Net 183,972 and 4.45 M, the denser first layer costing 2.5× AlexNet; VGG
105,204 and 4.86 M; GoogLeNet 5,348 and 0.70 M, the fewest parameters, as in the papers); the receptive
field of 1, 2, 3 stacked 3×3 convolutions, read off the support of ∂ output / ∂ input, is 3×3, 5×5, 7×7, and
two 3×3 layers see what one 5×5 sees with 1152 vs 1600 weights at C = 8 (0.72); inception (3a) of the
paper's table 1 (192 channels in at 28×28) has 163,328 weights and 128M multiply-adds with its 1×1
reductions, as the table says, against 387,072 weights and 303M (2.4×), and 416 instead of 256 output
channels, without them.

The tiny experiment, on the shapes (four classes, 4000 training and 2000 test images): LeNet-5 reaches 1.00
test accuracy in 300 Adam steps (target ≥ 0.97); AlexNet, ZF Net, VGG and GoogLeNet trained briefly (200
steps of 32) reach 0.73, 0.98, 1.00 and 0.95 (measured, not asserted: they are here to be counted and run).

Did not reproduce: AlexNet's figure 1 (a four-layer CNN with ReLU reaches 25 % training error on CIFAR-10
six times faster than with tanh). The same A/B on LeNet-5, each activation at its best Adam learning rate of
1e-3 / 3e-3 / 1e-2, same seed and batches: steps to 0.97 test accuracy ReLU 175 / 75 / 75, tanh 125 / 75 /
50, so tanh was as fast or faster (1.5× faster at the best rates). At this scale the pre-activations stay
small (4 % of the trained tanh network's units beyond |x| = 3) and tanh is nearly linear where it works. The
mechanism does hold and is the target: tanh'(x) = 1 − tanh²(x) < 0.01 for |x| ≥ 3 (checked), the saturated
units of the trained tanh network pass a mean tanh' of 0.0013, and with every weight scaled ×8 at
initialisation (16 % of tanh units saturated) the gradient reaching conv1 is 0.023 × the ReLU network's
(target ≤ 0.1), where ReLU passes gradient 1 through every active unit. Dropout was within noise in planning
(PLUGINS.md) and is not ablated. Quick mode trains 150 steps with the full run's learning rates and the
other four nets 30 steps.
"""

from readtrack.paper_plugin import declare

readtrack_paper_plugins = declare(
    __name__,
    title="Visualizing and Understanding Convolutional Networks",
    arxiv="1311.2901",
    claim="Five CNN generations; stacked 3×3s and 1×1 reductions buy receptive field and width cheaply.",
)
