"""Handwriting prediction (Graves 2013, section 4): an LSTM whose output layer parameterises a mixture
density network over the next pen offset and a Bernoulli end-of-stroke bit.

Each point is x_t = (x1, x2, x3): the pen offset (dx, dy) from the previous point and x3 = 1 when the pen
is lifted after this point (the end of a stroke). The network reads x_1 … x_t and its output layer, of
1 + 6M units, is split into (section 4.1)

    y_t = (ê_t, {π̂_t^j, μ_t^j, σ̂_t^j, ρ̂_t^j}_{j=1}^M)              μ^j = (μ1^j, μ2^j), σ^j = (σ1^j, σ2^j)

and squashed into a distribution over x_{t+1} (eq. 18-22):

    e_t = σ(ê_t)                           end-of-stroke probability     (eq. 18; see the sign note below)
    π_t^j = exp(π̂_t^j) / Σ_j' exp(π̂_t^j')  mixture weights               (eq. 19)
    μ_t^j = μ̂_t^j                          means                          (eq. 20)
    σ_t^j = exp(σ̂_t^j)                     standard deviations            (eq. 21)
    ρ_t^j = tanh(ρ̂_t^j)                    correlations                   (eq. 22)

    Pr(x_{t+1} | y_t) = Σ_j π_t^j N(x1, x2 | μ_t^j, σ_t^j, ρ_t^j) · (e_t if x3 = 1 else 1 − e_t)   (eq. 23)
    N(x | μ, σ, ρ) = 1 / (2π σ1 σ2 √(1 − ρ²)) · exp(−Z / (2(1 − ρ²)))                          (eq. 24)
    Z = (x1 − μ1)²/σ1² + (x2 − μ2)²/σ2² − 2ρ(x1 − μ1)(x2 − μ2)/(σ1 σ2)                           (eq. 25)
    L(x) = Σ_t −log Σ_j π_t^j N(x_{t+1} | …) − log(e_t if x3 = 1 else 1 − e_t)                    (eq. 26)

Sign note: the paper writes e_t = 1 / (1 + exp(ê_t)) = σ(−ê_t); we use σ(+ê_t), so ê is the log-odds of a
pen-up. The two differ only by the sign of the output unit's weights: the same family of distributions.

Sampling with a bias b ≥ 0 (section 5.4, eq. 61-62) sharpens the weights and shrinks the deviations:
π^j = softmax(π̂ (1 + b)), σ^j = exp(σ̂ − b); b = 0 is the unbiased distribution.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

LOG_2PI = math.log(2 * math.pi)


class MDNParams(NamedTuple):
    """The mixture of one or many steps, each field (..., M) except ``e_hat`` (...). Logs are kept where the
    likelihood needs them: ``log_pi`` = log π (eq. 19 in log space) and the pen logit ê, so that a tiny
    weight or a confident pen bit costs no precision."""

    e_hat: torch.Tensor  # (...)       ê: e = σ(ê)                                          (eq. 18)
    log_pi: torch.Tensor  # (..., M)   log π = log softmax(π̂)                               (eq. 19)
    mu1: torch.Tensor  # (..., M)                                                          (eq. 20)
    mu2: torch.Tensor  # (..., M)
    sigma1: torch.Tensor  # (..., M)   exp(σ̂1)                                             (eq. 21)
    sigma2: torch.Tensor  # (..., M)   exp(σ̂2)
    rho: torch.Tensor  # (..., M)      tanh(ρ̂)                                             (eq. 22)

    @property
    def e(self) -> torch.Tensor:
        return torch.sigmoid(self.e_hat)

    @property
    def pi(self) -> torch.Tensor:
        return self.log_pi.exp()


def mdn_params(y_hat: torch.Tensor, M: int, bias: float = 0.0) -> MDNParams:
    """Split the output layer y_hat (..., 1 + 6M), laid out as [ê, π̂, μ1, μ2, σ̂1, σ̂2, ρ̂] (blocks of M),
    into the mixture's parameters (eq. 18-22); ``bias`` is the sampling bias b of eq. 61-62."""
    if y_hat.shape[-1] != 1 + 6 * M:
        raise ValueError(f"an MDN with M = {M} needs 1 + 6M = {1 + 6 * M} outputs, got {y_hat.shape[-1]}")
    e_hat, pi_hat, mu1, mu2, s1_hat, s2_hat, rho_hat = y_hat.split([1, M, M, M, M, M, M], dim=-1)
    return MDNParams(
        e_hat=e_hat.squeeze(-1),  # (...)
        log_pi=F.log_softmax(pi_hat * (1 + bias), dim=-1),  # (..., M)     eq. 19 (eq. 61 with b)
        mu1=mu1,
        mu2=mu2,
        sigma1=torch.exp(s1_hat - bias),  # eq. 21 (eq. 62 with b)
        sigma2=torch.exp(s2_hat - bias),
        rho=torch.tanh(rho_hat),
    )


def log_bivariate_normal(
    x1: torch.Tensor,
    x2: torch.Tensor,
    mu1: torch.Tensor,
    mu2: torch.Tensor,
    sigma1: torch.Tensor,
    sigma2: torch.Tensor,
    rho: torch.Tensor,
) -> torch.Tensor:
    """log N(x1, x2 | μ, σ, ρ) of eq. 24-25, written out in log space; the arguments broadcast together."""
    d1 = (x1 - mu1) / sigma1  # (..., M)
    d2 = (x2 - mu2) / sigma2
    Z = d1.square() + d2.square() - 2 * rho * d1 * d2  # (..., M)                           eq. 25
    one_minus_rho2 = (1 - rho) * (1 + rho)  # 1 − ρ², without cancelling near |ρ| = 1
    return (
        -LOG_2PI - sigma1.log() - sigma2.log() - 0.5 * one_minus_rho2.log() - Z / (2 * one_minus_rho2)
    )  # (..., M)                                                                           eq. 24


