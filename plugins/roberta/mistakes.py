"""The classic mistake in RoBERTa's dynamic masking, for ``readtrack practice``: its check must catch it
(tests/test_practice.py)."""

from __future__ import annotations

import torch

from readtrack.plugin_kit.mlm import mask_tokens
from readtrack.practice import mistake

from .model import DynamicMasks


@mistake("DynamicMasks.epoch", fails="dynamic: a fresh mask every epoch")
def epoch(self: DynamicMasks, e: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Masks once, on the first call, and hands the same mask out ever after: static masking with a
    single copy, not a fresh mask per epoch."""
    kept = vars(self)
    if "drawn" not in kept:
        kept["drawn"] = mask_tokens(self.tokens, self.g, mask_id=self.mask_id, vocab=self.vocab)
    return kept["drawn"]
