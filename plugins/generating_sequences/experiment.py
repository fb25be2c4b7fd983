"""Handwriting prediction at toy scale: the mixture density output exact against ``torch.distributions``, a
proper density that the sampler draws from, and a mixture beating a single Gaussian on pen strokes whose
next offset is multimodal.

check: ``mdn_nll(mdn_params(ŷ), x)`` against an independent reference built from ``torch.distributions``
       straight from the raw outputs ŷ (``MixtureSameFamily`` of ``MultivariateNormal`` with covariance
       [[σ1², ρσ1σ2], [ρσ1σ2, σ2²]], ``Categorical(logits=π̂)``, ``Bernoulli(logits=ê)``), float64 then
       float32, M = 1, 3, 7, 20, one step, odd lengths; forward and the gradients with respect to ŷ and
       the offsets. Extreme parameters (ρ = ±0.999, σ = 10⁻³ and 10³, a weight of e⁻⁶⁰, ê = ±40) stay finite
       and within each dtype's tolerance of the float64 reference. Properties: the density summed over
       the pen bit integrates to 1 over a grid; the sampler's mean, covariance and pen-up rate match the
       mixture's within 4 standard errors of the sample size.
train: "Manhattan strokes" generated here (``manhattan_strokes``): strokes of axis-aligned 3-step segments
       that turn left or right at random, 2-4 segments a stroke, a pen-up and a jump between strokes. The same
       LSTM (same seed, same batches) with M = 20 components against M = 1 (a single correlated Gaussian),
       each at its own best learning rate of the same grid, chosen on validation sequences (the full run
       sweeps it; the quick run uses the rates it chose); held-out NLL per point against the generator's own
       density (the floor) and the best single Gaussian's; the end-of-stroke log-loss; strokes sampled from
       each model against the data (pen-up rate, share of clean unit steps), with and without the sampling
       bias b (eq. 61-62). The full run repeats the A/B on two more seeds.
bench: forward + backward of the LSTM with its MDN output (M = 1 and M = 20) and of the MDN likelihood
       alone, for sequence lengths growing ×4 (the quick run: M = 1 at the shortest length, M = 20 at two).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch.distributions import Bernoulli, Categorical, MixtureSameFamily, MultivariateNormal

from readtrack.api import RunContext, dtype_name

from .config import Config
from .model import HandwritingModel, MDNParams, mdn_nll, mdn_params, sample, sample_step

# -- the synthetic pen strokes -------------------------------------------------------------------------
# Generated here rather than in readtrack.plugin_kit.tasks: this is the only plugin that writes strokes.
SEGMENT = 3  # unit steps per segment of a stroke
END_HAZARD = (0.0, 0.5, 0.5, 1.0)  # P(the stroke ends | its j-th segment just ended): 2, 3 or 4 segments
NOISE = 0.1  # standard deviation of each offset coordinate around its unit step (train: config.py)
JUMP, JUMP_NOISE = (2.0, 0.0), 0.5  # the pen-up move to the next stroke's start: mean and deviation
DIRECTIONS = ((1.0, 0.0), (0.0, 1.0), (-1.0, 0.0), (0.0, -1.0))  # k = 0 … 3, counter-clockwise
_JUMP, _STRAIGHT, _TURN, _START = 0, 1, 2, 3  # what the next offset is
CLEAN = 0.3  # a sampled step within 3 noise deviations of a unit step along an axis is "clean"


class Strokes(NamedTuple):
    """Sequences and the generator's own −log density of each next point (nats): ``floor`` is the best any
    model can do on average, ``pen_floor`` its end-of-stroke part, ``gaussian_floor`` the best a single
    Gaussian can do (the moment-matched Gaussian of the directions the pen could take, knowing them)."""

    points: torch.Tensor  # (size, length, 3): (dx, dy, pen-up)
    floor: torch.Tensor  # (size, length − 1)
    pen_floor: torch.Tensor  # (size, length − 1)
    gaussian_floor: torch.Tensor  # (size, length − 1)


def manhattan_strokes(
    size: int, length: int, g: torch.Generator, device: str = "cpu", noise: float = NOISE
) -> Strokes:
    """``size`` sequences of ``length`` points x_t = (dx, dy, pen-up), seeded by ``g``.

    Each sequence starts with (0, 0, 1), a pen-up, and then writes strokes: a jump to the stroke's start
    (offset (2, 0) + N(0, 0.5²)), then segments of 3 unit steps along the axes (each offset the unit step
    plus N(0, 0.1²) noise, ``noise`` its standard deviation). A stroke's first direction is one of four at
    random; at each corner the pen turns left or right by 90° at random; after its 2nd and 3rd segments a
    stroke ends with probability 1/2, after its 4th always, its last point marked pen-up = 1. So the next
    offset is one Gaussian inside a segment, but two equally likely ones at a corner (k or k + 180°, the turn
    from k ∓ 90° unknown) and four at a stroke's first step: a multimodal prediction that a single Gaussian
    can only blur."""
    d = torch.tensor(DIRECTIONS)  # (4, 2)
    x = torch.zeros(size, length, 3)
    x[:, 0, 2] = 1.0
    floor, pen_floor, gaussian_floor = (torch.zeros(size, length - 1) for _ in range(3))
    rows = torch.arange(size)
    kind = torch.full((size,), _JUMP)  # what the offset about to be drawn is
    k = torch.zeros(size, dtype=torch.long)  # direction of the current segment
    left = torch.zeros(size, dtype=torch.long)  # steps left in the current segment
    done = torch.zeros(size, dtype=torch.long)  # segments finished in the current stroke
    hazard = torch.tensor(END_HAZARD)
    for t in range(1, length):
        jump = kind == _JUMP
        start_k = torch.randint(0, 4, (size,), generator=g)
        z = torch.randn(size, 2, generator=g)  # (size, 2)
        ends = torch.rand(size, generator=g)
        turn = torch.randint(0, 2, (size,), generator=g) * 2 - 1  # +1 left, −1 right
        offset = torch.where(jump[:, None], torch.tensor(JUMP) + JUMP_NOISE * z, d[k] + noise * z)
        x[:, t, :2] = offset
        # the generator's density of the offset: the directions it could have taken, equally likely
        could = torch.zeros(size, 4, dtype=torch.bool)  # (size, 4)
        could[rows, k] = True
        could[rows, (k + 2) % 4] |= kind == _TURN
        could |= (kind == _START)[:, None]
        log_n = -(offset[:, None] - d).square().sum(-1) / (2 * noise**2) - math.log(2 * math.pi * noise**2)
        log_mix = torch.logsumexp(log_n.masked_fill(~could, -math.inf), dim=-1) - could.sum(-1).log()
        log_jump = -z.square().sum(-1) / 2 - math.log(2 * math.pi * JUMP_NOISE**2)
        log_p = torch.where(jump, log_jump, log_mix)  # (size,)
        # the best single Gaussian: mean 0 and the candidates' spread, along k's axis and across it
        corner = kind == _TURN
        var_along = torch.where(corner, 1.0, 0.5) + noise**2
        var_across = torch.where(corner, 0.0, 0.5) + noise**2
        along, across = offset.gather(1, (k % 2)[:, None])[:, 0], offset.gather(1, (1 - k % 2)[:, None])[:, 0]
        log_blur = -(along.square() / var_along + across.square() / var_across) / 2 - math.log(2 * math.pi)
        log_blur = log_blur - 0.5 * (var_along * var_across).log()
        log_q = torch.where(corner | (kind == _START), log_blur, log_p)
        # the state after this point: a jump opens a stroke whose direction is drawn now, taken next step
        k = torch.where(jump, start_k, k)
        left = torch.where(jump, SEGMENT, left - 1)
        segment_over = ~jump & (left == 0)
        done = torch.where(jump, 0, done + segment_over.long())
        h = hazard[(done - 1).clamp(min=0)]  # (size,): P(the stroke ends here)
        end = segment_over & (ends < h)
        log_pen = torch.where(segment_over, torch.where(end, h.log(), (1 - h).log()), 0.0)
        x[:, t, 2] = end.float()
        floor[:, t - 1], pen_floor[:, t - 1], gaussian_floor[:, t - 1] = (
            -log_p - log_pen,
            -log_pen,
            -log_q - log_pen,
        )
        turning = segment_over & ~end
        k = torch.where(turning, (k + turn) % 4, k)
        left = torch.where(turning, SEGMENT, left)
        kind = torch.where(jump, _START, torch.where(end, _JUMP, torch.where(turning, _TURN, _STRAIGHT)))
    return Strokes(*(t.to(device) for t in (x, floor, pen_floor, gaussian_floor)))


def stroke_summary(x: torch.Tensor) -> tuple[float, float]:
    """Of sequences x (B, T, 3): the share of points that end a stroke, and the share of in-stroke offsets
    (those after a point with pen-up 0) within ``CLEAN`` of a unit step along an axis."""
    pen_up = x[:, 1:, 2].mean().item()
    in_stroke = x[:, 1:, :2][x[:, :-1, 2] == 0]  # (n, 2)
    d = torch.tensor(DIRECTIONS, dtype=x.dtype, device=x.device)
    clean = (torch.cdist(in_stroke, d).amin(dim=-1) < CLEAN).double().mean().item()
    return pen_up, clean


# -- check ---------------------------------------------------------------------------------------------
def reference_nll(y_hat: torch.Tensor, x: torch.Tensor, M: int) -> torch.Tensor:
    """The same likelihood from ``torch.distributions``, read from the raw outputs ŷ (..., 1 + 6M) without
    ``mdn_params``: a mixture of M full-covariance bivariate normals and a Bernoulli pen bit."""
    e_hat, pi_hat = y_hat[..., 0], y_hat[..., 1 : 1 + M]
    mu = torch.stack(
        [y_hat[..., 1 + M : 1 + 2 * M], y_hat[..., 1 + 2 * M : 1 + 3 * M]], dim=-1
    )  # (..., M, 2)
    s1, s2 = y_hat[..., 1 + 3 * M : 1 + 4 * M].exp(), y_hat[..., 1 + 4 * M : 1 + 5 * M].exp()
    rho = y_hat[..., 1 + 5 * M : 1 + 6 * M].tanh()
    cov = torch.stack(
        [torch.stack([s1 * s1, rho * s1 * s2], -1), torch.stack([rho * s1 * s2, s2 * s2], -1)], -2
    )  # (..., M, 2, 2)
    mixture = MixtureSameFamily(Categorical(logits=pi_hat), MultivariateNormal(mu, covariance_matrix=cov))
    return -mixture.log_prob(x[..., :2]) - Bernoulli(logits=e_hat).log_prob(x[..., 2])


def random_outputs(
    shape: tuple[int, ...], M: int, g: torch.Generator, dtype: torch.dtype, device: str
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Raw outputs ŷ (*shape, 1 + 6M), offsets (*shape, 2) near the means and pen bits (*shape, 1)."""
    y_hat = torch.randn(*shape, 1 + 6 * M, generator=g, dtype=dtype)
    y_hat[..., 1 + 3 * M :] *= 0.5  # σ within e^±1.5 or so, |ρ| mostly below 0.8
    offsets = 1.5 * torch.randn(*shape, 2, generator=g, dtype=dtype)
    pen = torch.randint(0, 2, (*shape, 1), generator=g).to(dtype)
    return y_hat.to(device), offsets.to(device), pen.to(device)


