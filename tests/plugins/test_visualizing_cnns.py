"""The visualizing-cnns plugin: the three projection rules against autograd on more shapes, unpooling against
torch's, occlusion against a loop, the distractor data and the box statistic, and checks that fail for a
deconvnet that keeps the forward ReLU mask or an occluding square off by one pixel."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from readtrack_plugins.visualizing_cnns import model
from readtrack_plugins.visualizing_cnns.experiment import (
    PATCH,
    autograd_projection,
    box_share,
    occlusion_loop,
    shapes_with_distractor,
    top_pixels,
)
from readtrack_plugins.visualizing_cnns.model import RULES, occlusion, project, unpool

from readtrack.plugin_kit.vision import ShapesLeNet
from readtrack.testing import check_catches, failures, run_stage


@pytest.mark.parametrize(("batch", "size"), [(1, 12), (3, 20), (2, 32)])
def test_each_rule_equals_autograd_with_its_relu_backward(batch: int, size: int) -> None:
    torch.manual_seed(size)
    net = ShapesLeNet(size=size).double()
    x = torch.randn(batch, 1, size, size, dtype=torch.float64)
    c = torch.arange(batch) % 4
    for rule in RULES:
        torch.testing.assert_close(project(net, x, c, rule), autograd_projection(net, x, c, rule))
    with pytest.raises(ValueError, match="unknown rule"):
        project(net, x, c, "lrp")


def test_unpooling_equals_torchs_max_unpool() -> None:
    z = torch.randn(2, 3, 8, 6, dtype=torch.float64)
    pooled, switches = F.max_pool2d(z, 2, return_indices=True)
    r = torch.randn_like(pooled)
    torch.testing.assert_close(unpool(r, switches), F.max_unpool2d(r, switches, (2, 2), output_size=(8, 6)))


def test_occlusion_equals_the_loop_with_a_larger_square() -> None:
    torch.manual_seed(0)
    net = ShapesLeNet(size=12).double()
    x = torch.randn(2, 1, 12, 12, dtype=torch.float64)
    c = torch.tensor([1, 3])
    torch.testing.assert_close(occlusion(net, x, c, k=5), occlusion_loop(net, x, c, k=5))


def test_the_distractor_data() -> None:
    x, y, obj, dis = shapes_with_distractor(300, torch.Generator().manual_seed(0), "cpu")
    assert x.shape == (300, 1, 24, 24) and set(y.tolist()) == {0, 1, 2, 3}
    assert bool(((dis[:, 2] - dis[:, 0]) == PATCH).all())
    for i in range(300):
        y0, x0, y1, x1 = obj[i].tolist()
        a0, b0, a1, b1 = dis[i].tolist()
        assert a1 < y0 or a0 > y1 or b1 < x0 or b0 > x1  # apart
        bright = x[i, 0] > 0.5
        assert bool(bright[y0:y1, x0:x1].any()) and bool(bright[a0:a1, b0:b1].sum() >= 5)


def test_box_share_is_one_for_a_flat_map_and_the_inverse_area_inside() -> None:
    boxes = torch.tensor([[0, 0, 4, 4], [2, 3, 10, 5]])
    torch.testing.assert_close(box_share(torch.ones(2, 10, 10), boxes), torch.ones(2, dtype=torch.float64))
    inside = torch.zeros(2, 10, 10)
    inside[0, :4, :4] = 1
    inside[1, 2:10, 3:5] = 2
    torch.testing.assert_close(
        box_share(inside, boxes), torch.tensor([100 / 16, 100 / 16], dtype=torch.float64)
    )


def keeps_the_mask(r: torch.Tensor, z: torch.Tensor, rule: str) -> torch.Tensor:
    """A deconvnet that is just the gradient: the forward ReLU mask instead of rectifying the signal."""
    return r * (z > 0)


def off_by_one(net, x, c, k=3, fill=0.0, chunk=4096):  # type: ignore[no-untyped-def]
    """An occluding square shifted one pixel down and right of the place it is recorded at."""
    shifted = occlusion(net, x, c, k, fill, chunk)
    return torch.roll(shifted, (1, 1), dims=(1, 2))


@pytest.mark.parametrize(
    ("target", "broken", "caught_by"),
    [
        ("readtrack_plugins.visualizing_cnns.model._through_relu", keeps_the_mask, "deconvnet projection vs"),
        ("readtrack_plugins.visualizing_cnns.experiment.occlusion", off_by_one, "occlusion map"),
    ],
)
def test_the_check_stage_catches_a_masked_deconvnet_or_a_shifted_occluder(
    monkeypatch: pytest.MonkeyPatch, target: str, broken: object, caught_by: str
) -> None:
    assert model.RULES == RULES
    monkeypatch.setattr(target, broken)
    check_catches("visualizing-cnns", caught_by)


def test_the_train_stage_fails_for_a_network_that_never_learnt(monkeypatch: pytest.MonkeyPatch) -> None:
    # Without training the maps are an untrained network's: saliency no longer concentrates on the object.
    monkeypatch.setattr(
        "readtrack_plugins.visualizing_cnns.experiment.fit_image_classifier", lambda *a, **k: []
    )
    result = run_stage("visualizing-cnns", "train")
    assert result.verdict() == "failed"
    failed = [t.name for t in result.targets if not t.passed]
    assert "test accuracy with a distractor in every image" in failed, failures(result)
    # the paired A/B compares the network with itself before training: exactly no preference, 1/2
    (ab,) = [t for t in result.targets if t.name.startswith("saliency, trained vs untrained")]
    assert ab.value == 0.5, failures(result)


def test_top_pixels_marks_each_maps_largest_five_percent() -> None:
    maps = torch.arange(2 * 10 * 10, dtype=torch.float64).view(2, 10, 10)
    maps[1] = maps[1].flip(0)
    top = top_pixels(maps)
    assert top.sum(dim=(1, 2)).tolist() == [5.0, 5.0]  # ⌈0.05 · 100⌉ of each map
    assert top[0, 9, 5:].tolist() == [1.0] * 5 and top[1, 0, 5:].tolist() == [1.0] * 5
