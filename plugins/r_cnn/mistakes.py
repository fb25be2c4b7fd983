"""The classic mistake in R-CNN's non-maximum suppression, for ``readtrack practice``: its check must catch
it (tests/test_practice.py)."""

from __future__ import annotations

import torch

from readtrack.plugin_kit.detection import box_iou
from readtrack.practice import mistake


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
