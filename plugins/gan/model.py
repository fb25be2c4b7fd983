"""Generative Adversarial Networks (Goodfellow et al. 2014, arXiv 1406.2661), like nanoGPT.

A generator G(z; θ_g) maps noise z ~ p_z to data space; a discriminator D(x; θ_d) ∈ (0, 1) says how likely x
came from the data rather than from G. They play the two-player minimax game

    min_G max_D V(D, G) = E_{x~p_data}[log D(x)] + E_{z~p_z}[log(1 − D(G(z)))]              (eq. 1)

D ascends V; G should descend E[log(1 − D(G(z)))], but "early in learning, when G is poor, D can reject
samples with high confidence ... log(1 − D(G(z))) saturates. Rather than training G to minimize
log(1 − D(G(z))) we can train G to maximize log D(G(z))" (section 3): the non-saturating loss.

D outputs a logit a, D = σ(a), so that log D = log σ(a) = −softplus(−a) and log(1 − D) = −softplus(a)
stay finite however confident D is. For fixed G the best D is p_data / (p_data + p_g) (Proposition 1), and
then V = −log 4 + 2 · JSD(p_data ‖ p_g) (Theorem 1).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def mlp(d_in: int, d_hidden: int, d_out: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(d_in, d_hidden),
        nn.ReLU(),
        nn.Linear(d_hidden, d_hidden),
        nn.ReLU(),
        nn.Linear(d_hidden, d_out),
    )


def value(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """V(D, G) of eq. 1, E log D(x) + E log(1 − D(G(z))), from D's logits on data (n,) and on samples (m,)."""
    return F.logsigmoid(real_logits).mean() + F.logsigmoid(-fake_logits).mean()


def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """D maximises V: its loss is −V (the cross-entropy of telling data, label 1, from samples, label 0)."""
    return -value(real_logits, fake_logits)


def generator_loss(fake_logits: torch.Tensor, saturating: bool = False) -> torch.Tensor:
    """G's loss on D's logits at its samples (m,): E log(1 − D(G(z))) as in eq. 1 (saturating), or the
    non-saturating −E log D(G(z)) of section 3."""
    if saturating:
        return F.logsigmoid(-fake_logits).mean()
    return -F.logsigmoid(fake_logits).mean()


def optimal_discriminator(p_data: torch.Tensor, p_g: torch.Tensor) -> torch.Tensor:
    """D*_G(x) = p_data(x) / (p_data(x) + p_g(x)) (Proposition 1, eq. 2)."""
    return p_data / (p_data + p_g)


class GAN(nn.Module):
    """G: z (batch, d_z) → x (batch, d_x); D: x (batch, d_x) → logit (batch,). Two ReLU MLPs.

    d_z = 2: on the ring a larger z (16, 64) covered no more modes in 2000 steps and settled more slowly (the
    page has the numbers)."""

    def __init__(self, d_x: int = 2, d_z: int = 2, d_hidden: int = 128) -> None:
        super().__init__()
        self.G = mlp(d_z, d_hidden, d_x)
        self.D = mlp(d_x, d_hidden, 1)
        self.d_z = d_z

    def sample(self, n: int) -> torch.Tensor:
        z = torch.randn(n, self.d_z, device=next(self.G.parameters()).device)  # z ~ p_z = N(0, I)
        return self.G(z)

    def discriminate(self, x: torch.Tensor) -> torch.Tensor:
        return self.D(x).squeeze(-1)  # (batch, 1) → (batch,): the logit of D(x)
