"""DeepDream at toy scale: dream each class of a LeNet trained on the shapes, with and without the post's
tricks (jitter, octaves, an L2 prior), and measure what the tricks change.

check: ``jitter`` (torch.roll) against a naive loop over pixels with modular indices (shifts positive,
       negative, larger than the image); ``octave_resize`` (bilinear, align_corners=False) against the
       bilinear formula written out (source coordinate (i + 1/2)·h/H − 1/2, clamped, two-tap weights), up and
       down, forward and gradients, float64 then float32; the objective's gradient through resize, jitter and
       the network against finite differences (``gradcheck``, float64); one ``dream`` step against Adam's
       first step written out from the autograd gradient (x − lr·(−g)/(|g| + ε)); the gradient through a
       jitter is the jitter's inverse applied to the gradient.
train: a ReLU LeNet-5 learns the shapes (4000 images, 400 Adam steps), is frozen, and 8 images per class
       are dreamed, each from the mean training image plus its own noise, by 200 Adam steps (quick 100) on
       log p_c − λ‖I‖² with jitter (±2 pixels), octaves (8 → 11 → 16), λ = 1e-3; then the same without any
       of the three (plain gradient ascent from the same starts, same steps and learning rate). Target: plain
       ascent's smallest p_c ≥ 0.99 (the mechanism); measured for both: p_c, the share of dreams nearest
       their own class's mean training image, the share of the image's spectral energy above half the
       Nyquist frequency (high-frequency "noise") and the image norm.
bench: one dreaming step (forward + backward to the image, the Adam update) for a batch of 4 and 64 images,
       plain and with jitter and an octave's upsampling.
"""

from __future__ import annotations

import itertools

import torch
import torch.nn.functional as F

from readtrack.api import RunContext, dtype_name
from readtrack.plugin_kit.images import SHAPES, shapes, text_art
from readtrack.plugin_kit.vision import ShapesLeNet, fit_image_classifier, image_accuracy

from .config import Config
from .model import DreamConfig, dream, jitter, objective, octave_resize


def jitter_loop(x: torch.Tensor, dy: int, dx: int) -> torch.Tensor:
    """out[..., i, j] = x[..., (i − dy) mod H, (j − dx) mod W], one pixel at a time."""
    H, W = x.shape[-2:]
    out = torch.empty_like(x)
    for i, j in itertools.product(range(H), range(W)):
        out[..., i, j] = x[..., (i - dy) % H, (j - dx) % W]
    return out


