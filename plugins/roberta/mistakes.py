"""Classic mistakes in RoBERTa's dynamic masking, for ``readtrack practice``: its check must catch each
(tests/practice/test_practice.py)."""

from __future__ import annotations

import torch

from readtrack.api import mistake
from readtrack.plugin_kit.mlm import IGNORE, mask_tokens

from .model import DynamicMasks


@mistake("DynamicMasks.epoch", fails="dynamic: a fresh mask every epoch")
def epoch(self: DynamicMasks, e: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Masks once, on the first call, and hands the same mask out ever after: static masking with a
    single copy, not a fresh mask per epoch."""
    kept = vars(self)
    if "drawn" not in kept:
        kept["drawn"] = mask_tokens(self.tokens, self.g, mask_id=self.mask_id, vocab=self.vocab)
    return kept["drawn"]


@mistake("DynamicMasks.epoch", fails="dynamic: every draw comes from self.g")
def epoch_from_the_global_generator(self: DynamicMasks, e: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Draws from torch's global generator instead of self.g: fresh masks, but a seeded self.g does not
    reproduce them."""
    return mask_tokens(self.tokens, torch.default_generator, mask_id=self.mask_id, vocab=self.vocab)


@mistake("DynamicMasks.epoch", fails="dynamic: seeded apart masks anew")
def epoch_seeded_with_the_epoch(self: DynamicMasks, e: int) -> tuple[torch.Tensor, torch.Tensor]:
    """A new generator seeded with e: a different mask each epoch, but the same for every self.g and for
    every call of the same epoch."""
    return mask_tokens(self.tokens, torch.Generator().manual_seed(e), mask_id=self.mask_id, vocab=self.vocab)


@mistake("DynamicMasks.epoch", fails="dynamic: a second call of epoch(0) masks anew")
def epoch_kept_per_epoch(self: DynamicMasks, e: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Draws one mask per value of e and keeps it: calling epoch(e) again hands the same mask out."""
    kept = vars(self).setdefault("kept", {})
    if e not in kept:
        kept[e] = mask_tokens(self.tokens, self.g, mask_id=self.mask_id, vocab=self.vocab)
    return kept[e]


@mistake("DynamicMasks.epoch", fails="dynamic: labels hold the original token")
def epoch_labels_from_the_inputs(self: DynamicMasks, e: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Labels the selected positions with the corrupted input ([MASK], a random token) instead of the
    token that was there."""
    inputs, labels = mask_tokens(self.tokens, self.g, mask_id=self.mask_id, vocab=self.vocab)
    return inputs, torch.where(labels != IGNORE, inputs, labels)
