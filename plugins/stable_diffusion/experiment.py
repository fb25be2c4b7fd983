"""Latent diffusion at toy scale: the DDPM's closed forms checked against iterating the process and against
Gaussian conditioning, classifier-free guidance, and a class-conditional DDPM in the latent of an
autoencoder for bars images.

check: the rescaled short schedule reaches ᾱ_T < 1e-3 (unscaled, T = 50 stays at 0.60); q(z_t | z_0) of Ho
       eq. 4 against iterating z_t = √(1 − β_t) z_{t−1} + √β_t ε (mean and variance propagated exactly, every
       t, float64 then float32); the posterior q(z_{t−1} | z_t, z_0) of Ho eq. 6-7 against conditioning the
       joint Gaussian of (z_{t−1}, z_t) (a separate derivation); Ho eq. 11's mean from ε equal to μ̃_t at
       ẑ_0(ε); guidance at w = 0 equal to the conditional model; the ancestral sampler with the exact ε of
       Gaussian data returns that Gaussian.
train: 8×8 bars images in which only horizontal (class 0) or only vertical (class 1) bars are on; an
       autoencoder into an 8-d latent, then a DDPM (T = 50, rescaled β) on the latent with condition dropout
       0.1, sampled with a moving average of its weights. Decoded samples thresholded at 0.5 (1000 per
       class and guidance weight): the share that are bars images (finite
       ``bars_log_likelihood``) against a Gaussian fitted to the latents (the same decoder, no diffusion),
       and the share of the requested class without and with guidance (w = 0 and w = 2). The full run adds
       the paper's comparison: the same denoiser, steps and sampler in pixel space (64-d), at its own
       learning rate, the two denoisers' FLOPs, and guidance's claim asserted as a paired comparison: both
       weights sampled from the same noise, the share of off-class bars images that w = 2 removes.
       The numbers are ``config.py``'s knobs (``cfg = ctx.config(Config)``).
bench: the denoiser's training step (forward + backward) in the 8-d latent and in 64-d pixel space, batch
       256 and 1024, with FLOPs counted by ``FlopCounterMode``.
"""

from __future__ import annotations

import copy
import math

import torch
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

from readtrack.api import RunContext, dtype_name
from readtrack.plugin_kit.images import bars, bars_log_likelihood, text_art

from .config import Config
from .model import (
    Autoencoder,
    Denoiser,
    guided_eps,
    linear_schedule,
    mean_from_eps,
    posterior,
    q_sample,
    sample,
)

T, D_Z, CLASSES = 50, 8, 2  # D_Z: the checked and benchmarked latent (config.py: d_latent)


