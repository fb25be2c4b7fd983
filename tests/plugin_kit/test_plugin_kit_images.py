"""The shared procedural images (readtrack.plugin_kit.images) and the Gaussian ring (plugin_kit.tasks),
tested once for every plugin that uses them."""

from __future__ import annotations

import itertools
import math

import torch

from readtrack.plugin_kit.images import (
    SHAPES,
    bars,
    bars_log_likelihood,
    bouncing_balls,
    scenes,
    shape_masks,
    shapes,
    text_art,
)
from readtrack.plugin_kit.tasks import gaussian_ring, ring_centres, ring_coverage


def test_each_shape_fits_its_square_and_the_four_differ() -> None:
    r = torch.tensor([3, 3, 3, 3])
    masks = shape_masks(torch.arange(4), torch.full((4,), 5), torch.full((4,), 6), r, 12, 13)
    assert masks.shape == (4, 12, 13)
    box = torch.zeros(12, 13, dtype=torch.bool)
    box[2:9, 3:10] = True
    for i, name in enumerate(SHAPES):
        assert bool(masks[i].any()) and not bool((masks[i] & ~box).any()), name
        xs = masks[i].nonzero(as_tuple=True)[1]
        assert int(xs.min()) == 3 and int(xs.max()) == 9, name  # every shape is 2r + 1 wide
    assert len({tuple(m.flatten().tolist()) for m in masks}) == 4
    assert int(masks[0].sum()) == 24 and int(masks[2].sum()) == 13  # outline 8r, plus 4r + 1


def test_shapes_are_seeded_labelled_and_noisy() -> None:
    x, y = shapes(512, torch.Generator().manual_seed(0))
    x2, y2 = shapes(512, torch.Generator().manual_seed(0))
    assert torch.equal(x, x2) and torch.equal(y, y2) and x.shape == (512, 1, 16, 16)
    assert set(y.tolist()) == {0, 1, 2, 3} and torch.bincount(y).min() > 80
    clean = (x > 0.5).float()
    assert 0.05 < float((x - clean).std()) < 0.15  # the noise
    # A class is told apart by its pixel count at a given radius: the labels mean the shapes they name.
    assert float(clean[y == 1].mean()) > float(clean[y == 0].mean()) > float(clean[y == 2].mean())


def test_scenes_place_non_overlapping_objects_with_tight_boxes_and_class_maps() -> None:
    s = scenes(40, torch.Generator().manual_seed(1), size=(24, 32), objects=(1, 3), noise=0.0)
    assert len(s) == 40 and s.images.shape == (40, 1, 24, 32) and s.classes.shape == (40, 24, 32)
    counts = [len(b) for b in s.boxes]
    assert min(counts) >= 1 and max(counts) == 3
    for i in range(40):
        assert len(s.labels[i]) == len(s.boxes[i])
        for box, label in zip(s.boxes[i].long().tolist(), s.labels[i].tolist(), strict=True):
            x0, y0, x1, y1 = box
            inside = s.classes[i, y0:y1, x0:x1]
            assert bool((inside == label + 1).any())
            # tight: the box's border rows and columns each hold a pixel of the object
            obj = inside == label + 1
            assert bool(obj[0].any() and obj[-1].any() and obj[:, 0].any() and obj[:, -1].any())
        assert torch.equal(s.images[i, 0] > 0.5, s.classes[i] > 0)


def test_bars_log_likelihood_is_exact_against_enumerating_every_bar_configuration() -> None:
    S, p = 3, 0.3
    probs: dict[tuple[int, ...], float] = {}
    for config in itertools.product([0, 1], repeat=2 * S):
        rows, cols = torch.tensor(config[:S]).bool(), torch.tensor(config[S:]).bool()
        image = (rows.view(S, 1) | cols.view(1, S)).flatten()
        k = sum(config)
        key = tuple(image.int().tolist())
        probs[key] = probs.get(key, 0.0) + p**k * (1 - p) ** (2 * S - k)
    images = torch.tensor(list(probs)).float().view(-1, 1, S, S)
    expected = torch.tensor([math.log(v) for v in probs.values()], dtype=torch.float64)
    torch.testing.assert_close(bars_log_likelihood(images, p), expected)
    impossible = torch.zeros(1, 1, S, S)
    impossible[0, 0, 0, 0] = 1.0  # one lone pixel is no bar
    assert bars_log_likelihood(impossible, p).item() == -math.inf


def test_bars_samples_follow_their_likelihood() -> None:
    x = bars(4000, torch.Generator().manual_seed(0), size=8, p=0.2)
    assert x.shape == (4000, 1, 8, 8) and set(x.unique().tolist()) == {0.0, 1.0}
    assert abs(float(x.mean()) - (1 - 0.8**2)) < 0.01  # a pixel is off when its row and column bars are
    nll = -bars_log_likelihood(x, 0.2)
    assert bool(torch.isfinite(nll).all())
    # Monte Carlo entropy of the 16 bars (the image hides a little of it): below 16 H(0.2) = 8.01 nats.
    assert 7.0 < float(nll.mean()) < 16 * -(0.2 * math.log(0.2) + 0.8 * math.log(0.8))


def test_bouncing_balls_move_at_constant_speed_and_stay_inside() -> None:
    v = bouncing_balls(16, 30, torch.Generator().manual_seed(0), size=10, radius=1.5, speed=1.0)
    assert v.shape == (16, 30, 10, 10) and set(v.unique().tolist()) == {0.0, 1.0}
    assert bool((v.sum(dim=(2, 3)) >= 4).all())  # a disc of radius 1.5 covers 4 to 9 pixels: never cut off
    grid = torch.arange(10).float()
    cy = (v.sum(3) * grid).sum(2) / v.sum((2, 3))
    cx = (v.sum(2) * grid).sum(2) / v.sum((2, 3))
    step = torch.sqrt(cy.diff(dim=1) ** 2 + cx.diff(dim=1) ** 2)
    assert 0.5 < float(step.median()) < 1.5  # about one pixel a frame (pixel centroids, reflections)


def test_gaussian_ring_and_its_coverage_measure() -> None:
    g = torch.Generator().manual_seed(0)
    points = gaussian_ring(4000, g)
    assert points.shape == (4000, 2)
    assert ring_coverage(points) == (8, 1.0) or ring_coverage(points)[1] > 0.99
    assert ring_coverage(points)[0] == 8
    one_mode = ring_centres()[3] + 0.02 * torch.randn(1000, 2, generator=g)
    assert ring_coverage(one_mode)[0] == 1
    assert ring_coverage(torch.zeros(100, 2)) == (0, 0.0)


def test_text_art_draws_dark_to_bright() -> None:
    image = torch.tensor([[0.0, 1.0], [0.5, 0.0]])
    assert text_art(image) == " █\n▒ "
    assert text_art(image.unsqueeze(0)) == text_art(image)