def mdn_nll(p: MDNParams, x: torch.Tensor) -> torch.Tensor:
    """−log Pr(x | y) of each step (eq. 23-26): x (..., 3) = (x1, x2, x3) → (...). The bivariate normal is
    written out (eq. 24-25) in log space and the mixture summed with log-sum-exp (eq. 23)."""
    x1, x2, x3 = x[..., 0:1], x[..., 1:2], x[..., 2]  # (..., 1), (..., 1), (...)
    log_N = log_bivariate_normal(x1, x2, p.mu1, p.mu2, p.sigma1, p.sigma2, p.rho)  # (..., M)
    log_mixture = torch.logsumexp(p.log_pi + log_N, dim=-1)  # (...)  log Σ_j π_j N_j      eq. 23
    # log(e) if x3 = 1 else log(1 − e), with e = σ(ê): log σ(ê) and log σ(−ê)
    log_pen = x3 * F.logsigmoid(p.e_hat) + (1 - x3) * F.logsigmoid(-p.e_hat)  # (...)
    return -(log_mixture + log_pen)  # (...)                                                eq. 26, per step


def sample_step(p: MDNParams, generator: torch.Generator) -> torch.Tensor:
    """One draw of x = (x1, x2, x3) per step of ``p``: (...) → (..., 3). A component j ~ π, a correlated
    Gaussian from two standard ones (x2 = μ2 + σ2(ρ z1 + √(1 − ρ²) z2)), and the pen bit ~ Bernoulli(e).
    The random numbers come from ``generator`` on the CPU, so a seed gives the same strokes on any device."""
    shape, device, dtype = p.e_hat.shape, p.e_hat.device, p.e_hat.dtype
    u, pen = (torch.rand(shape, generator=generator, dtype=dtype).to(device) for _ in range(2))
    z = torch.randn((*shape, 2), generator=generator, dtype=dtype).to(device)  # (..., 2)
    # j = the first component whose cumulative weight passes u (clamped against rounding in the last sum)
    j = (p.pi.cumsum(dim=-1) < u[..., None]).sum(dim=-1, keepdim=True).clamp(max=p.pi.shape[-1] - 1)
    mu1, mu2, s1, s2, rho = (t.gather(-1, j).squeeze(-1) for t in (p.mu1, p.mu2, p.sigma1, p.sigma2, p.rho))
    x1 = mu1 + s1 * z[..., 0]
    x2 = mu2 + s2 * (rho * z[..., 0] + torch.sqrt((1 - rho) * (1 + rho)) * z[..., 1])
    x3 = (pen < p.e).to(dtype)
    return torch.stack([x1, x2, x3], dim=-1)  # (..., 3)


class HandwritingModel(nn.Module):
    """x (B, T, 3) → y_hat (B, T, 1 + 6M), the MDN's raw outputs for x_2 … x_(T+1), and the LSTM's state.

    One LSTM layer (``nn.LSTM``: the LSTM is its own plugin) and a linear output layer; the paper's
    handwriting networks stack three layers of 400 cells with skip connections from the input to every
    layer and from every layer to the output (section 2, fig. 1), which a toy task does not need.
    M = 1 is the single-Gaussian output."""

    def __init__(self, M: int = 20, hidden: int = 64, layers: int = 1) -> None:
        super().__init__()
        self.M = M
        self.lstm = nn.LSTM(3, hidden, layers, batch_first=True)
        self.out = nn.Linear(hidden, 1 + 6 * M)  # ŷ_t = b_y + W_hy h_t

    def forward(
        self, x: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor] | None = None
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        h, state = self.lstm(x, state)  # (B, T, hidden)
        return self.out(h), state  # (B, T, 1 + 6M)

    def nll(self, x: torch.Tensor) -> torch.Tensor:
        """−log Pr(x_(t+1) | x_1 … x_t) for t = 1 … T − 1 of sequences x (B, T, 3) → (B, T − 1) (eq. 26)."""
        y_hat, _ = self(x[:, :-1])  # (B, T − 1, 1 + 6M): each step predicts the next point
        return mdn_nll(mdn_params(y_hat, self.M), x[:, 1:])


@torch.no_grad()
def sample(
    model: HandwritingModel,
    steps: int,
    generator: torch.Generator,
    batch: int = 1,
    bias: float = 0.0,
    start: torch.Tensor | None = None,
) -> torch.Tensor:
    """Write ``steps`` points one at a time, each fed back as the next input (section 4, fig. 11): (batch,
    steps, 3). The first input is ``start`` (batch, 3), by default (0, 0, 1): a pen-up before the first
    stroke, as the training sequences begin."""
    device = next(model.parameters()).device
    dtype = next(model.parameters()).dtype
    if start is None:
        start = torch.tensor([0.0, 0.0, 1.0], dtype=dtype, device=device).expand(batch, 3)
    x, state, points = start[:, None, :], None, []  # x (batch, 1, 3)
    for _ in range(steps):
        y_hat, state = model(x, state)  # (batch, 1, 1 + 6M)
        x = sample_step(mdn_params(y_hat, model.M, bias), generator)  # (batch, 1, 3)
        points.append(x)
    return torch.cat(points, dim=1)  # (batch, steps, 3)
