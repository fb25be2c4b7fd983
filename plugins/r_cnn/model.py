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
"""

from readtrack.plugin_kit.detection import (
    Detections,
    TinyDetector,
    anchors,
    average_precision,
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
    "train_detector",
]
