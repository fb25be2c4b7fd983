"""plugin_kit.detection, the detector the r-cnn and coco plugins share: box operations on known cases,
anchors and their labels, RoI pooling of a whole map, a training loss that falls, detections in the promised
form, and AP on cases worked by hand. (The plugins' check stages compare each piece with brute force.)"""

from __future__ import annotations

import pytest
import torch

from readtrack.plugin_kit.detection import (
    Detections,
    TinyDetector,
    anchors,
    average_precision,
    box_area,
    box_iou,
    decode,
    detect,
    detector_loss,
    encode,
    match,
    nms,
    roi_pool,
    train_detector,
)


def test_iou_on_known_boxes() -> None:
    a = torch.tensor([[0.0, 0.0, 4.0, 4.0]])
    b = torch.tensor([[0.0, 0.0, 4.0, 4.0], [2.0, 0.0, 6.0, 4.0], [4.0, 0.0, 8.0, 4.0], [1.0, 1.0, 3.0, 3.0]])
    torch.testing.assert_close(box_iou(a, b), torch.tensor([[1.0, 8 / 24, 0.0, 4 / 16]]))
    assert box_iou(a, torch.zeros(0, 4)).shape == (1, 0)


def test_nms_drops_overlaps_above_the_threshold_only() -> None:
    boxes = torch.tensor(
        [[0.0, 0.0, 4.0, 4.0], [0.0, 0.0, 4.0, 3.0], [2.0, 0.0, 6.0, 4.0], [10.0, 10.0, 12.0, 12.0]]
    )
    scores = torch.tensor([0.9, 0.8, 0.7, 0.1])
    assert nms(boxes, scores, 0.5).tolist() == [0, 2, 3]  # IoU 0.75 dropped, 1/3 kept
    assert nms(boxes, scores, 0.2).tolist() == [0, 3]
    assert nms(boxes[:0], scores[:0], 0.5).tolist() == []


def test_encode_and_decode_are_inverse() -> None:
    P = torch.tensor([[0.0, 0.0, 8.0, 8.0], [3.0, 5.0, 7.0, 15.0]], dtype=torch.float64)
    G = torch.tensor([[1.0, -1.0, 9.0, 10.0], [2.0, 5.0, 9.0, 12.0]], dtype=torch.float64)
    torch.testing.assert_close(decode(encode(G, P), P), G)
    torch.testing.assert_close(
        encode(G, P)[0],
        torch.tensor([1 / 8, 0.5 / 8, 0.0, torch.log(torch.tensor(11 / 8)).item()], dtype=torch.float64),
    )


def test_anchors_and_their_labels() -> None:
    a = anchors(2, 3, 4, (8.0, 12.0), "cpu")
    assert a.shape == (12, 4) and set(box_area(a).tolist()) == {64.0, 144.0}
    torch.testing.assert_close(a[0], torch.tensor([-2.0, -2.0, 6.0, 6.0]))  # cell (0, 0), centre (2, 2)
    labels, which = match(torch.tensor([[0.8, 0.1], [0.4, 0.2], [0.1, 0.25]]), 0.5, 0.3)
    assert labels.tolist() == [1, -1, 1] and which.tolist() == [0, 0, 1]  # the last: box 1's best anchor
    labels, _ = match(torch.zeros(3, 0), 0.5, 0.3)
    assert labels.tolist() == [0, 0, 0]  # no boxes: every anchor is background


def test_roi_pooling_one_bin_is_the_max_of_the_window() -> None:
    feats = torch.randn(2, 3, 6, 7, generator=torch.Generator().manual_seed(0))
    whole = roi_pool(feats, torch.tensor([[1.0, 0.0, 0.0, 28.0, 24.0]]), 1, 0.25)
    torch.testing.assert_close(whole[0, :, 0, 0], feats[1].amax(dim=(-2, -1)))
    corner = roi_pool(feats, torch.tensor([[0.0, 0.0, 0.0, 8.0, 4.0]]), 1, 0.25)  # cells (0, 0) and (0, 1)
    torch.testing.assert_close(corner[0, :, 0, 0], feats[0, :, 0, :2].amax(dim=-1))