def check(ctx: RunContext) -> None:
    rescaled, plain = linear_schedule(T, dtype=ctx.exact_dtype), linear_schedule(T, rescale=False)
    ctx.check_property(
        f"the rescaled schedule ends near pure noise: ᾱ_T < 1e-3 (T = {T})",
        float(rescaled.alpha_bar[-1]) < 1e-3,
        f"ᾱ_T = {float(rescaled.alpha_bar[-1]):.2e} rescaled, {float(plain.alpha_bar[-1]):.2f} unscaled",
        value=float(rescaled.alpha_bar[-1]),
    )
    for steps in (20, 21, 50, 1000):  # β written out: Ho et al.'s 1e-4 … 0.02 over 1000 steps, × 1000/T
        by_hand = [min(0.999, (1e-4 + (0.02 - 1e-4) * i / (steps - 1)) * 1000 / steps) for i in range(steps)]
        ctx.check_close(
            f"β_t = (1e-4 + (t − 1)/(T − 1)·(0.02 − 1e-4))·1000/T, clipped at 0.999, T = {steps}",
            linear_schedule(steps, dtype=ctx.exact_dtype, device=ctx.device).beta,
            torch.tensor(by_hand, dtype=ctx.exact_dtype, device=ctx.device),
        )
    g = torch.Generator().manual_seed(ctx.seed)
    for dtype in ctx.check_dtypes:
        for steps in (1, 20, 33, T):  # rescaled β_T = 20/T must stay below 1: T ≥ 20
            s = linear_schedule(steps, dtype=dtype, device=ctx.device)
            mean, var = (
                torch.ones(1, dtype=dtype, device=ctx.device),
                torch.zeros(1, dtype=dtype, device=ctx.device),
            )
            means, variances = [], []
            for t in range(steps):  # z_t = √(1 − β_t) z_{t−1} + √β_t ε, from z_0 = 1 exactly
                mean = (1 - s.beta[t]).sqrt() * mean
                var = (1 - s.beta[t]) * var + s.beta[t]
                means.append(mean)
                variances.append(var)
            ones = torch.ones(steps, 1, dtype=dtype, device=ctx.device)
            closed = q_sample(ones, torch.arange(1, steps + 1, device=ctx.device), torch.zeros_like(ones), s)
            name = f"T = {steps} ({dtype_name(dtype)})"
            ctx.check_close(
                f"q(z_t | z_0) mean √ᾱ_t vs iterating the forward process, {name}", closed, torch.stack(means)
            )
            ctx.check_close(
                f"q(z_t | z_0) variance 1 − ᾱ_t vs iterating the forward process, {name}",
                1 - s.alpha_bar,
                torch.cat(variances),
            )
        s = linear_schedule(T, dtype=dtype, device=ctx.device)
        z0, zt = (torch.randn(5, 3, generator=g, dtype=dtype).to(ctx.device) for _ in range(2))
        for t in (2, 10, T):
            name = f"t = {t} ({dtype_name(dtype)})"
            mean, var = posterior(z0, zt, t, s)
            ref_mean, ref_var = _conditioned(z0, zt, t, s)
            ctx.check_close(f"posterior mean μ̃_t vs conditioning the joint Gaussian, {name}", mean, ref_mean)
            ctx.check_close(
                f"posterior variance β̃_t vs conditioning the joint Gaussian, {name}", var, ref_var
            )
            eps = (zt - s.alpha_bar[t - 1].sqrt() * z0) / (
                1 - s.alpha_bar[t - 1]
            ).sqrt()  # the ε that made z_t
            ctx.check_close(
                f"eq. 11's mean from ε equals μ̃_t(z_t, z_0), {name}", mean_from_eps(zt, eps, t, s), mean
            )
        # what posterior returns, not only its values: β̃_t a 0-d tensor (a Python float compares equal)
        mean, var = posterior(z0, zt, 10, s)
        returned = [
            f"{tuple(x.shape)} {dtype_name(x.dtype)}" if isinstance(x, torch.Tensor) else type(x).__name__
            for x in (mean, var)
        ]
        wanted = [f"(5, 3) {dtype_name(dtype)}", f"() {dtype_name(dtype)}"]
        ctx.check_property(
            f"posterior returns μ̃_t (batch, d) and β̃_t a 0-d tensor, in the schedule's dtype "
            f"({dtype_name(dtype)})",
            returned == wanted,
            f"returned {', '.join(returned)}; expected {', '.join(wanted)}",
        )
    torch.manual_seed(ctx.seed)
    model = Denoiser(D_Z, CLASSES).to(ctx.device, ctx.exact_dtype)
    z = torch.randn(6, D_Z, dtype=ctx.exact_dtype, device=ctx.device)
    tt = torch.tensor([1, 2, 5, 10, 30, 50], device=ctx.device)
    c = torch.tensor([0, 1, 0, 1, 1, 0], device=ctx.device)
    ctx.check_close(
        "guidance at w = 0 is the conditional model", guided_eps(model, z, tt, c, 0.0), model(z, tt, c)
    )
    null = torch.full_like(c, CLASSES)
    by_hand = 3 * model(z, tt, c) - 2 * model(z, tt, null)
    ctx.check_close("guidance at w = 2 is 3 ε(z, c) − 2 ε(z, ∅)", guided_eps(model, z, tt, c, 2.0), by_hand)
    _check_sampler(ctx)


def _conditioned(z0: torch.Tensor, zt: torch.Tensor, t: int, s: object) -> tuple[torch.Tensor, torch.Tensor]:
    """q(z_{t−1} | z_t, z_0) by Gaussian conditioning: given z_0, z_{t−1} ~ N(√ᾱ_{t−1} z_0, 1 − ᾱ_{t−1}) and
    z_t = √α_t z_{t−1} + √β_t ε; then E[a | b] = m_a + Σ_ab / Σ_bb (b − m_b), Var = Σ_aa − Σ_ab² / Σ_bb."""
    beta = s.beta[t - 1]  # type: ignore[attr-defined]
    a_prev = torch.prod(1 - s.beta[: t - 1])  # type: ignore[attr-defined]
    m_a, var_a = a_prev.sqrt() * z0, 1 - a_prev
    m_b, var_b = (1 - beta).sqrt() * m_a, (1 - beta) * var_a + beta
    cov = (1 - beta).sqrt() * var_a
    return m_a + cov / var_b * (zt - m_b), var_a - cov**2 / var_b


