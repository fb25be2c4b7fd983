"""The coco plugin: COCO's metric against the official evaluator (pycocotools, the ``test`` extra) on more
random cases, tied scores included, and against the naive reference; the protocol's constants; and checks
that fail for an evaluator that forgets the detection limits or the area ranges."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from readtrack_plugins.coco import model
from readtrack_plugins.coco.experiment import naive_ap, official, random_case
from readtrack_plugins.coco.model import IOU_THRESHOLDS, RECALL_POINTS, coco_evaluate

from readtrack.plugin_kit.detection import Detections
from readtrack.testing import check_catches, failures, reported_claim, run_stage

pytest.importorskip("pycocotools")


def test_the_thresholds_are_the_official_ones_to_the_bit() -> None:
    assert np.linspace(0.5, 0.95, 10).tolist() == IOU_THRESHOLDS
    assert np.linspace(0.0, 1.0, 101).tolist() == RECALL_POINTS


@pytest.mark.parametrize(("seed", "images", "classes"), [(1, 3, 2), (2, 15, 3), (3, 40, 5)])
def test_equal_to_pycocotools_on_random_detections(seed: int, images: int, classes: int) -> None:
    case = random_case(images, classes, torch.Generator().manual_seed(seed))
    ours = coco_evaluate(*case, classes)
    stats, precision, recall = official(case, classes)
    assert ours.stats == pytest.approx(stats, abs=1e-12)
    torch.testing.assert_close(ours.precision, precision, atol=1e-12, rtol=0)
    torch.testing.assert_close(ours.recall, recall, atol=1e-12, rtol=0)
    naive = naive_ap(case, classes, 0.5)
    assert ours.stats[1] == pytest.approx(naive[0], abs=1e-12)


def test_a_case_without_true_boxes_is_minus_one_everywhere_as_in_pycocotools() -> None:
    # The check's 1-image case draws no true box on seed 1: the naive reference divided by zero there.
    dets, boxes, labels = random_case(1, 2, torch.Generator().manual_seed(1))
    assert sum(len(b) for b in boxes) == 0
    ours = coco_evaluate(dets, boxes, labels, 2)
    stats, _, _ = official((dets, boxes, labels), 2)
    assert ours.stats == pytest.approx(stats) and set(stats) == {-1.0}
    assert naive_ap((dets, boxes, labels), 2, 0.5) == (-1.0, -1.0)


def test_equal_to_pycocotools_with_tied_scores_and_small_medium_large_boxes() -> None:
    dets, boxes, labels = random_case(25, 3, torch.Generator().manual_seed(7))
    tied = [Detections(d.boxes, torch.round(d.scores * 4) / 4, d.labels) for d in dets]  # 5 score values
    ours = coco_evaluate(tied, boxes, labels, 3)
    stats, precision, _ = official((tied, boxes, labels), 3)
    assert ours.stats == pytest.approx(stats, abs=1e-12)
    torch.testing.assert_close(ours.precision, precision, atol=1e-12, rtol=0)
    assert all(v != -1 for v in ours.stats[3:6]), "the case should hold small, medium and large boxes"


def test_no_detections_score_zero_and_a_class_without_boxes_is_left_out() -> None:
    boxes = [torch.tensor([[0.0, 0.0, 10.0, 10.0]], dtype=torch.float64)]
    labels = [torch.tensor([0])]
    empty = [
        Detections(
            torch.zeros(0, 4, dtype=torch.float64),
            torch.zeros(0, dtype=torch.float64),
            torch.zeros(0, dtype=torch.long),
        )
    ]
    result = coco_evaluate(empty, boxes, labels, 2)
    assert result.stats[0] == 0.0 and result.stats[8] == 0.0
    assert bool((result.precision[:, :, 1] == -1).all())  # class 1 has no box: −1, left out of the means


def ignores_the_detection_limit(images: list[model.ImageMatches], max_det: int) -> object:
    """Broken: every detection counts, whatever the limit (AR@1 and AR@10 come out too high)."""
    return original_precision_recall(images, 100)


original_precision_recall = model.precision_recall


@pytest.mark.parametrize(
    ("target", "broken"),
    [
        ("readtrack_plugins.coco.model.precision_recall", ignores_the_detection_limit),
        (
            "readtrack_plugins.coco.model.AREAS",
            dict.fromkeys(("all", "small", "medium", "large"), (0.0, 1e10)),
        ),
    ],
)
def test_the_check_stage_catches_a_missing_detection_limit_or_area_range(
    monkeypatch: pytest.MonkeyPatch, target: str, broken: object
) -> None:
    monkeypatch.setattr(target, broken)
    check_catches("coco", "the twelve summary numbers vs pycocotools")


def test_the_train_stage_fails_with_a_metric_at_iou_half_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Remove the idea (AP averaged over IoU .50:.95): every threshold 0.5, so "AP@[.5:.95]" is AP50 and
    both numbers on what the averaged metric sees must miss their claims: the target fails, and the relative
    gain (reported, not asserted, at quick size) lands below its threshold."""
    monkeypatch.setattr("readtrack_plugins.coco.model.IOU_THRESHOLDS", [0.5] * 10)
    result = run_stage("coco", "train")
    assert result.verdict() == "failed"
    failed = [t.name for t in result.targets if not t.passed]
    assert any(name.startswith("the averaged metric sees imprecise boxes") for name in failed), failures(
        result
    )
    gain = reported_claim(result, "box regression's relative gain")
    assert not gain.passed, gain