def check(ctx: RunContext) -> None:
    from .model import log_bivariate_normal

    for dtype in ctx.check_dtypes:  # the NLL comparisons below give a float32 result float32's tolerance
        x = torch.zeros(1, 1, dtype=dtype, device=ctx.device)
        ones = torch.ones(3, dtype=dtype, device=ctx.device)
        log_n = log_bivariate_normal(x, x, 0 * ones, 0 * ones, ones, ones, 0.5 * ones)
        ctx.check_property(
            f"log N is in the inputs' dtype ({dtype_name(dtype)})",
            log_n.dtype == dtype,
            f"{dtype_name(log_n.dtype)} for {dtype_name(dtype)} inputs",
        )

    g = torch.Generator().manual_seed(ctx.seed)
    for dtype in ctx.check_dtypes:
        name = dtype_name(dtype)
        for shape, M in (((1, 1), 1), ((2, 5), 3), ((3, 7), 20), ((1, 13), 1), ((4, 1), 7)):
            y_hat, offsets, pen = random_outputs(shape, M, g, dtype, ctx.device)

            def ours(
                y_hat: torch.Tensor, xy: torch.Tensor, M: int = M, pen: torch.Tensor = pen
            ) -> torch.Tensor:
                return mdn_nll(mdn_params(y_hat, M), torch.cat([xy, pen], dim=-1))

            def ref(
                y_hat: torch.Tensor, xy: torch.Tensor, M: int = M, pen: torch.Tensor = pen
            ) -> torch.Tensor:
                return reference_nll(y_hat, torch.cat([xy, pen], dim=-1), M)

            what = f"M = {M}, (B, T) = {shape} ({name})"
            value, grads = ctx.value_and_grads(ours, y_hat, offsets)
            ref_value, ref_grads = ctx.value_and_grads(ref, y_hat, offsets)
            ctx.check_close(f"MDN NLL (eq. 23-26) vs torch.distributions, {what}", value, ref_value)
            ctx.check_close(f"gradients (ŷ, offsets) vs torch.distributions', {what}", grads, ref_grads)
        _check_extremes(ctx, dtype, g)

    # Near |ρ| = 1, 1 − ρ² as (1 − ρ)(1 + ρ): exact to a few ulps, where 1 - rho**2 keeps the rounding of ρ²,
    # up to ½ulp(1) / (2(1 − |ρ|)) of 1 − ρ² (1e-5 in float32 at ρ = 0.999, 3e-11 in float64 at 1 − 1e-6).
    # At d1 = 1, d2 = ∓1 (x one σ from μ along each axis) and ρ = ±(1 − gap), Z = 2 + 2|ρ|, and the exact
    # log-density, computed in Python's float64 from the same ρ, is dominated by −Z / (2(1 − ρ²)): held to
    # a relative 2e-6 in float32 and 1e-14 in float64, some ten times what (1 − ρ)(1 + ρ) misses by.
    for dtype in ctx.check_dtypes:
        gaps, rtol = (1e-6, 7e-7, 5e-7, 3e-7), 1e-14
        if dtype != torch.float64:
            gaps, rtol = (1e-3, 7e-4, 5e-4, 3e-4), 2e-6
        rho = torch.tensor([(-1) ** k * (1 - gap) for k, gap in enumerate(gaps)], dtype=dtype)  # (4,)
        sigma1, sigma2 = torch.full((4,), 0.5, dtype=dtype), torch.full((4,), 2.0, dtype=dtype)
        x1, x2 = torch.tensor([[0.5]], dtype=dtype), torch.tensor([[-2.0]], dtype=dtype)
        mu1 = torch.zeros(4, dtype=dtype)
        mu2 = torch.where(rho > 0, 0.0, -4.0).to(dtype)  # d2 = −1 where ρ > 0, +1 where ρ < 0
        args = [t.to(ctx.device) for t in (x1, x2, mu1, mu2, sigma1, sigma2, rho)]
        exact = []
        for r in rho.tolist():
            one_minus_rho2 = (1 - r) * (1 + r)
            Z = 2 + 2 * abs(r)
            exact.append(
                -math.log(2 * math.pi) - math.log(0.5) - math.log(2.0) - 0.5 * math.log(one_minus_rho2)
                - Z / (2 * one_minus_rho2)
            )  # fmt: skip
        ctx.check_close(
            f"log N at ρ = ±(1 − {gaps[-1]:g} … {gaps[0]:g}): 1 − ρ² as (1 − ρ)(1 + ρ), no cancellation "
            f"({dtype_name(dtype)})",
            log_bivariate_normal(*args),
            torch.tensor([exact], dtype=torch.float64),
            atol=0.0,
            rtol=rtol,
        )
    _check_integrates_to_one(ctx, g)
    _check_sampler(ctx, g)


