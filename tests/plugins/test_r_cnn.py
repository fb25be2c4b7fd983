"""The r-cnn plugin: IoU, NMS, the box parameterisation and RoI pooling against the check stage's brute-force
references on more cases, and checks that fail for NMS that keeps the overlapping box or RoI pooling that
drops the window's last cell. The detector itself is tested in
``tests/plugin_kit/test_plugin_kit_detection.py``."""

from __future__ import annotations

import pytest
import torch
from readtrack_plugins.r_cnn.experiment import (
    brute_force_nms,
    naive_roi_pool,
    pixel_iou,
    random_boxes,
    scalar_encode,
)
from readtrack_plugins.r_cnn.model import TinyDetector, box_iou, decode, encode, nms, roi_pool

from readtrack.testing import check_catches, failures, reported_claim, run_stage


def test_iou_equals_counting_pixels_on_random_integer_boxes() -> None:
    g = torch.Generator().manual_seed(0)
    lo = torch.randint(0, 10, (30, 2), generator=g)
    boxes = torch.cat([lo, lo + torch.randint(1, 6, (30, 2), generator=g)], 1)
    ref = torch.tensor(
        [[pixel_iou(a, b) for b in boxes.tolist()] for a in boxes.tolist()], dtype=torch.float64
    )
    torch.testing.assert_close(box_iou(boxes.double(), boxes.double()), ref)
    assert torch.equal(box_iou(boxes.double(), boxes.double()).diag(), torch.ones(30, dtype=torch.float64))


@pytest.mark.parametrize(("n", "threshold"), [(2, 0.5), (25, 0.1), (60, 0.5), (60, 0.7)])
def test_nms_equals_the_brute_force_loop(n: int, threshold: float) -> None:
    g = torch.Generator().manual_seed(n)
    boxes, scores = random_boxes(n, g, extent=8.0), torch.rand(n, generator=g, dtype=torch.float64)
    kept = nms(boxes, scores, threshold)
    assert kept.tolist() == brute_force_nms(boxes.tolist(), scores.tolist(), threshold)
    iou = box_iou(boxes[kept], boxes[kept])
    assert bool((iou.fill_diagonal_(0) <= threshold).all())  # no two kept boxes overlap by more than θ


def test_encode_decode_are_inverse_and_match_the_formulas() -> None:
    g = torch.Generator().manual_seed(1)
    G, P = random_boxes(50, g), random_boxes(50, g)
    t = encode(G, P)
    torch.testing.assert_close(
        t,
        torch.tensor(
            [scalar_encode(a, b) for a, b in zip(G.tolist(), P.tolist(), strict=True)], dtype=torch.float64
        ),
    )
    torch.testing.assert_close(decode(t, P), G)
    torch.testing.assert_close(encode(P, P), torch.zeros_like(t))  # a proposal already right: t = 0
    shifted = P + torch.tensor([2.0, 0.0, 2.0, 0.0], dtype=torch.float64)  # moved right by 2 pixels
    torch.testing.assert_close(encode(shifted, P)[:, 0], 2.0 / (P[:, 2] - P[:, 0]))  # scale-invariant t_x


@pytest.mark.parametrize(
    ("shape", "size", "scale"),
    [((1, 2, 4, 4), 2, 0.25), ((3, 1, 9, 6), 4, 0.25), ((1, 4, 5, 5), 5, 1.0), ((2, 2, 8, 8), 1, 0.5)],
)
def test_roi_pooling_equals_the_loop(shape: tuple[int, int, int, int], size: int, scale: float) -> None:
    g = torch.Generator().manual_seed(size)
    B, _, H, W = shape
    feats = torch.randn(*shape, generator=g, dtype=torch.float64)
    xy = torch.rand(10, 2, generator=g, dtype=torch.float64) * torch.tensor([W, H]) / scale
    wh = torch.rand(10, 2, generator=g, dtype=torch.float64) * torch.tensor([W, H]) / scale
    rois = torch.cat([torch.randint(0, B, (10, 1), generator=g).double(), xy, xy + wh], 1)
    torch.testing.assert_close(roi_pool(feats, rois, size, scale), naive_roi_pool(feats, rois, size, scale))


def test_roi_pooling_of_the_whole_map_into_one_bin_is_the_global_max() -> None:
    feats = torch.randn(2, 3, 6, 7, generator=torch.Generator().manual_seed(0))
    rois = torch.tensor([[1.0, 0.0, 0.0, 28.0, 24.0]])
    torch.testing.assert_close(roi_pool(feats, rois, 1, 0.25)[0, :, 0, 0], feats[1].amax(dim=(-2, -1)))


def keeps_overlaps(boxes: torch.Tensor, scores: torch.Tensor, threshold: float) -> torch.Tensor:
    """Broken NMS: compares IoU ≥ θ the wrong way, keeping the overlapping boxes and dropping the rest."""
    order = torch.sort(scores, descending=True).indices
    iou = box_iou(boxes[order], boxes[order])
    alive = torch.ones(len(order), dtype=torch.bool)
    for i in range(len(order)):
        if alive[i]:
            alive[i + 1 :] &= iou[i, i + 1 :] > threshold
    return order[alive]


def drops_last_cell(features: torch.Tensor, rois: torch.Tensor, size: int, scale: float) -> torch.Tensor:
    """Broken RoI pooling: the window ends at floor(x1·scale), losing the cell the box ends in."""
    shrunk = rois.clone()
    shrunk[:, 3:] = torch.floor(rois[:, 3:] * scale) / scale - 1e-6
    return roi_pool(features, shrunk, size, scale)


@pytest.mark.parametrize(
    ("target", "broken", "caught_by"),
    [
        (
            "readtrack_plugins.r_cnn.experiment.nms",
            keeps_overlaps,
            "NMS keeps what the brute-force loop keeps",
        ),
        ("readtrack_plugins.r_cnn.experiment.roi_pool", drops_last_cell, "RoI pooling vs a loop"),
    ],
)
def test_the_check_stage_catches_wrong_nms_or_roi_pooling(
    monkeypatch: pytest.MonkeyPatch, target: str, broken: object, caught_by: str
) -> None:
    monkeypatch.setattr(target, broken)
    check_catches("r-cnn", caught_by)


def random_proposals(
    self: TinyDetector,
    anchor: torch.Tensor,
    logits: torch.Tensor,
    deltas: torch.Tensor,
    size: object,
    n: int,
    *,
    regress: bool = True,
) -> list[torch.Tensor]:
    """No region proposal network: n anchors drawn at random per image (torch's generator, which the runner
    seeds), in training and at test time."""
    return [anchor[torch.randperm(len(anchor), device=anchor.device)[:n]] for _ in range(len(logits))]


def test_the_train_stage_fails_with_random_anchors_in_place_of_the_proposals(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(TinyDetector, "propose", random_proposals)
    result = run_stage("r-cnn", "train")
    failed = [t.name for t in result.targets if not t.passed]
    assert any(name.startswith("AP50, RPN's 16 proposals minus all") for name in failed), failures(result)
    ap50 = reported_claim(result, "AP50 with RPN proposals")  # reported, not asserted, at quick size
    assert not ap50.passed, ap50
