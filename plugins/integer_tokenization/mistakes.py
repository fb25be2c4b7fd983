"""The classic mistake in scoring the addition answers, for ``readtrack practice``: its check must catch it
(tests/practice/test_practice.py)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from readtrack.api import mistake


@mistake("answer_nats", fails="answer nats, padded batch vs one example at a time, a < 10^1")
def answer_nats(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Clamps IGNORE to token 0 but never masks it out: every prompt and padding position is scored as a
    prediction of token 0, so a longer prompt or more padding costs nats."""
    nll = F.cross_entropy(logits.flatten(0, 1), y.clamp(min=0).flatten(), reduction="none")
    return nll.view_as(y).sum(dim=1)
