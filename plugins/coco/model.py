"""COCO's detection metric (Lin et al., arXiv 1405.0312, section 7 and cocodataset.org/#detection-eval),
written from the protocol: AP averaged over IoU thresholds .50:.05:.95, 101-point interpolated precision, area
ranges, maximum detections per image, per category, then averaged. Crowd-free: no "iscrowd" regions.

Boxes (x0, y0, x1, y1); a box's area is its width × height, as the official evaluator reads "area" for boxes.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from readtrack.plugin_kit.detection import Detections, box_area, box_iou

#: IoU thresholds .50:.05:.95 and recall points 0:.01:1, spaced as numpy.linspace does (i·step + start).
IOU_THRESHOLDS = [0.5 + i * ((0.95 - 0.5) / 9) for i in range(9)] + [0.95]
RECALL_POINTS = [i * 0.01 for i in range(100)] + [1.0]
#: Area ranges in pixels², ends included: small < 32², medium 32² … 96², large > 96².
AREAS = {"all": (0.0, 1e10), "small": (0.0, 32.0**2), "medium": (32.0**2, 96.0**2), "large": (96.0**2, 1e10)}
MAX_DETS = (1, 10, 100)


@dataclass
class ImageMatches:
    """One image and category, one area range: detections in score order (at most 100) with, per IoU
    threshold, whether each matched a true box and whether it is ignored; the number of true boxes counted."""

    scores: torch.Tensor  # (D,)
    matched: torch.Tensor  # (T, D) bool
    ignored: torch.Tensor  # (T, D) bool
    counted: int


def match_image(
    gt: torch.Tensor, dt: torch.Tensor, scores: torch.Tensor, area: tuple[float, float]
) -> ImageMatches:
    """Greedy matching at each IoU threshold t: detections in descending score, each takes the unmatched
    true box of highest IoU ≥ t, preferring boxes inside the area range (those outside it are "ignored":
    matching them neither helps nor hurts). An unmatched detection outside the range is ignored too."""
    g_ignore = (box_area(gt) < area[0]) | (box_area(gt) > area[1])
    g_order = torch.sort(g_ignore.int(), stable=True).indices  # counted boxes first
    gt, ignore = gt[g_order], g_ignore[g_order].tolist()
    d_order = torch.sort(scores, descending=True, stable=True).indices[: MAX_DETS[-1]]
    dt, scores = dt[d_order], scores[d_order]
    iou = box_iou(dt, gt).tolist()  # (D, G)
    D, G = len(dt), len(gt)
    matched = [[False] * D for _ in IOU_THRESHOLDS]  # (T, D)
    ignored = [[False] * D for _ in IOU_THRESHOLDS]
    outside = ((box_area(dt) < area[0]) | (box_area(dt) > area[1])).tolist()
    for ti, t in enumerate(IOU_THRESHOLDS):
        taken = [False] * G
        for d in range(D):
            best, m = min(t, 1 - 1e-10), -1
            for j in range(G):
                if taken[j]:
                    continue
                if m > -1 and not ignore[m] and ignore[j]:
                    break  # a counted match beats any ignored box
                if iou[d][j] < best:
                    continue
                best, m = iou[d][j], j
            if m > -1:
                taken[m] = True
                matched[ti][d] = True
                ignored[ti][d] = ignore[m]
            else:
                ignored[ti][d] = outside[d]
    T = len(IOU_THRESHOLDS)
    as_tensor = lambda x: torch.tensor(x, dtype=torch.bool).view(T, D)  # noqa: E731
    return ImageMatches(scores.cpu(), as_tensor(matched), as_tensor(ignored), G - sum(ignore))


def precision_recall(images: list[ImageMatches], max_det: int) -> tuple[torch.Tensor, torch.Tensor] | None:
    """Over all images of one category: detections (the first max_det of each image) in descending score,
    cumulative TP and FP per IoU threshold, recall = TP / counted boxes, precision = TP / (TP + FP) made
    non-increasing in recall, then read at the 101 recall points (the precision at the first point of the
    curve reaching each recall; 0 where it never does). Returns (precision (T, 101), final recall (T,)), or
    None when the category has no counted true box."""
    counted = sum(m.counted for m in images)
    if counted == 0:
        return None
    scores = torch.cat([m.scores[:max_det] for m in images])
    order = torch.sort(scores, descending=True, stable=True).indices
    matched = torch.cat([m.matched[:, :max_det] for m in images], dim=1)[:, order]  # (T, N)
    ignored = torch.cat([m.ignored[:, :max_det] for m in images], dim=1)[:, order]
    tp = (matched & ~ignored).double().cumsum(dim=1)  # (T, N)
    fp = (~matched & ~ignored).double().cumsum(dim=1)
    T, N = tp.shape
    precision = torch.zeros(T, len(RECALL_POINTS), dtype=torch.float64)
    recall_final = torch.zeros(T, dtype=torch.float64)
    points = torch.tensor(RECALL_POINTS, dtype=torch.float64)
    eps = torch.finfo(torch.float64).eps  # numpy.spacing(1): keeps 0/0 at 0
    for t in range(T):
        if N == 0:
            continue
        rc = tp[t] / counted
        pr = tp[t] / (fp[t] + tp[t] + eps)
        pr = pr.flip(0).cummax(dim=0).values.flip(0)  # the envelope
        recall_final[t] = rc[-1]
        at = torch.searchsorted(rc, points, right=False)  # the first index whose recall ≥ the point
        ok = at < N
        precision[t, ok] = pr[at[ok]]
    return precision, recall_final


@dataclass
class CocoResult:
    """precision (T, R, K, A, M) and recall (T, K, A, M) with −1 where a category has no counted box, in the
    official evaluator's layout; ``stats`` its twelve summary numbers."""

    precision: torch.Tensor
    recall: torch.Tensor
    stats: list[float]


