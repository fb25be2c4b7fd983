"""Region-based object detection at toy size, shared by the r-cnn and coco plugins (a plugin never imports
another): box operations, RoI max pooling, anchors, a two-stage detector (a region proposal network and a
Fast R-CNN head on a shared backbone) with its training loop and inference, and AP at one IoU threshold.

Boxes are (x0, y0, x1, y1) in pixel-edge coordinates, as :mod:`readtrack.plugin_kit.images` draws them: a box
around pixels x0 … x1 − 1 has width x1 − x0 (no "+1" anywhere). Equation references:
R-CNN = Girshick et al. 2014 (arXiv 1311.2524), Fast = Fast R-CNN (1504.08083), Faster = Faster R-CNN
(1506.01497).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

#: Fast R-CNN's normalisation of the regression targets (t / σ), as in its and Faster R-CNN's code.
TARGET_STD = (0.1, 0.1, 0.2, 0.2)


# -- boxes ----------------------------------------------------------------------------------------
def box_area(boxes: torch.Tensor) -> torch.Tensor:
    """(..., 4) → (...): width × height."""
    return (boxes[..., 2] - boxes[..., 0]) * (boxes[..., 3] - boxes[..., 1])


def box_iou(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Intersection over union of every pair: a (N, 4), b (M, 4) → (N, M)."""
    lo = torch.maximum(a[:, None, :2], b[None, :, :2])  # (N, M, 2): the intersection's top left
    hi = torch.minimum(a[:, None, 2:], b[None, :, 2:])  # (N, M, 2): its bottom right
    inter = (hi - lo).clamp(min=0).prod(dim=-1)  # (N, M)
    union = box_area(a)[:, None] + box_area(b)[None, :] - inter
    return inter / union.clamp(min=torch.finfo(union.dtype).tiny)


def encode(boxes: torch.Tensor, anchors: torch.Tensor) -> torch.Tensor:
    """The regression targets t of boxes G relative to anchors (or proposals) P, both (N, 4) → (N, 4):
    t_x = (G_x − P_x)/P_w, t_y = (G_y − P_y)/P_h, t_w = log(G_w/P_w), t_h = log(G_h/P_h), with (x, y) the
    centre (R-CNN appendix C, eqs. 6-9; Faster R-CNN eq. 2)."""
    pw, ph = anchors[:, 2] - anchors[:, 0], anchors[:, 3] - anchors[:, 1]
    px, py = anchors[:, 0] + pw / 2, anchors[:, 1] + ph / 2
    gw, gh = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    gx, gy = boxes[:, 0] + gw / 2, boxes[:, 1] + gh / 2
    return torch.stack([(gx - px) / pw, (gy - py) / ph, torch.log(gw / pw), torch.log(gh / ph)], dim=1)


def decode(t: torch.Tensor, anchors: torch.Tensor) -> torch.Tensor:
    """The inverse of :func:`encode`: Ĝ_x = P_w t_x + P_x, Ĝ_w = P_w exp(t_w) … (R-CNN eqs. 1-4) → (N, 4)."""
    pw, ph = anchors[:, 2] - anchors[:, 0], anchors[:, 3] - anchors[:, 1]
    px, py = anchors[:, 0] + pw / 2, anchors[:, 1] + ph / 2
    gx, gy = pw * t[:, 0] + px, ph * t[:, 1] + py
    gw, gh = pw * torch.exp(t[:, 2]), ph * torch.exp(t[:, 3])
    return torch.stack([gx - gw / 2, gy - gh / 2, gx + gw / 2, gy + gh / 2], dim=1)


