"""Rich feature hierarchies for accurate object detection and semantic segmentation (R-CNN, Girshick,
Donahue, Darrell and Malik, arXiv 1311.2524), with its successors Fast R-CNN (arXiv 1504.08083) and
Faster R-CNN (arXiv 1506.01497).

Claim: detect objects by classifying region proposals with CNN features and refining their boxes by
regression; Fast R-CNN computes the features once per image and pools each region from them (RoI pooling),
and Faster R-CNN learns the proposals too, with a region proposal network on the same features, so that a
few learned proposals replace thousands of hand-made ones.

Equations (R-CNN appendix C; Fast R-CNN section 2; Faster R-CNN section 3):

    box regression  t_x = (G_x − P_x)/P_w, t_y = (G_y − P_y)/P_h, t_w = log(G_w/P_w), t_h = log(G_h/P_h)
                    (R-CNN eqs. 6-9; its inverse, eqs. 1-4, places a predicted box)
    RoI pooling     an h × w window on the feature map → an H × W grid of max-pooled sub-windows (Fast 2.1)
    head loss       L = L_cls(p, u) + λ[u ≥ 1] L_loc(t^u, v), smooth L1                 (Fast eqs. 1-3)
    RPN loss        L = (1/N_cls) Σ L_cls(p_i, p_i*) + λ (1/N_reg) Σ p_i* L_reg(t_i, t_i*)  (Faster eq. 1)
    NMS             keep the best box, drop boxes with IoU > θ, repeat                   (R-CNN 2.2)

``model.py`` names each idea where the papers do; the code is in ``readtrack.plugin_kit.detection``, shared
with the coco plugin (which evaluates the same detector with COCO's metric): a three-layer backbone of
stride 4, an RPN with 2 square anchors (8 and 12 pixels) per cell, RoI pooling to 4 × 4, one hidden layer,
K + 1 scores and per-class deltas, the RPN and head trained jointly with Adam (lr 3e-3, the better of 3e-3
and 1e-2 at 150 steps). The shapes here are about square, so one aspect ratio; an anchor is positive at IoU
≥ 0.5 rather than the paper's 0.7, since 7-13 pixel boxes on a stride-4 grid rarely overlap an anchor more.

The tiny experiment: 32 × 32 scenes with 1-3 of four shapes (``plugin_kit.images.scenes``), a test set of new
scenes, AP at IoU 0.5 averaged over the classes (PASCAL's mAP, R-CNN's measure). The A/B keeps the trained
network and changes the proposals: the RPN's 16 best per image against 16 anchors drawn at random (the same
number of regions without a proposal network), and the head's box regression on and off. Measured with
``readtrack run r-cnn --device cpu`` (seed 0, 400 steps of 8 on 1,000 scenes, 200 test scenes): AP50 0.936
with RPN proposals (AP75 0.648), 0.885 without box regression (AP75 0.534), 0.385 on random anchors (AP75
0.010). The quick run (120 steps of 8, 100 test scenes): 0.614 / 0.542 / 0.167. Box regression adds more at
the stricter IoU (0.53 → 0.65 at 0.75, 0.88 → 0.94 at 0.5), as R-CNN's appendix C found (+3-4 mAP points).
The head trained on RPN proposals also does poorly on all 128 anchors as proposals (AP50 0.34 after 120
steps, 0.52 after 300, measured once while developing; too slow to keep in the run): it has learned to
classify the boxes the RPN gives it, not every window. The paper's claims about ImageNet pre-training and
fine-tuning (R-CNN section 3) are not reproduced here.

The check compares IoU with counting pixels of rasterised boxes, NMS with a brute-force loop, the box
parameterisation with R-CNN's scalar formulas and RoI pooling with a loop over RoIs and bins (forward and
gradients: float64 within 1.8e-15, float32 within 2e-6).
"""

from readtrack.paper_plugin import declare

readtrack_paper_plugins = declare(
    __name__,
    title="Rich feature hierarchies for accurate object detection and semantic segmentation",
    arxiv="1311.2524",
    claim="Classify region proposals with CNN features; Fast/Faster R-CNN share features, learn proposals.",
)
