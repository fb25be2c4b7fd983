"""The detection family's members on one network: R-CNN, Fast R-CNN and Faster R-CNN as each paper runs its
regions through the same small CNN (the kit's ``TinyDetector``: a three-layer backbone of stride 4, one
hidden layer of 128, K + 1 class scores and per-class box deltas; Faster R-CNN adds its RPN).

Hand-made proposals (what R-CNN and Fast R-CNN are given, class-agnostic, never learnt):
    ``grouping``      a cheap bottom-up grouping standing in for selective search (R-CNN section 2.1): the
                      4-connected components of the thresholded image, then the union of the two groups
                      whose union box is smallest, again and again up to one group (selective search's
                      hierarchy), each box also shifted by ±2 pixels (3 × 3 placements): 9(2k − 1) boxes
                      for k objects
    ``windows``       the ablation: every sliding window (the kit's anchors, 2 sizes on every cell of
                      stride 4)
R-CNN (arXiv 1311.2524, section 2.1):
    ``warp``          each region dilated so that p pixels of context surround it, cropped and warped to a
                      fixed size (227 × 227 there, ``CROP`` here) by bilinear sampling
    ``rcnn_head``     the CNN run on every warped region on its own (one forward per region), its features →
                      the hidden layer → K + 1 scores and box deltas
Fast R-CNN (arXiv 1504.08083, section 2):
    ``fast_head``     the CNN run once per image; each region max-pooled from the shared map (the kit's
                      ``roi_pool``)
Both trained by ``region_loss``: RoIs sampled a quarter foreground (IoU ≥ 0.5, Fast section 2.3) plus the
true boxes, the multi-task loss L = L_cls(p, u) + λ[u ≥ 1] L_loc(t^u, v) (Fast eq. 1, kit ``head_loss``): a
softmax trained end to end where R-CNN trained SVMs on the fine-tuned features (Fast R-CNN 5.4 found the
softmax as good).
Faster R-CNN (arXiv 1506.01497): the kit's detector, its RPN's 16 best proposals (``train_detector``,
``detect``).
``Pixels``: the baseline R-CNN's features are measured against: the same warped regions read as raw pixels,
with the same hidden layer and outputs (no convolutional features).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn as nn
import torch.nn.functional as F

from readtrack.plugin_kit.detection import (
    TARGET_STD,
    Detections,
    TinyDetector,
    anchors,
    box_iou,
    clip,
    detect,
    encode,
    head_loss,
)

CLASSES, SIZE = 4, 32  # four shapes; 32 × 32 scenes
CROP, CONTEXT = 16, 2  # R-CNN's warped region (227 and 16 in the paper): pixels a side, context pixels
SHIFT = 2.0  # the grouping's boxes are also placed ±SHIFT pixels away (jitter)
RCNN, FAST, FASTER = "r-cnn", "r-cnn:fast", "r-cnn:faster"
MEMBERS = (RCNN, FAST, FASTER)
PIXELS = "pixels"  # R-CNN's baseline: its regions without a CNN
NAMES = {RCNN: "R-CNN", FAST: "Fast R-CNN", FASTER: "Faster R-CNN", PIXELS: "raw pixels"}
Head = Callable[[torch.Tensor, list[torch.Tensor]], tuple[torch.Tensor, torch.Tensor]]


def network(seed: int, width: int, device: torch.device | str) -> TinyDetector:
    """The members' network, the same initial weights for every member given the same seed."""
    torch.manual_seed(seed)
    return TinyDetector(CLASSES, width=width).to(device)


class Pixels(nn.Module):
    """R-CNN without a CNN: a warped region's raw pixels → the same hidden layer and outputs."""

    def __init__(self, classes: int = CLASSES) -> None:
        super().__init__()
        self.classes = classes
        self.backbone = nn.Identity()
        self.fc = nn.Sequential(nn.Flatten(), nn.Linear(CROP * CROP, 128), nn.ReLU())
        self.cls_score = nn.Linear(128, classes + 1)
        self.bbox_pred = nn.Linear(128, 4 * classes)