def _check_extremes(ctx: RunContext, dtype: torch.dtype, g: torch.Generator) -> None:
    """ρ = ±0.999, σ = 10⁻³ and 10³, one weight e⁻⁶⁰ below the others, ê = ±40: finite values and gradients,
    and values within the dtype's tolerance of the reference computed in the exact dtype (in float32 the
    reference's own Cholesky factor strays further from it than ``mdn_nll`` does at ρ = ±0.999)."""
    M, T = 3, 6
    y_hat, offsets, pen = random_outputs((1, T), M, g, dtype, "cpu")
    pi, mu1, mu2, s1, rho = 1, 1 + M, 1 + 2 * M, 1 + 3 * M, 1 + 5 * M  # first columns of each block
    y_hat[0, 0, rho:] = math.atanh(0.999)
    y_hat[0, 1, rho:] = -math.atanh(0.999)
    y_hat[0, 2, s1:rho] = math.log(1e-3)  # σ1 and σ2
    y_hat[0, 2, rho:] = math.atanh(0.999)  # tiny σ and ρ = 0.999 together
    y_hat[0, 3, s1:rho] = math.log(1e3)
    y_hat[0, 4, pi] = -60.0
    y_hat[0, 4:, 0] = torch.tensor([40.0, -40.0], dtype=dtype)
    offsets[0, 2, 0] = y_hat[0, 2, mu1] + 1e-3  # next to component 1's mean, 1 and 0.5 σ away
    offsets[0, 2, 1] = y_hat[0, 2, mu2] - 0.5e-3
    y_hat, offsets, pen = y_hat.to(ctx.device), offsets.to(ctx.device), pen.to(ctx.device)

    def ours(y_hat: torch.Tensor, xy: torch.Tensor) -> torch.Tensor:
        return mdn_nll(mdn_params(y_hat, M), torch.cat([xy, pen], dim=-1))

    value, grads = ctx.value_and_grads(ours, y_hat, offsets)
    what = f"ρ = ±0.999, σ = 1e-3 and 1e3, π ∝ e⁻⁶⁰, ê = ±40 ({dtype_name(dtype)})"
    ctx.check_property(
        f"extreme parameters give a finite NLL and gradients, {what}",
        bool(torch.isfinite(value).all() and torch.isfinite(grads).all()),
        f"NLL per step {', '.join(f'{v:.4g}' for v in value.flatten().tolist())}",
    )
    exact = [t.to(ctx.exact_dtype) for t in (y_hat, offsets, pen)]
    ctx.check_close(
        f"MDN NLL vs torch.distributions ({dtype_name(ctx.exact_dtype)}) at extreme parameters, {what}",
        value,
        reference_nll(exact[0], torch.cat(exact[1:], dim=-1), M),
    )


