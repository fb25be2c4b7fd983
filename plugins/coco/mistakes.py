"""The classic mistake in COCO's AP, for ``readtrack practice``: its check must catch it
(tests/practice/test_practice.py)."""

from __future__ import annotations

import torch

from readtrack.api import mistake

from .model import RECALL_POINTS, ImageMatches


@mistake("precision_recall", fails="the twelve summary numbers vs pycocotools")
def precision_recall(images: list[ImageMatches], max_det: int) -> tuple[torch.Tensor, torch.Tensor] | None:
    """The raw precision at each recall point, without the envelope (precision made non-increasing in
    recall): a false positive before a later true positive drags the interpolated precision down."""
    counted = sum(m.counted for m in images)
    if counted == 0:
        return None
    scores = torch.cat([m.scores[:max_det] for m in images])
    order = torch.sort(scores, descending=True, stable=True).indices
    matched = torch.cat([m.matched[:, :max_det] for m in images], dim=1)[:, order]
    ignored = torch.cat([m.ignored[:, :max_det] for m in images], dim=1)[:, order]
    tp = (matched & ~ignored).double().cumsum(dim=1)
    fp = (~matched & ~ignored).double().cumsum(dim=1)
    T, N = tp.shape
    precision = torch.zeros(T, len(RECALL_POINTS), dtype=torch.float64)
    recall_final = torch.zeros(T, dtype=torch.float64)
    points = torch.tensor(RECALL_POINTS, dtype=torch.float64)
    eps = torch.finfo(torch.float64).eps
    for t in range(T):
        if N == 0:
            continue
        rc = tp[t] / counted
        pr = tp[t] / (fp[t] + tp[t] + eps)
        recall_final[t] = rc[-1]
        at = torch.searchsorted(rc, points, right=False)
        ok = at < N
        precision[t, ok] = pr[at[ok]]
    return precision, recall_final


@mistake("precision_recall", fails="ties: 20 detections of one score keep their pooled order")
def precision_recall_unstable_sort(
    images: list[ImageMatches], max_det: int
) -> tuple[torch.Tensor, torch.Tensor] | None:
    """torch.sort without stable=True: detections of equal score come out in an arbitrary order (on CPU,
    scrambled once more than 16 are tied), so a tie between a true and a false positive is broken
    differently from pycocotools' stable mergesort."""
    counted = sum(m.counted for m in images)
    if counted == 0:
        return None
    scores = torch.cat([m.scores[:max_det] for m in images])
    order = torch.sort(scores, descending=True).indices
    matched = torch.cat([m.matched[:, :max_det] for m in images], dim=1)[:, order]
    ignored = torch.cat([m.ignored[:, :max_det] for m in images], dim=1)[:, order]
    tp = (matched & ~ignored).double().cumsum(dim=1)
    fp = (~matched & ~ignored).double().cumsum(dim=1)
    T, N = tp.shape
    precision = torch.zeros(T, len(RECALL_POINTS), dtype=torch.float64)
    recall_final = torch.zeros(T, dtype=torch.float64)
    points = torch.tensor(RECALL_POINTS, dtype=torch.float64)
    eps = torch.finfo(torch.float64).eps
    for t in range(T):
        if N == 0:
            continue
        rc = tp[t] / counted
        pr = (tp[t] / (fp[t] + tp[t] + eps)).flip(0).cummax(dim=0).values.flip(0)
        recall_final[t] = rc[-1]
        at = torch.searchsorted(rc, points, right=False)
        ok = at < N
        precision[t, ok] = pr[at[ok]]
    return precision, recall_final
