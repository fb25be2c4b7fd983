"""Procedural images for the vision and generative plugins: generated from a seed, never downloaded.

- **shapes**: one of four shapes (square outline, disc, plus, triangle) per small image, at a random centre
  and radius, with Gaussian noise: a classification task a LeNet solves, small enough for a CPU;
- **scenes**: one to a few non-overlapping shapes on a larger canvas, with each object's class, tight box
  and the per-pixel class map: detection and segmentation;
- **bars**: binary images in which each horizontal and vertical bar is on independently with probability
  p, with their exact log-likelihood (:func:`bars_log_likelihood`), so a generative model's negative
  log-likelihood has an absolute floor, as the Markov text's entropy rate gives language models one;
- **bouncing balls**: binary frame sequences of a ball moving at constant speed and reflecting off the walls
  (the RTRBM paper's data, at toy size);
- :func:`text_art`: an image as text, for samples shown in the run's log.

Every function takes a ``torch.Generator`` so that two variants of an experiment see the same images, and
returns float32 images on ``device`` (CPU by default). Boxes are ``(x0, y0, x1, y1)`` in pixel-edge
coordinates: a box around pixels x0 … x1 − 1 (so its width is x1 − x0, and IoU of pixel sets is IoU of boxes).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

#: Class names, in label order.
SHAPES = ("square", "disc", "plus", "triangle")


def shape_masks(
    labels: torch.Tensor, cy: torch.Tensor, cx: torch.Tensor, r: torch.Tensor, height: int, width: int
) -> torch.Tensor:
    """Boolean masks (n, height, width) of shape ``labels[i]`` centred at pixel (cy[i], cx[i]) with radius
    ``r[i]`` (integer tensors (n,)); every shape lies within the square of side 2r + 1 around its centre.

    square: the outline, Chebyshev distance exactly r; disc: Euclidean distance ≤ r; plus: the two
    one-pixel strokes of half-length r; triangle: filled, apex up, base 2r + 1 wide on the bottom row.
    """
    yy = torch.arange(height).view(1, height, 1)
    xx = torch.arange(width).view(1, 1, width)
    dy, dx = yy - cy.view(-1, 1, 1), xx - cx.view(-1, 1, 1)  # (n, H, W)
    r = r.view(-1, 1, 1)
    inside = (dy.abs() <= r) & (dx.abs() <= r)
    masks = torch.stack(
        [
            inside & (torch.maximum(dy.abs(), dx.abs()) == r),  # square outline
            dy * dy + dx * dx <= r * r,  # disc
            inside & ((dx == 0) | (dy == 0)),  # plus
            inside & (2 * dx.abs() <= dy + r),  # triangle: half-width grows by 1/2 per row downwards
        ]
    )  # (4, n, H, W)
    return masks[labels, torch.arange(len(labels))]


def shapes(
    n: int,
    g: torch.Generator,
    *,
    size: int = 16,
    noise: float = 0.1,
    radius: tuple[int, int] = (3, 5),
    device: str | torch.device = "cpu",
) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` images (n, 1, size, size) with one shape each, and their labels (n,) in ``SHAPES`` order.

    Shape pixels are 1, the rest 0, plus N(0, noise²); the radius is uniform in ``radius`` (inclusive) and
    the centre uniform over the places where the whole shape fits. Labels are uniform."""
    labels = torch.randint(0, len(SHAPES), (n,), generator=g)
    r = torch.randint(radius[0], radius[1] + 1, (n,), generator=g)
    cy = r + (torch.rand(n, generator=g) * (size - 2 * r)).long()  # r … size − 1 − r
    cx = r + (torch.rand(n, generator=g) * (size - 2 * r)).long()
    images = shape_masks(labels, cy, cx, r, size, size).float()
    images = images + noise * torch.randn(images.shape, generator=g)
    return images.unsqueeze(1).to(device), labels.to(device)


