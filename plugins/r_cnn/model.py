"""R-CNN → Fast R-CNN → Faster R-CNN, the ideas in the order the three papers introduced them.

The code lives in :mod:`readtrack.plugin_kit.detection`, because the coco plugin trains and evaluates the same
detector and a plugin never imports another; this module names each idea where the papers do, so that it
reads beside them.

R-CNN (Girshick et al. 2014, arXiv 1311.2524): classify region proposals with CNN features.
    ``box_iou``      overlap of two regions, |A ∩ B| / |A ∪ B|: labels proposals, drives NMS and AP
    ``nms``          greedy non-maximum suppression per class (2.2): keep the best, drop IoU > θ
    ``encode``       regression targets t_x = (G_x − P_x)/P_w, t_y = (G_y − P_y)/P_h,
                     t_w = log(G_w/P_w), t_h = log(G_h/P_h)                   (appendix C, eqs. 6-9)
    ``decode``       Ĝ_x = P_w d_x(P) + P_x, Ĝ_y = P_h d_y(P) + P_y,
                     Ĝ_w = P_w exp(d_w(P)), Ĝ_h = P_h exp(d_h(P))              (appendix C, eqs. 1-4)
    ``average_precision``  per-class AP at IoU ≥ 0.5 (PASCAL VOC's mAP, the paper's table 1)

Fast R-CNN (Girshick 2015, arXiv 1504.08083): compute the features once per image, not once per region.
    ``roi_pool``     each RoI's window on the shared feature map, divided into an H × W grid, max-pooled
                     (section 2.1)
    head             K + 1 class scores and per-class box deltas; L = L_cls(p, u) + λ[u ≥ 1] L_loc(t^u, v)
                     with smooth L1 (eqs. 1-3), in ``TinyDetector.head`` and ``detector_loss``

Faster R-CNN (Ren et al. 2015, arXiv 1506.01497): propose regions with the same features.
    ``anchors``      k reference boxes at every sliding-window position (section 3.1.1)
    ``match``        an anchor is positive at IoU ≥ 0.7 (0.5 here: the boxes are small) with a box or a
                     box's best anchor, negative below 0.3 (section 3.1.2)
    RPN              a 3 × 3 window → objectness and 4k deltas per position; L = L_cls + λ p* L_reg
                     (eq. 1), in ``TinyDetector.features``/``propose`` and ``detector_loss``
    ``train_detector``  both trained at once on a shared backbone ("approximate joint training", 3.2)
    ``detect``       proposals → RoI pooling → class scores, box regression, per-class NMS

The baseline without a proposal network (defined here, the plugin's own):
    ``sliding_window_loss``, ``train_sliding_windows``  the Fast R-CNN head trained on the anchors as sliding
                     windows (Fast R-CNN's RoI sampling, section 2.3), to be run on all of them
"""

from collections.abc import Callable

import torch

from readtrack.plugin_kit.detection import (
    TARGET_STD,
    Detections,
    TinyDetector,
    anchors,
    average_precision,
    box_iou,
    decode,
    detect,
    detector_loss,
    encode,
    head_loss,
    match,
    nms,
    roi_pool,
    train_detector,
)

__all__ = [
    "Detections",
    "TinyDetector",
    "anchors",
    "average_precision",
    "box_iou",
    "decode",
    "detect",
    "detector_loss",
    "encode",
    "match",
    "nms",
    "roi_pool",
    "sliding_window_loss",
    "train_detector",
    "train_sliding_windows",
]


def sliding_window_loss(
    model: TinyDetector,
    images: torch.Tensor,
    boxes: list[torch.Tensor],
    labels: list[torch.Tensor],
    g: torch.Generator,
    rois: int = 16,
) -> torch.Tensor:
    """The baseline without a proposal network: Fast R-CNN's head trained on the sliding windows themselves
    (every anchor is a window; the RPN's layers are left unused), to be run on all of them at test time.
    Per image ``rois`` windows sampled as Fast R-CNN samples RoIs (section 2.3: a quarter foreground, IoU ≥
    0.5 with a true box, the rest background) plus the true boxes, as the RPN detector's head gets its
    proposals plus the true boxes; L = L_cls(p, u) + λ[u ≥ 1] L_loc(t^u, v) (Fast eq. 1), as there."""
    fmap = model.backbone(images)  # (B, C, h, w)
    windows = anchors(fmap.shape[-2], fmap.shape[-1], model.stride, model.sizes, images.device)  # (N, 4)
    std = torch.tensor(TARGET_STD, device=images.device, dtype=images.dtype)
    chosen, u, v = [], [], []
    for gt, lab in zip(boxes, labels, strict=True):
        if len(gt):
            best, which = box_iou(windows, gt).max(dim=1)  # (N,) each window's best true box
        else:
            best, which = windows.new_zeros(len(windows)), torch.zeros_like(windows[:, 0], dtype=torch.long)
        fg, bg = (best >= 0.5).nonzero().flatten(), (best < 0.5).nonzero().flatten()
        fg = fg[torch.randperm(len(fg), generator=g)[: rois // 4].to(fg.device)]
        bg = bg[torch.randperm(len(bg), generator=g)[: rois - len(fg)].to(bg.device)]
        r = torch.cat([windows[fg], windows[bg], gt])  # (rois + true boxes, 4)
        chosen.append(r)
        u.append(torch.cat([lab[which[fg]] + 1, torch.zeros_like(bg), lab + 1]))
        v.append(encode(gt[which[fg]], windows[fg]) / std if len(fg) else r.new_zeros(0, 4))
        v.append(torch.zeros_like(windows[bg]))
        v.append(torch.zeros_like(gt))  # a true box's own target: t = encode(G, G) = 0
    cls, reg = model.head(fmap, chosen)
    return head_loss(cls, reg, u, v)


def train_sliding_windows(
    model: TinyDetector,
    images: torch.Tensor,
    boxes: list[torch.Tensor],
    labels: list[torch.Tensor],
    *,
    steps: int,
    batch: int,
    lr: float,
    g: torch.Generator,
    on_step: Callable[[int, float], None] | None = None,
) -> None:
    """Adam on random batches drawn with ``g``, the batches ``train_detector`` draws from the same seed."""
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sampling = torch.Generator().manual_seed(g.initial_seed() + 1)  # the windows each batch trains on
    for step in range(steps):
        idx = torch.randint(0, len(images), (batch,), generator=g).tolist()
        loss = sliding_window_loss(
            model, images[idx], [boxes[i] for i in idx], [labels[i] for i in idx], sampling
        )
        opt.zero_grad()
        loss.backward()
        opt.step()
        if on_step is not None:
            on_step(step, loss.item())