# -- hand-made proposals --------------------------------------------------------------------------
def components(images: torch.Tensor, threshold: float = 0.5, smallest: int = 4) -> list[torch.Tensor]:
    """Per image (B, 1, H, W) the boxes (k, 4) of the 4-connected components of ``images > threshold`` of at
    least ``smallest`` pixels: each pixel takes the largest label among itself and its 4 neighbours until no
    label changes."""
    on = images[:, 0] > threshold  # (B, H, W)
    _, H, W = on.shape
    start = torch.arange(1, H * W + 1, device=images.device, dtype=torch.float32).view(1, H, W)
    label = start * on
    while True:
        p = F.pad(label, (1, 1, 1, 1))
        grown = torch.stack([label, p[:, :-2, 1:-1], p[:, 2:, 1:-1], p[:, 1:-1, :-2], p[:, 1:-1, 2:]]).amax(0)
        grown = grown * on
        if torch.equal(grown, label):
            break
        label = grown
    out = []
    for lab in label:
        ids = lab.unique()
        masks = lab[None] == ids[ids > 0][:, None, None]  # (k, H, W)
        masks = masks[masks.flatten(1).sum(1) >= smallest]
        rows, cols = masks.any(dim=2).float(), masks.any(dim=1).float()  # (k, H), (k, W)
        x0, y0 = cols.argmax(1), rows.argmax(1)
        x1, y1 = W - cols.flip(1).argmax(1), H - rows.flip(1).argmax(1)
        out.append(torch.stack([x0, y0, x1, y1], dim=1).float())
    return out


def grouping(images: torch.Tensor) -> list[torch.Tensor]:
    """Selective search's stand-in, per image: the components' boxes, then hierarchical grouping (merge the
    two groups whose union box has the smallest area, until one is left), each of the 2k − 1 boxes also
    shifted by ±``SHIFT`` pixels in x and y (9 placements), clipped to the image. An image without a
    component gets the image itself."""
    size = (images.shape[-2], images.shape[-1])
    shifts = torch.tensor(
        [[dx, dy, dx, dy] for dy in (-SHIFT, 0.0, SHIFT) for dx in (-SHIFT, 0.0, SHIFT)], device=images.device
    )  # (9, 4), the unshifted box in the middle
    out = []
    for boxes in components(images):
        if len(boxes) == 0:
            boxes = torch.tensor([[0.0, 0.0, size[1], size[0]]], device=images.device)
        groups, found = list(boxes), list(boxes)
        while len(groups) > 1:
            pairs = [(i, j) for i in range(len(groups)) for j in range(i + 1, len(groups))]
            unions = [_union(groups[i], groups[j]) for i, j in pairs]
            best = min(range(len(pairs)), key=lambda n: float((unions[n][2:] - unions[n][:2]).prod()))
            i, j = pairs[best]
            groups = [g for n, g in enumerate(groups) if n not in (i, j)] + [unions[best]]
            found.append(unions[best])
        placed = (torch.stack(found)[:, None, :] + shifts).reshape(-1, 4)  # (9(2k − 1), 4)
        out.append(clip(placed, size))
    return out


