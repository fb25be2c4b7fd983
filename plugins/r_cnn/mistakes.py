"""Classic mistakes in R-CNN's non-maximum suppression, for ``readtrack practice``: its check must catch
each (tests/practice/test_practice.py)."""

from __future__ import annotations

import torch

from readtrack.api import mistake
from readtrack.plugin_kit.detection import box_iou


@mistake("nms", fails="NMS keeps what the brute-force loop keeps, 12 boxes")
def nms(boxes: torch.Tensor, scores: torch.Tensor, threshold: float) -> torch.Tensor:
    """Visits the boxes in input order instead of score order: an early low-scoring box suppresses a later,
    better one, and the kept indices are not best first."""
    over = (box_iou(boxes, boxes) > threshold).tolist()
    alive = [True] * len(boxes)
    for i in range(len(boxes)):
        if alive[i]:
            for j in range(i + 1, len(boxes)):
                alive[j] = alive[j] and not over[i][j]
    return torch.arange(len(boxes), device=boxes.device)[torch.tensor(alive, dtype=torch.bool)]


@mistake("nms", fails="NMS with equal scores keeps them in input order")
def nms_sorted_ascending_then_flipped(
    boxes: torch.Tensor, scores: torch.Tensor, threshold: float
) -> torch.Tensor:
    """Sorts ascending and flips for best first: right for distinct scores, but boxes of equal score come out
    in reverse input order, so of two equal boxes the later one is kept."""
    order = scores.argsort().flip(0)
    over = (box_iou(boxes[order], boxes[order]) > threshold).tolist()
    alive = [True] * len(order)
    for i in range(len(order)):
        if alive[i]:
            for j in range(i + 1, len(order)):
                alive[j] = alive[j] and not over[i][j]
    return order[torch.tensor(alive, dtype=torch.bool, device=boxes.device)]


@mistake("nms", fails="NMS returns a (K,) int64 tensor on boxes' device, 0 boxes")
def nms_kept_as_a_list(boxes: torch.Tensor, scores: torch.Tensor, threshold: float) -> torch.Tensor:
    """Collects the kept indices in a Python list and returns torch.tensor(kept): a long tensor on the CPU
    when something is kept, but float32 when no box is given, and never on boxes' device."""
    left = torch.sort(scores, descending=True, stable=True).indices.tolist()
    kept = []
    while left:
        best = left.pop(0)
        kept.append(best)
        iou = box_iou(boxes[best : best + 1], boxes[left]).flatten().tolist() if left else []
        left = [i for i, overlap in zip(left, iou, strict=True) if overlap <= threshold]
    return torch.tensor(kept)
