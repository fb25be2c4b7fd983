"""The classic mistake in the GAN's generator loss, for ``readtrack practice``: its check must catch it
(tests/practice/test_practice.py)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from readtrack.api import mistake


@mistake("generator_loss", fails="losses (−V, saturating, non-saturating) vs BCE with logits")
def generator_loss(fake_logits: torch.Tensor, saturating: bool = False) -> torch.Tensor:
    """The non-saturating loss with the wrong sign: G minimises log D(G(z)), so it learns to be rejected."""
    if saturating:
        return F.logsigmoid(-fake_logits).mean()
    return F.logsigmoid(fake_logits).mean()


@mistake("generator_loss", fails="generator loss (saturating=False) is a 0-dim tensor")
def generator_loss_per_sample(fake_logits: torch.Tensor, saturating: bool = False) -> torch.Tensor:
    """One loss per generated sample, (m,), without the mean that is the expectation E_z: a vector where the
    training loop (and backward) want one number."""
    if saturating:
        return F.logsigmoid(-fake_logits)
    return -F.logsigmoid(fake_logits)


@mistake(
    "generator_loss",
    fails="generator loss (saturating=False) is a 0-dim tensor in fake_logits' dtype, float32",
)
def generator_loss_in_float64(fake_logits: torch.Tensor, saturating: bool = False) -> torch.Tensor:
    """Computes in float64 "to stay finite" and returns that: a float32 (or bfloat16) GAN gets a float64
    loss, and precision is not what keeps log σ finite anyway, computing it without σ is."""
    a = fake_logits.double()
    if saturating:
        return F.logsigmoid(-a).mean()
    return -F.logsigmoid(a).mean()


@mistake("generator_loss", fails="generator loss (saturating=True) finite and exact for logits ±40, ±200")
def generator_loss_through_sigmoid(fake_logits: torch.Tensor, saturating: bool = False) -> torch.Tensor:
    """The logs of σ(a) computed after σ(a): 1 − σ(a) rounds to 0 for a large logit (and σ(a) for a very
    negative one), so the loss is −∞ or +∞ exactly where D is most confident."""
    d = torch.sigmoid(fake_logits)
    if saturating:
        return torch.log(1 - d).mean()
    return -torch.log(d).mean()