@dataclass(frozen=True)
class Scenes:
    """Images with several objects: what a detector and a segmenter learn from.

    images (n, 1, H, W) float; classes (n, H, W) int64, 0 for background and 1 + label on an object's pixels;
    boxes[i] (k_i, 4) float, the tight boxes of image i's objects (x0, y0, x1, y1), and labels[i] (k_i,)."""

    images: torch.Tensor
    classes: torch.Tensor
    boxes: list[torch.Tensor]
    labels: list[torch.Tensor]

    def __len__(self) -> int:
        return len(self.images)


def scenes(
    n: int,
    g: torch.Generator,
    *,
    size: int | tuple[int, int] = 32,
    objects: tuple[int, int] = (1, 3),
    radius: tuple[int, int] = (3, 6),
    noise: float = 0.1,
    device: str | torch.device = "cpu",
) -> Scenes:
    """``n`` images of ``size`` (an int for a square, or (height, width)), each with a number of shapes
    uniform in ``objects`` (inclusive), of random class, radius and place, whose bounding squares do not
    overlap (a place is drawn again until it fits; an object that cannot be placed in 100 tries is dropped,
    so crowded settings may hold fewer)."""
    height, width = (size, size) if isinstance(size, int) else size
    placed: list[tuple[int, int, int, int, int]] = []  # (image, label, cy, cx, r) of every object
    for i in range(n):
        count = int(torch.randint(objects[0], objects[1] + 1, (1,), generator=g))
        taken: list[tuple[int, int, int, int]] = []  # squares (y0, y1, x0, x1) placed in this image
        for _ in range(count):
            label = int(torch.randint(0, len(SHAPES), (1,), generator=g))
            r = torch.randint(radius[0], radius[1] + 1, (1,), generator=g)
            for _try in range(100):
                cy = int(r + (torch.rand(1, generator=g) * (height - 2 * r)).long())
                cx = int(r + (torch.rand(1, generator=g) * (width - 2 * r)).long())
                y0, y1, x0, x1 = cy - int(r), cy + int(r) + 1, cx - int(r), cx + int(r) + 1
                # one pixel apart: this square, grown by a pixel, meets no square already placed
                if all(y0 > b1 or y1 < b0 or x0 > a1 or x1 < a0 for b0, b1, a0, a1 in taken):
                    break
            else:
                continue
            taken.append((y0, y1, x0, x1))
            placed.append((i, label, cy, cx, int(r)))
    where = torch.tensor(placed, dtype=torch.long).view(-1, 5)
    at, kinds, ys, xs, rs = where.unbind(dim=1)
    masks = shape_masks(kinds, ys, xs, rs, height, width)  # (objects, H, W), every object at once
    classes = torch.zeros(n, height, width, dtype=torch.long)
    classes.index_put_((at,), masks * (kinds + 1).view(-1, 1, 1), accumulate=True)  # objects never overlap
    rows, cols = masks.any(dim=2), masks.any(dim=1)  # (objects, H), (objects, W): the tight box's extent
    first = lambda m: m.float().argmax(dim=1)  # noqa: E731  the first True
    last = lambda m: m.shape[1] - 1 - m.flip(1).float().argmax(dim=1)  # noqa: E731  the last True
    boxes = torch.stack([first(cols), first(rows), last(cols) + 1, last(rows) + 1], dim=1).float()
    counts = torch.bincount(at, minlength=n).tolist()
    images = (classes > 0).float() + noise * torch.randn(n, height, width, generator=g)
    return Scenes(
        images.unsqueeze(1).to(device),
        classes.to(device),
        [b.to(device) for b in boxes.split(counts)],
        [k.to(device) for k in kinds.split(counts)],
    )


def bars(
    n: int, g: torch.Generator, *, size: int = 8, p: float = 0.2, device: str | torch.device = "cpu"
) -> torch.Tensor:
    """``n`` binary images (n, 1, size, size): each of the ``size`` horizontal and ``size`` vertical bars is
    on independently with probability ``p``, and a pixel is on when its row's or its column's bar is."""
    rows = torch.rand(n, size, 1, generator=g) < p
    cols = torch.rand(n, 1, size, generator=g) < p
    return (rows | cols).float().unsqueeze(1).to(device)