def _check_integrates_to_one(ctx: RunContext, g: torch.Generator) -> None:
    """Σ over the pen bit of ∫∫ Pr(x | y) dx1 dx2 = 1 (eq. 23) for a random mixture of 5 components, by the
    midpoint rule on a 0.05 grid over [−12, 12]²: for Gaussians this wide the rule's error is far below
    10⁻¹⁰, so the check sees the density's normalisation, the 1/(2πσ1σ2√(1 − ρ²)) of eq. 24 above all."""
    dtype, M, h = ctx.exact_dtype, 5, 0.05
    y_hat = torch.randn(1 + 6 * M, generator=g, dtype=dtype)
    y_hat[1 + M : 1 + 3 * M] = 4 * torch.rand(2 * M, generator=g, dtype=dtype) - 2  # μ in [−2, 2]
    y_hat[1 + 3 * M : 1 + 5 * M] = math.log(0.3) + math.log(1 / 0.3) * torch.rand(
        2 * M, generator=g, dtype=dtype
    )
    y_hat[1 + 5 * M :] = 2 * torch.rand(M, generator=g, dtype=dtype) - 1  # |ρ| ≤ tanh(1) = 0.76
    axis = torch.arange(-12 + h / 2, 12, h, dtype=dtype, device=ctx.device)  # (480,) cell midpoints
    grid = torch.cartesian_prod(axis, axis)  # (480², 2)
    params = mdn_params(y_hat.to(ctx.device), M)
    total = 0.0
    for bit in (0.0, 1.0):
        x = torch.cat([grid, torch.full_like(grid[:, :1], bit)], dim=-1)  # (480², 3)
        total += float(torch.exp(-mdn_nll(params, x)).sum()) * h * h
    ctx.check_property(
        f"the density summed over the pen bit integrates to 1 (M = {M}, grid {h} on [−12, 12]², "
        f"{dtype_name(dtype)})",
        abs(total - 1) < 1e-8,
        f"integral {total:.12f}",
        value=abs(total - 1),
    )


