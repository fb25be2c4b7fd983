"""The deepdream plugin: jitter and the octave resize against naive versions on more shapes, a dream's
shape and determinism, the high-frequency measure, and checks that fail for a resize that aligns corners
or a dreaming step that descends instead of ascending."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from readtrack_plugins.deepdream.experiment import bilinear_formula, high_frequency_share, jitter_loop
from readtrack_plugins.deepdream.model import DreamConfig, dream, jitter, objective, octave_resize

from readtrack.plugin_kit.vision import ShapesLeNet
from readtrack.testing import check_catches, failures, run_stage


@pytest.mark.parametrize(
    ("shape", "dy", "dx"), [((2, 3, 4, 9), 1, 1), ((1, 1, 7, 3), -8, 0), ((1, 2, 2, 2), 5, -5)]
)
def test_jitter_equals_the_loop(shape: tuple[int, ...], dy: int, dx: int) -> None:
    x = torch.randn(shape)
    torch.testing.assert_close(jitter(x, dy, dx), jitter_loop(x, dy, dx))


@pytest.mark.parametrize(("side", "size"), [(3, 16), (16, 3), (7, 9), (9, 7), (2, 2)])
def test_the_octave_resize_equals_the_bilinear_formula(side: int, size: int) -> None:
    x = torch.randn(2, 3, side, side, dtype=torch.float64)
    torch.testing.assert_close(octave_resize(x, size), bilinear_formula(x, size))


def test_a_dream_is_deterministic_and_raises_its_class() -> None:
    torch.manual_seed(0)
    net = ShapesLeNet()
    c = torch.tensor([2, 0])
    config = DreamConfig(steps=20, lr=0.1, l2=1e-3, max_jitter=2, octaves=(8, 16))
    a = dream(net, c, config, torch.Generator().manual_seed(0))
    b = dream(net, c, config, torch.Generator().manual_seed(0))
    assert a.shape == (2, 1, 16, 16) and torch.equal(a, b)
    start = 0.01 * torch.randn(2, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        before = F.log_softmax(net(octave_resize(start, 16)), -1)[[0, 1], c]
        after = F.log_softmax(net(a), -1)[[0, 1], c]
    assert bool((after > before).all())
    assert float(objective(net, a, c, 0.0)) == pytest.approx(float(after.sum()), rel=1e-5)


def test_a_dream_from_zero_is_stuck_where_every_first_relu_is_off_and_moves_from_a_mean_image() -> None:
    # Seed 10's LeNet had every conv1 bias negative: around the zero image no first-layer ReLU fires, the
    # gradient is exactly 0 and the dream never moves; from the mean training image it climbs.
    torch.manual_seed(0)
    net = ShapesLeNet()
    with torch.no_grad():
        net.conv1.bias.fill_(-0.1)  # type: ignore[union-attr]
    c = torch.tensor([0, 1, 2, 3])
    config = DreamConfig(steps=10, lr=0.1, l2=0.0, max_jitter=0, octaves=(16,))
    noise = 0.01 * torch.randn(4, 1, 16, 16, generator=torch.Generator().manual_seed(0))
    stuck = dream(net, c, config, torch.Generator().manual_seed(0))
    assert torch.equal(stuck, noise)
    start = torch.full((1, 1, 16, 16), 0.5)
    moved = dream(net, c, config, torch.Generator().manual_seed(0), start=start)
    with torch.no_grad():
        before = F.log_softmax(net(noise + start), -1)[range(4), c]
        after = F.log_softmax(net(moved), -1)[range(4), c]
    assert bool((after > before).all())


def test_high_frequency_share_of_smooth_and_checkerboard_images() -> None:
    yy, xx = torch.meshgrid(torch.arange(16.0), torch.arange(16.0), indexing="ij")
    smooth = torch.cos(2 * torch.pi * xx / 16).view(1, 1, 16, 16)
    checker = ((yy + xx) % 2).view(1, 1, 16, 16)
    assert float(high_frequency_share(smooth)) < 1e-10
    assert float(high_frequency_share(checker)) == pytest.approx(1.0)


def corners_aligned(x: torch.Tensor, size: int) -> torch.Tensor:
    return F.interpolate(x, size=(size, size), mode="bilinear", align_corners=True)


def descends(net, image, c, l2):  # type: ignore[no-untyped-def]
    """The objective with its sign flipped: the dream would minimise p_c."""
    return -(F.log_softmax(net(image), dim=-1).gather(1, c[:, None]).sum() - l2 * image.square().sum())


@pytest.mark.parametrize(
    ("target", "broken", "caught_by"),
    [
        ("readtrack_plugins.deepdream.experiment.octave_resize", corners_aligned, "octave resize vs"),
        ("readtrack_plugins.deepdream.model.objective", descends, "one dreaming step"),
    ],
)
def test_the_check_stage_catches_aligned_corners_or_a_descending_step(
    monkeypatch: pytest.MonkeyPatch, target: str, broken: object, caught_by: str
) -> None:
    monkeypatch.setattr(target, broken)
    check_catches("deepdream", caught_by)


def no_ascent(net, c, config, g, size=16, start=None):  # type: ignore[no-untyped-def]
    """Dreaming removed: the start (the mean image plus noise), never climbed."""
    side = config.octaves[0]
    x = 0.01 * torch.randn(len(c), 1, side, side, generator=g)
    if start is not None:
        x = x + octave_resize(start, side)
    return x.to(next(net.parameters()).device)


def test_the_train_stage_fails_without_gradient_ascent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("readtrack_plugins.deepdream.experiment.dream", no_ascent)
    result = run_stage("deepdream", "train")
    assert result.verdict() == "failed"
    failed = [t.name for t in result.targets if not t.passed]
    assert any(name.startswith("plain gradient ascent: dreamed p_c") for name in failed), failures(result)