def nms(boxes: torch.Tensor, scores: torch.Tensor, threshold: float) -> torch.Tensor:
    """Greedy non-maximum suppression (R-CNN section 2.2): take the best-scoring box left, drop every box
    whose IoU with it exceeds ``threshold``, repeat. Returns the kept indices, best first."""
    order = torch.sort(scores, descending=True, stable=True).indices
    over = (box_iou(boxes[order], boxes[order]) > threshold).tolist()  # (N, N), in score order
    alive = [True] * len(order)
    for i in range(len(order)):
        if alive[i]:
            for j in range(i + 1, len(order)):
                alive[j] = alive[j] and not over[i][j]
    return order[torch.tensor(alive, dtype=torch.bool, device=boxes.device)]


def roi_pool(features: torch.Tensor, rois: torch.Tensor, size: int, scale: float) -> torch.Tensor:
    """RoI max pooling (Fast R-CNN section 2.1): each RoI's window on the feature map is divided into a
    size × size grid of sub-windows of about h/size × w/size cells, each max-pooled.

    features (B, C, H, W); rois (R, 5) rows (batch index, x0, y0, x1, y1) in image pixels; ``scale`` maps
    image pixels to feature cells (1/stride). The window is the cells floor(x0·scale) … ceil(x1·scale) − 1
    (at least one), and bin i of n cells starting at s covers floor(s + i·n/size) …
    ceil(s + (i+1)·n/size) − 1. Returns (R, C, size, size).

    Without gradients (detection), every window of an image is a lookup in a table of the maxima over every
    range of rows and of columns, made once per image: the same maxima, found far faster when there are many
    RoIs (all 128 sliding windows of 100 test images)."""
    _, _, H, W = features.shape
    k = torch.arange(size, device=features.device, dtype=features.dtype)

    def bins(lo: torch.Tensor, hi: torch.Tensor, cells: int) -> tuple[torch.Tensor, torch.Tensor]:
        start = torch.floor(lo * scale).clamp(0, cells - 1)  # (R,)
        end = torch.maximum(torch.ceil(hi * scale).clamp(max=cells), start + 1)  # (R,)
        n = (end - start)[:, None]  # (R, 1)
        b0 = torch.floor(start[:, None] + k * n / size)  # (R, size): each bin's first cell
        b1 = torch.ceil(start[:, None] + (k + 1) * n / size)  # (R, size): one past its last
        return b0.long(), b1.long()

    row_bins, col_bins = bins(rois[:, 2], rois[:, 4], H), bins(rois[:, 1], rois[:, 3], W)
    if not (torch.is_grad_enabled() and features.requires_grad):
        return _roi_pool_by_table(features, rois[:, 0].long(), row_bins, col_bins)
    rows, cols = _cells(*row_bins, H, features), _cells(*col_bins, W, features)  # (R, size, H or W)
    f = features[rois[:, 0].long()]  # (R, C, H, W)
    # A max over a rectangle is the max over its rows of the max over its columns: two small masks.
    f = f[:, :, :, None, :].masked_fill(~cols[:, None, None], float("-inf")).amax(dim=-1)  # (R, C, H, size)
    f = f[:, :, None].masked_fill(~rows[:, None, :, :, None], float("-inf")).amax(dim=3)  # (R, C, size, size)
    return f


def _cells(b0: torch.Tensor, b1: torch.Tensor, cells: int, like: torch.Tensor) -> torch.Tensor:
    """(R, size, cells): whether each cell lies in each bin [b0, b1)."""
    at = torch.arange(cells, device=like.device)
    return (at >= b0[..., None]) & (at < b1[..., None])


