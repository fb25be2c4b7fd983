"""Classic mistakes in CLIP's loss and temperature, for ``readtrack practice``: its check must catch them
(tests/practice/test_practice.py)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from readtrack.api import mistake

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


@mistake("clip_loss", fails="clip_loss returns a 0-d loss")
def clip_loss_per_pair(I_e: torch.Tensor, T_e: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """The log-softmax written by hand, without the mean over the batch: one loss per pair, (n,), where
    Figure 3 averages each direction's cross-entropy into one number."""
    logits = scale * I_e @ T_e.T
    loss_i = -logits.log_softmax(dim=1).diagonal()  # each image picks its text
    loss_t = -logits.log_softmax(dim=0).diagonal()  # each text picks its image
    return (loss_i + loss_t) / 2


@mistake("CLIP.logit_scale", fails="below the clip t is learned")
def logit_scale_detached(self: CLIP) -> torch.Tensor:
    """Computes the scale from a detached t: right value, but t gets no gradient anywhere, so the
    temperature the paper "directly optimizes" stays at 0.07 for good."""
    return self.t.detach().exp().clamp(max=self.cfg.max_scale)


@mistake("CLIP.logit_scale", fails="clipped at self.cfg.max_scale")
def logit_scale_clipped_at_a_fixed_100(self: CLIP) -> torch.Tensor:
    """Clips at the paper's 100 written into the code, not at the model's own self.cfg.max_scale."""
    return self.t.exp().clamp(max=100.0)
