"""The detection family on one bench: R-CNN, Fast R-CNN and Faster R-CNN on the same scenes, seeds, steps and
network.

check: R-CNN's warp against bilinear interpolation written out pixel by pixel (float64), its context padding
       included; R-CNN runs the CNN once per region, on the warped region alone (a region's scores do not
       change when the image outside it or the other regions change), Fast R-CNN once per image (counted
       at the backbone); the multi-task loss against its equation written out; the grouping's components
       are the scenes' true boxes on clean scenes, 9(2k − 1) proposals for k objects; Faster R-CNN's first
       region is its RPN's best anchor moved by its deltas (R-CNN's eqs. 1-4 written out); the FLOP counter
       against the convolutions' multiply-adds written out; every member starts from the same weights.
train: every member trained with Adam on the same batches of scenes (R-CNN and Fast R-CNN on the same
       sampled RoIs of the same hand-made proposals), each at its better rate by validation AP50; per
       member AP50 on new scenes, proposals, forward FLOPs and wall time per test image, time per training
       step; the targets: R-CNN's AP50 (full run) and Fast R-CNN's test FLOPs against R-CNN's; reported:
       R-CNN's features against raw pixels, Fast R-CNN's AP50 against R-CNN's, Faster R-CNN's 16 learned
       proposals against the hand-made ones.
bench: each member's detection of one scene.
"""

from __future__ import annotations

import math
import time
from functools import partial

import torch
from torch.utils.flop_counter import FlopCounterMode

from readtrack.api import RunContext
from readtrack.plugin_kit import rates
from readtrack.plugin_kit.detection import (
    Detections,
    TinyDetector,
    average_precision,
    detect,
    detector_loss,
    head_loss,
)
from readtrack.plugin_kit.images import Scenes, scenes

from .config import Config
from .model import (
    CLASSES,
    CONTEXT,
    CROP,
    FAST,
    FASTER,
    MEMBERS,
    NAMES,
    PIXELS,
    RCNN,
    SIZE,
    Head,
    Pixels,
    components,
    detect_regions,
    fast_head,
    grouping,
    network,
    rcnn_head,
    region_loss,
    warp,
    windows,
)

GRID = (3e-3, 1e-2)
#: The rate each member's grid picks at the quick budget on seeds 0-4
#: (`readtrack run detection-bench --quick --impl grid --seeds 0-4 --only train`): R-CNN and Fast R-CNN 3e-3
#: on every seed, Faster R-CNN 1e-2 on four (3e-3 on seed 4), raw pixels 1e-2 on three (the two rates within
#: 0.003 of each other on every seed).
QUICK_RATE = {PIXELS: 1e-2, RCNN: 3e-3, FAST: 3e-3, FASTER: 1e-2}
COUNTED = 8  # the test scenes whose forward FLOPs are counted (a count, not a timing: the same on any run)
RPN_PROPOSALS = 16  # Faster R-CNN's regions per test image (the kit's detect)


def _proposals(cfg: Config, images: torch.Tensor) -> list[torch.Tensor]:
    """R-CNN's and Fast R-CNN's hand-made regions per image for these knobs."""
    if cfg.proposals == "windows":
        return windows(images, TinyDetector(CLASSES, width=2))
    return grouping(images)


def _model(cfg: Config, member: str, seed: int, device: torch.device | str) -> torch.nn.Module:
    """``member``'s network: the same initial weights for the three members (the baseline: its own)."""
    if member == PIXELS:
        torch.manual_seed(seed)
        return Pixels().to(device)
    return network(seed, cfg.width, device)


def _head(member: str, net: torch.nn.Module) -> Head:
    return partial(fast_head if member == FAST else rcnn_head, net)  # type: ignore[arg-type]


def _loss(
    member: str,
    net: torch.nn.Module,
    data: Scenes,
    proposals: list[torch.Tensor],
    idx: list[int],
    g: torch.Generator,
) -> torch.Tensor:
    images, boxes, labels = data.images[idx], [data.boxes[i] for i in idx], [data.labels[i] for i in idx]
    if member == FASTER:
        rpn, head = detector_loss(net, images, boxes, labels)  # type: ignore[arg-type]
        return rpn + head
    return region_loss(_head(member, net), images, [proposals[i] for i in idx], boxes, labels, g)