def mixture_moments(p: MDNParams) -> tuple[torch.Tensor, torch.Tensor]:
    """The mean m (2,) and covariance (2, 2) of one step's mixture (its parameters (M,) each):
    m = Σ π_j μ_j and Σ π_j (Σ_j + μ_j μ_jᵀ) − m mᵀ."""
    pi, mu = p.pi, torch.stack([p.mu1, p.mu2], dim=-1)  # (M,), (M, 2)
    c = p.rho * p.sigma1 * p.sigma2
    cov = torch.stack([torch.stack([p.sigma1**2, c], -1), torch.stack([c, p.sigma2**2], -1)], -2)  # (M, 2, 2)
    mean = pi @ mu
    second = (pi[:, None, None] * (cov + mu[:, :, None] * mu[:, None, :])).sum(0)
    return mean, second - torch.outer(mean, mean)


def _check_sampler(ctx: RunContext, g: torch.Generator) -> None:
    """``sample_step`` draws from the mixture: with N = 40,000 draws from one mixture (M = 4, correlated
    components, e = 0.3), the sample mean, covariance and pen-up rate are each within 4 standard errors of
    the mixture's, the errors estimated from the same N draws (mean: √(var/N); a covariance entry: the
    standard deviation of the centred products / √N; the pen rate: √(e(1 − e)/N))."""
    dtype, M, N = ctx.exact_dtype, 4, 40_000
    y_hat = torch.randn(1 + 6 * M, generator=g, dtype=dtype)
    y_hat[0] = math.log(0.3 / 0.7)  # e = 0.3
    y_hat[1 + M : 1 + 3 * M] *= 2  # separated means
    y_hat[1 + 5 * M :] = torch.tensor([1.5, -1.5, 0.5, 0.0], dtype=dtype)  # ρ ≈ ±0.9, 0.46, 0
    params = mdn_params(y_hat.to(ctx.device), M)
    mean, cov = mixture_moments(params)
    draws = sample_step(MDNParams(*(t.expand(N, *t.shape) for t in params)), g)  # (N, 3)
    xy = draws[:, :2]
    centred = xy - xy.mean(0)
    products = centred[:, [0, 1, 0]] * centred[:, [0, 1, 1]]  # (N, 3): xx, yy, xy
    estimates = torch.cat([xy.mean(0), products.mean(0), draws[:, 2].mean()[None]])
    expected = torch.cat([mean, cov[[0, 1, 0], [0, 1, 1]], params.e[None]])
    e = float(params.e)
    errors = torch.cat(
        [
            xy.var(0).sqrt(),
            products.std(0),
            torch.tensor([math.sqrt(e * (1 - e))], dtype=dtype, device=xy.device),
        ]
    ) / math.sqrt(N)
    z = ((estimates - expected) / errors).abs()
    ctx.check_property(
        f"sampled mean, covariance and pen-up rate match the mixture's "
        f"(M = {M}, N = {N:,}, {dtype_name(dtype)})",
        bool((z <= 4).all()),
        "standard errors off (mean x, y; var x, var y, cov; pen-up): "
        + ", ".join(f"{v:.2f}" for v in z.tolist()),
        value=float(z.max()),
    )