def test_roi_pooling_without_gradients_finds_the_same_maxima_as_with() -> None:
    g = torch.Generator().manual_seed(0)
    feats = torch.relu(torch.randn(3, 4, 8, 6, generator=g))  # ReLU: many tied zeros
    xy = torch.rand(200, 2, generator=g) * torch.tensor([24.0, 32.0])
    wh = torch.rand(200, 2, generator=g) * 40  # some reach past the map
    rois = torch.cat([torch.randint(0, 3, (200, 1), generator=g).float(), xy, xy + wh], dim=1)
    for size in (1, 2, 3, 4):
        with_grad = roi_pool(feats.clone().requires_grad_(), rois, size, 0.25)
        with torch.no_grad():
            assert torch.equal(roi_pool(feats, rois, size, 0.25), with_grad.detach()), size


def test_training_lowers_the_loss_and_detect_returns_sorted_detections() -> None:
    torch.manual_seed(0)
    images = torch.zeros(2, 1, 32, 32)
    images[0, 0, 4:13, 4:13] = 1.0
    images[1, 0, 12:23, 10:21] = 1.0
    boxes = [torch.tensor([[4.0, 4.0, 13.0, 13.0]]), torch.tensor([[10.0, 12.0, 21.0, 23.0]])]
    labels = [torch.tensor([1]), torch.tensor([2])]
    model = TinyDetector(4)
    before = float(torch.stack(detector_loss(model, images, boxes, labels)).sum().detach())
    train_detector(
        model, images, boxes, labels, steps=30, batch=2, lr=3e-3, g=torch.Generator().manual_seed(0)
    )
    after = float(torch.stack(detector_loss(model, images, boxes, labels)).sum().detach())
    assert after < 0.5 * before
    for found in detect(model, images):
        assert found.boxes.shape == (len(found.scores), 4) and len(found.labels) == len(found.scores)
        assert bool((found.scores[:-1] >= found.scores[1:]).all()) and len(found.scores) <= 100


def test_without_any_box_regression_every_detection_is_an_anchor_clipped_to_the_image() -> None:
    """coco's "without box regression" arm: the RPN's best-scored anchors where they are, no delta applied
    in either stage; with regression on, the same network's boxes move off the anchor grid."""
    torch.manual_seed(0)
    model = TinyDetector(4)
    with torch.no_grad():  # deltas large enough that a regressed box is never an anchor
        for p in model.parameters():
            p.normal_(0.0, 0.3)
    images = torch.rand(2, 1, 32, 32)
    grid = anchors(8, 8, model.stride, model.sizes, images.device).clamp(0, 32)
    for regress, expect_anchors in ((False, True), (True, False)):
        for found in detect(model, images, regress=regress, rpn_regress=regress, threshold=0.0):
            assert len(found.boxes) > 0
            on_grid = (found.boxes[:, None, :] == grid[None]).all(-1).any(-1)
            assert bool(on_grid.all()) == expect_anchors, (regress, on_grid)


def test_average_precision_on_cases_worked_by_hand() -> None:
    gt, lab = [torch.tensor([[0.0, 0.0, 10.0, 10.0], [20.0, 20.0, 30.0, 30.0]])], [torch.tensor([0, 0])]
    miss = [50.0, 50.0, 60.0, 60.0]

    def dets(*boxes: list[float]) -> list[Detections]:
        return [
            Detections(
                torch.tensor(boxes),
                torch.tensor([0.9, 0.8, 0.7][: len(boxes)]),
                torch.zeros(len(boxes), dtype=torch.long),
            )
        ]

    assert average_precision(dets(*gt[0].tolist()), gt, lab, 1) == pytest.approx(1.0)
    assert average_precision(dets([0.0, 0.0, 10.0, 10.0], miss), gt, lab, 1) == pytest.approx(0.5)
    assert average_precision(dets(miss, [0.0, 0.0, 10.0, 10.0]), gt, lab, 1) == pytest.approx(0.25)
    assert average_precision(
        dets([0.0, 0.0, 10.0, 10.0], [0.0, 0.0, 10.0, 10.0]), gt, lab, 1
    ) == pytest.approx(0.5)  # a duplicate is a false positive


def test_an_image_without_objects_trains_as_background() -> None:
    torch.manual_seed(0)
    model = TinyDetector(4)
    boxes = [torch.zeros(0, 4), torch.tensor([[1.0, 1.0, 9.0, 9.0]])]
    labels = [torch.zeros(0, dtype=torch.long), torch.tensor([1])]
    rpn, head = detector_loss(model, torch.zeros(2, 1, 32, 32), boxes, labels)
    (rpn + head).backward()
    assert torch.isfinite(rpn) and torch.isfinite(head)