def _fit(
    ctx: RunContext, cfg: Config, member: str, lr: float, data: Scenes, proposals: list[torch.Tensor]
) -> tuple[torch.nn.Module, float]:
    """``member`` trained at ``lr`` on the batches every member reads (and, for R-CNN and Fast R-CNN, the
    same sampled RoIs); the network and its seconds per step."""
    net = _model(cfg, member, ctx.seed, ctx.device)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    g, sampling = torch.Generator().manual_seed(ctx.seed), torch.Generator().manual_seed(ctx.seed + 1)
    spent = 0.0
    for step in range(cfg.steps):
        idx = torch.randint(0, len(data.images), (cfg.batch,), generator=g).tolist()
        started = time.perf_counter()
        loss = _loss(member, net, data, proposals, idx, sampling)
        opt.zero_grad()
        loss.backward()
        opt.step()
        spent += time.perf_counter() - started
        if step % 10 == 0:
            ctx.metric(f"train loss ({NAMES[member]}, lr {lr:g})", step, loss.item())
    return net, spent / cfg.steps


def _detect(
    member: str, net: torch.nn.Module, images: torch.Tensor, proposals: list[torch.Tensor]
) -> list[Detections]:
    """``member``'s detections, one image at a time (as the papers time a test image)."""
    if member == FASTER:
        return [detect(net, images[i : i + 1], count=RPN_PROPOSALS)[0] for i in range(len(images))]  # type: ignore[arg-type]
    head = _head(member, net)
    return [detect_regions(head, net, images[i : i + 1], proposals[i]) for i in range(len(images))]


def _rpn_regions(net: TinyDetector, images: torch.Tensor) -> float:
    """Faster R-CNN's regions per image: its RPN's best, at most 16 once NMS has removed overlaps."""
    with torch.no_grad():
        _, anchor, logits, deltas = net.features(images)
        found = net.propose(anchor, logits, deltas, (images.shape[-2], images.shape[-1]), RPN_PROPOSALS)
    return sum(len(p) for p in found) / len(found)