# -- train ---------------------------------------------------------------------------------------------
MIXTURE = 20  # components, as in the paper's handwriting networks (the bench's; train: config.py)
HIDDEN = 64  # the bench's LSTM (train: config.py)
LR_GRID = (1e-2, 3e-2, 1e-1)
QUICK_LR = {
    MIXTURE: 3e-2,
    1: 3e-2,
}  # the full run's choices from LR_GRID on seed 0 (on the validation sequences: 3e-2 for both)


def fit(ctx: RunContext, cfg: Config, M: int, lr: float, data: torch.Tensor, seed: int) -> HandwritingModel:
    """One LSTM + MDN trained on the batches in ``data`` (steps · batch sequences) with Adam and gradient
    clipping; the LSTM starts from the same weights for every M (seeded before it is built)."""
    torch.manual_seed(seed)
    model = HandwritingModel(M, cfg.hidden, cfg.layers).to(ctx.device)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    for step in range(cfg.steps):
        loss = model.nll(data[step * cfg.batch : (step + 1) * cfg.batch]).mean()  # nats per point
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if seed == ctx.seed and step % 10 == 0:
            ctx.metric(f"train NLL per point, M = {M}, lr {lr:g}", step, loss.item())
    return model


@torch.no_grad()
def evaluate(model: HandwritingModel, x: torch.Tensor) -> tuple[float, float]:
    """Held-out NLL per point (eq. 26 averaged over points) and its end-of-stroke part alone."""
    params = mdn_params(model(x[:, :-1])[0], model.M)
    pen = F.binary_cross_entropy_with_logits(params.e_hat, x[:, 1:, 2])
    return mdn_nll(params, x[:, 1:]).mean().item(), pen.item()