def _check_sampler(ctx: RunContext) -> None:
    """Data N(m, v) in 1-d has the exact ε(z_t) = √(1 − ᾱ) (z_t − √ᾱ m) / (ᾱ v + 1 − ᾱ): the sampler must
    return N(m, v) (up to the σ_t² = β_t discretisation, a few percent at T = 50)."""
    s = linear_schedule(T, dtype=ctx.exact_dtype, device=ctx.device)
    m, v, n = 1.5, 0.25, 40_000
    z = torch.randn(n, 1, dtype=ctx.exact_dtype, device=ctx.device)
    for t in range(T, 0, -1):
        a = s.alpha_bar[t - 1]
        eps = (1 - a).sqrt() * (z - a.sqrt() * m) / (a * v + 1 - a)
        z = mean_from_eps(z, eps, t, s)
        if t > 1:
            z = z + s.beta[t - 1].sqrt() * torch.randn_like(z)
    mean_err, std_ratio = abs(float(z.mean()) - m), float(z.std()) / math.sqrt(v)
    ctx.check_property(
        "the ancestral sampler with the exact ε of N(1.5, 0.5²) returns it: mean within 0.02, std within 10%",
        mean_err < 0.02 and abs(std_ratio - 1) < 0.1,
        f"mean error {mean_err:.4f}, std / 0.5 = {std_ratio:.3f}, {n} samples, T = {T}",
        value=mean_err,
    )