def train(ctx: RunContext) -> None:
    cfg = ctx.config(Config)
    validations = 50 if ctx.quick else 100  # only to choose a rate
    data, test, validation = (
        scenes(n, torch.Generator().manual_seed(seed), size=SIZE, objects=(1, 3), device=ctx.device)
        for n, seed in ((cfg.scenes, ctx.seed), (cfg.test_scenes, ctx.seed + 1), (validations, ctx.seed + 2))
    )
    regions = {
        name: _proposals(cfg, s.images) for name, s in (("data", data), ("test", test), ("val", validation))
    }
    ap: dict[str, float] = {}
    flops: dict[str, float] = {}
    per_image: dict[str, float] = {}
    members = (PIXELS, *MEMBERS)
    for done, member in enumerate(members):
        grid = (cfg.lr,) if cfg.lr else rates.rates(ctx, GRID, QUICK_RATE[member])
        tried = {lr: _fit(ctx, cfg, member, lr, data, regions["data"]) for lr in grid}
        scores = {lr: math.nan for lr in grid}
        if len(grid) > 1:
            scores = {
                lr: average_precision(
                    _detect(member, net, validation.images, regions["val"]),
                    validation.boxes,
                    validation.labels,
                    CLASSES,
                )
                for lr, (net, _) in tried.items()
            }
        best = rates.best(scores, higher_is_better=True) if len(grid) > 1 else grid[0]
        net, per_step = tried[best]
        started = time.perf_counter()
        found = _detect(member, net, test.images, regions["test"])
        per_image[member] = 1000 * (time.perf_counter() - started) / len(test.images)
        counted = min(COUNTED, len(test.images))
        with FlopCounterMode(display=False) as counter:
            _detect(member, net, test.images[:counted], regions["test"][:counted])
        flops[member] = counter.get_total_flops() / counted
        ap[member] = average_precision(found, test.boxes, test.labels, CLASSES)
        picked = rates.choice(scores, ".3f", higher_is_better=True) if len(grid) > 1 else f"lr {best:g}"
        if member == PIXELS:
            ctx.measured(
                "AP50 on the test scenes, raw pixels of R-CNN's regions (no CNN)", ap[member], picked
            )
            ctx.progress(done + 1, len(members))
            continue
        ctx.measured(f"{member}: AP50 on the test scenes", ap[member], f"{NAMES[member]}, {picked}")
        props = (
            _rpn_regions(net, test.images)  # type: ignore[arg-type]
            if member == FASTER
            else sum(len(p) for p in regions["test"]) / len(test.images)
        )
        kind = "its RPN's best after NMS" if member == FASTER else f"hand-made ({cfg.proposals})"
        ctx.measured(f"{member}: proposals per test image", props, kind)
        ctx.measured(
            f"{member}: forward FLOPs per test image (M)",
            flops[member] / 1e6,
            f"FlopCounterMode, one image at a time, the first {COUNTED} test scenes",
        )
        ctx.measured(
            f"{member}: ms per test image", per_image[member], "wall time, one image at a time; noisy"
        )
        ctx.measured(
            f"{member}: ms per training step", 1000 * per_step, f"wall time, {cfg.batch} scenes; noisy"
        )
        ctx.progress(done + 1, len(members))
    detail = f"{cfg.steps} Adam steps of {cfg.batch} on {cfg.scenes} scenes, {cfg.test_scenes} new scenes"
    if not ctx.quick:  # at the quick budget R-CNN is still learning (its AP50 is measured above)
        ctx.target(
            f"{RCNN}: AP50 on the test scenes, the hand-made proposals",
            ap[RCNN],
            0.5,
            detail=f"{detail}; R-CNN's 53.7% mAP on VOC 2010 as the level (UVA's hand-made features on "
            "the same selective-search regions: 35.1%)",
        )
    ctx.target(
        f"{FAST}: test FLOPs per image, R-CNN's / Fast R-CNN's",
        flops[RCNN] / flops[FAST],
        1.0,
        detail=f"{flops[RCNN] / 1e6:.2f} M vs {flops[FAST] / 1e6:.2f} M, the same proposals",
    )
    # The three AP50 claims below are reported, not asserted: each fails the calibration rule on these
    # clean scenes (a seed below its threshold; the page gives their numbers over seeds)
    ctx.target(
        f"{RCNN}: AP50, CNN features − raw pixels of the same warped regions",
        ap[RCNN] - ap[PIXELS],
        0.0,
        detail=f"{detail}; {ap[RCNN]:.3f} vs {ap[PIXELS]:.3f}",
        asserted=False,
    )
    ctx.target(
        f"{FAST}: AP50, Fast R-CNN's − R-CNN's",
        ap[FAST] - ap[RCNN],
        0.0,
        detail=f"{detail}; {ap[FAST]:.3f} vs {ap[RCNN]:.3f}, the same proposals",
        asserted=False,
    )
    ctx.target(
        f"{FASTER}: AP50, RPN's 16 learned proposals − Fast R-CNN's on the hand-made ones",
        ap[FASTER] - ap[FAST],
        0.0,
        detail=f"{detail}; {ap[FASTER]:.3f} vs {ap[FAST]:.3f} ({cfg.proposals})",
        asserted=False,
    )


def _bilinear(image: torch.Tensor, box: list[float], crop: int, context: int) -> torch.Tensor:
    """R-CNN's warp written out: the box grown so that ``context`` of the ``crop`` pixels a side lie outside
    it, each crop pixel's centre mapped into the image and interpolated from its 4 neighbours (0 outside)."""
    H, W = image.shape
    x0, y0, x1, y1 = box
    grow = crop / (crop - 2 * context)
    w, h = (x1 - x0) * grow, (y1 - y0) * grow
    left, top = (x0 + x1) / 2 - w / 2, (y0 + y1) / 2 - h / 2
    out = torch.zeros(crop, crop, dtype=image.dtype)

    def at(r: int, c: int) -> float:
        return float(image[r, c]) if 0 <= r < H and 0 <= c < W else 0.0

    for i in range(crop):
        for j in range(crop):
            u = left + (j + 0.5) * w / crop - 0.5  # column, in pixel-centre coordinates
            v = top + (i + 0.5) * h / crop - 0.5
            c, r = math.floor(u), math.floor(v)
            fu, fv = u - c, v - r
            out[i, j] = (
                (1 - fu) * (1 - fv) * at(r, c) + fu * (1 - fv) * at(r, c + 1)
                + (1 - fu) * fv * at(r + 1, c) + fu * fv * at(r + 1, c + 1)
            )  # fmt: skip
    return out