def strokes(cfg: Config, seed: int, device: str) -> tuple[torch.Tensor, Strokes]:
    """Training sequences (steps · batch) from ``seed`` and 1,024 held-out ones from an unrelated stream."""
    data = manhattan_strokes(
        cfg.steps * cfg.batch, cfg.seq_len, torch.Generator().manual_seed(seed), device, cfg.noise
    ).points
    g = torch.Generator().manual_seed(10_000 + seed)
    return data, manhattan_strokes(1024, cfg.seq_len, g, device, cfg.noise)


def train(ctx: RunContext) -> None:
    cfg = ctx.config(Config)
    mixture, steps, length = cfg.mixture, cfg.steps, cfg.seq_len
    data, test = strokes(cfg, ctx.seed, ctx.device)
    floor, gaussian_floor = test.floor.mean().item(), test.gaussian_floor.mean().item()
    detail = f"1,024 new sequences of {length} points, {steps} Adam steps of {cfg.batch}, LSTM {cfg.hidden}"
    if cfg.layers != 1:
        detail += f" × {cfg.layers} layers"
    if cfg.noise != NOISE:
        detail += f", offset noise {cfg.noise:g}"
    nll, pen, models = {}, {}, {}
    lr = {mixture: QUICK_LR[MIXTURE], 1: QUICK_LR[1]} if cfg.lr == 0 else {mixture: cfg.lr, 1: cfg.lr}
    sweep = not ctx.quick and cfg.lr == 0  # the full run: each variant's best rate of the grid
    if sweep:  # rates are chosen on validation sequences from a third stream, never on the test ones
        validation = manhattan_strokes(
            1024, length, torch.Generator().manual_seed(20_000 + ctx.seed), ctx.device, cfg.noise
        )
    for M in (mixture, 1):
        fitted = {}
        for rate in LR_GRID if sweep else [lr[M]]:
            fitted[rate] = fit(ctx, cfg, M, rate, data, ctx.seed)
        if sweep:
            on_validation = {rate: evaluate(model, validation.points)[0] for rate, model in fitted.items()}
            for rate, value in on_validation.items():
                ctx.measured(f"validation NLL per point, M = {M}, lr {rate:g}", value, detail)
            lr[M] = min(on_validation, key=lambda rate: on_validation[rate])
        models[M] = fitted[lr[M]]
        nll[M], pen[M] = evaluate(models[M], test.points)
        ctx.measured(
            f"held-out NLL per point, M = {M}",  # the same name on every seed: the picked rate in the detail
            nll[M],
            f"lr {lr[M]:g}; {detail}; generator's floor {floor:.3f}, "
            f"best single Gaussian {gaussian_floor:.3f}",
        )
        ctx.progress(len(nll), 2 if cfg.inits == 1 else 3)
    margin = 0.3 if ctx.quick else 0.4
    same = "; mixture=1: the model under test is the single Gaussian too" if mixture == 1 else ""
    ctx.target(
        f"held-out NLL per point, M = 1 minus M = {mixture} (nats)",
        nll[1] - nll[mixture],
        margin,
        detail=f"M = {mixture}: {nll[mixture]:.3f}, M = 1: {nll[1]:.3f}; the generator's floors give "
        f"{gaussian_floor - floor:.3f} between the best single Gaussian and the true mixture{same}",
    )
    pen_base = F.binary_cross_entropy(
        torch.full_like(test.points[:, 1:, 2], test.points[:, 1:, 2].mean().item()), test.points[:, 1:, 2]
    ).item()
    for M in (mixture, 1):
        ctx.measured(
            f"end-of-stroke log-loss per point, M = {M}",
            pen[M],
            f"generator's floor {test.pen_floor.mean().item():.4f}, a constant rate {pen_base:.4f}",
        )
    _sampled_strokes(ctx, cfg, models, test.points)
    if cfg.inits > 1:
        _more_inits(ctx, cfg, lr)


