"""High-Resolution Image Synthesis with Latent Diffusion Models (Rombach et al. 2021, arXiv 2112.10752), like
nanoGPT, at the size of 8×8 binary images.

Stage 1, an autoencoder: E maps an image x to a small latent z = E(x), D maps it back, x̃ = D(z) (section
3.1), with a light penalty on z (the paper's "KL-reg") and z rescaled to unit variance (appendix, "we rescale
the latent by a factor 1/σ̂"). Stage 2, a DDPM (Ho et al. 2020, arXiv 2006.11239) in that latent (eq. 2 of
the LDM paper):

    forward     q(z_t | z_0) = N(√ᾱ_t z_0, (1 − ᾱ_t) I),  ᾱ_t = Π_{s≤t} (1 − β_s)          (Ho eq. 4)
    posterior   q(z_{t−1} | z_t, z_0) = N(μ̃_t, β̃_t I),                                     (Ho eq. 6-7)
                μ̃_t = √ᾱ_{t−1} β_t / (1 − ᾱ_t) z_0 + √α_t (1 − ᾱ_{t−1}) / (1 − ᾱ_t) z_t,
                β̃_t = (1 − ᾱ_{t−1}) / (1 − ᾱ_t) β_t
    loss        L_LDM = E ‖ε − ε_θ(z_t, t, c)‖²,  z_t = √ᾱ_t z_0 + √(1 − ᾱ_t) ε               (LDM eq. 2-3)
    sampler     z_{t−1} = 1/√α_t (z_t − β_t / √(1 − ᾱ_t) ε_θ) + σ_t ε',  σ_t² = β_t        (Ho eq. 11, alg. 2)

Classifier-free guidance (Ho and Salimans 2022, arXiv 2207.12598, the conditioning used by Stable Diffusion):
the same network learns ε(z_t, c) and, with c dropped to ∅ at random during training, ε(z_t, ∅); sampling
uses ε̃ = (1 + w) ε(z_t, c) − w ε(z_t, ∅).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn


@dataclass
class Schedule:
    """β_1 … β_T and the products the sampler needs, each (T,); index t − 1 holds step t."""

    beta: torch.Tensor

    @property
    def alpha(self) -> torch.Tensor:
        return 1 - self.beta

    @property
    def alpha_bar(self) -> torch.Tensor:
        return torch.cumprod(self.alpha, dim=0)


def linear_schedule(
    T: int, rescale: bool = True, dtype: torch.dtype = torch.float32, device: str = "cpu"
) -> Schedule:
    """Ho et al.'s linear β from 1e-4 to 0.02 over 1000 steps; for a short T both ends are scaled by 1000/T,
    else ᾱ_T stays far from 0 (T = 50: 0.60) and sampling starts from the wrong distribution. Rescaled, β_T =
    20/T reaches 1 at T = 20 (α_T = 0: the sampler divides by √α_T), so β is clipped at 0.999, as Nichol and
    Dhariwal (arXiv 2102.09672) clip their cosine schedule; that matters only for T ≤ 20."""
    scale = 1000 / T if rescale else 1.0
    beta = torch.linspace(1e-4 * scale, 0.02 * scale, T, dtype=dtype, device=device)
    return Schedule(beta.clamp(max=0.999))


def q_sample(z0: torch.Tensor, t: torch.Tensor, eps: torch.Tensor, s: Schedule) -> torch.Tensor:
    """z_t = √ᾱ_t z_0 + √(1 − ᾱ_t) ε (Ho eq. 4), t (batch,) in 1 … T, z0 and eps (batch, d)."""
    a = s.alpha_bar[t - 1][:, None]  # (batch, 1)
    return a.sqrt() * z0 + (1 - a).sqrt() * eps


def posterior(z0: torch.Tensor, zt: torch.Tensor, t: int, s: Schedule) -> tuple[torch.Tensor, torch.Tensor]:
    """μ̃_t(z_t, z_0) and β̃_t of q(z_{t−1} | z_t, z_0) (Ho eq. 6-7), for 2 ≤ t ≤ T."""
    a_bar, a_bar_prev, beta = s.alpha_bar[t - 1], s.alpha_bar[t - 2], s.beta[t - 1]
    mean = (a_bar_prev.sqrt() * beta / (1 - a_bar)) * z0 + (
        (1 - beta).sqrt() * (1 - a_bar_prev) / (1 - a_bar)
    ) * zt
    return mean, (1 - a_bar_prev) / (1 - a_bar) * beta


def mean_from_eps(zt: torch.Tensor, eps: torch.Tensor, t: int, s: Schedule) -> torch.Tensor:
    """μ_θ(z_t, t) = 1/√α_t (z_t − β_t / √(1 − ᾱ_t) ε_θ) (Ho eq. 11)."""
    return (zt - s.beta[t - 1] / (1 - s.alpha_bar[t - 1]).sqrt() * eps) / s.alpha[t - 1].sqrt()


class Autoencoder(nn.Module):
    """E: x (batch, 64) → z (batch, d_z); D: z → the logits of x's pixels (batch, 64)."""

    def __init__(self, d_x: int = 64, d_z: int = 8, d_hidden: int = 256) -> None:
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(d_x, d_hidden), nn.SiLU(), nn.Linear(d_hidden, d_z))
        self.decoder = nn.Sequential(nn.Linear(d_z, d_hidden), nn.SiLU(), nn.Linear(d_hidden, d_x))