def check(ctx: RunContext) -> None:
    g = torch.Generator().manual_seed(ctx.seed)
    device, exact = ctx.device, ctx.exact_dtype
    image = torch.rand(1, 1, 12, 10, generator=g, dtype=torch.float64)
    boxes = torch.tensor(
        [[1.0, 2.0, 7.5, 9.0], [0.0, 0.0, 10.0, 12.0], [6.2, 0.5, 9.9, 3.1]], dtype=torch.float64
    )
    ours = warp(image.to(device, exact), [boxes.to(device, exact)], crop=6, context=1)
    ctx.check_close(
        "R-CNN's warp vs bilinear interpolation written out, 3 regions (one at the border), 6 × 6, context 1",
        ours[:, 0],
        torch.stack([_bilinear(image[0, 0], b, 6, 1) for b in boxes.tolist()]),
    )

    s = scenes(8, torch.Generator().manual_seed(ctx.seed), size=SIZE, objects=(1, 3), device=device)
    found = components(s.images)
    same = all(
        torch.equal(f[torch.argsort(f[:, 0] * 100 + f[:, 1])], t[torch.argsort(t[:, 0] * 100 + t[:, 1])])
        for f, t in zip(found, s.boxes, strict=True)
    )
    ctx.check_property("the grouping's components are the scenes' true boxes, 8 scenes", same, "tight boxes")
    counts = [len(p) for p in grouping(s.images)]
    expected = [9 * (2 * len(t) - 1) for t in s.boxes]
    ctx.check_property(
        "the grouping proposes 9(2k − 1) boxes for k objects (2k − 1 groups, 3 × 3 placements)",
        counts == expected,
        f"{counts} vs {expected}",
    )

    net = network(ctx.seed, 32, device)
    for member, other in ((RCNN, FAST), (FAST, RCNN)):
        twin = network(ctx.seed, 32, device)
        ctx.check_property(
            f"{NAMES[member]} starts from {NAMES[other]}'s weights",
            all(torch.equal(a, b) for a, b in zip(net.parameters(), twin.parameters(), strict=True)),
        )
    one, props = s.images[:1], grouping(s.images[:1])[0]
    calls: list[tuple[int, ...]] = []
    hook = net.backbone.register_forward_hook(lambda m, args, out: calls.append(tuple(args[0].shape)))
    for member, want in ((RCNN, [(len(props), 1, CROP, CROP)]), (FAST, [(1, 1, SIZE, SIZE)])):
        calls.clear()
        detect_regions(_head(member, net), net, one, props)
        what = "every region warped, one forward each" if member == RCNN else "once per image"
        ctx.check_property(f"{NAMES[member]} runs the CNN {what}", calls == want, f"inputs {calls} vs {want}")
    hook.remove()

    with torch.no_grad():
        (cls, _), (solo_cls, _) = rcnn_head(net, one, [props]), rcnn_head(net, one, [props[:1]])
        far = one.clone()
        x0, y0, x1, y1 = props[0].tolist()
        grow = CROP / (CROP - 2 * CONTEXT) / 2
        cx, cy, hw, hh = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) * grow + 1, (y1 - y0) * grow + 1
        outside = torch.ones_like(far, dtype=torch.bool)
        outside[
            ...,
            max(0, math.floor(cy - hh)) : math.ceil(cy + hh),
            max(0, math.floor(cx - hw)) : math.ceil(cx + hw),
        ] = False
        far[outside] = torch.rand(int(outside.sum()), generator=g).to(device, far.dtype)
        moved_cls, _ = rcnn_head(net, far, [props[:1]])
    ctx.check_close(
        "R-CNN: a region's scores are the same scored alone as with the others", solo_cls[0], cls[0]
    )
    ctx.check_close(
        "R-CNN: a region's scores do not change with the image outside its warped window",
        moved_cls[0],
        cls[0],
    )

    logits = torch.randn(6, CLASSES + 1, generator=g, dtype=torch.float64)
    deltas = torch.randn(6, CLASSES, 4, generator=g, dtype=torch.float64)
    u, v = (
        [torch.tensor([0, 2, 4]), torch.tensor([1, 0, 3])],
        [torch.randn(3, 4, generator=g, dtype=torch.float64) for _ in range(2)],
    )
    uu, vv = torch.cat(u), torch.cat(v)
    cls_loss = -sum(logits[i].log_softmax(0)[uu[i]] for i in range(6)) / 6
    diffs = [(deltas[i, uu[i] - 1] - vv[i]).abs() for i in range(6) if uu[i] > 0]
    loc = torch.cat([torch.where(d < 1, 0.5 * d * d, d - 0.5) for d in diffs]).mean()
    ctx.check_close(
        "the head's loss vs L_cls + λ[u ≥ 1] L_loc written out (Fast eq. 1-3, λ = 1)",
        head_loss(logits, deltas, u, v),
        cls_loss + loc,
    )

    seen: list[list[torch.Tensor]] = []
    real_head = net.head

    def capture(fmap: torch.Tensor, rois: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        seen.append(rois)  # the regions Faster R-CNN's head scores
        return real_head(fmap, rois)

    net.head = capture  # type: ignore[method-assign]
    detect(net, one, count=RPN_PROPOSALS)
    net.head = real_head  # type: ignore[method-assign]
    with torch.no_grad():
        _, anchor, objectness, d = net.features(one)
    top = int(objectness[0].argmax())
    a, t = anchor[top].tolist(), (d[0, top] * torch.tensor([0.1, 0.1, 0.2, 0.2], device=device)).tolist()
    pw, ph = a[2] - a[0], a[3] - a[1]
    gx, gy, gw, gh = (
        a[0] + pw / 2 + pw * t[0],
        a[1] + ph / 2 + ph * t[1],
        pw * math.exp(t[2]),
        ph * math.exp(t[3]),
    )
    written = torch.tensor([gx - gw / 2, gy - gh / 2, gx + gw / 2, gy + gh / 2]).clamp(0, SIZE)
    ctx.check_close(
        "Faster R-CNN's first region: its RPN's best anchor moved by its deltas (R-CNN eqs. 1-4 written out)",
        seen[0][0][0],
        written,
    )
    ctx.check_property(
        f"Faster R-CNN scores at most {RPN_PROPOSALS} regions, its RPN's",
        len(seen[0][0]) <= RPN_PROPOSALS,
        f"{len(seen[0][0])}",
    )

    with FlopCounterMode(display=False) as counter:
        net.backbone(one)
    convs = [m for m in net.backbone if isinstance(m, torch.nn.Conv2d)]
    sides = (SIZE, SIZE // 2, SIZE // 4)  # each convolution's output side (pooling halves it)
    mads = sum(
        2 * c.in_channels * c.out_channels * 9 * side * side for c, side in zip(convs, sides, strict=True)
    )
    ctx.check_property(
        "FLOPs counted: the backbone's 2·C_in·C_out·3·3·H·W written out",
        counter.get_total_flops() == mads,
        f"{counter.get_total_flops()} vs {mads}",
    )


def bench(ctx: RunContext) -> None:
    cfg = Config()
    s = scenes(1, torch.Generator().manual_seed(0), size=SIZE, objects=(3, 3), device=ctx.device)
    props = _proposals(cfg, s.images)
    for i, member in enumerate(MEMBERS):
        net = network(0, cfg.width, ctx.device)
        regions = RPN_PROPOSALS if member == FASTER else len(props[0])
        ctx.bench.measure(
            f"{NAMES[member]}: detection of one {SIZE}² scene ({regions} regions)",
            partial(_detect, member, net, s.images, props),
            baseline=i == 0,
            tokens=1,
            unit="images/s",
            shape=(1, 1, SIZE, SIZE),
            dtype=torch.float32,
        )
