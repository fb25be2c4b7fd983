"""Classic mistakes in CLIP's loss and temperature, for ``readtrack practice``: its check must catch them
(tests/test_practice.py)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from readtrack.practice import mistake

from .model import CLIP


@mistake("clip_loss", fails="symmetric loss vs loops and log-softmax by hand, n=3")
def clip_loss(I_e: torch.Tensor, T_e: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """One direction only (each image picks its text): the text → image cross-entropy over the columns is
    left out, so the loss is not symmetric."""
    logits = scale * I_e @ T_e.T
    labels = torch.arange(len(logits), device=logits.device)
    return F.cross_entropy(logits, labels)


@mistake("CLIP.logit_scale", fails="clipped at 100")
def logit_scale(self: CLIP) -> torch.Tensor:
    """exp(t) without the clip at 100: a learned temperature can grow without bound."""
    return self.t.exp()


@mistake("CLIP.logit_scale", fails="the temperature starts at 0.07")
def logit_scale_divided(self: CLIP) -> torch.Tensor:
    """exp(t) read as the temperature τ and divided by (logits / τ with τ = exp(t)): with t = log(1/0.07)
    it scales the logits by 0.07 instead of 1/0.07."""
    return (-self.t).exp().clamp(max=self.cfg.max_scale)