def bars_log_likelihood(x: torch.Tensor, p: float = 0.2) -> torch.Tensor:
    """The exact log-probability (nats) of each binary bars image x (n, 1, S, S) under :func:`bars`, (n,);
    −inf for an image bars cannot make.

    An image does not always say which bars made it (a full row may be its own bar or every column's), so
    the probability sums over the row bars h that could be on (subsets of the full rows R): given h, a
    column bar must be on where a pixel is on that no row of h covers (allowed only in a full column), is
    free in the other full columns (on or off, total probability 1) and off elsewhere:
    log p(x) = log Σ_{h ⊆ R} p^{|h|}(1−p)^{S−|h|} · p^{|needed(h)|}(1−p)^{S−|C|} · [needed(h) ⊆ C]."""
    on = x.squeeze(1).to(torch.bool)  # (n, S, S)
    S = on.shape[-1]
    full_rows, full_cols = on.all(dim=2), on.all(dim=1)  # (n, S) each
    subsets = (torch.arange(2**S, device=x.device).view(-1, 1) >> torch.arange(S, device=x.device)) & 1
    h = subsets.bool()  # (2^S, S): every set of row bars
    possible = ~(h.unsqueeze(0) & ~full_rows.unsqueeze(1)).any(dim=-1)  # (n, 2^S): h ⊆ R
    uncovered = on.unsqueeze(1) & ~h.view(1, -1, S, 1)  # (n, 2^S, S, S): on pixels no row of h covers
    needed = uncovered.any(dim=2)  # (n, 2^S, S): the columns that must be on
    valid = possible & ~(needed & ~full_cols.unsqueeze(1)).any(dim=-1)
    log_p, log_q = math.log(p), math.log1p(-p)
    k_rows = h.sum(dim=-1).double()  # (2^S,)
    k_cols = needed.sum(dim=-1).double()  # (n, 2^S)
    free_off = (S - full_cols.sum(dim=-1)).double()  # (n,): columns that must be off
    terms = k_rows * log_p + (S - k_rows) * log_q + k_cols * log_p + free_off.unsqueeze(1) * log_q
    return torch.logsumexp(terms.masked_fill(~valid, float("-inf")), dim=1)


def bouncing_balls(
    n: int,
    length: int,
    g: torch.Generator,
    *,
    size: int = 10,
    radius: float = 1.5,
    speed: float = 1.0,
    device: str | torch.device = "cpu",
) -> torch.Tensor:
    """``n`` binary videos (n, length, size, size) of one ball: a disc of ``radius`` whose centre starts
    uniformly inside the box, moves ``speed`` pixels a frame in a random direction and reflects off the
    walls (position and velocity mirrored), so the next frame follows from the last two."""
    lo, hi = radius - 0.5, size - 0.5 - radius  # where the centre may go, in pixel coordinates
    pos = lo + torch.rand(n, 2, generator=g) * (hi - lo)  # (n, 2): y, x
    angle = torch.rand(n, generator=g) * 2 * torch.pi
    vel = speed * torch.stack([angle.sin(), angle.cos()], dim=1)  # (n, 2)
    grid = torch.stack(torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij"), -1).float()
    frames = []
    for _ in range(length):
        dist2 = ((grid.view(1, size, size, 2) - pos.view(n, 1, 1, 2)) ** 2).sum(-1)  # (n, size, size)
        frames.append(dist2 <= radius**2)
        pos = pos + vel
        for bound, sign in ((lo, 1.0), (hi, -1.0)):  # reflect: mirror the overshoot, flip the velocity
            out = (pos - bound) * sign < 0
            pos = torch.where(out, 2 * bound - pos, pos)
            vel = torch.where(out, -vel, vel)
    return torch.stack(frames, dim=1).float().to(device)


def text_art(image: torch.Tensor, levels: str = " ░▒▓█") -> str:
    """A 2-D image (H, W) (or (1, H, W)) as lines of text, darkest to brightest in ``levels``, scaled from
    its own minimum to maximum: a sample a run's log can show."""
    img = image.detach().float().cpu().reshape(image.shape[-2], image.shape[-1])
    span = float(img.max() - img.min()) or 1.0
    index = ((img - img.min()) / span * (len(levels) - 1)).round().long()
    return "\n".join("".join(levels[int(v)] for v in row) for row in index)