def timestep_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    """Sinusoidal embedding of the step t (batch,) → (batch, dim), as the transformer embeds positions."""
    freqs = torch.exp(-math.log(1000.0) * torch.arange(dim // 2, device=t.device) / (dim // 2))  # (dim/2,)
    angles = t[:, None].float() * freqs[None]  # (batch, dim/2)
    return torch.cat([angles.sin(), angles.cos()], dim=-1)


class Denoiser(nn.Module):
    """ε_θ(z_t, t, c): an MLP on [z_t, emb(t), emb(c)]; class ``classes`` is the null condition ∅."""

    def __init__(self, d: int, classes: int, d_hidden: int = 256, d_emb: int = 32) -> None:
        super().__init__()
        self.class_emb = nn.Embedding(classes + 1, d_emb)
        self.net = nn.Sequential(
            nn.Linear(d + 2 * d_emb, d_hidden), nn.SiLU(),
            nn.Linear(d_hidden, d_hidden), nn.SiLU(),
            nn.Linear(d_hidden, d_hidden), nn.SiLU(),
            nn.Linear(d_hidden, d),
        )  # fmt: skip
        self.null, self.d_emb, self.d = classes, d_emb, d

    def forward(self, zt: torch.Tensor, t: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        h = torch.cat(
            [zt, timestep_embedding(t, self.d_emb), self.class_emb(c)], dim=-1
        )  # (batch, d + 2 d_emb)
        return self.net(h)


def guided_eps(model: Denoiser, zt: torch.Tensor, t: torch.Tensor, c: torch.Tensor, w: float) -> torch.Tensor:
    """Classifier-free guidance: ε̃ = (1 + w) ε(z_t, c) − w ε(z_t, ∅); w = 0 is the conditional model."""
    if w == 0:
        return model(zt, t, c)
    both = model(torch.cat([zt, zt]), torch.cat([t, t]), torch.cat([c, torch.full_like(c, model.null)]))
    cond, uncond = both.chunk(2)  # (batch, d) each
    return (1 + w) * cond - w * uncond


@torch.no_grad()
def sample(model: Denoiser, c: torch.Tensor, s: Schedule, w: float = 0.0) -> torch.Tensor:
    """Ancestral sampling (Ho algorithm 2) from z_T ~ N(0, I): latents (batch, d) for classes c (batch,)."""
    z = torch.randn(len(c), model.d, device=c.device)
    for t in range(len(s.beta), 0, -1):
        eps = guided_eps(model, z, torch.full_like(c, t), c, w)
        z = mean_from_eps(z, eps, t, s)
        if t > 1:
            z = z + s.beta[t - 1].sqrt() * torch.randn_like(z)  # σ_t² = β_t
    return z
