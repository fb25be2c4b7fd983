"""readtrack.plugin_kit.vision: the shared LeNet-5 and image-classifier training loop, tested once for the
CNN plugins that use them."""

from __future__ import annotations

import pytest
import torch

from readtrack.plugin_kit.images import shapes
from readtrack.plugin_kit.vision import ShapesLeNet, fit_image_classifier, image_accuracy


def test_lenet_shapes_and_sizes() -> None:
    net = ShapesLeNet()
    assert net.features(torch.zeros(3, 1, 16, 16)).shape == (3, 16, 2, 2)
    assert net(torch.zeros(3, 1, 16, 16)).shape == (3, 4)
    assert ShapesLeNet(7, size=24, activation="tanh")(torch.zeros(2, 1, 24, 24)).shape == (2, 7)
    with pytest.raises(ValueError, match="divisible by 4"):
        ShapesLeNet(size=18)


def test_fit_learns_the_shapes_and_repeats_exactly() -> None:
    g = torch.Generator().manual_seed(0)
    x, y = shapes(1000, g)
    xt, yt = shapes(500, g)
    runs = []
    for _ in range(2):
        torch.manual_seed(0)
        net = ShapesLeNet()
        runs.append(fit_image_classifier(net, x, y, steps=120, seed=1))
    assert runs[0] == runs[1]  # same seed, same batches, same losses
    assert not net.training and image_accuracy(net, xt, yt) > 0.9
    assert image_accuracy(net, xt[:0], yt[:0]) == 0.0
