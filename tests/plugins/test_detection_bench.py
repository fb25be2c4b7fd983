"""The detection family bench: its members are the lineage's, each runs its regions through the CNN as its
paper does (its check catches an R-CNN that pools from a shared map, a Fast R-CNN that recomputes the map per
region and a warp without R-CNN's context), the grouping proposes what it says, and Fast R-CNN's claim fails
when it recomputes the features for every region."""

from __future__ import annotations

import torch
from readtrack_plugins.detection_bench import model

from readtrack.plugins import discovery
from readtrack.plugins.lineages import declared
from readtrack.testing import check_catches, failures, reported_claim, run_stage

EXPERIMENT = "readtrack_plugins.detection_bench.experiment"


def _per_region(
    net: torch.nn.Module, images: torch.Tensor, rois: list[torch.Tensor]
) -> tuple[torch.Tensor, ...]:
    """Fast R-CNN's head as R-CNN's cost: the whole image through the CNN again for every region."""
    outs = [
        net.head(net.backbone(images[i : i + 1]), [r[j : j + 1]])  # type: ignore[operator]
        for i, r in enumerate(rois)
        for j in range(len(r))
    ]
    return torch.cat([o[0] for o in outs]), torch.cat([o[1] for o in outs])


def test_every_member_of_the_detection_lineage_is_on_the_bench() -> None:
    family = declared(discovery.discovery(include_user=False).hooks).lineages["detection"]
    assert family.lineage.bench == "detection-bench"
    assert [m.key for m in family.members] == list(model.MEMBERS)
    steps = {m.key: m for m in family.members}
    for key in (model.RCNN, model.FAST):
        assert steps[key].source == "bench" and steps[key].number.startswith(f"{key}: ")
        assert "to come" not in steps[key].what


def test_the_grouping_proposes_each_component_the_unions_and_their_shifts() -> None:
    image = torch.zeros(1, 1, 32, 32)
    image[0, 0, 2:6, 3:8] = 1.0  # box (3, 2, 8, 6)
    image[0, 0, 20:30, 20:25] = 1.0  # box (20, 20, 25, 30)
    image[0, 0, 10, 10] = 1.0  # one stray pixel: not a component
    (found,) = model.components(image)
    assert sorted(found.tolist()) == [[3.0, 2.0, 8.0, 6.0], [20.0, 20.0, 25.0, 30.0]]
    (proposed,) = model.grouping(image)
    centre = proposed.view(-1, 9, 4)[:, 4]  # each group's unshifted box
    assert sorted(centre.tolist()) == [[3.0, 2.0, 8.0, 6.0], [3.0, 2.0, 25.0, 30.0], [20.0, 20.0, 25.0, 30.0]]
    (empty,) = model.grouping(torch.zeros(1, 1, 32, 32))
    assert empty.view(-1, 9, 4)[0, 4].tolist() == [0.0, 0.0, 32.0, 32.0]  # no component: the image itself


def test_the_check_catches_an_r_cnn_that_pools_its_regions_from_a_shared_map(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(f"{EXPERIMENT}.rcnn_head", model.fast_head)
    check_catches(
        "detection-bench",
        "R-CNN runs the CNN every region warped",
        "R-CNN: a region's scores do not change with the image outside",
    )


def test_the_check_catches_a_fast_r_cnn_that_recomputes_the_features_per_region(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(f"{EXPERIMENT}.fast_head", _per_region)
    check_catches("detection-bench", "Fast R-CNN runs the CNN once per image")


def test_the_check_catches_a_warp_without_context(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    real = model.warp
    monkeypatch.setattr(
        f"{EXPERIMENT}.warp", lambda images, rois, crop=model.CROP, context=0: real(images, rois, crop, 0)
    )
    check_catches("detection-bench", "R-CNN's warp vs bilinear interpolation written out")


def test_fast_r_cnns_claim_fails_when_it_recomputes_the_features_per_region(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # Fast R-CNN's test-time saving is its one pass per image: with a pass per region it costs more than
    # R-CNN (a whole image where R-CNN warps a 16 × 16 region), so the FLOPs ratio falls below 1
    monkeypatch.setattr(f"{EXPERIMENT}.fast_head", _per_region)
    # a few steps on a few scenes (a setting: the claim is then reported, held to its threshold)
    result = run_stage("detection-bench", "train", settings={"steps": 2, "scenes": 8, "test_scenes": 4})
    flops = reported_claim(result, f"{model.FAST}: test FLOPs per image, R-CNN's / Fast R-CNN's")
    assert flops.value < 1 and not flops.passed, failures(result)
