"""RoBERTa's masking schedules (section 4.1): the masks a fixed training set is seen with, epoch by epoch.

- static (BERT's original pipeline, as RoBERTa re-implements it): the training data are duplicated
  ``copies`` = 10 times and each copy is masked once, during preprocessing; epoch e shows copy e mod 10, so
  over 40 epochs every sequence is seen with each of its 10 masks four times;
- dynamic (RoBERTa): a fresh mask every time a sequence is fed to the model.

Both use BERT's 80/10/10 corruption (``plugin_kit.mlm.mask_tokens``). The model itself is BERT's; at toy
scale the experiment uses ``plugin_kit.transformer.TinyTransformer`` with full (bidirectional) attention.
S sequences, N positions.
"""

from __future__ import annotations

import torch

from readtrack.plugin_kit.mlm import mask_tokens


class StaticMasks:
    """Masks drawn once: ``copies`` corrupted versions of ``tokens`` (S, N), fixed for all of training."""

    def __init__(
        self, tokens: torch.Tensor, g: torch.Generator, *, mask_id: int, vocab: int, copies: int = 10
    ) -> None:
        drawn = [mask_tokens(tokens, g, mask_id=mask_id, vocab=vocab) for _ in range(copies)]
        self.inputs = torch.stack([inputs for inputs, _ in drawn])  # (copies, S, N)
        self.labels = torch.stack([labels for _, labels in drawn])  # (copies, S, N)

    def epoch(self, e: int) -> tuple[torch.Tensor, torch.Tensor]:
        """(inputs, labels), each (S, N): copy e mod ``copies`` of the duplicated data."""
        c = e % len(self.inputs)
        return self.inputs[c], self.labels[c]


class DynamicMasks:
    """A fresh mask of ``tokens`` (S, N) at every epoch, drawn from ``g``."""

    def __init__(self, tokens: torch.Tensor, g: torch.Generator, *, mask_id: int, vocab: int) -> None:
        self.tokens, self.g, self.mask_id, self.vocab = tokens, g, mask_id, vocab

    def epoch(self, e: int) -> tuple[torch.Tensor, torch.Tensor]:
        """(inputs, labels), each (S, N), masked anew whatever ``e`` is."""
        return mask_tokens(self.tokens, self.g, mask_id=self.mask_id, vocab=self.vocab)