def bilinear_formula(x: torch.Tensor, size: int) -> torch.Tensor:
    """Bilinear resampling written out: output pixel i of side ``size`` reads the input at the source
    coordinate s = (i + 1/2)·h/size − 1/2 (pixel centres aligned), clamped at 0, between rows ⌊s⌋ and
    ⌊s⌋ + 1 (clamped at h − 1) with weights 1 − (s − ⌊s⌋) and s − ⌊s⌋; the same along columns."""
    h, w = x.shape[-2:]

    def taps(n_in: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        s = ((torch.arange(size, dtype=torch.float64) + 0.5) * n_in / size - 0.5).clamp(min=0)
        lo = s.floor().long()
        return lo, (lo + 1).clamp(max=n_in - 1), (s - lo).to(x.dtype).to(x.device)

    y0, y1, fy = taps(h)
    x0, x1, fx = taps(w)
    rows = x[..., y0, :] * (1 - fy)[:, None] + x[..., y1, :] * fy[:, None]  # (…, size, w)
    return rows[..., x0] * (1 - fx) + rows[..., x1] * fx  # (…, size, size)


def _check_operations(ctx: RunContext) -> None:
    g = torch.Generator().manual_seed(ctx.seed)
    for dtype in ctx.check_dtypes:
        for shape, dy, dx in (((1, 1, 1, 1), 3, -2), ((2, 1, 16, 16), 2, -1), ((3, 2, 5, 7), -9, 17)):
            x = torch.randn(shape, generator=g, dtype=dtype).to(ctx.device)
            ctx.check_close(
                f"jitter (torch.roll) vs a naive loop, {shape}, shift ({dy}, {dx}) ({dtype_name(dtype)})",
                jitter(x, dy, dx),
                jitter_loop(x, dy, dx),
            )
        for side, size in ((8, 11), (11, 16), (5, 16), (16, 8), (1, 4), (16, 16)):
            x = torch.randn(2, 1, side, side, generator=g, dtype=dtype)
            ours, ours_grads = ctx.value_and_grads(lambda t, size=size: octave_resize(t, size), x)
            ref, ref_grads = ctx.value_and_grads(lambda t, size=size: bilinear_formula(t, size), x)
            name = f"{side}×{side} → {size}×{size} ({dtype_name(dtype)})"
            ctx.check_close(f"octave resize vs the bilinear formula, {name}", ours, ref)
            ctx.check_close(
                f"octave resize gradients vs the bilinear formula's, {name}", ours_grads, ref_grads
            )
    # the gradient through a jitter is the inverse jitter of the gradient (a roll is a permutation)
    x = torch.randn(2, 1, 6, 6, generator=g, dtype=ctx.exact_dtype).to(ctx.device).requires_grad_()
    weights = torch.randn(2, 1, 6, 6, generator=g, dtype=ctx.exact_dtype).to(ctx.device)
    (grad,) = torch.autograd.grad((jitter(x, 2, -1) * weights).sum(), x)
    ctx.check_close(
        "∂/∂x of a jittered image = the inverse roll of the upstream gradient", grad, jitter(weights, -2, 1)
    )


def _check_ascent(ctx: RunContext) -> None:
    torch.manual_seed(ctx.seed)
    net = ShapesLeNet().to(ctx.device, ctx.exact_dtype)
    for p in net.parameters():
        p.requires_grad_(False)
    c = torch.tensor([0, 3], device=ctx.device)
    g = torch.Generator().manual_seed(ctx.seed)
    x = torch.randn(2, 1, 8, 8, generator=g, dtype=ctx.exact_dtype).to(ctx.device).requires_grad_()

    def dreamed(t: torch.Tensor) -> torch.Tensor:
        return objective(net, jitter(octave_resize(t, 16), 1, -2), c, 1e-2)

    ctx.check_property(
        "∂ objective / ∂ image through resize, jitter and the network = finite differences (gradcheck, 8×8)",
        torch.autograd.gradcheck(dreamed, (x,), eps=1e-6, atol=1e-6, raise_exception=False),
    )
    # One dreaming step at 16×16 against Adam's first step written out: m̂ = g, v̂ = g², x ← x − lr·m̂/(√v̂ + ε)
    for dtype in ctx.check_dtypes:
        net = net.to(dtype)
        config = DreamConfig(steps=1, lr=0.1, l2=1e-2, max_jitter=2, octaves=(16,))
        ours = dream(net, c, config, torch.Generator().manual_seed(7)).to(dtype)
        gen = torch.Generator().manual_seed(7)
        x0 = (0.01 * torch.randn(2, 1, 16, 16, generator=gen)).to(ctx.device, dtype).requires_grad_()
        dy, dx = (int(v) for v in torch.randint(-2, 3, (2,), generator=gen))
        (grad,) = torch.autograd.grad(objective(net, jitter(x0, dy, dx), c, 1e-2), x0)  # ascent: +g
        expected = x0.detach() + 0.1 * grad / (grad.abs() + 1e-8)
        name = f"one dreaming step vs Adam's first step on the autograd gradient ({dtype_name(dtype)})"
        ctx.check_close(name, ours, expected)


def check(ctx: RunContext) -> None:
    _check_operations(ctx)
    # octave_resize in x's own dtype: the comparisons above take float32's tolerance for a float32 result
    # against the float64 formula, so a resize that returns float64 for float32 (or the reverse) passes them
    g = torch.Generator().manual_seed(ctx.seed + 1)
    same_dtype = True
    for dtype in (*ctx.check_dtypes, torch.bfloat16):
        x = torch.randn(2, 1, 8, 8, generator=g).to(ctx.device, dtype)
        out = octave_resize(x, 11)
        same_dtype &= ctx.check_property(
            f"octave resize returns x's dtype: {dtype_name(dtype)} in, {dtype_name(dtype)} out (8×8 → 11×11)",
            out.dtype == dtype,
            f"{dtype_name(out.dtype)} out",
        ).passed
    if same_dtype:  # the ascent feeds the resized image to a network of the image's dtype
        _check_ascent(ctx)


def high_frequency_share(images: torch.Tensor) -> torch.Tensor:
    """The share of each image's spectral energy |FFT|² (mean removed) at frequencies above half Nyquist
    (max(|f_y|, |f_x|) ≥ 1/4 cycles per pixel), (B,)."""
    x = images[:, 0] - images[:, 0].mean(dim=(1, 2), keepdim=True)
    power = torch.fft.fft2(x).abs().square()  # (B, H, W)
    fy = torch.fft.fftfreq(x.shape[-2], device=x.device).abs()
    fx = torch.fft.fftfreq(x.shape[-1], device=x.device).abs()
    high = torch.maximum(fy[:, None], fx[None, :]) >= 0.25
    return (power * high).sum(dim=(1, 2)) / power.sum(dim=(1, 2)).clamp_min(1e-30)


def dream_configs(cfg: Config) -> dict[str, DreamConfig]:
    """The two arms: the post's tricks as the knobs set them (octave sides 16/1.4^k, coarse to fine:
    8 → 11 → 16 for three), and plain gradient ascent, same steps and learning rate.

    Adam's learning rate for dreaming is 0.1 for both (planning, seed 0: plain ascent at 0.05 put 3/4 dreams
    nearest their own class mean, at 0.1 4/4; with the tricks 0.1 and λ = 1e-3 gave p ≥ 0.999)."""
    sides = tuple(round(16 / 1.4**k) for k in reversed(range(cfg.octaves)))  # the last is the input, 16
    return {
        "jitter + octaves + L2": DreamConfig(cfg.steps, cfg.lr, cfg.l2, cfg.jitter, sides),
        "plain gradient ascent": DreamConfig(cfg.steps, cfg.lr, 0.0, 0, (16,)),
    }


def train(ctx: RunContext) -> None:
    cfg = ctx.config(Config)
    g = torch.Generator().manual_seed(ctx.seed)
    x, y = shapes(4000, g, noise=cfg.noise, device=ctx.device)
    xt, yt = shapes(1000, g, noise=cfg.noise, device=ctx.device)
    net = ShapesLeNet().to(ctx.device)
    # lenet_steps: at 200 a few seeds stopped on the plateau where discs and triangles (both filled) are
    # confused, or just after a loss spike of constant-rate Adam (seed 18 fell from 0.99 at step 150 to 0.89
    # at 200); on a validation split of seeds 0-19 300 steps gave min 0.986, 400 min 0.996.
    fit_image_classifier(net, x, y, steps=cfg.lenet_steps, lr=3e-3, seed=ctx.seed)
    ctx.target("the frozen LeNet's test accuracy", image_accuracy(net, xt, yt), 0.97,
               detail=f"{cfg.lenet_steps} Adam steps")  # fmt: skip
    means = torch.stack([x[y == k].mean(dim=0) for k in range(4)]).flatten(1)  # (4, 256): class means
    # Every dream starts from the mean training image plus noise 0.01 (Simonyan's zero image of centred data).
    # From noise around 0, a LeNet whose conv1 biases are all negative (seed 10) has every first-layer ReLU
    # off: the gradient is exactly 0 and the dream never moves (p_c stayed 0.04 however many steps).
    start = x.mean(dim=0, keepdim=True) if cfg.start == "mean" else None  # (1, 1, 16, 16)
    # per_class dreams per class, each from its own start: a share out of 32, not a count out of 4
    c = torch.arange(4, device=ctx.device).repeat(cfg.per_class)  # (32,): every class per_class times
    results = {}
    for label, config in dream_configs(cfg).items():
        image = octave_resize(dream(net, c, config, torch.Generator().manual_seed(ctx.seed), start=start), 16)
        with torch.no_grad():
            p = F.softmax(net(image), dim=-1)[torch.arange(len(c)), c]  # (32,)
        nearest = torch.cdist(image.flatten(1), means).argmin(dim=1)  # (32,)
        own = (nearest == c).double()
        hf = high_frequency_share(image)
        results[label] = (p, own.mean().item(), hf)
        per_class = ", ".join(f"{SHAPES[k]} {own[c == k].mean().item():.2f}" for k in range(4))
        ctx.measured(f"{label}: smallest p_c of the {len(c)} dreams", p.min().item())
        ctx.measured(f"{label}: share of dreams nearest their own class mean", own.mean().item(), per_class)
        ctx.measured(f"{label}: high-frequency share of spectral energy (mean)", hf.mean().item(),
                     ", ".join(f"{SHAPES[k]} {hf[c == k].mean().item():.2f}" for k in range(4)))  # fmt: skip
        ctx.measured(f"{label}: image norm ‖I‖ (mean)", image.flatten(1).norm(dim=1).mean().item(),
                     f"a training image: {x.flatten(1).norm(dim=1).mean().item():.1f}")  # fmt: skip
        ctx.log(f"{label}, the {SHAPES[0]} dream:\n{text_art(image[0])}")
        ctx.progress(len(results), 2)
    p, own_share, hf = results["jitter + octaves + L2"]
    plain = results["plain gradient ascent"]
    detail = f"{cfg.per_class} dreams per class from their own starts, {cfg.steps} Adam steps"
    if cfg.start != "mean":
        detail += f", from the {cfg.start} image (not the mean training image)"
    # The mechanism that holds on every seed: climbing log p_c on the image makes the frozen network see the
    # class. What the tricks add is reported with its spread, not asserted (see the page).
    ctx.target("plain gradient ascent: dreamed p_c, smallest of the dreams", plain[0].min().item(), 0.99,
               detail=detail)  # fmt: skip
    ctx.measured(
        "share of dreams nearest their own class mean, with the tricks minus without",
        own_share - plain[1],
        "reported, not asserted: its sign changes from seed to seed (chance alone is 0.25)",
    )
    ctx.measured(
        "high-frequency share, with the tricks / without",
        hf.mean().item() / plain[2].mean().item(),
        "reported: below 1 on most seeds (the tricks smooth the dream), not all",
    )


def bench(ctx: RunContext) -> None:
    net = ShapesLeNet().to(ctx.device)
    for p in net.parameters():
        p.requires_grad_(False)
    for batch in (4, 64):
        c = torch.arange(batch, device=ctx.device) % 4
        for label, side, shift in (("plain ascent step", 16, 0), ("jitter + octave step (11 → 16)", 11, 1)):
            x = torch.zeros(batch, 1, side, side, device=ctx.device, requires_grad=True)
            opt = torch.optim.Adam([x], lr=0.1)

            def step(x: torch.Tensor = x, opt: torch.optim.Optimizer = opt, shift: int = shift,
                     side: int = side, c: torch.Tensor = c) -> None:  # fmt: skip
                image = x if side == 16 else octave_resize(x, 16)
                loss = -objective(net, jitter(image, shift, -shift), c, 1e-3)
                opt.zero_grad()
                loss.backward()
                opt.step()

            ctx.bench.measure(
                f"{label}, batch {batch}",
                step,
                baseline=side == 16 and batch == 4,
                tokens=batch,
                unit="images/s",
                shape=(batch, 1, side, side),
                dtype=torch.float32,
            )