def _roi_pool_by_table(
    features: torch.Tensor,
    image: torch.Tensor,
    rows: tuple[torch.Tensor, torch.Tensor],
    cols: tuple[torch.Tensor, torch.Tensor],
) -> torch.Tensor:
    """RoI max pooling as lookups: ``table[b, c, r, s]`` is the max of image b's channel c over the rows of
    range r and the columns of range s (range ``first·cells + last``), grown one row or column at a time."""
    B, C, H, W = features.shape
    by_cols = features.new_full((B, C, H, W * W), float("-inf"))
    for first in range(W):
        running = features[..., first]
        for last in range(first, W):
            running = torch.maximum(running, features[..., last])
            by_cols[..., first * W + last] = running
    table = features.new_full((B, C, H * H, W * W), float("-inf"))
    for first in range(H):
        running = by_cols[:, :, first]
        for last in range(first, H):
            running = torch.maximum(running, by_cols[:, :, last])
            table[:, :, first * H + last] = running
    r = rows[0] * H + rows[1] - 1  # (R, size): each bin's row range
    s = cols[0] * W + cols[1] - 1  # (R, size): each bin's column range
    by_channel_last = table.permute(0, 2, 3, 1)  # (B, H·H, W·W, C)
    return by_channel_last[image[:, None, None], r[:, :, None], s[:, None, :]].permute(0, 3, 1, 2)


def anchors(
    height: int, width: int, stride: int, sizes: tuple[float, ...], device: torch.device | str
) -> torch.Tensor:
    """Square anchors of each size centred on every feature cell (Faster R-CNN section 3.1.1; the shapes
    here are about square, so one aspect ratio): (height·width·A, 4), cell-major, A = len(sizes)."""
    ys = (torch.arange(height, device=device) + 0.5) * stride
    xs = (torch.arange(width, device=device) + 0.5) * stride
    cy, cx = torch.meshgrid(ys, xs, indexing="ij")  # (H, W) each
    half = torch.tensor(sizes, device=device) / 2  # (A,)
    centre = torch.stack([cx, cy, cx, cy], dim=-1)[:, :, None, :]  # (H, W, 1, 4)
    offset = torch.stack([-half, -half, half, half], dim=-1)  # (A, 4)
    return (centre + offset).reshape(-1, 4)  # (H·W·A, 4)