def labelled_bars(n: int, g: torch.Generator, device: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Bars images in which only rows (class 0) or only columns (class 1) are on, from ``bars(n)`` by
    keeping those: (images (m, 64), classes (m,)), m ≈ 0.28 n."""
    x = bars(n, g, device=device)
    rows, cols = _full_lines(x)
    keep = rows ^ cols
    return x[keep].flatten(1), cols[keep].long()


def _full_lines(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    on = x.view(-1, 8, 8).bool()
    return on.all(dim=2).any(dim=1), on.all(dim=1).any(dim=1)  # some full row, some full column


def _judge(x: torch.Tensor, c: torch.Tensor) -> tuple[float, float]:
    """(share of bars images, share of bars images of class c) among binary images x (n, 64)."""
    valid = bars_log_likelihood(x.view(-1, 1, 8, 8)).isfinite()
    rows, cols = _full_lines(x)
    right = torch.where(c == 0, rows & ~cols, cols & ~rows)
    return valid.double().mean().item(), (valid & right).double().mean().item()


# Adam learning rates of the two denoisers (d_hidden 128), each the best of 1e-3 / 3e-3 / 1e-2 by the
# ε-prediction loss on a validation set of 8000 bars images drawn with their own generator (seed 10 000),
# never the samples the targets judge (seed 0, 1000 steps). That grid was run by editing LR (no option runs
# it), so its losses are not quoted here.
# (config.py: lr = 0 picks these, width = 128 the d_hidden they were tuned at)
LR = {"latent": 1e-2, "pixel": 3e-3}
D_HIDDEN = 128  # the benchmarked denoiser's width
# The sampled denoiser is an exponential moving average of the trained weights, as in Ho et al. and the LDM
# code. Its decay is the best of 0.99 / 0.995 / 0.998 / 0.999 by the same validation ε-loss (latent, 1000
# steps, seeds 0 and 1: 0.166 / 0.174 / 0.265 / 0.489 against 0.190 for the raw weights): the raw weights
# at a learning rate of 1e-2 end wherever the last steps threw them, and so did guidance's gain.
EMA = 0.99


def fit_denoiser(
    ctx: RunContext,
    cfg: Config,
    data: torch.Tensor,
    y: torch.Tensor,
    space: str,
    g: torch.Generator,
) -> Denoiser:
    """The class-conditional DDPM on ``data`` (n, d) with labels y: L_LDM (eq. 2) with condition dropout,
    ``cfg.steps`` Adam steps at ``space``'s tuned rate (or ``cfg.lr``). Returns the moving average of its
    weights (decay ``EMA``)."""
    s = linear_schedule(T, device=ctx.device)
    model = Denoiser(data.shape[1], CLASSES, d_hidden=cfg.width).to(ctx.device)
    average = copy.deepcopy(model).requires_grad_(False)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr or LR[space])
    n = cfg.batch
    for step in range(cfg.steps):
        i = torch.randint(0, len(data), (n,), generator=g).to(ctx.device)
        c = torch.where(torch.rand(n, generator=g).to(ctx.device) < cfg.drop, CLASSES, y[i])  # c dropout
        t = torch.randint(1, T + 1, (n,), generator=g).to(ctx.device)
        eps = torch.randn(n, data.shape[1], generator=g).to(ctx.device)
        loss = (model(q_sample(data[i], t, eps, s), t, c) - eps).square().mean()  # L_LDM, eq. 2
        opt.zero_grad()
        loss.backward()
        opt.step()
        with torch.no_grad():
            for kept, p in zip(average.parameters(), model.parameters(), strict=True):
                kept.lerp_(p, 1 - EMA)
        if step % 20 == 0:
            ctx.metric(f"ε-prediction loss, {space}", step, loss.item())
    return average


def train(ctx: RunContext) -> None:
    cfg = ctx.config(Config)
    # 1000 samples per class: with 200, the gain of guidance moved by up to 0.04 between draws of samples
    ae_steps, dm_steps, per_class = (250 if ctx.quick else 400), cfg.steps, cfg.samples
    w = cfg.guidance
    x, y = labelled_bars(30_000, torch.Generator().manual_seed(ctx.seed), ctx.device)
    g = torch.Generator().manual_seed(ctx.seed)
    ae = Autoencoder(d_z=cfg.d_latent).to(ctx.device)
    opt = torch.optim.Adam(ae.parameters(), lr=3e-3)
    for step in range(ae_steps):
        xb = x[torch.randint(0, len(x), (cfg.batch,), generator=g).to(ctx.device)]
        z = ae.encoder(xb)
        # reconstruction (Bernoulli) + a light penalty on z, the role of the paper's KL-reg
        loss = F.binary_cross_entropy_with_logits(ae.decoder(z), xb, reduction="sum") / len(xb)
        loss = loss + 1e-3 * z.square().sum(dim=-1).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 20 == 0:
            ctx.metric("autoencoder loss", step, loss.item())
    with torch.no_grad():
        z = ae.encoder(x)
        exact = ((ae.decoder(z) > 0).float() == x).all(dim=1).double().mean().item()
        scale = 1 / z.std()  # the latent rescaled to unit variance
        z = z * scale
    detail = f"{len(x)} images, {cfg.d_latent}-d latent"
    ctx.measured("autoencoder: share of images reconstructed exactly", exact, detail)
    s = linear_schedule(T, device=ctx.device)
    model = fit_denoiser(ctx, cfg, z, y, "latent", g)
    ctx.progress(1, 2)
    decode = lambda latents: (ae.decoder(latents / scale) > 0).float()  # noqa: E731
    latent = _evaluate(ctx, model, decode, per_class, s, "latent", w)
    with torch.no_grad():
        gaussian = torch.distributions.MultivariateNormal(z.mean(dim=0), torch.atleast_2d(torch.cov(z.T)))
        baseline = _judge(
            decode(gaussian.sample((2 * per_class,))),
            torch.arange(CLASSES, device=ctx.device).repeat(per_class),
        )[0]
    ctx.measured(
        "share of bars images, a Gaussian fitted to the latents", baseline, "the same decoder, no diffusion"
    )
    steps = f"{dm_steps} denoiser steps" + (" (quick; full 3000)" if ctx.quick else "")
    ctx.target(
        "share of bars images, diffusion (w = 0) minus the Gaussian baseline",
        latent[0.0][0] - baseline,
        0.1 if ctx.quick else 0.2,  # quick: 0.1 looser
        detail=steps,
    )
    # Reported, not asserted: at quick size its margin stays near 2 sd over seeds, below the calibration
    # rule's 3, though no seed misses it; in the full run seed 3 of the old design, whose unguided model
    # already got most classes right, missed it. The spread is between trained models, not draws.
    ctx.target(
        f"class consistency, guided (w = {w:g}) minus unguided (w = 0)",
        latent[w][1] - latent[0.0][1],
        0.05,
        detail=f"share of samples that are bars images of the requested class, {steps}",
        asserted=False,
    )
    if not ctx.quick:  # the guidance claim, asserted (the quick run's numbers stay as they were calibrated)
        wrong = {v: latent[v][0] - latent[v][1] for v in (0.0, w)}  # bars images not of class c
        n = CLASSES * per_class
        ctx.target(
            f"bars images off the asked class, share guidance (w = {w:g}) removes: 1 − guided / unguided",
            1 - wrong[w] / wrong[0.0] if wrong[0.0] > 0 else 0.0,
            # > 0, written as the smallest positive value a count of n samples allows: 1 − k_w / k_0 > 0
            # means k_w ≤ k_0 − 1, so 1 − k_w / k_0 ≥ 1 / k_0 ≥ 1 / n (paired, no guidance gives exactly 0)
            1 / n,
            detail=f"{wrong[0.0] * n:.0f} of {n} samples at w = 0, {wrong[w] * n:.0f} at w = {w:g}; the same "
            f"model and the same noise for both w; {steps}",
        )
    # The paper's comparison (full run only, for the quick budget): the same denoiser, steps and sampler in
    # pixel space (64-d, pixels as ±1), at its own learning rate.
    if not ctx.quick:
        pixel_model = fit_denoiser(ctx, cfg, 2 * x - 1, y, "pixel", g)
        pixel = _evaluate(ctx, pixel_model, lambda v: (v > 0).float(), per_class, s, "pixel", w)
        ctx.target(
            "share of bars images, latent minus pixel-space diffusion (w = 0): quality kept",
            latent[0.0][0] - pixel[0.0][0],
            0.0,
            detail=f"the same denoiser, steps and sampler; {steps}",
        )
    ctx.progress(2, 2)
    flops = {}
    for space, d in (("latent", cfg.d_latent), ("pixel", 64)):
        net = Denoiser(d, CLASSES, d_hidden=cfg.width).to(ctx.device)
        with FlopCounterMode(display=False) as counter:
            net(torch.zeros(256, d, device=ctx.device), torch.ones(256, dtype=torch.long, device=ctx.device),
                torch.zeros(256, dtype=torch.long, device=ctx.device))  # fmt: skip
        flops[space] = counter.get_total_flops()
    ctx.measured(
        "denoiser forward FLOPs, latent / pixel space",
        flops["latent"] / flops["pixel"],
        f"{flops['latent'] / 1e6:.1f} vs {flops['pixel'] / 1e6:.1f} MFLOP per batch of 256: the MLP's hidden "
        "layers dominate, so not the paper's fraction",
    )


def _evaluate(
    ctx: RunContext, model: Denoiser, decode: object, per_class: int, s: object, space: str, guided: float
) -> dict[float, tuple[float, float]]:
    """(share of bars images, share of bars images of the class asked for) at w = 0 and w = ``guided``.
    The full run samples both weights from the same noise (a paired comparison); the quick run keeps the
    draws it was calibrated with, one after the other."""
    c = torch.arange(CLASSES, device=ctx.device).repeat(per_class)
    result = {}
    with torch.no_grad():
        for w in (0.0, guided):
            if not ctx.quick:
                torch.manual_seed(ctx.seed + 10_000)  # the same z_T and σ_t ε' for every w
            images = decode(sample(model, c, s, w))  # type: ignore[arg-type, operator]
            result[w] = _judge(images, c)
            what = f"{space} diffusion, w = {w:g}"
            ctx.measured(f"share of bars images, {what}", result[w][0], f"{len(c)} samples")
            ctx.measured(f"share of the requested class, {what}", result[w][1], "bars images of class c")
            art = [text_art(images[i].view(8, 8)) for i in range(2)]
            ctx.log(f"samples, {what}, class 0 then 1:\n{art[0]}\n\n{art[1]}")
    return result


def bench(ctx: RunContext) -> None:
    for batch in (256,) if ctx.quick else (256, 1024):
        for space, d in (("latent", D_Z), ("pixel", 64)):
            model = Denoiser(d, CLASSES, d_hidden=D_HIDDEN).to(ctx.device)
            zt = torch.randn(batch, d, device=ctx.device)
            t = torch.randint(1, T + 1, (batch,), device=ctx.device)
            c = torch.randint(0, CLASSES, (batch,), device=ctx.device)

            def step(
                model: Denoiser = model, zt: torch.Tensor = zt, t: torch.Tensor = t, c: torch.Tensor = c
            ) -> None:
                torch.autograd.grad((model(zt, t, c) - zt).square().mean(), list(model.parameters()))

            with FlopCounterMode(display=False) as counter:
                step()
            ctx.bench.measure(
                f"denoiser forward + backward, {space} space ({d}-d), batch {batch}",
                step,
                baseline=space == "pixel" and batch == 256,
                flops=counter.get_total_flops(),
                shape=(batch, d),
                dtype=torch.float32,
            )
