"""The classic mistake in the GAN's generator loss, for ``readtrack practice``: its check must catch it
(tests/test_practice.py)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from readtrack.practice import mistake


@mistake("generator_loss", fails="losses (−V, saturating, non-saturating) vs BCE with logits")
def generator_loss(fake_logits: torch.Tensor, saturating: bool = False) -> torch.Tensor:
    """The non-saturating loss with the wrong sign: G minimises log D(G(z)), so it learns to be rejected."""
    if saturating:
        return F.logsigmoid(-fake_logits).mean()
    return F.logsigmoid(fake_logits).mean()