def _sampled_strokes(
    ctx: RunContext, cfg: Config, models: dict[int, HandwritingModel], test: torch.Tensor
) -> None:
    """256 sequences of 40 points written by each model (fig. 11): the pen-up rate and the share of clean
    unit steps inside strokes, against the held-out data; for M = 20 also with the bias b = 1 (eq. 61-62)."""
    data_pen, data_clean = stroke_summary(test)
    for M, b in ((cfg.mixture, 0.0), (cfg.mixture, 1.0), (1, 0.0)):
        x = sample(models[M], cfg.seq_len - 1, torch.Generator().manual_seed(ctx.seed), batch=256, bias=b)
        pen_up, clean = stroke_summary(x)
        name = f"M = {M}" + (f", bias b = {b:g}" if b else "")
        ctx.measured(f"sampled strokes, {name}: share of clean unit steps", clean, f"data {data_clean:.3f}")
        ctx.measured(f"sampled strokes, {name}: pen-up rate", pen_up, f"data {data_pen:.4f}")


def _more_inits(ctx: RunContext, cfg: Config, lr: dict[int, float]) -> None:
    """The A/B on seeds s + 1 … s + inits − 1 (their own data, initialisation and held-out set), at the rates
    chosen above, reported as measured."""
    gaps, mixture = [], cfg.mixture
    for seed in range(ctx.seed + 1, ctx.seed + cfg.inits):
        data, test = strokes(cfg, seed, ctx.device)
        nll = {M: evaluate(fit(ctx, cfg, M, lr[M], data, seed), test.points)[0] for M in (mixture, 1)}
        gaps.append(nll[1] - nll[mixture])
        ctx.measured(  # the offset in the name, the seed in the detail: seeds line up by name
            f"held-out NLL per point, M = 1 minus M = {mixture}, the run's seed + {seed - ctx.seed}",
            gaps[-1],
            f"seed {seed}; M = {mixture}: {nll[mixture]:.3f}, M = 1: {nll[1]:.3f}",
        )
    ctx.progress(3, 3)


# -- bench ---------------------------------------------------------------------------------------------
def bench(ctx: RunContext) -> None:
    sizes = (64, 256) if ctx.quick else (64, 256, 1024)
    g = torch.Generator().manual_seed(ctx.seed)
    models = {}
    for M in (1, MIXTURE):
        torch.manual_seed(ctx.seed)
        models[M] = HandwritingModel(M, HIDDEN).to(ctx.device)
    for T in sizes:
        x = manhattan_strokes(16, T + 1, g, ctx.device).points  # (16, T + 1, 3): T predictions
        for M, model in models.items():
            if ctx.quick and M == 1 and sizes[0] != T:  # the quick run: the baseline row only
                continue
            params = list(model.parameters())

            def step(
                model: HandwritingModel = model,
                params: list[torch.nn.Parameter] = params,
                x: torch.Tensor = x,
            ) -> None:
                torch.autograd.grad(model.nll(x).mean(), params)

            ctx.bench.measure(
                f"LSTM {HIDDEN} + MDN output, M = {M}, T = {T}",
                step,
                baseline=M == 1 and sizes[0] == T,
                tokens=16 * T,
                unit="points/s",
                shape=(16, T, 3),
                dtype=torch.float32,
            )
        if not ctx.quick:
            y_hat = torch.randn(16, T, 1 + 6 * MIXTURE, device=ctx.device, requires_grad=True)

            def nll_only(y_hat: torch.Tensor = y_hat, x: torch.Tensor = x) -> None:
                torch.autograd.grad(mdn_nll(mdn_params(y_hat, MIXTURE), x[:, 1:]).mean(), y_hat)

            ctx.bench.measure(
                f"MDN NLL alone, M = {MIXTURE}, T = {T}",
                nll_only,
                tokens=16 * T,
                unit="points/s",
                shape=(16, T, 1 + 6 * MIXTURE),
                dtype=torch.float32,
            )
