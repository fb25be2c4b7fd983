"""Auto-Encoding Variational Bayes (Kingma and Welling 2013, arXiv 1312.6114), like nanoGPT.

A latent-variable model p_θ(x, z) = p_θ(x | z) p(z) with p(z) = N(0, I), trained together with an encoder
q_φ(z | x) = N(μ, σ² I) (eq. 9) by maximising the evidence lower bound

    L(θ, φ; x) = −D_KL(q_φ(z | x) ‖ p(z)) + E_q[log p_θ(x | z)]                       (eq. 3)

estimated with L samples made differentiable in φ by the reparameterisation z = g_φ(ε, x) = μ + σ ⊙ ε,
ε ~ N(0, I) (section 2.4), the KL in closed form for Gaussians (appendix B):

    L̃^B(θ, φ; x) = ½ Σ_j (1 + log σ_j² − μ_j² − σ_j²) + 1/L Σ_l log p_θ(x | z^(l))     (eq. 10)

The decoder is Bernoulli (appendix C.1): log p(x | z) = Σ_i x_i log y_i + (1 − x_i) log(1 − y_i), y = f_θ(z).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def reparameterise(mu: torch.Tensor, logvar: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
    """z = μ + σ ⊙ ε (section 2.4): a sample of N(μ, σ²) that is a differentiable function of μ and σ."""
    return mu + torch.exp(0.5 * logvar) * eps


def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """D_KL(N(μ, σ²) ‖ N(0, I)) = −½ Σ_j (1 + log σ_j² − μ_j² − σ_j²) (appendix B), over the last dim."""
    return -0.5 * (1 + logvar - mu.square() - logvar.exp()).sum(dim=-1)


def bernoulli_log_likelihood(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Σ_i x_i log y_i + (1 − x_i) log(1 − y_i) with y = sigmoid(logits) (appendix C.1), summed over the last
    dim. Written with log y = log σ(a) and log(1 − y) = log σ(−a), which stay finite for any logit a (softplus
    would not do: ``F.softplus`` turns linear above a = 20, an error of e^−20 ≈ 2e-9 in float64)."""
    return (x * F.logsigmoid(logits) + (1 - x) * F.logsigmoid(-logits)).sum(dim=-1)


class VAE(nn.Module):
    """MLP encoder q_φ(z | x) and decoder p_θ(x | z) with one hidden tanh layer each (appendix C)."""

    def __init__(self, d_x: int = 64, d_z: int = 8, d_hidden: int = 256) -> None:
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(d_x, d_hidden), nn.Tanh(), nn.Linear(d_hidden, 2 * d_z))
        self.decoder = nn.Sequential(nn.Linear(d_z, d_hidden), nn.Tanh(), nn.Linear(d_hidden, d_x))
        self.d_z = d_z

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x (batch, d_x) → μ, log σ² (batch, d_z) each (eq. 9)."""
        mu, logvar = self.encoder(x).chunk(2, dim=-1)
        return mu, logvar

    def elbo(self, x: torch.Tensor, samples: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
        """Eq. 10 per example: (L̃^B (batch,), D_KL (batch,)), with ``samples`` = L draws of ε."""
        mu, logvar = self.encode(x)
        eps = torch.randn(samples, *mu.shape, dtype=mu.dtype, device=mu.device)  # (L, batch, d_z)
        z = reparameterise(mu, logvar, eps)
        reconstruction = bernoulli_log_likelihood(self.decoder(z), x).mean(dim=0)  # (batch,)
        kl = gaussian_kl(mu, logvar)
        return reconstruction - kl, kl

    def score_function_elbo(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The ablation of section 2.3: the same bound, its φ-gradient by the naive score-function estimator
        E_q[f(z) ∇_φ log q_φ(z)] (z sampled without a path back to φ). Returns a surrogate whose gradient is
        that estimate, and the bound's value (batch,) each."""
        mu, logvar = self.encode(x)
        z = reparameterise(mu, logvar, torch.randn_like(mu)).detach()  # no pathwise gradient
        log_q = torch.distributions.Normal(mu, torch.exp(0.5 * logvar)).log_prob(z).sum(dim=-1)
        log_p = bernoulli_log_likelihood(self.decoder(z), x)  # θ's gradient is the usual one
        kl = gaussian_kl(mu, logvar)  # analytic: its gradient is exact in both estimators
        surrogate = log_p + (log_p.detach() - log_p.detach().mean()) * log_q - kl  # a batch-mean baseline
        return surrogate, log_p.detach() - kl.detach()

    def importance_weighted_log_likelihood(self, x: torch.Tensor, k: int) -> torch.Tensor:
        """log p(x) ≈ log 1/K Σ_k p(x | z_k) p(z_k) / q(z_k | x), z_k ~ q (batch,): a lower bound in
        expectation that tightens with K (appendix D's marginal-likelihood estimator, q as the proposal)."""
        mu, logvar = self.encode(x)
        eps = torch.randn(k, *mu.shape, dtype=mu.dtype, device=mu.device)  # (K, batch, d_z)
        z = reparameterise(mu, logvar, eps)
        log_p_z = -0.5 * (z.square() + math.log(2 * math.pi)).sum(dim=-1)
        log_q_z = -0.5 * (eps.square() + logvar + math.log(2 * math.pi)).sum(dim=-1)
        log_w = bernoulli_log_likelihood(self.decoder(z), x) + log_p_z - log_q_z  # (K, batch)
        return torch.logsumexp(log_w, dim=0) - math.log(k)