def match(iou: torch.Tensor, high: float, low: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Label anchors (rows of iou (N, M) against M boxes): 1 when IoU ≥ high with some box or the best anchor
    of a box, 0 when every IoU < low, −1 (ignored) between (Faster R-CNN section 3.1.2). Returns
    (labels (N,), the index of each anchor's best box (N,))."""
    labels = torch.full((iou.shape[0],), -1, dtype=torch.long, device=iou.device)
    if iou.shape[1] == 0:
        return labels.fill_(0), labels.clamp(min=0)
    best, which = iou.max(dim=1)
    labels[best < low] = 0
    labels[best >= high] = 1
    labels[iou.argmax(dim=0)] = 1
    return labels, which


# -- the detector -------------------------------------------------------------------------------
@dataclass
class Detections:
    """One image's detections: boxes (k, 4), scores (k,), labels (k,) (object classes from 0)."""

    boxes: torch.Tensor
    scores: torch.Tensor
    labels: torch.Tensor


class TinyDetector(nn.Module):
    """Faster R-CNN at toy size: a three-layer backbone (stride 4), a region proposal network sliding a
    3 × 3 window over its features with A anchors per place (objectness and box deltas, Faster R-CNN
    section 3.1), and a Fast R-CNN head: RoI pooling → a fully connected layer → class scores (K + 1 with
    background) and per-class box deltas (Fast R-CNN section 2)."""

    def __init__(
        self, classes: int = 4, width: int = 32, sizes: tuple[float, ...] = (8.0, 12.0), pool: int = 4
    ) -> None:
        super().__init__()
        self.classes, self.sizes, self.pool, self.stride = classes, sizes, pool, 4
        A = len(sizes)
        self.backbone = nn.Sequential(
            nn.Conv2d(1, width // 2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(width // 2, width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(width, width, 3, padding=1), nn.ReLU(),
        )  # fmt: skip
        self.rpn = nn.Sequential(nn.Conv2d(width, width, 3, padding=1), nn.ReLU())
        self.rpn_objectness = nn.Conv2d(width, A, 1)
        self.rpn_deltas = nn.Conv2d(width, 4 * A, 1)
        self.fc = nn.Sequential(nn.Flatten(), nn.Linear(width * pool * pool, 128), nn.ReLU())
        self.cls_score = nn.Linear(128, classes + 1)
        self.bbox_pred = nn.Linear(128, 4 * classes)

    def features(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """images (B, 1, H, W) → features (B, C, H/4, W/4), anchors (N, 4), objectness logits (B, N) and
        deltas (B, N, 4), N = H/4 · W/4 · A in the anchors' order."""
        fmap = self.backbone(images)  # (B, C, h, w)
        B, _, h, w = fmap.shape
        r = self.rpn(fmap)
        logits = self.rpn_objectness(r).permute(0, 2, 3, 1).reshape(B, -1)  # (B, h·w·A)
        deltas = self.rpn_deltas(r).permute(0, 2, 3, 1).reshape(B, -1, 4)  # (B, h·w·A, 4)
        return fmap, anchors(h, w, self.stride, self.sizes, images.device), logits, deltas

    def propose(
        self,
        anchor: torch.Tensor,
        logits: torch.Tensor,
        deltas: torch.Tensor,
        size: tuple[int, int],
        n: int,
        *,
        regress: bool = True,
    ) -> list[torch.Tensor]:
        """The RPN's proposals per image: anchors moved by their deltas (``regress=False``: left where they
        are), clipped to the image, the 4n best by objectness, NMS at IoU 0.7, the n best left (Faster R-CNN
        section 3.3)."""
        out = []
        std = torch.tensor(TARGET_STD, device=deltas.device, dtype=deltas.dtype)
        for lg, dl in zip(logits.detach(), deltas.detach(), strict=True):
            boxes = clip(decode(dl * std, anchor) if regress else anchor, size)
            ok = box_area(boxes) > 1.0
            boxes, scores = boxes[ok], lg[ok]
            top = torch.sort(scores, descending=True, stable=True).indices[: 4 * n]  # pre-NMS top 4n
            boxes, scores = boxes[top], scores[top]
            out.append(boxes[nms(boxes, scores, 0.7)[:n]])
        return out

    def head(self, fmap: torch.Tensor, rois: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """Per RoI: class logits (R, K + 1) and deltas (R, K, 4), RoIs of all images concatenated."""
        index = torch.cat(
            [torch.full((len(r), 1), i, dtype=r.dtype, device=r.device) for i, r in enumerate(rois)]
        )
        pooled = roi_pool(fmap, torch.cat([index, torch.cat(rois)], dim=1), self.pool, 1 / self.stride)
        h = self.fc(pooled)  # (R, 128)
        return self.cls_score(h), self.bbox_pred(h).view(-1, self.classes, 4)


def clip(boxes: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Boxes clipped to an image of size (height, width)."""
    h, w = size
    limit = torch.tensor([w, h, w, h], dtype=boxes.dtype, device=boxes.device)
    return torch.minimum(boxes.clamp(min=0), limit)


def detector_loss(
    model: TinyDetector,
    images: torch.Tensor,
    boxes: list[torch.Tensor],
    labels: list[torch.Tensor],
    proposals: int = 16,
) -> tuple[torch.Tensor, torch.Tensor]:
    """(RPN loss, head loss) on a batch, trained jointly ("approximate joint training", Faster R-CNN
    section 3.2). RPN: L = L_cls(p, p*) + λ p* L_reg(t, t*) (Faster eq. 1), binary cross-entropy over
    anchors labelled positive (IoU ≥ 0.5 or a box's best) or negative (< 0.3), smooth L1 on the positives.
    Head: L = L_cls(p, u) + λ[u ≥ 1] L_loc(t^u, v) (Fast eq. 1) on the proposals and the true boxes, a RoI
    foreground (u = its box's class + 1) when its IoU with a true box is ≥ 0.5, background below."""
    size = (images.shape[-2], images.shape[-1])
    fmap, anchor, logits, deltas = model.features(images)
    std = torch.tensor(TARGET_STD, device=images.device, dtype=images.dtype)
    rpn_cls, rpn_reg = [], []
    for lg, dl, gt in zip(logits, deltas, boxes, strict=True):
        lab, which = match(box_iou(anchor, gt), 0.5, 0.3)
        used = lab >= 0
        rpn_cls.append(F.binary_cross_entropy_with_logits(lg[used], lab[used].to(lg.dtype)))
        pos = lab == 1
        if bool(pos.any()):
            target = encode(gt[which[pos]], anchor[pos]) / std
            rpn_reg.append(F.smooth_l1_loss(dl[pos], target, beta=1 / 9))
    rpn = torch.stack(rpn_cls).mean() + (torch.stack(rpn_reg).mean() if rpn_reg else 0.0)
    rois = [
        torch.cat([p, gt])
        for p, gt in zip(model.propose(anchor, logits, deltas, size, proposals), boxes, strict=True)
    ]
    cls, reg = model.head(fmap, rois)
    u, v = [], []
    for r, gt, lab in zip(rois, boxes, labels, strict=True):
        if len(gt) == 0:  # an image without objects: every RoI is background
            u.append(torch.zeros(len(r), dtype=torch.long, device=r.device))
            v.append(torch.zeros_like(r))
            continue
        best, which = box_iou(r, gt).max(dim=1)
        u.append(torch.where(best >= 0.5, lab[which] + 1, 0))
        v.append(encode(gt[which], r) / std)
    return rpn, head_loss(cls, reg, u, v)


def head_loss(
    cls: torch.Tensor, reg: torch.Tensor, u: list[torch.Tensor], v: list[torch.Tensor]
) -> torch.Tensor:
    """Fast R-CNN's multi-task loss (eq. 1), L = L_cls(p, u) + λ[u ≥ 1] L_loc(t^u, v) with λ = 1, over the
    RoIs of a batch: ``cls`` (R, classes + 1) and ``reg`` (R, classes, 4) from the head, ``u`` each image's
    RoI classes (0: background) and ``v`` their regression targets, in the order of the RoIs."""
    u_all, v_all = torch.cat(u), torch.cat(v)
    fg = u_all > 0
    loss = F.cross_entropy(cls, u_all)
    if bool(fg.any()):
        loss = loss + F.smooth_l1_loss(reg[fg, u_all[fg] - 1], v_all[fg], beta=1.0)
    return loss


def train_detector(
    model: TinyDetector,
    images: torch.Tensor,
    boxes: list[torch.Tensor],
    labels: list[torch.Tensor],
    *,
    steps: int,
    batch: int,
    lr: float,
    g: torch.Generator,
    on_step: Callable[[int, float, float], None] | None = None,
) -> None:
    """Adam on random batches of the given images (drawn with ``g``, so two runs can share batches)."""
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    for step in range(steps):
        idx = torch.randint(0, len(images), (batch,), generator=g).tolist()
        rpn, head = detector_loss(model, images[idx], [boxes[i] for i in idx], [labels[i] for i in idx])
        opt.zero_grad()
        (rpn + head).backward()
        opt.step()
        if on_step is not None:
            on_step(step, rpn.item(), head.item())


@torch.no_grad()
def detect(
    model: TinyDetector,
    images: torch.Tensor,
    *,
    proposals: str = "rpn",
    count: int = 16,
    regress: bool = True,
    rpn_regress: bool = True,
    threshold: float = 0.05,
    g: torch.Generator | None = None,
) -> list[Detections]:
    """Detections per image. ``proposals``: "rpn" (the ``count`` best RPN proposals), "anchors" (every
    anchor, a dense sliding-window set without the RPN), "random" (``count`` anchors at random, drawn with
    ``g``). ``regress=False`` keeps each RoI's box (no class-specific box regression); ``rpn_regress=False``
    keeps the RPN's chosen anchors where they are (no box regression in the RPN either, with ``regress``
    False). Per class: the RoIs' boxes, scores p_{u} above ``threshold``, NMS at IoU 0.5 (Fast R-CNN section
    4), 100 at most per image."""
    model.eval()
    size = (images.shape[-2], images.shape[-1])
    fmap, anchor, logits, deltas = model.features(images)
    if proposals == "rpn":
        rois = model.propose(anchor, logits, deltas, size, count, regress=rpn_regress)
    elif proposals == "anchors":
        rois = [anchor for _ in range(len(images))]
    else:
        rois = [
            anchor[torch.randperm(len(anchor), generator=g)[:count].to(anchor.device)]
            for _ in range(len(images))
        ]
    cls, reg = model.head(fmap, rois)
    probs = cls.softmax(dim=-1)
    std = torch.tensor(TARGET_STD, device=images.device, dtype=images.dtype)
    out, start = [], 0
    for r in rois:
        p, d = probs[start : start + len(r)], reg[start : start + len(r)]
        start += len(r)
        bs, ss, ls = [], [], []
        for c in range(model.classes):
            b = clip(decode(d[:, c] * std, r), size) if regress else r
            s = p[:, c + 1]
            ok = s > threshold
            b, s = b[ok], s[ok]
            keep = nms(b, s, 0.5)
            bs.append(b[keep])
            ss.append(s[keep])
            ls.append(torch.full((len(keep),), c, dtype=torch.long, device=images.device))
        b, s, lab = torch.cat(bs), torch.cat(ss), torch.cat(ls)
        top = torch.sort(s, descending=True, stable=True).indices[:100]
        out.append(Detections(b[top], s[top], lab[top]))
    model.train()
    return out


def average_precision(
    detections: list[Detections],
    boxes: list[torch.Tensor],
    labels: list[torch.Tensor],
    classes: int,
    iou: float = 0.5,
) -> float:
    """Mean over classes of the area under the interpolated precision-recall curve at one IoU threshold
    (PASCAL VOC's all-point AP, which R-CNN reports as mAP): detections of all images in score order, each a
    true positive when it overlaps a not yet matched true box of its class by ≥ ``iou`` (its best-overlapping
    one), precision made non-increasing in recall, AP = Σ (r_k − r_{k−1}) p_interp(r_k)."""
    aps = []
    for c in range(classes):
        scores, hits, total = [], [], 0
        for det, gt, gl in zip(detections, boxes, labels, strict=True):
            g = gt[gl == c]
            total += len(g)
            mine = det.labels == c
            b, s = det.boxes[mine], det.scores[mine]
            order = torch.sort(s, descending=True, stable=True).indices
            taken = torch.zeros(len(g), dtype=torch.bool)
            overlaps = box_iou(b[order], g).cpu() if len(g) else torch.zeros(len(order), 0)
            for k in range(len(order)):
                hit = False
                if len(g):
                    best, j = overlaps[k].max(dim=0)
                    if best >= iou and not taken[j]:
                        taken[j] = hit = True
                hits.append(hit)
            scores.append(s[order].cpu())
        if total == 0:
            continue
        if not hits:
            aps.append(0.0)
            continue
        order = torch.sort(torch.cat(scores), descending=True, stable=True).indices
        tp = torch.tensor(hits, dtype=torch.float64)[order].cumsum(0)
        fp = (1 - torch.tensor(hits, dtype=torch.float64)[order]).cumsum(0)
        recall = torch.cat([torch.zeros(1, dtype=torch.float64), tp / total])
        precision = torch.cat([torch.ones(1, dtype=torch.float64), tp / (tp + fp)])
        precision = precision.flip(0).cummax(0).values.flip(0)  # the envelope: best precision at ≥ recall
        aps.append(float(((recall[1:] - recall[:-1]) * precision[1:]).sum()))
    return sum(aps) / len(aps)