def coco_evaluate(
    detections: list[Detections], boxes: list[torch.Tensor], labels: list[torch.Tensor], classes: int
) -> CocoResult:
    """AP and AR as COCO reports them, for per-image detections against per-image true boxes and labels."""
    T, R, A, M = len(IOU_THRESHOLDS), len(RECALL_POINTS), len(AREAS), len(MAX_DETS)
    precision = -torch.ones(T, R, classes, A, M, dtype=torch.float64)
    recall = -torch.ones(T, classes, A, M, dtype=torch.float64)
    for k in range(classes):
        for a, area in enumerate(AREAS.values()):
            per_image = []
            for det, gt, lab in zip(detections, boxes, labels, strict=True):
                g, mine = gt[lab == k].double().cpu(), det.labels == k
                d, s = det.boxes[mine].double().cpu(), det.scores[mine].double().cpu()
                if len(g) or len(d):
                    per_image.append(match_image(g, d, s, area))
            for m, max_det in enumerate(MAX_DETS):
                result = precision_recall(per_image, max_det)
                if result is not None:
                    precision[:, :, k, a, m], recall[:, k, a, m] = result
    return CocoResult(precision, recall, summarize(precision, recall))


def summarize(precision: torch.Tensor, recall: torch.Tensor) -> list[float]:
    """AP, AP50, AP75, AP small/medium/large (100 detections), AR at 1/10/100 detections, AR small/medium/
    large: each the mean over the entries that exist (> −1), or −1 when none does."""

    def mean(x: torch.Tensor) -> float:
        x = x[x > -1]
        return float(x.mean()) if x.numel() else -1.0

    ap = [mean(precision[:, :, :, 0, 2]), mean(precision[0, :, :, 0, 2]), mean(precision[5, :, :, 0, 2])]
    ap += [mean(precision[:, :, :, a, 2]) for a in (1, 2, 3)]
    ar = [mean(recall[:, :, 0, m]) for m in range(3)] + [mean(recall[:, :, a, 2]) for a in (1, 2, 3)]
    return ap + ar


STAT_NAMES = [
    "AP", "AP50", "AP75", "AP small", "AP medium", "AP large",
    "AR@1", "AR@10", "AR@100", "AR small", "AR medium", "AR large",
]  # fmt: skip