def _union(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return torch.cat([torch.minimum(a[:2], b[:2]), torch.maximum(a[2:], b[2:])])


def windows(images: torch.Tensor, net: TinyDetector) -> list[torch.Tensor]:
    """The ablation's proposals: every sliding window (the network's anchors), the same for every image."""
    h, w = images.shape[-2] // net.stride, images.shape[-1] // net.stride
    every = anchors(h, w, net.stride, net.sizes, images.device)
    return [every for _ in range(len(images))]


# -- R-CNN: one CNN forward per warped region -----------------------------------------------------
def warp(
    images: torch.Tensor, rois: list[torch.Tensor], crop: int = CROP, context: int = CONTEXT
) -> torch.Tensor:
    """R-CNN section 2.1: each region dilated so that, once warped, ``context`` pixels of the image surround
    it, and sampled bilinearly on a crop × crop grid (pixel centres; zero outside the image).
    images (B, 1, H, W), rois per image (R_b, 4) → (ΣR_b, 1, crop, crop)."""
    H, W = images.shape[-2], images.shape[-1]
    index = torch.cat([torch.full((len(r),), i, device=images.device) for i, r in enumerate(rois)]).long()
    boxes = torch.cat(rois).to(images.dtype)  # (R, 4)
    grow = crop / (crop - 2 * context)  # the box fills crop − 2·context of the crop
    centre, half = (boxes[:, :2] + boxes[:, 2:]) / 2, (boxes[:, 2:] - boxes[:, :2]) * grow / 2  # (R, 2)
    k = (torch.arange(crop, device=images.device, dtype=images.dtype) + 0.5) / crop  # (crop,) in [0, 1]
    x = centre[:, :1] - half[:, :1] + 2 * half[:, :1] * k  # (R, crop): sample points, pixel-edge coordinates
    y = centre[:, 1:] - half[:, 1:] + 2 * half[:, 1:] * k
    gx, gy = 2 * x / W - 1, 2 * y / H - 1  # grid_sample's [−1, 1] spans the image's edges
    grid = torch.stack(torch.broadcast_tensors(gx[:, None, :], gy[:, :, None]), dim=-1)  # (R, crop, crop, 2)
    return F.grid_sample(images[index], grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def rcnn_head(
    net: TinyDetector | Pixels, images: torch.Tensor, rois: list[torch.Tensor]
) -> tuple[torch.Tensor, torch.Tensor]:
    """R-CNN: every region warped and run through the CNN on its own (a batch of regions, one forward
    each), then the hidden layer: class logits (R, K + 1) and deltas (R, K, 4)."""
    features = net.backbone(warp(images, rois))  # (R, C, CROP/4, CROP/4)
    h = net.fc(features)  # (R, 128)
    return net.cls_score(h), net.bbox_pred(h).view(-1, net.classes, 4)


# -- Fast R-CNN: one CNN forward per image, regions pooled from it ---------------------------------
def fast_head(
    net: TinyDetector, images: torch.Tensor, rois: list[torch.Tensor]
) -> tuple[torch.Tensor, torch.Tensor]:
    """Fast R-CNN: the CNN once on the images, each region RoI-pooled from the shared map (kit ``head``)."""
    return net.head(net.backbone(images), rois)


def sample_rois(
    proposals: list[torch.Tensor],
    boxes: list[torch.Tensor],
    labels: list[torch.Tensor],
    g: torch.Generator,
    rois: int = 16,
) -> tuple[list[torch.Tensor], list[torch.Tensor], list[torch.Tensor]]:
    """Per image ``rois`` proposals sampled as Fast R-CNN samples RoIs (section 2.3: a quarter foreground,
    IoU ≥ 0.5 with a true box, the rest background) plus the true boxes; each RoI's class u (0: background)
    and regression target v = encode(G, P) / σ. Returns (RoIs, u, v) per image."""
    chosen, u, v = [], [], []
    for props, gt, lab in zip(proposals, boxes, labels, strict=True):
        std = torch.tensor(TARGET_STD, device=props.device, dtype=props.dtype)
        if len(gt):
            best, which = box_iou(props, gt).max(dim=1)  # (N,) each proposal's best true box
        else:
            best, which = props.new_zeros(len(props)), torch.zeros(len(props), dtype=torch.long)
        fg, bg = (best >= 0.5).nonzero().flatten(), (best < 0.5).nonzero().flatten()
        fg = fg[torch.randperm(len(fg), generator=g)[: rois // 4].to(fg.device)]
        bg = bg[torch.randperm(len(bg), generator=g)[: rois - len(fg)].to(bg.device)]
        chosen.append(torch.cat([props[fg], props[bg], gt]))
        u.append(torch.cat([lab[which[fg]] + 1, torch.zeros_like(bg), lab + 1]))
        v.append(
            torch.cat(
                [encode(gt[which[fg]], props[fg]) / std, torch.zeros_like(props[bg]), torch.zeros_like(gt)]
            )
        )
    return chosen, u, v


def region_loss(
    head: Head,
    images: torch.Tensor,
    proposals: list[torch.Tensor],
    boxes: list[torch.Tensor],
    labels: list[torch.Tensor],
    g: torch.Generator,
) -> torch.Tensor:
    """R-CNN's and Fast R-CNN's training loss on a batch: sampled RoIs through ``head``, Fast eq. 1."""
    rois, u, v = sample_rois(proposals, boxes, labels, g)
    cls, reg = head(images, rois)
    return head_loss(cls, reg, u, v)


class OnRegions(nn.Module):
    """A member that scores given regions, as the kit's ``detect`` calls a detector: ``features`` hands it
    the image and this image's proposals as the "anchors", ``head`` scores them (R-CNN's warped regions or
    Fast R-CNN's pooled ones). ``detect(OnRegions(...), one_image, proposals="anchors")`` then applies the
    kit's rules (class-specific box regression, scores > 0.05, NMS at 0.5 per class)."""

    def __init__(self, net: nn.Module, head: Head, proposals: torch.Tensor) -> None:
        super().__init__()
        self.net, self.score, self.proposals, self.classes = net, head, proposals, CLASSES

    def features(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, None, None]:
        return images, self.proposals, None, None

    def head(self, images: torch.Tensor, rois: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        return self.score(images, rois)


def detect_regions(head: Head, net: nn.Module, image: torch.Tensor, proposals: torch.Tensor) -> Detections:
    """One image's detections by a member that scores hand-made ``proposals`` with ``head``."""
    (found,) = detect(OnRegions(net, head, proposals), image, proposals="anchors")  # type: ignore[arg-type]
    return found
